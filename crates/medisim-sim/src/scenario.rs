//! The scenario: every constant of the environment, each with a built-in default, loaded from
//! one TOML file. `docs/model.md` gives each value and the reason for it.
//!
//! Unknown keys are errors that name the key (serde's `deny_unknown_fields`); out-of-range
//! values are errors that name the key and the legal range ([`Scenario::validate`]).

use medisim_core::input::{read_settings, toml_error, InputError};
use medisim_core::text::{name_of, number};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read, is too large or is not UTF-8.
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("scenario {path}: {message}")]
    Parse { path: String, message: String },
    #[error("scenario key `{key}`: {message}")]
    Invalid { key: String, message: String },
    /// Several keys out of range, every one named (one per line).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Several(Vec<ScenarioError>),
}

fn invalid(key: &str, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

/// How the coder turns candidate scores into a reported group (Eq. 11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodingMode {
    /// Softmax over scores with temperature `coding.temperature` (L1/L2).
    Stochastic,
    /// Argmax, ties to the true group (L3 search and evaluation).
    Deterministic,
}

/// How arriving patients register to teams.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Routing {
    /// Patient choice: uniformly at random (the paper's default; no strategic routing).
    Uniform,
    /// To the team with the shortest queue (ties to the lowest index).
    ShortestQueue,
}

/// The signal KPI steering (ξ > 0) follows when it assigns the flexible pool (Appendix G).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlexSteering {
    /// Last period's KPI: beds follow measured performance (the paper's L2 steering).
    Kpi,
    /// The backlog each team carries into the period: beds follow the longest queues, the
    /// allocation rule Bekker et al. (2017) study and the paper's Appendix G says would help.
    QueueLength,
}

/// The arrival kernel (paper Eq. 10 and Appendix L).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kernel {
    /// Homogeneous Poisson with mean `rate` (Eq. 10).
    Poisson,
    /// Non-homogeneous Poisson: period t has mean `schedule[(t-1) % len]`.
    Schedule,
    /// Over-dispersed counts: negative binomial with mean `rate` and size `dispersion`
    /// (variance `rate + rate^2 / dispersion`).
    NegativeBinomial,
    /// Replay of an arrival stream from `replay_file` (CSV, one row per patient).
    Replay,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Arrivals {
    pub kernel: Kernel,
    pub rate: f64,
    pub schedule: Vec<f64>,
    pub dispersion: f64,
    pub replay_file: String,
}

