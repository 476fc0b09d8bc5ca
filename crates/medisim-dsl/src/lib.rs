//! # medisim-dsl: the `medisim_dsl_v1` policy language
//!
//! Owns everything about policy programs and nothing about hospitals: the schema, handed in
//! as data by the host ([`schema`]: fields, features, scopes, calls, the baseline), the parser ([`parser`]), the validator ([`check`]), the
//! compiled evaluator ([`compile`]) and its total semantics ([`sem`]), the canonical printer
//! ([`fmt`]), the canonical hash ([`hash`]) and LLM-style patches ([`patch`]).
//!
//! It depends on no other medisim crate; the simulator, the experiments and the search all
//! depend on it. The pipeline follows cedar-policy's split:
//!
//! ```text
//!                  Schema (data, from the host)
//!                     |
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
pub mod structured;

pub use check::{check_source, CheckOutput, Header, Policy};
pub use compile::{CompiledPolicy, Frame};
pub use diag::{Diagnostic, Severity};
pub use hash::CanonicalHash;
pub use schema::{FieldId, Schema, ScopeId};

/// Parse and check a policy against `schema`, returning it or its error diagnostics.
pub fn load(schema: &std::sync::Arc<Schema>, src: &str) -> Result<Policy, Vec<Diagnostic>> {
    let out = check_source(schema, src);
    out.policy.ok_or_else(|| {
        out.diagnostics
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect()
    })
}

/// The `kind` a policy source declares in its header, if it parses that far: how a host with
/// several schemas (`medisim check` on a hospital or a panel program) picks the one to check
/// against.
pub fn declared_kind(src: &str) -> Option<String> {
    parser::parse_file(src)
        .0
        .items
        .into_iter()
        .find_map(|item| match item {
            ast::Item::Header(h) if h.key == "kind" => Some(h.value),
            _ => None,
        })
}
