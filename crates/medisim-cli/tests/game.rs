//! `medisim game aco` reproduces the dissertation's chapter 3 base case and Table 3.4.

mod common;

use common::{medisim, succeeds, text};

#[test]
fn the_base_case_and_a_benchmark_row_print() {
    let out = text(&succeeds(&["game", "aco", "--share", "0.5"]).stdout);
    assert!(
        out.contains("0.7058")
            && out.contains("0.6661")
            && out.contains("status_quo, CT rate 0.6661"),
        "{out}"
    );
    let out = text(&succeeds(&["game", "aco", "--no-incentive"]).stdout);
    assert!(
        out.contains("invest, CT rate 0.7207") && out.contains("k1 > -4.139"),
        "{out}"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&succeeds(&["game", "aco", "--benchmark", "29", "--json"]).stdout)
            .unwrap();
    assert_eq!(v["equilibrium"]["investment"], "invest");
    assert_eq!(v["equilibrium"]["share_m"], 1.0);
    assert!(v["equilibrium"]["utility_h"].is_number() && v["equilibrium"]["ct_rate"].is_number());
}

#[test]
fn bad_game_parameters_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("g.toml");
    std::fs::write(&p, "mu = 2\n").unwrap();
    let out = medisim(&["game", "aco", "--params", &p.display().to_string()]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("`mu`"), "{}", text(&out.stderr));
    let out = medisim(&["game", "aco", "--share", "1.5"]);
    assert!(
        text(&out.stderr).contains("`share`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_mssp_game_prints_table_4_2() {
    let out = text(&succeeds(&["game", "mssp"]).stdout);
    assert!(
        out.contains("0.942") && out.contains("0.542") && out.contains("equilibrium: invest"),
        "{out}"
    );
    let out = text(&succeeds(&["game", "mssp", "--no-incentive"]).stdout);
    assert!(out.contains("0.952") && out.contains("0.738"), "{out}");
    assert!(!medisim(&["game", "mssp", "--share", "0.3"])
        .status
        .success());
}

#[test]
fn the_chronic_care_game_prints_its_equilibrium_and_certificate() {
    let out = text(&succeeds(&["game", "chronic-care"]).stdout);
    assert!(
        out.contains("NLP-2 first best") && out.contains("certificate: ψ_PA"),
        "{out}"
    );
    // Reimbursing low effort more and a lifestyle-blind PCP: no tied equilibrium exists.
    let out = text(
        &succeeds(&[
            "game",
            "chronic-care",
            "--set",
            "n1=0",
            "--set",
            "n2=0.02",
            "--set",
            "u_hs=0.3",
        ])
        .stdout,
    );
    assert!(
        out.contains("no pure equilibrium") && out.contains("second best"),
        "{out}"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&succeeds(&["game", "chronic-care", "--json"]).stdout).unwrap();
    assert_eq!(v["solution"]["first_best"][0]["physician"][0][0], "high");
    let e = medisim(&["game", "chronic-care", "--benchmark", "30"]);
    assert!(
        !e.status.success() && text(&e.stderr).contains("chronic-care has no savings contract")
    );
}

#[test]
fn a_table_is_recomputed_and_written_as_csv_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let out = text(&succeeds(&["game", "imaging", "--table", "4.3", "--out", &d]).stdout);
    assert!(out.contains("328.1") && out.contains("307.1"), "{out}");
    let csv = std::fs::read_to_string(dir.path().join("table-4.3.csv")).unwrap();
    assert!(csv.starts_with("parameter,initial,no_incentive"), "{csv}");
    succeeds(&["game", "ct-scanner", "--table", "3.3", "--out", &d]);
    let svg = std::fs::read_to_string(dir.path().join("table-3.3-1.svg")).unwrap();
    assert!(
        svg.contains("<svg") && svg.contains("incentive"),
        "{svg:.200}"
    );
    let e = medisim(&["game", "ct-scanner", "--table", "5.2"]);
    assert!(text(&e.stderr).contains("belongs to `medisim game chronic-care`"));
    let e = medisim(&["game", "ct-scanner", "--out", &d]);
    assert!(text(&e.stderr).contains("add --table"));
}

#[test]
fn set_names_a_bad_key_and_refuses_out_of_range_values() {
    let e = medisim(&["game", "ct-scanner", "--set", "muu=0.5"]);
    assert!(
        text(&e.stderr).contains("`muu`") && text(&e.stderr).contains("known:"),
        "{}",
        text(&e.stderr)
    );
    let e = medisim(&["game", "chronic-care", "--set", "discount=1.5"]);
    assert!(
        text(&e.stderr).contains("`discount`"),
        "{}",
        text(&e.stderr)
    );
    let out = text(&succeeds(&["game", "ct-scanner", "--set", "benchmark=29", "--json"]).stdout);
    assert!(out.contains("\"benchmark\": 29.0"), "{out}");
}
