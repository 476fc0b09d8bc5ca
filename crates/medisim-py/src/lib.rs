//! # medisim-py: the native module of the `medisim` Python package
//!
//! A thin layer: every function parses its inputs with the Rust crates' own readers, runs the
//! crates' own code with the GIL released, and returns JSON text that the pure-Python layer
//! (`python/medisim/__init__.py`) turns into dicts, NumPy arrays or pandas DataFrames. Numbers
//! travel as serde_json's shortest round-trip decimals, so Python sees the CLI's values bit for
//! bit. No model logic lives here.

use medisim_core::{Counter, Hidden, Metric as _, Progress as _};
use medisim_sim::RunSpec;
use medisim_sim::{Metric, ObjectiveKind, Scenario};
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;

/// The progress of the long call running now: a hidden bar the crates advance, read by
/// `progress()` from Python's progress thread while the call holds no GIL.
fn progress_bar(length: u64) -> Counter {
    let pb = Counter::default();
    pb.set_length(length);
    if let Ok(mut slot) = PROGRESS.lock() {
        *slot = Some(pb.clone());
    }
    pb
}

static PROGRESS: std::sync::Mutex<Option<Counter>> = std::sync::Mutex::new(None);

/// (done, total) of the long call running now; (0, 0) when none has started.
#[pyfunction]
fn progress() -> (u64, u64) {
    PROGRESS
        .lock()
        .ok()
        .and_then(|s| s.as_ref().map(Counter::get))
        .unwrap_or((0, 0))
}

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Check a policy: JSON `{"ok": bool, "name", "hash", "formatted", "diagnostics": [...]}` with
/// each diagnostic's line, column, code, message and expected text (the CLI's wording).
#[pyfunction]
#[pyo3(signature = (source, origin = "<string>"))]
fn check(source: &str, origin: &str) -> PyResult<String> {
    Ok(medisim_experiments::house::check_report(source, origin).to_string())
}

/// The built-in scenario as TOML.
#[pyfunction]
fn default_scenario() -> String {
    Scenario::default().to_toml()
}

/// Check a scenario (TOML text): its canonical TOML, or a ValueError naming the key.
#[pyfunction]
#[pyo3(signature = (text, origin = "<string>"))]
fn scenario_toml(text: &str, origin: &str) -> PyResult<String> {
    Ok(Scenario::from_toml(text, origin)
        .map_err(value_error)?
        .to_toml())
}

/// A scenario (TOML text) with a dotted numeric key set, validated.
#[pyfunction]
fn scenario_with(text: &str, key: &str, value: f64) -> PyResult<String> {
    let s = Scenario::from_toml(text, "<scenario>").map_err(value_error)?;
    Ok(s.with_value(key, value).map_err(value_error)?.to_toml())
}

fn load_policy(source: Option<&str>) -> PyResult<medisim_dsl::Policy> {
    match source {
        None => Ok(medisim_sim::baseline().clone()),
        Some(src) => medisim_sim::load(src).map_err(|diags| {
            value_error(format!(
                "the policy does not check:\n{}",
                diags
                    .iter()
                    .map(|d| d.short("<policy>", src))
                    .collect::<Vec<_>>()
                    .join("\n")
            ))
        }),
    }
}

/// A scenario from TOML text, or the built-in one.
fn load_scenario(text: Option<&str>) -> PyResult<Scenario> {
    match text {
        Some(t) => Scenario::from_toml(t, "<scenario>").map_err(value_error),
        None => Ok(Scenario::default()),
    }
}

fn spec(seeds: Vec<u64>, horizon: u32, objective: &str) -> PyResult<RunSpec> {
    let objective: ObjectiveKind = objective.parse().map_err(value_error)?;
    let spec = medisim_sim::run_spec(seeds, horizon, objective);
    spec.validate().map_err(value_error)?;
    Ok(spec)
}

/// The policy, scenario and run spec a run-like call names (defaults for the omitted ones).
fn setting(
    policy: Option<&str>,
    scenario: Option<&str>,
    seeds: Vec<u64>,
    horizon: u32,
    objective: &str,
) -> PyResult<(medisim_dsl::Policy, Scenario, RunSpec)> {
    Ok((
        load_policy(policy)?,
        load_scenario(scenario)?,
        spec(seeds, horizon, objective)?,
    ))
}

/// Run seeds: JSON with `summary` (the CLI's `metrics`: mean, std, ci95, n per metric) and
/// `per_seed` (each metric's value on each seed, in seed order).
#[pyfunction]
#[pyo3(signature = (policy = None, scenario = None, seeds = vec![1], horizon = 200, objective = "mixed"))]
fn run(
    py: Python<'_>,
    policy: Option<&str>,
    scenario: Option<&str>,
    seeds: Vec<u64>,
    horizon: u32,
    objective: &str,
) -> PyResult<String> {
    let (p, s, spec) = setting(policy, scenario, seeds.clone(), horizon, objective)?;
    let pb = progress_bar(seeds.len() as u64);
    // One simulation: the summary and each seed's metrics come from the same rollouts.
    let r = py
        .allow_threads(|| medisim_sim::run_seeds(&s, &p, &spec, false))
        .map_err(value_error)?;
    pb.inc(seeds.len() as u64);
    let (summary, per_seed) = (r.summary, r.per_seed);
    let columns: serde_json::Map<String, serde_json::Value> = Metric::ALL
        .iter()
        .map(|m| {
            let xs: Vec<f64> = per_seed.iter().map(|r| r.get(*m)).collect();
            (m.name().to_string(), serde_json::json!(xs))
        })
        .collect();
    Ok(serde_json::json!({
        "policy": p.header.name, "policy_hash": p.canonical_hash().to_string(),
        "model_version": medisim_sim::MODEL_VERSION.to_string(), "seeds": seeds,
        "horizon": horizon, "objective": spec.settings.objective, "summary": summary,
        "per_seed": columns,
    })
    .to_string())
}

