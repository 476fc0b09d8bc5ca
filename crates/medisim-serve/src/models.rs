//! The house's other models — the primary-care panel, the end-of-life payment contract and the
//! three incentive games — each run the way `medisim run --model NAME --set KEY=VALUE` runs it:
//! every number of its parameters is a key the model's own setter checks, a run goes through
//! the cell cache under the output directory and its work is bounded as a sweep's, and the
//! metrics come back grouped as the model groups them, with the command that gives the same
//! numbers.

use medisim_core::{Metric, Progress};
use medisim_experiments::house::{self, Inputs};
use medisim_experiments::with_model;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The models this page runs (Medi-Sim has pages of its own).
pub const OTHER_MODELS: [&str; 5] = ["panel", "contract", "ct-scanner", "imaging", "chronic-care"];

/// A model as the page shows it before a run.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    pub name: &'static str,
    pub about: &'static str,
    pub version: String,
    /// Whether a run has replicates (seeds) and intervals; a deterministic model runs once.
    pub stochastic: bool,
    /// Every number of its default parameters, by the key `--set` takes: key, value, unit and
    /// meaning (the model's own key documentation).
    pub parameters: Vec<(String, f64, &'static str, &'static str)>,
    pub metrics: Vec<MetricInfo>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MetricInfo {
    pub name: &'static str,
    pub unit: &'static str,
    pub group: &'static str,
}

fn info<M: house::Hosted>(name: &'static str, model: &M) -> anyhow::Result<ModelInfo> {
    let about = house::MODELS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, a)| a);
    Ok(ModelInfo {
        name,
        about,
        version: model.version().to_string(),
        stochastic: model.stochastic(),
        parameters: house::parameters(model)?
            .into_iter()
            .map(|(key, value)| {
                let doc = medisim_core::params::doc_for(model.key_docs(), &key);
                (
                    key,
                    value,
                    doc.map_or("", |d| d.unit),
                    doc.map_or("", |d| d.meaning),
                )
            })
            .collect(),
        metrics: M::Metric::ALL
            .iter()
            .map(|m| MetricInfo {
                name: m.name(),
                unit: m.unit(),
                group: m.group(),
            })
            .collect(),
    })
}

/// The other models, built once: their defaults never change while the server runs.
pub fn catalogue() -> Result<&'static [ModelInfo], String> {
    static CATALOGUE: OnceLock<Result<Vec<ModelInfo>, String>> = OnceLock::new();
    CATALOGUE
        .get_or_init(|| {
            OTHER_MODELS
                .iter()
                .map(|name| with_model!(*name, |m| info(name, m)).map_err(|e| format!("{e:#}")))
                .collect()
        })
        .as_deref()
        .map_err(Clone::clone)
}

/// A run of one of the other models: its name, parameters to set (numbers, by key) and, for a
/// stochastic model, the seeds (its default when absent).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelRunRequest {
    pub model: String,
    #[serde(default)]
    pub set: BTreeMap<String, f64>,
    #[serde(default)]
    pub seeds: Option<String>,
    /// One parameter moved over evenly spaced values instead of one run: `medisim sweep`'s
    /// grid over one key.
    #[serde(default)]
    pub sweep: Option<SweepAsk>,
    /// The panel's payment program (`--policy FILE`'s text): the payment in force instead of
    /// the configured basis.
    #[serde(default)]
    pub program: Option<String>,
    /// The panel's Markov disease model (`--disease FILE`'s TOML) instead of retinopathy.
    #[serde(default)]
    pub disease: Option<String>,
}

/// A key moved from `from` to `to` in `points` values.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepAsk {
    pub key: String,
    pub from: f64,
    pub to: f64,
    pub points: usize,
}

/// What the page's program and disease texts are called in messages and in the command line
/// (save them under these names to run the same from a shell).
pub const PROGRAM_FILE: &str = "program.policy";
pub const DISEASE_FILE: &str = "disease.toml";

/// The most values a sweep from the page takes (each is one run of the model, each bounded).
pub const MAX_SWEEP_POINTS: usize = 11;

/// A checked request: what the house's generic path reads, and the command line.
#[derive(Clone, Debug)]
pub struct ModelRun {
    pub model: &'static str,
    pub inputs: Inputs,
    pub command: String,
    /// A sweep's `KEY=a:b:n`, when the request is one.
    pub sweep: Option<String>,
}

