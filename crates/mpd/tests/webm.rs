//! WebM SegmentBase (Cues) on files ffmpeg wrote (see `fixtures/webm/README.md`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

use mpd::webm::{parse_cues, parse_init};
use mpd::{MpdError, Plan, Planner, SelectOptions};
use std::collections::HashMap;
use url::Url;

fn file(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/webm/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn bytes(data: &[u8], [a, b]: [u64; 2]) -> Vec<u8> {
    data[a as usize..=b as usize].to_vec()
}

/// Plans `mpd` (at `http://cdn.example/w/m.mpd`), serving every index need from the fixtures.
fn plan(mpd: &str) -> Result<Plan, MpdError> {
    let url = Url::parse("http://cdn.example/w/m.mpd").unwrap();
    let options = SelectOptions {
        all: true,
        ..SelectOptions::default()
    };
    let planner = Planner::new(mpd, &url, &options)?;
    let mut indexes = HashMap::new();
    for need in planner.index_needs() {
        let name = need.url.rsplit('/').next().unwrap();
        indexes.insert(need.key, bytes(&file(name), need.range.unwrap()));
    }
    planner.finish(&indexes).map(|(p, _)| p)
}

fn manifest() -> String {
    String::from_utf8(file("webm-dash-manifest.mpd")).unwrap()
}

fn ranges(plan: &Plan, id: &str) -> Vec<[u64; 2]> {
    let t = plan.tracks.iter().find(|t| t.id == id).unwrap();
    t.segments.iter().map(|s| s.range.unwrap()).collect()
}

#[test]
fn webm_tracks_need_their_cues_and_their_init_bytes() {
    let url = Url::parse("http://cdn.example/w/m.mpd").unwrap();
    let planner = Planner::new(&manifest(), &url, &SelectOptions::default()).unwrap();
    let needs: Vec<(String, [u64; 2])> = planner
        .index_needs()
        .into_iter()
        .map(|n| (n.key, n.range.unwrap()))
        .collect();
    assert_eq!(
        needs,
        [
            ("p0a0r0".to_string(), [10570, 10627]),
            ("p0a0r0:init".to_string(), [0, 468]),
            ("p0a1r0".to_string(), [3866, 3941]),
            ("p0a1r0:init".to_string(), [0, 500]),
        ]
    );
}

#[test]
fn vp9_clusters_become_segments_ending_where_the_next_cluster_or_the_cues_start() {
    let p = plan(&manifest()).unwrap();
    // Clusters at 469, 4113 and 7380; the Cues (10570-10627, the manifest's indexRange) follow.
    assert_eq!(ranges(&p, "0"), [[469, 4112], [4113, 7379], [7380, 10569]]);
    let v = &p.tracks[0];
    assert_eq!(v.timescale, 1000, "TimecodeScale 1 ms");
    let times: Vec<(f64, f64)> = v.segments.iter().map(|s| (s.start, s.end)).collect();
    assert_eq!(times, [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)]);
    assert_eq!(v.init.as_ref().unwrap().range, Some([0, 468]));
    // `ffprobe -show_packets` puts the keyframes at 481, 4126 and 7393 (pts 0, 1, 2 s): one in
    // each cluster, just after its header.
    let data = file("video-vp9.webm");
    for ([a, b], key) in ranges(&p, "0").into_iter().zip([481, 4126, 7393]) {
        assert!(a < key && key <= b, "{a}-{b} holds {key}");
        assert_eq!(data[a as usize..a as usize + 4], [0x1F, 0x43, 0xB6, 0x75]);
    }
}

#[test]
fn opus_clusters_and_the_last_one_lasting_until_info_duration() {
    let p = plan(&manifest()).unwrap();
    assert_eq!(
        ranges(&p, "1"),
        [[501, 1653], [1654, 2722], [2723, 3800], [3801, 3865]]
    );
    let a = p.tracks.iter().find(|t| t.id == "1").unwrap();
    let td: Vec<(u64, u64)> = a.segments.iter().map(|s| (s.t, s.d)).collect();
    // CueTimes 0, 981, 1981, 2981 ms; Info Duration 3008 ms.
    assert_eq!(td, [(0, 981), (981, 1000), (1981, 1000), (2981, 27)]);
    assert_eq!(p.estimated_bytes, (10570 - 469) + (3866 - 501));
}

