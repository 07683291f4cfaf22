//! Native tests of the job: byte ranges from outside data, and index fetch failures.

use super::*;
use crate::memory::{MemFetcher, MemHost, MemStore};
use mpd::{Segment, TrackKind, TrackPlan, MAX_OFFSET};

const FILE: &str = "https://cdn.test/f.mp4";

fn plan_with(range: [u64; 2]) -> Plan {
    let segment = Segment {
        url: FILE.into(),
        range: Some(range),
        start: 0.0,
        end: 8.0,
        t: 0,
        d: 8,
    };
    Plan {
        manifest_url: "https://cdn.test/m.mpd".into(),
        duration: Some(8.0),
        tracks: vec![TrackPlan {
            key: "p0a0r0".into(),
            period: 0,
            kind: TrackKind::Video,
            id: "v".into(),
            bandwidth: 1,
            mime_type: "video/mp4".into(),
            codecs: String::new(),
            lang: None,
            height: None,
            timescale: 1,
            pto: 0,
            init: None,
            init_from: None,
            segments: vec![segment],
            info: Default::default(),
            base_urls: vec!["https://cdn.test/".into()],
            encryption: None,
        }],
        estimated_bytes: 0,
    }
}

#[test]
fn a_range_spanning_all_of_u64_is_refused_before_chunking() {
    let plan = plan_with([0, u64::MAX]);
    let Err((url, message)) = units_to_fetch(&plan, &HashMap::new(), CHUNK_BYTES) else {
        panic!("the range was chunked");
    };
    assert_eq!(url, FILE);
    assert!(message.contains("out of bounds"), "{message}");
}

#[test]
fn the_largest_addressable_range_is_chunked_without_overflow() {
    let plan = plan_with([1, MAX_OFFSET]);
    let units = units_to_fetch(&plan, &HashMap::new(), 1 << 50).unwrap();
    assert_eq!(units.len(), 8);
    assert_eq!(units[0].range, Some([1, 1 << 50]));
    assert_eq!(units[7].range.map(|r| r[1]), Some(MAX_OFFSET));
    for pair in units.windows(2) {
        let (a, b) = (pair[0].range.unwrap(), pair[1].range.unwrap());
        assert_eq!(a[1] + 1, b[0]);
    }
}

#[test]
fn a_range_needing_more_chunks_than_an_item_may_have_is_refused() {
    let plan = plan_with([0, MAX_OFFSET]);
    let Err((_, message)) = units_to_fetch(&plan, &HashMap::new(), CHUNK_BYTES) else {
        panic!("2^30 chunks were listed");
    };
    assert!(message.contains("more than one item may have"), "{message}");
}

#[test]
fn progress_of_a_range_spanning_all_of_u64_saturates() {
    let totals = Totals::of(&plan_with([0, u64::MAX]), &[]);
    assert_eq!(totals.bytes_total, u64::MAX);
    assert_eq!(totals.percent(), 0.0);
}

type TestManager = crate::Manager<MemFetcher, MemStore, MemHost>;

/// A manager over in-memory twins serving `manifest` at `https://cdn.test/m.mpd`.
fn manager_with(
    pool: &futures::executor::LocalPool,
    manifest: &str,
) -> (Rc<TestManager>, Rc<MemFetcher>, Rc<MemStore>) {
    let fetcher = Rc::new(MemFetcher::default());
    fetcher.put("https://cdn.test/m.mpd", manifest);
    let store = Rc::new(MemStore::default());
    let manager = crate::Manager::new(
        fetcher.clone(),
        store.clone(),
        MemHost::new(pool),
        "https://app.test/".into(),
        JobConfig::default(),
    );
    (manager, fetcher, store)
}

/// Prepares entry `e` for the manifest and starts its download.
fn download(
    pool: &mut futures::executor::LocalPool,
    manager: &Rc<TestManager>,
) -> Result<crate::Answer, KalturaError> {
    let config = serde_json::json!({"sources": {"dash": [{"url": "https://cdn.test/m.mpd"}]}});
    let manager = manager.clone();
    pool.run_until(async move {
        let prepare = crate::Command::Prepare {
            entry_id: "e".into(),
            config,
        };
        manager.handle(prepare).await?;
        let download = crate::Command::Download {
            entry_id: "e".into(),
            options: None,
        };
        manager.handle(download).await
    })
}

