//! Bounded fuzz harness over the games' parameter files (docs/reliability.md): each game's
//! defaults as TOML, a hostile number (NaN, infinities, 1e308, 2^64 − 1, …) in place of one
//! value, then byte edits. Whatever the text: reading never panics; what reads solves, through
//! the game's model, to finite values or to an error that says why, in bounded time.

use medisim_core::fuzz::{mutate, replace_number, HOSTILE_NUMBERS};
use medisim_core::{Model, NoSettings, RunSpec};
use medisim_games::aco::AcoGame;
use medisim_games::chronic::ChronicCareGame;
use medisim_games::model::{ChronicCare, CtScanner, Imaging};
use medisim_games::mssp::MsspGame;
use medisim_games::GameParams;
use proptest::prelude::*;

/// Read `text` as `G`; if it reads, solve it through `model` and hold the answer finite.
fn read_and_solve<G, M>(model: &M, text: &str) -> Result<(), TestCaseError>
where
    G: GameParams + Clone,
    M: Model<Scenario = G, Policy = (), Settings = NoSettings>,
{
    match G::from_toml(text, "fuzz.toml") {
        Err(e) => prop_assert!(
            e.to_string().contains('`') || e.to_string().contains("fuzz.toml"),
            "{e}"
        ),
        Ok(g) => {
            let spec = RunSpec::new(vec![0], NoSettings {});
            match model.run(&g, &(), &spec) {
                Ok(s) => prop_assert!(s.check_finite().is_ok()),
                Err(e) => prop_assert!(!e.is_empty()),
            }
        }
    }
    Ok(())
}

fn seed<G: GameParams>() -> String {
    toml::to_string(&G::default()).unwrap()
}

proptest! {
    #[test]
    fn any_game_parameter_text_solves_or_is_refused(
        game in 0usize..3,
        k in 0usize..120,
        hostile in proptest::sample::select(HOSTILE_NUMBERS),
        edits in proptest::collection::vec((any::<usize>(), 0u8..4, any::<u8>()), 0..4),
    ) {
        let base = match game {
            0 => seed::<AcoGame>(),
            1 => seed::<MsspGame>(),
            _ => seed::<ChronicCareGame>(),
        };
        let bytes = mutate(replace_number(&base, k, hostile).as_bytes(), &edits);
        let text = String::from_utf8_lossy(&bytes);
        let start = std::time::Instant::now();
        match game {
            0 => read_and_solve(&CtScanner, &text)?,
            1 => read_and_solve(&Imaging, &text)?,
            _ => read_and_solve(&ChronicCare, &text)?,
        }
        prop_assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
    }
}
