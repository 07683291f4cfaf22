//! `SegmentTemplate` identifier substitution (`$RepresentationID$`, `$Number%05d$`, ...).

use crate::error::MpdError;

/// Values substituted into a template.
pub struct Vars<'a> {
    /// `@id` of the representation.
    pub representation_id: &'a str,
    /// `$Number$`; `None` leaves the identifier as written, as shaka-player does for the URLs
    /// that have no number (`initialization` and `index` of an index template).
    pub number: Option<u64>,
    /// `$Time$`: the raw `S@t` (media timescale); `None` leaves it as written, like `number`.
    pub time: Option<u64>,
    /// `$Bandwidth$`.
    pub bandwidth: u64,
}

/// Expands every identifier of ISO/IEC 23009-1 §5.3.9.4.4, including printf widths (`%05d`).
pub fn expand(template: &str, vars: &Vars<'_>) -> Result<String, MpdError> {
    let mut out = String::with_capacity(template.len().saturating_add(16));
    expand_into(&mut out, template, vars)?;
    Ok(out)
}

/// [`expand`] into a reused buffer (planning expands one template per segment).
pub fn expand_into(out: &mut String, template: &str, vars: &Vars<'_>) -> Result<(), MpdError> {
    use std::fmt::Write;
    let mut rest = template;
    while let Some((before, after)) = rest.split_once('$') {
        out.push_str(before);
        let (ident, tail) = after.split_once('$').ok_or_else(|| bad(template))?;
        rest = tail;
        if ident.is_empty() {
            out.push('$');
            continue;
        }
        let (name, format) = match ident.split_once('%') {
            Some((n, f)) => (n, Some(f)),
            None => (ident, None),
        };
        let value = match name {
            "RepresentationID" => {
                if format.is_some() {
                    return Err(bad(template));
                }
                out.push_str(vars.representation_id);
                continue;
            }
            "Number" => vars.number,
            "Time" => vars.time,
            "Bandwidth" => Some(vars.bandwidth),
            _ => return Err(bad(template)),
        };
        let Some(value) = value else {
            out.push('$');
            out.push_str(ident);
            out.push('$');
            continue;
        };
        let width = match format {
            None => 1,
            Some(f) => parse_width(f).ok_or_else(|| bad(template))?,
        };
        // Writing to a String cannot fail.
        let _ = write!(out, "{value:0width$}");
    }
    out.push_str(rest);
    Ok(())
}

/// `0Nd` (or `Nd`) → N; the spec only allows the `d` conversion.
fn parse_width(f: &str) -> Option<usize> {
    let digits = f.strip_suffix('d')?;
    let width: usize = if digits.is_empty() {
        1
    } else {
        digits.parse().ok()?
    };
    (width <= 32).then_some(width)
}

fn bad(template: &str) -> MpdError {
    MpdError::BadAttribute {
        element: "SegmentTemplate",
        attr: "media",
        value: template.chars().take(200).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars<'static> {
        Vars {
            representation_id: "v1",
            number: Some(7),
            time: Some(90_000),
            bandwidth: 800_000,
        }
    }

    #[test]
    fn every_identifier_is_substituted() {
        let s = expand(
            "$RepresentationID$/$Bandwidth$/$Time$/$Number$.m4s",
            &vars(),
        )
        .unwrap();
        assert_eq!(s, "v1/800000/90000/7.m4s");
    }

    #[test]
    fn printf_width_pads_with_zeros() {
        assert_eq!(
            expand("seg-$Number%05d$.m4s", &vars()).unwrap(),
            "seg-00007.m4s"
        );
        assert_eq!(expand("$Number%9d$", &vars()).unwrap(), "000000007");
    }

    #[test]
    fn double_dollar_is_a_literal_dollar() {
        assert_eq!(expand("a$$b", &vars()).unwrap(), "a$b");
    }

    #[test]
    fn identifiers_without_a_value_are_left_as_written() {
        let v = Vars {
            number: None,
            time: None,
            ..vars()
        };
        assert_eq!(
            expand("$RepresentationID$-$Bandwidth$-$Number%05d$-$Time$", &v).unwrap(),
            "v1-800000-$Number%05d$-$Time$"
        );
    }

    #[test]
    fn unknown_identifier_is_an_error() {
        assert!(expand("$Foo$", &vars()).is_err());
        assert!(expand("$Number", &vars()).is_err());
    }
}
