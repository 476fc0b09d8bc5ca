//! `medisim run` and `medisim scenario`.

use anyhow::{bail, Context, Result};
use medisim_core::text::name_of;
use medisim_core::{Metric as _, Table};
use medisim_dsl::Policy;
use medisim_sim::Field;
use medisim_sim::RunSpec;
use medisim_sim::{run_seeds, Metric, ObjectiveKind, Scenario, MODEL_VERSION};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    model: crate::house::ModelArgs,
    /// Policy file (default: the shipped baseline, the simulator's native rules). Give it
    /// twice or more to compare policies on common random numbers: every policy meets the same
    /// patients, and each metric's paired difference from the first policy is reported with
    /// its 95% interval.
    #[arg(long)]
    policy: Vec<PathBuf>,
    /// Scenario TOML (default: built-in defaults).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Set one scenario key after --scenario: KEY=VALUE (a dotted key, `medisim scenario` lists
    /// them; repeatable), held to its legal range.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Fix the financial sensitivity α, replacing the policy's rule.
    #[arg(long)]
    alpha: Option<f64>,
    /// Fix the quality sensitivity β, replacing the policy's rule.
    #[arg(long)]
    beta: Option<f64>,
    /// Seeds: a range `1..30` (inclusive), a list `1,2,5`, or one seed (default: 1..30; the
    /// panel: 0..runs-1, its configuration's runs; a game or a contract runs once).
    #[arg(long)]
    seeds: Option<String>,
    /// Medi-Sim: periods per rollout [default: 200].
    #[arg(long)]
    horizon: Option<u32>,
    /// Medi-Sim: objective for the return and fitness: welfare, profit or mixed [default: mixed].
    #[arg(long)]
    objective: Option<ObjectiveKind>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Write a per-period, per-team trace (CSV); `-` writes it to standard output.
    #[arg(long, value_name = "FILE.csv")]
    trace: Option<PathBuf>,
}

/// Parse `1..30`, `1,2,5` or `7` (bounded before anything is allocated).
pub fn parse_seeds(s: &str) -> Result<Vec<u64>> {
    medisim_core::spec::parse_seeds(s).map_err(anyhow::Error::msg)
}

/// Fix a lever from a flag, refusing a value outside the field's legal range (never clipped).
pub fn fix_lever(policy: &mut Policy, field: Field, flag: &str, v: f64) -> Result<()> {
    let spec = field.spec();
    if !v.is_finite() || spec.project(v) != v {
        bail!(
            "--{flag} must be in the field's legal range, {}; got {v}",
            spec.range
        );
    }
    policy.fix(field, v);
    Ok(())
}

/// Most per-period, per-team trace rows one run writes (about 2 GB of CSV).
const MAX_TRACE_ROWS: u64 = 10_000_000;

/// The scenario with each `--set KEY=VALUE` applied in order.
fn with_sets(mut scenario: Scenario, sets: &[String]) -> Result<Scenario> {
    let sets = medisim_core::params::assignments(sets)
        .map_err(|(s, e)| anyhow::anyhow!("--set {s}: {e}"))?;
    for (key, value) in sets {
        scenario = scenario.with(key, value)?;
    }
    Ok(scenario)
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
            let out = medisim_sim::check_source(&src.text);
            let said = crate::source::report(&out.diagnostics, &src, false);
            match out.policy {
                // Warnings (a constant the host will clip) are said, and the run goes on.
                Some(policy) => {
                    if !said.trim().is_empty() {
                        eprintln!("{said}");
                    }
                    Ok(policy)
                }
                None => Err(anyhow::anyhow!("policy does not check:\n{said}")),
            }
        }
    }
}

impl RunArgs {
    fn seeds(&self) -> Result<Vec<u64>> {
        parse_seeds(self.seeds.as_deref().unwrap_or("1..30"))
    }

    fn horizon(&self) -> u32 {
        self.horizon.unwrap_or(200)
    }

    fn objective(&self) -> ObjectiveKind {
        self.objective.unwrap_or(ObjectiveKind::Mixed)
    }
}

