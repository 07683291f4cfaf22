//! The download engine against its in-memory twins: the hard cases as native tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

mod common;

use common::{world, MANIFEST};
use engine::{Command, Event, FetchError, JobConfig, State, StopReason};
use serde_json::json;

#[test]
fn a_download_stores_every_planned_segment_and_completes() {
    let mut w = world();
    let started = w.prepare_and_download("e1");
    assert_eq!(started["state"], "downloading");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e1"), (State::Completed, None));
    assert_eq!(
        w.stored("e1"),
        14,
        "init + 6 media for one video and one audio"
    );
    let last = w.host.events.borrow().iter().rev().find_map(|e| match e {
        Event::Progress(p) => Some(p.clone()),
        _ => None,
    });
    let last = last.unwrap();
    assert_eq!(
        (last.progress, last.segments_done, last.segments_total),
        (100.0, 14, 14)
    );
    assert_eq!(
        last.bytes_downloaded, last.total_bytes,
        "the estimate became exact"
    );
    assert!(w.store.manifests.borrow().contains_key("e1"));
}

#[test]
fn a_worker_killed_mid_download_resumes_without_refetching_what_is_stored() {
    let mut w = world();
    // The worker dies once 8 requests (manifest included) have gone out: what was in flight
    // and any uncommitted batch is lost with it.
    w.fetcher.hang_after.set(Some(8));
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    let stored_before = w.stored("e1");
    assert!(
        stored_before > 0 && stored_before < 14,
        "stored {stored_before}"
    );
    w.fetcher.hang_after.set(None);
    let mut w2 = w.restarted(JobConfig::default());
    assert_eq!(
        w2.state("e1").0,
        State::Downloading,
        "the entry still wants to run"
    );
    w2.fetcher.log.borrow_mut().clear();
    assert_eq!(w2.wake(), 1);
    w2.pool.run_until_stalled();
    assert_eq!(w2.state("e1").0, State::Completed);
    assert_eq!(w2.stored("e1"), 14);
    assert_eq!(
        w2.fetcher.log.borrow().len(),
        14 - stored_before,
        "only missing segments were fetched"
    );
}

#[test]
fn server_errors_are_retried_and_the_download_still_completes() {
    let mut w = world();
    let url = "http://media.test/s/chunk-stream1-00003.m4s";
    w.fetcher.fail_once(url, FetchError::Status { status: 503 });
    w.fetcher
        .fail_once(url, FetchError::Network("connection reset".into()));
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e1").0, State::Completed);
    assert_eq!(
        w.fetcher.log.borrow().iter().filter(|u| *u == url).count(),
        3
    );
}

#[test]
fn a_missing_segment_fails_the_entry_with_9011_naming_the_url() {
    let mut w = world();
    let url = "http://media.test/s/chunk-stream2-00004.m4s";
    w.fetcher.content.borrow_mut().remove(url);
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e1"), (State::Failed, Some(StopReason::Error)));
    let err = w.store.entries.borrow()["e1"].error.clone().unwrap();
    assert_eq!(err.code, 9011);
    assert_eq!(err.data["url"], url);
    assert!(w
        .host
        .events
        .borrow()
        .iter()
        .any(|e| matches!(e, Event::Error(e) if e.code == 9011)));
}

#[test]
fn a_full_disk_pauses_with_reason_quota_keeps_nothing_partial_and_resumes_when_freed() {
    let mut w = world();
    w.store.quota.set(Some(50_000));
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e1"), (State::Paused, Some(StopReason::Quota)));
    let err = w.store.entries.borrow()["e1"].error.clone().unwrap();
    assert_eq!(
        (err.code, err.data["name"].as_str()),
        (9011, Some("QuotaExceededError"))
    );
    assert!(w.stored("e1") < 14);
    w.store.quota.set(None);
    w.run(Command::Resume {
        entry_id: "e1".into(),
    })
    .unwrap();
    w.pool.run_until_stalled();
    assert_eq!(w.state("e1").0, State::Completed);
}

