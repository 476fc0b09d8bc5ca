//! The house's models by name: the one place where a model's command-line name becomes its
//! type, and where each model reads its base setting. The generic commands (`run --model`,
//! `sweep --model`, their shards, the Python `run`/`sweep`) are written once against
//! [`Model`] and reach every model through [`with_model!`](crate::with_model).

use crate::cells::{fill_shard, run_model_cells, tidy_table, CellSpec, CellStats, Shard};
use crate::sweep::{self, Setting, SweepDesign, SweepSpec};
use crate::{Figure, Options};
use anyhow::{anyhow, bail, Result};
use medisim_contracts::contract::{Contract, ContractScenario};
use medisim_core::progress::Progress;
use medisim_core::{Metric as _, Model, NoSettings, RunSpec, Table};
use medisim_games::model::{ChronicCare, CtScanner, GameName, Imaging};
use medisim_games::GameParams;
use medisim_panel::disease::MarkovFile;
use medisim_panel::program::PaymentProgram;
use medisim_panel::{Panel, PanelConfig, PanelScenario};
use medisim_sim::{MediSim, Scenario};
use std::path::Path;

/// Every model's name, as `--model` and the Python `model=` take it, with a line on what it is.
pub const MODELS: [(&str, &str); 6] = [
    (
        "medisim",
        "the Identify–Produce–Settle hospital simulator (the default)",
    ),
    (
        "panel",
        "primary-care payment models on a patient panel (seed 002)",
    ),
    (GameName::CtScanner.name(), GameName::CtScanner.about()),
    (GameName::Imaging.name(), GameName::Imaging.about()),
    (GameName::ChronicCare.name(), GameName::ChronicCare.about()),
    (
        "contract",
        "optimal end-of-life care payment contracts (arXiv 2403.15099)",
    ),
];

/// A user's file: its text and the name errors give it.
#[derive(Clone, Debug)]
pub struct Text {
    pub text: String,
    pub origin: String,
}

/// What a generic command was given to build a model's base setting. Each model reads the
/// parts that are its own and refuses the others by name.
#[derive(Clone, Debug)]
pub struct Inputs {
    /// Medi-Sim's scenario, policy and horizon (its own flags build them).
    pub medisim: Options,
    /// The model's parameters as TOML (`--params`): a panel configuration, a game's or a
    /// contract's parameters.
    pub params: Option<Text>,
    /// The panel's Markov disease model (`--disease`).
    pub disease: Option<Text>,
    /// The replicate seeds; `None`: the model's default.
    pub seeds: Option<Vec<u64>>,
    /// `KEY=VALUE` settings applied in order through the model's setter.
    pub sets: Vec<String>,
    /// The model's policy as program text, for a model whose policy is not Medi-Sim's (the
    /// panel's payment program, `--policy FILE`).
    pub program: Option<Text>,
}

impl Default for Inputs {
    fn default() -> Self {
        Inputs {
            medisim: Options::paper(),
            params: None,
            disease: None,
            seeds: None,
            sets: Vec::new(),
            program: None,
        }
    }
}

/// A model the generic commands can build a base setting for.
pub trait Hosted: Model + Sized {
    /// The setting the inputs describe, before `--set`.
    fn base(&self, inputs: &Inputs) -> Result<Setting<Self>>;

    /// The scenario as the TOML `--params` reads back (Medi-Sim's is its scenario file).
    fn params_toml(&self, scenario: &Self::Scenario) -> Result<String>;
}

/// The model's parameters after `inputs.sets`, as TOML its `--params` reads: what a parameter
/// object holds between changes (Python's `medisim.Params`).
pub fn params_of<M: Hosted>(model: &M, inputs: &Inputs) -> Result<String> {
    model.params_toml(&setting(model, inputs)?.scenario)
}

fn to_toml<T: serde::Serialize>(value: &T) -> Result<String> {
    Ok(toml::to_string(value)?)
}

