//! Bounded fuzz harnesses over the panel's readers (docs/reliability.md): the configuration
//! and a Markov disease file (the shipped kidney model), each with a hostile number (NaN,
//! infinities, 1e308, 2^64 − 1, …) in place of one value, then byte edits. Whatever the text:
//! reading never panics; what reads validates, and a short run of it ends in finite metrics
//! or an error that says why.

use medisim_core::fuzz::{mutate, replace_number, HOSTILE_NUMBERS};
use medisim_panel::disease::{DiseaseModel, MarkovFile, Retinopathy};
use medisim_panel::{sim, PanelConfig};
use proptest::prelude::*;

const KIDNEY: &str = include_str!("../models/diabetic-kidney.toml");

/// A short run: the configuration's size capped so a case stays in milliseconds.
fn short(cfg: &PanelConfig) -> PanelConfig {
    PanelConfig {
        runs: cfg.runs.min(2),
        patients: cfg.patients.min(20),
        years: cfg.years.min(5),
        ..cfg.clone()
    }
}

fn hostile_text(base: &str, k: usize, hostile: &str, edits: &[(usize, u8, u8)]) -> String {
    let bytes = mutate(replace_number(base, k, hostile).as_bytes(), edits);
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #[test]
    fn any_configuration_text_runs_or_is_refused(
        k in 0usize..60,
        hostile in proptest::sample::select(HOSTILE_NUMBERS),
        edits in proptest::collection::vec((any::<usize>(), 0u8..4, any::<u8>()), 0..4),
    ) {
        let base = toml::to_string(&PanelConfig::default()).unwrap();
        let text = hostile_text(&base, k, hostile, &edits);
        let Ok(cfg) = PanelConfig::from_toml(&text, "fuzz.toml") else {
            return Ok(());
        };
        let Ok(d) = Retinopathy::new(cfg.retinopathy.clone()) else {
            return Ok(());
        };
        if cfg.validate(&d).is_err() {
            return Ok(());
        }
        // What validates holds only finite numbers (TOML may write `nan` and `inf`).
        prop_assert!(medisim_core::params::non_finite(&cfg).is_none());
        let cfg = short(&cfg);
        match sim::run(&d, &cfg) {
            Ok(r) => {
                if let Err(e) = r.metrics.check_finite() {
                    prop_assert!(e.contains("outside"), "{e}");
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn any_disease_file_reads_checked_or_is_refused(
        k in 0usize..200,
        hostile in proptest::sample::select(HOSTILE_NUMBERS),
        edits in proptest::collection::vec((any::<usize>(), 0u8..4, any::<u8>()), 0..4),
    ) {
        let text = hostile_text(KIDNEY, k, hostile, &edits);
        match MarkovFile::from_toml(&text, "fuzz.toml") {
            Err(e) => prop_assert!(!e.to_string().is_empty()),
            Ok(m) => {
                // What reads is a Markov model: finite numbers, distinct names, every row a
                // probability distribution over the states.
                prop_assert!(medisim_core::params::non_finite(&m).is_none());
                let n = m.states().len();
                for k in 0..m.treatments().len() {
                    for s in 0..n {
                        let row = m.transition(s, k);
                        prop_assert!(row.len() == n && row.iter().all(|p| (0.0..=1.0).contains(p)));
                        prop_assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-6);
                    }
                }
                let cfg = PanelConfig { runs: 2, ..PanelConfig::default() };
                if cfg.validate(&m).is_ok() {
                    let _ = sim::run(&m, &cfg);
                }
            }
        }
    }
}
