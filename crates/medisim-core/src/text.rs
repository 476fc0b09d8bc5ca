//! Numbers in messages: short, exact enough to recognise, and never a 300-digit expansion.

/// `x` as a person reads it in an error message: plain for ordinary magnitudes, scientific for
/// very large or very small ones, and `NaN` / `inf` by name.
pub fn number(x: f64) -> String {
    let a = x.abs();
    if x.is_finite() && a != 0.0 && !(1e-4..1e6).contains(&a) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn huge_and_tiny_numbers_print_short() {
        assert_eq!(super::number(1e308), "1e308");
        assert_eq!(super::number(2.5e-9), "2.5e-9");
        assert_eq!(super::number(500.0), "500");
        assert_eq!(super::number(f64::NAN), "NaN");
        assert_eq!(super::number(f64::NEG_INFINITY), "-inf");
    }
}
