//! `medisim panel`: a run's JSON, a sweep's tidy CSV, the experiments' files, bad input named.

mod common;

use common::{medisim, succeeds, text};

#[test]
fn a_run_reports_every_metric_with_its_interval_and_the_policy() {
    let out = succeeds(&[
        "panel",
        "run",
        "--payment",
        "ffs-sr",
        "--reward-rate",
        "0.5",
        "--penalty-rate",
        "0.5",
        "--runs",
        "10",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["result"];
    for key in [
        "total_cost",
        "fees",
        "complications_cost",
        "shared_risk_transfer",
        "provider_profit",
        "payer_cost",
        "complications",
        "max_intensity_share",
        "min_intensity_share",
    ] {
        assert!(
            r[key]["mean"].is_number() && r[key]["ci95"].is_array(),
            "{key}"
        );
    }
    let total = r["total_cost"]["mean"].as_f64().unwrap();
    let parts: f64 = ["fees", "complications_cost", "shared_risk_transfer"]
        .iter()
        .map(|k| r[k]["mean"].as_f64().unwrap())
        .sum();
    assert!((total - parts).abs() < 1e-6 * total);
    assert_eq!(r["policy"]["No Retinopathy"], "MM-0/SMT-0");
    assert_eq!(v["model_version"], "medisim-panel/3");
}

#[test]
fn a_sweep_writes_a_tidy_csv_and_the_experiments_write_figures() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    succeeds(&[
        "panel",
        "sweep",
        "--payment",
        "ffs-sr",
        "--vary",
        "reward-rate=0:1:3",
        "--reference",
        "15000",
        "--runs",
        "5",
        "--out",
        &d,
    ]);
    let csv = std::fs::read_to_string(dir.path().join("sweep.csv")).unwrap();
    assert!(csv.starts_with(
        "experiment,series,reward-rate,metric,mean,ci95_low,ci95_high,treatment,runs"
    ));
    assert!(csv.contains(",0.5,max_intensity_share,") && csv.contains("policy:No Retinopathy"));
    let out = text(
        &succeeds(&[
            "panel",
            "experiments",
            "--only",
            "E3,E6",
            "--runs",
            "10",
            "--out",
            &d,
        ])
        .stdout,
    );
    assert!(
        out.contains("E3") && out.contains("Table 1") && out.contains("MM-0/SMT-1"),
        "{out}"
    );
    assert!(dir.path().join("e3-costs.svg").exists() && dir.path().join("e6.csv").exists());
}

#[test]
fn bad_panel_input_is_named() {
    let e = medisim(&[
        "panel",
        "run",
        "--reward-rate",
        "1.2",
        "--payment",
        "ffs-sr",
    ]);
    let msg = text(&e.stderr);
    assert!(
        !e.status.success() && msg.contains("`reward_rate`") && msg.contains("[0, 1]"),
        "{msg}"
    );
    let e = medisim(&["panel", "sweep", "--vary", "bogus=0:1:3"]);
    assert!(text(&e.stderr).contains("`bogus`") && text(&e.stderr).contains("known:"));
    let e = medisim(&["panel", "experiments", "--only", "E9"]);
    assert!(text(&e.stderr).contains("E9"));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.toml");
    std::fs::write(&p, "[payment]\nrewrd_rate = 0.3\n").unwrap();
    let e = medisim(&["panel", "run", "--params", &p.display().to_string()]);
    assert!(
        text(&e.stderr).contains("rewrd_rate"),
        "{}",
        text(&e.stderr)
    );
    let e = medisim(&[
        "panel",
        "run",
        "--provider",
        "qlearning",
        "--payment",
        "ffs-sr",
        "--reward-rate",
        "0.5",
    ]);
    assert!(text(&e.stderr).contains("reward rate equals the penalty rate"));
}

#[test]
fn a_second_disease_model_runs_from_its_file() {
    let model = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../medisim-panel/models/diabetic-kidney.toml"
    );
    let v: serde_json::Value = serde_json::from_slice(
        &succeeds(&["panel", "run", "--disease", model, "--runs", "10", "--json"]).stdout,
    )
    .unwrap();
    assert_eq!(v["result"]["disease"], "diabetic-kidney");
    assert!(v["result"]["policy"]["normoalbuminuria"].is_string());
}

