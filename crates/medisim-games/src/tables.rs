//! The dissertation's tables, recomputed: one function per table, each returning a [`Table`]
//! the command line prints and writes as CSV and the report renders. Where the digest gives
//! the printed numbers, a `printed` column stands beside ours.

use crate::aco::{AcoGame, Investment, TABLE_3_5};
use crate::chronic::{
    class_shares, patient_experiment, physician_experiment, physician_strategy_name,
    ChronicCareGame, Effort, PatientCase, PhysicianCase,
};
use crate::model::GameName;
use crate::mssp::MsspGame;
use crate::optimize::switch_point;
use crate::GameParams;
use serde::{Deserialize, Serialize};

/// A recomputed table: named columns, rows of formatted cells, a note on what differs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Table {
    pub id: String,
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub note: String,
}

impl Table {
    fn new(id: &str, title: &str, columns: &[&str], note: &str) -> Table {
        Table {
            id: id.into(),
            title: title.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
            note: note.into(),
        }
    }

    /// The cells as the house's table (text columns: each cell is already formatted to the
    /// printed table's precision), for CSV, Parquet, JSON or text.
    pub fn table(&self) -> medisim_core::Table {
        let mut t = medisim_core::Table::new();
        for (k, name) in self.columns.iter().enumerate() {
            let cells = self
                .rows
                .iter()
                .map(|r| r.get(k).cloned().unwrap_or_default());
            t.push(name, medisim_core::Column::Text(cells.collect()));
        }
        t
    }

    /// The table as CSV (header first).
    pub fn to_csv(&self) -> Result<Vec<u8>, medisim_core::table::TableError> {
        self.table().to_csv()
    }

    /// The table as aligned text for a terminal, under its id and title, over its note.
    pub fn to_text(&self) -> Result<String, medisim_core::table::TableError> {
        let mut out = format!("{} — {}\n{}", self.id, self.title, self.table().to_text()?);
        if !self.note.is_empty() {
            out.push_str(&format!("note: {}\n", self.note));
        }
        Ok(out)
    }
}

fn f(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}")
}

fn opt(x: Option<f64>, decimals: usize) -> String {
    x.map_or("none".into(), |x| f(x, decimals))
}

fn inv(h: Investment) -> String {
    match h {
        Investment::Invest => "invest".into(),
        Investment::StatusQuo => "status quo".into(),
    }
}

/// Table 3.3: the investment cost k1 above which H buys the scanner, by Δ.
pub fn table_3_3(g: &AcoGame) -> Table {
    let printed_no = [1.6, -0.29, -2.204, -4.139, -6.09];
    let printed_with = [2.0, 0.141, -1.747, -3.659, -5.59];
    let mut t = Table::new(
        "table-3.3",
        "CT scanner: H buys when k1 exceeds the threshold (phase line in Δ, k1)",
        &[
            "delta",
            "k1_threshold_no_incentive",
            "printed",
            "k1_threshold_incentive",
            "printed",
        ],
        "incentive at the base case m = 0.5, M = 35",
    );
    for (k, delta) in [0.0, 0.05, 0.10, 0.15, 0.20].into_iter().enumerate() {
        let d = AcoGame { delta, ..g.clone() };
        t.rows.push(vec![
            f(delta, 2),
            f(d.invest_threshold(false), 3),
            f(printed_no[k], 3),
            f(d.invest_threshold(true), 3),
            f(printed_with[k], 3),
        ]);
    }
    t
}

/// Table 3.4: the benchmark M's effect on H's share, P's CT rate and the payoffs.
pub fn table_3_4(g: &AcoGame) -> Table {
    let mut t = Table::new(
        "table-3.4",
        "CT scanner: the benchmark M moves H's share m*, the CT rate and the investment",
        &[
            "benchmark",
            "invest_share_m",
            "invest_ct_rate",
            "invest_utility_h",
            "invest_utility_p",
            "invest_savings_g",
            "sq_share_m",
            "sq_ct_rate",
            "sq_utility_h",
            "sq_utility_p",
            "sq_savings_g",
            "investment",
        ],
        "",
    );
    for m in (28..=35).rev() {
        let d = AcoGame {
            benchmark: f64::from(m),
            ..g.clone()
        };
        let (i, s) = (
            d.best_share(Investment::Invest),
            d.best_share(Investment::StatusQuo),
        );
        t.rows.push(vec![
            m.to_string(),
            f(i.share, 4),
            f(i.ct_rate, 4),
            f(i.hospital, 3),
            f(i.physician, 2),
            f(i.savings, 4),
            f(s.share, 4),
            f(s.ct_rate, 4),
            f(s.hospital, 3),
            f(s.physician, 2),
            f(s.savings, 4),
            inv(d.equilibrium(true, true).investment),
        ]);
    }
    t
}

