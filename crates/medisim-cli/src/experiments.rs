//! `medisim l1 | l2 | validate | report | reproduce`.

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
    /// audit | bonus_pool | kappa | capacity | health_cost_ratio | flex | flex_no_steering | all
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
}

fn options(c: &Common) -> Result<Options> {
    let seeds = parse_seeds(&c.seeds)?;
    medisim_core::RunSpec::new(seeds.clone(), c.horizon, medisim_core::ObjectiveKind::Mixed)
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

fn bar(step: &str) -> ProgressBar {
    let pb = ProgressBar::new(0);
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix:>10} [{bar:40}] {pos}/{len} cells  {elapsed} elapsed, ~{eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_prefix(step.to_string());
    pb
}

fn done(pb: ProgressBar) {
    pb.finish();
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
    std::fs::create_dir_all(&a.common.out)?;
    let pb = bar("L1 grid");
    let (figs, stats) = medisim_experiments::l1(&o, &a.common.out, &pb)?;
    done(pb);
    say!(
        "wrote {} and {} heatmaps under {}",
        a.common.out.join("l1.csv").display(),
        figs.iter().map(|f| f.panels.len()).sum::<usize>(),
        a.common.out.join("l1").display()
    );
    summary(&a.common.out, stats)?;
    Ok(true)
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
    std::fs::create_dir_all(&a.common.out)?;
    let pb = bar("L2 sweeps");
    let (figs, stats) = medisim_experiments::l2(&o, &a.common.out, &pb)?;
    done(pb);
    say!(
        "wrote {} and {} line plots under {}",
        a.common.out.join("l2.csv").display(),
        figs.iter().map(|f| f.panels.len()).sum::<usize>(),
        a.common.out.join("l2").display()
    );
    summary(&a.common.out, stats)?;
    Ok(true)
}

pub fn validate(a: &ValidateArgs) -> Result<bool> {
    let o = options(&a.common)?;
    std::fs::create_dir_all(&a.common.out)?;
    let pb = bar("validate");
    let (facts, _) = medisim_experiments::validate(&o, Some(&a.common.out), &pb)?;
    done(pb);
    say_raw!("{}", medisim_experiments::validate::table(&facts));
    Ok(facts.iter().all(|f| f.pass))
}

pub fn reproduce(a: &ReproduceArgs, verbose: bool) -> Result<bool> {
    let o = if a.quick {
        Options::quick()
    } else {
        Options::paper()
    };
    let r = medisim_experiments::reproduce(&o, &a.out, bar)?;
    if verbose {
        say_raw!("{}", medisim_experiments::validate::table(&r.facts));
    }
    summary(&a.out, r.stats)?;
    say!("report: {}", r.report.display());
    Ok(r.facts.iter().all(|f| f.pass))
}
