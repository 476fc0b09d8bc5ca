//! L1: the (α, β) incentive phase diagram (paper §5.1, Appendix E, Figures 2 and 4–8).
//! Every other setting stays at the Appendix H L1 defaults (the baseline policy: B_tot = 10,
//! B_flex = 0, B_pool = 5, κ = 2, weights (1, 0.5, 0.5, 0.3), ξ = 0).

use crate::cells::{tidy_table, Cell, CellSpec};
use crate::plots::{heatmap, metric_scale, Heatmap};
use crate::Figure;
use anyhow::Result;
use medisim_core::Metric as _;
use medisim_core::{write_atomic, Table};
use medisim_dsl::Policy;
use medisim_sim::Field;
use medisim_sim::{Metric, Scenario};
use std::path::Path;

/// Most points per axis of the grid: 101 × 101 cells is a 0.01 resolution, already finer than
/// the seeds can resolve, and about four minutes at 30 seeds on two cores.
pub const MAX_GRID: usize = 101;

/// `n` evenly spaced values from 0 to 1 (11 gives 0.0, 0.1, …, 1.0).
pub fn grid(n: usize) -> Vec<f64> {
    let n = n.max(2);
    (0..n)
        .map(|i| ((i as f64) / ((n - 1) as f64) * 100.0).round() / 100.0)
        .collect()
}

/// The cell of one (α, β) pair with L1 defaults.
pub fn cell(
    scenario: &Scenario,
    policy: &Policy,
    alpha: f64,
    beta: f64,
    seeds: &[u64],
    horizon: u32,
) -> CellSpec {
    CellSpec::new(scenario.clone(), policy.clone(), seeds.to_vec(), horizon)
        .fix(Field::Alpha, alpha)
        .fix(Field::Beta, beta)
        .label("alpha", alpha)
        .label("beta", beta)
}

pub fn specs(
    scenario: &Scenario,
    policy: &Policy,
    grid: &[f64],
    seeds: &[u64],
    horizon: u32,
) -> Vec<CellSpec> {
    grid.iter()
        .flat_map(|a| grid.iter().map(move |b| (*a, *b)))
        .map(|(a, b)| cell(scenario, policy, a, b, seeds, horizon))
        .collect()
}

/// A figure's panels: (metric, panel title).
type Panels = &'static [(Metric, &'static str)];

/// The paper's L1 figures: (id, title, caption, panels).
pub const FIGURES: &[(&str, &str, &str, Panels)] = &[
    (
        "fig2",
        "Figure 2 / 4 — L1 phase diagram",
        "Headline outcomes over the (α, β) grid. ▲/▼ mark each panel's argmax/argmin, × the balanced baseline (0.5, 0.5).",
        &[
            (Metric::CherryPickingGap, "(a) cherry-picking gap Δrej"),
            (Metric::StrategicDelayGap, "(b) strategic-delay gap"),
            (Metric::UpcodingRate, "(c) up-coding rate"),
            (Metric::CorrKpiHealth, "(d) corr(KPI, health)"),
            (Metric::MeanEffort, "(e) mean effort"),
            (Metric::MeanWaiting, "(f) mean waiting"),
        ],
    ),
    (
        "fig5",
        "Figure 5 — access decomposition",
        "Rejection and deferral split by true complexity.",
        &[
            (Metric::RejectionHighCmi, "(a) high-CMI rejection"),
            (Metric::RejectionLowCmi, "(b) low-CMI rejection"),
            (Metric::CherryPickingGap, "(c) rejection gap"),
            (Metric::DeferralHighCmi, "(d) high-CMI deferral"),
            (Metric::DeferralLowCmi, "(e) low-CMI deferral"),
            (Metric::MeanWaiting, "(f) mean waiting"),
        ],
    ),
    (
        "fig6",
        "Figure 6 — strategic-delay decomposition",
        "Deferrals, and the strategic ones (a bed was free), by complexity; easy-case tilt of KPI-lagging teams.",
        &[
            (Metric::DeferralHighCmi, "(a) high-CMI deferral"),
            (Metric::DeferralLowCmi, "(b) low-CMI deferral"),
            (Metric::DeferralGap, "(c) deferral gap"),
            (Metric::StrategicDelayHighCmi, "(d) high-CMI strategic delay"),
            (Metric::StrategicDelayLowCmi, "(e) low-CMI strategic delay"),
            (Metric::StrategicDelayGap, "(g) strategic-delay gap"),
            (Metric::LaggingEasyCaseTilt, "(h) lagging-team easy-case tilt"),
        ],
    ),
    (
        "fig7",
        "Figure 7 — clinical and budget outcomes",
        "Effort, health and cost; terminal funds and waiting.",
        &[
            (Metric::MeanEffort, "(a) mean effort"),
            (Metric::EffortPerCmi, "(b) effort per unit CMI"),
            (Metric::EffortPerHealth, "(c) effort per unit health"),
            (Metric::MeanHealth, "(d) mean health"),
            (Metric::MeanCost, "(e) mean cost"),
            (Metric::HealthPerCost, "(f) health per cost"),
            (Metric::TerminalFunds, "(g) terminal funds"),
            (Metric::MeanWaiting, "(h) mean waiting"),
        ],
    ),
    (
        "fig8",
        "Figure 8 — team-level and KPI diagnostics",
        "Measured versus true performance across teams, lagging teams, and cross-team dispersion.",
        &[
            (Metric::CorrKpiHealth, "(a) corr(KPI, health)"),
            (Metric::CorrBonusHealth, "(b) corr(bonus, health)"),
            (Metric::UpcodingRate, "(c) up-coding rate"),
            (Metric::LaggingAcceptedCmi, "(d) lagging teams' accepted CMI"),
            (Metric::LaggingEasyCaseTilt, "(e) lagging easy-case tilt"),
            (Metric::CvLoad, "(f) CV of load"),
            (Metric::CvAcceptedCmi, "(g) CV of accepted CMI"),
            (Metric::CvOutcome, "(h) CV of outcome"),
        ],
    ),
];

