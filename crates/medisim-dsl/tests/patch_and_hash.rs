//! SEARCH/REPLACE patches and full rewrites, and the canonical hash.

use medisim_dsl::patch::{
    apply_blocks, edit_and_check, parse_blocks, parse_edit, Edit, EditFailure, PatchError,
};
mod common;

use common::{baseline, field, hospital, load};

/// The neutral seed of Listing 4 as printed in the paper, in sections.
const SRC: &str = r#"kind = "hospital_policy"
version = "medisim_dsl_v1"
name = "neutral"

[admin_policy]
alpha = 0.5; beta = 0.5
total_capacity = current_total_capacity; flex_pool = current_flex_pool
bonus_pool = 5.0; xi = 0.0
wH = 1.0; wW = 0.20; wrej = 1.0; wC = 0.10; kappa = 2.0

[doctor_policy]
triage_accept = (clinical_triage_score + margin_pressure + quality_pressure
+ bed_availability_signal - triage_fatigue_pressure
+ kpi_gaming_pressure) >= accept_threshold
triage_defer = (not ((clinical_triage_score + margin_pressure + quality_pressure
+ bed_availability_signal - triage_fatigue_pressure
+ kpi_gaming_pressure) >= accept_threshold)) and ((clinical_triage_score
+ margin_pressure + quality_pressure + bed_availability_signal
- triage_fatigue_pressure + kpi_gaming_pressure) + defer_pressure
>= defer_threshold)
request_bed = bed_available and ((clinical_bed_score + bed_quality_pressure
- bed_cost_pressure + bed_availability_signal - bed_fatigue_pressure)
>= bed_threshold)
candidate_score = upcode_pressure - audit_penalty - ethics_pressure
"#;

fn block(search: &str, replace: &str) -> String {
    format!("<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n")
}

#[test]
fn a_matching_block_is_applied_and_rechecked() {
    let response = format!(
        "I will lower alpha.\n{}",
        block("alpha = 0.5; beta = 0.5", "alpha = 0.45; beta = 0.55")
    );
    let (text, policy) = edit_and_check(hospital(), SRC, &response).unwrap();
    assert!(text.contains("alpha = 0.45; beta = 0.55"));
    assert_eq!(policy.expr(field("alpha")).to_string(), "0.45");
    assert_eq!(policy.expr(field("beta")).to_string(), "0.55");
}

#[test]
fn several_blocks_apply_in_order() {
    let response = block("kappa = 2.0", "kappa = 3.0") + &block("kappa = 3.0", "kappa = 4.0");
    let (_, policy) = edit_and_check(hospital(), SRC, &response).unwrap();
    assert_eq!(policy.expr(field("kappa")).to_string(), "4");
}

#[test]
fn a_block_that_matches_nothing_is_an_error_with_a_hint() {
    let blocks = parse_blocks(&block("alpha = 0.6; beta = 0.5", "alpha = 0.1")).unwrap();
    let err = apply_blocks(SRC, &blocks).unwrap_err();
    assert_eq!(
        err,
        PatchError::NoMatch {
            block: 1,
            hint: Some("alpha = 0.5; beta = 0.5".into())
        }
    );
    assert!(err.to_string().contains("matches nothing"), "{err}");
}

#[test]
fn a_block_that_matches_twice_is_an_error() {
    // `accept_threshold` occurs in both triage rules.
    let blocks = parse_blocks(&block(">= accept_threshold", ">= accept_threshold + 0.1")).unwrap();
    assert_eq!(
        apply_blocks(SRC, &blocks).unwrap_err(),
        PatchError::Ambiguous { block: 1, count: 2 }
    );
}

#[test]
fn malformed_and_empty_blocks_are_errors() {
    assert!(matches!(
        parse_blocks("<<<<<<< SEARCH\nalpha = 0.5\n=======\nalpha = 1\n"),
        Err(PatchError::Malformed { line: 1, .. })
    ));
    assert!(matches!(
        parse_blocks("=======\n"),
        Err(PatchError::Malformed { line: 1, .. })
    ));
    let blocks = parse_blocks(&block("", "alpha = 1")).unwrap();
    assert_eq!(
        apply_blocks(SRC, &blocks).unwrap_err(),
        PatchError::EmptySearch { block: 1 }
    );
}

