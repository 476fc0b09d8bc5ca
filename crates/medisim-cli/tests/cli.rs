//! The command line as a user runs it: exit codes, messages, files written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn medisim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medisim"))
        .args(args)
        .output()
        .expect("runs")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const GOOD: &str = "kind = \"hospital_policy\"\nversion = \"medisim_dsl_v1\"\nname = \"t\"\n[admin_policy]\nalpha = (0.4)\n";

#[test]
fn check_accepts_every_shipped_policy_and_names_omitted_fields() {
    let dir = root().join("policies");
    let mut files: Vec<String> = vec![dir.join("baseline.policy").display().to_string()];
    for sub in ["library", "discovered"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            files.push(e.unwrap().path().display().to_string());
        }
    }
    let args: Vec<&str> = std::iter::once("check")
        .chain(files.iter().map(String::as_str))
        .collect();
    let out = medisim(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("neutral.policy  (baseline rule for: effort)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn check_reports_location_expectation_and_suggestion_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.policy");
    std::fs::write(
        &bad,
        GOOD.replace("alpha = (0.4)", "alpha = 0.4 + I(wbarr > 1)\nbeta = (0.5"),
    )
    .unwrap();
    let out = medisim(&["check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.policy:5:17: error[unknown-feature]: unknown feature `wbarr`"),
        "{err}"
    );
    assert!(err.contains("did you mean `wbar`?"), "{err}");
    assert!(err.contains("expected `)`"), "{err}");
    assert!(err.contains("2 errors in 1 file"), "{err}");
}

#[test]
fn check_survives_bytes_that_are_not_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("latin1.policy");
    let mut bytes = GOOD.as_bytes().to_vec();
    bytes.extend_from_slice(b"# caf\xe9\n");
    std::fs::write(&bad, bytes).unwrap();
    let out = medisim(&["check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("latin1.policy:6:6: error[not-utf8]"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn missing_file_is_a_usage_error() {
    let out = medisim(&["check", "/nonexistent/x.policy"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read /nonexistent/x.policy"));
}

#[test]
fn fmt_rewrites_in_place_and_check_mode_only_reports() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.policy");
    std::fs::write(&p, GOOD).unwrap();
    let out = medisim(&["fmt", "--check", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        GOOD,
        "--check must not write"
    );
    assert!(medisim(&["fmt", p.to_str().unwrap()]).status.success());
    let formatted = std::fs::read_to_string(&p).unwrap();
    assert!(formatted.contains("\nalpha = 0.4\n"), "{formatted}");
    assert!(medisim(&["fmt", "--check", p.to_str().unwrap()])
        .status
        .success());
    // Layout changed, behaviour did not.
    let h1 = text(&medisim(&["hash", p.to_str().unwrap()]).stdout);
    std::fs::write(&p, GOOD).unwrap();
    let h2 = text(&medisim(&["hash", p.to_str().unwrap()]).stdout);
    assert_eq!(h1.split_whitespace().next(), h2.split_whitespace().next());
}

#[test]
fn patch_applies_a_search_replace_edit_and_rejects_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.policy");
    std::fs::write(&p, GOOD).unwrap();
    let edit = dir.path().join("edit.txt");
    std::fs::write(
        &edit,
        "<<<<<<< SEARCH\nalpha = (0.4)\n=======\nalpha = 0.3\n>>>>>>> REPLACE\n",
    )
    .unwrap();
    let out = medisim(&[
        "patch",
        p.to_str().unwrap(),
        edit.to_str().unwrap(),
        "--in-place",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(&p).unwrap().contains("alpha = 0.3"));
    std::fs::write(
        &edit,
        "<<<<<<< SEARCH\nalpha = 0.3\n=======\nalpha = urgency\n>>>>>>> REPLACE\n",
    )
    .unwrap();
    let out = medisim(&[
        "patch",
        p.to_str().unwrap(),
        edit.to_str().unwrap(),
        "--in-place",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("wrong-scope"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        std::fs::read_to_string(&p).unwrap().contains("alpha = 0.3"),
        "a failed patch leaves the file alone"
    );
}

#[test]
fn the_language_reference_embeds_the_current_schema() {
    let schema = text(&medisim(&["schema"]).stdout);
    let doc = std::fs::read_to_string(root().join("docs/dsl.md")).unwrap();
    assert!(
        doc.contains(&schema),
        "docs/dsl.md is out of date: paste the output of `medisim schema` into it"
    );
}