impl Arrivals {
    /// Refuse a key the kernel does not read, moved from its default: it would be ignored (a
    /// sweep of `arrivals.dispersion` under the Poisson kernel wrote identical points).
    fn check_read(&self) -> Result<(), ScenarioError> {
        let d = Arrivals::default();
        let reads = |k: Kernel| -> &'static [&'static str] {
            match k {
                Kernel::Poisson => &["rate"],
                Kernel::NegativeBinomial => &["rate", "dispersion"],
                Kernel::Schedule => &["schedule"],
                Kernel::Replay => &["replay_file"],
            }
        };
        let moved = [
            ("rate", self.rate != d.rate),
            ("dispersion", self.dispersion != d.dispersion),
            ("schedule", self.schedule != d.schedule),
            ("replay_file", self.replay_file != d.replay_file),
        ];
        let read = reads(self.kernel);
        match moved.iter().find(|(k, m)| *m && !read.contains(k)) {
            Some((key, _)) => Err(invalid(
                &format!("arrivals.{key}"),
                format!(
                    "is not read by the kernel `{}`, which reads {}",
                    name_of(&self.kernel),
                    read.iter()
                        .map(|k| format!("arrivals.{k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            None => Ok(()),
        }
    }
}

impl Default for Arrivals {
    fn default() -> Self {
        Arrivals {
            kernel: Kernel::Poisson,
            rate: 9.0,
            schedule: Vec::new(),
            dispersion: 4.0,
            replay_file: String::new(),
        }
    }
}

/// The aggregated macro-DRG case mix (paper §3.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaseMix {
    /// Share of arrivals in each macro-DRG group. A group with share 0 is reachable only by
    /// coding (the default's top group: a higher-severity billing group above every real case).
    pub shares: Vec<f64>,
    /// Reimbursement relative weight of each group.
    pub weights: Vec<f64>,
    /// Normalised complexity (CMI) at the centre of each group, in [0, 1].
    pub cmi: Vec<f64>,
    /// Half-width of the uniform spread of a patient's CMI* around its group centre.
    pub cmi_spread: f64,
    /// Reimbursement per unit of relative weight.
    pub price: f64,
    /// CMI* at or above which a patient counts as high-complexity in the diagnostics.
    pub high_cmi_threshold: f64,
    /// Urgency = clamp(urgency_base + urgency_slope * CMI* + N(0, urgency_noise)).
    pub urgency_base: f64,
    pub urgency_slope: f64,
    pub urgency_noise: f64,
    /// Waiting tolerance in periods: tolerance_min + U{0 .. tolerance_range} scaled down by urgency.
    pub tolerance_min: u32,
    pub tolerance_range: u32,
}

impl Default for CaseMix {
    fn default() -> Self {
        CaseMix {
            shares: vec![0.24, 0.24, 0.2, 0.15, 0.11, 0.06, 0.0],
            weights: vec![1.0, 1.03, 1.07, 1.12, 1.18, 1.25, 1.45],
            cmi: vec![0.1, 0.25, 0.4, 0.55, 0.72, 0.9, 1.0],
            cmi_spread: 0.06,
            price: 10.0,
            high_cmi_threshold: 0.5,
            urgency_base: 0.2,
            urgency_slope: 0.5,
            urgency_noise: 0.15,
            tolerance_min: 3,
            tolerance_range: 6,
        }
    }
}

/// Treatment production and cost (Eqs. 12-13), effort and fatigue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Care {
    /// Team skills; if shorter than `teams`, it is cycled.
    pub skill: Vec<f64>,
    /// λ in Eq. 12.
    pub lambda: f64,
    /// ε in Eq. 12.
    pub epsilon: f64,
    /// ω in Eq. 13.
    pub omega: f64,
    /// φ in Eq. 13 (> 1).
    pub phi: f64,
    /// C_fixed in Eq. 13: cost of the constrained resource.
    pub c_fixed: f64,
    /// Clinically indicated effort: base_effort = effort_base + effort_slope * CMI*.
    pub effort_base: f64,
    pub effort_slope: f64,
    /// Health a patient keeps without treatment: untreated = untreated_health * (1 - CMI*).
    pub untreated_health: f64,
    /// Ē_j per bed: a team's load capacity is this times its beds (Eq. 2).
    pub load_per_bed: f64,
    /// ν in Eq. 2: convex fatigue penalty.
    pub nu: f64,
    /// Smoothing of the fatigue state.
    pub fatigue_decay: f64,
}

impl Default for Care {
    fn default() -> Self {
        Care {
            skill: vec![1.0, 0.97, 1.03, 0.95, 1.05],
            lambda: 0.5,
            epsilon: 0.1,
            omega: 1.5,
            phi: 2.0,
            c_fixed: 5.0,
            effort_base: 1.0,
            effort_slope: 2.5,
            untreated_health: 0.5,
            load_per_bed: 1.5,
            nu: 0.1,
            fatigue_decay: 0.3,
        }
    }
}

/// Scales of the provider response class Π_P (how strongly each channel follows Eq. 2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Response {
    /// θ in Eq. 2: weight on the realised bonus.
    pub theta: f64,
    /// Money value of one unit of health gain in the provider's utility.
    pub health_value: f64,
    /// Utility scale: pressures are utility changes divided by this.
    pub utility_scale: f64,
    /// Effort moves by effort_step * dU/dE, clipped to [-effort_cut * base, effort_raise].
    pub effort_step: f64,
    pub effort_cut: f64,
    pub effort_raise: f64,
    /// clinical_triage_score = urgency_weight * urgency + wait_weight * wait / tolerance.
    pub urgency_weight: f64,
    pub wait_weight: f64,
    /// Base accept and defer thresholds; both rise by the opportunity cost of a bed.
    pub accept_threshold: f64,
    pub defer_threshold: f64,
    /// Share of the queue's mean incentive pressure (margin + quality) added to both thresholds.
    pub opportunity_share: f64,
    /// defer_pressure: cost relief of waiting, per unit of cost weighted by the harmonic mean of
    /// α and β (strategic delay needs both motives), over utility_scale.
    pub defer_cost_relief: f64,
    /// defer_pressure: health lost by waiting, per unit of β-weighted urgency.
    pub defer_health_loss: f64,
    pub bed_threshold: f64,
    /// Reference cost that normalises cost in the KPI (Eq. 5).
    pub kpi_cost_ref: f64,
    /// Reference wait (periods) that normalises waiting in the KPI (Eq. 5); 1 counts waiting
    /// in periods.
    pub kpi_wait_ref: f64,
    /// Scale of the independent logistic shocks on the accept and the defer comparisons
    /// (a sequential random-utility choice); 0 is the deterministic threshold rule.
    pub triage_noise: f64,
    /// Teams' thresholds differ by up to ± this share, evenly spread over the teams.
    pub threshold_spread: f64,
    /// Weight of the untreated counterfactual in the quality motive: 1 values the health gain of
    /// treatment, 0 the outcome H of Eq. 12 as written in Eq. 2.
    pub quality_counterfactual: f64,
    /// Cost of a long waiting list: defer_pressure falls by this much per patient already
    /// waiting on the team's list (carried over from earlier periods), per bed.
    pub list_cost: f64,
    /// How much a bed that the team's better-ranked cases will fill counts as no bed:
    /// bed_availability_signal is 1 for the cases its beds can take when it ranks the cases it
    /// means to accept by their accept score, and 1 − this for the others (0: 1 for every case
    /// while the team has a bed).
    pub bed_by_rank: f64,
    /// Share of each treated case's expected cost (Eq. 13 at its clinically indicated effort,
    /// with a bed) taken off its cost in the KPI: 0 is Eq. 5's mean cost, 1 a risk-adjusted
    /// cost (observed less expected), which rewards a team for treating a case for less than
    /// its complexity calls for, not for treating cheaper cases.
    pub kpi_cost_adjustment: f64,
}

impl Default for Response {
    fn default() -> Self {
        Response {
            theta: 1.0,
            health_value: 15.0,
            utility_scale: 8.0,
            effort_step: 0.2,
            effort_cut: 0.25,
            effort_raise: 1.0,
            urgency_weight: 0.3,
            wait_weight: 0.3,
            accept_threshold: 1.1,
            defer_threshold: 1.4,
            opportunity_share: 0.85,
            defer_cost_relief: 0.75,
            defer_health_loss: 0.5,
            bed_threshold: 0.2,
            kpi_cost_ref: 10.0,
            kpi_wait_ref: 1.0,
            triage_noise: 0.0,
            threshold_spread: 0.0,
            quality_counterfactual: 1.0,
            list_cost: 0.0,
            bed_by_rank: 0.0,
            kpi_cost_adjustment: 0.0,
        }
    }
}

/// Coding (Eq. 11).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Coding {
    pub mode: CodingMode,
    /// Softmax temperature in stochastic mode.
    pub temperature: f64,
    /// γ_code in Eq. 11.
    pub gamma_code: f64,
    /// Highest number of groups above the true one a coder may report.
    pub max_upcode: usize,
    /// r0 in Eq. 11.
    pub r0: f64,
    /// η_eth in Eq. 11.
    pub eta_eth: f64,
    /// The coder's expected audit loss counts the clawback as well as the fine.
    pub audit_counts_clawback: bool,
}

