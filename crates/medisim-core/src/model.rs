//! The [`Model`] trait: what experiments, sweeps and search need of a model, so that they can
//! be written once and serve every model in the house.

use crate::metric::{Metric, Summaries};
use crate::spec::{RunSettings, RunSpec};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A model's behaviour version. Bumped on any change that can change a result (a constant, an
/// equation, a random stream); `CHANGELOG.md` marks each bump. Every cache key and run store
/// carries it, so a changed model never serves a stale result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModelVersion {
    /// The model's name, e.g. `medisim-sim`.
    pub model: &'static str,
    /// Its behaviour version.
    pub number: u32,
}

impl std::fmt::Display for ModelVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.model, self.number)
    }
}

impl Serialize for ModelVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A model: given a scenario (the world) and a policy (the rules), run replicates and
/// summarise their metrics.
/// A run's work in a model's own unit, with the most one command may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Work {
    pub amount: u128,
    pub limit: u128,
    /// What is counted: `patient-years`.
    pub unit: &'static str,
}

pub trait Model: Sync {
    type Scenario: Clone + Send + Sync;
    type Policy: Clone + Send + Sync;
    /// The model's own run settings beside the seeds ([`crate::NoSettings`] when none).
    type Settings: RunSettings;
    type Metric: Metric;

    fn version(&self) -> ModelVersion;

    /// Each parameter key's unit and meaning (what a page shows beside its control); none by
    /// default.
    fn key_docs(&self) -> &'static [crate::params::KeyDoc] {
        &[]
    }

    /// Text that determines the scenario's behaviour (its canonical TOML).
    fn scenario_key(&self, scenario: &Self::Scenario) -> String;

    /// Text that determines the policy's behaviour (its canonical form).
    fn policy_key(&self, policy: &Self::Policy) -> String;

    /// Set one parameter by dotted key: a scenario key or a policy constant. Every model's one
    /// validating setter: an unknown key is named (with the known ones), a value out of range is
    /// refused with its legal range, never clipped.
    fn set(
        &self,
        scenario: &Self::Scenario,
        policy: &Self::Policy,
        key: &str,
        value: f64,
    ) -> Result<(Self::Scenario, Self::Policy), String>;

    /// The number a parameter holds, by the same keys [`Model::set`] takes (the centre of a
    /// sensitivity box). A key with no single number (a policy rule) is refused, saying why.
    fn value(
        &self,
        scenario: &Self::Scenario,
        policy: &Self::Policy,
        key: &str,
    ) -> Result<f64, String>;

    /// The work one run of `scenario` under `spec` asks for, in the model's own unit, and the
    /// most one command may ask for: a sweep or a sensitivity design sums it over its cells
    /// and refuses a total past the bound before it runs anything (each cell may be in range
    /// while together they ask for hours). `None`: the cell count bounds the work.
    fn work(&self, _scenario: &Self::Scenario, _spec: &RunSpec<Self::Settings>) -> Option<Work> {
        None
    }

    /// Whether a run's result depends on its seeds. A deterministic model (an equilibrium, a
    /// contract's solution) is run once per setting, whatever the seeds.
    fn stochastic(&self) -> bool {
        true
    }

    /// One setting's summary over replicates from each replicate's own summary, exactly as
    /// [`Model::run`] makes it from one batch: by default every metric summarised over the
    /// replicates' means (a deterministic model's one result as it is). A model with a
    /// statistic over the whole seed set (Medi-Sim's Eq. 8 fitness) overrides it.
    fn combine(&self, _scenario: &Self::Scenario, replicates: &[&Summaries]) -> Summaries {
        if !self.stochastic() || replicates.len() == 1 {
            return replicates
                .first()
                .map_or_else(Summaries::new, |s| (*s).clone());
        }
        let mut out = Summaries::new();
        for &m in Self::Metric::ALL {
            let xs: Vec<f64> = replicates.iter().map(|r| r.mean(m)).collect();
            out.insert(m, crate::stats::summarise(&xs));
        }
        out
    }

    /// Run `spec.seeds` replicates and summarise them.
    fn run(
        &self,
        scenario: &Self::Scenario,
        policy: &Self::Policy,
        spec: &RunSpec<Self::Settings>,
    ) -> Result<Summaries, String>;

    /// The cache key of one run: a hash of the model version, the statistics that summarise it
    /// ([`crate::stats::STATS_VERSION`]), the scenario, the policy and the run spec —
    /// everything that determines the result, and nothing else.
    fn run_key(
        &self,
        scenario: &Self::Scenario,
        policy: &Self::Policy,
        spec: &RunSpec<Self::Settings>,
    ) -> String {
        content_key(&[
            &self.version().to_string(),
            crate::stats::STATS_VERSION,
            &self.scenario_key(scenario),
            &self.policy_key(policy),
            &spec.key(),
        ])
    }
}

/// The cache key of everything `parts` says: 24 hex digits of a SHA-256 over the parts, each
/// length-prefixed so no two part lists hash the same text. Every cache of the house keys by it.
pub fn content_key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}