#[test]
fn a_missing_segment_index_is_reported_with_its_url_and_status() {
    let mut pool = futures::executor::LocalPool::new();
    let manifest = r#"<MPD type="static" mediaPresentationDuration="PT8S"><Period>
        <AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1">
        <BaseURL>f.mp4</BaseURL><SegmentBase indexRange="800-899">
        <Initialization range="0-799"/></SegmentBase></Representation></AdaptationSet>
        </Period></MPD>"#;
    let (manager, _, _) = manager_with(&pool, manifest);
    let err = download(&mut pool, &manager).unwrap_err();
    assert_eq!(err.code, Code::DownloadFailed as u16);
    assert_eq!(err.data["url"], FILE);
    assert_eq!(err.data["status"], 404);
    let message = err.data["message"].as_str().unwrap_or_default();
    assert!(message.contains("segment index"), "{message}");
    assert!(message.contains("HTTP 404"), "{message}");
    assert!(message.contains(FILE), "{message}");
    assert!(!message.contains("manifest"), "{message}");
}

#[test]
fn webm_segment_base_tracks_are_stored_cluster_by_cluster() {
    let mut pool = futures::executor::LocalPool::new();
    let manifest = include_str!("../../mpd/tests/fixtures/webm/webm-dash-manifest.mpd");
    let video: &[u8] = include_bytes!("../../mpd/tests/fixtures/webm/video-vp9.webm");
    let audio: &[u8] = include_bytes!("../../mpd/tests/fixtures/webm/audio-opus.webm");
    let (manager, fetcher, store) = manager_with(&pool, manifest);
    fetcher.put("https://cdn.test/video-vp9.webm", video);
    fetcher.put("https://cdn.test/audio-opus.webm", audio);
    download(&mut pool, &manager).unwrap();
    pool.run_until_stalled();
    // Item 0 is the init range, then one item per cluster (the Cues are left out).
    let check = |track: &str, file: &[u8], items: &[[usize; 2]]| {
        for (index, [a, b]) in items.iter().enumerate() {
            let got = store.segment_bytes("e", track, index as u32);
            assert_eq!(got.as_deref(), Some(&file[*a..=*b]), "{track} item {index}");
        }
    };
    check(
        "p0a0r0",
        video,
        &[[0, 468], [469, 4112], [4113, 7379], [7380, 10569]],
    );
    check(
        "p0a1r0",
        audio,
        &[
            [0, 500],
            [501, 1653],
            [1654, 2722],
            [2723, 3800],
            [3801, 3865],
        ],
    );
}

#[test]
fn a_job_over_a_range_spanning_all_of_u64_fails_with_9011_naming_the_url() {
    let mut pool = futures::executor::LocalPool::new();
    let plan = plan_with([0, u64::MAX]);
    let fetcher = Rc::new(MemFetcher::default());
    fetcher.put(FILE, vec![0u8; 16]);
    let host = MemHost::new(&pool);
    let policy = RedirectPolicy::new(&plan, &[]);
    let store = Rc::new(MemStore::default());
    let cfg = JobConfig::default();
    let result = pool.run_until(run(
        "e",
        &plan,
        (&policy, &Default::default()),
        fetcher.clone(),
        store,
        host,
        cfg,
    ));
    let Err(JobError::Fatal(err)) = result else {
        panic!("{result:?}");
    };
    assert_eq!(err.code, Code::DownloadFailed as u16);
    assert_eq!(err.data["url"], FILE);
    assert!(fetcher.log.borrow().is_empty(), "nothing was fetched");
}

fn encrypted(mut plan: Plan) -> Plan {
    plan.tracks[0].encryption = Some(mpd::SegmentEncryption {
        key_url: "https://keys.test/k".into(),
        iv: "00".repeat(16),
    });
    plan
}

#[test]
fn an_encrypted_range_longer_than_a_chunk_is_one_unit() {
    let plan = encrypted(plan_with([100, 100 + 3 * CHUNK_BYTES]));
    let units = units_to_fetch(&plan, &HashMap::new(), CHUNK_BYTES).unwrap();
    assert_eq!(units.len(), 1, "CBC with padding decrypts only whole");
    assert_eq!(
        (units[0].chunks, units[0].range),
        (1, Some([100, 100 + 3 * CHUNK_BYTES]))
    );
    assert!(units[0].encryption.is_some());
}

#[test]
fn an_encrypted_range_too_long_to_decrypt_at_once_is_refused() {
    let plan = encrypted(plan_with([0, sea::MAX_ENCRYPTED_BYTES]));
    let Err((_, message)) = units_to_fetch(&plan, &HashMap::new(), CHUNK_BYTES) else {
        panic!("refused");
    };
    assert!(message.contains("decrypted at once"), "{message}");
}
