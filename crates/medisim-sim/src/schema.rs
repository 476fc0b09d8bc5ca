//! Medi-Sim's policy schema and its typed views.
//!
//! The schema itself is data, `policies/hospital.schema.toml`, handed to the policy language
//! (which knows nothing about hospitals) together with the baseline policy,
//! `policies/baseline.policy`. This module loads the pair once and gives the rest of the
//! simulator typed names for what it reads and writes: [`Field`] for the fields a policy
//! assigns, [`Scope`] for where they are evaluated, [`AdminFeature`] and [`DoctorFeature`] for
//! the feature slots the engine fills, and [`HospitalProgram`] for a compiled policy whose
//! outputs are found by field, not by position. A test holds every view to the schema file.

use medisim_dsl::schema::{FieldDef, FieldId, Schema, ScopeId};
use medisim_dsl::{CheckOutput, CompiledPolicy, Diagnostic, Frame, Policy};
use std::sync::{Arc, OnceLock};

/// The schema file, as shipped.
pub const SCHEMA_SOURCE: &str = include_str!("../../../policies/hospital.schema.toml");
/// The baseline policy: the simulator's native rules (paper §3), which supply every field a
/// policy omits.
pub const BASELINE_SOURCE: &str = include_str!("../../../policies/baseline.policy");

/// Medi-Sim's schema, with its baseline.
pub fn hospital() -> &'static Arc<Schema> {
    static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| Schema::shipped(SCHEMA_SOURCE, BASELINE_SOURCE, "hospital"))
}

/// The baseline policy.
pub fn baseline() -> &'static Policy {
    static BASELINE: OnceLock<Policy> = OnceLock::new();
    BASELINE.get_or_init(|| load(BASELINE_SOURCE).expect("the baseline checks (schema tests)"))
}

/// Parse and check a hospital policy.
pub fn check_source(src: &str) -> CheckOutput {
    medisim_dsl::check_source(hospital(), src)
}

/// Parse and check a hospital policy, returning it or its error diagnostics.
pub fn load(src: &str) -> Result<Policy, Vec<Diagnostic>> {
    medisim_dsl::load(hospital(), src)
}

macro_rules! names {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant,)* }

        impl $name {
            pub const ALL: [$name; [$(stringify!($variant)),*].len()] = [$($name::$variant),*];

            /// The name in the schema file.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            pub fn from_name(name: &str) -> Option<$name> {
                Self::ALL.into_iter().find(|v| v.name() == name)
            }
        }
    };
}

names!(
    /// The fields a hospital policy assigns, in the schema's canonical order.
    Field {
        Alpha = "alpha",
        Beta = "beta",
        TotalCapacity = "total_capacity",
        BonusPool = "bonus_pool",
        FlexPool = "flex_pool",
        Xi = "xi",
        WH = "wH",
        WW = "wW",
        WRej = "wrej",
        WC = "wC",
        Kappa = "kappa",
        Effort = "effort",
        TriageAccept = "triage_accept",
        TriageDefer = "triage_defer",
        RequestBed = "request_bed",
        CandidateScore = "candidate_score",
    }
);

names!(
    /// Where a field is evaluated: once per period (admin), per patient and team (care), per
    /// patient and candidate group (coding).
    Scope {
        Admin = "admin",
        Care = "care",
        Coding = "coding",
    }
);

names!(
    /// The admin frame's feature slots, in schema order.
    AdminFeature {
        QueueTotal = "queue_total",
        QueueMax = "queue_max",
        Wbar = "wbar",
        Rbar = "rbar",
        Utilization = "utilization",
        Funds = "funds",
        ProfitLast = "profit_last",
        CurrentTotalCapacity = "current_total_capacity",
        CurrentFlexPool = "current_flex_pool",
        Reputation = "reputation",
        Period = "period",
    }
);

names!(
    /// The doctor frame's feature slots (patient, care and coding features), in schema order.
    DoctorFeature {
        Urgency = "urgency",
        Wait = "wait",
        Complexity = "complexity",
        Tolerance = "tolerance",
        BaseEffort = "base_effort",
        EffortQualityPressure = "effort_quality_pressure",
        ClinicalTriageScore = "clinical_triage_score",
        MarginPressure = "margin_pressure",
        QualityPressure = "quality_pressure",
        BedAvailabilitySignal = "bed_availability_signal",
        TriageFatiguePressure = "triage_fatigue_pressure",
        KpiGamingPressure = "kpi_gaming_pressure",
        AcceptThreshold = "accept_threshold",
        DeferPressure = "defer_pressure",
        DeferThreshold = "defer_threshold",
        BedAvailable = "bed_available",
        ClinicalBedScore = "clinical_bed_score",
        BedQualityPressure = "bed_quality_pressure",
        BedCostPressure = "bed_cost_pressure",
        BedFatiguePressure = "bed_fatigue_pressure",
        BedThreshold = "bed_threshold",
        BonusPressure = "bonus_pressure",
        Fatigue = "fatigue",
        UpcodePressure = "upcode_pressure",
        UpcodeGain = "upcode_gain",
        AuditPenalty = "audit_penalty",
        EthicsPressure = "ethics_pressure",
        CodingGap = "coding_gap",
    }
);

impl Field {
    pub fn id(self) -> FieldId {
        FieldId(self as u16)
    }

