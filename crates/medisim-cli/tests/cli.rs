//! The command line as a user runs it: exit codes, messages, files written.

mod common;
#[path = "../../medisim-search/tests/common/server.rs"]
mod server;

use common::{medisim, root, succeeds, text, GOOD};
use std::path::Path;

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
    let out = succeeds(&args);
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
    succeeds(&[
        "patch",
        p.to_str().unwrap(),
        edit.to_str().unwrap(),
        "--in-place",
    ]);
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

#[test]
fn run_prints_every_named_diagnostic_as_json() {
    let out = succeeds(&["run", "--seeds", "1..3", "--horizon", "40", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names = [
        "upcoding_rate",
        "coded_cmi_inflation",
        "rejection_rate",
        "rejection_high_cmi",
        "rejection_low_cmi",
        "cherry_picking_gap",
        "deferral_rate",
        "deferral_high_cmi",
        "deferral_low_cmi",
        "deferral_gap",
        "strategic_delay_high_cmi",
        "strategic_delay_low_cmi",
        "strategic_delay_gap",
        "mean_effort",
        "effort_per_cmi",
        "effort_per_health",
        "mean_health",
        "mean_cost",
        "health_per_cost",
        "mean_waiting",
        "terminal_funds",
        "reputation",
        "corr_kpi_health",
        "corr_bonus_health",
        "lagging_accepted_cmi",
        "lagging_easy_case_tilt",
        "cv_load",
        "cv_accepted_cmi",
        "cv_outcome",
        "mean_bonus",
        "bonus_pressure",
        "doctor_utility",
        "doctor_margin",
        "discounted_return",
        "violation_score",
        "fitness",
    ];
    for n in names {
        let m = &v["metrics"][n];
        assert!(
            m["mean"].is_number() && m["std"].is_number() && m["ci95"].is_array(),
            "{n}: {m}"
        );
        assert_eq!(m["n"], 3, "{n}");
    }
    assert_eq!(v["seeds"], serde_json::json!([1, 2, 3]));
    assert_eq!(v["policy"], "baseline");
}

#[test]
fn run_table_groups_by_channel_and_alpha_beta_override_the_policy() {
    let out = succeeds(&[
        "run",
        "--seeds",
        "1,2",
        "--horizon",
        "30",
        "--alpha",
        "1",
        "--beta",
        "0",
    ]);
    let t = text(&out.stdout);
    for g in ["coding", "selection", "delay", "effort", "measurement"] {
        assert!(t.contains(&format!("\n{g}\n")), "{t}");
    }
    let hi: serde_json::Value = serde_json::from_slice(
        &medisim(&[
            "run",
            "--seeds",
            "1..4",
            "--horizon",
            "60",
            "--alpha",
            "1",
            "--json",
        ])
        .stdout,
    )
    .unwrap();
    let lo: serde_json::Value = serde_json::from_slice(
        &medisim(&[
            "run",
            "--seeds",
            "1..4",
            "--horizon",
            "60",
            "--alpha",
            "0",
            "--json",
        ])
        .stdout,
    )
    .unwrap();
    let up = |v: &serde_json::Value| v["metrics"]["upcoding_rate"]["mean"].as_f64().unwrap();
    assert!(up(&hi) > up(&lo) + 0.1);
}

#[test]
fn run_writes_a_tidy_trace_per_period_and_team() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv");
    succeeds(&[
        "run",
        "--seeds",
        "1..2",
        "--horizon",
        "25",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    let mut r = csv::Reader::from_path(&trace).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    for col in [
        "replicate",
        "period",
        "team",
        "beds",
        "treated",
        "rejected",
        "deferred",
        "kpi",
        "bonus",
        "utility",
    ] {
        assert!(header.iter().any(|h| h == col), "{header:?}");
    }
    assert_eq!(r.records().count(), 2 * 25 * 5);
}

#[test]
fn a_bad_scenario_key_is_named_and_the_effective_scenario_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s.toml");
    std::fs::write(&s, "[care]\nlamda = 0.5\n").unwrap();
    let out = medisim(&["run", "--scenario", s.to_str().unwrap(), "--seeds", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown field `lamda`"),
        "{}",
        text(&out.stderr)
    );
    let printed = medisim(&["scenario"]);
    assert!(printed.status.success());
    std::fs::write(&s, &printed.stdout).unwrap();
    let again = medisim(&["scenario", s.to_str().unwrap()]);
    assert_eq!(printed.stdout, again.stdout);
    assert!(
        text(&printed.stdout).contains(
            "[audit]\n# q: audit probability with no coding gap\nbase_prob = 0.1  # probability; in [0, 1]"
        ),
        "{}",
        text(&printed.stdout)
    );
}

#[test]
fn search_resume_reloads_the_scenario_the_run_started_with() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(&scenario, "[audit]\nbase_prob = 0.3\n").unwrap();
    let run = dir.path().join("run");
    let (s, r) = (scenario.display().to_string(), run.display().to_string());
    succeeds(&["search", "--scenario", &s, "--iterations", "4", "--out", &r]);
    let svg = std::fs::read_to_string(run.join("trace.svg")).unwrap();
    assert!(svg.contains("running best"), "{svg}");
    // Resuming a finished run in the same world simulates nothing new.
    let out = succeeds(&["search", "--resume", &r]);
    assert!(
        text(&out.stdout).contains("0 rollouts simulated"),
        "{}",
        text(&out.stdout)
    );
}

/// The search codes by argmax (Appendix C) and `run` by softmax: the search says so beside its
/// table, and the command it gives reproduces the searched row exactly.
#[test]
fn the_search_table_says_how_to_rerun_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("run").display().to_string();
    let out = text(&succeeds(&["search", "--iterations", "6", "--out", &r]).stdout);
    let hint = out
        .lines()
        .find(|l| l.starts_with("(coding by argmax"))
        .unwrap_or_else(|| panic!("{out}"));
    let command = hint.split('`').nth(3).unwrap();
    let args: Vec<String> = command
        .split_whitespace()
        .skip(1)
        .map(|a| a.trim_matches('\'').to_string())
        .collect();
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.push("--json");
    let run: serde_json::Value = serde_json::from_slice(&succeeds(&args).stdout).unwrap();
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run/result.json")).unwrap())
            .unwrap();
    for m in ["upcoding_rate", "terminal_funds", "fitness"] {
        assert_eq!(run["metrics"][m]["mean"], result["searched"][m], "{m}");
    }
}

#[test]
fn the_ablation_is_one_command_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("abl").display().to_string();
    let args = [
        "search",
        "--ablation",
        "--replicates",
        "2",
        "--iterations",
        "3",
        "--out",
        &r,
    ];
    let out = succeeds(&args);
    let table = text(&out.stdout);
    assert!(table.contains("search seeds 0..=1"), "{table}");
    assert!(table.contains("neutral-only") && table.contains("full library"));
    assert_eq!(table.matches("zero up-coding in").count(), 2, "{table}");
    // Resuming reads the plan (two replicates) back and prints the same runs.
    let again = medisim(&["search", "--ablation", "--resume", &r]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout), table);
    // Resuming it as a plain search says what to do instead.
    let wrong = medisim(&["search", "--resume", &r]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        text(&wrong.stderr).contains("--ablation --resume"),
        "{}",
        text(&wrong.stderr)
    );
    // --replicates belongs to the ablation.
    let bad = medisim(&["search", "--replicates", "2", "--out", &r]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
}

