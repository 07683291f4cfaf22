//! DASH segment encryption (AES-128-CBC, `urn:mpeg:dash:sea:2012`) through the in-memory twins:
//! segments are decrypted at download time, stored clear, and the key is never kept.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

#[path = "common/aes.rs"]
mod aes;
mod common;

use common::{world, world_with, World, MANIFEST};
use engine::{Event, FetchError, JobConfig, State};

const KEY: [u8; 16] = *b"0123456789abcdef";
const IV: [u8; 16] = [
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
];
const KEY_URL: &str = "http://keys.test/key?film=1";

/// The sea descriptor every AdaptationSet of the template stream gets.
fn sea(key_uri: &str) -> String {
    format!(
        r#"<ContentProtection xmlns:sea="urn:mpeg:dash:schema:sea:2012" schemeIdUri="urn:mpeg:dash:sea:2012">
             <sea:SegmentEncryption schemeIdUri="urn:mpeg:dash:sea:aes128-cbc:2013"/>
             <sea:CryptoPeriod IV="0xA0A1A2A3A4A5A6A7A8A9AAABACADAEAF" keyUriTemplate="{key_uri}"/>
           </ContentProtection>"#
    )
}

/// Turns the template world into its AES-128 twin: every segment (init too) encrypted, the key
/// served at [`KEY_URL`], the manifest announcing it. Returns the clear bodies by URL.
fn encrypt_world(w: &World, key_uri: &str) -> std::collections::HashMap<String, Vec<u8>> {
    let clear = w.fetcher.content.borrow().clone();
    let mut content = w.fetcher.content.borrow_mut();
    for (url, body) in &clear {
        if url.ends_with(".m4s") {
            content.insert(url.clone(), aes::encrypt(&KEY, &IV, body));
        }
    }
    let mpd = String::from_utf8(clear[MANIFEST].clone()).unwrap();
    let mut out = String::new();
    for line in mpd.lines() {
        out.push_str(line);
        out.push('\n');
        if line.trim_start().starts_with("<AdaptationSet") {
            out.push_str(&sea(key_uri));
        }
    }
    content.insert(MANIFEST.into(), out.into_bytes());
    content.insert(KEY_URL.into(), KEY.to_vec());
    drop(content);
    *w.fetcher.aes128_cbc.borrow_mut() = Some(Box::new(aes::decrypt));
    clear
}

fn last_progress(w: &World) -> engine::protocol::ProgressDetail {
    w.host
        .events
        .borrow()
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Progress(p) => Some(p.clone()),
            _ => None,
        })
        .unwrap()
}

fn error_of(w: &World, id: &str) -> engine::KalturaError {
    let e = w.store.entries.borrow().get(id).cloned().unwrap();
    assert_eq!(e.state, State::Failed);
    e.error.unwrap()
}

#[test]
fn the_test_cipher_matches_known_vectors() {
    aes::self_check();
}

#[test]
fn encrypted_segments_are_stored_decrypted_and_the_key_is_fetched_once() {
    let mut w = world();
    let clear = encrypt_world(&w, KEY_URL);
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e1"), (State::Completed, None));
    assert_eq!(w.stored("e1"), 14);
    let plan = w.store.entries.borrow()["e1"].plan.clone().unwrap();
    for t in &plan.tracks {
        assert_eq!(t.encryption.as_ref().unwrap().key_url, KEY_URL);
        let init = t.init.as_ref().unwrap();
        assert_eq!(
            w.store.segment_bytes("e1", &t.key, 0).as_ref(),
            Some(&clear[&init.url]),
            "init segments are encrypted too, as shaka-player has them"
        );
        for (k, s) in t.segments.iter().enumerate() {
            let stored = w.store.segment_bytes("e1", &t.key, k as u32 + 1);
            assert_eq!(stored.as_ref(), Some(&clear[&s.url]));
        }
    }
    let key_fetches = w
        .fetcher
        .log
        .borrow()
        .iter()
        .filter(|u| *u == KEY_URL)
        .count();
    assert_eq!(key_fetches, 1, "one key for every track of the run");
    let entry = w.store.entries.borrow()["e1"].clone();
    assert!(!entry.protected, "decrypted content needs no licence");
    assert!(w.store.licenses.borrow().get("e1").is_none());
    let local = w.store.manifests.borrow()["e1"].clone();
    assert!(!local.contains("ContentProtection") && !local.contains("CryptoPeriod"));
    let p = last_progress(&w);
    let stored_bytes = w.store.stored_bytes();
    assert_eq!((p.progress, p.segments_done), (100.0, 14));
    assert_eq!(
        (p.bytes_downloaded, p.total_bytes),
        (stored_bytes, stored_bytes)
    );
}

#[test]
fn a_relative_key_uri_resolves_against_the_base_url() {
    let mut w = world();
    encrypt_world(&w, "../keys/k.bin");
    let key = w.fetcher.content.borrow_mut().remove(KEY_URL).unwrap();
    w.fetcher.put("http://media.test/keys/k.bin", key);
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e1").0, State::Completed);
}

#[test]
fn a_missing_key_fails_with_9011_naming_the_key_url_before_any_segment() {
    let mut w = world();
    encrypt_world(&w, KEY_URL);
    w.fetcher.content.borrow_mut().remove(KEY_URL);
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    let err = error_of(&w, "e1");
    assert_eq!(err.code, 9011);
    assert_eq!(err.data["url"], KEY_URL);
    assert_eq!(err.data["status"], 404);
    assert!(err.data["message"].as_str().unwrap().contains(KEY_URL));
    assert!(!w.fetcher.log.borrow().iter().any(|u| u.ends_with(".m4s")));
}

