//! The claim tally over a box of verdict rules around the report's (a measurement, not a check:
//! `cargo test --release -p medisim-experiments --test claims -- --ignored --nocapture`).

use medisim_core::progress::Hidden;
use medisim_experiments::claims::{self, Rule, Run};
use medisim_experiments::{l1, l2, Options};

#[test]
#[ignore = "a measurement for docs/experiments.md: the paper's setting, 30 seeds"]
fn the_tally_over_a_box_of_rules() {
    let dir = tempfile::tempdir().unwrap();
    let o = Options::paper();
    let (_, l1_cells, _) = l1(&o, dir.path(), &Hidden).unwrap();
    let (_, l2_cells, _) = l2(&o, dir.path(), &Hidden).unwrap();
    let run = Run {
        l1: &l1_cells,
        l2: &l2_cells,
    };
    let all = claims::paper();
    println!("| tie | band | place | tally |\n|---|---|---|---|");
    for tie in [0.005, 0.01, 0.02] {
        for band in [0.25, 0.5, 1.0] {
            for place in [0.1, 0.2] {
                let rule = Rule { tie, band, place };
                let v = claims::verdicts(&all, &run, &rule);
                println!("| {tie} | {band} | {place} | {} |", claims::tally_text(&v));
            }
        }
    }
}
