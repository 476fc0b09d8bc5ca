//! The runs a dashboard starts. Each is one Medi-Sim setting run seed by seed, every seed a cell
//! of the experiments' cache under the output directory (so a repeated setting answers at once,
//! and `medisim sweep` or `reproduce` share what it computed), summarised by the model's own
//! `combine` exactly as `medisim run` summarises one batch. Progress is a count any request can
//! read; Cancel stops a run between chunks of seeds. Every bound is checked before a run starts.

use medisim_core::progress::{Counter, Progress};
use medisim_core::{Model, Summaries};
use medisim_dsl::Policy;
use medisim_experiments::cells::{run_cells, Cell, CellSpec};
use medisim_sim::{MediSim, ObjectiveKind, Scenario, MODEL_VERSION};
use serde::Deserialize;
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The most runs going at once; one more is refused until one ends.
pub const MAX_RUNNING: usize = 2;
/// The most runs kept for reading back (the oldest finished one is forgotten first).
pub const MAX_KEPT: usize = 64;
/// The most seeds × periods one run may ask for, over all its cells (the default 30 × 200 is
/// 6,000; the paper's findings — facts, L1 grid and L2 sweeps at 30 seeds — are 1,578,000 and
/// ran in 4.0 s on two cores from an empty cache).
pub const MAX_SEED_PERIODS: u64 = 2_000_000;
/// The seeds of a request that names none (`medisim run`'s default).
pub const DEFAULT_SEEDS: &str = "1..30";
/// The most points per axis of an L1 grid the server runs: the paper's 11. A result holds
/// every cell's metrics and 35 maps of every cell, about 1 MB at 11 × 11, and [`MAX_KEPT`] of
/// them are kept.
pub const MAX_GRID: usize = 11;
/// The most `set` entries of one request.
pub const MAX_SETS: usize = 256;

/// The policy constants a run request may set beside scenario keys: those `medisim run` takes as
/// flags (`--alpha`, `--beta`), so every run has its command line. Other policy fields are
/// changed in the policy.
pub const LEVERS: [&str; 2] = ["alpha", "beta"];

/// What a run request says: scenario keys (as `medisim run --set` takes them, numbers only) and
/// the [`LEVERS`] to set, a policy's source (the baseline when absent), the seeds and the
/// horizon.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    #[serde(default)]
    pub set: BTreeMap<String, f64>,
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub seeds: Option<String>,
    #[serde(default)]
    pub horizon: Option<u32>,
}

/// A request made into what runs: every value checked by the model's own setter.
#[derive(Clone, Debug)]
pub struct Setting {
    pub scenario: Scenario,
    pub policy: Policy,
    pub seeds: Vec<u64>,
    pub horizon: u32,
    /// The `medisim run` command that gives the same numbers.
    pub command: String,
}

impl RunRequest {
    /// The setting, or why not (an unknown key named, an out-of-range value with its range, a
    /// policy's first error at its line and column, too much work).
    pub fn setting(&self) -> Result<Setting, String> {
        if self.set.len() > MAX_SETS {
            return Err(format!(
                "{} keys set; at most {MAX_SETS} in one run",
                self.set.len()
            ));
        }
        let mut policy = match &self.policy {
            None => medisim_sim::baseline().clone(),
            Some(src) => load_policy(src)?,
        };
        let mut scenario = Scenario::default();
        let mut args = String::new();
        for (key, value) in &self.set {
            let is_lever = LEVERS.contains(&key.as_str());
            if !is_lever
                && scenario.value(key).is_err()
                && MediSim.set(&scenario, &policy, key, *value).is_ok()
            {
                return Err(format!(
                    "`{key}` is a policy field: change it in the policy (a run sets scenario \
                     keys and the levers {})",
                    LEVERS.join(", ")
                ));
            }
            (scenario, policy) = MediSim.set(&scenario, &policy, key, *value)?;
            args += &if is_lever {
                format!(" --{key} {value}")
            } else {
                format!(" --set {key}={value}")
            };
        }
        let seeds_text = self.seeds.as_deref().unwrap_or(DEFAULT_SEEDS);
        let seeds = medisim_core::spec::parse_seeds(seeds_text)?;
        let horizon = self.horizon.unwrap_or(200);
        let spec = medisim_sim::run_spec(seeds.clone(), horizon, ObjectiveKind::Mixed);
        spec.validate()?;
        within("", 1, seeds.len(), horizon)?;
        let policy_arg = if self.policy.is_some() {
            " --policy POLICY_FILE"
        } else {
            ""
        };
        Ok(Setting {
            scenario,
            policy,
            command: format!(
                "medisim run --seeds {seeds_text} --horizon {horizon}{args}{policy_arg} --json"
            ),
            seeds,
            horizon,
        })
    }
}

