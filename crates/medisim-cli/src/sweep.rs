//! `medisim sweep`: any parameter of any model over a grid, a Latin hypercube or a Sobol'
//! design; tidy CSV and Parquet. One path for every model (`--model`), through
//! `medisim_experiments::house`.

use crate::experiments::{bar, distribute_with, options, out_dir, Common, Distribute};
use crate::house::ModelArgs;
use anyhow::{bail, Result};
use medisim_experiments::house::{self, SweepOutput, SweepRequest};
use medisim_experiments::sweep::SweepDesign;
use medisim_experiments::with_model;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct SweepArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// KEY=a:b:n (n values from a to b), KEY=a:b (a range, for lhs/sobol) or KEY=v1,v2,…;
    /// KEY is a dotted scenario key (`medisim scenario` prints them) or a numeric policy field
    /// (`admin_policy.alpha`, or `alpha`), or another model's parameter (`margin`,
    /// `retinopathy.macular_edema_cost`, `benchmark`, `gamma`). Repeat for more keys.
    #[arg(long = "set", value_name = "KEY=VALUES", required = true)]
    set: Vec<String>,
    /// grid (every combination), oneway (each key over its values, the others at their base:
    /// a tornado per metric), lhs:N (N Latin-hypercube points) or sobol:N (N (d + 2) points,
    /// and each metric's Sobol' indices).
    #[arg(long, default_value = "grid")]
    design: String,
    /// The sampled designs' random stream (lhs and sobol; a grid draws nothing) [default: 1].
    #[arg(long)]
    design_seed: Option<u64>,
    /// Seeds: `1..30`, `1,2,5` or one seed (default: 1..30; the panel: 0..runs-1, its
    /// configuration's runs; a game or a contract is deterministic and runs once).
    #[arg(long)]
    seeds: Option<String>,
    /// Medi-Sim: periods per rollout [default: 200].
    #[arg(long)]
    horizon: Option<u32>,
    /// Output directory: sweep.csv and sweep.parquet there (and a figure per metric under
    /// sweep/: a line for a grid over one key, a map over two, a tornado for a one-way
    /// design), cells cached there are reused.
    /// Without it the tidy CSV goes to standard output and nothing is cached.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Medi-Sim: the policy (default: the baseline).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Medi-Sim: the scenario TOML (default: built-in).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Also write one row per design point × seed × metric (sweep-replicates.csv/.parquet).
    #[arg(long)]
    replicates: bool,
    /// Only these metrics (repeat; default: every metric of the model).
    #[arg(long = "metric", value_name = "NAME")]
    metric: Vec<String>,
    /// Print JSON instead of text: the tidy table's rows (and the replicates' with
    /// --replicates) and the files written.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    dist: Distribute,
}

pub fn sweep(a: &SweepArgs) -> Result<bool> {
    let medisim = options(&Common::new(
        a.seeds.as_deref().unwrap_or("1..30"),
        a.horizon.unwrap_or(200),
        a.out.clone().unwrap_or_default(),
        a.policy.clone(),
        a.scenario.clone(),
    ))?;
    let inputs = a.model.inputs(
        medisim,
        a.seeds.as_deref(),
        &[
            ("--horizon", a.horizon.is_some()),
            ("--policy", a.policy.is_some()),
            ("--scenario", a.scenario.is_some()),
        ],
    )?;
    let design = SweepDesign::parse(&a.design)?;
    if matches!(design, SweepDesign::Grid | SweepDesign::OneWay) && a.design_seed.is_some() {
        bail!(
            "--design-seed seeds a sampled design (lhs:N, sobol:N); a grid or a one-way design \
             draws nothing"
        );
    }
    let req = SweepRequest {
        sets: a.set.clone(),
        design,
        design_seed: a.design_seed.unwrap_or(1),
        metrics: a.metric.clone(),
        replicates: a.replicates,
    };
    if a.dist.given() {
        let Some(out) = &a.out else {
            bail!("--shard and --emit-slurm fill OUT/cells: give --out");
        };
        let fill = |shard, pb: &dyn medisim_core::Progress| {
            with_model!(a.model.model.as_str(), |m| house::sweep_shard_of(
                m, &inputs, &req, out, shard, pb
            ))
        };
        if let Some(done) = distribute_with(&a.dist, out, fill)? {
            return Ok(done);
        }
    }
    if let Some(out) = &a.out {
        out_dir(out)?;
    }
    let pb = bar("sweep");
    let s: SweepOutput = with_model!(a.model.model.as_str(), |m| house::sweep_of(
        m,
        &inputs,
        &req,
        a.out.as_deref(),
        &pb
    ))?;
    report(a, &s)
}

/// Write the sweep's files under `--out` and say what was done.
fn write(out: &Path, s: &SweepOutput) -> Result<Vec<PathBuf>> {
    let mut wrote = Vec::new();
    wrote.extend(s.tidy.write(&out.join("sweep"))?);
    if let Some(r) = &s.replicates {
        wrote.extend(r.write(&out.join("sweep-replicates"))?);
    }
    if let Some(t) = &s.sobol {
        wrote.extend(t.write(&out.join("sweep-sobol"))?);
    }
    if let Some(f) = &s.figure {
        let dir = out.join("sweep");
        std::fs::create_dir_all(&dir)?;
        f.write(&dir)?;
        wrote.extend(f.paths(&dir));
    }
    Ok(wrote)
}

fn report(a: &SweepArgs, s: &SweepOutput) -> Result<bool> {
    let wrote = match &a.out {
        Some(out) => write(out, s)?,
        None => Vec::new(),
    };
    if a.json {
        let json = |t: &Option<medisim_core::Table>| t.as_ref().map(|t| t.to_json()).transpose();
        say!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "model": a.model.model,
                "table": s.tidy.to_json()?,
                "replicates": json(&s.replicates)?,
                "sobol": json(&s.sobol)?,
                "files": wrote,
            }))?
        );
        return Ok(true);
    }
    if a.out.is_none() {
        say_raw!("{}", String::from_utf8(s.tidy.to_csv()?)?);
        if let Some(r) = &s.replicates {
            say_raw!("{}", String::from_utf8(r.to_csv()?)?);
        }
        return Ok(true);
    }
    say!(
        "{} design points × {} seeds over {}: wrote {}",
        s.points,
        s.seeds,
        s.keys.join(", "),
        crate::experiments::path_list(&wrote)
    );
    Ok(true)
}
