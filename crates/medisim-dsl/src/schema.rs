//! The fixed schema of `medisim_dsl_v1`: the fields a policy may assign, the features each
//! field may read, their types and legal ranges, and the calls.
//!
//! The schema is the contract between a policy and the host simulator. It is closed: a policy
//! cannot add a field, a feature or a call (paper, Listing 5). The host computes every feature
//! and enforces every field's range by clipping or projection ([`AdminLevers::project`],
//! [`FieldSpec::project`]).

use std::fmt;

/// The two value types of the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    Num,
    Bool,
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ty::Num => "number",
            Ty::Bool => "bool",
        })
    }
}

/// The two sections of a policy file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    Admin,
    Doctor,
}

impl Section {
    pub const ALL: [Section; 2] = [Section::Admin, Section::Doctor];

    /// The section header as written in a file, without brackets.
    pub fn name(self) -> &'static str {
        match self {
            Section::Admin => "admin_policy",
            Section::Doctor => "doctor_policy",
        }
    }

    pub fn from_name(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Where a field is evaluated, which decides the features it may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Once per period, on hospital aggregates.
    Admin,
    /// Per team and candidate patient in Produce (effort, triage, bed request).
    Care,
    /// Per patient and candidate reported group in Identify (coding).
    Coding,
}

/// A field's legal range, enforced by the host after evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Range {
    /// Clipped to `[lo, hi]`.
    Real { lo: f64, hi: f64 },
    /// Rounded half away from zero, then clipped to `[lo, hi]`.
    Integer { lo: f64, hi: f64 },
    /// Rounded, then clipped to `[0, total_capacity]` after `total_capacity` is projected.
    FlexPool,
    /// A bool: any non-zero value is true.
    Flag,
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Range::Real { lo, hi } => write!(f, "real in [{lo}, {hi}]"),
            Range::Integer { lo, hi } => write!(f, "integer in [{lo}, {hi}]"),
            Range::FlexPool => f.write_str("integer in [0, total_capacity]"),
            Range::Flag => f.write_str("true / false"),
        }
    }
}

/// Every assignable field, in canonical order (admin first, then doctor).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Field {
    Alpha,
    Beta,
    TotalCapacity,
    BonusPool,
    FlexPool,
    Xi,
    WH,
    WW,
    WRej,
    WC,
    Kappa,
    Effort,
    TriageAccept,
    TriageDefer,
    RequestBed,
    CandidateScore,
}

/// Static description of one field.
#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    pub field: Field,
    pub name: &'static str,
    pub section: Section,
    pub scope: Scope,
    pub ty: Ty,
    pub range: Range,
    pub doc: &'static str,
}

const fn real(lo: f64, hi: f64) -> Range {
    Range::Real { lo, hi }
}

