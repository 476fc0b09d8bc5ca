//! The uncertainty of a Markov disease file's parameters, as its `[psa]` table states it: the
//! distributions and their checks. Sampling a model from them is [`crate::psa`]'s.
//!
//! Distributions follow the field's conventions (Briggs, Claxton and Sculpher, *Decision
//! Modelling for Health Economic Evaluation*, 2006, ch. 4): beta for utilities (and
//! probabilities), gamma or log-normal for costs, each fitted by its mean and standard deviation
//! (method of moments); Dirichlet for each natural-history row, with the file's row as its mean
//! and an effective sample size as its concentration.

use crate::PanelError;
use rand::Rng;
use rand_distr::Distribution as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The family of an uncertain parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// On (0, 1): utilities, probabilities.
    Beta,
    /// On (0, ∞): costs.
    Gamma,
    /// On (0, ∞): costs with a long right tail.
    Lognormal,
}

/// An uncertain parameter: its family, mean and standard deviation (sd 0: fixed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uncertain {
    pub dist: Family,
    pub mean: f64,
    pub sd: f64,
}

impl Uncertain {
    /// The distribution exists: a beta's mean in (0, 1) with sd² < mean (1 − mean), a gamma's
    /// or log-normal's mean > 0; sd ≥ 0.
    pub fn check(&self, key: &str) -> Result<(), PanelError> {
        let bad = |message: String| {
            Err(PanelError::Invalid {
                key: key.into(),
                message,
            })
        };
        let (m, s) = (self.mean, self.sd);
        if !(m.is_finite() && s.is_finite() && s >= 0.0) {
            return bad(format!("mean {m} and sd {s} must be finite, the sd ≥ 0"));
        }
        match self.dist {
            Family::Beta if !(m > 0.0 && m < 1.0 && s * s < m * (1.0 - m)) => {
                return bad(format!(
                    "a beta needs a mean in (0, 1) and sd² < mean (1 − mean) = {}; got mean \
                     {m}, sd {s}",
                    m * (1.0 - m)
                ))
            }
            // Draws past MAX_MONEY would be refused by the model: the mean and six sd must fit.
            Family::Gamma | Family::Lognormal if m <= 0.0 || m + 6.0 * s > crate::MAX_MONEY => {
                return bad(format!(
                    "a {} needs a mean > 0 and mean + 6 sd ≤ {:e}; got mean {m}, sd {s}",
                    medisim_core::text::name_of(&self.dist),
                    crate::MAX_MONEY
                ))
            }
            _ => {}
        }
        match self.sampler() {
            Ok(_) => Ok(()),
            Err(why) => bad(format!(
                "mean {m} and sd {s} give no {} distribution ({why}): give an sd of 0 (fixed) \
                 or one within a few orders of magnitude of the mean",
                medisim_core::text::name_of(&self.dist)
            )),
        }
    }

    /// The distribution fitted by moments (`None` for sd 0: the mean itself).
    fn sampler(&self) -> Result<Option<Sampler>, String> {
        let (m, s) = (self.mean, self.sd);
        if s == 0.0 {
            return Ok(None);
        }
        let v = s * s;
        if !(v.is_finite() && v > 0.0) {
            return Err(format!("sd² = {v}"));
        }
        let sampler = match self.dist {
            Family::Beta => {
                let k = m * (1.0 - m) / v - 1.0;
                Sampler::Beta(
                    rand_distr::Beta::new(m * k, (1.0 - m) * k).map_err(|e| e.to_string())?,
                )
            }
            Family::Gamma => {
                Sampler::Gamma(rand_distr::Gamma::new(m * m / v, v / m).map_err(|e| e.to_string())?)
            }
            Family::Lognormal => {
                let sigma2 = (1.0 + v / (m * m)).ln();
                if sigma2.is_nan() || sigma2 <= 0.0 {
                    return Err(format!("log-variance {sigma2}"));
                }
                Sampler::LogNormal(
                    rand_distr::LogNormal::new(m.ln() - sigma2 / 2.0, sigma2.sqrt())
                        .map_err(|e| e.to_string())?,
                )
            }
        };
        Ok(Some(sampler))
    }

