//! The paper's listings parse as printed, and the shipped policies are faithful to them.

mod common;

use common::{baseline, field, hospital};
use medisim_dsl::check::check_statements;
use medisim_dsl::Policy;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn listing(name: &str) -> Policy {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/listings")
            .join(name),
    )
    .unwrap();
    let out = check_statements(hospital(), &text, name);
    let errors: Vec<String> = out
        .diagnostics
        .iter()
        .map(|d| d.short(name, &text))
        .collect();
    out.policy.unwrap_or_else(|| {
        panic!(
            "{name} must parse and check as printed:\n{}",
            errors.join("\n")
        )
    })
}

fn shipped(rel: &str) -> Policy {
    let path = root().join("policies").join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    common::load(&text).unwrap_or_else(|d| panic!("{rel}: {d:?}"))
}

#[test]
fn listing_1_parses_verbatim_and_matches_the_shipped_welfare_policy() {
    let l = listing("listing1.txt");
    assert!(
        l.omitted().next().is_none(),
        "Listing 1 assigns every field"
    );
    assert!(l.same_behaviour(&shipped("discovered/welfare_k200.policy")));
}

#[test]
fn listing_2_parses_verbatim_and_matches_the_shipped_profit_policy() {
    let l = listing("listing2.txt");
    assert!(l.omitted().next().is_none());
    assert!(l.same_behaviour(&shipped("discovered/profit_k200.policy")));
}

#[test]
fn listing_3_parses_verbatim_and_matches_the_shipped_mixed_policy() {
    let l = listing("listing3.txt");
    assert!(l.omitted().next().is_none());
    assert!(l.same_behaviour(&shipped("discovered/mixed_k200.policy")));
}

#[test]
fn listing_4_iteration_0_parses_verbatim_and_is_the_neutral_template() {
    let l = listing("listing4_iteration0.txt");
    // The neutral seed does not assign effort: it takes the baseline rule.
    assert_eq!(l.omitted().collect::<Vec<_>>(), vec![field("effort")]);
    assert!(l.same_behaviour(&shipped("library/neutral.policy")));
}

#[test]
fn listing_4_final_policy_differs_from_its_seed_only_where_the_trace_edits() {
    let seed = shipped("library/neutral.policy");
    let last = shipped("discovered/mixed_k300_final.policy");
    // The trace edits every admin field and every doctor field except effort.
    for f in hospital().field_ids() {
        let same = seed.expr(f).same(last.expr(f));
        match hospital().field(f).name.as_str() {
            "effort" => assert!(same, "effort is never edited in the trace"),
            "alpha" | "beta" => assert!(!same),
            _ => {}
        }
    }
    assert!(!seed.same_behaviour(&last));
    let text = last.expr(field("candidate_score")).to_string();
    assert!(
        text.contains("0.7 * upcode_pressure") && text.contains("100 * I(coding_gap > 0.2)"),
        "{text}"
    );
}

fn all_policy_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root().join("policies")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "policy") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_shipped_policy_checks_and_is_canonically_formatted() {
    let files = all_policy_files();
    assert!(
        files.len() >= 14,
        "baseline + 9 library + 4 discovered, found {}",
        files.len()
    );
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let out = medisim_dsl::check_source(common::schema_for(&text), &text);
        assert!(
            !out.has_errors(),
            "{}: {:?}",
            path.display(),
            out.diagnostics
        );
        let formatted = medisim_dsl::fmt::format_source(&text).unwrap();
        assert_eq!(
            formatted,
            text,
            "{} is not in canonical layout (run medisim fmt)",
            path.display()
        );
    }
}

#[test]
fn the_library_holds_the_nine_warm_start_policies_with_distinct_behaviour() {
    let names = [
        "neutral",
        "fixed_heuristic",
        "greedy_profit",
        "greedy_quality",
        "high_alpha_acceptance",
        "high_capacity",
        "high_flex",
        "aggressive_coding",
        "conservative_coding",
    ];
    let hashes: std::collections::BTreeSet<_> = names
        .iter()
        .map(|n| shipped(&format!("library/{n}.policy")).canonical_hash())
        .collect();
    assert_eq!(hashes.len(), 9);
    // The fixed heuristic mirrors the baseline exactly.
    assert_eq!(
        shipped("library/fixed_heuristic.policy").canonical_hash(),
        baseline().canonical_hash()
    );
}
