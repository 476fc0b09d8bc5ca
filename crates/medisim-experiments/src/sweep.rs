//! `medisim sweep`: any scenario key or policy constant over a design (a full grid, a Latin
//! hypercube, or Sobol' A/B/AB matrices), every design point × seed one cell of the cache, so a
//! sweep resumes, shares cells with other experiments, and yields per-replicate rows for free.
//! Output is tidy: one row per design point × metric, every swept key a column.
//!
//! A point's summary is built from its seeds' cells exactly as `medisim run` builds it from one
//! batch (the same `summarise` over the same values, Eq. 8 over the same seed set), which a
//! test holds bit for bit.

use crate::cells::{run_cells, Cell, CellSpec};
use crate::plots::{lines_with_bands, BandPoint};
use crate::{Figure, Options};
use anyhow::{anyhow, bail, Result};
use medisim_core::progress::Progress;
use medisim_core::sensitivity::{latin_hypercube, sobol_design, sobol_indices, SobolIndex};
use medisim_core::{summarise, Column, Metric as _, Summaries, Summary, Table};
use medisim_dsl::schema::{Range, Ty};
use medisim_dsl::{FieldId, Policy};
use medisim_sim::objective::{fitness, FitnessWeights};
use medisim_sim::{Metric, Scenario};
use std::path::Path;

/// What a swept key sets.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A dotted scenario key (`care.nu`).
    Scenario,
    /// A numeric policy field, fixed to a constant (`admin_policy.alpha`).
    Policy(FieldId),
}

/// The values a key takes: the core's one value spec (`a:b:n`, `a:b`, `v1,v2,…`).
pub use medisim_core::params::ValueSpec as Values;

/// One `--set KEY=VALUES`.
#[derive(Clone, Debug, PartialEq)]
pub struct Factor {
    /// As the user wrote it, and as the output column is named.
    pub key: String,
    pub target: Target,
    pub values: Values,
}

/// How design points are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepDesign {
    /// Every combination of every key's values.
    Grid,
    /// N Latin-hypercube points over the keys' ranges.
    Lhs(usize),
    /// Sobol' A/B/AB matrices of base size N: N (d + 2) points, and each metric's first and
    /// total indices.
    Sobol(usize),
}

impl SweepDesign {
    /// `grid`, `lhs:N` or `sobol:N` (1 ≤ N ≤ 100,000).
    pub fn parse(text: &str) -> Result<SweepDesign> {
        let bad =
            || anyhow!("--design `{text}`: expected grid, lhs:N or sobol:N with N in 1..=100000");
        let count = |n: &str| -> Result<usize> {
            let n: usize = n.trim().parse().map_err(|_| bad())?;
            if (1..=100_000).contains(&n) {
                Ok(n)
            } else {
                Err(bad())
            }
        };
        match text.split_once(':') {
            None if text == "grid" => Ok(SweepDesign::Grid),
            Some(("lhs", n)) => Ok(SweepDesign::Lhs(count(n)?)),
            Some(("sobol", n)) => Ok(SweepDesign::Sobol(count(n)?)),
            _ => Err(bad()),
        }
    }
}

/// Parse `KEY=a:b:n`, `KEY=a:b` or `KEY=v1,v2,…` against the scenario and the policy's schema.
pub fn parse_factor(text: &str, scenario: &Scenario, policy: &Policy) -> Result<Factor> {
    let (key, spec) = text
        .split_once('=')
        .ok_or_else(|| anyhow!("--set `{text}`: expected KEY=a:b:n, KEY=a:b or KEY=v1,v2"))?;
    let key = key.trim();
    let values = Values::parse(spec).map_err(|e| anyhow!("--set {key}: {e}"))?;
    let target = target_of(key, scenario, policy)?;
    let factor = Factor {
        key: key.to_string(),
        target,
        values,
    };
    // Refuse out-of-range values now, before any cell runs (never clipped).
    let probe = match &factor.values {
        Values::List(v) => v.clone(),
        Values::Range { lo, hi, .. } => vec![*lo, *hi],
    };
    for v in probe {
        apply(&factor, v, scenario, policy)?;
    }
    Ok(factor)
}

