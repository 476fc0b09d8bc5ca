//! `medisim game`: the multi-level incentive games (seed 004) — chapter 3's CT scanner under
//! ACO shared savings, chapter 4's imaging game, chapter 5's chronic-care stochastic game —
//! each solved for its equilibrium, or one of the dissertation's tables recomputed.

use crate::experiments::finite_result;
use anyhow::{bail, Result};
use medisim_core::params::{self, culprit};
use medisim_core::text::name_of;
use medisim_games::aco::{AcoGame, Investment, Outcome};
use medisim_games::chronic::{ChronicCareGame, ChronicOutcome, Effort, Lifestyle};
use medisim_games::model::GameName;
use medisim_games::mssp::MsspGame;
use medisim_games::tables::{self, Table, TABLES};
use medisim_games::GameParams;
use std::path::PathBuf;

/// `GAME` as clap reads it: the games' own names, aliases and one-line help
/// ([`GameName`]), so the CLI, `--model` and Python agree on them.
fn game_name() -> impl clap::builder::TypedValueParser<Value = GameName> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(GameName::ALL.map(|g| {
        PossibleValue::new(g.name())
            .aliases(g.aliases())
            .help(g.about())
    }))
    .map(|s| GameName::from_name(&s).expect("a possible value names a game"))
}

