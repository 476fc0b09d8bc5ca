//! Diagnostics that a corpus file cannot hold (bytes that are not UTF-8). The wording and
//! placement of every other diagnostic is pinned by the data-driven corpus, `tests/corpus.rs`.

use medisim_dsl::check::decode;

const HEAD: &str = "kind = \"hospital_policy\"\nversion = \"medisim_dsl_v1\"\nname = \"t\"\n";

#[test]
fn non_utf8_bytes_are_located() {
    let mut bytes = format!("{HEAD}[admin_policy]\nalpha = 0.5 # caf").into_bytes();
    bytes.extend_from_slice(&[0xe9, b'\n']);
    let (lossy, d) = decode(&bytes).unwrap_err();
    insta::assert_snapshot!(d.render("latin1.policy", &lossy));
}

mod common;

/// A field assigned with an error gets the error and no note that it "is not assigned"; a field
/// really left out still gets that note.
#[test]
fn a_field_with_an_error_is_not_also_called_unassigned() {
    let src = format!("{HEAD}[doctor_policy]\neffort = base_effort + effort_typo\n");
    let out = common::check_source(&src);
    let said: Vec<String> = out.diagnostics.iter().map(|d| d.message.clone()).collect();
    assert!(
        said.iter()
            .any(|m| m.contains("unknown feature `effort_typo`")),
        "{said:?}"
    );
    assert!(
        !said
            .iter()
            .any(|m| m.contains("field `effort` is not assigned")),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|m| m.contains("field `triage_accept` is not assigned")),
        "{said:?}"
    );
}