/// The cells by their (α, β), indexed once: a lookup per heatmap entry would otherwise scan
/// every cell (quadratic in the grid).
fn index(cells: &[Cell]) -> std::collections::HashMap<(u64, u64), &Cell> {
    cells
        .iter()
        .filter_map(|c| {
            let a = c.label("alpha").parse::<f64>().ok()?;
            let b = c.label("beta").parse::<f64>().ok()?;
            Some(((a.to_bits(), b.to_bits()), c))
        })
        .collect()
}

/// Build the figures from finished cells.
pub fn figures(cells: &[Cell], grid: &[f64]) -> Vec<Figure> {
    let cross = (grid.contains(&0.5) && grid.contains(&0.5)).then_some((0.5, 0.5));
    let by_cell = index(cells);
    let value = |a: f64, b: f64, metric: Metric| {
        by_cell
            .get(&(a.to_bits(), b.to_bits()))
            .map_or(f64::NAN, |c| c.mean(metric))
    };
    let interval = |a: f64, b: f64, metric: Metric| {
        by_cell
            .get(&(a.to_bits(), b.to_bits()))
            .and_then(|c| c.summary.get(metric))
            .map_or([f64::NAN; 2], |s| s.ci95)
    };
    FIGURES
        .iter()
        .map(|(id, title, caption, panels)| Figure {
            id: id.to_string(),
            title: title.to_string(),
            caption: caption.to_string(),
            panels: panels
                .iter()
                .map(|(metric, ptitle)| {
                    let values: Vec<Vec<f64>> = grid
                        .iter()
                        .map(|a| grid.iter().map(|b| value(*a, *b, *metric)).collect())
                        .collect();
                    let intervals: Vec<Vec<[f64; 2]>> = grid
                        .iter()
                        .map(|a| grid.iter().map(|b| interval(*a, *b, *metric)).collect())
                        .collect();
                    let decimals = if *metric == Metric::TerminalFunds {
                        0
                    } else {
                        2
                    };
                    let (unit, palette) = metric_scale(*metric);
                    let map = Heatmap {
                        title: ptitle,
                        axes: ("α (financial weight)", "β (quality weight)"),
                        xs: grid,
                        ys: grid,
                        values: &values,
                        decimals,
                        cross,
                        palette,
                        unit,
                        intervals: Some(&intervals),
                    };
                    (metric.name().to_string(), heatmap(&map))
                })
                .collect(),
        })
        .collect()
}

/// The tidy table of the L1 cells: one row per cell × metric, labelled by [`alpha`, `beta`].
pub fn table(cells: &[Cell]) -> Result<Table> {
    tidy_table(cells, &["alpha", "beta"], Metric::ALL, true)
}

/// Write `l1.csv` and `l1/<figure>_<metric>.svg`.
pub fn write(out: &Path, cells: &[Cell], grid: &[f64]) -> Result<Vec<Figure>> {
    write_atomic(&out.join("l1.csv"), &table(cells)?.to_csv()?)?;
    let figs = figures(cells, grid);
    let dir = out.join("l1");
    std::fs::create_dir_all(&dir)?;
    for f in &figs {
        f.write(&dir)?;
    }
    Ok(figs)
}
