//! Bounded fuzz harness over the calibration targets reader (docs/reliability.md): the shipped
//! `targets/paper-table2.toml` with a hostile number (NaN, infinities, 1e308, 2^64 − 1, …) in
//! place of one value, then byte edits. Whatever the text: reading never panics, and what
//! reads is a file the fit can use — α and β in [0, 1], finite targets, finite weights ≥ 0 and
//! not all 0, a finite scale > 0 where one is given, every metric known, the work bounded.

use medisim_core::fuzz::{mutate, replace_number, HOSTILE_NUMBERS};
use medisim_core::Metric as _;
use medisim_experiments::calibrate::{Targets, MAX_MOMENTS};
use medisim_sim::Metric;
use proptest::prelude::*;

const TABLE2: &str = include_str!("../../../targets/paper-table2.toml");

proptest! {
    #[test]
    fn any_targets_text_reads_as_a_usable_file_or_is_refused(
        k in 0usize..120,
        hostile in proptest::sample::select(HOSTILE_NUMBERS),
        edits in proptest::collection::vec((any::<usize>(), 0u8..4, any::<u8>()), 0..4),
    ) {
        let bytes = mutate(replace_number(TABLE2, k, hostile).as_bytes(), &edits);
        let text = String::from_utf8_lossy(&bytes);
        let Ok(t) = Targets::from_toml(&text, "fuzz.toml") else {
            return Ok(());
        };
        prop_assert!(!t.moment.is_empty() && t.moment.len() <= MAX_MOMENTS);
        prop_assert!(t.moment.iter().any(|m| m.weight > 0.0));
        for m in &t.moment {
            prop_assert!((0.0..=1.0).contains(&m.alpha) && (0.0..=1.0).contains(&m.beta));
            prop_assert!(m.target.is_finite() && m.weight.is_finite() && m.weight >= 0.0);
            prop_assert!(m.scale.is_none_or(|s| s.is_finite() && s > 0.0));
            prop_assert!(Metric::from_name(&m.metric).is_some());
        }
    }
}

/// A targets file naming more regimes than the L1 grid is refused before anything runs.
#[test]
fn too_many_regimes_are_refused_with_the_count() {
    let mut text = String::new();
    for i in 0..200 {
        text.push_str(&format!(
            "[[moment]]\nregime = \"r{i}\"\nalpha = {}\nbeta = 0.5\nmetric = \"upcoding_rate\"\n\
             target = 0.1\nsource = \"x\"\n",
            f64::from(i) / 200.0
        ));
    }
    let e = Targets::from_toml(&text, "many.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("200 distinct regimes; at most 121"), "{e}");
}
