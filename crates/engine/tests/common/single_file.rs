//! One representation stored as one file, addressed by byte ranges (single-file SegmentList),
//! with a WebVTT sidecar fetched whole.
#![allow(
    dead_code,
    clippy::unwrap_used,
    reason = "shared by the test files, each of which uses its own part; a panic is a failed test"
)]

use super::{world_with, World};
use engine::JobConfig;
use serde_json::json;

pub const SINGLE: &str = "http://media.test/b/manifest.mpd";
pub const FILE: &str = "http://media.test/b/video.mp4";
pub const FILE_SIZE: usize = 6100;

/// The manifest.
pub const SINGLE_FILE_MPD: &str = r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT6S"
     profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
  <Period>
    <AdaptationSet mimeType="video/mp4" codecs="avc1.64001e">
      <Representation id="v" bandwidth="100000" width="640" height="360">
        <BaseURL>video.mp4</BaseURL>
        <SegmentList timescale="1" duration="2">
          <Initialization range="0-99"/>
          <SegmentURL mediaRange="100-2099"/>
          <SegmentURL mediaRange="2100-4099"/>
          <SegmentURL mediaRange="4100-6099"/>
        </SegmentList>
      </Representation>
    </AdaptationSet>
    <AdaptationSet mimeType="text/vtt" lang="en">
      <Representation id="sub" bandwidth="256"><BaseURL>sub.vtt</BaseURL></Representation>
    </AdaptationSet>
  </Period>
</MPD>"#;

pub fn origin_bytes(n: usize, seed: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 7 + seed) % 251) as u8).collect()
}

/// The single-file stream, with stored values limited to 512 bytes.
pub fn single_file_world() -> World {
    let w = world_with(JobConfig {
        concurrency: 2,
        batch: 3,
        chunk_bytes: 512,
        ..JobConfig::default()
    });
    w.fetcher.put(SINGLE, SINGLE_FILE_MPD);
    w.fetcher.put(FILE, origin_bytes(FILE_SIZE, 0));
    w.fetcher
        .put("http://media.test/b/sub.vtt", origin_bytes(3000, 3));
    w
}

pub fn download_single(w: &mut World, id: &str) {
    w.start(id, json!({"sources": {"dash": [{"url": SINGLE}]}}))
        .unwrap();
}

/// Every stored segment of the single-file stream equals the origin's bytes.
pub fn assert_single_file_bytes_right(w: &World, id: &str) {
    let file = origin_bytes(FILE_SIZE, 0);
    let track = "p0a0r0";
    assert_eq!(w.store.segment_bytes(id, track, 0).unwrap(), &file[0..100]);
    for (k, (a, b)) in [(100, 2099), (2100, 4099), (4100, 6099)].iter().enumerate() {
        let got = w.store.segment_bytes(id, track, k as u32 + 1).unwrap();
        assert_eq!(got, &file[*a..=*b], "segment {}", k + 1);
    }
    assert_eq!(
        w.store.segment_bytes(id, "p0a1r0", 1).unwrap(),
        origin_bytes(3000, 3)
    );
}
