//! The download engine's rules for big files, lying servers, redirects, the network going away
//! and two workers sharing one database, against the in-memory twins.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

mod common;

use common::single_file::{
    assert_single_file_bytes_right, download_single, single_file_world, FILE, FILE_SIZE,
};
use common::world;
use engine::memory::MemHost;
use engine::{Command, Event, FetchError, JobConfig, Manager, State, StopReason};
use futures::executor::LocalPool;
use serde_json::json;

#[test]
fn a_byte_range_longer_than_the_value_limit_is_stored_in_chunks_that_join_to_the_segment() {
    let mut w = single_file_world();
    download_single(&mut w, "big");
    w.pool.run_until_stalled();
    assert_eq!(w.state("big").0, State::Completed);
    let sizes: Vec<u64> = w
        .store
        .segments
        .borrow()
        .values()
        .map(|c| c.body.0.len() as u64)
        .collect();
    assert!(
        sizes.iter().all(|s| *s <= 512),
        "a value over the limit: {sizes:?}"
    );
    // init 1 + 3 segments × 4 chunks + the 3000-byte sidecar in 6 slices
    assert_eq!(w.stored("big"), 1 + 12 + 6);
    assert_single_file_bytes_right(&w, "big");
}

#[test]
fn a_worker_killed_in_the_middle_of_a_big_file_resumes_from_the_missing_chunks() {
    let mut w = single_file_world();
    w.fetcher.hang_after.set(Some(7)); // the manifest, then six requests
    download_single(&mut w, "big");
    w.pool.run_until_stalled();
    let stored_before = w.stored("big");
    // One request per video record (init, chunks); the subtitle file is one request stored
    // as six slices.
    let fetches_stored = {
        let segments = w.store.segments.borrow();
        let video = segments
            .keys()
            .filter(|k| k.0 == "big" && k.1 == "p0a0r0")
            .count();
        let slices = segments
            .keys()
            .filter(|k| k.0 == "big" && k.1 == "p0a1r0")
            .count();
        assert!(
            slices == 0 || slices == 6,
            "the subtitle file, fetched whole, is stored whole or not at all: {slices} of 6 slices"
        );
        let sub = slices == 6;
        video + usize::from(sub)
    };
    assert!(
        stored_before > 0,
        "some chunks were committed before the kill"
    );
    assert_ne!(w.state("big").0, State::Completed);
    w.fetcher.hang_after.set(None);
    let mut w = w.restarted(JobConfig {
        chunk_bytes: 512,
        ..JobConfig::default()
    });
    w.fetcher.log.borrow_mut().clear();
    assert_eq!(w.wake(), 1);
    w.pool.run_until_stalled();
    assert_eq!(w.state("big").0, State::Completed);
    let refetched = w.fetcher.log.borrow().len();
    assert_eq!(
        refetched,
        (1 + 12 + 1) - fetches_stored,
        "only missing chunks were fetched again"
    );
    assert_single_file_bytes_right(&w, "big");
}

#[test]
fn a_short_body_from_a_lying_server_is_never_stored_and_the_request_is_tried_again() {
    let mut w = single_file_world();
    w.fetcher.truncate_once(FILE, 10);
    w.fetcher.truncate_once(FILE, 0);
    download_single(&mut w, "lie");
    w.pool.run_until_stalled();
    assert_eq!(w.state("lie").0, State::Completed);
    assert_single_file_bytes_right(&w, "lie");
}

#[test]
fn progress_totals_are_exact_from_the_start_when_the_manifest_gives_byte_ranges() {
    let mut w = single_file_world();
    download_single(&mut w, "exact");
    w.pool.run_until_stalled();
    let first = w.host.events.borrow().iter().find_map(|e| match e {
        Event::Progress(p) => Some(p.total_bytes),
        _ => None,
    });
    let total = FILE_SIZE as u64;
    // The video's ranges are exact; the sidecar (no range) is estimated until it is stored.
    assert!(
        first.is_some_and(|t| t >= total && t < total + 1000),
        "{first:?}"
    );
    let last = w.host.events.borrow().iter().rev().find_map(|e| match e {
        Event::Progress(p) => Some((p.bytes_downloaded, p.total_bytes, p.progress)),
        _ => None,
    });
    assert_eq!(last, Some((total + 3000, total + 3000, 100.0)));
}

const CHUNK_3: &str = "http://media.test/s/chunk-stream1-00003.m4s";

