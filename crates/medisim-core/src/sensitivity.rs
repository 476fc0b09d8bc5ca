//! Designs and estimators of global sensitivity analysis, for any model: a Latin hypercube,
//! Morris's elementary effects (radial one-at-a-time trajectories) and Sobol' first-order and
//! total indices (Saltelli's A/B/AB design on a Sobol' low-discrepancy sequence from the `sobol`
//! crate, Saltelli 2010 and Jansen 1999 estimators with bootstrap intervals, as SALib computes
//! them). No crate on the registries provides the estimators for Rust, so they are written here,
//! held to analytic cases (the Ishigami function, linear models) by the tests and checked
//! against SALib point for point in the Python tests.
//!
//! Points live in the unit cube; the caller maps each coordinate onto its parameter's range.

use rand::seq::SliceRandom;
use rand::Rng;
use serde::Serialize;

/// `n` points of a Latin hypercube in [0, 1]^d: each coordinate takes one point in each of the
/// `n` equal strata (uniformly within the stratum), strata paired across coordinates at random.
pub fn latin_hypercube(n: usize, d: usize, rng: &mut impl Rng) -> Vec<Vec<f64>> {
    let mut order: Vec<usize> = (0..n).collect();
    let columns: Vec<Vec<f64>> = (0..d)
        .map(|_| {
            order.shuffle(rng);
            order
                .iter()
                .map(|stratum| (*stratum as f64 + rng.gen::<f64>()) / n as f64)
                .collect()
        })
        .collect();
    (0..n)
        .map(|i| columns.iter().map(|c| c[i]).collect())
        .collect()
}

/// Morris's screening design: `r` trajectories on a `levels`-level grid, each a start point and
/// `d` steps that move one coordinate (in random order) by Δ = levels / (2 (levels − 1)).
/// Returns the points (r · (d + 1)) and, per trajectory step, which coordinate moved and by
/// how much (for [`morris_effects`]).
pub fn morris_design(
    r: usize,
    d: usize,
    levels: usize,
    rng: &mut impl Rng,
) -> (Vec<Vec<f64>>, Vec<(usize, f64)>) {
    let p = levels.max(2) as f64;
    let delta = p / (2.0 * (p - 1.0));
    let mut points = Vec::with_capacity(r * (d + 1));
    let mut steps = Vec::with_capacity(r * d);
    // Start levels that leave room for a +Δ move: the lower half of the grid.
    let starts = (levels / 2).max(1);
    for _ in 0..r {
        let mut x: Vec<f64> = (0..d)
            .map(|_| rng.gen_range(0..starts) as f64 / (p - 1.0))
            .collect();
        points.push(x.clone());
        let mut order: Vec<usize> = (0..d).collect();
        order.shuffle(rng);
        for j in order {
            // Move up, or down when up would leave the cube.
            let step = if x[j] + delta <= 1.0 + 1e-12 {
                delta
            } else {
                -delta
            };
            x[j] += step;
            points.push(x.clone());
            steps.push((j, step));
        }
    }
    (points, steps)
}

/// One input's Morris statistics: μ* (mean |elementary effect|: importance), μ (mean effect:
/// direction) and σ (their spread: interaction or non-linearity).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MorrisEffect {
    pub mu_star: f64,
    pub mu: f64,
    pub sigma: f64,
}

/// Elementary effects from the outputs `y` at the points of [`morris_design`].
pub fn morris_effects(y: &[f64], steps: &[(usize, f64)], d: usize) -> Vec<MorrisEffect> {
    let mut effects: Vec<Vec<f64>> = vec![Vec::new(); d];
    let per = d + 1;
    for (t, chunk) in steps.chunks(d).enumerate() {
        for (k, (j, step)) in chunk.iter().enumerate() {
            let (a, b) = (y[t * per + k], y[t * per + k + 1]);
            effects[*j].push((b - a) / step);
        }
    }
    effects
        .iter()
        .map(|e| {
            let n = e.len().max(1) as f64;
            let mu = e.iter().sum::<f64>() / n;
            MorrisEffect {
                mu_star: e.iter().map(|x| x.abs()).sum::<f64>() / n,
                mu,
                sigma: (e.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (n - 1.0).max(1.0))
                    .sqrt(),
            }
        })
        .collect()
}

/// Most inputs a Sobol' design takes: A and B together are one point of a `2d`-dimensional
/// Sobol' sequence, and the Joe-Kuo direction numbers cover 21,201 dimensions.
pub const MAX_SOBOL_INPUTS: usize = 10_600;