    /// One draw (the mean itself when the sd is 0). [`Uncertain::check`] has refused every
    /// setting without a distribution; for one that reached here unchecked, the mean.
    pub fn draw(&self, rng: &mut impl Rng) -> f64 {
        match self.sampler() {
            Ok(Some(Sampler::Beta(d))) => d.sample(rng),
            Ok(Some(Sampler::Gamma(d))) => d.sample(rng),
            Ok(Some(Sampler::LogNormal(d))) => d.sample(rng),
            Ok(None) | Err(_) => self.mean,
        }
    }
}

/// A fitted distribution.
enum Sampler {
    Beta(rand_distr::Beta<f64>),
    Gamma(rand_distr::Gamma<f64>),
    LogNormal(rand_distr::LogNormal<f64>),
}

/// A Markov file's uncertainty: its `[psa]` table. The natural history is the first listed
/// treatment's rows, each drawn from a Dirichlet; every other treatment keeps its file ratio to
/// it (its relative risk) in each draw, so treatments differ in a draw only as the file says
/// they do (drawing each treatment's rows apart gave the kidney model's treatments different
/// death rates in every draw, an effect no treatment has).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PsaSpec {
    /// Each row of the first treatment (the natural history) is drawn from Dirichlet(n × row),
    /// n this effective sample size (the patients the row's rates were estimated from); entries
    /// 0 stay 0. 0: the rows are fixed.
    pub transition_sample_size: f64,
    /// Uncertain QALY weights, entry costs and running costs by state name.
    pub utilities: BTreeMap<String, Uncertain>,
    pub entry_costs: BTreeMap<String, Uncertain>,
    pub running_costs: BTreeMap<String, Uncertain>,
    /// Uncertain fees by treatment name.
    pub fees: BTreeMap<String, Uncertain>,
}

/// The largest effective sample size of a transition row.
pub const MAX_SAMPLE_SIZE: f64 = 1e9;

impl PsaSpec {
    /// Whether anything is uncertain.
    pub fn is_empty(&self) -> bool {
        self.transition_sample_size == 0.0
            && self.utilities.is_empty()
            && self.entry_costs.is_empty()
            && self.running_costs.is_empty()
            && self.fees.is_empty()
    }

    /// Every distribution exists and names a living state (or a treatment) of the model with
    /// these `states`, `dead` states and `treatments`.
    pub fn check(
        &self,
        states: &[String],
        dead: &[String],
        treatments: &[&str],
    ) -> Result<(), PanelError> {
        let n = self.transition_sample_size;
        // At least one patient: a smaller concentration underflows the Dirichlet's shapes.
        if !(n == 0.0 || (1.0..=MAX_SAMPLE_SIZE).contains(&n)) {
            return Err(PanelError::Invalid {
                key: "psa.transition_sample_size".into(),
                message: format!("{n} is neither 0 (fixed rows) nor in [1, {MAX_SAMPLE_SIZE:e}]"),
            });
        }
        let tables = [
            ("utilities", &self.utilities),
            ("entry_costs", &self.entry_costs),
            ("running_costs", &self.running_costs),
        ];
        for (table, entries) in tables {
            for (state, u) in entries {
                let key = format!("psa.{table}.{state}");
                if !states.contains(state) || dead.contains(state) {
                    return Err(PanelError::Invalid {
                        key,
                        message: "names no living state of the model".into(),
                    });
                }
                u.check(&key)?;
            }
        }
        for (treatment, u) in &self.fees {
            let key = format!("psa.fees.{treatment}");
            if !treatments.contains(&treatment.as_str()) {
                return Err(PanelError::Invalid {
                    key,
                    message: "names no treatment of the model".into(),
                });
            }
            u.check(&key)?;
        }
        Ok(())
    }
}
