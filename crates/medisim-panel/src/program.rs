//! Payment rules as policies: the panel's payment schema handed to the policy language, and the
//! host that resolves a payment program into the contract the provider models answer.
//!
//! The schema (`policies/panel.schema.toml`) gives a program only features that are fixed
//! before the provider decides — the state, the treatment, its list fee, the configuration's
//! terms — so a program resolves, once per disease model, into a fee table by state and
//! treatment plus the three shared-risk numbers ([`PaymentProgram::resolve`]). The provider's
//! one-year problem then stays the linear program the myopic MILP solves, whatever the program
//! says; only the shared-risk asymmetry matters to the exact DP and Q-learning, and they refuse
//! it by the fields' names ([`crate::provider::ProviderSpec::validate`]).

use crate::disease::DiseaseModel;
use crate::payment::{Basis, Payment};
use crate::PanelError;
use medisim_dsl::{CanonicalHash, CompiledPolicy, Diagnostic, Policy, Schema};
use std::sync::{Arc, OnceLock};

/// The schema file, as shipped.
pub const SCHEMA_SOURCE: &str = include_str!("../../../policies/panel.schema.toml");
/// The schema's baseline: the configuration's `[payment]` keys as code.
pub const BASELINE_SOURCE: &str = include_str!("../../../policies/panel/configured.policy");
/// The `kind` a payment program declares in its header.
pub const KIND: &str = "panel_payment";

/// The panel's payment schema, with its baseline.
pub fn schema() -> &'static Arc<Schema> {
    static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| Schema::shipped(SCHEMA_SOURCE, BASELINE_SOURCE, "panel payment"))
}

/// Parse and check a payment program.
pub fn check_source(src: &str) -> medisim_dsl::CheckOutput {
    medisim_dsl::check_source(schema(), src)
}

/// A checked, compiled payment program, compared by its canonical hash.
#[derive(Clone, Debug)]
pub struct PaymentProgram {
    policy: Policy,
    compiled: Arc<CompiledPolicy>,
    hash: CanonicalHash,
}

impl PartialEq for PaymentProgram {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash
    }
}

/// The contract a program resolved to: shared-risk terms and the payment for a living patient-year
/// in each state under each treatment.
struct Resolved {
    reward_rate: f64,
    penalty_rate: f64,
    reference: f64,
    table: Vec<Vec<f64>>,
}

impl PaymentProgram {
    /// Parse, check and compile a payment program; its error diagnostics otherwise.
    pub fn load(src: &str) -> Result<Self, Vec<Diagnostic>> {
        let policy = medisim_dsl::load(schema(), src)?;
        Ok(Self::from_policy(policy))
    }

    pub fn from_policy(policy: Policy) -> Self {
        PaymentProgram {
            compiled: Arc::new(CompiledPolicy::new(&policy)),
            hash: policy.canonical_hash(),
            policy,
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn hash(&self) -> &CanonicalHash {
        &self.hash
    }

    /// The configuration's `payment` with this program's rules in force: its shared-risk terms
    /// and a payment table by state and treatment for the disease model `d`. The provider's
    /// margin stays the configuration's (it is the provider's cost, not the payer's rule).
    pub fn resolve(
        &self,
        pay: &Payment,
        d: &dyn DiseaseModel,
        patients: usize,
        years: usize,
    ) -> Result<Payment, PanelError> {
        let r = self.evaluate(pay, d, patients, years);
        let resolved = Payment {
            reward_rate: r.reward_rate,
            penalty_rate: r.penalty_rate,
            reference: r.reference,
            table: Some(Arc::new(r.table)),
            ..pay.clone()
        };
        resolved
            .validate(d.states().len())
            .map_err(|e| PanelError::Invalid {
                key: format!("payment program `{}`", self.policy.header.name),
                message: e.to_string(),
            })?;
        Ok(resolved)
    }

    fn evaluate(
        &self,
        pay: &Payment,
        d: &dyn DiseaseModel,
        patients: usize,
        years: usize,
    ) -> Resolved {
        let s = schema();
        let contract = s
            .scope_id("contract")
            .expect("the schema has a contract scope");
        let patient = s
            .scope_id("patient")
            .expect("the schema has a patient scope");
        let block = self.compiled.block(contract);
        let mut frame = block.frame();
        for (name, v) in [
            ("configured_reward_rate", pay.reward_rate),
            ("configured_penalty_rate", pay.penalty_rate),
            ("configured_reference", pay.reference),
            ("panel_size", patients as f64),
            ("horizon_years", years as f64),
        ] {
            frame.set(slot(s, name), v);
        }
        block.eval(&mut frame);
        let out = |b: &medisim_dsl::compile::Block, f: &medisim_dsl::Frame, name: &str| {
            let id = s.field_id(name).expect("a field of the schema");
            let i = b
                .fields()
                .iter()
                .position(|x| *x == id)
                .expect("the field's scope evaluates it");
            s.field(id).project(b.output(f, i))
        };
        let (reward_rate, penalty_rate, reference) = (
            out(block, &frame, "reward_rate"),
            out(block, &frame, "penalty_rate"),
            out(block, &frame, "reference"),
        );
        let block = self.compiled.block(patient);
        let mut frame = block.frame();
        let ffs = f64::from(u8::from(pay.basis == Basis::Ffs));
        let table = (0..d.states().len())
            .map(|m| {
                (0..d.treatments().len())
                    .map(|k| {
                        for (name, v) in [
                            ("health_state", m as f64),
                            ("treatment", k as f64),
                            ("list_fee", d.treatments()[k].fee),
                            (
                                "scheduled_capitation",
                                pay.capitation.get(m).copied().unwrap_or(0.0),
                            ),
                            ("fee_for_service", ffs),
                            (
                                "expected_complication_cost",
                                d.expected_complication_cost(m, k),
                            ),
                            ("qaly_weight", d.utility(m)),
                        ] {
                            frame.set(slot(s, name), v);
                        }
                        block.eval(&mut frame);
                        out(block, &frame, "fee_payment") + out(block, &frame, "capitation")
                    })
                    .collect()
            })
            .collect();
        Resolved {
            reward_rate,
            penalty_rate,
            reference,
            table,
        }
    }
}

fn slot(s: &Schema, name: &str) -> usize {
    s.feature(name)
        .unwrap_or_else(|| panic!("`{name}` is a feature of the panel schema"))
        .slot
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_and_its_baseline_load() {
        let s = schema();
        assert_eq!(s.kind, KIND);
        for name in [
            "fee_payment",
            "capitation",
            "reward_rate",
            "penalty_rate",
            "reference",
        ] {
            assert!(s.field_id(name).is_some(), "{name}");
        }
    }
}
