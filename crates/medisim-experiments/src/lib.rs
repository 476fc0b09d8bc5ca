//! # medisim-experiments: the paper's validation-to-discovery layers
//!
//! Owns the experiments of the Medi-Sim paper as reproducible jobs: the L1 incentive phase
//! diagram ([`mod@l1`]), the L2 one-at-a-time lever sweeps ([`mod@l2`]), the nine stylized facts
//! ([`mod@validate`]) and the HTML report ([`report`]), with sections for the other sources'
//! models: payment contracts ([`contracts`], seed 003), multi-level games ([`games`], seed
//! 004) and primary-care payment on a panel ([`panel`], seed 002). Every experiment is a list of cells
//! ([`cells`]) run in parallel and cached on disk, so an interrupted run resumes.
//!
//! Imports `medisim-sim` (to run cells) and `medisim-dsl` (to fix levers in policies). The
//! command line drives it; the search does not depend on it.

pub mod calibrate;
pub mod cea;
pub mod cells;
pub mod claims;
pub mod contracts;
pub mod games;
pub mod house;
pub mod l1;
pub mod l2;
pub mod panel;
pub mod plots;
pub mod report;
pub mod sensitivity;
pub mod summary;
pub mod sweep;
pub mod validate;

use anyhow::Result;
use cells::{run_cells, CellStats};
use medisim_core::progress::Progress;
use medisim_core::{write_atomic, Table};
use medisim_dsl::Policy;
use medisim_sim::Scenario;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A figure: titled panels of SVG.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Figure {
    pub id: String,
    pub title: String,
    pub caption: String,
    /// (metric, SVG)
    pub panels: Vec<(String, String)>,
}

impl Figure {
    /// Where each panel is written under `dir`: `ID_METRIC.svg`.
    pub fn paths(&self, dir: &Path) -> Vec<PathBuf> {
        let file = |metric: &String| dir.join(format!("{}_{metric}.svg", self.id));
        self.panels.iter().map(|(m, _)| file(m)).collect()
    }

    /// Write every panel atomically to its path under `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        for (path, (_, svg)) in self.paths(dir).iter().zip(&self.panels) {
            write_atomic(path, svg.as_bytes())?;
        }
        Ok(())
    }
}

/// Everything an experiment run is parameterised by.
#[derive(Clone, Debug)]
pub struct Options {
    pub scenario: Scenario,
    pub policy: Policy,
    pub seeds: Vec<u64>,
    pub horizon: u32,
    /// Points per axis of the L1 grid.
    pub grid: usize,
    pub levers: Vec<l2::Lever>,
}

impl Options {
    /// The paper's settings: baseline policy, built-in scenario, seeds 1..30, T = 200, 11×11
    /// grid, every lever.
    pub fn paper() -> Self {
        Options {
            scenario: Scenario::default(),
            policy: medisim_sim::baseline().clone(),
            seeds: (1..=30).collect(),
            horizon: 200,
            grid: 11,
            levers: l2::Lever::ALL.to_vec(),
        }
    }

    /// A quick look: 10 seeds and a 6×6 grid.
    pub fn quick() -> Self {
        Options {
            seeds: (1..=10).collect(),
            grid: 6,
            ..Options::paper()
        }
    }
}

pub fn validate(
    o: &Options,
    out: Option<&Path>,
    pb: &dyn Progress,
) -> Result<(Vec<validate::Fact>, CellStats)> {
    validate::check_seeds(&o.seeds)?;
    let specs = validate::specs(&o.scenario, &o.policy, &o.seeds, o.horizon);
    pb.set_length(specs.len() as u64);
    let (cells, stats) = run_cells(&specs, out, pb)?;
    let facts = validate::evaluate(&cells);
    if let Some(out) = out {
        write_atomic(
            &out.join("validate.csv"),
            &Table::from_records(&facts)?.to_csv()?,
        )?;
        record_setting(out, o, "validate")?;
    }
    Ok((facts, stats))
}

