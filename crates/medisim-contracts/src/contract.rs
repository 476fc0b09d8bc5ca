//! The contract models as one [`medisim_core::Model`], so `run`, `sweep`, shards and Ray serve
//! them as they serve Medi-Sim: a sweep of γ, of a survival probability, or of the non-negative
//! model's point `t` on its optimal segment. A contract is solved, not simulated: it runs once
//! per setting whatever the seeds, each metric an exact value.

use crate::estimate::{estimate, read_cohort, write_cohort, Estimate, EstimateError, Synthetic};
use crate::model::{solve, Choice, Model as Provider, Solution, Utility};
use crate::simulate::{simulate, Cohort, Policy as CarePolicy};
use crate::{Params, MODEL_VERSION};
use medisim_core::{Metric, Model, ModelVersion, NoSettings, RunSpec, Summaries, Summary};
use serde::{Deserialize, Serialize};

medisim_core::metric_enum! {
    /// The optimal contract's payments and what it buys (in units of the provider's cost F).
    pub enum ContractMetric {
        "terms": [
            P00 => p00: Balance "payment / F",
            P01 => p01: Balance "payment / F",
            P10 => p10: Balance "payment / F",
            P11 => p11: Balance "payment / F",
        ]
        "payment and survival": [
            ExpectedPayment => expected_payment: Level "payment / F per patient",
            Survival => survival: Share "share of patients",
        ]
        "certificate": [
            IcSlackBad => ic_slack_bad: Balance "payment / F",
            IcSlackGood => ic_slack_good: Balance "payment / F",
            Agree => agree: Share "1 when closed form and solver agree",
        ]
    }
}

/// The end-of-life contract models of arXiv 2403.15099.
#[derive(Clone, Copy, Debug, Default)]
pub struct Contract;

/// Everything a solve is parameterised by, flat, so every number is a key (`gamma`, `pi01`,
/// `t`, …): the provider model, the survival probabilities and responder share, and what picks
/// the model's member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContractScenario {
    /// free, nonnegative, misclassified or risk-averse.
    pub provider: String,
    pub pi00: f64,
    pub pi01: f64,
    pub pi10: f64,
    pub pi11: f64,
    pub gamma: f64,
    pub p11: f64,
    pub t: f64,
    pub w0: f64,
    pub w1: f64,
    /// sqrt, log1p or cara:R (risk-averse model).
    pub utility: String,
}

impl Default for ContractScenario {
    /// The paper's ICP case study under limited liability (the command line's defaults).
    fn default() -> Self {
        let (p, c) = (Params::ICP, Choice::default());
        ContractScenario {
            provider: "nonnegative".into(),
            pi00: p.pi00,
            pi01: p.pi01,
            pi10: p.pi10,
            pi11: p.pi11,
            gamma: p.gamma,
            p11: c.p11,
            t: c.t,
            w0: c.w0,
            w1: c.w1,
            utility: "sqrt".into(),
        }
    }
}

impl ContractScenario {
    /// Read a scenario (every key defaulted; `origin` names the file in errors), then solve it
    /// once so a bad value is refused now, with its reason.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, String> {
        let s: ContractScenario =
            medisim_core::input::from_toml(text).map_err(|e| format!("{origin}: {e}"))?;
        medisim_core::params::finite(&s).map_err(|e| format!("{origin}: {e}"))?;
        s.solve().map_err(|e| format!("{origin}: {e}"))?;
        Ok(s)
    }

    pub fn params(&self) -> Params {
        Params {
            pi00: self.pi00,
            pi01: self.pi01,
            pi10: self.pi10,
            pi11: self.pi11,
            gamma: self.gamma,
        }
    }

    /// The provider model the scenario names, its member picked by `p11`, `t`, `w0`/`w1` or
    /// `utility` (a member key of another model, moved from its default, is refused).
    pub fn provider_model(&self) -> Result<Provider, String> {
        self.check_members()?;
        let choice = Choice {
            p11: self.p11,
            t: self.t,
            w0: self.w0,
            w1: self.w1,
            utility: self.utility.parse::<Utility>()?,
        };
        Provider::by_name(&self.provider, &choice)
    }

    /// The keys that pick a member of one provider model, and that model's name.
    const MEMBER_KEYS: [(&'static str, &'static str); 5] = [
        ("p11", "free"),
        ("t", "nonnegative"),
        ("w0", "misclassified"),
        ("w1", "misclassified"),
        ("utility", "risk-averse"),
    ];

    /// Refuse `key` where it picks a member of a model other than the scenario's provider: the
    /// value would be ignored (a sweep of `p11` under the non-negative model wrote identical
    /// rows, exit 0).
    pub fn check_read(&self, key: &str) -> Result<(), String> {
        match Self::MEMBER_KEYS.iter().find(|(k, _)| *k == key) {
            Some((k, model)) if *model != self.provider => Err(format!(
                "`{k}` picks a member of the {model} model, and the provider is `{}`, which \
                 does not read it: choose the provider {model}",
                self.provider
            )),
            _ => Ok(()),
        }
    }

    /// [`Self::check_read`] for every member key moved from its default: where a file or a flag
    /// gives one, only its model may be the provider.
    pub fn check_members(&self) -> Result<(), String> {
        let default = ContractScenario::default();
        let given = |k: &str| {
            medisim_core::params::get(self, k).ok() != medisim_core::params::get(&default, k).ok()
        };
        Self::MEMBER_KEYS
            .iter()
            .filter(|(k, _)| given(k))
            .try_for_each(|(k, _)| self.check_read(k))
    }

    /// Solve the scenario's model: every range and assumption is checked on the way.
    pub fn solve(&self) -> Result<Solution, String> {
        solve(self.provider_model()?, &self.params()).map_err(|e| e.to_string())
    }
}