fn target_of(key: &str, scenario: &Scenario, policy: &Policy) -> Result<Target> {
    if scenario.value(key).is_ok() {
        return Ok(Target::Scenario);
    }
    let schema = policy.schema();
    let name = key.rsplit_once('.').map_or(key, |(_, n)| n);
    if let Some(id) = schema.field_id(name) {
        let f = schema.field(id);
        let qualified = key.contains('.');
        if qualified && key != format!("{}.{}", f.section, f.name) {
            bail!(
                "`{key}`: the policy field `{name}` is under [{}]",
                f.section
            );
        }
        if f.ty != Ty::Num {
            bail!("`{key}` is a true/false policy field: a sweep sets numbers");
        }
        return Ok(Target::Policy(id));
    }
    // Say why the scenario refused it (unknown, not numeric, in another section).
    match scenario.value(key) {
        Err(e) => bail!("{e}; nor is it a numeric field of the policy"),
        Ok(_) => unreachable!("handled above"),
    }
}

/// The scenario and policy at one value of one factor, with the value held to its range.
fn apply(f: &Factor, v: f64, s: &Scenario, p: &Policy) -> Result<(Scenario, Policy)> {
    match &f.target {
        Target::Scenario => Ok((s.with_value(&f.key, v)?, p.clone())),
        Target::Policy(id) => {
            let def = p.schema().field(*id);
            let whole = v.fract() == 0.0;
            let ok = match &def.range {
                Range::Real([lo, hi]) => (*lo..=*hi).contains(&v),
                Range::Integer([lo, hi]) => whole && (*lo..=*hi).contains(&v),
                Range::IntegerUpTo { lo, .. } => whole && v >= *lo,
                Range::Flag => v == 0.0 || v == 1.0,
            };
            if !ok {
                bail!("policy field `{}` must be {}, got {v}", f.key, def.range);
            }
            let mut p = p.clone();
            p.fix(*id, v);
            Ok((s.clone(), p))
        }
    }
}

/// The design's points, one value per factor.
pub fn design_points(factors: &[Factor], design: SweepDesign, seed: u64) -> Result<Vec<Vec<f64>>> {
    if factors.is_empty() {
        bail!("a sweep needs at least one --set KEY=VALUES");
    }
    match design {
        SweepDesign::Grid => {
            let axes: Vec<Vec<f64>> = factors
                .iter()
                .map(|f| {
                    f.values.grid().ok_or_else(|| {
                        anyhow!(
                            "--set {}: a grid needs a:b:n (how many values), or a list",
                            f.key
                        )
                    })
                })
                .collect::<Result<_>>()?;
            let total: usize = axes.iter().map(Vec::len).product();
            if total > 1_000_000 {
                bail!("the grid has {total} points; at most 1000000");
            }
            let mut points = vec![Vec::new()];
            for axis in &axes {
                points = points
                    .into_iter()
                    .flat_map(|p| {
                        axis.iter().map(move |v| {
                            let mut q = p.clone();
                            q.push(*v);
                            q
                        })
                    })
                    .collect();
            }
            Ok(points)
        }
        SweepDesign::Lhs(n) | SweepDesign::Sobol(n) => {
            let ranges: Vec<(f64, f64)> = factors
                .iter()
                .map(|f| match &f.values {
                    Values::Range { lo, hi, n: None } => Ok((*lo, *hi)),
                    _ => Err(anyhow!(
                        "--set {}: a sampled design takes a range a:b (the count comes from the design)",
                        f.key
                    )),
                })
                .collect::<Result<_>>()?;
            let unit = match design {
                SweepDesign::Lhs(_) => latin_hypercube(
                    n,
                    factors.len(),
                    &mut medisim_core::rng::stream(seed, 0, 10),
                ),
                _ => sobol_design(n, factors.len())?,
            };
            Ok(unit
                .iter()
                .map(|u| {
                    u.iter()
                        .zip(&ranges)
                        .map(|(x, (lo, hi))| lo + (hi - lo) * x)
                        .collect()
                })
                .collect())
        }
    }
}

