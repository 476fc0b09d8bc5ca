//! Evaluation with a cache: one program is never simulated twice on the same seeds.

use crate::store::{Eval, Store};
use anyhow::Result;
use medisim_core::{Model, RunSpec};
use medisim_dsl::Policy;
use medisim_sim::scenario::CodingMode;
use medisim_sim::{MediSim, Metric, ObjectiveKind, Scenario};
use std::cell::Cell;

pub struct Evaluator {
    pub scenario: Scenario,
    pub objective: ObjectiveKind,
    /// Rollouts actually simulated (cache misses), and seconds spent simulating.
    pub rollouts: Cell<u64>,
    pub sim_seconds: Cell<f64>,
}

impl Evaluator {
    /// L3 evaluates with deterministic (argmax) coding to reduce noise (paper Appendix C).
    pub fn new(mut scenario: Scenario, objective: ObjectiveKind) -> Self {
        scenario.coding.mode = CodingMode::Deterministic;
        Evaluator {
            scenario,
            objective,
            rollouts: Cell::new(0),
            sim_seconds: Cell::new(0.0),
        }
    }

    /// Eq. 8 fitness and diagnostics of `policy` on `seeds`, from the store when known.
    pub fn eval(
        &self,
        store: &Store,
        policy: &Policy,
        seeds: &[u64],
        horizon: u32,
    ) -> Result<Eval> {
        let hash = policy.canonical_hash().to_string();
        let spec = RunSpec::new(seeds.to_vec(), horizon, self.objective);
        let (model, key) = (MediSim.version().to_string(), spec.key());
        if let Some(e) = store.eval(&model, &hash, &key)? {
            return Ok(e);
        }
        let start = std::time::Instant::now();
        let summary = MediSim
            .run(&self.scenario, policy, &spec)
            .map_err(anyhow::Error::msg)?;
        self.sim_seconds
            .set(self.sim_seconds.get() + start.elapsed().as_secs_f64());
        self.rollouts.set(self.rollouts.get() + seeds.len() as u64);
        let e = Eval {
            fitness: summary.mean(Metric::Fitness),
            summary,
        };
        store.put_eval(&model, &hash, &key, &e)?;
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
        let ev = Evaluator::new(Scenario::default(), ObjectiveKind::Mixed);
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
