//! The canonical program hash: equal for programs that behave the same by construction —
//! differing only in layout, comments, redundant parentheses, number spelling (`0.20` / `0.2`),
//! statement order, header metadata, or spelling out a baseline rule that could be omitted.
//! The search uses it to never evaluate one program twice.

use crate::check::Policy;
use crate::fmt::expr_to_string;
use crate::schema::VERSION;
use sha2::{Digest, Sha256};
use std::fmt;

/// SHA-256 of a policy's canonical text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CanonicalHash(pub [u8; 32]);

impl fmt::Display for CanonicalHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for CanonicalHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CanonicalHash({self})")
    }
}

impl CanonicalHash {
    /// The first 12 hex digits, for tables and logs.
    pub fn short(&self) -> String {
        self.to_string()[..12].to_string()
    }
}

impl Policy {
    /// The text the canonical hash is taken of: the version tag, then every field in schema
    /// order with the expression in force (baseline for omitted fields), printed on one line.
    pub fn canonical_text(&self) -> String {
        let mut s = format!("{VERSION}\n");
        for f in self.schema().field_ids() {
            s.push_str(&self.schema().field(f).name);
            s.push_str(" = ");
            s.push_str(&expr_to_string(self.expr(f)));
            s.push('\n');
        }
        s
    }

    pub fn canonical_hash(&self) -> CanonicalHash {
        CanonicalHash(Sha256::digest(self.canonical_text().as_bytes()).into())
    }
}
