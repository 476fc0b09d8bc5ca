//! The search is generic over the model: its loop, evaluator, store, LLM operator and the
//! `Domain` trait name no Medi-Sim type (ARCHITECTURE.md's invariant for the crate). Medi-Sim
//! reaches the search only through `hospital.rs` (and the modules that are Medi-Sim's by
//! nature: its ablation, its settings); the offline edits read a program through its schema
//! and the domain's vocabulary.

const GENERIC: [&str; 6] = [
    "domain.rs",
    "offline.rs",
    "search.rs",
    "evaluate.rs",
    "llm.rs",
    "store.rs",
];

/// The lines of `source` outside its test module that name Medi-Sim's crate.
fn medisim_lines(source: &str) -> Vec<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines()
        .filter(|l| l.contains("medisim_sim"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_generic_modules_name_no_medisim_type() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for file in GENERIC {
        let text = std::fs::read_to_string(src.join(file)).unwrap();
        let found = medisim_lines(&text);
        assert!(found.is_empty(), "{file} names Medi-Sim: {found:?}");
    }
    // The check itself finds a planted import, and ignores one inside the tests.
    assert_eq!(
        medisim_lines("use medisim_sim::Scenario;\nfn f() {}\n").len(),
        1
    );
    assert!(medisim_lines("fn f() {}\n#[cfg(test)]\nuse medisim_sim::X;\n").is_empty());
}

#[test]
fn the_hospital_domain_is_what_the_medisim_search_runs() {
    use medisim_search::domain::Domain;
    use medisim_search::hospital::Hospital;
    let h = Hospital;
    // The schema its programs check against is Medi-Sim's, and so is its model version.
    assert!(std::sync::Arc::ptr_eq(h.schema(), medisim_sim::hospital()));
    assert_eq!(
        medisim_core::Model::version(h.model()),
        medisim_sim::MODEL_VERSION
    );
    assert_eq!(h.library("").unwrap().len(), 9);
    assert_eq!(h.table_metrics()[0], h.fitness_name());
}