/// What to sweep.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    pub factors: Vec<Factor>,
    pub design: SweepDesign,
    /// The design's own random stream (sampled designs).
    pub seed: u64,
}

/// One design point: the keys' values, its summary over seeds, and each seed's own values.
#[derive(Clone, Debug)]
pub struct SweepPoint {
    pub values: Vec<f64>,
    pub summary: Summaries,
    pub replicates: Vec<(u64, Summaries)>,
}

/// A finished sweep.
#[derive(Clone, Debug)]
pub struct Sweep {
    pub keys: Vec<String>,
    pub design: SweepDesign,
    /// The design's seed: it draws a sampled design and the bootstrap of its Sobol' indices.
    pub seed: u64,
    pub points: Vec<SweepPoint>,
}

/// Run every point × seed as a cell (cached under `out`), then summarise each point.
pub fn run(o: &Options, spec: &SweepSpec, out: Option<&Path>, pb: &dyn Progress) -> Result<Sweep> {
    let points = design_points(&spec.factors, spec.design, spec.seed)?;
    let mut cells = Vec::with_capacity(points.len() * o.seeds.len());
    let mut settings = Vec::with_capacity(points.len());
    for values in &points {
        let (mut s, mut p) = (o.scenario.clone(), o.policy.clone());
        for (f, v) in spec.factors.iter().zip(values) {
            (s, p) = apply(f, *v, &s, &p)?;
        }
        for seed in &o.seeds {
            cells.push(CellSpec::new(s.clone(), p.clone(), vec![*seed], o.horizon));
        }
        settings.push(s);
    }
    pb.set_length(cells.len() as u64);
    let (done, _) = run_cells(&cells, out, pb)?;
    pb.finish();
    let n = o.seeds.len();
    let points = points
        .into_iter()
        .zip(done.chunks(n))
        .zip(&settings)
        .map(|((values, chunk), scenario)| SweepPoint {
            values,
            summary: point_summary(chunk, scenario),
            replicates: o
                .seeds
                .iter()
                .zip(chunk)
                .map(|(s, c)| (*s, c.summary.clone()))
                .collect(),
        })
        .collect();
    Ok(Sweep {
        keys: spec.factors.iter().map(|f| f.key.clone()).collect(),
        design: spec.design,
        seed: spec.seed,
        points,
    })
}

/// The summary over a point's seeds from its one-seed cells, as `run_seeds` makes it from one
/// batch: every metric summarised over the seeds, Eq. 8's fitness over the seed set.
fn point_summary(cells: &[Cell], scenario: &Scenario) -> Summaries {
    let values = |m: Metric| -> Vec<f64> { cells.iter().map(|c| c.mean(m)).collect() };
    let mut out = Summaries::new();
    for &m in Metric::ALL {
        out.insert(m, summarise(&values(m)));
    }
    let weights = FitnessWeights {
        lambda_unsafe: scenario.objective.lambda_unsafe,
        lambda_var: scenario.objective.lambda_var,
    };
    let f = fitness(
        &values(Metric::DiscountedReturn),
        &values(Metric::ViolationScore),
        weights,
    );
    out.insert(Metric::Fitness, Summary::exact(f, cells.len()));
    out
}

/// The sweep's figure, drawn as the L2 figures are: for a grid over one key, each metric's mean
/// over the key's values with its 95% band, labelled with the metric's declared unit. `None`
/// for several keys or a sampled design, whose points make no line.
pub fn figure(s: &Sweep, metrics: &[Metric]) -> Option<Figure> {
    let [key] = s.keys.as_slice() else {
        return None;
    };
    if s.design != SweepDesign::Grid {
        return None;
    }
    let panel = |m: Metric| {
        let mut line: Vec<BandPoint> = s
            .points
            .iter()
            .filter_map(|p| {
                let v = p.summary.get(m)?;
                Some((p.values[0], v.mean, v.ci95[0], v.ci95[1]))
            })
            .collect();
        line.sort_by(|a, b| a.0.total_cmp(&b.0));
        let title = format!("{} ({})", m.name(), m.unit());
        let svg = lines_with_bands(&title, key, &[("mean".to_string(), line)], None);
        (m.name().to_string(), svg)
    };
    Some(Figure {
        id: "sweep".into(),
        title: format!("Sweep of {key}"),
        caption: "Means over seeds with 95% bands.".into(),
        panels: metrics.iter().map(|m| panel(*m)).collect(),
    })
}

