//! Cost-effectiveness analysis of a probabilistic sensitivity analysis (PSA): the incremental
//! table with dominance and extended dominance, net monetary benefit, the acceptability curve
//! (CEAC) and frontier (CEAF), expected loss and the expected value of perfect information
//! (EVPI). Model-neutral: any model that gives each strategy a cost and an effect per draw
//! (the panel's payment models under each provider, a user's own PSA file) is analysed here.
//!
//! The algorithms are the field's (Drummond et al., *Methods for the Economic Evaluation of
//! Health Care Programmes*, 4th ed., ch. 4; Fenwick, Claxton and Sculpher 2001 for the CEAC and
//! CEAF; Eckermann and Willan 2008 for expected loss), with the conventions of heormodel, which
//! the Python tests check this against: strategies sorted by cost (ties: more effective first),
//! strong dominance where another is no costlier and no less effective and better on one axis
//! (an exact duplicate keeps its first), extended dominance removed until the ICERs rise, and a
//! tie in net benefit won by the strategy listed first.

use crate::input::{csv_line, csv_refusal};
use crate::table::{Table, TableError};
use serde::Serialize;
use std::collections::HashMap;

/// Most strategies one analysis compares.
pub const MAX_STRATEGIES: usize = 1_000;
/// Most PSA draws × strategies one analysis holds (10,000 draws of 500 strategies; about
/// 250 MB while a file is read).
pub const MAX_CELLS: usize = 5_000_000;

/// The largest cost, effect or parameter value an analysis reads: far beyond any price or health
/// measure, and small enough that a mean, a net benefit at the largest willingness to pay or a
/// parameter's range stays finite.
pub const MAX_VALUE: f64 = 1e15;

/// Most willingness-to-pay values one analysis evaluates.
pub const MAX_WTP: usize = 10_001;

/// A willingness-to-pay grid from `lo:hi:n` or `v1,v2,…`: money per unit of effect, each in
/// [0, [`crate::params::MAX_MONEY`]].
pub fn wtp_grid(spec: &str) -> Result<Vec<f64>, String> {
    let grid = crate::params::ValueSpec::parse(spec)?
        .grid()
        .ok_or_else(|| format!("`{spec}`: give the count, lo:hi:n"))?;
    if grid.len() > MAX_WTP {
        return Err(format!("{} values; at most {MAX_WTP}", grid.len()));
    }
    let most = crate::params::MAX_MONEY;
    match grid.iter().find(|w| !(0.0..=most).contains(*w)) {
        Some(w) => Err(format!(
            "{} is outside [0, {}] (money per unit of effect)",
            crate::text::number(*w),
            crate::text::number(most)
        )),
        None => Ok(grid),
    }
}

/// A PSA: each strategy's cost and effect in each draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Psa {
    strategies: Vec<String>,
    /// Each draw's label (its number, or the `draw` column of a file).
    draws: Vec<String>,
    /// cost[draw * k + strategy]
    cost: Vec<f64>,
    effect: Vec<f64>,
}

/// Where a strategy stands in the incremental analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Status {
    /// Not dominated: on the efficiency frontier.
    #[serde(rename = "ND")]
    NotDominated,
    /// Strongly dominated: another is no costlier and no less effective.
    #[serde(rename = "D")]
    Dominated,
    /// Extendedly dominated: a mix of its frontier neighbours is better.
    #[serde(rename = "ED")]
    ExtendedlyDominated,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::NotDominated => "ND",
            Status::Dominated => "D",
            Status::ExtendedlyDominated => "ED",
        }
    }
}

/// One row of the incremental table, in cost order. The increments and the ICER are against
/// the next cheaper frontier strategy; `None` off the frontier and for the cheapest on it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IcerRow {
    pub strategy: String,
    pub cost: f64,
    pub effect: f64,
    pub inc_cost: Option<f64>,
    pub inc_effect: Option<f64>,
    pub icer: Option<f64>,
    pub status: Status,
}

