//! The panel as a [`Model`]: what the generic commands (`run`, `sweep`, shards, Ray) see of
//! it. A replicate is one run of the panel: seed `r` draws from the stream (config seed, `r`),
//! so the seeds `0..runs-1` are exactly the `runs` a [`PanelConfig`] names, and the generic
//! path reproduces `medisim panel run` bit for bit.

use crate::disease::{DiseaseModel, MarkovFile, Retinopathy};
use crate::program::PaymentProgram;
use crate::{sim, PanelConfig, PanelError, MODEL_VERSION};
use medisim_core::{Model, ModelVersion, NoSettings, RunSpec, Summaries, Work};

medisim_core::metric_enum! {
    /// A panel diagnostic, totalled over the horizon per run (`docs/panel.md` defines each).
    /// Grouped as seed 002's dashboard tabs: payer, health outcomes, provider.
    pub enum PanelMetric {
        "payer": [
            TotalCost => total_cost: Amount "dollars",
            PayerCost => payer_cost: Amount "dollars",
            Fees => fees: Amount "dollars",
            ComplicationsCost => complications_cost: Amount "dollars",
            SharedRiskTransfer => shared_risk_transfer: Balance "dollars",
        ]
        "provider": [
            ProviderRevenue => provider_revenue: Level "dollars",
            ProviderCost => provider_cost: Amount "dollars",
            ProviderProfit => provider_profit: Balance "dollars",
        ]
        "payer": [
            PayerRevenue => payer_revenue: Amount "dollars",
            PayerMargin => payer_margin: Balance "dollars",
            MedicalLossRatio => medical_loss_ratio: Amount "cost per premium dollar",
        ]
        "health outcomes": [
            Complications => complications: Amount "complications per panel",
        ]
        "provider": [
            MaxIntensityShare => max_intensity_share: Share "share of patient-years",
            MinIntensityShare => min_intensity_share: Share "share of patient-years",
            CareDelivered => care_delivered: Amount "dollars at fee value",
        ]
        "health outcomes": [
            LifeYears => life_years: Amount "life-years per panel",
            Qalys => qalys: Balance "discounted QALYs per panel",
        ]
        "payer": [
            RunningCosts => running_costs: Amount "dollars",
            DiscountedCost => discounted_cost: Balance "discounted dollars",
        ]
        "provider": [
            DiscountedProviderProfit => discounted_provider_profit: Balance "discounted dollars",
        ]
    }
}

/// The primary-care panel of seed 002.
#[derive(Clone, Copy, Debug, Default)]
pub struct Panel;

/// The panel's world: its configuration, and the disease model when it comes from a file
/// (`None`: the retinopathy model the configuration parameterises).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PanelScenario {
    pub config: PanelConfig,
    pub disease: Option<MarkovFile>,
}

impl PanelScenario {
    /// The disease model the scenario names.
    pub fn disease_model(&self) -> Result<Box<dyn DiseaseModel>, PanelError> {
        Ok(match &self.disease {
            Some(m) => Box::new(m.clone()),
            None => Box::new(Retinopathy::new(self.config.retinopathy.clone())?),
        })
    }

    /// The scenario as one TOML document: the configuration, and a Markov disease model under
    /// `[disease]` (what a search's run directory keeps to resume in the same world).
    pub fn to_toml(&self) -> String {
        let mut text = toml::to_string(&self.config).unwrap_or_default();
        if let Some(d) = &self.disease {
            let mut doc = toml::Table::new();
            doc.insert(
                "disease".into(),
                toml::Value::try_from(d).unwrap_or(toml::Value::Table(Default::default())),
            );
            text.push('\n');
            text.push_str(&toml::to_string(&doc).unwrap_or_default());
        }
        text
    }

