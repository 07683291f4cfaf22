//! Addressing forms real streams use beyond the common ones: shared init segments, xlink
//! periods, hierarchical sidx and `SegmentTemplate@index`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

use mpd::{plan_manifest, MpdError, Plan, Planner, SelectOptions, Xlinks};
use std::collections::HashMap;
use url::Url;

const BASE: &str = "https://cdn.example/a/manifest.mpd";

fn base() -> Url {
    Url::parse(BASE).unwrap()
}

fn all() -> SelectOptions {
    SelectOptions {
        all: true,
        ..SelectOptions::default()
    }
}

fn plan_all(doc: &str) -> (Plan, String) {
    plan_manifest(doc, &base(), &all()).unwrap()
}

/// Two periods of one stream packaged with one init segment, and a second representation whose
/// init differs.
const TWO_PERIODS_ONE_INIT: &str = r#"<MPD type="static" mediaPresentationDuration="PT8S">
  <Period id="a" duration="PT4S"><AdaptationSet mimeType="video/mp4">
    <Representation id="v" bandwidth="1"><SegmentTemplate initialization="init.mp4" media="a$Number$.m4s" duration="2"/></Representation>
    <Representation id="w" bandwidth="2"><SegmentTemplate initialization="init-w.mp4" media="w$Number$.m4s" duration="2"/></Representation>
  </AdaptationSet></Period>
  <Period id="b" duration="PT4S"><AdaptationSet mimeType="video/mp4">
    <Representation id="v" bandwidth="1"><SegmentTemplate initialization="init.mp4" media="b$Number$.m4s" duration="2"/></Representation>
  </AdaptationSet></Period>
</MPD>"#;

