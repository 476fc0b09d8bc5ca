//! # medisim-sim: Medi-Sim, the closed-loop Identify–Produce–Settle simulator
//!
//! Owns the hospital: scenarios ([`scenario`]), arrival kernels ([`arrivals`]), one rollout of
//! the IPS loop with the five provider channels ([`engine`]), the channel-level diagnostics,
//! objectives and fitness ([`metrics`]), and multi-seed runs in parallel ([`run`]).
//!
//! It imports only `medisim-dsl`: every administrator and provider rule is a policy program,
//! evaluated through the language's compiled blocks; this crate computes the features the
//! programs read and enforces the hard constraints (capacity, clipping) around them. There is
//! no second, hard-coded copy of the rules. Experiments and search build on this crate.

pub mod arrivals;
pub mod engine;
pub mod metrics;
pub mod rng;
pub mod run;
pub mod scenario;

pub use metrics::{ObjectiveKind, RolloutMetrics, Summary, METRIC_NAMES};
pub use run::{run_seeds, RunConfig, RunResult};
pub use scenario::Scenario;
