//! The search benchmark: search efficiency measured as the field measures it. Each arm (an
//! operator, a library) runs over consecutive search seeds, every run an ordinary resumable
//! search; each run's incumbents are evaluated on the held-out seeds after it ends (its
//! lineage), which gives the held-out fitness of the incumbent against the children evaluated.
//! Over seeds that is a curve with 95% intervals per arm, and each run's evaluations to a target
//! common to all arms.
//!
//! The target is 95% of the way from the best warm start's held-out fitness to the best final
//! held-out fitness any run reached. (95% of the fitness itself would sit below the warm start:
//! Eq. 8 has an offset; docs/search.md has the measured values.)
//!
//! Layout of `OUT`: `benchmark.toml` (the plan), the base `config.toml` and `scenario.toml`,
//! one search directory per (arm, seed) under `OUT/ARM/seed-K`, and once every run has finished
//! `benchmark.csv` (one row per run) and `benchmark-curve.csv` (per arm and evaluation count).

use crate::ablation::{repeat, Variant};
use crate::config::OperatorKind;
use crate::search::LineagePoint;
use crate::SearchConfig;
use anyhow::{bail, Result};
use medisim_core::progress::Progress;
use medisim_core::Table;
use medisim_sim::{Metric, Scenario};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The arms there are, each setting everything it is about (operator, priors, library), so a
/// base setting cannot relabel one.
pub const ARMS: [Variant; 5] = [
    // Offline edits with the domain's priors, the full library: the published setting.
    Variant {
        label: "offline",
        dir: "offline",
        apply: |c| {
            c.operator = OperatorKind::Offline;
            c.offline_priors = true;
            c.library = String::new();
            c.objectives = Vec::new();
        },
    },
    // Offline edits without priors (uniform field choice, generic edits): the floor.
    Variant {
        label: "random",
        dir: "random",
        apply: |c| {
            c.operator = OperatorKind::Offline;
            c.offline_priors = false;
            c.library = String::new();
            c.objectives = Vec::new();
        },
    },
    // Offline edits with priors from the neutral template alone: the ablation.
    Variant {
        label: "neutral",
        dir: "neutral",
        apply: |c| {
            c.operator = OperatorKind::Offline;
            c.offline_priors = true;
            c.library = "neutral".into();
            c.objectives = Vec::new();
        },
    },
    // The published setting, its islands ranked by front and crowding on the fitness and each
    // safety channel (`crate::pareto`) instead of by the fitness alone.
    Variant {
        label: "pareto",
        dir: "pareto",
        apply: |c| {
            c.operator = OperatorKind::Offline;
            c.offline_priors = true;
            c.library = String::new();
            c.objectives = vec![crate::pareto::SAFETY.into()];
        },
    },
    // The LLM operator against the configured server (`--llm-*`: its concurrency, and
    // `--objectives` where given), the full library.
    Variant {
        label: "llm",
        dir: "llm",
        apply: |c| {
            c.operator = OperatorKind::Llm;
            c.library = String::new();
        },
    },
];

/// The arms a benchmark runs when none are named.
pub const DEFAULT_ARMS: [&str; 4] = ["offline", "random", "neutral", "pareto"];

/// The plan file: what a resumed benchmark must repeat.
pub const PLAN_FILE: &str = "benchmark.toml";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchmarkPlan {
    /// Search seeds `config.seed .. config.seed + replicates`.
    pub replicates: u32,
    pub arms: Vec<String>,
}

impl BenchmarkPlan {
    /// The plan, or why not: at least two replicates (a curve needs an interval), known arms,
    /// each once.
    pub fn new(replicates: u32, arms: &[String]) -> Result<BenchmarkPlan> {
        if replicates < 2 {
            bail!("the benchmark needs at least two replicates (search seeds) for its intervals");
        }
        if arms.is_empty() {
            bail!("the benchmark needs at least one arm");
        }
        for (i, a) in arms.iter().enumerate() {
            if !ARMS.iter().any(|x| x.label == a) {
                bail!(
                    "no arm `{}`; the arms are {}",
                    medisim_core::input::excerpt(a),
                    ARMS.iter().map(|x| x.label).collect::<Vec<_>>().join(", ")
                );
            }
            if arms[..i].contains(a) {
                bail!("arm `{a}` named twice");
            }
        }
        Ok(BenchmarkPlan {
            replicates,
            arms: arms.to_vec(),
        })
    }
}

/// Read the plan of the benchmark in `out` (to resume it).
pub fn load_plan(out: &Path) -> Result<BenchmarkPlan> {
    let p: BenchmarkPlan = crate::ablation::read_plan(out, PLAN_FILE, "benchmark")?;
    // A plan file may have been edited: it is checked as a new one is.
    BenchmarkPlan::new(p.replicates, &p.arms)
}