/// Table 3.5: the benchmark window of an interior share under +10% changes.
pub fn table_3_5(g: &AcoGame) -> Table {
    let printed = [
        (29.85, 29.95),
        (29.3, 30.0),
        (29.91, 30.00),
        (29.82, 29.99),
        (29.4, 30.1),
        (30.3, 30.8),
        (29.9, 30.0),
        (30.14, 30.15),
        (29.1, 29.9),
        (31.3, 31.9),
        (30.87, 30.88),
        (31.02, 31.03),
    ];
    let mut t = Table::new(
        "table-3.5",
        "CT scanner: where H's best share (status quo) is interior, 0 < m* < 1, under +10% changes",
        &[
            "parameter",
            "new_value",
            "m_leaves_1_at",
            "printed",
            "m_reaches_0_at",
            "printed",
            "length",
        ],
        "M on a 0.01 grid; a change that makes a probability exceed 1 is refused, not computed",
    );
    for ((key, value), (lo_p, hi_p)) in TABLE_3_5.iter().zip(printed) {
        let (lo, hi, len) = match g.with(key, value) {
            Ok(d) => match d.interior_share_window(Investment::StatusQuo, 20.0, 40.0, 0.01) {
                Some((lo, hi)) => (f(lo, 2), f(hi, 2), f(hi - lo, 2)),
                None => ("none".into(), "none".into(), "-".into()),
            },
            Err(e) => (format!("refused: {e}"), "-".into(), "-".into()),
        };
        let name = if *key == "share" { "base case" } else { key };
        t.rows.push(vec![
            name.into(),
            value.to_string(),
            lo,
            f(lo_p, 2),
            hi,
            f(hi_p, 2),
            len,
        ]);
    }
    t
}

/// Table 4.2: the imaging game's equilibrium by investment, with and without the incentive.
pub fn table_4_2(g: &MsspGame) -> Table {
    let mut t = Table::new(
        "table-4.2",
        "Imaging: test rates, H's shares and utilities by investment (M = benchmark)",
        &[
            "investment",
            "incentive",
            "theta_p",
            "theta_r",
            "alpha",
            "beta",
            "utility_h",
            "utility_p",
            "utility_r",
        ],
        "",
    );
    for h in [Investment::Invest, Investment::StatusQuo] {
        for incentive in [false, true] {
            let o = if incentive {
                g.best_shares(h)
            } else {
                g.outcome(h, 0.0, 0.0, false)
            };
            t.rows.push(vec![
                inv(h),
                incentive.to_string(),
                f(o.theta_p, 3),
                f(o.theta_r, 3),
                f(o.alpha, 3),
                f(o.beta, 3),
                f(o.u_h, 1),
                f(o.u_p, 1),
                f(o.u_r, 1),
            ]);
        }
    }
    t
}

