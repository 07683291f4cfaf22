//! Background mode against the in-memory browser: what is left of a plan is handed to the
//! browser's Background Fetch, its deliveries are stored with the foreground job's checks, and
//! refusals, failures, pauses, removals and killed workers lose nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

mod common;

use common::single_file::{assert_single_file_bytes_right, single_file_world, SINGLE};
use common::{world, World, MANIFEST};
use engine::entry::Mode;
use engine::job::BackgroundLimits;
use engine::manager::NO_BACKGROUND_FETCH;
use engine::memory::Bytes;
use engine::ports::{BackgroundEnd, Delivered};
use engine::{Command, FetchError, JobConfig, State};
use futures::task::LocalSpawnExt;
use mpd::SelectOptions;
use serde_json::{json, Value};

fn background() -> Option<SelectOptions> {
    Some(SelectOptions {
        background: Some(true),
        ..SelectOptions::default()
    })
}

/// The template world with Background Fetch in its browser (or not).
fn browser(available: bool) -> World {
    let w = world();
    w.fetcher.background.available.set(available);
    w
}

/// Downloads `e` in background mode and hands it over as the page shim does; gives the
/// download's answer.
fn start(w: &mut World, manifest: &str) -> Value {
    let answer = w
        .start_with(
            "e",
            json!({"sources": {"dash": [{"url": manifest}], "metadata": {"name": "Film"}}}),
            background(),
        )
        .unwrap();
    if answer["mode"] == "background" {
        hand_over(w);
    }
    w.pool.run_until_stalled();
    answer
}

/// What the page shim does after `download` or `resume` answers in background mode: asks the
/// worker for the plan, starts each fetch in the browser, and says which it took.
fn hand_over(w: &mut World) -> Value {
    let plan = w
        .run(Command::BackgroundPlan {
            entry_id: "e".into(),
        })
        .unwrap();
    let mut started = Vec::new();
    let mut refused = None;
    for f in plan["fetches"].as_array().unwrap() {
        let id = f["id"].as_str().unwrap().to_string();
        assert_eq!(f["title"], "Film");
        let urls: Vec<String> = serde_json::from_value(f["urls"].clone()).unwrap();
        match w.fetcher.start_background(&id, &urls) {
            Ok(()) => started.push(id),
            Err(why) => {
                refused = Some(why);
                break;
            }
        }
    }
    let answer = w
        .run(Command::BackgroundStarted {
            entry_id: "e".into(),
            started,
            refused,
        })
        .unwrap();
    w.pool.run_until_stalled();
    answer
}

/// Lets the browser finish fetch `id` and hands its responses to the worker.
fn deliver(w: &mut World, id: &str, end: BackgroundEnd) {
    let records = w.fetcher.finish_background(id);
    deliver_records(w, id, end, records);
}

fn deliver_records(w: &mut World, id: &str, end: BackgroundEnd, records: Vec<Delivered<Bytes>>) {
    let m = w.manager.clone();
    let id = id.to_string();
    w.pool
        .run_until(async move { m.background_delivered(&id, end, records).await })
        .unwrap();
    w.pool.run_until_stalled();
}

/// The browser finishes fetch `offline-manager:e:0`; the worker starts storing it and is left
/// after `n` commits: the moment to kill it or remove the entry.
fn store_delivery_until_commits(w: &mut World, n: u32) {
    let records = w.fetcher.finish_background("offline-manager:e:0");
    let m = w.manager.clone();
    w.pool
        .spawner()
        .spawn_local(async move {
            let _ = m
                .background_delivered("offline-manager:e:0", BackgroundEnd::Success, records)
                .await;
        })
        .unwrap();
    w.run_until_commits(n);
}

fn entry(w: &World) -> engine::Entry {
    w.store.entries.borrow().get("e").cloned().unwrap()
}

/// Requests the worker made itself, besides the manifest.
fn worker_fetches(w: &World) -> Vec<String> {
    let log = w.fetcher.log.borrow();
    log.iter()
        .filter(|u| !u.ends_with(".mpd"))
        .cloned()
        .collect()
}

fn summary(w: &mut World) -> Value {
    w.run(Command::Get {
        entry_id: "e".into(),
    })
    .unwrap()
}