/// `run --model` for a model other than Medi-Sim: the generic path, one row per metric.
fn run_other(a: &RunArgs) -> Result<bool> {
    use medisim_experiments::house;
    // The panel's policy is a payment program: one `--policy FILE`, checked against its schema.
    let panel = a.model.model == "panel";
    if panel && a.policy.len() > 1 {
        anyhow::bail!(
            "`--model panel` takes one --policy (a payment program), not {}",
            a.policy.len()
        );
    }
    let given = [
        ("--policy", !a.policy.is_empty() && !panel),
        ("--scenario", a.scenario.is_some()),
        ("--alpha", a.alpha.is_some()),
        ("--beta", a.beta.is_some()),
        ("--horizon", a.horizon.is_some()),
        ("--objective", a.objective.is_some()),
        ("--trace", a.trace.is_some()),
    ];
    let mut inputs = a.model.inputs(
        medisim_experiments::Options::paper(),
        a.seeds.as_deref(),
        &given,
    )?;
    inputs.sets = a.sets.clone();
    if let (true, Some(path)) = (panel, a.policy.first()) {
        inputs.program = Some(match crate::source::read_policy(path)? {
            Ok(src) => medisim_experiments::house::Text {
                text: src.text,
                origin: src.name,
            },
            Err(report) => anyhow::bail!("{report}"),
        });
    }
    let r =
        medisim_experiments::with_model!(a.model.model.as_str(), |m| house::run_of(m, &inputs))?;
    if a.json {
        let out = serde_json::json!({
            "model": a.model.model,
            "model_version": r.model_version,
            "seeds": r.seeds,
            "metrics": r.table.to_json()?,
            "command_line": std::env::args().collect::<Vec<_>>(),
        });
        say!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        say!(
            "model {} ({})  seeds {}",
            a.model.model,
            r.model_version,
            medisim_core::spec::seed_list(&r.seeds)
        );
        say_raw!("{}", r.table.to_text()?);
    }
    Ok(true)
}

pub fn run(a: &RunArgs) -> Result<bool> {
    if a.model.model != "medisim" {
        return run_other(a);
    }
    if a.model.params.is_some() || a.model.disease.is_some() {
        bail!(
            "--params and --disease belong to the other models; Medi-Sim's scenario is --scenario"
        );
    }
    if a.policy.len() > 1 {
        return compare(a);
    }
    let scenario = with_sets(load_scenario(a.scenario.as_deref())?, &a.sets)?;
    let mut policy = load_policy(a.policy.first().map(PathBuf::as_path))?;
    if let Some(v) = a.alpha {
        fix_lever(&mut policy, Field::Alpha, "alpha", v)?;
    }
    if let Some(v) = a.beta {
        fix_lever(&mut policy, Field::Beta, "beta", v)?;
    }
    let spec = medisim_sim::run_spec(a.seeds()?, a.horizon(), a.objective());
    spec.validate().map_err(anyhow::Error::msg)?;
    if a.trace.is_some() {
        let rows =
            spec.seeds.len() as u64 * u64::from(spec.settings.horizon) * scenario.teams as u64;
        if rows > MAX_TRACE_ROWS {
            bail!(
                "--trace would write {rows} rows (seeds x horizon x teams, about {} GB); at most \
                 {MAX_TRACE_ROWS} rows: trace fewer seeds or a shorter horizon",
                rows * 200 / 1_000_000_000
            );
        }
    }
    let result = match &a.trace {
        Some(path) => write_trace(path, &scenario, &policy, &spec)?,
        None => run_seeds(&scenario, &policy, &spec, false).map_err(anyhow::Error::msg)?,
    };
    if a.json {
        let out = serde_json::json!({
            "policy": policy.header.name,
            "policy_hash": policy.canonical_hash().to_string(),
            "model_version": MODEL_VERSION,
            "seeds": result.spec.seeds,
            "horizon": result.spec.settings.horizon,
            "objective": result.spec.settings.objective,
            "metrics": result.summary.reported(true),
            "scenario": scenario.to_toml(),
            "command_line": std::env::args().collect::<Vec<_>>(),
        });
        say!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        say!(
            "policy {} ({})  seeds {}  horizon {}  objective {}",
            policy.header.name,
            policy.canonical_hash().short(),
            a.seeds.as_deref().unwrap_or("1..30"),
            result.spec.settings.horizon,
            name_of(&result.spec.settings.objective)
        );
        for (group, metrics) in Metric::GROUPS {
            say!("\n{group}");
            for m in *metrics {
                let Some(s) = result.summary.get(*m) else {
                    continue;
                };
                let name = m.name();
                if s.n < 2 {
                    // One seed has no spread to estimate: the interval is undefined, not zero.
                    say!("  {name:<26} {:>12.4}  (n = {}: no interval)", s.mean, s.n);
                } else {
                    say!(
                        "  {name:<26} {:>12.4}  ± {:<10.4} [{:.4}, {:.4}]",
                        s.mean,
                        s.std,
                        s.ci95[0],
                        s.ci95[1]
                    );
                }
            }
        }
    }
    Ok(true)
}

pub fn print_scenario(path: Option<&Path>) -> Result<bool> {
    say_raw!("{}", load_scenario(path)?.to_annotated_toml());
    Ok(true)
}

