//! Calibration by the method of simulated moments: choose the open constants to minimise a
//! weighted distance between simulated and target moments, on common random numbers (the same
//! seeds at every evaluation), with argmin's Nelder–Mead over each constant's prior range.
//! Every evaluation runs through the cell cache, so a re-run of the same command replays the
//! (deterministic) search from cached cells: an interrupted calibration resumes.

use crate::cells::{run_cells, Cell};
use crate::l1;
use crate::validate;
use crate::Options;
use anyhow::{bail, Result};
use argmin::core::{CostFunction, Error as ArgminError, Executor};
use argmin::solver::neldermead::NelderMead;
use medisim_core::metric::Metric as _;
use medisim_core::progress::{Hidden, Progress};
use medisim_core::Model;
use medisim_core::{Column, Table};
use medisim_sim::MediSim;
use medisim_sim::{Metric, Scenario};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

/// Where a moment is measured: α, β and the other settings. Moments at one place share a cell.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub alpha: f64,
    pub beta: f64,
    pub set: BTreeMap<String, f64>,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(alpha, beta) = ({}, {})", self.alpha, self.beta)?;
        for (k, v) in &self.set {
            write!(f, ", {k} = {v}")?;
        }
        Ok(())
    }
}

impl Place {
    /// This place's cell: the settings applied to the calibrated scenario and the policy.
    fn cell(&self, o: &Options, s: &Scenario) -> Result<crate::cells::CellSpec> {
        let (mut s, mut p) = (s.clone(), o.policy.clone());
        for (k, v) in &self.set {
            (s, p) = MediSim.set(&s, &p, k, *v).map_err(anyhow::Error::msg)?;
        }
        Ok(l1::cell(&s, &p, self.alpha, self.beta, &o.seeds, o.horizon))
    }
}

impl Moment {
    pub fn place(&self) -> Place {
        Place {
            alpha: self.alpha,
            beta: self.beta,
            set: self.set.clone(),
        }
    }
}

/// One target moment: a metric at an (α, β) regime (with any other settings), its value, weight
/// and scale.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moment {
    pub regime: String,
    pub alpha: f64,
    pub beta: f64,
    /// Settings beside α and β where the paper measured the moment (an L2 lever: `set = {
    /// bonus_pool = 15 }`): dotted scenario keys or numeric policy fields, by the keys `medisim
    /// sweep --set` takes. They are applied after the calibrated constants, so they win.
    #[serde(default)]
    pub set: BTreeMap<String, f64>,
    pub metric: String,
    pub target: f64,
    #[serde(default = "one")]
    pub weight: f64,
    /// The residual's unit: (simulated − target) / scale. Default max(|target|, 0.1).
    pub scale: Option<f64>,
    /// Where the number comes from.
    pub source: String,
}

fn one() -> f64 {
    1.0
}

/// The largest |target| and `scale` (money is the largest-scaled metric, within a trillion).
pub const TARGET_LIMIT: f64 = 1e12;
/// The least `scale`: a residual's unit (a subnormal one made every distance the penalty).
pub const MIN_SCALE: f64 = 1e-6;
/// The largest weight of one moment.
pub const MAX_WEIGHT: f64 = 1e6;

/// The most moments a targets file may hold.
pub const MAX_MOMENTS: usize = 1_000;
/// The most distinct (α, β) regimes a targets file may name (the L1 grid's 121).
pub const MAX_REGIMES: usize = 121;

/// A targets file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    pub moment: Vec<Moment>,
}

