//! The language's tests run on the hospital schema, read as data from the repository's
//! `policies/` folder exactly as Medi-Sim reads it (the language crate imports no model).

#![allow(dead_code)]

use medisim_dsl::schema::{FieldId, Schema, ScopeId};
use medisim_dsl::Policy;
use std::sync::{Arc, OnceLock};

pub fn hospital() -> &'static Arc<Schema> {
    static S: OnceLock<Arc<Schema>> = OnceLock::new();
    S.get_or_init(|| {
        Schema::from_toml(include_str!("../../../../policies/hospital.schema.toml"))
            .unwrap()
            .with_baseline(include_str!("../../../../policies/baseline.policy"))
            .unwrap()
    })
}

/// The panel's payment schema, read as data like the hospital's.
pub fn panel() -> &'static Arc<Schema> {
    static S: OnceLock<Arc<Schema>> = OnceLock::new();
    S.get_or_init(|| {
        Schema::from_toml(include_str!("../../../../policies/panel.schema.toml"))
            .unwrap()
            .with_baseline(include_str!("../../../../policies/panel/configured.policy"))
            .unwrap()
    })
}

/// The schema a shipped policy declares by its header's `kind`.
pub fn schema_for(src: &str) -> &'static Arc<Schema> {
    match medisim_dsl::declared_kind(src).as_deref() {
        Some(kind) if kind == panel().kind => panel(),
        _ => hospital(),
    }
}

pub fn baseline() -> &'static Policy {
    static B: OnceLock<Policy> = OnceLock::new();
    B.get_or_init(|| load(include_str!("../../../../policies/baseline.policy")).unwrap())
}

pub fn load(src: &str) -> Result<Policy, Vec<medisim_dsl::Diagnostic>> {
    medisim_dsl::load(hospital(), src)
}

pub fn check_source(src: &str) -> medisim_dsl::CheckOutput {
    medisim_dsl::check_source(hospital(), src)
}

/// A field by name.
pub fn field(name: &str) -> FieldId {
    hospital().field_id(name).unwrap()
}

/// A scope by name.
pub fn scope(name: &str) -> ScopeId {
    hospital().scope_id(name).unwrap()
}
