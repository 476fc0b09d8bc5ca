//! The architecture, checked (as rust-analyzer's tidy tests check theirs), against ARCHITECTURE.md
//! itself rather than a copy of it:
//! - the crate graph as cargo resolves it (`cargo metadata`: every dependency kind, every target)
//!   has only the arrows the "Allowed imports" table allows;
//! - every source file is named in its crate's section;
//! - where a section gives a **module order**, each module imports only its own layer or layers
//!   to its right, and no module imports itself around a loop anywhere;
//! - no name from a model's schema file appears in the language crate's code.
//!
//! Each check is a function of its inputs, and each is shown failing on a planted violation.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn architecture_md() -> String {
    read(format!("{ROOT}/ARCHITECTURE.md"))
}

/// The names between backticks in a table cell: "`a`, `b`" → [a, b].
fn ticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// What each crate may import: (normal, and in addition for its tests), from the "Allowed
/// imports" table.
type Allowed = BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>;

fn allowed_imports(doc: &str) -> Allowed {
    let table = doc
        .split("### Allowed imports")
        .nth(1)
        .expect("ARCHITECTURE.md has an \"Allowed imports\" section");
    let mut out = Allowed::new();
    for line in table.lines().skip_while(|l| !l.starts_with('|')) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(name) = cells.get(1).and_then(|c| ticked(c).into_iter().next()) else {
            continue; // the header and the rule
        };
        let cell = |k: usize| {
            ticked(cells.get(k).copied().unwrap_or(""))
                .into_iter()
                .collect()
        };
        out.insert(name, (cell(2), cell(3)));
    }
    out
}

/// One dependency of a medisim crate as cargo resolves it.
#[derive(Debug)]
struct Arrow {
    from: String,
    to: String,
    /// "normal", "dev" or "build".
    kind: String,
}

/// Every dependency of every crate of the workspace whose root holds `manifest_dir`.
fn crate_graph(manifest_dir: &Path) -> (Vec<String>, Vec<Arrow>) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(manifest_dir)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut crates = Vec::new();
    let mut arrows = Vec::new();
    for p in meta["packages"].as_array().unwrap() {
        let from = p["name"].as_str().unwrap().to_string();
        for d in p["dependencies"].as_array().unwrap() {
            arrows.push(Arrow {
                from: from.clone(),
                to: d["name"].as_str().unwrap().to_string(),
                kind: d["kind"].as_str().unwrap_or("normal").to_string(),
            });
        }
        crates.push(from);
    }
    (crates, arrows)
}

fn arrow_violations(crates: &[String], arrows: &[Arrow], allowed: &Allowed) -> Vec<String> {
    let mut bad: Vec<String> = crates
        .iter()
        .filter(|c| !allowed.contains_key(*c))
        .map(|c| format!("{c} is not in ARCHITECTURE.md's \"Allowed imports\" table"))
        .collect();
    for a in arrows.iter().filter(|a| a.to.starts_with("medisim-")) {
        let Some((normal, tests)) = allowed.get(&a.from) else {
            continue;
        };
        let ok = normal.contains(&a.to) || (a.kind == "dev" && tests.contains(&a.to));
        if !ok {
            bad.push(format!("{} may not import {} ({})", a.from, a.to, a.kind));
        }
    }
    bad
}

#[test]
fn crate_dependencies_are_the_ones_architecture_md_allows() {
    let (crates, arrows) = crate_graph(Path::new(ROOT));
    assert!(arrows.len() > 10, "the graph was read: {arrows:?}");
    let bad = arrow_violations(&crates, &arrows, &allowed_imports(&architecture_md()));
    assert!(bad.is_empty(), "{bad:#?}");
}

/// The crates that draw on a terminal (depend on `indicatif`): only the command line may.
fn terminal_crates(arrows: &[Arrow]) -> BTreeSet<String> {
    arrows
        .iter()
        .filter(|a| a.to == "indicatif" && a.kind != "dev")
        .map(|a| a.from.clone())
        .collect()
}

#[test]
fn only_the_command_line_knows_a_terminal() {
    let (_, arrows) = crate_graph(Path::new(ROOT));
    assert_eq!(terminal_crates(&arrows), ["medisim-cli".to_string()].into());
    // Planted: a library that takes a progress bar again.
    let planted = Arrow {
        from: "medisim-search".into(),
        to: "indicatif".into(),
        kind: "normal".into(),
    };
    assert!(terminal_crates(&[planted]).contains("medisim-search"));
}

