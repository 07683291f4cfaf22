//! Encrypted entries: licences acquired before any segment, expiry, renewal that leaves the
//! segments alone, refusal of what cannot be kept offline, and removal.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

mod common;

use common::{protected_world, world, World, KID_UUID, LICENSE, PROTECTED};
use engine::license::answer_license_request;
use engine::memory::MemStore;
use engine::{Command, State};
use serde_json::{json, Value};

const KID: &str = "EAAAABAAEAAQABAAAAAAAQ";
const KEY: &str = "AAECAwQFBgcICQoLDA0ODw";

fn cenc_and(system_uuid: &str) -> String {
    format!(
        r#"<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="{KID_UUID}"/>
<ContentProtection schemeIdUri="urn:uuid:{system_uuid}"/>"#
    )
}

const CLEARKEY: &str = "e2719d58-a985-b3c9-781a-b030af78d30e";
const WIDEVINE: &str = "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed";

fn licence_answer(expiration: f64) -> String {
    json!({"keys": [{"kty": "oct", "kid": KID, "k": KEY}], "type": "temporary", "expiration": expiration})
        .to_string()
}

fn config(scheme: &str) -> Value {
    json!({"sources": {"dash": [{"url": PROTECTED, "drmData": [{"scheme": scheme, "licenseUrl": LICENSE}]}]}})
}

/// The protected stream downloaded (ClearKey scheme `scheme`) with a licence expiring at
/// `expiration`, run to its end.
fn downloaded(expiration: f64, scheme: &str) -> World {
    let mut w = protected_world(&cenc_and(CLEARKEY));
    w.fetcher
        .license_servers
        .borrow_mut()
        .insert(LICENSE.into(), (licence_answer(expiration), None));
    w.start("enc", config(scheme)).unwrap();
    w.pool.run_until_stalled();
    w
}

fn segments(store: &MemStore) -> usize {
    store.segments.borrow().len()
}

#[test]
fn an_encrypted_download_keeps_its_licence_and_expiry_and_answers_the_player_offline() {
    let mut w = downloaded(5e12, "drm.clearkey");
    assert_eq!(w.state("enc").0, State::Completed);
    let got = w
        .run(Command::Get {
            entry_id: "enc".into(),
        })
        .unwrap();
    assert_eq!(got["expiration"], 5e12);
    assert_eq!(
        got["localLicenseUrl"],
        "https://app.test/__offline__/enc/license"
    );
    // Offline: the licence server is gone; the worker answers from storage.
    w.fetcher.license_servers.borrow_mut().clear();
    let stored = w.store.licenses.borrow()["enc"].clone();
    let request = json!({"kids": [KID], "type": "temporary"}).to_string();
    let (status, body) = answer_license_request("enc", &request, &stored, 1e12);
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["keys"][0]["kid"].as_str(), v["keys"][0]["k"].as_str()),
        (Some(KID), Some(KEY))
    );
}

#[test]
fn an_expired_licence_is_refused_at_playback_with_9016_saying_to_renew() {
    let w = downloaded(2_000_000.0, "org.w3.clearkey");
    let stored = w.store.licenses.borrow()["enc"].clone();
    let request = json!({"kids": [KID]}).to_string();
    let (status, body) = answer_license_request("enc", &request, &stored, 3_000_000.0);
    assert_eq!(status, 403);
    let err: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["code"], 9016);
    assert!(err["data"]["message"]
        .as_str()
        .unwrap()
        .contains("renewLicense"));
}

#[test]
fn renewing_gets_a_fresh_licence_and_expiry_without_touching_segments() {
    let mut w = downloaded(1e12, "drm.clearkey");
    let (commits, stored) = (w.store.commits.get(), segments(&w.store));
    w.fetcher
        .license_servers
        .borrow_mut()
        .insert(LICENSE.into(), (licence_answer(2e12), None));
    let renewed = w
        .run(Command::Renew {
            entry_id: "enc".into(),
            config: Some(config("drm.clearkey")),
        })
        .unwrap();
    assert_eq!(renewed["expiration"], 2e12);
    assert_eq!(
        w.run(Command::Get {
            entry_id: "enc".into()
        })
        .unwrap()["expiration"],
        2e12
    );
    assert_eq!(
        (w.store.commits.get(), segments(&w.store)),
        (commits, stored)
    );
    // The licence server is gone: renewal fails with 9016 and the old licence stays.
    w.fetcher.license_servers.borrow_mut().clear();
    let err = w
        .run(Command::Renew {
            entry_id: "enc".into(),
            config: None,
        })
        .unwrap_err();
    assert_eq!(err.code, 9016);
    assert_eq!(w.store.licenses.borrow()["enc"][0].expiration, Some(2e12));
}

#[test]
fn removing_an_encrypted_entry_deletes_its_licences() {
    let mut w = downloaded(1e12, "drm.clearkey");
    assert!(w.store.licenses.borrow().contains_key("enc"));
    w.run(Command::Remove {
        entry_id: "enc".into(),
    })
    .unwrap();
    assert!(w.store.licenses.borrow().is_empty());
    assert_eq!(segments(&w.store), 0);
}

