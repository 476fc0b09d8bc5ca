//! `medisim game`: the multi-level incentive games (seed 004) — chapter 3's CT scanner under
//! ACO shared savings, chapter 4's imaging game, chapter 5's chronic-care stochastic game —
//! each solved for its equilibrium, or one of the dissertation's tables recomputed.

use crate::experiments::finite_result;
use anyhow::{bail, Result};
use medisim_core::params::culprit;
use medisim_core::text::name_of;
use medisim_games::aco::{AcoGame, Investment, Outcome};
use medisim_games::chronic::{ChronicCareGame, ChronicOutcome, Effort, Lifestyle};
use medisim_games::model::GameName;
use medisim_games::mssp::MsspGame;
use medisim_games::tables::{self, Table};
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
            tables::table_list(a.game)
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

/// `--share` or `--no-incentive` with `--table`: each table fixes the contract itself.
fn refuse_contract_flags(a: &GameArgs) -> Result<()> {
    if a.share.is_some() || a.no_incentive {
        bail!(
            "--share and --no-incentive apply to one solve; the tables set the contract \
             themselves: drop them"
        );
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

/// `--table N`: recompute, print (or print as JSON), and with `--out` write CSV and figure.
fn table(a: &GameArgs, which: &str) -> Result<bool> {
    tables::wanted(a.game, which).map_err(anyhow::Error::msg)?;
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
    refuse_contract_flags(a)?;
    let out =
        tables::recompute(a.game, which, (&aco, &mssp, &chronic)).map_err(anyhow::Error::msg)?;
    if let Some(dir) = &a.out {
        for (t, table) in &out {
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
    let out: Vec<Table> = out.into_iter().map(|(_, t)| t).collect();
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
