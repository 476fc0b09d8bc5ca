//! # medisim-contracts: optimal payment contracts for end-of-life care
//!
//! The principal-agent models of Jiang, Chen, Chen, Lavaei and Aswani, "Optimal Contract Design
//! for End-of-Life Care Payments" (arXiv 2403.15099): a payer pays `p_ij` when the outcome is
//! `Q = i` (death 0 / survival 1) and the expenditure `E = j` (low 0 / high 1); the provider
//! sees the responder status `S ~ Bern(γ)` and chooses `E`; survival is `Bern(π_sj)`. The payer
//! wants `E = S` at the least expected payment (in units of the provider's cost `F`).
//!
//! Each model ([`model`]) is solved twice — the paper's closed form, and a numeric solver from a
//! well-kept crate (`good_lp` with the pure-Rust `microlp` simplex for the linear models,
//! `clarabel` for the risk-averse convex model, `nalgebra` for the free model's linear system)
//! — and the two must agree. [`simulate`] checks a contract on a simulated cohort.
//!
//! Imports only `medisim-core` (statistics, named random streams); no simulator internals.

pub mod contract;
pub mod estimate;
pub mod model;
pub mod numeric;
pub mod params;
pub mod simulate;

pub use model::{solve, Choice, Model, Solution, Solved, Utility};
pub use params::{ContractError, Params};

/// The behaviour version of the contract models; part of every result's provenance. Bump it,
/// with a `CHANGELOG.md` entry, on any change that can change a result; `tests/golden.rs` fails
/// on such a change until its snapshot is renewed.
pub const MODEL_VERSION: medisim_core::ModelVersion = medisim_core::ModelVersion {
    model: "medisim-contracts",
    number: 1,
};