/// The keys of the model's solve: the provider, its member and the parameters.
pub const SOLVE_KEYS: [&str; 11] = [
    "provider", "pi00", "pi01", "pi10", "pi11", "gamma", "p11", "t", "w0", "w1", "utility",
];

/// The actions beside the model's solve: `icp`, `simulate`, `estimate`, `generate`.
pub const ACTIONS: [&str; 4] = ["icp", "simulate", "estimate", "generate"];

/// The keys an action reads (`None`: the model's solve), so that a key given to an action
/// that would ignore it is refused by name wherever the action is called from.
pub fn reads(action: Option<&str>) -> Result<Vec<&'static str>, String> {
    Ok(match action {
        None => SOLVE_KEYS.to_vec(),
        Some("simulate") => [&SOLVE_KEYS[..], &["patients", "seed"]].concat(),
        // The case study's parameters and model are the paper's (Table I).
        Some("icp") => vec![],
        // The estimates are priced under limited liability (Theorem 2).
        Some("estimate") => vec!["data"],
        // The synthetic cohort has its own known truth.
        Some("generate") => vec!["patients", "seed"],
        Some(other) => {
            return Err(format!(
                "unknown contract action `{other}`: one of {}",
                ACTIONS.join(", ")
            ))
        }
    })
}

/// Most patients a simulated or generated cohort holds (a bound on work and memory).
pub const MAX_PATIENTS: usize = 10_000_000;

/// Largest cohort file `estimate` reads: a million rows of modest width.
pub const MAX_COHORT_BYTES: u64 = 256 << 20;

/// A solved contract checked on simulated cohorts, one per care policy (the contract's own
/// first, then all-high and all-low care): `medisim contract simulate`.
#[derive(Clone, Debug, Serialize)]
pub struct CohortCheck {
    pub solution: Solution,
    pub cohorts: Vec<Cohort>,
}

impl CohortCheck {
    /// Simulate `patients` patients (at least two: an interval needs them) under each policy,
    /// from the named streams of `seed`.
    pub fn run(
        solution: Solution,
        params: &Params,
        patients: usize,
        seed: u64,
    ) -> Result<CohortCheck, String> {
        if !(2..=MAX_PATIENTS).contains(&patients) {
            return Err(format!(
                "patients must be in [2, {MAX_PATIENTS}] (an interval needs two patients), got {patients}"
            ));
        }
        let cohorts = CarePolicy::ALL
            .iter()
            .map(|p| simulate(params, &solution.payments, *p, patients, seed))
            .collect();
        Ok(CohortCheck { solution, cohorts })
    }

    /// The contract's own cohort covers each of the model's expectations.
    pub fn covers_expectations(&self) -> bool {
        self.cohorts[0].covers_expectations()
    }
}

/// Algorithm 1's estimates and the limited-liability contract they price, or why they cannot
/// price one (an assumption the estimates break): `medisim contract estimate`.
#[derive(Clone, Debug, Serialize)]
pub struct Priced {
    pub estimate: Estimate,
    pub contract: Option<Solution>,
    pub contract_error: Option<String>,
}

impl Priced {
    /// Estimate π and γ from a cohort CSV (`origin` names it in errors), then price the
    /// non-negative contract at the estimates.
    pub fn from_csv(text: &str, origin: &str) -> Result<Priced, EstimateError> {
        // A fit's failure names the file, as a reading error does.
        let estimate = estimate(&read_cohort(text, origin)?)
            .map_err(|e| EstimateError::Data(format!("{origin}: {e}")))?;
        let priced = solve(Provider::NonNegative { t: 0.0 }, &estimate.params);
        Ok(Priced {
            estimate,
            contract_error: priced.as_ref().err().map(ToString::to_string),
            contract: priced.ok(),
        })
    }
}

/// A synthetic cohort as CSV from the built-in generator, and the true parameters it was drawn
/// with: `medisim contract generate`.
pub fn generate(patients: usize, seed: u64) -> Result<(String, Params), String> {
    if !(1..=MAX_PATIENTS).contains(&patients) {
        return Err(format!(
            "patients must be in [1, {MAX_PATIENTS}], got {patients}"
        ));
    }
    let g = Synthetic::default();
    Ok((write_cohort(&g.cohort(patients, seed)), g.truth(400_000, 5)))
}

