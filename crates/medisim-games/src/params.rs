//! What every game's parameters share: errors that name the key, reading from TOML with every
//! key defaulted and the result validated, and setting one key by name (`--set key=value`,
//! sensitivity scans) through the same serde description, so no game lists its keys twice.

use medisim_core::params::{self, KeyError};
use serde::de::DeserializeOwned;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GameError {
    #[error("game parameter `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
    #[error("game file {origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("game parameter `{key}`: {message}")]
    Set { key: String, message: String },
    /// Not a `#[from]`: the key error is the whole message, not a cause to print again.
    #[error("game parameter {0}")]
    Key(KeyError),
}

impl From<KeyError> for GameError {
    fn from(e: KeyError) -> Self {
        GameError::Key(e)
    }
}

/// The largest magnitude of any game parameter. The dissertation's values are at most a few
/// hundred; every game solves to finite values with any one parameter at ±10⁶ (checked at the
/// corners), while payoffs of 10¹⁵ can no longer be compared (a best response that never
/// settled) and 10³⁰⁸ overflowed to NaN.
pub const MAX_MAGNITUDE: f64 = 1e6;

/// A game's parameter set: a serde struct with `#[serde(default, deny_unknown_fields)]`.
pub trait GameParams: DeserializeOwned + Serialize + Default {
    /// Check every value, naming the first key out of range (the game's own rules).
    fn validate(&self) -> Result<(), GameError>;

    /// One solve's work in the game's own unit and the most one command may ask for
    /// ([`medisim_core::Model::work`]); `None` for a closed form, which the cell count bounds.
    fn work(&self) -> Option<medisim_core::Work> {
        None
    }

    /// Every number finite and within ±[`MAX_MAGNITUDE`], then the game's own rules.
    fn check(&self) -> Result<(), GameError> {
        if let Some((key, x)) = params::beyond(self, MAX_MAGNITUDE) {
            return Err(GameError::Set {
                key,
                message: format!(
                    "{} is outside [-{MAX_MAGNITUDE:e}, {MAX_MAGNITUDE:e}]",
                    medisim_core::text::number(x)
                ),
            });
        }
        self.validate()
    }

    /// Read parameters from TOML (`origin` names the file in errors), then validate them.
    fn from_toml(text: &str, origin: &str) -> Result<Self, GameError> {
        let g: Self = medisim_core::input::from_toml(text).map_err(|message| GameError::Parse {
            origin: origin.into(),
            message,
        })?;
        params::finite(&g)?;
        g.check()?;
        Ok(g)
    }

    /// These parameters with `key` set to `value`, validated. `key` is a field name, or
    /// `name[i]` (`name[i][j]`) for an element of an array field (0-based); `value` is a TOML
    /// value (`0.5`, `[1, 2]`, `"high"`). The core's setter applies the type rules.
    fn with(&self, key: &str, value: &str) -> Result<Self, GameError> {
        let parsed = params::literal(value).map_err(|message| GameError::Set {
            key: key.into(),
            message,
        })?;
        let g = params::set(self, key, parsed)?;
        g.check()?;
        Ok(g)
    }

    /// The number at `key` (a field, or `name[i]` of an array field); `None` when there is
    /// none.
    fn value(&self, key: &str) -> Option<f64> {
        let v = params::get(self, key).ok()?;
        v.as_float().or_else(|| v.as_integer().map(|i| i as f64))
    }

    /// Apply `key=value` settings in order.
    fn with_all(&self, sets: &[String]) -> Result<Self, GameError>
    where
        Self: Clone,
    {
        let mut g = self.clone();
        let sets =
            params::assignments(sets).map_err(|(key, message)| GameError::Set { key, message })?;
        for (key, value) in sets {
            g = params::set(&g, key, value)?;
            g.check()?;
        }
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aco::AcoGame;

    #[test]
    fn a_key_is_set_by_name_and_index() {
        let g = AcoGame::default().with("mu", "0.25").unwrap();
        assert_eq!(g.mu, 0.25);
        let g = g.with("k[0]", "-5").unwrap();
        assert_eq!(g.k[0], -5.0);
        let g = g.with_all(&["benchmark = 30".into()]).unwrap();
        assert_eq!(g.benchmark, 30.0);
    }

    #[test]
    fn a_bad_setting_names_the_key_and_the_problem() {
        let d = AcoGame::default();
        let e = d.with("bogus", "1").unwrap_err().to_string();
        assert!(
            e.contains("`bogus`") && e.contains("known: ") && e.contains("mu"),
            "{e}"
        );
        let e = d.with("k[7]", "1").unwrap_err().to_string();
        assert!(e.contains("index 7"), "{e}");
        let e = d.with("mu", "\"high\"").unwrap_err().to_string();
        assert!(e.contains("takes a float"), "{e}");
        // Range checks are the game's own: the value is refused, not clipped.
        let e = d.with("mu", "2").unwrap_err().to_string();
        assert!(e.contains("`mu`"), "{e}");
        let e = d.with_all(&["mu".into()]).unwrap_err().to_string();
        assert!(e.contains("`mu`: expected KEY=VALUE"), "{e}");
    }
}