#[test]
fn widevine_only_content_is_refused_with_9009_before_any_segment_is_fetched() {
    let mut w = protected_world(&cenc_and(WIDEVINE));
    let err = w.start("wv", config("com.widevine.alpha")).unwrap_err();
    assert_eq!(err.code, 9009);
    assert!(err.message().contains("Widevine"), "{}", err.message());
    w.pool.run_until_stalled();
    assert_eq!(segments(&w.store), 0);
    assert_eq!(
        w.fetcher.log.borrow().as_slice(),
        [PROTECTED],
        "only the manifest was fetched"
    );
}

#[test]
fn a_licence_server_that_refuses_fails_the_download_with_9011_naming_it() {
    let mut w = protected_world(&cenc_and(CLEARKEY));
    let err = w.start("enc", config("drm.clearkey")).unwrap_err();
    assert_eq!((err.code, err.data["url"].as_str()), (9011, Some(LICENSE)));
    assert_eq!(segments(&w.store), 0);
}

#[test]
fn renewing_clear_content_is_refused_with_9016() {
    let mut w = world();
    w.prepare_and_download("clear");
    w.pool.run_until_stalled();
    let err = w
        .run(Command::Renew {
            entry_id: "clear".into(),
            config: None,
        })
        .unwrap_err();
    assert_eq!(err.code, 9016);
    assert_eq!(
        w.run(Command::Get {
            entry_id: "clear".into()
        })
        .unwrap()["expiration"],
        Value::Null
    );
}

// ---- persistent-license sessions made by the page (Widevine, PlayReady) ----------------------

const PSSH: &str = "AAAAMnBzc2gAAAAA7e+LqXnWSs6jyCfc1R0h7QAAABISEBAAAAAQABAAEAAQAAAAAAE=";

fn session(id: &str, expiration: Option<f64>) -> engine::entry::PersistentSession {
    engine::entry::PersistentSession {
        key_system: "com.widevine.alpha".into(),
        session_id: id.into(),
        init_data_type: "cenc".into(),
        init_data: PSSH.into(),
        expiration,
    }
}

/// Widevine-only content with its pssh in the manifest, prepared (not downloaded).
fn widevine_prepared() -> World {
    let mut w = protected_world(&format!(
        r#"<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="{KID_UUID}"/>
<ContentProtection schemeIdUri="urn:uuid:{WIDEVINE}"><cenc:pssh>{PSSH}</cenc:pssh></ContentProtection>"#
    ));
    w.run(Command::Prepare {
        entry_id: "wv".into(),
        config: config("com.widevine.alpha"),
    })
    .unwrap();
    w
}

#[test]
fn the_page_learns_the_pssh_of_the_selected_tracks_before_anything_is_downloaded() {
    let mut w = widevine_prepared();
    let told = w
        .run(Command::Protection {
            entry_id: "wv".into(),
            options: None,
        })
        .unwrap();
    let widevine = told["protection"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["scheme"] == format!("urn:uuid:{WIDEVINE}"))
        .cloned()
        .unwrap();
    assert_eq!(widevine["pssh"], PSSH);
    assert_eq!(w.state("wv").0, State::Prepared);
    assert_eq!(segments(&w.store), 0);
    assert_eq!(w.fetcher.log.borrow().as_slice(), [PROTECTED]);
}

#[test]
fn content_whose_sessions_the_page_keeps_downloads_without_a_licence_fetch_and_reports_their_expiry(
) {
    let mut w = widevine_prepared();
    w.run(Command::KeepSessions {
        entry_id: "wv".into(),
        sessions: vec![session("s-1", Some(4e12)), session("s-2", Some(3e12))],
    })
    .unwrap();
    w.run(Command::Download {
        entry_id: "wv".into(),
        options: None,
    })
    .unwrap();
    w.pool.run_until_stalled();
    assert_eq!(w.state("wv").0, State::Completed);
    assert!(!w.fetcher.log.borrow().iter().any(|u| u == LICENSE));
    let got = w
        .run(Command::Get {
            entry_id: "wv".into(),
        })
        .unwrap();
    assert_eq!(got["expiration"], 3e12, "the earliest session expiry");
    assert_eq!(got["sessions"][1]["sessionId"], "s-2");
    assert!(
        got.get("localLicenseUrl").is_none(),
        "the CDM keeps the licence, not the worker"
    );
    // The worker cannot renew CDM sessions: the page does (9016 says so if asked).
    let err = w
        .run(Command::Renew {
            entry_id: "wv".into(),
            config: None,
        })
        .unwrap_err();
    assert_eq!(err.code, 9016);
    // Removal hands the sessions back so that the page releases them from the CDM.
    let removed = w
        .run(Command::Remove {
            entry_id: "wv".into(),
        })
        .unwrap();
    assert_eq!(removed["sessions"][0]["sessionId"], "s-1");
    assert_eq!(segments(&w.store), 0);
}

#[test]
fn a_session_with_an_empty_id_is_refused_and_nothing_is_kept() {
    let mut w = widevine_prepared();
    let err = w
        .run(Command::KeepSessions {
            entry_id: "wv".into(),
            sessions: vec![session("", None)],
        })
        .unwrap_err();
    assert!(err.message().contains("sessionId"), "{}", err.message());
    assert!(w.store.entries.borrow()["wv"].sessions.is_empty());
}
