//! Stored titles the browser took something from: records deleted under storage pressure,
//! files it can no longer read, a manifest gone, the database closed under a running job.
//! Each is noticed, named to pages, and resuming downloads only what is missing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

mod common;

use common::{world, World};
use engine::protocol::Event;
use engine::{Command, JobConfig, State, StopReason};
use serde_json::Value;

/// A world with entry `e` of the template stream downloaded to the end.
fn completed() -> World {
    let mut w = world();
    w.prepare_and_download("e");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e").0, State::Completed);
    w
}

/// The keys of `e`'s records, in IndexedDB's order.
fn keys(w: &World) -> Vec<(String, String, u32, u32)> {
    w.store
        .segments
        .borrow()
        .keys()
        .filter(|k| k.0 == "e")
        .cloned()
        .collect()
}

/// Every stored segment of `e` equals the origin's bytes.
fn assert_bytes_are_the_origins(w: &World) {
    let content = w.fetcher.content.borrow();
    for (_, track, index, _) in keys(w) {
        let stored = w.store.segment_bytes("e", &track, index).unwrap();
        assert!(
            content.values().any(|b| *b == stored),
            "{track}/{index} holds bytes the origin never served"
        );
    }
}

fn evicted_errors(w: &World) -> Vec<String> {
    w.host
        .events
        .borrow()
        .iter()
        .filter_map(|e| match e {
            Event::Error(err) if err.code == 9001 => err.data.get("message").cloned(),
            _ => None,
        })
        .filter_map(|m: Value| m.as_str().map(str::to_string))
        .collect()
}

fn list_entry(w: &mut World) -> Value {
    w.run(Command::List).unwrap()[0].clone()
}

#[test]
fn a_completed_title_whose_records_the_browser_deleted_is_listed_as_evicted() {
    let mut w = completed();
    let all = keys(&w);
    for k in &all[3..5] {
        w.store.segments.borrow_mut().remove(k);
    }
    let listed = list_entry(&mut w);
    assert_eq!(listed["state"], "failed");
    assert_eq!(listed["stopReason"], "evicted");
    assert_eq!(listed["error"]["code"], 9001);
    let message = listed["error"]["data"]["message"].as_str().unwrap();
    assert!(message.contains("2 stored segments"), "{message}");
    assert!(message.contains("resume"), "{message}");
    assert_eq!(evicted_errors(&w).len(), 1, "pages heard it once");
    // Listing again says the same, without a second error.
    assert_eq!(list_entry(&mut w)["stopReason"], "evicted");
    assert_eq!(evicted_errors(&w).len(), 1);
}

#[test]
fn listing_completed_titles_reads_none_of_their_records_or_plans_yet_shows_their_sizes() {
    let mut w = completed();
    w.prepare_and_download("f");
    w.pool.run_until_stalled();
    let bytes = w.store.stored_bytes();
    w.store.records_read.set(0);
    w.store.plans_read.set(0);
    let listed = w.run(Command::List).unwrap();
    assert_eq!(w.store.records_read.get(), 0, "no record was read");
    assert_eq!(w.store.plans_read.get(), 0, "no plan was read");
    let all = listed.as_array().unwrap();
    assert_eq!(all.len(), 2);
    let sizes: u64 = all.iter().map(|e| e["size"].as_u64().unwrap()).sum();
    assert_eq!(sizes, bytes, "the sizes are those of the stored records");
    for e in all {
        assert_eq!(e["state"], "completed");
        assert_eq!(e["progress"], 100.0);
        assert_eq!(e["segmentsDone"], e["segmentsTotal"]);
        assert_eq!(e["size"], e["expectedSize"]);
    }
}

#[test]
fn of_two_completed_titles_only_the_one_that_lost_records_is_listed_as_evicted() {
    let mut w = completed();
    w.prepare_and_download("f");
    w.pool.run_until_stalled();
    let lost = keys(&w)[2].clone();
    w.store.segments.borrow_mut().remove(&lost);
    let listed = w.run(Command::List).unwrap();
    let by_id = |id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id("e")["stopReason"], "evicted");
    assert_eq!(by_id("f")["state"], "completed");
    assert_eq!(evicted_errors(&w).len(), 1);
}

#[test]
fn resuming_an_evicted_title_fetches_only_what_is_missing() {
    let mut w = completed();
    let all = keys(&w);
    let gone = all[4].clone();
    w.store.segments.borrow_mut().remove(&gone);
    list_entry(&mut w);
    w.fetcher.log.borrow_mut().clear();
    w.run(Command::Resume {
        entry_id: "e".into(),
    })
    .unwrap();
    w.pool.run_until_stalled();
    assert_eq!(w.state("e"), (State::Completed, None));
    assert_eq!(keys(&w), all, "every record is back");
    let fetched: Vec<String> = w.fetcher.log.borrow().clone();
    let media: Vec<&String> = fetched.iter().filter(|u| u.ends_with(".m4s")).collect();
    assert_eq!(
        media.len(),
        1,
        "only the lost segment was fetched: {fetched:?}"
    );
    assert_bytes_are_the_origins(&w);
}