/// A Sobol' design that cannot be built.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DesignError {
    #[error(
        "a Sobol' design takes at most {max} inputs (Joe-Kuo direction numbers), not {inputs}"
    )]
    TooManyInputs { inputs: usize, max: usize },
    #[error(
        "a Sobol' design needs at least {MIN_SOBOL_POINTS} base points, not {0}: the \
         sequence's first two points are the same in A and B, so with fewer every index is 0"
    )]
    TooFewPoints(usize),
}

/// The fewest base points a Sobol' design takes: the unscrambled sequence starts (0, …, 0),
/// (½, …, ½), identical in A's and B's coordinates, so those rows carry no information on any
/// index; from 4 half the rows at most are such.
pub const MIN_SOBOL_POINTS: usize = 4;

/// Saltelli's design for Sobol' indices: base matrices A and B (`n` × `d`) are the first `d`
/// and the last `d` coordinates of the first `n` points of a `2d`-dimensional Sobol' sequence
/// (Joe-Kuo D6 direction numbers, unscrambled, starting at the origin: the points SALib's
/// `sobol.sample(..., scramble=False)` draws), then for each input i the matrix AB_i (A with
/// column i from B). Points in the order A, B, AB_1, …, AB_d: `n (d + 2)` model runs. The
/// sequence is balanced at powers of two, so `n` is best one.
pub fn sobol_design(n: usize, d: usize) -> Result<Vec<Vec<f64>>, DesignError> {
    if d > MAX_SOBOL_INPUTS {
        return Err(DesignError::TooManyInputs {
            inputs: d,
            max: MAX_SOBOL_INPUTS,
        });
    }
    if n < MIN_SOBOL_POINTS {
        return Err(DesignError::TooFewPoints(n));
    }
    let params = sobol::params::JoeKuoD6::minimal();
    let base: Vec<Vec<f64>> = sobol::Sobol::<f64>::new(2 * d, &params).take(n).collect();
    let a: Vec<Vec<f64>> = base.iter().map(|p| p[..d].to_vec()).collect();
    let b: Vec<Vec<f64>> = base.iter().map(|p| p[d..].to_vec()).collect();
    Ok(saltelli_points(&a, &b))
}

/// Saltelli's points from base matrices A and B (rows of equal width d): A, B, then AB_i (A
/// with column i from B) for each input i.
pub fn saltelli_points(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let d = a.first().map_or(0, Vec::len);
    let mut points = a.to_vec();
    points.extend(b.iter().cloned());
    for i in 0..d {
        for (ra, rb) in a.iter().zip(b) {
            let mut x = ra.clone();
            x[i] = rb[i];
            points.push(x);
        }
    }
    points
}

/// One input's Sobol' indices, first order S_i and total S_Ti, each with a 95% bootstrap
/// interval.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SobolIndex {
    pub first: f64,
    pub total: f64,
    pub first_ci95: [f64; 2],
    pub total_ci95: [f64; 2],
}

/// Bootstrap resamples behind each index's interval.
pub const SOBOL_BOOTSTRAP: usize = 1000;

/// Sobol' indices from the outputs at the points of [`sobol_design`], as SALib computes them:
/// the output is first centred (the Saltelli 2010 first-order estimator is not shift-invariant),
/// then S_i = `mean(f_B (f_ABi − f_A)) / V` (Saltelli 2010) and S_Ti =
/// `mean((f_A − f_ABi)²) / (2V)` (Jansen 1999), V the variance (divisor 2n) of f over A and B.
/// An output constant over A and B has every index 0. The intervals are the 2.5% and 97.5%
/// percentiles of the indices over [`SOBOL_BOOTSTRAP`] resamples of the n base rows drawn
/// from `rng`.
pub fn sobol_indices(y: &[f64], n: usize, d: usize, rng: &mut impl Rng) -> Vec<SobolIndex> {
    let centre = y.iter().sum::<f64>() / y.len().max(1) as f64;
    let y: Vec<f64> = y.iter().map(|v| v - centre).collect();
    let all: Vec<usize> = (0..n).collect();
    let point = sobol_estimates(&y, n, d, &all);
    let mut draws = vec![Vec::with_capacity(SOBOL_BOOTSTRAP); d];
    let mut rows = vec![0; n];
    for _ in 0..SOBOL_BOOTSTRAP {
        for r in rows.iter_mut() {
            *r = rng.gen_range(0..n);
        }
        for (i, e) in sobol_estimates(&y, n, d, &rows).into_iter().enumerate() {
            draws[i].push(e);
        }
    }
    point
        .into_iter()
        .zip(draws)
        .map(|((first, total), draws)| {
            let (f, t): (Vec<f64>, Vec<f64>) = draws.into_iter().unzip();
            SobolIndex {
                first,
                total,
                first_ci95: percentile_interval(f),
                total_ci95: percentile_interval(t),
            }
        })
        .collect()
}

