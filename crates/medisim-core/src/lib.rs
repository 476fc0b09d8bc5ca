//! # medisim-core: what every medisim model shares
//!
//! The vocabulary below every model crate, so that the next model moves in without copying:
//!
//! - [`cea`]: cost-effectiveness analysis of a PSA — incremental table with dominance and
//!   extended dominance, CEAC, CEAF, expected loss, EVPI.
//! - [`stats`]: means, ratios, Pearson correlation, coefficients of variation, summaries over
//!   replicates with Student-t intervals.
//! - [`spec`]: [`RunSpec`] — what to run (seeds and the model's own [`RunSettings`]) — with the one key
//!   function that every cache uses.
//! - [`metric`]: the [`Metric`] trait a model's typed metric enum implements, and
//!   [`Summaries`], metric summaries read by metric rather than by string.
//! - [`model`]: the [`Model`] trait (scenario, policy, run → summaries) and its
//!   [`ModelVersion`], which keys every cache and run store.
//! - [`input`]: reading the user's files: bounded, UTF-8 checked, TOML errors located with a
//!   bounded window.
//! - [`params`]: parameters read and set by dotted key, one set of type rules for every model.
//! - [`power`]: `powf` bit for bit, without the libm call for the squares and identities
//!   models use most.
//! - [`progress`]: how a long job reports how far it is, without knowing who shows it.
//! - [`rundir`]: atomic writes and the resume guard of a run directory.
//! - [`table`]: tidy tables written as CSV, Parquet, JSON or text from one description, built
//!   by column or from serialisable records (through `row`, a serde serializer of flat structs).
//!
//! Imports no other medisim crate, and knows nothing of hospitals, payers or patients.

pub mod browser;
pub mod cea;
pub mod fuzz;
pub mod input;
pub mod metric;
pub mod model;
pub mod params;
pub mod power;
pub mod progress;
pub mod rng;
mod row;
pub mod rundir;
pub mod sensitivity;
pub mod spec;
pub mod stats;
pub mod table;
pub mod text;

pub use metric::{Metric, MetricKind, Summaries};
pub use model::{Model, ModelVersion, Work};
pub use progress::{Counter, Hidden, Progress};
pub use rundir::{write_atomic, RunDir, RunDirError, RunLock};
pub use spec::{NoSettings, RunSettings, RunSpec};
pub use stats::{mean, ratio, summarise, Pearson, Summary};
pub use table::{Column, Table};