#[test]
fn the_search_benchmark_is_one_command_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("bench").display().to_string();
    let args = [
        "search",
        "--benchmark",
        "--arms",
        "offline,random",
        "--replicates",
        "2",
        "--iterations",
        "20",
        "--out",
        &r,
    ];
    let out = succeeds(&args);
    let table = text(&out.stdout);
    assert!(table.contains("search seeds 0..=1"), "{table}");
    for arm in ["offline", "random"] {
        assert!(table.contains(&format!("\n{arm} ")), "{arm}: {table}");
    }
    let runs = std::fs::read_to_string(dir.path().join("bench/benchmark.csv")).unwrap();
    assert_eq!(
        runs.lines().count(),
        5,
        "a header and two arms × two seeds: {runs}"
    );
    let curve = std::fs::read_to_string(dir.path().join("bench/benchmark-curve.csv")).unwrap();
    assert!(
        curve.starts_with("arm,evaluations,mean,ci95_low,ci95_high,runs"),
        "{curve}"
    );
    // Resuming reads the plan back and prints the same table.
    let again = medisim(&["search", "--benchmark", "--resume", &r]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout), table);
    let wrong = medisim(&["search", "--resume", &r]);
    assert!(
        text(&wrong.stderr).contains("--benchmark --resume"),
        "{}",
        text(&wrong.stderr)
    );
    // An unknown arm is named; --arms belongs to the benchmark.
    let bad = medisim(&[
        "search",
        "--benchmark",
        "--arms",
        "ofline",
        "--out",
        &format!("{r}2"),
    ]);
    assert!(
        text(&bad.stderr).contains("no arm `ofline`"),
        "{}",
        text(&bad.stderr)
    );
    let bad = medisim(&["search", "--arms", "offline", "--out", &format!("{r}3")]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
}