/// The base setting with each `KEY=VALUE` of `inputs.sets` applied through [`Model::set`].
pub fn setting<M: Hosted>(model: &M, inputs: &Inputs) -> Result<Setting<M>> {
    if inputs.seeds.is_some() && !model.stochastic() {
        bail!("the model is deterministic: it runs once, and seeds (--seeds) are not read");
    }
    let mut s = model.base(inputs)?;
    let sets = medisim_core::params::assignments(&inputs.sets)
        .map_err(|(text, e)| anyhow!("--set {text}: {e}"))?;
    for (key, value) in sets {
        let text = format!("{key}={value}");
        let value = value
            .as_float()
            .or_else(|| value.as_integer().map(|i| i as f64))
            .ok_or_else(|| match value.is_str() {
                true => anyhow!(
                    "--set {text}: `{key}` takes a name, and --set here sets numbers: give it \
                     in the parameter file (--params)"
                ),
                false => anyhow!("--set {text}: a number is expected"),
            })?;
        (s.scenario, s.policy) = model
            .set(&s.scenario, &s.policy, key, value)
            .map_err(anyhow::Error::msg)?;
    }
    s.spec.validate().map_err(anyhow::Error::msg)?;
    Ok(s)
}

fn refuse(model: &str, what: &str, given: bool) -> Result<()> {
    if given {
        bail!("{model} takes no {what}");
    }
    Ok(())
}

/// A model with no policy and no settings: its scenario, and the seeds given or its default.
fn plain<M: Model<Settings = NoSettings>>(
    inputs: &Inputs,
    scenario: M::Scenario,
    policy: M::Policy,
    default_seeds: Vec<u64>,
) -> Setting<M> {
    Setting {
        scenario,
        policy,
        spec: RunSpec::new(inputs.seeds.clone().unwrap_or(default_seeds), NoSettings {}),
    }
}

/// `--params` read by `read`, or the model's defaults.
fn params_or<T>(inputs: &Inputs, read: impl Fn(&Text) -> Result<T>, default: T) -> Result<T> {
    Ok(inputs
        .params
        .as_ref()
        .map(read)
        .transpose()?
        .unwrap_or(default))
}

impl Hosted for MediSim {
    fn base(&self, inputs: &Inputs) -> Result<Setting<MediSim>> {
        refuse(
            "medisim",
            "--params (its scenario is --scenario)",
            inputs.params.is_some(),
        )?;
        refuse(
            "medisim",
            "--disease (a panel option)",
            inputs.disease.is_some(),
        )?;
        let mut s = Setting::of(&inputs.medisim);
        if let Some(seeds) = &inputs.seeds {
            s.spec.seeds = seeds.clone();
        }
        Ok(s)
    }

    fn params_toml(&self, scenario: &Scenario) -> Result<String> {
        Ok(scenario.to_toml())
    }
}

impl Hosted for Panel {
    /// The configuration's `runs` are the default seeds: 0..runs-1, the runs `panel run` makes.
    fn base(&self, inputs: &Inputs) -> Result<Setting<Panel>> {
        let config = match &inputs.params {
            Some(t) => PanelConfig::from_toml(&t.text, &t.origin)?,
            None => PanelConfig::default(),
        };
        let disease = match &inputs.disease {
            Some(t) => Some(MarkovFile::from_toml(&t.text, &t.origin)?),
            None => None,
        };
        let runs = (0..config.runs as u64).collect();
        let scenario = PanelScenario { config, disease };
        scenario.validate()?;
        let program = inputs.program.as_ref().map(payment_program).transpose()?;
        Ok(plain(inputs, scenario, program, runs))
    }

    /// The configuration; a Markov disease model stays its own file (`--disease`).
    fn params_toml(&self, scenario: &PanelScenario) -> Result<String> {
        to_toml(&scenario.config)
    }
}

/// A payment program's text checked against the panel's payment schema; its diagnostics, at
/// file:line:column, otherwise.
pub fn payment_program(t: &Text) -> Result<PaymentProgram> {
    PaymentProgram::load(&t.text).map_err(|diags| {
        anyhow!(
            "payment program does not check:\n{}",
            medisim_dsl::diag::render_all(
                &diags.iter().collect::<Vec<_>>(),
                &t.origin,
                &t.text,
                false
            )
        )
    })
}