/// The incremental analysis of strategies with these mean costs and effects.
pub fn icer_table(strategies: &[String], cost: &[f64], effect: &[f64]) -> Vec<IcerRow> {
    let mut order: Vec<usize> = (0..strategies.len()).collect();
    // Stable: equal (cost, effect) keep their given order, so the first of duplicates stays.
    order.sort_by(|&a, &b| {
        cost[a]
            .total_cmp(&cost[b])
            .then(effect[b].total_cmp(&effect[a]))
    });
    let (c, e): (Vec<f64>, Vec<f64>) = order.iter().map(|&i| (cost[i], effect[i])).unzip();
    let n = order.len();
    let mut status = vec![Status::NotDominated; n];
    for i in 0..n {
        let dominated = (0..n).filter(|&j| j != i).any(|j| {
            let weak = c[j] <= c[i] && e[j] >= e[i];
            let strict = c[j] < c[i] || e[j] > e[i];
            let duplicate = j < i && c[j] == c[i] && e[j] == e[i];
            (weak && strict) || duplicate
        });
        if dominated {
            status[i] = Status::Dominated;
        }
    }
    let frontier = |status: &[Status]| -> Vec<usize> {
        (0..n)
            .filter(|&i| status[i] == Status::NotDominated)
            .collect()
    };
    // Remove, one at a time, a frontier strategy whose ICER exceeds the next one's.
    loop {
        let nd = frontier(&status);
        let icer = |k: usize| (c[nd[k]] - c[nd[k - 1]]) / (e[nd[k]] - e[nd[k - 1]]);
        match (1..nd.len().saturating_sub(1)).find(|&k| icer(k) > icer(k + 1)) {
            Some(k) => status[nd[k]] = Status::ExtendedlyDominated,
            None => break,
        }
    }
    let nd = frontier(&status);
    let mut rows: Vec<IcerRow> = (0..n)
        .map(|i| IcerRow {
            strategy: strategies[order[i]].clone(),
            cost: c[i],
            effect: e[i],
            inc_cost: None,
            inc_effect: None,
            icer: None,
            status: status[i],
        })
        .collect();
    for w in nd.windows(2) {
        let (prev, cur) = (w[0], w[1]);
        let (dc, de) = (c[cur] - c[prev], e[cur] - e[prev]);
        rows[cur].inc_cost = Some(dc);
        rows[cur].inc_effect = Some(de);
        rows[cur].icer = Some(dc / de);
    }
    rows
}

/// The analysis at one willingness to pay.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AtWtp {
    pub wtp: f64,
    /// Per strategy: the expected net monetary benefit `λ·E[effect] − E[cost]`.
    pub expected_nmb: Vec<f64>,
    /// Per strategy: the share of draws in which it has the highest net benefit (CEAC).
    pub acceptability: Vec<f64>,
    /// Per strategy: the mean net benefit forgone against each draw's best.
    pub expected_loss: Vec<f64>,
    /// The strategy with the highest expected net benefit (the CEAF's choice).
    pub optimal: usize,
    /// `E[max NMB] − max E[NMB]`: the least expected loss.
    pub evpi: f64,
}

impl Psa {
    /// A PSA from per-draw rows: `cost[d][s]`, `effect[d][s]` for strategy `s` in draw `d`.
    pub fn new(
        strategies: Vec<String>,
        cost: Vec<Vec<f64>>,
        effect: Vec<Vec<f64>>,
    ) -> Result<Psa, String> {
        let k = strategies.len();
        if k == 0 || k > MAX_STRATEGIES {
            return Err(format!(
                "{k} strategies; an analysis compares 1 to {MAX_STRATEGIES}"
            ));
        }
        crate::params::distinct(strategies.iter().map(String::as_str))
            .map_err(|e| format!("strategies: {e}"))?;
        if cost.is_empty() || cost.len() != effect.len() {
            return Err(format!(
                "{} draws of cost and {} of effect; both need the same number, at least one",
                cost.len(),
                effect.len()
            ));
        }
        if cost.len().saturating_mul(k) > MAX_CELLS {
            return Err(format!(
                "{} draws × {k} strategies; at most {MAX_CELLS} values",
                cost.len()
            ));
        }
        let mut flat = (Vec::new(), Vec::new());
        for (d, (c, e)) in cost.iter().zip(&effect).enumerate() {
            if c.len() != k || e.len() != k {
                return Err(format!(
                    "draw {d} has {} costs and {} effects for {k} strategies",
                    c.len(),
                    e.len()
                ));
            }
            if let Some(x) = c
                .iter()
                .chain(e)
                .find(|x| x.is_nan() || x.abs() > MAX_VALUE)
            {
                return Err(format!(
                    "draw {d}: {x} is outside [-{MAX_VALUE:e}, {MAX_VALUE:e}] (a cost or an effect)"
                ));
            }
            flat.0.extend_from_slice(c);
            flat.1.extend_from_slice(e);
        }
        Ok(Psa {
            strategies,
            draws: (0..cost.len()).map(|d| d.to_string()).collect(),
            cost: flat.0,
            effect: flat.1,
        })
    }