impl Model for Contract {
    type Scenario = ContractScenario;
    type Policy = ();
    type Settings = NoSettings;
    type Metric = ContractMetric;

    fn version(&self) -> ModelVersion {
        MODEL_VERSION
    }

    fn key_docs(&self) -> &'static [KeyDoc] {
        KEY_DOCS
    }

    fn scenario_key(&self, s: &ContractScenario) -> String {
        serde_json::to_string(s).unwrap_or_default()
    }

    fn policy_key(&self, _: &()) -> String {
        String::new()
    }

    /// A key of [`ContractScenario`]; the result is solved once, so a value outside its
    /// range or one that breaks the paper's assumptions is refused here, with the reason.
    fn set(
        &self,
        s: &ContractScenario,
        _: &(),
        key: &str,
        value: f64,
    ) -> Result<(ContractScenario, ()), String> {
        let t: ContractScenario =
            medisim_core::params::set(s, key, medisim_core::params::Value::Float(value))
                .map_err(|e| format!("contract parameter {e}"))?;
        t.check_read(key)?;
        t.solve()?;
        Ok((t, ()))
    }

    fn value(&self, s: &ContractScenario, _: &(), key: &str) -> Result<f64, String> {
        medisim_core::params::number(s, key).map_err(|e| format!("contract parameter {e}"))
    }

    fn stochastic(&self) -> bool {
        false
    }

    fn run(
        &self,
        s: &ContractScenario,
        _: &(),
        spec: &RunSpec<NoSettings>,
    ) -> Result<Summaries, String> {
        spec.validate()?;
        let sol = s.solve()?;
        let p = sol.payments;
        let mut out = Summaries::new();
        use ContractMetric as M;
        for (m, v) in [
            (M::P00, p[0]),
            (M::P01, p[1]),
            (M::P10, p[2]),
            (M::P11, p[3]),
            (M::ExpectedPayment, sol.expected_payment),
            (M::Survival, sol.survival),
            (M::IcSlackBad, sol.ic_slack[0]),
            (M::IcSlackGood, sol.ic_slack[1]),
            (M::Agree, f64::from(u8::from(sol.agree))),
        ] {
            if !v.is_finite() {
                return Err(format!("the solution's {} is {v}", m.name()));
            }
            out.insert(m, Summary::exact(v, 1));
        }
        Ok(out)
    }
}

use medisim_core::params::{key_doc as d, KeyDoc};

/// Every numeric key of a contract: unit and meaning (docs/contracts.md, "Notation"). Payments
/// are in units of F, the provider's cost of high expenditure.
pub const KEY_DOCS: &[KeyDoc] = &[
    d(
        "gamma",
        "probability",
        "γ: a patient is a good responder (S = 1)",
    ),
    d(
        "pi00",
        "probability",
        "π00: survival of a bad responder with low expenditure",
    ),
    d(
        "pi01",
        "probability",
        "π01: survival of a bad responder with high expenditure",
    ),
    d(
        "pi10",
        "probability",
        "π10: survival of a good responder with low expenditure",
    ),
    d(
        "pi11",
        "probability",
        "π11: survival of a good responder with high expenditure",
    ),
    d(
        "p11",
        "F",
        "free provider: the payment on survival with high expenditure (Theorem 1's free term)",
    ),
    d(
        "t",
        "-",
        "non-negative provider: the place on the optimal segment, p01 = t (Theorem 2), in [0, 1]",
    ),
    d(
        "w0",
        "probability",
        "misclassified provider: the test's false-negative rate Pr(TS = 0 | S = 1)",
    ),
    d(
        "w1",
        "probability",
        "misclassified provider: the test's false-positive rate Pr(TS = 1 | S = 0)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The model reports the solver's contract; γ is set by key (refused outside (0, 1)); an
    /// unknown key is named; the expected payment at γ is γ under limited liability (Thm 2).
    #[test]
    fn the_contract_runs_as_a_model() {
        let s = ContractScenario::default();
        let spec = RunSpec::new(vec![1], NoSettings {});
        let r = Contract.run(&s, &(), &spec).unwrap();
        let sol = solve(Provider::NonNegative { t: 0.0 }, &Params::ICP).unwrap();
        assert_eq!(r.mean(ContractMetric::P11), sol.payments[3]);
        assert_eq!(r.mean(ContractMetric::Agree), 1.0);
        let (t, ()) = Contract.set(&s, &(), "gamma", 0.3).unwrap();
        let r = Contract.run(&t, &(), &spec).unwrap();
        assert!((r.mean(ContractMetric::ExpectedPayment) - 0.3).abs() < 1e-9);
        assert!(Contract
            .set(&s, &(), "gamma", 1.5)
            .unwrap_err()
            .contains("gamma"));
        assert!(Contract.set(&s, &(), "t", 2.0).unwrap_err().contains("`t`"));
        assert!(Contract
            .set(&s, &(), "beta", 0.1)
            .unwrap_err()
            .contains("beta"));
    }
}