impl Targets {
    pub fn from_toml(text: &str, origin: &str) -> Result<Targets> {
        let t: Targets = medisim_core::input::from_toml(text)
            .map_err(|at| anyhow::anyhow!("targets file {origin}: {at}"))?;
        if t.moment.len() > MAX_MOMENTS {
            bail!(
                "targets file {origin}: {} moments; at most {MAX_MOMENTS}",
                t.moment.len()
            );
        }
        for (i, m) in t.moment.iter().enumerate() {
            if Metric::from_name(&m.metric).is_none() {
                bail!(
                    "targets file {origin}: moment {} names no metric `{}` (see docs/metrics.md)",
                    i + 1,
                    m.metric
                );
            }
            // A residual is weight · ((simulated − target) / scale)²: these ranges keep every
            // distance finite (a weight of 1e308 made it inf, reported with exit 0).
            for (name, v, lo, hi) in [
                ("target", m.target, -TARGET_LIMIT, TARGET_LIMIT),
                ("weight", m.weight, 0.0, MAX_WEIGHT),
            ] {
                if !(lo..=hi).contains(&v) {
                    bail!(
                        "targets file {origin}: moment {}: `{name}` {} is outside [{}, {}]",
                        i + 1,
                        medisim_core::text::number(v),
                        medisim_core::text::number(lo),
                        medisim_core::text::number(hi)
                    );
                }
            }
            medisim_core::input::check_name("the regime", &m.regime)
                .map_err(|e| anyhow::anyhow!("targets file {origin}: moment {}: {e}", i + 1))?;
            check_settings(&m.set)
                .map_err(|e| anyhow::anyhow!("targets file {origin}: moment {}: {e}", i + 1))?;
            if let Some((j, _)) = t.moment[..i]
                .iter()
                .enumerate()
                .find(|(_, o)| o.metric == m.metric && o.place() == m.place())
            {
                bail!(
                    "targets file {origin}: moments {} and {} both target `{}` at {}: give each \
                     metric one target per regime",
                    j + 1,
                    i + 1,
                    m.metric,
                    m.place()
                );
            }
            if let Some(o) = t.moment[..i]
                .iter()
                .find(|o| o.regime == m.regime && o.place() != m.place())
            {
                bail!(
                    "targets file {origin}: moment {}: regime `{}` is at {} here and at {} \
                     earlier: one name, one regime",
                    i + 1,
                    medisim_core::input::excerpt(&m.regime),
                    m.place(),
                    o.place()
                );
            }
            // α and β are the policy's sensitivities, each in [0, 1] (a regime outside it
            // would run a policy the language refuses).
            for (name, v) in [("alpha", m.alpha), ("beta", m.beta)] {
                if !(0.0..=1.0).contains(&v) {
                    bail!(
                        "targets file {origin}: moment {}: `{name}` must be in [0, 1], got {v}",
                        i + 1
                    );
                }
            }
            if let Some(s) = m.scale {
                if !(MIN_SCALE..=TARGET_LIMIT).contains(&s) {
                    bail!(
                        "targets file {origin}: moment {}: `scale` {} is outside \
                         [{MIN_SCALE:e}, {TARGET_LIMIT:e}] (leave it out for max(|target|, 0.1))",
                        i + 1,
                        medisim_core::text::number(s)
                    );
                }
            }
        }
        if t.moment.is_empty() {
            bail!("targets file {origin}: no [[moment]]");
        }
        // Each distinct regime is simulated at every step of the fit: bound the work before
        // any runs.
        let regimes = t.regimes().len();
        if regimes > MAX_REGIMES {
            bail!(
                "targets file {origin}: {regimes} distinct regimes; at most \
                 {MAX_REGIMES} (the 11 × 11 L1 grid), each simulated at every step of the fit"
            );
        }
        if t.moment.iter().all(|m| m.weight == 0.0) {
            bail!("targets file {origin}: every weight is 0: nothing to fit");
        }
        Ok(t)
    }

    /// The distinct places the moments are measured at, in the file's order.
    pub fn regimes(&self) -> Vec<Place> {
        let mut r: Vec<Place> = Vec::new();
        for m in &self.moment {
            let p = m.place();
            if !r.contains(&p) {
                r.push(p);
            }
        }
        r
    }
}

/// A moment's settings must name keys `medisim sweep --set` takes, each in its legal range
/// (checked on the built-in scenario and the baseline), and may not name α or β, which the
/// moment gives itself.
fn check_settings(set: &BTreeMap<String, f64>) -> Result<()> {
    if set.len() > MAX_SETTINGS {
        bail!("{} settings in `set`; at most {MAX_SETTINGS}", set.len());
    }
    let (s, p) = (Scenario::default(), medisim_sim::baseline().clone());
    for (k, v) in set {
        let short = k.rsplit('.').next().unwrap_or(k);
        if short == "alpha" || short == "beta" {
            bail!("`set` names `{k}`: give alpha and beta as the moment's own keys");
        }
        MediSim
            .set(&s, &p, k, *v)
            .map_err(|e| anyhow::anyhow!("`set`: {e}"))?;
    }
    Ok(())
}