#[test]
fn a_search_killed_mid_run_resumes_to_the_same_result_as_a_straight_run() {
    let dir = tempfile::tempdir().unwrap();
    let (straight, killed) = (dir.path().join("straight"), dir.path().join("killed"));
    let args = |out: &Path| {
        vec![
            "search".to_string(),
            "--iterations".into(),
            "60".into(),
            "--out".into(),
            out.display().to_string(),
        ]
    };
    let a: Vec<String> = args(&straight);
    succeeds(&a.iter().map(String::as_str).collect::<Vec<_>>());
    // SIGKILL at some point of the run (wherever it is: warm start, an iteration, a write).
    let mut child = common::spawn_quiet(&args(&killed));
    std::thread::sleep(std::time::Duration::from_millis(150));
    let _ = child.kill();
    let _ = child.wait();
    let k = killed.display().to_string();
    succeeds(&["search", "--resume", &k]);
    for file in ["table.txt", "best.policy", "trace.csv", "updates.json"] {
        assert_eq!(
            std::fs::read_to_string(killed.join(file)).unwrap(),
            std::fs::read_to_string(straight.join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn the_operator_priors_can_be_switched_off_and_the_run_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("np").display().to_string();
    succeeds(&[
        "search",
        "--no-offline-priors",
        "--iterations",
        "2",
        "--out",
        &r,
    ]);
    let config = std::fs::read_to_string(dir.path().join("np/config.toml")).unwrap();
    assert!(config.contains("offline_priors = false"), "{config}");
}

#[test]
fn sensitivity_and_calibrate_run_small_designs_and_write_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let out = text(
        &succeeds(&[
            "sensitivity",
            "--points",
            "2",
            "--seeds",
            "20001..20002",
            "--horizon",
            "40",
            "--keys",
            "response.accept_threshold",
            "--out",
            &d,
        ])
        .stdout,
    );
    assert!(out.contains("fact 9: holds at"), "{out}");
    for f in [
        "sensitivity.csv",
        "sensitivity-facts.csv",
        "tornado-fact1.svg",
    ] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    let out = text(
        &succeeds(&[
            "calibrate",
            "--iterations",
            "2",
            "--seeds",
            "1..2",
            "--horizon",
            "40",
            "--keys",
            "coding.gamma_code",
            "--out",
            &d,
        ])
        .stdout,
    );
    assert!(
        out.contains("weighted distance") && out.contains("upcoding_rate"),
        "{out}"
    );
    let fit = std::fs::read_to_string(dir.path().join("fit.csv")).unwrap();
    assert!(fit.starts_with("regime,metric,target,built_in,calibrated"));
    assert!(dir.path().join("calibrated-scenario.toml").exists());
    let e = medisim(&[
        "sensitivity",
        "--keys",
        "care.nope",
        "--points",
        "1",
        "--out",
        &d,
    ]);
    assert!(!e.status.success() && text(&e.stderr).contains("care.nope"));
}

#[test]
fn a_report_never_overwrites_results_of_another_setting_and_builds_from_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let sc = dir.path().join("sc.toml");
    std::fs::write(&sc, "[arrivals]\nrate = 8.0\n").unwrap();
    let sc = sc.display().to_string();
    let custom = ["--scenario", &sc, "--seeds", "1..2", "--horizon", "20"];
    let mut l1 = vec!["l1", "--grid", "3", "--out", &d];
    l1.extend(custom);
    succeeds(&l1);
    let before = std::fs::read(dir.path().join("l1.csv")).unwrap();
    let out = medisim(&["report", "--quick", "--out", &d]);
    assert!(!out.status.success());
    let msg = text(&out.stderr);
    assert!(
        msg.contains("another setting") && msg.contains("l1.csv"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("l1.csv")).unwrap(),
        before,
        "untouched"
    );
    // The same setting builds the whole report, reusing the L1 cells. (Two seeds of 20
    // periods are too few for every fact's interval, so the exit status may be 1.)
    let mut rep = vec!["report", "--grid", "3", "--out", &d];
    rep.extend(custom);
    let out = medisim(&rep);
    assert!(
        text(&out.stdout).contains("report:"),
        "{}",
        text(&out.stderr)
    );
    assert!(dir.path().join("report.html").exists());
    assert_eq!(std::fs::read(dir.path().join("l1.csv")).unwrap(), before);
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("No search run"), "report runs no search");
    // reproduce adds the L3 search; provenance names the command line and the scenario.
    let mut rep = vec!["reproduce", "--grid", "3", "--out", &d];
    rep.extend(custom);
    medisim(&rep);
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    for id in [
        "l3-table",
        "l3-trace",
        "l3-updates",
        "l3-best",
        "summary",
        "paper-vs-ours",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert!(
        html.contains("<td>searched</td>") && html.contains("kind = &quot;hospital_policy&quot;")
            || html.contains("kind = \"hospital_policy\"")
    );
    assert!(html.contains("reproduce --grid 3"), "the command line");
    assert!(html.contains("rate = 8.0"), "the scenario's contents");
    assert!(dir.path().join("search/result.json").exists());
}

#[test]
fn one_seed_has_no_interval_and_a_file_is_no_output_directory() {
    let out = text(&succeeds(&["run", "--seeds", "1", "--horizon", "10"]).stdout);
    assert!(
        out.contains("(n = 1: no interval)") && !out.contains("± 0.0000"),
        "{out}"
    );
    // Every model and table: one run of a stochastic model has its spread empty, where the
    // panel printed a zero-width interval and a sweep wrote NaN.
    let out = text(&succeeds(&["panel", "run", "--runs", "1"]).stdout);
    assert!(out.contains("(n = 1: no interval)"), "{out}");
    let out = text(&succeeds(&["run", "--model", "panel", "--seeds", "0"]).stdout);
    let row = out
        .lines()
        .find(|l| l.contains("total_cost"))
        .unwrap_or_default();
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        ["total_cost", "150000", "1"],
        "{out}"
    );
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("sweep");
    let sweep_out = sweep.display().to_string();
    succeeds(&[
        "sweep",
        "--model",
        "panel",
        "--set",
        "margin=0.1,0.2",
        "--seeds",
        "0",
        "--out",
        &sweep_out,
    ]);
    let csv = std::fs::read_to_string(sweep.join("sweep.csv")).unwrap();
    assert!(!csv.contains("NaN"), "{csv}");
    assert!(csv.contains(",total_cost,150000,,,,1\n"), "{csv}");
    // A deterministic model's one solve is exact: its interval is the value.
    let contract = dir.path().join("contract").display().to_string();
    succeeds(&[
        "sweep",
        "--model",
        "contract",
        "--set",
        "gamma=0.4,0.5",
        "--out",
        &contract,
    ]);
    let csv = std::fs::read_to_string(dir.path().join("contract/sweep.csv")).unwrap();
    assert!(csv.contains(",expected_payment,0.4,0,0.4,0.4,1\n"), "{csv}");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let f = file.display().to_string();
    for cmd in [
        vec!["reproduce", "--quick", "--out", &f],
        vec!["l1", "--grid", "2", "--out", &f],
        // The run directory's own rule (it once repeated the OS message: "File exists
        // (os error 17): File exists (os error 17)").
        vec!["search", "--out", &f],
        vec!["panel", "sweep", "--vary", "margin=0:0.4:2", "--out", &f],
        vec!["game", "imaging", "--table", "all", "--out", &f],
    ] {
        let e = medisim(&cmd);
        let msg = text(&e.stderr);
        assert!(
            !e.status.success() && msg.contains(&f) && msg.contains("a file is there"),
            "{msg}"
        );
        assert_eq!(msg.matches("error").count(), 1, "said once: {msg}");
    }
}

