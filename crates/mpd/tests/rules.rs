//! One test per MPD rule the planner must follow, on small hand-written manifests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

use mpd::{plan_manifest, MpdError, Plan, SelectOptions, TrackPlan};
use url::Url;

const BASE: &str = "https://cdn.example/a/b/manifest.mpd";

fn plan_with(mpd: &str, options: SelectOptions) -> Result<Plan, MpdError> {
    plan_manifest(mpd, &Url::parse(BASE).unwrap(), &options).map(|(p, _)| p)
}

fn all(mpd: &str) -> Plan {
    plan_with(
        mpd,
        SelectOptions {
            all: true,
            ..SelectOptions::default()
        },
    )
    .unwrap()
}

fn track<'p>(plan: &'p Plan, id: &str) -> &'p TrackPlan {
    plan.tracks
        .iter()
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("no track {id}"))
}

fn urls(t: &TrackPlan) -> Vec<&str> {
    t.segments.iter().map(|s| s.url.as_str()).collect()
}

fn times(t: &TrackPlan) -> Vec<(f64, f64)> {
    t.segments.iter().map(|s| (s.start, s.end)).collect()
}

fn mpd(period_body: &str) -> String {
    format!(
        r#"<MPD type="static" mediaPresentationDuration="PT8S"><Period>{period_body}</Period></MPD>"#
    )
}

#[test]
fn base_urls_chain_from_mpd_to_representation() {
    let doc = r#"<MPD type="static" mediaPresentationDuration="PT4S"><BaseURL>https://other.example/root/</BaseURL>
      <Period><BaseURL>p/</BaseURL><AdaptationSet mimeType="video/mp4"><BaseURL>../set/</BaseURL>
      <Representation id="v" bandwidth="1"><BaseURL>rep/</BaseURL>
      <SegmentTemplate media="$Number$.m4s" duration="2" initialization="init.mp4"/></Representation>
      </AdaptationSet></Period></MPD>"#;
    let t = all(doc).tracks.remove(0);
    assert_eq!(
        t.init.unwrap().url,
        "https://other.example/root/set/rep/init.mp4"
    );
    assert_eq!(
        t.segments[1].url,
        "https://other.example/root/set/rep/2.m4s"
    );
}

#[test]
fn relative_urls_resolve_against_the_manifest_url() {
    let p = all(&mpd(
        r#"<AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1">
        <SegmentTemplate media="../s/$Number$.m4s" duration="4"/></Representation></AdaptationSet>"#,
    ));
    assert_eq!(
        urls(&p.tracks[0]),
        [
            "https://cdn.example/a/s/1.m4s",
            "https://cdn.example/a/s/2.m4s"
        ]
    );
}

#[test]
fn template_identifiers_bandwidth_time_and_widths_are_expanded() {
    let p = all(&mpd(
        r#"<AdaptationSet mimeType="video/mp4"><Representation id="hd" bandwidth="5000">
        <SegmentTemplate timescale="10" presentationTimeOffset="100" media="$RepresentationID$_$Bandwidth$_$Time%08d$_$Number%03d$$$.m4s">
        <SegmentTimeline><S t="100" d="40" r="1"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet>"#,
    ));
    assert_eq!(
        urls(&p.tracks[0]),
        [
            "https://cdn.example/a/b/hd_5000_00000100_001$.m4s",
            "https://cdn.example/a/b/hd_5000_00000140_002$.m4s"
        ]
    );
}

#[test]
fn start_number_end_number_and_pto_shape_number_and_time() {
    let p = all(&mpd(
        r#"<AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1">
        <SegmentTemplate timescale="1000" presentationTimeOffset="5000" startNumber="7" endNumber="9" duration="2000" media="$Number$"/>
        </Representation></AdaptationSet>"#,
    ));
    let t = &p.tracks[0];
    assert_eq!(
        urls(t),
        [
            "https://cdn.example/a/b/7",
            "https://cdn.example/a/b/8",
            "https://cdn.example/a/b/9"
        ]
    );
    assert_eq!(times(t), [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0)]);
    assert_eq!(t.segments[0].t, 5000, "media time includes the offset");
}

#[test]
fn duration_numbering_counts_from_the_period_duration_and_cuts_the_last_segment() {
    let doc = r#"<MPD type="static" mediaPresentationDuration="PT7S"><Period>
      <AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1">
      <SegmentTemplate media="$Number$" duration="2"/></Representation></AdaptationSet></Period></MPD>"#;
    let t = &all(doc).tracks[0];
    assert_eq!(t.segments.len(), 4);
    assert_eq!(t.segments[3].end, 7.0);
}