#[test]
fn an_arrow_hidden_in_a_dependency_table_or_a_target_section_is_caught() {
    // The old test split manifest text at "[dependencies]": both of these went through.
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"medisim-core\", \"medisim-sim\", \"medisim-dsl\"]\nresolver = \"2\"\n",
    );
    for (name, deps) in [
        ("medisim-sim", ""),
        (
            "medisim-core",
            "[dependencies.medisim-sim]\npath = \"../medisim-sim\"\n",
        ),
        (
            "medisim-dsl",
            "[target.'cfg(unix)'.dependencies]\nmedisim-sim = { path = \"../medisim-sim\" }\n",
        ),
    ] {
        write(
            &format!("{name}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n{deps}"
            ),
        );
        write(&format!("{name}/src/lib.rs"), "");
    }
    let (crates, arrows) = crate_graph(dir.path());
    let bad = arrow_violations(&crates, &arrows, &allowed_imports(&architecture_md()));
    assert!(
        bad.iter()
            .any(|b| b.starts_with("medisim-core may not import medisim-sim"))
            && bad
                .iter()
                .any(|b| b.starts_with("medisim-dsl may not import medisim-sim")),
        "{bad:#?}"
    );
}

/// Each crate's section of ARCHITECTURE.md: from its bold `crates/NAME` heading to the next.
fn sections(doc: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for part in doc.split("**`crates/").skip(1) {
        let Some((name, body)) = part.split_once("`**") else {
            continue;
        };
        let end = body.find("\n## ").unwrap_or(body.len());
        out.insert(name.to_string(), body[..end].to_string());
    }
    out
}

/// The `.rs` files of a crate's `src/` (not `lib.rs`), as module names.
fn modules(name: &str) -> BTreeSet<String> {
    std::fs::read_dir(format!("{ROOT}/crates/{name}/src"))
        .unwrap()
        .filter_map(|e| {
            let f = e.unwrap().file_name().to_string_lossy().into_owned();
            let m = f.strip_suffix(".rs")?.to_string();
            (m != "lib").then_some(m)
        })
        .collect()
}

fn unnamed_files(files: &BTreeSet<String>, section: &str) -> Vec<String> {
    files
        .iter()
        .filter(|m| !section.contains(&format!("`{m}.rs`")))
        .cloned()
        .collect()
}

#[test]
fn every_source_file_is_named_in_its_crates_section() {
    let doc = architecture_md();
    let sections = sections(&doc);
    let mut missing = Vec::new();
    for name in allowed_imports(&doc).keys() {
        let section = sections.get(name.as_str()).map_or("", String::as_str);
        for m in unnamed_files(&modules(name), section) {
            missing.push(format!("crates/{name}/src/{m}.rs"));
        }
    }
    assert!(
        missing.is_empty(),
        "not named in ARCHITECTURE.md: {missing:#?}"
    );
    // Planted: a file the section does not name.
    let planted: BTreeSet<String> = ["engine".into(), "teleport".into()].into();
    assert_eq!(
        unnamed_files(&planted, "`engine.rs` runs a rollout"),
        vec!["teleport".to_string()]
    );
}

/// The modules a module's code (not its comments or tests) names through `crate::`.
fn imports(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for part in line.split("crate::").skip(1) {
            let m: String = part
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if modules.contains(&m) {
                out.insert(m);
            }
        }
    }
    out
}

type Imports = BTreeMap<String, BTreeSet<String>>;

fn import_graph(name: &str) -> Imports {
    let modules = modules(name);
    modules
        .iter()
        .map(|m| {
            let text = read(format!("{ROOT}/crates/{name}/src/{m}.rs"));
            let mut deps = imports(&text, &modules);
            deps.remove(m);
            (m.clone(), deps)
        })
        .collect()
}

/// The layers of a section's "**Module order**:" line: layers split by →, modules by commas.
fn module_order(section: &str) -> Option<Vec<Vec<String>>> {
    let line = section.split("**Module order**:").nth(1)?.lines().next()?;
    Some(line.split('→').map(ticked).collect())
}

fn order_violations(graph: &Imports, layers: &[Vec<String>]) -> Vec<String> {
    let layer_of = |m: &str| layers.iter().position(|l| l.iter().any(|x| x == m));
    let mut bad = Vec::new();
    for (m, deps) in graph {
        let Some(lm) = layer_of(m) else {
            bad.push(format!("{m} is missing from the module order"));
            continue;
        };
        for d in deps {
            if layer_of(d).is_some_and(|ld| ld < lm) {
                bad.push(format!(
                    "{m} imports {d}, which the module order puts above it"
                ));
            }
        }
    }
    bad
}