#[test]
fn two_policies_are_compared_on_common_random_numbers_with_paired_intervals() {
    let base = root()
        .join("policies/baseline.policy")
        .display()
        .to_string();
    let other = root()
        .join("policies/discovered/mixed_k200.policy")
        .display()
        .to_string();
    let json = |a: &str, b: &str| -> serde_json::Value {
        serde_json::from_slice(
            &succeeds(&[
                "run",
                "--policy",
                a,
                "--policy",
                b,
                "--seeds",
                "1..12",
                "--horizon",
                "60",
                "--json",
            ])
            .stdout,
        )
        .unwrap()
    };
    // A policy against itself: every paired difference is exactly 0.
    let same = json(&base, &base);
    let d = &same["comparisons"][0]["minus_first"];
    for m in ["mean_waiting", "terminal_funds", "upcoding_rate"] {
        assert_eq!(d[m]["mean"], 0.0, "{m}");
        assert_eq!(d[m]["ci95"][0], 0.0, "{m}");
        assert_eq!(d[m]["ci95"][1], 0.0, "{m}");
    }
    // Two policies: the paired interval is much tighter than two independent runs' would be.
    let v = json(&base, &other);
    let c = &v["comparisons"][0];
    let half = |s: &serde_json::Value| {
        (s["ci95"][1].as_f64().unwrap() - s["ci95"][0].as_f64().unwrap()) / 2.0
    };
    for m in ["mean_waiting", "terminal_funds"] {
        let paired = half(&c["minus_first"][m]);
        let unpaired =
            (half(&v["first"]["metrics"][m]).powi(2) + half(&c["metrics"][m]).powi(2)).sqrt();
        assert!(
            paired < unpaired,
            "{m}: paired {paired} vs unpaired {unpaired}"
        );
    }
    assert_eq!(v["common_random_numbers"], true);
}