#[derive(clap::Args)]
pub struct GameArgs {
    /// The game to solve.
    #[arg(value_parser = game_name())]
    game: GameName,
    /// Game parameters as TOML (every key defaults to the dissertation's values).
    #[arg(long)]
    params: Option<PathBuf>,
    /// Set one parameter, after --params: KEY=VALUE, or KEY\[i\]=VALUE for an array element
    /// (repeatable; `medisim game GAME --json` shows the keys).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// The payer's benchmark M (shorthand for --set benchmark=M).
    #[arg(long)]
    benchmark: Option<f64>,
    /// ct-scanner: the share m of savings H passes to the physicians; omitted: H chooses it.
    #[arg(long)]
    share: Option<f64>,
    /// Without the shared-savings contract (ct-scanner, imaging).
    #[arg(long)]
    no_incentive: bool,
    /// Recompute one of the dissertation's tables (3.3, 3.4, 3.5, 4.2, 4.3, 4.4, 5.2, 5.3,
    /// 5.4) instead of solving one game, or `all` of this game's.
    #[arg(long)]
    table: Option<String>,
    /// With --table: write each table as CSV (and its figure as SVG) into this directory.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// The game's parameters: `--params FILE` (every key defaulted) or the dissertation's, then
/// each `--set` in order.
fn load<T: GameParams + Clone>(a: &GameArgs) -> Result<T> {
    let base = match &a.params {
        Some(p) => {
            let text = medisim_core::input::read_settings(p, "game parameters")?;
            T::from_toml(&text, &p.display().to_string())?
        }
        None => T::default(),
    };
    let mut sets = a.sets.clone();
    if let Some(m) = a.benchmark {
        sets.push(format!("benchmark={m:?}"));
    }
    Ok(base.with_all(&sets)?)
}

pub fn game(a: &GameArgs) -> Result<bool> {
    if a.out.is_some() && a.table.is_none() {
        bail!(
            "--out writes tables: add --table (one of {}) or drop --out",
            table_list(a.game)
        );
    }
    if a.game != GameName::CtScanner && a.share.is_some() {
        bail!(
            "--share belongs to the ct-scanner game; in {} no one passes a share m",
            a.game.name()
        );
    }
    if a.game == GameName::ChronicCare && (a.benchmark.is_some() || a.no_incentive) {
        bail!("--benchmark and --no-incentive belong to ct-scanner and imaging; chronic-care has no savings contract (use --set)");
    }
    refuse_flag_and_set(a)?;
    if let Some(t) = &a.table {
        return table(a, t);
    }
    match a.game {
        GameName::CtScanner => ct_scanner(a),
        GameName::Imaging => imaging(a),
        GameName::ChronicCare => chronic_care(a),
    }
}

/// The keys each table sets itself: a value given for one would be overwritten, and the table
/// printed as if it were used (`imaging --table 4.4 --benchmark 3000` printed the published
/// table, exit 0).
const TABLE_SWEEPS: [(&str, &[&str]); 4] = [
    ("3.4 3.5 4.4", &["benchmark"]),
    ("5.2 5.3", &["m1", "m2", "c1", "c2"]),
    ("5.4", &["n1", "n2", "u_hs"]),
    ("3.3 4.2 4.3", &[]),
];

/// Refuse, for the tables `wanted`, a value given for a key a table sweeps, and `--share` or
/// `--no-incentive` (each table fixes the contract itself).
fn refuse_swept(
    a: &GameArgs,
    wanted: &[&str],
    (aco, mssp, chronic): (&AcoGame, &MsspGame, &ChronicCareGame),
) -> Result<()> {
    if a.share.is_some() || a.no_incentive {
        bail!(
            "--share and --no-incentive apply to one solve; the tables set the contract \
             themselves: drop them"
        );
    }
    fn moved<T: serde::Serialize + Default>(g: &T, key: &str) -> bool {
        let (now, default) = (params::get(g, key), params::get(&T::default(), key));
        now.is_ok() && now.ok() != default.ok()
    }
    for t in wanted {
        let keys = TABLE_SWEEPS
            .iter()
            .find(|(tables, _)| tables.split(' ').any(|x| x == *t))
            .map_or(&[][..], |(_, keys)| *keys);
        let given = keys.iter().find(|k| match a.game {
            GameName::CtScanner => moved(aco, k),
            GameName::Imaging => moved(mssp, k),
            GameName::ChronicCare => moved(chronic, k),
        });
        if let Some(key) = given {
            bail!(
                "table {t} sets `{key}` itself (it sweeps {}), so the `{key}` given would not \
                 change it: drop it",
                keys.join(", ")
            );
        }
    }
    Ok(())
}

/// `--set share` and `--set benchmark` beside their flags: the flag won in silence (`--share
/// 0.5 --set share=0.3` used 0.5). And `--set share` alone was ignored where H chooses the
/// share, which is what a ct-scanner solve does unless `--share` fixes it.
fn refuse_flag_and_set(a: &GameArgs) -> Result<()> {
    for text in &a.sets {
        let key = text
            .split_once('=')
            .map_or(text.as_str(), |(k, _)| k.trim());
        let why = match key {
            "benchmark" if a.benchmark.is_some() => "--benchmark, given too, would override it",
            "share" if a.share.is_some() => "--share, given too, would override it",
            "share" if a.table.is_none() => "H chooses the share unless --share fixes it",
            _ => continue,
        };
        bail!("--set {key} would be ignored ({why}): give it once, as --{key}");
    }
    Ok(())
}

/// This game's tables, for messages.
fn table_list(game: GameName) -> String {
    TABLES
        .iter()
        .filter(|(_, g)| *g == game.name())
        .map(|(t, _)| *t)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `--table N`: recompute, print (or print as JSON), and with `--out` write CSV and figure.
fn table(a: &GameArgs, which: &str) -> Result<bool> {
    let mine: Vec<&str> = TABLES
        .iter()
        .filter(|(_, g)| *g == a.game.name())
        .map(|(t, _)| *t)
        .collect();
    let wanted: Vec<&str> = if which == "all" {
        mine.clone()
    } else if mine.contains(&which) {
        vec![which]
    } else if let Some((_, g)) = TABLES.iter().find(|(t, _)| *t == which) {
        bail!(
            "table {which} belongs to `medisim game {g}`, not {}",
            a.game.name()
        );
    } else {
        bail!(
            "no table {which} in {}: choose one of {} or all",
            a.game.name(),
            mine.join(", ")
        );
    };
    // One writer per output directory: two table runs into one --out would interleave their
    // files. A kill leaves whole files (every write is atomic) and the lock, which the next
    // run takes over; the tables are deterministic, so running again writes the same bytes.
    let _lock = match &a.out {
        Some(dir) => Some(medisim_core::RunDir::create(dir)?.lock()?),
        None => None,
    };
    let (aco, mssp, chronic): (AcoGame, MsspGame, ChronicCareGame) = match a.game {
        GameName::CtScanner => (load(a)?, Default::default(), Default::default()),
        GameName::Imaging => (Default::default(), load(a)?, Default::default()),
        GameName::ChronicCare => (Default::default(), Default::default(), load(a)?),
    };
    refuse_swept(a, &wanted, (&aco, &mssp, &chronic))?;
    // Chapter 5's tables name the 3-stage game's strategies (S1_HHH, 2_of_3): on another stage
    // count their columns would be mislabelled (with 4 stages every case landed in `other`).
    let stages = chronic.h_po.len();
    if a.game == GameName::ChronicCare && stages != 3 {
        bail!(
            "tables 5.2, 5.3 and 5.4 are defined on the dissertation's 3 chronic stages (their \
             columns name its strategies); these parameters have {stages}: solve them without \
             --table"
        );
    }
    let patient_tables = wanted
        .iter()
        .any(|t| t.starts_with("5.2") || t.starts_with("5.3"));
    let patients = if patient_tables {
        tables::patient_cases(&chronic).map_err(|e| {
            anyhow::anyhow!("{e}; {}", culprit(&chronic, &ChronicCareGame::default()))
        })?
    } else {
        Vec::new()
    };
    let mut out: Vec<Table> = Vec::new();
    for t in &wanted {
        out.push(match *t {
            "3.3" => tables::table_3_3(&aco),
            "3.4" => tables::table_3_4(&aco),
            "3.5" => tables::table_3_5(&aco),
            "4.2" => tables::table_4_2(&mssp),
            "4.3" => tables::table_4_3(&mssp),
            "4.4" => tables::table_4_4(&mssp),
            "5.2" => tables::table_5_2(&chronic, &patients),
            "5.3" => tables::table_5_3(&chronic, &patients),
            _ => tables::table_5_4(&tables::physician_cases(&chronic).map_err(|e| {
                anyhow::anyhow!("{e}; {}", culprit(&chronic, &ChronicCareGame::default()))
            })?),
        });
    }
    if let Some(dir) = &a.out {
        for (t, table) in wanted.iter().zip(&out) {
            let csv = dir.join(format!("{}.csv", table.id));
            medisim_core::rundir::write_atomic(&csv, &table.to_csv()?)?;
            if let Some(fig) = medisim_experiments::games::figure_for(t, &aco, &chronic)
                .map_err(anyhow::Error::msg)?
            {
                for (k, (_, svg)) in fig.panels.iter().enumerate() {
                    let path = dir.join(format!("{}-{}.svg", table.id, k + 1));
                    medisim_core::rundir::write_atomic(&path, svg.as_bytes())?;
                }
            }
        }
    }
    if a.json {
        say!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for t in &out {
            say_raw!("{}\n", t.to_text()?);
        }
        if let Some(dir) = &a.out {
            say!(
                "wrote {} table(s) as CSV, figures as SVG, to {}",
                out.len(),
                dir.display()
            );
        }
    }
    Ok(true)
}

fn ct_scanner(a: &GameArgs) -> Result<bool> {
    let mut g: AcoGame = load(a)?;
    if let Some(s) = a.share {
        g = g.with("share", &format!("{s:?}"))?;
    }
    let incentive = !a.no_incentive;
    let optimise = incentive && a.share.is_none();
    let at = |h| {
        if optimise {
            g.best_share(h)
        } else {
            g.outcome(h, g.share, incentive)
        }
    };
    let branches = [at(Investment::Invest), at(Investment::StatusQuo)];
    let eq = g.equilibrium(incentive, optimise);
    // k1 enters H's payoff additively and not P's response or H's share, so the boundary
    // is where the two branches' payoffs cross.
    let threshold = branches[1].hospital - (branches[0].hospital - g.k[0]);
    let cause = culprit(&g, &AcoGame::default());
    finite_result(&branches, "the branches (invest, status quo)", &cause)?;
    finite_result(&eq, "the equilibrium", &cause)?;
    finite_result(&threshold, "the investment threshold k1", &cause)?;
    if a.json {
        say!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "game": "ct-scanner", "incentive": incentive, "benchmark": g.benchmark,
                "branches": branches, "equilibrium": eq,
                "invest_threshold_k1": threshold,
            }))?
        );
        return Ok(true);
    }
    say!(
        "ACO shared savings and a CT scanner (dissertation ch. 3): benchmark M = {}, μ = {}, {}",
        g.benchmark,
        g.mu,
        if !incentive {
            "no savings contract".to_string()
        } else if optimise {
            "H chooses its share m".to_string()
        } else {
            format!("share m = {}", g.share)
        }
    );
    say!(
        "  {:<11} {:>8} {:>9} {:>10} {:>11} {:>10}",
        "H chooses",
        "share m",
        "CT rate",
        "savings g",
        "H payoff",
        "P payoff"
    );
    let row = |o: &Outcome| -> Result<()> {
        say!(
            "  {:<11} {:>8.4} {:>9.4} {:>10.4} {:>11.4} {:>10.4}",
            name_of(&o.investment),
            o.share,
            o.ct_rate,
            o.savings,
            o.hospital,
            o.physician
        );
        Ok(())
    };
    for b in &branches {
        row(b)?;
    }
    say!(
        "  subgame-perfect equilibrium: {}, CT rate {:.4}; H buys the scanner when its cost k1 > {:.3}",
        name_of(&eq.investment),
        eq.ct_rate,
        threshold
    );
    Ok(true)
}

