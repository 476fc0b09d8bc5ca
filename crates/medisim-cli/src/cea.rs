//! `medisim cea`: the cost-effectiveness analysis of a PSA file — the incremental table with
//! dominance and extended dominance, CEAC, CEAF, expected loss and EVPI
//! ([`medisim_core::cea`]), for a PSA any model (or any tool) wrote.

use anyhow::{bail, Context, Result};
use medisim_core::cea::{wtp_grid, Psa};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct CeaArgs {
    /// The PSA as tidy CSV: columns draw, strategy, cost, effect; every draw names every
    /// strategy once.
    #[arg(long)]
    psa: PathBuf,
    /// Willingness to pay per unit of effect: lo:hi:n or v1,v2,… (money, ≥ 0).
    #[arg(long, default_value = "0:100000:21")]
    wtp: String,
    /// Write icer.csv/.parquet, curves.csv/.parquet and the figures (ceac.svg, ce-plane.svg)
    /// into this directory.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Parameter draws as tidy CSV (a `draw` column and one column per parameter), for --evppi.
    #[arg(long)]
    parameters: Option<PathBuf>,
    /// A group of parameters (comma-separated column names of --parameters) whose EVPPI to
    /// estimate at each willingness to pay (repeatable: one estimate per group).
    #[arg(long, value_name = "NAMES", requires = "parameters")]
    evppi: Vec<String>,
    /// Print JSON (`{"icer": [...], "curves": [...], "evppi": [...]}`) instead of text.
    #[arg(long)]
    json: bool,
}

/// One EVPPI estimate: a parameter group at a willingness to pay.
#[derive(serde::Serialize)]
struct EvppiRow {
    parameters: String,
    wtp: f64,
    evppi: f64,
}

/// The EVPPI of each group at each willingness to pay.
fn evppi_table(
    psa: &Psa,
    wtp: &[f64],
    parameters: &std::path::Path,
    groups: &[String],
) -> Result<medisim_core::Table> {
    let text = medisim_core::input::read_text(parameters, MAX_PSA_BYTES, "parameter file")?;
    let (names, columns) =
        medisim_core::cea::read_parameters(&text, &parameters.display().to_string(), psa)
            .map_err(anyhow::Error::msg)?;
    let mut rows = Vec::new();
    for group in groups {
        let chosen = group
            .split(',')
            .map(|n| {
                let n = n.trim();
                names
                    .iter()
                    .position(|x| x == n)
                    .map(|i| columns[i].clone())
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "--evppi: no parameter `{}` in {} (it has {})",
                            medisim_core::input::excerpt(n),
                            parameters.display(),
                            names.join(", ")
                        )
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        for &w in wtp {
            let evppi = psa
                .evppi(&chosen, w)
                .map_err(|e| anyhow::anyhow!("--evppi {group}: {e}"))?;
            rows.push(EvppiRow {
                parameters: group.clone(),
                wtp: w,
                evppi,
            });
        }
    }
    Ok(medisim_core::Table::from_records(&rows)?)
}

/// The most bytes a PSA or parameter file may hold ([`medisim_core::cea::MAX_CELLS`] rows at
/// about 50 bytes a row).
const MAX_PSA_BYTES: u64 = 256 << 20;

pub fn cea(a: &CeaArgs) -> Result<bool> {
    let wtp = wtp_grid(&a.wtp).map_err(|e| anyhow::anyhow!("--wtp {e}"))?;
    let text = medisim_core::input::read_text(&a.psa, MAX_PSA_BYTES, "PSA file")?;
    let psa = Psa::from_csv(&text, &a.psa.display().to_string()).map_err(anyhow::Error::msg)?;
    let _lock = match &a.out {
        Some(dir) => Some(medisim_core::RunDir::create(dir)?.lock()?),
        None => None,
    };
    let evppi = match &a.parameters {
        Some(p) if !a.evppi.is_empty() => Some(evppi_table(&psa, &wtp, p, &a.evppi)?),
        Some(_) => bail!("--parameters is read for --evppi: name a group with --evppi NAMES"),
        None => None,
    };
    report(&psa, &wtp, a.out.as_deref(), a.json, evppi.as_ref())
}

/// Write (into `out`) and print a PSA's analysis at willingness to pay `wtp`: the one way
/// `cea` and `panel psa` show it.
pub fn report(
    psa: &Psa,
    wtp: &[f64],
    out: Option<&Path>,
    json: bool,
    evppi: Option<&medisim_core::Table>,
) -> Result<bool> {
    let (icer, curves) = psa.tables(wtp)?;
    if let (Some(dir), Some(t)) = (out, evppi) {
        t.write(&dir.join("evppi"))?;
    }
    if let Some(dir) = out {
        icer.write(&dir.join("icer"))
            .with_context(|| format!("writing into {}", dir.display()))?;
        curves.write(&dir.join("curves"))?;
        for (name, svg) in medisim_experiments::cea::figures(psa, wtp) {
            medisim_core::write_atomic(&dir.join(format!("{name}.svg")), svg.as_bytes())?;
        }
    }
    if json {
        let mut v = serde_json::json!({"icer": icer.to_json()?, "curves": curves.to_json()?});
        if let Some(t) = evppi {
            v["evppi"] = t.to_json()?;
        }
        say!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(true);
    }
    say!(
        "{} strategies, {} draws (means; ICERs against the next cheaper frontier strategy):",
        psa.strategies().len(),
        psa.draws()
    );
    say_raw!("{}\n", icer.to_text()?);
    say!("willingness to pay: the strategy with the highest expected net benefit (CEAF), the share of draws it wins (CEAC) and the EVPI:");
    for &w in wtp {
        let at = psa.at(w);
        say!(
            "  {:>12}  {:<24} {:>6.3}  EVPI {}",
            medisim_core::text::number(w),
            psa.strategies()[at.optimal],
            at.acceptability[at.optimal],
            medisim_core::text::number(at.evpi)
        );
    }
    if let Some(t) = evppi {
        say!("EVPPI (the value of knowing the parameters exactly, per unit of the PSA):");
        say_raw!("{}\n", t.to_text()?);
    }
    if let Some(dir) = out {
        say!(
            "wrote icer and curves (CSV, Parquet), ceac.svg and ce-plane.svg to {}",
            dir.display()
        );
    }
    Ok(true)
}
