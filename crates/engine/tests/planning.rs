//! Planning against the in-memory twins: manifests whose plan takes more than one fetch
//! (xlink periods, hierarchical segment indexes) and init segments shared by several tracks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

mod common;

use common::{world, World};
use engine::{Command, Event, State};
use serde_json::json;

const HOST: &str = "http://media.test/p/";

fn url(path: &str) -> String {
    format!("{HOST}{path}")
}

/// Starts entry `id` on the manifest at `path` and runs until nothing moves.
fn download(w: &mut World, id: &str, path: &str) -> Result<(), engine::KalturaError> {
    w.start(id, json!({"sources": {"dash": [{"url": url(path)}]}}))?;
    w.pool.run_until_stalled();
    Ok(())
}

fn fetches_of(w: &World, u: &str) -> usize {
    w.fetcher.log.borrow().iter().filter(|l| *l == u).count()
}

fn plan(w: &World, id: &str) -> mpd::Plan {
    w.store.entries.borrow()[id].plan.clone().unwrap()
}

/// A template period of one 2-second segment under `prefix`, with the shared init.
fn period(id: &str, prefix: &str) -> String {
    format!(
        r#"<Period id="{id}" duration="PT2S"><AdaptationSet mimeType="video/mp4" codecs="avc1.64001e"><Representation id="v" bandwidth="1000"><SegmentTemplate initialization="init.mp4" media="{prefix}$Number$.m4s" duration="2"/></Representation></AdaptationSet></Period>"#
    )
}

fn mpd(body: &str) -> String {
    format!(
        r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:xlink="http://www.w3.org/1999/xlink" type="static" mediaPresentationDuration="PT4S">{body}</MPD>"#
    )
}

/// Media for [`period`]s with prefixes `a` and `b`.
fn put_media(w: &World) {
    w.fetcher.put(&url("init.mp4"), vec![9u8; 300]);
    w.fetcher.put(&url("a1.m4s"), vec![1u8; 1000]);
    w.fetcher.put(&url("b1.m4s"), vec![2u8; 1000]);
}

