//! The three principal-agent models (and the misclassified variant), each solved in closed
//! form and numerically. docs/contracts.md states every theorem as implemented.

use crate::numeric::{convex_program, linear_program, linear_system, InverseUtility};
use crate::params::{dot, ContractError, Params, Payments};
use serde::Serialize;

/// Agreement tolerance between closed form and numeric solver, on value and payments.
pub const TOLERANCE: f64 = 1e-7;

/// The provider's concave utility of a payment, for the risk-averse model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Utility {
    /// g(x) = √x
    Sqrt,
    /// g(x) = ln(1 + x)
    Log1p,
    /// g(x) = (1 − e^(−r x)) / r, constant absolute risk aversion r > 0.
    Cara(f64),
}

/// The least CARA risk aversion a solve accepts (parsing `cara:R` says why).
pub const MIN_CARA: f64 = 1e-3;

impl std::str::FromStr for Utility {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sqrt" => Ok(Utility::Sqrt),
            "log1p" => Ok(Utility::Log1p),
            _ => match s.strip_prefix("cara:").map(str::parse::<f64>) {
                Some(Ok(r)) if (MIN_CARA..1.0).contains(&r) => Ok(Utility::Cara(r)),
                Some(Ok(r)) => Err(format!(
                    "CARA risk aversion r = {} is outside [{MIN_CARA}, 1): below it the \
                     utility is linear to 0.05% over payments in [0, 1] F (use the \
                     nonnegative, risk-neutral model) and its exponential cone is too \
                     ill-conditioned for the solver; and it needs r < 1, since at 1 or above \
                     no payment can compensate the cost of high expenditure",
                    medisim_core::text::number(r)
                )),
                _ => Err(format!(
                    "unknown utility `{s}`: expected sqrt, log1p or cara:R with R in [{MIN_CARA}, 1)"
                )),
            },
        }
    }
}

impl Utility {
    pub fn g(self, x: f64) -> f64 {
        match self {
            Utility::Sqrt => x.sqrt(),
            Utility::Log1p => x.ln_1p(),
            Utility::Cara(r) => (1.0 - (-r * x).exp()) / r,
        }
    }

    pub fn g_inv(self, w: f64) -> f64 {
        match self {
            Utility::Sqrt => w * w,
            Utility::Log1p => w.exp_m1(),
            Utility::Cara(r) => -(1.0 - r * w).ln() / r,
        }
    }

    /// (g⁻¹)'(w)
    pub fn g_inv_prime(self, w: f64) -> f64 {
        match self {
            Utility::Sqrt => 2.0 * w,
            Utility::Log1p => w.exp(),
            Utility::Cara(r) => 1.0 / (1.0 - r * w),
        }
    }

    fn inverse(self) -> InverseUtility {
        match self {
            Utility::Sqrt => InverseUtility::Square,
            Utility::Log1p => InverseUtility::ExpMinusOne,
            Utility::Cara(r) => InverseUtility::NegLog { r },
        }
    }
}

/// Which model, with its own settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Model {
    /// Fines allowed; `p11` picks the member of Theorem 1's one-parameter family.
    Free { p11: f64 },
    /// Limited liability; `t ∈ [0, 1]` picks the point of Theorem 2's optimal segment.
    NonNegative { t: f64 },
    /// Limited liability with a responder test of false-negative rate `w0` and false-positive
    /// rate `w1` (Proposition 2).
    Misclassified { w0: f64, w1: f64 },
    /// A risk-averse provider (Proposition 3).
    RiskAverse(Utility),
}

/// What picks a model's member: the settings the command line and the Python `contract`
/// share, with the same defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Choice {
    /// Free model: the payment on survival with high expenditure.
    pub p11: f64,
    /// Non-negative model: the point of the optimal segment, in [0, 1].
    pub t: f64,
    /// Misclassified model: the responder test's false-negative and false-positive rates.
    pub w0: f64,
    pub w1: f64,
    /// Risk-averse model: the provider's utility.
    pub utility: Utility,
}

impl Default for Choice {
    fn default() -> Self {
        Choice {
            p11: 0.0,
            t: 0.0,
            w0: 0.0,
            w1: 0.0,
            utility: Utility::Sqrt,
        }
    }
}

