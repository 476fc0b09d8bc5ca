//! Medi-Sim as a [`Model`]: what experiments, sweeps and search see of it.

use crate::metrics::Metric;
use crate::objective::{RolloutSettings, RunSpec};
use crate::run::run_seeds;
use crate::scenario::Scenario;
use medisim_core::{Model, ModelVersion, Summaries};
use medisim_dsl::Policy;

/// Medi-Sim's behaviour version. Bump it, with a `CHANGELOG.md` entry, on any change that can
/// change a result: a constant, an equation, the order of random draws, a metric's definition.
/// The golden test `tests/golden.rs` fails on such a change until the snapshot is renewed,
/// which is the reminder to bump this.
pub const MODEL_VERSION: ModelVersion = ModelVersion {
    model: "medisim-sim",
    number: 2,
};

/// The Identify–Produce–Settle hospital simulator.
#[derive(Clone, Copy, Debug, Default)]
pub struct MediSim;

impl Model for MediSim {
    type Scenario = Scenario;
    type Policy = Policy;
    type Settings = RolloutSettings;
    type Metric = Metric;

    fn version(&self) -> ModelVersion {
        MODEL_VERSION
    }

    fn scenario_key(&self, scenario: &Scenario) -> String {
        scenario.to_toml()
    }

    fn policy_key(&self, policy: &Policy) -> String {
        policy.canonical_text()
    }

    fn run(
        &self,
        scenario: &Scenario,
        policy: &Policy,
        spec: &RunSpec,
    ) -> Result<Summaries, String> {
        run_seeds(scenario, policy, spec, false).map(|r| r.summary)
    }
}
