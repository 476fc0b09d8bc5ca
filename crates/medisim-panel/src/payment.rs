//! Payment models as data: fee-for-service or global capitation, each with or without shared
//! risk against a reference cost, and the provider's margin on its fees.

use crate::PanelError;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What the payer pays the provider for preventive care.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// Fee-for-service: each treatment's fee.
    Ffs,
    /// Global capitation: a flat rate per patient-year by health state.
    Gc,
}

/// A payment contract. The shared-risk terms settle once a year on the panel: with the realised
/// total cost `Q` = prevention (fees or capitation) + complications, the provider gains
/// `G = reward_rate · max(reference − Q, 0) − penalty_rate · max(Q − reference, 0)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Payment {
    pub basis: Basis,
    /// Capitation per patient-year in each health state (GC only).
    pub capitation: Vec<f64>,
    pub reward_rate: f64,
    pub penalty_rate: f64,
    /// The panel's reference cost per year.
    pub reference: f64,
    /// The provider's margin: its cost of a treatment is (1 − margin) × the treatment's fee.
    pub margin: f64,
    /// A payment program's resolution ([`crate::program::PaymentProgram::resolve`]): the payment
    /// for a living patient-year by state and treatment, in place of `basis` and `capitation`.
    #[serde(skip)]
    pub table: Option<Arc<Vec<Vec<f64>>>>,
}

impl Default for Payment {
    fn default() -> Self {
        Payment {
            basis: Basis::Ffs,
            capitation: vec![1000.0, 1100.0, 1200.0, 1200.0, 1100.0, 1000.0],
            reward_rate: 0.0,
            penalty_rate: 0.0,
            reference: 10_000.0,
            margin: 0.4,
            table: None,
        }
    }
}

/// One year's settlement for the panel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Settlement {
    /// The payer's payment for prevention (fees or capitation): the cost of prevention.
    pub prevention: f64,
    pub complications: f64,
    /// G: paid to the provider (negative: the provider pays the payer).
    pub transfer: f64,
    pub provider_cost: f64,
}

impl Settlement {
    pub fn total_cost(&self) -> f64 {
        self.prevention + self.complications + self.transfer
    }
    pub fn provider_revenue(&self) -> f64 {
        self.prevention + self.transfer
    }
    pub fn provider_profit(&self) -> f64 {
        self.provider_revenue() - self.provider_cost
    }
}

impl Payment {
    /// Check every term, naming the key and its legal range.
    pub fn validate(&self, states: usize) -> Result<(), PanelError> {
        let bad = |key: &str, message: String| {
            Err(PanelError::Invalid {
                key: key.into(),
                message,
            })
        };
        for (key, v) in [
            ("reward_rate", self.reward_rate),
            ("penalty_rate", self.penalty_rate),
            ("margin", self.margin),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(key, format!("{v} is outside [0, 1]"));
            }
        }
        crate::check_money("reference", self.reference)?;
        if self.basis == Basis::Gc {
            if self.capitation.len() != states {
                return bad(
                    "capitation",
                    format!(
                        "has {} rates; the disease model has {states} states",
                        self.capitation.len()
                    ),
                );
            }
            for (m, r) in self.capitation.iter().enumerate() {
                crate::check_money(&format!("capitation[{m}]"), *r)?;
            }
        }
        Ok(())
    }

    /// The payer's payment for a patient in `state` given `treatment`, whose list fee is `fee`.
    pub fn prevention(&self, state: usize, treatment: usize, fee: f64) -> f64 {
        if let Some(table) = &self.table {
            return table[state][treatment];
        }
        match self.basis {
            Basis::Ffs => fee,
            Basis::Gc => self.capitation[state],
        }
    }

    /// The shared-risk transfer for a year's total cost `q`.
    pub fn transfer(&self, q: f64) -> f64 {
        self.transfer_against(self.reference, q)
    }

    /// The shared-risk transfer for a year's total cost `q` against `reference`.
    pub fn transfer_against(&self, reference: f64, q: f64) -> f64 {
        self.reward_rate * (reference - q).max(0.0) - self.penalty_rate * (q - reference).max(0.0)
    }

    /// The year's reference when `alive` of the panel's `patients` are alive: the reference is
    /// the whole panel's, so it shrinks with the living (else the payer would pay shared
    /// "savings" on every death). The whole panel alive: the reference itself, bit for bit.
    pub fn reference_for(&self, alive: usize, patients: usize) -> f64 {
        if alive == patients || patients == 0 {
            self.reference
        } else {
            self.reference * alive as f64 / patients as f64
        }
    }

    /// Whether the shared-risk term is linear in the cost (no term, or reward = penalty), the
    /// condition under which the panel's bonus splits exactly into per-patient bonuses.
    pub fn is_linear(&self) -> bool {
        (self.reward_rate - self.penalty_rate).abs() < 1e-12
    }

    pub fn settle(&self, prevention: f64, complications: f64, provider_cost: f64) -> Settlement {
        self.settle_against(self.reference, prevention, complications, provider_cost)
    }

    /// [`Payment::settle`] against a year's `reference` ([`Payment::reference_for`]).
    pub fn settle_against(
        &self,
        reference: f64,
        prevention: f64,
        complications: f64,
        provider_cost: f64,
    ) -> Settlement {
        Settlement {
            prevention,
            complications,
            transfer: self.transfer_against(reference, prevention + complications),
            provider_cost,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_risk_rewards_savings_and_penalises_excess() {
        let p = Payment {
            reward_rate: 0.5,
            penalty_rate: 0.25,
            reference: 1000.0,
            ..Default::default()
        };
        assert_eq!(p.transfer(800.0), 100.0);
        assert_eq!(p.transfer(1400.0), -100.0);
        let s = p.settle(700.0, 100.0, 420.0);
        assert_eq!(s.total_cost(), 900.0);
        assert_eq!(s.provider_profit(), 380.0);
        assert!(!p.is_linear());
    }

    #[test]
    fn bad_terms_are_refused_with_the_range() {
        let e = Payment {
            reward_rate: 1.5,
            ..Default::default()
        }
        .validate(6)
        .unwrap_err()
        .to_string();
        assert!(e.contains("`reward_rate`") && e.contains("[0, 1]"), "{e}");
        let e = Payment {
            basis: Basis::Gc,
            capitation: vec![1.0],
            ..Default::default()
        }
        .validate(6)
        .unwrap_err()
        .to_string();
        assert!(e.contains("`capitation`"), "{e}");
    }
}
