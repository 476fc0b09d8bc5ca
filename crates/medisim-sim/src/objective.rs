//! Medi-Sim's run settings (horizon, objective), its objectives, rewards and the
//! safety-penalised fitness (paper Eqs. 3, 8, 9). The constants of
//! the reward functions are named here, once; the scenario-level weights (discount, λ, the
//! violation weights) belong to each model's scenario and are passed in.

use medisim_core::stats::{mean, sample_variance};
use serde::{Deserialize, Serialize};

/// Medi-Sim's run settings: how long a rollout runs and which return it is scored by. They
/// belong to the run, not to the world (the scenario) or the rules (the policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RolloutSettings {
    /// Periods per rollout (T).
    pub horizon: u32,
    /// Which return is the rollout's `discounted_return` and enters the fitness.
    pub objective: ObjectiveKind,
}

/// Longest rollout, in periods.
pub const MAX_HORIZON: u32 = 10_000;

/// A Medi-Sim run: seeds and a [`RolloutSettings`].
pub type RunSpec = medisim_core::RunSpec<RolloutSettings>;

/// A Medi-Sim run of `seeds`, `horizon` periods each, scored by `objective`.
pub fn run_spec(seeds: Vec<u64>, horizon: u32, objective: ObjectiveKind) -> RunSpec {
    RunSpec::new(seeds, RolloutSettings { horizon, objective })
}

impl Default for RolloutSettings {
    /// The paper's evaluation: T = 200, the mixed objective.
    fn default() -> Self {
        RolloutSettings {
            horizon: 200,
            objective: ObjectiveKind::Mixed,
        }
    }
}

impl medisim_core::RunSettings for RolloutSettings {
    fn key(&self) -> String {
        format!("horizon={};objective={}", self.horizon, self.objective)
    }

    /// A horizon outside `[1, MAX_HORIZON]` is refused.
    fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_HORIZON).contains(&self.horizon) {
            return Err(format!(
                "the horizon must be in [1, {MAX_HORIZON}] periods, got {}",
                self.horizon
            ));
        }
        Ok(())
    }
}

/// The social objective a return is computed for (paper Eq. 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveKind {
    Welfare,
    Profit,
    Mixed,
}

impl ObjectiveKind {
    pub const ALL: [ObjectiveKind; 3] = [Self::Welfare, Self::Profit, Self::Mixed];

    pub fn name(self) -> &'static str {
        match self {
            ObjectiveKind::Welfare => "welfare",
            ObjectiveKind::Profit => "profit",
            ObjectiveKind::Mixed => "mixed",
        }
    }
}

impl std::fmt::Display for ObjectiveKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ObjectiveKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|o| o.name() == s)
            .ok_or_else(|| format!("unknown objective `{s}`: expected welfare, profit or mixed"))
    }
}

/// Welfare reward (Eq. 3): health gain per team, less a charge per period of mean waiting
/// (`WELFARE_WAIT_WEIGHT`) and per unit of rejection rate (`WELFARE_REJECTION_WEIGHT`).
pub const WELFARE_WAIT_WEIGHT: f64 = 0.1;
pub const WELFARE_REJECTION_WEIGHT: f64 = 0.5;

/// Mixed reward (Eq. 9): equal weights on solvency and reputation. Solvency enters as
/// ln(max(funds, `MIXED_FUNDS_FLOOR`)) / `MIXED_FUNDS_LOG_SCALE`, which keeps it on the scale of
/// reputation ∈ [0, 1] for funds up to e^10 and bounded below for an insolvent hospital.
pub const MIXED_FUNDS_WEIGHT: f64 = 0.5;
pub const MIXED_REPUTATION_WEIGHT: f64 = 0.5;
pub const MIXED_FUNDS_FLOOR: f64 = 1.0;
pub const MIXED_FUNDS_LOG_SCALE: f64 = 10.0;

/// One period's welfare reward.
pub fn welfare_reward(gain_per_team: f64, mean_wait: f64, rejection_rate: f64) -> f64 {
    gain_per_team - WELFARE_WAIT_WEIGHT * mean_wait - WELFARE_REJECTION_WEIGHT * rejection_rate
}

/// One period's mixed (solvency and reputation) reward.
pub fn mixed_reward(funds: f64, reputation: f64) -> f64 {
    MIXED_FUNDS_WEIGHT * funds.max(MIXED_FUNDS_FLOOR).ln() / MIXED_FUNDS_LOG_SCALE
        + MIXED_REPUTATION_WEIGHT * reputation
}

/// The violation score: the weighted sum of per-period violation rates.
pub fn violation_score(rates: &[f64], weights: &[f64]) -> f64 {
    rates.iter().zip(weights).map(|(v, w)| v * w).sum()
}

/// The penalties of Eq. 8.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitnessWeights {
    /// λ_unsafe: per unit of mean violation score.
    pub lambda_unsafe: f64,
    /// λ_var: per unit of variance of the return across seeds.
    pub lambda_var: f64,
}

/// Eq. 8 over a seed set: mean return − λ_unsafe · mean V − λ_var · Var_s(return).
pub fn fitness(returns: &[f64], violations: &[f64], w: FitnessWeights) -> f64 {
    mean(returns.iter().copied())
        - w.lambda_unsafe * mean(violations.iter().copied())
        - w.lambda_var * sample_variance(returns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objective_names_round_trip_and_unknown_is_named() {
        for o in ObjectiveKind::ALL {
            assert_eq!(o.name().parse::<ObjectiveKind>().unwrap(), o);
        }
        let e = "welfar".parse::<ObjectiveKind>().unwrap_err();
        assert!(e.contains("welfar") && e.contains("mixed"), "{e}");
    }

    #[test]
    fn fitness_penalises_violations_and_variance() {
        let w = FitnessWeights {
            lambda_unsafe: 0.5,
            lambda_var: 1.0,
        };
        assert_eq!(fitness(&[2.0, 2.0], &[0.0, 0.0], w), 2.0);
        assert_eq!(fitness(&[2.0, 2.0], &[1.0, 3.0], w), 1.0);
        // variance of [1, 3] is 2
        assert_eq!(fitness(&[1.0, 3.0], &[0.0, 0.0], w), 0.0);
        assert_eq!(mixed_reward(-5.0, 1.0), 0.5);
    }
}