/// A game: `--params` read as the game's TOML; one run (deterministic).
fn game<M, G>(name: GameName, inputs: &Inputs) -> Result<Setting<M>>
where
    M: Model<Scenario = G, Policy = (), Settings = NoSettings>,
    G: GameParams + Clone + Send + Sync,
{
    refuse(
        name.name(),
        "--disease (a panel option)",
        inputs.disease.is_some(),
    )?;
    refuse(
        name.name(),
        "--policy (a payment program is the panel's)",
        inputs.program.is_some(),
    )?;
    let g = params_or(
        inputs,
        |t| Ok(G::from_toml(&t.text, &t.origin)?),
        G::default(),
    )?;
    Ok(plain(inputs, g, (), vec![0]))
}

impl Hosted for CtScanner {
    fn base(&self, inputs: &Inputs) -> Result<Setting<Self>> {
        game(GameName::CtScanner, inputs)
    }

    fn params_toml(&self, scenario: &Self::Scenario) -> Result<String> {
        to_toml(scenario)
    }
}

impl Hosted for Imaging {
    fn base(&self, inputs: &Inputs) -> Result<Setting<Self>> {
        game(GameName::Imaging, inputs)
    }

    fn params_toml(&self, scenario: &Self::Scenario) -> Result<String> {
        to_toml(scenario)
    }
}

impl Hosted for ChronicCare {
    fn base(&self, inputs: &Inputs) -> Result<Setting<Self>> {
        game(GameName::ChronicCare, inputs)
    }

    fn params_toml(&self, scenario: &Self::Scenario) -> Result<String> {
        to_toml(scenario)
    }
}

impl Hosted for Contract {
    fn base(&self, inputs: &Inputs) -> Result<Setting<Self>> {
        refuse(
            "contract",
            "--disease (a panel option)",
            inputs.disease.is_some(),
        )?;
        refuse(
            "contract",
            "--policy (a payment program is the panel's)",
            inputs.program.is_some(),
        )?;
        let read = |t: &Text| ContractScenario::from_toml(&t.text, &t.origin);
        let s = params_or(
            inputs,
            |t| read(t).map_err(anyhow::Error::msg),
            Default::default(),
        )?;
        Ok(plain(inputs, s, (), vec![0]))
    }

    fn params_toml(&self, scenario: &ContractScenario) -> Result<String> {
        to_toml(scenario)
    }
}

/// The hosted models' types, for [`with_model!`](crate::with_model) to name from any crate.
#[doc(hidden)]
pub mod hosted {
    pub use medisim_contracts::contract::Contract;
    pub use medisim_games::model::{ChronicCare, CtScanner, GameName, Imaging};
    pub use medisim_panel::Panel;
    pub use medisim_sim::MediSim;
}

/// Run `$body` with `$m` bound to the model `$name` names (a `&'static` value of its type), or
/// fail naming the models there are. Usable from any crate that depends on this one.
#[macro_export]
macro_rules! with_model {
    ($name:expr, |$m:ident| $body:expr) => {{
        match $name {
            "medisim" => {
                let $m = &$crate::house::hosted::MediSim;
                $body
            }
            "panel" => {
                let $m = &$crate::house::hosted::Panel;
                $body
            }
            "contract" => {
                let $m = &$crate::house::hosted::Contract;
                $body
            }
            other => match $crate::house::hosted::GameName::from_name(other) {
                Some($crate::house::hosted::GameName::CtScanner) => {
                    let $m = &$crate::house::hosted::CtScanner;
                    $body
                }
                Some($crate::house::hosted::GameName::Imaging) => {
                    let $m = &$crate::house::hosted::Imaging;
                    $body
                }
                Some($crate::house::hosted::GameName::ChronicCare) => {
                    let $m = &$crate::house::hosted::ChronicCare;
                    $body
                }
                None => Err($crate::house::unknown_model(other)),
            },
        }
    }};
}

/// The error for a model name that is none of [`MODELS`].
pub fn unknown_model(name: &str) -> anyhow::Error {
    anyhow!(
        "unknown model `{name}`; the models are: {}",
        MODELS.map(|(n, _)| n).join(", ")
    )
}

