//! Designs and estimators of global sensitivity analysis, for any model: a Latin hypercube,
//! Morris's elementary effects (radial one-at-a-time trajectories) and Sobol' first-order and
//! total indices (Saltelli's A/B/AB design, Saltelli 2010 and Jansen 1999 estimators). No crate
//! on the registries provides them for Rust, so they are written here and held to analytic
//! cases (the Ishigami function, linear models) by the tests.
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

/// Saltelli's design for Sobol' indices: base matrices A and B (`n` × `d`, independent
/// uniform), then for each input i the matrix AB_i (A with column i from B). Points in the
/// order A, B, AB_1, …, AB_d: `n (d + 2)` model runs.
pub fn sobol_design(n: usize, d: usize, rng: &mut impl Rng) -> Vec<Vec<f64>> {
    let a = latin_hypercube(n, d, rng);
    let b = latin_hypercube(n, d, rng);
    let mut points = a.clone();
    points.extend(b.iter().cloned());
    for i in 0..d {
        for (ra, rb) in a.iter().zip(&b) {
            let mut x = ra.clone();
            x[i] = rb[i];
            points.push(x);
        }
    }
    points
}

/// One input's Sobol' indices: first order S_i and total S_Ti.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SobolIndex {
    pub first: f64,
    pub total: f64,
}

/// Sobol' indices from the outputs at the points of [`sobol_design`]: S_i by Saltelli (2010),
/// `mean(f_B (f_ABi − f_A)) / V`; S_Ti by Jansen (1999), `mean((f_A − f_ABi)²) / (2V)`, with V
/// the variance of f over A and B together.
pub fn sobol_indices(y: &[f64], n: usize, d: usize) -> Vec<SobolIndex> {
    let (fa, fb) = (&y[..n], &y[n..2 * n]);
    let all = &y[..2 * n];
    let mean = all.iter().sum::<f64>() / (2 * n) as f64;
    let var = all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (2 * n - 1) as f64;
    (0..d)
        .map(|i| {
            let fab = &y[(2 + i) * n..(3 + i) * n];
            let first = fb
                .iter()
                .zip(fab)
                .zip(fa)
                .map(|((b, ab), a)| b * (ab - a))
                .sum::<f64>()
                / n as f64;
            let total = fa
                .iter()
                .zip(fab)
                .map(|(a, ab)| (a - ab).powi(2))
                .sum::<f64>()
                / (2 * n) as f64;
            if var > 0.0 {
                SobolIndex {
                    first: first / var,
                    total: total / var,
                }
            } else {
                SobolIndex {
                    first: 0.0,
                    total: 0.0,
                }
            }
        })
        .collect()
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
    fn sobol_indices_recover_the_ishigami_values() {
        let mut rng = crate::rng::stream(2, 0, 1);
        let n = 20_000;
        let pts = sobol_design(n, 3, &mut rng);
        let y: Vec<f64> = pts.iter().map(|p| ishigami(p)).collect();
        let s = sobol_indices(&y, n, 3);
        let (first, total) = ([0.3139, 0.4424, 0.0], [0.5576, 0.4424, 0.2437]);
        for i in 0..3 {
            assert!(
                (s[i].first - first[i]).abs() < 0.03,
                "S{} {}",
                i + 1,
                s[i].first
            );
            assert!(
                (s[i].total - total[i]).abs() < 0.03,
                "ST{} {}",
                i + 1,
                s[i].total
            );
        }
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
