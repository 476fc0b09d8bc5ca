//! The panel section of the report (seed 002): each experiment's sweep drawn as costs, the
//! provider's profit and the treatment intensity against the swept term, and Table 1 beside
//! the paper's.

use crate::cells::{run_model_cells, CellSpec, CellStats};
use crate::plots::{lines_with_bands_styled, LineStyle, Series};
use crate::Figure;
use anyhow::Result;
use medisim_core::progress::Progress;
use medisim_core::{Metric as _, NoSettings, RunSpec, Summaries, Summary};
use medisim_panel::experiments::{plan, Plan, Sweep, EXPERIMENTS};
use medisim_panel::{Panel, PanelConfig, PanelMetric, PanelScenario};
use std::path::Path;

/// An experiment's results as the figures read them: per series, each value's summaries.
pub struct Curves {
    pub id: String,
    pub title: String,
    pub key: String,
    pub series: Vec<(String, Vec<(f64, Summaries)>)>,
}

impl Curves {
    /// The curves of a sweep run directly (`medisim panel experiments`).
    pub fn of(s: &Sweep) -> Curves {
        Curves {
            id: s.id.clone(),
            title: s.title.clone(),
            key: s.key.clone(),
            series: s
                .series
                .iter()
                .map(|ser| {
                    let points = ser.points.iter().map(|(x, r)| (*x, r.metrics.clone()));
                    (ser.name.clone(), points.collect())
                })
                .collect(),
        }
    }
}

/// One metric along a sweep, as a line with its 95% band.
fn line(
    name: &str,
    points: &[(f64, Summaries)],
    metric: PanelMetric,
    scale: f64,
) -> (String, Vec<(f64, f64, f64, f64)>) {
    let pts = points
        .iter()
        .map(|(x, r)| {
            let s = r
                .get(metric)
                .cloned()
                .unwrap_or(Summary::exact(f64::NAN, 0));
            (*x, s.mean / scale, s.ci95[0] / scale, s.ci95[1] / scale)
        })
        .collect();
    (name.to_string(), pts)
}

/// A metric's name as a legend reads it: `total_cost` → "total cost".
fn label(m: PanelMetric) -> String {
    m.name().replace('_', " ")
}

/// A sweep's figure: costs (K$), profit (K$), intensity shares. Each quantity has its colour
/// and each series (provider) its dash, so one provider's lines never hide another's in another
/// quantity's colour.
pub fn figure(s: &Curves) -> Figure {
    use PanelMetric as M;
    let groups: [(&str, &str, f64, &[PanelMetric]); 3] = [
        (
            "costs",
            "cost over 15 years (K$)",
            1000.0,
            &[M::TotalCost, M::Fees, M::ComplicationsCost],
        ),
        (
            "profit",
            "provider profit (K$)",
            1000.0,
            &[M::ProviderProfit],
        ),
        (
            "intensity",
            "share of patient-years",
            1.0,
            &[M::MaxIntensityShare, M::MinIntensityShare],
        ),
    ];
    let multi = s.series.len() > 1;
    let panels = groups
        .iter()
        .map(|(id, title, scale, metrics)| {
            let mut lines: Vec<Series> = Vec::new();
            let mut styles = Vec::new();
            for (k, (name, points)) in s.series.iter().enumerate() {
                for (c, m) in metrics.iter().enumerate() {
                    let tag = if multi {
                        format!("{}, {name}", label(*m))
                    } else {
                        label(*m)
                    };
                    lines.push(line(&tag, points, *m, *scale));
                    styles.push(LineStyle {
                        colour: c,
                        dashed: k % 2 == 1,
                    });
                }
            }
            let svg = lines_with_bands_styled(title, &s.key, &lines, &styles, None);
            (id.to_string(), svg)
        })
        .collect();
    Figure {
        id: format!("panel_{}", s.id.to_lowercase()),
        title: format!("Panel {} — {}", s.id, s.title),
        caption: format!(
            "10 patients, 15 years, mean of the runs with 95% bands, against {}. Costs and profit in K$ over the horizon; intensity as the share of patient-years at the most and least intensive treatment.{}",
            s.key,
            if multi { " Each quantity has its colour; the second provider's lines are dashed." } else { "" }
        ),
        panels,
    }
}

