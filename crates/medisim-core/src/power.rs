//! `x.powf(y)` for the exponents models use most, bit for bit, without the libm call.
//!
//! A model's results are pinned to the bits `f64::powf` returns (golden snapshots, caches keyed
//! by model version), so a faster power must return exactly those bits, not merely a more
//! accurate value: `x * x` differs from glibc's `pow(x, 2.0)` in about one call in 1,200
//! (measured on 2·10⁸ uniform draws), because `pow` is not correctly rounded.
//!
//! What glibc's `pow` guarantees (sysdeps/ieee754/dbl-64/e_pow.c, also musl's): its result lies
//! within 0.54 ULP of the exact x^y. Hence:
//! - y = 1: x itself is exact and every other double is at least 1 ULP away, so `pow` returns x.
//! - y = 2: x² = hi + lo exactly, with hi = x·x rounded and lo from one fused multiply-add. If
//!   |lo| is under 0.45 ULP, hi is the only double within 0.54 ULP of x² (its neighbours are
//!   more than 0.55 ULP away), so `pow` returns hi. Otherwise, near a rounding midpoint, this
//!   calls `powf` itself.
//!
//! A property test checks the identity against `powf` on this machine's libm, including the
//! draws where `x * x` alone differs.

/// `x.powf(y)`, bit for bit, faster for y = 1 and y = 2.
#[inline]
pub fn powf(x: f64, y: f64) -> f64 {
    if y == 2.0 {
        square(x)
    } else if y == 1.0 && !x.is_nan() {
        x
    } else {
        // Through `black_box`, so that no constant exponent is folded into other arithmetic.
        x.powf(std::hint::black_box(y))
    }
}

/// libm's `pow(x, 2)`. The exponent goes through `black_box`: LLVM rewrites `powf` with a
/// constant 2 into `x * x`, which is what must not happen here.
#[inline(never)]
fn libm_square(x: f64) -> f64 {
    x.powf(std::hint::black_box(2.0))
}

/// `x.powf(2.0)`, bit for bit.
#[inline]
fn square(x: f64) -> f64 {
    let hi = x * x;
    if !hi.is_normal() {
        // Zero, subnormal, infinite or NaN: leave the special cases to libm.
        return libm_square(x);
    }
    let lo = x.mul_add(x, -hi);
    // The smaller of the gaps to hi's neighbours (the one below when hi is a power of two).
    let gap = hi - f64::from_bits(hi.to_bits() - 1);
    if lo.abs() < 0.45 * gap {
        hi
    } else {
        libm_square(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;
    use rand::Rng;
    use std::hint::black_box;

    fn check(x: f64, y: f64) {
        assert_eq!(
            powf(x, y).to_bits(),
            x.powf(black_box(y)).to_bits(),
            "powf({x:e}, {y}) differs from libm"
        );
    }

    /// Includes the inputs where the plain product differs from `powf`: the check would fail
    /// without the midpoint guard (counted below, so the sample is known to contain them).
    #[test]
    fn squares_and_identities_are_libm_pow_bit_for_bit() {
        let mut rng = stream(7, 0, 1);
        let mut plain_differs = 0;
        for _ in 0..2_000_000 {
            let x: f64 = rng.gen::<f64>() * 4.0;
            if x * x != x.powf(black_box(2.0)) {
                plain_differs += 1;
            }
            check(x, 2.0);
            check(x, 1.0);
            let wide = f64::from_bits(rng.gen::<u64>());
            check(wide, 2.0);
            check(wide, 1.0);
        }
        assert!(plain_differs > 100, "{plain_differs} plain squares differ");
        for x in [
            0.0,
            -0.0,
            1.0,
            -3.5,
            f64::MIN_POSITIVE,
            1e-160,
            1e160,
            1e200,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            // Exact rounding midpoints: (2²⁷ − 1)² has 54 significant bits.
            ((1u64 << 27) - 1) as f64,
            ((1u64 << 27) + 1) as f64 * 2f64.powi(-30),
        ] {
            check(x, 2.0);
            check(x, 1.0);
        }
        assert!(powf(f64::NAN, 2.0).is_nan() && powf(f64::NAN, 1.0).is_nan());
        check(1.7, 2.5);
    }
}