/// The most settings one moment's `set` may hold.
pub const MAX_SETTINGS: usize = 16;

/// What to calibrate.
#[derive(Clone, Debug)]
pub struct Spec {
    pub keys: Vec<String>,
    /// Each constant's prior range: its built-in value × (1 ± box).
    pub box_fraction: f64,
    /// Nelder–Mead iterations (each one to d + 1 evaluations; the first simplex costs d + 1).
    pub iterations: usize,
    /// Weight of the nine facts (0: moments only). With a weight, every evaluation also runs
    /// the facts' cells on the same seeds and adds, per fact, weight × (shortfall of its
    /// smallest margin from [`FACT_MARGIN`] half-widths)²: the fit may not buy a moment by
    /// giving up a finding.
    pub facts_weight: f64,
}

/// The margin, in half-widths of its interval, that a fact must clear during calibration:
/// above the one that passing needs, so that held-out seeds are not left on the edge.
pub const FACT_MARGIN: f64 = 2.0;

/// The penalty of one fact's smallest margin `m` (half-widths): 0 at or beyond
/// [`FACT_MARGIN`], the squared shortfall below it, capped where the margin is undefined or
/// far off so that one fact cannot swamp the moments.
pub fn fact_shortfall(m: f64) -> f64 {
    let short = if m.is_nan() {
        12.0
    } else {
        (FACT_MARGIN - m).clamp(0.0, 12.0)
    };
    short * short
}

/// One fitted moment.
#[derive(Clone, Debug, Serialize)]
pub struct Fit {
    pub regime: String,
    pub metric: String,
    pub target: f64,
    pub simulated: f64,
    pub ci95: [f64; 2],
    pub weight: f64,
    pub source: String,
}

/// A calibration's result.
#[derive(Clone, Debug, Serialize)]
pub struct Calibration {
    pub keys: Vec<String>,
    pub start: Vec<f64>,
    pub best: Vec<f64>,
    pub start_distance: f64,
    pub best_distance: f64,
    /// (evaluation, distance, best so far)
    pub trace: Vec<(usize, f64, f64)>,
    pub fit: Vec<Fit>,
    pub start_fit: Vec<Fit>,
    /// The nine facts' smallest margins (half-widths) at the start and at the best point, when
    /// they were part of the objective.
    pub start_facts: Vec<f64>,
    pub facts: Vec<f64>,
    #[serde(skip)]
    pub scenario: Scenario,
}

struct Problem<'a> {
    o: &'a Options,
    targets: &'a Targets,
    spec: &'a Spec,
    centre: Vec<f64>,
    out: Option<&'a Path>,
    trace: Mutex<Vec<(usize, f64, f64)>>,
    pb: &'a dyn Progress,
}

