//! Numbers in messages: short, exact enough to recognise, and never a 300-digit expansion.

/// A value's user-facing name: the name it has in TOML and JSON (its serde name), never the
/// Rust debug name (`mixed`, not `Mixed`; `status_quo`, not `StatusQuo`).
pub fn name_of<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::from("?"),
    }
}

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

/// Text made safe inside HTML, in an element or a double-quoted attribute: what every page of
/// the house (the report, the dashboard) writes a user's or a model's text through.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `YYYY-MM-DD HH:MM UTC` for a moment (the civil calendar from days since 1970, after Howard
/// Hinnant's `civil_from_days`).
pub fn utc_timestamp(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3_600,
        rest % 3_600 / 60
    )
}

#[cfg(test)]
mod timestamp_tests {
    use super::utc_timestamp;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn known_moments_print_as_the_calendar_does() {
        assert_eq!(utc_timestamp(UNIX_EPOCH), "1970-01-01 00:00 UTC");
        // 2000-02-29 12:34 UTC (a leap day) and 2026-12-01 19:45 UTC.
        assert_eq!(
            utc_timestamp(UNIX_EPOCH + Duration::from_secs(951_827_640)),
            "2000-02-29 12:34 UTC"
        );
        assert_eq!(
            utc_timestamp(UNIX_EPOCH + Duration::from_secs(1_796_154_300)),
            "2026-12-01 19:45 UTC"
        );
    }
}
