//! The searches' run directories under the output directory, read while they run: a request
//! names one relative to `--out`, and the name is refused unless it stays inside (no `..`, no
//! root, no link out) and holds a run's store. Reading goes through the search's monitor, read
//! only.

use medisim_search::monitor;
use std::path::{Component, Path, PathBuf};

/// How deep under `--out` run directories are looked for (`OUT/search`, `OUT/runs/a/b`).
pub const MAX_DEPTH: usize = 3;
/// The most run directories listed.
pub const MAX_LISTED: usize = 200;

/// The run directories under `out` (relative paths with `/`), sorted; the cell cache is skipped.
pub fn list(out: &Path) -> Vec<String> {
    let mut found = Vec::new();
    walk(out, out, 0, &mut found);
    found.sort();
    found.truncate(MAX_LISTED);
    found
}

fn walk(out: &Path, dir: &Path, depth: usize, found: &mut Vec<String>) {
    if dir.join("search.sqlite").is_file() {
        if let Ok(rel) = dir.strip_prefix(out) {
            let names: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            found.push(names.join("/"));
        }
    }
    if depth == MAX_DEPTH || found.len() >= MAX_LISTED {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && e.file_name() != "cells")
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for d in dirs {
        walk(out, &d, depth + 1, found);
    }
}

/// The run directory `name` names under `out`, or why not.
pub fn resolve(out: &Path, name: &str) -> Result<PathBuf, String> {
    let rel = Path::new(name);
    if name.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(format!(
            "`{name}`: a run directory is named relative to the output directory, without `..`"
        ));
    }
    let (root, dir) = (out.canonicalize(), out.join(rel).canonicalize());
    match (root, dir) {
        (Ok(root), Ok(dir)) if dir.starts_with(&root) && dir.join("search.sqlite").is_file() => {
            // The files read must be the directory's own, not links to elsewhere.
            for file in ["search.sqlite", "events.jsonl", "result.json"] {
                let linked = std::fs::symlink_metadata(dir.join(file))
                    .is_ok_and(|m| m.file_type().is_symlink());
                if linked {
                    return Err(format!(
                        "`{name}/{file}` is a link: a run directory's files are read only from it"
                    ));
                }
            }
            Ok(dir)
        }
        (Ok(root), Ok(dir)) if !dir.starts_with(&root) => {
            Err(format!("`{name}` leads outside the output directory"))
        }
        _ => Err(format!(
            "`{name}` is not a search's run directory under the output directory"
        )),
    }
}

/// A run directory read once, as JSON.
pub fn view(out: &Path, name: &str) -> Result<serde_json::Value, String> {
    let dir = resolve(out, name)?;
    let v = monitor::view(&dir).map_err(|e| format!("{e:#}"))?;
    serde_json::to_value(v).map_err(|e| e.to_string())
}

/// One program of a run directory, with its first parent and the fields the edit changed.
pub fn program(out: &Path, name: &str, hash: &str) -> Result<serde_json::Value, String> {
    let dir = resolve(out, name)?;
    match monitor::program(&dir, hash, &medisim_search::hospital::Hospital) {
        Ok(Some(p)) => serde_json::to_value(p).map_err(|e| e.to_string()),
        Ok(None) => Err(format!("`{name}` holds no program {hash}")),
        Err(e) => Err(format!("{e:#}")),
    }
}

/// The most iterations a search started from the page may run (`medisim search` runs 200).
pub const MAX_ITERATIONS: u32 = 2_000;

/// A search to start from the page: a new run directory `name` directly under the output
/// directory, its objective and iterations; everything else as `medisim search`'s defaults on
/// the built-in scenario.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    pub name: String,
    #[serde(default)]
    pub objective: Option<String>,
    #[serde(default)]
    pub iterations: Option<u32>,
}

/// A checked search request: its settings, its run directory and the command that runs it.
pub struct Planned {
    pub config: medisim_search::SearchConfig,
    pub dir: PathBuf,
    pub name: String,
    pub command: String,
}

impl StartRequest {
    /// The search this request asks for, or what is wrong with it.
    pub fn plan(&self, out: &Path) -> Result<Planned, String> {
        let name = &self.name;
        let legal = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if name.is_empty() || name.len() > 64 || !name.chars().all(legal) || name == "cells" {
            return Err(format!(
                "`{name}`: a new run directory's name is 1 to 64 letters, digits, `-` or `_` (not `cells`)"
            ));
        }
        let dir = out.join(name);
        if std::fs::symlink_metadata(&dir).is_ok() {
            return Err(format!(
                "`{name}` exists under the output directory: choose another name, or open it"
            ));
        }
        let objective: medisim_sim::ObjectiveKind = self
            .objective
            .as_deref()
            .unwrap_or("mixed")
            .parse()
            .map_err(|e| format!("objective: {e}"))?;
        let iterations = self.iterations.unwrap_or(200);
        if !(1..=MAX_ITERATIONS).contains(&iterations) {
            return Err(format!(
                "iterations {iterations} is outside [1, {MAX_ITERATIONS}]"
            ));
        }
        let config = medisim_search::SearchConfig {
            objective,
            iterations,
            ..medisim_search::SearchConfig::default()
        };
        config.validate().map_err(|e| format!("{e:#}"))?;
        Ok(Planned {
            command: format!(
                "medisim search --objective {} --iterations {iterations} --out OUT/{name}",
                objective.name()
            ),
            config,
            dir,
            name: name.clone(),
        })
    }
}
