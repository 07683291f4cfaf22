//! ISO 8601 durations as used by MPD attributes (`PT1H2M3.5S`, `P1DT2H`, `P0Y0M0DT0H2M17.000S`).

/// Seconds per designator, in the order the designators must appear. Years and months have no
/// fixed length; like shaka-player's `TXml.parseDuration` (and dash.js), a year is 365 days and a
/// month 30 days, so a manifest gets the same duration here as in the players.
const DATE_UNITS: [(char, f64); 4] = [
    ('Y', 365.0 * 86_400.0),
    ('M', 30.0 * 86_400.0),
    ('W', 7.0 * 86_400.0),
    ('D', 86_400.0),
];
const TIME_UNITS: [(char, f64); 3] = [('H', 3_600.0), ('M', 60.0), ('S', 1.0)];

/// Parses an `xs:duration` into seconds.
///
/// Designators are taken in their fixed order (`Y M W D`, then `T` and `H M S`), each at most
/// once, each with at least one digit; designators are case-insensitive as in shaka-player. `W`
/// is ISO 8601 rather than `xs:duration`, kept because some packagers write it. A sign, an empty
/// `P`/`PT`, or a value that does not fit an `f64` is refused.
pub fn parse_duration(s: &str) -> Option<f64> {
    let upper = s.trim().to_ascii_uppercase();
    let rest = upper.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut total = 0.0;
    let mut seen = sum_units(date, &DATE_UNITS, &mut total)?;
    if let Some(time) = time {
        if time.is_empty() {
            return None;
        }
        seen |= sum_units(time, &TIME_UNITS, &mut total)?;
    }
    (seen && total.is_finite()).then_some(total)
}

/// Adds `value × unit` for every `<number><designator>` of `s` to `total`, designators in the
/// order of `units`; `Some(true)` when at least one was present, `None` when `s` is malformed.
fn sum_units(s: &str, units: &[(char, f64)], total: &mut f64) -> Option<bool> {
    let mut next = 0usize;
    let mut seen = false;
    let mut num_start = 0usize;
    for (i, ch) in s.char_indices() {
        if ch.is_ascii_digit() || ch == '.' {
            continue;
        }
        let number = s.get(num_start..i)?;
        // `str::parse::<f64>` also takes "inf", "1e5" and a sign; only plain decimals are valid.
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return None;
        }
        let (at, (_, seconds)) = units
            .iter()
            .enumerate()
            .skip(next)
            .find(|(_, (u, _))| *u == ch)?;
        let value: f64 = number.parse().ok()?;
        *total += value * seconds;
        // An index of `units` and a position in `s`, each plus one: neither reaches usize::MAX.
        next = at.saturating_add(1);
        seen = true;
        num_start = i.saturating_add(ch.len_utf8());
    }
    (num_start == s.len()).then_some(seen)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn hours_minutes_fractional_seconds() {
        assert_eq!(parse_duration("PT1H2M3.5S"), Some(3723.5));
    }

    #[test]
    fn days_and_time() {
        assert_eq!(parse_duration("P1DT1S"), Some(86_401.0));
    }

    #[test]
    fn zero_years_and_months_as_packagers_write_them() {
        assert_eq!(parse_duration("P0Y0M0DT0H2M17.000S"), Some(137.0));
        assert_eq!(parse_duration("P0Y0M0DT0H0M0.000S"), Some(0.0));
    }

    #[test]
    fn years_are_365_days_and_months_30_days_as_in_shaka() {
        assert_eq!(parse_duration("P1Y"), Some(365.0 * 86_400.0));
        assert_eq!(parse_duration("P2M"), Some(60.0 * 86_400.0));
        assert_eq!(
            parse_duration("P1Y1M1DT1H1M1S"),
            Some(396.0 * 86_400.0 + 3_661.0)
        );
    }

    #[test]
    fn month_and_minute_are_told_apart_by_the_t() {
        assert_eq!(parse_duration("P1M"), Some(30.0 * 86_400.0));
        assert_eq!(parse_duration("PT1M"), Some(60.0));
    }

    #[test]
    fn lowercase_designators_are_accepted_as_in_shaka() {
        assert_eq!(parse_duration("pt1m30s"), Some(90.0));
    }

    #[test]
    fn weeks_are_seven_days() {
        assert_eq!(parse_duration("P1W"), Some(604_800.0));
    }

    #[test]
    fn negative_durations_are_refused() {
        assert_eq!(parse_duration("-PT1S"), None);
        assert_eq!(parse_duration("PT-1S"), None);
        assert_eq!(parse_duration("P-1Y"), None);
    }

    #[test]
    fn garbage_is_refused() {
        for s in [
            "",
            "P",
            "PT",
            "1H",
            "PTxS",
            "PT1.2.3S",
            "PT.S",
            "PTS",
            "PYT1S",
            "PT1S1M",
            "P1D1Y",
            "P1Y1Y",
            "PT1H1H",
            "P1H",
            "PT1D",
            "PT1E5S",
            "PTinfS",
            "PT+1S",
            "P1",
            "PT1",
            "P1DT",
            "PT1HT1M",
            "P\u{661}D",
        ] {
            assert_eq!(parse_duration(s), None, "{s:?}");
        }
    }

    #[test]
    fn values_too_large_for_a_float_are_refused() {
        let huge = format!("PT{}S", "9".repeat(400));
        assert_eq!(parse_duration(&huge), None);
    }
}