/// Table 4.3: where H's equilibrium investment switches, one parameter at a time.
pub fn table_4_3(g: &MsspGame) -> Table {
    let mut t = Table::new(
        "table-4.3",
        "Imaging: the value of each parameter at which H switches from investing to the status quo",
        &["parameter", "initial", "no_incentive", "printed", "incentive", "printed"],
        "scanned outward from the initial value (never across zero) and bisected; the digest recomputes c_h[0] 163 and gamma_c 10.08 with the incentive",
    );
    for (key, printed_no, printed_with) in [
        ("k[0]", Some(328.0), Some(307.0)),
        ("c_h[0]", Some(193.0), Some(162.0)),
        ("gamma_c", Some(13.7), Some(8.6)),
        ("gamma_p", None, None),
        ("delta", Some(0.031), Some(0.033)),
        ("pr_h_state1[0]", None, None),
    ] {
        let at = |incentive: bool| {
            switch_point(g, key, 100.0, |d: &MsspGame| {
                d.equilibrium(incentive).investment
            })
        };
        let dec = if g.value(key).unwrap_or(0.0).abs() < 1.0 {
            3
        } else {
            1
        };
        t.rows.push(vec![
            key.into(),
            opt(g.value(key), 3),
            opt(at(false), dec),
            opt(printed_no, dec),
            opt(at(true), dec),
            opt(printed_with, dec),
        ]);
    }
    t
}

/// Table 4.4: the benchmark M's effect on billings, the incentive, net cost and health.
pub fn table_4_4(g: &MsspGame) -> Table {
    let mut t = Table::new(
        "table-4.4",
        "Imaging: the benchmark M moves the ACO's billings, incentive, net cost, health and H's shares",
        &["benchmark", "billings", "incentive", "net_cost", "health", "alpha", "beta", "investment", "participates"],
        "the last row is the game without the savings contract; a player participates when its utility is at least its utility without the contract (printed: H from 3300, P from 3500, R from 3600)",
    );
    let none = g.equilibrium(false);
    for m in (0..=10).map(|k| 3000.0 + 100.0 * f64::from(k)) {
        let o = MsspGame {
            benchmark: m,
            ..g.clone()
        }
        .equilibrium(true);
        let joins: Vec<&str> = [
            ("H", o.u_h, none.u_h),
            ("P", o.u_p, none.u_p),
            ("R", o.u_r, none.u_r),
        ]
        .iter()
        .filter(|(_, with, without)| with >= without)
        .map(|(who, _, _)| *who)
        .collect();
        t.rows.push(vec![
            f(m, 0),
            f(o.billings, 2),
            f(o.incentive, 2),
            f(o.billings + o.incentive, 2),
            f(o.health, 2),
            f(o.alpha, 4),
            f(o.beta, 4),
            inv(o.investment),
            joins.join(" "),
        ]);
    }
    let o = none;
    t.rows.push(vec![
        "none".into(),
        f(o.billings, 2),
        f(0.0, 2),
        f(o.billings, 2),
        f(o.health, 2),
        "-".into(),
        "-".into(),
        inv(o.investment),
        "-".into(),
    ]);
    t
}

/// The patient experiment's cases for both effort levels (the input of Tables 5.2 and 5.3).
pub fn patient_cases(g: &ChronicCareGame) -> Result<Vec<PatientCase>, String> {
    let mut cases = patient_experiment(g, Effort::High)?;
    cases.extend(patient_experiment(g, Effort::Low)?);
    Ok(cases)
}

fn patient_table(
    cases: &[PatientCase],
    id: &str,
    title: &str,
    count: impl Fn(&PatientCase, usize) -> usize,
    printed: [[f64; 4]; 4],
    stages: usize,
) -> Table {
    let mut t = Table::new(
        id,
        title,
        &["current_lifestyle", "effort", "always", "printed", "2_of_3", "printed", "1_of_3", "printed", "never", "printed"],
        "percent of the 945 cases of Table 5.1; PA's best response (policy iteration, gap 0) to PCP's effort everywhere",
    );
    for (k, (life, effort)) in PANELS.iter().enumerate() {
        let l = (*life == "Nb") as usize;
        let shares = class_shares(
            cases
                .iter()
                .filter(|c| c.effort == *effort)
                .map(|c| count(c, l)),
            stages,
        );
        let mut row = vec![life.to_string(), format!("{effort:?}").to_lowercase()];
        for (s, p) in shares.iter().zip(printed[k]) {
            row.push(f(*s, 1));
            row.push(f(p, 1));
        }
        t.rows.push(row);
    }
    t
}

/// The panels of Tables 5.2 and 5.3, in their printed order: (current lifestyle, effort).
pub const PANELS: [(&str, Effort); 4] = [
    ("B", Effort::High),
    ("B", Effort::Low),
    ("Nb", Effort::High),
    ("Nb", Effort::Low),
];

