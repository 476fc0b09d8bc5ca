//! # medisim-panel: primary-care payment models on a patient panel
//!
//! The framework of Bigus, Chen-Ritzo, Hermiz, Tesauro and Sorrentino, *Applying a Framework
//! for Healthcare Incentives Simulation* (seed 002): one primary-care provider treats a panel of
//! diabetic patients year after year; the payer's contract ([`payment`]: fee-for-service or
//! global capitation, each with or without shared risk) shapes the treatment each patient gets
//! ([`provider`]: the myopic MILP, Q-learning, the exact DP optimum); a disease model
//! ([`disease`]: the IBM retinopathy model, or any Markov model from a file) turns treatments
//! into health states, complications and costs; [`sim`] runs the loop over runs;
//! [`outcomes`] discounts and cycle-corrects life-years, QALYs and costs; [`experiments`] are
//! the paper's E1–E6.
//!
//! Imports only `medisim-core` (random streams, summaries with intervals).

pub mod disease;
pub mod experiments;
pub mod model;
pub mod outcomes;
pub mod payment;
pub mod program;
pub mod provider;
pub mod psa;
pub mod sim;
pub mod uncertainty;

use disease::DiseaseModel;
pub use model::{Panel, PanelMetric, PanelScenario};
pub use payment::{Basis, Payment};
pub use provider::{ProviderKind, ProviderSpec};
use serde::{Deserialize, Serialize};

/// The behaviour version of this model; part of every result's provenance. Bump it, with a
/// `CHANGELOG.md` entry, on any change that can change a result; `tests/golden.rs` fails on
/// such a change until its snapshot is renewed.
pub const MODEL_VERSION: medisim_core::ModelVersion = medisim_core::ModelVersion {
    model: "medisim-panel",
    number: 3,
};

/// The largest amount of money any panel parameter may name (a fee, a cost, a reference, a
/// capitation rate, a premium): the house's [`medisim_core::params::MAX_MONEY`]. The myopic
/// provider's integer program sums them over a panel, where the simplex loses all precision
/// (a fee of 10³⁰⁸ failed inside the solver; 10¹⁵ still solves).
pub use medisim_core::params::MAX_MONEY;

/// The smallest premium: a cent per patient-year (the medical loss ratio divides by it).
pub const MIN_PREMIUM: f64 = 0.01;

/// `value` is an amount of money in [0, [`MAX_MONEY`]]; the message gives the range.
pub fn check_money(key: &str, value: f64) -> Result<(), PanelError> {
    if (0.0..=MAX_MONEY).contains(&value) {
        return Ok(());
    }
    Err(PanelError::Invalid {
        key: key.into(),
        message: format!(
            "{} is outside [0, {MAX_MONEY:e}] dollars",
            medisim_core::text::number(value)
        ),
    })
}

/// Random-stream purposes (`medisim_core::rng::stream`).
pub const PURPOSE_DISEASE: u8 = 1;
pub const PURPOSE_TRAINING: u8 = 2;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PanelError {
    #[error("panel parameter `{key}`: {message}")]
    Invalid { key: String, message: String },
    #[error("panel file {origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("{0}")]
    Solver(String),
}

/// Everything a panel simulation is parameterised by (the paper's configuration by default:
/// 10 patients, 15 years, 40 runs, FFS, margin 40%).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PanelConfig {
    pub patients: usize,
    pub years: usize,
    pub runs: usize,
    pub seed: u64,
    pub payment: Payment,
    pub provider: ProviderSpec,
    /// The payer's premium income per patient-year (its revenue; the medical loss ratio's
    /// denominator). Illustrative: the paper names the ratio but gives no premium.
    pub premium: f64,
    /// The retinopathy model's parameters (used unless a Markov file is given).
    pub retinopathy: disease::RetinopathyParams,
    /// Discount rates and the cycle correction of the health-economic outcomes.
    pub outcomes: outcomes::Outcomes,
    /// A payment program in force of the `payment` keys' basis, capitation and shared-risk
    /// terms (`--policy FILE`; the panel's policy, as a hospital program is Medi-Sim's).
    #[serde(skip)]
    pub program: Option<program::PaymentProgram>,
}

impl Default for PanelConfig {
    fn default() -> Self {
        PanelConfig {
            patients: 10,
            years: 15,
            runs: 40,
            seed: 1,
            payment: Payment::default(),
            provider: ProviderSpec::default(),
            premium: 2000.0,
            retinopathy: Default::default(),
            outcomes: Default::default(),
            program: None,
        }
    }
}

impl PanelConfig {
    /// Read a configuration (every key defaulted), naming the file and the key on error.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, PanelError> {
        medisim_core::input::from_toml(text).map_err(|message| PanelError::Parse {
            origin: origin.into(),
            message,
        })
    }

    pub fn validate(&self, d: &dyn DiseaseModel) -> Result<(), PanelError> {
        self.validated_contract(d).map(|_| ())
    }

    /// Validate the configuration against `d` and return the payment the provider answers
    /// ([`PanelConfig::contract`]), resolving a payment program once.
    pub fn validated_contract(&self, d: &dyn DiseaseModel) -> Result<Payment, PanelError> {
        if let Some((key, x)) = medisim_core::params::non_finite(self) {
            return Err(PanelError::Invalid {
                key,
                message: format!("{x} is not a finite number"),
            });
        }
        let range = |key: &str, v: usize, hi: usize| {
            if v == 0 || v > hi {
                Err(PanelError::Invalid {
                    key: key.into(),
                    message: format!("{v} is outside 1..={hi}"),
                })
            } else {
                Ok(())
            }
        };
        range("patients", self.patients, 100_000)?;
        range("years", self.years, 1_000)?;
        range("runs", self.runs, 1_000_000)?;
        // The premium is the medical loss ratio's denominator: zero would make it undefined.
        if !(MIN_PREMIUM..=MAX_MONEY).contains(&self.premium) {
            return Err(PanelError::Invalid {
                key: "premium".into(),
                message: format!(
                    "{} is outside [{MIN_PREMIUM}, {MAX_MONEY:e}] dollars (it must be > 0: the \
                     medical loss ratio divides by it)",
                    medisim_core::text::number(self.premium)
                ),
            });
        }
        disease::validate(d)?;
        self.outcomes.validate(self.years)?;
        self.payment.validate(d.states().len())?;
        let contract = self.contract(d)?;
        self.provider.validate(&contract)?;
        Ok(contract)
    }

    /// The payment the provider answers: the `payment` keys, or the payment program's
    /// resolution of them for the disease model `d`.
    pub fn contract(&self, d: &dyn DiseaseModel) -> Result<Payment, PanelError> {
        match &self.program {
            Some(p) => p.resolve(&self.payment, d, self.patients, self.years),
            None => Ok(self.payment.clone()),
        }
    }
}
