//! A *cell* is one (scenario, policy, run spec) run of a model, summarised over seeds.
//! Experiments are lists of cells; cells run in parallel and each finished cell is written
//! atomically to `OUT/cells/<key>.json`, keyed by [`Model::run_key`] — the model version, the
//! scenario, the policy and the run spec — so an interrupted experiment run again with the same
//! output directory reuses what it finished, and a changed model recomputes everything.
//!
//! Labels (`alpha`, `regime`, …) belong to the experiment that asked for a cell, not to the
//! cache: two experiments that need the same run share one file, and each sees its own labels.

use anyhow::Result;
use medisim_core::progress::Progress;
use medisim_core::{
    write_atomic, Column, Metric, Model, ModelVersion, RunSpec, Summaries, Summary, Table,
};
use medisim_dsl::Policy;
use medisim_sim::Field;
use medisim_sim::{MediSim, ObjectiveKind, Scenario};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What to run for one cell.
pub struct CellSpec<M: Model = MediSim> {
    /// Experiment-level labels, e.g. `alpha`, `beta`, `regime`, `lever`, `value`.
    pub labels: BTreeMap<String, String>,
    pub scenario: M::Scenario,
    pub policy: M::Policy,
    pub spec: RunSpec<M::Settings>,
}

impl<M: Model> CellSpec<M> {
    pub fn label(mut self, k: &str, v: impl ToString) -> Self {
        self.labels.insert(k.to_string(), v.to_string());
        self
    }
}

impl CellSpec<MediSim> {
    /// A Medi-Sim cell; experiments evaluate the mixed objective (paper Appendix H).
    pub fn new(scenario: Scenario, policy: Policy, seeds: Vec<u64>, horizon: u32) -> Self {
        CellSpec {
            labels: BTreeMap::new(),
            scenario,
            policy,
            spec: medisim_sim::run_spec(seeds, horizon, ObjectiveKind::Mixed),
        }
    }

    /// Fix a policy lever to a constant.
    pub fn fix(mut self, field: Field, value: f64) -> Self {
        self.policy.fix(field, value);
        self
    }
}

/// A finished cell, with the labels of the experiment that asked for it.
#[derive(Clone, Debug)]
pub struct Cell {
    pub key: String,
    pub labels: BTreeMap<String, String>,
    pub summary: Summaries,
}

/// What a cell file holds: the result and the model version that made it, nothing else.
#[derive(Serialize, Deserialize)]
struct CellFile {
    key: String,
    model_version: String,
    summary: Summaries,
}

impl Cell {
    pub fn mean(&self, metric: impl Metric) -> f64 {
        self.summary.mean(metric)
    }

    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }
}

/// How many cells were computed and how many were reused from the cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CellStats {
    pub computed: usize,
    pub reused: usize,
}

/// Run Medi-Sim cells (in parallel), reusing and filling the cache under `out` when given.
pub fn run_cells(
    specs: &[CellSpec],
    out: Option<&Path>,
    progress: &dyn Progress,
) -> Result<(Vec<Cell>, CellStats)> {
    run_model_cells(&MediSim, specs, out, progress)
}