#[test]
fn a_background_download_is_fetched_by_the_browser_and_completes_when_it_delivers() {
    let mut w = browser(true);
    let answer = start(&mut w, MANIFEST);
    assert_eq!(answer["mode"], "background");
    let started = w.fetcher.background.started.borrow().clone();
    assert_eq!(started.len(), 1, "one fetch for a small title");
    assert_eq!(started[0].0, "offline-manager:e:0");
    assert_eq!(
        started[0].1.len(),
        14,
        "init + 6 segments of video and audio"
    );
    assert!(
        worker_fetches(&w).is_empty(),
        "the worker fetched segments itself"
    );
    assert_eq!(w.state("e").0, State::Downloading);
    deliver(&mut w, "offline-manager:e:0", BackgroundEnd::Success);
    assert_eq!(w.state("e").0, State::Completed);
    assert_eq!(w.stored("e"), 14);
    assert_eq!(
        w.store.segment_bytes("e", "p0a0r1", 6).map(|b| b.len()),
        Some(10_060)
    );
    let s = summary(&mut w);
    assert_eq!(
        (s["mode"].as_str(), s["progress"].as_f64()),
        (Some("background"), Some(100.0))
    );
    assert!(entry(&w).background_fetches.is_empty());
}

#[test]
fn a_browser_without_background_fetch_downloads_in_the_foreground_and_says_so() {
    let mut w = browser(false);
    let answer = start(&mut w, MANIFEST);
    assert_eq!(answer["mode"], "foreground");
    assert_eq!(answer["modeReason"], NO_BACKGROUND_FETCH);
    assert_eq!(w.state("e").0, State::Completed);
    assert!(w.fetcher.background.started.borrow().is_empty());
}

#[test]
fn a_refused_background_fetch_falls_back_to_the_foreground_and_completes() {
    let mut w = browser(true);
    *w.fetcher.background.refuse.borrow_mut() = Some("QuotaExceededError".into());
    start(&mut w, MANIFEST);
    assert_eq!(w.state("e").0, State::Completed);
    let e = entry(&w);
    assert_eq!(e.mode, Mode::Foreground);
    let reason = e.mode_reason.unwrap();
    assert!(
        reason.contains("refused") && reason.contains("QuotaExceededError"),
        "{reason}"
    );
    let modes: Vec<Mode> = w
        .host
        .events
        .borrow()
        .iter()
        .filter_map(|e| match e {
            engine::Event::Statechange(d) => Some(d.mode),
            _ => None,
        })
        .collect();
    assert!(
        modes.contains(&Mode::Foreground),
        "pages were not told: {modes:?}"
    );
}

#[test]
fn a_big_plan_is_split_into_fetches_within_the_limits_and_each_delivery_is_stored() {
    let mut w = browser(true);
    w.manager.set_background_limits(BackgroundLimits {
        max_requests: 5,
        max_bytes: u64::MAX,
    });
    start(&mut w, MANIFEST);
    let ids = w.fetcher.background_ids();
    let sizes: Vec<usize> = w
        .fetcher
        .background
        .started
        .borrow()
        .iter()
        .map(|(_, u)| u.len())
        .collect();
    assert_eq!(sizes, vec![5, 5, 4]);
    deliver(&mut w, &ids[0], BackgroundEnd::Success);
    assert_eq!((w.state("e").0, w.stored("e")), (State::Downloading, 5));
    assert_eq!(entry(&w).background_fetches, ids[1..].to_vec());
    deliver(&mut w, &ids[2], BackgroundEnd::Success);
    deliver(&mut w, &ids[1], BackgroundEnd::Success);
    assert_eq!((w.state("e").0, w.stored("e")), (State::Completed, 14));
    assert!(worker_fetches(&w).is_empty());
}

#[test]
fn a_byte_range_file_is_fetched_once_in_the_background_and_its_ranges_cut_from_it() {
    let mut w = single_file_world();
    w.fetcher.background.available.set(true);
    start(&mut w, SINGLE);
    let started = w.fetcher.background.started.borrow().clone();
    assert_eq!(
        started[0].1,
        vec![
            "http://media.test/b/video.mp4",
            "http://media.test/b/sub.vtt"
        ]
    );
    deliver(&mut w, "offline-manager:e:0", BackgroundEnd::Success);
    assert_eq!(w.state("e").0, State::Completed);
    assert_single_file_bytes_right(&w, "e");
}

#[test]
fn a_failed_background_fetch_keeps_what_it_delivered_and_the_rest_resumes_in_the_foreground() {
    let mut w = browser(true);
    let missing = "http://media.test/s/chunk-stream1-00004.m4s";
    w.fetcher
        .fail_once(missing, FetchError::Status { status: 404 });
    start(&mut w, MANIFEST);
    deliver(
        &mut w,
        "offline-manager:e:0",
        BackgroundEnd::Failed("bad-status".into()),
    );
    assert_eq!(w.state("e").0, State::Completed);
    assert_eq!(
        worker_fetches(&w),
        vec![missing.to_string()],
        "only the missing one again"
    );
    let e = entry(&w);
    assert_eq!(e.mode, Mode::Foreground);
    assert!(e.mode_reason.unwrap().contains("bad-status"));
}

