//! The games section of the report (seed 004): every recomputed table beside the
//! dissertation's numbers, the CT scanner's phase lines, and chapter 5's strategy maps.

use crate::cells::CellStats;
use crate::plots::{heatmap, lines_with_bands, Heatmap, Palette, Series};
use crate::Figure;
use medisim_games::aco::AcoGame;
use medisim_games::chronic::{
    physician_strategy_name, ChronicCareGame, Effort, PatientCase, PhysicianCase,
};
use medisim_games::mssp::MsspGame;
use medisim_games::tables::{self, Table};
use std::path::Path;

/// Every games table and figure at the dissertation's parameters.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct GamesSection {
    pub tables: Vec<Table>,
    pub figures: Vec<Figure>,
}

/// The section, from the cache under `out` when a run of this model version made it (keyed by
/// the three games' parameters).
pub fn cached_section(out: Option<&Path>) -> anyhow::Result<(GamesSection, CellStats)> {
    let inputs = [
        toml::to_string(&AcoGame::default())?,
        toml::to_string(&MsspGame::default())?,
        toml::to_string(&ChronicCareGame::default())?,
    ]
    .join("\n# next game\n");
    crate::cells::cached(
        out,
        medisim_games::MODEL_VERSION,
        "games-section",
        &inputs,
        || section().map_err(|e| anyhow::anyhow!("games section: {e}")),
    )
}

/// Compute the section (about a second: the physician experiment solves 31,752 small LPs).
pub fn section() -> Result<GamesSection, String> {
    let (aco, mssp, chronic) = (
        AcoGame::default(),
        MsspGame::default(),
        ChronicCareGame::default(),
    );
    let patients = tables::patient_cases(&chronic)?;
    let physicians = tables::physician_cases(&chronic)?;
    Ok(GamesSection {
        tables: tables::every_table(&aco, &mssp, &chronic, &patients, &physicians),
        figures: vec![
            phase_lines(&aco),
            visit_map(&patients),
            physician_map(&physicians),
        ],
    })
}

/// The figure drawn for a table, if it has one (the command line writes it beside the CSV).
pub fn figure_for(
    table: &str,
    aco: &AcoGame,
    chronic: &ChronicCareGame,
) -> Result<Option<Figure>, String> {
    Ok(match table {
        "3.3" => Some(phase_lines(aco)),
        "5.2" | "5.3" => Some(visit_map(&tables::patient_cases(chronic)?)),
        "5.4" => Some(physician_map(&tables::physician_cases(chronic)?)),
        _ => None,
    })
}

/// Table 3.3 as a phase diagram: H buys the scanner above each line, k1 against Δ.
pub fn phase_lines(g: &AcoGame) -> Figure {
    let deltas: Vec<f64> = (0..=20).map(|k| f64::from(k) / 100.0).collect();
    let line = |incentive: bool| -> Vec<(f64, f64, f64, f64)> {
        deltas
            .iter()
            .map(|d| {
                let k = AcoGame {
                    delta: *d,
                    ..g.clone()
                }
                .invest_threshold(incentive);
                (*d, k, k, k)
            })
            .collect()
    };
    let series: Vec<Series> = vec![
        ("no incentive".into(), line(false)),
        ("incentive (m 0.5, M 35)".into(), line(true)),
    ];
    Figure {
        id: "games_ct_phase".into(),
        title: "CT scanner (ch. 3) — where the hospital buys: investment cost k1 against the accuracy gain Δ".into(),
        caption: "H buys the scanner above its line and keeps the status quo below (Table 3.3). The incentive line lies above the other: the shared-savings contract makes buying less attractive.".into(),
        panels: vec![(
            "phase".into(),
            lines_with_bands("k1 threshold (payoff units)", "Δ (accuracy gain)", &series, Some(g.delta)),
        )],
    }
}