#[test]
fn an_init_segment_two_periods_share_is_fetched_and_stored_once_and_counted_once() {
    let mut w = world();
    w.fetcher.put(
        &url("shared.mpd"),
        mpd(&format!("{}{}", period("a", "a"), period("b", "b"))),
    );
    put_media(&w);
    download(&mut w, "e", "shared.mpd").unwrap();
    assert_eq!(w.state("e").0, State::Completed);
    assert_eq!(fetches_of(&w, &url("init.mp4")), 1);
    assert_eq!(w.stored("e"), 3, "one init and two media segments");
    let summary = w
        .run(Command::Get {
            entry_id: "e".into(),
        })
        .unwrap();
    assert_eq!(
        (
            summary["segmentsDone"].clone(),
            summary["segmentsTotal"].clone()
        ),
        (json!(3), json!(3))
    );
    assert_eq!(summary["size"], json!(2300));
    let local = w.store.manifests.borrow()["e"].clone();
    assert_eq!(
        local.matches(r#"initialization="p0a0r0/0""#).count(),
        2,
        "{local}"
    );
}

#[test]
fn an_xlink_period_is_fetched_before_planning_and_stored_like_an_inline_one() {
    let mut w = world();
    let doc = mpd(&format!(
        r#"{}<Period xlink:href="remote/b.xml" xlink:actuate="onLoad"/>"#,
        period("a", "a")
    ));
    w.fetcher.put(&url("x.mpd"), doc);
    // Relative URLs inside the remote period resolve against the MPD, where it is spliced.
    w.fetcher.put(&url("remote/b.xml"), period("b", "b"));
    put_media(&w);
    download(&mut w, "e", "x.mpd").unwrap();
    assert_eq!(w.state("e").0, State::Completed);
    assert_eq!(fetches_of(&w, &url("remote/b.xml")), 1);
    assert_eq!(fetches_of(&w, &url("b1.m4s")), 1);
    let local = w.store.manifests.borrow()["e"].clone();
    assert!(!local.contains("xlink:href"), "{local}");
    assert_eq!(local.matches("<Period").count(), 2, "{local}");
}

#[test]
fn an_xlink_document_that_cannot_be_fetched_fails_with_9011_naming_it() {
    let mut w = world();
    let doc = mpd(r#"<Period xlink:href="gone.xml" xlink:actuate="onLoad"/>"#);
    w.fetcher.put(&url("x.mpd"), doc);
    let err = download(&mut w, "e", "x.mpd").unwrap_err();
    assert_eq!(err.code, 9011);
    assert_eq!(err.data["url"], url("gone.xml"));
    assert_eq!(err.data["status"], 404);
    let message = err.data["message"].as_str().unwrap();
    assert!(
        message.contains("xlink document of a <Period>"),
        "{message}"
    );
}

#[test]
fn an_xlink_on_request_period_is_refused_with_9010_before_any_fetch_of_it() {
    let mut w = world();
    let doc = mpd(&format!(
        r#"{}<Period xlink:href="later.xml" xlink:actuate="onRequest"/>"#,
        period("a", "a")
    ));
    w.fetcher.put(&url("x.mpd"), doc);
    let err = download(&mut w, "e", "x.mpd").unwrap_err();
    assert_eq!(err.code, 9010);
    let message = err.data["message"].as_str().unwrap();
    assert!(
        message.contains("xlink onRequest is not supported offline"),
        "{message}"
    );
    assert_eq!(fetches_of(&w, &url("later.xml")), 0);
}

/// A version-1 `sidx` box: (reference_type, size, duration) references.
fn sidx(timescale: u32, earliest: u64, refs: &[(bool, u32, u32)]) -> Vec<u8> {
    mpd::test_support::sidx_box(1, timescale, earliest, 0, refs)
}

#[test]
fn a_hierarchical_sidx_is_fetched_level_by_level_and_its_leaves_are_stored_in_order() {
    // The leaf index ffmpeg wrote for a 6-subsegment single-file MP4 (timescale 12800), used
    // twice under a top index: [init 0-799][top][leaf A][media A][leaf B][media B].
    let leaf = include_bytes!("../../mpd/fuzz/seeds/sidx/ffmpeg-global-sidx").to_vec();
    let flat = mpd::sidx::parse_sidx(&leaf, 0).unwrap();
    let sizes: Vec<u64> = flat
        .subsegments
        .iter()
        .map(|s| s.range[1] - s.range[0] + 1)
        .collect();
    let media_len: u64 = sizes.iter().sum();
    let duration: u64 = flat.subsegments.iter().map(|s| s.d).sum();
    let mut leaf_b = leaf.clone();
    leaf_b[20..28].copy_from_slice(&duration.to_be_bytes()); // earliest_presentation_time
    let part = (leaf.len() as u64 + media_len) as u32;
    let top = sidx(
        flat.timescale as u32,
        0,
        &[(true, part, duration as u32), (true, part, duration as u32)],
    );
    let mut file: Vec<u8> = (0..800u32).map(|i| i as u8).collect();
    file.extend(&top);
    let mut leaves = Vec::new();
    for box_bytes in [&leaf, &leaf_b] {
        file.extend(box_bytes.iter());
        for (k, size) in sizes.iter().enumerate() {
            let start = file.len() as u64;
            leaves.push([start, start + size - 1]);
            file.resize(file.len() + *size as usize, k as u8 + 1);
        }
    }
    let mut w = world();
    w.fetcher.put(&url("v.mp4"), file.clone());
    let doc = format!(
        r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT24S"><Period><AdaptationSet mimeType="video/mp4" codecs="avc1.64001e"><Representation id="v" bandwidth="1000"><BaseURL>v.mp4</BaseURL><SegmentBase indexRange="800-{}"><Initialization range="0-799"/></SegmentBase></Representation></AdaptationSet></Period></MPD>"#,
        800 + top.len() - 1
    );
    w.fetcher.put(&url("h.mpd"), doc);
    download(&mut w, "e", "h.mpd").unwrap();
    assert_eq!(w.state("e").0, State::Completed);
    let plan = plan(&w, "e");
    let track = &plan.tracks[0];
    let ranges: Vec<[u64; 2]> = track.segments.iter().map(|s| s.range.unwrap()).collect();
    assert_eq!(ranges, leaves, "the leaves of both parts, in order");
    let times: Vec<u64> = track.segments.iter().map(|s| s.t).collect();
    assert_eq!(
        times[6], duration,
        "the second part starts where the first ends"
    );
    // One fetch for the top index, one per referenced box, then init and 12 media segments.
    assert_eq!(fetches_of(&w, &url("v.mp4")), 1 + 2 + 1 + 12);
    assert_eq!(w.stored("e"), 13);
    let stored = w.store.segments.borrow();
    let seventh = &stored[&("e".to_string(), track.key.clone(), 7, 0)];
    let [a, b] = leaves[6];
    assert_eq!(
        seventh.body.0.as_slice(),
        &file[a as usize..=b as usize],
        "the first subsegment of the second part"
    );
    assert!(!w
        .host
        .events
        .borrow()
        .iter()
        .any(|e| matches!(e, Event::Error(_))));
}

/// Prepares `id` on the template stream.
fn prepare(w: &mut World, id: &str) {
    w.run(Command::Prepare {
        entry_id: id.into(),
        config: json!({"sources": {"dash": [{"url": common::MANIFEST}]}}),
    })
    .unwrap();
}

/// Answers `protection` for `id`, as the shim asks before a download to probe the manifest's
/// types (and again for licence sessions).
fn ask_protection(w: &mut World, id: &str) {
    w.run(Command::Protection {
        entry_id: id.into(),
        options: None,
    })
    .unwrap();
}

/// Prepares `id` and probes its types.
fn probe(w: &mut World, id: &str) {
    prepare(w, id);
    ask_protection(w, id);
}

fn download_now(w: &mut World, id: &str) {
    w.run(Command::Download {
        entry_id: id.into(),
        options: None,
    })
    .unwrap();
    w.pool.run_until_stalled();
    assert_eq!(w.state(id).0, State::Completed);
}

#[test]
fn a_download_right_after_its_type_probe_fetches_the_manifest_only_once() {
    let mut w = world();
    probe(&mut w, "e");
    // A second probe (the shim's licence sessions ask again) uses the same copy.
    ask_protection(&mut w, "e");
    download_now(&mut w, "e");
    assert_eq!(fetches_of(&w, common::MANIFEST), 1);
}

#[test]
fn a_download_a_minute_after_its_type_probe_fetches_the_manifest_again() {
    let mut w = world();
    probe(&mut w, "e");
    w.host.now.set(w.host.now.get() + 60_001.0);
    download_now(&mut w, "e");
    assert_eq!(fetches_of(&w, common::MANIFEST), 2);
}

#[test]
fn an_entry_prepared_again_after_its_type_probe_is_planned_from_a_fresh_fetch() {
    let mut w = world();
    probe(&mut w, "e");
    prepare(&mut w, "e");
    download_now(&mut w, "e");
    assert_eq!(fetches_of(&w, common::MANIFEST), 2);
}

#[test]
fn a_probe_of_one_entry_is_not_planned_for_another_on_the_same_manifest() {
    let mut w = world();
    probe(&mut w, "a");
    prepare(&mut w, "b");
    download_now(&mut w, "b");
    assert_eq!(fetches_of(&w, common::MANIFEST), 2);
    // The one kept for `a` went with the fresh fetch; `a` fetches its own.
    download_now(&mut w, "a");
    assert_eq!(fetches_of(&w, common::MANIFEST), 3);
}