impl Setting {
    /// One seed of the setting: a cell of the cache.
    fn cell(&self, seed: u64) -> CellSpec {
        CellSpec {
            labels: BTreeMap::new(),
            scenario: self.scenario.clone(),
            policy: self.policy.clone(),
            spec: medisim_sim::run_spec(vec![seed], self.horizon, ObjectiveKind::Mixed),
        }
    }

    /// The setting's summary from its seeds' cells, as `medisim run` makes it from one batch.
    fn summary(&self, cells: &[&Cell]) -> Summaries {
        let replicates: Vec<&Summaries> = cells.iter().map(|c| &c.summary).collect();
        MediSim.combine(&self.scenario, &replicates)
    }
}

fn load_policy(src: &str) -> Result<Policy, String> {
    medisim_sim::load(src).map_err(|diagnostics| {
        let first = diagnostics
            .iter()
            .map(|d| {
                let (line, column) = medisim_dsl::span::line_col(src, d.span.start);
                format!("line {line}, column {column}: {}", d.message)
            })
            .next()
            .unwrap_or_else(|| "it does not check".into());
        format!("the policy does not check: {first}")
    })
}

/// Where a run is.
#[derive(Clone, Debug)]
pub enum Status {
    Running,
    /// The result, as `medisim run --json` gives it, with the cells it read (shared, not
    /// copied, by every request that reads it).
    Done(Arc<serde_json::Value>),
    Failed(String),
    Cancelled,
}

/// One run.
pub struct Job {
    pub id: u64,
    pub(crate) progress: Counter,
    cancel: AtomicBool,
    status: Mutex<Status>,
    /// What the job has found so far, while it runs (a comparison's paired differences).
    partial: Mutex<Option<Arc<serde_json::Value>>>,
}

impl Job {
    /// (seeds done, seeds in all).
    pub fn progress(&self) -> (u64, u64) {
        self.progress.get()
    }

    pub fn status(&self) -> Status {
        self.status
            .lock()
            .map(|s| s.clone())
            .unwrap_or(Status::Failed("lost".into()))
    }

    /// What the job has found so far, if it says.
    pub fn partial(&self) -> Option<Arc<serde_json::Value>> {
        self.partial.lock().ok()?.clone()
    }

    /// Whether Cancel was asked for.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    fn end(&self, s: Status) {
        if let Ok(mut status) = self.status.lock() {
            *status = s;
        }
    }
}

/// A job's progress as long work sees it: its count, and whether Cancel was asked for.
struct Watched<'a>(&'a Job);

impl Progress for Watched<'_> {
    fn set_length(&self, steps: u64) {
        self.0.progress.set_length(steps);
    }
    fn inc(&self, steps: u64) {
        self.0.progress.inc(steps);
    }
    fn set_message(&self, message: String) {
        self.0.progress.set_message(message);
    }
    fn cancelled(&self) -> bool {
        self.0.cancelled()
    }
}

/// Why a run was not started.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// The request is wrong: the message says what and how.
    Invalid(String),
    /// [`MAX_RUNNING`] runs are going.
    Busy,
}

/// A running slot, given back when dropped.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The runs of one server.
pub struct Runs {
    out: PathBuf,
    next: AtomicU64,
    running: Arc<AtomicUsize>,
    jobs: Mutex<VecDeque<Arc<Job>>>,
}

impl Runs {
    /// Runs whose cells are cached under `out/cells`.
    pub fn new(out: PathBuf) -> Runs {
        Runs {
            out,
            next: AtomicU64::new(1),
            running: Arc::new(AtomicUsize::new(0)),
            jobs: Mutex::new(VecDeque::new()),
        }
    }