#[test]
fn run_json_carries_the_scenario_and_the_command_line() {
    let v: serde_json::Value = serde_json::from_slice(
        &succeeds(&["run", "--seeds", "1", "--horizon", "5", "--json"]).stdout,
    )
    .unwrap();
    assert!(v["scenario"].as_str().unwrap().contains("[arrivals]"));
    assert_eq!(v["command_line"][1], "run");
    assert!(v["policy_hash"].is_string() && v["model_version"].is_string());
}

/// `medisim sweep` over a scenario key and a policy constant: tidy CSV and Parquet with every
/// swept key a column, per-replicate rows on request, cells reused by a second run, and bad
/// specifications refused naming the key and the legal range.
#[test]
fn sweep_writes_tidy_csv_and_parquet_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sw");
    let o = out.to_str().unwrap();
    let args = [
        "sweep",
        "--set",
        "admin_policy.alpha=0:1:3",
        "--set",
        "care.nu=0.05,0.2",
        "--seeds",
        "1..3",
        "--horizon",
        "40",
        "--metric",
        "upcoding_rate",
        "--metric",
        "rejection_rate",
        "--replicates",
        "--out",
        o,
    ];
    succeeds(&args);
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "admin_policy.alpha,care.nu,point,metric,mean,std,ci95_low,ci95_high,n"
    );
    assert_eq!(lines.count(), 6 * 2, "3 × 2 points × 2 metrics");
    let reps = std::fs::read_to_string(out.join("sweep-replicates.csv")).unwrap();
    assert_eq!(reps.lines().count(), 1 + 6 * 3 * 2);
    let parquet = std::fs::read(out.join("sweep.parquet")).unwrap();
    assert_eq!(&parquet[..4], b"PAR1");
    // Two keys on a grid: one map per metric (as the L1 maps), no line figure.
    assert!(out.join("sweep/sweep_upcoding_rate.svg").exists());
    // Up-coding rises with α at either ν (the policy constant is really swept).
    let up: Vec<f64> = csv
        .lines()
        .filter(|l| l.contains(",0.05,") && l.contains("upcoding_rate"))
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    assert!(up[0] < up[2], "{up:?}");
    let cells = std::fs::read_dir(out.join("cells")).unwrap().count();
    assert_eq!(cells, 6 * 3, "one cell per point × seed");
    succeeds(&args);
    assert_eq!(std::fs::read_to_string(out.join("sweep.csv")).unwrap(), csv);
    for (set, says) in [
        ("admin_policy.alpha=0:2:3", "must be real in [0, 1], got 2"),
        ("care.price=1,2", "did you mean `case_mix.price`?"),
        ("nope=1", "is not a scenario key"),
    ] {
        let bad = medisim(&["sweep", "--set", set, "--seeds", "1", "--horizon", "5"]);
        assert_eq!(bad.status.code(), Some(2), "{set}");
        assert!(
            text(&bad.stderr).contains(says),
            "{set}: {}",
            text(&bad.stderr)
        );
    }
    let bad = medisim(&["sweep", "--set", "care.nu=0.1:0.2", "--design", "lhs:x"]);
    assert!(text(&bad.stderr).contains("expected grid, oneway, lhs:N with N in 1..=100000"));
    // Too few Sobol' base points for any index to move is refused with the least.
    let bad = medisim(&["sweep", "--set", "care.nu=0.1:0.2", "--design", "sobol:2"]);
    assert!(text(&bad.stderr).contains("sobol:N with N in 4..=100000"));
}

