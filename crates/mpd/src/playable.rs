//! What this browser can play: the MSE types a manifest offers (the page probes them with
//! `MediaSource.isTypeSupported`, since only the page can), the rule that keeps the probe's
//! refusals out of the selection, and representations that depend on others (`@dependencyId`).
//!
//! A stored entry no player can start is worse than a refused download: selection skips audio and
//! video the probe refused, and a period left with none of one kind is refused with its codecs
//! named.

use crate::model::{Manifest, Period, Track, TrackKind};
use crate::select::SelectOptions;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// One MSE type: the page tests `{mimeType}; codecs="{codecs}"` (the MIME type alone when
/// `codecs` is empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MediaType {
    /// `@mimeType` (inherited from the AdaptationSet).
    pub mime_type: String,
    /// `@codecs` (inherited), as written.
    #[serde(default)]
    pub codecs: String,
}

impl MediaType {
    fn of(track: &Track) -> MediaType {
        MediaType {
            mime_type: track.mime_type.clone(),
            codecs: track.codecs.clone(),
        }
    }

    /// Same type, ignoring ASCII case and surrounding spaces (pages echo what they were sent,
    /// but MIME types are case-insensitive).
    fn matches(&self, track: &Track) -> bool {
        self.mime_type
            .trim()
            .eq_ignore_ascii_case(track.mime_type.trim())
            && self.codecs.trim().eq_ignore_ascii_case(track.codecs.trim())
    }
}

/// Whether a track goes through MSE, so the probe speaks for it. Text tracks (WebVTT, TTML,
/// `stpp`/`wvtt` in MP4) and thumbnails are rendered by the player, not by MSE.
fn is_mse(track: &Track) -> bool {
    matches!(track.kind, TrackKind::Video | TrackKind::Audio)
}

/// The distinct types of the manifest's audio and video representations, in document order: what
/// the page probes before it downloads.
pub fn media_types(manifest: &Manifest) -> Vec<MediaType> {
    let mut out: Vec<MediaType> = Vec::new();
    for (_, t) in manifest.tracks().filter(|(_, t)| is_mse(t)) {
        if !out.iter().any(|m| m.matches(t)) {
            out.push(MediaType::of(t));
        }
    }
    out
}

/// Every codec of the representation starts with one of the `codecs` prefixes.
pub(crate) fn codecs_match(track: &Track, allowed: &[String]) -> bool {
    track
        .codecs
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .all(|c| {
            allowed
                .iter()
                .any(|a| c.to_ascii_lowercase().starts_with(&a.to_ascii_lowercase()))
        })
}

/// The browser's verdict on an audio or video track: in the probe's `playable` list, or named by
/// the app's own `codecs` (the app's explicit word wins over the probe). Always true without a
/// probe.
fn probe_allows(track: &Track, options: &SelectOptions) -> bool {
    let Some(playable) = &options.playable else {
        return true;
    };
    playable.iter().any(|m| m.matches(track))
        || options
            .codecs
            .as_deref()
            .is_some_and(|c| codecs_match(track, c))
}

/// Whether a track may be chosen on its own merits: audio and video pass the `codecs` filter and
/// the probe; text and images keep their own rules (see [`crate::select::select`]).
fn own_merits(track: &Track, options: &SelectOptions) -> bool {
    if !is_mse(track) {
        return true;
    }
    options
        .codecs
        .as_deref()
        .is_none_or(|c| codecs_match(track, c))
        && probe_allows(track, options)
}

/// The representations of one period and what each depends on.
pub(crate) struct Dependencies<'m> {
    /// Track key → the tracks named in its `@dependencyId`; `None` when one of them is not in the
    /// period (the track cannot be decoded, so it is never chosen).
    bases: HashMap<&'m str, Option<Vec<&'m Track>>>,
}