/// The run, its trace streamed seed by seed as it is simulated (one chunk of seeds' rows in
/// memory at a time; the rows are the same, in the same order, as one run with every seed,
/// and the summary is the untraced run's). A file is written through a temporary and renamed
/// into place; `-`, a pipe or a device is written straight through.
fn write_trace(
    path: &Path,
    scenario: &Scenario,
    policy: &Policy,
    spec: &RunSpec,
) -> Result<medisim_sim::RunResult> {
    use std::io::Write;
    let stream = path.as_os_str() == "-" || path.exists() && !path.is_file();
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map_or("trace".into(), |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    let mut sink: Box<dyn Write> = if path.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        let target = if stream {
            path.to_path_buf()
        } else {
            tmp.clone()
        };
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(&target)
                .with_context(|| format!("cannot write {}", path.display()))?,
        ))
    };
    let mut first = true;
    let mut failure = None;
    let mut write = |rows: Vec<medisim_sim::records::TeamRecord>| {
        let header = std::mem::take(&mut first);
        let written =
            Table::write_records_csv(&rows, &mut sink, header).map_err(anyhow::Error::from);
        written.map_err(|e| {
            let text = e.to_string();
            failure = Some(e);
            text
        })
    };
    let result = medisim_sim::run::run_seeds_traced(scenario, policy, spec, &mut write);
    if let Some(e) = failure {
        return Err(e);
    }
    let result = result.map_err(anyhow::Error::msg)?;
    sink.flush()?;
    drop(sink);
    if !stream {
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(result)
}

/// `run --policy A --policy B ...`: every policy on the same seeds (common random numbers:
/// arrivals, their urgency and complexity come from streams keyed by seed and purpose, not by
/// what the policy decides), each metric's per-seed difference from the first policy
/// summarised with its Student-t interval.
fn compare(a: &RunArgs) -> Result<bool> {
    if a.trace.is_some() {
        bail!("--trace records one policy's run: give one --policy with --trace");
    }
    let scenario = with_sets(load_scenario(a.scenario.as_deref())?, &a.sets)?;
    let spec = medisim_sim::run_spec(a.seeds()?, a.horizon(), a.objective());
    spec.validate().map_err(anyhow::Error::msg)?;
    let mut runs = Vec::new();
    for path in &a.policy {
        let mut p = load_policy(Some(path))?;
        if let Some(v) = a.alpha {
            fix_lever(&mut p, Field::Alpha, "alpha", v)?;
        }
        if let Some(v) = a.beta {
            fix_lever(&mut p, Field::Beta, "beta", v)?;
        }
        let r = run_seeds(&scenario, &p, &spec, false).map_err(anyhow::Error::msg)?;
        runs.push((path.display().to_string(), p, r));
    }
    let base = &runs[0].2;
    let paired = |other: &medisim_sim::RunResult, m: Metric| {
        medisim_core::stats::paired_difference(
            base.per_seed
                .iter()
                .zip(&other.per_seed)
                .map(|(a, b)| (a.get(m), b.get(m))),
        )
    };
    let metrics: Vec<Metric> = Metric::ALL
        .iter()
        .copied()
        .filter(|m| *m != Metric::Fitness)
        .collect();
    if a.json {
        let comparisons: Vec<serde_json::Value> = runs[1..]
            .iter()
            .map(|(name, p, r)| {
                let diffs: serde_json::Map<String, serde_json::Value> = metrics
                    .iter()
                    .map(|m| (m.name().to_string(), serde_json::to_value(paired(r, *m)).unwrap_or_default()))
                    .collect();
                serde_json::json!({"policy": name, "policy_hash": p.canonical_hash().to_string(), "metrics": r.summary.reported(true), "minus_first": diffs})
            })
            .collect();
        say!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "model_version": MODEL_VERSION,
                "first": {"policy": runs[0].0, "policy_hash": runs[0].1.canonical_hash().to_string(), "metrics": base.summary.reported(true)},
                "seeds": spec.seeds, "horizon": spec.settings.horizon, "objective": spec.settings.objective,
                "common_random_numbers": true,
                "comparisons": comparisons,
            }))?
        );
        return Ok(true);
    }
    say!(
        "{} policies on the same {} seeds (common random numbers), horizon {}; differences from {}",
        runs.len(),
        spec.seeds.len(),
        spec.settings.horizon,
        runs[0].0
    );
    for (name, _, r) in &runs[1..] {
        say!("\n{name} minus {}", runs[0].0);
        say!(
            "  {:<26} {:>12} {:>12} {:>12}  95% interval of the paired difference",
            "metric",
            "first",
            "this",
            "difference"
        );
        for m in &metrics {
            let d = paired(r, *m);
            let interval = if d.n < 2 {
                "(n = 1: no interval)".to_string()
            } else {
                format!("[{:+.4}, {:+.4}]", d.ci95[0], d.ci95[1])
            };
            say!(
                "  {:<26} {:>12.4} {:>12.4} {:>+12.4}  {interval}",
                m.name(),
                base.mean(*m),
                r.mean(*m),
                d.mean
            );
        }
    }
    Ok(true)
}
