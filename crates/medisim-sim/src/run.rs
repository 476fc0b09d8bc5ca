//! Many replicates of one (scenario, policy) pair, in parallel with rayon. Results are
//! collected in seed order, so the output is bit-identical whatever the number of threads.

use crate::arrivals::kernel;
use crate::engine::Rollout;
use crate::metrics::{
    fitness, summarise, ObjectiveKind, RolloutMetrics, Summary, TeamRecord, METRIC_NAMES,
};
use crate::scenario::Scenario;
use medisim_dsl::{CompiledPolicy, Policy};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// What to run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub seeds: Vec<u64>,
    pub horizon: u32,
    pub objective: ObjectiveKind,
    pub trace: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            seeds: (1..=30).collect(),
            horizon: 200,
            objective: ObjectiveKind::Mixed,
            trace: false,
        }
    }
}

/// Every replicate's metrics, their summaries over seeds, and the Eq. 8 fitness of the set.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    pub seeds: Vec<u64>,
    pub horizon: u32,
    pub objective: ObjectiveKind,
    pub per_seed: Vec<RolloutMetrics>,
    pub summary: BTreeMap<String, Summary>,
    #[serde(skip)]
    pub trace: Vec<TeamRecord>,
}

impl RunResult {
    /// Mean of a metric over seeds.
    pub fn mean(&self, name: &str) -> f64 {
        self.summary.get(name).map_or(f64::NAN, |s| s.mean)
    }
}

/// Run `config.seeds` replicates of `policy` in `scenario`.
pub fn run_seeds(
    scenario: &Scenario,
    policy: &Policy,
    config: &RunConfig,
) -> Result<RunResult, String> {
    scenario.validate().map_err(|e| e.to_string())?;
    let compiled = CompiledPolicy::new(policy);
    let kernel = kernel(scenario)?;
    let rollout = Rollout {
        scenario,
        policy: &compiled,
        kernel: kernel.as_ref(),
    };
    let results: Vec<_> = config
        .seeds
        .par_iter()
        .map(|seed| rollout.run(*seed, config.horizon, config.objective, config.trace))
        .collect();
    let mut per_seed = Vec::with_capacity(results.len());
    let mut trace = Vec::new();
    for r in results {
        per_seed.push(r.metrics);
        trace.extend(r.trace);
    }
    let mut summary = BTreeMap::new();
    for (k, name) in METRIC_NAMES.iter().enumerate() {
        let xs: Vec<f64> = per_seed.iter().map(|m| m.values()[k]).collect();
        summary.insert(name.to_string(), summarise(&xs));
    }
    // Eq. 8 over the seed set replaces the per-rollout fitness in the summary.
    let returns: Vec<f64> = per_seed.iter().map(|m| m.discounted_return).collect();
    let violations: Vec<f64> = per_seed.iter().map(|m| m.violation_score).collect();
    let f = fitness(&returns, &violations, &scenario.objective);
    summary.insert(
        "fitness".into(),
        Summary {
            mean: f,
            std: 0.0,
            ci95: [f, f],
            n: per_seed.len(),
        },
    );
    Ok(RunResult {
        seeds: config.seeds.clone(),
        horizon: config.horizon,
        objective: config.objective,
        per_seed,
        summary,
        trace,
    })
}
