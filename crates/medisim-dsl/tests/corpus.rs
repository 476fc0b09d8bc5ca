//! Data-driven tests, as cedar-policy keeps them: each file under `tests/data/` is one case, and
//! its expected output is an insta snapshot beside this file. Add a case by adding a file; run
//! `cargo insta review` to accept its snapshot.
//!
//! - `data/diagnostics/*.policy`: a policy with problems; the snapshot is every error as a user
//!   sees it (`file:line:col`, underline, expectation, hint).
//! - `data/fmt/*.policy`: a policy that checks; the snapshot is `medisim fmt`'s output, which
//!   must also be a fixed point of the formatter and mean the same program (same canonical hash).

mod common;

use common::check_source;
use medisim_dsl::fmt::format_source;
use std::path::Path;

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn diagnostics() {
    insta::glob!("data/diagnostics/*.policy", |path| {
        let src = std::fs::read_to_string(path).unwrap();
        let out = check_source(&src);
        assert!(out.policy.is_none(), "{} should not check", path.display());
        let report: Vec<String> = out.errors().map(|d| d.render(&name(path), &src)).collect();
        insta::assert_snapshot!(report.join("\n"));
    });
}

#[test]
fn formatter() {
    insta::glob!("data/fmt/*.policy", |path| {
        let src = std::fs::read_to_string(path).unwrap();
        let formatted = format_source(&src).unwrap_or_else(|d| panic!("{}: {d:?}", path.display()));
        assert_eq!(
            format_source(&formatted).unwrap(),
            formatted,
            "{}: formatting twice changes the text",
            path.display()
        );
        let hash = |s: &str| common::load(s).unwrap().canonical_hash();
        assert_eq!(
            hash(&src),
            hash(&formatted),
            "{}: formatting changed the program",
            path.display()
        );
        insta::assert_snapshot!(formatted);
    });
}

/// The documented list of diagnostic codes in `docs/dsl.md` is the list the checker can emit.
#[test]
fn every_diagnostic_code_is_documented() {
    let doc = include_str!("../../../docs/dsl.md");
    let start = doc.find("The codes:").expect("docs/dsl.md lists the codes");
    let para = &doc[start..doc[start..].find("\n\n").map_or(doc.len(), |e| start + e)];
    let mut documented: Vec<&str> = para.split('`').skip(1).step_by(2).collect();
    let mut known: Vec<&str> = medisim_dsl::diag::Code::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    documented.sort_unstable();
    known.sort_unstable();
    assert_eq!(documented, known);
}
