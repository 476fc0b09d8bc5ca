//! Medi-Sim's search domain: the hospital schema, its metrics, the shipped warm-start library
//! and baselines, the Eq. 3/8 objective as the prompt states it, and the offline operator's
//! edits steered by the channel diagnostics. The search loop reads all of it through
//! [`Domain`].

use crate::config::SearchConfig;
use crate::domain::{Brief, Domain, SpecOf};
use crate::evaluate::Backend;
use crate::offline;
use crate::search::{Individual, MethodRow, Place, SearchOutcome};
use crate::store::Eval;
use anyhow::Result;
use medisim_core::progress::Progress;
use medisim_core::{Metric as _, Summaries};
use medisim_dsl::ast::{BinOp, Expr};
use medisim_dsl::schema::Schema;
use medisim_dsl::{FieldId, Policy};
use medisim_sim::scenario::CodingMode;
use medisim_sim::schema::{Field, Scope};
use medisim_sim::{MediSim, Metric, ObjectiveKind, Scenario};
use rand::Rng;
use rand_pcg::Pcg64;
use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

/// Medi-Sim, searched.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hospital;

impl Domain for Hospital {
    type Model = MediSim;

    fn model(&self) -> &MediSim {
        &MediSim
    }

    fn policy_of<'p>(&self, program: &'p Policy) -> Cow<'p, Policy> {
        Cow::Borrowed(program)
    }

    fn schema(&self) -> &'static Arc<Schema> {
        medisim_sim::hospital()
    }

    fn load(&self, text: &str, origin: &str) -> Result<Policy, String> {
        medisim_sim::load(text).map_err(|d| {
            d.iter()
                .map(|x| x.short(origin, text))
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    /// L3 evaluates with deterministic (argmax) coding to reduce noise (paper Appendix C).
    fn search_scenario(&self, scenario: &Scenario) -> Scenario {
        let mut s = scenario.clone();
        s.coding.mode = CodingMode::Deterministic;
        s
    }

    fn scenario_text(&self, scenario: &Scenario) -> String {
        scenario.to_toml()
    }

    fn spec(&self, config: &SearchConfig, seeds: &[u64], horizon: u32) -> SpecOf<Self> {
        medisim_sim::run_spec(seeds.to_vec(), horizon, config.objective)
    }

    fn fitness(&self, summary: &Summaries) -> f64 {
        summary.mean(Metric::Fitness)
    }

    fn fitness_name(&self) -> &'static str {
        Metric::Fitness.name()
    }

    fn objective_name(&self, config: &SearchConfig) -> String {
        config.objective.name().to_string()
    }

    fn table_metrics(&self) -> &'static [&'static str] {
        &TABLE_METRIC_NAMES
    }

    /// The five channels of Eq. 8's violation score V (App. K).
    fn safety_metrics(&self) -> &'static [&'static str] {
        &[
            "v_urgent_rejection",
            "v_insolvency",
            "v_upcoding",
            "v_waiting",
            "v_high_cmi_deferral",
        ]
    }

    fn archive_cell(&self, config: &SearchConfig, e: &Eval) -> (usize, usize) {
        (
            bin(e.mean(Metric::UpcodingRate), &config.archive_upcoding_bins),
            bin(
                e.mean(Metric::RejectionRate),
                &config.archive_rejection_bins,
            ),
        )
    }

    fn archive_axes(&self, config: &SearchConfig) -> [(String, Vec<String>); 2] {
        [
            (
                "up-coding rate".into(),
                crate::domain::bin_labels(&config.archive_upcoding_bins),
            ),
            (
                "rejection rate".into(),
                crate::domain::bin_labels(&config.archive_rejection_bins),
            ),
        ]
    }

    fn diagnostics(&self, e: &Eval) -> String {
        diagnostics(e)
    }

    fn brief(&self, config: &SearchConfig, scenario: &Scenario) -> Brief {
        Brief {
            subject: "hospital policy programs",
            objective: config.objective.name().to_string(),
            objective_rules: objective_rules(&scenario.objective, config.objective),
            guardrails: GUARDRAILS,
        }
    }

    fn library(&self, dir: &str) -> Result<Vec<Policy>> {
        load_library(dir)
    }

    fn baselines(&self) -> Vec<(&'static str, Policy)> {
        vec![
            ("greedy_profit", shipped("greedy_profit")),
            ("greedy_quality", shipped("greedy_quality")),
            ("fixed", shipped("fixed_heuristic")),
        ]
    }

    fn offline_child(
        &self,
        config: &SearchConfig,
        parent: &Individual,
        inspiration: &Individual,
        rng: &mut Pcg64,
    ) -> (Policy, String) {
        offline_child(config, parent, inspiration, rng)
    }

    fn table_text(&self, rows: &[MethodRow]) -> String {
        table_text(rows)
    }
}