#[test]
fn a_title_whose_files_the_browser_lost_is_noticed_soon_after_the_worker_starts() {
    let w = completed();
    let first = keys(&w)[0].clone();
    w.store.unreadable.borrow_mut().insert(first.clone());
    let mut w = w.restarted(JobConfig::default());
    let started = w.host.now.get();
    w.wake();
    w.pool.run_until_stalled();
    assert!(
        w.host.now.get() - started >= f64::from(engine::manager::PROBE_DELAY_MS),
        "the probe waits for the pages' first requests to be answered"
    );
    assert_eq!(w.state("e"), (State::Failed, Some(StopReason::Evicted)));
    assert!(
        !keys(&w).contains(&first),
        "the unreadable record is deleted, so the download fetches it again"
    );
    w.run(Command::Resume {
        entry_id: "e".into(),
    })
    .unwrap();
    w.pool.run_until_stalled();
    assert_eq!(w.state("e").0, State::Completed);
    assert!(keys(&w).contains(&first));
    assert_bytes_are_the_origins(&w);
}

#[test]
fn verify_reads_a_sound_title_back_and_changes_nothing() {
    let mut w = completed();
    let v = w
        .run(Command::Verify {
            entry_id: "e".into(),
            repair: None,
        })
        .unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["records"], keys(&w).len() as u64);
    assert_eq!(v["bytes"], w.store.stored_bytes());
    assert_eq!(v["missing"], 0);
    assert_eq!(v["unreadable"], 0);
    assert_eq!(v["state"], "completed");
    assert!(evicted_errors(&w).is_empty());
}

#[test]
fn verify_with_repair_fetches_a_record_the_start_probe_could_not_see() {
    let mut w = completed();
    let all = keys(&w);
    // Neither the first nor the last record: only a full read-back finds it.
    let middle = all[all.len() / 2].clone();
    w.store.unreadable.borrow_mut().insert(middle.clone());
    w.wake();
    assert_eq!(
        w.state("e").0,
        State::Completed,
        "the probe reads the ends only"
    );
    let v = w
        .run(Command::Verify {
            entry_id: "e".into(),
            repair: Some(true),
        })
        .unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["unreadable"], 1);
    assert_eq!(v["missing"], 1);
    assert_eq!(v["state"], "downloading", "repair resumed it");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e").0, State::Completed);
    assert_eq!(keys(&w), all);
    assert!(w.store.unreadable.borrow().is_empty());
    assert_bytes_are_the_origins(&w);
}

#[test]
fn a_title_whose_manifest_was_deleted_gets_it_back_on_resume() {
    let mut w = completed();
    let manifest = w.store.manifests.borrow().get("e").cloned().unwrap();
    w.store.manifests.borrow_mut().remove("e");
    let listed = list_entry(&mut w);
    assert_eq!(listed["stopReason"], "evicted");
    let message = listed["error"]["data"]["message"].as_str().unwrap();
    assert!(message.contains("its manifest"), "{message}");
    w.run(Command::Resume {
        entry_id: "e".into(),
    })
    .unwrap();
    w.pool.run_until_stalled();
    assert_eq!(w.state("e").0, State::Completed);
    assert_eq!(w.store.manifests.borrow().get("e"), Some(&manifest));
}

#[test]
fn a_database_closed_under_a_running_job_stops_it_and_the_next_wake_resumes_it() {
    let mut w = world();
    w.fetcher.hang_after.set(Some(6));
    w.prepare_and_download("e");
    w.pool.run_until_stalled();
    assert_eq!(w.manager.active_jobs(), 1);
    w.manager.storage_lost(false);
    w.pool.run_until_stalled();
    assert_eq!(w.manager.active_jobs(), 0, "the job stopped");
    assert_eq!(
        w.state("e").0,
        State::Downloading,
        "the entry still wants to run"
    );
    assert!(
        evicted_errors(&w).is_empty(),
        "a closed connection is no eviction"
    );
    w.fetcher.hang_after.set(None);
    assert_eq!(w.wake(), 1);
    w.pool.run_until_stalled();
    assert_eq!(w.state("e").0, State::Completed);
    assert_bytes_are_the_origins(&w);
}

#[test]
fn a_database_the_browser_deleted_is_named_to_pages() {
    let w = world();
    w.manager.storage_lost(true);
    let errors = evicted_errors(&w);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("navigator.storage.persist()"),
        "{}",
        errors[0]
    );
}

#[test]
fn pings_of_a_library_of_completed_titles_read_no_plan_after_the_first_wake_probed_them() {
    let mut w = completed();
    w.prepare_and_download("f");
    w.pool.run_until_stalled();
    let mut w = w.restarted(JobConfig::default());
    w.store.plans_read.set(0);
    w.run(Command::Ping).unwrap();
    w.pool.run_until_stalled();
    assert_eq!(
        w.store.plans_read.get(),
        2,
        "the first wake probes both titles' ends"
    );
    w.store.plans_read.set(0);
    for _ in 0..3 {
        w.run(Command::Ping).unwrap();
    }
    assert_eq!(
        w.store.plans_read.get(),
        0,
        "a ping reads the entry records only"
    );
}
