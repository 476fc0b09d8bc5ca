//! The warm-start ablation of Appendix J.1: the same search from the neutral template alone and
//! from the full library, repeated over consecutive search seeds so that the comparison is not
//! one draw of the operators.
//!
//! Layout of `OUT`: `ablation.toml` (the plan: replicates and the base settings), the base
//! `config.toml` and `scenario.toml`, one search directory per (library, seed) under
//! `OUT/neutral/seed-K` and `OUT/full/seed-K`, and `ablation.csv` once every run has finished.
//! Each run is an ordinary search, so an interrupted ablation resumes run by run.

use crate::hospital::run_search;
use crate::search::{SearchOutcome, SCENARIO_FILE};
use crate::SearchConfig;
use anyhow::{bail, Context, Result};
use medisim_core::progress::Progress;
use medisim_core::{RunDir, Table};
use medisim_sim::Metric;
use medisim_sim::Scenario;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The two libraries compared: label, `SearchConfig::library` value, directory name.
pub const LIBRARIES: [(&str, &str, &str); 2] = [
    ("neutral-only", "neutral", "neutral"),
    ("full library", "", "full"),
];

/// The plan file: what a resumed ablation must repeat.
pub const PLAN_FILE: &str = "ablation.toml";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AblationPlan {
    /// Search seeds `config.seed .. config.seed + replicates`.
    pub replicates: u32,
}

/// Read the plan of the ablation in `out` (to resume it).
pub fn load_plan(out: &Path) -> Result<AblationPlan> {
    read_plan(out, PLAN_FILE, "ablation")
}

/// Read the plan `file` of the repeated searches (`what`: an ablation, a benchmark) in `out`.
pub fn read_plan<T: serde::de::DeserializeOwned>(out: &Path, file: &str, what: &str) -> Result<T> {
    let path = out.join(file);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{} holds no {what} to resume", out.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not a valid {what} plan", path.display()))
}

/// One finished search of the ablation, on the held-out seeds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AblationRun {
    pub library: &'static str,
    pub seed: u64,
    pub best_warm_start: f64,
    pub searched: f64,
    pub upcoding: f64,
    pub best_validation: f64,
    /// Rollouts simulated for this run in this process (0 when read back on resume).
    #[serde(skip)]
    pub rollouts: u64,
}

/// Per-library summary over the replicates.
#[derive(Clone, Debug, PartialEq)]
pub struct AblationSummary {
    pub library: &'static str,
    pub runs: usize,
    pub mean_searched: f64,
    pub min_searched: f64,
    pub max_searched: f64,
    /// Runs whose searched policy codes truthfully on the held-out seeds.
    pub zero_upcoding: usize,
}

/// The directory of one run.
pub fn run_dir(out: &Path, dir_name: &str, seed: u64) -> PathBuf {
    out.join(dir_name).join(format!("seed-{seed}"))
}

/// One kind of search in a repeated set: its label, its directory under `OUT` and how it
/// changes the base settings.
#[derive(Clone, Copy)]
pub struct Variant {
    pub label: &'static str,
    pub dir: &'static str,
    pub apply: fn(&mut SearchConfig),
}

/// Repeated searches in `out` (an ablation, a benchmark: `what`): take the directory's lock,
/// claim it with `plan_text` (a resumed set must repeat its plan), write the base settings
/// `recorded`, the scenario and the plan, then run every variant for each of `replicates`
/// consecutive search seeds from `config.seed`, seed by seed, each an ordinary resumable
/// search in `OUT/DIR/seed-K`. `each` is told every finished search; the lock is held until the
/// caller drops the returned one, after writing its summary.
#[allow(clippy::too_many_arguments)]
pub fn repeat(
    config: &SearchConfig,
    recorded: &SearchConfig,
    scenario: &Scenario,
    out: &Path,
    (what, plan_file, plan_text): (&str, &str, &str),
    replicates: u32,
    variants: &[Variant],
    resume: bool,
    bar: &dyn Fn(&str, u64) -> Box<dyn Progress>,
    mut each: impl FnMut(&Variant, u64, SearchOutcome),
) -> Result<(RunDir, medisim_core::RunLock)> {
    let dir = RunDir::create(out)?;
    let lock = dir.lock()?;
    let held = std::fs::read_to_string(out.join(plan_file)).ok();
    dir.claim(what, held.as_deref(), plan_text, resume)?;
    dir.write("config.toml", toml::to_string(recorded)?.as_bytes())?;
    dir.write(SCENARIO_FILE, scenario.to_toml().as_bytes())?;
    dir.write(plan_file, plan_text.as_bytes())?;
    for k in 0..u64::from(replicates) {
        let seed = config.seed + k;
        for v in variants {
            let mut cfg = SearchConfig {
                seed,
                ..config.clone()
            };
            (v.apply)(&mut cfg);
            let run = run_dir(out, v.dir, seed);
            // A run the kill never reached starts afresh; one it interrupted continues.
            let started = run.join("config.toml").exists();
            let o = run_search(
                &cfg,
                scenario,
                &run,
                started,
                None,
                &*bar(v.label, u64::from(cfg.iterations)),
            )?;
            each(v, seed, o);
        }
    }
    Ok((dir, lock))
}

