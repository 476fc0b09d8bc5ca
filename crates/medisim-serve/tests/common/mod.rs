//! What the dashboard's tests share: a server on a free port, and the L1 cells `medisim l1`
//! computes for the small grid the tests run.

#[allow(dead_code)]
pub mod cdp;

use std::path::Path;
use std::time::Duration;

/// A server on a free port over a fresh output directory; its base URL.
pub fn server() -> (String, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let o = medisim_serve::Options {
        host: "127.0.0.1".parse().unwrap(),
        port: 0,
        out: out.path().to_path_buf(),
    };
    std::thread::spawn(move || {
        medisim_serve::serve(&o, |at| tx.send(at).unwrap()).unwrap();
    });
    let at = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    (format!("http://{at}"), out)
}

/// The (0.5, 1) cell of `medisim l1 --grid 3 --seeds 1..3 --horizon 30 --out OUT`, with how
/// many of the grid's cells were computed and read back.
pub fn l1_cell(out: &Path) -> (medisim_experiments::cells::Cell, (usize, usize)) {
    let o = medisim_experiments::Options {
        seeds: vec![1, 2, 3],
        horizon: 30,
        grid: 3,
        ..medisim_experiments::Options::paper()
    };
    let (_, cells, stats) =
        medisim_experiments::l1(&o, out, &medisim_core::progress::Hidden).unwrap();
    let cell = cells
        .into_iter()
        .find(|c| c.label("alpha") == "0.5" && c.label("beta") == "1")
        .unwrap();
    (cell, (stats.computed, stats.reused))
}

/// A 30-iteration search of the built-in scenario into `dir`.
#[allow(dead_code)]
pub fn short_search(dir: &Path) -> medisim_search::SearchOutcome {
    let c = medisim_search::SearchConfig {
        iterations: 30,
        ..medisim_search::SearchConfig::default()
    };
    let scenario = medisim_sim::Scenario::default();
    let pb = medisim_core::progress::Hidden;
    medisim_search::run_search(&c, &scenario, dir, false, None, &pb).unwrap()
}

/// A paired result `r` holds `a`'s and `b`'s metrics as `medisim run` gives them, and `m`'s
/// difference as the summary of the per-seed differences.
#[allow(dead_code)]
pub fn assert_paired(
    r: &serde_json::Value,
    a: &medisim_sim::RunResult,
    b: &medisim_sim::RunResult,
    m: medisim_sim::Metric,
) {
    let json = |x: &medisim_sim::RunResult| serde_json::to_value(x.summary.reported(true)).unwrap();
    assert_eq!(r["a"]["metrics"], json(a));
    assert_eq!(r["b"]["metrics"], json(b));
    let d = per_seed_differences(a, b, m);
    let name = medisim_core::Metric::name(m);
    assert_eq!(
        r["differences"][name],
        serde_json::to_value(medisim_core::stats::summarise(&d)).unwrap()
    );
}

/// Each seed's B − A of a metric, in seed order.
#[allow(dead_code)]
pub fn per_seed_differences(
    a: &medisim_sim::RunResult,
    b: &medisim_sim::RunResult,
    m: medisim_sim::Metric,
) -> Vec<f64> {
    a.per_seed
        .iter()
        .zip(&b.per_seed)
        .map(|(x, y)| y.get(m) - x.get(m))
        .collect()
}
