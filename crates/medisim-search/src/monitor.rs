//! What a run directory says while its search runs, and after: the event log read into the
//! children's fitness, the running best, the islands and the operators, and the store's programs
//! and model calls. Read only — a dashboard or a second terminal watches a search that another
//! process is writing, and a half-written last line of the log is simply not there yet. (SQLite
//! may make its shared-memory files beside a write-ahead-logged store it reads.)

use crate::search::Elite;
use crate::store::Store;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// The largest event log read (a 200-iteration search writes about 40 KB).
pub const MAX_EVENT_LOG: u64 = 32 << 20;

/// One evaluated child.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Child {
    pub iteration: u64,
    pub island: u64,
    pub operator: String,
    pub hash: String,
    /// Training fitness (Eq. 8 on the training seeds).
    pub fitness: f64,
    /// The first parent's hash: the edge of the lineage tree ("" in a log from before it).
    pub parent: String,
}

/// A new incumbent: the warm start's best (iteration 0), then each promotion on validation.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Best {
    pub iteration: u64,
    pub hash: String,
    pub validation_fitness: f64,
    /// Children evaluated up to and including this iteration.
    pub evaluations: usize,
}

/// Children of one island or one operator.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Tally {
    pub evaluated: usize,
    pub best_fitness: Option<f64>,
    /// Children that became the incumbent.
    pub new_bests: usize,
}

/// A run directory read once.
#[derive(Clone, Debug, Default, Serialize)]
pub struct View {
    pub children: Vec<Child>,
    pub bests: Vec<Best>,
    pub migrations: Vec<u64>,
    /// Events by kind: evaluated, duplicate, same_behaviour, screened_out, llm_failure, ….
    pub events: BTreeMap<String, usize>,
    pub islands: BTreeMap<u64, Tally>,
    pub operators: BTreeMap<String, Tally>,
    pub programs: u64,
    /// Per model: calls, children, prompt and completion tokens.
    pub models: Vec<ModelUse>,
    /// The search ended and wrote `result.json`.
    pub finished: bool,
    /// Once finished: the reward-hacking monitor's counts and flagged children, as
    /// `result.json` has them (absent from a run made before the monitor).
    pub reward_hacking: Option<Value>,
    /// Once finished, a multi-objective search's front (`objectives`, `points`).
    pub pareto_front: Option<Value>,
    /// The MAP-Elites archive's two axes (`name`, `cells`: each cell's label), as the search
    /// declared them (absent from a log from before it).
    pub archive_axes: Option<Value>,
    /// The archive as the search keeps it so far: each cell's fittest program, by cell.
    pub archive: Vec<Elite>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ModelUse {
    pub model: String,
    pub calls: u64,
    pub children: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Time waited for the model's answers, all calls together.
    pub latency_ms: u64,
    /// Cost at the run's configured prices (`config.toml`; absent when it cannot be read).
    pub cost: Option<f64>,
}

/// Read the run directory `dir`: its event log and its store.
pub fn view(dir: &Path) -> Result<View> {
    let store = Store::open_read_only(dir)?;
    let mut v = View {
        programs: store.program_count()?,
        finished: dir.join("result.json").is_file(),
        ..View::default()
    };
    // The prices are the run's own settings; a directory without a readable one has no cost.
    let config = crate::config::SearchConfig::load(&dir.join("config.toml")).ok();
    v.models = store
        .llm_usage_by_model()?
        .into_iter()
        .map(
            |(model, calls, children, prompt_tokens, completion_tokens, latency_ms)| ModelUse {
                cost: config
                    .as_ref()
                    .map(|c| c.llm.cost(&model, prompt_tokens, completion_tokens)),
                model,
                calls,
                children,
                prompt_tokens,
                completion_tokens,
                latency_ms,
            },
        )
        .collect();
    for event in events(dir)? {
        v.read(&event);
    }
    // The monitor's part of the result, when it can be read: a result too large or not JSON
    // leaves the rest of the view as it is.
    if v.finished {
        let result = read_bounded(&dir.join("result.json"), MAX_RESULT)
            .ok()
            .flatten()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok());
        let part = |key: &str| result.as_ref().and_then(|r| r.get(key).cloned());
        v.reward_hacking = part("reward_hacking");
        v.pareto_front = part("pareto_front");
    }
    Ok(v)
}

