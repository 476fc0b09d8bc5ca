//! Over thousands of random parameter sets satisfying Assumptions 1 and 2, every model's closed
//! form and numeric solver agree (to 1e-7 on the value, and on the payments where the optimum
//! is unique), and the contract is incentive compatible. A violated assumption is named.

use medisim_contracts::{solve, Model, Params, Utility};
use proptest::prelude::*;

/// Parameters satisfying Assumption 1 (π00 smallest, π11 largest) and, by a margin,
/// Assumption 2.
fn params() -> impl Strategy<Value = Params> {
    (
        proptest::collection::vec(0.02f64..0.98, 4),
        any::<bool>(),
        0.02f64..0.98,
    )
        .prop_filter_map("Assumption 2 by a margin", |(mut u, swap, gamma)| {
            u.sort_by(f64::total_cmp);
            let (a, b) = if swap { (u[2], u[1]) } else { (u[1], u[2]) };
            let p = Params {
                pi00: u[0],
                pi01: a,
                pi10: b,
                pi11: u[3],
                gamma,
            };
            let distinct = u.windows(2).all(|w| w[1] - w[0] > 1e-3);
            ((p.pi01 * p.pi10 - p.pi00 * p.pi11).abs() > 1e-3 && distinct).then_some(p)
        })
}

fn ic_holds(slack: [f64; 2]) -> bool {
    slack.iter().all(|v| *v >= -1e-9)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn free_model_family_is_optimal_and_binding(p in params(), p11 in -3.0f64..3.0) {
        let s = solve(Model::Free { p11 }, &p).unwrap();
        prop_assert!(s.agree, "{s:?}");
        prop_assert!(s.closed_form.value.abs() < 1e-9 && s.numeric.value.abs() < 1e-7);
        prop_assert!(s.ic_slack.iter().all(|v| v.abs() < 1e-9));
        let d = s.derivatives.unwrap();
        prop_assert!(d[0] < 0.0 && d[1] < 0.0 && d[2] > 0.0, "Remark 2 signs: {d:?}");
    }

    #[test]
    fn nonnegative_optimum_is_gamma_on_the_segment(p in params(), t in 0.0f64..=1.0) {
        let s = solve(Model::NonNegative { t }, &p).unwrap();
        prop_assert!(s.agree, "{s:?}");
        prop_assert!((s.numeric.value - p.gamma).abs() < 1e-7);
        prop_assert!(ic_holds(s.ic_slack), "{:?}", s.ic_slack);
        prop_assert!(s.payments.iter().all(|x| *x >= 0.0));
    }

    #[test]
    fn misclassified_optimum_is_the_largest_gap_end(
        p in params(),
        w0 in 0.0f64..0.5,
        w1 in 0.0f64..0.5,
    ) {
        let s = solve(Model::Misclassified { w0, w1 }, &p).unwrap();
        prop_assert!(s.agree, "{s:?}");
        prop_assert!(ic_holds(s.ic_slack));
        // Remark 4, checked against the two values themselves.
        let worse = s.closed_form.value > p.gamma;
        prop_assert_eq!(s.misclassification_costs_more.unwrap(), worse);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn risk_averse_optimum_is_fee_for_service(
        p in params(),
        which in 0usize..3,
        r in 0.05f64..0.9,
    ) {
        let u = [Utility::Sqrt, Utility::Log1p, Utility::Cara(r)][which];
        let s = solve(Model::RiskAverse(u), &p).unwrap();
        prop_assert!(s.agree, "{u:?}: closed {:?} numeric {:?}", s.closed_form, s.numeric);
        prop_assert!(ic_holds(s.ic_slack));
        // KKT stationarity of Proposition 3's multipliers at W* = (0, 1, 0, 1).
        let m = s.multipliers.unwrap();
        let (c0, c1, c2) = (p.c0(), p.c1(), p.c2());
        for (k, w) in [0.0, 1.0, 0.0, 1.0].into_iter().enumerate() {
            let r = c0[k] * u.g_inv_prime(w) - m[0] * c1[k] - m[1] * c2[k] - m[2 + k];
            prop_assert!(r.abs() < 1e-9, "stationarity {k}: {r}");
        }
        prop_assert!(m.iter().all(|x| *x >= 0.0));
    }

    #[test]
    fn a_violated_assumption_is_named(p in params()) {
        let bad = Params { pi01: p.pi00 * 0.5, ..p };
        for model in [
            Model::NonNegative { t: 0.0 },
            Model::Misclassified { w0: 0.1, w1: 0.1 },
            Model::RiskAverse(Utility::Sqrt),
        ] {
            let e = solve(model, &bad).unwrap_err().to_string();
            prop_assert!(e.contains("Assumption 1") && e.contains("π01 ≥ π00"), "{e}");
        }
    }
}
