//! Playing an entry while it downloads: segments the store lacks come from the network, are
//! stored once, and steer the job to fetch just ahead of the player first.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

mod common;

use common::{world, world_with, World, MANIFEST};
use engine::manager::Playback;
use engine::{Command, Event, FetchError, JobConfig, State};
use std::collections::HashMap;
use std::rc::Rc;

const VIDEO: &str = "p0a0r1";
const AUDIO: &str = "p0a1r0";

fn video_url(n: u32) -> String {
    format!("http://media.test/s/chunk-stream1-{n:05}.m4s")
}

fn play(w: &mut World, track: &str, index: u32) -> Result<Playback<engine::memory::Bytes>, u16> {
    let m = w.manager.clone();
    let track = track.to_string();
    w.pool
        .run_until(async move { m.playback_segment("e", &track, index, false).await })
        .map_err(|(status, _)| status)
}

fn fetches(w: &World) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for url in w.fetcher.log.borrow().iter() {
        *n.entry(url.clone()).or_default() += 1;
    }
    n
}

fn paused_after_start(cfg: JobConfig) -> World {
    let mut w = world_with(cfg);
    w.prepare_and_download("e");
    w.run(Command::Pause {
        entry_id: "e".into(),
    })
    .expect("pause");
    w
}

#[test]
fn a_segment_played_during_the_download_is_fetched_once_and_the_job_does_not_fetch_it_again() {
    let mut w = world();
    w.prepare_and_download("e");
    let Ok(Playback::Fetched { body, content_type }) = play(&mut w, VIDEO, 6) else {
        panic!("the last video segment was not fetched for playback");
    };
    assert_eq!(body.0.len(), 10_060);
    assert_eq!(content_type, "video/mp4");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e").0, State::Completed);
    for (url, n) in fetches(&w) {
        assert_eq!(n, 1, "{url} fetched {n} times");
    }
    assert_eq!(
        w.store.segment_bytes("e", VIDEO, 6).map(|b| b.len()),
        Some(10_060)
    );
}

#[test]
fn a_segment_the_job_stored_after_the_player_found_it_missing_is_read_from_the_store_not_fetched_again(
) {
    let mut w = world();
    w.prepare_and_download("e");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e").0, State::Completed);
    assert!(matches!(play(&mut w, VIDEO, 6), Ok(Playback::Stored)));
    assert_eq!(fetches(&w).get(&video_url(6)), Some(&1));
}

#[test]
fn a_player_asking_again_for_a_segment_its_first_request_is_fetching_reaches_the_server_once() {
    use futures::task::LocalSpawnExt;
    use std::cell::RefCell;
    let mut w = paused_after_start(JobConfig::default());
    assert!(w.store.segment_bytes("e", VIDEO, 6).is_none());
    let answers: Rc<RefCell<Vec<&str>>> = Rc::default();
    w.host.hold_timers();
    for _ in 0..2 {
        let (m, answers) = (w.manager.clone(), answers.clone());
        w.pool
            .spawner()
            .spawn_local(async move {
                let answer = match m.playback_segment("e", VIDEO, 6, false).await {
                    Ok(Playback::Fetched { .. }) => "fetched",
                    Ok(Playback::Stored) => "stored",
                    Err(_) => "failed",
                };
                answers.borrow_mut().push(answer);
            })
            .expect("spawn");
    }
    w.pool.run_until_stalled();
    w.host.release_timers();
    w.pool.run_until_stalled();
    assert_eq!(*answers.borrow(), ["fetched", "stored"]);
    assert_eq!(fetches(&w).get(&video_url(6)), Some(&1));
    assert_eq!(
        w.store.segment_bytes("e", VIDEO, 6).map(|b| b.len()),
        Some(10_060)
    );
}

#[test]
fn after_a_play_request_the_job_fetches_just_ahead_of_the_playhead_first() {
    let cfg = JobConfig {
        concurrency: 1,
        batch: 1,
        ..JobConfig::default()
    };
    let mut w = paused_after_start(cfg);
    let before = w.fetcher.log.borrow().len();
    assert!(matches!(
        play(&mut w, VIDEO, 4),
        Ok(Playback::Fetched { .. })
    ));
    w.run(Command::Resume {
        entry_id: "e".into(),
    })
    .expect("resume");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e").0, State::Completed);
    let log = w.fetcher.log.borrow();
    let after: Vec<&String> = log[before + 1..].iter().collect();
    let first_media = after
        .iter()
        .position(|u| u.contains("chunk-stream"))
        .expect("the job fetched media");
    let next = after[first_media];
    assert!(
        next.ends_with("00004.m4s") || next.ends_with("00005.m4s"),
        "the job's first media fetch after the play request was {next}"
    );
    assert_eq!(log.iter().filter(|u| **u == video_url(4)).count(), 1);
}

