//! `SegmentTemplate@index` on an ffmpeg-made single-file MP4 (`-movflags global_sidx`: ftyp,
//! moov, then the sidx, then four fragments), with the sidx read from the media file itself and
//! from a separate index file whose `first_offset` counts from the media file's start.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

use mpd::{MpdError, Plan, Planner, SelectOptions};
use std::collections::HashMap;
use url::Url;

const FILE: &[u8] = include_bytes!("fixtures/ffmpeg-global-sidx.mp4");
const BASE: &str = "https://cdn.example/a/manifest.mpd";
/// Where ffmpeg put the sidx box, and its size.
const SIDX_AT: usize = 779;
const SIDX_LEN: usize = 88;
/// The fragments (moof + mdat) of the file, as its boxes lay them out.
const FRAGMENTS: [[u64; 2]; 4] = [[867, 3059], [3060, 4685], [4686, 6336], [6337, 7825]];

/// A representation `v` (bandwidth 1000) whose BaseURL is `v.mp4`, with `template` attributes.
fn doc(template: &str) -> String {
    format!(
        r#"<MPD type="static" mediaPresentationDuration="PT4S"><Period><AdaptationSet mimeType="video/mp4" codecs="avc1.64000a"><Representation id="v" bandwidth="1000"><BaseURL>v.mp4</BaseURL><SegmentTemplate {template}/></Representation></AdaptationSet></Period></MPD>"#
    )
}

/// The sidx box alone, its `first_offset` rewritten to count from the media file start.
fn external_sidx() -> Vec<u8> {
    let mut b = FILE[SIDX_AT..SIDX_AT + SIDX_LEN].to_vec();
    assert_eq!((&b[4..8], b[8]), (&b"sidx"[..], 1), "a version-1 sidx");
    b[28..36].copy_from_slice(&((SIDX_AT + SIDX_LEN) as u64).to_be_bytes());
    b
}

fn planner(doc: &str) -> Planner {
    Planner::new(doc, &Url::parse(BASE).unwrap(), &SelectOptions::default()).unwrap()
}

/// Plans `doc`, answering its one whole-file index need with `bytes`; gives the plan, the local
/// manifest and the need's URL.
fn plan_with(doc: &str, bytes: &[u8]) -> Result<(Plan, String, String), MpdError> {
    let p = planner(doc);
    let needs = p.index_needs();
    assert_eq!(needs.len(), 1, "{needs:?}");
    assert_eq!(needs[0].range, None, "the index file is fetched whole");
    let mut indexes = HashMap::new();
    indexes.insert(needs[0].key.clone(), bytes.to_vec());
    assert_eq!(p.pending_index_needs(&indexes)?, []);
    let (plan, local) = p.finish(&indexes)?;
    Ok((plan, local, needs[0].url.clone()))
}

fn ranges(plan: &Plan) -> Vec<[u64; 2]> {
    plan.tracks[0]
        .segments
        .iter()
        .map(|s| s.range.unwrap())
        .collect()
}

#[test]
fn an_index_in_the_media_file_counts_from_the_end_of_its_sidx_box_and_outranks_duration() {
    let (plan, local, url) = plan_with(
        &doc(r#"index="$RepresentationID$.mp4" initialization="$RepresentationID$-init.mp4" media="ignored-$Number$.m4s" duration="1""#),
        FILE,
    )
    .unwrap();
    assert_eq!(url, "https://cdn.example/a/v.mp4");
    let t = &plan.tracks[0];
    assert_eq!(ranges(&plan), FRAGMENTS);
    assert!(
        t.segments.iter().all(|s| s.url == url),
        "media from the BaseURL"
    );
    assert_eq!(t.timescale, 10240);
    let init = t.init.as_ref().unwrap();
    assert_eq!(
        (init.url.as_str(), init.range),
        ("https://cdn.example/a/v-init.mp4", None)
    );
    let end = t.segments.last().unwrap().end;
    assert!((end - 4.0).abs() < 0.01, "four seconds of media, not {end}");
    assert_eq!(plan.estimated_bytes, 7825 - 867 + 1);
    assert!(
        local.contains("SegmentTimeline") && !local.contains("index="),
        "{local}"
    );
}

#[test]
fn an_external_index_counts_first_offset_from_the_start_of_the_media_file() {
    let (plan, _, url) = plan_with(
        &doc(r#"index="$RepresentationID$-$Bandwidth$.sidx" timescale="10240" presentationTimeOffset="0""#),
        &external_sidx(),
    )
    .unwrap();
    assert_eq!(url, "https://cdn.example/a/v-1000.sidx");
    assert_eq!(ranges(&plan), FRAGMENTS);
    let t = &plan.tracks[0];
    assert!(t
        .segments
        .iter()
        .all(|s| s.url == "https://cdn.example/a/v.mp4"));
    assert_eq!(t.init, None, "no initialization attribute, no init segment");
}

#[test]
fn the_index_url_fills_only_the_representation_id_and_bandwidth() {
    let p = planner(&doc(
        r#"index="i/$RepresentationID$_$Bandwidth%06d$_$Number$.sidx""#,
    ));
    assert_eq!(
        p.index_needs()[0].url,
        "https://cdn.example/a/i/v_001000_$Number$.sidx"
    );
}

#[test]
fn an_index_template_needs_its_file_and_refuses_one_over_the_cap_or_of_webm() {
    let d = doc(r#"index="v.sidx""#);
    let p = planner(&d);
    assert!(matches!(
        p.finish(&HashMap::new()),
        Err(MpdError::IndexNeeded(_))
    ));
    let mut big = external_sidx();
    big.resize(mpd::MAX_INDEX_FILE_BYTES as usize + 1, 0);
    assert!(matches!(plan_with(&d, &big), Err(MpdError::TooLarge(_))));
    let webm = [0x1a, 0x45, 0xdf, 0xa3, 0x80];
    assert!(matches!(plan_with(&d, &webm), Err(MpdError::BadIndex(_))));
    assert!(matches!(
        plan_with(&d, b"no box"),
        Err(MpdError::BadIndex(_))
    ));
}

#[test]
fn a_template_without_index_still_needs_media_and_timing() {
    let err = Planner::new(
        &doc(r#"initialization="i.mp4""#),
        &Url::parse(BASE).unwrap(),
        &SelectOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, MpdError::NoSegmentInfo(_)));
}

#[test]
fn the_fuzz_seed_plans_without_panicking_as_the_fuzzer_feeds_it() {
    // parse_plan answers every index need with the input itself: not a sidx, so an error.
    let seed = include_str!("../fuzz/seeds/parse_plan/segment-template-index.mpd");
    let p = Planner::new(seed, &Url::parse(BASE).unwrap(), &SelectOptions::default()).unwrap();
    let needs = p.index_needs();
    assert!(needs.iter().all(|n| n.range.is_none()), "{needs:?}");
    let indexes: HashMap<String, Vec<u8>> = needs
        .into_iter()
        .map(|n| (n.key, seed.as_bytes().to_vec()))
        .collect();
    assert!(matches!(p.finish(&indexes), Err(MpdError::BadIndex(_))));
}
