//! Statistics every model reports: written once here, so two models never disagree on what a
//! mean of nothing or a correlation without variance is.

use serde::{Deserialize, Serialize};

/// Mean of an iterator; 0 for none (a diagnostic over no events is reported as 0, never NaN).
pub fn mean(it: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = it.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 {
        0.0
    } else {
        s / n as f64
    }
}

/// `a / b`, or 0 when the denominator is not positive (a rate over no events).
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// An integer that orders as `f64::total_cmp` orders `x` (the same map it applies): sorting by
/// it, or by it and an index, is one integer comparison instead of two loads and a float one.
pub fn total_order_key(x: f64) -> i64 {
    let bits = x.to_bits() as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

/// Sample variance (n − 1 denominator); 0 for fewer than two values.
pub fn sample_variance(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs.iter().copied());
    xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64
}

/// Population standard deviation (n denominator) of an iterator; 0 for none.
pub fn population_sd<I: Iterator<Item = f64> + Clone>(xs: I) -> f64 {
    let n = xs.clone().count();
    if n == 0 {
        return 0.0;
    }
    let m = mean(xs.clone());
    (xs.map(|x| (x - m).powi(2)).sum::<f64>() / n as f64).sqrt()
}

/// Running sums for a Pearson correlation, so a rollout adds pairs without storing them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pearson {
    n: f64,
    x: f64,
    y: f64,
    xx: f64,
    yy: f64,
    xy: f64,
}

impl Pearson {
    pub fn add(&mut self, x: f64, y: f64) {
        self.n += 1.0;
        self.x += x;
        self.y += y;
        self.xx += x * x;
        self.yy += y * y;
        self.xy += x * y;
    }

    /// The correlation; no pairs, one pair, or no variance is undefined and reported as 0.
    pub fn value(&self) -> f64 {
        let cov = self.xy - self.x * self.y / self.n;
        let vx = self.xx - self.x * self.x / self.n;
        let vy = self.yy - self.y * self.y / self.n;
        // The negated test also catches the NaN of an empty accumulator.
        if !(self.n >= 2.0 && vx > 1e-12 && vy > 1e-12) {
            0.0
        } else {
            cov / (vx * vy).sqrt()
        }
    }
}

/// The mean over events of a cross-sectional coefficient of variation (population sd / |mean|),
/// accumulated one cross-section at a time.
#[derive(Clone, Copy, Debug, Default)]
pub struct MeanCv {
    sum: f64,
    count: f64,
}

impl MeanCv {
    /// Add one cross-section; skipped when fewer than two units report or the mean is zero.
    pub fn add<I: Iterator<Item = f64> + Clone>(&mut self, xs: I) {
        // Two passes, each the same arithmetic as `mean` and `population_sd` (which took five):
        // the count and sum in `mean`'s fold, then the squared deviations from that mean.
        let (sum, n) = xs.clone().fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
        if n < 2 {
            return;
        }
        let m = sum / n as f64;
        if m.abs() > 1e-12 {
            let sd = (xs.map(|x| (x - m).powi(2)).sum::<f64>() / n as f64).sqrt();
            self.sum += sd / m.abs();
            self.count += 1.0;
        }
    }

    pub fn value(&self) -> f64 {
        ratio(self.sum, self.count)
    }
}

/// A metric summarised over replicates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    #[serde(deserialize_with = "null_is_nan")]
    pub mean: f64,
    #[serde(deserialize_with = "null_is_nan")]
    pub std: f64,
    /// 95% confidence interval of the mean (Student t).
    #[serde(deserialize_with = "null_is_nan_pair")]
    pub ci95: [f64; 2],
    pub n: usize,
}

impl Summary {
    /// The summary with its 95% interval stopped at `[lo, hi]`, the values the quantity can
    /// take: the t interval of a mean near a bound reaches past it. Truncating to where the
    /// true mean must lie keeps every interval that covered it covering it.
    pub fn truncated(mut self, lo: f64, hi: f64) -> Summary {
        self.ci95 = [self.ci95[0].max(lo), self.ci95[1].min(hi)];
        self
    }

    /// A value with no spread: a statistic of the whole replicate set (Eq. 8 fitness).
    pub fn exact(value: f64, n: usize) -> Self {
        Summary {
            mean: value,
            std: 0.0,
            ci95: [value, value],
            n,
        }
    }
}

// JSON has no NaN: serde_json writes a non-finite number as null. Reading null back as NaN lets
// every stored summary (cell caches, search stores) round-trip whatever it holds.
fn null_is_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

fn null_is_nan_pair<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[f64; 2], D::Error> {
    let [a, b] = <[Option<f64>; 2]>::deserialize(d)?;
    Ok([a.unwrap_or(f64::NAN), b.unwrap_or(f64::NAN)])
}

