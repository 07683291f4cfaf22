//! Plans for the two stream forms ffmpeg writes (SegmentTemplate with `@duration` and
//! `$Number%05d$`, and SegmentTemplate + SegmentTimeline), as the walking skeleton stores them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

use mpd::{plan_manifest, MpdError, SelectOptions, TrackKind};
use url::Url;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn base() -> Url {
    Url::parse("http://cdn.example/content/s/manifest.mpd").unwrap()
}

#[test]
fn number_template_lists_init_and_every_two_second_segment_of_the_chosen_tracks() {
    let opts = SelectOptions {
        bitrate: Some(400_000),
        ..SelectOptions::default()
    };
    let (plan, _) = plan_manifest(&fixture("ffmpeg-template.mpd"), &base(), &opts).unwrap();
    assert_eq!(plan.tracks.len(), 2, "one video and one audio");
    let video = plan
        .tracks
        .iter()
        .find(|t| t.kind == TrackKind::Video)
        .unwrap();
    assert_eq!(video.id, "0", "the representation closest to 400 kbps");
    assert_eq!(
        video.init.as_ref().unwrap().url,
        "http://cdn.example/content/s/init-stream0.m4s"
    );
    assert_eq!(video.segments.len(), 6);
    assert_eq!(
        video.segments[0].url,
        "http://cdn.example/content/s/chunk-stream0-00001.m4s"
    );
    assert_eq!(
        video.segments[5].url,
        "http://cdn.example/content/s/chunk-stream0-00006.m4s"
    );
    assert_eq!(
        (video.segments[5].start, video.segments[5].end),
        (10.0, 12.0)
    );
    assert_eq!(plan.item_count(), 14);
    assert!(plan.estimated_bytes > 500_000);
}

#[test]
fn no_bitrate_picks_the_highest_video() {
    let (plan, _) = plan_manifest(
        &fixture("ffmpeg-template.mpd"),
        &base(),
        &SelectOptions::default(),
    )
    .unwrap();
    let video = plan
        .tracks
        .iter()
        .find(|t| t.kind == TrackKind::Video)
        .unwrap();
    assert_eq!(video.id, "1");
}

#[test]
fn timeline_repeats_and_implicit_times_are_expanded() {
    let (plan, _) = plan_manifest(
        &fixture("ffmpeg-timeline.mpd"),
        &base(),
        &SelectOptions::default(),
    )
    .unwrap();
    let audio = plan
        .tracks
        .iter()
        .find(|t| t.kind == TrackKind::Audio)
        .unwrap();
    assert_eq!(audio.timescale, 48_000);
    let times: Vec<u64> = audio.segments.iter().map(|s| s.t).collect();
    assert_eq!(times[..3], [0, 92_160, 188_416]);
    assert_eq!(audio.segments.len(), 7);
    assert_eq!(
        audio.segments[1].url,
        "http://cdn.example/content/s/chunk-stream2-00002.m4s"
    );
}

#[test]
fn local_manifest_keeps_only_selected_tracks_with_relative_urls_and_exact_timing() {
    let opts = SelectOptions {
        bitrate: Some(400_000),
        ..SelectOptions::default()
    };
    let (plan, local) = plan_manifest(&fixture("ffmpeg-timeline.mpd"), &base(), &opts).unwrap();
    assert!(local.contains(r#"type="static""#));
    assert_eq!(local.matches("<Representation ").count(), 2);
    assert!(
        !local.contains("http://cdn.example"),
        "no remote URL is left"
    );
    let video = plan
        .tracks
        .iter()
        .find(|t| t.kind == TrackKind::Video)
        .unwrap();
    assert!(local.contains(&format!(r#"media="{}/$Number$""#, video.key)));
    assert!(local.contains(r#"<S t="0" d="25600" r="5"/>"#), "{local}");
    assert!(
        local.contains(r#"<S t="92160" d="96256" r="2"/>"#),
        "{local}"
    );
    // The local manifest is itself a plannable static MPD with the same timeline.
    let (again, _) = plan_manifest(
        &local,
        &Url::parse("http://sw.local/__offline__/e/manifest.mpd").unwrap(),
        &opts,
    )
    .unwrap();
    for (a, b) in plan.tracks.iter().zip(&again.tracks) {
        let times = |t: &mpd::TrackPlan| t.segments.iter().map(|s| (s.t, s.d)).collect::<Vec<_>>();
        assert_eq!(times(a), times(b));
    }
}

#[test]
fn a_live_manifest_is_refused() {
    let live = fixture("ffmpeg-template.mpd").replace(r#"type="static""#, r#"type="dynamic""#);
    assert_eq!(
        plan_manifest(&live, &base(), &SelectOptions::default()).unwrap_err(),
        MpdError::Dynamic
    );
}

#[test]
fn malformed_xml_is_an_error_not_a_panic() {
    let text = fixture("ffmpeg-template.mpd");
    let cut = &text[..text.len() / 2];
    assert!(matches!(
        plan_manifest(cut, &base(), &SelectOptions::default()),
        Err(MpdError::Xml(_))
    ));
}
