//! Health outcomes and their accounting: how state occupancy becomes life-years, QALYs and
//! running costs (the cycle correction), and how a year's money and health are discounted.
//! The forms are the field's: discounting at the start of each annual cycle, separate rates for
//! costs and effects (3% each by default, the Second Panel on Cost-Effectiveness in Health and
//! Medicine, Sanders et al. 2016, *JAMA* 316), and the half-cycle (trapezoid) and Simpson's 1/3
//! corrections of state occupancy (Sonnenberg and Beck 1993, *Med. Decis. Making* 13; Elbasha
//! and Chhatwal 2016, *Med. Decis. Making* 36).

use crate::PanelError;
use serde::{Deserialize, Serialize};

/// How the occupancy of the cycle boundaries 0..=T becomes time spent in a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CycleCorrection {
    /// A year counts the state at its start (the boundaries 0..T−1, weight 1 each).
    None,
    /// The trapezoid rule: the first and last boundaries weigh ½.
    HalfCycle,
    /// Simpson's 1/3 rule: weights ⅓, 4⁄3, ⅔, …, 4⁄3, ⅓ (an even number of years).
    Simpson,
}

/// The outcome settings of a panel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Outcomes {
    /// Annual discount rate of costs.
    pub discount_costs: f64,
    /// Annual discount rate of effects (life-years are reported undiscounted, QALYs discounted).
    pub discount_effects: f64,
    pub cycle_correction: CycleCorrection,
}

impl Default for Outcomes {
    fn default() -> Self {
        Outcomes {
            discount_costs: 0.03,
            discount_effects: 0.03,
            cycle_correction: CycleCorrection::HalfCycle,
        }
    }
}

impl Outcomes {
    /// Check the rates (in [0, 1]) and that Simpson's rule has an even number of years.
    pub fn validate(&self, years: usize) -> Result<(), PanelError> {
        for (key, r) in [
            ("outcomes.discount_costs", self.discount_costs),
            ("outcomes.discount_effects", self.discount_effects),
        ] {
            if !(0.0..=1.0).contains(&r) {
                return Err(PanelError::Invalid {
                    key: key.into(),
                    message: format!(
                        "{} is outside [0, 1] (an annual rate)",
                        medisim_core::text::number(r)
                    ),
                });
            }
        }
        if self.cycle_correction == CycleCorrection::Simpson && years % 2 == 1 {
            return Err(PanelError::Invalid {
                key: "outcomes.cycle_correction".into(),
                message: format!(
                    "Simpson's rule needs an even number of years; these are {years}: use \
                     half-cycle or an even horizon"
                ),
            });
        }
        Ok(())
    }

    /// The weight of boundary `t` (0..=`years`) in the time spent in a state.
    pub fn occupancy_weight(&self, t: usize, years: usize) -> f64 {
        match self.cycle_correction {
            CycleCorrection::None => f64::from(u8::from(t < years)),
            CycleCorrection::HalfCycle if t == 0 || t == years => 0.5,
            CycleCorrection::HalfCycle => 1.0,
            CycleCorrection::Simpson if t == 0 || t == years => 1.0 / 3.0,
            CycleCorrection::Simpson if t % 2 == 1 => 4.0 / 3.0,
            CycleCorrection::Simpson => 2.0 / 3.0,
        }
    }

    /// The discount factor of money spent at time `t` (years from the start).
    pub fn cost_discount(&self, t: usize) -> f64 {
        discount(self.discount_costs, t)
    }

    /// The discount factor of health at time `t`.
    pub fn effect_discount(&self, t: usize) -> f64 {
        discount(self.discount_effects, t)
    }
}

fn discount(rate: f64, t: usize) -> f64 {
    (1.0 + rate).powi(-(t.min(i32::MAX as usize) as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every correction counts `years` of life for a patient alive throughout, and integrates a
    /// quadratic occupancy as its rule should: the trapezoid is exact for a line, Simpson's
    /// rule for a cubic.
    #[test]
    fn each_correction_integrates_as_its_rule() {
        let with = |c| Outcomes {
            cycle_correction: c,
            ..Default::default()
        };
        for c in [
            CycleCorrection::None,
            CycleCorrection::HalfCycle,
            CycleCorrection::Simpson,
        ] {
            let o = with(c);
            let total: f64 = (0..=10).map(|t| o.occupancy_weight(t, 10)).sum();
            assert!((total - 10.0).abs() < 1e-12, "{c:?}: {total}");
        }
        let integral = |c, f: &dyn Fn(f64) -> f64| -> f64 {
            let o = with(c);
            (0..=4)
                .map(|t| o.occupancy_weight(t, 4) * f(t as f64))
                .sum()
        };
        // ∫₀⁴ (1 − t/4) dt = 2: the trapezoid is exact, the start-of-cycle count is not.
        let line = |t: f64| 1.0 - t / 4.0;
        assert!((integral(CycleCorrection::HalfCycle, &line) - 2.0).abs() < 1e-12);
        assert!((integral(CycleCorrection::None, &line) - 2.5).abs() < 1e-12);
        // ∫₀⁴ t³ dt = 64: Simpson's rule is exact.
        let cube = |t: f64| t * t * t;
        assert!((integral(CycleCorrection::Simpson, &cube) - 64.0).abs() < 1e-9);
        assert!(with(CycleCorrection::Simpson).validate(15).is_err());
        assert!(with(CycleCorrection::Simpson).validate(14).is_ok());
    }

    #[test]
    fn discounting_is_at_the_start_of_each_year() {
        let o = Outcomes::default();
        assert_eq!(o.cost_discount(0), 1.0);
        assert!((o.effect_discount(2) - 1.0 / 1.0609).abs() < 1e-15);
        let bad = Outcomes {
            discount_costs: 1.5,
            ..Default::default()
        };
        let e = bad.validate(15).unwrap_err().to_string();
        assert!(
            e.contains("outcomes.discount_costs") && e.contains("[0, 1]"),
            "{e}"
        );
    }
}