    /// The output directory: cells under `cells/`, searches' run directories anywhere under it.
    pub fn out(&self) -> &std::path::Path {
        &self.out
    }

    pub fn get(&self, id: u64) -> Option<Arc<Job>> {
        self.jobs.lock().ok()?.iter().find(|j| j.id == id).cloned()
    }

    /// Check a run request and start it on a thread of its own.
    pub fn start(&self, request: &RunRequest) -> Result<Arc<Job>, Refusal> {
        let setting = request.setting().map_err(Refusal::Invalid)?;
        self.spawn(move |job, out| run(&setting, out, job))
    }

    /// Check a paired comparison and start it on a thread of its own.
    pub fn start_compare(&self, request: &CompareRequest) -> Result<Arc<Job>, Refusal> {
        let pair = request.pair().map_err(Refusal::Invalid)?;
        self.spawn(move |job, out| compare(&pair, out, job))
    }

    /// Check a displacement request and start it on a thread of its own: a paired comparison
    /// whose result also names the lever, its two values and the sweep that gives both sides.
    pub fn start_displacement(&self, request: &DisplacementRequest) -> Result<Arc<Job>, Refusal> {
        let (pair, command) = request.pair().map_err(Refusal::Invalid)?;
        let (lever, from, to) = (request.lever.clone(), request.from, request.to);
        self.spawn(move |job, out| {
            let Some(mut result) = compare(&pair, out, job)? else {
                return Ok(None);
            };
            result["lever"] = serde_json::json!(lever);
            result["from"] = serde_json::json!(from);
            result["to"] = serde_json::json!(to);
            result["command"] = serde_json::json!(command);
            // Each side's `medisim run` line would miss the lever: the sweep stands for both.
            for side in ["a", "b"] {
                if let Some(o) = result[side].as_object_mut() {
                    o.remove("command");
                }
            }
            Ok(Some(result))
        })
    }

    /// Check an L1 grid request and start it on a thread of its own.
    pub fn start_l1(&self, request: &GridRequest) -> Result<Arc<Job>, Refusal> {
        let grid = request.grid().map_err(Refusal::Invalid)?;
        self.spawn(move |job, out| l1(&grid, out, job))
    }

    /// Check a findings request and start it on a thread of its own.
    pub fn start_findings(&self, request: &GridRequest) -> Result<Arc<Job>, Refusal> {
        let grid = request.findings().map_err(Refusal::Invalid)?;
        self.spawn(move |job, out| findings(&grid, out, job))
    }

    /// Check a search request and start it on a thread of its own, in a new run directory the
    /// search page can watch; Cancel stops it where `--resume` continues it.
    pub fn start_search(
        &self,
        request: &crate::searches::StartRequest,
    ) -> Result<Arc<Job>, Refusal> {
        let plan = request.plan(&self.out).map_err(Refusal::Invalid)?;
        self.spawn(move |job, _| {
            let scenario = medisim_sim::Scenario::default();
            let outcome = medisim_search::run_search(
                &plan.config,
                &scenario,
                &plan.dir,
                false,
                None,
                &Watched(job),
            )?;
            // Cancelled only if it stopped early: a Cancel during the last block or the held-out
            // evaluation comes too late, and the search ended with its result.
            if !plan.dir.join("result.json").is_file() {
                return Ok(None);
            }
            Ok(Some(serde_json::json!({
                "dir": plan.name,
                "best": outcome.best.hash,
                "best_validation": outcome.best_validation,
                "evaluated": outcome.evaluated,
                "command": plan.command,
            })))
        })
    }

