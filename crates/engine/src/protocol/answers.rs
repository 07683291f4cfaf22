//! What each command answers. [`ANSWERS`] says which type answers which command; the generated
//! TypeScript `CommandResults` map is written from it.

use crate::entry::{Mode, PersistentSession, State, StopReason};
use crate::error::KalturaError;
use mpd::describe::Protection;
use mpd::playable::MediaType;
use serde::Serialize;
use serde_json::Value;

/// What an entry looks like to pages.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct EntrySummary {
    /// Entry id.
    pub id: String,
    /// State.
    pub state: State,
    /// Why it stopped.
    pub stop_reason: Option<StopReason>,
    /// `config.metadata`.
    #[cfg_attr(
        feature = "ts",
        ts(type = "{ name?: string; description?: string; [key: string]: unknown } | null")
    )]
    pub metadata: Value,
    /// `config.poster`, or the stored poster's local URL.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub poster: Value,
    /// `config.duration`, in seconds.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub duration: Value,
    /// Expected total bytes (an estimate until every segment is stored).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub expected_size: u64,
    /// Bytes stored.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub size: u64,
    /// Items stored.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub segments_done: u64,
    /// Items planned.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub segments_total: u64,
    /// 0–100.
    pub progress: f64,
    /// Licence expiry (ms since epoch), when the content has one.
    pub expiration: Option<f64>,
    /// Last error.
    pub error: Option<KalturaError>,
    /// Who downloads it: `background` (the browser's Background Fetch, which goes on with
    /// every page closed) or `foreground` (the worker, while a page of the app is open).
    pub mode: Mode,
    /// Why an entry asked to download in the background runs in the foreground.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub mode_reason: Option<String>,
}

/// One entry with its stored config and the URL of its local manifest (`get`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct EntryDetail {
    /// The summary.
    #[serde(flatten)]
    pub summary: EntrySummary,
    /// The media config as the page gave it.
    #[cfg_attr(feature = "ts", ts(type = "MediaConfig"))]
    pub config: Value,
    /// Absolute URL of the local manifest (`{scope}__offline__/{entry}/manifest.mpd`).
    pub local_manifest_url: String,
    /// The same manifest cut to what is stored: for playing a partly downloaded entry with no
    /// segment from the network.
    pub stored_only_manifest_url: String,
    /// For encrypted entries whose keys the worker keeps: where it answers ClearKey licence
    /// requests offline.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub local_license_url: Option<String>,
    /// For entries whose licence the browser's CDM keeps: the sessions to load offline.
    #[serde(flatten)]
    pub sessions: Sessions,
}

/// The persistent-license sessions an answer names, as `sessions` (left out when there are
/// none): those to load for playback, or those the page releases from the CDM.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Sessions {
    /// The sessions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<PersistentSession>>"))]
    pub sessions: Vec<PersistentSession>,
}

/// `remove`: the entry removed, and the persistent-license sessions the page releases from the
/// CDM (workers have no EME).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Removed {
    /// Entry id.
    pub entry_id: String,
    /// Sessions to release.
    #[serde(flatten)]
    pub sessions: Sessions,
}

/// `pauseAll` and `removeAll`: the entries acted on, and (removeAll) the sessions to release.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct EntriesActedOn {
    /// Entry ids.
    pub entry_ids: Vec<String>,
    /// Sessions to release.
    #[serde(flatten)]
    pub sessions: Sessions,
}

/// `ping`: whether the worker is busy, and which worker instance answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Ping {
    /// Jobs running plus entries waiting for the network: pages keep the worker alive while
    /// this is not zero.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub active_jobs: usize,
    /// The wasm memory's size, where the host can tell.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub wasm_memory_bytes: Option<u64>,
    /// When this worker instance started (ms since the epoch): a new value means the worker was
    /// stopped and started again.
    pub started_at: f64,
}

/// `renew`: the entry's new licence expiry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Renewed {
    /// Entry id.
    pub entry_id: String,
    /// ms since the epoch, when the licence has an expiry.
    pub expiration: Option<f64>,
}

/// `protection`: what protects the selected tracks (empty for clear content) and the manifest's
/// audio/video types, which the page probes with `MediaSource.isTypeSupported`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "ProtectionAnswer"))]
#[serde(rename_all = "camelCase")]
pub struct ProtectionAnswer {
    /// Entry id.
    pub entry_id: String,
    /// One per distinct ContentProtection of the selected tracks.
    #[cfg_attr(feature = "ts", ts(as = "Vec<Protection>"))]
    pub protection: Vec<Protection>,
    /// The manifest's audio and video types.
    pub media_types: Vec<MediaType>,
}