    /// A PSA from tidy CSV text: columns `draw`, `strategy`, `cost`, `effect` (in any order,
    /// no others), one row per draw and strategy; every draw names every strategy once.
    /// `origin` names the file in errors, each bad cell by line and column.
    pub fn from_csv(text: &str, origin: &str) -> Result<Psa, String> {
        const COLUMNS: [&str; 4] = ["draw", "strategy", "cost", "effect"];
        let bad = |m: String| format!("{origin}: {m}");
        let (mut reader, header) = csv_with_header(text, origin)?;
        if let Some(h) = header.iter().find(|h| !COLUMNS.contains(&h.as_str())) {
            let h = crate::input::excerpt(h);
            return Err(bad(format!(
                "unknown column `{h}`: a PSA has {}",
                COLUMNS.join(", ")
            )));
        }
        let col = |name: &str| {
            header.iter().position(|h| h == name).ok_or_else(|| {
                bad(format!(
                    "missing column `{name}` (need {})",
                    COLUMNS.join(", ")
                ))
            })
        };
        let [d, s, c, e] = [col("draw")?, col("strategy")?, col("cost")?, col("effect")?];
        // Names to indices as they first appear; each cell by (draw, strategy) index.
        fn index_of(names: &mut Vec<String>, at: &mut HashMap<String, usize>, name: &str) -> usize {
            *at.entry(name.to_string()).or_insert_with(|| {
                names.push(name.to_string());
                names.len() - 1
            })
        }
        let (mut draws, mut draw_at) = (Vec::new(), HashMap::new());
        let (mut strategies, mut strategy_at) = (Vec::new(), HashMap::new());
        let mut cells: HashMap<(usize, usize), (f64, f64)> = HashMap::new();
        each_row(&mut reader, text, &header, bad, |rec, line| {
            let cell = |i: usize| rec.get(i).unwrap_or("").trim();
            let num = |i: usize| match cell(i).parse::<f64>() {
                Ok(v) if v.abs() <= MAX_VALUE => Ok(v),
                _ => Err(bad(format!(
                    "line {line}, column `{}`: `{}` is not a number in [-{MAX_VALUE:e}, \
                     {MAX_VALUE:e}]",
                    header[i],
                    crate::input::excerpt(cell(i)),
                    line = line()
                ))),
            };
            let (draw, strategy) = (cell(d), cell(s));
            crate::input::check_name("a strategy", strategy)
                .map_err(|m| bad(format!("line {}: {m}", line())))?;
            if !strategy_at.contains_key(strategy) && strategies.len() == MAX_STRATEGIES {
                return Err(bad(format!("more than {MAX_STRATEGIES} strategies")));
            }
            let key = (
                index_of(&mut draws, &mut draw_at, draw),
                index_of(&mut strategies, &mut strategy_at, strategy),
            );
            if cells.insert(key, (num(c)?, num(e)?)).is_some() {
                return Err(bad(format!(
                    "line {line}: draw `{}` names strategy `{strategy}` a second time",
                    crate::input::excerpt(draw),
                    line = line()
                )));
            }
            Ok(())
        })?;
        let mut cost = Vec::with_capacity(draws.len());
        let mut effect = Vec::with_capacity(draws.len());
        for (i, draw) in draws.iter().enumerate() {
            let mut row = (Vec::new(), Vec::new());
            for (j, strategy) in strategies.iter().enumerate() {
                let Some((c, e)) = cells.get(&(i, j)) else {
                    return Err(bad(format!(
                        "draw `{}` has no row for strategy `{strategy}`: every draw needs every \
                         strategy",
                        crate::input::excerpt(draw)
                    )));
                };
                row.0.push(*c);
                row.1.push(*e);
            }
            cost.push(row.0);
            effect.push(row.1);
        }
        let mut psa = Psa::new(strategies, cost, effect).map_err(bad)?;
        psa.draws = draws;
        Ok(psa)
    }