/// The L1 grid: figures, the cells they were drawn from, and what was computed or reused.
pub fn l1(
    o: &Options,
    out: &Path,
    pb: &dyn Progress,
) -> Result<(Vec<Figure>, Vec<cells::Cell>, CellStats)> {
    let grid = l1::grid(o.grid);
    let specs = l1::specs(&o.scenario, &o.policy, &grid, &o.seeds, o.horizon);
    pb.set_length(specs.len() as u64);
    let (cells, stats) = run_cells(&specs, Some(out), pb)?;
    let figures = l1::write(out, &cells, &grid)?;
    record_setting(out, o, "l1")?;
    Ok((figures, cells, stats))
}

/// The L2 sweeps: figures, the cells they were drawn from, and what was computed or reused.
pub fn l2(
    o: &Options,
    out: &Path,
    pb: &dyn Progress,
) -> Result<(Vec<Figure>, Vec<cells::Cell>, CellStats)> {
    let specs = l2::specs(&o.levers, &o.scenario, &o.policy, &o.seeds, o.horizon);
    pb.set_length(specs.len() as u64);
    let (cells, stats) = run_cells(&specs, Some(out), pb)?;
    let figures = l2::write(out, &cells, &o.levers)?;
    record_setting(out, o, "l2")?;
    Ok((figures, cells, stats))
}

/// Every cell the named experiments need (`l1`, `l2`, `validate`; `reproduce` is all three),
/// for sharding.
pub fn cell_specs(o: &Options, experiments: &[&str]) -> Vec<cells::CellSpec> {
    let mut v = Vec::new();
    for e in experiments {
        match *e {
            "validate" => v.extend(validate::specs(&o.scenario, &o.policy, &o.seeds, o.horizon)),
            "l1" => v.extend(l1::specs(
                &o.scenario,
                &o.policy,
                &l1::grid(o.grid),
                &o.seeds,
                o.horizon,
            )),
            "l2" => v.extend(l2::specs(
                &o.levers,
                &o.scenario,
                &o.policy,
                &o.seeds,
                o.horizon,
            )),
            _ => {}
        }
    }
    v
}

/// The setting an experiment's table was made for: written beside it (`NAME.setting`) so a
/// later report can tell its own results from another setting's.
pub fn setting_text(o: &Options, experiment: &str) -> String {
    let mut t = format!(
        "experiment = \"{experiment}\"\nmodel_version = \"{}\"\nscenario = \"{}\"\npolicy = \"{}\"\nseeds = \"{}\"\nhorizon = {}\n",
        medisim_sim::MODEL_VERSION,
        short_hash(o.scenario.to_toml().as_bytes()),
        o.policy.canonical_hash().short(),
        seeds_text(&o.seeds),
        o.horizon
    );
    match experiment {
        "l1" => t.push_str(&format!("grid = {}\n", o.grid)),
        "l2" => t.push_str(&format!(
            "levers = \"{}\"\n",
            o.levers
                .iter()
                .map(|l| l.name())
                .collect::<Vec<_>>()
                .join(",")
        )),
        _ => {}
    }
    t
}

fn record_setting(out: &Path, o: &Options, experiment: &str) -> Result<()> {
    write_atomic(
        &out.join(format!("{experiment}.setting")),
        setting_text(o, experiment).as_bytes(),
    )?;
    Ok(())
}

/// A report never overwrites results it did not make: `NAME.csv` in `out` must be absent or
/// made for this very setting.
fn guard_setting(out: &Path, o: &Options, experiment: &str) -> Result<()> {
    let table = out.join(format!("{experiment}.csv"));
    if !table.exists() {
        return Ok(());
    }
    let wanted = setting_text(o, experiment);
    match std::fs::read_to_string(out.join(format!("{experiment}.setting"))) {
        Ok(held) if held == wanted => Ok(()),
        Ok(held) => anyhow::bail!(
            "{} holds results for another setting; a report does not overwrite them.\n  there:  {}\n  wanted: {}\nwrite this report to another --out, or pass the setting that made them",
            table.display(),
            held.trim().replace('\n', "; "),
            wanted.trim().replace('\n', "; ")
        ),
        Err(_) => anyhow::bail!(
            "{} was not made by this version's experiments for a known setting; a report does not overwrite it: write the report to another --out",
            table.display()
        ),
    }
}

