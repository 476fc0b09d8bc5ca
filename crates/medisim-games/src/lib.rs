//! # medisim-games: multi-level incentive games
//!
//! The games of Zhang's dissertation *Modeling Multi-level Incentives in Health Care: A
//! Multiscale Decision Theory Approach* (seed 004). So far: chapter 3, the payer → hospital →
//! physicians game of a CT-scanner investment under an MSSP/ACO shared-savings contract
//! ([`aco`]), solved for its subgame-perfect equilibrium by backward induction — the physicians'
//! best response in closed form, the hospital's sharing rate by a bracketed Brent search
//! (argmin) from a multistart grid, the investment by comparison.
//!
//! Chapter 4 ([`mssp`]): CMS → ACO hospital → primary-care physician and radiologist, with
//! the physicians' Theorem 3 responses in closed form and the hospital's two shares found by a
//! multistart grid and argmin's Nelder–Mead.
//!
//! Chapter 5 ([`chronic`]): the patient ↔ primary-care physician stochastic game of chronic
//! disease management, built as data for a general perfect-information stochastic-game engine
//! ([`stochastic`]: exact evaluation, policy-iteration best responses, the Filar–Vrieze NLP-1
//! value as a certificate, pure-equilibrium search).
//!
//! Parameters read (and set key by key) through [`GameParams`]; the upper levels' searches and
//! the sensitivity tables' switch points through [`optimize`]; every table the dissertation
//! prints, recomputed, in [`tables`].
//!
//! Imports only `medisim-core`.

pub mod aco;
pub mod chronic;
pub mod model;
pub mod mssp;
pub mod optimize;
pub mod params;
pub mod stochastic;
pub mod tables;

pub use params::{GameError, GameParams};

/// The behaviour version of the three games; part of every result's provenance. Bump it, with a
/// `CHANGELOG.md` entry, on any change that can change a result; `tests/golden.rs` fails on
/// such a change until its snapshot is renewed.
pub const MODEL_VERSION: medisim_core::ModelVersion = medisim_core::ModelVersion {
    model: "medisim-games",
    number: 3,
};
