//! Many replicates of one (scenario, policy) pair, in parallel with rayon. Results are
//! collected in seed order, so the output is bit-identical whatever the number of threads.

use crate::arrivals::kernel;
use crate::engine::Rollout;
use crate::metrics::{Metric, RolloutMetrics};
use crate::objective::RunSpec;
use crate::objective::{fitness, FitnessWeights};
use crate::records::TeamRecord;
use crate::scenario::Scenario;
use crate::schema::HospitalProgram;
use medisim_core::{summarise, Metric as _, Summaries, Summary};
use medisim_dsl::Policy;
use rayon::prelude::*;
use serde::Serialize;

/// Every replicate's metrics, their summaries over seeds, and the Eq. 8 fitness of the set.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    pub spec: RunSpec,
    pub per_seed: Vec<RolloutMetrics>,
    pub summary: Summaries,
    #[serde(skip)]
    pub trace: Vec<TeamRecord>,
}

impl RunResult {
    /// Mean of a metric over seeds.
    pub fn mean(&self, m: Metric) -> f64 {
        self.summary.mean(m)
    }
}

/// The summary over a seed set from each metric's per-seed values (`values(m)`, in seed
/// order): every metric summarised, and Eq. 8's fitness over the set in place of the
/// per-rollout one. One function for a batch run and for a sweep point's one-seed cells, so
/// the two agree bit for bit.
pub fn summarise_seeds(scenario: &Scenario, values: impl Fn(Metric) -> Vec<f64>) -> Summaries {
    let mut summary = Summaries::new();
    for &m in Metric::ALL {
        summary.insert(m, summarise(&values(m)));
    }
    let returns = values(Metric::DiscountedReturn);
    let o = &scenario.objective;
    let weights = FitnessWeights {
        lambda_unsafe: o.lambda_unsafe,
        lambda_var: o.lambda_var,
    };
    let f = fitness(&returns, &values(Metric::ViolationScore), weights);
    summary.insert(Metric::Fitness, Summary::exact(f, returns.len()));
    summary
}

/// Run `spec.seeds` replicates of `policy` in `scenario`; `trace` keeps per-period team rows.
pub fn run_seeds(
    scenario: &Scenario,
    policy: &Policy,
    spec: &RunSpec,
    trace: bool,
) -> Result<RunResult, String> {
    scenario.validate().map_err(|e| e.to_string())?;
    spec.validate()?;
    let compiled = HospitalProgram::new(policy);
    let kernel = kernel(scenario)?;
    let rollout = Rollout {
        scenario,
        policy: &compiled,
        kernel: kernel.as_ref(),
    };
    let results: Vec<_> = spec
        .seeds
        .par_iter()
        .map(|seed| rollout.run(*seed, spec.settings.horizon, spec.settings.objective, trace))
        .collect();
    let mut per_seed = Vec::with_capacity(results.len());
    let mut rows = Vec::new();
    for r in results {
        per_seed.push(r.metrics);
        rows.extend(r.trace);
    }
    let summary = summarise_seeds(scenario, |m| per_seed.iter().map(|r| r.get(m)).collect());
    // In-range scenarios keep every number finite; a NaN or infinity here means the model
    // left its domain, and a result built on it must not pass for one.
    if let Some((name, s)) = summary
        .iter()
        .find(|(_, s)| !(s.mean.is_finite() && s.std.is_finite()))
    {
        return Err(format!(
            "the rollout produced a non-finite {name} (mean {}, sd {}): the scenario's values \
             are outside what the model can compute; bring them towards the defaults",
            s.mean, s.std
        ));
    }
    Ok(RunResult {
        spec: spec.clone(),
        per_seed,
        summary,
        trace: rows,
    })
}
