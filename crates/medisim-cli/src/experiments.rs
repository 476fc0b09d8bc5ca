//! `medisim l1 | l2 | validate | report | reproduce`.

use crate::progress::Bar;
use crate::run::{load_policy, load_scenario, parse_seeds};
use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressStyle};
use medisim_experiments::{l2::Lever, Options};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Common {
    /// Seeds: `1..30`, `1,2,5` or one seed.
    #[arg(long, default_value = "1..30")]
    seeds: String,
    /// Periods per rollout.
    #[arg(long, default_value_t = 200)]
    horizon: u32,
    /// Output directory; finished cells cached there are reused.
    #[arg(long, default_value = "medisim-out")]
    out: PathBuf,
    /// Policy (default: the baseline, the paper's fixed heuristic).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Scenario TOML (default: built-in).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Print JSON instead of text: the results (the tidy table's rows, or the facts), the
    /// files written and how many cells were computed and reused.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    dist: Distribute,
}

impl Common {
    /// The common options of a command that does not distribute.
    pub(crate) fn new(
        seeds: &str,
        horizon: u32,
        out: PathBuf,
        policy: Option<PathBuf>,
        scenario: Option<PathBuf>,
    ) -> Self {
        Common {
            seeds: seeds.to_string(),
            horizon,
            out,
            policy,
            scenario,
            json: false,
            dist: Distribute::default(),
        }
    }
}

/// Running one experiment's cells as N independent jobs.
#[derive(clap::Args, Clone, Default)]
pub struct Distribute {
    /// Compute only shard K of N of the cells into OUT/cells (nothing is assembled); after all
    /// N shards, the same command without --shard assembles from the cache.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Print a Slurm driver script instead of running: a job array of N shards, then a
    /// dependent job that assembles the results.
    #[arg(long, value_name = "N")]
    emit_slurm: Option<usize>,
}

impl Distribute {
    /// Whether --shard or --emit-slurm was given.
    pub(crate) fn given(&self) -> bool {
        self.shard.is_some() || self.emit_slurm.is_some()
    }
}

/// Quote one shell word if it needs it.
fn shell_word(a: &str) -> String {
    if !a.is_empty()
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,".contains(c))
    {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', r"'\''"))
    }
}

/// The Slurm driver for this command line in N shards: submits the array, then the assembly
/// job after every shard has succeeded.
pub fn slurm_script(n: usize) -> Result<String> {
    // The same command line without --emit-slurm.
    let mut args: Vec<String> = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if a == "--emit-slurm" {
            it.next();
        } else if !a.starts_with("--emit-slurm=") {
            args.push(a);
        }
    }
    // Quoting keeps spaces and quotes inert, but a line break would end the heredoc's line
    // (and a line `EOF` the heredoc): such an argument is refused, not written.
    if let Some(a) = args.iter().find(|a| a.chars().any(char::is_control)) {
        bail!(
            "--emit-slurm: the argument {a:?} holds a line break or another control character, \
             which a generated script could run as a command; rename the path"
        );
    }
    let cmd = args
        .iter()
        .map(|a| shell_word(a))
        .collect::<Vec<_>>()
        .join(" ");
    Ok(format!(
        r#"#!/bin/bash
# medisim on Slurm: {n} shards of `medisim {cmd}` as a job array, then one assembly job.
# Submit with `bash THIS_FILE` from a directory every node can reach (the --out directory
# must be on a shared file system). Edit the sbatch options for your cluster.
set -euo pipefail
array=$(sbatch --parsable --job-name=medisim-shards --array=1-{n} --cpus-per-task=4 --time=01:00:00 <<'EOF'
#!/bin/bash
medisim {cmd} --shard "${{SLURM_ARRAY_TASK_ID}}/{n}"
EOF
)
sbatch --job-name=medisim-assemble --dependency=afterok:"$array" --cpus-per-task=2 --time=00:30:00 <<'EOF'
#!/bin/bash
medisim {cmd}
EOF
"#
    ))
}