impl Default for Coding {
    fn default() -> Self {
        Coding {
            mode: CodingMode::Stochastic,
            temperature: 0.2,
            gamma_code: 2.0,
            max_upcode: 2,
            r0: 1.0,
            eta_eth: 4.0,
            audit_counts_clawback: false,
        }
    }
}

/// The audit schedule: host configuration, not a policy field (paper §4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Audit {
    /// q: audit probability of a truthfully coded case.
    pub base_prob: f64,
    /// Added audit probability per unit of coding gap.
    pub slope: f64,
    /// λ_pen: penalty per unit of over-payment found.
    pub penalty: f64,
    /// Whether a found over-payment is also paid back.
    pub clawback: bool,
    /// Reputation lost per detected up-coded case, relative to cases treated that period.
    pub reputation_hit: f64,
}

impl Default for Audit {
    fn default() -> Self {
        Audit {
            base_prob: 0.10,
            slope: 1.1,
            penalty: 2.0,
            clawback: true,
            reputation_hit: 0.5,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Finance {
    pub initial_funds: f64,
    /// Cost of one bed of capacity per period, paid whether used or not.
    pub bed_cost: f64,
    pub initial_reputation: f64,
    /// Reputation moves this fraction of the way to the period's quality signal.
    pub reputation_rate: f64,
}

impl Default for Finance {
    fn default() -> Self {
        Finance {
            initial_funds: 100.0,
            bed_cost: 1.0,
            initial_reputation: 0.5,
            reputation_rate: 0.05,
        }
    }
}

/// Objectives and the safety-penalised fitness (Eqs. 3, 8, 9).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Objective {
    /// γ_d in Eq. 3.
    pub discount: f64,
    /// λ_unsafe in Eq. 8.
    pub lambda_unsafe: f64,
    /// λ_var in Eq. 8.
    pub lambda_var: f64,
    /// Profit reward per period = profit / profit_scale.
    pub profit_scale: f64,
    /// Violation weights per period (V is their mean over the horizon).
    pub w_urgent_rejection: f64,
    pub w_insolvency: f64,
    pub w_upcoding: f64,
    pub w_waiting: f64,
    pub w_high_cmi_deferral: f64,
    /// Urgency at or above which a rejection counts as unsafe.
    pub urgent_threshold: f64,
    /// Mean waiting above this is excessive.
    pub waiting_limit: f64,
    /// High-complexity deferral rate above this is excessive.
    pub deferral_limit: f64,
}

impl Default for Objective {
    fn default() -> Self {
        Objective {
            discount: 0.95,
            lambda_unsafe: 0.06,
            lambda_var: 0.25,
            profit_scale: 10.0,
            w_urgent_rejection: 10.0,
            w_insolvency: 5.0,
            w_upcoding: 8.0,
            w_waiting: 1.0,
            w_high_cmi_deferral: 4.0,
            urgent_threshold: 0.7,
            waiting_limit: 3.0,
            deferral_limit: 0.3,
        }
    }
}

/// A whole scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Base seed, mixed with each replicate's seed.
    pub seed: u64,
    /// Care teams (J).
    pub teams: usize,
    pub routing: Routing,
    /// What the flexible pool follows when ξ > 0.
    pub flex_steering: FlexSteering,
    pub arrivals: Arrivals,
    pub case_mix: CaseMix,
    pub care: Care,
    pub response: Response,
    pub coding: Coding,
    pub audit: Audit,
    pub finance: Finance,
    pub objective: Objective,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            seed: 0,
            teams: 5,
            routing: Routing::Uniform,
            flex_steering: FlexSteering::Kpi,
            arrivals: Arrivals::default(),
            case_mix: CaseMix::default(),
            care: Care::default(),
            response: Response::default(),
            coding: Coding::default(),
            audit: Audit::default(),
            finance: Finance::default(),
            objective: Objective::default(),
        }
    }
}