/// The largest `result.json` read.
pub const MAX_RESULT: u64 = 8 << 20;

impl View {
    fn read(&mut self, e: &Value) {
        let kind = e["event"].as_str().unwrap_or("unknown");
        *self.events.entry(kind.to_string()).or_default() += 1;
        let (n, s, x) = (
            |k: &str| e[k].as_u64().unwrap_or(0),
            |k: &str| e[k].as_str().unwrap_or("").to_string(),
            |k: &str| e[k].as_f64().unwrap_or(f64::NAN),
        );
        match kind {
            "evaluated" => {
                let child = Child {
                    iteration: n("iteration"),
                    island: n("island"),
                    operator: s("operator"),
                    hash: s("hash"),
                    fitness: x("fitness"),
                    parent: s("parent"),
                };
                if let Some([a, b]) = cell(&e["cell"]) {
                    self.place(Elite {
                        cell: [a, b],
                        hash: child.hash.clone(),
                        fitness: child.fitness,
                    });
                }
                for t in [
                    self.islands.entry(child.island).or_default(),
                    self.operators.entry(child.operator.clone()).or_default(),
                ] {
                    t.evaluated += 1;
                    t.best_fitness = Some(
                        t.best_fitness
                            .map_or(child.fitness, |b| b.max(child.fitness)),
                    );
                }
                self.children.push(child);
            }
            "warm_start" | "new_best" => {
                if kind == "warm_start" && !e["archive_axes"].is_null() {
                    self.archive_axes = Some(e["archive_axes"].clone());
                    for elite in e["archive"].as_array().into_iter().flatten() {
                        if let Some(c) = cell(&elite["cell"]) {
                            self.place(Elite {
                                cell: c,
                                hash: elite["hash"].as_str().unwrap_or("").to_string(),
                                fitness: elite["fitness"].as_f64().unwrap_or(f64::NAN),
                            });
                        }
                    }
                }
                let hash = if kind == "warm_start" {
                    s("best")
                } else {
                    s("hash")
                };
                if let Some(c) = self.children.iter().rev().find(|c| c.hash == hash) {
                    let (op, island) = (c.operator.clone(), c.island);
                    self.operators.entry(op).or_default().new_bests += 1;
                    self.islands.entry(island).or_default().new_bests += 1;
                }
                self.bests.push(Best {
                    iteration: n("iteration"),
                    hash,
                    validation_fitness: x("validation_fitness"),
                    evaluations: self.children.len(),
                });
            }
            "migration" => self.migrations.push(n("iteration")),
            _ => {}
        }
    }
}

impl View {
    /// An evaluated program into the archive: its cell's elite when the cell is empty or it is
    /// strictly fitter (as the search's archive keeps it).
    fn place(&mut self, e: Elite) {
        match self.archive.binary_search_by_key(&e.cell, |x| x.cell) {
            Ok(i) if crate::search::takes_the_cell(e.fitness, self.archive[i].fitness) => {
                self.archive[i] = e
            }
            Ok(_) => {}
            Err(i) => self.archive.insert(i, e),
        }
    }
}

/// A cell `[a, b]` from the log.
fn cell(v: &Value) -> Option<[usize; 2]> {
    let a = v.get(0)?.as_u64()?;
    let b = v.get(1)?.as_u64()?;
    Some([usize::try_from(a).ok()?, usize::try_from(b).ok()?])
}

/// A text file read through a bound — not the length seen before reading, since the file may
/// be growing; `None` when there is none.
fn read_bounded(path: &Path, limit: u64) -> Result<Option<String>> {
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("{}", path.display()))?;
    if bytes.len() as u64 > limit {
        bail!("{}: longer than the {limit} bytes read", path.display());
    }
    String::from_utf8(bytes)
        .map(Some)
        .with_context(|| format!("{}: not UTF-8", path.display()))
}

