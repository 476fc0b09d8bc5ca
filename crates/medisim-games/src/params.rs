//! What every game's parameters share: errors that name the key, and reading from TOML with
//! every key defaulted and the result validated.

use serde::de::DeserializeOwned;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GameError {
    #[error("game parameter `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
    #[error("game file {origin}: {message}")]
    Parse { origin: String, message: String },
}

/// A game's parameter set: a serde struct with `#[serde(default, deny_unknown_fields)]`.
pub trait GameParams: DeserializeOwned + Default {
    /// Check every value, naming the first key out of range.
    fn validate(&self) -> Result<(), GameError>;

    /// Read parameters from TOML (`origin` names the file in errors), then validate them.
    fn from_toml(text: &str, origin: &str) -> Result<Self, GameError> {
        let g: Self = toml::from_str(text).map_err(|e| GameError::Parse {
            origin: origin.into(),
            message: e.to_string(),
        })?;
        g.validate()?;
        Ok(g)
    }
}