/// Handle --shard / --emit-slurm for a command whose cells `experiments` names; `None` when
/// neither is given (run normally).
fn distribute(
    d: &Distribute,
    o: &Options,
    out: &Path,
    experiments: &[&str],
) -> Result<Option<bool>> {
    distribute_with(d, out, |shard, pb| {
        medisim_experiments::cells::fill_shard(
            &medisim_sim::MediSim,
            medisim_experiments::cell_specs(o, experiments),
            out,
            shard,
            pb,
        )
    })
}

/// Handle --shard / --emit-slurm for any command whose cells `fill` computes one shard of;
/// `None` when neither is given (run normally).
pub(crate) fn distribute_with(
    d: &Distribute,
    out: &Path,
    fill: impl FnOnce(
        medisim_experiments::cells::Shard,
        &dyn medisim_core::Progress,
    ) -> Result<(usize, medisim_experiments::cells::CellStats)>,
) -> Result<Option<bool>> {
    if let Some(n) = d.emit_slurm {
        if d.shard.is_some() {
            bail!("--emit-slurm writes the script that passes --shard itself: give one of them");
        }
        if n == 0 || n > 100_000 {
            bail!("--emit-slurm {n}: the shard count must be 1..=100000");
        }
        say_raw!("{}", slurm_script(n)?);
        return Ok(Some(true));
    }
    let Some(text) = &d.shard else {
        return Ok(None);
    };
    let shard = medisim_experiments::cells::Shard::parse(text)?;
    out_dir(out)?;
    let pb = bar(&format!("shard {}/{}", shard.index, shard.count));
    let (total, stats) = fill(shard, &pb)?;
    done(pb);
    say!(
        "shard {}/{}: {} of {} cells ({} computed, {} reused) in {}; run without --shard to assemble",
        shard.index,
        shard.count,
        stats.computed + stats.reused,
        total,
        stats.computed,
        stats.reused,
        out.join("cells").display()
    );
    Ok(Some(true))
}

#[derive(clap::Args)]
pub struct L1Args {
    #[command(flatten)]
    common: Common,
    /// Points per axis of the (α, β) grid.
    #[arg(long, default_value_t = 11)]
    grid: usize,
}

#[derive(clap::Args)]
pub struct L2Args {
    #[command(flatten)]
    common: Common,
    /// audit | bonus_pool | kappa | capacity | health_cost_ratio | flex | flex_no_steering |
    /// flex_queue_steering | all
    #[arg(long, default_value = "all")]
    lever: String,
}

#[derive(clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
pub struct ReproduceArgs {
    /// Output directory; an interrupted run resumes from the cells cached there.
    #[arg(long, default_value = "medisim-out")]
    out: PathBuf,
    /// A quick look: 10 seeds and a 6×6 L1 grid instead of 30 seeds and 11×11.
    #[arg(long)]
    quick: bool,
    /// Scenario TOML (default: built-in).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Policy (default: the baseline).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Seeds (default: 1..30, or 1..10 with --quick).
    #[arg(long)]
    seeds: Option<String>,
    /// Periods per rollout (default 200).
    #[arg(long)]
    horizon: Option<u32>,
    /// Points per axis of the L1 grid (default 11, or 6 with --quick).
    #[arg(long)]
    grid: Option<usize>,
    /// Leave out the L3 policy search (reproduce runs it into OUT/search when it is absent;
    /// about a second).
    #[arg(long)]
    no_search: bool,
    #[command(flatten)]
    dist: Distribute,
}

/// Create the output directory, or say plainly why it cannot be one (the run directory's rule).
pub(crate) fn out_dir(path: &Path) -> Result<()> {
    medisim_core::RunDir::create(path)
        .map(drop)
        .map_err(|e| anyhow::anyhow!("--out {e}"))
}

pub(crate) fn options(c: &Common) -> Result<Options> {
    let seeds = parse_seeds(&c.seeds)?;
    medisim_sim::run_spec(seeds.clone(), c.horizon, medisim_sim::ObjectiveKind::Mixed)
        .validate()
        .map_err(anyhow::Error::msg)?;
    Ok(Options {
        scenario: load_scenario(c.scenario.as_deref())?,
        policy: load_policy(c.policy.as_deref())?,
        seeds,
        horizon: c.horizon,
        ..Options::paper()
    })
}

