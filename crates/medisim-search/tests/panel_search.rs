//! The search over the panel's payment programs (issue 27): the same loop, store and offline
//! edits as Medi-Sim's, with the provider answering each candidate program.

use medisim_core::progress::Hidden;
use medisim_dsl::Policy;
use medisim_panel::model::{PanelMetric as M, PanelScenario};
use medisim_panel::PanelConfig;
use medisim_search::config::{PanelSearch, Searched};
use medisim_search::domain::Domain;
use medisim_search::evaluate::{Evaluator, Local};
use medisim_search::offline::{self, Vocabulary};
use medisim_search::panel::{PanelPayer, PaymentWords};
use medisim_search::search::{search, Place, SearchOutcome};
use medisim_search::store::Store;
use medisim_search::SearchConfig;
use rand::SeedableRng;

fn config(iterations: u32) -> SearchConfig {
    SearchConfig {
        model: Searched::Panel,
        iterations,
        panel: PanelSearch {
            wtp: 50_000.0,
            runs: 20,
        },
        ..SearchConfig::default()
    }
}

fn scenario() -> PanelScenario {
    PanelScenario {
        config: PanelConfig::default(),
        disease: None,
    }
}

fn program(src: &str) -> Policy {
    let text = format!("kind = \"panel_payment\"\nversion = \"medisim_dsl_v1\"\nname = \"t\"\n\n[payment_policy]\n{src}");
    medisim_dsl::load(medisim_panel::program::schema(), &text).unwrap()
}

fn run(c: &SearchConfig, dir: &std::path::Path, resume: bool, stop: Option<u32>) -> SearchOutcome {
    let s = scenario();
    let domain = PanelPayer::new(c, &s).unwrap();
    let place = Place {
        out: dir,
        resume,
        stop_after: stop,
    };
    search(&domain, c, &s, place, &Hidden, &Local).unwrap()
}

fn nmb(o: &SearchOutcome, method: &str) -> f64 {
    o.table.iter().find(|r| r.method == method).unwrap().metrics["net_monetary_benefit"]
}

/// Each candidate is answered by the provider: fee-for-service makes it treat everyone at the
/// most intensive treatment, capitation at the least, so the evaluation the search ranks by
/// moves with the program's incentives, not only with what it pays.
#[test]
fn the_provider_answers_every_candidate_program() {
    let c = config(0);
    let s = scenario();
    let domain = PanelPayer::new(&c, &s).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let ev = Evaluator::new(&domain, &c, &s);
    let ffs = ev
        .eval(
            &store,
            &program("fee_payment = list_fee\ncapitation = 0\n"),
            &[1],
            0,
        )
        .unwrap();
    let cap = ev
        .eval(
            &store,
            &program("fee_payment = 0\ncapitation = scheduled_capitation\n"),
            &[1],
            0,
        )
        .unwrap();
    assert_eq!(ffs.mean(M::MaxIntensityShare), 1.0);
    assert_eq!(cap.mean(M::MinIntensityShare), 1.0);
    // One search seed stands for `runs` panels.
    assert_eq!(ev.rollouts.get(), 2 * 20);
    // The objective is the net monetary benefit per patient, the provider's loss charged.
    let zero = ev
        .eval(
            &store,
            &program("fee_payment = 0\ncapitation = 0\n"),
            &[1],
            0,
        )
        .unwrap();
    let loss = -zero.mean(M::DiscountedProviderProfit);
    assert!(
        loss < -zero.mean(M::ProviderProfit),
        "the loss is discounted"
    );
    assert!(loss > 0.0, "a provider paid nothing makes a loss");
    let uncharged = (50_000.0 * zero.mean(M::Qalys) - zero.mean(M::DiscountedCost)) / 10.0;
    assert!((zero.fitness - (uncharged - loss / 10.0)).abs() < 1e-6);
}