impl Problem<'_> {
    fn scenario(&self, u: &[f64]) -> Result<Scenario> {
        let mut s = self.o.scenario.clone();
        for ((k, c), x) in self.spec.keys.iter().zip(&self.centre).zip(u) {
            let x = x.clamp(0.0, 1.0);
            s = s.with_value(k, c * (1.0 + self.spec.box_fraction * (2.0 * x - 1.0)))?;
        }
        Ok(s)
    }

    fn cells(&self, s: &Scenario) -> Result<Vec<Cell>> {
        let specs: Vec<_> = self
            .targets
            .regimes()
            .iter()
            .map(|place| place.cell(self.o, s))
            .collect::<Result<_>>()?;
        Ok(run_cells(&specs, self.out, &Hidden)?.0)
    }

    /// The nine facts' smallest margins at `s` (empty when the facts are not asked for).
    fn facts(&self, s: &Scenario) -> Result<Vec<f64>> {
        if self.spec.facts_weight == 0.0 {
            return Ok(Vec::new());
        }
        let specs = validate::specs(s, &self.o.policy, &self.o.seeds, self.o.horizon);
        let cells = run_cells(&specs, self.out, &Hidden)?.0;
        Ok(validate::evaluate(&cells)
            .iter()
            .map(|f| f.min_margin)
            .collect())
    }

    /// The moments' distance plus the facts' penalty: what the fit minimises.
    fn total(&self, fit: &[Fit], margins: &[f64]) -> f64 {
        self.distance(fit)
            + self.spec.facts_weight * margins.iter().map(|m| fact_shortfall(*m)).sum::<f64>()
    }

    fn fit(&self, cells: &[Cell]) -> Vec<Fit> {
        let regimes = self.targets.regimes();
        self.targets
            .moment
            .iter()
            .map(|m| {
                let k = regimes
                    .iter()
                    .position(|p| *p == m.place())
                    .expect("every moment's regime was run");
                let s = Metric::from_name(&m.metric)
                    .and_then(|metric| cells[k].summary.get(metric).cloned())
                    .unwrap_or_else(|| medisim_core::stats::Summary::exact(f64::NAN, 0));
                Fit {
                    regime: m.regime.clone(),
                    metric: m.metric.clone(),
                    target: m.target,
                    simulated: s.mean,
                    ci95: s.ci95,
                    weight: m.weight,
                    source: m.source.clone(),
                }
            })
            .collect()
    }

    fn distance(&self, fit: &[Fit]) -> f64 {
        fit.iter()
            .zip(&self.targets.moment)
            .map(|(f, m)| {
                let scale = m.scale.unwrap_or(m.target.abs().max(0.1));
                let r = (f.simulated - f.target) / scale;
                if r.is_finite() {
                    f.weight * r * r
                } else {
                    // A moment the simulation cannot produce there: far from any target.
                    f.weight * 1e6
                }
            })
            .sum()
    }

    fn evaluate(&self, u: &[f64]) -> Result<f64> {
        let s = self.scenario(u)?;
        let d = self.total(&self.fit(&self.cells(&s)?), &self.facts(&s)?);
        // Outside the prior box the point is clamped; the excess is penalised so the simplex
        // comes back inside.
        let outside: f64 = u.iter().map(|x| (x - x.clamp(0.0, 1.0)).powi(2)).sum();
        let d = d + 1e3 * outside;
        let mut t = self.trace.lock().expect("no poisoned trace");
        let best = t.last().map_or(d, |(_, _, b)| b.min(d));
        let n = t.len() + 1;
        t.push((n, d, best));
        self.pb.inc(1);
        Ok(d)
    }
}

/// The problem as argmin's cost, borrowed so its trace stays readable afterwards.
struct Cost<'a, 'b>(&'a Problem<'b>);

impl CostFunction for Cost<'_, '_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, u: &Vec<f64>) -> Result<f64, ArgminError> {
        self.0
            .evaluate(u)
            .map_err(|e| ArgminError::msg(e.to_string()))
    }
}