/// What a sweep asks for, whatever the model.
#[derive(Clone, Debug)]
pub struct SweepRequest {
    /// `KEY=VALUES` per swept key.
    pub sets: Vec<String>,
    pub design: SweepDesign,
    pub design_seed: u64,
    /// Metric names (empty: every metric).
    pub metrics: Vec<String>,
    pub replicates: bool,
}

/// A finished sweep's tables and figure, whatever the model.
pub struct SweepOutput {
    pub keys: Vec<String>,
    pub points: usize,
    pub seeds: usize,
    pub tidy: Table,
    pub replicates: Option<Table>,
    pub sobol: Option<Table>,
    pub figure: Option<Figure>,
}

fn sweep_spec<M: Model>(model: &M, base: &Setting<M>, req: &SweepRequest) -> Result<SweepSpec> {
    Ok(SweepSpec {
        factors: req
            .sets
            .iter()
            .map(|s| sweep::parse_factor(model, s, base))
            .collect::<Result<_>>()?,
        design: req.design,
        seed: req.design_seed,
    })
}

/// Run a sweep of `model`.
pub fn sweep_of<M: Hosted>(
    model: &M,
    inputs: &Inputs,
    req: &SweepRequest,
    out: Option<&Path>,
    pb: &dyn Progress,
) -> Result<SweepOutput> {
    let base = setting(model, inputs)?;
    let spec = sweep_spec(model, &base, req)?;
    let metrics: Vec<M::Metric> = sweep::metrics(&req.metrics)?;
    let s = sweep::run_model(model, &base, &spec, out, pb)?;
    Ok(SweepOutput {
        keys: s.keys.clone(),
        points: s.points.len(),
        seeds: s.points.first().map_or(0, |p| p.replicates.len()),
        tidy: sweep::tidy(&s, &metrics),
        replicates: req.replicates.then(|| sweep::replicates(&s, &metrics)),
        sobol: sweep::sobol(&s, &metrics),
        figure: sweep::figure(&s, &metrics),
    })
}

