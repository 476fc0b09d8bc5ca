//! The panel's search domain: payment programs (`policies/panel.schema.toml`) searched for the
//! payer's net monetary benefit, with the provider answering each program strategically (the
//! configured provider model re-optimises under every candidate, as in the panel's PSA).
//!
//! The objective is the cost-effectiveness analyst's: per patient, λ · QALYs − the payer's
//! discounted cost (docs/panel.md). A payer that pays less than the provider's cost of care
//! loses the provider, so a program whose provider makes a loss is charged that loss too: the
//! payer must make the provider whole to keep it (its participation constraint, as in the
//! principal–agent contracts of Laffont and Martimort 2002, ch. 2). Without it the search
//! drives every payment to zero.

use crate::config::{PanelSearch, SearchConfig};
use crate::domain::{Brief, Domain, SpecOf};
use crate::offline::{self, Vocabulary};
use crate::search::{Individual, MethodRow};
use crate::store::Eval;
use anyhow::{bail, Result};
use medisim_core::{NoSettings, RunSpec, Summaries};
use medisim_dsl::schema::Schema;
use medisim_dsl::{FieldId, Policy};
use medisim_panel::model::{Panel, PanelMetric as M, PanelScenario};
use medisim_panel::program::{self, PaymentProgram};
use rand_pcg::Pcg64;
use std::borrow::Cow;
use std::sync::Arc;

/// The panels a search seed stands for: seed `s` is the runs `s · RUN_BLOCK + k`, `k < runs`, so
/// two seeds never share a panel.
pub const RUN_BLOCK: u64 = 100_000;

/// The panel's payment programs, searched at a willingness to pay per QALY.
#[derive(Clone, Debug)]
pub struct PanelPayer {
    pub settings: PanelSearch,
    /// Patients on the panel: the objective is per patient.
    pub patients: f64,
}

impl PanelPayer {
    /// The domain of `config`'s panel search in `scenario`; seeds whose runs would pass the
    /// largest index are refused.
    pub fn new(config: &SearchConfig, scenario: &PanelScenario) -> Result<Self> {
        let last = u64::MAX / RUN_BLOCK - 1;
        for (key, seeds) in [
            ("evolution_seeds", &config.evolution_seeds),
            ("validation_seeds", &config.validation_seeds),
            ("test_seeds", &config.test_seeds),
        ] {
            let runs = seeds.len() as u64 * config.panel.runs;
            if runs > medisim_core::spec::MAX_SEEDS as u64 {
                bail!(
                    "search config key `{key}`: {} seeds × panel.runs {} = {runs} panels in one \
                     evaluation; at most {}",
                    seeds.len(),
                    config.panel.runs,
                    medisim_core::spec::MAX_SEEDS
                );
            }
            if let Some(s) = seeds.iter().find(|s| **s > last) {
                bail!(
                    "search config key `{key}`: a panel search seed stands for {RUN_BLOCK} runs, \
                     so seeds must be in [0, {last}], got {s}"
                );
            }
        }
        Ok(PanelPayer {
            settings: config.panel.clone(),
            patients: scenario.config.patients as f64,
        })
    }

    /// The net monetary benefit per patient, from a summary: every term discounted.
    fn net_benefit(&self, s: &Summaries) -> f64 {
        let loss = (-s.mean(M::DiscountedProviderProfit)).max(0.0);
        (self.settings.wtp * s.mean(M::Qalys) - s.mean(M::DiscountedCost) - loss) / self.patients
    }
}

/// The shipped payment programs: the warm-start library and the held-out baselines.
const SHIPPED: [(&str, &str); 4] = [
    ("configured", program::BASELINE_SOURCE),
    (
        "fee_for_service",
        include_str!("../../../policies/panel/fee-for-service.policy"),
    ),
    (
        "capitation",
        include_str!("../../../policies/panel/capitation.policy"),
    ),
    (
        "blended",
        include_str!("../../../policies/panel/blended.policy"),
    ),
];

fn shipped(name: &str) -> Policy {
    crate::domain::shipped(&SHIPPED, program::schema(), name)
}

const TABLE_METRICS: [&str; 6] = [
    "qalys",
    "discounted_cost",
    "discounted_provider_profit",
    "max_intensity_share",
    "complications",
    "shared_risk_transfer",
];