/// A sweep of two points over one key, two seeds of 20 periods, one metric.
const SMALL_SWEEP: [&str; 9] = [
    "sweep",
    "--set",
    "audit.base_prob=0:0.5:2",
    "--seeds",
    "1..2",
    "--horizon",
    "20",
    "--metric",
    "upcoding_rate",
];

#[test]
fn l1_l2_validate_and_sweep_print_json_the_same_as_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().to_str().unwrap();
    let json = |args: &[&str]| -> serde_json::Value {
        serde_json::from_slice(&succeeds(args).stdout).expect("JSON on stdout")
    };
    let small = ["--seeds", "1..2", "--horizon", "20", "--out", o, "--json"];
    let l1 = json(&[&["l1", "--grid", "2"][..], &small].concat());
    let rows = l1["table"].as_array().unwrap();
    let csv = std::fs::read_to_string(dir.path().join("l1.csv")).unwrap();
    assert_eq!(
        rows.len(),
        csv.lines().count() - 1,
        "one JSON row per CSV row"
    );
    assert_eq!(rows[0]["alpha"], "0", "labels as the CSV has them");
    assert!(rows[0]["mean"].is_number());
    assert!(l1["files"].as_array().unwrap().len() > 1);
    assert_eq!(l1["cells"]["computed"], 4);
    let l2 = json(&[&["l2", "--lever", "audit"][..], &small].concat());
    assert!(!l2["table"].as_array().unwrap().is_empty());
    // validate exits 1 when a fact fails (likely on 2 seeds of 20 periods), JSON either way.
    let out = medisim(&[&["validate"][..], &small].concat());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = v["passed"] == 9;
    assert_eq!(out.status.code(), Some(if all { 0 } else { 1 }));
    assert_eq!(v["facts"].as_array().unwrap().len(), 9);
    assert!(v["passed"].as_u64().unwrap() <= 9);
    let s = json(&[&SMALL_SWEEP[..], &["--json"]].concat());
    let rows = s["table"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["audit.base_prob"], 0.5);
    assert!(
        s["files"].as_array().unwrap().is_empty(),
        "no --out, no files"
    );
}

