//! `medisim sweep`: any scenario key or policy constant over a grid, a Latin hypercube or a
//! Sobol' design; tidy CSV and Parquet.

use crate::experiments::{bar, options, out_dir, Common};
use anyhow::Result;
use medisim_experiments::sweep::{self, SweepDesign, SweepSpec};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct SweepArgs {
    /// KEY=a:b:n (n values from a to b), KEY=a:b (a range, for lhs/sobol) or KEY=v1,v2,…;
    /// KEY is a dotted scenario key (`medisim scenario` prints them) or a numeric policy field
    /// (`admin_policy.alpha`, or `alpha`). Repeat for more keys.
    #[arg(long = "set", value_name = "KEY=VALUES", required = true)]
    set: Vec<String>,
    /// grid (every combination), lhs:N (N Latin-hypercube points) or sobol:N (N (d + 2)
    /// points, and each metric's Sobol' indices).
    #[arg(long, default_value = "grid")]
    design: String,
    /// The sampled designs' random stream.
    #[arg(long, default_value_t = 1)]
    design_seed: u64,
    /// Seeds: `1..30`, `1,2,5` or one seed.
    #[arg(long, default_value = "1..30")]
    seeds: String,
    /// Periods per rollout.
    #[arg(long, default_value_t = 200)]
    horizon: u32,
    /// Output directory: sweep.csv and sweep.parquet there (and, for a grid over one key, a
    /// figure per metric under sweep/), cells cached there are reused.
    /// Without it the tidy CSV goes to standard output and nothing is cached.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Policy (default: the baseline).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Scenario TOML (default: built-in).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Also write one row per design point × seed × metric (sweep-replicates.csv/.parquet).
    #[arg(long)]
    replicates: bool,
    /// Only these metrics (repeat; default: every metric).
    #[arg(long = "metric", value_name = "NAME")]
    metric: Vec<String>,
    /// Print JSON instead of text: the tidy table's rows (and the replicates' with
    /// --replicates) and the files written.
    #[arg(long)]
    json: bool,
}

pub fn sweep(a: &SweepArgs) -> Result<bool> {
    let o = options(&Common::new(
        &a.seeds,
        a.horizon,
        a.out.clone().unwrap_or_default(),
        a.policy.clone(),
        a.scenario.clone(),
    ))?;
    let design = SweepDesign::parse(&a.design)?;
    let factors = a
        .set
        .iter()
        .map(|s| sweep::parse_factor(s, &o.scenario, &o.policy))
        .collect::<Result<Vec<_>>>()?;
    let metrics = sweep::metrics(&a.metric)?;
    let spec = SweepSpec {
        factors,
        design,
        seed: a.design_seed,
    };
    if let Some(out) = &a.out {
        out_dir(out)?;
    }
    let pb = bar("sweep");
    let s = sweep::run(&o, &spec, a.out.as_deref(), &pb)?;
    let tidy = sweep::tidy(&s, &metrics);
    let replicates = a.replicates.then(|| sweep::replicates(&s, &metrics));
    let sobol = sweep::sobol(&s, &metrics);
    let mut wrote = Vec::new();
    if let Some(out) = &a.out {
        wrote.extend(tidy.write(&out.join("sweep"))?);
        if let Some(r) = &replicates {
            wrote.extend(r.write(&out.join("sweep-replicates"))?);
        }
        if let Some(t) = &sobol {
            wrote.extend(t.write(&out.join("sweep-sobol"))?);
        }
        if let Some(f) = sweep::figure(&s, &metrics) {
            let dir = out.join("sweep");
            std::fs::create_dir_all(&dir)?;
            f.write(&dir)?;
            wrote.extend(f.paths(&dir));
        }
    }
    if a.json {
        let json = |t: &Option<medisim_core::Table>| t.as_ref().map(|t| t.to_json()).transpose();
        say!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "table": tidy.to_json()?,
                "replicates": json(&replicates)?,
                "sobol": json(&sobol)?,
                "files": wrote,
            }))?
        );
        return Ok(true);
    }
    if a.out.is_none() {
        say_raw!("{}", String::from_utf8(tidy.to_csv()?)?);
        if let Some(r) = &replicates {
            say_raw!("{}", String::from_utf8(r.to_csv()?)?);
        }
        return Ok(true);
    }
    say!(
        "{} design points × {} seeds over {}: wrote {}",
        s.points.len(),
        o.seeds.len(),
        s.keys.join(", "),
        wrote
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(true)
}
