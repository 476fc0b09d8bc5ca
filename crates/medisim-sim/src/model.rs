//! Medi-Sim as a [`Model`]: what experiments, sweeps and search see of it.

use crate::metrics::Metric;
use crate::objective::{RolloutSettings, RunSpec};
use crate::run::{run_seeds, summarise_seeds};
use crate::scenario::Scenario;
use medisim_core::{Model, ModelVersion, Summaries};
use medisim_dsl::schema::{Range, Ty};
use medisim_dsl::{FieldId, Policy};

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

    fn key_docs(&self) -> &'static [medisim_core::params::KeyDoc] {
        crate::scenario_docs::KEY_DOCS
    }

    fn scenario_key(&self, scenario: &Scenario) -> String {
        scenario.to_toml()
    }

    fn policy_key(&self, policy: &Policy) -> String {
        policy.canonical_text()
    }

    /// A dotted scenario key (`care.nu`), or a numeric policy field (`admin_policy.alpha`, or
    /// `alpha`) fixed to a constant.
    fn set(
        &self,
        scenario: &Scenario,
        policy: &Policy,
        key: &str,
        value: f64,
    ) -> Result<(Scenario, Policy), String> {
        match policy_field(key, scenario, policy)? {
            None => Ok((
                scenario.with_value(key, value).map_err(|e| e.to_string())?,
                policy.clone(),
            )),
            Some(id) => {
                let def = policy.schema().field(id);
                let whole = value.fract() == 0.0;
                let ok = match &def.range {
                    Range::Real([lo, hi]) => (*lo..=*hi).contains(&value),
                    Range::Integer([lo, hi]) => whole && (*lo..=*hi).contains(&value),
                    Range::IntegerUpTo { lo, .. } => whole && value >= *lo,
                    Range::Flag => value == 0.0 || value == 1.0,
                };
                if !ok {
                    return Err(format!(
                        "policy field `{key}` must be {}, got {value}",
                        def.range
                    ));
                }
                let mut p = policy.clone();
                p.fix(id, value);
                Ok((scenario.clone(), p))
            }
        }
    }

    /// A scenario key's number; a policy field is a rule, not one number.
    fn value(&self, scenario: &Scenario, policy: &Policy, key: &str) -> Result<f64, String> {
        match policy_field(key, scenario, policy)? {
            None => scenario.value(key).map_err(|e| e.to_string()),
            Some(_) => Err(format!(
                "`{key}` is a policy field: a rule, not one number (sweep it with a range)"
            )),
        }
    }

    /// Every metric over the seeds, and Eq. 8's fitness over the seed set.
    fn combine(&self, scenario: &Scenario, replicates: &[&Summaries]) -> Summaries {
        summarise_seeds(scenario, |m| replicates.iter().map(|c| c.mean(m)).collect())
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

/// The policy field `key` names, or `None` for a scenario key; an error says why it is neither
/// (unknown, not numeric, in another section).
fn policy_field(
    key: &str,
    scenario: &Scenario,
    policy: &Policy,
) -> Result<Option<FieldId>, String> {
    if scenario.value(key).is_ok() {
        return Ok(None);
    }
    let schema = policy.schema();
    let name = key.rsplit_once('.').map_or(key, |(_, n)| n);
    let Some(id) = schema.field_id(name) else {
        let e = scenario
            .value(key)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        return Err(format!("{e}; nor is it a numeric field of the policy"));
    };
    let f = schema.field(id);
    if key.contains('.') && key != format!("{}.{}", f.section, f.name) {
        return Err(format!(
            "`{key}`: the policy field `{name}` is under [{}]",
            f.section
        ));
    }
    if f.ty != Ty::Num {
        return Err(format!(
            "`{key}` is a true/false policy field: a sweep sets numbers"
        ));
    }
    Ok(Some(id))
}