/// What the statistics compute, as far as a cached summary depends on it: part of every run's
/// cache key, so a change of estimator recomputes cached cells instead of mixing two rules.
/// `t-exact/1`: 95% intervals use the exact Student t quantile at every degree of freedom
/// (earlier summaries used a 3-decimal table up to 29 degrees and 1.96 beyond).
/// `t-support/2`: each interval truncated to the values its metric can take
/// ([`crate::MetricKind::support`]; shares' intervals reached below 0 and above 1).
/// `t-support/3`: Medi-Sim's quantities that cannot be negative (waiting, effort, costs,
/// coefficients of variation, …) typed as amounts, so their intervals stop at 0 too.
pub const STATS_VERSION: &str = "t-support/3";

/// The 97.5% quantile of Student's t with `df` degrees of freedom: the half-width factor of a
/// two-sided 95% interval. Exact (statrs), not the normal 1.96, which is 3% too narrow at 40.
///
/// Each quantile up to [`T975_KEPT`] degrees of freedom is computed once per process and kept:
/// the inverse incomplete beta costs about 5,500 instructions and every summary of every metric
/// asks for it (issue 29: 7,250 times, 40 M instructions, in a 60-iteration search).
pub fn t975(df: usize) -> f64 {
    static KEPT: [std::sync::OnceLock<f64>; T975_KEPT + 1] =
        [const { std::sync::OnceLock::new() }; T975_KEPT + 1];
    let df = df.max(1);
    match KEPT.get(df) {
        Some(kept) => *kept.get_or_init(|| t975_exact(df)),
        None => t975_exact(df),
    }
}

/// Degrees of freedom whose 97.5% quantile [`t975`] keeps (covers every default seed count).
pub const T975_KEPT: usize = 256;

fn t975_exact(df: usize) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    match StudentsT::new(0.0, 1.0, df as f64) {
        Ok(t) => t.inverse_cdf(0.975),
        Err(_) => f64::NAN,
    }
}

/// The half-width of the 95% Student-t interval of a mean of `n` values with sample standard
/// deviation `sd` (0 below two values).
fn t_half_width(sd: f64, n: usize) -> f64 {
    if n >= 2 {
        t975(n - 1) * sd / (n as f64).sqrt()
    } else {
        0.0
    }
}

/// Half the width of `[centre − h, centre + h]` as floating point gives it (not `h` exactly):
/// what checks read off an interval, so a check built from `h` stays bit-identical to one that
/// read the interval.
pub fn interval_half_width(centre: f64, h: f64) -> f64 {
    0.5 * ((centre + h) - (centre - h))
}

impl Summary {
    /// Whether the spread and the interval mean anything: a sample of two or more replicates,
    /// or an exact value (a deterministic model's, whose interval is the value). One
    /// replicate of a stochastic model has no spread to estimate: tables write its `std` and
    /// interval empty, never as a zero-width interval or NaN.
    pub fn spread_defined(&self, stochastic: bool) -> bool {
        self.n >= 2 || !stochastic
    }

    /// The half-width of the mean's Student-t interval, from its spread and count: what a
    /// difference of two means combines in quadrature. Not read off `ci95`, which stops at the
    /// values the metric can take and so may be narrower on one side.
    pub fn half_width(&self) -> f64 {
        interval_half_width(self.mean, t_half_width(self.std, self.n))
    }
}

/// The half-width of the difference of two means, their half-widths taken in quadrature (for
/// settings run on shared seeds this is conservative); NaN when either side has no interval
/// (one replicate of a stochastic model), so that no comparison with it can hold.
pub fn difference_half_width(a: &Summary, b: &Summary, stochastic: bool) -> f64 {
    if a.spread_defined(stochastic) && b.spread_defined(stochastic) {
        (a.half_width().powi(2) + b.half_width().powi(2)).sqrt()
    } else {
        f64::NAN
    }
}

/// The paired difference of two settings run on the same seeds: the summary of `b − a` over
/// the `(a, b)` pairs, seed by seed (common random numbers make the interval the paired one).
pub fn paired_difference(pairs: impl IntoIterator<Item = (f64, f64)>) -> Summary {
    let d: Vec<f64> = pairs.into_iter().map(|(a, b)| b - a).collect();
    summarise(&d)
}