/// The field table, indexed by `Field as usize`.
pub const FIELDS: [FieldSpec; 16] = {
    use Field::*;
    use Scope as Sc;
    use Section::{Admin as A, Doctor as D};
    macro_rules! f {
        ($f:ident, $n:literal, $sec:expr, $sc:expr, $ty:ident, $r:expr, $doc:literal) => {
            FieldSpec {
                field: $f,
                name: $n,
                section: $sec,
                scope: $sc,
                ty: Ty::$ty,
                range: $r,
                doc: $doc,
            }
        };
    }
    [
        f!(Alpha, "alpha", A, Sc::Admin, Num, real(0.0, 1.0), "provider financial sensitivity α in the team utility (Eq. 2)"),
        f!(Beta, "beta", A, Sc::Admin, Num, real(0.0, 1.0), "provider quality sensitivity β in the team utility (Eq. 2)"),
        f!(TotalCapacity, "total_capacity", A, Sc::Admin, Num, Range::Integer { lo: 1.0, hi: 64.0 }, "total bed capacity B_tot per period, dedicated plus flexible"),
        f!(BonusPool, "bonus_pool", A, Sc::Admin, Num, real(0.0, 100.0), "bonus pool B_pool shared by the KPI tournament (Eq. 15)"),
        f!(FlexPool, "flex_pool", A, Sc::Admin, Num, Range::FlexPool, "flexible capacity B_flex, the part of B_tot reallocated across teams each period"),
        f!(Xi, "xi", A, Sc::Admin, Num, real(0.0, 10.0), "KPI-steering strength ξ for the flexible pool; 0 allocates it by static shares"),
        f!(WH, "wH", A, Sc::Admin, Num, real(0.0, 10.0), "KPI weight on mean true health (Eq. 5)"),
        f!(WW, "wW", A, Sc::Admin, Num, real(0.0, 10.0), "KPI weight on mean waiting (Eq. 5)"),
        f!(WRej, "wrej", A, Sc::Admin, Num, real(0.0, 10.0), "KPI weight on the rejection rate (Eq. 5)"),
        f!(WC, "wC", A, Sc::Admin, Num, real(0.0, 10.0), "KPI weight on mean treatment cost (Eq. 5)"),
        f!(Kappa, "kappa", A, Sc::Admin, Num, real(0.0, 20.0), "softmax sharpness κ of the bonus tournament (Eq. 14)"),
        f!(Effort, "effort", D, Sc::Care, Num, real(0.0, 10.0), "treatment effort E for an accepted patient (Eqs. 12-13)"),
        f!(TriageAccept, "triage_accept", D, Sc::Care, Bool, Range::Flag, "accept the patient this period"),
        f!(TriageDefer, "triage_defer", D, Sc::Care, Bool, Range::Flag, "keep a non-accepted patient queued; otherwise the patient is rejected"),
        f!(RequestBed, "request_bed", D, Sc::Care, Bool, Range::Flag, "request the constrained resource R for an accepted patient (Eq. 12)"),
        f!(CandidateScore, "candidate_score", D, Sc::Coding, Num, real(-1.0e6, 1.0e6), "score of one candidate reported group; softmax or argmax picks the coded group (Eq. 11)"),
    ]
};

impl Field {
    pub const ALL: [Field; 16] = {
        let mut out = [Field::Alpha; 16];
        let mut i = 0;
        while i < 16 {
            out[i] = FIELDS[i].field;
            i += 1;
        }
        out
    };

    pub fn spec(self) -> &'static FieldSpec {
        &FIELDS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn from_name(name: &str) -> Option<Field> {
        FIELDS.iter().find(|f| f.name == name).map(|f| f.field)
    }

    /// The fields evaluated together in one scope, in canonical order.
    pub fn in_scope(scope: Scope) -> impl Iterator<Item = Field> {
        Field::ALL
            .into_iter()
            .filter(move |f| f.spec().scope == scope)
    }
}

impl FieldSpec {
    /// Clip or round a raw program output into the field's legal range. `FlexPool` needs the
    /// projected total capacity; use [`AdminLevers::project`] for the admin bundle.
    pub fn project(&self, raw: f64) -> f64 {
        match self.range {
            Range::Real { lo, hi } => raw.clamp(lo, hi),
            Range::Integer { lo, hi } => raw.round().clamp(lo, hi),
            Range::FlexPool => raw.round().max(0.0),
            Range::Flag => f64::from(u8::from(raw != 0.0)),
        }
    }
}

/// Who may read a feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FeatureScope {
    /// Admin expressions only.
    Admin,
    /// Every doctor expression (care and coding).
    Patient,
    /// Care expressions: effort, triage_accept, triage_defer, request_bed.
    Care,
    /// Coding expressions: candidate_score.
    Coding,
}

impl FeatureScope {
    /// Whether a field evaluated in `scope` may read a feature of this scope.
    pub fn readable_from(self, scope: Scope) -> bool {
        matches!(
            (self, scope),
            (FeatureScope::Admin, Scope::Admin)
                | (FeatureScope::Patient, Scope::Care | Scope::Coding)
                | (FeatureScope::Care, Scope::Care)
                | (FeatureScope::Coding, Scope::Coding)
        )
    }