impl<'m> Dependencies<'m> {
    /// Reads `@dependencyId` (a space-separated list of `Representation@id`s of the same period)
    /// from the document, since the model keeps only what every track has.
    pub(crate) fn of(manifest: &'m Manifest, period: &'m Period) -> Dependencies<'m> {
        let mut bases = HashMap::new();
        let Some(el) = manifest.root.children_named("Period").nth(period.index) else {
            return Dependencies { bases };
        };
        for (ai, set) in el.children_named("AdaptationSet").enumerate() {
            for (ri, rep) in set.children_named("Representation").enumerate() {
                let Some(ids) = rep.attr("dependencyId").filter(|v| !v.trim().is_empty()) else {
                    continue;
                };
                let Some(track) = period
                    .tracks
                    .iter()
                    .find(|t| t.adaptation == ai && t.representation == ri)
                else {
                    continue;
                };
                let found: Option<Vec<&Track>> = ids
                    .split_ascii_whitespace()
                    .map(|id| {
                        period
                            .tracks
                            .iter()
                            .find(|t| t.id == id && t.key != track.key)
                    })
                    .collect();
                bases.insert(track.key.as_str(), found);
            }
        }
        Dependencies { bases }
    }

    /// Whether `track` can be chosen: on its own merits, and with everything it depends on
    /// resolvable and choosable too (a dependent representation never comes without its base).
    pub(crate) fn eligible(&self, track: &Track, options: &SelectOptions) -> bool {
        self.holds(track, &|t| own_merits(t, options), 0)
    }

    /// Whether `own` holds for `track` and for everything it depends on.
    fn holds(&self, track: &Track, own: &dyn Fn(&Track) -> bool, depth: usize) -> bool {
        // Dependency chains are a layer or two deep; a longer one is a cycle.
        if depth > 8 || !own(track) {
            return false;
        }
        match self.bases.get(track.key.as_str()) {
            None => true,
            Some(None) => false,
            Some(Some(bases)) => bases
                .iter()
                .all(|b| self.holds(b, own, depth.saturating_add(1))),
        }
    }

    /// `chosen` with every base of a chosen track added after it (once), so that each stored
    /// dependent representation has what it is decoded with.
    pub(crate) fn close(&self, chosen: Vec<&'m Track>) -> Vec<&'m Track> {
        let mut out: Vec<&'m Track> = Vec::with_capacity(chosen.len());
        let mut todo: Vec<&'m Track> = chosen.into_iter().rev().collect();
        while let Some(t) = todo.pop() {
            if out.iter().any(|o| o.key == t.key) {
                continue;
            }
            out.push(t);
            if let Some(Some(bases)) = self.bases.get(t.key.as_str()) {
                todo.extend(bases.iter().rev());
            }
        }
        out
    }
}

/// A period whose video or audio this browser cannot play at all: no representation of that kind
/// passed the probe (nor was named by the app's `codecs`) together with what it depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct Unplayable {
    /// Period index.
    pub period: usize,
    /// Video or audio.
    pub kind: TrackKind,
    /// The types of that kind the period offers.
    pub offered: Vec<MediaType>,
}

impl fmt::Display for Unplayable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            TrackKind::Audio => "audio",
            _ => "video",
        };
        let offered: Vec<String> = self
            .offered
            .iter()
            .map(|m| match m.codecs.as_str() {
                "" => m.mime_type.clone(),
                c => format!("{} codecs \"{c}\"", m.mime_type),
            })
            .collect();
        write!(
            f,
            "this browser plays none of the {kind} of period {} (it offers {})",
            self.period,
            offered.join(", ")
        )
    }
}

impl std::error::Error for Unplayable {}