/// (S_i, S_Ti) for each input over the base rows `rows` of centred outputs `y`.
fn sobol_estimates(y: &[f64], n: usize, d: usize, rows: &[usize]) -> Vec<(f64, f64)> {
    let (fa, fb) = (&y[..n], &y[n..2 * n]);
    let m = rows.len() as f64;
    let mean = rows.iter().map(|&r| fa[r] + fb[r]).sum::<f64>() / (2.0 * m);
    let var = rows
        .iter()
        .map(|&r| (fa[r] - mean).powi(2) + (fb[r] - mean).powi(2))
        .sum::<f64>()
        / (2.0 * m);
    (0..d)
        .map(|i| {
            if var <= f64::EPSILON {
                return (0.0, 0.0);
            }
            let fab = &y[(2 + i) * n..(3 + i) * n];
            let first = rows.iter().map(|&r| fb[r] * (fab[r] - fa[r])).sum::<f64>() / m;
            let total = rows.iter().map(|&r| (fa[r] - fab[r]).powi(2)).sum::<f64>() / (2.0 * m);
            (first / var, total / var)
        })
        .collect()
}

/// The 2.5% and 97.5% percentiles (linear interpolation between order statistics).
fn percentile_interval(mut xs: Vec<f64>) -> [f64; 2] {
    xs.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let h = q * (xs.len() - 1) as f64;
        let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
        xs[lo] + (h - lo as f64) * (xs[hi] - xs[lo])
    };
    if xs.is_empty() {
        [f64::NAN, f64::NAN]
    } else {
        [at(0.025), at(0.975)]
    }
}