    pub fn describe(self) -> &'static str {
        match self {
            FeatureScope::Admin => "an admin feature",
            FeatureScope::Patient => "a patient feature",
            FeatureScope::Care => "a care feature (effort, triage, bed request)",
            FeatureScope::Coding => "a coding feature (candidate_score)",
        }
    }
}

/// Static description of one feature.
#[derive(Clone, Copy, Debug)]
pub struct FeatureSpec {
    pub name: &'static str,
    pub scope: FeatureScope,
    pub ty: Ty,
    /// Human-readable range, as the host guarantees it.
    pub range: &'static str,
    pub doc: &'static str,
}

macro_rules! feature_table {
    ($enum:ident, $table:ident, [$( $var:ident = $name:literal, $scope:ident, $ty:ident, $range:literal, $doc:literal; )*]) => {
        /// Feature slots of this frame kind; `as usize` is the slot index.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum $enum { $($var),* }

        pub const $table: &[FeatureSpec] = &[
            $(FeatureSpec { name: $name, scope: FeatureScope::$scope, ty: Ty::$ty, range: $range, doc: $doc }),*
        ];

        impl $enum {
            pub const ALL: &'static [$enum] = &[$($enum::$var),*];
            pub fn spec(self) -> &'static FeatureSpec { &$table[self as usize] }
            pub fn slot(self) -> usize { self as usize }
        }
    };
}

feature_table!(AdminFeature, ADMIN_FEATURES, [
    QueueTotal = "queue_total", Admin, Num, ">= 0", "patients waiting in all team queues at the start of the period";
    QueueMax = "queue_max", Admin, Num, ">= 0", "length of the longest team queue at the start of the period";
    Wbar = "wbar", Admin, Num, ">= 0", "mean waiting time (periods) of patients that left the queue last period";
    Rbar = "rbar", Admin, Num, "[0, 1]", "rejection rate last period (rejected / decided)";
    Utilization = "utilization", Admin, Num, "[0, 1]", "beds used / beds available last period";
    Funds = "funds", Admin, Num, "any", "hospital funds F_t at the start of the period";
    ProfitLast = "profit_last", Admin, Num, "any", "hospital profit last period: reimbursement - cost - penalties - bonuses";
    CurrentTotalCapacity = "current_total_capacity", Admin, Num, "integer >= 1", "total capacity B_tot in force last period";
    CurrentFlexPool = "current_flex_pool", Admin, Num, "integer >= 0", "flexible pool B_flex in force last period";
    Reputation = "reputation", Admin, Num, "[0, 1]", "public reputation Rep_t (Eq. 6)";
    Period = "period", Admin, Num, "integer >= 1", "current period t, starting at 1";
]);

