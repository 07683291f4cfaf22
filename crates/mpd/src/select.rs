//! Track selection from download options.

use crate::model::{Manifest, Track, TrackKind};
use serde::{Deserialize, Serialize};

/// What the app asks to store. Every field is optional; see [`select`] for the defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SelectOptions {
    /// Preferred audio language (the original API's `language`).
    pub language: Option<String>,
    /// Target video bitrate in bits per second (the original API's `bitrate`).
    pub bitrate: Option<u64>,
    /// Store thumbnail (image) tracks too.
    pub thumbnails: bool,
    /// Every representation of every kind (for inspection tools, not for downloads).
    pub all: bool,
}

/// Picks the representations to store, per period:
/// - audio: every AdaptationSet whose `lang` matches `language` (all audio sets if none matches or
///   no language is given), the highest-bandwidth representation of each;
/// - video: the one representation whose bandwidth is closest to `bitrate` (the highest when no
///   bitrate is given);
/// - text: every text representation;
/// - image: only with `thumbnails`, the highest-bandwidth one.
pub fn select<'m>(manifest: &'m Manifest, options: &SelectOptions) -> Vec<&'m Track> {
    if options.all {
        return manifest.tracks().map(|(_, t)| t).collect();
    }
    let mut chosen = Vec::new();
    for period in &manifest.periods {
        let of = |kind| {
            period
                .tracks
                .iter()
                .filter(move |t: &&Track| t.kind == kind)
        };
        if let Some(v) = pick_video(of(TrackKind::Video), options.bitrate) {
            chosen.push(v);
        }
        let lang_matches = |t: &&Track| match (&options.language, &t.lang) {
            (Some(want), Some(have)) => lang_eq(want, have),
            _ => false,
        };
        let any_match = of(TrackKind::Audio).any(|t| lang_matches(&t));
        let audio: Vec<&Track> = of(TrackKind::Audio)
            .filter(|t| !any_match || lang_matches(t))
            .collect();
        let mut sets: Vec<usize> = audio.iter().map(|t| t.adaptation).collect();
        sets.dedup();
        for set in sets {
            if let Some(best) = audio
                .iter()
                .filter(|t| t.adaptation == set)
                .max_by_key(|t| t.bandwidth)
            {
                chosen.push(best);
            }
        }
        chosen.extend(of(TrackKind::Text));
        if options.thumbnails {
            if let Some(img) = of(TrackKind::Image).max_by_key(|t| t.bandwidth) {
                chosen.push(img);
            }
        }
    }
    chosen
}

fn pick_video<'m>(
    tracks: impl Iterator<Item = &'m Track>,
    bitrate: Option<u64>,
) -> Option<&'m Track> {
    match bitrate {
        Some(b) => tracks.min_by_key(|t| t.bandwidth.abs_diff(b)),
        None => tracks.max_by_key(|t| t.bandwidth),
    }
}

/// `en` matches `en-US` and `eng` matches `en`: compare the primary subtag, mapping the common
/// ISO 639-2 codes to ISO 639-1.
fn lang_eq(a: &str, b: &str) -> bool {
    primary(a) == primary(b)
}

fn primary(tag: &str) -> String {
    let p = tag
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mapped = match p.as_str() {
        "eng" => "en",
        "spa" => "es",
        "fra" | "fre" => "fr",
        "deu" | "ger" => "de",
        "ita" => "it",
        "por" => "pt",
        "rus" => "ru",
        "jpn" => "ja",
        "zho" | "chi" => "zh",
        "heb" => "he",
        "ara" => "ar",
        "nld" | "dut" => "nl",
        _ => return p,
    };
    mapped.to_string()
}

#[cfg(test)]
mod tests {
    use super::lang_eq;

    #[test]
    fn three_letter_and_region_codes_match_two_letter_ones() {
        assert!(lang_eq("en", "eng"));
        assert!(lang_eq("en-US", "en"));
        assert!(!lang_eq("es", "en"));
    }
}
