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

/// `--evppi` reads the parameter draws by name; a name the file lacks is named with the ones it
/// has, and `--parameters` without a group is refused.
#[test]
fn evppi_groups_are_read_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (psa, params) = (dir.path().join("psa.csv"), dir.path().join("p.csv"));
    let mut rows = String::from("draw,strategy,cost,effect\n");
    let mut draws = String::from("draw,x,flat\n");
    for d in 0..40 {
        let x = f64::from(d) / 40.0 - 0.5;
        rows.push_str(&format!("{d},A,0,0\n{d},B,0,{x}\n"));
        draws.push_str(&format!("{d},{x},1\n"));
    }
    std::fs::write(&psa, rows).unwrap();
    std::fs::write(&params, draws).unwrap();
    let (psa, params) = (psa.to_str().unwrap(), params.to_str().unwrap());
    let base = [
        "cea",
        "--psa",
        psa,
        "--parameters",
        params,
        "--wtp",
        "1",
        "--json",
    ];
    let v: serde_json::Value = serde_json::from_slice(
        &succeeds(&[&base[..], &["--evppi", "x", "--evppi", "flat"]].concat()).stdout,
    )
    .unwrap();
    let evppi = |k: usize| v["evppi"][k]["evppi"].as_f64().unwrap();
    // E[max(0, x)] over x uniform on [−0.5, 0.5): about 1/8; a constant is worth nothing.
    assert!((evppi(0) - 0.125).abs() < 0.01, "{}", evppi(0));
    assert_eq!(evppi(1), 0.0);
    let out = medisim(&[&base[..], &["--evppi", "y"]].concat());
    assert!(
        text(&out.stderr).contains("no parameter `y`") && text(&out.stderr).contains("x, flat")
    );
    let out = medisim(&base);
    assert!(text(&out.stderr).contains("--parameters is read for --evppi"));
}
