//! Track selection from download options.

use crate::model::{Manifest, Period, Track, TrackKind};
use crate::playable::{Dependencies, MediaType};
use serde::{Deserialize, Serialize};

/// What the app asks to store. Every field is optional; see [`select`] for the rules and the
/// defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(optional_fields))]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SelectOptions {
    /// Preferred audio language (the original API's `language`).
    pub language: Option<String>,
    /// Target video bitrate in bits per second (the original API's `bitrate`).
    pub bitrate: Option<u64>,
    /// Audio languages to store (as the native SDKs offer); adds to `language`.
    pub audio_languages: Option<Vec<String>>,
    /// Text languages to store; all text tracks when absent.
    pub text_languages: Option<Vec<String>>,
    /// Preferred video height in pixels (closest wins).
    pub video_height: Option<u32>,
    /// Highest video height allowed.
    pub max_height: Option<u32>,
    /// Target video bitrate; same as `bitrate`, which wins when both are given.
    pub video_bitrate: Option<u64>,
    /// Store thumbnail (image) tracks too.
    #[cfg_attr(feature = "ts", ts(as = "Option<bool>"))]
    pub thumbnails: bool,
    /// Codecs the browser can play (prefixes such as `avc1`, `mp4a`, `vp09`); representations with
    /// other codecs are never chosen. All codecs when absent. The app's explicit word: an audio or
    /// video representation it names is chosen even where `playable` leaves it out.
    pub codecs: Option<Vec<String>>,
    /// The audio and video types (`mimeType` + `codecs`) this browser plays, as the page probed
    /// them with `MediaSource.isTypeSupported`; representations of other types are never chosen
    /// (unless `codecs` names them). Every type when absent: the page has no MSE to ask.
    pub playable: Option<Vec<MediaType>>,
    /// Origins (`https://cdn2.example.com`) segment requests may be redirected to, besides the
    /// manifest's and its BaseURLs' origins; `["*"]` allows any. Not a selection rule: it rides
    /// with the options so it is kept with the entry and applies on every resume.
    pub redirect_origins: Option<Vec<String>>,
    /// Requests in flight at once for this download (1 to the engine's `MAX_CONCURRENCY`; its
    /// `DEFAULT_CONCURRENCY` when absent). Not a selection rule either.
    pub concurrency: Option<u32>,
    /// Hand the download to the browser's Background Fetch where it has one, so it finishes
    /// with every page closed (the foreground engine elsewhere; the entry's `mode` says which).
    /// Not a selection rule.
    pub background: Option<bool>,
    /// Every representation of every kind (for inspection tools such as `dash-plan`; never taken
    /// from a page's request).
    #[serde(skip)]
    pub all: bool,
}

/// Picks the representations to store, per period:
/// - video: among playable representations no taller than `maxHeight`, the one closest to
///   `videoHeight`, else the one whose bandwidth is closest to `bitrate`/`videoBitrate`, else the
///   highest bandwidth;
/// - audio: every AdaptationSet whose `lang` is `language` or in `audioLanguages` (every audio
///   set when none matches or no language is given), the highest playable bandwidth of each;
/// - text: every text representation, or those in `textLanguages`;
/// - image: only with `thumbnails`, the highest-bandwidth one.
///
/// Playable audio and video passes `codecs` and the browser probe (`playable`); a representation
/// that depends on others (`@dependencyId`) is a candidate only when they are too, and then they
/// are stored with it.
pub fn select<'m>(manifest: &'m Manifest, options: &SelectOptions) -> Vec<&'m Track> {
    if options.all {
        return manifest.tracks().map(|(_, t)| t).collect();
    }
    let mut chosen = Vec::new();
    for period in &manifest.periods {
        let deps = Dependencies::of(manifest, period);
        let eligible = |t: &&Track| deps.eligible(t, options);
        let mut picked = Vec::new();
        if let Some(v) = pick_video(of(period, TrackKind::Video).filter(eligible), options) {
            picked.push(v);
        }
        picked.extend(pick_audio(period, &eligible, options));
        picked.extend(of(period, TrackKind::Text).filter(eligible).filter(|t| {
            match &options.text_languages {
                Some(langs) => t
                    .lang
                    .as_deref()
                    .is_some_and(|l| langs.iter().any(|w| lang_eq(w, l))),
                None => true,
            }
        }));
        if options.thumbnails {
            if let Some(img) = of(period, TrackKind::Image)
                .filter(eligible)
                .max_by_key(|t| t.bandwidth)
            {
                picked.push(img);
            }
        }
        chosen.extend(deps.close(picked));
    }
    chosen
}

fn of(period: &Period, kind: TrackKind) -> impl Iterator<Item = &Track> {
    period.tracks.iter().filter(move |t| t.kind == kind)
}

fn pick_video<'m>(tracks: impl Iterator<Item = &'m Track>, o: &SelectOptions) -> Option<&'m Track> {
    let fits: Vec<&Track> = tracks
        .filter(|t| match (o.max_height, t.height) {
            (Some(max), Some(h)) => h <= max,
            _ => true,
        })
        .collect();
    let bitrate = o.bitrate.or(o.video_bitrate);
    let by_bitrate = |t: &&&Track| bitrate.map_or(0, |b| t.bandwidth.abs_diff(b));
    match (o.video_height, bitrate) {
        (Some(h), _) => fits
            .iter()
            .min_by_key(|t| {
                (
                    t.height.map_or(u32::MAX, |th| th.abs_diff(h)),
                    by_bitrate(t),
                    std::cmp::Reverse(t.bandwidth),
                )
            })
            .copied(),
        (None, Some(_)) => fits.iter().min_by_key(by_bitrate).copied(),
        (None, None) => fits.iter().max_by_key(|t| t.bandwidth).copied(),
    }
}

fn pick_audio<'m>(
    period: &'m Period,
    eligible: &impl Fn(&&Track) -> bool,
    o: &SelectOptions,
) -> Vec<&'m Track> {
    let wanted: Vec<&str> = o
        .language
        .iter()
        .chain(o.audio_languages.iter().flatten())
        .map(String::as_str)
        .collect();
    let matches = |t: &Track| {
        t.lang
            .as_deref()
            .is_some_and(|l| wanted.iter().any(|w| lang_eq(w, l)))
    };
    let audio: Vec<&Track> = of(period, TrackKind::Audio).filter(eligible).collect();
    let any_match = audio.iter().any(|t| matches(t));
    let mut out: Vec<&Track> = Vec::new();
    for t in audio.iter().filter(|t| !any_match || matches(t)) {
        match out.iter_mut().find(|c| c.adaptation == t.adaptation) {
            Some(best) if best.bandwidth < t.bandwidth => *best = t,
            Some(_) => {}
            None => out.push(t),
        }
    }
    out
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
        "swe" => "sv",
        "kor" => "ko",
        "hin" => "hi",
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