    /// Take a running slot (or refuse without waiting) and run `work` on a thread of its own:
    /// its result, or `None` when it was cancelled.
    pub fn spawn(
        &self,
        work: impl FnOnce(&Job, &std::path::Path) -> anyhow::Result<Option<serde_json::Value>>
            + Send
            + 'static,
    ) -> Result<Arc<Job>, Refusal> {
        let taken = self
            .running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_RUNNING).then_some(n + 1)
            });
        if taken.is_err() {
            return Err(Refusal::Busy);
        }
        let job = Arc::new(Job {
            id: self.next.fetch_add(1, Ordering::Relaxed),
            progress: Counter::default(),
            cancel: AtomicBool::new(false),
            status: Mutex::new(Status::Running),
            partial: Mutex::new(None),
        });
        let slot = Slot(self.running.clone());
        let (worker, out) = (job.clone(), self.out.clone());
        std::thread::Builder::new()
            .name(format!("run {}", job.id))
            .spawn(move || {
                let ran =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&worker, &out)));
                // The slot is given back however the work ended, a panic included, and before
                // the run says it ended: a client that sees the end may start the next run.
                drop(slot);
                worker.end(match ran {
                    Ok(Ok(Some(result))) => Status::Done(Arc::new(result)),
                    Ok(Ok(None)) => Status::Cancelled,
                    Ok(Err(e)) => Status::Failed(format!("{e:#}")),
                    Err(_) => {
                        Status::Failed("the run stopped on an internal error (a defect)".into())
                    }
                });
            })
            .map_err(|e| Refusal::Invalid(format!("cannot start the run: {e}")))?;
        self.keep(job.clone());
        Ok(job)
    }

    fn keep(&self, job: Arc<Job>) {
        let Ok(mut jobs) = self.jobs.lock() else {
            return;
        };
        if jobs.len() >= MAX_KEPT {
            if let Some(i) = jobs
                .iter()
                .position(|j| !matches!(j.status(), Status::Running))
            {
                jobs.remove(i);
            }
        }
        jobs.push_back(job);
    }
}

/// Run cells in chunks through the cache under `out`, stopping between chunks when the job is
/// cancelled (`Ok(None)`); with how many were computed and how many read back.
fn run_chunks(
    specs: &[CellSpec],
    out: &std::path::Path,
    job: &Job,
) -> anyhow::Result<Option<(Vec<Cell>, usize, usize)>> {
    run_chunks_then(specs, 1, out, job, |_| {})
}

/// [`run_chunks`], with chunks a multiple of `unit` cells and `after` told the cells done so
/// far after each chunk.
fn run_chunks_then(
    specs: &[CellSpec],
    unit: usize,
    out: &std::path::Path,
    job: &Job,
    mut after: impl FnMut(&[Cell]),
) -> anyhow::Result<Option<(Vec<Cell>, usize, usize)>> {
    job.progress.set_length(specs.len() as u64);
    let chunk = 2 * rayon::current_num_threads().max(1) * unit;
    let mut cells = Vec::with_capacity(specs.len());
    let (mut computed, mut reused) = (0, 0);
    for part in specs.chunks(chunk) {
        if job.cancel.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let (done, stats) = run_cells(part, Some(out), &job.progress)?;
        computed += stats.computed;
        reused += stats.reused;
        cells.extend(done);
        after(&cells);
    }
    Ok(Some((cells, computed, reused)))
}

/// Run a setting seed by seed (one seed a cell), summarised as `medisim run` summarises it.
fn run(s: &Setting, out: &std::path::Path, job: &Job) -> anyhow::Result<Option<serde_json::Value>> {
    let specs: Vec<CellSpec> = s.seeds.iter().map(|seed| s.cell(*seed)).collect();
    let Some((cells, computed, reused)) = run_chunks(&specs, out, job)? else {
        return Ok(None);
    };
    let summary = s.summary(&cells.iter().collect::<Vec<_>>());
    let trajectories = trajectories(s)?;
    Ok(Some(serde_json::json!({
        "trajectories": trajectories,
        "policy": s.policy.header.name,
        "policy_hash": s.policy.canonical_hash().to_string(),
        "model_version": MODEL_VERSION,
        "seeds": s.seeds,
        "horizon": s.horizon,
        "objective": ObjectiveKind::Mixed,
        "metrics": summary.reported(true),
        "scenario": s.scenario.to_toml(),
        "command": s.command,
        "cells": cells.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(),
        "cells_computed": computed,
        "cells_reused": reused,
    })))
}

/// Trajectories are drawn from at most this many of a run's seeds (its first) …
pub const TRAJECTORY_SEEDS: usize = 30;
/// … and for runs of at most this many periods (longer ones show their summary only).
pub const TRAJECTORY_PERIODS: u32 = 2_000;

/// A series over periods: its name, unit and value in one period.
type Series = (&'static str, &'static str, fn(&Totals) -> f64);