/// One row of Table 1, in K$.
pub struct Table1Row {
    pub metric: String,
    pub paper_myopic: f64,
    pub ours_myopic: f64,
    pub paper_lookahead: f64,
    pub ours_lookahead: f64,
}

/// The report's panel section.
pub struct PanelSection {
    pub figures: Vec<Figure>,
    pub table_1: Vec<Table1Row>,
}

/// Table 1 (E6) beside the paper's.
pub fn table_1(s: &Curves) -> Vec<Table1Row> {
    let get = |k: usize, m: PanelMetric| s.series[k].1[0].1.mean(m) / 1000.0;
    [
        (
            "Total cost of care (K$)",
            PanelMetric::TotalCost,
            135.6,
            133.4,
        ),
        (
            "Provider profit (K$)",
            PanelMetric::ProviderProfit,
            54.9,
            56.3,
        ),
        (
            "Complications cost (K$)",
            PanelMetric::ComplicationsCost,
            19.9,
            17.5,
        ),
    ]
    .iter()
    .map(|(name, m, pm, pl)| Table1Row {
        metric: name.to_string(),
        paper_myopic: *pm,
        ours_myopic: get(0, *m),
        paper_lookahead: *pl,
        ours_lookahead: get(1, *m),
    })
    .collect()
}

/// Every experiment at the paper's configuration (seed 1, 40 runs: seeds 0..39): the figures
/// of E1–E5 and Table 1's rows, each point a cell of the [`Panel`] model, cached under `out`
/// with the panel's model version in its key (shared with `sweep --model panel`).
pub fn section(out: Option<&Path>, progress: &dyn Progress) -> Result<(PanelSection, CellStats)> {
    let (plans, specs) = cell_specs()?;
    progress.set_length(specs.len() as u64);
    let (cells, stats) = run_model_cells(&Panel, &specs, out, progress)?;
    progress.finish();
    let mut section = assemble(plans, cells.into_iter().map(|c| c.summary));
    section.figures.push(psa_figure(out)?);
    Ok((section, stats))
}

/// The report's PSA: the kidney model under FFS, capitation and both with shared risk (0.5 /
/// 0.5 around $3,000 a year), 200 draws of 1,000 runs, the myopic provider re-optimising in
/// every draw (docs/panel.md), cached whole under `out` with the panel's model version.
pub fn psa_figure(out: Option<&Path>) -> Result<Figure> {
    use medisim_panel::disease::{MarkovFile, KIDNEY_MODEL};
    use medisim_panel::psa::{self, Arm};
    let file = MarkovFile::from_toml(KIDNEY_MODEL, "diabetic-kidney.toml")?;
    let mut cfg = PanelConfig {
        runs: 1000,
        ..PanelConfig::default()
    };
    cfg.payment.reward_rate = 0.5;
    cfg.payment.penalty_rate = 0.5;
    cfg.payment.reference = 3000.0;
    let (arms, draws) = (Arm::ALL, 200);
    let inputs = format!("{}\n{}\n{draws}", toml::to_string(&cfg)?, KIDNEY_MODEL);
    let (rows, _) = crate::cells::cached(
        out,
        medisim_panel::MODEL_VERSION,
        "report psa",
        &inputs,
        || {
            Ok(psa::run_draws(draws, |d| {
                psa::draw_rows(&file, &cfg, &arms, d)
            })?)
        },
    )?;
    let analysis = psa::analysis(&arms, &rows).map_err(anyhow::Error::msg)?;
    let wtp: Vec<f64> = (0..=20).map(|k| f64::from(k) * 5000.0).collect();
    let frontier: Vec<String> = analysis
        .icer_table()
        .iter()
        .filter(|r| r.status == medisim_core::cea::Status::NotDominated)
        .map(|r| match r.icer {
            Some(icer) => format!("{} (ICER ${icer:.0} per QALY)", r.strategy),
            None => r.strategy.clone(),
        })
        .collect();
    Ok(Figure {
        id: "panel_psa".into(),
        title: "Panel PSA — the kidney model under four payment arms".into(),
        caption: format!(
            "Diabetic kidney disease (crates/medisim-panel/models/diabetic-kidney.toml), 10 patients over 15 years, {draws} draws of its [psa] table, each arm's myopic provider re-optimising in every draw and 1,000 runs per draw; discounted payer cost and QALYs per patient (3%). Frontier: {}. Left: acceptability of each arm and the CEAF; right: each arm against the cheapest frontier arm, one point per draw.",
            frontier.join(", then ")
        ),
        panels: crate::cea::figures(&analysis, &wtp),
    })
}