/// One finished search of the benchmark.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchRun {
    pub arm: String,
    pub seed: u64,
    /// Held-out fitness of the best warm start and of the final incumbent.
    pub warm_start: f64,
    pub searched: f64,
    /// Children evaluated at full horizon in the whole run.
    pub evaluations: usize,
    /// Children evaluated when the incumbent first reached the target on held-out seeds
    /// (never: NaN in the tables).
    #[serde(serialize_with = "nan_if_never")]
    pub evaluations_to_target: Option<usize>,
}

/// A count that may not exist, as a real a table can hold in one column: NaN when it does not.
fn nan_if_never<S: serde::Serializer>(v: &Option<usize>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(v.map_or(f64::NAN, |e| e as f64))
}

/// The held-out fitness of the incumbent after `evaluations` children, over one arm's runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CurvePoint {
    pub arm: String,
    pub evaluations: usize,
    pub mean: f64,
    pub ci95_low: f64,
    pub ci95_high: f64,
    /// The runs averaged (all the arm's: the curve stops at its shortest run).
    pub runs: usize,
}

/// A finished benchmark.
#[derive(Clone, Debug)]
pub struct Benchmark {
    pub target: f64,
    pub runs: Vec<BenchRun>,
    pub curve: Vec<CurvePoint>,
}

/// Run (or, with `resume`, continue) the benchmark in `out`. `bar` makes a progress bar for
/// each search.
pub fn run_benchmark(
    config: &SearchConfig,
    scenario: &Scenario,
    out: &Path,
    plan: &BenchmarkPlan,
    resume: bool,
    bar: &dyn Fn(&str, u64) -> Box<dyn Progress>,
) -> Result<Benchmark> {
    let plan_text = toml::to_string(plan)?;
    let arms: Vec<Variant> = plan
        .arms
        .iter()
        .filter_map(|a| ARMS.iter().find(|v| v.label == a).copied())
        .collect();
    let mut lineages = Vec::new();
    let (dir, _lock) = repeat(
        config,
        config,
        scenario,
        out,
        ("a benchmark", PLAN_FILE, &plan_text),
        plan.replicates,
        &arms,
        resume,
        bar,
        |v, seed, o| {
            lineages.push((
                v.label,
                seed,
                o.held_out("best_warm_start", Metric::Fitness),
                o.evaluated,
                o.lineage,
            ))
        },
    )?;
    let b = summarise(&lineages);
    dir.write("benchmark.csv", &Table::from_records(&b.runs)?.to_csv()?)?;
    dir.write(
        "benchmark-curve.csv",
        &Table::from_records(&b.curve)?.to_csv()?,
    )?;
    Ok(b)
}

/// The incumbent's held-out fitness after `e` children: the last incumbent that took over at
/// or before `e`.
fn at(lineage: &[LineagePoint], e: usize) -> f64 {
    lineage
        .iter()
        .take_while(|p| p.evaluations <= e)
        .last()
        .map_or(f64::NAN, |p| p.held_out)
}

/// The runs, the target and the curves from each run's (arm, seed, warm start's held-out
/// fitness, children evaluated, lineage).
pub fn summarise(lineages: &[(&str, u64, f64, usize, Vec<LineagePoint>)]) -> Benchmark {
    let finals: Vec<f64> = lineages
        .iter()
        .map(|(_, _, _, _, l)| l.last().map_or(f64::NAN, |p| p.held_out))
        .collect();
    let best = finals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let warm = lineages
        .iter()
        .map(|(_, _, w, _, _)| *w)
        .fold(f64::NEG_INFINITY, f64::max);
    let target = warm + 0.95 * (best - warm);
    let runs = lineages
        .iter()
        .zip(&finals)
        .map(|((arm, seed, warm, evaluations, l), searched)| BenchRun {
            arm: arm.to_string(),
            seed: *seed,
            warm_start: *warm,
            searched: *searched,
            evaluations: *evaluations,
            evaluations_to_target: l
                .iter()
                .find(|p| p.held_out >= target)
                .map(|p| p.evaluations),
        })
        .collect();
    let mut curve = Vec::new();
    let mut arms: Vec<&str> = lineages.iter().map(|l| l.0).collect();
    arms.sort_unstable();
    arms.dedup();
    for arm in arms {
        let mine: Vec<_> = lineages.iter().filter(|l| l.0 == arm).collect();
        // Every point over every run of the arm: the curve stops where the shortest run did
        // (runs skip duplicates and screened-out children, so their counts differ a little).
        let least = mine.iter().map(|l| l.3).min().unwrap_or(0);
        let mut points: Vec<usize> = (0..=least).step_by(CURVE_STEP).collect();
        if points.last() != Some(&least) {
            points.push(least);
        }
        for e in points {
            let xs: Vec<f64> = mine.iter().map(|l| at(&l.4, e)).collect();
            let s = medisim_core::stats::summarise(&xs);
            // One run has no interval.
            let (lo, hi) = if xs.len() >= 2 {
                (s.ci95[0], s.ci95[1])
            } else {
                (f64::NAN, f64::NAN)
            };
            curve.push(CurvePoint {
                arm: arm.to_string(),
                evaluations: e,
                mean: s.mean,
                ci95_low: lo,
                ci95_high: hi,
                runs: xs.len(),
            });
        }
    }
    Benchmark {
        target,
        runs,
        curve,
    }
}