/// The hospital's series over periods, each team summed.
const SERIES: [Series; 5] = [
    ("queue after the period", "patients", |t| t.queue),
    ("treated", "patients", |t| t.treated),
    ("rejection rate", "share of decisions", |t| {
        medisim_core::stats::ratio(t.rejected, t.decided)
    }),
    ("mean wait of the treated", "periods", |t| {
        if t.treated > 0.0 {
            t.wait / t.treated
        } else {
            f64::NAN
        }
    }),
    ("teams' margin", "price units", |t| t.margin),
];

/// One period of one seed, summed over teams.
#[derive(Clone, Copy, Default)]
struct Totals {
    queue: f64,
    treated: f64,
    rejected: f64,
    decided: f64,
    wait: f64,
    margin: f64,
}

/// Each series' mean over the first [`TRAJECTORY_SEEDS`] seeds period by period, with its 95%
/// interval (the core's summary of the seeds' values), from the run's own per-period records;
/// `null` for a run longer than [`TRAJECTORY_PERIODS`].
fn trajectories(s: &Setting) -> anyhow::Result<serde_json::Value> {
    if s.horizon > TRAJECTORY_PERIODS {
        return Ok(serde_json::Value::Null);
    }
    let seeds: Vec<u64> = s.seeds.iter().take(TRAJECTORY_SEEDS).copied().collect();
    let periods = s.horizon as usize;
    let mut totals = vec![Totals::default(); seeds.len() * periods];
    let spec = medisim_sim::run_spec(seeds.clone(), s.horizon, ObjectiveKind::Mixed);
    let mut keep = |rows: Vec<medisim_sim::records::TeamRecord>| {
        for r in rows {
            let Some(i) = seeds.iter().position(|x| *x == r.replicate) else {
                continue;
            };
            let t = &mut totals[i * periods + (r.period as usize).saturating_sub(1)];
            t.queue += r.queue_after as f64;
            t.treated += r.treated as f64;
            t.rejected += r.rejected as f64;
            t.decided += r.decided as f64;
            t.wait += r.wait_sum;
            t.margin += r.revenue - r.cost - r.penalties;
        }
        Ok(())
    };
    medisim_sim::run::run_seeds_traced(&s.scenario, &s.policy, &spec, &mut keep)
        .map_err(anyhow::Error::msg)?;
    let series: Vec<serde_json::Value> = SERIES
        .iter()
        .map(|(name, unit, value)| {
            let (mut mean, mut low, mut high) = (Vec::new(), Vec::new(), Vec::new());
            for p in 0..periods {
                let xs: Vec<f64> = (0..seeds.len())
                    .map(|i| value(&totals[i * periods + p]))
                    .filter(|x| x.is_finite())
                    .collect();
                // A period no seed defines (nobody treated) is a gap, not a zero.
                let sum = medisim_core::stats::summarise(&xs);
                let defined = !xs.is_empty();
                mean.push(if defined { sum.mean } else { f64::NAN });
                low.push(if defined { sum.ci95[0] } else { f64::NAN });
                high.push(if defined { sum.ci95[1] } else { f64::NAN });
            }
            serde_json::json!({"name": name, "unit": unit, "mean": mean, "low": low, "high": high})
        })
        .collect();
    Ok(serde_json::json!({"seeds": seeds.len(), "periods": periods, "series": series}))
}

/// An L1 grid request: points per axis, seeds and horizon (the built-in scenario and the
/// baseline policy, as `medisim l1`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridRequest {
    #[serde(default)]
    pub grid: Option<usize>,
    #[serde(default)]
    pub seeds: Option<String>,
    #[serde(default)]
    pub horizon: Option<u32>,
}

/// A checked L1 grid request.
#[derive(Clone, Debug)]
pub struct Grid {
    pub options: medisim_experiments::Options,
    pub command: String,
}