#[test]
fn a_disk_so_full_it_refuses_the_entry_record_still_pauses_for_quota_and_wakes_do_not_restart_it() {
    let mut w = world();
    w.store.quota.set(Some(50_000));
    w.store.entries_count_against_quota.set(true);
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    let got = w
        .run(Command::Get {
            entry_id: "e1".into(),
        })
        .unwrap();
    assert_eq!(
        (got["state"].as_str(), got["stopReason"].as_str()),
        (Some("paused"), Some("quota"))
    );
    assert!(w
        .host
        .events
        .borrow()
        .iter()
        .any(|e| matches!(e, Event::Error(e) if e.code == 9011)));
    let m = w.manager.clone();
    let restarted = w
        .pool
        .run_until(async move { m.resume_unfinished().await })
        .unwrap()
        .started;
    assert_eq!(
        restarted, 0,
        "a wake does not restart a job the disk stopped"
    );
    w.store.quota.set(None);
    w.run(Command::Resume {
        entry_id: "e1".into(),
    })
    .unwrap();
    w.pool.run_until_stalled();
    assert_eq!(w.state("e1").0, State::Completed);
}

#[test]
fn pause_stops_the_job_and_keeps_data_then_resume_finishes_it() {
    let mut w = world();
    w.fetcher.hang_after.set(Some(6));
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    w.fetcher.hang_after.set(None);
    let paused = w
        .run(Command::Pause {
            entry_id: "e1".into(),
        })
        .unwrap();
    assert_eq!(
        (paused["state"].as_str(), paused["stopReason"].as_str()),
        (Some("paused"), Some("user"))
    );
    w.pool.run_until_stalled();
    assert_eq!(
        w.state("e1"),
        (State::Paused, Some(StopReason::User)),
        "nothing ran after pause"
    );
    assert!(w.stored("e1") < 14);
    w.run(Command::Resume {
        entry_id: "e1".into(),
    })
    .unwrap();
    w.pool.run_until_stalled();
    assert_eq!(w.state("e1").0, State::Completed);
}

#[test]
fn remove_cancels_a_running_download_and_leaves_no_record() {
    let mut w = world();
    w.fetcher.hang_after.set(Some(6));
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    assert!(w.stored("e1") > 0);
    w.run(Command::Remove {
        entry_id: "e1".into(),
    })
    .unwrap();
    w.pool.run_until_stalled();
    assert!(w.store.entries.borrow().is_empty());
    assert_eq!(w.stored("e1"), 0);
    assert!(w.store.manifests.borrow().is_empty());
}

#[test]
fn commands_on_unknown_entries_answer_9013() {
    let mut w = world();
    let err = w
        .run(Command::Download {
            entry_id: "nope".into(),
            options: None,
        })
        .unwrap_err();
    assert_eq!(err.code, 9013);
    assert!(err.message().contains("getMediaConfig"));
}

#[test]
fn a_config_without_dash_is_refused_with_9009() {
    let mut w = world();
    let err = w
        .run(Command::Prepare {
            entry_id: "e".into(),
            config: json!({"sources": {"hls": []}}),
        })
        .unwrap_err();
    assert_eq!(err.code, 9009);
}

