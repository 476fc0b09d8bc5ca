//! The golden games: every recomputed table of the dissertation at its default parameters,
//! pinned in `tests/snapshots/`. It fails on any change to the games' behaviour; when the change
//! is intended, bump `MODEL_VERSION` in `src/lib.rs`, add a `CHANGELOG.md` entry marked
//! **model-breaking** and renew the snapshot (`INSTA_UPDATE=always cargo test -p medisim-games
//! --test golden`). The version is part of the snapshot.

use medisim_games::aco::AcoGame;
use medisim_games::chronic::ChronicCareGame;
use medisim_games::mssp::MsspGame;
use medisim_games::{tables, MODEL_VERSION};

#[test]
fn every_recomputed_table() {
    let (aco, mssp, chronic) = (
        AcoGame::default(),
        MsspGame::default(),
        ChronicCareGame::default(),
    );
    let patients = tables::patient_cases(&chronic).unwrap();
    let physicians = tables::physician_cases(&chronic).unwrap();
    let all = tables::every_table(&aco, &mssp, &chronic, &patients, &physicians);
    let mut text = format!("model {MODEL_VERSION}; default parameters\n");
    for t in &all {
        text.push_str(&t.to_text().unwrap());
        text.push('\n');
    }
    insta::assert_snapshot!(text);
}
