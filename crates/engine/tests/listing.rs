//! `listing`: a page that holds the worker's last listing is told it still holds while nothing
//! changed, and gets every entry again as soon as anything it shows did.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

mod common;

use common::{world, World, MANIFEST};
use engine::manager::RECOUNT_MS;
use engine::Command;
use serde_json::{json, Value};

fn listing(w: &mut World, since: Option<&Value>) -> Value {
    w.run(Command::Listing {
        since: since.and_then(Value::as_str).map(str::to_string),
    })
    .unwrap()
}

fn prepare(w: &mut World, id: &str) {
    w.run(Command::Prepare {
        entry_id: id.into(),
        config: json!({"sources": {"dash": [{"url": MANIFEST}]}}),
    })
    .unwrap();
}

#[test]
fn a_page_holding_the_latest_listing_is_told_it_still_holds_and_gets_no_entries() {
    let mut w = world();
    prepare(&mut w, "a");
    prepare(&mut w, "b");
    let first = listing(&mut w, None);
    assert_eq!(first["entries"].as_array().unwrap().len(), 2);
    assert!(first["tag"].is_string(), "{first}");
    let again = listing(&mut w, Some(&first["tag"]));
    assert_eq!(again["entries"], Value::Null, "{again}");
    assert_eq!(again["tag"], first["tag"]);
}

#[test]
fn a_listing_after_a_download_ran_shows_its_progress_not_the_listing_the_page_held() {
    let mut w = world();
    prepare(&mut w, "a");
    let before = listing(&mut w, None);
    assert_eq!(before["entries"][0]["state"], "prepared");
    w.run(Command::Download {
        entry_id: "a".into(),
        options: None,
    })
    .unwrap();
    w.pool.run_until_stalled();
    let after = listing(&mut w, Some(&before["tag"]));
    assert_eq!(after["entries"][0]["state"], "completed", "{after}");
    assert_eq!(after["entries"][0]["progress"], 100.0);
    assert_ne!(after["tag"], before["tag"]);
}

#[test]
fn a_listing_after_an_entry_was_removed_or_added_lists_every_entry_again() {
    let mut w = world();
    prepare(&mut w, "a");
    prepare(&mut w, "b");
    let held = listing(&mut w, None);
    w.run(Command::Remove {
        entry_id: "a".into(),
    })
    .unwrap();
    let after_remove = listing(&mut w, Some(&held["tag"]));
    let ids: Vec<&str> = after_remove["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["b"]);
    prepare(&mut w, "c");
    let after_add = listing(&mut w, Some(&after_remove["tag"]));
    assert_eq!(after_add["entries"].as_array().unwrap().len(), 2);
}

#[test]
fn a_tag_the_page_made_up_or_kept_from_elsewhere_gets_every_entry() {
    let mut w = world();
    prepare(&mut w, "a");
    let answer = listing(&mut w, Some(&json!("not-a-tag.0")));
    assert_eq!(answer["entries"].as_array().unwrap().len(), 1);
}

#[test]
fn a_listing_read_while_a_download_stores_segments_carries_no_tag_that_would_hide_them() {
    let mut w = world();
    prepare(&mut w, "a");
    w.run(Command::Download {
        entry_id: "a".into(),
        options: None,
    })
    .unwrap();
    // The job runs on the pool while the listing reads: whatever tag it gives, a later
    // listing that sends it must show the entry completed.
    let during = listing(&mut w, None);
    w.pool.run_until_stalled();
    let after = listing(&mut w, Some(&during["tag"]));
    let entries = match after["entries"].as_array() {
        Some(list) => list.clone(),
        None => during["entries"].as_array().unwrap().clone(),
    };
    assert_eq!(
        entries[0]["state"], "completed",
        "during {during}, after {after}"
    );
}

#[test]
fn pings_and_reads_of_an_idle_library_leave_the_page_its_listing() {
    let mut w = world();
    w.prepare_and_download("a");
    w.pool.run_until_stalled();
    prepare(&mut w, "b");
    w.run(Command::Ping).unwrap();
    let held = listing(&mut w, None);
    w.run(Command::Ping).unwrap();
    w.run(Command::Get {
        entry_id: "a".into(),
    })
    .unwrap();
    w.run(Command::List).unwrap();
    let again = listing(&mut w, Some(&held["tag"]));
    assert_eq!(again["entries"], Value::Null, "{again}");
}

#[test]
fn records_another_context_deleted_make_the_listing_whole_again_and_show_the_title_evicted() {
    let mut w = world();
    w.prepare_and_download("a");
    w.pool.run_until_stalled();
    let held = listing(&mut w, None);
    assert_eq!(held["entries"][0]["state"], "completed");
    // Devtools, or the browser, deletes a record under the worker: no write of the worker's.
    let lost = w.store.segments.borrow().keys().next().cloned().unwrap();
    w.store.segments.borrow_mut().remove(&lost);
    w.host.advance(RECOUNT_MS);
    let after = listing(&mut w, Some(&held["tag"]));
    assert_eq!(after["entries"][0]["state"], "failed", "{after}");
    assert_eq!(after["entries"][0]["stopReason"], "evicted");
}

#[test]
fn a_page_polling_the_listing_costs_one_record_count_a_second_and_still_sees_its_own_changes_at_once(
) {
    let mut w = world();
    w.prepare_and_download("a");
    w.pool.run_until_stalled();
    let held = listing(&mut w, None);
    let counts = w.store.record_counts.get();
    for _ in 0..10 {
        let again = listing(&mut w, Some(&held["tag"]));
        assert_eq!(again["entries"], Value::Null, "{again}");
    }
    assert_eq!(
        w.store.record_counts.get(),
        counts,
        "no count within the second"
    );
    // This worker's own change shows at once, listed with one count: the one that checks the
    // completed title's records also tags the listing.
    prepare(&mut w, "b");
    let after_prepare = listing(&mut w, Some(&held["tag"]));
    assert_eq!(after_prepare["entries"].as_array().unwrap().len(), 2);
    assert_eq!(w.store.record_counts.get(), counts + 1);
    // Another context's deletion shows with the next count, a second on.
    let lost = w.store.segments.borrow().keys().next().cloned().unwrap();
    w.store.segments.borrow_mut().remove(&lost);
    let stale = listing(&mut w, Some(&after_prepare["tag"]));
    assert_eq!(stale["entries"], Value::Null, "{stale}");
    w.host.advance(RECOUNT_MS);
    let after = listing(&mut w, Some(&after_prepare["tag"]));
    assert_eq!(after["entries"][0]["stopReason"], "evicted", "{after}");
}

#[test]
fn storage_lost_under_the_worker_makes_the_next_listing_whole() {
    let mut w = world();
    prepare(&mut w, "a");
    let held = listing(&mut w, None);
    w.manager.storage_lost(false);
    let after = listing(&mut w, Some(&held["tag"]));
    assert!(after["entries"].is_array(), "{after}");
}