/// A command's result, as it goes into [`super::Reply::result`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// An entry's summary.
    Summary(Box<EntrySummary>),
    /// An entry with its config.
    Detail(Box<EntryDetail>),
    /// Every entry.
    Entries(Vec<EntrySummary>),
    /// Every entry, or none when the page's listing still holds.
    Listing(Listing),
    /// An entry removed.
    Removed(Removed),
    /// Entries paused or removed.
    EntriesActedOn(EntriesActedOn),
    /// The worker's state.
    Ping(Ping),
    /// A licence renewed.
    Renewed(Renewed),
    /// Protection and media types.
    Protection(ProtectionAnswer),
    /// Background fetches for a page to start.
    BackgroundPlan(BackgroundPlan),
    /// What reading an entry back found.
    Verified(Verified),
}

/// `verify`: what reading an entry's stored records back found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Verified {
    /// Entry id.
    pub entry_id: String,
    /// Records read back whole.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub records: u64,
    /// Bytes read back.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes: u64,
    /// Planned items with no complete record (for a completed entry: lost).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub missing: u64,
    /// Records whose bytes could not be read, or whose size is not the one recorded or
    /// planned (deleted, so a download fetches them again).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub unreadable: u64,
    /// Whether the local manifest is stored.
    pub manifest: bool,
    /// Whether every licence the worker keeps for it is stored (true for clear content).
    pub licenses: bool,
    /// Whether everything is there and readable.
    pub ok: bool,
    /// The entry's state after the check.
    pub state: State,
    /// Why it stopped, after the check.
    pub stop_reason: Option<StopReason>,
}

/// `listing`: every entry, unless the page's listing still holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    /// Names this listing for a later `listing` command's `since`; none when an entry changed
    /// while it was read (the page then asks for every entry next time).
    pub tag: Option<String>,
    /// Every entry; none when the page's listing (the `since` it sent) still holds.
    pub entries: Option<Vec<EntrySummary>>,
}

/// `backgroundPlan`: the background fetches a page starts for an entry, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct BackgroundPlan {
    /// Entry id.
    pub entry_id: String,
    /// One per background fetch.
    pub fetches: Vec<BackgroundRequest>,
}

/// One background fetch: `registration.backgroundFetch.fetch(id, urls, {title})`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct BackgroundRequest {
    /// The background fetch id.
    pub id: String,
    /// What it fetches, each URL whole.
    pub urls: Vec<String>,
    /// What the browser's download UI shows.
    pub title: String,
}

/// Which answer type each command type has: `(command type, TypeScript type)`. The handler's
/// match in `manager` is the implementation; a native test runs every command and checks its
/// answer against this table.
pub const ANSWERS: [(&str, &str); 17] = [
    ("prepare", "EntrySummary"),
    ("download", "EntrySummary"),
    ("pause", "EntrySummary"),
    ("resume", "EntrySummary"),
    ("remove", "Removed"),
    ("pauseAll", "EntriesActedOn"),
    ("removeAll", "EntriesActedOn"),
    ("get", "EntryDetail"),
    ("list", "EntrySummary[]"),
    ("listing", "Listing"),
    ("ping", "Ping"),
    ("renew", "Renewed"),
    ("protection", "ProtectionAnswer"),
    ("keepSessions", "EntrySummary"),
    ("backgroundPlan", "BackgroundPlan"),
    ("backgroundStarted", "EntrySummary"),
    ("verify", "Verified"),
];

impl Answer {
    /// The TypeScript type of this answer, as [`ANSWERS`] names it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Answer::Summary(_) => "EntrySummary",
            Answer::Detail(_) => "EntryDetail",
            Answer::Entries(_) => "EntrySummary[]",
            Answer::Listing(_) => "Listing",
            Answer::Removed(_) => "Removed",
            Answer::EntriesActedOn(_) => "EntriesActedOn",
            Answer::Ping(_) => "Ping",
            Answer::Renewed(_) => "Renewed",
            Answer::Protection(_) => "ProtectionAnswer",
            Answer::BackgroundPlan(_) => "BackgroundPlan",
            Answer::Verified(_) => "Verified",
        }
    }
}