impl Scenario {
    /// Parse a scenario from TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let parse = |message: String| ScenarioError::Parse {
            path: origin.to_string(),
            message,
        };
        medisim_core::input::check_values(text).map_err(parse)?;
        let table: toml::Table = toml::from_str(text).map_err(|e| parse(toml_error(&e, text)))?;
        // The run length is a property of the run, not of the world: a scenario used to carry
        // `horizon` and every runner ignored it. Say where it went instead of "unknown field".
        if table.contains_key("horizon") {
            return Err(parse(
                "`horizon` is not a scenario key: the horizon belongs to the run \
                 (`medisim run --horizon`, the experiments' --horizon, a search config's `horizon`)"
                    .into(),
            ));
        }
        misplaced_keys(&table, origin)?;
        let s: Scenario = table.try_into().map_err(|e: toml::de::Error| {
            // The table's error names the dotted key; read the text again for its line and
            // column.
            let key = e.to_string();
            let key = key
                .lines()
                .last()
                .filter(|l| l.starts_with("in `"))
                .unwrap_or("");
            let choices = one_of(key.trim_start_matches("in `").trim_end_matches('`'));
            match toml::from_str::<Scenario>(text) {
                Err(at) => parse(format!("{}\n{key}{choices}", toml_error(&at, text))),
                Ok(_) => parse(e.to_string()),
            }
        })?;
        s.validate()?;
        Ok(s)
    }

    /// The number at a dotted key (`care.nu`, `teams`).
    pub fn value(&self, key: &str) -> Result<f64, ScenarioError> {
        let v = self.lookup(key)?;
        v.as_float()
            .or_else(|| v.as_integer().map(|i| i as f64))
            .ok_or_else(|| invalid(key, "is not a numeric key"))
    }

    /// The scenario with one numeric key set, held to its legal range (never clipped); a
    /// whole-number key refuses a fraction.
    pub fn with_value(&self, key: &str, value: f64) -> Result<Scenario, ScenarioError> {
        self.set_key(key, toml::Value::Float(value), &number(value), true)
    }

    /// The scenario with one key set to any TOML value (`--set KEY=VALUE`), held to its legal
    /// range (never clipped).
    pub fn with(&self, key: &str, value: toml::Value) -> Result<Scenario, ScenarioError> {
        let shown = value.to_string();
        self.set_key(key, value, &shown, false)
    }

    /// Set `key`, naming it on refusal with the value as `shown`; `numeric` (a sweep's number)
    /// refuses a key of another type as "not a numeric key".
    fn set_key(
        &self,
        key: &str,
        value: toml::Value,
        shown: &str,
        numeric: bool,
    ) -> Result<Scenario, ScenarioError> {
        use medisim_core::params::{self, KeyError};
        let s: Scenario = params::set(self, key, value).map_err(|e| match e {
            KeyError::Unknown { .. } | KeyError::Malformed { .. } => unknown_key(key),
            KeyError::Type { expected, .. } if expected == "a whole number" => {
                invalid(key, format!("takes whole numbers, got {shown}"))
            }
            KeyError::Type { .. } if numeric => invalid(key, "is not a numeric key"),
            KeyError::Type { expected, .. } => {
                invalid(key, format!("takes {expected}, got {shown}"))
            }
            e => invalid(key, e.to_string()),
        })?;
        s.validate()?;
        Ok(s)
    }

    fn lookup(&self, key: &str) -> Result<toml::Value, ScenarioError> {
        medisim_core::params::get(self, key).map_err(|_| unknown_key(key))
    }

    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = read_settings(path, "a scenario")?;
        Scenario::from_toml(&text, &path.display().to_string())
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a scenario always serialises")
    }

    /// The TOML with each key's meaning above it and its unit and legal range beside it, as
    /// comments (`medisim scenario`); it reads back to the same scenario.
    pub fn to_annotated_toml(&self) -> String {
        let mut section = String::new();
        let mut out = String::new();
        for line in self.to_toml().lines() {
            let Some((key, _)) = line.split_once(" = ") else {
                if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                    section = format!("{name}.");
                }
                out.push_str(line);
                out.push('\n');
                continue;
            };
            let dotted = format!("{section}{key}");
            let doc = crate::scenario_docs::doc_of(&dotted);
            if let Some(d) = doc {
                out.push_str(&format!("# {}\n", d.meaning));
            }
            out.push_str(line);
            let unit = doc.map_or("-", |d| d.unit);
            match range_of(&dotted) {
                Some(r) if r.max_len > 0 => out.push_str(&format!(
                    "  # {unit}; each in {r}, at most {} entries",
                    r.max_len
                )),
                Some(r) => out.push_str(&format!("  # {unit}; in {r}")),
                None => out.push_str(&format!("  # {unit}")),
            }
            out.push('\n');
        }
        out
    }

    /// The legal ranges as a Markdown table (docs/model.md embeds it; a test keeps them equal).
    pub fn ranges_markdown() -> String {
        let mut s = String::from("| key | legal range | most entries |\n|---|---|---|\n");
        for r in RANGES {
            let len = if r.max_len > 0 {
                r.max_len.to_string()
            } else {
                String::new()
            };
            s.push_str(&format!("| `{}` | {r} | {len} |\n", r.key));
        }
        s
    }

    /// Check every value against its legal range, naming the first key that is out of range:
    /// every number is finite and inside its [`RANGES`] entry, then the structure holds (list
    /// lengths agree, groups are ordered, the case mix is not empty).
    ///
    /// The check walks the whole scenario through TOML (about 200,000 instructions), and a
    /// search or a grid validates one scenario hundreds of times, so each thread remembers the
    /// last scenario that passed (compared whole, field by field) and passes it again at once.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        thread_local! {
            static LAST_VALID: std::cell::RefCell<Option<Scenario>> =
                const { std::cell::RefCell::new(None) };
        }
        if LAST_VALID.with(|last| last.borrow().as_ref() == Some(self)) {
            return Ok(());
        }
        self.validate_anew()?;
        LAST_VALID.with(|last| *last.borrow_mut() = Some(self.clone()));
        Ok(())
    }

    fn validate_anew(&self) -> Result<(), ScenarioError> {
        check_ranges(self)?;
        self.arrivals.check_read()?;
        let a = &self.arrivals;
        match a.kernel {
            Kernel::Schedule if a.schedule.is_empty() => {
                return Err(invalid(
                    "arrivals.schedule",
                    "kernel \"schedule\" needs at least one rate",
                ));
            }
            Kernel::Replay if a.replay_file.is_empty() => {
                return Err(invalid(
                    "arrivals.replay_file",
                    "kernel \"replay\" needs a CSV file",
                ));
            }
            _ => {}
        }
        let m = &self.case_mix;
        let k = m.shares.len();
        if k < 2 {
            return Err(invalid("case_mix.shares", "needs at least two groups"));
        }
        if m.weights.len() != k {
            return Err(invalid(
                "case_mix.weights",
                format!(
                    "has {} entries but case_mix.shares has {k}",
                    m.weights.len()
                ),
            ));
        }
        if m.cmi.len() != k {
            return Err(invalid(
                "case_mix.cmi",
                format!("has {} entries but case_mix.shares has {k}", m.cmi.len()),
            ));
        }
        if m.shares.iter().sum::<f64>() <= 0.0 {
            return Err(invalid("case_mix.shares", "must not all be zero"));
        }
        if m.cmi.windows(2).any(|w| w[1] < w[0]) || m.weights.windows(2).any(|w| w[1] < w[0]) {
            return Err(invalid(
                "case_mix.cmi",
                "groups must be ordered by complexity: cmi and weights non-decreasing",
            ));
        }
        if self.care.skill.is_empty() {
            return Err(invalid("care.skill", "needs at least one value"));
        }
        Ok(())
    }

    /// Number of macro-DRG groups.
    pub fn groups(&self) -> usize {
        self.case_mix.shares.len()
    }

    pub fn skill(&self, team: usize) -> f64 {
        self.care.skill[team % self.care.skill.len()]
    }
}