#[test]
fn period_duration_comes_from_the_next_period_start() {
    let doc = r#"<MPD type="static" mediaPresentationDuration="PT100S">
      <Period id="a" start="PT0S"><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1">
        <SegmentTemplate media="a$Number$" duration="2"/></Representation></AdaptationSet></Period>
      <Period id="b" start="PT6S"><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1">
        <SegmentTemplate media="b$Number$" duration="2"/></Representation></AdaptationSet></Period></MPD>"#;
    let p = all(doc);
    assert_eq!(
        p.tracks.len(),
        2,
        "representation ids repeat across periods, tracks do not"
    );
    assert_eq!(p.tracks[0].segments.len(), 3);
    assert_eq!(p.tracks[1].segments.len(), 47);
    assert_eq!(
        p.tracks[1].segments[0].start, 6.0,
        "times are on the presentation timeline"
    );
    assert_ne!(p.tracks[0].key, p.tracks[1].key);
}

#[test]
fn timeline_repeat_minus_one_runs_to_the_next_explicit_time() {
    let p = all(&mpd(
        r#"<AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1">
        <SegmentTemplate timescale="1" media="$Time$"><SegmentTimeline><S t="0" d="2" r="-1"/><S t="6" d="1"/></SegmentTimeline>
        </SegmentTemplate></Representation></AdaptationSet>"#,
    ));
    let t: Vec<u64> = p.tracks[0].segments.iter().map(|s| s.t).collect();
    assert_eq!(t, [0, 2, 4, 6]);
}

#[test]
fn timeline_repeat_minus_one_at_the_end_runs_to_the_period_end() {
    let p = all(&mpd(
        r#"<AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1">
        <SegmentTemplate timescale="1" media="$Time$"><SegmentTimeline><S t="0" d="3" r="-1"/></SegmentTimeline>
        </SegmentTemplate></Representation></AdaptationSet>"#,
    ));
    assert_eq!(times(&p.tracks[0]), [(0.0, 3.0), (3.0, 6.0), (6.0, 8.0)]);
}

#[test]
fn timeline_gaps_and_overlaps_follow_explicit_times() {
    let p = all(&mpd(
        r#"<AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1">
        <SegmentTemplate timescale="1" media="$Time$"><SegmentTimeline><S t="0" d="2"/><S t="3" d="2"/><S t="4" d="2"/></SegmentTimeline>
        </SegmentTemplate></Representation></AdaptationSet>"#,
    ));
    assert_eq!(times(&p.tracks[0]), [(0.0, 2.0), (3.0, 5.0), (4.0, 6.0)]);
}

#[test]
fn segment_information_is_inherited_from_adaptation_set_and_period() {
    let p = all(&mpd(
        r#"<SegmentTemplate timescale="1000" duration="4000" media="$RepresentationID$/$Number$"/>
        <AdaptationSet mimeType="video/mp4"><SegmentTemplate initialization="$RepresentationID$/init"/>
        <Representation id="v1" bandwidth="1"/><Representation id="v2" bandwidth="2"/></AdaptationSet>"#,
    ));
    let t = track(&p, "v2");
    assert_eq!(
        t.init.as_ref().unwrap().url,
        "https://cdn.example/a/b/v2/init"
    );
    assert_eq!(
        urls(t),
        [
            "https://cdn.example/a/b/v2/1",
            "https://cdn.example/a/b/v2/2"
        ]
    );
}

#[test]
fn segment_list_gives_urls_and_byte_ranges() {
    let p = all(&mpd(
        r#"<AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1"><BaseURL>f.mp4</BaseURL>
        <SegmentList timescale="10" duration="40"><Initialization range="0-99"/>
        <SegmentURL mediaRange="100-199"/><SegmentURL media="other.mp4" mediaRange="200-299"/></SegmentList>
        </Representation></AdaptationSet>"#,
    ));
    let t = &p.tracks[0];
    assert_eq!(t.init.as_ref().unwrap().range, Some([0, 99]));
    assert_eq!(t.segments[0].range, Some([100, 199]));
    assert_eq!(
        urls(t),
        [
            "https://cdn.example/a/b/f.mp4",
            "https://cdn.example/a/b/other.mp4"
        ]
    );
    assert_eq!(times(t), [(0.0, 4.0), (4.0, 8.0)]);
    assert_eq!(
        p.estimated_bytes, 200,
        "sizes are exact where ranges are known"
    );
}

#[test]
fn segment_base_without_its_index_asks_for_it() {
    let doc = mpd(
        r#"<AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1"><BaseURL>f.mp4</BaseURL>
        <SegmentBase indexRange="800-899"><Initialization range="0-799"/></SegmentBase></Representation></AdaptationSet>"#,
    );
    let planner =
        mpd::Planner::new(&doc, &Url::parse(BASE).unwrap(), &SelectOptions::default()).unwrap();
    let needs = planner.index_needs();
    assert_eq!(
        (needs[0].url.as_str(), needs[0].range),
        ("https://cdn.example/a/b/f.mp4", Some([800, 899]))
    );
    assert!(matches!(
        planner.finish(&Default::default()),
        Err(MpdError::IndexNeeded(_))
    ));
}