/// The per-period, per-team trace of a run (`medisim run --trace`): JSON columns, one value
/// per (seed, period, team) row.
#[pyfunction]
#[pyo3(signature = (policy = None, scenario = None, seeds = vec![1], horizon = 200, objective = "mixed"))]
fn trace(
    py: Python<'_>,
    policy: Option<&str>,
    scenario: Option<&str>,
    seeds: Vec<u64>,
    horizon: u32,
    objective: &str,
) -> PyResult<String> {
    let (p, s, spec) = setting(policy, scenario, seeds, horizon, objective)?;
    let rows = py
        .allow_threads(|| medisim_sim::run_seeds(&s, &p, &spec, true))
        .map_err(value_error)?
        .trace;
    let mut columns: Vec<(String, Vec<serde_json::Value>)> = Vec::new();
    for r in &rows {
        let serde_json::Value::Object(fields) = serde_json::to_value(r).map_err(value_error)?
        else {
            continue;
        };
        if columns.is_empty() {
            columns = fields
                .keys()
                .map(|k| (k.clone(), Vec::with_capacity(rows.len())))
                .collect();
        }
        for (k, col) in columns.iter_mut() {
            col.push(fields.get(k).cloned().unwrap_or(serde_json::Value::Null));
        }
    }
    let map: serde_json::Map<String, serde_json::Value> = columns
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::Array(v)))
        .collect();
    Ok(serde_json::Value::Object(map).to_string())
}

fn options(seeds: Vec<u64>, horizon: u32) -> PyResult<medisim_experiments::Options> {
    spec(seeds.clone(), horizon, "mixed")?;
    Ok(medisim_experiments::Options {
        seeds,
        horizon,
        ..medisim_experiments::Options::paper()
    })
}

/// An experiment's options from the command line's settings: seeds, horizon, and the policy
/// and scenario (`--policy`, `--scenario`; default the baseline and the built-in world).
fn experiment_setting(
    seeds: Vec<u64>,
    horizon: u32,
    policy: Option<&str>,
    scenario: Option<&str>,
) -> PyResult<medisim_experiments::Options> {
    Ok(medisim_experiments::Options {
        policy: load_policy(policy)?,
        scenario: load_scenario(scenario)?,
        ..options(seeds, horizon)?
    })
}

/// The nine stylized facts: JSON list of facts with their margins and verdicts.
#[pyfunction]
#[pyo3(signature = (seeds = (1..=30).collect(), horizon = 200, policy = None, scenario = None))]
fn validate(
    py: Python<'_>,
    seeds: Vec<u64>,
    horizon: u32,
    policy: Option<&str>,
    scenario: Option<&str>,
) -> PyResult<String> {
    let o = experiment_setting(seeds, horizon, policy, scenario)?;
    let pb = progress_bar(0);
    let facts = py
        .allow_threads(|| medisim_experiments::validate(&o, None, &pb))
        .map_err(value_error)?
        .0;
    let rows: Vec<serde_json::Value> = facts
        .iter()
        .map(|f| serde_json::json!({
            "name": f.name, "expected": f.expected, "observed": f.observed, "margins": f.margins,
            "min_margin": f.min_margin, "pass": f.pass,
        }))
        .collect();
    Ok(serde_json::Value::Array(rows).to_string())
}

/// The L1 grid: JSON rows (alpha, beta, metric, mean, std, ci95_low, ci95_high, n).
#[pyfunction]
#[pyo3(signature = (grid = 11, seeds = (1..=30).collect(), horizon = 200, policy = None, scenario = None))]
fn l1(
    py: Python<'_>,
    grid: usize,
    seeds: Vec<u64>,
    horizon: u32,
    policy: Option<&str>,
    scenario: Option<&str>,
) -> PyResult<String> {
    if !(2..=medisim_experiments::l1::MAX_GRID).contains(&grid) {
        return Err(value_error(format!(
            "grid must be in [2, {}] points per axis, got {grid}",
            medisim_experiments::l1::MAX_GRID
        )));
    }
    let o = experiment_setting(seeds, horizon, policy, scenario)?;
    let g = medisim_experiments::l1::grid(grid);
    let specs = medisim_experiments::l1::specs(&o.scenario, &o.policy, &g, &o.seeds, o.horizon);
    let pb = progress_bar(specs.len() as u64);
    let cells = py
        .allow_threads(|| medisim_experiments::cells::run_cells(&specs, None, &pb))
        .map_err(value_error)?
        .0;
    let mut rows = Vec::new();
    for c in &cells {
        for (name, s) in c.summary.iter() {
            rows.push(serde_json::json!({
                "alpha": c.label("alpha").parse::<f64>().unwrap_or(f64::NAN),
                "beta": c.label("beta").parse::<f64>().unwrap_or(f64::NAN),
                "metric": name, "mean": s.mean, "std": s.std, "ci95_low": s.ci95[0],
                "ci95_high": s.ci95[1], "n": s.n,
            }));
        }
    }
    Ok(serde_json::Value::Array(rows).to_string())
}

/// The generic path's inputs: Medi-Sim's own (policy, scenario, horizon) and the other
/// models' parameters (TOML text), disease model and single-value settings.
#[allow(clippy::too_many_arguments)]
fn house_inputs(
    model: &str,
    policy: Option<&str>,
    scenario: Option<&str>,
    seeds: Option<Vec<u64>>,
    horizon: u32,
    params: Option<&str>,
    disease: Option<&str>,
    fixed: Vec<String>,
) -> PyResult<medisim_experiments::house::Inputs> {
    use medisim_experiments::house::{Inputs, Text};
    // The panel's policy is a payment program; every other model's policy is Medi-Sim's.
    let panel = model == "panel";
    if model != "medisim" && ((policy.is_some() && !panel) || scenario.is_some()) {
        return Err(value_error(format!(
            "policy and scenario belong to Medi-Sim; model `{model}` takes params"
        )));
    }
    let text = |t: Option<&str>, origin: &str| {
        t.map(|t| Text {
            text: t.to_string(),
            origin: origin.to_string(),
        })
    };
    Ok(Inputs {
        program: if panel {
            text(policy, "<policy>")
        } else {
            None
        },
        medisim: medisim_experiments::Options {
            policy: load_policy(if panel { None } else { policy })?,
            scenario: load_scenario(scenario)?,
            ..options(seeds.clone().unwrap_or_else(|| (1..=30).collect()), horizon)?
        },
        params: text(params, "<params>"),
        disease: text(disease, "<disease>"),
        seeds,
        sets: fixed,
    })
}