/// For a key that takes a name (`routing`, `arrivals.kernel`, …), the names it takes.
fn one_of(key: &str) -> String {
    crate::scenario_docs::KEY_DOCS
        .iter()
        .find(|d| d.key == key && d.unit.contains(" | "))
        .map_or(String::new(), |d| format!(", which is one of: {}", d.unit))
}

/// An unknown dotted key, with where a key of that name does live.
fn unknown_key(key: &str) -> ScenarioError {
    let name = key.rsplit_once('.').map_or(key, |(_, n)| n);
    let homes = crate::scenario_docs::belongs_in("\u{0}", name);
    let hint = if homes.is_empty() {
        "`medisim scenario` lists every key".to_string()
    } else {
        format!("did you mean `{}`?", homes.join("` or `"))
    };
    invalid(key, format!("is not a scenario key: {hint}"))
}

/// Keys that the scenario does not have where they stand but does have in another section,
/// every one named with where it belongs (serde would say only "unknown field").
fn misplaced_keys(table: &toml::Table, origin: &str) -> Result<(), ScenarioError> {
    use crate::scenario_docs::{belongs_in, doc_of};
    let mut errors = Vec::new();
    let mut check = |section: &str, name: &str| {
        let dotted = if section.is_empty() {
            name.to_string()
        } else {
            format!("{section}.{name}")
        };
        if doc_of(&dotted).is_some() {
            return;
        }
        let homes = belongs_in(section, name);
        if homes.is_empty() {
            return;
        }
        let place = |k: &str| match k.rsplit_once('.') {
            Some((s, _)) => format!("under [{s}]"),
            None => "at the top level".to_string(),
        };
        let at = if section.is_empty() {
            "at the top level".to_string()
        } else {
            format!("under [{section}]")
        };
        errors.push(ScenarioError::Parse {
            path: origin.to_string(),
            message: format!(
                "unknown key `{name}` {at}: it belongs {}",
                homes
                    .iter()
                    .map(|h| place(h))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        });
    };
    for (k, v) in table {
        match v.as_table() {
            Some(t) if KNOWN_SECTIONS.contains(&k.as_str()) => {
                for name in t.keys() {
                    check(k, name);
                }
            }
            _ => check("", k),
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(ScenarioError::Several(errors)),
    }
}

const KNOWN_SECTIONS: [&str; 8] = [
    "arrivals",
    "case_mix",
    "care",
    "response",
    "coding",
    "audit",
    "finance",
    "objective",
];

/// The legal range of one numeric scenario key (for a list, of each entry), and the most
/// entries a list may hold.
#[derive(Clone, Copy, Debug)]
pub struct KeyRange {
    pub key: &'static str,
    pub lo: f64,
    pub hi: f64,
    /// `lo` itself is excluded (a rate, a scale, a temperature must be positive).
    pub lo_open: bool,
    /// Most entries, for a list key (0: not a list).
    pub max_len: usize,
}

impl std::fmt::Display for KeyRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let open = if self.lo_open { "(" } else { "[" };
        write!(f, "{open}{}, {}]", number(self.lo), number(self.hi))
    }
}