/// Run cells of any model (in parallel), reusing and filling the cache under `out` when given.
pub fn run_model_cells<M: Model>(
    model: &M,
    specs: &[CellSpec<M>],
    out: Option<&Path>,
    progress: &dyn Progress,
) -> Result<(Vec<Cell>, CellStats)> {
    let dir = match out {
        Some(o) => Some(medisim_core::RunDir::create(&o.join("cells"))?),
        None => None,
    };
    let version = model.version().to_string();
    let computed = AtomicUsize::new(0);
    let reused = AtomicUsize::new(0);
    let cells: Result<Vec<Cell>> = specs
        .par_iter()
        .map(|spec| {
            let key = model.run_key(&spec.scenario, &spec.policy, &spec.spec);
            let path = dir.as_ref().map(|d| d.join(&format!("{key}.json")));
            let finish = |summary: Summaries| Cell {
                key: key.clone(),
                labels: spec.labels.clone(),
                summary,
            };
            if let Some(file) = path.as_deref().and_then(read_cell) {
                // The key holds the version; the check guards against a renamed file.
                if file.model_version == version && file.key == key {
                    reused.fetch_add(1, Ordering::Relaxed);
                    progress.inc(1);
                    return Ok(finish(file.summary));
                }
            }
            let summary = model
                .run(&spec.scenario, &spec.policy, &spec.spec)
                .map_err(anyhow::Error::msg)?;
            summary.check_finite().map_err(|e| {
                let at: Vec<String> = spec
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect();
                anyhow::anyhow!("{e} (at {})", at.join(", "))
            })?;
            if let Some(p) = &path {
                let file = CellFile {
                    key: key.clone(),
                    model_version: version.clone(),
                    summary,
                };
                write_atomic(p, &serde_json::to_vec(&file)?)?;
                computed.fetch_add(1, Ordering::Relaxed);
                progress.inc(1);
                return Ok(finish(file.summary));
            }
            computed.fetch_add(1, Ordering::Relaxed);
            progress.inc(1);
            Ok(finish(summary))
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

/// A result that is not a list of model cells (a game's printed tables, the contracts'
/// figures) cached whole as `out/cells/<key>.json`: the key hashes the model version, the
/// statistics' version, the result's name and the canonical text of its inputs, so a changed model or input recomputes
/// it and a rerun reads it back.
pub fn cached<T: Serialize + serde::de::DeserializeOwned>(
    out: Option<&Path>,
    version: ModelVersion,
    name: &str,
    inputs: &str,
    compute: impl FnOnce() -> Result<T>,
) -> Result<(T, CellStats)> {
    let version = version.to_string();
    let key = medisim_core::model::content_key(&[
        &version,
        medisim_core::stats::STATS_VERSION,
        name,
        inputs,
    ]);
    let Some(out) = out else {
        return Ok((
            compute()?,
            CellStats {
                computed: 1,
                reused: 0,
            },
        ));
    };
    let dir = medisim_core::RunDir::create(&out.join("cells"))?;
    let path = dir.join(&format!("{key}.json"));
    #[derive(Deserialize)]
    struct Stored<T> {
        key: String,
        model_version: String,
        result: T,
    }
    let stored: Option<Stored<T>> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    if let Some(s) = stored.filter(|s| s.key == key && s.model_version == version) {
        return Ok((
            s.result,
            CellStats {
                computed: 0,
                reused: 1,
            },
        ));
    }
    let result = compute()?;
    let file = serde_json::json!({"key": key, "model_version": version, "result": result});
    write_atomic(&path, &serde_json::to_vec(&file)?)?;
    Ok((
        result,
        CellStats {
            computed: 1,
            reused: 0,
        },
    ))
}

fn read_cell(path: &Path) -> Option<CellFile> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// The tidy table of cells: one row per (cell, metric), the labels first. `stochastic`: the
/// cells are samples over seeds, so one seed's spread and interval are empty (undefined).
pub fn tidy_table<M: Metric>(
    cells: &[Cell],
    label_cols: &[&str],
    metrics: &[M],
    stochastic: bool,
) -> Result<Table> {
    let rows: Vec<(&Cell, M, &Summary)> = cells
        .iter()
        .flat_map(|c| metrics.iter().map(move |m| (c, *m)))
        .map(|(c, m)| match c.summary.get(m) {
            Some(s) => Ok((c, m, s)),
            None => Err(anyhow::anyhow!("cell {} has no metric {}", c.key, m.name())),
        })
        .collect::<Result<_>>()?;
    let real = |f: fn(&Summary) -> f64| Column::Real(rows.iter().map(|(_, _, s)| f(s)).collect());
    let spread = |f: fn(&Summary) -> f64| {
        let defined = |s: &Summary| s.spread_defined(stochastic).then(|| f(s));
        Column::reals(rows.iter().map(|(_, _, s)| defined(s)).collect())
    };
    let mut t = Table::new();
    for l in label_cols {
        t.push(
            l,
            Column::Text(
                rows.iter()
                    .map(|(c, _, _)| c.label(l).to_string())
                    .collect(),
            ),
        );
    }
    Ok(t.with(
        "metric",
        Column::Text(rows.iter().map(|(_, m, _)| m.name().to_string()).collect()),
    )
    .with("mean", real(|s| s.mean))
    .with("std", spread(|s| s.std))
    .with("ci95_low", spread(|s| s.ci95[0]))
    .with("ci95_high", spread(|s| s.ci95[1]))
    .with(
        "n",
        Column::Count(rows.iter().map(|(_, _, s)| s.n as u64).collect()),
    ))
}

/// One of N shards of a cell list: cell `key` belongs to shard K when its hash, read as a
/// number, is K − 1 modulo N. Every cell is a pure function of its key, so N independent jobs
/// that each fill their shard into one shared `OUT/cells/` leave the cache a plain run
/// assembles from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// `K/N` with 1 ≤ K ≤ N ≤ 100,000.
    pub fn parse(text: &str) -> Result<Shard> {
        let bad = || anyhow::anyhow!("--shard `{text}`: expected K/N with 1 ≤ K ≤ N ≤ 100000");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > count || count > 100_000 {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    pub fn contains(&self, key: &str) -> bool {
        // Keys are hex hashes: their first 15 digits are uniform enough to spread cells.
        let n = u64::from_str_radix(key.get(..15).unwrap_or(key), 16)
            .unwrap_or_else(|_| key.bytes().map(u64::from).sum());
        (n % self.count as u64) as usize == self.index - 1
    }
}

/// Compute only `shard`'s cells of `specs` into the cache under `out` (nothing is assembled:
/// a later unsharded run reads every cell back).
pub fn fill_shard<M: Model>(
    model: &M,
    specs: Vec<CellSpec<M>>,
    out: &Path,
    shard: Shard,
    progress: &dyn Progress,
) -> Result<(usize, CellStats)> {
    let total = specs.len();
    let mine: Vec<CellSpec<M>> = specs
        .into_iter()
        .filter(|s| shard.contains(&model.run_key(&s.scenario, &s.policy, &s.spec)))
        .collect();
    progress.set_length(mine.len() as u64);
    let (_, stats) = run_model_cells(model, &mine, Some(out), progress)?;
    Ok((total, stats))
}

#[cfg(test)]
mod shard_tests {
    use super::*;

    /// A cached result is computed once, read back by a rerun without computing, and computed
    /// again under another model version or other inputs.
    #[test]
    fn a_cached_result_is_keyed_by_version_and_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let v1 = ModelVersion {
            model: "toy",
            number: 1,
        };
        let v2 = ModelVersion { number: 2, ..v1 };
        let calls = std::cell::Cell::new(0);
        let run = |v, inputs: &str| {
            cached(Some(dir.path()), v, "toy-section", inputs, || {
                calls.set(calls.get() + 1);
                Ok(vec![calls.get() as f64, 0.5])
            })
            .unwrap()
        };
        let (a, s) = run(v1, "x=1");
        assert_eq!((a, s.computed), (vec![1.0, 0.5], 1));
        let (b, s) = run(v1, "x=1");
        assert_eq!((b, s.reused, calls.get()), (vec![1.0, 0.5], 1, 1));
        assert_eq!(run(v2, "x=1").1.computed, 1);
        assert_eq!(run(v1, "x=2").1.computed, 1);
        assert_eq!(calls.get(), 3);
    }

    #[test]
    fn shards_partition_the_keys_and_bad_specs_are_refused() {
        let keys: Vec<String> = (0..500u32)
            .map(|i| format!("{:024x}", u128::from(i) * 0x9e37_79b9_7f4a_7c15))
            .collect();
        let shards: Vec<Shard> = (1..=4).map(|k| Shard { index: k, count: 4 }).collect();
        for key in &keys {
            assert_eq!(shards.iter().filter(|s| s.contains(key)).count(), 1);
        }
        assert!(shards
            .iter()
            .all(|s| keys.iter().filter(|k| s.contains(k)).count() > 50));
        assert_eq!(Shard::parse("2/5").unwrap(), Shard { index: 2, count: 5 });
        for bad in ["0/3", "4/3", "x", "1/0", "1/"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