/// Table 5.2 as printed (always, 2 of 3, 1 of 3, never), rows as [`PANELS`].
pub const PRINTED_5_2: [[f64; 4]; 4] = [
    [67.4, 4.1, 18.2, 10.3],
    [55.1, 5.2, 25.6, 14.1],
    [86.6, 0.3, 9.6, 3.5],
    [55.3, 5.0, 25.9, 13.8],
];

/// Table 5.3 as printed, rows as [`PANELS`].
pub const PRINTED_5_3: [[f64; 4]; 4] = [
    [29.7, 9.1, 11.6, 49.6],
    [96.1, 3.9, 0.0, 0.0],
    [4.4, 8.8, 3.7, 83.1],
    [93.4, 6.6, 0.0, 0.0],
];

/// Table 5.2: PCP's effort and the patient's primary-care visits.
pub fn table_5_2(g: &ChronicCareGame, cases: &[PatientCase]) -> Table {
    patient_table(
        cases,
        "table-5.2",
        "Chronic care: in how many stages PA visits the PCP next period",
        |c, l| c.visits[l],
        PRINTED_5_2,
        g.layout().stages,
    )
}

/// Table 5.3: PCP's effort and the patient's next lifestyle.
pub fn table_5_3(g: &ChronicCareGame, cases: &[PatientCase]) -> Table {
    patient_table(
        cases,
        "table-5.3",
        "Chronic care: in how many stages PA chooses the beneficial lifestyle next period",
        |c, l| c.beneficial[l],
        PRINTED_5_3,
        g.layout().stages,
    )
}

/// The physician experiment's cases: three patient strategies × three disutilities.
pub fn physician_cases(g: &ChronicCareGame) -> Result<Vec<PhysicianCase>, String> {
    let mut out = Vec::new();
    for pa in 1..=3 {
        for u in [0.1, 0.2, 0.3] {
            out.extend(physician_experiment(g, pa, u)?);
        }
    }
    Ok(out)
}

/// Table 5.4's experiment summarised: per patient strategy and disutility, how many of the
/// 441 cases each PCP strategy takes, how many are second best, and the band around the 45°
/// line n1 = n2 outside which PCP is all-high (above) or all-low (below).
pub fn table_5_4(cases: &[PhysicianCase]) -> Table {
    let mut t = Table::new(
        "table-5.4",
        "Chronic care: PCP's tied effort against three patient strategies (441 cases each)",
        &["pa_strategy", "u_hs", "S1_HHH", "S2_LHH", "S3_LLH", "S4_LLL", "other", "second_best", "band_n1_minus_n2"],
        "PCP's effort minimises its NLP-2 value over the 8 tied strategies; second best: that value > 0 (no tied best response). Example: PA 2, n1 0, n2 0.02 gives S4, S3, S2 for u_hs 0.1, 0.2, 0.3, as printed",
    );
    for pa in 1..=3 {
        for u in [0.1, 0.2, 0.3] {
            let panel: Vec<&PhysicianCase> = cases
                .iter()
                .filter(|c| c.patient_strategy == pa && (c.u_hs - u).abs() < 1e-12)
                .collect();
            let mut counts = [0usize; 5];
            let mut band: f64 = 0.0;
            for c in &panel {
                let name = physician_strategy_name(&c.efforts);
                let k = ["S1", "S2", "S3", "S4"]
                    .iter()
                    .position(|s| *s == name)
                    .unwrap_or(4);
                counts[k] += 1;
                if (k != 0 && c.n1 > c.n2) || (k != 3 && c.n2 > c.n1) {
                    band = band.max((c.n1 - c.n2).abs());
                }
            }
            let second = panel.iter().filter(|c| c.psi > 1e-9).count();
            let mut row = vec![pa.to_string(), f(u, 1)];
            row.extend(counts.iter().map(|c| c.to_string()));
            row.push(second.to_string());
            row.push(f(band, 2));
            t.rows.push(row);
        }
    }
    t
}