    /// Each draw's label, in the PSA's order.
    pub fn draw_labels(&self) -> &[String] {
        &self.draws
    }

    pub fn strategies(&self) -> &[String] {
        &self.strategies
    }

    pub fn draws(&self) -> usize {
        self.cost.len() / self.strategies.len()
    }

    /// Strategy `s`'s cost and effect in draw `d`.
    pub fn value(&self, d: usize, s: usize) -> (f64, f64) {
        let i = d * self.strategies.len() + s;
        (self.cost[i], self.effect[i])
    }

    fn column_mean(&self, values: &[f64], s: usize) -> f64 {
        let k = self.strategies.len();
        crate::stats::mean(values.iter().skip(s).step_by(k).copied())
    }

    /// Each strategy's mean cost and mean effect.
    pub fn means(&self) -> (Vec<f64>, Vec<f64>) {
        let k = self.strategies.len();
        (0..k)
            .map(|s| {
                (
                    self.column_mean(&self.cost, s),
                    self.column_mean(&self.effect, s),
                )
            })
            .unzip()
    }

    /// The incremental table of the strategies' means.
    pub fn icer_table(&self) -> Vec<IcerRow> {
        let (c, e) = self.means();
        icer_table(&self.strategies, &c, &e)
    }

    /// CEAC, expected loss, CEAF choice and EVPI at willingness to pay `wtp`.
    pub fn at(&self, wtp: f64) -> AtWtp {
        let (k, n) = (self.strategies.len(), self.draws());
        let mut wins = vec![0usize; k];
        let mut loss = vec![0.0; k];
        let mut nmb = vec![0.0; k];
        for d in 0..n {
            for (s, v) in nmb.iter_mut().enumerate() {
                let (c, e) = self.value(d, s);
                *v = wtp * e - c;
            }
            // The first of equal maxima wins, as numpy's argmax.
            let best = (0..k).fold(0, |b, s| if nmb[s] > nmb[b] { s } else { b });
            wins[best] += 1;
            for s in 0..k {
                loss[s] += nmb[best] - nmb[s];
            }
        }
        let (mc, me) = self.means();
        let expected_nmb: Vec<f64> = (0..k).map(|s| wtp * me[s] - mc[s]).collect();
        let optimal = (0..k).fold(0, |b, s| {
            if expected_nmb[s] > expected_nmb[b] {
                s
            } else {
                b
            }
        });
        let expected_loss: Vec<f64> = loss.iter().map(|l| l / n as f64).collect();
        let evpi = expected_loss.iter().copied().fold(f64::INFINITY, f64::min);
        AtWtp {
            wtp,
            expected_nmb,
            acceptability: wins.iter().map(|w| *w as f64 / n as f64).collect(),
            expected_loss,
            optimal,
            evpi,
        }
    }
}

/// Knots per parameter of the EVPPI regression's cubic spline (heormodel's default).
pub const EVPPI_KNOTS: usize = 5;

/// The cubic B-spline basis on `EVPPI_KNOTS` uniform knots over `x`'s range (extended by three
/// spacings each side, as scikit-learn's `SplineTransformer` places them): one row per value,
/// `EVPPI_KNOTS + 2` columns, which sum to 1 on the range.
fn spline_basis(x: &[f64]) -> Vec<Vec<f64>> {
    const DEGREE: usize = 3;
    let (lo, hi) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let h = (hi - lo) / (EVPPI_KNOTS - 1) as f64;
    let knots: Vec<f64> = (0..EVPPI_KNOTS + 2 * DEGREE)
        .map(|i| lo + (i as f64 - DEGREE as f64) * h)
        .collect();
    let n = knots.len() - DEGREE - 1;
    x.iter()
        .map(|&v| {
            // Cox–de Boor: degree 0 on the half-open knot spans, raised one degree at a time.
            let mut b: Vec<f64> = (0..knots.len() - 1)
                .map(|i| f64::from(u8::from(knots[i] <= v && v < knots[i + 1])))
                .collect();
            for k in 1..=DEGREE {
                for i in 0..knots.len() - 1 - k {
                    let left = (v - knots[i]) / (knots[i + k] - knots[i]) * b[i];
                    let right =
                        (knots[i + k + 1] - v) / (knots[i + k + 1] - knots[i + 1]) * b[i + 1];
                    b[i] = left + right;
                }
            }
            b.truncate(n);
            b
        })
        .collect()
}