/// The metrics to write: the named ones (each checked), or every metric.
pub fn metrics(names: &[String]) -> Result<Vec<Metric>> {
    if names.is_empty() {
        return Ok(Metric::ALL.to_vec());
    }
    names
        .iter()
        .map(|n| {
            Metric::from_name(n).ok_or_else(|| {
                let known: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
                anyhow!(
                    "unknown metric `{n}`; the metrics are: {}",
                    known.join(", ")
                )
            })
        })
        .collect()
}

/// One row per design point × metric: the keys, `point`, `metric`, mean, sd, interval, n.
pub fn tidy(s: &Sweep, metrics: &[Metric]) -> Table {
    let rows: Vec<(usize, Metric)> = (0..s.points.len())
        .flat_map(|p| metrics.iter().map(move |m| (p, *m)))
        .collect();
    let mut t = Table::new();
    for (k, key) in s.keys.iter().enumerate() {
        t.push(
            key,
            Column::Real(rows.iter().map(|(p, _)| s.points[*p].values[k]).collect()),
        );
    }
    // One seed has no spread and no interval: NaN (undefined), not a zero-width interval.
    let stat = |f: &dyn Fn(&Summary) -> f64| -> Column {
        Column::Real(
            rows.iter()
                .map(|(p, m)| match s.points[*p].summary.get(*m) {
                    Some(x) if x.n >= 2 => f(x),
                    _ => f64::NAN,
                })
                .collect(),
        )
    };
    t.push(
        "point",
        Column::Count(rows.iter().map(|(p, _)| *p as u64).collect()),
    );
    t.push(
        "metric",
        Column::Text(rows.iter().map(|(_, m)| m.name().to_string()).collect()),
    );
    t.push(
        "mean",
        Column::Real(
            rows.iter()
                .map(|(p, m)| s.points[*p].summary.mean(*m))
                .collect(),
        ),
    );
    t.push("std", stat(&|x| x.std));
    t.push("ci95_low", stat(&|x| x.ci95[0]));
    t.push("ci95_high", stat(&|x| x.ci95[1]));
    t.push(
        "n",
        Column::Count(
            rows.iter()
                .map(|(p, m)| s.points[*p].summary.get(*m).map_or(0, |x| x.n as u64))
                .collect(),
        ),
    );
    t
}

/// One row per design point × seed × metric: the keys, `point`, `seed`, `metric`, `value`.
pub fn replicates(s: &Sweep, metrics: &[Metric]) -> Table {
    let mut rows = Vec::new();
    for (p, point) in s.points.iter().enumerate() {
        for (seed, summary) in &point.replicates {
            for m in metrics {
                rows.push((p, *seed, *m, summary.mean(*m)));
            }
        }
    }
    let mut t = Table::new();
    for (k, key) in s.keys.iter().enumerate() {
        t.push(
            key,
            Column::Real(rows.iter().map(|r| s.points[r.0].values[k]).collect()),
        );
    }
    t.push(
        "point",
        Column::Count(rows.iter().map(|r| r.0 as u64).collect()),
    );
    t.push("seed", Column::Count(rows.iter().map(|r| r.1).collect()));
    t.push(
        "metric",
        Column::Text(rows.iter().map(|r| r.2.name().to_string()).collect()),
    );
    t.push("value", Column::Real(rows.iter().map(|r| r.3).collect()));
    t
}