feature_table!(DoctorFeature, DOCTOR_FEATURES, [
    Urgency = "urgency", Patient, Num, "[0, 1]", "clinical urgency Urg_i";
    Wait = "wait", Patient, Num, ">= 0", "periods the patient has waited so far";
    Complexity = "complexity", Patient, Num, "[0, 1]", "true complexity CMI*_i";
    Tolerance = "tolerance", Patient, Num, ">= 0", "periods of waiting tolerance left before the patient leaves";
    BaseEffort = "base_effort", Care, Num, ">= 0", "clinically indicated effort for this patient";
    EffortQualityPressure = "effort_quality_pressure", Care, Num, "any", "effort shift from the local gradient of Eq. 2: quality and bonus pull up, cost pushes down";
    ClinicalTriageScore = "clinical_triage_score", Care, Num, "any", "clinical case for treating now (urgency, waiting, health gain)";
    MarginPressure = "margin_pressure", Care, Num, "any", "α-weighted expected margin of treating this patient";
    QualityPressure = "quality_pressure", Care, Num, "any", "β-weighted expected health gain of treating this patient";
    BedAvailabilitySignal = "bed_availability_signal", Care, Num, "[0, 1]", "share of the team's beds still free this period";
    TriageFatiguePressure = "triage_fatigue_pressure", Care, Num, ">= 0", "marginal fatigue penalty of one more case (Eq. 2, ν term)";
    KpiGamingPressure = "kpi_gaming_pressure", Care, Num, "any", "bonus-pressure-weighted KPI effect of accepting this patient";
    AcceptThreshold = "accept_threshold", Care, Num, "any", "score an accept decision must reach";
    DeferPressure = "defer_pressure", Care, Num, "any", "cost-relief value of postponing this patient (strategic delay)";
    DeferThreshold = "defer_threshold", Care, Num, "any", "score a defer decision must reach; below it the patient is rejected";
    BedAvailable = "bed_available", Care, Bool, "true / false", "the team has a free bed this period";
    ClinicalBedScore = "clinical_bed_score", Care, Num, "any", "clinical need for the constrained resource";
    BedQualityPressure = "bed_quality_pressure", Care, Num, "any", "β-weighted health gain of the resource";
    BedCostPressure = "bed_cost_pressure", Care, Num, ">= 0", "α-weighted fixed cost of the resource";
    BedFatiguePressure = "bed_fatigue_pressure", Care, Num, ">= 0", "fatigue cost of occupying a bed";
    BedThreshold = "bed_threshold", Care, Num, "any", "score a bed request must reach";
    BonusPressure = "bonus_pressure", Care, Num, ">= 0", "the team's marginal bonus pressure B_pool κ s_j (1 - s_j) (Eq. 16)";
    Fatigue = "fatigue", Care, Num, ">= 0", "the team's current fatigue (load above capacity, smoothed)";
    UpcodePressure = "upcode_pressure", Coding, Num, "any", "α γ_code ΔR(g): incentive to report candidate g (Eq. 11, first term)";
    UpcodeGain = "upcode_gain", Coding, Num, "any", "ΔR(g): extra reimbursement of candidate g over the true group";
    AuditPenalty = "audit_penalty", Coding, Num, ">= 0", "p_audit(Δc) λ_pen [ΔR]+: expected audit penalty (Eq. 11, second term)";
    EthicsPressure = "ethics_pressure", Coding, Num, ">= 0", "r0 η_eth [Δc]+: ethical cost of inflating complexity (Eq. 11, third term)";
    CodingGap = "coding_gap", Coding, Num, "[-1, 1]", "Δc(g): coded minus true complexity of candidate g";
]);

/// A feature looked up by name, in the frame of its scope.
#[derive(Clone, Copy, Debug)]
pub struct FeatureRef {
    pub spec: &'static FeatureSpec,
    /// Slot index in the frame: [`AdminFeature`] for admin, [`DoctorFeature`] otherwise.
    pub slot: usize,
}

/// Look a feature up by name in either table.
pub fn feature(name: &str) -> Option<FeatureRef> {
    ADMIN_FEATURES
        .iter()
        .chain(DOCTOR_FEATURES)
        .position(|f| f.name == name)
        .map(|i| {
            let (spec, slot) = if i < ADMIN_FEATURES.len() {
                (&ADMIN_FEATURES[i], i)
            } else {
                let j = i - ADMIN_FEATURES.len();
                (&DOCTOR_FEATURES[j], j)
            };
            FeatureRef { spec, slot }
        })
}

/// Number of feature slots in the frame of a scope.
pub fn slot_count(scope: Scope) -> usize {
    match scope {
        Scope::Admin => ADMIN_FEATURES.len(),
        Scope::Care | Scope::Coding => DOCTOR_FEATURES.len(),
    }
}

/// The built-in calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    I,
    Clip,
    Min,
    Max,
    Abs,
    Round,
    SoftGt,
    SoftLt,
}