fn imaging(a: &GameArgs) -> Result<bool> {
    use medisim_games::mssp::MsspOutcome;
    let g: MsspGame = load(a)?;
    let incentive = !a.no_incentive;
    let at = |h| {
        if incentive {
            g.best_shares(h)
        } else {
            g.outcome(h, 0.0, 0.0, false)
        }
    };
    let branches = [at(Investment::Invest), at(Investment::StatusQuo)];
    let eq = g.equilibrium(incentive);
    let cause = culprit(&g, &MsspGame::default());
    finite_result(&branches, "the branches (invest, status quo)", &cause)?;
    finite_result(&eq, "the equilibrium", &cause)?;
    if a.json {
        say!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "game": "imaging", "incentive": incentive, "benchmark": g.benchmark,
                "branches": branches, "equilibrium": eq,
            }))?
        );
        return Ok(true);
    }
    say!(
        "CMS → ACO hospital → PCP and radiologist (dissertation ch. 4): benchmark M = {}, η = {}{}",
        g.benchmark,
        g.eta,
        if incentive {
            ""
        } else {
            ", no savings contract"
        }
    );
    say!(
        "  {:<10} {:>6} {:>6} {:>7} {:>7} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9}",
        "H chooses",
        "α",
        "β",
        "θ_P",
        "θ_R",
        "billings",
        "incentive",
        "health",
        "U^H",
        "U^P",
        "U^R"
    );
    let row = |o: &MsspOutcome| -> Result<()> {
        say!(
            "  {:<10} {:>6.3} {:>6.3} {:>7.3} {:>7.3} {:>9.2} {:>9.2} {:>8.2} {:>9.1} {:>9.1} {:>9.1}",
            name_of(&o.investment),
            o.alpha,
            o.beta,
            o.theta_p,
            o.theta_r,
            o.billings,
            o.incentive,
            o.health,
            o.u_h,
            o.u_p,
            o.u_r
        );
        Ok(())
    };
    for b in &branches {
        row(b)?;
    }
    say!("  subgame-perfect equilibrium: {}", name_of(&eq.investment));
    Ok(true)
}