#[test]
fn a_response_redirected_to_another_origin_is_not_stored() {
    let mut w = browser(true);
    let url = "http://media.test/s/chunk-stream1-00002.m4s";
    w.fetcher.put("http://evil.test/x.m4s", vec![0u8; 10]);
    w.fetcher
        .redirects
        .borrow_mut()
        .insert(url.into(), "http://evil.test/x.m4s".into());
    start(&mut w, MANIFEST);
    deliver(&mut w, "offline-manager:e:0", BackgroundEnd::Success);
    // The foreground engine then meets the same redirect and fails the entry, saying where.
    assert_eq!(w.stored("e"), 13);
    assert_eq!(entry(&w).mode, Mode::Foreground);
    assert_ne!(
        w.store.segment_bytes("e", "p0a0r1", 2).map(|b| b.len()),
        Some(10)
    );
}

#[test]
fn pause_aborts_the_background_fetch_keeps_what_it_delivered_and_resume_hands_over_the_rest() {
    let mut w = browser(true);
    w.manager.set_background_limits(BackgroundLimits {
        max_requests: 5,
        max_bytes: u64::MAX,
    });
    start(&mut w, MANIFEST);
    w.run(Command::Pause {
        entry_id: "e".into(),
    })
    .unwrap();
    let aborted = w.fetcher.background.aborted.borrow().clone();
    assert_eq!(aborted.len(), 3, "every fetch out is aborted: {aborted:?}");
    assert!(w.fetcher.background_ids().is_empty());
    // The abort event brings what the first fetch had finished: it is kept.
    let first = w.fetcher.background.started.borrow()[0].1.clone();
    let records = first
        .iter()
        .map(|url| Delivered {
            url: url.clone(),
            response: Ok(engine::ports::Fetched {
                body: Bytes(std::rc::Rc::new(
                    w.fetcher.content.borrow().get(url).cloned().unwrap(),
                )),
                content_type: None,
                final_url: None,
            }),
        })
        .collect();
    deliver_records(&mut w, &aborted[0], BackgroundEnd::Aborted, records);
    assert_eq!((w.state("e").0, w.stored("e")), (State::Paused, 5));
    let resumed = w
        .run(Command::Resume {
            entry_id: "e".into(),
        })
        .unwrap();
    assert_eq!(resumed["mode"], "background");
    hand_over(&mut w);
    let ids = w.fetcher.background_ids();
    let asked: usize = ids
        .iter()
        .map(|id| w.fetcher.background.out.borrow()[id].len())
        .sum();
    assert_eq!((ids[0].as_str(), asked), ("offline-manager:e:3", 9));
    for id in ids {
        deliver(&mut w, &id, BackgroundEnd::Success);
    }
    assert_eq!((w.state("e").0, w.stored("e")), (State::Completed, 14));
    assert!(worker_fetches(&w).is_empty());
}

#[test]
fn remove_while_a_delivery_is_being_stored_leaves_no_record() {
    let mut w = browser(true);
    start(&mut w, MANIFEST);
    store_delivery_until_commits(&mut w, 2);
    assert!(
        w.stored("e") < 14,
        "the delivery was stored whole before the removal"
    );
    w.run(Command::Remove {
        entry_id: "e".into(),
    })
    .unwrap();
    w.pool.run_until_stalled();
    assert_eq!(w.stored("e"), 0);
    assert!(w.store.entries.borrow().is_empty());
}

#[test]
fn a_worker_killed_while_storing_a_delivery_loses_nothing_and_fetches_only_what_is_missing() {
    let mut w = browser(true);
    start(&mut w, MANIFEST);
    store_delivery_until_commits(&mut w, 3);
    let stored = w.stored("e");
    assert!(stored > 0 && stored < 14, "{stored} stored");
    // The worker is killed: the browser has delivered the fetch and will not again. A wake
    // first waits for a delivery that may be on its way, then downloads the rest itself.
    let mut w = w.restarted(JobConfig::default());
    w.wake();
    w.pool.run_until_stalled();
    assert_eq!(w.state("e").0, State::Downloading);
    assert!(
        worker_fetches(&w).is_empty(),
        "it took the fetch for lost at once"
    );
    w.host
        .now
        .set(w.host.now.get() + engine::manager::LOST_AFTER_MS);
    w.wake();
    w.pool.run_until_stalled();
    assert_eq!((w.state("e").0, w.stored("e")), (State::Completed, 14));
    let again = worker_fetches(&w);
    assert_eq!(
        again.len(),
        14 - stored,
        "fetched again only what was missing: {again:?}"
    );
    let e = entry(&w);
    assert_eq!(e.mode, Mode::Foreground);
    assert!(e
        .mode_reason
        .unwrap()
        .contains("while a page of the app is open"));
}

