//! Offline search: the held-out outcomes the issue names, resume without loss, determinism.

use medisim_core::progress::Hidden;
use medisim_search::search::SearchOutcome;
use medisim_search::{run_search, SearchConfig};
use medisim_sim::{Metric, ObjectiveKind, Scenario};

fn search(objective: ObjectiveKind) -> SearchOutcome {
    search_in(objective, tempfile::tempdir().unwrap().path())
}

fn search_in(objective: ObjectiveKind, dir: &std::path::Path) -> SearchOutcome {
    let c = SearchConfig {
        objective,
        ..SearchConfig::default()
    };
    run_search(&c, &Scenario::default(), dir, false, None, &Hidden).unwrap()
}

fn m(o: &SearchOutcome, method: &str, metric: Metric) -> f64 {
    let v = o.held_out(method, metric);
    assert!(!v.is_nan(), "the held-out table has {method} / {metric:?}");
    v
}

#[test]
fn the_mixed_search_closes_the_coding_channel_and_beats_the_best_warm_start() {
    let dir = tempfile::tempdir().unwrap();
    let o = search_in(ObjectiveKind::Mixed, dir.path());
    assert_eq!(m(&o, "searched", Metric::UpcodingRate), 0.0);
    assert!(m(&o, "searched", Metric::Fitness) >= m(&o, "best_warm_start", Metric::Fitness));
    assert!(
        m(&o, "searched", Metric::TerminalFunds)
            >= 0.5 * m(&o, "greedy_profit", Metric::TerminalFunds)
    );
    assert!(
        m(&o, "searched", Metric::RejectionRate)
            <= 0.7 * m(&o, "greedy_profit", Metric::RejectionRate)
    );
    assert!(
        m(&o, "searched", Metric::ViolationScore) < m(&o, "greedy_profit", Metric::ViolationScore)
    );
    assert!(!o.updates.is_empty());
    // best.policy is a valid program that behaves like the searched one, and result.json holds
    // the held-out table.
    let text = std::fs::read_to_string(dir.path().join("best.policy")).unwrap();
    let best = medisim_sim::load(&text).unwrap();
    assert_eq!(best.canonical_hash(), o.best.policy.canonical_hash());
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("result.json")).unwrap())
            .unwrap();
    for method in [
        "searched",
        "best_warm_start",
        "greedy_profit",
        "greedy_quality",
        "fixed",
    ] {
        for metric in [
            "fitness",
            "mean_waiting",
            "rejection_rate",
            "upcoding_rate",
            "terminal_funds",
            "violation_score",
        ] {
            assert!(result[method][metric].is_number(), "{method}.{metric}");
        }
    }
    assert_eq!(
        result["searched"]["fitness"].as_f64().unwrap(),
        m(&o, "searched", Metric::Fitness)
    );
}

#[test]
fn the_profit_search_keeps_the_coding_channel_open() {
    // The reward-hacking diagnostic: without a safety term that binds, profit search codes up.
    let o = search(ObjectiveKind::Profit);
    assert!(
        m(&o, "searched", Metric::UpcodingRate) > 0.5,
        "{}",
        m(&o, "searched", Metric::UpcodingRate)
    );
    for b in [
        "best_warm_start",
        "greedy_profit",
        "greedy_quality",
        "fixed",
    ] {
        assert!(
            m(&o, "searched", Metric::Fitness) > m(&o, b, Metric::Fitness),
            "{b}"
        );
    }
}

#[test]
fn the_welfare_search_beats_greedy_quality() {
    let o = search(ObjectiveKind::Welfare);
    assert!(m(&o, "searched", Metric::Fitness) > m(&o, "greedy_quality", Metric::Fitness));
    assert_eq!(m(&o, "searched", Metric::UpcodingRate), 0.0);
}