/// `medisim sweep --model MODEL`: CSV text of the tidy table (or of the per-replicate rows),
/// its cells cached under `out` when given. With `shard = (K, N)` it only fills shard K of N of
/// the cells into `out/cells` (what `--shard K/N` does) and returns JSON
/// `{total, computed, reused}`.
#[pyfunction]
#[pyo3(signature = (sets, design = "grid", policy = None, scenario = None, seeds = None, horizon = 200, metrics = vec![], replicates = false, design_seed = 1, model = "medisim", params = None, disease = None, fixed = vec![], out = None, shard = None))]
#[allow(clippy::too_many_arguments)]
fn sweep(
    py: Python<'_>,
    sets: Vec<String>,
    design: &str,
    policy: Option<&str>,
    scenario: Option<&str>,
    seeds: Option<Vec<u64>>,
    horizon: u32,
    metrics: Vec<String>,
    replicates: bool,
    design_seed: u64,
    model: &str,
    params: Option<&str>,
    disease: Option<&str>,
    fixed: Vec<String>,
    out: Option<&str>,
    shard: Option<(usize, usize)>,
) -> PyResult<String> {
    use medisim_experiments::house::{self as h, SweepRequest};
    use medisim_experiments::with_model;
    let out = out.map(std::path::PathBuf::from);
    let inputs = house_inputs(
        model, policy, scenario, seeds, horizon, params, disease, fixed,
    )?;
    let req = SweepRequest {
        sets,
        design: medisim_experiments::sweep::SweepDesign::parse(design).map_err(value_error)?,
        design_seed,
        metrics,
        replicates,
    };
    if let Some((index, count)) = shard {
        let shard = medisim_experiments::cells::Shard::parse(&format!("{index}/{count}"))
            .map_err(value_error)?;
        let out = out.ok_or_else(|| value_error("a shard fills out/cells: give out"))?;
        let (total, stats) = py
            .allow_threads(|| {
                with_model!(model, |m| h::sweep_shard_of(
                    m, &inputs, &req, &out, shard, &Hidden
                ))
            })
            .map_err(value_error)?;
        return Ok(serde_json::json!({
            "total": total, "computed": stats.computed, "reused": stats.reused,
        })
        .to_string());
    }
    let pb = progress_bar(0);
    let s = py
        .allow_threads(|| {
            with_model!(model, |m| h::sweep_of(
                m,
                &inputs,
                &req,
                out.as_deref(),
                &pb
            ))
        })
        .map_err(value_error)?;
    let table = match (replicates, &s.replicates) {
        (true, Some(r)) => r,
        _ => &s.tidy,
    };
    String::from_utf8(table.to_csv().map_err(value_error)?).map_err(value_error)
}

