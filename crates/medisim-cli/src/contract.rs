//! `medisim contract`: the end-of-life care payment models, the ICP case study, and the
//! Monte Carlo check of a contract.

use anyhow::{bail, Result};
use medisim_contracts::contract::{CohortCheck, ContractScenario, Priced};
use medisim_contracts::{solve, Model, Params, Solution};
use medisim_core::text::name_of;
use std::collections::BTreeSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Action {
    /// The paper's case study: ICP monitoring for traumatic brain injury (Table I).
    Icp,
    /// Check the model's contract on a simulated cohort, beside all-high and all-low care.
    Simulate,
    /// Estimate π and γ from a patient-level CSV (Algorithm 1) and price the contract.
    Estimate,
    /// Write a synthetic cohort CSV with known π and γ (patient data cannot be shipped).
    Generate,
}

#[derive(clap::Args)]
pub struct ContractArgs {
    /// `icp` for the case study, `simulate` for a Monte Carlo check; omitted: solve the model.
    #[arg(value_enum)]
    action: Option<Action>,
    /// The provider model: free (fines allowed), nonnegative (limited liability),
    /// misclassified (limited liability, imperfect responder test), risk-averse. (`--model`
    /// is its old spelling: elsewhere `--model` names one of the house's models.)
    #[arg(long, alias = "model", default_value = "nonnegative",
          value_parser = clap::builder::PossibleValuesParser::new(Model::NAMES))]
    provider: String,
    /// Survival probability of a bad responder with low expenditure.
    #[arg(long, default_value_t = Params::ICP.pi00)]
    pi00: f64,
    /// ... bad responder, high expenditure.
    #[arg(long, default_value_t = Params::ICP.pi01)]
    pi01: f64,
    /// ... good responder, low expenditure.
    #[arg(long, default_value_t = Params::ICP.pi10)]
    pi10: f64,
    /// ... good responder, high expenditure.
    #[arg(long, default_value_t = Params::ICP.pi11)]
    pi11: f64,
    /// Share of good responders.
    #[arg(long, default_value_t = Params::ICP.gamma)]
    gamma: f64,
    /// Free model: the payment on survival with high expenditure, which picks the family member.
    #[arg(long, default_value_t = 0.0)]
    p11: f64,
    /// Non-negative model: the point t in [0, 1] of the optimal segment (0: largest incentive gap).
    #[arg(long, default_value_t = 0.0)]
    t: f64,
    /// Misclassified model: the responder test's false-negative rate.
    #[arg(long, default_value_t = 0.0)]
    w0: f64,
    /// Misclassified model: the responder test's false-positive rate.
    #[arg(long, default_value_t = 0.0)]
    w1: f64,
    /// Risk-averse model: sqrt, log1p or cara:R (0 < R < 1).
    #[arg(long, default_value = "sqrt", value_parser = utility)]
    utility: String,
    /// The provider's cost of high expenditure, in dollars, for the dollar figures.
    #[arg(long, default_value_t = 10_000.0)]
    cost: f64,
    /// Simulate: patients in the cohort (2 to 10,000,000; generate: 1 to 10,000,000).
    #[arg(long, default_value_t = 100_000)]
    patients: usize,
    /// Simulate / generate: the cohort's seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Estimate: the cohort CSV (columns propensity, expenditure, death, los, covariates...).
    #[arg(long, value_name = "FILE.csv")]
    data: Option<std::path::PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// A utility's name, checked when the command line is read.
fn utility(s: &str) -> Result<String, String> {
    s.parse::<medisim_contracts::Utility>()?;
    Ok(s.to_string())
}

impl ContractArgs {
    /// The flags as the contract model's scenario: one mapping from names to a model.
    fn scenario(&self) -> ContractScenario {
        ContractScenario {
            provider: self.provider.clone(),
            pi00: self.pi00,
            pi01: self.pi01,
            pi10: self.pi10,
            pi11: self.pi11,
            gamma: self.gamma,
            p11: self.p11,
            t: self.t,
            w0: self.w0,
            w1: self.w1,
            utility: self.utility.clone(),
        }
    }

    fn params(&self) -> Params {
        self.scenario().params()
    }

    fn model(&self) -> Result<Model> {
        self.scenario().provider_model().map_err(anyhow::Error::msg)
    }
}

/// The flags `action` reads, beside the action itself: the model's keys
/// (`medisim_contracts::contract::reads`) and, where something is printed, how.
fn reads(action: Option<Action>) -> Vec<&'static str> {
    let name = action.map(action_name);
    let mut read = medisim_contracts::contract::reads(name.as_deref())
        .expect("every Action is a contract action");
    if action != Some(Action::Generate) {
        read.extend(["cost", "json"]);
    }
    read
}

