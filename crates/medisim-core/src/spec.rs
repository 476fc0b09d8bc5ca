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

/// Most replicates one run may ask for.
pub const MAX_SEEDS: usize = 10_000;
/// Longest rollout, in periods.
pub const MAX_HORIZON: u32 = 10_000;

impl RunSpec {
    /// Refuse a spec no runner should start: no seeds, more than [`MAX_SEEDS`], or a horizon
    /// outside `[1, MAX_HORIZON]`.
    pub fn validate(&self) -> Result<(), String> {
        if self.seeds.is_empty() || self.seeds.len() > MAX_SEEDS {
            return Err(format!(
                "a run needs between 1 and {MAX_SEEDS} seeds, got {}",
                self.seeds.len()
            ));
        }
        if !(1..=MAX_HORIZON).contains(&self.horizon) {
            return Err(format!(
                "the horizon must be in [1, {MAX_HORIZON}] periods, got {}",
                self.horizon
            ));
        }
        Ok(())
    }

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

/// Parse a seed set: a range `1..30` (inclusive; `1..=30` too), a list `1,2,5`, or one seed.
/// A range is sized before it is built, so `0..18446744073709551615` is refused, not allocated.
pub fn parse_seeds(text: &str) -> Result<Vec<u64>, String> {
    let s = text.trim();
    let seed = |x: &str, what: &str| {
        x.trim().parse::<u64>().map_err(|_| {
            format!(
                "bad {what} `{}` in seeds `{s}`: expected a whole number >= 0",
                x.trim()
            )
        })
    };
    let seeds: Vec<u64> = if let Some((a, b)) = s.split_once("..") {
        let (a, b) = (
            seed(a, "range start")?,
            seed(b.trim_start_matches('='), "range end")?,
        );
        if b < a {
            return Err(format!("empty seed range `{s}`"));
        }
        let n = b - a;
        if n >= MAX_SEEDS as u64 {
            return Err(format!(
                "seed range `{s}` has {} seeds; at most {MAX_SEEDS} are allowed",
                u128::from(n) + 1
            ));
        }
        (a..=b).collect()
    } else {
        let parts: Vec<&str> = s.split(',').collect();
        if parts.len() > MAX_SEEDS {
            return Err(format!(
                "{} seeds given; at most {MAX_SEEDS} are allowed",
                parts.len()
            ));
        }
        parts
            .iter()
            .map(|x| seed(x, "seed"))
            .collect::<Result<_, _>>()?
    };
    Ok(seeds)
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
    fn seed_sets_parse_and_huge_ones_are_refused_before_allocation() {
        assert_eq!(parse_seeds("1..3").unwrap(), vec![1, 2, 3]);
        assert_eq!(parse_seeds("1..=3").unwrap(), vec![1, 2, 3]);
        assert_eq!(parse_seeds(" 4, 2 ").unwrap(), vec![4, 2]);
        let e = parse_seeds("0..18446744073709551615").unwrap_err();
        assert!(
            e.contains("18446744073709551616 seeds") && e.contains("10000"),
            "{e}"
        );
        assert!(parse_seeds("1..1000000000")
            .unwrap_err()
            .contains("at most 10000"));
        assert!(parse_seeds("5..2").unwrap_err().contains("empty"));
        assert!(parse_seeds("1,x").unwrap_err().contains("`x`"));
        let spec = RunSpec::new(vec![1], 0, ObjectiveKind::Mixed);
        assert!(spec.validate().unwrap_err().contains("[1, 10000]"));
    }

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
