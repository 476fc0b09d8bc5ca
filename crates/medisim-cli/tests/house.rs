//! One command shape for the four models: `run --model` and `sweep --model` serve the panel,
//! the games and the contracts through the same path (cells, cache, shards) as Medi-Sim.

mod common;

use common::{medisim, succeeds, text};

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_slice(&succeeds(args).stdout).expect("JSON")
}

/// `run --model panel` over the seeds 0..runs-1 is `panel run` (same streams), bit for bit.
#[test]
fn the_generic_run_of_the_panel_is_panel_run() {
    let generic = json(&["run", "--model", "panel", "--seeds", "0..5", "--json"]);
    let direct = json(&["panel", "run", "--runs", "6", "--json"]);
    let rows = generic["metrics"].as_array().unwrap();
    assert_eq!(rows.len(), 20);
    for row in rows {
        let name = row["metric"].as_str().unwrap();
        assert_eq!(row["mean"], direct["result"][name]["mean"], "{name}");
        assert_eq!(row["ci95_low"], direct["result"][name]["ci95"][0], "{name}");
    }
    assert_eq!(generic["model_version"], "medisim-panel/3");
    assert_eq!(generic["model_version"], direct["model_version"]);
    // `panel run --seeds` names the same runs, as every model's --seeds does.
    let seeds = json(&["panel", "run", "--seeds", "0..5", "--json"]);
    assert_eq!(seeds["result"], direct["result"]);
}

/// A game and a contract run by name give what their own commands give.
#[test]
fn games_and_contracts_run_through_the_generic_path() {
    let g = json(&["run", "--model", "imaging", "--json"]);
    let direct = json(&["game", "imaging", "--json"]);
    let alpha = g["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "alpha")
        .unwrap();
    assert_eq!(alpha["mean"], direct["equilibrium"]["alpha"]);
    let c = json(&["run", "--model", "contract", "--set", "gamma=0.3", "--json"]);
    let pay = c["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "expected_payment")
        .unwrap();
    assert!((pay["mean"].as_f64().unwrap() - 0.3).abs() < 1e-9);
}

/// A panel sweep over two keys together, sharded in two and assembled, equals the straight
/// sweep byte for byte; the assembly computes nothing.
#[test]
fn a_two_key_panel_sweep_shards_and_assembles_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let sweep = |out: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "sweep",
            "--model",
            "panel",
            "--set",
            "margin=0.1,0.4",
            "--set",
            "retinopathy.macular_edema_cost=4000,6000",
            "--seeds",
            "0..3",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        succeeds(&args)
    };
    sweep(&a, &[]);
    sweep(&b, &["--shard", "1/2"]);
    sweep(&b, &["--shard", "2/2"]);
    let cells = std::fs::read_dir(b.join("cells")).unwrap().count();
    assert_eq!(cells, 4 * 4, "every point × seed cached by the shards");
    sweep(&b, &[]);
    let read = |d: &std::path::Path| std::fs::read(d.join("sweep.csv")).unwrap();
    assert_eq!(read(&a), read(&b));
    let csv = String::from_utf8(read(&a)).unwrap();
    assert!(csv.starts_with("margin,retinopathy.macular_edema_cost,point,metric"));
    // Margin moves profit; the edema cost moves the complications bill.
    assert!(csv.contains("0.1,4000,0,provider_profit,15000"), "{csv}");
}

/// A parameter another model owns, a Medi-Sim flag given to another model and an unknown
/// model are refused by name (exit 2), before anything runs.
#[test]
fn wrong_keys_flags_and_models_are_refused_by_name() {
    for (args, says) in [
        (
            vec!["sweep", "--model", "ct-scanner", "--set", "mu=0:2:3"],
            "`mu`",
        ),
        (
            vec!["sweep", "--model", "panel", "--set", "care.nu=0:1:2"],
            "unknown key",
        ),
        (
            vec!["run", "--model", "panel", "--horizon", "5"],
            "--horizon belongs to Medi-Sim",
        ),
        (
            vec!["run", "--model", "hospital"],
            "the models are: medisim",
        ),
        (
            vec!["run", "--params", "x.toml"],
            "--params and --disease belong to the other models",
        ),
    ] {
        let out = medisim(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// `sensitivity --model contract`: under limited liability the expected payment is γ (Theorem
/// 2), so γ carries all of its variance and π11 none, while π11 drives the payment p11.
#[test]
fn a_contracts_sensitivity_finds_what_theorem_2_says() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    succeeds(&[
        "sensitivity",
        "--model",
        "contract",
        "--keys",
        "gamma,pi11",
        "--box",
        "0.1",
        "--design",
        "sobol",
        "--points",
        "64",
        "--metric",
        "expected_payment",
        "--metric",
        "p11",
        "--out",
        out,
    ]);
    let csv = std::fs::read_to_string(dir.path().join("sensitivity-indices.csv")).unwrap();
    let total = |metric: &str, key: &str| -> f64 {
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        let h = r.headers().unwrap().clone();
        let col = |n: &str| h.iter().position(|x| x == n).unwrap();
        r.records()
            .map(|x| x.unwrap())
            .find(|x| &x[col("metric")] == metric && &x[col("key")] == key)
            .map(|x| x[col("total")].parse().unwrap())
            .unwrap()
    };
    assert!(total("expected_payment", "gamma") > 0.9);
    assert!(total("expected_payment", "pi11").abs() < 1e-9);
    assert!(total("p11", "pi11") > 0.9);
    assert!(total("p11", "gamma").abs() < 1e-9);
    // A box that leaves the paper's assumptions is refused with the key and the reason.
    let e = medisim(&[
        "sensitivity",
        "--model",
        "contract",
        "--keys",
        "pi11",
        "--out",
        out,
    ]);
    assert_eq!(e.status.code(), Some(2));
    assert!(
        text(&e.stderr).contains("box around `pi11` = 0.85 reaches 0.68: Assumption 1"),
        "{}",
        text(&e.stderr)
    );
}