/// Run (or resume) a search in `out`. `stop_after` ends the run early after that many
/// iterations, as an interruption would: no held-out evaluation, no result files.
pub fn run_search(
    config: &SearchConfig,
    scenario: &Scenario,
    out: &Path,
    resume: bool,
    stop_after: Option<u32>,
    pb: &dyn Progress,
) -> Result<SearchOutcome> {
    run_search_with(
        config,
        scenario,
        out,
        resume,
        stop_after,
        pb,
        &crate::evaluate::Local,
    )
}

/// [`run_search`] with its evaluations simulated by `backend`.
pub fn run_search_with(
    config: &SearchConfig,
    scenario: &Scenario,
    out: &Path,
    resume: bool,
    stop_after: Option<u32>,
    pb: &dyn Progress,
    backend: &dyn Backend<MediSim>,
) -> Result<SearchOutcome> {
    let place = Place {
        out,
        resume,
        stop_after,
    };
    crate::search::search(&Hospital, config, scenario, place, pb, backend)
}

/// The MAP-Elites bin of `v` among `edges`.
fn bin(v: f64, edges: &[f64]) -> usize {
    edges.iter().take_while(|e| v >= **e).count()
}

/// Metrics of the held-out table and of update records.
pub const TABLE_METRICS: [Metric; 8] = [
    Metric::Fitness,
    Metric::DiscountedReturn,
    Metric::MeanWaiting,
    Metric::RejectionRate,
    Metric::UpcodingRate,
    Metric::TerminalFunds,
    Metric::ViolationScore,
    Metric::StrategicDelayGap,
];

const TABLE_METRIC_NAMES: [&str; 8] = [
    "fitness",
    "discounted_return",
    "mean_waiting",
    "rejection_rate",
    "upcoding_rate",
    "terminal_funds",
    "violation_score",
    "strategic_delay_gap",
];

const SHIPPED: [(&str, &str); 9] = [
    (
        "neutral",
        include_str!("../../../policies/library/neutral.policy"),
    ),
    (
        "fixed_heuristic",
        include_str!("../../../policies/library/fixed_heuristic.policy"),
    ),
    (
        "greedy_profit",
        include_str!("../../../policies/library/greedy_profit.policy"),
    ),
    (
        "greedy_quality",
        include_str!("../../../policies/library/greedy_quality.policy"),
    ),
    (
        "high_alpha_acceptance",
        include_str!("../../../policies/library/high_alpha_acceptance.policy"),
    ),
    (
        "high_capacity",
        include_str!("../../../policies/library/high_capacity.policy"),
    ),
    (
        "high_flex",
        include_str!("../../../policies/library/high_flex.policy"),
    ),
    (
        "aggressive_coding",
        include_str!("../../../policies/library/aggressive_coding.policy"),
    ),
    (
        "conservative_coding",
        include_str!("../../../policies/library/conservative_coding.policy"),
    ),
];

fn shipped(name: &str) -> Policy {
    crate::domain::shipped(&SHIPPED, medisim_sim::hospital(), name)
}

/// The warm-start library: the shipped nine (`""`), the neutral template alone (`"neutral"`,
/// for the Appendix J.1 ablation), or every `.policy` in a directory.
fn load_library(dir: &str) -> Result<Vec<Policy>> {
    match dir {
        "" => Ok(SHIPPED.iter().map(|(n, _)| shipped(n)).collect()),
        "neutral" => Ok(vec![shipped("neutral")]),
        dir => crate::search::read_library(&Hospital, dir),
    }
}