#[test]
fn dynamic_manifests_are_refused() {
    let doc = r#"<MPD type="dynamic"><Period/></MPD>"#;
    assert_eq!(
        plan_with(doc, SelectOptions::default()).unwrap_err(),
        MpdError::Dynamic
    );
}

#[test]
fn a_manifest_planned_without_resolving_its_xlinks_is_refused() {
    let doc = r#"<MPD type="static" xmlns:xlink="http://www.w3.org/1999/xlink"><Period xlink:href="https://x/p.xml"/></MPD>"#;
    assert!(matches!(
        plan_with(doc, SelectOptions::default()).unwrap_err(),
        MpdError::Xlink(why) if why.contains("not resolved")
    ));
}

#[test]
fn a_representation_without_segment_information_is_an_error() {
    let doc = mpd(
        r#"<AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1"/></AdaptationSet>"#,
    );
    assert_eq!(
        plan_with(&doc, SelectOptions::default()).unwrap_err(),
        MpdError::NoSegmentInfo("v".into())
    );
}

#[test]
fn hostile_repeat_counts_and_segment_counts_hit_caps() {
    let huge_r = mpd(
        r#"<AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1">
        <SegmentTemplate media="$Number$"><SegmentTimeline><S t="0" d="1" r="999999999999"/></SegmentTimeline></SegmentTemplate>
        </Representation></AdaptationSet>"#,
    );
    assert_eq!(
        plan_with(&huge_r, SelectOptions::default()).unwrap_err(),
        MpdError::TooLarge("segments per track")
    );
    let huge_duration = r#"<MPD type="static" mediaPresentationDuration="P9999D"><Period><AdaptationSet mimeType="video/mp4">
        <Representation id="v" bandwidth="1"><SegmentTemplate media="$Number$" duration="1"/></Representation></AdaptationSet></Period></MPD>"#;
    assert_eq!(
        plan_with(huge_duration, SelectOptions::default()).unwrap_err(),
        MpdError::TooLarge("segments per track")
    );
    let long_url = mpd(&format!(
        r#"<AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1">
        <SegmentTemplate media="{}" duration="2"/></Representation></AdaptationSet>"#,
        "a".repeat(100_000)
    ));
    assert_eq!(
        plan_with(&long_url, SelectOptions::default()).unwrap_err(),
        MpdError::TooLarge("attribute length")
    );
}

fn ladder() -> String {
    mpd(
        r#"<AdaptationSet contentType="video" mimeType="video/mp4"><SegmentTemplate media="$RepresentationID$/$Number$" duration="4"/>
        <Representation id="v360" bandwidth="400000" height="360" codecs="avc1.4d401e"/>
        <Representation id="v720" bandwidth="1200000" height="720" codecs="avc1.4d401f"/>
        <Representation id="v1080" bandwidth="3000000" height="1080" codecs="hev1.1.6.L93.B0"/></AdaptationSet>
      <AdaptationSet contentType="audio" mimeType="audio/mp4" lang="en"><SegmentTemplate media="$RepresentationID$/$Number$" duration="4"/>
        <Representation id="a-en-64" bandwidth="64000" codecs="mp4a.40.2"/><Representation id="a-en-128" bandwidth="128000" codecs="mp4a.40.2"/></AdaptationSet>
      <AdaptationSet contentType="audio" mimeType="audio/mp4" lang="es"><SegmentTemplate media="$RepresentationID$/$Number$" duration="4"/><Representation id="a-es" bandwidth="128000" codecs="mp4a.40.2"/></AdaptationSet>
      <AdaptationSet contentType="text" mimeType="text/vtt" lang="en"><Representation id="t-en" bandwidth="1"><BaseURL>en.vtt</BaseURL></Representation></AdaptationSet>
      <AdaptationSet contentType="text" mimeType="text/vtt" lang="fr"><Representation id="t-fr" bandwidth="1"><BaseURL>fr.vtt</BaseURL></Representation></AdaptationSet>
      <AdaptationSet contentType="image" mimeType="image/jpeg"><SegmentTemplate media="$RepresentationID$/$Number$" duration="4"/><Representation id="thumbs" bandwidth="10000"/></AdaptationSet>"#,
    )
}

fn chosen(options: SelectOptions) -> Vec<String> {
    let mut ids: Vec<String> = plan_with(&ladder(), options)
        .unwrap()
        .tracks
        .iter()
        .map(|t| t.id.clone())
        .collect();
    ids.sort();
    ids
}

