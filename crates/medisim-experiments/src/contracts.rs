//! The contracts section of the report (seed 003): payments as functions of γ and of each π
//! for every model, the free model's family along p11, and the Monte Carlo comparison of the
//! optimal contract with all-high and all-low expenditure (the paper's Fig. 2).

use crate::plots::{lines_with_bands, Series};
use crate::Figure;
use medisim_contracts::simulate::{simulate, Policy};
use medisim_contracts::{solve, Model, Params, Utility};

/// The models drawn, with their legend names.
const MODELS: [(&str, Model); 6] = [
    ("free", Model::Free { p11: 0.0 }),
    ("non-negative", Model::NonNegative { t: 0.0 }),
    (
        "misclassified (w0 = w1 = 0.1)",
        Model::Misclassified { w0: 0.1, w1: 0.1 },
    ),
    ("risk-averse, sqrt", Model::RiskAverse(Utility::Sqrt)),
    ("risk-averse, log1p", Model::RiskAverse(Utility::Log1p)),
    (
        "risk-averse, CARA 0.5",
        Model::RiskAverse(Utility::Cara(0.5)),
    ),
];

/// Expected payment of each model along `xs`, skipping points where a model has no solution
/// (an assumption fails there).
fn payment_curves(xs: &[f64], at: impl Fn(f64) -> Params) -> Vec<Series> {
    MODELS
        .iter()
        .map(|(name, model)| {
            let pts = xs
                .iter()
                .filter_map(|x| {
                    let s = solve(*model, &at(*x)).ok()?;
                    Some((
                        *x,
                        s.expected_payment,
                        s.expected_payment,
                        s.expected_payment,
                    ))
                })
                .collect();
            (name.to_string(), pts)
        })
        .collect()
}

fn grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
        .collect()
}

/// The figures, from the cache under `out` when a run of this model version made them (keyed
/// by the case study's parameters, the cohort size and seed).
pub fn cached_figures(
    out: Option<&std::path::Path>,
    patients: usize,
    seed: u64,
) -> anyhow::Result<(Vec<Figure>, crate::cells::CellStats)> {
    let inputs = format!("{:?};patients={patients};seed={seed}", Params::ICP);
    crate::cells::cached(
        out,
        medisim_contracts::MODEL_VERSION,
        "contracts-figures",
        &inputs,
        || Ok(figures(patients, seed)),
    )
}

/// Every contracts figure, at the case study's parameters.
pub fn figures(patients: usize, seed: u64) -> Vec<Figure> {
    let base = Params::ICP;
    let mut out = Vec::new();
    out.push(Figure {
        id: "contracts_gamma".into(),
        title: "Contracts — expected payment versus the share of good responders γ".into(),
        caption: format!(
            "π at the ICP case study ({}, {}, {}, {}); payments in units of the provider's cost F. The free model pays nothing in expectation; limited liability costs γ.",
            base.pi00, base.pi01, base.pi10, base.pi11
        ),
        panels: vec![(
            "gamma".into(),
            lines_with_bands(
                "expected payment / F",
                "γ",
                &payment_curves(&grid(0.05, 0.95, 19), |g| Params { gamma: g, ..base }),
                Some(base.gamma),
            ),
        )],
    });
    let pi_panels = [
        ("pi00", 0.05, base.pi10.min(base.pi01)),
        ("pi01", base.pi00, base.pi11),
        ("pi10", base.pi00, base.pi11),
        ("pi11", base.pi10.max(base.pi01), 0.99),
    ]
    .iter()
    .map(|(name, lo, hi)| {
        let set = |x: f64| {
            let mut p = base;
            match *name {
                "pi00" => p.pi00 = x,
                "pi01" => p.pi01 = x,
                "pi10" => p.pi10 = x,
                _ => p.pi11 = x,
            }
            p
        };
        let xs = grid(*lo, *hi, 15);
        (
            name.to_string(),
            lines_with_bands(
                "expected payment / F",
                name,
                &payment_curves(&xs, set),
                None,
            ),
        )
    })
    .collect();
    out.push(Figure {
        id: "contracts_pi".into(),
        title: "Contracts — expected payment versus each survival probability".into(),
        caption: "One π varied over the range Assumption 1 allows, the others and γ at the case study's values.".into(),
        panels: pi_panels,
    });
    let p11s = grid(-1.0, 2.0, 31);
    let family: Vec<Series> = ["p00", "p01", "p10"]
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let pts = p11s
                .iter()
                .filter_map(|x| {
                    let s = solve(Model::Free { p11: *x }, &base).ok()?;
                    let v = s.payments[k];
                    Some((*x, v, v, v))
                })
                .collect();
            (name.to_string(), pts)
        })
        .collect();
    out.push(Figure {
        id: "contracts_free_family".into(),
        title: "Contracts — the free model's optimal family (Theorem 1)".into(),
        caption: "Every member has zero expected payment and binds both incentive constraints; p00 and p01 fall and p10 rises with p11 (Remark 2).".into(),
        panels: vec![(
            "family".into(),
            lines_with_bands("payment / F", "p11", &family, Some(0.0)),
        )],
    });
    if let Ok(s) = solve(Model::NonNegative { t: 0.0 }, &base) {
        let cohorts: Vec<_> = Policy::ALL
            .iter()
            .map(|p| simulate(&base, &s.payments, *p, patients, seed))
            .collect();
        let series = |name: &str,
                      pick: fn(&medisim_contracts::simulate::Cohort) -> &medisim_core::Summary|
         -> Series {
            let pts = cohorts
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let m = pick(c);
                    ((i + 1) as f64, m.mean, m.ci95[0], m.ci95[1])
                })
                .collect();
            (name.to_string(), pts)
        };
        out.push(Figure {
            id: "contracts_monte_carlo".into(),
            title: "Contracts — the optimal contract against all-high and all-low care (Fig. 2)".into(),
            caption: format!(
                "A simulated cohort of {patients} patients (seed {seed}) under the case study's optimal non-negative contract; x = 1: the provider's best response, 2: high expenditure for all, 3: low for all. Means with 95% bands."
            ),
            panels: vec![
                ("survival".into(), lines_with_bands("survival", "policy", &[series("survival", |c| &c.survival)], None)),
                ("payment".into(), lines_with_bands("payment per patient / F", "policy", &[series("payment", |c| &c.payment)], None)),
            ],
        });
    }
    out
}