impl GridRequest {
    /// The experiments' options (grid, seeds, horizon; the built-in scenario and the baseline
    /// policy), or why not.
    fn options(&self) -> Result<(medisim_experiments::Options, String), String> {
        let points = self.grid.unwrap_or(11);
        let max = MAX_GRID;
        if !(2..=max).contains(&points) {
            return Err(format!(
                "the grid has 2 to {max} points per axis, got {points}"
            ));
        }
        let seeds_text = self.seeds.as_deref().unwrap_or(DEFAULT_SEEDS);
        let seeds = medisim_core::spec::parse_seeds(seeds_text)?;
        let horizon = self.horizon.unwrap_or(200);
        medisim_sim::run_spec(seeds.clone(), horizon, ObjectiveKind::Mixed).validate()?;
        let o = medisim_experiments::Options {
            seeds,
            horizon,
            grid: points,
            ..medisim_experiments::Options::paper()
        };
        let flags = format!("--grid {points} --seeds {seeds_text} --horizon {horizon}");
        Ok((o, flags))
    }

    /// The grid's options, or why not (its size, the seeds, the work: the cells' seed-periods
    /// together are bounded as one run's are).
    pub fn grid(&self) -> Result<Grid, String> {
        let (options, flags) = self.options()?;
        bounded(options.grid * options.grid, &options)?;
        Ok(Grid {
            options,
            command: format!("medisim l1 {flags}"),
        })
    }

    /// The paper's findings on this grid: the nine facts, the L1 grid and the L2 sweeps, as
    /// `medisim reproduce` runs them (without the search and the other models).
    pub fn findings(&self) -> Result<Grid, String> {
        let (options, flags) = self.options()?;
        medisim_experiments::validate::check_seeds(&options.seeds).map_err(|e| e.to_string())?;
        bounded(
            findings_specs(&options).iter().map(Vec::len).sum(),
            &options,
        )?;
        Ok(Grid {
            options,
            command: format!("medisim reproduce --no-search {flags}"),
        })
    }
}

/// `cells` cells of the options' seeds and horizon are within [`MAX_SEED_PERIODS`], or why not.
fn bounded(cells: usize, o: &medisim_experiments::Options) -> Result<(), String> {
    within(" cells", cells, o.seeds.len(), o.horizon)
}

/// `count` runs (settings or cells, named by `what`) of `seeds` seeds and `horizon` periods are
/// within [`MAX_SEED_PERIODS`] together, or why not.
fn within(what: &str, count: usize, seeds: usize, horizon: u32) -> Result<(), String> {
    let work = (count as u64)
        .saturating_mul(seeds as u64)
        .saturating_mul(u64::from(horizon));
    if work <= MAX_SEED_PERIODS {
        return Ok(());
    }
    let runs = if count == 1 && what.is_empty() {
        String::new()
    } else {
        format!("{count}{what} × ")
    };
    Err(format!(
        "{runs}{seeds} seeds × {horizon} periods = {work} seed-periods; at most \
         {MAX_SEED_PERIODS}: fewer seeds, a shorter horizon or a smaller grid"
    ))
}

/// The cells of the nine facts, the L1 grid and the L2 sweeps, in that order.
fn findings_specs(o: &medisim_experiments::Options) -> [Vec<CellSpec>; 3] {
    use medisim_experiments::{l1, l2, validate};
    [
        validate::specs(&o.scenario, &o.policy, &o.seeds, o.horizon),
        l1::specs(
            &o.scenario,
            &o.policy,
            &l1::grid(o.grid),
            &o.seeds,
            o.horizon,
        ),
        l2::specs(&o.levers, &o.scenario, &o.policy, &o.seeds, o.horizon),
    ]
}

/// Figures as the pages draw them: id, title, caption and the panels' SVG.
fn figures_json(figures: &[medisim_experiments::Figure]) -> Vec<serde_json::Value> {
    figures
        .iter()
        .map(|f| {
            serde_json::json!({"id": f.id, "title": f.title, "caption": f.caption, "panels": f.panels})
        })
        .collect()
}

