//! Global sensitivity of the nine stylized facts to the constants the project chose: a design
//! (Latin hypercube, Morris trajectories or Sobol' A/B/AB matrices, `medisim_core::sensitivity`)
//! over a ±box around the scenario, the nine facts evaluated at every point (through the cell
//! cache, so an interrupted run resumes), and per fact: how often it holds and which constants
//! move its margin.

use crate::validate::Fact;
use crate::Options;
use anyhow::{bail, Result};
use medisim_core::progress::{Hidden, Progress};
use medisim_core::sensitivity::{
    latin_hypercube, morris_design, morris_effects, rank_correlations, sobol_design, sobol_indices,
};
use medisim_core::{Column, Table};
use serde::Serialize;
use std::path::Path;

/// The behavioural constants the project chose (docs/model.md's parameter table) — the ones
/// the paper leaves open. Structural settings (teams, the case mix, the horizon) and the
/// paper's own values (audit base probability) are not varied; capacity is a policy lever,
/// swept by L2.
pub const CHOSEN: [&str; 26] = [
    "arrivals.rate",
    "case_mix.price",
    "care.lambda",
    "care.omega",
    "care.untreated_health",
    "care.load_per_bed",
    "care.nu",
    "care.fatigue_decay",
    "response.health_value",
    "response.utility_scale",
    "response.effort_step",
    "response.effort_cut",
    "response.effort_raise",
    "response.urgency_weight",
    "response.wait_weight",
    "response.accept_threshold",
    "response.defer_threshold",
    "response.opportunity_share",
    "response.defer_cost_relief",
    "response.defer_health_loss",
    "response.kpi_cost_ref",
    "coding.temperature",
    "coding.gamma_code",
    "coding.eta_eth",
    "audit.penalty",
    "audit.reputation_hit",
];

/// The design.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    Lhs,
    Morris,
    Sobol,
}

/// One design point: the constants' values and the nine facts there.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    pub values: Vec<f64>,
    pub facts: Vec<Fact>,
}

/// Per fact: the share of points where it holds and each constant's influence on its margin.
#[derive(Clone, Debug, Serialize)]
pub struct FactSensitivity {
    pub fact: String,
    pub holds_share: f64,
    /// Per constant: Spearman correlation with the margin (LHS), Morris μ* (Morris), total
    /// Sobol' index (Sobol).
    pub influence: Vec<f64>,
    /// Per constant, the 95% bootstrap interval of its total Sobol' index (Sobol designs only;
    /// empty otherwise).
    pub influence_ci95: Vec<[f64; 2]>,
}

/// What a sensitivity run found.
#[derive(Clone, Debug, Serialize)]
pub struct Sensitivity {
    pub keys: Vec<String>,
    pub centre: Vec<f64>,
    pub box_fraction: f64,
    pub points: Vec<Point>,
    pub facts: Vec<FactSensitivity>,
    /// The share of points where every fact holds at once (issue 24's joint robustness).
    pub all_hold_share: f64,
}

/// A fact's margin as the design's output: its smallest margin in half-widths, bounded so an
/// exact quantity (an infinite margin) does not swamp the estimators.
fn margin(f: &Fact) -> f64 {
    f.min_margin.clamp(-50.0, 50.0)
}

/// The share of `points` where every fact holds (NaN for no points).
fn all_hold(points: &[Point]) -> f64 {
    let all = points
        .iter()
        .filter(|p| p.facts.iter().all(|f| f.pass))
        .count();
    all as f64 / points.len() as f64
}

/// What to vary and how.
#[derive(Clone, Debug)]
pub struct Spec {
    pub keys: Vec<String>,
    pub design: Design,
    /// LHS: points; Morris: trajectories; Sobol: the base sample size N (N (d + 2) runs).
    pub points: usize,
    /// Each constant ranges over its value × (1 ± box).
    pub box_fraction: f64,
    /// The design's own random stream.
    pub seed: u64,
}