#[test]
fn cues_before_the_clusters_end_the_last_cluster_at_the_segment_end() {
    let data = file("audio-opus-cues-front.webm");
    let layout = parse_init(&bytes(&data, [0, 500]), 0).unwrap();
    assert_eq!((layout.data_start, layout.data_end), (48, Some(3942)));
    let index = parse_cues(&bytes(&data, [501, 576]), 501, &layout, None).unwrap();
    let got: Vec<[u64; 2]> = index.subsegments.iter().map(|s| s.range).collect();
    assert_eq!(got, [[577, 1729], [1730, 2798], [2799, 3876], [3877, 3941]]);
}

#[test]
fn an_unknown_size_segment_is_refused_only_when_the_last_cluster_end_is_unknown() {
    let unknown = |name: &str, init_end: usize| {
        let mut init = file(name)[..=init_end].to_vec();
        // The Segment size (8 bytes at 40) set to the all-ones "unknown" marker.
        init[40..48].copy_from_slice(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        parse_init(&init, 0).unwrap()
    };
    let layout = unknown("audio-opus.webm", 500);
    assert_eq!(layout.data_end, None);
    let cues = bytes(&file("audio-opus.webm"), [3866, 3941]);
    let index = parse_cues(&cues, 3866, &layout, None).unwrap();
    assert_eq!(
        index.subsegments[3].range,
        [3801, 3865],
        "the Cues follow it"
    );

    let layout = unknown("audio-opus-cues-front.webm", 500);
    let cues = bytes(&file("audio-opus-cues-front.webm"), [501, 576]);
    let err = parse_cues(&cues, 501, &layout, None).unwrap_err();
    assert!(err.to_string().contains("unknown size"), "{err}");
}

#[test]
fn truncated_init_or_cues_bytes_are_errors_not_panics() {
    let data = file("audio-opus.webm");
    let init = bytes(&data, [0, 500]);
    let cues = bytes(&data, [3866, 3941]);
    let layout = parse_init(&init, 0).unwrap();
    for cut in 0..cues.len() {
        assert!(
            parse_cues(&cues[..cut], 3866, &layout, None).is_err(),
            "{cut}"
        );
    }
    // Cut before the end of Info: no TimecodeScale to trust.
    for cut in 0..264 {
        assert!(parse_init(&init[..cut], 0).is_err(), "{cut}");
    }
}

#[test]
fn webm_cues_under_an_mp4_mime_type_are_an_index_error() {
    let doc = manifest().replace("video/webm", "video/mp4");
    let err = plan(&doc).unwrap_err();
    assert!(matches!(err, MpdError::BadIndex(_)), "{err:?}");
}

#[test]
fn a_webm_track_without_its_init_bytes_asks_for_them() {
    let url = Url::parse("http://cdn.example/w/m.mpd").unwrap();
    let planner = Planner::new(&manifest(), &url, &SelectOptions::default()).unwrap();
    let mut indexes = HashMap::new();
    for need in planner.index_needs() {
        if !need.key.ends_with(":init") {
            let name = need.url.rsplit('/').next().unwrap();
            indexes.insert(need.key, bytes(&file(name), need.range.unwrap()));
        }
    }
    assert!(matches!(
        planner.finish(&indexes),
        Err(MpdError::IndexNeeded(_))
    ));
}

#[test]
fn every_single_byte_corruption_is_a_result_not_a_panic() {
    let data = file("audio-opus.webm");
    let (init, cues) = (bytes(&data, [0, 500]), bytes(&data, [3866, 3941]));
    let layout = parse_init(&init, 0).unwrap();
    for at in 0..init.len().max(cues.len()) {
        for value in [0x00, 0x01, 0x7F, 0x80, 0xFF] {
            if let Some(slot) = init.get(at) {
                let mut bad = init.clone();
                bad[at] = value ^ slot;
                if let Ok(l) = parse_init(&bad, 0) {
                    let _ = parse_cues(&cues, 3866, &l, Some(3.0));
                }
            }
            if let Some(slot) = cues.get(at) {
                let mut bad = cues.clone();
                bad[at] = value ^ slot;
                if let Ok(index) = parse_cues(&bad, 3866, &layout, None) {
                    for s in index.subsegments {
                        assert!(s.range[0] <= s.range[1] && s.d > 0);
                    }
                }
            }
        }
    }
}