/// Run the paper's findings through the cache and judge them: the nine facts, every claim of
/// the paper against this run (the report's table) and the L2 figures.
fn findings(
    g: &Grid,
    out: &std::path::Path,
    job: &Job,
) -> anyhow::Result<Option<serde_json::Value>> {
    use medisim_experiments::{claims, l2, validate};
    let o = &g.options;
    let [facts, grid, sweeps] = findings_specs(o);
    let (n_facts, n_grid) = (facts.len(), grid.len());
    let specs: Vec<CellSpec> = facts.into_iter().chain(grid).chain(sweeps).collect();
    let Some((cells, computed, reused)) = run_chunks(&specs, out, job)? else {
        return Ok(None);
    };
    let (fact_cells, rest) = cells.split_at(n_facts);
    let (l1_cells, l2_cells) = rest.split_at(n_grid);
    let verdicts = claims::verdicts(
        &claims::paper(),
        &claims::Run {
            l1: l1_cells,
            l2: l2_cells,
        },
        &claims::Rule::REPORT,
    );
    let claim_rows: Vec<serde_json::Value> = verdicts
        .iter()
        .map(|v| {
            serde_json::json!({
                "id": v.id, "source": v.source, "says": v.says, "metric": v.metric,
                "paper": v.paper, "ours": v.ours, "outcome": v.outcome.text(),
            })
        })
        .collect();
    Ok(Some(serde_json::json!({
        "facts": validate::evaluate(fact_cells),
        "claims": claim_rows,
        "tally": claims::tally_text(&verdicts),
        "figures": figures_json(&l2::figures(l2_cells, &o.levers)),
        "command": g.command,
        "cells_computed": computed,
        "cells_reused": reused,
        "model_version": MODEL_VERSION,
    })))
}