fn cycles(graph: &Imports) -> Vec<String> {
    let mut bad = Vec::new();
    for start in graph.keys() {
        // Depth-first from each module; reaching it again is a cycle.
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((m, path)) = stack.pop() {
            for d in graph.get(&m).into_iter().flatten() {
                if d == start {
                    bad.push(format!("import cycle {} -> {d}", path.join(" -> ")));
                } else if seen.insert(d.clone()) {
                    let mut p = path.clone();
                    p.push(d.clone());
                    stack.push((d.clone(), p));
                }
            }
        }
    }
    bad
}

#[test]
fn modules_import_downward_in_the_documented_order_and_never_around_a_loop() {
    let doc = architecture_md();
    let sections = sections(&doc);
    let mut ordered = 0;
    for name in allowed_imports(&doc).keys() {
        let graph = import_graph(name);
        let loops = cycles(&graph);
        assert!(loops.is_empty(), "{name}: {loops:#?}");
        if let Some(layers) = sections.get(name.as_str()).and_then(|s| module_order(s)) {
            let bad = order_violations(&graph, &layers);
            assert!(bad.is_empty(), "{name}: {bad:#?}");
            ordered += 1;
        }
    }
    assert!(ordered >= 1, "no section gives a module order");
}

#[test]
fn an_upward_import_is_caught_even_without_a_cycle() {
    let layers =
        module_order("**Module order**: `model` → `engine`, `metrics` → `scenario`\n").unwrap();
    let graph = |edges: &[(&str, &str)]| -> Imports {
        let mut g: Imports = ["model", "engine", "metrics", "scenario"]
            .iter()
            .map(|m| (m.to_string(), BTreeSet::new()))
            .collect();
        for (a, b) in edges {
            g.get_mut(*a).unwrap().insert(b.to_string());
        }
        g
    };
    let fine = graph(&[
        ("model", "engine"),
        ("metrics", "engine"),
        ("engine", "scenario"),
    ]);
    assert!(order_violations(&fine, &layers).is_empty());
    assert!(cycles(&fine).is_empty());
    let upward = graph(&[("scenario", "model")]);
    assert!(cycles(&upward).is_empty(), "no cycle here");
    assert_eq!(
        order_violations(&upward, &layers),
        vec!["scenario imports model, which the module order puts above it".to_string()]
    );
    let looped = graph(&[("engine", "metrics"), ("metrics", "engine")]);
    assert_eq!(cycles(&looped).len(), 2);
}

/// Every name a model's schema file declares (fields, features, sections, scopes, groups).
fn schema_names() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(format!("{ROOT}/policies")).unwrap() {
        let path = entry.unwrap().path();
        if !path.to_string_lossy().ends_with(".schema.toml") {
            continue;
        }
        let value: toml::Value = toml::from_str(&read(&path)).unwrap();
        collect_names(&value, &mut names);
    }
    names
}

fn collect_names(v: &toml::Value, out: &mut BTreeSet<String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                if k == "name" {
                    if let Some(s) = x.as_str() {
                        out.insert(s.to_string());
                    }
                }
                collect_names(x, out);
            }
        }
        toml::Value::Array(a) => a.iter().for_each(|x| collect_names(x, out)),
        _ => {}
    }
}

/// Schema names that a source text's code (not comments, not tests) uses as whole words.
fn model_names_in(text: &str, names: &BTreeSet<String>) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut found = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let words = line.split(|c: char| !(c.is_alphanumeric() || c == '_'));
        for w in words.filter(|w| names.contains(*w)) {
            found.insert(w.to_string());
        }
    }
    found
}

#[test]
fn the_language_crate_names_no_model() {
    let names = schema_names();
    assert!(
        names.contains("accept_threshold") && names.contains("alpha"),
        "the schema was read: {names:?}"
    );
    let mut found = BTreeMap::new();
    for m in modules("medisim-dsl") {
        let hits = model_names_in(
            &read(format!("{ROOT}/crates/medisim-dsl/src/{m}.rs")),
            &names,
        );
        if !hits.is_empty() {
            found.insert(m, hits);
        }
    }
    assert!(
        found.is_empty(),
        "model names in the language crate: {found:?}"
    );
    // Planted: a help string that names a hospital feature.
    let planted =
        "let help = \"e.g. `score >= accept_threshold`\";\n// alpha in a comment is fine\n";
    assert_eq!(
        model_names_in(planted, &names),
        ["accept_threshold".to_string()].into()
    );
}