#[test]
fn default_selection_is_highest_video_every_audio_language_and_all_text() {
    assert_eq!(
        chosen(SelectOptions::default()),
        ["a-en-128", "a-es", "t-en", "t-fr", "v1080"]
    );
}

#[test]
fn language_and_bitrate_pick_matching_audio_and_closest_video() {
    let o = SelectOptions {
        language: Some("spa".into()),
        bitrate: Some(900_000),
        ..SelectOptions::default()
    };
    assert_eq!(chosen(o), ["a-es", "t-en", "t-fr", "v720"]);
}

#[test]
fn an_unknown_language_falls_back_to_all_audio() {
    let o = SelectOptions {
        language: Some("de".into()),
        ..SelectOptions::default()
    };
    assert!(chosen(o).contains(&"a-en-128".to_string()));
}

#[test]
fn height_cap_codecs_text_languages_and_thumbnails_are_honoured() {
    let o = SelectOptions {
        max_height: Some(720),
        text_languages: Some(vec!["fr".into()]),
        audio_languages: Some(vec!["en".into()]),
        thumbnails: true,
        ..SelectOptions::default()
    };
    assert_eq!(chosen(o), ["a-en-128", "t-fr", "thumbs", "v720"]);
    let o = SelectOptions {
        codecs: Some(vec!["avc1".into(), "mp4a".into()]),
        ..SelectOptions::default()
    };
    assert!(
        chosen(o).contains(&"v720".to_string()),
        "HEVC is skipped when the browser cannot play it"
    );
    let o = SelectOptions {
        video_height: Some(400),
        ..SelectOptions::default()
    };
    assert!(chosen(o).contains(&"v360".to_string()));
}

#[test]
fn sidecar_text_files_are_one_segment_each() {
    let p = plan_with(&ladder(), SelectOptions::default()).unwrap();
    assert_eq!(urls(track(&p, "t-en")), ["https://cdn.example/a/b/en.vtt"]);
}

#[test]
fn local_manifest_keeps_content_protection_and_drops_remote_urls() {
    let doc = mpd(
        r#"<AdaptationSet mimeType="video/mp4" xmlns:cenc="urn:mpeg:cenc:2013">
        <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="10000000-1000-1000-1000-100000000001"/>
        <Representation id="v" bandwidth="1"><BaseURL>https://x.example/v/</BaseURL><SegmentTemplate media="$Number$" duration="4"/></Representation></AdaptationSet>"#,
    );
    let (plan, local) =
        plan_manifest(&doc, &Url::parse(BASE).unwrap(), &SelectOptions::default()).unwrap();
    assert!(local.contains(r#"cenc:default_KID="10000000-1000-1000-1000-100000000001""#));
    assert!(!local.contains("x.example"));
    assert_eq!(
        plan.tracks[0].info.protection[0].value.as_deref(),
        Some("cenc")
    );
}

#[test]
fn a_segment_starting_at_the_period_end_is_dropped() {
    let doc = r#"<MPD type="static" mediaPresentationDuration="PT4S"><Period><AdaptationSet mimeType="audio/mp4">
      <Representation id="a" bandwidth="1"><SegmentList timescale="1" duration="2">
      <SegmentURL media="1.m4s"/><SegmentURL media="2.m4s"/><SegmentURL media="3.m4s"/></SegmentList>
      </Representation></AdaptationSet></Period></MPD>"#;
    assert_eq!(
        urls(&all(doc).tracks[0]),
        [
            "https://cdn.example/a/b/1.m4s",
            "https://cdn.example/a/b/2.m4s"
        ]
    );
}

#[test]
fn several_base_urls_are_kept_as_alternates_and_location_moves_the_document() {
    let doc = r#"<MPD type="static" mediaPresentationDuration="PT4S"><Location>https://moved.example/x/m.mpd</Location>
      <BaseURL>https://cdn1.example/s/</BaseURL><BaseURL>https://cdn2.example/s/</BaseURL>
      <Period><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1">
      <SegmentTemplate media="$Number$.m4s" duration="4"/></Representation></AdaptationSet></Period></MPD>"#;
    let t = all(doc).tracks.remove(0);
    assert_eq!(t.segments[0].url, "https://cdn1.example/s/1.m4s");
    assert_eq!(
        t.base_urls,
        ["https://cdn1.example/s/", "https://cdn2.example/s/"]
    );
    let moved = r#"<MPD type="static" mediaPresentationDuration="PT4S"><Location>https://moved.example/x/m.mpd</Location>
      <Period><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1">
      <SegmentTemplate media="$Number$.m4s" duration="4"/></Representation></AdaptationSet></Period></MPD>"#;
    assert_eq!(
        all(moved).tracks[0].segments[0].url,
        "https://moved.example/x/1.m4s"
    );
}
