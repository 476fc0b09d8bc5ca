//! What to run: the seeds, the horizon and the objective. One type for every runner (a single
//! run, an experiment cell, a search evaluation), with one key function, so two caches can
//! never disagree on what "the same run" means.

use crate::objective::ObjectiveKind;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunSpec {
    /// Replicate seeds; each keys the replicate's random streams with the scenario seed.
    pub seeds: Vec<u64>,
    /// Periods per rollout (T).
    pub horizon: u32,
    /// Which return is the rollout's `discounted_return` and enters the fitness.
    pub objective: ObjectiveKind,
}

impl Default for RunSpec {
    /// The paper's evaluation: seeds 1..30, T = 200, the mixed objective.
    fn default() -> Self {
        RunSpec {
            seeds: (1..=30).collect(),
            horizon: 200,
            objective: ObjectiveKind::Mixed,
        }
    }
}

impl RunSpec {
    pub fn new(seeds: Vec<u64>, horizon: u32, objective: ObjectiveKind) -> Self {
        RunSpec {
            seeds,
            horizon,
            objective,
        }
    }

    /// The seed set as stored in keys and tables: `1,2,3`.
    pub fn seed_list(&self) -> String {
        seed_list(&self.seeds)
    }

    /// The text that identifies this spec in every cache key.
    pub fn key(&self) -> String {
        format!(
            "seeds={};horizon={};objective={}",
            self.seed_list(),
            self.horizon,
            self.objective
        )
    }
}

/// A seed set as a comma list.
pub fn seed_list(seeds: &[u64]) -> String {
    seeds
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// A seed set for people: `1..30` for a contiguous range, else a comma list.
pub fn seeds_text(seeds: &[u64]) -> String {
    match (seeds.first(), seeds.last()) {
        (Some(a), Some(b)) if seeds.windows(2).all(|w| w[1] == w[0] + 1) && seeds.len() > 1 => {
            format!("{a}..{b}")
        }
        _ => seed_list(seeds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_separates_every_field() {
        let a = RunSpec::new(vec![1, 2], 10, ObjectiveKind::Mixed);
        let mut keys = vec![a.key()];
        keys.push(RunSpec::new(vec![1, 3], 10, ObjectiveKind::Mixed).key());
        keys.push(RunSpec::new(vec![12], 10, ObjectiveKind::Mixed).key());
        keys.push(RunSpec::new(vec![1, 2], 11, ObjectiveKind::Mixed).key());
        keys.push(RunSpec::new(vec![1, 2], 10, ObjectiveKind::Profit).key());
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n);
        assert_eq!(seeds_text(&[1, 2, 3]), "1..3");
        assert_eq!(seeds_text(&[1, 3]), "1,3");
    }
}