impl Psa {
    /// The EVPPI of a group of parameters at willingness to pay `wtp`: the value of knowing
    /// them exactly, by nonparametric regression (Strong, Oakley and Brennan 2014, *Med. Decis.
    /// Making* 34): each strategy's net benefit regressed by least squares on an additive
    /// cubic spline of the parameters, `EVPPI = E[max fitted] − max E[fitted]`, at least 0.
    /// `x` holds one column per parameter, one value per draw in the PSA's order; a parameter
    /// that does not vary is left out (knowing it is worth nothing).
    pub fn evppi(&self, x: &[Vec<f64>], wtp: f64) -> Result<f64, String> {
        let (n, k) = (self.draws(), self.strategies.len());
        if x.is_empty() {
            return Err("name at least one parameter".into());
        }
        if let Some(c) = x.iter().position(|c| c.len() != n) {
            return Err(format!(
                "parameter {} has {} values for {n} draws",
                c + 1,
                x[c].len()
            ));
        }
        // A parameter that does not vary tells nothing: knowing it is worth 0.
        let x: Vec<&Vec<f64>> = x.iter().filter(|c| c.iter().any(|v| *v != c[0])).collect();
        if x.is_empty() {
            return Ok(0.0);
        }
        // The intercept, then each parameter's basis but its last column (they sum to 1).
        let bases: Vec<Vec<Vec<f64>>> = x.iter().map(|c| spline_basis(c)).collect();
        let cols = 1 + bases.iter().map(|b| b[0].len() - 1).sum::<usize>();
        if n <= cols {
            return Err(format!(
                "{n} draws cannot fit {cols} regression terms: use more draws"
            ));
        }
        let design = nalgebra::DMatrix::from_fn(n, cols, |d, j| {
            if j == 0 {
                return 1.0;
            }
            let mut j = j - 1;
            for b in &bases {
                let m = b[0].len() - 1;
                if j < m {
                    return b[d][j];
                }
                j -= m;
            }
            unreachable!("columns counted above")
        });
        // The values are bounded (MAX_VALUE), so the basis is finite; the iteration cap turns
        // a decomposition that does not converge into an error, not a hang.
        let svd = design
            .clone()
            .try_svd(true, true, 5.0 * f64::EPSILON, 100_000)
            .ok_or("the regression did not converge: rescale the parameters")?;
        let mut fitted = vec![vec![0.0; k]; n];
        for s in 0..k {
            let y = nalgebra::DVector::from_fn(n, |d, _| {
                let (c, e) = self.value(d, s);
                wtp * e - c
            });
            let constant = y.iter().all(|v| *v == y[0]);
            let f = if constant {
                y
            } else {
                let beta = svd.solve(&y, 1e-12).map_err(|e| e.to_string())?;
                &design * beta
            };
            for (row, v) in fitted.iter_mut().zip(f.iter()) {
                row[s] = *v;
            }
        }
        let best = crate::stats::mean(
            fitted
                .iter()
                .map(|r| r.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        );
        let of_means = (0..k)
            .map(|s| crate::stats::mean(fitted.iter().map(|r| r[s])))
            .fold(f64::NEG_INFINITY, f64::max);
        Ok((best - of_means).max(0.0))
    }
}

/// Each row of a table [`csv_with_header`] opened, at most [`MAX_CELLS`], handed to `visit` with
/// a way to name its line (counted only when asked); a row the reader refuses is named by its
/// line, its unreadable cell by its column.
fn each_row(
    reader: &mut csv::Reader<&[u8]>,
    text: &str,
    header: &[String],
    bad: impl Fn(String) -> String,
    mut visit: impl FnMut(&csv::StringRecord, &dyn Fn() -> u64) -> Result<(), String>,
) -> Result<(), String> {
    for (row, rec) in reader.records().enumerate() {
        if row >= MAX_CELLS {
            return Err(bad(format!("more than {MAX_CELLS} rows")));
        }
        let rec = rec.map_err(|e| {
            let line = csv_line(text, e.position(), row);
            let why = csv_refusal(&e, |i| header.get(i).map(String::as_str));
            bad(format!("line {line}: {why}"))
        })?;
        visit(&rec, &|| csv_line(text, rec.position(), row))?;
    }
    Ok(())
}

/// A CSV reader over `text` and its header, trimmed, each column named once.
fn csv_with_header<'a>(
    text: &'a str,
    origin: &str,
) -> Result<(csv::Reader<&'a [u8]>, Vec<String>), String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{origin}: unreadable header: {e}"))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    crate::params::distinct(header.iter().map(String::as_str))
        .map_err(|e| format!("{origin}: {e}"))?;
    Ok((reader, header))
}