/// Every table of [`TABLES`], in its order, for these games and the chapter 5 cases computed
/// from `chronic` ([`patient_cases`], [`physician_cases`]).
pub fn every_table(
    aco: &AcoGame,
    mssp: &MsspGame,
    chronic: &ChronicCareGame,
    patients: &[PatientCase],
    physicians: &[PhysicianCase],
) -> Vec<Table> {
    vec![
        table_3_3(aco),
        table_3_4(aco),
        table_3_5(aco),
        table_4_2(mssp),
        table_4_3(mssp),
        table_4_4(mssp),
        table_5_2(chronic, patients),
        table_5_3(chronic, patients),
        table_5_4(physicians),
    ]
}

/// Every table of a game by its number (`3.3` …), for the command line.
pub const TABLES: [(&str, &str); 9] = [
    ("3.3", "ct-scanner"),
    ("3.4", "ct-scanner"),
    ("3.5", "ct-scanner"),
    ("4.2", "imaging"),
    ("4.3", "imaging"),
    ("4.4", "imaging"),
    ("5.2", "chronic-care"),
    ("5.3", "chronic-care"),
    ("5.4", "chronic-care"),
];

/// The keys each table sets itself: a value given for one would be overwritten, and the table
/// printed as if it were used (`imaging --table 4.4 --benchmark 3000` printed the published
/// table, exit 0).
const TABLE_SWEEPS: [(&str, &[&str]); 4] = [
    ("3.4 3.5 4.4", &["benchmark"]),
    ("5.2 5.3", &["m1", "m2", "c1", "c2"]),
    ("5.4", &["n1", "n2", "u_hs"]),
    ("3.3 4.2 4.3", &[]),
];

/// `game`'s table numbers, for messages: `3.3, 3.4, 3.5`.
pub fn table_list(game: GameName) -> String {
    tables_of(game).join(", ")
}

fn tables_of(game: GameName) -> Vec<&'static str> {
    TABLES
        .iter()
        .filter(|(_, g)| *g == game.name())
        .map(|(t, _)| *t)
        .collect()
}

/// The tables `which` names in `game`: one number of [`TABLES`], or `all` of the game's.
pub fn wanted(game: GameName, which: &str) -> Result<Vec<&'static str>, String> {
    let mine = tables_of(game);
    if which == "all" {
        return Ok(mine);
    }
    if let Some(t) = mine.iter().find(|t| **t == which) {
        return Ok(vec![*t]);
    }
    Err(match TABLES.iter().find(|(t, _)| *t == which) {
        Some((_, g)) => format!(
            "table {which} belongs to `medisim game {g}`, not {}",
            game.name()
        ),
        None => format!(
            "no table {which} in {}: choose one of {} or all",
            game.name(),
            mine.join(", ")
        ),
    })
}

/// A parameter a table in `wanted` sweeps itself, moved from its default: refused, since the
/// table would overwrite it in silence.
fn refuse_swept(wanted: &[&str], game: GameName, games: Games) -> Result<(), String> {
    fn moved<T: Serialize + Default>(g: &T, key: &str) -> bool {
        let get = medisim_core::params::get;
        let (now, default) = (get(g, key), get(&T::default(), key));
        now.is_ok() && now.ok() != default.ok()
    }
    for t in wanted {
        let keys = TABLE_SWEEPS
            .iter()
            .find(|(tables, _)| tables.split(' ').any(|x| x == *t))
            .map_or(&[][..], |(_, keys)| *keys);
        let given = keys.iter().find(|k| match game {
            GameName::CtScanner => moved(games.0, k),
            GameName::Imaging => moved(games.1, k),
            GameName::ChronicCare => moved(games.2, k),
        });
        if let Some(key) = given {
            return Err(format!(
                "table {t} sets `{key}` itself (it sweeps {}), so the `{key}` given would not \
                 change it: drop it",
                keys.join(", ")
            ));
        }
    }
    Ok(())
}

/// The three games' parameters; a table reads its own game's.
pub type Games<'a> = (&'a AcoGame, &'a MsspGame, &'a ChronicCareGame);