#[test]
fn a_full_rewrite_in_a_fence_is_extracted() {
    let rewrite = "kind = \"hospital_policy\"\nversion = \"medisim_dsl_v1\"\nname = \"r\"\n[admin_policy]\nalpha = 0.3\n";
    let response = format!("Here is the policy:\n```policy\n{rewrite}```\nDone.");
    assert_eq!(
        parse_edit(&response).unwrap(),
        Edit::Rewrite(rewrite.to_string())
    );
    let (_, policy) = edit_and_check(hospital(), SRC, &response).unwrap();
    assert_eq!(policy.expr(field("alpha")).to_string(), "0.3");
    // Omitted fields take the baseline, not the parent's rules.
    assert!(policy
        .expr(field("beta"))
        .same(baseline().expr(field("beta"))));
}

#[test]
fn a_response_with_no_edit_and_a_patch_that_breaks_the_policy_are_refused() {
    assert!(matches!(
        edit_and_check(hospital(), SRC, "I think alpha should go down."),
        Err(EditFailure::Patch(PatchError::NoEdit))
    ));
    let bad = block("kappa = 2.0", "kappa = 2.0 + urgency");
    match edit_and_check(hospital(), SRC, &bad) {
        Err(EditFailure::Check { diagnostics, .. }) => {
            assert!(diagnostics
                .iter()
                .any(|d| d.code == medisim_dsl::diag::Code::WrongScope))
        }
        other => panic!("expected a check failure, got {other:?}"),
    }
}

#[test]
fn layout_comments_parens_order_and_explicit_baseline_rules_do_not_change_the_hash() {
    let a = load(SRC).unwrap();
    let reformatted = medisim_dsl::fmt::format_source(SRC).unwrap();
    let b = load(&reformatted).unwrap();
    let explicit_effort = SRC.replace(
        "[doctor_policy]\n",
        "[doctor_policy]\n# spelled out\neffort = (base_effort) + (effort_quality_pressure)\n",
    );
    let c = load(&explicit_effort).unwrap();
    let reordered = SRC
        .replace("alpha = 0.5; beta = 0.5", "beta = 0.50\nalpha = ((0.5))")
        .replace("name = \"neutral\"", "name = \"other\"");
    let d = load(&reordered).unwrap();
    let h = a.canonical_hash();
    assert_eq!(h, b.canonical_hash());
    assert_eq!(h, c.canonical_hash());
    assert_eq!(h, d.canonical_hash());
    assert_eq!(h.to_string().len(), 64);
}

#[test]
fn any_behavioural_change_changes_the_hash() {
    let a = load(SRC).unwrap().canonical_hash();
    for (from, to) in [
        ("kappa = 2.0", "kappa = 2.01"),
        ("alpha = 0.5;", "alpha = 0.5 + 0 * wbar;"),
        ("- audit_penalty", "- 0.9 * audit_penalty"),
    ] {
        let changed = load(&SRC.replacen(from, to, 1)).unwrap().canonical_hash();
        assert_ne!(a, changed, "{from} -> {to}");
    }
    // Regrouping an expression changes its meaning under saturation, so it changes the hash.
    let regrouped = SRC.replace(
        "upcode_pressure - audit_penalty - ethics_pressure",
        "upcode_pressure - (audit_penalty + ethics_pressure)",
    );
    assert_ne!(a, load(&regrouped).unwrap().canonical_hash());
}

/// The hash a policy keeps is dropped when a field changes: after `fix`, the hash is that of
/// the same program loaded fresh, not the one taken before.
#[test]
fn a_kept_hash_follows_a_changed_field() {
    let mut p = load(SRC).unwrap();
    let before = p.canonical_hash();
    p.fix(field("alpha"), 0.7);
    let fresh = load(&SRC.replace("alpha = 0.5", "alpha = 0.7")).unwrap();
    assert_ne!(p.canonical_hash(), before);
    assert_eq!(p.canonical_hash(), fresh.canonical_hash());
    let copy = p.clone();
    assert_eq!(copy.canonical_hash(), fresh.canonical_hash());
}
