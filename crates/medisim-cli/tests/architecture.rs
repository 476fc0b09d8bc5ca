//! The architecture, checked (as rust-analyzer's tidy tests check theirs): crate arrows point
//! only downward as ARCHITECTURE.md draws them, and no two modules of one crate import each
//! other, directly or around a loop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The medisim crates each crate may import (ARCHITECTURE.md).
const ALLOWED: &[(&str, &[&str])] = &[
    ("medisim-core", &[]),
    ("medisim-dsl", &[]),
    ("medisim-sim", &["medisim-core", "medisim-dsl"]),
    ("medisim-contracts", &["medisim-core"]),
    ("medisim-games", &["medisim-core"]),
    ("medisim-panel", &["medisim-core"]),
    (
        "medisim-experiments",
        &[
            "medisim-core",
            "medisim-dsl",
            "medisim-sim",
            "medisim-contracts",
            "medisim-games",
            "medisim-panel",
        ],
    ),
    (
        "medisim-search",
        &["medisim-core", "medisim-dsl", "medisim-sim"],
    ),
    (
        "medisim-py",
        &[
            "medisim-core",
            "medisim-dsl",
            "medisim-sim",
            "medisim-contracts",
            "medisim-experiments",
            "medisim-games",
            "medisim-panel",
            "medisim-search",
        ],
    ),
    (
        "medisim-cli",
        &[
            "medisim-core",
            "medisim-dsl",
            "medisim-sim",
            "medisim-contracts",
            "medisim-games",
            "medisim-panel",
            "medisim-experiments",
            "medisim-search",
        ],
    ),
];

fn crates() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(format!("{ROOT}/crates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn crate_dependencies_point_only_downward() {
    for name in crates() {
        let allowed = ALLOWED
            .iter()
            .find(|(c, _)| *c == name)
            .unwrap_or_else(|| panic!("{name} is not in ARCHITECTURE.md's list; add it"))
            .1;
        let manifest = std::fs::read_to_string(format!("{ROOT}/crates/{name}/Cargo.toml")).unwrap();
        let deps = manifest
            .split("[dependencies]")
            .nth(1)
            .and_then(|s| s.split("\n[").next())
            .unwrap_or("");
        for line in deps.lines() {
            let dep = line.split(['.', ' ', '=']).next().unwrap_or("").trim();
            if dep.starts_with("medisim-") {
                assert!(allowed.contains(&dep), "{name} may not import {dep}");
            }
        }
    }
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

#[test]
fn no_module_imports_itself_around_a_loop() {
    for name in crates() {
        let src = format!("{ROOT}/crates/{name}/src");
        let modules: BTreeSet<String> = std::fs::read_dir(&src)
            .unwrap()
            .filter_map(|e| {
                let f = e.unwrap().file_name().to_string_lossy().into_owned();
                let m = f.strip_suffix(".rs")?.to_string();
                (m != "lib" && m != "main").then_some(m)
            })
            .collect();
        let graph: BTreeMap<String, BTreeSet<String>> = modules
            .iter()
            .map(|m| {
                let text =
                    std::fs::read_to_string(Path::new(&src).join(format!("{m}.rs"))).unwrap();
                let mut deps = imports(&text, &modules);
                deps.remove(m);
                (m.clone(), deps)
            })
            .collect();
        for start in graph.keys() {
            // Depth-first from each module; reaching it again is a cycle.
            let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
            let mut seen = BTreeSet::new();
            while let Some((m, path)) = stack.pop() {
                for d in &graph[&m] {
                    assert!(
                        d != start,
                        "{name}: import cycle {} -> {d}",
                        path.join(" -> ")
                    );
                    if seen.insert(d.clone()) {
                        let mut p = path.clone();
                        p.push(d.clone());
                        stack.push((d.clone(), p));
                    }
                }
            }
        }
    }
}