fn chronic_care(a: &GameArgs) -> Result<bool> {
    let g: ChronicCareGame = load(a)?;
    let cause = culprit(&g, &ChronicCareGame::default());
    let s = g.solve().map_err(|e| anyhow::anyhow!("{e}; {cause}"))?;
    finite_result(&s, "the equilibria", &cause)?;
    if a.json {
        say!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "game": "chronic-care", "parameters": g, "solution": s,
            }))?
        );
        return Ok(true);
    }
    say!(
        "Patient ↔ PCP chronic care (dissertation ch. 5): m1 {}, m2 {}, c1 {}, c2 {}, m_Hs {}, n1 {}, n2 {}, u_Hs {}, β {}",
        g.m1, g.m2, g.c1, g.c2, g.m_hs, g.n1, g.n2, g.u_hs, g.discount
    );
    if s.first_best.is_empty() {
        say!("  NLP-2: no pure equilibrium in which the PCP's effort ignores the lifestyle it cannot see.");
        if let Some(o) = &s.second_best {
            say!("  second best (least NLP-2 value ψ; PA best-responds):");
            strategy_map(o)?;
        }
    } else {
        say!("  NLP-2 first best: {} pure equilibrium(s) with the PCP's effort tied across lifestyles", s.first_best.len());
        for o in &s.first_best {
            strategy_map(o)?;
        }
    }
    say!(
        "  NLP-1 (PCP may condition on the lifestyle): {} pure equilibrium(s)",
        s.unrestricted.len()
    );
    for o in &s.unrestricted {
        strategy_map(o)?;
    }
    Ok(true)
}

/// One profile as a strategy map: per stage and lifestyle, PA's home move and PCP's effort,
/// with the certificate.
fn strategy_map(o: &ChronicOutcome) -> Result<()> {
    say!(
        "    {:<6} {:<10} {:<22} {:<6}",
        "stage",
        "lifestyle",
        "patient at home",
        "PCP"
    );
    for (h, (pa, pcp)) in o.patient.iter().zip(&o.physician).enumerate() {
        for (k, life) in [Lifestyle::Beneficial, Lifestyle::NonBeneficial]
            .iter()
            .enumerate()
        {
            let next = match (life, pa[k].next) {
                (Lifestyle::Beneficial, Lifestyle::Beneficial) => "maintain",
                (Lifestyle::Beneficial, _) => "relapse",
                (_, Lifestyle::Beneficial) => "switch",
                _ => "status quo",
            };
            say!(
                "    {:<6} {:<10} {:<22} {:<6}",
                h + 1,
                if k == 0 { "B" } else { "Nb" },
                format!("{next}, {}", if pa[k].visit { "PCP" } else { "home" }),
                if pcp[k] == Effort::High {
                    "high"
                } else {
                    "low"
                }
            );
        }
    }
    let c = o.certificate;
    say!(
        "    certificate: ψ_PA {:.2e}, ψ_PCP {:.2e}, best-response gaps {:.2e} / {:.2e}; values from (1,B,Hm): PA {:.4}, PCP {:.4}",
        c.psi[0], c.psi[1], c.gap[0], c.gap[1], o.value_pa, o.value_pcp
    );
    Ok(())
}
