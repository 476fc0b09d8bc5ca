//! `medisim game aco` reproduces the dissertation's chapter 3 base case and Table 3.4.

mod common;

use common::{medisim, succeeds, text};

#[test]
fn the_base_case_and_a_benchmark_row_print() {
    let out = text(&succeeds(&["game", "aco", "--share", "0.5"]).stdout);
    assert!(
        out.contains("0.7058")
            && out.contains("0.6661")
            && out.contains("StatusQuo, CT rate 0.6661"),
        "{out}"
    );
    let out = text(&succeeds(&["game", "aco", "--no-incentive"]).stdout);
    assert!(
        out.contains("Invest, CT rate 0.7207") && out.contains("k1 > -4.139"),
        "{out}"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&succeeds(&["game", "aco", "--benchmark", "29", "--json"]).stdout)
            .unwrap();
    assert_eq!(v["equilibrium"]["investment"], "invest");
    assert_eq!(v["equilibrium"]["share"], 1.0);
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
        out.contains("0.942") && out.contains("0.542") && out.contains("equilibrium: Invest"),
        "{out}"
    );
    let out = text(&succeeds(&["game", "mssp", "--no-incentive"]).stdout);
    assert!(out.contains("0.952") && out.contains("0.738"), "{out}");
    assert!(!medisim(&["game", "mssp", "--share", "0.3"])
        .status
        .success());
}