/// The primary-care panel's experiments E1–E6 (seed 002), as `medisim panel experiments
/// --json` gives them: a JSON list of sweeps, from a configuration TOML and `--set` settings.
#[pyfunction]
#[pyo3(signature = (only = None, config = "", sets = vec![]))]
fn panel_experiments(
    py: Python<'_>,
    only: Option<Vec<String>>,
    config: &str,
    sets: Vec<String>,
) -> PyResult<String> {
    use medisim_panel::disease::Retinopathy;
    use medisim_panel::experiments::{experiment, experiment_ids};
    let cfg = panel_config(config, &sets)?;
    let ids = experiment_ids(&cfg, only.as_deref()).map_err(value_error)?;
    let d = Retinopathy::new(cfg.retinopathy.clone()).map_err(value_error)?;
    let sweeps = py
        .allow_threads(|| {
            ids.iter()
                .map(|id| experiment(&d, &cfg, id))
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(value_error)?;
    serde_json::to_string(&sweeps).map_err(value_error)
}

/// A model's parameters (`params`: TOML as `--params` reads it; default the model's) with
/// each `KEY=VALUE` of `sets` applied through the model's setter: the TOML that
/// `medisim.Params` holds. Medi-Sim's parameters are its scenario (`medisim.Scenario`).
#[pyfunction]
#[pyo3(signature = (model, params = None, sets = vec![]))]
fn model_params(model: &str, params: Option<&str>, sets: Vec<String>) -> PyResult<String> {
    use medisim_experiments::house as h;
    use medisim_experiments::with_model;
    if model == "medisim" {
        return Err(value_error(
            "Medi-Sim's parameters are its scenario: medisim.Scenario",
        ));
    }
    let inputs = house_inputs(model, None, None, None, 200, params, None, sets)?;
    with_model!(model, |m| h::params_of(m, &inputs)).map_err(value_error)
}

/// `medisim run --model MODEL`: JSON `{model_version, seeds, table}` (one row per metric).
#[pyfunction]
#[pyo3(signature = (model, seeds = None, params = None, disease = None, fixed = vec![], horizon = 200, policy = None))]
#[allow(clippy::too_many_arguments)]
fn run_model(
    py: Python<'_>,
    model: &str,
    seeds: Option<Vec<u64>>,
    params: Option<&str>,
    disease: Option<&str>,
    fixed: Vec<String>,
    horizon: u32,
    policy: Option<&str>,
) -> PyResult<String> {
    use medisim_experiments::house as h;
    use medisim_experiments::with_model;
    // The panel's policy is a payment program (its text); the house refuses it elsewhere.
    let inputs = house_inputs(model, policy, None, seeds, horizon, params, disease, fixed)?;
    let r = py
        .allow_threads(|| with_model!(model, |m| h::run_of(m, &inputs)))
        .map_err(value_error)?;
    Ok(serde_json::json!({
        "model_version": r.model_version,
        "seeds": r.seeds,
        "table": r.table.to_json().map_err(value_error)?,
    })
    .to_string())
}

fn experiment_options(
    seeds: Vec<u64>,
    horizon: u32,
    grid: usize,
) -> PyResult<medisim_experiments::Options> {
    if !(2..=medisim_experiments::l1::MAX_GRID).contains(&grid) {
        return Err(value_error(format!(
            "grid must be in [2, {}] points per axis, got {grid}",
            medisim_experiments::l1::MAX_GRID
        )));
    }
    Ok(medisim_experiments::Options {
        grid,
        ..options(seeds, horizon)?
    })
}

fn experiment_names(experiment: &str) -> PyResult<Vec<&'static str>> {
    Ok(match experiment {
        "l1" => vec!["l1"],
        "l2" => vec!["l2"],
        "validate" => vec!["validate"],
        "reproduce" => vec!["validate", "l1", "l2"],
        other => {
            return Err(value_error(format!(
                "no experiment `{other}`: choose l1, l2, validate or reproduce"
            )))
        }
    })
}

/// Compute shard `index` of `count` of an experiment's cells into `out/cells` (what
/// `medisim EXPERIMENT --shard K/N` does): JSON `{total, computed, reused}`.
#[pyfunction]
#[pyo3(signature = (experiment, index, count, out, seeds = (1..=30).collect(), horizon = 200, grid = 11))]
#[allow(clippy::too_many_arguments)]
fn fill_shard(
    py: Python<'_>,
    experiment: &str,
    index: usize,
    count: usize,
    out: &str,
    seeds: Vec<u64>,
    horizon: u32,
    grid: usize,
) -> PyResult<String> {
    let names = experiment_names(experiment)?;
    let o = experiment_options(seeds, horizon, grid)?;
    let shard = medisim_experiments::cells::Shard::parse(&format!("{index}/{count}"))
        .map_err(value_error)?;
    let out = std::path::PathBuf::from(out);
    let (total, stats) = py
        .allow_threads(|| {
            std::fs::create_dir_all(&out)?;
            medisim_experiments::cells::fill_shard(
                &medisim_sim::MediSim,
                medisim_experiments::cell_specs(&o, &names),
                &out,
                shard,
                &Hidden,
            )
        })
        .map_err(value_error)?;
    Ok(
        serde_json::json!({"total": total, "computed": stats.computed, "reused": stats.reused})
            .to_string(),
    )
}

/// Assemble an experiment's outputs in `out` from its cell cache, computing what is missing
/// (what `medisim EXPERIMENT --out DIR` does): JSON `{computed, reused}`.
#[pyfunction]
#[pyo3(signature = (experiment, out, seeds = (1..=30).collect(), horizon = 200, grid = 11))]
fn assemble(
    py: Python<'_>,
    experiment: &str,
    out: &str,
    seeds: Vec<u64>,
    horizon: u32,
    grid: usize,
) -> PyResult<String> {
    experiment_names(experiment)?;
    let o = experiment_options(seeds, horizon, grid)?;
    let out = std::path::PathBuf::from(out);
    let pb = Hidden;
    let stats = py
        .allow_threads(
            || -> anyhow::Result<medisim_experiments::cells::CellStats> {
                std::fs::create_dir_all(&out)?;
                Ok(match experiment {
                    "l1" => medisim_experiments::l1(&o, &out, &pb)?.2,
                    "l2" => medisim_experiments::l2(&o, &out, &pb)?.2,
                    "validate" => medisim_experiments::validate(&o, Some(&out), &pb)?.1,
                    _ => medisim_experiments::reproduce(&o, &out, |_| Box::new(Hidden))?.stats,
                })
            },
        )
        .map_err(value_error)?;
    Ok(serde_json::json!({"computed": stats.computed, "reused": stats.reused}).to_string())
}

/// The L2 sweep of one lever (or `all`): JSON rows (lever, value, regime, metric, mean, std,
/// ci95_low, ci95_high, n).
#[pyfunction]
#[pyo3(signature = (lever = "all", seeds = (1..=30).collect(), horizon = 200, policy = None, scenario = None))]
fn l2(
    py: Python<'_>,
    lever: &str,
    seeds: Vec<u64>,
    horizon: u32,
    policy: Option<&str>,
    scenario: Option<&str>,
) -> PyResult<String> {
    use medisim_experiments::l2::Lever;
    let levers = Lever::parse(lever).ok_or_else(|| {
        value_error(format!(
            "unknown lever `{lever}`: expected one of {}, all",
            Lever::ALL.map(Lever::name).join(", ")
        ))
    })?;
    let o = medisim_experiments::Options {
        levers,
        ..experiment_setting(seeds, horizon, policy, scenario)?
    };
    let specs =
        medisim_experiments::l2::specs(&o.levers, &o.scenario, &o.policy, &o.seeds, o.horizon);
    let pb = progress_bar(specs.len() as u64);
    let cells = py
        .allow_threads(|| medisim_experiments::cells::run_cells(&specs, None, &pb))
        .map_err(value_error)?
        .0;
    let mut rows = Vec::new();
    for c in &cells {
        for (name, s) in c.summary.iter() {
            rows.push(serde_json::json!({
                "lever": c.label("lever"), "value": c.label("value").parse::<f64>().unwrap_or(f64::NAN),
                "regime": c.label("regime"), "metric": name, "mean": s.mean, "std": s.std,
                "ci95_low": s.ci95[0], "ci95_high": s.ci95[1], "n": s.n,
            }));
        }
    }
    Ok(serde_json::Value::Array(rows).to_string())
}

/// One evaluation as a search asks for it: the summaries of `policy` on `seeds` (JSON), the
/// work a remote search worker does.
#[pyfunction]
fn evaluate(
    py: Python<'_>,
    policy: &str,
    scenario: &str,
    seeds: Vec<u64>,
    horizon: u32,
    objective: &str,
) -> PyResult<String> {
    use medisim_core::Model as _;
    let p = load_policy(Some(policy))?;
    let s = Scenario::from_toml(scenario, "<scenario>").map_err(value_error)?;
    let spec = spec(seeds, horizon, objective)?;
    let summary = py
        .allow_threads(|| medisim_sim::MediSim.run(&s, &p, &spec))
        .map_err(value_error)?;
    serde_json::to_string(&summary).map_err(value_error)
}

/// A search backend that hands each evaluation to a Python callable (e.g. one that runs it
/// as a Ray task) and waits for its summaries.
struct PyBackend(Py<PyAny>);

impl medisim_search::evaluate::Backend<medisim_sim::MediSim> for PyBackend {
    fn run(
        &self,
        _: &medisim_sim::MediSim,
        scenario: &Scenario,
        policy: &medisim_dsl::Policy,
        spec: &RunSpec,
    ) -> Result<medisim_core::Summaries, String> {
        let objective = serde_json::to_value(spec.settings.objective)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "mixed".into());
        let text: String = Python::with_gil(|py| {
            self.0
                .call1(
                    py,
                    (
                        medisim_dsl::fmt::policy_to_string(policy),
                        scenario.to_toml(),
                        spec.seeds.clone(),
                        spec.settings.horizon,
                        objective,
                    ),
                )
                .and_then(|r| r.extract::<String>(py))
                .map_err(|e| format!("the evaluation backend failed: {e}"))
        })?;
        serde_json::from_str(&text)
            .map_err(|e| format!("the evaluation backend returned no summaries: {e}"))
    }
}

/// A policy search (the offline operator) into `out`: JSON with the held-out table (one row
/// per method), the best policy's text and hash, and the running-best updates. `evaluate`, if
/// given, simulates each evaluation instead of this process (same signature as [`evaluate`]).
/// `model = "panel"` searches the panel's payment programs for the net monetary benefit at
/// `wtp` (`params`, `fixed` and `disease` as for [`run_model`]).
#[pyfunction]
#[pyo3(signature = (out, objective = None, seed = 0, iterations = None, evaluate = None,
                    model = "medisim", params = None, disease = None, fixed = Vec::new(),
                    wtp = None, panel_runs = None))]
