//! A run directory read as a dashboard reads it: the event log and the store, read only.

use medisim_core::progress::Hidden;
use medisim_search::{monitor, run_search, SearchConfig};
use medisim_sim::Scenario;

#[test]
fn a_run_directory_reads_back_its_children_bests_and_programs() {
    let dir = tempfile::tempdir().unwrap();
    let c = SearchConfig {
        iterations: 40,
        ..SearchConfig::default()
    };
    let o = run_search(&c, &Scenario::default(), dir.path(), false, None, &Hidden).unwrap();
    let listing = |d: &std::path::Path| {
        let mut names: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    let before = listing(dir.path());
    let v = monitor::view(dir.path()).unwrap();
    assert!(v.finished);
    // Reading adds nothing but SQLite's own shared-memory files of a write-ahead log.
    let after: Vec<_> = listing(dir.path())
        .into_iter()
        .filter(|n| !n.ends_with("-shm") && !n.ends_with("-wal"))
        .collect();
    assert_eq!(
        after,
        before
            .iter()
            .filter(|n| !n.ends_with("-shm") && !n.ends_with("-wal"))
            .cloned()
            .collect::<Vec<_>>()
    );
    // Every evaluated child of the trace, in order, with its island and operator.
    let evaluated: Vec<_> = o
        .trace
        .iter()
        .filter(|t| t.outcome == "evaluated" || t.outcome == "new best")
        .collect();
    assert_eq!(v.children.len(), evaluated.len());
    for (child, t) in v.children.iter().zip(&evaluated) {
        assert_eq!(
            (child.iteration, child.island),
            (u64::from(t.iteration), t.island as u64)
        );
        assert_eq!(Some(child.fitness), t.child_fitness);
    }
    assert_eq!(v.events["evaluated"], v.children.len());
    let by_island: usize = v.islands.values().map(|t| t.evaluated).sum();
    assert_eq!(by_island, v.children.len());
    // Every update after the warm start is credited to the island and operator that made it.
    let credited = |t: &std::collections::BTreeMap<_, monitor::Tally>| -> usize {
        t.values().map(|x| x.new_bests).sum()
    };
    assert_eq!(credited(&v.islands), o.updates.len());
    assert_eq!(
        v.operators.values().map(|x| x.new_bests).sum::<usize>(),
        o.updates.len()
    );
    // The running best ends at the search's best, with the warm start first.
    assert_eq!(v.bests.first().unwrap().iteration, 0);
    assert_eq!(v.bests.len(), o.updates.len() + 1);
    assert_eq!(v.bests.last().unwrap().hash, o.best.hash);
    assert_eq!(
        v.bests.last().unwrap().validation_fitness,
        o.best_validation
    );
    // The best program with its parent and the fields the edit changed.
    let p = monitor::program(
        dir.path(),
        &o.best.hash,
        &medisim_search::hospital::Hospital,
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        medisim_sim::load(&p.text).unwrap().canonical_hash(),
        o.best.policy.canonical_hash()
    );
    // The best of a search is a child, so it has a parent to compare with.
    let parent = p
        .parent_text
        .as_deref()
        .map(|t| medisim_sim::load(t).unwrap());
    assert!(parent.is_some(), "the best {} has no parent", o.best.hash);
    if let Some(parent) = parent {
        let changed = medisim_search::domain::fields_changed(&parent, &o.best.policy);
        assert_eq!(p.fields_changed, Some(changed));
        // What the edit traded, on the training seeds: the child's side is the search's own
        // evaluation of the best.
        let trade = p.trade.unwrap();
        assert_eq!(trade[0].metric, "fitness");
        assert_eq!(trade[0].child, o.best.fitness());
        let upcoding = trade.iter().find(|t| t.metric == "upcoding_rate").unwrap();
        assert_eq!(
            upcoding.child,
            o.best.eval.mean(medisim_sim::Metric::UpcodingRate)
        );
        assert!(trade
            .iter()
            .all(|t| t.parent.is_finite() && t.child.is_finite()));
    }
    assert!(monitor::program(
        dir.path(),
        "no-such-hash",
        &medisim_search::hospital::Hospital
    )
    .unwrap()
    .is_none());
    // A line still being written is not there yet.
    let log = dir.path().join("events.jsonl");
    let before = std::fs::read(&log).unwrap();
    std::fs::write(&log, [before.as_slice(), b"{\"event\": \"evalu"].concat()).unwrap();
    assert_eq!(
        monitor::view(dir.path()).unwrap().children.len(),
        v.children.len()
    );
    // A directory without a store is named.
    let empty = tempfile::tempdir().unwrap();
    let e = monitor::view(empty.path()).unwrap_err().to_string();
    assert!(e.contains("search.sqlite"), "{e}");
    assert!(!empty.path().join("search.sqlite").exists());
}
