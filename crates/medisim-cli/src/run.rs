//! `medisim run` and `medisim scenario`.

use anyhow::{bail, Context, Result};
use medisim_core::{write_atomic, Metric as _, RunSpec};
use medisim_dsl::Policy;
use medisim_sim::Field;
use medisim_sim::{run_seeds, Metric, ObjectiveKind, Scenario, MODEL_VERSION};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct RunArgs {
    /// Policy file (default: the shipped baseline, the simulator's native rules).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Scenario TOML (default: built-in defaults).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Fix the financial sensitivity α, replacing the policy's rule.
    #[arg(long)]
    alpha: Option<f64>,
    /// Fix the quality sensitivity β, replacing the policy's rule.
    #[arg(long)]
    beta: Option<f64>,
    /// Seeds: a range `1..30` (inclusive), a list `1,2,5`, or one seed.
    #[arg(long, default_value = "1..30")]
    seeds: String,
    /// Periods per rollout.
    #[arg(long, default_value_t = 200)]
    horizon: u32,
    /// Objective for the return and fitness: welfare, profit or mixed.
    #[arg(long, default_value = "mixed")]
    objective: ObjectiveKind,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Write a per-period, per-team trace (CSV).
    #[arg(long, value_name = "FILE.csv")]
    trace: Option<PathBuf>,
}

/// Parse `1..30`, `1,2,5` or `7`.
pub fn parse_seeds(s: &str) -> Result<Vec<u64>> {
    let s = s.trim();
    if let Some((a, b)) = s.split_once("..") {
        let a: u64 = a
            .trim()
            .parse()
            .with_context(|| format!("bad seed range start in `{s}`"))?;
        let b: u64 = b
            .trim()
            .trim_start_matches('=')
            .parse()
            .with_context(|| format!("bad seed range end in `{s}`"))?;
        if b < a {
            bail!("empty seed range `{s}`");
        }
        return Ok((a..=b).collect());
    }
    s.split(',')
        .map(|x| {
            x.trim()
                .parse::<u64>()
                .with_context(|| format!("bad seed `{x}` in `{s}`"))
        })
        .collect()
}

pub fn load_scenario(path: Option<&Path>) -> Result<Scenario> {
    Ok(match path {
        Some(p) => Scenario::load(p)?,
        None => Scenario::default(),
    })
}

pub fn load_policy(path: Option<&Path>) -> Result<Policy> {
    match path {
        None => Ok(medisim_sim::baseline().clone()),
        Some(p) => {
            let src = crate::source::read_policy(p)?.map_err(anyhow::Error::msg)?;
            medisim_sim::load(&src.text).map_err(|diags| {
                anyhow::anyhow!(
                    "policy does not check:\n{}",
                    crate::source::report(&diags, &src, false)
                )
            })
        }
    }
}

pub fn run(a: &RunArgs) -> Result<bool> {
    let scenario = load_scenario(a.scenario.as_deref())?;
    let mut policy = load_policy(a.policy.as_deref())?;
    if let Some(v) = a.alpha {
        policy.fix(Field::Alpha, v);
    }
    if let Some(v) = a.beta {
        policy.fix(Field::Beta, v);
    }
    if a.horizon == 0 {
        bail!("--horizon must be at least 1");
    }
    let spec = RunSpec::new(parse_seeds(&a.seeds)?, a.horizon, a.objective);
    let result =
        run_seeds(&scenario, &policy, &spec, a.trace.is_some()).map_err(anyhow::Error::msg)?;
    if let Some(path) = &a.trace {
        let mut w = csv::Writer::from_writer(Vec::new());
        for row in &result.trace {
            w.serialize(row)?;
        }
        write_atomic(path, &w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?;
    }
    if a.json {
        let out = serde_json::json!({
            "policy": policy.header.name,
            "policy_hash": policy.canonical_hash().to_string(),
            "model_version": MODEL_VERSION,
            "seeds": result.spec.seeds,
            "horizon": result.spec.horizon,
            "objective": result.spec.objective,
            "metrics": result.summary,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "policy {} ({})  seeds {}  horizon {}  objective {:?}",
            policy.header.name,
            policy.canonical_hash().short(),
            a.seeds,
            result.spec.horizon,
            result.spec.objective
        );
        for (group, metrics) in Metric::GROUPS {
            println!("\n{group}");
            for m in *metrics {
                let Some(s) = result.summary.get(*m) else {
                    continue;
                };
                let name = m.name();
                println!(
                    "  {name:<26} {:>12.4}  ± {:<10.4} [{:.4}, {:.4}]",
                    s.mean, s.std, s.ci95[0], s.ci95[1]
                );
            }
        }
    }
    Ok(true)
}

pub fn print_scenario(path: Option<&Path>) -> Result<bool> {
    print!("{}", load_scenario(path)?.to_toml());
    Ok(true)
}