const fn r(key: &'static str, lo: f64, hi: f64) -> KeyRange {
    KeyRange {
        key,
        lo,
        hi,
        lo_open: false,
        max_len: 0,
    }
}

/// Positive: `(lo, hi]`.
const fn p(key: &'static str, hi: f64) -> KeyRange {
    KeyRange {
        key,
        lo: 0.0,
        hi,
        lo_open: true,
        max_len: 0,
    }
}

const fn list(range: KeyRange, max_len: usize) -> KeyRange {
    KeyRange { max_len, ..range }
}

/// Every numeric key's legal range. The bounds keep every value finite through a rollout (no
/// product of two in-range values overflows), keep the work of one period bounded (at most
/// `MAX_RATE` arrivals a period, 64 teams, 32 groups), and otherwise leave a wide margin around
/// the built-in values (docs/reliability.md gives the reasons). A test checks that every numeric
/// key of the scenario has an entry.
pub const RANGES: &[KeyRange] = &[
    r("seed", 0.0, 9.2e18),
    r("teams", 1.0, 64.0),
    p("arrivals.rate", MAX_RATE),
    list(r("arrivals.schedule", 0.0, MAX_RATE), 100_000),
    p("arrivals.dispersion", 1e6),
    list(r("case_mix.shares", 0.0, 1e6), MAX_GROUPS),
    list(p("case_mix.weights", 100.0), MAX_GROUPS),
    list(r("case_mix.cmi", 0.0, 1.0), MAX_GROUPS),
    r("case_mix.cmi_spread", 0.0, 0.5),
    p("case_mix.price", 1e4),
    r("case_mix.high_cmi_threshold", 0.0, 1.0),
    r("case_mix.urgency_base", -1.0, 2.0),
    r("case_mix.urgency_slope", -2.0, 2.0),
    r("case_mix.urgency_noise", 0.0, 1.0),
    r("case_mix.tolerance_min", 1.0, 1000.0),
    r("case_mix.tolerance_range", 0.0, 1000.0),
    list(p("care.skill", 10.0), 64),
    p("care.lambda", 10.0),
    p("care.epsilon", 10.0),
    r("care.omega", 0.0, 100.0),
    KeyRange {
        lo: 1.0,
        lo_open: true,
        ..p("care.phi", 10.0)
    },
    r("care.c_fixed", 0.0, 1e3),
    r("care.effort_base", 0.0, 100.0),
    r("care.effort_slope", 0.0, 100.0),
    r("care.untreated_health", 0.0, 1.0),
    p("care.load_per_bed", 100.0),
    r("care.nu", 0.0, 100.0),
    r("care.fatigue_decay", 0.0, 1.0),
    r("response.theta", 0.0, 100.0),
    r("response.health_value", 0.0, 1e4),
    p("response.utility_scale", 1e4),
    r("response.effort_step", 0.0, 10.0),
    r("response.effort_cut", 0.0, 1.0),
    r("response.effort_raise", 0.0, 100.0),
    r("response.urgency_weight", 0.0, 100.0),
    r("response.wait_weight", 0.0, 100.0),
    r("response.accept_threshold", -100.0, 100.0),
    r("response.defer_threshold", -100.0, 100.0),
    r("response.opportunity_share", 0.0, 10.0),
    r("response.defer_cost_relief", 0.0, 100.0),
    r("response.defer_health_loss", 0.0, 100.0),
    r("response.bed_threshold", -100.0, 100.0),
    p("response.kpi_cost_ref", 1e4),
    p("response.kpi_wait_ref", 1e4),
    r("response.triage_noise", 0.0, 10.0),
    r("response.threshold_spread", 0.0, 1.0),
    r("response.quality_counterfactual", 0.0, 1.0),
    r("response.list_cost", 0.0, 100.0),
    r("response.bed_by_rank", 0.0, 1.0),
    r("response.kpi_cost_adjustment", 0.0, 1.0),
    p("coding.temperature", 100.0),
    r("coding.gamma_code", 0.0, 100.0),
    r("coding.max_upcode", 0.0, 31.0),
    r("coding.r0", 0.0, 100.0),
    r("coding.eta_eth", 0.0, 100.0),
    r("audit.base_prob", 0.0, 1.0),
    r("audit.slope", 0.0, 100.0),
    r("audit.penalty", 0.0, 100.0),
    r("audit.reputation_hit", 0.0, 100.0),
    r("finance.initial_funds", -1e9, 1e9),
    r("finance.bed_cost", 0.0, 1e4),
    r("finance.initial_reputation", 0.0, 1.0),
    r("finance.reputation_rate", 0.0, 1.0),
    p("objective.discount", 1.0),
    r("objective.lambda_unsafe", 0.0, 1e3),
    r("objective.lambda_var", 0.0, 1e3),
    p("objective.profit_scale", 1e9),
    r("objective.w_urgent_rejection", 0.0, 1e3),
    r("objective.w_insolvency", 0.0, 1e3),
    r("objective.w_upcoding", 0.0, 1e3),
    r("objective.w_waiting", 0.0, 1e3),
    r("objective.w_high_cmi_deferral", 0.0, 1e3),
    r("objective.urgent_threshold", 0.0, 1.0),
    r("objective.waiting_limit", 0.0, 1e3),
    r("objective.deferral_limit", 0.0, 1.0),
];