#[test]
fn an_init_segment_several_tracks_share_is_stored_once_under_the_first_track() {
    let (plan, local) = plan_all(TWO_PERIODS_ONE_INIT);
    let keys: Vec<(&str, Option<&str>)> = plan
        .tracks
        .iter()
        .map(|t| (t.key.as_str(), t.init_from.as_deref()))
        .collect();
    assert_eq!(
        keys,
        [
            ("p0a0r0", None),
            ("p0a0r1", None),
            ("p1a0r0", Some("p0a0r0"))
        ]
    );
    let inits: Vec<(&str, u32, &str)> = plan
        .items()
        .filter(|i| i.index == 0)
        .map(|i| (i.track, i.index, i.url))
        .collect();
    assert_eq!(
        inits,
        [
            ("p0a0r0", 0, "https://cdn.example/a/init.mp4"),
            ("p0a0r1", 0, "https://cdn.example/a/init-w.mp4")
        ]
    );
    assert_eq!(plan.item_count(), 2 + 6, "two inits and six media segments");
    // The sharing track still describes its init, and its local manifest points at the copy.
    assert_eq!(
        plan.tracks[2].init.as_ref().map(|i| i.url.as_str()),
        Some("https://cdn.example/a/init.mp4")
    );
    assert_eq!(
        local.matches(r#"initialization="p0a0r0/0""#).count(),
        2,
        "{local}"
    );
    assert_eq!(local.matches(r#"initialization="p0a0r1/0""#).count(), 1);
    assert!(!local.contains("p1a0r0/0"), "{local}");
}

#[test]
fn init_segments_are_shared_only_when_their_byte_ranges_match_too() {
    let doc = r#"<MPD type="static" mediaPresentationDuration="PT2S"><Period><AdaptationSet mimeType="video/mp4">
      <Representation id="v" bandwidth="1"><BaseURL>f.mp4</BaseURL><SegmentList duration="2"><Initialization range="0-99"/><SegmentURL mediaRange="100-199"/></SegmentList></Representation>
      <Representation id="w" bandwidth="2"><BaseURL>f.mp4</BaseURL><SegmentList duration="2"><Initialization range="0-99"/><SegmentURL mediaRange="200-299"/></SegmentList></Representation>
      <Representation id="x" bandwidth="3"><BaseURL>f.mp4</BaseURL><SegmentList duration="2"><Initialization range="0-98"/><SegmentURL mediaRange="300-399"/></SegmentList></Representation>
    </AdaptationSet></Period></MPD>"#;
    let (plan, _) = plan_all(doc);
    let from: Vec<Option<&str>> = plan.tracks.iter().map(|t| t.init_from.as_deref()).collect();
    assert_eq!(from, [None, Some("p0a0r0"), None]);
}

#[test]
fn a_plan_without_shared_inits_serializes_as_before_and_old_plans_still_load() {
    let (plan, _) = plan_all(TWO_PERIODS_ONE_INIT);
    let json = serde_json::to_value(&plan).unwrap();
    assert!(json["tracks"][0].get("initFrom").is_none());
    assert_eq!(json["tracks"][2]["initFrom"], "p0a0r0");
    let mut old = json.clone();
    for t in old["tracks"].as_array_mut().unwrap() {
        t.as_object_mut().unwrap().remove("initFrom");
    }
    let old: Plan = serde_json::from_value(old).unwrap();
    assert!(old.tracks.iter().all(|t| t.init_from.is_none()));
    assert_eq!(
        old.item_count(),
        3 + 6,
        "an old plan stores every init itself"
    );
}

/// Resolves the xlinks of `doc` with `remote` (URL → text) as the network, counting fetches,
/// and plans every track.
fn resolve_and_plan(doc: &str, remote: &[(&str, &str)]) -> Result<(Plan, String, usize), MpdError> {
    let mut x = Xlinks::parse(doc, &base())?;
    let mut fetched = 0;
    loop {
        let needs = x.needs()?;
        if needs.is_empty() {
            break;
        }
        fetched += needs.len();
        let docs = needs
            .iter()
            .map(|n| {
                let text = remote
                    .iter()
                    .find(|(u, _)| *u == n.url)
                    .unwrap_or_else(|| panic!("no document at {}", n.url))
                    .1;
                (n.url.clone(), text.to_string())
            })
            .collect();
        x.resolve(docs)?;
    }
    let (plan, local) =
        Planner::from_root(x.into_root(), &base(), &all())?.finish(&HashMap::new())?;
    Ok((plan, local, fetched))
}

fn period(id: &str, media: &str) -> String {
    format!(
        r#"<Period id="{id}" duration="PT2S"><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1"><SegmentTemplate media="{media}$Number$.m4s" duration="2"/></Representation></AdaptationSet></Period>"#
    )
}

fn xlinked(body: &str) -> String {
    format!(
        r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:xlink="http://www.w3.org/1999/xlink" type="static" mediaPresentationDuration="PT6S">{body}</MPD>"#
    )
}

fn media_urls(plan: &Plan) -> Vec<&str> {
    plan.tracks
        .iter()
        .flat_map(|t| t.segments.iter().map(|s| s.url.as_str()))
        .collect()
}

#[test]
fn an_onload_xlink_period_is_fetched_relative_to_the_mpd_and_spliced_in_place() {
    let doc = xlinked(&format!(
        r#"{}<Period id="ad" xlink:href="ads/p.xml" xlink:actuate="onLoad"/>{}"#,
        period("a", "a"),
        period("c", "c")
    ));
    let remote = r#"<?xml version="1.0"?><Period xmlns="urn:mpeg:dash:schema:mpd:2011" duration="PT2S"><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1"><SegmentTemplate media="b$Number$.m4s" duration="2"/></Representation></AdaptationSet></Period>"#;
    let (plan, local, fetched) =
        resolve_and_plan(&doc, &[("https://cdn.example/a/ads/p.xml", remote)]).unwrap();
    assert_eq!(fetched, 1);
    assert_eq!(
        media_urls(&plan),
        [
            "https://cdn.example/a/a1.m4s",
            "https://cdn.example/a/b1.m4s",
            "https://cdn.example/a/c1.m4s"
        ],
        "segment URLs of the spliced period resolve against the MPD, as in place"
    );
    let starts: Vec<f64> = plan.tracks.iter().map(|t| t.segments[0].start).collect();
    assert_eq!(starts, [0.0, 2.0, 4.0]);
    // The referencing element's own attributes stay; its xlink ones go.
    assert!(
        local.contains(r#"<Period id="ad" xmlns="urn:mpeg:dash:schema:mpd:2011" duration="PT2S">"#),
        "{local}"
    );
    assert!(!local.contains("xlink:href"), "{local}");
}

#[test]
fn a_remote_document_may_hold_several_periods_or_none_and_resolve_to_zero_is_never_fetched() {
    let doc = xlinked(&format!(
        r#"<Period xlink:href="two.xml" xlink:actuate="onLoad"/><Period xlink:href="empty.xml" xlink:actuate="onLoad"/><Period xlink:href="urn:mpeg:dash:resolve-to-zero:2013"/>{}"#,
        period("c", "c")
    ));
    let two = format!("{}{}", period("a", "a"), period("b", "b"));
    let (plan, _, fetched) = resolve_and_plan(
        &doc,
        &[
            ("https://cdn.example/a/two.xml", &two),
            ("https://cdn.example/a/empty.xml", "  "),
        ],
    )
    .unwrap();
    assert_eq!(fetched, 2);
    assert_eq!(
        media_urls(&plan),
        [
            "https://cdn.example/a/a1.m4s",
            "https://cdn.example/a/b1.m4s",
            "https://cdn.example/a/c1.m4s"
        ]
    );
}

#[test]
fn xlink_on_request_is_refused_as_unsupported_offline_and_so_is_a_link_without_actuate() {
    for attrs in [
        r#"xlink:href="p.xml" xlink:actuate="onRequest""#,
        r#"xlink:href="p.xml""#,
    ] {
        let doc = xlinked(&format!("<Period {attrs}/>{}", period("c", "c")));
        let err = resolve_and_plan(&doc, &[]).unwrap_err();
        assert!(
            matches!(&err, MpdError::Xlink(why) if why.contains("xlink onRequest is not supported offline")),
            "{err}"
        );
    }
}

#[test]
fn links_inside_a_remote_document_resolve_against_it_to_five_levels_and_no_deeper() {
    // Level k's document holds an AdaptationSet linked relative to it, in the next folder.
    let set = r#"<AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1"><SegmentTemplate media="s$Number$.m4s" duration="2"/></Representation></AdaptationSet>"#;
    let chain = |levels: usize| {
        let mut remote = Vec::new();
        for k in 1..=levels {
            let url = format!("https://cdn.example/a/{}l.xml", "d/".repeat(k - 1));
            let text = if k == 1 {
                r#"<Period duration="PT6S"><AdaptationSet xlink:href="d/l.xml" xlink:actuate="onLoad"/></Period>"#.to_string()
            } else if k < levels {
                r#"<AdaptationSet xmlns:xl="http://www.w3.org/1999/xlink" xl:href="d/l.xml" xl:actuate="onLoad"/>"#.to_string()
            } else {
                set.to_string()
            };
            remote.push((url, text));
        }
        remote
    };
    let doc = xlinked(r#"<Period xlink:href="l.xml" xlink:actuate="onLoad"/>"#);
    let five = chain(5);
    let five: Vec<(&str, &str)> = five.iter().map(|(u, t)| (u.as_str(), t.as_str())).collect();
    let (plan, _, fetched) = resolve_and_plan(&doc, &five).unwrap();
    assert_eq!(fetched, 5);
    assert_eq!(media_urls(&plan)[0], "https://cdn.example/a/s1.m4s");
    let six = chain(6);
    let six: Vec<(&str, &str)> = six.iter().map(|(u, t)| (u.as_str(), t.as_str())).collect();
    assert_eq!(
        resolve_and_plan(&doc, &six).unwrap_err(),
        MpdError::TooLarge("xlink nesting depth")
    );
}

#[test]
fn a_remote_document_of_another_element_is_refused_naming_its_url() {
    let doc = xlinked(r#"<Period xlink:href="p.xml" xlink:actuate="onLoad"/>"#);
    let err = resolve_and_plan(&doc, &[("https://cdn.example/a/p.xml", "<MPD/>")]).unwrap_err();
    assert!(
        matches!(&err, MpdError::Xlink(why) if why.contains("https://cdn.example/a/p.xml") && why.contains("<MPD>")),
        "{err}"
    );
}

#[test]
fn the_number_of_xlink_documents_is_capped() {
    let many = r#"<Period xlink:href="p.xml" xlink:actuate="onLoad"/>"#
        .repeat(mpd::xlink::MAX_XLINK_FETCHES + 1);
    let x = Xlinks::parse(&xlinked(&many), &base()).unwrap();
    assert_eq!(x.needs(), Err(MpdError::TooLarge("xlink documents")));
}