#[test]
fn an_entry_whose_page_closed_before_the_hand_over_downloads_in_the_foreground_after_a_minute() {
    let mut w = browser(true);
    w.start_with(
        "e",
        json!({"sources": {"dash": [{"url": MANIFEST}]}}),
        background(),
    )
    .unwrap();
    w.pool.run_until_stalled();
    assert_eq!(w.wake(), 1);
    w.pool.run_until_stalled();
    assert!(
        worker_fetches(&w).is_empty(),
        "it did not wait for the page"
    );
    w.host
        .now
        .set(w.host.now.get() + engine::manager::HANDOVER_WAIT_MS);
    w.wake();
    w.pool.run_until_stalled();
    assert_eq!(w.state("e").0, State::Completed);
    assert_eq!(entry(&w).mode, Mode::Foreground);
}

#[test]
fn a_page_cannot_hand_over_background_fetch_ids_of_another_entry() {
    let text = r#"{"v":1,"id":1,"type":"backgroundStarted","entryId":"e","started":["offline-manager:other:0"]}"#;
    assert!(engine::parse_request(text).is_err());
    let ok = r#"{"v":1,"id":1,"type":"backgroundStarted","entryId":"e","started":["offline-manager:e:0"]}"#;
    assert!(engine::parse_request(ok).is_ok());
}

#[test]
fn a_delivery_that_comes_after_its_fetch_was_taken_for_lost_is_stored_too() {
    let mut w = browser(true);
    start(&mut w, MANIFEST);
    let records = w.fetcher.finish_background("offline-manager:e:0");
    w.wake();
    w.host
        .now
        .set(w.host.now.get() + engine::manager::LOST_AFTER_MS);
    w.fetcher.stall.set(true); // the foreground engine that takes over gets nowhere
    w.wake();
    w.pool.run_until_stalled();
    assert_eq!(entry(&w).mode, Mode::Foreground);
    deliver_records(
        &mut w,
        "offline-manager:e:0",
        BackgroundEnd::Success,
        records,
    );
    assert_eq!(w.stored("e"), 14);
}

#[test]
fn a_wake_leaves_an_entry_alone_while_the_browser_still_downloads_it() {
    let mut w = browser(true);
    start(&mut w, MANIFEST);
    let mut w = w.restarted(JobConfig::default());
    w.host
        .now
        .set(w.host.now.get() + engine::manager::HANDOVER_WAIT_MS);
    assert_eq!(w.wake(), 0);
    w.pool.run_until_stalled();
    assert!(worker_fetches(&w).is_empty());
    assert_eq!(w.fetcher.background.started.borrow().len(), 1);
    assert_eq!(
        w.manager.active_jobs(),
        1,
        "pages keep the worker awake for its progress"
    );
    let again = w.start_with(
        "e",
        json!({"sources": {"dash": [{"url": MANIFEST}]}}),
        background(),
    );
    assert_eq!(
        again.unwrap_err().code,
        engine::Code::StoreAlreadyInProgress as u16
    );
}

#[test]
fn a_worker_stopped_after_storing_the_last_delivery_but_before_completing_completes_on_the_next_ping(
) {
    let mut w = browser(true);
    start(&mut w, MANIFEST);
    deliver(&mut w, "offline-manager:e:0", BackgroundEnd::Success);
    // What a worker stopped between those two writes leaves: every segment stored, no fetch
    // out, the entry not yet completed.
    {
        let mut entries = w.store.entries.borrow_mut();
        let e = entries.get_mut("e").unwrap();
        assert!(e.background_fetches.is_empty());
        e.state = State::Downloading;
        e.stored = None;
    }
    let mut w = w.restarted(JobConfig::default());
    let ping = w.run(Command::Ping).unwrap();
    assert_eq!(
        ping["activeJobs"], 1,
        "the page keeps pinging for it: {ping}"
    );
    w.pool.run_until_stalled();
    assert_eq!((w.state("e").0, w.stored("e")), (State::Completed, 14));
    assert!(worker_fetches(&w).is_empty(), "nothing fetched again");
    assert_eq!(
        entry(&w).mode,
        Mode::Background,
        "no fall back to the foreground"
    );
    assert_eq!(w.run(Command::Ping).unwrap()["activeJobs"], 0);
}