#[allow(clippy::too_many_arguments)]
fn search(
    py: Python<'_>,
    out: &str,
    objective: Option<&str>,
    seed: u64,
    iterations: Option<u32>,
    evaluate: Option<Py<PyAny>>,
    model: &str,
    params: Option<&str>,
    disease: Option<&str>,
    fixed: Vec<String>,
    wtp: Option<f64>,
    panel_runs: Option<u64>,
) -> PyResult<String> {
    use medisim_search::config::Searched;
    let mut c = medisim_search::SearchConfig {
        seed,
        ..medisim_search::SearchConfig::default()
    };
    if let Some(n) = iterations {
        c.iterations = n;
    }
    let panel = match model {
        "medisim" => false,
        "panel" => true,
        m => {
            return Err(value_error(format!(
                "model `{m}`: search evolves the programs of medisim or panel"
            )))
        }
    };
    let out = std::path::PathBuf::from(out);
    let pb = progress_bar(0);
    let o = if panel {
        let given = [
            ("objective", objective.is_some()),
            ("evaluate", evaluate.is_some()),
        ];
        if let Some((name, _)) = given.iter().find(|(_, g)| *g) {
            return Err(value_error(format!(
                "{name} belongs to Medi-Sim's search; the panel's is for the net monetary \
                 benefit at wtp"
            )));
        }
        c.model = Searched::Panel;
        if let Some(v) = wtp {
            c.panel.wtp = v;
        }
        if let Some(v) = panel_runs {
            c.panel.runs = v;
        }
        c.validate().map_err(value_error)?;
        let inputs = house_inputs("panel", None, None, None, 200, params, disease, fixed)?;
        let scenario = medisim_experiments::house::setting(&medisim_panel::model::Panel, &inputs)
            .map_err(value_error)?
            .scenario;
        let domain = medisim_search::panel::PanelPayer::new(&c, &scenario).map_err(value_error)?;
        let place = medisim_search::search::Place {
            out: &out,
            resume: false,
            stop_after: None,
        };
        py.allow_threads(|| {
            medisim_search::search::search(
                &domain,
                &c,
                &scenario,
                place,
                &pb,
                &medisim_search::evaluate::Local,
            )
        })
        .map_err(value_error)?
    } else {
        let given = [
            ("params", params.is_some()),
            ("disease", disease.is_some()),
            ("wtp", wtp.is_some()),
            ("panel_runs", panel_runs.is_some()),
        ];
        if let Some((name, _)) = given.iter().find(|(_, g)| *g) {
            return Err(value_error(format!(
                "{name} belongs to the panel's search (model=\"panel\")"
            )));
        }
        c.objective = objective
            .unwrap_or("mixed")
            .parse::<ObjectiveKind>()
            .map_err(value_error)?;
        let backend: Box<dyn medisim_search::evaluate::Backend<medisim_sim::MediSim>> =
            match evaluate {
                Some(f) => Box::new(PyBackend(f)),
                None => Box::new(medisim_search::evaluate::Local),
            };
        py.allow_threads(|| {
            medisim_search::run_search_with(
                &c,
                &Scenario::default(),
                &out,
                false,
                None,
                &pb,
                backend.as_ref(),
            )
        })
        .map_err(value_error)?
    };
    let table: Vec<serde_json::Value> = o
        .table
        .iter()
        .map(|r| serde_json::json!({"method": r.method, "policy": r.policy, "hash": r.hash, "metrics": r.metrics}))
        .collect();
    Ok(serde_json::json!({
        "table": table,
        "best_policy": medisim_dsl::fmt::policy_to_string(&o.best.policy),
        "best_hash": o.best.policy.canonical_hash().to_string(),
        "updates": o.updates,
    })
    .to_string())
}

/// An end-of-life payment contract (seed 003), as `medisim contract [ACTION] --json` gives it.
/// Without an action: the closed form, the numeric cross-check and what they imply, for the
/// scenario (probabilities left out are the ICP case study's; the member is chosen as on the
/// command line). `icp`: the case study. `simulate`: the contract on simulated cohorts.
/// `estimate`: Algorithm 1 on a cohort CSV at `data`, priced. `generate`: a synthetic cohort
/// (`{"csv", "truth"}`). A key the action does not read is refused by name, as on the command
/// line.
#[pyfunction]
#[pyo3(signature = (model = None, pi00 = None, pi01 = None, pi10 = None, pi11 = None,
                    gamma = None, p11 = None, t = None, w0 = None, w1 = None, utility = None,
                    action = None, patients = None, seed = None, data = None))]