    /// Read what [`PanelScenario::to_toml`] writes, checked whole.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, PanelError> {
        let parse = |message: String| PanelError::Parse {
            origin: origin.into(),
            message,
        };
        let mut doc: toml::Table = medisim_core::input::from_toml(text).map_err(parse)?;
        let disease = match doc.remove("disease") {
            Some(d) => {
                let d = toml::to_string(&d).map_err(|e| parse(e.to_string()))?;
                Some(MarkovFile::from_toml(&d, &format!("{origin} [disease]"))?)
            }
            None => None,
        };
        let config = toml::to_string(&doc).map_err(|e| parse(e.to_string()))?;
        let scenario = PanelScenario {
            config: PanelConfig::from_toml(&config, origin)?,
            disease,
        };
        scenario.validate()?;
        Ok(scenario)
    }

    /// The scenario checked whole: the configuration against its disease model.
    pub fn validate(&self) -> Result<(), PanelError> {
        self.config.validate(self.disease_model()?.as_ref())
    }

    /// Refuse a key moved from its default that this scenario does not read: the myopic
    /// provider's capacity under another provider, Q-learning's settings under another,
    /// capitation under fee-for-service, the retinopathy model's parameters beside a Markov
    /// file. Each was accepted and ignored (exit 0). Checked where input enters, not in
    /// `validate`, which the experiments' own grids also pass through.
    pub fn check_read(&self) -> Result<(), PanelError> {
        use crate::payment::Basis;
        use crate::provider::ProviderKind;
        let (c, d) = (&self.config, PanelConfig::default());
        let unread = [
            (
                "capacity",
                c.provider.capacity != d.provider.capacity
                    && c.provider.kind != ProviderKind::Myopic,
                "the myopic provider's appointment constraint",
            ),
            (
                "qlearning",
                c.provider.qlearning != d.provider.qlearning
                    && c.provider.kind != ProviderKind::Qlearning,
                "the Q-learning provider's settings",
            ),
            (
                "capitation",
                c.payment.capitation != d.payment.capitation && c.payment.basis != Basis::Gc,
                "global capitation's rates (payment gc or gc-sr)",
            ),
            (
                "retinopathy",
                c.retinopathy != d.retinopathy && self.disease.is_some(),
                "the built-in retinopathy model's parameters, and a Markov file replaces it",
            ),
        ];
        match unread.iter().find(|(_, ignored, _)| *ignored) {
            Some((key, _, what)) => Err(PanelError::Invalid {
                key: (*key).into(),
                message: format!(
                    "{what}: this setting does not read it, so the value given would be \
                     ignored; drop it"
                ),
            }),
            None => Ok(()),
        }
    }
}

impl Model for Panel {
    type Scenario = PanelScenario;
    /// A payment program (`policies/panel/*.policy`), or `None`: the configuration's `payment`
    /// keys (their program is `policies/panel/configured.policy`).
    type Policy = Option<PaymentProgram>;
    type Settings = NoSettings;
    type Metric = PanelMetric;

    fn version(&self) -> ModelVersion {
        MODEL_VERSION
    }

    fn key_docs(&self) -> &'static [KeyDoc] {
        KEY_DOCS
    }

    /// The configuration without `runs` (the seeds say which runs), and the disease file.
    fn scenario_key(&self, s: &PanelScenario) -> String {
        let config = PanelConfig {
            runs: 0,
            ..s.config.clone()
        };
        let disease = s
            .disease
            .as_ref()
            .map(|d| toml::to_string(d).unwrap_or_default())
            .unwrap_or_default();
        format!(
            "{}\n# disease\n{disease}",
            toml::to_string(&config).unwrap_or_default()
        )
    }

    /// Empty for the `payment` keys (whose cells were keyed so before payment programs), else
    /// the program's canonical hash.
    fn policy_key(&self, p: &Option<PaymentProgram>) -> String {
        p.as_ref().map(|p| p.hash().to_string()).unwrap_or_default()
    }

    /// A [`crate::experiments::KEYS`] name (`margin`, `reference`, `shared-rate`, …) or a dotted
    /// configuration path (`retinopathy.macular_edema_cost`), the result validated whole.
    fn set(
        &self,
        s: &PanelScenario,
        p: &Option<PaymentProgram>,
        key: &str,
        value: f64,
    ) -> Result<(PanelScenario, Option<PaymentProgram>), String> {
        if key == "runs" {
            return Err("panel parameter `runs`: the seeds say which runs (0..runs-1)".into());
        }
        let scenario = PanelScenario {
            config: s.config.with(key, value).map_err(|e| e.to_string())?,
            disease: s.disease.clone(),
        };
        scenario.validate().map_err(|e| e.to_string())?;
        scenario.check_read().map_err(|e| e.to_string())?;
        Ok((scenario, p.clone()))
    }

    fn value(
        &self,
        s: &PanelScenario,
        _: &Option<PaymentProgram>,
        key: &str,
    ) -> Result<f64, String> {
        // `shared-rate` sets reward and penalty together; its value is the reward rate.
        let key = if key == "shared-rate" {
            "reward-rate"
        } else {
            key
        };
        s.config.value(key).map_err(|e| e.to_string())
    }

    /// Patient-years, training included: the bound one `panel run` has, over a whole sweep.
    fn work(&self, s: &PanelScenario, spec: &RunSpec<NoSettings>) -> Option<Work> {
        Some(Work {
            amount: sim::patient_years(&s.config, spec.seeds.len()),
            limit: sim::MAX_PATIENT_YEARS,
            unit: "patient-years",
        })
    }

    fn run(
        &self,
        s: &PanelScenario,
        p: &Option<PaymentProgram>,
        spec: &RunSpec<NoSettings>,
    ) -> Result<Summaries, String> {
        spec.validate()?;
        let d = s.disease_model().map_err(|e| e.to_string())?;
        let config = PanelConfig {
            program: p.clone(),
            ..s.config.clone()
        };
        sim::run_replicates(d.as_ref(), &config, &spec.seeds)
            .map(|r| r.metrics)
            .map_err(|e| e.to_string())
    }
}