#[test]
fn a_segment_redirected_to_another_origin_fails_the_entry_with_9011_naming_it() {
    let mut w = world();
    let elsewhere = "http://tracker.example/chunk-stream1-00003.m4s";
    w.fetcher
        .redirects
        .borrow_mut()
        .insert(CHUNK_3.into(), elsewhere.into());
    w.fetcher.put(elsewhere, vec![0u8; 10]);
    w.prepare_and_download("r");
    w.pool.run_until_stalled();
    assert_eq!(w.state("r"), (State::Failed, Some(StopReason::Error)));
    let err = w.store.entries.borrow()["r"].error.clone().unwrap();
    assert_eq!((err.code, err.data["url"].as_str()), (9011, Some(CHUNK_3)));
    assert!(
        err.message().contains("http://tracker.example"),
        "{}",
        err.message()
    );
}

#[test]
fn a_redirect_to_an_origin_the_app_allowed_is_followed() {
    let mut w = world();
    let cdn2 = "http://cdn2.example/chunk-stream1-00003.m4s";
    w.fetcher
        .redirects
        .borrow_mut()
        .insert(CHUNK_3.into(), cdn2.into());
    w.fetcher.put(cdn2, vec![3u8; 10_030]);
    let options = mpd::SelectOptions {
        redirect_origins: Some(vec!["http://cdn2.example".into()]),
        ..Default::default()
    };
    let config = json!({"sources": {"dash": [{"url": common::MANIFEST}]}});
    w.start_with("r", config, Some(options)).unwrap();
    w.pool.run_until_stalled();
    assert_eq!(w.state("r").0, State::Completed);
}

#[test]
fn going_offline_pauses_with_reason_network_at_once_then_the_download_resumes_by_itself() {
    let mut w = world();
    w.host.online.set(false);
    w.fetcher
        .fail_once(CHUNK_3, FetchError::Network("Failed to fetch".into()));
    w.prepare_and_download("n");
    // Offline: the failed request is not retried and the entry waits for the network.
    w.pool.run_until_stalled();
    assert_eq!(w.state("n"), (State::Paused, Some(StopReason::Network)));
    let tries = w
        .fetcher
        .log
        .borrow()
        .iter()
        .filter(|u| *u == CHUNK_3)
        .count();
    assert_eq!(tries, 1, "no retries were spent while offline");
    // The network is back: the next event that wakes the worker resumes it.
    w.host.online.set(true);
    assert_eq!(w.wake(), 1);
    w.pool.run_until_stalled();
    assert_eq!(w.state("n").0, State::Completed);
}

#[test]
fn while_waiting_for_the_network_the_worker_asks_pages_to_keep_it_alive() {
    let mut w = world();
    w.fetcher
        .fail_once(CHUNK_3, FetchError::Network("Failed to fetch".into()));
    w.host.online.set(false);
    w.host.hold_timers();
    w.prepare_and_download("n");
    w.pool.run_until_stalled();
    assert_eq!(w.state("n"), (State::Paused, Some(StopReason::Network)));
    let ping = w.run(Command::Ping).unwrap();
    assert_eq!(ping["activeJobs"], 1, "pages keep pinging: {ping}");
    // The network comes back; the worker's own retry timer (no page event) resumes it.
    w.host.online.set(true);
    w.host.release_timers();
    w.pool.run_until_stalled();
    assert_eq!(
        w.state("n").0,
        State::Completed,
        "the retry timer resumed it"
    );
    assert_eq!(w.run(Command::Ping).unwrap()["activeJobs"], 0);
}

#[test]
fn two_workers_sharing_the_database_never_download_the_same_job_twice() {
    let mut w = world();
    w.fetcher.hang_after.set(Some(1)); // the manifest only: the job is planned, nothing fetched
    w.prepare_and_download("twice");
    w.pool.run_until_stalled();
    w.fetcher.hang_after.set(None);
    w.fetcher.log.borrow_mut().clear();
    // Two fresh workers of one origin (say two registrations) wake at the same moment.
    let pool = LocalPool::new();
    let first = MemHost::new(&pool);
    let second = first.sharing_locks(&pool);
    let managers = [first, second].map(|host| {
        Manager::new(
            w.fetcher.clone(),
            w.store.clone(),
            host,
            "https://app.test/".into(),
            JobConfig::default(),
        )
    });
    let mut pool = pool;
    for m in &managers {
        let m = m.clone();
        pool.run_until(async move { m.resume_unfinished().await })
            .unwrap();
    }
    pool.run_until_stalled();
    assert_eq!(w.state("twice").0, State::Completed);
    let log = w.fetcher.log.borrow();
    let mut unique = log.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        log.len(),
        unique.len(),
        "a segment was fetched twice: {log:?}"
    );
}
