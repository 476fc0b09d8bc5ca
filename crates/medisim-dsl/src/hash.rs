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
        // One write of 64 digits (the search keys every lookup by the text).
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 64];
        for (pair, b) in hex.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(b >> 4)];
            pair[1] = DIGITS[usize::from(b & 0xf)];
        }
        f.write_str(std::str::from_utf8(&hex).expect("hex digits are ASCII"))
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

    /// The SHA-256 of [`Policy::canonical_text`], taken once and kept until a field changes
    /// ([`Policy::set`]).
    pub fn canonical_hash(&self) -> CanonicalHash {
        CanonicalHash(
            *self
                .canonical_cache()
                .get_or_init(|| Sha256::digest(self.canonical_text().as_bytes()).into()),
        )
    }

    /// The canonical hash if it has been taken and the fields have not changed since: a cache
    /// keyed by it (a compiled program) costs nothing for a policy nobody hashed.
    pub fn kept_canonical_hash(&self) -> Option<CanonicalHash> {
        self.canonical_cache().get().copied().map(CanonicalHash)
    }
}