/// A Sobol' design's indices: one row per metric × key (first and total order, each with its
/// 95% bootstrap interval).
pub fn sobol(s: &Sweep, metrics: &[Metric]) -> Option<Table> {
    let SweepDesign::Sobol(n) = s.design else {
        return None;
    };
    let d = s.keys.len();
    // Each metric's variance over the A and B points rides along: where it is near zero (a
    // rate that is 0 almost everywhere) the indices are ratios of noise and say nothing.
    let mut rows: Vec<(Metric, usize, SobolIndex, f64)> = Vec::new();
    for m in metrics {
        let y: Vec<f64> = s.points.iter().map(|p| p.summary.mean(*m)).collect();
        let var = medisim_core::stats::sample_variance(&y[..2 * n]);
        // One bootstrap stream per metric, so adding a metric changes no other's intervals.
        let position = Metric::ALL.iter().position(|x| x == m).unwrap_or(0);
        let mut rng = medisim_core::rng::stream(s.seed, position as u64, 11);
        for (k, idx) in sobol_indices(&y, n, d, &mut rng).into_iter().enumerate() {
            rows.push((*m, k, idx, var));
        }
    }
    let index =
        |f: &dyn Fn(&SobolIndex) -> f64| Column::Real(rows.iter().map(|r| f(&r.2)).collect());
    Some(
        Table::new()
            .with(
                "metric",
                Column::Text(rows.iter().map(|r| r.0.name().to_string()).collect()),
            )
            .with(
                "key",
                Column::Text(rows.iter().map(|r| s.keys[r.1].clone()).collect()),
            )
            .with("first", index(&|i| i.first))
            .with("first_lo", index(&|i| i.first_ci95[0]))
            .with("first_hi", index(&|i| i.first_ci95[1]))
            .with("total", index(&|i| i.total))
            .with("total_lo", index(&|i| i.total_ci95[0]))
            .with("total_hi", index(&|i| i.total_ci95[1]))
            .with("variance", Column::Real(rows.iter().map(|r| r.3).collect())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use medisim_core::progress::Hidden;
    use medisim_sim::ObjectiveKind;

    fn setting() -> (Scenario, Policy) {
        (Scenario::default(), medisim_sim::baseline().clone())
    }

    #[test]
    fn factors_parse_and_bad_ones_are_refused_with_the_reason() {
        let (s, p) = setting();
        let f = parse_factor("care.nu=0.05:0.2:4", &s, &p).unwrap();
        assert_eq!(f.target, Target::Scenario);
        assert_eq!(
            f.values,
            Values::Range {
                lo: 0.05,
                hi: 0.2,
                n: Some(4)
            }
        );
        let f = parse_factor("admin_policy.alpha=0.2,0.8", &s, &p).unwrap();
        assert!(matches!(f.target, Target::Policy(_)));
        assert!(matches!(
            parse_factor("beta=0:1", &s, &p).unwrap().target,
            Target::Policy(_)
        ));
        for (bad, says) in [
            ("care.nu", "expected KEY="),
            (
                "admin_policy.alpha=0.5,1.5",
                "must be real in [0, 1], got 1.5",
            ),
            ("care.untreated_health=0:2:3", "care.untreated_health"),
            ("care.price=1,2", "did you mean `case_mix.price`?"),
            ("doctor_policy.alpha=0.1", "under [admin_policy]"),
            ("teams=2.5", "whole numbers"),
            ("care.nu=0.3:0.1", "start must be below"),
            ("care.nu=0:1:1", "count must be in 2..=10000"),
            ("care.nu=abc", "not a number"),
            ("total_capacity=10.5", "integer"),
        ] {
            let e = parse_factor(bad, &s, &p).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn designs_cover_their_ranges() {
        let (s, p) = setting();
        let a = parse_factor("care.nu=0:0.2:3", &s, &p).unwrap();
        let b = parse_factor("admin_policy.alpha=0.1,0.9", &s, &p).unwrap();
        let grid = design_points(&[a.clone(), b.clone()], SweepDesign::Grid, 0).unwrap();
        assert_eq!(grid.len(), 6);
        assert_eq!(grid[0], vec![0.0, 0.1]);
        assert_eq!(grid[5], vec![0.2, 0.9]);
        let e = design_points(std::slice::from_ref(&a), SweepDesign::Lhs(5), 0).unwrap_err();
        assert!(e.to_string().contains("takes a range a:b"), "{e}");
        let r = parse_factor("care.nu=0:0.2", &s, &p).unwrap();
        let lhs = design_points(std::slice::from_ref(&r), SweepDesign::Lhs(8), 3).unwrap();
        assert_eq!(lhs.len(), 8);
        // A Latin hypercube puts one point in each eighth of the range.
        let mut bins: Vec<usize> = lhs.iter().map(|v| (v[0] / 0.025) as usize).collect();
        bins.sort();
        assert_eq!(bins, (0..8).collect::<Vec<_>>());
        assert_eq!(
            design_points(&[r.clone(), r], SweepDesign::Sobol(4), 3)
                .unwrap()
                .len(),
            4 * (2 + 2)
        );
        assert!(SweepDesign::parse("lhs:0").is_err());
        assert!(SweepDesign::parse("random").is_err());
        assert_eq!(
            SweepDesign::parse("sobol:16").unwrap(),
            SweepDesign::Sobol(16)
        );
    }

    /// A key the dynamics never read (a violation weight) has Sobol' indices of exactly 0 for
    /// up-coding; α, which drives it, carries nearly all of its variance.
    #[test]
    fn sobol_indices_separate_a_driver_from_a_key_that_does_nothing() {
        let (s, p) = setting();
        let o = Options {
            seeds: vec![1, 2],
            horizon: 30,
            ..Options::paper()
        };
        let spec = SweepSpec {
            factors: vec![
                parse_factor("admin_policy.alpha=0:1", &s, &p).unwrap(),
                parse_factor("objective.w_waiting=0:5", &s, &p).unwrap(),
            ],
            design: SweepDesign::Sobol(16),
            seed: 2,
        };
        let r = run(&o, &spec, None, &Hidden).unwrap();
        assert_eq!(r.points.len(), 16 * 4);
        let t = sobol(&r, &[Metric::UpcodingRate]).unwrap();
        let Some(Column::Real(total)) = t.column("total") else {
            panic!("total column")
        };
        assert!(total[0] > 0.8, "α: {}", total[0]);
        assert_eq!(total[1], 0.0, "w_waiting");
        let Some(Column::Real(var)) = t.column("variance") else {
            panic!("variance column")
        };
        assert!(var[0] > 0.0);
    }

    /// A point's summary from one-seed cells equals `medisim run`'s for the same setting, bit
    /// for bit; the policy constant really is set; a second run reuses every cell.
    #[test]
    fn a_point_is_summarised_exactly_as_a_run_and_resumes_from_the_cells() {
        let (s, p) = setting();
        let dir = tempfile::tempdir().unwrap();
        let o = Options {
            seeds: vec![3, 4, 5],
            horizon: 30,
            ..Options::paper()
        };
        let spec = SweepSpec {
            factors: vec![parse_factor("admin_policy.alpha=0.2,0.9", &s, &p).unwrap()],
            design: SweepDesign::Grid,
            seed: 0,
        };
        let a = run(&o, &spec, Some(dir.path()), &Hidden).unwrap();
        let mut fixed = p.clone();
        let Target::Policy(alpha) = spec.factors[0].target else {
            panic!("alpha is a policy field")
        };
        fixed.fix(alpha, 0.9);
        let direct = medisim_sim::run::run_seeds(
            &s,
            &fixed,
            &medisim_sim::run_spec(o.seeds.clone(), o.horizon, ObjectiveKind::Mixed),
            false,
        )
        .unwrap();
        assert_eq!(a.points[1].summary, direct.summary);
        assert_ne!(
            a.points[0].summary.mean(Metric::UpcodingRate),
            a.points[1].summary.mean(Metric::UpcodingRate),
            "α moves up-coding"
        );
        let m = metrics(&["upcoding_rate".into(), "fitness".into()]).unwrap();
        let t = tidy(&a, &m);
        assert_eq!(t.rows().unwrap(), 2 * 2);
        let r = replicates(&a, &m);
        assert_eq!(r.rows().unwrap(), 2 * 3 * 2);
        let pb = Hidden;
        let b = run(&o, &spec, Some(dir.path()), &pb).unwrap();
        assert_eq!(tidy(&b, &m).to_csv().unwrap(), t.to_csv().unwrap());
        assert!(metrics(&["upcode".into()])
            .unwrap_err()
            .to_string()
            .contains("upcoding_rate"));
    }
}