/// Static description of one call.
#[derive(Clone, Copy, Debug)]
pub struct CallSpec {
    pub call: Call,
    pub name: &'static str,
    /// Argument types; a variadic call repeats the last one.
    pub params: &'static [Ty],
    pub variadic: bool,
    pub ret: Ty,
    pub signature: &'static str,
    pub doc: &'static str,
}

/// Temperature of `soft_gt` / `soft_lt`: `soft_gt(x, y) = 1 / (1 + exp(-(x - y) / SOFT_TEMPERATURE))`.
pub const SOFT_TEMPERATURE: f64 = 0.1;

pub const CALLS: [CallSpec; 8] = [
    CallSpec {
        call: Call::I,
        name: "I",
        params: &[Ty::Bool],
        variadic: false,
        ret: Ty::Num,
        signature: "I(b: bool) -> number",
        doc: "indicator: 1 if b is true, else 0",
    },
    CallSpec {
        call: Call::Clip,
        name: "clip",
        params: &[Ty::Num, Ty::Num, Ty::Num],
        variadic: false,
        ret: Ty::Num,
        signature: "clip(x, lo, hi) -> number",
        doc: "min(max(x, lo), hi); if lo > hi the result is hi",
    },
    CallSpec {
        call: Call::Min,
        name: "min",
        params: &[Ty::Num, Ty::Num],
        variadic: true,
        ret: Ty::Num,
        signature: "min(x, y, ...) -> number",
        doc: "smallest of two or more numbers",
    },
    CallSpec {
        call: Call::Max,
        name: "max",
        params: &[Ty::Num, Ty::Num],
        variadic: true,
        ret: Ty::Num,
        signature: "max(x, y, ...) -> number",
        doc: "largest of two or more numbers",
    },
    CallSpec {
        call: Call::Abs,
        name: "abs",
        params: &[Ty::Num],
        variadic: false,
        ret: Ty::Num,
        signature: "abs(x) -> number",
        doc: "absolute value",
    },
    CallSpec {
        call: Call::Round,
        name: "round",
        params: &[Ty::Num],
        variadic: false,
        ret: Ty::Num,
        signature: "round(x) -> number",
        doc: "nearest integer, halves away from zero (round(2.5) = 3, round(-2.5) = -3)",
    },
    CallSpec {
        call: Call::SoftGt,
        name: "soft_gt",
        params: &[Ty::Num, Ty::Num],
        variadic: false,
        ret: Ty::Num,
        signature: "soft_gt(x, y) -> number",
        doc: "smooth x > y: logistic((x - y) / 0.1), in [0, 1]; 0.5 when x = y",
    },
    CallSpec {
        call: Call::SoftLt,
        name: "soft_lt",
        params: &[Ty::Num, Ty::Num],
        variadic: false,
        ret: Ty::Num,
        signature: "soft_lt(x, y) -> number",
        doc: "smooth x < y: soft_gt(y, x)",
    },
];

impl Call {
    pub fn spec(self) -> &'static CallSpec {
        CALLS
            .iter()
            .find(|c| c.call == self)
            .expect("every call has a spec")
    }

    pub fn from_name(name: &str) -> Option<Call> {
        CALLS.iter().find(|c| c.name == name).map(|c| c.call)
    }
}

/// Header keys and the values the schema accepts.
pub const HEADER_KEYS: [&str; 4] = ["kind", "version", "name", "description"];
/// The only `kind` this version knows.
pub const KIND: &str = "hospital_policy";
/// The version tag of this schema.
pub const VERSION: &str = "medisim_dsl_v1";

/// Guardrail: most expression nodes in one statement.
pub const MAX_NODES: usize = 400;
/// Guardrail: deepest nesting of parentheses, calls and unary operators in one statement.
pub const MAX_NESTING: usize = 32;
/// Guardrail: largest policy source accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 256 * 1024;

/// The projected admin levers of one period, in the host's units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdminLevers {
    pub alpha: f64,
    pub beta: f64,
    pub total_capacity: u32,
    pub bonus_pool: f64,
    pub flex_pool: u32,
    pub xi: f64,
    pub w_h: f64,
    pub w_w: f64,
    pub w_rej: f64,
    pub w_c: f64,
    pub kappa: f64,
}