/// The event log's records, in order; a last line still being written is left out.
fn events(dir: &Path) -> Result<Vec<Value>> {
    let path = dir.join("events.jsonl");
    let Some(text) = read_bounded(&path, MAX_EVENT_LOG)? else {
        return Ok(Vec::new());
    };
    let complete = text.rfind('\n').map_or("", |i| &text[..i]);
    complete
        .lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not an event", path.display(), i + 1))
        })
        .collect()
}

/// One program with what made it: its operator, iteration, parents, text, its first parent's
/// text and the fields whose rules differ from that parent's.
#[derive(Clone, Debug, Serialize)]
pub struct Program {
    pub hash: String,
    pub operator: String,
    pub iteration: u32,
    pub parents: Vec<String>,
    pub text: String,
    pub parent_text: Option<String>,
    /// The schema fields whose rules differ from the first parent's, when both read.
    pub fields_changed: Option<Vec<String>>,
    /// What the edit traded: the fitness and the domain's table metrics of the first parent and
    /// of the program on the training seeds, as the search evaluated them (absent when the
    /// store holds no such evaluation of both, or the run's settings cannot be read).
    pub trade: Option<Vec<Trade>>,
}

/// One metric of a program against its first parent's, on the training seeds.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Trade {
    pub metric: String,
    pub parent: f64,
    pub child: f64,
}

/// Program `hash` of the run in `dir`, if its store holds it, read as a program of `domain`
/// (the caller knows the run's): the fields its edit changed and the metrics it traded.
pub fn program<D: crate::domain::Domain>(
    dir: &Path,
    hash: &str,
    domain: &D,
) -> Result<Option<Program>> {
    let load = |t: &str| domain.load(t, hash).ok();
    let store = Store::open_read_only(dir)?;
    let Some((text, (_, operator, parents, iteration))) = store.program(hash)? else {
        return Ok(None);
    };
    let parent_text = match parents.first() {
        Some(p) => store.program_text(p)?,
        None => None,
    };
    let fields_changed = parent_text.as_deref().and_then(|before| {
        let (a, b) = (load(before)?, load(&text)?);
        Some(crate::domain::fields_changed(&a, &b))
    });
    let trade = match parents.first() {
        Some(parent) => trade(dir, &store, domain, parent, hash)?,
        None => None,
    };
    Ok(Some(Program {
        hash: hash.to_string(),
        operator,
        iteration,
        parents,
        text,
        parent_text,
        fields_changed,
        trade,
    }))
}

/// The first parent's and the child's training evaluations, metric by metric: the spec the
/// search evaluated children on, rebuilt from the run's `config.toml`.
fn trade<D: crate::domain::Domain>(
    dir: &Path,
    store: &Store,
    domain: &D,
    parent: &str,
    child: &str,
) -> Result<Option<Vec<Trade>>> {
    let Ok(config) = crate::config::SearchConfig::load(&dir.join("config.toml")) else {
        return Ok(None);
    };
    let spec = domain.spec(&config, &config.evolution_seeds, config.horizon);
    let version = medisim_core::Model::version(domain.model()).to_string();
    let key = spec.key();
    let (Some(p), Some(c)) = (
        store.eval(&version, parent, &key)?,
        store.eval(&version, child, &key)?,
    ) else {
        return Ok(None);
    };
    // The fitness first, then the domain's table metrics (without the fitness again).
    let names: Vec<&str> = domain
        .table_metrics()
        .iter()
        .copied()
        .filter(|m| *m != domain.fitness_name())
        .collect();
    let (before, after) = (
        crate::search::pick(&names, &p),
        crate::search::pick(&names, &c),
    );
    let mut rows = vec![Trade {
        metric: domain.fitness_name().into(),
        parent: p.fitness,
        child: c.fitness,
    }];
    rows.extend(names.iter().map(|m| Trade {
        metric: (*m).to_string(),
        parent: before[*m],
        child: after[*m],
    }));
    Ok(Some(rows))
}