#[test]
fn run_and_panel_run_take_set_like_every_model() {
    let up = |sets: &[&str]| -> f64 {
        let mut args = vec!["run", "--seeds", "1..3", "--horizon", "40", "--json"];
        args.extend(sets);
        let v: serde_json::Value = serde_json::from_slice(&succeeds(&args).stdout).unwrap();
        v["metrics"]["upcoding_rate"]["mean"].as_f64().unwrap()
    };
    // A certain audit leaves less up-coding than none: the key really reaches the model.
    let (none, certain) = (
        up(&["--set", "audit.base_prob=0", "--set", "audit.slope=0"]),
        up(&["--set", "audit.base_prob=1", "--set", "audit.slope=0"]),
    );
    assert!(certain < none, "{certain} vs {none}");
    let bad = medisim(&["run", "--seeds", "1", "--set", "audit.base_prob=2"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("must be in [0, 1], got 2"));
    let cost = |v: &str| -> f64 {
        let out = succeeds(&[
            "panel",
            "run",
            "--runs",
            "5",
            "--set",
            &format!("retinopathy.macular_edema_cost={v}"),
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["result"]["complications_cost"]["mean"].as_f64().unwrap()
    };
    assert!(cost("1000") < cost("100000"));
    let bad = medisim(&["panel", "run", "--set", "margin"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("--set margin: expected KEY=VALUE"));
}

#[test]
fn a_sweep_over_one_key_draws_each_metric_as_l2_does() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().to_str().unwrap();
    succeeds(&[&SMALL_SWEEP[..], &["--out", o]].concat());
    let svg = std::fs::read_to_string(dir.path().join("sweep/sweep_upcoding_rate.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
    assert!(svg.contains("upcoding_rate (share of arrivals)") && svg.contains("audit.base_prob"));
}

/// An LLM search with four calls in flight, SIGKILLed at several points (once its server has
/// sent the 2nd, 5th and 9th reply: others are still being answered), resumes with `--resume`
/// to the files an uninterrupted run writes.
#[test]
fn an_llm_search_killed_with_calls_in_flight_resumes_to_the_same_result() {
    // The reply is a function of the prompt (a new α, or no edit); slow, so calls overlap.
    let (url, sent) = server::concurrent("127.0.0.1:0", usize::MAX, |body| {
        let h = server::body_hash(body);
        let text = if h % 4 == 0 {
            "no edit this time".to_string()
        } else {
            format!(
                "<<<<<<< SEARCH\nalpha = 0.5\n=======\nalpha = 0.{}\n>>>>>>> REPLACE\n",
                30 + h % 40
            )
        };
        (text, 20 + h % 5 * 40)
    });
    let dir = tempfile::tempdir().unwrap();
    let args = |out: &Path| -> Vec<String> {
        let spec = "search --operator llm --llm-concurrency 4 --iterations 12 --horizon 60 \
                    --evolution-seeds 1 --validation-seeds 2 --test-seeds 3 --llm-base-url";
        let mut a: Vec<String> = spec.split_whitespace().map(String::from).collect();
        a.extend([url.clone(), "--out".into(), out.display().to_string()]);
        a
    };
    let straight = dir.path().join("straight");
    succeeds(
        &args(&straight)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let files = |d: &Path| {
        ["result.json", "best.policy", "updates.json"].map(|f| std::fs::read(d.join(f)).unwrap())
    };
    for after in [2, 5, 9] {
        let killed = dir.path().join(format!("killed-{after}"));
        let start = sent.lock().unwrap().len();
        let mut child = common::spawn_quiet(&args(&killed));
        while sent.lock().unwrap().len() < start + after && child.try_wait().unwrap().is_none() {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            !killed.join("result.json").exists(),
            "killed after {after} replies"
        );
        let resumed = medisim(&["search", "--resume", &killed.display().to_string()]);
        assert!(resumed.status.success(), "{}", text(&resumed.stderr));
        assert!(
            files(&killed) == files(&straight),
            "killed after {after} replies"
        );
    }
}