#[test]
fn a_key_server_error_is_retried() {
    let mut w = world();
    encrypt_world(&w, KEY_URL);
    w.fetcher
        .fail_once(KEY_URL, FetchError::Status { status: 503 });
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e1").0, State::Completed);
}

#[test]
fn a_key_that_is_not_16_bytes_fails_with_9011() {
    let mut w = world();
    encrypt_world(&w, KEY_URL);
    w.fetcher.put(KEY_URL, vec![1u8; 32]);
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    let err = error_of(&w, "e1");
    assert_eq!((err.code, err.data["url"].as_str()), (9011, Some(KEY_URL)));
    assert!(err.data["message"].as_str().unwrap().contains("32 bytes"));
}

#[test]
fn a_wrong_key_fails_with_9011_saying_the_segment_could_not_be_decrypted() {
    let mut w = world();
    encrypt_world(&w, KEY_URL);
    w.fetcher.put(KEY_URL, b"fedcba9876543210".to_vec());
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    let err = error_of(&w, "e1");
    assert_eq!(err.code, 9011);
    let message = err.data["message"].as_str().unwrap();
    assert!(message.contains("could not be decrypted"), "{message}");
    assert_eq!(err.data["keyUrl"], KEY_URL);
    assert!(err.data["url"].as_str().unwrap().ends_with(".m4s"));
}

#[test]
fn a_resumed_run_fetches_the_key_again_since_keys_are_never_stored() {
    let mut w = world();
    encrypt_world(&w, KEY_URL);
    w.fetcher.hang_after.set(Some(8));
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    let before = w.stored("e1");
    assert!(before > 0 && before < 14, "stored {before}");
    w.fetcher.hang_after.set(None);
    let mut w2 = w.restarted(JobConfig::default());
    w2.fetcher.log.borrow_mut().clear();
    assert_eq!(w2.wake(), 1);
    w2.pool.run_until_stalled();
    assert_eq!(w2.state("e1").0, State::Completed);
    let log = w2.fetcher.log.borrow();
    assert_eq!(log.iter().filter(|u| *u == KEY_URL).count(), 1);
    assert_eq!(
        log.len(),
        14 - before + 1,
        "the missing segments and the key"
    );
    let entry = serde_json::to_string(&w2.store.entries.borrow()["e1"]).unwrap();
    assert!(
        !entry.contains("0123456789abcdef"),
        "no key in the entry record"
    );
}

#[test]
fn a_decrypted_segment_longer_than_a_chunk_is_stored_in_slices() {
    let mut w = world_with(JobConfig {
        chunk_bytes: 4096,
        ..JobConfig::default()
    });
    let clear = encrypt_world(&w, KEY_URL);
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e1").0, State::Completed);
    let url = "http://media.test/s/chunk-stream2-00003.m4s";
    let plan = w.store.entries.borrow()["e1"].plan.clone().unwrap();
    let audio = plan.tracks.iter().find(|t| t.id == "2").unwrap();
    assert_eq!(
        w.store.segment_bytes("e1", &audio.key, 3).as_ref(),
        Some(&clear[url])
    );
}

/// A SegmentList of byte ranges in one file, each range one encrypted segment: the size check
/// sees the encrypted length, a range longer than a chunk is fetched whole (CBC padding ends
/// the message) and its clear bytes stored in slices.
#[test]
fn encrypted_byte_ranges_are_checked_encrypted_and_fetched_whole() {
    let mut w = world_with(JobConfig {
        chunk_bytes: 4096,
        ..JobConfig::default()
    });
    *w.fetcher.aes128_cbc.borrow_mut() = Some(Box::new(aes::decrypt));
    let parts: Vec<Vec<u8>> = (1..=3u8).map(|n| vec![n; 9000 + usize::from(n)]).collect();
    let mut file = Vec::new();
    let mut ranges = Vec::new();
    for p in &parts {
        let enc = aes::encrypt(&KEY, &IV, p);
        ranges.push(format!("{}-{}", file.len(), file.len() + enc.len() - 1));
        file.extend(enc);
    }
    let urls: String = ranges
        .iter()
        .map(|r| format!(r#"<SegmentURL mediaRange="{r}"/>"#))
        .collect();
    let mpd = format!(
        r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT6S">
          <Period><AdaptationSet contentType="audio" mimeType="audio/mp4">{}
            <Representation id="a" bandwidth="64000" codecs="mp4a.40.2"><BaseURL>a.mp4</BaseURL>
              <SegmentList timescale="1" duration="2">{urls}</SegmentList>
            </Representation></AdaptationSet></Period></MPD>"#,
        sea(KEY_URL)
    );
    w.fetcher.put(MANIFEST, mpd);
    w.fetcher.put("http://media.test/s/a.mp4", file);
    w.fetcher.put(KEY_URL, KEY.to_vec());
    w.prepare_and_download("e1");
    w.pool.run_until_stalled();
    assert_eq!(w.state("e1").0, State::Completed);
    let plan = w.store.entries.borrow()["e1"].plan.clone().unwrap();
    let key = &plan.tracks[0].key;
    for (k, p) in parts.iter().enumerate() {
        assert_eq!(
            w.store.segment_bytes("e1", key, k as u32 + 1).as_ref(),
            Some(p)
        );
    }
    let media = w
        .fetcher
        .log
        .borrow()
        .iter()
        .filter(|u| u.ends_with("a.mp4"))
        .count();
    assert_eq!(
        media, 3,
        "one request per encrypted range, not one per chunk"
    );
    assert_eq!(w.stored("e1"), 9, "three 4 KiB slices per clear segment");
}
