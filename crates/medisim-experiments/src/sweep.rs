//! `medisim sweep`: any parameter of any model (a Medi-Sim scenario key or policy constant, a
//! panel, game or contract parameter) over a design (a full grid, a Latin hypercube, or Sobol'
//! A/B/AB matrices), every design point × seed one cell of the cache, so a sweep resumes,
//! shares cells with other experiments, and yields per-replicate rows for free. Output is tidy:
//! one row per design point × metric, every swept key a column.
//!
//! Written once against [`Model`]: the key is set through the model's one validating setter
//! ([`Model::set`]), and a point's summary is built from its seeds' cells by the model's own
//! [`Model::combine`] exactly as its `run` builds it from one batch (for Medi-Sim the same
//! `summarise` over the same values, Eq. 8 over the same seed set), which a test holds bit for
//! bit.

use crate::cells::{run_model_cells, CellSpec};
use crate::plots::TornadoBar;
use crate::plots::{heatmap, lines_with_bands, metric_scale, BandPoint, Heatmap};
use crate::{Figure, Options};
use anyhow::{anyhow, bail, Result};
use medisim_core::progress::Progress;
use medisim_core::sensitivity::{latin_hypercube, sobol_design, sobol_indices, SobolIndex};
use medisim_core::{Column, Metric, Model, RunSpec, Summaries, Summary, Table};
use medisim_sim::{MediSim, ObjectiveKind};
use std::path::Path;

/// The values a key takes: the core's one value spec (`a:b:n`, `a:b`, `v1,v2,…`).
pub use medisim_core::params::ValueSpec as Values;

/// One `--set KEY=VALUES`.
#[derive(Clone, Debug, PartialEq)]
pub struct Factor {
    /// As the user wrote it, and as the output column is named.
    pub key: String,
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
    /// One key at a time: the base setting, then each key over its values with every other key
    /// at its base value (a one-way deterministic sensitivity analysis), drawn as a tornado.
    OneWay,
}

impl SweepDesign {
    /// `grid`, `oneway`, `lhs:N` (1 ≤ N ≤ 100,000) or `sobol:N` (4 ≤ N ≤ 100,000).
    pub fn parse(text: &str) -> Result<SweepDesign> {
        use medisim_core::sensitivity::MIN_SOBOL_POINTS;
        let bad = || {
            anyhow!(
                "--design `{text}`: expected grid, oneway, lhs:N with N in 1..=100000 or sobol:N \
                 with N in {MIN_SOBOL_POINTS}..=100000"
            )
        };
        let count = |n: &str, least: usize| -> Result<usize> {
            let n: usize = n.trim().parse().map_err(|_| bad())?;
            if (least..=100_000).contains(&n) {
                Ok(n)
            } else {
                Err(bad())
            }
        };
        match text.split_once(':') {
            None if text == "grid" => Ok(SweepDesign::Grid),
            None if text == "oneway" => Ok(SweepDesign::OneWay),
            Some(("lhs", n)) => Ok(SweepDesign::Lhs(count(n, 1)?)),
            Some(("sobol", n)) => Ok(SweepDesign::Sobol(count(n, MIN_SOBOL_POINTS)?)),
            _ => Err(bad()),
        }
    }
}

/// Parse `KEY=a:b:n`, `KEY=a:b` or `KEY=v1,v2,…` for a model's setting: the key is checked,
/// and the values at both ends of a range (every value of a list) are set once, so an unknown
/// key or an out-of-range value is refused before any cell runs (never clipped).
pub fn parse_factor<M: Model>(model: &M, text: &str, base: &Setting<M>) -> Result<Factor> {
    let (key, spec) = text
        .split_once('=')
        .ok_or_else(|| anyhow!("--set `{text}`: expected KEY=a:b:n, KEY=a:b or KEY=v1,v2"))?;
    let key = key.trim();
    let values = Values::parse(spec).map_err(|e| anyhow!("--set {key}: {e}"))?;
    let probe = match &values {
        Values::List(v) => v.clone(),
        Values::Range { lo, hi, .. } => vec![*lo, *hi],
    };
    for v in probe {
        model
            .set(&base.scenario, &base.policy, key, v)
            .map_err(|e| anyhow!("--set {key}={v}: {e}"))?;
    }
    Ok(Factor {
        key: key.to_string(),
        values,
    })
}

