//! What a stored entry needs to start in this browser's players: only representations the page's
//! MSE probe allows, refused with 9009 when a period has none of a kind, and, for ClearKey
//! entries, a local manifest naming the worker's licence endpoint.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

mod common;

use common::{protected_world, world, KID_UUID, LICENSE, MANIFEST, PROTECTED};
use engine::entry::PersistentSession;
use engine::{Command, State};
use mpd::playable::MediaType;
use mpd::SelectOptions;
use serde_json::{json, Value};

const LOCAL_LICENSE: &str = "https://app.test/__offline__/enc/license";

fn mp4protection() -> String {
    format!(
        r#"<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="{KID_UUID}"/>"#
    )
}

fn config(scheme: &str) -> Value {
    json!({"sources": {"dash": [{"url": PROTECTED, "drmData": [{"scheme": scheme, "licenseUrl": LICENSE}]}]}})
}

fn ty(mime: &str, codecs: &str) -> MediaType {
    MediaType {
        mime_type: mime.into(),
        codecs: codecs.into(),
    }
}

#[test]
fn a_clearkey_entry_stores_a_manifest_naming_the_workers_licence_endpoint() {
    // The manifest names only mp4protection and the key id: no ClearKey element of its own.
    let mut w = protected_world(&mp4protection());
    let answer = json!({"keys": [{"kty": "oct", "kid": "EAAAABAAEAAQABAAAAAAAQ", "k": "AAECAwQFBgcICQoLDA0ODw"}]});
    w.fetcher
        .license_servers
        .borrow_mut()
        .insert(LICENSE.into(), (answer.to_string(), None));
    w.start("enc", config("org.w3.clearkey")).unwrap();
    let local = w.store.manifests.borrow()["enc"].clone();
    let dashif = format!(
        r#"<dashif:Laurl xmlns:dashif="https://dashif.org/CPS">{LOCAL_LICENSE}</dashif:Laurl>"#
    );
    let clearkey = format!(
        r#"<clearkey:Laurl xmlns:clearkey="http://dashif.org/guidelines/clearKey" Lic_type="EME-1.0">{LOCAL_LICENSE}</clearkey:Laurl>"#
    );
    assert_eq!(
        local.matches(&dashif).count(),
        2,
        "one per adaptation set: {local}"
    );
    assert_eq!(local.matches(&clearkey).count(), 2, "{local}");
    assert_eq!(
        local
            .matches(
                r#"schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" value="ClearKey1.0""#
            )
            .count(),
        2
    );
}

#[test]
fn a_widevine_entry_keeps_its_own_content_protection() {
    let widevine = format!(
        r#"{}<ContentProtection schemeIdUri="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"/>"#,
        mp4protection()
    );
    let mut w = protected_world(&widevine);
    w.run(Command::Prepare {
        entry_id: "wv".into(),
        config: config("com.widevine.alpha"),
    })
    .unwrap();
    let session = PersistentSession {
        key_system: "com.widevine.alpha".into(),
        session_id: "s-1".into(),
        init_data_type: "cenc".into(),
        init_data: "AAAA".into(),
        expiration: None,
    };
    w.run(Command::KeepSessions {
        entry_id: "wv".into(),
        sessions: vec![session],
    })
    .unwrap();
    w.run(Command::Download {
        entry_id: "wv".into(),
        options: None,
    })
    .unwrap();
    let local = w.store.manifests.borrow()["wv"].clone();
    assert!(!local.contains("e2719d58"), "{local}");
    assert!(!local.contains("Laurl"), "{local}");
}

#[test]
fn the_protection_answer_lists_the_manifests_audio_and_video_types() {
    let mut w = world();
    w.run(Command::Prepare {
        entry_id: "e".into(),
        config: json!({"sources": {"dash": [{"url": MANIFEST}]}}),
    })
    .unwrap();
    let told = w
        .run(Command::Protection {
            entry_id: "e".into(),
            options: None,
        })
        .unwrap();
    assert_eq!(
        told["mediaTypes"],
        json!([
            {"mimeType": "video/mp4", "codecs": "avc1.4d401e"},
            {"mimeType": "video/mp4", "codecs": "avc1.4d401f"},
            {"mimeType": "audio/mp4", "codecs": "mp4a.40.2"},
        ])
    );
    assert_eq!(told["protection"], json!([]));
}

#[test]
fn a_download_under_a_probe_stores_only_what_the_browser_plays() {
    let mut w = world();
    let options = SelectOptions {
        playable: Some(vec![
            ty("video/mp4", "avc1.4d401e"),
            ty("audio/mp4", "mp4a.40.2"),
        ]),
        ..SelectOptions::default()
    };
    w.start_with(
        "e",
        json!({"sources": {"dash": [{"url": MANIFEST}]}}),
        Some(options),
    )
    .unwrap();
    let entry = w.store.entries.borrow()["e"].clone();
    let codecs: Vec<String> = entry
        .plan
        .unwrap()
        .tracks
        .iter()
        .map(|t| t.codecs.clone())
        .collect();
    assert_eq!(
        codecs,
        ["avc1.4d401e", "mp4a.40.2"],
        "not the taller avc1.4d401f"
    );
}

#[test]
fn a_period_this_browser_cannot_play_is_refused_with_9009_naming_the_codecs() {
    let mut w = world();
    let options = SelectOptions {
        playable: Some(vec![ty("audio/mp4", "mp4a.40.2")]),
        ..SelectOptions::default()
    };
    let err = w
        .start_with(
            "e",
            json!({"sources": {"dash": [{"url": MANIFEST}]}}),
            Some(options),
        )
        .unwrap_err();
    assert_eq!(err.code, 9009);
    assert!(err.message().contains("avc1.4d401f"), "{}", err.message());
    assert_eq!(err.data["codecs"], json!(["avc1.4d401e", "avc1.4d401f"]));
    assert_eq!(w.state("e").0, State::Prepared);
    assert_eq!(w.stored("e"), 0);
    // Nothing at all playable: the same refusal, not "nothing selected".
    let err = w
        .run(Command::Download {
            entry_id: "e".into(),
            options: Some(SelectOptions {
                playable: Some(vec![]),
                ..SelectOptions::default()
            }),
        })
        .unwrap_err();
    assert_eq!(err.code, 9009);
}
