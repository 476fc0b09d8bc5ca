//! The parameters (π, γ), their vectors in the paper's notation, and the assumptions.

use medisim_core::text::number;
use serde::{Deserialize, Serialize};

/// What can be wrong with a contract problem. Every variant names the condition.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContractError {
    #[error("`{name}` must be a probability in [{MIN_PROBABILITY}, {}], got {}", 1.0 - MIN_PROBABILITY, number(*value))]
    Range { name: &'static str, value: f64 },
    #[error("`{name}` must be in [{}, {}), got {}", number(*lo), number(*hi), number(*value))]
    Bound {
        name: &'static str,
        value: f64,
        lo: f64,
        hi: f64,
    },
    #[error("{which} does not hold: {detail}")]
    Assumption { which: &'static str, detail: String },
    #[error("the {model} model has no solution: {reason}{}", numeric.as_ref().map(|n| format!(" (numeric solver: {n})")).unwrap_or_default())]
    Infeasible {
        model: &'static str,
        reason: String,
        numeric: Option<String>,
    },
    #[error("numeric solver failed: {0}")]
    Solver(String),
}

/// How close to 0 or 1 a survival probability or the responder share may come. The paper asks
/// only for (0, 1); nearer the ends the solvers' own precision (about 10⁻⁸) exceeds the
/// closed-form cross-check's tolerance ([`crate::model::TOLERANCE`], 10⁻⁷ relative) — γ = 10⁻⁶
/// and 10⁻¹² made correct closed forms "disagree" — and a share estimated from a cohort of at
/// most a million patients ([`crate::estimate::MAX_ROWS`]) is not finer than a few in 10⁴.
pub const MIN_PROBABILITY: f64 = 1e-3;

/// Survival probabilities `π_sj` (responder status s, expenditure j) and the responder rate γ.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub pi00: f64,
    pub pi01: f64,
    pub pi10: f64,
    pub pi11: f64,
    pub gamma: f64,
}

/// A payment vector `[p00, p01, p10, p11]`: (death, low), (death, high), (survival, low),
/// (survival, high), in units of F.
pub type Payments = [f64; 4];

pub fn dot(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Params {
    /// The ICP-monitoring case study (paper Table I, MIMIC-IV traumatic brain injury).
    pub const ICP: Params = Params {
        pi00: 0.51,
        pi01: 0.75,
        pi10: 0.66,
        pi11: 0.85,
        gamma: 0.44,
    };

    /// Every parameter is a probability strictly inside (0, 1) (the paper's Remark 1), and at
    /// least [`MIN_PROBABILITY`] from either end.
    pub fn check(&self) -> Result<(), ContractError> {
        for (name, value) in [
            ("pi00", self.pi00),
            ("pi01", self.pi01),
            ("pi10", self.pi10),
            ("pi11", self.pi11),
            ("gamma", self.gamma),
        ] {
            if !(MIN_PROBABILITY..=1.0 - MIN_PROBABILITY).contains(&value) {
                return Err(ContractError::Range { name, value });
            }
        }
        Ok(())
    }

    /// Assumption 1: more expenditure and a better responder both raise survival.
    pub fn assumption_1(&self) -> Result<(), ContractError> {
        for (ok, which, a, b) in [
            (self.pi01 >= self.pi00, "π01 ≥ π00", self.pi01, self.pi00),
            (self.pi11 >= self.pi10, "π11 ≥ π10", self.pi11, self.pi10),
            (self.pi10 >= self.pi00, "π10 ≥ π00", self.pi10, self.pi00),
            (self.pi11 >= self.pi01, "π11 ≥ π01", self.pi11, self.pi01),
        ] {
            if !ok {
                return Err(ContractError::Assumption {
                    which: "Assumption 1",
                    detail: format!("{which} fails ({a} < {b})"),
                });
            }
        }
        Ok(())
    }

    /// Assumption 2: π01 π10 ≠ π00 π11 (the responder benefit differs between expenditures).
    pub fn assumption_2(&self) -> Result<(), ContractError> {
        let d = self.pi01 * self.pi10 - self.pi00 * self.pi11;
        if d.abs() < 1e-9 {
            return Err(ContractError::Assumption {
                which: "Assumption 2",
                detail: format!("π01 π10 = π00 π11 (difference {d:e})"),
            });
        }
        Ok(())
    }

    /// Expected payment coefficients under the designed behaviour E = S.
    pub fn c0(&self) -> Payments {
        let (g, p) = (self.gamma, self);
        [
            (1.0 - g) * (1.0 - p.pi00),
            g * (1.0 - p.pi11),
            (1.0 - g) * p.pi00,
            g * p.pi11,
        ]
    }

    /// IC1 (a good responder prefers high expenditure): c1 · P ≥ 1.
    pub fn c1(&self) -> Payments {
        [self.pi10 - 1.0, 1.0 - self.pi11, -self.pi10, self.pi11]
    }

    /// IC2 (a bad responder prefers low expenditure): c2 · P ≥ −1.
    pub fn c2(&self) -> Payments {
        [1.0 - self.pi00, self.pi01 - 1.0, self.pi00, -self.pi01]
    }

    /// Expected survival when E = S: (1 − γ) π00 + γ π11. (The paper prints (1 − γ)(1 − π00)
    /// + γ π11, a typo: a bad responder with low expenditure survives with π00.)
    pub fn survival(&self) -> f64 {
        (1.0 - self.gamma) * self.pi00 + self.gamma * self.pi11
    }

    /// The incentive-compatibility slacks [v1, v2] of a contract: v1 = c1·P − 1, v2 = c2·P + 1.
    pub fn ic_slack(&self, p: &Payments) -> [f64; 2] {
        [dot(&self.c1(), p) - 1.0, dot(&self.c2(), p) + 1.0]
    }
}