fn action_name(a: Action) -> String {
    clap::ValueEnum::to_possible_value(&a)
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// Refuse a typed flag the action does not read: it was ignored (`contract icp --provider free
/// --p11 5` printed the ICP case study unchanged, exit 0).
fn refuse_unread(action: Option<Action>, typed: &BTreeSet<String>) -> Result<()> {
    let read = reads(action);
    let name = action.map_or("`contract` (the model's solve)".to_string(), |a| {
        format!("`contract {}`", action_name(a))
    });
    match typed
        .iter()
        .find(|f| f.as_str() != "action" && !read.contains(&f.as_str()))
    {
        Some(flag) => bail!(
            "--{} is not read by {name}; it reads {}",
            flag.replace('_', "-"),
            read.iter()
                .map(|f| format!("--{f}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => Ok(()),
    }
}

pub fn contract(a: &ContractArgs, typed: &BTreeSet<String>) -> Result<bool> {
    refuse_unread(a.action, typed)?;
    let money = 0.01..=medisim_core::params::MAX_MONEY;
    if !money.contains(&a.cost) {
        bail!(
            "--cost must be in [{}, {:e}] dollars, got {}",
            money.start(),
            money.end(),
            medisim_core::text::number(a.cost)
        );
    }
    match a.action {
        Some(Action::Generate) => return generate(a),
        Some(Action::Estimate) => return estimate(a),
        _ => {}
    }
    let (model, params) = match a.action {
        Some(Action::Icp) => (Model::NonNegative { t: 0.0 }, Params::ICP),
        _ => (a.model()?, a.params()),
    };
    // The parameters are the input: a named problem refuses them (exit 2, as everywhere).
    let s = solve(model, &params)?;
    let cause = medisim_core::params::culprit(&params, &Params::ICP);
    crate::experiments::finite_result(&s, "the contract", &cause)?;
    if a.action == Some(Action::Simulate) {
        let check = CohortCheck::run(s, &params, a.patients, a.seed)
            .map_err(|e| anyhow::anyhow!("--{e}"))?;
        if a.json {
            say!("{}", serde_json::to_string_pretty(&check)?);
        } else {
            print_solution(&check.solution, a.cost)?;
            say!(
                "\nsimulated cohort: {} patients, seed {}",
                a.patients,
                a.seed
            );
            say!(
                "  {:<15} {:>26} {:>26} {:>26}",
                "policy",
                "survival [95% CI]",
                "payment/patient [95% CI]",
                "provider utility [95% CI]"
            );
            for c in &check.cohorts {
                let cell = |s: &medisim_core::Summary, e: f64| {
                    format!(
                        "{:.4} [{:.4}, {:.4}] ({:.4})",
                        s.mean, s.ci95[0], s.ci95[1], e
                    )
                };
                say!(
                    "  {:<15} {:>26} {:>26} {:>26}",
                    name_of(&c.policy),
                    cell(&c.survival, c.expected[0]),
                    cell(&c.payment, c.expected[1]),
                    cell(&c.provider_utility, c.expected[2])
                );
            }
            say!("  (in parentheses: the model's expectation; payments in units of the cost F)");
        }
        return Ok(check.covers_expectations());
    }
    if a.json {
        say!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        print_solution(&s, a.cost)?;
    }
    Ok(s.agree)
}

fn print_solution(s: &Solution, cost: f64) -> Result<()> {
    let p = &s.params;
    let title = match s.model {
        "free" => "Free payment model (fines allowed; Theorem 1)",
        "nonnegative" => "Non-negative payment model (limited liability; Theorem 2)",
        "misclassified" => {
            "Non-negative model with a misclassifying responder test (Proposition 2)"
        }
        _ => "Risk-averse provider (Proposition 3)",
    };
    say!("{title}");
    say!(
        "  parameters: π00 {:.4}  π01 {:.4}  π10 {:.4}  π11 {:.4}  γ {:.4}  (cost of high expenditure F = ${cost:.0})",
        p.pi00, p.pi01, p.pi10, p.pi11, p.gamma
    );
    let [p00, p01, p10, p11] = s.payments;
    say!("  payments, in units of F (and dollars):");
    for (label, v) in [
        ("death, low expenditure      p00", p00),
        ("death, high expenditure     p01", p01),
        ("survival, low expenditure   p10", p10),
        ("survival, high expenditure  p11", p11),
    ] {
        say!("    {label}  {v:>9.4}  (${:>10.2})", v * cost);
    }
    say!(
        "  expected payment per patient {:.4} F (${:.2}); expected survival {:.4}",
        s.expected_payment,
        s.expected_payment * cost,
        s.survival
    );
    say!(
        "  incentive slack: good responders v1 = {:.4}, bad responders v2 = {:.4}",
        s.ic_slack[0],
        s.ic_slack[1]
    );
    if let Some([a, b]) = s.optimal_segment {
        say!(
            "  optimal segment: t = 0 ({:.4}, {:.4}, {:.4}, {:.4}) to t = 1 ({:.4}, {:.4}, {:.4}, {:.4}); all cost γ = {:.4}",
            a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], p.gamma
        );
    }
    if let Some(d) = s.derivatives {
        say!(
            "  along the family: dp00/dp11 = {:.4}, dp01/dp11 = {:.4}, dp10/dp11 = {:.4}",
            d[0],
            d[1],
            d[2]
        );
    }
    if let (Some(exact), Some(worse)) = (s.exact_value, s.misclassification_costs_more) {
        say!(
            "  with an exact test the payer would pay {exact:.4} F: misclassification {} (Remark 4)",
            if worse { "costs more" } else { "does not cost more" }
        );
    }
    if let Some(m) = s.multipliers {
        say!(
            "  KKT multipliers: λ1 {:.4}  λ2 {:.4}  μ00 {:.4}  μ01 {:.4}  μ10 {:.4}  μ11 {:.4}",
            m[0],
            m[1],
            m[2],
            m[3],
            m[4],
            m[5]
        );
    }
    let solver = if s.model == "risk-averse" {
        "clarabel (convex)"
    } else if s.model == "free" {
        "good_lp/microlp (value) and nalgebra (payments)"
    } else {
        "good_lp/microlp (LP)"
    };
    say!(
        "  closed form and numeric solver [{solver}]: {} (values {:.10} and {:.10})",
        if s.agree { "agree" } else { "DISAGREE" },
        s.closed_form.value,
        s.numeric.value
    );
    Ok(())
}

fn generate(a: &ContractArgs) -> Result<bool> {
    let (csv, t) = medisim_contracts::contract::generate(a.patients, a.seed)
        .map_err(|e| anyhow::anyhow!("--{e}"))?;
    say_raw!("{csv}");
    eprintln!(
        "true parameters of this generator: π00 {:.4}  π01 {:.4}  π10 {:.4}  π11 {:.4}  γ {:.4}",
        t.pi00, t.pi01, t.pi10, t.pi11, t.gamma
    );
    Ok(true)
}

fn estimate(a: &ContractArgs) -> Result<bool> {
    use medisim_contracts::contract::{Priced, MAX_COHORT_BYTES};
    let Some(path) = &a.data else {
        bail!("`medisim contract estimate` needs --data FILE.csv");
    };
    let text = medisim_core::input::read_text(path, MAX_COHORT_BYTES, "a cohort file")?;
    let priced = Priced::from_csv(&text, &path.display().to_string())?;
    if a.json {
        say!("{}", serde_json::to_string_pretty(&priced)?);
        return Ok(priced_or_refused(&priced)?.agree);
    }
    let est = &priced.estimate;
    let p = &est.params;
    say!(
        "Algorithm 1 on {}: {} matched pairs",
        path.display(),
        est.matched_pairs
    );
    say!(
        "  π̂00 {:.4} (n {})  π̂01 {:.4} (n {})  π̂10 {:.4} (n {})  π̂11 {:.4} (n {})  γ̂ {:.4}",
        p.pi00,
        est.counts[0],
        p.pi01,
        est.counts[1],
        p.pi10,
        est.counts[2],
        p.pi11,
        est.counts[3],
        p.gamma
    );
    let coef = |f: &medisim_contracts::estimate::CoxFit| {
        f.beta
            .iter()
            .zip(&f.se)
            .map(|(b, s)| format!("{b:.3} ({s:.3})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    say!(
        "  Cox log hazard ratios, control arm: {}",
        coef(&est.control)
    );
    say!(
        "  Cox log hazard ratios, treated arm: {}",
        coef(&est.treated)
    );
    let contract = priced_or_refused(&priced)?;
    say!("");
    print_solution(contract, a.cost)?;
    Ok(contract.agree)
}

/// Estimates that break an assumption are a property of the data given: refused (exit 2), as
/// `medisim contract` refuses the same values typed, after the estimates are shown.
fn priced_or_refused(priced: &Priced) -> Result<&Solution> {
    priced.contract.as_ref().ok_or_else(|| {
        anyhow::anyhow!(
            "the estimates cannot price a contract: {}",
            priced
                .contract_error
                .as_deref()
                .unwrap_or("no reason given")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action the command line offers is one the contracts crate knows, and each reads
    /// how it prints except `generate` (which writes CSV).
    #[test]
    fn every_action_has_its_keys() {
        for a in <Action as clap::ValueEnum>::value_variants() {
            let read = reads(Some(*a));
            assert_eq!(read.contains(&"json"), *a != Action::Generate, "{a:?}");
        }
        assert!(reads(None).contains(&"provider"));
    }
}