#[test]
fn a_live_manifest_is_refused_with_9005() {
    let mut w = world();
    w.fetcher.put(
        MANIFEST,
        include_str!("ffmpeg-template.mpd").replace(r#"type="static""#, r#"type="dynamic""#),
    );
    let err = w
        .start("e", json!({"sources": {"dash": [{"url": MANIFEST}]}}))
        .unwrap_err();
    assert_eq!(err.code, 9005);
}

#[test]
fn a_segment_missing_on_the_first_cdn_is_fetched_from_the_alternate_base_url() {
    let mut w = world();
    let text = include_str!("ffmpeg-template.mpd").replace(
        "<Period id=\"0\" start=\"PT0.0S\">",
        "<BaseURL>http://cdn1.test/s/</BaseURL><BaseURL>http://cdn2.test/s/</BaseURL><Period id=\"0\" start=\"PT0.0S\">",
    );
    w.fetcher.put(MANIFEST, text);
    let urls: Vec<(String, Vec<u8>)> = w
        .fetcher
        .content
        .borrow()
        .iter()
        .filter(|(u, _)| u.ends_with(".m4s"))
        .map(|(u, b)| (u.clone(), b.clone()))
        .collect();
    for (url, body) in urls {
        let name = url.rsplit('/').next().unwrap().to_string();
        if name != "chunk-stream1-00004.m4s" {
            w.fetcher
                .put(&format!("http://cdn1.test/s/{name}"), body.clone());
        }
        w.fetcher.put(&format!("http://cdn2.test/s/{name}"), body);
    }
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e1").0, State::Completed);
    let log = w.fetcher.log.borrow();
    assert!(log
        .iter()
        .any(|u| u == "http://cdn2.test/s/chunk-stream1-00004.m4s"));
    assert_eq!(
        log.iter()
            .filter(|u| u.starts_with("http://cdn2.test/"))
            .count(),
        1,
        "only the missing one moved"
    );
}

#[test]
fn the_poster_is_stored_and_reported_under_the_worker_scope() {
    let mut w = world();
    w.fetcher
        .put("http://media.test/poster.jpg", vec![0xff; 300]);
    let config =
        json!({"sources": {"dash": [{"url": MANIFEST}], "poster": "http://media.test/poster.jpg"}});
    let started = w.start("e1", config).unwrap();
    assert_eq!(
        started["poster"],
        "https://app.test/__offline__/e1/poster/0"
    );
    w.pool.run_until_stalled();
    assert_eq!(
        w.state("e1").0,
        State::Completed,
        "the poster does not count as a segment"
    );
    assert!(w.store.segments.borrow().contains_key(&(
        "e1".to_string(),
        "poster".to_string(),
        0,
        0
    )));
}

#[test]
fn a_poster_that_cannot_be_fetched_keeps_its_remote_url_and_the_download_goes_on() {
    let mut w = world();
    let config = json!({"sources": {"dash": [{"url": MANIFEST}], "poster": "http://media.test/missing.jpg"}});
    let started = w.start("e1", config).unwrap();
    assert_eq!(started["poster"], "http://media.test/missing.jpg");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e1").0, State::Completed);
}

#[test]
fn a_manifest_that_is_not_there_fails_with_9011_naming_url_and_status() {
    let mut w = world();
    let config = json!({"sources": {"dash": [{"url": "http://media.test/none.mpd"}]}});
    let err = w.start("e", config).unwrap_err();
    assert_eq!((err.code, err.data["status"].as_u64()), (9011, Some(404)));
    assert_eq!(err.data["url"], "http://media.test/none.mpd");
}

#[test]
fn a_download_checks_at_its_end_that_every_record_is_there_without_reading_one() {
    let mut w = world();
    w.prepare_and_download("e");
    w.store.records_read.set(0);
    w.pool.run_until_stalled();
    assert_eq!(w.state("e"), (State::Completed, None));
    assert_eq!(
        w.store.records_read.get(),
        0,
        "its keys are read, not its records (each a Blob in IndexedDB)"
    );
}

#[test]
fn records_deleted_while_a_download_runs_fail_it_at_its_end_and_resume_fetches_them() {
    let mut w = world();
    w.prepare_and_download("e");
    w.run_until_commits(2);
    let first: Vec<_> = w.store.segments.borrow().keys().take(2).cloned().collect();
    for k in &first {
        w.store.segments.borrow_mut().remove(k);
    }
    w.pool.run_until_stalled();
    assert_eq!(w.state("e"), (State::Failed, Some(StopReason::Error)));
    let message = w
        .host
        .events
        .borrow()
        .iter()
        .find_map(|e| match e {
            Event::Error(e) => Some(e.message().to_string()),
            _ => None,
        })
        .unwrap();
    assert!(message.contains("resume the download"), "{message}");
    w.run(Command::Resume {
        entry_id: "e".into(),
    })
    .unwrap();
    w.pool.run_until_stalled();
    assert_eq!(w.state("e"), (State::Completed, None));
    assert_eq!(w.stored("e"), 14);
}