/// Spearman's rank correlation of each input column with the output: the LHS design's
/// sensitivity measure (direction and monotone strength), ties ranked by their mean.
pub fn rank_correlations(x: &[Vec<f64>], y: &[f64]) -> Vec<f64> {
    let rank = |v: &[f64]| -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|a, b| v[*a].total_cmp(&v[*b]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            for k in i..=j {
                r[idx[k]] = (i + j) as f64 / 2.0;
            }
            i = j + 1;
        }
        r
    };
    let ry = rank(y);
    let d = x.first().map_or(0, Vec::len);
    (0..d)
        .map(|j| {
            let col: Vec<f64> = x.iter().map(|p| p[j]).collect();
            let mut p = crate::stats::Pearson::default();
            for (a, b) in rank(&col).iter().zip(&ry) {
                p.add(*a, *b);
            }
            p.value()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// The Ishigami function on [−π, π]³ (a = 7, b = 0.1).
    fn ishigami(u: &[f64]) -> f64 {
        let x: Vec<f64> = u.iter().map(|v| -PI + 2.0 * PI * v).collect();
        x[0].sin() + 7.0 * x[1].sin().powi(2) + 0.1 * x[2].powi(4) * x[0].sin()
    }

    #[test]
    fn a_latin_hypercube_fills_every_stratum_once() {
        let mut rng = crate::rng::stream(1, 0, 1);
        let pts = latin_hypercube(50, 3, &mut rng);
        for j in 0..3 {
            let mut strata: Vec<usize> = pts.iter().map(|p| (p[j] * 50.0) as usize).collect();
            strata.sort();
            assert_eq!(strata, (0..50).collect::<Vec<_>>());
        }
    }

    /// Analytic Ishigami indices: S = (0.3139, 0.4424, 0), S_T = (0.5576, 0.4424, 0.2437).
    #[test]
    fn sobol_indices_recover_the_ishigami_values_within_their_intervals() {
        let n = 1 << 13;
        let pts = sobol_design(n, 3).unwrap();
        let y: Vec<f64> = pts.iter().map(|p| ishigami(p)).collect();
        let s = sobol_indices(&y, n, 3, &mut crate::rng::stream(2, 0, 1));
        let (first, total) = ([0.3139, 0.4424, 0.0], [0.5576, 0.4424, 0.2437]);
        for i in 0..3 {
            let (f, t) = (&s[i], first[i]);
            assert!((f.first - t).abs() < 0.02, "S{} {}", i + 1, f.first);
            assert!(
                f.first_ci95[0] <= t && t <= f.first_ci95[1],
                "S{} {f:?}",
                i + 1
            );
            let t = total[i];
            assert!((f.total - t).abs() < 0.02, "ST{} {}", i + 1, f.total);
            assert!(
                f.total_ci95[0] <= t && t <= f.total_ci95[1],
                "ST{} {f:?}",
                i + 1
            );
            assert!(f.first_ci95[1] - f.first_ci95[0] < 0.1, "{f:?}");
        }
    }

    /// The low-discrepancy points beat pseudo-random ones at equal cost: at n = 1024 the
    /// Ishigami indices from the Sobol' design are closer to the analytic values than those
    /// from two independent Latin hypercubes (the design this replaced), averaged over seeds.
    #[test]
    fn the_sobol_sequence_estimates_better_than_latin_hypercubes_at_equal_cost() {
        let (n, d) = (1024, 3);
        let truth = [0.5576, 0.4424, 0.2437];
        let err = |pts: &[Vec<f64>]| {
            let y: Vec<f64> = pts.iter().map(|p| ishigami(p)).collect();
            sobol_indices(&y, n, d, &mut crate::rng::stream(1, 0, 9))
                .iter()
                .zip(truth)
                .map(|(s, t)| (s.total - t).abs())
                .sum::<f64>()
        };
        let qmc = err(&sobol_design(n, d).unwrap());
        let lhs: f64 = (0..20)
            .map(|seed| {
                let mut rng = crate::rng::stream(seed, 0, 3);
                let a = latin_hypercube(n, d, &mut rng);
                let b = latin_hypercube(n, d, &mut rng);
                err(&saltelli_points(&a, &b))
            })
            .sum::<f64>()
            / 20.0;
        assert!(qmc < lhs, "Sobol' {qmc} vs LHS {lhs}");
    }

    /// The first points of the unscrambled sequence (SALib/scipy give the same, starting at
    /// the origin), and a design that cannot be built is refused, not a panic.
    #[test]
    fn the_design_starts_on_the_sobol_sequence_and_refuses_what_it_cannot_build() {
        let pts = sobol_design(4, 1).unwrap();
        // 2-dimensional sequence: (0, 0), (0.5, 0.5), (0.75, 0.25), (0.25, 0.75).
        let a: Vec<f64> = pts[..4].iter().map(|p| p[0]).collect();
        let b: Vec<f64> = pts[4..8].iter().map(|p| p[0]).collect();
        assert_eq!(a, [0.0, 0.5, 0.75, 0.25]);
        assert_eq!(b, [0.0, 0.5, 0.25, 0.75]);
        assert_eq!(pts.len(), 4 * 3);
        assert!(matches!(
            sobol_design(4, MAX_SOBOL_INPUTS + 1),
            Err(DesignError::TooManyInputs { .. })
        ));
        assert_eq!(sobol_design(1, 2), Err(DesignError::TooFewPoints(1)));
        assert_eq!(sobol_design(3, 2), Err(DesignError::TooFewPoints(3)));
        assert!(sobol_design(4, 2).is_ok());
    }

    #[test]
    fn a_constant_output_has_zero_indices() {
        let n = 16;
        let y = vec![3.0; n * 4];
        let s = sobol_indices(&y, n, 2, &mut crate::rng::stream(1, 0, 1));
        assert!(s
            .iter()
            .all(|i| i.first == 0.0 && i.total == 0.0 && i.total_ci95 == [0.0, 0.0]));
    }

    /// On a linear model every elementary effect is the coefficient: μ* = |a_i|, σ = 0.
    #[test]
    fn morris_effects_of_a_linear_model_are_its_coefficients() {
        let coef = [3.0, -2.0, 0.0, 0.5];
        let mut rng = crate::rng::stream(3, 0, 1);
        let (pts, steps) = morris_design(10, 4, 4, &mut rng);
        let y: Vec<f64> = pts
            .iter()
            .map(|p| p.iter().zip(coef).map(|(x, a)| a * x).sum())
            .collect();
        let e = morris_effects(&y, &steps, 4);
        for (k, a) in coef.iter().enumerate() {
            assert!(
                (e[k].mu_star - a.abs()).abs() < 1e-9 && (e[k].mu - a).abs() < 1e-9,
                "{k}: {:?}",
                e[k]
            );
            assert!(e[k].sigma < 1e-9);
        }
        // Ishigami: x3 matters only through its interaction with x1, so σ is large against μ.
        let (pts, steps) = morris_design(200, 3, 4, &mut rng);
        let y: Vec<f64> = pts.iter().map(|p| ishigami(p)).collect();
        let e = morris_effects(&y, &steps, 3);
        assert!(e[2].sigma > e[2].mu.abs(), "{:?}", e[2]);
    }

    #[test]
    fn rank_correlations_see_monotone_dependence() {
        let mut rng = crate::rng::stream(4, 0, 1);
        let x = latin_hypercube(200, 2, &mut rng);
        let y: Vec<f64> = x.iter().map(|p| p[0].powi(3) - 0.0 * p[1]).collect();
        let c = rank_correlations(&x, &y);
        assert!((c[0] - 1.0).abs() < 1e-9 && c[1].abs() < 0.2, "{c:?}");
    }
}