/// A global sensitivity analysis of any model: each key over its base value × (1 ± `box`), as
/// one sweep of `design` (Sobol' for first and total indices per metric × key, or a Latin
/// hypercube), so it shares the sweep's cells, cache and shards.
pub fn box_request<M: Hosted>(
    model: &M,
    inputs: &Inputs,
    keys: &[String],
    box_fraction: f64,
    design: SweepDesign,
) -> Result<SweepRequest> {
    if !(box_fraction > 0.0 && box_fraction < 1.0) {
        bail!("--box must be in (0, 1), got {box_fraction}");
    }
    if keys.is_empty() {
        bail!("name the keys to vary: --keys a,b,c");
    }
    let base = setting(model, inputs)?;
    let sets = keys
        .iter()
        .map(|key| {
            let v = model
                .value(&base.scenario, &base.policy, key)
                .map_err(anyhow::Error::msg)?;
            if v == 0.0 {
                bail!("`{key}` is 0 at the base: a ±box around it is empty; sweep it with a range");
            }
            let (a, b) = (v * (1.0 - box_fraction), v * (1.0 + box_fraction));
            // The box's ends are the design's, not a value the user typed: say so on refusal.
            for end in [a.min(b), a.max(b)] {
                model
                    .set(&base.scenario, &base.policy, key, end)
                    .map_err(|e| {
                        anyhow!(
                            "the ±{box_fraction} box around `{key}` = {v} reaches {end}: {e}; \
                             choose a smaller --box"
                        )
                    })?;
            }
            Ok(format!("{key}={:?}:{:?}", a.min(b), a.max(b)))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(SweepRequest {
        sets,
        design,
        design_seed: 1,
        metrics: Vec::new(),
        replicates: false,
    })
}

/// Compute one shard of a sweep's cells into `out/cells` (nothing assembled).
pub fn sweep_shard_of<M: Hosted>(
    model: &M,
    inputs: &Inputs,
    req: &SweepRequest,
    out: &Path,
    shard: Shard,
    pb: &dyn Progress,
) -> Result<(usize, CellStats)> {
    let base = setting(model, inputs)?;
    let spec = sweep_spec(model, &base, req)?;
    let (_, cells) = sweep::cells(model, &base, &spec)?;
    fill_shard(model, cells, out, shard, pb)
}

/// One setting of `model` over its seeds, as a table: one row per metric (name, unit, mean,
/// sd, 95% interval, n), with the model version and seeds beside it.
pub fn run_of<M: Hosted>(model: &M, inputs: &Inputs) -> Result<RunOutput> {
    run_in(model, inputs, None, &medisim_core::Hidden)
}

/// [`run_of`] through the cell cache under `out` (when given), its progress told to `pb`; the
/// work is bounded as a sweep's is, before anything runs.
pub fn run_in<M: Hosted>(
    model: &M,
    inputs: &Inputs,
    out: Option<&Path>,
    pb: &dyn Progress,
) -> Result<RunOutput> {
    let cell = check_run(model, inputs)?;
    let (cells, _) = run_model_cells(model, std::slice::from_ref(&cell), out, pb)?;
    let table = tidy_table(&cells, &[], M::Metric::ALL, model.stochastic())?;
    Ok(RunOutput {
        model_version: model.version().to_string(),
        seeds: cell.spec.seeds.clone(),
        table,
    })
}

/// The cell one run of `model` makes of `inputs`, checked — every setting by the model's own
/// setter, the work within a sweep's bound — before anything runs.
pub fn check_run<M: Hosted>(model: &M, inputs: &Inputs) -> Result<CellSpec<M>> {
    let base = setting(model, inputs)?;
    let spec = if model.stochastic() {
        base.spec.clone()
    } else {
        RunSpec::new(vec![0], base.spec.settings.clone())
    };
    let cell = CellSpec::<M> {
        labels: Default::default(),
        scenario: base.scenario,
        policy: base.policy,
        spec,
    };
    sweep::check_work(model, std::slice::from_ref(&cell))?;
    Ok(cell)
}

/// Every number of `model`'s default parameters that `--set` can set, by its key, in the
/// parameter file's key order (alphabetical within each table). A number the model's setter
/// refuses to set to its own value (the panel's `runs`, which is the seeds) is left out.
pub fn parameters<M: Hosted>(model: &M) -> Result<Vec<(String, f64)>> {
    let base = setting(model, &Inputs::default())?;
    let value: toml::Value = toml::from_str(&model.params_toml(&base.scenario)?)?;
    Ok(medisim_core::params::numbers(&value)
        .into_iter()
        .filter(|(k, v)| model.set(&base.scenario, &base.policy, k, *v).is_ok())
        .collect())
}

/// A generic run's result.
pub struct RunOutput {
    pub model_version: String,
    pub seeds: Vec<u64>,
    pub table: Table,
}

/// The schema a policy source is checked against, by the `kind` its header declares: a panel
/// payment program's, or Medi-Sim's hospital schema (whose checker names a wrong kind).
pub fn schema_for(src: &str) -> &'static std::sync::Arc<medisim_dsl::Schema> {
    match medisim_dsl::declared_kind(src) {
        Some(kind) if kind == medisim_panel::program::KIND => medisim_panel::program::schema(),
        _ => medisim_sim::hospital(),
    }
}

/// A policy checked, as JSON `{"ok": bool, "name", "hash", "formatted", "diagnostics": [...]}`
/// with each diagnostic's line, column, severity, code, message and expected text (the CLI's
/// wording): what Python's `medisim.check` and the dashboard's editor show.
pub fn check_report(source: &str, origin: &str) -> serde_json::Value {
    let out = medisim_dsl::check_source(schema_for(source), source);
    let diagnostics: Vec<serde_json::Value> = out
        .diagnostics
        .iter()
        .map(|d| {
            let (line, column) = medisim_dsl::span::line_col(source, d.span.start);
            serde_json::json!({
                "line": line, "column": column, "severity": d.severity.to_string(),
                "code": d.code.to_string(), "message": d.message, "expected": d.label,
                "help": d.help, "text": d.short(origin, source),
            })
        })
        .collect();
    let ok = out.errors().next().is_none() && out.policy.is_some();
    let (name, hash, formatted) = match (&out.policy, ok) {
        (Some(p), true) => (
            Some(p.header.name.clone()),
            Some(p.canonical_hash().to_string()),
            medisim_dsl::fmt::format_source(source).ok(),
        ),
        _ => (None, None, None),
    };
    serde_json::json!({
        "ok": ok, "name": name, "hash": hash, "formatted": formatted, "diagnostics": diagnostics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use medisim_core::progress::Hidden;

    /// Every model runs and sweeps through the one generic path; a model name that is none of
    /// them is refused with the list.
    #[test]
    fn every_model_runs_and_sweeps_by_name() {
        let req = |set: &str| SweepRequest {
            sets: vec![set.into()],
            design: SweepDesign::Grid,
            design_seed: 1,
            metrics: vec![],
            replicates: false,
        };
        let inputs = Inputs {
            seeds: Some(vec![0, 1]),
            medisim: Options {
                horizon: 20,
                ..Options::paper()
            },
            ..Inputs::default()
        };
        for (name, set) in [
            ("medisim", "care.nu=0.05,0.1"),
            ("panel", "margin=0.1,0.3"),
            ("ct-scanner", "benchmark=30,40"),
            ("imaging", "benchmark=3500,3700"),
            ("contract", "gamma=0.3,0.5"),
        ] {
            let stochastic = with_model!(name, |m| Ok::<_, anyhow::Error>(m.stochastic())).unwrap();
            // A deterministic model runs once: seeds given to it are refused, not ignored.
            let inputs = match stochastic {
                true => inputs.clone(),
                false => {
                    let e: Result<RunOutput> = with_model!(name, |m| run_of(m, &inputs));
                    assert!(
                        e.err().unwrap().to_string().contains("deterministic"),
                        "{name}"
                    );
                    Inputs {
                        seeds: None,
                        ..inputs.clone()
                    }
                }
            };
            let s: Result<SweepOutput> =
                with_model!(name, |m| sweep_of(m, &inputs, &req(set), None, &Hidden));
            let s = s.unwrap();
            assert_eq!(s.points, 2, "{name}");
            assert!(s.tidy.rows().unwrap() >= 2, "{name}");
            let r: Result<RunOutput> = with_model!(name, |m| run_of(m, &inputs));
            assert!(r.unwrap().table.rows().unwrap() > 3, "{name}");
        }
        let e: Result<RunOutput> = with_model!("hospital", |m| run_of(m, &inputs));
        assert!(e.err().unwrap().to_string().contains("ct-scanner"));
        let bad = Inputs {
            params: Some(Text {
                text: "x = 1".into(),
                origin: "p.toml".into(),
            }),
            ..Inputs::default()
        };
        let e: Result<RunOutput> = with_model!("medisim", |m| run_of(m, &bad));
        assert!(e.err().unwrap().to_string().contains("--scenario"));
    }

    /// A model's parameters written by `params_of` read back as the same parameters, with the
    /// value set; a bad value is refused by the model's setter, naming the key.
    #[test]
    fn parameters_round_trip_through_their_toml() {
        for (name, set, key) in [
            ("panel", "margin=0.3", "margin = 0.3"),
            ("ct-scanner", "benchmark=31", "benchmark = 31"),
            ("imaging", "k[0]=2.5", "2.5"),
            ("chronic-care", "discount=0.8", "discount = 0.8"),
            ("contract", "gamma=0.3", "gamma = 0.3"),
        ] {
            let with = |params: Option<String>, sets: Vec<String>| -> Result<String> {
                let inputs = Inputs {
                    params: params.map(|text| Text {
                        text,
                        origin: "<params>".into(),
                    }),
                    sets,
                    ..Inputs::default()
                };
                with_model!(name, |m| params_of(m, &inputs))
            };
            let set_once = with(None, vec![set.into()]).unwrap();
            assert!(set_once.contains(key), "{name}: {set_once}");
            let again = with(Some(set_once.clone()), vec![]).unwrap();
            assert_eq!(again, set_once, "{name}");
            assert_ne!(with(None, vec![]).unwrap(), set_once, "{name}");
        }
        let e = with_model!("panel", |m| params_of(
            m,
            &Inputs {
                sets: vec!["margin=7".into()],
                ..Inputs::default()
            }
        ));
        assert!(e.unwrap_err().to_string().contains("margin"));
    }
}
