//! The schema as Markdown tables; `docs/dsl.md` embeds this output verbatim (a test keeps
//! the two in step).

use medisim_dsl::schema::{ADMIN_FEATURES, CALLS, DOCTOR_FEATURES, FIELDS};
use std::fmt::Write;

pub fn markdown() -> String {
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
            medisim_dsl::schema::FeatureScope::Patient => "patient (all doctor fields)",
            medisim_dsl::schema::FeatureScope::Care => "care",
            medisim_dsl::schema::FeatureScope::Coding => "coding",
            medisim_dsl::schema::FeatureScope::Admin => "admin",
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
