//! # medisim-sim: Medi-Sim, the closed-loop Identify–Produce–Settle simulator
//!
//! Owns the hospital: scenarios ([`scenario`]), arrival kernels ([`arrivals`]), one rollout of
//! the IPS loop with the five provider channels ([`engine`]), the per-period records it keeps
//! ([`records`]), the channel-level diagnostics ([`metrics`]), and multi-seed runs in parallel
//! ([`run`]), and the hospital's policy schema with typed views of it ([`schema`]). Statistics, objectives, run specs and the [`medisim_core::Model`] trait come from
//! `medisim-core`; [`MediSim`] is this crate's model.
//!
//! It imports only `medisim-core` and `medisim-dsl`: every administrator and provider rule is a
//! policy program, evaluated through the language's compiled blocks; this crate computes the
//! features the programs read and enforces the hard constraints (capacity, clipping) around
//! them. There is no second, hard-coded copy of the rules. Experiments and search build on it.
//!
//! Module imports run one way: `run` → `engine` → (`metrics`, `records`, `arrivals`, `rng`)
//! → `scenario`; `metrics` reads `records`, never the engine.

pub mod arrivals;
pub mod engine;
pub mod metrics;
pub mod model;
pub mod objective;
pub mod records;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod scenario_docs;
pub mod schema;

pub use medisim_core::{Summaries, Summary};
pub use metrics::{Metric, RolloutMetrics};
pub use model::{MediSim, MODEL_VERSION};
pub use objective::ObjectiveKind;
pub use objective::{run_spec, RolloutSettings, RunSpec, MAX_HORIZON};
pub use run::{run_seeds, RunResult};
pub use scenario::Scenario;
pub use schema::{baseline, check_source, hospital, load, Field};