/// `panel psa`: the PSA, its incremental table and curves written; a rerun into the same
/// directory reads every draw back from the cache and writes the same bytes; bad settings named.
#[test]
fn a_psa_writes_its_analysis_and_reruns_from_its_cache() {
    let kidney = common::root().join("crates/medisim-panel/models/diabetic-kidney.toml");
    let kidney = kidney.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("psa");
    let args = [
        "panel",
        "psa",
        "--disease",
        kidney,
        "--draws",
        "12",
        "--runs",
        "5",
        "--out",
        out.to_str().unwrap(),
    ];
    let first = succeeds(&args);
    assert!(
        text(&first.stdout).contains("EVPI"),
        "{}",
        text(&first.stdout)
    );
    let read = |f: &str| std::fs::read(out.join(f)).unwrap();
    let (psa, curves) = (read("psa.csv"), read("curves.csv"));
    assert_eq!(text(&psa).lines().count(), 1 + 12 * 2);
    let parameters = text(&read("parameters.csv"));
    let header = parameters.lines().next().unwrap();
    assert!(
        header.starts_with("draw,p: normoalbuminuria -> microalbuminuria"),
        "{header}"
    );
    assert!(header.contains("utility: renal replacement") && header.contains("response gc"));
    assert_eq!(parameters.lines().count(), 1 + 12);
    let cells = std::fs::read_dir(out.join("cells")).unwrap().count();
    assert_eq!(cells, 12, "one cached cell per draw");
    succeeds(&args);
    assert_eq!((read("psa.csv"), read("curves.csv")), (psa, curves));
    let no_psa = dir.path().join("plain.toml");
    let plain = std::fs::read_to_string(kidney).unwrap();
    std::fs::write(&no_psa, &plain[..plain.find("[psa]").unwrap()]).unwrap();
    for (extra, says) in [
        (vec![], "give --disease FILE"),
        (
            vec!["--disease", kidney, "--payment", "gc"],
            "the arms (--arms) set the payment",
        ),
        (
            vec!["--disease", kidney, "--arms", "ffs,xx"],
            "no payment arm `xx`",
        ),
        (
            vec!["--disease", kidney, "--arms", "ffs-sr"],
            "give --reward-rate and --penalty-rate",
        ),
        (
            vec!["--disease", no_psa.to_str().unwrap()],
            "gives no distributions",
        ),
        (
            vec!["--disease", kidney, "--reward-rate", "0.5"],
            "`reward-rate`: the arms set the payment",
        ),
        (
            vec!["--disease", kidney, "--set", "payment.basis=\"gc\""],
            "`payment.basis`",
        ),
    ] {
        let out = medisim(&[&["panel", "psa", "--draws", "2"][..], &extra].concat());
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{extra:?}: {}",
            text(&out.stderr)
        );
    }
}

/// A payment program is the panel's policy: `check`, `hash` and `fmt` take it by the kind its
/// header declares, `panel run --policy` and `run --model panel --policy` run it, and the
/// shipped fee-for-service program answers as the payment keys do.
#[test]
fn payment_programs_check_hash_and_run_through_both_commands() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/panel/");
    let files: Vec<String> = ["configured", "fee-for-service", "capitation", "blended"]
        .iter()
        .map(|f| format!("{root}{f}.policy"))
        .collect();
    let args = |cmd: &'static str| {
        let mut a = vec![cmd];
        a.extend(files.iter().map(String::as_str));
        a
    };
    succeeds(&args("check"));
    succeeds(&["fmt", "--check", &files[3]]);
    let hashes = text(&succeeds(&args("hash")).stdout);
    assert_eq!(hashes.lines().count(), 4, "{hashes}");
    let json = |args: &[&str]| -> serde_json::Value {
        serde_json::from_slice(&succeeds(args).stdout).unwrap()
    };
    let keys = json(&["panel", "run", "--runs", "4", "--json"]);
    let ffs = json(&[
        "panel", "run", "--runs", "4", "--policy", &files[1], "--json",
    ]);
    assert_eq!(keys["result"]["fees"], ffs["result"]["fees"]);
    let blended = json(&[
        "panel", "run", "--runs", "4", "--policy", &files[3], "--json",
    ]);
    assert_ne!(keys["result"]["fees"], blended["result"]["fees"]);
    let generic = json(&[
        "run", "--model", "panel", "--seeds", "0..3", "--policy", &files[3], "--json",
    ]);
    assert_eq!(
        generic["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["metric"] == "fees")
            .unwrap()["mean"],
        blended["result"]["fees"]["mean"]
    );
    // A hospital program is not a payment program: named at its header.
    let hospital = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../policies/baseline.policy"
    );
    let out = medisim(&["panel", "run", "--policy", hospital]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unknown policy kind"),
        "{}",
        text(&out.stderr)
    );
}