/// Run the design: every point's facts through [`crate::validate()`] (cells cached under `out`).
pub fn run(o: &Options, spec: &Spec, out: Option<&Path>, pb: &dyn Progress) -> Result<Sensitivity> {
    let (keys, design, points, box_fraction, seed) = (
        &spec.keys,
        spec.design,
        spec.points,
        spec.box_fraction,
        spec.seed,
    );
    if !(box_fraction > 0.0 && box_fraction < 1.0) {
        bail!("--box {box_fraction}: must be in (0, 1)");
    }
    crate::validate::check_seeds(&o.seeds)?;
    let centre: Vec<f64> = keys
        .iter()
        .map(|k| Ok(o.scenario.value(k)?))
        .collect::<Result<_>>()?;
    let d = keys.len();
    let mut rng = medisim_core::rng::stream(seed, 0, 9);
    let (unit, steps) = match design {
        Design::Lhs => (latin_hypercube(points, d, &mut rng), Vec::new()),
        Design::Morris => morris_design(points, d, 4, &mut rng),
        Design::Sobol => (sobol_design(points, d)?, Vec::new()),
    };
    pb.set_length(unit.len() as u64);
    let mut results = Vec::with_capacity(unit.len());
    for u in &unit {
        let values: Vec<f64> = u
            .iter()
            .zip(&centre)
            .map(|(x, c)| c * (1.0 + box_fraction * (2.0 * x - 1.0)))
            .collect();
        let mut s = o.scenario.clone();
        for (k, v) in keys.iter().zip(&values) {
            s = s
                .with_value(k, *v)
                .map_err(|e| anyhow::anyhow!("±{box_fraction} around `{k}`: {e}"))?;
        }
        let point = Options {
            scenario: s,
            ..o.clone()
        };
        // The facts from the cells (cached under `out`), without writing a validate.csv that
        // would claim the directory for this one point's setting.
        let specs =
            crate::validate::specs(&point.scenario, &point.policy, &point.seeds, point.horizon);
        let (cells, _) = crate::cells::run_cells(&specs, out, &Hidden)?;
        let facts = crate::validate::evaluate(&cells);
        results.push(Point { values, facts });
        pb.inc(1);
    }
    pb.finish();
    let n_facts = results.first().map_or(0, |p| p.facts.len());
    let facts = (0..n_facts)
        .map(|f| {
            let y: Vec<f64> = results.iter().map(|p| margin(&p.facts[f])).collect();
            let (influence, influence_ci95): (Vec<f64>, Vec<[f64; 2]>) = match design {
                Design::Lhs => (rank_correlations(&unit, &y), Vec::new()),
                Design::Morris => (
                    morris_effects(&y, &steps, d)
                        .iter()
                        .map(|e| e.mu_star)
                        .collect(),
                    Vec::new(),
                ),
                Design::Sobol => {
                    let mut rng = medisim_core::rng::stream(seed, f as u64, 12);
                    sobol_indices(&y, points, d, &mut rng)
                        .iter()
                        .map(|s| (s.total, s.total_ci95))
                        .unzip()
                }
            };
            FactSensitivity {
                fact: results[0].facts[f].name.to_string(),
                holds_share: results.iter().filter(|p| p.facts[f].pass).count() as f64
                    / results.len() as f64,
                influence: influence
                    .iter()
                    .map(|v| if v.is_finite() { *v } else { 0.0 })
                    .collect(),
                influence_ci95,
            }
        })
        .collect();
    let all_hold_share = all_hold(&results);
    Ok(Sensitivity {
        keys: keys.clone(),
        centre,
        box_fraction,
        points: results,
        facts,
        all_hold_share,
    })
}

/// The points as a table: the constants, then each fact's pass flag and margin.
pub fn points_table(s: &Sensitivity) -> Table {
    let mut t = Table::new();
    for (k, key) in s.keys.iter().enumerate() {
        t.push(
            key,
            Column::Real(s.points.iter().map(|p| p.values[k]).collect()),
        );
    }
    for f in 0..s.facts.len() {
        let n = f + 1;
        t.push(
            &format!("fact{n}_holds"),
            Column::Flag(s.points.iter().map(|p| p.facts[f].pass).collect()),
        );
        t.push(
            &format!("fact{n}_margin"),
            Column::Real(s.points.iter().map(|p| p.facts[f].min_margin).collect()),
        );
    }
    t
}

