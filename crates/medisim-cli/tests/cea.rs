//! `medisim cea`: a PSA file's incremental table and curves, written and printed; bad input
//! located.

mod common;

use common::{medisim, succeeds, text};

#[test]
fn a_psa_file_gives_its_incremental_table_and_curves() {
    let dir = tempfile::tempdir().unwrap();
    let psa = dir.path().join("psa.csv");
    // B is dominated by A on means (costlier, no more effective on average).
    std::fs::write(
        &psa,
        "draw,strategy,cost,effect\n1,A,0,0\n1,B,5,1\n2,A,0,0\n2,B,5,-1\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let psa = psa.to_str().unwrap();
    let shown = succeeds(&[
        "cea",
        "--psa",
        psa,
        "--wtp",
        "0,10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        text(&shown.stdout).contains("EVPI 2.5"),
        "{}",
        text(&shown.stdout)
    );
    let curves = std::fs::read_to_string(out.join("curves.csv")).unwrap();
    assert_eq!(curves.lines().count(), 1 + 2 * 2, "{curves}");
    assert!(out.join("icer.parquet").exists());
    let plane = std::fs::read_to_string(out.join("ce-plane.svg")).unwrap();
    assert!(plane.contains("B vs A"), "{plane}");
    assert!(out.join("ceac.svg").exists());
    let v: serde_json::Value =
        serde_json::from_slice(&succeeds(&["cea", "--psa", psa, "--json"]).stdout).unwrap();
    assert_eq!(v["icer"][1]["status"], "D");
}

#[test]
fn bad_psa_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let psa = dir.path().join("psa.csv");
    std::fs::write(&psa, "draw,strategy,cost,effect\n1,A,0,inf\n").unwrap();
    let psa = psa.to_str().unwrap();
    for (args, says) in [
        (
            vec!["cea", "--psa", psa],
            "psa.csv: line 2, column `effect`",
        ),
        (
            vec!["cea", "--psa", psa, "--wtp=-5,3"],
            "-5 is outside [0, 1e12]",
        ),
    ] {
        let out = medisim(&args);
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
    }
}