/// Figure 5.2(a) as maps: PA's visit count over the visit payment × the maintaining cost c1,
/// the switching cost at its top value 0.10, one panel per lifestyle and effort.
pub fn visit_map(cases: &[PatientCase]) -> Figure {
    let pay: Vec<f64> = (0..=20).map(|k| f64::from(k) / 100.0).collect();
    let c1s: Vec<f64> = (1..10).map(|k| f64::from(k) / 100.0).collect();
    let panels = [
        ("B", 0, Effort::High),
        ("B", 0, Effort::Low),
        ("Nb", 1, Effort::High),
        ("Nb", 1, Effort::Low),
    ]
    .iter()
    .map(|(life, l, effort)| {
        let values: Vec<Vec<f64>> = pay
            .iter()
            .map(|m| {
                c1s.iter()
                    .map(|c1| {
                        cases
                            .iter()
                            .find(|c| {
                                c.effort == *effort
                                    && (c.payment - m).abs() < 1e-9
                                    && (c.c1 - c1).abs() < 1e-9
                                    && (c.c2 - 0.10).abs() < 1e-9
                            })
                            .map_or(f64::NAN, |c| c.visits[*l] as f64)
                    })
                    .collect()
            })
            .collect();
        let title = format!("lifestyle {life}, {effort:?} effort").to_lowercase();
        (
            title.clone(),
            heatmap(&Heatmap {
                title: &title,
                axes: ("visit payment m", "maintaining cost c1"),
                xs: &pay,
                ys: &c1s,
                values: &values,
                decimals: 0,
                cross: None,
                palette: Palette::Sequential,
                unit: "stages visited",
                intervals: None,
            }),
        )
    })
    .collect();
    Figure {
        id: "games_chronic_visits".into(),
        title: "Chronic care (ch. 5) — in how many of the three stages the patient visits the PCP".into(),
        caption: "Each cell: the number of chronic stages (0–3) in which PA's best response books a PCP visit, switching cost c2 = 0.10. Visits fall as the payment rises (Patient Incentive 2); high effort keeps more patients visiting (Incentive 1, Table 5.2).".into(),
        panels,
    }
}

/// Figure 5.5 as maps: PCP's tied strategy (1 = HHH … 4 = LLL) over n1 × n2, one panel per
/// patient strategy and disutility, on the 0.02 sub-grid.
pub fn physician_map(cases: &[PhysicianCase]) -> Figure {
    let grid: Vec<f64> = (0..=10).map(|k| f64::from(k) / 50.0).collect();
    let mut panels = Vec::new();
    for pa in 1..=3 {
        for u in [0.1, 0.2, 0.3] {
            let values: Vec<Vec<f64>> = grid
                .iter()
                .map(|n1| {
                    grid.iter()
                        .map(|n2| {
                            cases
                                .iter()
                                .find(|c| {
                                    c.patient_strategy == pa
                                        && (c.u_hs - u).abs() < 1e-9
                                        && (c.n1 - n1).abs() < 1e-9
                                        && (c.n2 - n2).abs() < 1e-9
                                })
                                .map_or(f64::NAN, |c| {
                                    let name = physician_strategy_name(&c.efforts);
                                    name.trim_start_matches('S').parse().unwrap_or(f64::NAN)
                                })
                        })
                        .collect()
                })
                .collect();
            let title = format!("PA strategy {pa}, u_Hs {u}");
            panels.push((
                title.clone(),
                heatmap(&Heatmap {
                    title: &title,
                    axes: ("n1 (high effort)", "n2 (low effort)"),
                    xs: &grid,
                    ys: &grid,
                    values: &values,
                    decimals: 0,
                    cross: None,
                    palette: Palette::Categorical,
                    unit: "strategy S1–S4",
                    intervals: None,
                }),
            ));
        }
    }
    Figure {
        id: "games_chronic_physician".into(),
        title: "Chronic care (ch. 5) — the physician's effort strategy against three patient strategies".into(),
        caption: "1 = high effort at every stage, 2 = low at stage 1 only, 3 = high at stage 3 only, 4 = low everywhere. The strategy flips across the 45° line n1 = n2 (Physician Incentive 1); the band of mixed strategies 2–3 widens as the disutility u_Hs rises (Incentive 2).".into(),
        panels,
    }
}