/// Each fact's share of points where it holds and each constant's influence on it (with the
/// total index's 95% bootstrap interval when the design is Sobol').
pub fn facts_table(s: &Sensitivity) -> Table {
    let mut t = Table::new()
        .with(
            "fact",
            Column::Text(s.facts.iter().map(|f| f.fact.clone()).collect()),
        )
        .with(
            "holds_share",
            Column::Real(s.facts.iter().map(|f| f.holds_share).collect()),
        );
    for (k, key) in s.keys.iter().enumerate() {
        t.push(
            key,
            Column::Real(s.facts.iter().map(|f| f.influence[k]).collect()),
        );
    }
    if s.facts.iter().any(|f| !f.influence_ci95.is_empty()) {
        for (k, key) in s.keys.iter().enumerate() {
            for (side, name) in ["lo", "hi"].into_iter().enumerate() {
                t.push(
                    &format!("{key}_{name}"),
                    Column::Real(
                        s.facts
                            .iter()
                            .map(|f| f.influence_ci95.get(k).map_or(f64::NAN, |ci| ci[side]))
                            .collect(),
                    ),
                );
            }
        }
    }
    t
}

/// The tornado of one fact: constants ranked by |influence|, as horizontal bars (SVG).
pub fn tornado(s: &Sensitivity, fact: usize, top: usize) -> String {
    let f = &s.facts[fact];
    let mut order: Vec<usize> = (0..s.keys.len()).collect();
    order.sort_by(|a, b| f.influence[*b].abs().total_cmp(&f.influence[*a].abs()));
    order.truncate(top);
    let max = order
        .iter()
        .map(|k| f.influence[*k].abs())
        .fold(1e-12, f64::max);
    let (w, row) = (600.0, 18.0);
    let h = 40.0 + row * order.len() as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\"><text x=\"4\" y=\"16\" font-size=\"13\">Fact {}: holds at {:.0}% of points</text><line x1=\"360\" y1=\"24\" x2=\"360\" y2=\"{h}\" stroke=\"#888\"/>",
        fact + 1,
        100.0 * f.holds_share
    );
    for (i, k) in order.iter().enumerate() {
        let v = f.influence[*k];
        let len = 150.0 * v.abs() / max;
        let y = 28.0 + row * i as f64;
        let (x, colour) = if v >= 0.0 {
            (360.0, "#b2182b")
        } else {
            (360.0 - len, "#2166ac")
        };
        svg.push_str(&format!(
            "<text x=\"4\" y=\"{:.1}\">{}</text><rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{len:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>{v:+.3}</title></rect><text x=\"{:.1}\" y=\"{:.1}\">{v:+.2}</text>",
            y + 11.0,
            s.keys[*k],
            y,
            row - 4.0,
            if v >= 0.0 { x + len + 3.0 } else { 363.0 },
            y + 11.0
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// The report's sensitivity section, from what a `medisim sensitivity --out DIR` left in the
/// directory (the report never runs the design itself: it takes minutes).
pub fn report_section(out: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(out.join("sensitivity-facts.csv")) else {
        return "<p class=\"caption\">Not run for this directory: <code>medisim sensitivity --out DIR</code> (a 200-point Latin hypercube of the ±20% box over the constants the project chose, on held-out seeds) adds this section; docs/experiments.md records the last run.</p>".into();
    };
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let keys = reader.headers().map_or(0, |h| h.len().saturating_sub(2));
    let rows: String = reader
        .records()
        .filter_map(Result::ok)
        .enumerate()
        .map(|(i, r)| {
            let share: f64 = r.get(1).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
            let svg = std::fs::read_to_string(out.join(format!("tornado-fact{}.svg", i + 1)))
                .unwrap_or_default();
            format!(
                "<tr><td>{}</td><td>{}</td><td>{:.1}%</td><td>{svg}</td></tr>",
                i + 1,
                r.get(0).unwrap_or_default().replace('<', "&lt;"),
                100.0 * share
            )
        })
        .collect();
    let joint = std::fs::read_to_string(out.join("sensitivity.csv"))
        .ok()
        .and_then(|t| joint_share(&t))
        .map_or(String::new(), |share| {
            format!(
                "<tr><td></td><td>all of them together</td><td>{:.1}%</td><td></td></tr>",
                100.0 * share
            )
        });
    format!(
        "<p class=\"caption\">Each fact re-checked at every point of the design over {} constants (sensitivity.csv). The bars: each constant's influence on the fact's smallest margin (LHS: Spearman correlation; red raises the margin, blue lowers it).</p><table><thead><tr><th>#</th><th>fact</th><th>holds at</th><th>most influential constants</th></tr></thead><tbody>{rows}{joint}</tbody></table>",
        keys
    )
}

/// The share of the rows of a points table (`sensitivity.csv`) where every `factN_holds` column
/// is true; `None` when it has no such column or no row.
fn joint_share(csv_text: &str) -> Option<f64> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let holds: Vec<usize> = reader
        .headers()
        .ok()?
        .iter()
        .enumerate()
        .filter(|(_, h)| h.starts_with("fact") && h.ends_with("_holds"))
        .map(|(i, _)| i)
        .collect();
    let (mut rows, mut all) = (0usize, 0usize);
    for r in reader.records() {
        let r = r.ok()?;
        rows += 1;
        all += usize::from(holds.iter().all(|i| r.get(*i) == Some("true")));
    }
    (!holds.is_empty() && rows > 0).then(|| all as f64 / rows as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use medisim_sim::Scenario;

    /// A small design end to end: points on the box, facts at each, a resumed run reuses every
    /// cell and gives the same answer.
    #[test]
    fn a_small_design_runs_and_resumes_from_the_cells() {
        let dir = tempfile::tempdir().unwrap();
        let o = Options {
            seeds: (20001..=20004).collect(),
            horizon: 60,
            ..Options::paper()
        };
        let spec = Spec {
            keys: vec![
                "response.accept_threshold".into(),
                "coding.gamma_code".into(),
            ],
            design: Design::Lhs,
            points: 3,
            box_fraction: 0.2,
            seed: 5,
        };
        let a = run(&o, &spec, Some(dir.path()), &Hidden).unwrap();
        assert_eq!(a.points.len(), 3);
        for p in &a.points {
            assert_eq!(p.facts.len(), 9);
            for (v, c) in p.values.iter().zip(&a.centre) {
                assert!((v / c - 1.0).abs() <= 0.2 + 1e-12);
            }
        }
        assert!(a.facts.iter().all(|f| (0.0..=1.0).contains(&f.holds_share)));
        // The joint share counts the points where every fact holds, in the run and in the
        // report read back from the points table.
        let joint = a
            .points
            .iter()
            .filter(|p| p.facts.iter().all(|f| f.pass))
            .count() as f64
            / 3.0;
        assert_eq!(a.all_hold_share, joint);
        assert!(a.facts.iter().all(|f| a.all_hold_share <= f.holds_share));
        let csv = String::from_utf8(points_table(&a).to_csv().unwrap()).unwrap();
        assert_eq!(joint_share(&csv), Some(joint));
        let b = run(&o, &spec, Some(dir.path()), &Hidden).unwrap();
        assert_eq!(
            points_table(&a).to_csv().unwrap(),
            points_table(&b).to_csv().unwrap()
        );
        assert!(report_section(dir.path()).contains("Not run"));
        let e = run(
            &o,
            &Spec {
                box_fraction: 1.5,
                ..spec
            },
            None,
            &Hidden,
        );
        assert!(e.unwrap_err().to_string().contains("--box"));
    }

    /// The report's joint share counts a point only when every fact holds there.
    #[test]
    fn the_joint_share_needs_every_fact_at_a_point() {
        let csv = "k,fact1_holds,fact1_margin,fact2_holds,fact2_margin\n\
                   1,true,2.5,true,1.2\n\
                   2,true,3.0,false,-0.4\n\
                   3,false,-1.0,true,4.0\n\
                   4,true,2.0,true,2.0\n";
        assert_eq!(joint_share(csv), Some(0.5));
        assert_eq!(joint_share("k,fact1_margin\n1,2.0\n"), None);
        assert_eq!(joint_share("k,fact1_holds\n"), None);
    }

    #[test]
    fn a_key_is_set_within_its_range_and_refused_outside_it() {
        let d = Scenario::default();
        let s = d.with_value("response.accept_threshold", 1.3).unwrap();
        assert_eq!(s.value("response.accept_threshold").unwrap(), 1.3);
        assert!(d.with_value("care.untreated_health", 1.5).is_err());
        let e = d.with_value("care.price", 1.0).unwrap_err().to_string();
        assert!(e.contains("did you mean `case_mix.price`?"), "{e}");
        assert_eq!(d.with_value("teams", 7.0).unwrap().teams, 7);
        let e = d.with_value("teams", 2.5).unwrap_err().to_string();
        assert!(e.contains("takes whole numbers"), "{e}");
        for k in CHOSEN {
            d.value(k).unwrap();
        }
    }
}