impl Model {
    /// Every model's name, as the command line and the Python package spell it.
    pub const NAMES: [&'static str; 4] = ["free", "nonnegative", "misclassified", "risk-averse"];

    /// The model called `name`, its member picked by `choice`.
    pub fn by_name(name: &str, choice: &Choice) -> Result<Model, String> {
        Ok(match name {
            "free" => Model::Free { p11: choice.p11 },
            "nonnegative" => Model::NonNegative { t: choice.t },
            "misclassified" => Model::Misclassified {
                w0: choice.w0,
                w1: choice.w1,
            },
            "risk-averse" => Model::RiskAverse(choice.utility),
            other => {
                return Err(format!(
                    "no contract model `{other}`: choose {}",
                    Model::NAMES.join(", ")
                ))
            }
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Model::Free { .. } => "free",
            Model::NonNegative { .. } => "nonnegative",
            Model::Misclassified { .. } => "misclassified",
            Model::RiskAverse(_) => "risk-averse",
        }
    }
}

/// One solution: its payments and its value (the expected payment the model minimises).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Solved {
    pub payments: Payments,
    pub value: f64,
}

/// Both solutions of a model and what they imply.
#[derive(Clone, Debug, Serialize)]
pub struct Solution {
    pub model: &'static str,
    pub params: Params,
    /// The contract reported (the closed form's).
    pub payments: Payments,
    /// Expected payment per patient under E = S, in units of F.
    pub expected_payment: f64,
    /// Expected survival under E = S.
    pub survival: f64,
    /// Incentive slacks [v1, v2]: how much better off each responder type is with its
    /// designed action (in units of F, or of utility for the risk-averse model).
    pub ic_slack: [f64; 2],
    pub closed_form: Solved,
    pub numeric: Solved,
    /// Closed form and numeric solver agree within [`TOLERANCE`] (on payments where the
    /// optimum is unique, else on the value and on the closed form's own optimality).
    pub agree: bool,
    /// Non-negative model: the two ends of the optimal segment (t = 0, t = 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimal_segment: Option<[Payments; 2]>,
    /// Free model: dp00/dp11, dp01/dp11, dp10/dp11 (Remark 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derivatives: Option<[f64; 3]>,
    /// Misclassified model: the exact-test value γ and whether misclassification costs more
    /// (Remark 4: m* < m_w* ⇔ π01 w1 / (π11 w0 + π01 w1) > γ).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub misclassification_costs_more: Option<bool>,
    /// Risk-averse model: the KKT multipliers [λ1, λ2, μ00, μ01, μ10, μ11] of Proposition 3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multipliers: Option<[f64; 6]>,
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOLERANCE * (1.0 + a.abs().max(b.abs()))
}

fn all_close(a: &Payments, b: &Payments) -> bool {
    a.iter().zip(b).all(|(x, y)| close(*x, *y))
}

/// Solve `model` for `params` both ways. Out-of-range parameters, violated assumptions and
/// infeasible settings are named errors; where an assumption fails but the numeric solver still
/// has an answer, the error carries it.
pub fn solve(model: Model, params: &Params) -> Result<Solution, ContractError> {
    params.check()?;
    let assumptions = params.assumption_1().and_then(|()| params.assumption_2());
    if let (Err(ContractError::Assumption { which, detail }), false) =
        (&assumptions, matches!(model, Model::Free { .. }))
    {
        let cost = match model {
            Model::Misclassified { w0, w1 } => c0_misclassified(params, w0, w1),
            _ => params.c0(),
        };
        let numeric = nonnegative_lp(params, &cost)
            .map(|s| {
                format!(
                    "; the LP still gives value {:.4} at ({:.4}, {:.4}, {:.4}, {:.4})",
                    s.value, s.payments[0], s.payments[1], s.payments[2], s.payments[3]
                )
            })
            .unwrap_or_default();
        return Err(ContractError::Assumption {
            which,
            detail: format!("{detail}{numeric}"),
        });
    }
    let base = |closed: Solved, numeric: Solved, agree: bool| Solution {
        model: model.name(),
        params: *params,
        payments: closed.payments,
        expected_payment: dot(&params.c0(), &closed.payments),
        survival: params.survival(),
        ic_slack: params.ic_slack(&closed.payments),
        closed_form: closed,
        numeric,
        agree,
        optimal_segment: None,
        derivatives: None,
        exact_value: None,
        misclassification_costs_more: None,
        multipliers: None,
    };
    match model {
        Model::Free { p11 } => {
            let (closed, derivatives) = free_closed_form(params, p11)?;
            let (c0, c1, c2) = (params.c0(), params.c1(), params.c2());
            // The LP's optimal value, and the binding system solved numerically at this p11.
            let (_, lp_value) = linear_program(&c0, &[(c0, 0.0), (c1, 1.0), (c2, -1.0)], false)
                .map_err(|e| ContractError::Solver(format!("good_lp/microlp: {e}")))?;
            let system = linear_system([c0, c1, c2, [0.0, 0.0, 0.0, 1.0]], [0.0, 1.0, -1.0, p11])
                .ok_or_else(|| ContractError::Infeasible {
                model: "free",
                reason: "the binding system is singular".into(),
                numeric: Some("nalgebra: singular matrix".into()),
            })?;
            let numeric = Solved {
                payments: system,
                value: lp_value,
            };
            let agree = close(closed.value, numeric.value) && all_close(&closed.payments, &system);
            Ok(Solution {
                derivatives: Some(derivatives),
                ..base(closed, numeric, agree)
            })
        }
        Model::NonNegative { t } => {
            if !(0.0..=1.0).contains(&t) {
                return Err(ContractError::Bound {
                    name: "t",
                    value: t,
                    lo: 0.0,
                    hi: 1.0,
                });
            }
            let closed = Solved {
                payments: segment(params, t),
                value: params.gamma,
            };
            let numeric = nonnegative_lp(params, &params.c0())?;
            // The optimum is a segment: the LP's vertex must lie on it.
            let p = numeric.payments;
            let on_segment = p[0].abs() <= TOLERANCE
                && p[2].abs() <= TOLERANCE
                && (-TOLERANCE..=1.0 + TOLERANCE).contains(&p[1])
                && close(p[3], segment(params, p[1])[3]);
            let agree = close(closed.value, numeric.value)
                && close(dot(&params.c0(), &closed.payments), closed.value)
                && on_segment;
            Ok(Solution {
                optimal_segment: Some([segment(params, 0.0), segment(params, 1.0)]),
                ..base(closed, numeric, agree)
            })
        }
        Model::Misclassified { w0, w1 } => {
            for (name, value) in [("w0", w0), ("w1", w1)] {
                if !(0.0..1.0).contains(&value) {
                    return Err(ContractError::Bound {
                        name,
                        value,
                        lo: 0.0,
                        hi: 1.0,
                    });
                }
            }
            let cw = c0_misclassified(params, w0, w1);
            let (g, p01, p11) = (params.gamma, params.pi01, params.pi11);
            let m_w = g * (1.0 - p01 * w1 / p11 - w0) + p01 * w1 / p11;
            let closed = Solved {
                payments: segment(params, 0.0),
                value: m_w,
            };
            let numeric = nonnegative_lp(params, &cw)?;
            // Unique when a false positive is possible and π01 < π11; else only the value is
            // determined (the whole segment ties).
            let unique = w1 > 1e-9 && p11 - p01 > 1e-9;
            let agree = close(closed.value, numeric.value)
                && close(dot(&cw, &closed.payments), closed.value)
                && (!unique || all_close(&closed.payments, &numeric.payments));
            let ratio = p01 * w1 / (p11 * w0 + p01 * w1);
            Ok(Solution {
                expected_payment: m_w,
                exact_value: Some(g),
                misclassification_costs_more: Some(ratio > g),
                ..base(closed, numeric, agree)
            })
        }
        Model::RiskAverse(u) => {
            if let Utility::Cara(r) = u {
                if r >= 1.0 {
                    return Err(ContractError::Infeasible {
                        model: "risk-averse",
                        reason: format!(
                            "CARA utility with r = {} is bounded by 1/r ≤ F, so no payment \
                             can compensate the cost of high expenditure (need r < 1)",
                            medisim_core::text::number(r)
                        ),
                        numeric: None,
                    });
                }
            }
            let w_star: Payments = [0.0, 1.0, 0.0, 1.0];
            let payments = w_star.map(|w| u.g_inv(w));
            let c0 = params.c0();
            let closed = Solved {
                payments,
                value: dot(&c0, &payments),
            };
            let (w, value) = convex_program(&c0, &params.c1(), &params.c2(), u.inverse())?;
            let numeric = Solved {
                payments: w.map(|x| u.g_inv(x.max(0.0))),
                value,
            };
            // g⁻¹ is strictly convex, so the optimum is unique: payments must agree too.
            let agree = close(closed.value, numeric.value)
                && all_close(&closed.payments, &numeric.payments);
            let (d0, d1, g) = (u.g_inv_prime(0.0), u.g_inv_prime(1.0), params.gamma);
            let multipliers = [
                g * d1,
                0.0,
                d0 * (1.0 - g) * (1.0 - params.pi00) + d1 * g * (1.0 - params.pi10),
                0.0,
                d0 * (1.0 - g) * params.pi00 + d1 * g * params.pi10,
                0.0,
            ];
            Ok(Solution {
                ic_slack: params.ic_slack(&w_star),
                multipliers: Some(multipliers),
                ..base(closed, numeric, agree)
            })
        }
    }
}

/// Theorem 2's optimal segment at `t`: (0, t, 0, 1/π11 − t (1 − π11)/π11).
pub fn segment(p: &Params, t: f64) -> Payments {
    [0.0, t, 0.0, 1.0 / p.pi11 - t * (1.0 - p.pi11) / p.pi11]
}

/// The misclassified model's expected-payment coefficients. We read w0 as the test's
/// false-negative rate Pr(test 0 | S = 1) and w1 as its false-positive rate Pr(test 1 | S = 0):
/// that is the reading under which the paper's second to fourth entries and Proposition 2's
/// value hold; the paper's first entry swaps w0 and w1 (docs/contracts.md).
pub fn c0_misclassified(p: &Params, w0: f64, w1: f64) -> Payments {
    let g = p.gamma;
    [
        (1.0 - w1) * (1.0 - g) * (1.0 - p.pi00) + w0 * g * (1.0 - p.pi10),
        w1 * (1.0 - g) * (1.0 - p.pi01) + (1.0 - w0) * g * (1.0 - p.pi11),
        (1.0 - w1) * (1.0 - g) * p.pi00 + w0 * g * p.pi10,
        w1 * (1.0 - g) * p.pi01 + (1.0 - w0) * g * p.pi11,
    ]
}

fn nonnegative_lp(p: &Params, c: &Payments) -> Result<Solved, ContractError> {
    let (x, value) = linear_program(c, &[(p.c1(), 1.0), (p.c2(), -1.0)], true)
        .map_err(|e| ContractError::Solver(format!("good_lp/microlp: {e}")))?;
    Ok(Solved { payments: x, value })
}

/// The free model's `p11` (a payment in units of the cost of care F) lies within a million F
/// either way. The family is defined for any real `p11`, but the other payments grow with it,
/// and past about 10¹⁵ F the LP cross-check cannot tell their differences from rounding (at
/// 10³⁰⁰ the two solvers "disagreed" by 10²⁸⁴); no contract pays a million times the cost.
pub const MAX_FREE_P11: f64 = 1e6;

/// Theorem 1: the binding system's solution with p11 free, and Remark 2's derivatives.
fn free_closed_form(p: &Params, p11: f64) -> Result<(Solved, [f64; 3]), ContractError> {
    if !(-MAX_FREE_P11..MAX_FREE_P11).contains(&p11) {
        return Err(ContractError::Bound {
            name: "p11",
            value: p11,
            lo: -MAX_FREE_P11,
            hi: MAX_FREE_P11,
        });
    }
    let (p00, p01, p10, pp11, g) = (p.pi00, p.pi01, p.pi10, p.pi11, p.gamma);
    let s0 = (1.0 - g) * p00 + g * p10;
    let s1 = (1.0 - g) * p01 + g * pp11;
    // Proposition 1: solvable iff s1 < 1 (and π10 ≠ π00 for the family's denominator).
    if s1 >= 1.0 {
        return Err(ContractError::Infeasible {
            model: "free",
            reason: format!("Proposition 1 needs (1 − γ)π01 + γπ11 < 1, got {s1}"),
            numeric: None,
        });
    }
    if (p10 - p00).abs() < 1e-12 {
        return Err(ContractError::Infeasible {
            model: "free",
            reason: "Theorem 1 needs π10 ≠ π00 (good and bad responders differ at low expenditure)"
                .into(),
            numeric: None,
        });
    }
    let den = (p10 - p00) * (1.0 - s1);
    let a = p00 * p01 - 2.0 * p00 * pp11 + p00 + p10 * pp11 - p10;
    let q00 = (-p11 * (pp11 - p01) * s0 + g * a + p00 * (pp11 - p01)) / den;
    let q01 = (-p11 * s1 - g + 1.0) / (1.0 - s1);
    let q10 =
        (p11 * (pp11 - p01) * (1.0 - s0) + g * (a - p01 + pp11) - (1.0 - p00) * (pp11 - p01)) / den;
    let payments = [q00, q01, q10, p11];
    let derivatives = [
        -(pp11 - p01) * s0 / den,
        -s1 / (1.0 - s1),
        (pp11 - p01) * (1.0 - s0) / den,
    ];
    Ok((
        Solved {
            payments,
            value: dot(&p.c0(), &payments),
        },
        derivatives,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_free_family_matches_the_digest_regression_values() {
        let p = Params::ICP;
        let s = solve(Model::Free { p11: 0.0 }, &p).unwrap();
        let want = [311.0 / 515.0, 280.0 / 103.0, -1867.0 / 1545.0, 0.0];
        assert!(all_close(&s.payments, &want), "{:?}", s.payments);
        assert!(s.agree && s.closed_form.value.abs() < 1e-12);
        let d = s.derivatives.unwrap();
        assert!(
            close(d[0], -192.0 / 103.0)
                && close(d[1], -397.0 / 103.0)
                && close(d[2], 424.0 / 309.0)
        );
        assert!(
            s.ic_slack.iter().all(|v| v.abs() < 1e-12),
            "all constraints bind"
        );
    }

    #[test]
    fn the_icp_case_study_pays_on_survival_with_high_expenditure() {
        let s = solve(Model::NonNegative { t: 0.0 }, &Params::ICP).unwrap();
        assert!(s.agree);
        assert!(all_close(&s.payments, &[0.0, 0.0, 0.0, 1.0 / 0.85]));
        assert!(close(s.expected_payment, 0.44));
        assert!(close(s.ic_slack[1], 1.0 - 0.75 / 0.85) && s.ic_slack[0].abs() < 1e-12);
    }

    #[test]
    fn violated_assumptions_are_named() {
        let mut p = Params::ICP;
        p.pi01 = 0.4;
        let e = solve(Model::NonNegative { t: 0.0 }, &p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Assumption 1") && e.contains("π01 ≥ π00"), "{e}");
        let p = Params {
            pi00: 0.2,
            pi01: 0.4,
            pi10: 0.3,
            pi11: 0.6,
            gamma: 0.5,
        };
        let e = solve(Model::NonNegative { t: 0.0 }, &p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Assumption 2"), "{e}");
        let mut p = Params::ICP;
        p.gamma = 1.0;
        assert!(solve(Model::Free { p11: 0.0 }, &p)
            .unwrap_err()
            .to_string()
            .contains("gamma"));
        let e = solve(Model::RiskAverse(Utility::Cara(2.0)), &Params::ICP)
            .unwrap_err()
            .to_string();
        assert!(e.contains("r < 1"), "{e}");
        assert!(solve(Model::NonNegative { t: 1.5 }, &Params::ICP)
            .unwrap_err()
            .to_string()
            .contains("`t`"));
    }

    #[test]
    fn the_risk_averse_optimum_is_pure_fee_for_service() {
        for u in [Utility::Sqrt, Utility::Log1p, Utility::Cara(0.5)] {
            let s = solve(Model::RiskAverse(u), &Params::ICP).unwrap();
            assert!(s.agree, "{u:?}: {:?} vs {:?}", s.closed_form, s.numeric);
            assert_eq!(s.payments[0], 0.0);
            assert_eq!(s.payments[1], s.payments[3]);
            assert!(close(s.closed_form.value, 0.44 * u.g_inv(1.0)));
        }
    }
}
