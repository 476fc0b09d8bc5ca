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
    let edit = file(
        &dir,
        "edit.txt",
        b"<<<<<<< SEARCH\nalpha = 0.5\n=======\nalpha = 0.5\n>>>>>>> REPLACE\n",
    );
    let (out, _) = within(SECONDS, &["patch", &p, &edit]);
    let err = text(&out.stderr);
    assert!(
        err.contains("(patched):5:70019") && err.len() < 4_000,
        "patch: {err}"
    );
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

/// `medisim ARGS` fails, within the time limit, with a message holding every one of `want`.
fn refused(args: &[&str], want: &[&str]) {
    let (out, _) = within(SECONDS, args);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{args:?} was accepted");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    for w in want {
        assert!(err.contains(w), "{args:?}: `{w}` not in: {err}");
    }
}

#[test]
fn scenario_values_outside_their_range_are_refused_with_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let replay = file(
        &dir,
        "r.csv",
        b"period,group,cmi,urgency,tolerance\n4294967295,0,0.1,0.3,4\n",
    );
    for (toml, key, range) in [
        ("[arrivals]\nrate = 1e7\n", "arrivals.rate", "(0, 500]"),
        ("[arrivals]\nrate = 1e6\n", "arrivals.rate", "(0, 500]"),
        (
            "[arrivals]\nkernel = \"schedule\"\nschedule = [1e7]\n",
            "arrivals.schedule",
            "[0, 500]",
        ),
        (
            "[case_mix]\nprice = 1e308\n",
            "case_mix.price",
            "(0, 10000]",
        ),
        (
            "[case_mix]\ncmi_spread = 1e300\n",
            "case_mix.cmi_spread",
            "[0, 0.5]",
        ),
        (
            "[objective]\nw_upcoding = nan\n",
            "objective.w_upcoding",
            "got NaN",
        ),
    ] {
        let s = file(&dir, "s.toml", toml.as_bytes());
        refused(&["run", "--scenario", &s, "--seeds", "1"], &[key, range]);
        refused(
            &["search", "--scenario", &s, "--out", &format!("{s}.d")],
            &[key, range],
        );
    }
    let s = file(
        &dir,
        "replay.toml",
        format!("[arrivals]\nkernel = \"replay\"\nreplay_file = \"{replay}\"\n").as_bytes(),
    );
    refused(
        &["run", "--scenario", &s, "--seeds", "1"],
        &["r.csv: line 2", "[1, 100000]"],
    );
}

#[test]
fn oversized_and_nonsense_flags_are_refused_with_the_legal_range() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o").display().to_string();
    let o = out.as_str();
    refused(
        &["run", "--seeds", "0..18446744073709551615"],
        &["at most 10000"],
    );
    refused(&["run", "--seeds", "1..1000000000"], &["at most 10000"]);
    refused(&["run", "--horizon", "4000000000"], &["[1, 10000]"]);
    refused(&["run", "--alpha", "nan"], &["--alpha", "[0, 1]"]);
    refused(&["run", "--beta", "1.5"], &["--beta", "[0, 1]"]);
    refused(
        &["l1", "--grid", "100000", "--out", o],
        &["--grid", "[2, 101]"],
    );
    refused(
        &["l1", "--grid", "18446744073709551615", "--out", o],
        &["[2, 101]"],
    );
    refused(
        &["validate", "--seeds", "0..18446744073709551615"],
        &["at most 10000"],
    );
    refused(
        &["search", "--islands", "100000000", "--out", o],
        &["islands", "[1, 64]"],
    );
    refused(
        &["search", "--population", "100000000", "--out", o],
        &["[2, 1000]"],
    );
    refused(
        &[
            "search",
            "--evolution-seeds",
            "0..18446744073709551615",
            "--out",
            o,
        ],
        &["at most 10000"],
    );
    refused(
        &["search", "--llm-timeout", "1e20", "--out", o],
        &["llm.timeout_s", "(0, 3600]"],
    );
    refused(
        &[
            "run",
            "--seeds",
            "1..10000",
            "--horizon",
            "10000",
            "--trace",
            o,
        ],
        &["--trace would write", "rows"],
    );
}

#[test]
fn a_closed_output_pipe_ends_the_command_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_medisim"))
        .args(["run", "--seeds", "1..20", "--trace", "/dev/stdout"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take()); // as `| head` does
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit {status}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_live_run_directory_refuses_a_second_writer() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let r = run.display().to_string();
    common::succeeds(&["search", "--iterations", "2", "--out", &r]);
    // This test process is alive: as if it were still searching there.
    std::fs::write(run.join(".lock"), std::process::id().to_string()).unwrap();
    refused(&["search", "--resume", &r], &["in use by process", ".lock"]);
    // Once its holder is gone, the lock is stale and the resume goes ahead.
    std::fs::write(run.join(".lock"), "4294967295").unwrap();
    common::succeeds(&["search", "--resume", &r]);
    assert!(!run.join(".lock").exists(), "the lock is released");
}

#[test]
fn a_run_killed_right_after_writing_its_settings_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    common::succeeds(&[
        "search",
        "--iterations",
        "3",
        "--out",
        &first.display().to_string(),
    ]);
    // The state a kill leaves just after the first write: the settings and nothing else.
    let killed = dir.path().join("killed");
    std::fs::create_dir(&killed).unwrap();
    std::fs::copy(first.join("config.toml"), killed.join("config.toml")).unwrap();
    let k = killed.display().to_string();
    common::succeeds(&["search", "--resume", &k]);
    // Killed before even the settings: nothing to resume, and the message says what to do.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    refused(
        &["search", "--resume", &empty.display().to_string()],
        &["holds no search to resume", "without --resume"],
    );
    assert_eq!(
        std::fs::read(first.join("result.json")).unwrap(),
        std::fs::read(killed.join("result.json")).unwrap()
    );
}

#[test]
fn every_settings_file_is_read_bounded_and_its_errors_are_located_in_a_window() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o").display().to_string();
    // A 5 MB line of 200,000 values (under the value bound, which is tested on its own in
    // `hostile_models.rs`) with its error at the end.
    let long = format!(
        "[care]\nnu = [{}x]\n",
        "1.000000000000000000000, ".repeat(200_000)
    );
    let huge_line = file(&dir, "long.toml", long.as_bytes());
    let not_utf8 = file(&dir, "bad.toml", b"a = 1\nb = \xff\n");
    let readers: [&[&str]; 6] = [
        &["run", "--seeds", "1", "--horizon", "5", "--scenario"],
        &["game", "imaging", "--params"],
        &["panel", "run", "--config"],
        &["panel", "run", "--disease"],
        &["calibrate", "--out", &out, "--targets"],
        &["search", "--out", &out, "--config"],
    ];
    for args in readers {
        if std::path::Path::new("/dev/zero").exists() {
            refused(
                &[args, &["/dev/zero"]].concat(),
                &["/dev/zero is larger than"],
            );
        }
        refused(
            &[args, &[not_utf8.as_str()]].concat(),
            &["bad.toml: line 2, column 5: not UTF-8 text"],
        );
        let (o, _) = within(SECONDS, &[args, &[huge_line.as_str()]].concat());
        let err = text(&o.stderr);
        assert!(!o.status.success(), "{args:?}");
        assert!(err.contains("line 2, column "), "{args:?}: {err}");
        assert!(
            err.len() < 1_000,
            "{args:?}: {} bytes of diagnostics",
            err.len()
        );
    }
}
