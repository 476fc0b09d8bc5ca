//! Evaluation with a cache: one program is never simulated twice on the same seeds. What
//! simulates a cache miss is a [`Backend`]: this process by default, or any pool of workers
//! (the Python package's Ray backend) — the search asks for one evaluation at a time and
//! uses the answers in order, so a distributed search follows the local one's path exactly.

use crate::config::SearchConfig;
use crate::domain::{Domain, ScenarioOf};
use crate::store::{Eval, Store};
use anyhow::Result;
use medisim_core::{Model, RunSpec};
use medisim_dsl::Policy;
use std::cell::Cell;

/// What runs one evaluation: a policy on a seed set, summarised (`Model::run`).
pub trait Backend<M: Model>: Send + Sync {
    fn run(
        &self,
        model: &M,
        scenario: &M::Scenario,
        policy: &M::Policy,
        spec: &RunSpec<M::Settings>,
    ) -> Result<medisim_core::Summaries, String>;
}

/// Simulation in this process (rayon across the seeds).
pub struct Local;

impl<M: Model> Backend<M> for Local {
    fn run(
        &self,
        model: &M,
        scenario: &M::Scenario,
        policy: &M::Policy,
        spec: &RunSpec<M::Settings>,
    ) -> Result<medisim_core::Summaries, String> {
        model.run(scenario, policy, spec)
    }
}

pub struct Evaluator<'a, D: Domain> {
    pub domain: &'a D,
    pub config: &'a SearchConfig,
    /// The scenario as the domain has the search evaluate it ([`Domain::search_scenario`]).
    pub scenario: ScenarioOf<D>,
    pub backend: &'a dyn Backend<D::Model>,
    /// Rollouts actually simulated (cache misses), and seconds spent simulating.
    pub rollouts: Cell<u64>,
    pub sim_seconds: Cell<f64>,
}

impl<'a, D: Domain> Evaluator<'a, D> {
    /// An evaluator of `config`'s search in `scenario`, simulating cache misses in this process.
    pub fn new(domain: &'a D, config: &'a SearchConfig, scenario: &ScenarioOf<D>) -> Self {
        Evaluator::with_backend(domain, config, scenario, &Local)
    }

    /// As [`Evaluator::new`], simulating cache misses through `backend`.
    pub fn with_backend(
        domain: &'a D,
        config: &'a SearchConfig,
        scenario: &ScenarioOf<D>,
        backend: &'a dyn Backend<D::Model>,
    ) -> Self {
        Evaluator {
            domain,
            config,
            scenario: domain.search_scenario(scenario),
            backend,
            rollouts: Cell::new(0),
            sim_seconds: Cell::new(0.0),
        }
    }

    /// The domain's fitness and diagnostics of `policy` on `seeds`, from the store when known.
    pub fn eval(
        &self,
        store: &Store,
        policy: &Policy,
        seeds: &[u64],
        horizon: u32,
    ) -> Result<Eval> {
        let hash = policy.canonical_hash().to_string();
        let spec = self.domain.spec(self.config, seeds, horizon);
        let model = self.domain.model();
        let (version, key) = (model.version().to_string(), spec.key());
        if let Some(e) = store.eval(&version, &hash, &key)? {
            return Ok(e);
        }
        let start = std::time::Instant::now();
        let summary = self
            .backend
            .run(model, &self.scenario, &self.domain.policy_of(policy), &spec)
            .map_err(anyhow::Error::msg)?;
        self.sim_seconds
            .set(self.sim_seconds.get() + start.elapsed().as_secs_f64());
        self.rollouts
            .set(self.rollouts.get() + spec.seeds.len() as u64);
        let e = Eval {
            fitness: self.domain.fitness(&summary),
            summary,
        };
        store.put_eval(&version, &hash, &key, &e)?;
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_is_simulated_once_per_seed_set_whatever_its_layout() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let config = crate::SearchConfig::default();
        let scenario = medisim_sim::Scenario::default();
        let ev = Evaluator::new(&crate::hospital::Hospital, &config, &scenario);
        let p = medisim_sim::baseline().clone();
        let first = ev.eval(&store, &p, &[1, 2], 30).unwrap();
        assert_eq!(ev.rollouts.get(), 2);
        // The same program printed differently (comments dropped, canonical layout) hits the
        // cache: the key is the canonical hash.
        let printed = medisim_dsl::fmt::policy_to_string(&p);
        let text = format!("# the same rules, laid out again\n\n{printed}\n\n# end\n");
        assert_ne!(text, printed);
        let relaid = medisim_sim::load(&text).unwrap();
        let again = ev.eval(&store, &relaid, &[1, 2], 30).unwrap();
        assert_eq!(ev.rollouts.get(), 2);
        assert_eq!(again.fitness.to_bits(), first.fitness.to_bits());
        // Other seeds or another horizon are new evaluations.
        ev.eval(&store, &p, &[3], 30).unwrap();
        ev.eval(&store, &p, &[1, 2], 31).unwrap();
        assert_eq!(ev.rollouts.get(), 5);
    }
}
