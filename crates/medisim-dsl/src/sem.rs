//! Total semantics: the meaning of every operation, shared by the reference evaluator, the
//! constant folder and the compiled evaluator so that all three agree bit for bit.
//!
//! Every operation maps finite inputs to a finite output:
//! - arithmetic saturates: a result beyond ±`f64::MAX` becomes ±`f64::MAX`;
//! - `x / 0` is `0` (for every `x`, including `0 / 0`);
//! - a NaN can arise only from a NaN input, and [`sat`] maps it to `0`;
//! - booleans are `0.0` (false) and `1.0` (true), and `I(b)` is that number.

use crate::schema::SOFT_TEMPERATURE;

/// Saturate to the finite range; NaN becomes 0.
#[inline(always)]
pub fn sat(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-f64::MAX, f64::MAX)
    }
}

#[inline(always)]
pub fn add(a: f64, b: f64) -> f64 {
    sat(a + b)
}

#[inline(always)]
pub fn sub(a: f64, b: f64) -> f64 {
    sat(a - b)
}

#[inline(always)]
pub fn mul(a: f64, b: f64) -> f64 {
    sat(a * b)
}

#[inline(always)]
pub fn div(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        sat(a / b)
    }
}

#[inline(always)]
pub fn neg(a: f64) -> f64 {
    -a
}

#[inline(always)]
pub fn flag(b: bool) -> f64 {
    // A select, not a conversion: it vectorises in batch evaluation.
    if b {
        1.0
    } else {
        0.0
    }
}

#[inline(always)]
pub fn truth(x: f64) -> bool {
    x != 0.0
}

#[inline(always)]
pub fn min(a: f64, b: f64) -> f64 {
    a.min(b)
}

#[inline(always)]
pub fn max(a: f64, b: f64) -> f64 {
    a.max(b)
}

/// `clip(x, lo, hi) = min(max(x, lo), hi)`: when `lo > hi` the result is `hi`.
#[inline(always)]
pub fn clip(x: f64, lo: f64, hi: f64) -> f64 {
    x.max(lo).min(hi)
}

#[inline(always)]
pub fn abs(x: f64) -> f64 {
    x.abs()
}

/// Nearest integer, halves away from zero.
#[inline(always)]
pub fn round(x: f64) -> f64 {
    x.round()
}

/// Smooth `x > y`: the logistic function of `(x - y) / SOFT_TEMPERATURE`, in `[0, 1]`.
#[inline]
pub fn soft_gt(x: f64, y: f64) -> f64 {
    let z = sub(x, y) / SOFT_TEMPERATURE;
    // Two branches keep exp() from overflowing for large |z|.
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Smooth `x < y`, i.e. `soft_gt(y, x)`.
#[inline]
pub fn soft_lt(x: f64, y: f64) -> f64 {
    soft_gt(y, x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_by_zero_is_zero() {
        assert_eq!(div(3.0, 0.0), 0.0);
        assert_eq!(div(0.0, 0.0), 0.0);
        assert_eq!(div(-1.0, -0.0), 0.0);
    }

    #[test]
    fn overflow_saturates() {
        assert_eq!(mul(f64::MAX, 2.0), f64::MAX);
        assert_eq!(add(-f64::MAX, -f64::MAX), -f64::MAX);
        assert_eq!(div(1e300, 1e-300), f64::MAX);
        assert_eq!(sat(f64::NAN), 0.0);
    }

    #[test]
    fn soft_comparisons_are_logistic_and_bounded() {
        assert_eq!(soft_gt(1.0, 1.0), 0.5);
        assert!((soft_gt(1.1, 1.0) - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-12);
        assert_eq!(soft_gt(f64::MAX, -f64::MAX), 1.0);
        assert_eq!(soft_gt(-f64::MAX, f64::MAX), 0.0);
        assert_eq!(soft_lt(0.0, 5.0), soft_gt(5.0, 0.0));
    }

    #[test]
    fn clip_with_crossed_bounds_returns_hi() {
        assert_eq!(clip(5.0, 3.0, 1.0), 1.0);
        assert_eq!(clip(0.5, 0.0, 1.0), 0.5);
        assert_eq!(round(2.5), 3.0);
        assert_eq!(round(-2.5), -3.0);
    }
}