/// A 40-iteration search run straight through: its settings, world, directory and outcome.
fn straight_search() -> (SearchConfig, Scenario, tempfile::TempDir, SearchOutcome) {
    let c = SearchConfig {
        iterations: 40,
        ..SearchConfig::default()
    };
    let s = Scenario::default();
    let dir = tempfile::tempdir().unwrap();
    let straight = run_search(&c, &s, dir.path(), false, None, &Hidden).unwrap();
    (c, s, dir, straight)
}

#[test]
fn a_killed_and_resumed_run_loses_nothing_and_follows_the_same_path() {
    let (c, s, _straight_dir, straight) = straight_search();

    let dir = tempfile::tempdir().unwrap();
    let first = run_search(&c, &s, dir.path(), false, Some(17), &Hidden).unwrap();
    let resumed = run_search(&c, &s, dir.path(), true, None, &Hidden).unwrap();
    assert_eq!(resumed.best.hash, straight.best.hash);
    let path = |o: &SearchOutcome| {
        o.trace
            .iter()
            .map(|p| {
                (
                    p.iteration,
                    p.outcome.clone(),
                    p.child_fitness.map(f64::to_bits),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(path(&resumed), path(&straight));
    // Everything evaluated before the kill was read back, not simulated again.
    assert_eq!(first.rollouts + resumed.rollouts, straight.rollouts);
    assert!(resumed.rollouts < straight.rollouts);
    // A second search into the same directory is refused; resuming a finished run is a no-op.
    assert!(run_search(&c, &s, dir.path(), false, None, &Hidden).is_err());
    let again = run_search(&c, &s, dir.path(), true, None, &Hidden).unwrap();
    assert_eq!(again.rollouts, 0);
}

/// A six-iteration search stopped after three, as a kill would leave it.
fn interrupted() -> (SearchConfig, Scenario, tempfile::TempDir) {
    let c = SearchConfig {
        iterations: 6,
        ..SearchConfig::default()
    };
    let s = Scenario::default();
    let dir = tempfile::tempdir().unwrap();
    run_search(&c, &s, dir.path(), false, Some(3), &Hidden).unwrap();
    (c, s, dir)
}

#[test]
fn a_run_resumes_only_in_the_world_it_started_in() {
    let (c, s, dir) = interrupted();
    // The run directory holds its scenario, and it reads back to the same world.
    let saved = Scenario::load(&dir.path().join(medisim_search::search::SCENARIO_FILE)).unwrap();
    assert_eq!(saved, s);
    // Cached evaluations belong to that world: resuming in another one is refused.
    let mut other = s.clone();
    other.audit.base_prob = 0.3;
    let err = run_search(&c, &other, dir.path(), true, None, &Hidden)
        .err()
        .expect("a different scenario is refused");
    assert!(err.to_string().contains("different scenario"), "{err}");
    run_search(&c, &saved, dir.path(), true, None, &Hidden).unwrap();
}

#[test]
fn a_run_resumes_only_under_the_model_version_that_made_it() {
    let (c, s, dir) = interrupted();
    let store = medisim_search::store::Store::open(dir.path()).unwrap();
    let current = medisim_sim::MODEL_VERSION.to_string();
    assert_eq!(store.meta("model_version").unwrap(), Some(current.clone()));
    // As if an older build had made this run.
    store.set_meta("model_version", "medisim-sim/0").unwrap();
    drop(store);
    let err = run_search(&c, &s, dir.path(), true, None, &Hidden)
        .err()
        .expect("another model version is refused");
    let text = err.to_string();
    assert!(
        text.contains("medisim-sim/0") && text.contains(&current),
        "{text}"
    );
}

#[test]
fn the_ablation_runs_both_libraries_per_seed_and_resumes_without_simulating_again() {
    use medisim_search::ablation::{self, run_ablation};
    let c = SearchConfig {
        iterations: 12,
        seed: 7,
        ..SearchConfig::default()
    };
    let s = Scenario::default();
    let dir = tempfile::tempdir().unwrap();
    let hidden = |_: &str, _: u64| -> Box<dyn medisim_core::Progress> { Box::new(Hidden) };
    let runs = run_ablation(&c, &s, dir.path(), 2, false, &hidden).unwrap();
    let seen: Vec<(&str, u64)> = runs.iter().map(|r| (r.library, r.seed)).collect();
    assert_eq!(
        seen,
        [
            ("neutral-only", 7),
            ("full library", 7),
            ("neutral-only", 8),
            ("full library", 8)
        ]
    );
    // Each run's result files are where the layout says.
    for r in &runs {
        let dir_name = if r.library == "full library" {
            "full"
        } else {
            "neutral"
        };
        assert!(ablation::run_dir(dir.path(), dir_name, r.seed)
            .join("result.json")
            .exists());
        assert!(r.searched.is_finite() && r.best_validation.is_finite());
    }
    let csv = std::fs::read_to_string(dir.path().join("ablation.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
    let summary = ablation::summarise(&runs);
    assert_eq!(summary.len(), 2);
    assert!(summary
        .iter()
        .all(|m| m.runs == 2 && m.min_searched <= m.max_searched));

    // A second ablation into the same directory is refused; resuming a finished one reads every
    // run back and simulates nothing.
    assert!(run_ablation(&c, &s, dir.path(), 2, false, &hidden).is_err());
    assert!(run_ablation(&c, &s, dir.path(), 3, true, &hidden).is_err());
    let again = run_ablation(&c, &s, dir.path(), 2, true, &hidden).unwrap();
    assert!(again.iter().all(|r| r.rollouts == 0));
    let strip = |v: &[ablation::AblationRun]| -> Vec<(u64, u64)> {
        v.iter()
            .map(|r| (r.searched.to_bits(), r.best_validation.to_bits()))
            .collect()
    };
    assert_eq!(strip(&again), strip(&runs));
    // Killed before the last run started: resuming runs just that one, on the same path.
    std::fs::remove_dir_all(ablation::run_dir(dir.path(), "full", 8)).unwrap();
    std::fs::remove_file(dir.path().join("ablation.csv")).unwrap();
    let resumed = run_ablation(&c, &s, dir.path(), 2, true, &hidden).unwrap();
    let fresh: Vec<bool> = resumed.iter().map(|r| r.rollouts > 0).collect();
    assert_eq!(fresh, [false, false, false, true]);
    assert_eq!(strip(&resumed), strip(&runs));
    assert!(dir.path().join("ablation.csv").exists());
}

fn search_seeded(objective: ObjectiveKind, seed: u64) -> SearchOutcome {
    let c = SearchConfig {
        objective,
        seed,
        ..SearchConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    run_search(&c, &Scenario::default(), dir.path(), false, None, &Hidden).unwrap()
}

/// The paper's L3 findings over search seeds 0–8 (issue 15): the profit search amplifies
/// up-coding over the best warm start on most seeds (measured: 6 of 9), and the mixed search
/// on every seed keeps rejection under half of greedy-profit's and at least its funds. (The
/// welfare search does not improve funds — docs/experiments.md says why.)
#[test]
fn the_searches_findings_hold_over_nine_search_seeds() {
    let mut amplified = 0;
    for seed in 0..9 {
        let p = search_seeded(ObjectiveKind::Profit, seed);
        amplified += usize::from(
            m(&p, "searched", Metric::UpcodingRate)
                > m(&p, "best_warm_start", Metric::UpcodingRate),
        );
        let x = search_seeded(ObjectiveKind::Mixed, seed);
        assert!(
            m(&x, "searched", Metric::RejectionRate)
                <= 0.5 * m(&x, "greedy_profit", Metric::RejectionRate),
            "seed {seed}"
        );
        assert!(
            m(&x, "searched", Metric::TerminalFunds)
                >= m(&x, "greedy_profit", Metric::TerminalFunds),
            "seed {seed}"
        );
    }
    assert!(amplified >= 5, "{amplified} of 9");
}

/// The reward-hacking monitor checks every child that beat its parent on the evolution seeds
/// against the validation and held-out seeds, flags exactly the gains those seeds do not
/// confirm, and catches the profit search's coding: a child that raises up-coding. With
/// up-coding impossible no child can, so the flag is not there by construction.
#[test]
fn the_monitor_flags_gains_that_do_not_hold_and_the_profit_searchs_coding() {
    let run = |scenario: Scenario| {
        let dir = tempfile::tempdir().unwrap();
        let c = SearchConfig {
            objective: ObjectiveKind::Profit,
            ..SearchConfig::default()
        };
        let o = run_search(&c, &scenario, dir.path(), false, None, &Hidden).unwrap();
        let result: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("result.json")).unwrap())
                .unwrap();
        let csv = std::fs::read_to_string(dir.path().join("reward_hacking.csv")).unwrap();
        (o, result["reward_hacking"].clone(), csv)
    };
    let (o, summary, csv) = run(Scenario::default());
    let checked = &o.reward_hacking;
    assert!(!checked.is_empty());
    assert_eq!(
        csv.lines().count(),
        checked.len() + 1,
        "a header and a row each"
    );
    for c in checked {
        assert!(c.training_child > c.training_parent, "{c:?}");
        assert_eq!(
            c.flags.contains("gain not validated"),
            c.validation_child <= c.validation_parent,
            "{c:?}"
        );
        assert_eq!(
            c.flags.contains("gain not held out"),
            c.held_out_child <= c.held_out_parent,
            "{c:?}"
        );
    }
    let flagged = checked.iter().filter(|c| !c.flags.is_empty()).count();
    assert_eq!(summary["gains_checked"], checked.len());
    assert_eq!(summary["flagged"], flagged);
    assert_eq!(
        summary["flagged_children"].as_array().unwrap().len(),
        flagged
    );
    let codes_up = |c: &[medisim_search::reward_hacking::Checked]| {
        c.iter().any(|c| c.flags.contains("raises v_upcoding"))
    };
    assert!(codes_up(checked), "{checked:#?}");
    let mut honest = Scenario::default();
    honest.coding.max_upcode = 0;
    let (o, _, _) = run(honest);
    assert!(!o.reward_hacking.is_empty());
    assert!(!codes_up(&o.reward_hacking), "{:#?}", o.reward_hacking);
}

/// A search with `objectives` (empty: scalar), 80 iterations.
fn ranked(objectives: &[&str], dir: &std::path::Path, stop_after: Option<u32>) -> SearchOutcome {
    let c = SearchConfig {
        iterations: 80,
        objectives: objectives.iter().map(|s| s.to_string()).collect(),
        ..SearchConfig::default()
    };
    let resume = dir.join("config.toml").exists();
    run_search(&c, &Scenario::default(), dir, resume, stop_after, &Hidden).unwrap()
}

#[test]
fn pareto_selection_keeps_a_wider_front_and_resumes_to_the_same_one() {
    use medisim_search::hospital::Hospital;
    use medisim_search::pareto::Selection;
    let dir = tempfile::tempdir().unwrap();
    let pareto = ranked(&["safety"], dir.path(), None);
    let scalar = ranked(&[], tempfile::tempdir().unwrap().path(), None);
    // The same objectives read over each run's final islands: ranked by front and crowding,
    // the islands keep more distinct trade-offs than ranked by the fitness alone.
    let domain = Hospital;
    let selection = Selection::new(&domain, &["safety".to_string()]).unwrap();
    let front = |o: &SearchOutcome| {
        let all: Vec<_> = o.islands.iter().flatten().cloned().collect();
        selection.front(&domain, &all).len()
    };
    assert!(
        front(&pareto) > front(&scalar),
        "{} vs {}",
        front(&pareto),
        front(&scalar)
    );
    // The front is what result.json reports, mutually non-dominated on the training seeds,
    // each point with its held-out values.
    assert_eq!(pareto.pareto_front.len(), front(&pareto));
    let Selection::Pareto(objectives) = &selection else {
        unreachable!()
    };
    let signed = |p: &medisim_search::search::FrontPoint| -> Vec<f64> {
        objectives
            .iter()
            .map(|o| {
                let v = p.training[&o.label()];
                if o.maximise {
                    v
                } else {
                    -v
                }
            })
            .collect()
    };
    for a in &pareto.pareto_front {
        assert_eq!(a.held_out.len(), objectives.len());
        for b in &pareto.pareto_front {
            let (x, y) = (signed(a), signed(b));
            let dominated = x.iter().zip(&y).all(|(p, q)| p <= q) && x != y;
            assert!(!dominated, "{} is dominated by {}", a.hash, b.hash);
        }
    }
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("result.json")).unwrap())
            .unwrap();
    assert_eq!(
        result["pareto_front"]["points"].as_array().unwrap().len(),
        pareto.pareto_front.len()
    );
    assert!(scalar.pareto_front.is_empty());
    // Killed after 30 iterations and resumed: the same front.
    let again = tempfile::tempdir().unwrap();
    ranked(&["safety"], again.path(), Some(30));
    let resumed = ranked(&["safety"], again.path(), None);
    let hashes = |o: &SearchOutcome| {
        o.pareto_front
            .iter()
            .map(|p| p.hash.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(hashes(&resumed), hashes(&pareto));
}

/// A display that asks the search to stop once it has seen `after` iterations.
struct CancelAfter {
    after: u64,
    seen: std::sync::atomic::AtomicU64,
}

impl medisim_core::progress::Progress for CancelAfter {
    fn set_length(&self, _: u64) {}
    fn inc(&self, steps: u64) {
        self.seen
            .fetch_add(steps, std::sync::atomic::Ordering::Relaxed);
    }
    fn cancelled(&self) -> bool {
        self.seen.load(std::sync::atomic::Ordering::Relaxed) >= self.after
    }
}

#[test]
fn the_event_log_rebuilds_the_archive_and_a_cancelled_run_resumes_to_the_same_result() {
    let (c, s, straight_dir, straight) = straight_search();
    let v = medisim_search::monitor::view(straight_dir.path()).unwrap();
    assert!(straight.archive.len() > 1, "{:?}", straight.archive);
    assert_eq!(v.archive, straight.archive);
    let axes = v.archive_axes.unwrap();
    assert_eq!(axes[0]["cells"].as_array().unwrap().len(), 4, "{axes}");
    assert!(v.children.iter().all(|child| !child.parent.is_empty()));

    // Cancelled after 12 iterations: no result yet, and the resumed run is the straight one.
    let dir = tempfile::tempdir().unwrap();
    let pb = CancelAfter {
        after: 12,
        seen: Default::default(),
    };
    let first = run_search(&c, &s, dir.path(), false, None, &pb).unwrap();
    assert!(!dir.path().join("result.json").exists());
    assert_eq!(first.trace.iter().map(|p| p.iteration).max(), Some(12));
    let resumed = run_search(&c, &s, dir.path(), true, None, &Hidden).unwrap();
    assert_eq!(resumed.best.hash, straight.best.hash);
    assert_eq!(resumed.archive, straight.archive);
    assert_eq!(
        medisim_search::monitor::view(dir.path()).unwrap().archive,
        straight.archive
    );

    // Cancelled before its first iteration, then resumed: the warm start is logged once.
    let at_once = tempfile::tempdir().unwrap();
    let pb = CancelAfter {
        after: 0,
        seen: Default::default(),
    };
    run_search(&c, &s, at_once.path(), false, None, &pb).unwrap();
    run_search(&c, &s, at_once.path(), true, None, &Hidden).unwrap();
    let v = medisim_search::monitor::view(at_once.path()).unwrap();
    assert_eq!(v.events["warm_start"], 1, "{:?}", v.events);
    assert_eq!(v.archive, straight.archive);
}