/// Run the L1 grid cell by cell through the cache (the cells `medisim l1` and `reproduce` read);
/// the figures (their cells carry `data-x` and `data-y`) and every cell's metrics by "α,β".
fn l1(g: &Grid, out: &std::path::Path, job: &Job) -> anyhow::Result<Option<serde_json::Value>> {
    use medisim_experiments::l1;
    let o = &g.options;
    let grid = l1::grid(o.grid);
    let specs = l1::specs(&o.scenario, &o.policy, &grid, &o.seeds, o.horizon);
    let Some((cells, computed, reused)) = run_chunks(&specs, out, job)? else {
        return Ok(None);
    };
    // Drawn, not written: the server writes nothing under --out but cells.
    let figures = figures_json(&l1::figures(&cells, &grid));
    let by_cell: serde_json::Map<String, serde_json::Value> = cells
        .iter()
        .map(|c| {
            (
                format!("{},{}", c.label("alpha"), c.label("beta")),
                serde_json::to_value(c.summary.reported(true)).unwrap_or_default(),
            )
        })
        .collect();
    Ok(Some(serde_json::json!({
        "figures": figures,
        "cells": by_cell,
        "command": g.command,
        "cells_computed": computed,
        "cells_reused": reused,
        "model_version": MODEL_VERSION,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(job: &Job) -> Status {
        for _ in 0..1000 {
            match job.status() {
                Status::Running => std::thread::sleep(std::time::Duration::from_millis(5)),
                s => return s,
            }
        }
        panic!("the job did not end");
    }

    #[test]
    fn a_job_that_panics_fails_and_gives_its_slot_back() {
        let runs = Runs::new(std::env::temp_dir());
        for _ in 0..MAX_RUNNING + 1 {
            let job = runs.spawn(|_, _| panic!("planted")).unwrap();
            assert!(matches!(wait(&job), Status::Failed(m) if m.contains("internal error")));
        }
        // Every slot came back before its job said it ended.
        assert_eq!(runs.running.load(Ordering::Acquire), 0);
    }
}

/// A paired comparison: two settings on the same seeds (common random numbers: seed s draws the
/// same patients in both, so the difference is the settings', not the draws').
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareRequest {
    pub a: RunRequest,
    pub b: RunRequest,
}

/// A checked comparison.
#[derive(Clone, Debug)]
pub struct Pair {
    pub a: Setting,
    pub b: Setting,
}

impl CompareRequest {
    /// Both settings, or why not; they must share seeds and horizon, and together stay within
    /// one run's work.
    pub fn pair(&self) -> Result<Pair, String> {
        let a = self.a.setting().map_err(|e| format!("setting a: {e}"))?;
        let b = self.b.setting().map_err(|e| format!("setting b: {e}"))?;
        if a.seeds != b.seeds || a.horizon != b.horizon {
            return Err(
                "a paired comparison runs both settings on the same seeds and horizon".into(),
            );
        }
        within(" settings", 2, a.seeds.len(), a.horizon)?;
        Ok(Pair { a, b })
    }
}

/// Where the pressure goes when one lever moves: the same setting with one key (a scenario key
/// or any numeric policy field, an administrator's lever included) at two values, on common
/// random numbers.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisplacementRequest {
    pub lever: String,
    pub from: f64,
    pub to: f64,
    /// The rest of the setting, as a run takes it.
    #[serde(default)]
    pub base: RunRequest,
}

impl DisplacementRequest {
    /// The two settings, or why not (the lever checked by the model's own setter, with its
    /// range), and the `medisim sweep` command whose two points are the two sides.
    pub fn pair(&self) -> Result<(Pair, String), String> {
        let base = self.base.setting()?;
        if self.base.set.contains_key(&self.lever) {
            return Err(format!(
                "`{}` is the lever: it takes `from` and `to`, not a value in the setting",
                self.lever
            ));
        }
        let side = |value: f64| -> Result<Setting, String> {
            let (scenario, policy) =
                MediSim.set(&base.scenario, &base.policy, &self.lever, value)?;
            Ok(Setting {
                scenario,
                policy,
                ..base.clone()
            })
        };
        let (a, b) = (side(self.from)?, side(self.to)?);
        within(" settings", 2, a.seeds.len(), a.horizon)?;
        let sets: String = self
            .base
            .set
            .iter()
            .map(|(k, v)| format!(" --set {k}={v}"))
            .collect();
        let policy = if self.base.policy.is_some() {
            " --policy POLICY_FILE"
        } else {
            ""
        };
        let command = format!(
            "medisim sweep --set {}={},{}{sets}{policy} --seeds {} --horizon {}",
            self.lever,
            self.from,
            self.to,
            self.base.seeds.as_deref().unwrap_or(DEFAULT_SEEDS),
            a.horizon
        );
        Ok((Pair { a, b }, command))
    }
}

/// Each metric's paired difference b − a over the seeds done: the mean and 95% interval of the
/// per-seed differences (as `medisim run --policy A --policy B` gives them).
fn differences(cells: &[Cell]) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for &m in <medisim_sim::Metric as medisim_core::Metric>::ALL {
        let s = medisim_core::stats::paired_difference(
            cells
                .chunks_exact(2)
                .map(|ab| (ab[0].summary.mean(m), ab[1].summary.mean(m))),
        );
        let name = medisim_core::Metric::name(m);
        out.insert(name.into(), serde_json::to_value(s).unwrap_or_default());
    }
    serde_json::json!({ "pairs": cells.len() / 2, "differences": out })
}

/// Run both settings seed by seed, a and b of each seed together, the paired differences kept
/// up to date for the page after every chunk.
fn compare(
    p: &Pair,
    out: &std::path::Path,
    job: &Job,
) -> anyhow::Result<Option<serde_json::Value>> {
    let specs: Vec<CellSpec> =
        p.a.seeds
            .iter()
            .flat_map(|seed| [p.a.cell(*seed), p.b.cell(*seed)])
            .collect();
    let partial = |cells: &[Cell]| {
        if let Ok(mut kept) = job.partial.lock() {
            *kept = Some(Arc::new(differences(cells)));
        }
    };
    let Some((cells, computed, reused)) = run_chunks_then(&specs, 2, out, job, partial)? else {
        return Ok(None);
    };
    let side = |s: &Setting, pick: usize| {
        let mine: Vec<&Cell> = cells.iter().skip(pick).step_by(2).collect();
        serde_json::json!({
            "policy": s.policy.header.name,
            "policy_hash": s.policy.canonical_hash().to_string(),
            "metrics": s.summary(&mine).reported(true),
            "command": s.command,
        })
    };
    let mut result = differences(&cells);
    result["a"] = side(&p.a, 0);
    result["b"] = side(&p.b, 1);
    result["seeds"] = serde_json::json!(p.a.seeds);
    result["horizon"] = serde_json::json!(p.a.horizon);
    result["cells_computed"] = serde_json::json!(computed);
    result["cells_reused"] = serde_json::json!(reused);
    result["model_version"] = serde_json::json!(MODEL_VERSION);
    Ok(Some(result))
}