/// The archive's edges of the share of patient-years at the most intensive treatment.
const INTENSITY_QUARTERS: [f64; 3] = [0.25, 0.5, 0.75];

impl Domain for PanelPayer {
    type Model = Panel;

    fn model(&self) -> &Panel {
        &Panel
    }

    fn policy_of<'p>(&self, program: &'p Policy) -> Cow<'p, Option<PaymentProgram>> {
        Cow::Owned(Some(PaymentProgram::from_policy(program.clone())))
    }

    fn schema(&self) -> &'static Arc<Schema> {
        program::schema()
    }

    fn load(&self, text: &str, origin: &str) -> Result<Policy, String> {
        medisim_dsl::load(program::schema(), text).map_err(|d| {
            d.iter()
                .map(|x| x.short(origin, text))
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    fn search_scenario(&self, scenario: &PanelScenario) -> PanelScenario {
        scenario.clone()
    }

    fn scenario_text(&self, scenario: &PanelScenario) -> String {
        scenario.to_toml()
    }

    /// Each search seed's block of runs; the panel's horizon is its configuration's `years`,
    /// so the search's horizons are not read.
    fn spec(&self, _: &SearchConfig, seeds: &[u64], _horizon: u32) -> SpecOf<Self> {
        let runs = seeds
            .iter()
            .flat_map(|s| (0..self.settings.runs).map(move |k| s * RUN_BLOCK + k))
            .collect();
        RunSpec::new(runs, NoSettings {})
    }

    fn fitness(&self, summary: &Summaries) -> f64 {
        self.net_benefit(summary)
    }

    fn fitness_name(&self) -> &'static str {
        "net_monetary_benefit"
    }

    fn table_metrics(&self) -> &'static [&'static str] {
        &TABLE_METRICS
    }

    /// Patients harmed: complications of the disease the payment leaves untreated.
    fn safety_metrics(&self) -> &'static [&'static str] {
        &["complications"]
    }

    fn archive_axes(&self, _: &SearchConfig) -> [(String, Vec<String>); 2] {
        [
            (
                "share at the most intensive treatment".into(),
                crate::domain::bin_labels(&INTENSITY_QUARTERS),
            ),
            (
                "provider profit".into(),
                vec![
                    "a loss".into(),
                    "≤ 10% of fees".into(),
                    "> 10% of fees".into(),
                ],
            ),
        ]
    }

    /// Cells by how intensively the provider treats (quarters of patient-years at the most
    /// intensive treatment) and whether it makes a loss, a profit up to 10% of the fees, or
    /// more.
    fn archive_cell(&self, _: &SearchConfig, e: &Eval) -> (usize, usize) {
        let intensity = e.mean(M::MaxIntensityShare);
        let (profit, fees) = (e.mean(M::DiscountedProviderProfit), e.mean(M::Fees));
        let quarter = INTENSITY_QUARTERS.iter().take_while(|b| intensity >= **b);
        let margin = if profit < 0.0 {
            0
        } else if profit <= 0.1 * fees {
            1
        } else {
            2
        };
        (quarter.count(), margin)
    }

    fn diagnostics(&self, e: &Eval) -> String {
        let n = self.patients;
        format!(
            "per patient: QALYs {:.3}, payer's discounted cost {:.0}, provider's discounted \
             profit {:.0}; \
             most intensive treatment in {:.0}% of patient-years, complications {:.3}",
            e.mean(M::Qalys) / n,
            e.mean(M::DiscountedCost) / n,
            e.mean(M::DiscountedProviderProfit) / n,
            100.0 * e.mean(M::MaxIntensityShare),
            e.mean(M::Complications) / n
        )
    }

    fn brief(&self, _: &SearchConfig, _: &PanelScenario) -> Brief {
        Brief {
            subject: "panel payment programs",
            objective: format!("net monetary benefit at {} per QALY", self.settings.wtp),
            objective_rules: format!(
                "Fitness = per patient, {} * discounted QALYs - the payer's discounted cost \
                 (fees, capitation, complications, the shared-risk transfer, running costs) - \
                 the provider's discounted loss when it makes one (the payer must keep the \
                 provider).\n\
                 The provider answers every payment program strategically: it chooses each \
                 patient's treatment for its own profit under the program's fees, capitation \
                 and shared risk, so a program steers care only through what it pays.\n",
                self.settings.wtp
            ),
            guardrails: GUARDRAILS,
        }
    }

    fn library(&self, dir: &str) -> Result<Vec<Policy>> {
        match dir {
            "" => Ok(SHIPPED.iter().map(|(n, _)| shipped(n)).collect()),
            dir => crate::search::read_library(self, dir),
        }
    }

    fn baselines(&self) -> Vec<(&'static str, Policy)> {
        vec![
            ("fee_for_service", shipped("fee_for_service")),
            ("capitation", shipped("capitation")),
            ("blended", shipped("blended")),
        ]
    }

    fn offline_child(
        &self,
        config: &SearchConfig,
        parent: &Individual,
        inspiration: &Individual,
        rng: &mut Pcg64,
    ) -> (Policy, String) {
        let n = program::schema().field_ids().count();
        let focus = if config.offline_priors {
            offline::Focus::even(n)
        } else {
            offline::Focus::uninformed(n)
        };
        let (child, edit) = offline::propose(
            &PaymentWords,
            &parent.policy,
            &inspiration.policy,
            &focus,
            rng,
        );
        (child, edit.name().to_string())
    }

    /// Per patient, discounted; `top-up` is the provider's loss the payer must add to keep it
    /// (charged in the net monetary benefit, outside `cost`).
    fn table_text(&self, rows: &[MethodRow]) -> String {
        let n = self.patients;
        let mut s = format!(
            "{:<16} {:>12} {:>8} {:>9} {:>8} {:>9} {:>8}\n",
            "method", "NMB/patient", "QALYs", "cost", "top-up", "profit", "intense"
        );
        for r in rows {
            let m = |k: &str| r.metrics.get(k).copied().unwrap_or(f64::NAN);
            let profit = m("discounted_provider_profit");
            s.push_str(&format!(
                "{:<16} {:>12.1} {:>8.3} {:>9.0} {:>8.0} {:>9.0} {:>8.3}\n",
                r.method,
                m("net_monetary_benefit"),
                m("qalys") / n,
                m("discounted_cost") / n,
                (-profit).max(0.0) / n,
                profit / n,
                m("max_intensity_share"),
            ));
        }
        s
    }

    fn objective_name(&self, _: &SearchConfig) -> String {
        "net_monetary_benefit".into()
    }
}