/// The tables `which` of `game` (a number or `all`), recomputed with `games`' parameters, each
/// with its number: the one path of `medisim game --table` and Python's `game_tables`.
pub fn recompute(
    game: GameName,
    which: &str,
    games: Games,
) -> Result<Vec<(&'static str, Table)>, String> {
    let wanted = wanted(game, which)?;
    refuse_swept(&wanted, game, games)?;
    let (aco, mssp, chronic) = games;
    // Chapter 5's tables name the 3-stage game's strategies (S1_HHH, 2_of_3): on another stage
    // count their columns would be mislabelled (with 4 stages every case landed in `other`).
    let stages = chronic.h_po.len();
    if game == GameName::ChronicCare && stages != 3 {
        return Err(format!(
            "tables 5.2, 5.3 and 5.4 are defined on the dissertation's 3 chronic stages (their \
             columns name its strategies); these parameters have {stages}: solve them without \
             --table"
        ));
    }
    let cause = |e: String| {
        let why = medisim_core::params::culprit(chronic, &ChronicCareGame::default());
        format!("{e}; {why}")
    };
    let patients = if wanted.iter().any(|t| *t == "5.2" || *t == "5.3") {
        patient_cases(chronic).map_err(cause)?
    } else {
        Vec::new()
    };
    let mut out = Vec::with_capacity(wanted.len());
    for t in wanted {
        let table = match t {
            "3.3" => table_3_3(aco),
            "3.4" => table_3_4(aco),
            "3.5" => table_3_5(aco),
            "4.2" => table_4_2(mssp),
            "4.3" => table_4_3(mssp),
            "4.4" => table_4_4(mssp),
            "5.2" => table_5_2(chronic, &patients),
            "5.3" => table_5_3(chronic, &patients),
            _ => table_5_4(&physician_cases(chronic).map_err(cause)?),
        };
        out.push((t, table));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tables 5.2 and 5.3, within 0.5 percentage points of every printed share.
    #[test]
    fn tables_5_2_and_5_3_reproduce() {
        let g = ChronicCareGame::default();
        let cases = patient_cases(&g).unwrap();
        assert_eq!(cases.len(), 2 * 945);
        assert!(cases.iter().all(|c| c.gap <= 1e-9));
        for (k, (life, effort)) in PANELS.iter().enumerate() {
            let l = (*life == "Nb") as usize;
            let panel = || cases.iter().filter(|c| c.effort == *effort);
            let visits = class_shares(panel().map(|c| c.visits[l]), 3);
            let lifestyle = class_shares(panel().map(|c| c.beneficial[l]), 3);
            for (ours, printed) in [(visits, PRINTED_5_2[k]), (lifestyle, PRINTED_5_3[k])] {
                let off = ours
                    .iter()
                    .zip(printed)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max);
                assert!(off <= 0.55, "{life} {effort:?}: {ours:?} vs {printed:?}");
            }
        }
    }

    #[test]
    fn tables_hold_their_columns_and_quote_csv() {
        let t = table_3_3(&AcoGame::default());
        assert_eq!(t.rows.len(), 5);
        assert!(t.rows.iter().all(|r| r.len() == t.columns.len()));
        let csv = String::from_utf8(t.to_csv().unwrap()).unwrap();
        assert!(csv.starts_with("delta,k1_threshold_no_incentive"), "{csv}");
        let mut q = t.clone();
        q.rows[0][0] = "a,\"b\"".into();
        assert!(String::from_utf8(q.to_csv().unwrap())
            .unwrap()
            .contains("\"a,\"\"b\"\"\""));
        // Table 4.4's participation column: H joins from M = 3300 and R from 3600, as printed;
        // P from 3400, where the dissertation prints 3500 — at 3400 P gains 0.14 utility
        // units of 9,963 over the no-contract game, less than the printed utilities' rounding.
        let t = table_4_4(&MsspGame::default());
        let joins: Vec<&str> = t.rows.iter().map(|r| r[8].as_str()).collect();
        assert_eq!(
            &joins[..7],
            ["", "", "", "H", "H P", "H P", "H P R"],
            "{joins:?}"
        );
        let t = table_4_3(&MsspGame::default());
        assert_eq!(t.rows[0][2], "328.1");
        assert_eq!(t.rows[3][2], "none");
    }
}