/// What one model runs at: the scenario and policy every design point starts from, and the
/// seeds and settings of each point's run.
pub struct Setting<M: Model> {
    pub scenario: M::Scenario,
    pub policy: M::Policy,
    pub spec: RunSpec<M::Settings>,
}

impl Setting<MediSim> {
    /// Medi-Sim's setting of an experiment's options (the mixed objective, as every experiment).
    pub fn of(o: &Options) -> Self {
        Setting {
            scenario: o.scenario.clone(),
            policy: o.policy.clone(),
            spec: medisim_sim::run_spec(o.seeds.clone(), o.horizon, ObjectiveKind::Mixed),
        }
    }
}

/// Refuse a key named twice: a sweep, a sensitivity design or a calibration would write two
/// columns of one name, the first of them false.
pub fn distinct<'a>(keys: impl IntoIterator<Item = &'a str>) -> Result<()> {
    medisim_core::params::distinct(keys).map_err(anyhow::Error::msg)
}

/// The design's points, one value per factor; `base` is each factor's value in the base
/// setting (read by the one-way design only).
pub fn design_points(
    factors: &[Factor],
    design: SweepDesign,
    seed: u64,
    base: &[f64],
) -> Result<Vec<Vec<f64>>> {
    if factors.is_empty() {
        bail!("a sweep needs at least one --set KEY=VALUES");
    }
    distinct(factors.iter().map(|f| f.key.as_str()))?;
    let axes = || -> Result<Vec<Vec<f64>>> {
        factors
            .iter()
            .map(|f| {
                f.values.grid().ok_or_else(|| {
                    anyhow!(
                        "--set {}: a grid or a one-way design needs a:b:n (how many values), or a \
                         list",
                        f.key
                    )
                })
            })
            .collect()
    };
    match design {
        SweepDesign::OneWay => {
            let mut points = vec![base.to_vec()];
            for (k, axis) in axes()?.iter().enumerate() {
                let moved: Vec<f64> = axis.iter().copied().filter(|v| *v != base[k]).collect();
                if moved.is_empty() {
                    bail!(
                        "--set {}: a one-way design moves each key from its base value {}; give \
                         it another value",
                        factors[k].key,
                        medisim_core::text::number(base[k])
                    );
                }
                for v in moved {
                    let mut p = base.to_vec();
                    p[k] = v;
                    points.push(p);
                }
            }
            Ok(points)
        }
        SweepDesign::Grid => {
            let axes = axes()?;
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

/// The most cells (points × seeds) one sweep or sensitivity command runs: measured, 10,000
/// panel cells take 3 s and 180 MB; a million asked for 21 GB at once and aborted.
pub const MAX_CELLS: usize = 50_000;

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
    /// Whether the model's results depend on the seeds ([`Model::stochastic`]): a
    /// deterministic model's one value is exact, not a one-seed sample with no interval.
    pub stochastic: bool,
}

/// The seeds each point runs: the setting's, or one run (seed 0) for a deterministic model.
fn point_seeds<M: Model>(model: &M, base: &Setting<M>) -> Vec<u64> {
    if model.stochastic() {
        base.spec.seeds.clone()
    } else {
        vec![0]
    }
}

/// A design's points (one value per key) and their cells, one per point × seed.
pub type PointCells<M> = (Vec<Vec<f64>>, Vec<CellSpec<M>>);

/// The design's points and their cells: one per point × seed, points in design order.
pub fn cells<M: Model>(model: &M, base: &Setting<M>, spec: &SweepSpec) -> Result<PointCells<M>> {
    base.spec.validate().map_err(anyhow::Error::msg)?;
    let at_base = match spec.design {
        SweepDesign::OneWay => spec
            .factors
            .iter()
            .map(|f| {
                model
                    .value(&base.scenario, &base.policy, &f.key)
                    .map_err(|e| {
                        anyhow!(
                            "--set {}: a one-way design starts from its base value: {e}",
                            f.key
                        )
                    })
            })
            .collect::<Result<Vec<f64>>>()?,
        _ => Vec::new(),
    };
    let points = design_points(&spec.factors, spec.design, spec.seed, &at_base)?;
    let seeds = point_seeds(model, base);
    let total = points.len().saturating_mul(seeds.len());
    if total > MAX_CELLS {
        bail!(
            "the sweep has {} points × {} seeds = {total} cells; at most {MAX_CELLS} in one \
             command (each cell holds a copy of the setting: about 20 KB and a millisecond or \
             more): sweep fewer points or seeds",
            points.len(),
            seeds.len()
        );
    }
    let mut cells = Vec::with_capacity(total);
    for values in &points {
        let (mut s, mut p) = (base.scenario.clone(), base.policy.clone());
        for (f, v) in spec.factors.iter().zip(values) {
            (s, p) = model.set(&s, &p, &f.key, *v).map_err(anyhow::Error::msg)?;
        }
        for seed in &seeds {
            cells.push(CellSpec {
                labels: Default::default(),
                scenario: s.clone(),
                policy: p.clone(),
                spec: RunSpec::new(vec![*seed], base.spec.settings.clone()),
            });
        }
    }
    check_work(model, &cells)?;
    Ok((points, cells))
}

/// Refuse cells whose total work ([`Model::work`]) is past the model's bound for one command.
pub fn check_work<M: Model>(model: &M, cells: &[CellSpec<M>]) -> Result<()> {
    let mut total: Option<(u128, medisim_core::Work)> = None;
    for c in cells {
        if let Some(w) = model.work(&c.scenario, &c.spec) {
            let sum = total.map_or(0, |(t, _)| t).saturating_add(w.amount);
            total = Some((sum, w));
        }
    }
    match total {
        Some((sum, w)) if sum > w.limit => bail!(
            "the {} cells ask for {sum} {} in all; at most {} in one command: sweep fewer \
             points or seeds, or smaller runs",
            cells.len(),
            w.unit,
            w.limit
        ),
        _ => Ok(()),
    }
}

/// Run a Medi-Sim sweep of the experiment options' setting.
pub fn run(o: &Options, spec: &SweepSpec, out: Option<&Path>, pb: &dyn Progress) -> Result<Sweep> {
    run_model(&MediSim, &Setting::of(o), spec, out, pb)
}

/// Run every point × seed of any model as a cell (cached under `out`), then summarise each
/// point from its seeds' cells with the model's own [`Model::combine`].
pub fn run_model<M: Model>(
    model: &M,
    base: &Setting<M>,
    spec: &SweepSpec,
    out: Option<&Path>,
    pb: &dyn Progress,
) -> Result<Sweep> {
    let (points, specs) = cells(model, base, spec)?;
    pb.set_length(specs.len() as u64);
    let (done, _) = run_model_cells(model, &specs, out, pb)?;
    pb.finish();
    let seeds = point_seeds(model, base);
    let points = points
        .into_iter()
        .zip(done.chunks(seeds.len()))
        .zip(specs.chunks(seeds.len()))
        .map(|((values, chunk), point_specs)| {
            let replicates: Vec<&Summaries> = chunk.iter().map(|c| &c.summary).collect();
            SweepPoint {
                values,
                summary: model.combine(&point_specs[0].scenario, &replicates),
                replicates: seeds
                    .iter()
                    .zip(chunk)
                    .map(|(s, c)| (*s, c.summary.clone()))
                    .collect(),
            }
        })
        .collect();
    Ok(Sweep {
        keys: spec.factors.iter().map(|f| f.key.clone()).collect(),
        design: spec.design,
        seed: spec.seed,
        points,
        stochastic: model.stochastic(),
    })
}

/// The sweep's figure: for a grid over one key, each metric's mean over the key's values with
/// its 95% band, drawn as the L2 figures are; over two keys, each metric's map drawn as the L1
/// maps are (every cell's value, the interval on hover). Labelled with the metric's declared
/// unit and kind. `None` for more keys or a sampled design, whose points make no line or map.
pub fn figure<M: Metric>(s: &Sweep, metrics: &[M]) -> Option<Figure> {
    if s.design == SweepDesign::OneWay {
        return Some(tornado_figure(s, metrics));
    }
    if s.design != SweepDesign::Grid {
        return None;
    }
    if let [x, y] = s.keys.as_slice() {
        return Some(map_figure(s, metrics, x, y));
    }
    let [key] = s.keys.as_slice() else {
        return None;
    };
    let panel = |m: M| {
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

/// Each key's swing of a metric in a one-way design: (key, the metric's lowest and highest mean
/// over the key's values, the base included, and the key's lowest and highest value), widest
/// swing first, a swing that is not a number last. The base point is the design's first.
pub fn swings<M: Metric>(s: &Sweep, m: M) -> Vec<(String, [f64; 2], [f64; 2])> {
    let base = &s.points[0].values;
    let mut out: Vec<(String, [f64; 2], [f64; 2])> = s
        .keys
        .iter()
        .enumerate()
        .map(|(k, key)| {
            let mut at = [f64::INFINITY, f64::NEG_INFINITY];
            let mut values = [f64::INFINITY, f64::NEG_INFINITY];
            let mut nan = false;
            let own = s.points.iter().filter(|p| {
                p.values
                    .iter()
                    .zip(base)
                    .enumerate()
                    .all(|(j, (a, b))| j == k || a == b)
            });
            for p in own {
                let v = p.summary.get(m).map_or(f64::NAN, |v| v.mean);
                nan |= v.is_nan();
                at = [at[0].min(v), at[1].max(v)];
                values = [values[0].min(p.values[k]), values[1].max(p.values[k])];
            }
            if nan {
                at = [f64::NAN; 2];
            }
            (key.clone(), at, values)
        })
        .collect();
    let swing = |x: &[f64; 2]| {
        let w = (x[1] - x[0]).abs();
        if w.is_nan() {
            f64::NEG_INFINITY
        } else {
            w
        }
    };
    out.sort_by(|a, b| swing(&b.1).total_cmp(&swing(&a.1)));
    out
}

/// A one-way design's tornado per metric: each key's bar spans the metric at the key's lowest
/// and highest value, the widest on top, around the base setting's value.
fn tornado_figure<M: Metric>(s: &Sweep, metrics: &[M]) -> Figure {
    let panel = |m: M| {
        let base = s.points[0].summary.get(m).map_or(f64::NAN, |v| v.mean);
        let bars: Vec<TornadoBar> = swings(s, m)
            .into_iter()
            .map(|(key, at, values)| TornadoBar {
                label: format!(
                    "{key} {} … {}",
                    medisim_core::text::number(values[0]),
                    medisim_core::text::number(values[1])
                ),
                low: at[0],
                high: at[1],
            })
            .collect();
        let title = format!("{} ({})", m.name(), m.unit());
        (
            m.name().to_string(),
            crate::plots::tornado(&title, base, &bars),
        )
    };
    Figure {
        id: "tornado".into(),
        title: format!("One-way sensitivity of {}", s.keys.join(", ")),
        caption: "Each bar spans the metric's lowest and highest mean as the key moves over its \
                  values (the base included), every other key at its base; the line is the base \
                  setting."
            .into(),
        panels: metrics.iter().map(|m| panel(*m)).collect(),
    }
}

/// A two-key grid's maps: x the first key, y the second.
fn map_figure<M: Metric>(s: &Sweep, metrics: &[M], x: &str, y: &str) -> Figure {
    let axis = |k: usize| {
        let mut v: Vec<f64> = s.points.iter().map(|p| p.values[k]).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let (xs, ys) = (axis(0), axis(1));
    let at = |a: f64, b: f64, m: M| {
        s.points
            .iter()
            .find(|p| p.values[0] == a && p.values[1] == b)
            .and_then(|p| p.summary.get(m))
    };
    let panel = |m: M| {
        let grid = |f: &dyn Fn(Option<&Summary>) -> f64| -> Vec<Vec<f64>> {
            xs.iter()
                .map(|a| ys.iter().map(|b| f(at(*a, *b, m))).collect())
                .collect()
        };
        let values = grid(&|v| v.map_or(f64::NAN, |v| v.mean));
        let intervals: Vec<Vec<[f64; 2]>> = xs
            .iter()
            .map(|a| {
                ys.iter()
                    .map(|b| at(*a, *b, m).map_or([f64::NAN; 2], |v| v.ci95))
                    .collect()
            })
            .collect();
        let (unit, palette) = metric_scale(m);
        let title = format!("{} ({unit})", m.name());
        let svg = heatmap(&Heatmap {
            title: &title,
            axes: (x, y),
            xs: &xs,
            ys: &ys,
            values: &values,
            decimals: 2,
            cross: None,
            palette,
            unit,
            intervals: Some(&intervals),
        });
        (m.name().to_string(), svg)
    };
    Figure {
        id: "sweep".into(),
        title: format!("Sweep of {x} × {y}"),
        caption: "Means over seeds; hover a cell for its 95% interval.".into(),
        panels: metrics.iter().map(|m| panel(*m)).collect(),
    }
}

/// The metrics to write: the named ones (each checked), or every metric.
pub fn metrics<M: Metric>(names: &[String]) -> Result<Vec<M>> {
    if names.is_empty() {
        return Ok(M::ALL.to_vec());
    }
    names
        .iter()
        .map(|n| {
            M::from_name(n).ok_or_else(|| {
                let known: Vec<&str> = M::ALL.iter().map(|m| m.name()).collect();
                anyhow!(
                    "unknown metric `{n}`; the metrics are: {}",
                    known.join(", ")
                )
            })
        })
        .collect()
}

/// One row per design point × metric: the keys, `point`, `metric`, mean, sd, interval, n.
pub fn tidy<M: Metric>(s: &Sweep, metrics: &[M]) -> Table {
    let rows: Vec<(usize, M)> = (0..s.points.len())
        .flat_map(|p| metrics.iter().map(move |m| (p, *m)))
        .collect();
    let mut t = Table::new();
    for (k, key) in s.keys.iter().enumerate() {
        t.push(
            key,
            Column::Real(rows.iter().map(|(p, _)| s.points[*p].values[k]).collect()),
        );
    }
    // One seed has no spread and no interval: empty (undefined), not a zero-width interval
    // and not NaN. A deterministic model's value is exact: its interval is the value.
    let stat = |f: &dyn Fn(&Summary) -> f64| -> Column {
        Column::reals(
            rows.iter()
                .map(|(p, m)| match s.points[*p].summary.get(*m) {
                    Some(x) if x.spread_defined(s.stochastic) => Some(f(x)),
                    _ => None,
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
pub fn replicates<M: Metric>(s: &Sweep, metrics: &[M]) -> Table {
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
pub fn sobol<M: Metric>(s: &Sweep, metrics: &[M]) -> Option<Table> {
    let SweepDesign::Sobol(n) = s.design else {
        return None;
    };
    let d = s.keys.len();
    // Each metric's variance over the A and B points rides along: where it is near zero (a
    // rate that is 0 almost everywhere) the indices are ratios of noise and say nothing.
    let mut rows: Vec<(M, usize, SobolIndex, f64)> = Vec::new();
    for m in metrics {
        let y: Vec<f64> = s.points.iter().map(|p| p.summary.mean(*m)).collect();
        let var = medisim_core::stats::sample_variance(&y[..2 * n]);
        // One bootstrap stream per metric, so adding a metric changes no other's intervals.
        let position = M::ALL.iter().position(|x| x == m).unwrap_or(0);
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
    use medisim_sim::Metric;

    fn setting() -> Setting<MediSim> {
        Setting {
            scenario: medisim_sim::Scenario::default(),
            policy: medisim_sim::baseline().clone(),
            spec: medisim_sim::run_spec(vec![1], 200, ObjectiveKind::Mixed),
        }
    }

    fn factor(text: &str, base: &Setting<MediSim>) -> Result<Factor> {
        parse_factor(&MediSim, text, base)
    }

    #[test]
    fn factors_parse_and_bad_ones_are_refused_with_the_reason() {
        let b = setting();
        let f = factor("care.nu=0.05:0.2:4", &b).unwrap();
        assert_eq!(
            f.values,
            Values::Range {
                lo: 0.05,
                hi: 0.2,
                n: Some(4)
            }
        );
        assert!(factor("admin_policy.alpha=0.2,0.8", &b).is_ok());
        assert!(factor("beta=0:1", &b).is_ok());
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
            let e = factor(bad, &b).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn designs_cover_their_ranges() {
        let base = setting();
        let a = factor("care.nu=0:0.2:3", &base).unwrap();
        let b = factor("admin_policy.alpha=0.1,0.9", &base).unwrap();
        let grid = design_points(&[a.clone(), b.clone()], SweepDesign::Grid, 0, &[]).unwrap();
        assert_eq!(grid.len(), 6);
        assert_eq!(grid[0], vec![0.0, 0.1]);
        assert_eq!(grid[5], vec![0.2, 0.9]);
        let e = design_points(std::slice::from_ref(&a), SweepDesign::Lhs(5), 0, &[]).unwrap_err();
        assert!(e.to_string().contains("takes a range a:b"), "{e}");
        let r = factor("care.nu=0:0.2", &base).unwrap();
        let lhs = design_points(std::slice::from_ref(&r), SweepDesign::Lhs(8), 3, &[]).unwrap();
        assert_eq!(lhs.len(), 8);
        // A Latin hypercube puts one point in each eighth of the range.
        let mut bins: Vec<usize> = lhs.iter().map(|v| (v[0] / 0.025) as usize).collect();
        bins.sort();
        assert_eq!(bins, (0..8).collect::<Vec<_>>());
        let w = factor("objective.w_waiting=0:5", &base).unwrap();
        assert_eq!(
            design_points(&[r.clone(), w], SweepDesign::Sobol(4), 3, &[])
                .unwrap()
                .len(),
            4 * (2 + 2)
        );
        let twice = design_points(&[r.clone(), r], SweepDesign::Sobol(4), 3, &[]).unwrap_err();
        assert!(twice.to_string().contains("named twice"), "{twice}");
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
        let b = setting();
        let o = Options {
            seeds: vec![1, 2],
            horizon: 30,
            ..Options::paper()
        };
        let spec = SweepSpec {
            factors: vec![
                factor("admin_policy.alpha=0:1", &b).unwrap(),
                factor("objective.w_waiting=0:5", &b).unwrap(),
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

    /// The contract model at its defaults, run once (it is deterministic): a fast model for
    /// the design tests.
    fn contract_setting() -> Setting<medisim_contracts::contract::Contract> {
        Setting {
            scenario: medisim_contracts::contract::ContractScenario::default(),
            policy: (),
            spec: RunSpec::new(vec![0], medisim_core::NoSettings {}),
        }
    }

    /// A grid over two keys draws one map per metric, its ticks the values meant (a grid
    /// step's 0.30000000000000004 reads 0.3); more keys or a sampled design draw nothing.
    #[test]
    fn a_two_key_grid_draws_a_map_per_metric() {
        use medisim_contracts::contract::{Contract, ContractMetric};
        let base = contract_setting();
        let f = |t: &str| parse_factor(&Contract, t, &base).unwrap();
        let spec = SweepSpec {
            factors: vec![f("gamma=0.1:0.4:4"), f("t=0,1")],
            design: SweepDesign::Grid,
            seed: 1,
        };
        let s = run_model(&Contract, &base, &spec, None, &Hidden).unwrap();
        assert!(!s.stochastic && s.points.len() == 8);
        let m = [ContractMetric::P01, ContractMetric::ExpectedPayment];
        let fig = figure(&s, &m).expect("a map");
        assert_eq!(fig.panels.len(), 2);
        let svg = &fig.panels[0].1;
        assert!(
            svg.contains("\n0.3\n") && !svg.contains("0.30000000000000004"),
            "ticks"
        );
        assert!(svg.contains("t = 1"), "hover names the keys");
        let three = SweepSpec {
            factors: vec![f("gamma=0.1,0.2"), f("t=0,1"), f("pi00=0.5,0.51")],
            ..spec
        };
        let s3 = run_model(&Contract, &base, &three, None, &Hidden).unwrap();
        assert!(figure(&s3, &m).is_none());
    }

    /// A one-way design moves one key at a time from the base setting; each key's bar spans the
    /// metric of the model run with that key alone at each of its values and at its base, and
    /// the tornado lists the widest first.
    #[test]
    fn a_one_way_design_moves_one_key_at_a_time_and_draws_a_tornado() {
        use medisim_contracts::contract::{Contract, ContractMetric};
        let base = contract_setting();
        let f = |t: &str| parse_factor(&Contract, t, &base).unwrap();
        let spec = SweepSpec {
            factors: vec![f("gamma=0.1,0.4"), f("t=0,0.5,1")],
            design: SweepDesign::OneWay,
            seed: 1,
        };
        let s = run_model(&Contract, &base, &spec, None, &Hidden).unwrap();
        let at_base = [
            Contract.value(&base.scenario, &(), "gamma").unwrap(),
            Contract.value(&base.scenario, &(), "t").unwrap(),
        ];
        // A listed base value is the base point, not run twice.
        let moved = |vs: &[f64], b: f64| vs.iter().filter(|v| **v != b).count();
        assert_eq!(
            s.points.len(),
            1 + moved(&[0.1, 0.4], at_base[0]) + moved(&[0.0, 0.5, 1.0], at_base[1])
        );
        let only_base = SweepSpec {
            factors: vec![f(&format!("gamma={}", at_base[0]))],
            ..spec.clone()
        };
        let e = run_model(&Contract, &base, &only_base, None, &Hidden).unwrap_err();
        assert!(e.to_string().contains("another value"), "{e}");
        assert_eq!(s.points[0].values, at_base);
        for p in &s.points[1..] {
            let moved = p
                .values
                .iter()
                .zip(&at_base)
                .filter(|(a, b)| a != b)
                .count();
            assert!(moved <= 1, "{:?}", p.values);
        }
        let m = ContractMetric::ExpectedPayment;
        // Each point is the base scenario with every key set in order, the moved one to `v`.
        let run_at = |key: &str, v: f64| {
            let mut sc = base.scenario.clone();
            for (k, b) in ["gamma", "t"].iter().zip(at_base) {
                sc = Contract
                    .set(&sc, &(), k, if *k == key { v } else { b })
                    .unwrap()
                    .0;
            }
            Contract.run(&sc, &(), &base.spec).unwrap().mean(m)
        };
        let swings = swings(&s, m);
        let base_mean = run_at("gamma", at_base[0]);
        assert_eq!(
            base_mean.to_bits(),
            s.points[0].summary.get(m).unwrap().mean.to_bits()
        );
        for (key, at, _) in &swings {
            // The bar spans the metric over the key's listed values and its base.
            let listed: &[f64] = if key == "gamma" {
                &[0.1, 0.4]
            } else {
                &[0.0, 0.5, 1.0]
            };
            let means = listed.iter().map(|v| run_at(key, *v)).chain([base_mean]);
            let (lo, hi) = means.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
            assert_eq!(at[0].to_bits(), lo.to_bits(), "{key} low");
            assert_eq!(at[1].to_bits(), hi.to_bits(), "{key} high");
        }
        let width = |x: &[f64; 2]| (x[1] - x[0]).abs();
        assert!(width(&swings[0].1) >= width(&swings[1].1));
        let fig = figure(&s, &[m]).expect("a tornado");
        assert_eq!(fig.id, "tornado");
        assert!(
            fig.panels[0].1.contains(&swings[0].0),
            "the widest key is labelled"
        );
    }

    /// A point's summary from one-seed cells equals `medisim run`'s for the same setting, bit
    /// for bit; the policy constant really is set; a second run reuses every cell.
    #[test]
    fn a_point_is_summarised_exactly_as_a_run_and_resumes_from_the_cells() {
        let base = setting();
        let (s, p) = (&base.scenario, &base.policy);
        let dir = tempfile::tempdir().unwrap();
        let o = Options {
            seeds: vec![3, 4, 5],
            horizon: 30,
            ..Options::paper()
        };
        let spec = SweepSpec {
            factors: vec![factor("admin_policy.alpha=0.2,0.9", &base).unwrap()],
            design: SweepDesign::Grid,
            seed: 0,
        };
        let a = run(&o, &spec, Some(dir.path()), &Hidden).unwrap();
        let (_, fixed) = MediSim.set(s, p, "admin_policy.alpha", 0.9).unwrap();
        let direct = medisim_sim::run::run_seeds(
            s,
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
        let m: Vec<Metric> = metrics(&["upcoding_rate".into(), "fitness".into()]).unwrap();
        let t = tidy(&a, &m);
        assert_eq!(t.rows().unwrap(), 2 * 2);
        let r = replicates(&a, &m);
        assert_eq!(r.rows().unwrap(), 2 * 3 * 2);
        let pb = Hidden;
        let b = run(&o, &spec, Some(dir.path()), &pb).unwrap();
        assert_eq!(tidy(&b, &m).to_csv().unwrap(), t.to_csv().unwrap());
        assert!(metrics::<Metric>(&["upcode".into()])
            .unwrap_err()
            .to_string()
            .contains("upcoding_rate"));
    }
}