/// Most arrivals a period may expect (rate or schedule entry): 50 times the built-in rate,
/// which keeps one 200-period rollout under about a second.
pub const MAX_RATE: f64 = 500.0;
/// Most macro-DRG groups.
pub const MAX_GROUPS: usize = 32;

/// The range entry of a dotted key.
pub fn range_of(key: &str) -> Option<&'static KeyRange> {
    RANGES.iter().find(|r| r.key == key)
}

/// Walk every number of the scenario (as its TOML shows it) and hold it to its range,
/// reporting every key out of range at once.
fn check_ranges(s: &Scenario) -> Result<(), ScenarioError> {
    let table = toml::Table::try_from(s).map_err(|e| invalid("seed", e.to_string()))?;
    let mut errors = Vec::new();
    walk("", &toml::Value::Table(table), &mut errors);
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(ScenarioError::Several(errors)),
    }
}

fn walk(key: &str, v: &toml::Value, errors: &mut Vec<ScenarioError>) {
    if let Err(e) = walk_one(key, v, errors) {
        errors.push(e);
    }
}

fn walk_one(
    key: &str,
    v: &toml::Value,
    errors: &mut Vec<ScenarioError>,
) -> Result<(), ScenarioError> {
    let number = |x: f64| -> Result<(), ScenarioError> {
        let range = range_of(key)
            .ok_or_else(|| invalid(key, "has no legal range (a defect: add it to RANGES)"))?;
        let above_lo = if range.lo_open {
            x > range.lo
        } else {
            x >= range.lo
        };
        if x.is_finite() && above_lo && x <= range.hi {
            Ok(())
        } else {
            Err(invalid(
                key,
                format!("must be in {range}, got {}", number(x)),
            ))
        }
    };
    match v {
        toml::Value::Table(t) => {
            for (k, child) in t {
                let child_key = if key.is_empty() {
                    k.clone()
                } else {
                    format!("{key}.{k}")
                };
                walk(&child_key, child, errors);
            }
            Ok(())
        }
        toml::Value::Array(items) => {
            if let Some(range) = range_of(key) {
                if items.len() > range.max_len {
                    return Err(invalid(
                        key,
                        format!(
                            "has {} entries; at most {} are allowed",
                            items.len(),
                            range.max_len
                        ),
                    ));
                }
            }
            // One message per list, not one per entry.
            let before = errors.len();
            for x in items {
                walk(key, x, errors);
                if errors.len() > before {
                    break;
                }
            }
            Ok(())
        }
        toml::Value::Float(x) => number(*x),
        toml::Value::Integer(i) => number(*i as f64),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_out_of_range_is_reported_at_once() {
        let e = Scenario::from_toml(
            "teams = 0\n[care]\nuntreated_health = 1.5\n[coding]\ntemperature = -1.0\n",
            "bad.toml",
        )
        .unwrap_err()
        .to_string();
        for key in ["`teams`", "`care.untreated_health`", "`coding.temperature`"] {
            assert!(e.contains(key), "{key} missing: {e}");
        }
        assert_eq!(e.lines().count(), 3, "{e}");
    }

    /// The remembered valid scenario passes only itself: a scenario one value away, checked
    /// right after it, is still refused, and the valid one still passes after that.
    #[test]
    fn validation_remembers_only_the_scenario_that_passed() {
        let good = Scenario::default();
        let mut bad = good.clone();
        bad.arrivals.rate = -1.0;
        for _ in 0..2 {
            good.validate().unwrap();
            let e = bad.validate().unwrap_err().to_string();
            assert!(e.contains("arrivals.rate"), "{e}");
        }
    }

    #[test]
    fn defaults_validate_and_round_trip_through_toml() {
        let s = Scenario::default();
        s.validate().unwrap();
        let back = Scenario::from_toml(&s.to_toml(), "roundtrip").unwrap();
        assert_eq!(s, back);
    }

    #[test]
    fn an_empty_file_is_the_default_scenario() {
        assert_eq!(
            Scenario::from_toml("", "empty").unwrap(),
            Scenario::default()
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = Scenario::from_toml("[audit]\nbase_probability = 0.2\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `base_probability`"), "{e}");
        assert!(e.contains("base_prob"), "the valid keys are listed: {e}");
    }

    #[test]
    fn a_key_in_the_wrong_section_is_answered_with_its_section() {
        let e = Scenario::from_toml("rate = 12.0\n[care]\nprice = 3.0\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown key `rate` at the top level: it belongs under [arrivals]"),
            "{e}"
        );
        assert!(
            e.contains("unknown key `price` under [care]: it belongs under [case_mix]"),
            "{e}"
        );
        assert_eq!(e.lines().count(), 2, "both at once: {e}");
    }

    /// Every key the scenario prints has a unit and a meaning, and no documented key is stale.
    #[test]
    fn every_key_is_documented_and_no_doc_is_stale() {
        let table = toml::Table::try_from(Scenario::default()).unwrap();
        let mut keys = Vec::new();
        for (k, v) in &table {
            match v.as_table() {
                Some(t) => keys.extend(t.keys().map(|n| format!("{k}.{n}"))),
                None => keys.push(k.clone()),
            }
        }
        for k in &keys {
            assert!(
                crate::scenario_docs::doc_of(k).is_some(),
                "`{k}` has no KeyDoc"
            );
        }
        for d in crate::scenario_docs::KEY_DOCS {
            assert!(keys.iter().any(|k| k == d.key), "stale KeyDoc `{}`", d.key);
        }
    }

    #[test]
    fn bad_values_name_their_key() {
        let e = Scenario::from_toml("[care]\nphi = 1.0\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("care.phi"), "{e}");
        let e = Scenario::from_toml("[case_mix]\nweights = [1.0, 2.0]\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("case_mix.weights") && e.contains("has 2 entries"),
            "{e}"
        );
        let e = Scenario::from_toml("teams = \"many\"\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("teams"), "{e}");
    }

    #[test]
    fn a_horizon_in_a_scenario_says_where_the_horizon_belongs() {
        let e = Scenario::from_toml("horizon = 10\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`horizon`") && e.contains("--horizon"), "{e}");
    }

    #[test]
    fn the_annotated_toml_reads_back_and_names_each_range() {
        let text = Scenario::default().to_annotated_toml();
        assert!(
            text.contains(
                "# mean arrivals per period\nrate = 9.0  # patients / period; in (0, 500]"
            ),
            "{text}"
        );
        assert!(
            text.contains("# -; each in [0, 1e6], at most 32 entries"),
            "{text}"
        );
        assert_eq!(
            Scenario::from_toml(&text, "annotated").unwrap(),
            Scenario::default()
        );
    }

    #[test]
    fn docs_model_md_lists_the_current_ranges() {
        let doc = include_str!("../../../docs/model.md");
        assert!(
            doc.contains(&Scenario::ranges_markdown()),
            "docs/model.md's range table is out of date: paste Scenario::ranges_markdown()"
        );
    }

    #[test]
    fn every_number_has_a_finite_legal_range_and_no_range_is_stale() {
        // The walk over the defaults fails on any numeric key without a range.
        Scenario::default().validate().unwrap();
        let text = Scenario::default().to_toml();
        for r in RANGES {
            let (section, key) = r.key.rsplit_once('.').unwrap_or(("", r.key));
            let found = if section.is_empty() {
                text.lines().any(|l| l.starts_with(&format!("{key} =")))
            } else {
                text.split(&format!("[{section}]\n"))
                    .nth(1)
                    .is_some_and(|t| t.lines().any(|l| l.starts_with(&format!("{key} ="))))
            };
            assert!(
                found,
                "RANGES names `{}`, which the scenario has not",
                r.key
            );
            assert!(
                r.lo.is_finite() && r.hi.is_finite() && r.lo <= r.hi,
                "{}",
                r.key
            );
        }
    }

    #[test]
    fn a_key_the_arrival_kernel_does_not_read_is_refused() {
        let d = Scenario::default();
        let e = d
            .with_value("arrivals.dispersion", 5.0)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("arrivals.dispersion") && e.contains("kernel `poisson`"),
            "{e}"
        );
        let nb = Scenario::from_toml(
            "[arrivals]\nkernel = \"negative_binomial\"\ndispersion = 5\n",
            "s.toml",
        )
        .unwrap();
        assert_eq!(nb.arrivals.dispersion, 5.0);
        let e = Scenario::from_toml(
            "[arrivals]\nkernel = \"schedule\"\nschedule = [3]\nrate = 4\n",
            "s.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("arrivals.rate") && e.contains("arrivals.schedule"),
            "{e}"
        );
    }

    /// A value of the wrong type is placed at its line and column, under its dotted key, with
    /// the names a named key takes.
    #[test]
    fn a_wrong_type_names_its_place_key_and_choices() {
        let e = Scenario::from_toml("flex_steering = 3\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 1, column 17")
                && e.contains("in `flex_steering`")
                && e.contains("one of: kpi | queue_length"),
            "{e}"
        );
        let e = Scenario::from_toml("[care]\nnu = \"x\"\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2, column 6") && e.contains("in `care.nu`"),
            "{e}"
        );
    }

    #[test]
    fn out_of_range_nan_and_infinite_values_are_refused_with_the_range() {
        for (text, key, range) in [
            // The command-line test (`hostile.rs`) covers rates, prices, spreads and weights.
            ("[arrivals]\nrate = nan\n", "arrivals.rate", "(0, 500]"),
            (
                "[case_mix]\nshares = [inf, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]\n",
                "case_mix.shares",
                "[0, 1e6]",
            ),
            (
                "[objective]\nw_upcoding = nan\n",
                "objective.w_upcoding",
                "[0, 1000]",
            ),
            (
                "[objective]\ndiscount = 0.0\n",
                "objective.discount",
                "(0, 1]",
            ),
            ("teams = 0\n", "teams", "[1, 64]"),
            (
                "[coding]\nmax_upcode = 1000\n",
                "coding.max_upcode",
                "[0, 31]",
            ),
        ] {
            let e = Scenario::from_toml(text, "s.toml").unwrap_err().to_string();
            assert!(e.contains(key) && e.contains(range), "{text}: {e}");
        }
        let long = format!(
            "[arrivals]\nkernel = \"schedule\"\nschedule = [{}]\n",
            ["1.0"; 100_001].join(",")
        );
        let e = Scenario::from_toml(&long, "s.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("arrivals.schedule") && e.contains("at most 100000"),
            "{e}"
        );
    }
}