/// Parameter draws from tidy CSV text: a `draw` column and one column per parameter, one row
/// per draw of `psa` (any order); the columns aligned to the PSA's draws.
pub fn read_parameters(
    text: &str,
    origin: &str,
    psa: &Psa,
) -> Result<(Vec<String>, Vec<Vec<f64>>), String> {
    let bad = |m: String| format!("{origin}: {m}");
    let (mut reader, header) = csv_with_header(text, origin)?;
    let d = header
        .iter()
        .position(|h| h == "draw")
        .ok_or_else(|| bad("missing column `draw`".into()))?;
    let names: Vec<String> = header.iter().filter(|h| *h != "draw").cloned().collect();
    let mut rows = std::collections::BTreeMap::new();
    each_row(&mut reader, text, &header, bad, |rec, line| {
        let mut values = Vec::with_capacity(names.len());
        for (i, h) in header.iter().enumerate().filter(|(i, _)| *i != d) {
            let cell = rec.get(i).unwrap_or("").trim();
            match cell.parse::<f64>() {
                Ok(v) if v.abs() <= MAX_VALUE => values.push(v),
                _ => {
                    return Err(bad(format!(
                        "line {line}, column `{h}`: `{}` is not a number in [-{MAX_VALUE:e}, \
                         {MAX_VALUE:e}]",
                        crate::input::excerpt(cell),
                        line = line()
                    )))
                }
            }
        }
        let draw = rec.get(d).unwrap_or("").trim().to_string();
        if rows.insert(draw.clone(), values).is_some() {
            return Err(bad(format!(
                "line {line}: draw `{}` twice",
                crate::input::excerpt(&draw),
                line = line()
            )));
        }
        Ok(())
    })?;
    let mut columns = vec![Vec::with_capacity(psa.draws()); names.len()];
    for draw in psa.draw_labels() {
        let values = rows.get(draw).ok_or_else(|| {
            bad(format!(
                "no row for draw `{}` of the PSA",
                crate::input::excerpt(draw)
            ))
        })?;
        for (c, v) in columns.iter_mut().zip(values) {
            c.push(*v);
        }
    }
    Ok((names, columns))
}

/// One row of the curves table: a strategy at one willingness to pay.
#[derive(Serialize)]
struct CurveRow<'a> {
    wtp: f64,
    strategy: &'a str,
    expected_nmb: f64,
    /// CEAC: the share of draws in which the strategy has the highest net benefit.
    acceptability: f64,
    expected_loss: f64,
    /// The CEAF's choice: the highest expected net benefit.
    optimal: bool,
    evpi: f64,
}