pub(crate) fn bar(step: &str) -> Bar {
    let pb = ProgressBar::new(0);
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix:>10} [{bar:40}] {pos}/{len} cells  {elapsed} elapsed, ~{eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_prefix(step.to_string());
    Bar(pb)
}

fn done(pb: Bar) {
    pb.0.finish();
}

fn summary(out: &Path, stats: medisim_experiments::cells::CellStats) -> Result<()> {
    say!(
        "{} cells computed, {} reused from {}",
        stats.computed,
        stats.reused,
        out.join("cells").display()
    );
    Ok(())
}

fn cells_json(out: &Path, stats: medisim_experiments::cells::CellStats) -> serde_json::Value {
    serde_json::json!({
        "computed": stats.computed,
        "reused": stats.reused,
        "cache": out.join("cells"),
    })
}

/// What l1 and l2 print when they are done: the files written and the cell counts, or with
/// --json the tidy table's rows as well.
fn finish(
    c: &Common,
    experiment: &str,
    figs: &[medisim_experiments::Figure],
    table: impl FnOnce() -> Result<medisim_core::Table>,
    stats: medisim_experiments::cells::CellStats,
) -> Result<bool> {
    let csv = c.out.join(format!("{experiment}.csv"));
    let dir = c.out.join(experiment);
    let figures: Vec<PathBuf> = figs.iter().flat_map(|f| f.paths(&dir)).collect();
    if c.json {
        say!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "table": table()?.to_json()?,
                "files": std::iter::once(csv).chain(figures).collect::<Vec<_>>(),
                "cells": cells_json(&c.out, stats),
            }))?
        );
        return Ok(true);
    }
    say!(
        "wrote {} and {} figures under {}",
        csv.display(),
        figures.len(),
        dir.display()
    );
    summary(&c.out, stats)?;
    Ok(true)
}

pub fn l1(a: &L1Args) -> Result<bool> {
    let max = medisim_experiments::l1::MAX_GRID;
    if !(2..=max).contains(&a.grid) {
        bail!(
            "--grid must be in [2, {max}] points per axis, got {}",
            a.grid
        );
    }
    let o = Options {
        grid: a.grid,
        ..options(&a.common)?
    };
    if let Some(done) = distribute(&a.common.dist, &o, &a.common.out, &["l1"])? {
        return Ok(done);
    }
    out_dir(&a.common.out)?;
    let pb = bar("L1 grid");
    let (figs, cells, stats) = medisim_experiments::l1(&o, &a.common.out, &pb)?;
    done(pb);
    let table = || medisim_experiments::l1::table(&cells);
    finish(&a.common, "l1", &figs, table, stats)
}

pub fn l2(a: &L2Args) -> Result<bool> {
    let Some(levers) = Lever::parse(&a.lever) else {
        bail!(
            "unknown --lever `{}`: expected one of {}, all",
            a.lever,
            Lever::ALL.map(Lever::name).join(", ")
        );
    };
    let o = Options {
        levers,
        ..options(&a.common)?
    };
    if let Some(done) = distribute(&a.common.dist, &o, &a.common.out, &["l2"])? {
        return Ok(done);
    }
    out_dir(&a.common.out)?;
    let pb = bar("L2 sweeps");
    let (figs, cells, stats) = medisim_experiments::l2(&o, &a.common.out, &pb)?;
    done(pb);
    let table = || medisim_experiments::l2::table(&cells);
    finish(&a.common, "l2", &figs, table, stats)
}

pub fn validate(a: &ValidateArgs) -> Result<bool> {
    let o = options(&a.common)?;
    if let Some(done) = distribute(&a.common.dist, &o, &a.common.out, &["validate"])? {
        return Ok(done);
    }
    out_dir(&a.common.out)?;
    let pb = bar("validate");
    let (facts, stats) = medisim_experiments::validate(&o, Some(&a.common.out), &pb)?;
    done(pb);
    if a.common.json {
        say!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "facts": facts,
                "passed": facts.iter().filter(|f| f.pass).count(),
                "files": [a.common.out.join("validate.csv")],
                "cells": cells_json(&a.common.out, stats),
            }))?
        );
    } else {
        say_raw!("{}", medisim_experiments::validate::table(&facts));
    }
    Ok(facts.iter().all(|f| f.pass))
}

