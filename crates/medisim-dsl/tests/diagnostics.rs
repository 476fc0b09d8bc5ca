//! The wording and placement of the main diagnostics, pinned by snapshots. Each case is a
//! small policy with one problem; the snapshot is the rendered report a user sees.

use medisim_dsl::check::{check_source, decode};

const HEAD: &str = "kind = \"hospital_policy\"\nversion = \"medisim_dsl_v1\"\nname = \"t\"\n";

/// Render every error of `body` (appended to a valid header).
fn report(body: &str) -> String {
    let src = format!("{HEAD}{body}");
    let out = check_source(&src);
    assert!(out.policy.is_none(), "expected an error in:\n{src}");
    out.errors()
        .map(|d| d.render("test.policy", &src))
        .collect::<Vec<_>>()
        .join("\n")
}

macro_rules! snap {
    ($name:ident, $body:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(report($body));
        }
    };
}

snap!(
    unknown_feature_suggests_nearest,
    "[admin_policy]\nalpha = 0.5 + 0.1 * I(wbarr > 2)\n"
);
snap!(
    unknown_field_suggests_nearest,
    "[admin_policy]\nalhpa = 0.5\n"
);
snap!(field_in_wrong_section, "[admin_policy]\neffort = 1\n");
snap!(
    number_where_bool_expected,
    "[doctor_policy]\ntriage_accept = clinical_triage_score + 0.1\n"
);
snap!(
    bool_in_arithmetic,
    "[admin_policy]\nalpha = 0.5 + (wbar > 2)\n"
);
snap!(
    duplicate_field,
    "[admin_policy]\nalpha = 0.5\nbeta = 0.5\nalpha = 0.6\n"
);
snap!(
    unclosed_paren_then_next_statement,
    "[admin_policy]\nalpha = min(1, 2\nbeta = 0.5\n"
);
snap!(
    chained_comparison,
    "[admin_policy]\nalpha = I(0 < wbar < 2)\n"
);
snap!(assign_to_feature, "[admin_policy]\nwbar = 3\n");
snap!(
    doctor_feature_in_admin_expression,
    "[admin_policy]\nalpha = 0.5 + 0.1 * urgency\n"
);
snap!(
    coding_feature_in_care_expression,
    "[doctor_policy]\neffort = base_effort + upcode_gain\n"
);
snap!(unknown_call, "[admin_policy]\nalpha = exp(wbar)\n");
snap!(wrong_arity, "[admin_policy]\nalpha = clip(wbar, 0)\n");
snap!(missing_operator, "[admin_policy]\nalpha = 0.5 wbar\n");
snap!(
    read_a_field,
    "[admin_policy]\ntotal_capacity = total_capacity + 1\n"
);
snap!(unknown_section, "[admin_polcy]\nalpha = 0.5\n");

#[test]
fn missing_header_entries_are_named() {
    let src = "name = \"x\"\n[admin_policy]\nalpha = 0.5\n";
    let out = check_source(src);
    let msgs: Vec<String> = out.errors().map(|d| d.message.clone()).collect();
    insta::assert_snapshot!(msgs.join("\n"));
}

#[test]
fn several_problems_give_one_diagnostic_each() {
    let src = format!("{HEAD}[admin_policy]\nalpha = wbarr\nbeta = (1 +\ngamma = 2\nkappa = 3 3\n[doctor_policy]\neffort = urgency > 1\n");
    let out = check_source(&src);
    let lines: Vec<String> = out.errors().map(|d| d.short("test.policy", &src)).collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn non_utf8_bytes_are_located() {
    let mut bytes = format!("{HEAD}[admin_policy]\nalpha = 0.5 # caf").into_bytes();
    bytes.extend_from_slice(&[0xe9, b'\n']);
    let (lossy, d) = decode(&bytes).unwrap_err();
    insta::assert_snapshot!(d.render("latin1.policy", &lossy));
}