/// Mean, sample standard deviation and 95% Student-t interval of the mean.
pub fn summarise(xs: &[f64]) -> Summary {
    let n = xs.len();
    let m = mean(xs.iter().copied());
    let sd = sample_variance(xs).sqrt();
    let half = t_half_width(sd, n);
    Summary {
        mean: m,
        std: sd,
        ci95: [m - half, m + half],
        n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two-pass cross-section is the mean and population sd it stands for, bit for bit.
    #[test]
    fn mean_cv_adds_what_mean_and_population_sd_give() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for n in 0..40 {
            let xs: Vec<f64> = (0..n % 9)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1);
                    (state >> 11) as f64 / (1u64 << 53) as f64 * 20.0 - 5.0
                })
                .collect();
            let mut cv = MeanCv::default();
            cv.add(xs.iter().copied());
            let m = mean(xs.iter().copied());
            let want = if xs.len() >= 2 && m.abs() > 1e-12 {
                population_sd(xs.iter().copied()) / m.abs()
            } else {
                0.0
            };
            assert_eq!(cv.value().to_bits(), want.to_bits(), "{xs:?}");
        }
    }

    /// The key orders as `total_cmp` on its specials (both zeros, subnormals, infinities, NaNs
    /// of both signs) and on 20,000 random bit patterns.
    #[test]
    fn total_order_key_orders_as_total_cmp() {
        let specials = [
            f64::NEG_INFINITY,
            -f64::MAX,
            -1.5,
            -f64::MIN_POSITIVE,
            -5e-324,
            -0.0,
            0.0,
            5e-324,
            f64::MIN_POSITIVE,
            1.0,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut values: Vec<f64> = specials.to_vec();
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            values.push(f64::from_bits(state));
        }
        for (i, a) in values.iter().enumerate() {
            for b in values.iter().skip(i % 7).step_by(97) {
                assert_eq!(
                    total_order_key(*a).cmp(&total_order_key(*b)),
                    a.total_cmp(b),
                    "{a:e} against {b:e}"
                );
            }
        }
    }

    #[test]
    fn an_undefined_correlation_is_zero() {
        assert_eq!(Pearson::default().value(), 0.0);
        let mut one = Pearson::default();
        one.add(1.0, 2.0);
        assert_eq!(one.value(), 0.0);
        let mut flat = Pearson::default();
        for x in [1.0, 2.0, 3.0] {
            flat.add(x, 5.0);
        }
        assert_eq!(flat.value(), 0.0);
        let mut line = Pearson::default();
        for x in [1.0, 2.0, 3.0] {
            line.add(x, -2.0 * x);
        }
        assert!((line.value() + 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_summary_holding_nan_round_trips_through_json() {
        let s = Summary {
            mean: f64::NAN,
            std: 0.5,
            ci95: [f64::NAN, 1.0],
            n: 3,
        };
        let text = serde_json::to_string(&s).unwrap();
        assert!(text.contains("null"), "{text}");
        let back: Summary = serde_json::from_str(&text).unwrap();
        assert!(back.mean.is_nan() && back.ci95[0].is_nan());
        assert_eq!((back.std, back.ci95[1], back.n), (0.5, 1.0, 3));
    }

    #[test]
    fn summaries_use_student_t_and_degenerate_cleanly() {
        let s = summarise(&[1.0, 2.0, 3.0]);
        assert_eq!(s.mean, 2.0);
        assert_eq!(s.std, 1.0);
        // t(2 df) = 4.302653 (scipy.stats.t.ppf); half-width t / sqrt(3).
        assert!((s.ci95[1] - 2.0 - 4.302_652_729_749_462 / 3f64.sqrt()).abs() < 1e-9);
        let one = summarise(&[5.0]);
        assert_eq!((one.mean, one.std, one.ci95), (5.0, 0.0, [5.0, 5.0]));
        assert_eq!(summarise(&[]).mean, 0.0);
    }

    /// Reference quantiles (scipy: `t.ppf(0.975, df)`), including the range where the old table fell
    /// back to the normal 1.96.
    #[test]
    fn t_quantiles_are_exact_at_every_degree_of_freedom() {
        for (df, q) in [
            (1, 12.706_204_736_174_694),
            (2, 4.302_652_729_749_462),
            (9, 2.262_157_162_798_205),
            (29, 2.045_229_642_132_703),
            (40, 2.021_075_390_306_273),
            (100, 1.983_971_518_523_551_8),
            (1000, 1.962_339_080_826_408_3),
        ] {
            assert!((t975(df) - q).abs() < 1e-9, "df {df}: {} vs {q}", t975(df));
        }
        // At 40 degrees of freedom the normal quantile is about 3% too narrow.
        assert!(t975(40) / 1.96 > 1.03);
        // Kept quantiles are the computed ones, bit for bit, on both sides of the bound.
        for df in 0..T975_KEPT + 20 {
            for _ in 0..2 {
                assert_eq!(
                    t975(df).to_bits(),
                    t975_exact(df.max(1)).to_bits(),
                    "df {df}"
                );
            }
        }
    }

    #[test]
    fn mean_cv_skips_degenerate_cross_sections() {
        let mut cv = MeanCv::default();
        cv.add([1.0].into_iter());
        cv.add([0.0, 0.0].into_iter());
        assert_eq!(cv.value(), 0.0);
        cv.add([1.0, 3.0].into_iter());
        // sd 1, mean 2
        assert!((cv.value() - 0.5).abs() < 1e-12);
        assert_eq!(ratio(1.0, 0.0), 0.0);
    }
}