fn diagnostics(e: &Eval) -> String {
    format!(
        "up-coding {:.3}, rejection {:.3}, waiting {:.2}, funds {:.0}, violation {:.2}, strategic-delay gap {:.3}",
        e.mean(Metric::UpcodingRate),
        e.mean(Metric::RejectionRate),
        e.mean(Metric::MeanWaiting),
        e.mean(Metric::TerminalFunds),
        e.mean(Metric::ViolationScore),
        e.mean(Metric::StrategicDelayGap)
    )
}

/// The offline operator's child of `parent` (with `inspiration` for crossover) and the name of
/// its edit; the edit is steered by the parent's diagnostics unless the priors are off.
fn offline_child(
    config: &SearchConfig,
    parent: &Individual,
    inspiration: &Individual,
    rng: &mut Pcg64,
) -> (Policy, String) {
    let focus = if config.offline_priors {
        focus(
            parent.eval.mean(Metric::UpcodingRate),
            parent.eval.mean(Metric::RejectionRate),
            parent.eval.mean(Metric::DeferralRate),
        )
    } else {
        offline::Focus::uninformed(Field::ALL.len())
    };
    let (child, edit) = offline::propose(
        &HospitalWords,
        &parent.policy,
        &inspiration.policy,
        &focus,
        rng,
    );
    (child, edit.name().to_string())
}

/// Up-coding draws edits to the coding rule; rejection and deferral to the triage rules.
pub fn focus(upcoding: f64, rejection: f64, deferral: f64) -> offline::Focus {
    let mut f = offline::Focus::even(Field::ALL.len());
    f.weights[Field::CandidateScore as usize] += 100.0 * upcoding.max(0.0);
    for t in [Field::TriageAccept, Field::TriageDefer] {
        f.weights[t as usize] += 40.0 * rejection.max(0.0) + 5.0 * deferral.max(0.0);
    }
    f
}

/// What the offline edits know of hospital programs: the features' typical ranges, the
/// levers' steps, and the coding-gap veto of the paper's Listings 3 and 4.
pub struct HospitalWords;

impl offline::Vocabulary for HospitalWords {
    fn schema(&self) -> &Schema {
        medisim_sim::hospital()
    }

    fn typical(&self, feature: &str) -> (f64, f64) {
        typical(feature)
    }

    fn step(&self, field: FieldId) -> f64 {
        step(Field::ALL[field.index()])
    }

    /// The admin levers but the bed counts (a clip of a count is a fixed count).
    fn clip_fields(&self) -> Vec<FieldId> {
        Field::in_scope(Scope::Admin)
            .filter(|f| !matches!(f, Field::TotalCapacity | Field::FlexPool))
            .map(Field::id)
            .collect()
    }

    /// The coding-gap idiom (Listings 3, 4): a hard veto above a gap threshold.
    fn idiom(&self, field: FieldId, base: &Expr, idioms: bool, rng: &mut Pcg64) -> Option<Expr> {
        if field != Field::CandidateScore.id() || !idioms || !rng.gen_bool(0.5) {
            return None;
        }
        use offline::build::{bin, call, name, num};
        let veto = call(
            "I",
            vec![bin(
                BinOp::Gt,
                name("coding_gap"),
                num(0.2 * rng.gen::<f64>()),
            )],
        );
        Some(bin(
            BinOp::Sub,
            base.clone(),
            bin(BinOp::Mul, num(100.0), veto),
        ))
    }

    /// Sometimes a large indicator on the coding score: a veto, as the listings write them.
    fn indicator_size(&self, field: FieldId, rng: &mut Pcg64) -> f64 {
        if field == Field::CandidateScore.id() && rng.gen_bool(0.3) {
            100.0
        } else {
            self.step(field) * (0.5 + rng.gen::<f64>())
        }
    }

    fn valid(&self, p: &Policy) -> bool {
        offline::checks(medisim_sim::hospital(), p)
    }
}

