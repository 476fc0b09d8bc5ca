//! Hostile inputs (issue 11): every reader ends in a clear error that names the input, in
//! bounded time and bounded output. Each case is one the adversarial pass found.

mod common;

use common::{medisim, text, within, GOOD};
use std::time::Duration;

const SECONDS: Duration = Duration::from_secs(10);
const HEAD: &str =
    "kind = \"hospital_policy\"\nversion = \"medisim_dsl_v1\"\nname = \"t\"\n[admin_policy]\n";

fn file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

#[test]
fn an_error_past_column_65535_is_located_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!("{HEAD}alpha = 0.5{}+ wbar $\n", " ".repeat(70_000));
    let p = file(&dir, "wide.policy", src.as_bytes());
    for cmd in ["check", "hash", "fmt"] {
        let (out, _) = within(SECONDS, &[cmd, &p]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {err}");
        assert!(
            err.contains("wide.policy:5:70019") && err.contains("bad-token"),
            "{cmd}: {err}"
        );
        // The line is shown as a window around the problem, not 70,000 columns wide.
        assert!(err.len() < 4_000, "{cmd}: {} bytes of report", err.len());
    }
    let (out, _) = within(
        SECONDS,
        &["run", "--policy", &p, "--seeds", "1", "--horizon", "2"],
    );
    assert!(text(&out.stderr).contains("wide.policy:5:70019"));
}

#[test]
fn a_line_of_a_hundred_thousand_bad_tokens_gives_a_screenful() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!("{HEAD}alpha = {}\n", "$ ".repeat(100_000));
    let p = file(&dir, "flood.policy", src.as_bytes());
    let (out, _) = within(SECONDS, &["check", &p]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.len() < 50_000, "{} bytes of report", err.len());
    assert!(
        err.contains("and 99981 more in") && err.contains("first 20"),
        "{err}"
    );
}

#[test]
fn line_breaks_inside_parentheses_parse_in_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    // 250 KB, under the 256 KiB limit: this shape took about 150 s when the scan was quadratic.
    let src = format!("{HEAD}alpha = ({}1)\n", "\n".repeat(250_000));
    let p = file(&dir, "breaks.policy", src.as_bytes());
    let (out, took) = within(SECONDS, &["check", &p]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(took < SECONDS);
}

#[test]
fn every_command_reads_a_policy_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let mut latin1 = format!("{} # caf", GOOD.trim_end()).into_bytes();
    latin1.extend_from_slice(&[0xe9, b'\n']);
    let p = file(&dir, "latin1.policy", &latin1);
    for args in [
        vec!["check", &p],
        vec!["hash", &p],
        vec!["fmt", &p],
        vec!["run", "--policy", &p, "--seeds", "1", "--horizon", "2"],
    ] {
        let out = medisim(&args);
        let err = text(&out.stderr);
        assert!(
            !out.status.success(),
            "{args:?} accepted a non-UTF-8 policy"
        );
        assert!(
            err.contains("latin1.policy:5:") && err.contains("not valid UTF-8"),
            "{args:?}: {err}"
        );
    }
    let big = file(
        &dir,
        "big.policy",
        format!("{GOOD}{}", "#\n".repeat(140_000)).as_bytes(),
    );
    for cmd in ["check", "hash"] {
        let err = text(&medisim(&[cmd, &big]).stderr);
        assert!(
            err.contains("big.policy") && err.contains("262144"),
            "{cmd}: {err}"
        );
    }
}