pub fn reproduce(a: &ReproduceArgs, verbose: bool) -> Result<bool> {
    let mut o = if a.quick {
        Options::quick()
    } else {
        Options::paper()
    };
    if let Some(seeds) = &a.seeds {
        o.seeds = parse_seeds(seeds)?;
    }
    if let Some(h) = a.horizon {
        o.horizon = h;
    }
    if let Some(g) = a.grid {
        let max = medisim_experiments::l1::MAX_GRID;
        if !(2..=max).contains(&g) {
            bail!("--grid must be in [2, {max}] points per axis, got {g}");
        }
        o.grid = g;
    }
    medisim_sim::run_spec(
        o.seeds.clone(),
        o.horizon,
        medisim_sim::ObjectiveKind::Mixed,
    )
    .validate()
    .map_err(anyhow::Error::msg)?;
    if a.scenario.is_some() {
        o.scenario = load_scenario(a.scenario.as_deref())?;
    }
    if a.policy.is_some() {
        o.policy = load_policy(a.policy.as_deref())?;
    }
    out_dir(&a.out)?;
    // A shard fills its share of every cell the report reads: Medi-Sim's and the panel's.
    let fill = |shard, pb: &dyn medisim_core::Progress| {
        use medisim_experiments::cells::{fill_shard, CellStats};
        let specs = medisim_experiments::cell_specs(&o, &["validate", "l1", "l2"]);
        let (n1, s1) = fill_shard(&medisim_sim::MediSim, specs, &a.out, shard, pb)?;
        let (_, panel) = medisim_experiments::panel::cell_specs()?;
        let (n2, s2) = fill_shard(&medisim_panel::Panel, panel, &a.out, shard, pb)?;
        let stats = CellStats {
            computed: s1.computed + s2.computed,
            reused: s1.reused + s2.reused,
        };
        Ok((n1 + n2, stats))
    };
    if let Some(done) = distribute_with(&a.dist, &a.out, fill)? {
        return Ok(done);
    }
    if verbose && !a.no_search {
        crate::search::ensure_l3(&a.out.join("search"), &o.scenario)?;
    }
    let r = medisim_experiments::reproduce(&o, &a.out, |step| Box::new(bar(step)))?;
    if verbose {
        say_raw!("{}", medisim_experiments::validate::table(&r.facts));
    }
    summary(&a.out, r.stats)?;
    say!(
        "the paper's {} claims: {} (claims.csv)",
        r.claims.len(),
        medisim_experiments::claims::tally_text(&r.claims)
    );
    say!("report: {}", r.report.display());
    Ok(r.facts.iter().all(|f| f.pass))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DesignName {
    /// Latin hypercube: each fact's hold rate; Spearman correlation of each constant with its margin.
    Lhs,
    /// Morris trajectories: μ* of each constant on each fact's margin.
    Morris,
    /// Sobol' (Saltelli's design): total index of each constant on each fact's margin.
    Sobol,
}

#[derive(clap::Args)]
pub struct SensitivityArgs {
    #[command(flatten)]
    model: crate::house::ModelArgs,
    /// Seeds (default: 20001..20030, never used in development; the panel: its runs; a game or
    /// a contract runs once).
    #[arg(long)]
    seeds: Option<String>,
    /// Medi-Sim: periods per rollout [default: 200].
    #[arg(long)]
    horizon: Option<u32>,
    /// Output directory: cells cached there are reused (an interrupted run resumes).
    #[arg(long, default_value = "medisim-out")]
    out: PathBuf,
    /// Scenario TOML whose constants are the design's centre (default: built-in).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// The design over the constants.
    #[arg(long, value_enum, default_value = "lhs")]
    design: DesignName,
    /// LHS points, Morris trajectories, or Sobol' base sample size.
    #[arg(long, default_value_t = 200)]
    points: usize,
    /// Each constant over its value × (1 ± box).
    #[arg(long = "box", default_value_t = 0.2)]
    box_fraction: f64,
    /// Comma-separated keys (Medi-Sim default: every constant the project chose; another
    /// model: required, e.g. `margin,reference` or `gamma,pi01`).
    #[arg(long)]
    keys: Option<String>,
    /// Another model: only these metrics (repeat; default: every metric of the model).
    #[arg(long = "metric", value_name = "NAME")]
    metric: Vec<String>,
    /// The design's random stream.
    #[arg(long, default_value_t = 1)]
    design_seed: u64,
}

/// The options of a design over the scenario's constants (sensitivity, calibration).
fn design_options(
    seeds: &str,
    horizon: u32,
    out: &Path,
    scenario: &Option<PathBuf>,
) -> Result<Options> {
    options(&Common::new(
        seeds,
        horizon,
        out.to_path_buf(),
        None,
        scenario.clone(),
    ))
}

/// `--keys a,b,c` (each once), or every constant the project chose.
fn keys_or_chosen(keys: &Option<String>) -> Result<Vec<String>> {
    match keys {
        Some(k) => key_list(k),
        None => Ok(medisim_experiments::sensitivity::CHOSEN
            .iter()
            .map(|s| s.to_string())
            .collect()),
    }
}

/// A comma-separated key list: at least one key, none empty, none named twice (it would make
/// two columns of one name, the first of them false). An empty list reached the optimiser
/// with no dimension and panicked; a trailing comma was dropped in silence.
fn key_list(text: &str) -> Result<Vec<String>> {
    let keys: Vec<String> = text.split(',').map(|k| k.trim().to_string()).collect();
    if let Some(i) = keys.iter().position(String::is_empty) {
        bail!(
            "--keys `{}`: key {} of {} is empty; name each key, separated by commas",
            medisim_core::input::excerpt(text),
            i + 1,
            keys.len()
        );
    }
    medisim_experiments::sweep::distinct(keys.iter().map(String::as_str))?;
    Ok(keys)
}

/// `sensitivity --model NAME`: the keys over a ±box as one sweep of the model, each metric's
/// Sobol' indices (or a Latin hypercube's points).
fn sensitivity_other(a: &SensitivityArgs) -> Result<bool> {
    use medisim_experiments::house::{self, SweepOutput};
    use medisim_experiments::sweep::SweepDesign;
    let design = match a.design {
        DesignName::Sobol => SweepDesign::Sobol(a.points),
        DesignName::Lhs => SweepDesign::Lhs(a.points),
        DesignName::Morris => bail!("--design morris is Medi-Sim's for now: use sobol or lhs"),
    };
    if a.points == 0 || a.points > 100_000 {
        bail!("--points must be in 1..=100000, got {}", a.points);
    }
    let given = [
        ("--horizon", a.horizon.is_some()),
        ("--scenario", a.scenario.is_some()),
    ];
    let inputs = a
        .model
        .inputs(Options::paper(), a.seeds.as_deref(), &given)?;
    let keys = key_list(a.keys.as_deref().unwrap_or_default())?;
    let name = a.model.model.as_str();
    let mut req = medisim_experiments::with_model!(name, |m| house::box_request(
        m,
        &inputs,
        &keys,
        a.box_fraction,
        design
    ))?;
    req.design_seed = a.design_seed;
    req.metrics = a.metric.clone();
    out_dir(&a.out)?;
    let pb = bar("points");
    let s: SweepOutput = medisim_experiments::with_model!(name, |m| house::sweep_of(
        m,
        &inputs,
        &req,
        Some(&a.out),
        &pb
    ))?;
    let mut wrote = s.tidy.write(&a.out.join("sensitivity-points"))?.to_vec();
    if let Some(t) = &s.sobol {
        wrote.extend(t.write(&a.out.join("sensitivity-indices"))?);
        say_raw!("{}", t.to_text()?);
    }
    say!(
        "{} points, ±{:.0}% around {} of {name}: wrote {}",
        s.points,
        100.0 * a.box_fraction,
        s.keys.join(", "),
        path_list(&wrote)
    );
    Ok(true)
}

/// Refuse a result holding a NaN or an infinity (exit 2, naming where and the likely cause),
/// so that nothing undefined is ever printed as success: a model pushed outside its domain by
/// extreme parameters says so instead.
pub(crate) fn finite_result<T: serde::Serialize>(v: &T, what: &str, cause: &str) -> Result<()> {
    medisim_core::params::defined(v, what, cause).map_err(anyhow::Error::msg)
}

/// Paths as a message lists them: `a.csv, a.parquet`.
pub(crate) fn path_list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn sensitivity(a: &SensitivityArgs) -> Result<bool> {
    use medisim_experiments::sensitivity::{self as sa, Design, Spec};
    if a.model.model != "medisim" {
        return sensitivity_other(a);
    }
    if a.model.params.is_some() || a.model.disease.is_some() || !a.metric.is_empty() {
        bail!("--params, --disease and --metric belong to the other models' sensitivity");
    }
    let seeds = a.seeds.as_deref().unwrap_or("20001..20030");
    let o = design_options(seeds, a.horizon.unwrap_or(200), &a.out, &a.scenario)?;
    let keys = keys_or_chosen(&a.keys)?;
    if a.points == 0 || a.points > 100_000 {
        bail!("--points must be in 1..=100000, got {}", a.points);
    }
    let spec = Spec {
        keys,
        design: match a.design {
            DesignName::Lhs => Design::Lhs,
            DesignName::Morris => Design::Morris,
            DesignName::Sobol => Design::Sobol,
        },
        points: a.points,
        box_fraction: a.box_fraction,
        seed: a.design_seed,
    };
    out_dir(&a.out)?;
    let pb = bar("points");
    let s = sa::run(&o, &spec, Some(&a.out), &pb)?;
    let w = |name: &str, bytes: &[u8]| medisim_core::write_atomic(&a.out.join(name), bytes);
    w("sensitivity.csv", &sa::points_table(&s).to_csv()?)?;
    w("sensitivity-facts.csv", &sa::facts_table(&s).to_csv()?)?;
    for k in 0..s.facts.len() {
        medisim_core::write_atomic(
            &a.out.join(format!("tornado-fact{}.svg", k + 1)),
            sa::tornado(&s, k, 10).as_bytes(),
        )?;
    }
    say!(
        "{} points, ±{:.0}% around {} constants, seeds {}:",
        s.points.len(),
        100.0 * a.box_fraction,
        s.keys.len(),
        seeds
    );
    for (i, f) in s.facts.iter().enumerate() {
        let top = (0..s.keys.len())
            .max_by(|x, y| f.influence[*x].abs().total_cmp(&f.influence[*y].abs()))
            .map_or(String::new(), |k| {
                format!("{} ({:+.2})", s.keys[k], f.influence[k])
            });
        say!(
            "  fact {}: holds at {:5.1}% of points; most influential: {top}",
            i + 1,
            100.0 * f.holds_share
        );
    }
    say!(
        "  all of them together: hold at {:5.1}% of points",
        100.0 * s.all_hold_share
    );
    say!(
        "wrote sensitivity.csv, sensitivity-facts.csv and tornado-fact*.svg under {}",
        a.out.display()
    );
    Ok(true)
}

#[derive(clap::Args)]
pub struct CalibrateArgs {
    /// Target moments (TOML: `[[moment]]` tables of regime, alpha, beta, metric, target, weight, scale,
    /// source). Default: the paper's Table 2, targets/paper-table2.toml.
    #[arg(long)]
    targets: Option<PathBuf>,
    /// Seeds shared by every evaluation (common random numbers).
    #[arg(long, default_value = "1..30")]
    seeds: String,
    /// Periods per rollout.
    #[arg(long, default_value_t = 200)]
    horizon: u32,
    /// Output directory: cells cached there are reused, so a re-run resumes.
    #[arg(long, default_value = "medisim-out")]
    out: PathBuf,
    /// Scenario TOML to start from: the centre of every prior box (default: built-in).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Comma-separated scenario keys (default: every constant the project chose).
    #[arg(long)]
    keys: Option<String>,
    /// Each constant's prior range: its value × (1 ± box).
    #[arg(long = "box", default_value_t = 0.5)]
    box_fraction: f64,
    /// Nelder–Mead iterations (each costs one to d + 1 evaluations of every target regime).
    #[arg(long, default_value_t = 600)]
    iterations: usize,
    /// Also ask the nine facts to hold on the calibration seeds: each adds this weight × the
    /// squared shortfall of its smallest margin from 2 half-widths (0: moments only).
    #[arg(long, default_value_t = 0.0)]
    facts_weight: f64,
}

pub fn calibrate(a: &CalibrateArgs) -> Result<bool> {
    use medisim_experiments::calibrate::{self as cal, Spec, Targets};
    let o = design_options(&a.seeds, a.horizon, &a.out, &a.scenario)?;
    let targets = match &a.targets {
        Some(p) => Targets::from_toml(
            &medisim_core::input::read_settings(p, "calibration targets")?,
            &p.display().to_string(),
        )?,
        None => Targets::from_toml(cal::PAPER_TABLE_2, "targets/paper-table2.toml")?,
    };
    if a.iterations == 0 || a.iterations > 1_000_000 {
        bail!("--iterations must be in 1..=1000000, got {}", a.iterations);
    }
    let spec = Spec {
        keys: keys_or_chosen(&a.keys)?,
        box_fraction: a.box_fraction,
        iterations: a.iterations,
        facts_weight: a.facts_weight,
    };
    out_dir(&a.out)?;
    let pb = bar("evaluations");
    let c = cal::run(&o, &targets, &spec, Some(&a.out), &pb)?;
    let w = |name: &str, bytes: &[u8]| medisim_core::write_atomic(&a.out.join(name), bytes);
    w("calibrated-scenario.toml", c.scenario.to_toml().as_bytes())?;
    w("fit.csv", &cal::fit_table(&c).to_csv()?)?;
    w("convergence.csv", &cal::convergence_table(&c).to_csv()?)?;
    w("convergence.svg", cal::convergence_svg(&c).as_bytes())?;
    say!(
        "{} evaluations; weighted distance {:.4} (built-in) → {:.4} (calibrated)",
        c.trace.len(),
        c.start_distance,
        c.best_distance
    );
    say!(
        "  {:<16} {:<20} {:>8} {:>9} {:>11} {:>22}",
        "regime",
        "metric",
        "target",
        "built-in",
        "calibrated",
        "95% interval"
    );
    for (f, s) in c.fit.iter().zip(&c.start_fit) {
        say!(
            "  {:<16} {:<20} {:>8.3} {:>9.3} {:>11.3} {:>10.3} … {:<10.3}",
            f.regime,
            f.metric,
            f.target,
            s.simulated,
            f.simulated,
            f.ci95[0],
            f.ci95[1]
        );
    }
    if !c.facts.is_empty() {
        let show = |m: &[f64]| {
            m.iter()
                .map(|x| format!("{x:.1}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        say!(
            "  facts' smallest margins (half-widths), built-in: {}",
            show(&c.start_facts)
        );
        say!(
            "  facts' smallest margins (half-widths), calibrated: {}",
            show(&c.facts)
        );
    }
    say!("  constants moved (built-in → calibrated):");
    for ((k, s), b) in c.keys.iter().zip(&c.start).zip(&c.best) {
        if (s - b).abs() > 1e-9 * s.abs().max(1.0) {
            say!("    {k:<28} {s:>10.4} → {b:<10.4}");
        }
    }
    say!(
        "wrote calibrated-scenario.toml, fit.csv, convergence.csv and convergence.svg under {}",
        a.out.display()
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    /// The last guard: whatever comes out undefined is refused naming the result's key and
    /// the cause (the inputs that once led here are refused by range before they run).
    #[test]
    fn an_undefined_result_is_refused_naming_its_key() {
        assert!(super::finite_result(&serde_json::json!({"x": 1.0}), "r", "c").is_ok());
        #[derive(serde::Serialize)]
        struct Out {
            health: f64,
        }
        let e = super::finite_result(&Out { health: f64::NAN }, "the equilibrium", "blame")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`health` is NaN") && e.contains("blame"), "{e}");
    }
}