/// The first period that offers video or audio of which the probe allows none. `None` without a
/// probe (`playable` absent): then nothing is known about the browser.
pub fn unplayable(manifest: &Manifest, options: &SelectOptions) -> Option<Unplayable> {
    options.playable.as_ref()?;
    let allowed = |t: &Track| probe_allows(t, options);
    for period in &manifest.periods {
        let deps = Dependencies::of(manifest, period);
        for kind in [TrackKind::Video, TrackKind::Audio] {
            let of_kind: Vec<&Track> = period.tracks.iter().filter(|t| t.kind == kind).collect();
            if !of_kind.is_empty() && !of_kind.iter().any(|t| deps.holds(t, &allowed, 0)) {
                let mut offered: Vec<MediaType> = Vec::new();
                for t in of_kind {
                    if !offered.iter().any(|m| m.matches(t)) {
                        offered.push(MediaType::of(t));
                    }
                }
                return Some(Unplayable {
                    period: period.index,
                    kind,
                    offered,
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::select;
    use url::Url;

    /// A dual-track LCEVC stream: an `avc1` base, an `lvc1` enhancement depending on it (the
    /// higher bandwidth, so today's rule would pick it), AAC audio, WebVTT text and thumbnails.
    fn lcevc(enhancement_set: bool) -> String {
        let seg = r#"<SegmentTemplate media="$RepresentationID$/$Number$.m4s" duration="4"/>"#;
        let enhancement = format!(
            r#"<Representation id="lvc" codecs="lvc1" dependencyId="base" bandwidth="3000000" width="1920" height="1080">{seg}</Representation>"#
        );
        let (same, other) = if enhancement_set {
            (
                String::new(),
                format!(r#"<AdaptationSet mimeType="video/mp4">{enhancement}</AdaptationSet>"#),
            )
        } else {
            (enhancement, String::new())
        };
        format!(
            r#"<MPD type="static" mediaPresentationDuration="PT8S"><Period>
            <AdaptationSet mimeType="video/mp4">
              <Representation id="base" codecs="avc1.64001f" bandwidth="1000000" width="960" height="540">{seg}</Representation>
              {same}
            </AdaptationSet>
            {other}
            <AdaptationSet mimeType="audio/mp4" lang="en"><Representation id="aac" codecs="mp4a.40.2" bandwidth="128000">{seg}</Representation></AdaptationSet>
            <AdaptationSet mimeType="text/vtt" lang="en"><Representation id="subs" bandwidth="1"><BaseURL>en.vtt</BaseURL></Representation></AdaptationSet>
            <AdaptationSet mimeType="image/jpeg" contentType="image"><Representation id="thumbs" bandwidth="1000">{seg}</Representation></AdaptationSet>
            </Period></MPD>"#
        )
    }

    fn manifest(text: &str) -> Manifest {
        Manifest::parse(text, &Url::parse("https://cdn.example/m.mpd").unwrap()).unwrap()
    }

    fn ty(mime: &str, codecs: &str) -> MediaType {
        MediaType {
            mime_type: mime.into(),
            codecs: codecs.into(),
        }
    }

    /// What Chromium without an LCEVC decoder answers for the stream above.
    fn chromium() -> Option<Vec<MediaType>> {
        Some(vec![
            ty("video/mp4", "avc1.64001f"),
            ty("audio/mp4", "mp4a.40.2"),
        ])
    }

    fn ids(m: &Manifest, o: &SelectOptions) -> Vec<String> {
        select(m, o).iter().map(|t| t.id.clone()).collect()
    }

    #[test]
    fn an_unplayable_enhancement_layer_is_not_chosen_by_default() {
        for separate in [false, true] {
            let m = manifest(&lcevc(separate));
            let o = SelectOptions {
                playable: chromium(),
                ..SelectOptions::default()
            };
            assert_eq!(
                ids(&m, &o),
                ["base", "aac", "subs"],
                "separate set: {separate}"
            );
            assert_eq!(unplayable(&m, &o), None);
        }
    }

    #[test]
    fn a_chosen_dependent_representation_brings_its_base_with_it() {
        let m = manifest(&lcevc(true));
        // No probe (a page without MSE): today's rule picks the enhancement, and its base comes.
        assert_eq!(
            ids(&m, &SelectOptions::default()),
            ["lvc", "base", "aac", "subs"]
        );
        // The probe says this browser decodes lvc1 too.
        let mut playable = chromium().unwrap();
        playable.push(ty("video/mp4", "lvc1"));
        let o = SelectOptions {
            playable: Some(playable),
            ..SelectOptions::default()
        };
        assert_eq!(ids(&m, &o), ["lvc", "base", "aac", "subs"]);
    }

    #[test]
    fn the_apps_codecs_option_names_what_the_probe_left_out() {
        let m = manifest(&lcevc(false));
        let o = SelectOptions {
            playable: chromium(),
            codecs: Some(vec!["avc1".into(), "lvc1".into(), "mp4a".into()]),
            ..SelectOptions::default()
        };
        assert_eq!(ids(&m, &o), ["lvc", "base", "aac", "subs"]);
    }

    #[test]
    fn a_dependent_representation_never_comes_without_its_base() {
        // The base is missing from the period.
        let m = manifest(&lcevc(true).replace(r#"dependencyId="base""#, r#"dependencyId="gone""#));
        assert_eq!(ids(&m, &SelectOptions::default()), ["base", "aac", "subs"]);
        // The base is excluded by the app's codecs: the dependent one is not chosen either.
        let m = manifest(&lcevc(true));
        let o = SelectOptions {
            codecs: Some(vec!["lvc1".into(), "mp4a".into()]),
            ..SelectOptions::default()
        };
        assert_eq!(ids(&m, &o), ["aac", "subs"]);
        // A dependency cycle never resolves.
        let cyclic = lcevc(true).replace(
            r#"id="base" codecs"#,
            r#"id="base" dependencyId="lvc" codecs"#,
        );
        assert_eq!(
            ids(&manifest(&cyclic), &SelectOptions::default()),
            ["aac", "subs"]
        );
    }

    #[test]
    fn text_and_thumbnail_tracks_are_not_probed_and_keep_their_rules() {
        let m = manifest(&lcevc(true));
        assert_eq!(
            media_types(&m),
            [
                ty("video/mp4", "avc1.64001f"),
                ty("video/mp4", "lvc1"),
                ty("audio/mp4", "mp4a.40.2")
            ]
        );
        let o = SelectOptions {
            playable: chromium(),
            thumbnails: true,
            ..SelectOptions::default()
        };
        assert_eq!(ids(&m, &o), ["base", "aac", "subs", "thumbs"]);
    }

    #[test]
    fn a_period_with_no_playable_video_is_refused_naming_its_codecs() {
        let m = manifest(&lcevc(true));
        let o = SelectOptions {
            playable: Some(vec![ty("audio/mp4", "mp4a.40.2")]),
            ..SelectOptions::default()
        };
        let why = unplayable(&m, &o).unwrap();
        assert_eq!((why.period, why.kind), (0, TrackKind::Video));
        let text = why.to_string();
        assert!(text.contains(r#"video/mp4 codecs "avc1.64001f""#), "{text}");
        assert!(text.contains(r#"video/mp4 codecs "lvc1""#), "{text}");
        // Only the enhancement passes the probe, but not its base: still nothing to play.
        let o = SelectOptions {
            playable: Some(vec![ty("video/mp4", "lvc1"), ty("audio/mp4", "mp4a.40.2")]),
            ..SelectOptions::default()
        };
        assert_eq!(unplayable(&m, &o).map(|u| u.kind), Some(TrackKind::Video));
        // Audio the browser cannot play is refused too, rather than stored as a silent film.
        let o = SelectOptions {
            playable: Some(vec![ty("video/mp4", "avc1.64001f")]),
            ..SelectOptions::default()
        };
        assert_eq!(unplayable(&m, &o).map(|u| u.kind), Some(TrackKind::Audio));
        // Without a probe nothing is known about the browser.
        assert_eq!(unplayable(&m, &SelectOptions::default()), None);
    }

    #[test]
    fn an_app_that_excludes_audio_by_codecs_is_not_refused() {
        let m = manifest(&lcevc(true));
        let o = SelectOptions {
            playable: chromium(),
            codecs: Some(vec!["avc1".into()]),
            ..SelectOptions::default()
        };
        assert_eq!(unplayable(&m, &o), None);
        assert_eq!(ids(&m, &o), ["base", "subs"]);
    }

    #[test]
    fn the_probe_answer_parses_from_the_download_options() {
        let o: SelectOptions = serde_json::from_str(
            r#"{"playable":[{"mimeType":"video/mp4","codecs":"avc1.64001f"},{"mimeType":"audio/mp4"}]}"#,
        )
        .unwrap();
        assert_eq!(
            o.playable.unwrap(),
            [ty("video/mp4", "avc1.64001f"), ty("audio/mp4", "")]
        );
        assert!(serde_json::from_str::<SelectOptions>(
            r#"{"playable":[{"mimeType":"video/mp4","codecs":"x","extra":1}]}"#
        )
        .is_err());
    }
}