impl ModelRunRequest {
    /// The run, or why not: a model that is not one of [`OTHER_MODELS`], too many settings, a
    /// key the model does not have or a value out of its range (the model's own setter says
    /// which), seeds for a deterministic model, too much work.
    pub fn run(&self) -> Result<ModelRun, String> {
        let Some(model) = OTHER_MODELS.iter().find(|m| **m == self.model) else {
            return Err(format!(
                "`{}` is not one of this page's models ({}); Medi-Sim runs on the other pages",
                medisim_core::input::excerpt(&self.model),
                OTHER_MODELS.join(", ")
            ));
        };
        if self.set.len() > crate::runs::MAX_SETS {
            return Err(format!(
                "{} settings; at most {}",
                self.set.len(),
                crate::runs::MAX_SETS
            ));
        }
        // A key is a name: nothing the `KEY=VALUE` text it becomes could split or trim (a swept
        // key as much as a set one).
        if let Some(k) = self
            .set
            .keys()
            .chain(self.sweep.as_ref().map(|w| &w.key))
            .find(|k| k.contains('=') || k.trim() != k.as_str())
        {
            return Err(format!(
                "`{}` is not a key: keys have no `=` and no spaces at either end",
                medisim_core::input::excerpt(k)
            ));
        }
        let sets: Vec<String> = self
            .set
            .iter()
            .map(|(k, v)| format!("{k}={}", medisim_core::text::number(*v)))
            .collect();
        let seeds = self
            .seeds
            .as_deref()
            .map(medisim_core::spec::parse_seeds)
            .transpose()?;
        // Files given as text on the page; a message names them as the command line would.
        let text = |t: &Option<String>, origin: &str| {
            t.as_ref().map(|text| house::Text {
                text: text.clone(),
                origin: origin.into(),
            })
        };
        let inputs = Inputs {
            seeds,
            sets: sets.clone(),
            program: text(&self.program, PROGRAM_FILE),
            disease: text(&self.disease, DISEASE_FILE),
            ..Inputs::default()
        };
        // Checked now, so a bad request is refused before it takes a running slot.
        with_model!(*model, |m| house::check_run(m, &inputs).map(|_| ()))
            .map_err(|e| format!("{e:#}"))?;
        let sweep = self
            .sweep
            .as_ref()
            .map(|w| w.check(&self.set))
            .transpose()?;
        let mut command = match &sweep {
            Some(factor) => {
                // The factor's key and both ends through the model's own setter.
                with_model!(*model, |m| house::setting(m, &inputs).and_then(|base| {
                    medisim_experiments::sweep::parse_factor(m, factor, &base).map(|_| ())
                }))
                .map_err(|e| format!("{e:#}"))?;
                format!("medisim sweep --model {model} --set {factor}")
            }
            None => format!("medisim run --model {model}"),
        };
        for s in &sets {
            command.push_str(&format!(" --set {s}"));
        }
        if let Some(seeds) = &self.seeds {
            command.push_str(&format!(" --seeds {seeds}"));
        }
        if self.program.is_some() {
            command.push_str(&format!(" --policy {PROGRAM_FILE}"));
        }
        if self.disease.is_some() {
            command.push_str(&format!(" --disease {DISEASE_FILE}"));
        }
        Ok(ModelRun {
            model,
            inputs,
            command,
            sweep,
        })
    }
}

impl SweepAsk {
    /// `KEY=a:b:n`, or why not: 2 to [`MAX_SWEEP_POINTS`] finite values of a key not also set.
    fn check(&self, set: &BTreeMap<String, f64>) -> Result<String, String> {
        if !(2..=MAX_SWEEP_POINTS).contains(&self.points) {
            return Err(format!(
                "a sweep takes 2 to {MAX_SWEEP_POINTS} points, not {}",
                self.points
            ));
        }
        if !(self.from.is_finite() && self.to.is_finite()) || self.from == self.to {
            return Err("a sweep runs between two different finite values".into());
        }
        if set.contains_key(&self.key) {
            return Err(format!(
                "`{}` is both set and swept",
                medisim_core::input::excerpt(&self.key)
            ));
        }
        Ok(format!(
            "{}={}:{}:{}",
            self.key,
            medisim_core::text::number(self.from),
            medisim_core::text::number(self.to),
            self.points
        ))
    }
}

/// A grid over one factor, every metric.
fn sweep_request(factor: &str) -> house::SweepRequest {
    house::SweepRequest {
        sets: vec![factor.to_string()],
        design: medisim_experiments::sweep::SweepDesign::Grid,
        design_seed: 1,
        metrics: Vec::new(),
        replicates: false,
    }
}

/// Run a checked request through the cell cache under `out`: the metrics as `medisim run
/// --model NAME --json` gives them, each metric's group and unit, and the command; `None` when
/// the job was cancelled (a run is one cell, so Cancel takes effect before it starts or is
/// reported after it ends).
pub fn run(
    r: &ModelRun,
    out: &std::path::Path,
    job: &crate::runs::Job,
) -> anyhow::Result<Option<serde_json::Value>> {
    if let Some(factor) = &r.sweep {
        return sweep(r, factor, out, job);
    }
    // One cell: the setting over all its seeds.
    job.progress.set_length(1);
    if job.cancelled() {
        return Ok(None);
    }
    let output = with_model!(r.model, |m| house::run_in(
        m,
        &r.inputs,
        Some(out),
        &job.progress
    ))?;
    if job.cancelled() {
        return Ok(None);
    }
    let info = catalogue()
        .map_err(anyhow::Error::msg)?
        .iter()
        .find(|i| i.name == r.model)
        .expect("a model of the catalogue");
    Ok(Some(serde_json::json!({
        "model": r.model,
        "model_version": output.model_version,
        "seeds": output.seeds,
        "metrics": output.table.to_json()?,
        "about": info.metrics,
        "command": r.command,
    })))
}

/// A sweep of one key through the cell cache: its tidy table (as `medisim sweep --json` has it)
/// and its figure, each metric against the key with its 95% band.
fn sweep(
    r: &ModelRun,
    factor: &str,
    out: &std::path::Path,
    job: &crate::runs::Job,
) -> anyhow::Result<Option<serde_json::Value>> {
    if job.cancelled() {
        return Ok(None);
    }
    let request = sweep_request(factor);
    let s = with_model!(r.model, |m| house::sweep_of(
        m,
        &r.inputs,
        &request,
        Some(out),
        &job.progress
    ))?;
    if job.cancelled() {
        return Ok(None);
    }
    let figure = s
        .figure
        .map(|f| serde_json::json!({"title": f.title, "caption": f.caption, "panels": f.panels}));
    Ok(Some(serde_json::json!({
        "model": r.model,
        "sweep": {"key": s.keys, "points": s.points, "seeds": s.seeds, "tidy": s.tidy.to_json()?, "figure": figure},
        "command": r.command,
    })))
}