/// `search --model panel` evolves payment programs: the table compares the searched program
/// with the shipped ones on held-out seeds, the best program checks and runs, the run resumes
/// from its directory, and flags of the other search are refused by name.
#[test]
fn a_payment_search_runs_resumes_and_refuses_the_hospital_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let out = out.to_str().unwrap();
    let args = [
        "search",
        "--model",
        "panel",
        "--iterations",
        "6",
        "--panel-runs",
        "4",
        "--wtp",
        "20000",
        "--out",
        out,
    ];
    let told = text(&succeeds(&args).stdout);
    for method in [
        "searched",
        "best_warm_start",
        "fee_for_service",
        "capitation",
        "blended",
    ] {
        assert!(told.contains(method), "{told}");
    }
    assert!(told.contains("at 20000 per QALY"), "{told}");
    let best = format!("{out}/best.policy");
    succeeds(&["check", &best]);
    succeeds(&[
        "run", "--model", "panel", "--seeds", "0..2", "--policy", &best,
    ]);
    let again = text(&succeeds(&["search", "--resume", out]).stdout);
    assert!(again.contains("0 rollouts simulated"), "{again}");
    let o = medisim(&["search", "--resume", out, "--wtp", "1000"]);
    assert!(
        text(&o.stderr).contains("--wtp with --resume"),
        "{}",
        text(&o.stderr)
    );
    for (flag, value) in [("--objective", "profit"), ("--horizon", "30")] {
        let o = medisim(&["search", "--model", "panel", flag, value, "--out", out]);
        assert!(!o.status.success());
        assert!(text(&o.stderr).contains(&format!("{flag} belongs to Medi-Sim")));
    }
    let o = medisim(&["search", "--wtp", "1", "--out", out]);
    assert!(text(&o.stderr).contains("--wtp belongs to a panel search"));
    let o = medisim(&["search", "--model", "panel", "--wtp", "-5", "--out", out]);
    assert!(
        text(&o.stderr).contains("`panel.wtp`"),
        "{}",
        text(&o.stderr)
    );
}

/// A payment program is a PSA arm (`--arm-policy`), named by its header; programs alone with
/// `--arms ""`; a program that does not check is refused at its line.
#[test]
fn payment_programs_are_psa_arms() {
    let kidney = common::root().join("crates/medisim-panel/models/diabetic-kidney.toml");
    let programs = common::root().join("policies/panel");
    let program = |f: &str| programs.join(f).display().to_string();
    let (ffs, blended) = (program("fee-for-service.policy"), program("blended.policy"));
    let base = [
        "panel",
        "psa",
        "--disease",
        kidney.to_str().unwrap(),
        "--draws",
        "3",
        "--runs",
        "4",
        "--wtp",
        "50000",
    ];
    let o = succeeds(&[&base[..], &["--arm-policy", &ffs, "--arm-policy", &blended]].concat());
    let told = text(&o.stdout);
    for arm in ["ffs", "gc", "fee-for-service", "blended"] {
        assert!(told.contains(arm), "{arm}: {told}");
    }
    let alone = succeeds(&[&base[..], &["--arms", "", "--arm-policy", &blended]].concat());
    assert!(text(&alone.stdout).contains("blended"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.policy");
    std::fs::write(
        &bad,
        "kind = \"panel_payment\"\nversion = \"medisim_dsl_v1\"\nname = \"b\"\n\n[payment_policy]\nfee_payment = queue_total\n",
    )
    .unwrap();
    let o = medisim(&[&base[..], &["--arm-policy", bad.to_str().unwrap()]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("bad.policy:6:"),
        "{}",
        text(&o.stderr)
    );
}