/// Run the calibration from the built-in values (the centre of every prior box).
pub fn run(
    o: &Options,
    targets: &Targets,
    spec: &Spec,
    out: Option<&Path>,
    pb: &dyn Progress,
) -> Result<Calibration> {
    if !(spec.box_fraction > 0.0 && spec.box_fraction < 1.0) {
        bail!("--box {}: must be in (0, 1)", spec.box_fraction);
    }
    if !(0.0..=MAX_WEIGHT).contains(&spec.facts_weight) {
        bail!(
            "--facts-weight {}: must be in [0, {MAX_WEIGHT:e}]",
            spec.facts_weight
        );
    }
    if spec.facts_weight > 0.0 {
        validate::check_seeds(&o.seeds)?;
    }
    // Every moment's settings on the scenario calibrated, all of a place's together: a
    // setting that cannot apply is refused now, not in the middle of the fit.
    for place in targets.regimes() {
        place
            .cell(o, &o.scenario)
            .map_err(|e| anyhow::anyhow!("the moments at {place}: {e:#}"))?;
    }
    let centre: Vec<f64> = spec
        .keys
        .iter()
        .map(|k| Ok(o.scenario.value(k)?))
        .collect::<Result<_>>()?;
    let d = spec.keys.len();
    let problem = Problem {
        o,
        targets,
        spec,
        centre: centre.clone(),
        out,
        trace: Mutex::new(Vec::new()),
        pb,
    };
    pb.set_length((spec.iterations + spec.keys.len() + 1) as u64);
    let start = vec![0.5; d];
    let start_scenario = problem.scenario(&start)?;
    let start_fit = problem.fit(&problem.cells(&start_scenario)?);
    let start_facts = problem.facts(&start_scenario)?;
    let start_distance = problem.total(&start_fit, &start_facts);
    // The initial simplex: the centre and one step of a fifth of the box along each axis.
    let mut simplex = vec![start.clone()];
    for j in 0..d {
        let mut v = start.clone();
        v[j] += 0.2;
        simplex.push(v);
    }
    let solver = NelderMead::new(simplex)
        .with_sd_tolerance(1e-6)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let iters = spec.iterations.max(1) as u64;
    let res = Executor::new(Cost(&problem), solver)
        .configure(|s| s.max_iters(iters))
        .timeout(std::time::Duration::from_secs(24 * 3600))
        .run()
        .map_err(|e| anyhow::anyhow!("calibration: {e}"))?;
    pb.finish();
    let best_u = res.state.best_param.clone().unwrap_or(start);
    let scenario = problem.scenario(&best_u)?;
    let fit = problem.fit(&problem.cells(&scenario)?);
    let facts = problem.facts(&scenario)?;
    let best_distance = problem.total(&fit, &facts);
    let best = best_u
        .iter()
        .zip(&centre)
        .map(|(x, c)| c * (1.0 + spec.box_fraction * (2.0 * x.clamp(0.0, 1.0) - 1.0)))
        .collect();
    Ok(Calibration {
        keys: spec.keys.clone(),
        start: centre,
        best,
        start_distance,
        best_distance,
        trace: problem.trace.into_inner().expect("no poisoned trace"),
        fit,
        start_fit,
        start_facts,
        facts,
        scenario,
    })
}

/// The fit table: every moment's target, simulated mean (built-in and calibrated), interval
/// and weight.
pub fn fit_table(c: &Calibration) -> Table {
    let text = |f: fn(&Fit) -> &String| Column::Text(c.fit.iter().map(|x| f(x).clone()).collect());
    let real = |f: fn(&Fit) -> f64| Column::Real(c.fit.iter().map(f).collect());
    Table::new()
        .with("regime", text(|f| &f.regime))
        .with("metric", text(|f| &f.metric))
        .with("target", real(|f| f.target))
        .with(
            "built_in",
            Column::Real(c.start_fit.iter().map(|s| s.simulated).collect()),
        )
        .with("calibrated", real(|f| f.simulated))
        .with("ci95_low", real(|f| f.ci95[0]))
        .with("ci95_high", real(|f| f.ci95[1]))
        .with("weight", real(|f| f.weight))
        .with("source", text(|f| &f.source))
}

/// The convergence trace: the distance at each evaluation and the best so far.
pub fn convergence_table(c: &Calibration) -> Table {
    Table::new()
        .with(
            "evaluation",
            Column::Count(c.trace.iter().map(|t| t.0 as u64).collect()),
        )
        .with(
            "distance",
            Column::Real(c.trace.iter().map(|t| t.1).collect()),
        )
        .with("best", Column::Real(c.trace.iter().map(|t| t.2).collect()))
}

/// The convergence plot: the distance at each evaluation and the best so far.
pub fn convergence_svg(c: &Calibration) -> String {
    let series = vec![
        (
            "best so far".to_string(),
            c.trace
                .iter()
                .map(|(n, _, b)| (*n as f64, *b, *b, *b))
                .collect(),
        ),
        (
            "evaluated".to_string(),
            c.trace
                .iter()
                .map(|(n, d, _)| {
                    (
                        *n as f64,
                        d.min(c.start_distance * 3.0),
                        d.min(c.start_distance * 3.0),
                        d.min(c.start_distance * 3.0),
                    )
                })
                .collect(),
        ),
    ];
    crate::plots::lines_with_bands("weighted moment distance", "evaluation", &series, None)
}