#[allow(clippy::too_many_arguments)]
fn contract(
    py: Python<'_>,
    model: Option<String>,
    pi00: Option<f64>,
    pi01: Option<f64>,
    pi10: Option<f64>,
    pi11: Option<f64>,
    gamma: Option<f64>,
    p11: Option<f64>,
    t: Option<f64>,
    w0: Option<f64>,
    w1: Option<f64>,
    utility: Option<String>,
    action: Option<&str>,
    patients: Option<usize>,
    seed: Option<u64>,
    data: Option<std::path::PathBuf>,
) -> PyResult<String> {
    use medisim_contracts::contract::{self as c, CohortCheck, ContractScenario, Priced};
    let given = [
        ("provider", model.is_some()),
        ("pi00", pi00.is_some()),
        ("pi01", pi01.is_some()),
        ("pi10", pi10.is_some()),
        ("pi11", pi11.is_some()),
        ("gamma", gamma.is_some()),
        ("p11", p11.is_some()),
        ("t", t.is_some()),
        ("w0", w0.is_some()),
        ("w1", w1.is_some()),
        ("utility", utility.is_some()),
        ("patients", patients.is_some()),
        ("seed", seed.is_some()),
        ("data", data.is_some()),
    ];
    let read = c::reads(action).map_err(value_error)?;
    if let Some((key, _)) = given.iter().find(|(k, g)| *g && !read.contains(k)) {
        let key = if *key == "provider" { "model" } else { key };
        return Err(value_error(format!(
            "`{key}` is not read by contract({}); it reads {}",
            action.map_or("".to_string(), |a| format!("action=\"{a}\"")),
            read.iter()
                .map(|k| if *k == "provider" { "model" } else { k })
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // The same scenario, and so the same name → model mapping, as the command line's.
    let d = ContractScenario::default();
    let scenario = ContractScenario {
        provider: model.unwrap_or(d.provider),
        pi00: pi00.unwrap_or(d.pi00),
        pi01: pi01.unwrap_or(d.pi01),
        pi10: pi10.unwrap_or(d.pi10),
        pi11: pi11.unwrap_or(d.pi11),
        gamma: gamma.unwrap_or(d.gamma),
        p11: p11.unwrap_or(d.p11),
        t: t.unwrap_or(d.t),
        w0: w0.unwrap_or(d.w0),
        w1: w1.unwrap_or(d.w1),
        utility: utility.unwrap_or(d.utility),
    };
    // The command line's defaults for a cohort.
    let (patients, seed) = (patients.unwrap_or(100_000), seed.unwrap_or(1));
    py.allow_threads(|| {
        let json = match action {
            None | Some("icp") => serde_json::to_value(scenario.solve()?),
            Some("simulate") => serde_json::to_value(CohortCheck::run(
                scenario.solve()?,
                &scenario.params(),
                patients,
                seed,
            )?),
            Some("estimate") => {
                let path = data.ok_or("contract(action=\"estimate\") needs data=FILE.csv")?;
                let text =
                    medisim_core::input::read_text(&path, c::MAX_COHORT_BYTES, "a cohort file")
                        .map_err(|e| e.to_string())?;
                let priced = Priced::from_csv(&text, &path.display().to_string())
                    .map_err(|e| e.to_string())?;
                if let Some(e) = &priced.contract_error {
                    return Err(format!("the estimates cannot price a contract: {e}"));
                }
                serde_json::to_value(priced)
            }
            _ => {
                let (csv, truth) = c::generate(patients, seed)?;
                Ok(serde_json::json!({"csv": csv, "truth": truth}))
            }
        };
        json.map(|v| v.to_string()).map_err(|e| e.to_string())
    })
    .map_err(value_error)
}

/// The panel's configuration: `config` TOML (every key defaulted), then each `KEY=VALUE` of
/// `sets` through the panel's setter, as `--params` and `--set` give it.
fn panel_config(config: &str, sets: &[String]) -> PyResult<medisim_panel::PanelConfig> {
    let mut cfg = medisim_panel::PanelConfig::from_toml(config, "<config>").map_err(value_error)?;
    let sets = medisim_core::params::assignments(sets)
        .map_err(|(text, e)| value_error(format!("`{text}`: {e}")))?;
    for (key, value) in sets {
        cfg = cfg.set(key, value).map_err(value_error)?;
    }
    Ok(cfg)
}

/// A PSA of the disease file `disease` (TOML text; `origin` names it) under each payment arm
/// of `arms`, from a configuration TOML and `KEY=VALUE` settings: the CLI's `panel psa --json`
/// with the PSA's rows beside it (`{"psa": [...], "icer": [...], "curves": [...]}`).
#[pyfunction]
#[pyo3(signature = (disease, origin = "<disease>", draws = 200, arms = "ffs,gc", wtp = "0:100000:21", config = "", sets = vec![], programs = vec![]))]
#[allow(clippy::too_many_arguments)]
fn panel_psa(
    py: Python<'_>,
    disease: &str,
    origin: &str,
    draws: usize,
    arms: &str,
    wtp: &str,
    config: &str,
    sets: Vec<String>,
    programs: Vec<String>,
) -> PyResult<String> {
    use medisim_panel::psa::{self, Arm};
    let cfg = panel_config(config, &sets)?;
    let file =
        medisim_panel::disease::MarkovFile::from_toml(disease, origin).map_err(value_error)?;
    let programs = programs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            medisim_experiments::house::payment_program(&medisim_experiments::house::Text {
                text: text.clone(),
                origin: format!("<program {i}>"),
            })
            .map_err(value_error)
        })
        .collect::<PyResult<Vec<_>>>()?;
    let arms = Arm::with_programs(arms, programs).map_err(|e| value_error(format!("arms: {e}")))?;
    let wtp = medisim_core::cea::wtp_grid(wtp).map_err(|e| value_error(format!("wtp {e}")))?;
    let scenario = medisim_panel::PanelScenario {
        config: cfg,
        disease: Some(file),
    };
    scenario.check_read().map_err(value_error)?;
    let (cfg, file) = (&scenario.config, scenario.disease.as_ref().expect("given"));
    psa::check(file, cfg, &arms, draws).map_err(value_error)?;
    let rows = py
        .allow_threads(|| psa::run_draws(draws, |d| psa::draw_rows(file, cfg, &arms, d)))
        .map_err(value_error)?;
    let analysis = psa::analysis(&arms, &rows).map_err(value_error)?;
    let (icer, curves) = analysis.tables(&wtp).map_err(value_error)?;
    let flat: Vec<&psa::PsaRow> = rows.iter().flat_map(|d| &d.rows).collect();
    let json = |t: &medisim_core::Table| t.to_json().map_err(value_error);
    let parameters = json(&psa::parameter_table(&rows))?;
    Ok(serde_json::json!({
        "psa": flat, "parameters": parameters, "icer": json(&icer)?, "curves": json(&curves)?,
    })
    .to_string())
}

/// A one-key panel sweep (`vary`: `KEY=lo:hi:n` or `KEY=v1,v2`) from a configuration TOML and
/// `KEY=VALUE` settings: the CLI's `panel sweep --json`.
#[pyfunction]
#[pyo3(signature = (vary, config = "", sets = vec![]))]
fn panel_sweep(py: Python<'_>, vary: &str, config: &str, sets: Vec<String>) -> PyResult<String> {
    use medisim_panel::experiments::{sweep, Vary};
    let cfg = panel_config(config, &sets)?;
    let v = Vary::parse(&cfg, vary).map_err(value_error)?;
    let scenario = medisim_panel::PanelScenario {
        config: cfg,
        disease: None,
    };
    let points = py
        .allow_threads(|| sweep(&scenario, &v.key, &v.values))
        .map_err(value_error)?;
    let s = v.sweep(&scenario.config, points).map_err(value_error)?;
    serde_json::to_string(&s).map_err(value_error)
}

/// A primary-care panel run (seed 002) from a configuration TOML and `KEY=VALUE` settings (the
/// CLI's `--set`): the CLI's `panel run --json`.
#[pyfunction]
#[pyo3(signature = (config = "", sets = vec![]))]
fn panel_run(py: Python<'_>, config: &str, sets: Vec<String>) -> PyResult<String> {
    use medisim_panel::disease::Retinopathy;
    let cfg = panel_config(config, &sets)?;
    let d = Retinopathy::new(cfg.retinopathy.clone()).map_err(value_error)?;
    let r = py
        .allow_threads(|| medisim_panel::sim::run(&d, &cfg))
        .map_err(value_error)?;
    serde_json::to_string(&serde_json::json!({
        "model_version": medisim_panel::MODEL_VERSION, "config": cfg, "result": r,
    }))
    .map_err(value_error)
}

/// A multi-level game (seed 004) solved at `KEY=VALUE` settings: JSON of its equilibrium.
#[pyfunction]
#[pyo3(signature = (name, sets = vec![]))]
fn game(name: &str, sets: Vec<String>) -> PyResult<String> {
    use medisim_games::model::GameName;
    use medisim_games::GameParams;
    fn equilibrium<G: GameParams + Clone, T: serde::Serialize>(
        sets: &[String],
        solve: impl Fn(&G) -> Result<T, String>,
    ) -> PyResult<serde_json::Value> {
        let g = G::default().with_all(sets).map_err(value_error)?;
        let eq = solve(&g).map_err(value_error)?;
        // Nothing undefined passes for a result (JSON would write a NaN as null).
        let cause = medisim_core::params::culprit(&g, &G::default());
        medisim_core::params::defined(&eq, "the equilibrium", &cause).map_err(value_error)?;
        serde_json::to_value(eq).map_err(value_error)
    }
    let v = match GameName::from_name(name) {
        Some(GameName::CtScanner) => equilibrium(&sets, |g: &medisim_games::aco::AcoGame| {
            Ok(g.equilibrium(true, true))
        })?,
        Some(GameName::Imaging) => equilibrium(&sets, |g: &medisim_games::mssp::MsspGame| {
            Ok(g.equilibrium(true))
        })?,
        Some(GameName::ChronicCare) => {
            equilibrium(&sets, |g: &medisim_games::chronic::ChronicCareGame| {
                g.solve()
            })?
        }
        None => {
            return Err(value_error(format!(
                "no game `{name}`: choose {}",
                GameName::list()
            )))
        }
    };
    Ok(v.to_string())
}

/// The dissertation's tables `which` (a number, or `all` of the game's) of game `name`,
/// recomputed at `KEY=VALUE` settings: the CLI's `game NAME --table WHICH --json`.
#[pyfunction]
#[pyo3(signature = (name, which = "all", sets = vec![]))]
fn game_tables(py: Python<'_>, name: &str, which: &str, sets: Vec<String>) -> PyResult<String> {
    use medisim_games::model::GameName;
    use medisim_games::{tables, GameParams};
    let game = GameName::from_name(name)
        .ok_or_else(|| value_error(format!("no game `{name}`: choose {}", GameName::list())))?;
    tables::wanted(game, which).map_err(value_error)?;
    fn load<G: GameParams + Clone>(mine: bool, sets: &[String]) -> PyResult<G> {
        let g = G::default();
        if mine {
            g.with_all(sets).map_err(value_error)
        } else {
            Ok(g)
        }
    }
    let aco = load(game == GameName::CtScanner, &sets)?;
    let mssp = load(game == GameName::Imaging, &sets)?;
    let chronic = load(game == GameName::ChronicCare, &sets)?;
    let out = py
        .allow_threads(|| tables::recompute(game, which, (&aco, &mssp, &chronic)))
        .map_err(value_error)?;
    let out: Vec<tables::Table> = out.into_iter().map(|(_, t)| t).collect();
    serde_json::to_string(&out).map_err(value_error)
}

/// The cost-effectiveness analysis of a PSA given as tidy CSV text (`origin` names it in
/// errors) at the willingness-to-pay values `wtp` (`lo:hi:n` or a list): `medisim cea --json`.
#[pyfunction]
#[pyo3(signature = (csv, origin = "<psa>", wtp = "0:100000:21"))]
fn cea(csv: &str, origin: &str, wtp: &str) -> PyResult<String> {
    use medisim_core::cea::{wtp_grid, Psa};
    let wtp = wtp_grid(wtp).map_err(|e| value_error(format!("wtp {e}")))?;
    let psa = Psa::from_csv(csv, origin).map_err(value_error)?;
    let (icer, curves) = psa.tables(&wtp).map_err(value_error)?;
    let json = |t: &medisim_core::Table| t.to_json().map_err(value_error);
    Ok(serde_json::json!({"icer": json(&icer)?, "curves": json(&curves)?}).to_string())
}

/// What the engine thread tells the environment.
enum FromEngine {
    /// The start of period `t`: the admin features, and the previous period's reward.
    Observe([f64; ADMIN_FEATURES], Option<f64>),
    /// The horizon is reached: the last period's reward and the run's discounted return.
    Done(f64, f64),
}

use medisim_sim::engine::{AdminController, ADMIN_FEATURES};
use medisim_sim::schema::AdminLevers;
use std::sync::mpsc::{channel, Receiver, Sender};

/// The engine side of the environment: blocks on the agent's action each period.
struct ChannelController {
    to_env: Sender<FromEngine>,
    from_env: Receiver<[f64; ADMIN_LEVERS]>,
    reward: Option<f64>,
    /// The environment went away: finish the run on the policy's own levers.
    gone: bool,
}

/// The administrator's levers an action sets, in `Field` order (alpha … kappa).
const ADMIN_LEVERS: usize = 11;

impl AdminController for ChannelController {
    fn levers(
        &mut self,
        _t: u32,
        features: &[f64; ADMIN_FEATURES],
        policy: AdminLevers,
    ) -> AdminLevers {
        if self.gone
            || self
                .to_env
                .send(FromEngine::Observe(*features, self.reward.take()))
                .is_err()
        {
            self.gone = true;
            return policy;
        }
        match self.from_env.recv() {
            Ok(raw) => AdminLevers::project(&raw),
            Err(_) => {
                self.gone = true;
                policy
            }
        }
    }
    fn reward(&mut self, _t: u32, reward: f64) {
        self.reward = Some(reward);
    }
}

/// Each lever's name and legal bounds, for the action space (`flex_pool` bounded by the
/// largest `total_capacity`).
fn lever_bounds() -> Vec<(String, f64, f64)> {
    use medisim_dsl::schema::Range;
    let fields = &medisim_sim::Field::ALL[..ADMIN_LEVERS];
    let hi_of = |name: &str| {
        fields
            .iter()
            .find(|f| f.spec().name == name)
            .and_then(|f| match &f.spec().range {
                Range::Real([_, hi]) | Range::Integer([_, hi]) => Some(*hi),
                _ => None,
            })
            .unwrap_or(f64::INFINITY)
    };
    fields
        .iter()
        .map(|f| {
            let spec = f.spec();
            let (lo, hi) = match &spec.range {
                Range::Real([lo, hi]) | Range::Integer([lo, hi]) => (*lo, *hi),
                Range::IntegerUpTo { lo, bound } => (*lo, hi_of(bound)),
                Range::Flag => (0.0, 1.0),
            };
            (spec.name.clone(), lo, hi)
        })
        .collect()
}

/// The native half of `medisim.gym.HospitalEnv`: one rollout runs on its own thread and waits
/// for the agent's levers each period.
#[pyclass]
struct HospitalEnvCore {
    policy: medisim_dsl::Policy,
    scenario: Scenario,
    horizon: u32,
    objective: ObjectiveKind,
    to_engine: Option<Sender<[f64; ADMIN_LEVERS]>>,
    from_engine: Option<std::sync::Mutex<Receiver<FromEngine>>>,
    last: [f64; ADMIN_FEATURES],
}

#[pymethods]
impl HospitalEnvCore {
    #[new]
    #[pyo3(signature = (policy = None, scenario = None, horizon = 200, objective = "mixed"))]
    fn new(
        policy: Option<&str>,
        scenario: Option<&str>,
        horizon: u32,
        objective: &str,
    ) -> PyResult<Self> {
        let spec = spec(vec![1], horizon, objective)?;
        Ok(HospitalEnvCore {
            policy: load_policy(policy)?,
            scenario: load_scenario(scenario)?,
            horizon,
            objective: spec.settings.objective,
            to_engine: None,
            from_engine: None,
            last: [0.0; ADMIN_FEATURES],
        })
    }

    /// (name, low, high) of each lever an action sets.
    #[staticmethod]
    fn action_bounds() -> Vec<(String, f64, f64)> {
        lever_bounds()
    }

    /// The admin features' names, in observation order.
    #[staticmethod]
    fn observation_names() -> Vec<String> {
        use medisim_sim::schema::AdminFeature;
        AdminFeature::ALL
            .iter()
            .map(|f| f.name().to_string())
            .collect()
    }

    /// Start replicate `replicate`: the first period's observation.
    fn reset(&mut self, py: Python<'_>, replicate: u64) -> PyResult<Vec<f64>> {
        // Dropping the old channels ends an unfinished episode's thread.
        self.to_engine = None;
        self.from_engine = None;
        let (to_engine, from_env) = channel();
        let (to_env, from_engine) = channel();
        let (scenario, policy, horizon, objective) = (
            self.scenario.clone(),
            self.policy.clone(),
            self.horizon,
            self.objective,
        );
        std::thread::spawn(move || {
            let program = medisim_sim::schema::HospitalProgram::new(&policy);
            let Ok(k) = medisim_sim::arrivals::kernel(&scenario) else {
                return;
            };
            let rollout = medisim_sim::engine::Rollout {
                scenario: &scenario,
                policy: &program,
                kernel: k.as_ref(),
            };
            let mut c = ChannelController {
                to_env: to_env.clone(),
                from_env,
                reward: None,
                gone: false,
            };
            let r = rollout.run_controlled(replicate, horizon, objective, false, Some(&mut c));
            let _ = to_env.send(FromEngine::Done(
                c.reward.unwrap_or(0.0),
                r.metrics.discounted_return,
            ));
        });
        self.to_engine = Some(to_engine);
        self.from_engine = Some(std::sync::Mutex::new(from_engine));
        match self.receive(py)? {
            FromEngine::Observe(features, _) => {
                self.last = features;
                Ok(features.to_vec())
            }
            FromEngine::Done(..) => Err(value_error("the horizon has no period")),
        }
    }

    /// Apply one period's levers: (observation, reward, terminated, discounted return at the end).
    fn step(
        &mut self,
        py: Python<'_>,
        action: Vec<f64>,
    ) -> PyResult<(Vec<f64>, f64, bool, Option<f64>)> {
        if action.len() != ADMIN_LEVERS {
            return Err(value_error(format!(
                "an action sets {ADMIN_LEVERS} levers ({}), got {} values",
                lever_bounds()
                    .iter()
                    .map(|b| b.0.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                action.len()
            )));
        }
        let mut raw = [0.0; ADMIN_LEVERS];
        for ((x, (name, lo, hi)), slot) in action.iter().zip(lever_bounds()).zip(raw.iter_mut()) {
            if !(x.is_finite() && *x >= lo && *x <= hi) {
                return Err(value_error(format!(
                    "lever `{name}` = {x} is outside [{lo}, {hi}]"
                )));
            }
            *slot = *x;
        }
        let tx = self
            .to_engine
            .as_ref()
            .ok_or_else(|| value_error("call reset() before step()"))?;
        tx.send(raw)
            .map_err(|_| value_error("the episode has ended: call reset()"))?;
        match self.receive(py)? {
            FromEngine::Observe(features, reward) => {
                self.last = features;
                Ok((features.to_vec(), reward.unwrap_or(0.0), false, None))
            }
            FromEngine::Done(reward, ret) => {
                self.to_engine = None;
                self.from_engine = None;
                Ok((self.last.to_vec(), reward, true, Some(ret)))
            }
        }
    }
}

impl HospitalEnvCore {
    fn receive(&self, py: Python<'_>) -> PyResult<FromEngine> {
        let rx = self
            .from_engine
            .as_ref()
            .ok_or_else(|| value_error("call reset() first"))?;
        py.allow_threads(|| {
            rx.lock()
                .map_err(|_| ())
                .and_then(|r| r.recv().map_err(|_| ()))
        })
        .map_err(|_| value_error("the simulation stopped"))
    }
}

/// Raise KeyboardInterrupt if Ctrl-C arrived while a call ran.
#[pyfunction]
fn check_signals(py: Python<'_>) -> PyResult<()> {
    py.check_signals()
        .map_err(|_| PyKeyboardInterrupt::new_err("interrupted"))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("MODEL_VERSION", medisim_sim::MODEL_VERSION.to_string())?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(default_scenario, m)?)?;
    m.add_function(wrap_pyfunction!(scenario_toml, m)?)?;
    m.add_function(wrap_pyfunction!(scenario_with, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(trace, m)?)?;
    m.add_function(wrap_pyfunction!(l1, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(panel_run, m)?)?;
    m.add_function(wrap_pyfunction!(fill_shard, m)?)?;
    m.add_function(wrap_pyfunction!(run_model, m)?)?;
    m.add_function(wrap_pyfunction!(model_params, m)?)?;
    m.add_function(wrap_pyfunction!(panel_experiments, m)?)?;
    m.add_function(wrap_pyfunction!(l2, m)?)?;
    m.add_function(wrap_pyfunction!(search, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(contract, m)?)?;
    m.add_function(wrap_pyfunction!(assemble, m)?)?;
    m.add_function(wrap_pyfunction!(game, m)?)?;
    m.add_function(wrap_pyfunction!(game_tables, m)?)?;
    m.add_function(wrap_pyfunction!(cea, m)?)?;
    m.add_function(wrap_pyfunction!(panel_psa, m)?)?;
    m.add_function(wrap_pyfunction!(panel_sweep, m)?)?;
    m.add_function(wrap_pyfunction!(check_signals, m)?)?;
    m.add_function(wrap_pyfunction!(progress, m)?)?;
    m.add_class::<HospitalEnvCore>()?;
    Ok(())
}