/// Evaluations between two points of a curve.
pub const CURVE_STEP: usize = 10;

/// The median of the runs' evaluations to the target, counting a run that never reached it as
/// past every run that did (`None` when half or more never did).
pub fn median_to_target(runs: &[&BenchRun]) -> Option<f64> {
    let mut xs: Vec<f64> = runs
        .iter()
        .map(|r| r.evaluations_to_target.map_or(f64::INFINITY, |e| e as f64))
        .collect();
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let m = if n % 2 == 1 {
        xs[n / 2]
    } else {
        0.5 * (xs[n / 2 - 1] + xs[n / 2])
    };
    m.is_finite().then_some(m)
}

/// The benchmark as a printed table: per arm, the final held-out fitness with its interval, the
/// runs that reached the target and the median evaluations to it.
pub fn table_text(b: &Benchmark) -> String {
    let mut s = format!(
        "target (95% of the way from the best warm start to the best run): {:.4}\n{:<10} {:>5} {:>24} {:>10} {:>22}\n",
        b.target, "arm", "runs", "final held-out [95%]", "reached", "median evaluations"
    );
    let mut arms: Vec<&str> = b.runs.iter().map(|r| r.arm.as_str()).collect();
    arms.sort_unstable();
    arms.dedup();
    for arm in arms {
        let mine: Vec<&BenchRun> = b.runs.iter().filter(|r| r.arm == arm).collect();
        let f =
            medisim_core::stats::summarise(&mine.iter().map(|r| r.searched).collect::<Vec<_>>());
        let reached = mine
            .iter()
            .filter(|r| r.evaluations_to_target.is_some())
            .count();
        s += &format!(
            "{:<10} {:>5} {:>8.4} [{:.4}, {:.4}] {:>6} of {} {:>22}\n",
            arm,
            mine.len(),
            f.mean,
            f.ci95[0],
            f.ci95[1],
            reached,
            mine.len(),
            median_to_target(&mine).map_or("not reached".into(), |m| format!("{m}")),
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(evaluations: usize, held_out: f64) -> LineagePoint {
        LineagePoint {
            iteration: 0,
            evaluations,
            operator: String::new(),
            hash: String::new(),
            training: 0.0,
            validation: 0.0,
            held_out,
        }
    }

    /// The target is 95% of the way from the warm start to the best run; a run reaches it at
    /// the first incumbent at or above it, the curve follows each run's incumbent, and a median
    /// counts a run that never reached it as the slowest.
    #[test]
    fn the_target_the_curve_and_the_median_follow_the_incumbents() {
        let l = vec![
            (
                "a",
                1,
                10.0,
                30,
                vec![point(0, 10.0), point(5, 10.5), point(25, 11.0)],
            ),
            ("a", 2, 10.0, 30, vec![point(0, 10.0), point(12, 10.96)]),
            ("b", 1, 10.0, 30, vec![point(0, 10.0)]),
        ];
        let b = summarise(&l);
        assert!((b.target - 10.95).abs() < 1e-12);
        let to: Vec<Option<usize>> = b.runs.iter().map(|r| r.evaluations_to_target).collect();
        assert_eq!(to, [Some(25), Some(12), None]);
        let a: Vec<&CurvePoint> = b.curve.iter().filter(|c| c.arm == "a").collect();
        assert_eq!(
            a.iter()
                .map(|c| (c.evaluations, c.mean))
                .collect::<Vec<_>>(),
            [(0, 10.0), (10, 10.25), (20, 10.73), (30, 10.98)]
        );
        let runs: Vec<&BenchRun> = b.runs.iter().collect();
        assert_eq!(median_to_target(&runs[..2]), Some(18.5));
        assert_eq!(median_to_target(&runs), Some(25.0));
        assert_eq!(median_to_target(&runs[2..]), None);
        assert!(BenchmarkPlan::new(1, &["offline".into()]).is_err());
        let e = BenchmarkPlan::new(2, &["ofline".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("no arm `ofline`"), "{e}");
    }
}
