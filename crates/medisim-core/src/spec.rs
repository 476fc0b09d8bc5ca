//! What to run: the replicates (seeds) and the model's own run settings (Medi-Sim's horizon and
//! objective; nothing for a model whose run is fixed by its parameters). One type for every
//! runner (a single run, an experiment cell, a search evaluation), with one key function, so
//! two caches can never disagree on what "the same run" means.

use serde::{Deserialize, Serialize};

/// A model's own run settings: what, beyond the seeds and the model's parameters, decides a
/// run's result. Its key joins the seeds' in every cache key.
pub trait RunSettings: Clone + std::fmt::Debug + PartialEq + Sync {
    /// The text that identifies these settings in a cache key (`horizon=200;objective=mixed`),
    /// empty when there are none.
    fn key(&self) -> String;

    /// Refuse settings no runner should start, naming the legal range.
    fn validate(&self) -> Result<(), String>;
}

/// The settings of a model that has none: its parameters and seeds decide everything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NoSettings {}

impl RunSettings for NoSettings {
    fn key(&self) -> String {
        String::new()
    }

    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunSpec<S> {
    /// Replicate seeds; each keys the replicate's random streams.
    pub seeds: Vec<u64>,
    /// The model's own settings (stored beside the seeds, as their own fields).
    #[serde(flatten)]
    pub settings: S,
}

impl<S: Default> Default for RunSpec<S> {
    /// The paper's evaluation: seeds 1..30, the model's default settings.
    fn default() -> Self {
        RunSpec {
            seeds: (1..=30).collect(),
            settings: S::default(),
        }
    }
}

/// Most replicates one run may ask for.
pub const MAX_SEEDS: usize = 10_000;

impl<S: RunSettings> RunSpec<S> {
    /// Refuse a spec no runner should start: no seeds, more than [`MAX_SEEDS`], or settings
    /// their own `validate` refuses.
    pub fn validate(&self) -> Result<(), String> {
        if self.seeds.is_empty() || self.seeds.len() > MAX_SEEDS {
            return Err(format!(
                "a run needs between 1 and {MAX_SEEDS} seeds, got {}",
                self.seeds.len()
            ));
        }
        distinct_seeds(&self.seeds)?;
        self.settings.validate()
    }

    pub fn new(seeds: Vec<u64>, settings: S) -> Self {
        RunSpec { seeds, settings }
    }

    /// The text that identifies this spec in every cache key: `seeds=1,2,3`, then the
    /// settings' key after a `;` when there is one.
    pub fn key(&self) -> String {
        let settings = self.settings.key();
        if settings.is_empty() {
            format!("seeds={}", self.seed_list())
        } else {
            format!("seeds={};{settings}", self.seed_list())
        }
    }
}

impl<S> RunSpec<S> {
    /// The seed set as stored in keys and tables: `1,2,3`.
    pub fn seed_list(&self) -> String {
        seed_list(&self.seeds)
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
        let seeds: Vec<u64> = parts
            .iter()
            .map(|x| seed(x, "seed"))
            .collect::<Result<_, _>>()?;
        distinct_seeds(&seeds).map_err(|e| format!("seeds `{s}`: {e}"))?;
        seeds
    };
    Ok(seeds)
}

/// Refuse a seed listed twice: it counts one replicate twice, a spread of copies and an
/// interval too narrow (`5,5,5` gave a zero-width one).
pub fn distinct_seeds(seeds: &[u64]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    match seeds.iter().find(|x| !seen.insert(**x)) {
        Some(twice) => Err(format!("seed {twice} is listed twice; list each seed once")),
        None => Ok(()),
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
        let e = parse_seeds("5,5,5").unwrap_err();
        assert!(e.contains("seed 5 is listed twice"), "{e}");
        let twice = RunSpec::new(vec![3, 4, 3], NoSettings {});
        assert!(twice
            .validate()
            .unwrap_err()
            .contains("seed 3 is listed twice"));
        let spec = RunSpec::new(vec![], NoSettings {});
        assert!(spec.validate().unwrap_err().contains("between 1 and 10000"));
    }

    #[test]
    fn the_key_separates_seed_sets_and_settings() {
        #[derive(Clone, Debug, PartialEq)]
        struct Horizon(u32);
        impl RunSettings for Horizon {
            fn key(&self) -> String {
                format!("horizon={}", self.0)
            }
            fn validate(&self) -> Result<(), String> {
                Ok(())
            }
        }
        let mut keys = vec![
            RunSpec::new(vec![1, 2], Horizon(10)).key(),
            RunSpec::new(vec![1, 3], Horizon(10)).key(),
            RunSpec::new(vec![12], Horizon(10)).key(),
            RunSpec::new(vec![1, 2], Horizon(11)).key(),
        ];
        assert_eq!(keys[0], "seeds=1,2;horizon=10");
        assert_eq!(RunSpec::new(vec![1, 2], NoSettings {}).key(), "seeds=1,2");
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n);
        assert_eq!(seeds_text(&[1, 2, 3]), "1..3");
        assert_eq!(seeds_text(&[1, 3]), "1,3");
    }
}
