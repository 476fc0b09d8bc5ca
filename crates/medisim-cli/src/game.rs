//! `medisim game`: the multi-level incentive games (seed 004). So far chapter 3's
//! payer → hospital → physicians game with a CT-scanner investment.

use anyhow::{bail, Result};
use medisim_games::aco::{AcoGame, Investment, Outcome};
use medisim_games::GameParams;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GameName {
    /// Chapter 3: MSSP/ACO shared savings, a CT scanner, physicians' scan rate.
    Aco,
    /// Chapter 4: CMS → ACO hospital → primary-care physician and radiologist.
    Mssp,
}

#[derive(clap::Args)]
pub struct GameArgs {
    #[arg(value_enum)]
    game: GameName,
    /// Game parameters as TOML (every key defaults to the dissertation's Table 3.2).
    #[arg(long)]
    params: Option<PathBuf>,
    /// The payer's benchmark M (default: the file's, 35).
    #[arg(long)]
    benchmark: Option<f64>,
    /// The share m of savings H passes to the physicians; omitted: H chooses it optimally.
    #[arg(long)]
    share: Option<f64>,
    /// Without the shared-savings contract.
    #[arg(long)]
    no_incentive: bool,
    #[arg(long)]
    json: bool,
}

/// The game's parameters: `--params FILE` (every key defaulted), or the dissertation's.
fn load<T: GameParams>(a: &GameArgs) -> Result<T> {
    Ok(match &a.params {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?;
            T::from_toml(&text, &p.display().to_string())?
        }
        None => T::default(),
    })
}

pub fn game(a: &GameArgs) -> Result<bool> {
    if a.game == GameName::Mssp {
        return mssp(a);
    }
    let mut g: AcoGame = load(a)?;
    if let Some(m) = a.benchmark {
        g.benchmark = m;
    }
    if let Some(s) = a.share {
        g.share = s;
    }
    if let Err(e) = g.validate() {
        bail!("{e}");
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
    if a.json {
        say!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "game": "aco", "incentive": incentive, "benchmark": g.benchmark,
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
            format!("{:?}", o.investment),
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
        "  subgame-perfect equilibrium: {:?}, CT rate {:.4}; H buys the scanner when its cost k1 > {:.3}",
        eq.investment,
        eq.ct_rate,
        threshold
    );
    Ok(true)
}

fn mssp(a: &GameArgs) -> Result<bool> {
    use medisim_games::mssp::{MsspGame, MsspOutcome};
    if a.share.is_some() {
        bail!("--share belongs to the aco game; in mssp the hospital chooses α and β itself");
    }
    let mut g: MsspGame = load(a)?;
    if let Some(m) = a.benchmark {
        g.benchmark = m;
    }
    if let Err(e) = g.validate() {
        bail!("{e}");
    }
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
    if a.json {
        say!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "game": "mssp", "incentive": incentive, "benchmark": g.benchmark,
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
            format!("{:?}", o.investment),
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
    say!("  subgame-perfect equilibrium: {:?}", eq.investment);
    Ok(true)
}
