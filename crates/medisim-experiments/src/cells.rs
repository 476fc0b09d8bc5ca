//! A *cell* is one (scenario, policy, seeds, horizon) run, summarised over seeds. Experiments
//! are lists of cells; cells run in parallel and each finished cell is written atomically to
//! `OUT/cells/<key>.json`, keyed by a hash of everything that determines its result, so an
//! interrupted experiment run again with the same output directory reuses what it finished.

use anyhow::{Context, Result};
use indicatif::ProgressBar;
use medisim_dsl::{Field, Policy};
use medisim_sim::{run_seeds, ObjectiveKind, RunConfig, Scenario, Summary};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// What to run for one cell.
#[derive(Clone, Debug)]
pub struct CellSpec {
    /// Experiment-level labels, e.g. `alpha`, `beta`, `regime`, `lever`, `value`.
    pub labels: BTreeMap<String, String>,
    pub scenario: Scenario,
    pub policy: Policy,
    pub seeds: Vec<u64>,
    pub horizon: u32,
}

/// A finished cell.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cell {
    pub key: String,
    pub labels: BTreeMap<String, String>,
    pub summary: BTreeMap<String, Summary>,
}

impl Cell {
    pub fn mean(&self, metric: &str) -> f64 {
        self.summary.get(metric).map_or(f64::NAN, |s| s.mean)
    }

    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }
}

impl CellSpec {
    pub fn new(scenario: Scenario, policy: Policy, seeds: Vec<u64>, horizon: u32) -> Self {
        CellSpec {
            labels: BTreeMap::new(),
            scenario,
            policy,
            seeds,
            horizon,
        }
    }

    pub fn label(mut self, k: &str, v: impl ToString) -> Self {
        self.labels.insert(k.to_string(), v.to_string());
        self
    }

    /// Fix a policy lever to a constant.
    pub fn fix(mut self, field: Field, value: f64) -> Self {
        self.policy.fix(field, value);
        self
    }

    /// Hash of everything that determines the result (labels excluded: two experiments that
    /// need the same run share it).
    pub fn key(&self) -> String {
        let mut h = Sha256::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(self.scenario.to_toml().as_bytes());
        h.update(self.policy.canonical_text().as_bytes());
        h.update(format!("{:?}/{}", self.seeds, self.horizon).as_bytes());
        h.finalize()
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// How many cells were computed and how many were reused from the cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CellStats {
    pub computed: usize,
    pub reused: usize,
}

/// Run cells (in parallel), reusing and filling the cache under `out` when given.
pub fn run_cells(
    specs: &[CellSpec],
    out: Option<&Path>,
    progress: &ProgressBar,
) -> Result<(Vec<Cell>, CellStats)> {
    let dir = out.map(|o| o.join("cells"));
    if let Some(d) = &dir {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let computed = AtomicUsize::new(0);
    let reused = AtomicUsize::new(0);
    let cells: Result<Vec<Cell>> = specs
        .par_iter()
        .map(|spec| {
            let key = spec.key();
            let path = dir.as_ref().map(|d| d.join(format!("{key}.json")));
            if let Some(p) = &path {
                if let Some(mut cell) = read_cell(p) {
                    cell.labels = spec.labels.clone();
                    reused.fetch_add(1, Ordering::Relaxed);
                    progress.inc(1);
                    return Ok(cell);
                }
            }
            let config = RunConfig {
                seeds: spec.seeds.clone(),
                horizon: spec.horizon,
                objective: ObjectiveKind::Mixed,
                trace: false,
            };
            let r = run_seeds(&spec.scenario, &spec.policy, &config).map_err(anyhow::Error::msg)?;
            let cell = Cell {
                key,
                labels: spec.labels.clone(),
                summary: r.summary,
            };
            if let Some(p) = &path {
                write_atomic(p, &serde_json::to_vec(&cell)?)?;
            }
            computed.fetch_add(1, Ordering::Relaxed);
            progress.inc(1);
            Ok(cell)
        })
        .collect();
    Ok((
        cells?,
        CellStats {
            computed: computed.into_inner(),
            reused: reused.into_inner(),
        },
    ))
}

fn read_cell(path: &Path) -> Option<Cell> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Write through a temporary file in the same directory and rename: a crash leaves either the
/// old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp: PathBuf = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
}

/// A tidy CSV of cells: one row per (cell, metric).
pub fn write_tidy_csv(
    path: &Path,
    cells: &[Cell],
    label_cols: &[&str],
    metrics: &[&str],
) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = label_cols.to_vec();
    header.extend(["metric", "mean", "std", "ci95_low", "ci95_high", "n"]);
    w.write_record(&header)?;
    for c in cells {
        for m in metrics {
            let s = &c.summary[*m];
            let mut row: Vec<String> = label_cols.iter().map(|l| c.label(l).to_string()).collect();
            row.extend([
                m.to_string(),
                s.mean.to_string(),
                s.std.to_string(),
                s.ci95[0].to_string(),
                s.ci95[1].to_string(),
                s.n.to_string(),
            ]);
            w.write_record(&row)?;
        }
    }
    write_atomic(path, &w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)
}