impl Psa {
    /// The analysis as tidy tables: the incremental table, and the curves — per willingness
    /// to pay and strategy its expected NMB, acceptability (CEAC), expected loss, whether it is
    /// the CEAF's choice, and the EVPI at that willingness to pay.
    pub fn tables(&self, wtp: &[f64]) -> Result<(Table, Table), TableError> {
        let icer = Table::from_records(&self.icer_table())?;
        let mut rows = Vec::with_capacity(wtp.len() * self.strategies.len());
        for &w in wtp {
            let at = self.at(w);
            for (s, name) in self.strategies.iter().enumerate() {
                rows.push(CurveRow {
                    wtp: w,
                    strategy: name,
                    expected_nmb: at.expected_nmb[s],
                    acceptability: at.acceptability[s],
                    expected_loss: at.expected_loss[s],
                    optimal: at.optimal == s,
                    evpi: at.evpi,
                });
            }
        }
        Ok((icer, Table::from_records(&rows)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_incremental_table_removes_dominated_and_extendedly_dominated_strategies() {
        // A cheapest; B dominated by C (costlier, less effective); D extendedly dominated
        // (its ICER against A, 1000, exceeds C's against D, 250); C (400 against A) and E
        // (750 against C) on the frontier.
        let s = names(&["A", "B", "C", "D", "E"]);
        let cost = [0.0, 300.0, 200.0, 100.0, 350.0];
        let effect = [0.0, 0.1, 0.5, 0.1, 0.7];
        let t = icer_table(&s, &cost, &effect);
        let got: Vec<(&str, &str)> = t
            .iter()
            .map(|r| (r.strategy.as_str(), r.status.code()))
            .collect();
        assert_eq!(
            got,
            [
                ("A", "ND"),
                ("D", "ED"),
                ("C", "ND"),
                ("B", "D"),
                ("E", "ND")
            ]
        );
        let c = t.iter().find(|r| r.strategy == "C").unwrap();
        assert_eq!(c.icer, Some(400.0));
        let e = t.iter().find(|r| r.strategy == "E").unwrap();
        assert_eq!((e.inc_cost, e.inc_effect), (Some(150.0), Some(0.7 - 0.5)));
        assert!(t[0].icer.is_none() && t[1].icer.is_none());
        // Without the ED step, D would stay on the frontier: the ICERs must rise.
        let icers: Vec<f64> = t.iter().filter_map(|r| r.icer).collect();
        assert!(icers.windows(2).all(|w| w[0] <= w[1]), "{icers:?}");
    }

    #[test]
    fn the_spline_basis_is_a_partition_of_unity_and_evppi_values_what_decides() {
        let x: Vec<f64> = (0..50).map(|i| f64::from(i) / 7.0).collect();
        for row in spline_basis(&x) {
            assert_eq!(row.len(), EVPPI_KNOTS + 2);
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{row:?}");
        }
        // B's effect is the parameter: knowing it is worth E[max(0, e)] − max(0, E[e]); the
        // other parameter, noise the decision does not depend on, is worth nothing.
        let n = 400;
        let e: Vec<f64> = (0..n)
            .map(|i| (f64::from(i) + 0.5) / f64::from(n) * 2.0 - 1.0)
            .collect();
        let noise: Vec<f64> = (0..n).map(|i| (f64::from(i) * 7.3).sin()).collect();
        let psa = Psa::new(
            names(&["A", "B"]),
            vec![vec![0.0, 0.0]; n as usize],
            e.iter().map(|v| vec![0.0, *v]).collect(),
        )
        .unwrap();
        let v = psa.evppi(std::slice::from_ref(&e), 1.0).unwrap();
        assert!((v - 0.25).abs() < 0.01, "{v}");
        assert!(psa.evppi(&[noise], 1.0).unwrap() < 0.02);
        assert_eq!(psa.evppi(&[vec![1.0; n as usize]], 1.0), Ok(0.0));
        let with_constant = psa.evppi(&[e.clone(), vec![1.0; n as usize]], 1.0);
        assert_eq!(with_constant, psa.evppi(&[e], 1.0));
    }

    #[test]
    fn an_exact_duplicate_keeps_its_first() {
        let t = icer_table(&names(&["A", "B"]), &[1.0, 1.0], &[2.0, 2.0]);
        assert_eq!(t[0].status, Status::NotDominated);
        assert_eq!(t[1].status, Status::Dominated);
    }

    #[test]
    fn acceptability_loss_and_evpi_follow_their_definitions() {
        // heormodel's doc examples: B wins half the draws at λ = 100; EVPI 2.5 at λ = 10.
        let psa = Psa::new(
            names(&["A", "B"]),
            vec![vec![0.0, 10.0], vec![0.0, 10.0]],
            vec![vec![0.0, 1.0], vec![0.0, -1.0]],
        )
        .unwrap();
        assert_eq!(psa.at(100.0).acceptability, [0.5, 0.5]);
        let psa = Psa::new(
            names(&["A", "B"]),
            vec![vec![0.0, 5.0], vec![0.0, 5.0]],
            vec![vec![0.0, 1.0], vec![0.0, -1.0]],
        )
        .unwrap();
        let at = psa.at(10.0);
        assert_eq!(at.evpi, 2.5);
        assert_eq!(at.optimal, 0);
        assert_eq!(at.expected_loss, [2.5, 7.5]);
        // Without uncertainty perfect information is worth nothing.
        let sure = Psa::new(
            names(&["A", "B"]),
            vec![vec![0.0, 5.0]],
            vec![vec![0.0, 1.0]],
        )
        .unwrap();
        assert_eq!(sure.at(10.0).evpi, 0.0);
    }

    #[test]
    fn a_psa_file_reads_in_any_row_order_and_bad_ones_are_located() {
        let text = "strategy,draw,cost,effect\nB,1,5,1\nA,1,0,0\nA,2,0,0\nB,2,5,-1\n";
        let psa = Psa::from_csv(text, "psa.csv").unwrap();
        assert_eq!(psa.strategies(), ["B", "A"]);
        assert_eq!((psa.draws(), psa.value(1, 0)), (2, (5.0, -1.0)));
        let e = Psa::from_csv("draw,strategy,cost,effect\n1,A,0,x\n", "p.csv").unwrap_err();
        assert!(e.contains("p.csv: line 2, column `effect`"), "{e}");
        // Blank lines and a quoted cell's line break count: an editor's line numbers.
        for (text, says) in [
            (
                "draw,strategy,cost,effect\n\n\n1,A,0,x\n",
                "line 4, column `effect`",
            ),
            (
                "draw,strategy,cost,effect\r\n\r\n1,A,0,x",
                "line 3, column `effect`",
            ),
            (
                "draw,strategy,cost,effect\r\r1,A,0,x\r",
                "line 3, column `effect`",
            ),
            (
                "draw,strategy,cost,effect\n\"1\n1\",A,0,0\n\n1,A,0,0,9\n",
                "line 5: 5 fields where the header has 4",
            ),
            (
                "draw,strategy,cost,effect\n1,A,0,0\n\n1,A,0,0\n",
                "line 4: draw `1`",
            ),
        ] {
            let e = Psa::from_csv(text, "p.csv").unwrap_err();
            assert!(e.contains(says) && !e.contains("line: "), "{text:?}: {e}");
        }
        let e = Psa::from_csv(
            "draw,strategy,cost,effect\n1,A,0,0\n1,B,0,0\n2,A,0,0\n",
            "p.csv",
        )
        .unwrap_err();
        assert!(e.contains("draw `2` has no row for strategy `B`"), "{e}");
        let e = Psa::from_csv("draw,strategy,cost,qaly\n", "p.csv").unwrap_err();
        assert!(e.contains("unknown column `qaly`"), "{e}");
    }

    #[test]
    fn a_malformed_psa_is_refused_by_name() {
        let e = Psa::new(
            names(&["A", "A"]),
            vec![vec![0.0, 0.0]],
            vec![vec![0.0, 0.0]],
        )
        .unwrap_err();
        assert!(e.contains("named twice") || e.contains("A"), "{e}");
        let e = Psa::new(names(&["A"]), vec![vec![f64::NAN]], vec![vec![0.0]]).unwrap_err();
        assert!(e.contains("draw 0"), "{e}");
        // A finite value past MAX_VALUE would make a mean or a net benefit infinite.
        let e = Psa::new(names(&["A"]), vec![vec![1e308]], vec![vec![0.0]]).unwrap_err();
        assert!(e.contains("1e15"), "{e}");
        let e = Psa::new(names(&["A", "B"]), vec![vec![0.0]], vec![vec![0.0]]).unwrap_err();
        assert!(e.contains("draw 0 has 1 costs"), "{e}");
    }
}
