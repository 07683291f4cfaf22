//! `SegmentTemplate@index` through the in-memory twins: the index file is fetched whole while
//! planning, and the media segments are byte ranges of the BaseURL file, stored as they are.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

mod common;

use common::{world, World};
use engine::State;
use serde_json::json;

const HOST: &str = "http://media.test/i/";
const FILE: &[u8] = include_bytes!("../../mpd/tests/fixtures/ffmpeg-global-sidx.mp4");
/// Where ffmpeg put the sidx box in the fixture, and its size.
const SIDX: [usize; 2] = [779, 88];
/// The fixture's fragments (moof + mdat).
const FRAGMENTS: [[usize; 2]; 4] = [[867, 3059], [3060, 4685], [4686, 6336], [6337, 7825]];

fn url(path: &str) -> String {
    format!("{HOST}{path}")
}

/// A manifest of one representation in `v.mp4` whose SegmentTemplate has `index`.
fn manifest(index: &str) -> String {
    format!(
        r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S"><Period><AdaptationSet mimeType="video/mp4" codecs="avc1.64000a"><Representation id="v" bandwidth="1000"><BaseURL>v.mp4</BaseURL><SegmentTemplate index="{index}" initialization="init.mp4"/></Representation></AdaptationSet></Period></MPD>"#
    )
}

fn download(w: &mut World, mpd: &str) -> Result<(), engine::KalturaError> {
    w.fetcher.put(&url("m.mpd"), mpd.to_string());
    w.fetcher.put(&url("v.mp4"), FILE.to_vec());
    w.fetcher.put(&url("init.mp4"), FILE[..SIDX[0]].to_vec());
    w.start("e", json!({"sources": {"dash": [{"url": url("m.mpd")}]}}))?;
    w.pool.run_until_stalled();
    Ok(())
}

/// The stored bytes of item `index` of the entry's only track.
fn stored(w: &World, index: u32) -> Vec<u8> {
    let plan = w.store.entries.borrow()["e"].plan.clone().unwrap();
    let key = plan.tracks[0].key.clone();
    w.store
        .segments
        .borrow()
        .iter()
        .filter(|((e, t, i, _), _)| e == "e" && *t == key && *i == index)
        .flat_map(|(_, c)| c.body.0.iter().copied())
        .collect()
}

fn assert_stored_as_in_the_file(w: &World) {
    assert_eq!(w.state("e").0, State::Completed);
    assert_eq!(w.stored("e"), 5, "init and four fragments");
    assert_eq!(stored(w, 0), &FILE[..SIDX[0]]);
    for (k, [a, b]) in FRAGMENTS.iter().enumerate() {
        assert_eq!(stored(w, k as u32 + 1), &FILE[*a..=*b], "fragment {k}");
    }
}

#[test]
fn an_index_inside_the_media_file_is_fetched_whole_once_and_its_fragments_stored() {
    let mut w = world();
    download(&mut w, &manifest("$RepresentationID$.mp4")).unwrap();
    assert_stored_as_in_the_file(&w);
    let log = w.fetcher.log.borrow();
    assert_eq!(
        log.iter().filter(|u| **u == url("v.mp4")).count(),
        1 + 4,
        "the index file whole, then each fragment"
    );
}

#[test]
fn an_external_index_file_locates_the_fragments_from_the_media_file_start() {
    let mut sidx = FILE[SIDX[0]..SIDX[0] + SIDX[1]].to_vec();
    sidx[28..36].copy_from_slice(&((SIDX[0] + SIDX[1]) as u64).to_be_bytes());
    let mut w = world();
    w.fetcher.put(&url("v-1000.sidx"), sidx);
    download(&mut w, &manifest("$RepresentationID$-$Bandwidth$.sidx")).unwrap();
    assert_stored_as_in_the_file(&w);
    assert_eq!(
        w.fetcher
            .log
            .borrow()
            .iter()
            .filter(|u| **u == url("v-1000.sidx"))
            .count(),
        1
    );
}

#[test]
fn an_index_file_over_the_cap_is_refused_naming_it_and_the_cap() {
    let mut w = world();
    w.fetcher.put(
        &url("big.sidx"),
        vec![0u8; mpd::MAX_INDEX_FILE_BYTES as usize + 1],
    );
    let err = download(&mut w, &manifest("big.sidx")).unwrap_err();
    let message = err.message();
    assert!(
        message.contains("the whole file")
            && message.contains(&url("big.sidx"))
            && message.contains(&mpd::MAX_INDEX_FILE_BYTES.to_string()),
        "{message}"
    );
    assert_eq!(w.stored("e"), 0);
}
