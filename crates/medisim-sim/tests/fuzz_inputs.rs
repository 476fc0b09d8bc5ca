//! Bounded fuzz harnesses over the simulator's readers of untrusted files: scenario TOML and
//! replay CSV. Seeds are the built-in scenario and a small replay, mutated byte by byte and
//! with hostile numbers (NaN, infinities, 1e308, 2^32 - 1, ...) put in place of their values.
//! Whatever the text: loading never panics; what loads is in range and runs a short rollout
//! to finite metrics or to an error that says why.

use medisim_core::fuzz::{mutate, replace_number, HOSTILE_NUMBERS};
use medisim_sim::arrivals::ReplayKernel;
use medisim_sim::ObjectiveKind;
use medisim_sim::{run_seeds, Scenario};
use proptest::prelude::*;

proptest! {
    #[test]
    fn any_scenario_text_loads_in_range_or_is_refused(
        k in 0usize..200,
        hostile in proptest::sample::select(HOSTILE_NUMBERS),
        edits in proptest::collection::vec((any::<usize>(), 0u8..4, any::<u8>()), 0..4),
    ) {
        let text = replace_number(&Scenario::default().to_toml(), k, hostile);
        let bytes = mutate(text.as_bytes(), &edits);
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(s) = Scenario::from_toml(&text, "fuzz.toml") {
            prop_assert!(s.validate().is_ok());
            if s.arrivals.kernel != medisim_sim::scenario::Kernel::Replay {
                let spec = medisim_sim::run_spec(vec![1], 5, ObjectiveKind::Mixed);
                if let Ok(r) = run_seeds(&s, medisim_sim::baseline(), &spec, false) {
                    for (name, m) in r.summary.iter() {
                        prop_assert!(m.mean.is_finite(), "{name} = {}", m.mean);
                    }
                }
            }
        }
    }

    #[test]
    fn any_replay_file_loads_bounded_or_is_refused(
        hostile in proptest::sample::select(HOSTILE_NUMBERS),
        k in 0usize..20,
        edits in proptest::collection::vec((any::<usize>(), 0u8..4, any::<u8>()), 0..6),
    ) {
        let csv = "period,group,cmi,urgency,tolerance\n1,0,0.1,0.3,4\n1,5,0.9,0.8,2\n3,2,0.4,0.5,5\n";
        let text = replace_number(csv, k, hostile);
        let bytes = mutate(text.as_bytes(), &edits);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fuzz.csv");
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(kernel) = ReplayKernel::from_csv(&path, 6) {
            use medisim_sim::arrivals::ArrivalKernel;
            let mut rng = medisim_sim::rng::stream(0, 1, medisim_sim::rng::Purpose::Patients);
            let mut out = Vec::new();
            for t in 1..=4 {
                kernel.sample(t, &mut rng, &mut out);
            }
            prop_assert!(out.len() <= 4 * medisim_sim::arrivals::MAX_REPLAY_PER_PERIOD);
        }
    }
}