/// Typical range of a feature, for indicator thresholds.
fn typical(feature: &str) -> (f64, f64) {
    match feature {
        "queue_total" => (0.0, 30.0),
        "queue_max" => (0.0, 8.0),
        "wbar" => (0.0, 4.0),
        "rbar" => (0.0, 0.2),
        "utilization" => (0.3, 1.0),
        "funds" => (-500.0, 3000.0),
        "profit_last" => (-20.0, 40.0),
        "current_total_capacity" => (8.0, 14.0),
        "current_flex_pool" => (0.0, 3.0),
        "reputation" => (0.5, 0.9),
        "period" => (1.0, 200.0),
        "wait" => (0.0, 5.0),
        "tolerance" => (1.0, 8.0),
        "coding_gap" => (0.0, 0.35),
        "upcode_gain" | "upcode_pressure" | "audit_penalty" => (0.0, 2.0),
        "ethics_pressure" => (0.0, 1.5),
        "base_effort" => (1.2, 3.3),
        "margin_pressure" | "kpi_gaming_pressure" => (-0.4, 0.4),
        "effort_quality_pressure" => (-0.8, 1.0),
        "bonus_pressure" => (0.0, 3.0),
        "accept_threshold" | "defer_threshold" => (1.0, 2.0),
        _ => (0.0, 1.0),
    }
}

/// Size of a typical additive step for a field.
fn step(field: Field) -> f64 {
    match field {
        Field::Alpha | Field::Beta => 0.1,
        Field::TotalCapacity | Field::FlexPool => 1.0,
        Field::BonusPool | Field::Xi | Field::Kappa => 0.5,
        Field::WH | Field::WW | Field::WRej | Field::WC => 0.2,
        Field::Effort => 0.2,
        Field::CandidateScore => 0.5,
        _ => 0.1,
    }
}

/// Table 1 style comparison on the held-out seeds.
pub fn table_text(rows: &[MethodRow]) -> String {
    let mut s = format!(
        "{:<16} {:>9} {:>8} {:>8} {:>8} {:>9} {:>9}\n",
        "method", "fitness", "wait", "reject", "upcode", "funds", "violation"
    );
    for r in rows {
        let m = |k: Metric| r.metrics.get(k.name()).copied().unwrap_or(f64::NAN);
        s.push_str(&format!(
            "{:<16} {:>9.4} {:>8.3} {:>8.4} {:>8.3} {:>9.1} {:>9.3}\n",
            r.method,
            m(Metric::Fitness),
            m(Metric::MeanWaiting),
            m(Metric::RejectionRate),
            m(Metric::UpcodingRate),
            m(Metric::TerminalFunds),
            m(Metric::ViolationScore)
        ));
    }
    s
}

const GUARDRAILS: &str =
    "One executable/testable assignment-only medisim_dsl_v1 module, or exact SEARCH/REPLACE blocks.
Top-level: kind, version, admin_policy, doctor_policy.
Admin expr: alpha, beta, total_capacity, bonus_pool, flex_pool, xi, wH, wW, wrej, wC, kappa.
Doctor expr: effort, triage_accept, triage_defer, request_bed, candidate_score.
Calls: I, clip, min, max, abs, round, soft_gt, soft_lt.
No new state/schema fields/mechanisms/hidden calls.
Host clips/projects outputs; dynamics and metrics fixed.";

/// The objective as the evaluator computes it, with this scenario's weights (docs/model.md).
pub fn objective_rules(o: &medisim_sim::scenario::Objective, kind: ObjectiveKind) -> String {
    let reward = match kind {
        ObjectiveKind::Welfare => {
            "welfare: mean true health gain per team - 0.1 * mean wait - 0.5 * rejection rate"
                .to_string()
        }
        ObjectiveKind::Profit => format!("profit: hospital profit / {}", o.profit_scale),
        ObjectiveKind::Mixed => {
            "mixed: 0.5 * ln(max(funds, 1)) / 10 + 0.5 * reputation".to_string()
        }
    };
    format!(
        "Per-period reward ({reward}), discounted by {} into the return G.\n\
         Violation score V (mean over periods) = {} * urgent-rejection share + {} * insolvent \
         + {} * up-coding rate + {} * [mean wait - {}]+ + {} * [high-complexity deferral rate - {}]+.\n\
         Fitness over the evaluation seeds = mean G - {} * mean V - {} * variance of G across seeds.\n\
         Providers respond strategically through coding, selection, delay, effort and triage: a \
         rule that closes one channel can open another, so read the parent's diagnostics.\n\
         A doctor field left out falls back to the simulator's native rule (the fixed heuristic).\n",
        o.discount,
        o.w_urgent_rejection,
        o.w_insolvency,
        o.w_upcoding,
        o.w_waiting,
        o.waiting_limit,
        o.w_high_cmi_deferral,
        o.deferral_limit,
        o.lambda_unsafe,
        o.lambda_var,
    )
}