impl AdminLevers {
    /// Project raw admin outputs (in [`Field`] order) into their legal ranges; `flex_pool`
    /// is bounded by the projected `total_capacity`.
    pub fn project(raw: &[f64; 11]) -> AdminLevers {
        let p = |f: Field| f.spec().project(raw[f as usize]);
        let total = p(Field::TotalCapacity);
        AdminLevers {
            alpha: p(Field::Alpha),
            beta: p(Field::Beta),
            total_capacity: total as u32,
            bonus_pool: p(Field::BonusPool),
            flex_pool: p(Field::FlexPool).min(total) as u32,
            xi: p(Field::Xi),
            w_h: p(Field::WH),
            w_w: p(Field::WW),
            w_rej: p(Field::WRej),
            w_c: p(Field::WC),
            kappa: p(Field::Kappa),
        }
    }
}

/// The language reference as Markdown tables: every field with its type, legal range and
/// meaning, every feature with its scope, and every call. `medisim schema` prints it,
/// `docs/dsl.md` embeds it verbatim (a test keeps the two in step), and the LLM operator's prompt
/// carries it.
pub fn reference_markdown() -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "### Fields\n\n| field | section | evaluated | type | legal range (host clips or projects) | meaning |\n|---|---|---|---|---|---|");
    for f in FIELDS {
        let _ = writeln!(
            s,
            "| `{}` | {} | {:?} | {} | {} | {} |",
            f.name,
            f.section.name(),
            f.scope,
            f.ty,
            f.range,
            f.doc
        );
    }
    let _ = writeln!(s, "\n### Admin features (readable by admin fields)\n\n| feature | type | range | meaning |\n|---|---|---|---|");
    for f in ADMIN_FEATURES {
        let _ = writeln!(s, "| `{}` | {} | {} | {} |", f.name, f.ty, f.range, f.doc);
    }
    let _ = writeln!(s, "\n### Doctor features\n\nPatient features are readable by every doctor field; care features by `effort`, `triage_accept`, `triage_defer` and `request_bed`; coding features by `candidate_score` only.\n\n| feature | readable by | type | range | meaning |\n|---|---|---|---|---|");
    for f in DOCTOR_FEATURES {
        let who = match f.scope {
            FeatureScope::Patient => "patient (all doctor fields)",
            FeatureScope::Care => "care",
            FeatureScope::Coding => "coding",
            FeatureScope::Admin => "admin",
        };
        let _ = writeln!(
            s,
            "| `{}` | {who} | {} | {} | {} |",
            f.name, f.ty, f.range, f.doc
        );
    }
    let _ = writeln!(s, "\n### Calls\n\n| call | meaning |\n|---|---|");
    for c in CALLS {
        let _ = writeln!(s, "| `{}` | {} |", c.signature, c.doc);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_table_is_indexed_by_discriminant() {
        for (i, spec) in FIELDS.iter().enumerate() {
            assert_eq!(spec.field as usize, i, "{}", spec.name);
        }
    }

    #[test]
    fn names_are_unique_across_fields_features_and_calls() {
        let mut names: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        names.extend(ADMIN_FEATURES.iter().map(|f| f.name));
        names.extend(DOCTOR_FEATURES.iter().map(|f| f.name));
        names.extend(CALLS.iter().map(|c| c.name));
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    #[test]
    fn flex_pool_is_bounded_by_projected_total_capacity() {
        let mut raw = [0.0; 11];
        raw[Field::TotalCapacity as usize] = 3.4;
        raw[Field::FlexPool as usize] = 7.0;
        raw[Field::Alpha as usize] = 1.7;
        let lv = AdminLevers::project(&raw);
        assert_eq!(lv.total_capacity, 3);
        assert_eq!(lv.flex_pool, 3);
        assert_eq!(lv.alpha, 1.0);
    }
}