#[test]
fn a_paused_download_plays_from_the_network_and_resuming_fetches_only_the_rest() {
    let mut w = paused_after_start(JobConfig::default());
    let before = w.store.segments.borrow().len() as u64;
    assert!(matches!(
        play(&mut w, AUDIO, 3),
        Ok(Playback::Fetched { .. })
    ));
    assert!(w.store.segment_bytes("e", AUDIO, 3).is_some());
    let Some(Event::Progress(p)) = w.host.events.borrow().last().cloned() else {
        panic!("no progress event after playback stored a segment");
    };
    assert_eq!(
        p.segments_done,
        before + 1,
        "the progress event counts what playback stored"
    );
    w.run(Command::Resume {
        entry_id: "e".into(),
    })
    .expect("resume");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e").0, State::Completed);
    for (url, n) in fetches(&w) {
        assert_eq!(n, 1, "{url} fetched {n} times");
    }
}

#[test]
fn offline_a_missing_segment_is_a_504_the_player_can_retry() {
    let mut w = paused_after_start(JobConfig::default());
    w.host.online.set(false);
    w.fetcher
        .fail_once(&video_url(5), FetchError::Network("offline".into()));
    assert_eq!(play(&mut w, VIDEO, 5).err(), Some(504));
    assert!(w.store.segment_bytes("e", VIDEO, 5).is_none());
}

#[test]
fn a_segment_the_plan_does_not_have_is_a_404() {
    let mut w = paused_after_start(JobConfig::default());
    assert_eq!(play(&mut w, VIDEO, 99).err(), Some(404));
    assert_eq!(play(&mut w, "p9a9r9", 1).err(), Some(404));
}

#[test]
fn an_entry_without_a_plan_has_nothing_to_play() {
    let mut w = world();
    w.run(Command::Prepare {
        entry_id: "e".into(),
        config: serde_json::json!({"sources": {"dash": [{"url": MANIFEST}]}}),
    })
    .expect("prepare");
    assert_eq!(play(&mut w, VIDEO, 1).err(), Some(404));
}

#[test]
fn with_the_disk_full_the_player_still_gets_the_segment_and_nothing_half_stored() {
    let mut w = paused_after_start(JobConfig::default());
    let used = w.store.stored_bytes();
    w.store.quota.set(Some(used));
    assert!(matches!(
        play(&mut w, VIDEO, 6),
        Ok(Playback::Fetched { .. })
    ));
    assert!(w.store.segment_bytes("e", VIDEO, 6).is_none());
}

/// The entry's stored-only manifest, made from its stored local manifest.
fn stored_only(w: &mut World) -> Result<String, engine::KalturaError> {
    let local = w
        .store
        .manifests
        .borrow()
        .get("e")
        .cloned()
        .expect("a local manifest");
    let m = w.manager.clone();
    w.pool
        .run_until(async move { m.stored_only_manifest("e", &local).await })
}

/// The media segments a manifest lists, over every track.
fn listed(manifest: &str) -> usize {
    let base = url::Url::parse("https://app.test/__offline__/e/manifest.mpd").expect("url");
    let all = mpd::SelectOptions {
        all: true,
        ..Default::default()
    };
    let (plan, _) = mpd::plan_manifest(manifest, &base, &all).expect("the manifest plans");
    plan.tracks.iter().map(|t| t.segments.len()).sum()
}

#[test]
fn the_stored_only_manifest_of_a_paused_download_lists_only_what_is_stored() {
    let mut w = paused_after_start(JobConfig::default());
    let cut = stored_only(&mut w);
    let stored = |track: &str| {
        (1..=6)
            .take_while(|i| w.store.segment_bytes("e", track, *i).is_some())
            .count()
    };
    let (video, audio) = (stored(VIDEO), stored(AUDIO));
    match cut {
        Ok(text) => {
            let listed = listed(&text);
            assert!(
                listed > 0 && listed <= video + audio,
                "{listed} listed, {video} + {audio} stored"
            );
        }
        Err(e) => {
            assert_eq!(e.code, 9003);
            assert!(
                video == 0 || audio == 0,
                "refused with {video} and {audio} stored"
            );
        }
    }
}

#[test]
fn a_completed_download_has_a_stored_only_manifest_of_the_whole_title() {
    let mut w = world();
    w.prepare_and_download("e");
    w.pool.run_until_stalled();
    let cut = stored_only(&mut w).expect("a manifest");
    assert_eq!(listed(&cut), 12);
}