/// The report's calibration section, from what `medisim calibrate --out DIR` left there.
pub fn report_section(out: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(out.join("fit.csv")) else {
        return "<p class=\"caption\">Not run for this directory: <code>medisim calibrate --out DIR</code> fits the chosen constants to the paper's Table 2 (targets/paper-table2.toml); docs/model.md records the last run.</p>".into();
    };
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;");
    let head: String = reader
        .headers()
        .map(|h| h.iter().map(|c| format!("<th>{}</th>", esc(c))).collect())
        .unwrap_or_default();
    let rows: String = reader
        .records()
        .filter_map(Result::ok)
        .map(|r| {
            let cells: String = r
                .iter()
                .map(|c| match c.parse::<f64>() {
                    Ok(x) => format!("<td>{x:.3}</td>"),
                    Err(_) => format!("<td>{}</td>", esc(c)),
                })
                .collect();
            format!("<tr>{cells}</tr>")
        })
        .collect();
    let svg = std::fs::read_to_string(out.join("convergence.svg")).unwrap_or_default();
    format!("<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table><div class=\"panel\">{svg}</div>")
}

/// The shipped targets: the paper's Table 2.
pub const PAPER_TABLE_2: &str = include_str!("../../../targets/paper-table2.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paper_targets_read_and_bad_ones_are_named() {
        let t = Targets::from_toml(PAPER_TABLE_2, "paper-table2.toml").unwrap();
        assert_eq!(t.regimes().len(), 4);
        let e = Targets::from_toml(
            &PAPER_TABLE_2.replacen("upcoding_rate", "upcodng", 1),
            "t.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("upcodng"), "{e}");
        let one = |body: &str| {
            let text = format!(
                "[[moment]]\nregime = \"r\"\nmetric = \"upcoding_rate\"\ntarget = 0.1\n\
                 source = \"s\"\n{body}"
            );
            Targets::from_toml(&text, "t.toml").map_err(|e| e.to_string())
        };
        assert!(one("alpha = 0.5\nbeta = 0.5\n").is_ok());
        for (body, says) in [
            (
                "alpha = 2.0\nbeta = 0.5\n",
                "`alpha` must be in [0, 1], got 2",
            ),
            (
                "alpha = nan\nbeta = 0.5\n",
                "`alpha` must be in [0, 1], got NaN",
            ),
            (
                "alpha = 0.5\nbeta = 0.5\nscale = 0.0\n",
                "`scale` 0 is outside [1e-6, 1e12]",
            ),
            (
                "alpha = 0.5\nbeta = 0.5\nscale = 1e-320\n",
                "`scale` 1e-320 is outside",
            ),
            (
                "alpha = 0.5\nbeta = 0.5\nweight = 1e308\n",
                "`weight` 1e308 is outside [0, 1e6]",
            ),
            (
                "alpha = 0.5\nbeta = 0.5\nweight = 0.0\n",
                "every weight is 0",
            ),
            (
                "alpha = 0.5\nbeta = 0.5\nset = { alpha = 0.3 }\n",
                "`set` names `alpha`: give alpha and beta as the moment's own keys",
            ),
            (
                "alpha = 0.5\nbeta = 0.5\nset = { bonus_poool = 3.0 }\n",
                "bonus_poool",
            ),
            (
                "alpha = 0.5\nbeta = 0.5\nset = { bonus_pool = -1.0 }\n",
                "`bonus_pool` must be",
            ),
        ] {
            let e = one(body).unwrap_err();
            assert!(e.contains(says) && e.contains("t.toml"), "{body}: {e}");
        }
    }

    /// A moment measured at an L2 setting is its own regime, and its cell carries the setting.
    #[test]
    fn a_moments_settings_make_it_a_regime_of_its_own() {
        let text = "[[moment]]\nregime = \"b0\"\nalpha = 0.5\nbeta = 0.5\nmetric = \"corr_kpi_health\"\n\
                    target = -0.447\nsource = \"s\"\nset = { bonus_pool = 0.0 }\n\
                    [[moment]]\nregime = \"b15\"\nalpha = 0.5\nbeta = 0.5\nmetric = \"corr_kpi_health\"\n\
                    target = -0.839\nsource = \"s\"\nset = { bonus_pool = 15.0 }\n";
        let t = Targets::from_toml(text, "t.toml").unwrap();
        let places = t.regimes();
        assert_eq!(places.len(), 2);
        assert_eq!(
            places[1].to_string(),
            "(alpha, beta) = (0.5, 0.5), bonus_pool = 15"
        );
        let o = Options::paper();
        let [a, b] = [0, 1].map(|i| places[i].cell(&o, &o.scenario).unwrap());
        let rule = |c: &crate::cells::CellSpec| {
            let text = c.policy.canonical_text();
            let at = text.find("bonus_pool =").expect("the bonus pool's rule");
            text[at..].lines().next().unwrap().to_string()
        };
        assert_eq!(
            (rule(&a).as_str(), rule(&b).as_str()),
            ("bonus_pool = 0", "bonus_pool = 15")
        );
        // The same setting twice with one metric is one target too many.
        let twice = text.replace("bonus_pool = 15.0", "bonus_pool = 0.0");
        let e = Targets::from_toml(&twice, "t.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("both target `corr_kpi_health`"), "{e}");
    }

    /// A short calibration of two constants lowers the distance (or keeps the start) and
    /// replays identically from the cache.
    #[test]
    fn a_short_calibration_does_not_worsen_the_fit_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let o = Options {
            seeds: (1..=4).collect(),
            horizon: 60,
            ..Options::paper()
        };
        let t = Targets::from_toml(PAPER_TABLE_2, "paper-table2.toml").unwrap();
        let spec = Spec {
            keys: vec![
                "response.accept_threshold".into(),
                "coding.gamma_code".into(),
            ],
            box_fraction: 0.3,
            iterations: 6,
            facts_weight: 0.0,
        };
        let a = run(&o, &t, &spec, Some(dir.path()), &Hidden).unwrap();
        assert!(
            a.best_distance <= a.start_distance + 1e-9,
            "{} > {}",
            a.best_distance,
            a.start_distance
        );
        let b = run(&o, &t, &spec, Some(dir.path()), &Hidden).unwrap();
        assert_eq!(a.best, b.best);
        assert_eq!(fit_table(&a).rows().unwrap(), t.moment.len());
    }

    /// A fact costs nothing once its smallest margin clears two half-widths, the squared
    /// shortfall below, and a capped amount when it is undefined or far on the wrong side.
    #[test]
    fn a_fact_costs_its_squared_shortfall_from_two_half_widths() {
        assert_eq!(fact_shortfall(f64::INFINITY), 0.0);
        assert_eq!(fact_shortfall(2.0), 0.0);
        assert_eq!(fact_shortfall(1.0), 1.0);
        assert_eq!(fact_shortfall(-1.0), 9.0);
        assert_eq!(fact_shortfall(f64::NEG_INFINITY), 144.0);
        assert_eq!(fact_shortfall(f64::NAN), 144.0);
    }

    /// With a facts weight the start's distance carries the facts that fall short; a weight
    /// outside its range and one seed are refused.
    #[test]
    fn the_facts_enter_the_distance_only_with_a_weight() {
        let o = Options {
            seeds: (1..=3).collect(),
            horizon: 40,
            ..Options::paper()
        };
        let t = Targets::from_toml(PAPER_TABLE_2, "paper-table2.toml").unwrap();
        let spec = |w: f64| Spec {
            keys: vec!["coding.gamma_code".into()],
            box_fraction: 0.3,
            iterations: 1,
            facts_weight: w,
        };
        let off = run(&o, &t, &spec(0.0), None, &Hidden).unwrap();
        let on = run(&o, &t, &spec(1.0), None, &Hidden).unwrap();
        assert!(off.start_facts.is_empty());
        assert_eq!(on.start_facts.len(), 9);
        let penalty: f64 = on.start_facts.iter().map(|m| fact_shortfall(*m)).sum();
        assert!(penalty > 0.0, "{:?}", on.start_facts);
        assert!((on.start_distance - off.start_distance - penalty).abs() < 1e-9);
        let e = run(&o, &t, &spec(-1.0), None, &Hidden).unwrap_err();
        assert!(e.to_string().contains("--facts-weight -1"), "{e}");
        let one = Options {
            seeds: vec![1],
            ..o.clone()
        };
        let e = run(&one, &t, &spec(1.0), None, &Hidden).unwrap_err();
        assert!(e.to_string().contains("at least two"), "{e}");
    }
}
