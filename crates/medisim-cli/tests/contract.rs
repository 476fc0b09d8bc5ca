//! `medisim contract` as a health economist runs it.

mod common;

use common::{medisim, succeeds, text};

#[test]
fn the_icp_case_study_prints_table_i() {
    let out = text(&succeeds(&["contract", "icp"]).stdout);
    for want in [
        "1.1765",
        "$  11764.71",
        "0.4400 F ($4400.00)",
        "v2 = 0.1176",
        "agree",
    ] {
        assert!(out.contains(want), "`{want}` not in:\n{out}");
    }
}

#[test]
fn the_json_carries_both_solutions_and_the_segment() {
    let out = succeeds(&[
        "contract",
        "--provider",
        "nonnegative",
        "--t",
        "0.5",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "model",
        "payments",
        "expected_payment",
        "survival",
        "ic_slack",
        "closed_form",
        "numeric",
        "agree",
        "optimal_segment",
    ] {
        assert!(!v[key].is_null(), "{key} missing: {v}");
    }
    assert_eq!(v["agree"], true);
    assert_eq!(v["payments"][1], 0.5);
    let free = succeeds(&["contract", "--provider", "free", "--p11", "1", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&free.stdout).unwrap();
    assert!(
        (v["payments"][0].as_f64().unwrap() + 1.260194).abs() < 1e-6,
        "{v}"
    );
}

#[test]
fn every_model_runs_and_bad_parameters_are_named_with_exit_1() {
    for args in [
        vec![
            "contract",
            "--provider",
            "misclassified",
            "--w0",
            "0.1",
            "--w1",
            "0.2",
        ],
        vec![
            "contract",
            "--provider",
            "risk-averse",
            "--utility",
            "log1p",
        ],
        vec![
            "contract",
            "--provider",
            "risk-averse",
            "--utility",
            "cara:0.3",
        ],
    ] {
        assert!(text(&succeeds(&args).stdout).contains("agree"), "{args:?}");
    }
    for (args, want) in [
        (vec!["contract", "--pi01", "0.3"], "Assumption 1"),
        (vec!["contract", "--gamma", "1.2"], "`gamma`"),
        (
            vec![
                "contract",
                "--provider",
                "risk-averse",
                "--utility",
                "cara:2",
            ],
            "r < 1",
        ),
        (
            vec!["contract", "--provider", "misclassified", "--w1", "1"],
            "`w1`",
        ),
    ] {
        let out = medisim(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: refused input");
        assert!(
            text(&out.stderr).contains(want),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn the_simulated_cohort_brackets_the_model() {
    let out = succeeds(&["contract", "simulate", "--patients", "50000", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cohorts = v["cohorts"].as_array().unwrap();
    assert_eq!(cohorts.len(), 3);
    for c in cohorts {
        let s = &c["survival"];
        let e = c["expected"][0].as_f64().unwrap();
        assert!(
            s["ci95"][0].as_f64().unwrap() <= e && e <= s["ci95"][1].as_f64().unwrap(),
            "{c}"
        );
    }
}

#[test]
fn a_generated_cohort_is_estimated_and_priced() {
    let dir = tempfile::tempdir().unwrap();
    let gen = succeeds(&["contract", "generate", "--patients", "20000", "--seed", "4"]);
    let csv = dir.path().join("cohort.csv");
    std::fs::write(&csv, &gen.stdout).unwrap();
    assert!(text(&gen.stderr).contains("true parameters of this generator"));
    let out = succeeds(&[
        "contract",
        "estimate",
        "--data",
        &csv.display().to_string(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["contract"]["agree"], true, "{v}");
    let gamma = v["estimate"]["params"]["gamma"].as_f64().unwrap();
    assert!((gamma - 0.5).abs() < 0.03, "γ̂ {gamma}");
    // A broken file is named by line and column.
    std::fs::write(
        &csv,
        "propensity,expenditure,death,los,z1\n0.5,2,10,30,0.1\n",
    )
    .unwrap();
    let out = medisim(&["contract", "estimate", "--data", &csv.display().to_string()]);
    assert_eq!(out.status.code(), Some(2), "refused input");
    assert!(
        text(&out.stderr).contains("line 2: expenditure must be 0 or 1"),
        "{}",
        text(&out.stderr)
    );
}
