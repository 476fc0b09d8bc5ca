//! # medisim-dsl: the `medisim_dsl_v1` policy language
//!
//! Owns everything about policy programs and nothing about hospitals: the schema of fields,
//! features and calls ([`schema`]), the parser ([`parser`]), the validator ([`check`]), the
//! compiled evaluator ([`compile`]) and its total semantics ([`sem`]), the canonical printer
//! ([`fmt`]), the canonical hash ([`hash`]) and LLM-style patches ([`patch`]).
//!
//! It depends on no other medisim crate; the simulator, the experiments and the search all
//! depend on it. The pipeline follows cedar-policy's split:
//!
//! ```text
//! source --parse--> ast::File --check--> check::Policy --compile--> compile::CompiledPolicy
//!                                            |                         (eval on a Frame)
//!                                            +--> fmt / hash / patch
//! ```
//!
//! A policy cannot escape its sandbox by construction: the language has no loops, no user
//! functions, no state and no I/O; every name it may read is a host-computed feature; every
//! value it writes is clipped or projected by the host; every operation is total.

pub mod ast;
pub mod check;
pub mod compile;
pub mod diag;
pub mod fmt;
pub mod hash;
pub mod lexer;
pub mod parser;
pub mod patch;
pub mod schema;
pub mod sem;
pub mod span;

pub use check::{baseline, check_source, CheckOutput, Header, Policy};
pub use compile::{CompiledPolicy, Frame};
pub use diag::{Diagnostic, Severity};
pub use hash::CanonicalHash;
pub use schema::{AdminFeature, AdminLevers, DoctorFeature, Field, Scope};

/// Parse and check a policy, returning it or its error diagnostics.
pub fn load(src: &str) -> Result<Policy, Vec<Diagnostic>> {
    let out = check_source(src);
    out.policy.ok_or_else(|| {
        out.diagnostics
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect()
    })
}
