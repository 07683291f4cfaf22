//! Entry records: one per downloadable item, with its state and plan.

use crate::error::KalturaError;
use mpd::{Plan, SelectOptions};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where an entry is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "EntryState"))]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// The config is known; nothing downloaded.
    Prepared,
    /// A job is (or should be) running.
    Downloading,
    /// Stopped; see the stop reason.
    Paused,
    /// Every planned segment is stored.
    Completed,
    /// Stopped by an error that resuming will not fix.
    Failed,
}

/// Why an entry stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum StopReason {
    /// The user paused it.
    User,
    /// The disk (origin quota) is full.
    Quota,
    /// The network went away.
    Network,
    /// An error.
    Error,
    /// The browser deleted stored records (storage pressure, site data cleared) or can no
    /// longer read them: resume downloads what is missing.
    Evicted,
}

/// Who downloads an entry: the browser's Background Fetch, which goes on with every page
/// closed, or the worker itself, which runs while a page keeps it awake.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "DownloadMode"))]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The worker's own download engine.
    #[default]
    Foreground,
    /// The browser's Background Fetch.
    Background,
}

/// A persistent-license session kept by the browser's CDM for an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersistentSession {
    /// EME key system (`com.widevine.alpha`, `com.microsoft.playready`).
    pub key_system: String,
    /// `MediaKeySession.sessionId`, what `MediaKeySession.load` takes.
    pub session_id: String,
    /// The init data type the session was made from (`cenc`).
    pub init_data_type: String,
    /// The init data (base64), which players such as shaka want beside the session id.
    pub init_data: String,
    /// `MediaKeySession.expiration` in ms since the epoch; `None` when the licence has none.
    #[serde(default)]
    pub expiration: Option<f64>,
}

impl PersistentSession {
    /// Why the session cannot be kept, if a field is empty or too long to be real.
    pub fn invalid(&self) -> Option<String> {
        let fields = [
            ("keySystem", &self.key_system, 128),
            ("sessionId", &self.session_id, 1024),
            ("initDataType", &self.init_data_type, 32),
            ("initData", &self.init_data, 64 * 1024),
        ];
        fields.iter().find_map(|(name, value, max)| {
            (value.is_empty() || value.len() > *max)
                .then(|| format!("{name} must be 1 to {max} characters"))
        })
    }
}

/// The records a completed entry stored and what they hold, as counted when it completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredTotals {
    /// Records in `segments` (an item stored in chunks is several).
    pub records: u64,
    /// Items (init and media segments, text, thumbnails) stored whole.
    pub items: u64,
    /// Bytes of every record.
    pub bytes: u64,
    /// Whether the poster is among them.
    pub poster: bool,
}

/// What the worker keeps per entry (the `entries` store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// Entry id (Kaltura entry id, or an app-chosen id).
    pub id: String,
    /// Current state.
    pub state: State,
    /// Why it stopped, when paused or failed.
    pub stop_reason: Option<StopReason>,
    /// The media config the page handed over.
    pub config: Value,
    /// The download options.
    #[serde(default)]
    pub options: SelectOptions,
    /// The plan, once the manifest was read.
    pub plan: Option<Plan>,
    /// The last error.
    pub error: Option<KalturaError>,
    /// When the entry's licences expire (ms since the epoch); `None` for clear content or a
    /// licence without expiry.
    #[serde(default)]
    pub expiration: Option<f64>,
    /// Whether the content is encrypted (its licences are kept in `licenses`, or in the
    /// browser's CDM as `sessions`).
    #[serde(default)]
    pub protected: bool,
    /// Persistent-license sessions the page made in the browser's CDM (Widevine, PlayReady):
    /// the worker cannot make them (no EME in workers), but keeps their ids so that players can
    /// load them offline and removal can release them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<PersistentSession>,
    /// Who downloads it (foreground unless background was asked for and the browser took it).
    #[serde(default)]
    pub mode: Mode,
    /// Why an entry asked to download in the background runs in the foreground (no Background
    /// Fetch in this browser, or the browser refused or failed it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode_reason: Option<String>,
    /// The background fetches handed to the browser and not yet delivered: only their records
    /// are stored (one aborted by a pause or removal is dropped from here first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub background_fetches: Vec<String>,
    /// When the worker last asked a page to hand the entry to Background Fetch (ms since the
    /// epoch), until the page says what it started: a wake meanwhile leaves the entry alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_handover: Option<f64>,
    /// Since when (ms since the epoch) none of `background_fetches` is in the browser's list
    /// while no delivery came: after a while they are taken for lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_missing_since: Option<f64>,
    /// The number the next background fetch id takes, so that no id is used twice.
    #[serde(default)]
    pub background_next: u32,
    /// What a completed entry stored, counted as it completed: a listing shows the entry, and
    /// checks that its records are all there, without reading them (reading a record reads its
    /// Blob). `None` outside `completed`, and in entries completed by older releases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<StoredTotals>,
    /// Milliseconds since the epoch.
    pub created_at: f64,
    /// Milliseconds since the epoch.
    pub updated_at: f64,
}

impl Entry {
    /// A fresh entry for a config.
    pub fn prepared(id: &str, config: Value, now: f64) -> Entry {
        Entry {
            id: id.to_string(),
            state: State::Prepared,
            stop_reason: None,
            config,
            options: SelectOptions::default(),
            plan: None,
            error: None,
            expiration: None,
            protected: false,
            sessions: Vec::new(),
            mode: Mode::Foreground,
            mode_reason: None,
            background_fetches: Vec::new(),
            background_handover: None,
            background_missing_since: None,
            background_next: 0,
            stored: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// The first DASH source URL of the config.
    pub fn dash_url(&self) -> Option<&str> {
        self.config
            .pointer("/sources/dash/0/url")
            .and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_survives_the_json_round_trip_of_its_store() {
        let mut e = Entry::prepared(
            "e",
            serde_json::json!({"sources": {"dash": [{"url": "https://x/m.mpd"}]}}),
            1.0,
        );
        e.options = SelectOptions {
            language: Some("en".into()),
            codecs: Some(vec!["avc1".into()]),
            ..SelectOptions::default()
        };
        e.state = State::Paused;
        e.stop_reason = Some(StopReason::Quota);
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<Entry>(&text).unwrap(), e);
    }
}
