//! What each scenario key means, in which unit: `medisim scenario` prints them as TOML
//! comments, and an unknown key is answered with the section it belongs to. A test holds this
//! table to the scenario's keys, so a new key cannot go undocumented.

use medisim_core::params::key_doc as d;
/// One key's unit and meaning (the house's one type): "price units" are the money of the
/// case-mix price, "periods" the simulated time step, "-" a pure number.
pub use medisim_core::params::KeyDoc;

/// Every scenario key, in the order `medisim scenario` prints them.
pub const KEY_DOCS: &[KeyDoc] = &[
    d(
        "seed",
        "-",
        "the scenario's own seed; a run's seeds (--seeds) are combined with it",
    ),
    d(
        "teams",
        "teams",
        "physician teams; beds are shared among them",
    ),
    d(
        "routing",
        "uniform | shortest_queue",
        "how arriving patients register to teams",
    ),
    d(
        "flex_steering",
        "kpi | queue_length",
        "with xi > 0, the flexible pool follows last period's KPI or the teams' backlogs",
    ),
    d(
        "arrivals.kernel",
        "poisson | schedule | negative_binomial | replay",
        "the arrival law (Eq. 10, Appendix L)",
    ),
    d(
        "arrivals.rate",
        "patients / period",
        "mean arrivals per period",
    ),
    d(
        "arrivals.schedule",
        "patients / period",
        "kernel \"schedule\": period t's mean is entry (t - 1) mod length",
    ),
    d(
        "arrivals.dispersion",
        "-",
        "kernel \"negative_binomial\": size; variance = rate + rate^2 / dispersion",
    ),
    d(
        "arrivals.replay_file",
        "path",
        "kernel \"replay\": CSV with period,group,cmi,urgency,tolerance",
    ),
    d(
        "case_mix.shares",
        "-",
        "share of arrivals in each macro-DRG group (0: a coding-only group)",
    ),
    d(
        "case_mix.weights",
        "-",
        "each group's DRG relative weight (reimbursement = price x weight)",
    ),
    d(
        "case_mix.cmi",
        "-",
        "each group's normalised complexity (CMI) at its centre, non-decreasing",
    ),
    d(
        "case_mix.cmi_spread",
        "-",
        "half-width of a patient's uniform CMI spread around its group centre",
    ),
    d(
        "case_mix.price",
        "price units",
        "reimbursement per unit of relative weight",
    ),
    d(
        "case_mix.high_cmi_threshold",
        "-",
        "CMI at or above which a patient counts as high-complexity",
    ),
    d(
        "case_mix.urgency_base",
        "-",
        "urgency = base + slope x CMI + noise, clamped to [0, 1]",
    ),
    d(
        "case_mix.urgency_slope",
        "-",
        "how much more urgent complex patients are",
    ),
    d(
        "case_mix.urgency_noise",
        "-",
        "sd of urgency's normal noise",
    ),
    d(
        "case_mix.tolerance_min",
        "periods",
        "shortest waiting tolerance",
    ),
    d(
        "case_mix.tolerance_range",
        "periods",
        "tolerance = min + U{0..range}, shortened by urgency",
    ),
    d(
        "care.skill",
        "-",
        "each team's skill: team j takes entry j mod length (cycled when there are more teams than entries; entries past the team count are unused)",
    ),
    d(
        "care.lambda",
        "1 / effort",
        "λ: how fast effort buys health (Eq. 12)",
    ),
    d("care.epsilon", "-", "ε: keeps Eq. 12 finite at CMI 0"),
    d(
        "care.omega",
        "price units",
        "ω: scale of the convex effort cost (Eq. 13)",
    ),
    d("care.phi", "-", "φ: convexity of the effort cost (> 1)"),
    d(
        "care.c_fixed",
        "price units",
        "fixed resource cost of a treated case",
    ),
    d("care.effort_base", "effort", "indicated effort at CMI 0"),
    d(
        "care.effort_slope",
        "effort",
        "extra indicated effort per unit of CMI",
    ),
    d(
        "care.untreated_health",
        "-",
        "h0: health an untreated patient keeps at CMI 0",
    ),
    d(
        "care.load_per_bed",
        "effort",
        "Ē: a bed's comfortable load before fatigue",
    ),
    d("care.nu", "-", "ν: weight of fatigue in the team's utility"),
    d(
        "care.fatigue_decay",
        "1 / period",
        "share of fatigue shed each period",
    ),
    d(
        "response.theta",
        "-",
        "θ: weight of bonus money against other money",
    ),
    d(
        "response.health_value",
        "price units / health",
        "V_H: money value of one unit of health to the provider",
    ),
    d(
        "response.utility_scale",
        "price units",
        "U: divides utilities into O(1) pressures",
    ),
    d(
        "response.effort_step",
        "-",
        "η: how far effort follows the utility gradient",
    ),
    d(
        "response.effort_cut",
        "share of effort",
        "most effort may fall below the indicated level",
    ),
    d(
        "response.effort_raise",
        "effort",
        "most effort may rise above the indicated level",
    ),
    d(
        "response.urgency_weight",
        "-",
        "urgency's weight in the clinical triage score",
    ),
    d(
        "response.wait_weight",
        "-",
        "waiting's weight in the clinical triage score",
    ),
    d(
        "response.accept_threshold",
        "-",
        "τ_acc: triage score needed to accept",
    ),
    d(
        "response.defer_threshold",
        "-",
        "τ_def: score (with defer pressure) needed to defer rather than reject",
    ),
    d(
        "response.opportunity_share",
        "-",
        "o: share of the queue's mean value a bed must beat",
    ),
    d(
        "response.defer_cost_relief",
        "-",
        "d_c: cost relief of parking a case, weighted by H(α, β)",
    ),
    d(
        "response.defer_health_loss",
        "-",
        "d_h: health lost by waiting, weighted by β",
    ),
    d(
        "response.bed_threshold",
        "-",
        "score needed to request a bed",
    ),
    d(
        "response.kpi_cost_ref",
        "price units",
        "C_ref: cost on the scale of health in the KPI",
    ),
    d(
        "response.kpi_wait_ref",
        "periods",
        "W_ref: waiting on the scale of health in the KPI (1: in periods)",
    ),
    d(
        "response.triage_noise",
        "-",
        "σ: scale of independent logistic shocks on the accept and defer comparisons",
    ),
    d(
        "response.threshold_spread",
        "share",
        "teams' thresholds differ by up to ± this share",
    ),
    d(
        "response.quality_counterfactual",
        "-",
        "1: the quality motive values the health gain; 0: the outcome H (Eq. 2 as written)",
    ),
    d(
        "response.list_cost",
        "utility / patient per bed",
        "defer_pressure falls by this per patient already on the team's list, per bed",
    ),
    d(
        "response.bed_by_rank",
        "-",
        "the bed signal falls by this for cases the team's better-ranked cases leave no bed for",
    ),
    d(
        "response.kpi_cost_adjustment",
        "share",
        "share of a case's expected cost taken off its cost in the KPI: 0 Eq. 5, 1 risk-adjusted",
    ),
    d(
        "coding.mode",
        "stochastic | deterministic",
        "softmax over scores (L1/L2) or argmax (L3)",
    ),
    d(
        "coding.temperature",
        "-",
        "softmax temperature in stochastic mode",
    ),
    d(
        "coding.gamma_code",
        "-",
        "γ_code: weight of the coding gain (Eq. 11)",
    ),
    d(
        "coding.max_upcode",
        "groups",
        "most groups above the true one a coder may report",
    ),
    d("coding.r0", "-", "r0: base of the ethical cost (Eq. 11)"),
    d(
        "coding.eta_eth",
        "-",
        "η_eth: ethical cost per group of inflation (Eq. 11)",
    ),
    d(
        "coding.audit_counts_clawback",
        "true | false",
        "the coder's expected audit loss counts the clawback as well as the fine",
    ),
    d(
        "audit.base_prob",
        "probability",
        "q: audit probability with no coding gap",
    ),
    d(
        "audit.slope",
        "-",
        "how fast the audit probability rises with the coding gap",
    ),
    d(
        "audit.penalty",
        "x over-payment",
        "λ_pen: fine per unit of over-payment found",
    ),
    d(
        "audit.clawback",
        "true | false",
        "over-payments found are repaid",
    ),
    d(
        "audit.reputation_hit",
        "-",
        "reputation lost per detected up-code",
    ),
    d(
        "finance.initial_funds",
        "price units",
        "the hospital's funds at period 0",
    ),
    d(
        "finance.bed_cost",
        "price units / bed / period",
        "what a staffed bed costs",
    ),
    d(
        "finance.initial_reputation",
        "-",
        "reputation at period 0, in [0, 1]",
    ),
    d(
        "finance.reputation_rate",
        "1 / period",
        "how fast reputation moves towards outcomes",
    ),
    d(
        "objective.discount",
        "-",
        "γ_d: per-period discount of the return (Eq. 3)",
    ),
    d(
        "objective.lambda_unsafe",
        "-",
        "λ_unsafe: weight of violations in fitness (Eq. 8)",
    ),
    d(
        "objective.lambda_var",
        "-",
        "λ_var: weight of return variance in fitness (Eq. 8)",
    ),
    d(
        "objective.profit_scale",
        "price units",
        "profit reward = profit / profit_scale",
    ),
    d(
        "objective.w_urgent_rejection",
        "-",
        "violation weight of rejecting urgent patients",
    ),
    d(
        "objective.w_insolvency",
        "-",
        "violation weight of negative funds",
    ),
    d("objective.w_upcoding", "-", "violation weight of up-coding"),
    d(
        "objective.w_waiting",
        "-",
        "violation weight of waiting above the limit",
    ),
    d(
        "objective.w_high_cmi_deferral",
        "-",
        "violation weight of deferring complex patients",
    ),
    d(
        "objective.urgent_threshold",
        "-",
        "urgency at or above which a rejection is unsafe",
    ),
    d(
        "objective.waiting_limit",
        "periods",
        "mean waiting above this is excessive",
    ),
    d(
        "objective.deferral_limit",
        "share",
        "high-complexity deferral rate above this is excessive",
    ),
];

/// The documentation of a dotted key.
pub fn doc_of(key: &str) -> Option<&'static KeyDoc> {
    KEY_DOCS.iter().find(|d| d.key == key)
}

/// Where a key that is unknown at `section` ("" for the top level) belongs: the dotted keys
/// elsewhere whose last part is the same name.
pub fn belongs_in(section: &str, name: &str) -> Vec<&'static str> {
    KEY_DOCS
        .iter()
        .filter(|d| {
            let (s, n) = d.key.rsplit_once('.').unwrap_or(("", d.key));
            n == name && s != section
        })
        .map(|d| d.key)
        .collect()
}