    /// The field's definition in the schema: type, legal range, meaning.
    pub fn spec(self) -> &'static FieldDef {
        hospital().field(self.id())
    }

    /// The fields evaluated together in one scope, in canonical order.
    pub fn in_scope(scope: Scope) -> impl Iterator<Item = Field> {
        Field::ALL
            .into_iter()
            .filter(move |f| f.spec().scope_id() == scope.id())
    }
}

impl From<Field> for FieldId {
    fn from(f: Field) -> FieldId {
        f.id()
    }
}

impl Scope {
    pub fn id(self) -> ScopeId {
        ScopeId(self as u8)
    }

    pub fn of(id: ScopeId) -> Scope {
        Scope::ALL[id.index()]
    }
}

impl AdminFeature {
    pub fn slot(self) -> usize {
        self as usize
    }
}

impl DoctorFeature {
    pub fn slot(self) -> usize {
        self as usize
    }
}

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
    /// Project raw admin outputs (indexed by [`Field`]) into their legal ranges; `flex_pool`
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

/// Where each care output sits in the compiled care block.
#[derive(Clone, Copy, Debug)]
pub struct CareOutputs {
    pub effort: usize,
    pub accept: usize,
    pub defer: usize,
    pub bed: usize,
}

/// A compiled hospital policy, read through typed views.
#[derive(Clone, Debug)]
pub struct HospitalProgram {
    compiled: CompiledPolicy,
    /// The care block's outputs, resolved by field once at compile time.
    pub care_out: CareOutputs,
    /// The coding block's score output.
    pub score_out: usize,
    admin_out: [usize; 11],
}

impl HospitalProgram {
    /// Compile a policy checked against the hospital schema.
    pub fn new(policy: &Policy) -> Self {
        let compiled = CompiledPolicy::new(policy);
        // Every field is in its scope's block (the schema test pins the scopes), so these
        // positions always resolve.
        let at = |scope: Scope, f: Field| compiled.block(scope.id()).position(f.id()).unwrap_or(0);
        let mut admin_out = [0; 11];
        for (k, f) in Field::in_scope(Scope::Admin).enumerate().take(11) {
            admin_out[k] = at(Scope::Admin, f);
        }
        HospitalProgram {
            care_out: CareOutputs {
                effort: at(Scope::Care, Field::Effort),
                accept: at(Scope::Care, Field::TriageAccept),
                defer: at(Scope::Care, Field::TriageDefer),
                bed: at(Scope::Care, Field::RequestBed),
            },
            score_out: at(Scope::Coding, Field::CandidateScore),
            admin_out,
            compiled,
        }
    }

    pub fn admin(&self) -> &medisim_dsl::compile::Block {
        self.compiled.block(Scope::Admin.id())
    }

    pub fn care(&self) -> &medisim_dsl::compile::Block {
        self.compiled.block(Scope::Care.id())
    }

    pub fn coding(&self) -> &medisim_dsl::compile::Block {
        self.compiled.block(Scope::Coding.id())
    }

    /// Evaluate the admin block on `frame` and project the levers into their legal ranges.
    pub fn admin_levers(&self, frame: &mut Frame) -> AdminLevers {
        let admin = self.admin();
        admin.eval(frame);
        let mut raw = [0.0; 11];
        for (r, k) in raw.iter_mut().zip(self.admin_out) {
            *r = admin.output(frame, k);
        }
        AdminLevers::project(&raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_typed_views_name_the_schema_in_order() {
        let s = hospital();
        let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
        let typed: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names, typed);
        for scope in Scope::ALL {
            assert_eq!(s.scope(scope.id()).name, scope.name());
        }
        let admin: Vec<&str> = s.frame_features(0).map(|f| f.def.name.as_str()).collect();
        let doctor: Vec<&str> = s.frame_features(1).map(|f| f.def.name.as_str()).collect();
        assert_eq!(
            admin,
            AdminFeature::ALL
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()
        );
        assert_eq!(
            doctor,
            DoctorFeature::ALL
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()
        );
        for f in AdminFeature::ALL {
            assert_eq!(s.feature(f.name()).unwrap().slot, f.slot());
        }
        for f in DoctorFeature::ALL {
            assert_eq!(s.feature(f.name()).unwrap().slot, f.slot());
        }
        // The admin levers are the first eleven fields, all evaluated in the admin scope.
        let admin_fields: Vec<Field> = Field::in_scope(Scope::Admin).collect();
        assert_eq!(admin_fields, Field::ALL[..11]);
        assert_eq!(
            Field::in_scope(Scope::Care).collect::<Vec<_>>(),
            [
                Field::Effort,
                Field::TriageAccept,
                Field::TriageDefer,
                Field::RequestBed
            ]
        );
        assert_eq!(
            Field::in_scope(Scope::Coding).collect::<Vec<_>>(),
            [Field::CandidateScore]
        );
    }

    #[test]
    fn compiled_outputs_are_found_by_field() {
        let p = HospitalProgram::new(baseline());
        let fields = p.care().fields();
        assert_eq!(fields[p.care_out.effort], Field::Effort.id());
        assert_eq!(fields[p.care_out.accept], Field::TriageAccept.id());
        assert_eq!(fields[p.care_out.defer], Field::TriageDefer.id());
        assert_eq!(fields[p.care_out.bed], Field::RequestBed.id());
        assert_eq!(p.coding().fields()[p.score_out], Field::CandidateScore.id());
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
