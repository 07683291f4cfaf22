//! ISO 8601 durations as used by MPD attributes (`PT1H2M3.5S`, `P1DT2H`).

/// Parses an `xs:duration` into seconds. Years and months are refused (an MPD never uses them and
/// their length is ambiguous); negative durations too.
pub fn parse_duration(s: &str) -> Option<f64> {
    let rest = s.trim().strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut total = 0.0;
    let mut seen = false;
    for (value, unit) in units(date)? {
        total += value
            * match unit {
                'D' => 86_400.0,
                'W' => 604_800.0,
                _ => return None,
            };
        seen = true;
    }
    if let Some(time) = time {
        if time.is_empty() {
            return None;
        }
        for (value, unit) in units(time)? {
            total += value
                * match unit {
                    'H' => 3_600.0,
                    'M' => 60.0,
                    'S' => 1.0,
                    _ => return None,
                };
            seen = true;
        }
    }
    (seen && total.is_finite()).then_some(total)
}

fn units(s: &str) -> Option<Vec<(f64, char)>> {
    let mut out = Vec::new();
    let mut num = String::new();
    for ch in s.chars() {
        if ch.is_ascii_digit() || ch == '.' {
            num.push(ch);
        } else {
            let value: f64 = num.parse().ok()?;
            out.push((value, ch));
            num.clear();
        }
    }
    num.is_empty().then_some(out)
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
    fn garbage_and_years_are_refused() {
        assert_eq!(parse_duration("PT"), None);
        assert_eq!(parse_duration("1H"), None);
        assert_eq!(parse_duration("P1Y"), None);
        assert_eq!(parse_duration("PTxS"), None);
    }
}