/// What the offline edits know of payment programs: dollar-sized steps for the payments,
/// rate-sized ones for the shared-risk terms, the features' typical ranges.
pub struct PaymentWords;

impl Vocabulary for PaymentWords {
    fn schema(&self) -> &Schema {
        program::schema()
    }

    fn typical(&self, feature: &str) -> (f64, f64) {
        match feature {
            "health_state" | "treatment" => (0.0, 4.0),
            "list_fee" | "scheduled_capitation" => (0.0, 2_000.0),
            "expected_complication_cost" => (0.0, 5_000.0),
            "configured_reference" => (0.0, 50_000.0),
            "panel_size" => (1.0, 100.0),
            "horizon_years" => (1.0, 30.0),
            _ => (0.0, 1.0),
        }
    }

    fn step(&self, field: FieldId) -> f64 {
        match program::schema().field(field).name.as_str() {
            "fee_payment" | "capitation" => 100.0,
            "reference" => 1_000.0,
            _ => 0.1,
        }
    }

    fn clip_fields(&self) -> Vec<FieldId> {
        program::schema().field_ids().collect()
    }

    fn valid(&self, p: &Policy) -> bool {
        offline::checks(program::schema(), p)
    }
}

const GUARDRAILS: &str =
    "One executable assignment-only medisim_dsl_v1 module of kind panel_payment, or exact SEARCH/REPLACE blocks.
Top-level: kind, version, name, payment_policy.
Patient-year expr (fee_payment, capitation): health_state, treatment, list_fee, scheduled_capitation, fee_for_service, expected_complication_cost, qaly_weight.
Contract expr (reward_rate, penalty_rate, reference): configured_reward_rate, configured_penalty_rate, configured_reference, panel_size, horizon_years.
Calls: I, clip, min, max, abs, round, soft_gt, soft_lt.
No new fields or features; payments are dollars per living patient-year, rates in [0, 1].";