/// Run (or, with `resume`, continue) the ablation in `out`. `bar` makes a progress bar for
/// each search.
pub fn run_ablation(
    config: &SearchConfig,
    scenario: &Scenario,
    out: &Path,
    replicates: u32,
    resume: bool,
    bar: &dyn Fn(&str, u64) -> Box<dyn Progress>,
) -> Result<Vec<AblationRun>> {
    if replicates == 0 {
        bail!("the ablation needs at least one replicate");
    }
    let plan_text = toml::to_string(&AblationPlan { replicates })?;
    let recorded = SearchConfig {
        library: String::new(),
        ..config.clone()
    };
    let variants = [
        Variant {
            label: LIBRARIES[0].0,
            dir: LIBRARIES[0].2,
            apply: |c| c.library = LIBRARIES[0].1.into(),
        },
        Variant {
            label: LIBRARIES[1].0,
            dir: LIBRARIES[1].2,
            apply: |c| c.library = LIBRARIES[1].1.into(),
        },
    ];
    let mut runs = Vec::new();
    let (dir, _lock) = repeat(
        config,
        &recorded,
        scenario,
        out,
        ("an ablation", PLAN_FILE, &plan_text),
        replicates,
        &variants,
        resume,
        bar,
        |v, seed, o| {
            runs.push(AblationRun {
                library: v.label,
                seed,
                best_warm_start: o.held_out("best_warm_start", Metric::Fitness),
                searched: o.held_out("searched", Metric::Fitness),
                upcoding: o.held_out("searched", Metric::UpcodingRate),
                best_validation: o.best_validation,
                rollouts: o.rollouts,
            })
        },
    )?;
    dir.write("ablation.csv", &Table::from_records(&runs)?.to_csv()?)?;
    Ok(runs)
}

/// Mean, range and truthful-coding count of the searched fitness, per library.
pub fn summarise(runs: &[AblationRun]) -> Vec<AblationSummary> {
    LIBRARIES
        .iter()
        .map(|(label, _, _)| {
            let mine: Vec<&AblationRun> = runs.iter().filter(|r| r.library == *label).collect();
            let s: Vec<f64> = mine.iter().map(|r| r.searched).collect();
            AblationSummary {
                library: label,
                runs: mine.len(),
                mean_searched: s.iter().sum::<f64>() / s.len().max(1) as f64,
                min_searched: s.iter().copied().fold(f64::INFINITY, f64::min),
                max_searched: s.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                zero_upcoding: mine.iter().filter(|r| r.upcoding == 0.0).count(),
            }
        })
        .collect()
}

/// The ablation as a printed table: one row per run, then one summary row per library.
pub fn table_text(runs: &[AblationRun]) -> String {
    let mut s = format!(
        "{:<14} {:>6} {:>16} {:>12} {:>10} {:>16}\n",
        "library", "seed", "best warm start", "searched", "upcoding", "best validation"
    );
    for r in runs {
        s += &format!(
            "{:<14} {:>6} {:>16.4} {:>12.4} {:>10.3} {:>16.4}\n",
            r.library, r.seed, r.best_warm_start, r.searched, r.upcoding, r.best_validation
        );
    }
    for m in summarise(runs) {
        s += &format!(
            "{:<14} searched mean {:.4} (range {:.4}–{:.4}) over {} runs; zero up-coding in {} of {}\n",
            m.library,
            m.mean_searched,
            m.min_searched,
            m.max_searched,
            m.runs,
            m.zero_upcoding,
            m.runs
        );
    }
    s
}
