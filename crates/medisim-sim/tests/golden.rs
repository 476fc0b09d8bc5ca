//! The golden rollout: a short baseline run whose every summary statistic is pinned, bit for
//! bit, in `tests/snapshots/golden__baseline_summary.snap`.
//!
//! This test fails on any change to Medi-Sim's behaviour. When it does and the change is
//! intended: bump `MODEL_VERSION` in `src/model.rs`, add a `CHANGELOG.md` entry marked
//! **model-breaking**, and renew the snapshot (`cargo insta review`, or
//! `INSTA_UPDATE=always cargo test -p medisim-sim --test golden`). The version is part of the
//! snapshot, so renewing it without the bump leaves a snapshot that names the old version
//! beside new numbers — a reviewer sees it. Caches keyed by the version then recompute.

use medisim_core::Metric as _;
use medisim_sim::{run_seeds, Metric, ObjectiveKind, Scenario, MODEL_VERSION};
use std::fmt::Write;

#[test]
fn baseline_summary() {
    let spec = medisim_sim::run_spec(vec![1, 2, 3], 40, ObjectiveKind::Mixed);
    let r = run_seeds(&Scenario::default(), medisim_sim::baseline(), &spec, false).unwrap();
    let mut text = format!("model {MODEL_VERSION}; baseline policy; seeds 1,2,3; T = 40\n");
    for &m in Metric::ALL {
        let s = r.summary.get(m).unwrap();
        // `{:?}` prints the shortest text that reads back to the same bits.
        writeln!(
            text,
            "{:<26} mean {:?} std {:?} ci [{:?}, {:?}]",
            m.name(),
            s.mean,
            s.std,
            s.ci95[0],
            s.ci95[1]
        )
        .unwrap();
    }
    insta::assert_snapshot!(text);
}
