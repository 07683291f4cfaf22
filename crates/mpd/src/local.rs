//! Writes the local manifest: static, only the selected representations, each addressed by a
//! SegmentTemplate + SegmentTimeline whose URLs are relative paths served by the worker.
//!
//! Every addressing form maps onto this one local form, with the source's timescale,
//! presentationTimeOffset and segment times kept exactly, so players see the same timeline.

use crate::error::MpdError;
use crate::model::Manifest;
use crate::plan::{Plan, TrackPlan};
use crate::xml::{write, Element};

/// Child elements that locate or address media in the source and are replaced locally.
const REPLACED: [&str; 6] = [
    "BaseURL",
    "SegmentTemplate",
    "SegmentList",
    "SegmentBase",
    "Location",
    "PatchLocation",
];

/// The local MPD text for `plan`. Segment `k` of track `T` is at `T/k` (init at `T/0`),
/// relative to the manifest's own URL. The source tree is copied selectively: the segment
/// information of the source (which can be most of a long manifest) is never cloned.
pub fn local_manifest(manifest: &Manifest, plan: &Plan) -> String {
    let src = &manifest.root;
    let mut root = shell(src);
    root.attrs.retain(|(k, _)| {
        !matches!(
            k.as_str(),
            "availabilityStartTime" | "minimumUpdatePeriod" | "timeShiftBufferDepth"
        )
    });
    set_attr(&mut root, "type", "static");
    let mut pi = 0usize;
    for child in &src.children {
        match child.local_name() {
            "Period" => {
                if let Some(p) = copy_period(child, pi, plan) {
                    root.children.push(p);
                }
                // A count of the children of a parsed element.
                pi = pi.saturating_add(1);
            }
            "UTCTiming" => {}
            name if REPLACED.contains(&name) => {}
            _ => root.children.push(child.clone()),
        }
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write(&root, &mut out);
    out
}

/// The element with its attributes and text but no children.
fn shell(el: &Element) -> Element {
    Element {
        name: el.name.clone(),
        attrs: el.attrs.clone(),
        children: Vec::new(),
        text: el.text.clone(),
    }
}

fn copy_period(period: &Element, pi: usize, plan: &Plan) -> Option<Element> {
    let mut out = shell(period);
    let mut ai = 0usize;
    for child in &period.children {
        match child.local_name() {
            "AdaptationSet" => {
                if let Some(set) = copy_set(child, pi, ai, plan) {
                    out.children.push(set);
                }
                // A count of the children of a parsed element.
                ai = ai.saturating_add(1);
            }
            name if REPLACED.contains(&name) => {}
            _ => out.children.push(child.clone()),
        }
    }
    out.children
        .iter()
        .any(|c| c.local_name() == "AdaptationSet")
        .then_some(out)
}

fn copy_set(set: &Element, pi: usize, ai: usize, plan: &Plan) -> Option<Element> {
    let mut out = shell(set);
    let mut ri = 0usize;
    for child in &set.children {
        match child.local_name() {
            "Representation" => {
                let key = crate::plan::track_key(pi, ai, ri);
                ri = ri.saturating_add(1);
                if let Some(track) = plan.tracks.iter().find(|t| t.key == key) {
                    let mut rep = shell(child);
                    rep.children = child
                        .children
                        .iter()
                        .filter(|c| !REPLACED.contains(&c.local_name()))
                        .cloned()
                        .collect();
                    rep.children.push(template_for(track));
                    out.children.push(rep);
                }
            }
            name if REPLACED.contains(&name) => {}
            _ => out.children.push(child.clone()),
        }
    }
    out.children
        .iter()
        .any(|c| c.local_name() == "Representation")
        .then_some(out)
}

/// Where segment `index` of track `key` lives, relative to the local manifest: `{key}/{index}`
/// (the init segment is index 0; `index` is `$Number$` in the manifest's template). The worker's
/// URL layout is built on it.
pub fn segment_path(key: &str, index: impl std::fmt::Display) -> String {
    format!("{key}/{index}")
}

fn template_for(track: &TrackPlan) -> Element {
    let mut attrs = vec![
        ("timescale".to_string(), track.timescale.to_string()),
        ("presentationTimeOffset".to_string(), track.pto.to_string()),
        ("startNumber".to_string(), "1".to_string()),
        ("media".to_string(), segment_path(&track.key, "$Number$")),
    ];
    // A shared init segment is stored once, under the track that first has it.
    if let Some(owner) = track.init_track() {
        attrs.push(("initialization".to_string(), segment_path(owner, 0)));
    }
    let timeline = timeline_of(&track.segments);
    Element {
        name: "SegmentTemplate".into(),
        attrs,
        children: vec![timeline],
        text: String::new(),
    }
}

/// The `SegmentTimeline` of `segments`: their media times and durations exactly, runs of equal
/// durations that follow each other as one `S` with a repeat count.
pub(crate) fn timeline_of(segments: &[crate::segments::Segment]) -> Element {
    let mut timeline = Element {
        name: "SegmentTimeline".into(),
        ..Element::default()
    };
    // Runs of equal durations, each segment starting where the previous one ended, become one
    // `S` with a repeat count.
    let mut runs: Vec<(u64, u64, u64)> = Vec::new();
    for seg in segments {
        match runs.last_mut() {
            Some((t, d, r))
                if *d == seg.d
                    && r.checked_add(1)
                        .and_then(|n| n.checked_mul(*d))
                        .and_then(|len| t.checked_add(len))
                        == Some(seg.t) =>
            {
                *r = r.saturating_add(1);
            }
            _ => runs.push((seg.t, seg.d, 0)),
        }
    }
    for (t, d, r) in runs {
        let mut s = vec![
            ("t".to_string(), t.to_string()),
            ("d".to_string(), d.to_string()),
        ];
        if r > 0 {
            s.push(("r".to_string(), r.to_string()));
        }
        timeline.children.push(Element {
            name: "S".into(),
            attrs: s,
            ..Element::default()
        });
    }
    timeline
}

/// ClearKey's DASH system id, as players compare it (lower case).
pub const CLEARKEY_SCHEME: &str = "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e";
/// The namespace of `dashif:Laurl`, read by shaka-player and dash.js.
const DASHIF_NS: &str = "https://dashif.org/CPS";
/// The namespace of `clearkey:Laurl` (`Lic_type="EME-1.0"`), read by older players and by
/// shaka-player and dash.js too.
const CLEARKEY_NS: &str = "http://dashif.org/guidelines/clearKey";

/// The local manifest text `local` with its ClearKey licence URL set to `license_url` (the
/// worker's licence endpoint), so that players start stored ClearKey content with no DRM
/// configuration of their own. Every ClearKey ContentProtection gets `license_url` in place of
/// any licence URL it had (a remote one would fail offline); every AdaptationSet or
/// Representation with a `cenc:default_KID` but no ClearKey ContentProtection gets one (content
/// whose manifest names only mp4protection). Only for entries whose licence the worker keeps:
/// Widevine/PlayReady entries keep their manifest's ContentProtection as it is.
///
/// Both licence URL forms are written since players read different ones: shaka-player 5 reads
/// `dashif:Laurl` (exactly one, capital L) and else `clearkey:Laurl` with `Lic_type="EME-1.0"`;
/// dash.js 5 reads a `Laurl` (or `laurl`) child with the `dashif`, `clearkey` or `ck` prefix.
pub fn with_local_clearkey(local: &str, license_url: &str) -> Result<String, MpdError> {
    let mut root = crate::xml::parse(local)?;
    for period in root
        .children
        .iter_mut()
        .filter(|c| c.local_name() == "Period")
    {
        for set in period
            .children
            .iter_mut()
            .filter(|c| c.local_name() == "AdaptationSet")
        {
            point_clearkey_at(set, license_url);
            for rep in set
                .children
                .iter_mut()
                .filter(|c| c.local_name() == "Representation")
            {
                point_clearkey_at(rep, license_url);
            }
        }
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write(&root, &mut out);
    Ok(out)
}

fn is_clearkey(cp: &Element) -> bool {
    cp.local_name() == "ContentProtection"
        && cp
            .attr("schemeIdUri")
            .is_some_and(|s| s.trim().eq_ignore_ascii_case(CLEARKEY_SCHEME))
}

/// Rewrites the ClearKey ContentProtection children of one AdaptationSet or Representation, or
/// adds one after its last ContentProtection when it names a key id and has none.
fn point_clearkey_at(level: &mut Element, license_url: &str) {
    let mut has_clearkey = false;
    for cp in level.children.iter_mut().filter(|c| is_clearkey(c)) {
        has_clearkey = true;
        set_attr(cp, "schemeIdUri", CLEARKEY_SCHEME);
        cp.children
            .retain(|c| !c.local_name().eq_ignore_ascii_case("laurl"));
        cp.children.extend(license_urls(license_url));
    }
    let names_kid = level.children.iter().any(|c| {
        c.local_name() == "ContentProtection"
            && c.attr("default_KID").is_some_and(|k| !k.trim().is_empty())
    });
    if has_clearkey || !names_kid {
        return;
    }
    let cp = Element {
        name: "ContentProtection".into(),
        attrs: vec![
            ("schemeIdUri".into(), CLEARKEY_SCHEME.into()),
            ("value".into(), "ClearKey1.0".into()),
        ],
        children: Vec::from(license_urls(license_url)),
        text: String::new(),
    };
    let at = level
        .children
        .iter()
        .rposition(|c| c.local_name() == "ContentProtection")
        .map_or(0, |i| i.saturating_add(1));
    level.children.insert(at, cp);
}

/// `<dashif:Laurl>` and `<clearkey:Laurl Lic_type="EME-1.0">`, each declaring its namespace so
/// that it is well-formed wherever it is put.
fn license_urls(url: &str) -> [Element; 2] {
    let laurl = |prefix: &str, ns: &str, extra: &[(&str, &str)]| {
        let mut attrs = vec![(format!("xmlns:{prefix}"), ns.to_string())];
        attrs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Element {
            name: format!("{prefix}:Laurl"),
            attrs,
            children: Vec::new(),
            text: url.to_string(),
        }
    };
    [
        laurl("dashif", DASHIF_NS, &[]),
        laurl("clearkey", CLEARKEY_NS, &[("Lic_type", "EME-1.0")]),
    ]
}

fn set_attr(el: &mut Element, name: &str, value: &str) {
    match el.attrs.iter_mut().find(|(k, _)| k == name) {
        Some((_, v)) => *v = value.to_string(),
        None => el.attrs.push((name.to_string(), value.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    const LICENSE: &str = "https://app.example/__offline__/film%201/license";
    const KID: &str = "10000000-1000-1000-1000-100000000001";

    /// The local manifest of a one-period stream whose video set carries `protection`.
    fn local_with(protection: &str, rep_protection: &str) -> String {
        let text = format!(
            r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:cenc="urn:mpeg:cenc:2013" xmlns:dashif="https://dashif.org/CPS" type="static" mediaPresentationDuration="PT8S"><Period>
            <AdaptationSet mimeType="video/mp4">{protection}
              <Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>
              <Representation id="v" codecs="avc1.64001f" bandwidth="1">{rep_protection}<SegmentTemplate media="$Number$.m4s" duration="4"/></Representation>
            </AdaptationSet>
            <AdaptationSet mimeType="audio/mp4"><Representation id="a" codecs="mp4a.40.2" bandwidth="1"><SegmentTemplate media="a$Number$.m4s" duration="4"/></Representation></AdaptationSet>
            </Period></MPD>"#
        );
        let url = Url::parse("https://cdn.example/m.mpd").unwrap();
        crate::plan::plan_manifest(&text, &url, &crate::SelectOptions::default())
            .unwrap()
            .1
    }

    fn mp4protection() -> String {
        format!(
            r#"<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="{KID}"/>"#
        )
    }

    fn laurls() -> String {
        let url = LICENSE.replace('&', "&amp;");
        format!(
            r#"<dashif:Laurl xmlns:dashif="https://dashif.org/CPS">{url}</dashif:Laurl><clearkey:Laurl xmlns:clearkey="http://dashif.org/guidelines/clearKey" Lic_type="EME-1.0">{url}</clearkey:Laurl>"#
        )
    }

    #[test]
    fn a_clearkey_content_protection_pointing_at_the_worker_is_added_beside_the_key_id() {
        let out = with_local_clearkey(&local_with(&mp4protection(), ""), LICENSE).unwrap();
        let expected = format!(
            r#"{}<ContentProtection schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" value="ClearKey1.0">{}</ContentProtection><Role "#,
            mp4protection(),
            laurls()
        );
        assert!(out.contains(&expected), "{out}");
        assert_eq!(
            out.matches("ClearKey1.0").count(),
            1,
            "the clear audio set gets none"
        );
        // What the players read: the parser of this crate sees the local licence URL too.
        let m = Manifest::parse(&out, &Url::parse(LICENSE).unwrap()).unwrap();
        let video = &m.periods[0].tracks[0].info.protection;
        assert_eq!(video[1].scheme, CLEARKEY_SCHEME);
        assert_eq!(video[1].license_url.as_deref(), Some(LICENSE));
    }

    #[test]
    fn a_remote_clearkey_licence_url_is_replaced_by_the_local_one() {
        let remote = format!(
            r#"{}<ContentProtection schemeIdUri="urn:uuid:E2719D58-A985-B3C9-781A-B030AF78D30E" value="ClearKey1.0"><dashif:laurl>https://lic.example/ck?a=1&amp;b=2</dashif:laurl><cenc:pssh>AAAA</cenc:pssh></ContentProtection>"#,
            mp4protection()
        );
        let out = with_local_clearkey(&local_with(&remote, ""), LICENSE).unwrap();
        assert!(!out.contains("lic.example"), "{out}");
        let expected = format!(
            r#"<ContentProtection schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" value="ClearKey1.0"><cenc:pssh>AAAA</cenc:pssh>{}</ContentProtection>"#,
            laurls()
        );
        assert!(out.contains(&expected), "{out}");
        assert_eq!(
            out.matches("ClearKey1.0").count(),
            1,
            "no second ClearKey element"
        );
        assert_eq!(
            out.matches("dashif:Laurl xmlns").count(),
            1,
            "exactly one dashif:Laurl"
        );
    }

    #[test]
    fn a_key_id_named_on_the_representation_gets_its_clearkey_there() {
        let out = with_local_clearkey(&local_with("", &mp4protection()), LICENSE).unwrap();
        let expected = format!(
            r#"{}<ContentProtection schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" value="ClearKey1.0">{}</ContentProtection><SegmentTemplate"#,
            mp4protection(),
            laurls()
        );
        assert!(out.contains(&expected), "{out}");
    }

    #[test]
    fn clear_content_is_written_unchanged() {
        let local = local_with("", "");
        assert_eq!(with_local_clearkey(&local, LICENSE).unwrap(), local);
    }

    #[test]
    fn the_licence_url_is_escaped_in_the_text() {
        let out = with_local_clearkey(
            &local_with(&mp4protection(), ""),
            "https://a.example/l?x=1&y=<2>",
        )
        .unwrap();
        assert!(
            out.contains(">https://a.example/l?x=1&amp;y=&lt;2&gt;</dashif:Laurl>"),
            "{out}"
        );
    }
}