/// What `reproduce` produced.
pub struct Reproduction {
    pub facts: Vec<validate::Fact>,
    /// The paper's claims about L1 and L2 with this run's verdicts (also `OUT/claims.csv`).
    pub claims: Vec<claims::Verdict>,
    pub report: PathBuf,
    pub stats: CellStats,
}

/// Validate, L1, L2 and the report, in that order; `bars` gives one progress bar per step.
pub fn reproduce(
    o: &Options,
    out: &Path,
    mut bars: impl FnMut(&str) -> Box<dyn Progress>,
) -> Result<Reproduction> {
    std::fs::create_dir_all(out)?;
    for e in ["validate", "l1", "l2"] {
        guard_setting(out, o, e)?;
    }
    let start = Instant::now();
    let (facts, s1) = validate(o, Some(out), &*bars("validate"))?;
    let (l1_figs, l1_cells, s2) = l1(o, out, &*bars("L1 grid"))?;
    let (l2_figs, l2_cells, s3) = l2(o, out, &*bars("L2 sweeps"))?;
    let (panel_section, s4) = panel::section(Some(out), &*bars("panel"))
        .map_err(|e| anyhow::anyhow!("panel section: {e}"))?;
    let (games_section, s5) = games::cached_section(Some(out))?;
    let (contracts_figures, s6) = contracts::cached_figures(Some(out), 200_000, 1)?;
    let all = [s1, s2, s3, s4, s5, s6];
    let stats = CellStats {
        computed: all.iter().map(|s| s.computed).sum(),
        reused: all.iter().map(|s| s.reused).sum(),
    };
    let prov = report::Provenance {
        medisim_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: option_env!("MEDISIM_GIT_COMMIT")
            .unwrap_or("unknown (built outside a git checkout)")
            .to_string(),
        date: medisim_core::text::utc_timestamp(std::time::SystemTime::now()),
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
        model_version: medisim_sim::MODEL_VERSION.to_string(),
        model_versions: [
            medisim_sim::MODEL_VERSION,
            medisim_panel::MODEL_VERSION,
            medisim_games::MODEL_VERSION,
            medisim_contracts::MODEL_VERSION,
        ]
        .map(|v| v.to_string())
        .join(", "),
        scenario_hash: short_hash(o.scenario.to_toml().as_bytes()),
        policy_name: o.policy.header.name.clone(),
        policy_hash: o.policy.canonical_hash().short(),
        seeds: seeds_text(&o.seeds),
        horizon: o.horizon,
        l1_grid: o.grid,
        wall_time_s: (start.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        cells_computed: stats.computed,
        cells_reused: stats.reused,
    };
    let claims = claims::verdicts(
        &claims::paper(),
        &claims::Run {
            l1: &l1_cells,
            l2: &l2_cells,
        },
        &claims::Rule::REPORT,
    );
    claims::table(&claims)?.write(&out.join("claims"))?;
    let (l3_headline, l3) = summary::l3_section(&out.join("search"));
    let mut headlines = summary::headlines(&l1_cells, &l2_cells);
    headlines.extend(l3_headline);
    let path = out.join("report.html");
    write_atomic(
        &path,
        report::html(
            &prov,
            &facts,
            &report::Sections {
                headlines,
                claims: claims.clone(),
                scenario_toml: o.scenario.to_toml(),
                l1: l1_figs,
                l2: l2_figs,
                l3,
                contracts: contracts_figures,
                games: games_section,
                panel: panel_section,
                sensitivity: sensitivity::report_section(out),
                calibration: calibrate::report_section(out),
            },
        )
        .as_bytes(),
    )?;
    Ok(Reproduction {
        facts,
        claims,
        report: path,
        stats,
    })
}

fn short_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub use medisim_core::spec::seeds_text;