/// A short search beats every shipped payment program on seeds it never saw, and a run killed
/// midway resumes onto the same path.
#[test]
fn a_payment_search_beats_the_shipped_programs_on_held_out_seeds_and_resumes() {
    let c = config(30);
    let straight_dir = tempfile::tempdir().unwrap();
    let straight = run(&c, straight_dir.path(), false, None);
    for m in [
        "best_warm_start",
        "fee_for_service",
        "capitation",
        "blended",
    ] {
        assert!(
            nmb(&straight, "searched") > nmb(&straight, m),
            "searched vs {m}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    run(&c, dir.path(), false, Some(11));
    let resumed = run(&c, dir.path(), true, None);
    assert_eq!(resumed.best.hash, straight.best.hash);
    assert_eq!(
        nmb(&resumed, "searched").to_bits(),
        nmb(&straight, "searched").to_bits()
    );
    // The world is kept in the run directory, whole.
    let text = std::fs::read_to_string(dir.path().join("scenario.toml")).unwrap();
    assert_eq!(
        PanelScenario::from_toml(&text, "scenario.toml").unwrap(),
        scenario()
    );
    let best = std::fs::read_to_string(dir.path().join("best.policy")).unwrap();
    assert!(medisim_panel::program::check_source(&best).policy.is_some());
}

#[test]
fn every_offline_child_of_a_payment_program_checks() {
    let domain = PanelPayer::new(&config(0), &scenario()).unwrap();
    let lib = domain.library("").unwrap();
    let n = domain.schema().field_ids().count();
    let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
    let mut parent = lib[0].clone();
    let mut kinds = std::collections::HashSet::new();
    for i in 0..300 {
        let focus = offline::Focus::even(n);
        let (child, edit) = offline::propose(
            &PaymentWords,
            &parent,
            &lib[i % lib.len()],
            &focus,
            &mut rng,
        );
        assert!(PaymentWords.valid(&child), "{}", edit.name());
        kinds.insert(edit);
        parent = if i % 40 == 39 {
            lib[i / 40 % lib.len()].clone()
        } else {
            child
        };
    }
    assert!(kinds.len() >= 5, "{kinds:?}");
}

#[test]
fn seeds_whose_panels_would_overflow_are_refused_by_key() {
    let mut c = config(0);
    c.test_seeds = vec![u64::MAX / 2];
    let e = PanelPayer::new(&c, &scenario()).unwrap_err().to_string();
    assert!(e.contains("`test_seeds`"), "{e}");
    let mut c = config(0);
    c.panel.runs = 5_000;
    let e = PanelPayer::new(&c, &scenario()).unwrap_err().to_string();
    assert!(e.contains("`evolution_seeds`"), "{e}");
}

/// What a QALY is worth decides what the searched program buys: on the kidney model the most
/// intensive treatment gains little health for its cost (docs/panel.md), so at $20,000 per QALY
/// the searched program steers the provider to the least intensive treatment and at $1,000,000
/// to the most. (A search blind to the provider's response could not move the care at all.)
#[test]
fn the_willingness_to_pay_decides_the_care_the_searched_program_steers_to() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../medisim-panel/models/diabetic-kidney.toml"
    );
    let disease = medisim_panel::disease::MarkovFile::from_toml(
        &std::fs::read_to_string(path).unwrap(),
        path,
    )
    .unwrap();
    let s = PanelScenario {
        config: PanelConfig::default(),
        disease: Some(disease),
    };
    let intensity = |wtp: f64| {
        let mut c = config(60);
        c.panel.wtp = wtp;
        let dir = tempfile::tempdir().unwrap();
        let domain = PanelPayer::new(&c, &s).unwrap();
        let place = Place {
            out: dir.path(),
            resume: false,
            stop_after: None,
        };
        let o = search(&domain, &c, &s, place, &Hidden, &Local).unwrap();
        o.table
            .iter()
            .find(|r| r.method == "searched")
            .unwrap()
            .metrics["max_intensity_share"]
    };
    assert_eq!(intensity(20_000.0), 0.0);
    assert_eq!(intensity(1_000_000.0), 1.0);
}