/// The section's experiment plans and their cells, in plan order (what `reproduce --shard`
/// fills, and [`section`] runs).
pub fn cell_specs() -> Result<(Vec<Plan>, Vec<CellSpec<Panel>>)> {
    let base = PanelConfig::default();
    let plans = EXPERIMENTS
        .iter()
        .map(|id| plan(&base, id))
        .collect::<Result<Vec<_>, _>>()?;
    let specs: Vec<CellSpec<Panel>> = plans
        .iter()
        .flat_map(|p| p.series.iter().flat_map(|(_, points)| points))
        .map(|(_, config)| CellSpec {
            labels: Default::default(),
            spec: RunSpec::new((0..config.runs as u64).collect(), NoSettings {}),
            scenario: PanelScenario {
                config: config.clone(),
                disease: None,
            },
            policy: None,
        })
        .collect();
    Ok((plans, specs))
}

/// The section from each plan point's summary, in plan order.
fn assemble(plans: Vec<Plan>, mut summaries: impl Iterator<Item = Summaries>) -> PanelSection {
    let mut figures = Vec::new();
    let mut table = Vec::new();
    for p in plans {
        let curves = Curves {
            series: p
                .series
                .iter()
                .map(|(name, points)| {
                    let pts = points
                        .iter()
                        .map(|(x, _)| (*x, summaries.next().unwrap_or_default()));
                    (name.clone(), pts.collect())
                })
                .collect(),
            id: p.id,
            title: p.title,
            key: p.key,
        };
        if curves.id == "E6" {
            table = table_1(&curves);
        } else {
            figures.push(figure(&curves));
        }
    }
    PanelSection {
        figures,
        table_1: table,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two providers' lines: every quantity its own colour, the second provider dashed, and the
    /// legend in words ("total cost, B"), not metric identifiers.
    #[test]
    fn two_providers_are_told_apart_by_dash_and_quantities_by_colour() {
        let mut at = Summaries::new();
        for m in PanelMetric::ALL {
            at.insert(*m, Summary::exact(1.0, 1));
        }
        let points = vec![(0.0, at.clone()), (1.0, at)];
        let curves = Curves {
            id: "E5".into(),
            title: "t".into(),
            key: "shared-rate".into(),
            series: vec![("A".into(), points.clone()), ("B".into(), points)],
        };
        let f = figure(&curves);
        let costs = &f.panels[0].1;
        assert!(costs.contains("total cost, B") && !costs.contains("total_cost"));
        // Three quantities, three colours (Okabe–Ito's first three).
        for rgb in ["#E69F00", "#56B4E9", "#009E73"] {
            assert!(costs.to_uppercase().contains(rgb), "{rgb}");
        }
        // The second provider is dashed: its lines are drawn as many short strokes, so the two
        // providers take more than twice one provider's strokes.
        let strokes = |svg: &str| svg.matches("<polyline").count();
        let one = Curves {
            series: curves.series[..1].to_vec(),
            ..curves
        };
        assert!(strokes(costs) > 2 * strokes(&figure(&one).panels[0].1) + 3);
    }
}