use medisim_core::params::{key_doc as d, KeyDoc};

/// Every settable key of the panel's configuration: unit and meaning (docs/panel.md has each
/// value's source). Indexed keys: health states in the order no retinopathy, non-proliferative,
/// proliferative, macular edema, history, blindness; treatments MM-0/SMT-0, MM-0/SMT-1,
/// MM-1/SMT-0, MM-1/SMT-1.
pub const KEY_DOCS: &[KeyDoc] = &[
    d("patients", "patients", "patients on the provider's panel"),
    d("years", "years", "years each patient is followed"),
    d(
        "seed",
        "-",
        "the panel's random streams (replicate r draws from seed and r)",
    ),
    d(
        "premium",
        "$ per patient-year",
        "the payer's premium income (the medical loss ratio's denominator)",
    ),
    d(
        "payment.capitation",
        "$ per patient-year",
        "capitation by health state (GC basis only)",
    ),
    d(
        "payment.margin",
        "share of the fee",
        "the provider's margin: a treatment costs it (1 − margin) × its fee",
    ),
    d(
        "payment.reward_rate",
        "share",
        "shared savings: the provider's share of the panel's cost below the reference",
    ),
    d(
        "payment.penalty_rate",
        "share",
        "shared risk: the provider's share of the panel's cost above the reference",
    ),
    d(
        "payment.reference",
        "$ per year",
        "the panel's reference cost for the shared-risk terms",
    ),
    d(
        "provider.gamma",
        "-",
        "the provider's discount factor in [0, 1): 0 is the myopic provider",
    ),
    d(
        "provider.capacity",
        "slots per year",
        "appointment slots per year (the myopic MILP's constraint)",
    ),
    d(
        "provider.qlearning.epsilon",
        "probability",
        "ε of the ε-greedy behaviour policy while training",
    ),
    d(
        "provider.qlearning.learning_rate_power",
        "-",
        "learning rate 1 / n(s, a)^power, power in (0.5, 1]",
    ),
    d(
        "provider.qlearning.batch",
        "runs",
        "training runs per convergence check",
    ),
    d(
        "provider.qlearning.stable_batches",
        "batches",
        "converged after this many batches with no policy change and Q within tolerance",
    ),
    d(
        "provider.qlearning.tolerance",
        "share of the largest |Q|",
        "the largest Q-value move still counted as converged",
    ),
    d(
        "provider.qlearning.max_runs",
        "runs",
        "the most training runs",
    ),
    d(
        "retinopathy.no_retinopathy_to_non_proliferative",
        "probability per year",
        "progression from no retinopathy to non-proliferative",
    ),
    d(
        "retinopathy.non_proliferative_to_proliferative",
        "probability per year",
        "progression from non-proliferative to proliferative",
    ),
    d(
        "retinopathy.non_proliferative_to_macular_edema",
        "probability per year",
        "progression from non-proliferative to macular edema",
    ),
    d(
        "retinopathy.proliferative_to_macular_edema",
        "probability per year",
        "progression from proliferative to macular edema",
    ),
    d(
        "retinopathy.proliferative_to_blindness",
        "probability per year",
        "progression from proliferative to blindness",
    ),
    d(
        "retinopathy.history_to_blindness",
        "probability per year",
        "progression from a history of macular edema to blindness",
    ),
    d(
        "retinopathy.medication_management_rr",
        "relative risk",
        "each progression's risk under high medication management (MM-1)",
    ),
    d(
        "retinopathy.self_management_training_rr",
        "relative risk",
        "each progression's risk under high self-management training (SMT-1)",
    ),
    d(
        "retinopathy.fees",
        "$ per patient-year",
        "the fee of each treatment",
    ),
    d(
        "retinopathy.visits",
        "visits per year",
        "office visits of each treatment",
    ),
    d(
        "retinopathy.macular_edema_cost",
        "$",
        "the mandatory laser series on entering macular edema",
    ),
    d(
        "retinopathy.utilities",
        "QALY per year",
        "the quality weight of a year in each health state",
    ),
    d(
        "retinopathy.running_costs",
        "$ per year",
        "the payer's cost of a year in each state besides the provider's care",
    ),
    d(
        "outcomes.discount_costs",
        "per year",
        "annual discount rate of costs",
    ),
    d(
        "outcomes.discount_effects",
        "per year",
        "annual discount rate of effects (QALYs; life-years are undiscounted)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use medisim_core::Metric as _;

    /// Seeds 0..runs-1 through the model are the configuration's runs, bit for bit; a key is
    /// set and validated, and `runs` is refused (the seeds say which runs).
    #[test]
    fn the_model_reproduces_a_panel_run_and_sets_keys_by_name() {
        let s = PanelScenario {
            config: PanelConfig {
                runs: 6,
                ..Default::default()
            },
            disease: None,
        };
        let direct = sim::run(s.disease_model().unwrap().as_ref(), &s.config).unwrap();
        let spec = RunSpec::new((0..6).collect(), NoSettings {});
        let via = Panel.run(&s, &None, &spec).unwrap();
        assert_eq!(via, direct.metrics);
        assert_eq!(via.len(), PanelMetric::ALL.len());
        let (t, _) = Panel.set(&s, &None, "margin", 0.1).unwrap();
        assert_eq!(t.config.payment.margin, 0.1);
        assert_ne!(Panel.scenario_key(&t), Panel.scenario_key(&s));
        let e = Panel.set(&s, &None, "margin", 2.0).unwrap_err();
        assert!(e.contains("margin"), "{e}");
        assert!(Panel
            .set(&s, &None, "runs", 3.0)
            .unwrap_err()
            .contains("seeds"));
        assert!(Panel
            .set(&s, &None, "bogus", 1.0)
            .unwrap_err()
            .contains("unknown"));
        // `runs` is not part of the key: the seeds are.
        let more = PanelScenario {
            config: PanelConfig {
                runs: 9,
                ..s.config.clone()
            },
            disease: None,
        };
        assert_eq!(Panel.scenario_key(&more), Panel.scenario_key(&s));
    }

    /// A scenario with a Markov file reads back as written; a bad disease table is refused
    /// with the file named.
    #[test]
    fn a_scenario_with_its_disease_model_reads_back_whole() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/diabetic-kidney.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let s = PanelScenario {
            config: PanelConfig {
                patients: 7,
                ..Default::default()
            },
            disease: Some(MarkovFile::from_toml(&text, path).unwrap()),
        };
        let back = PanelScenario::from_toml(&s.to_toml(), "run/scenario.toml").unwrap();
        assert_eq!(back, s);
        let plain = PanelScenario::default();
        assert_eq!(
            PanelScenario::from_toml(&plain.to_toml(), "x").unwrap(),
            plain
        );
        let broken = s.to_toml().replace("[disease]", "[disease]\nbogus = 1");
        let e = PanelScenario::from_toml(&broken, "run/scenario.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("run/scenario.toml [disease]") && e.contains("bogus"),
            "{e}"
        );
    }
}
