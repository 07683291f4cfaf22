//! Kaltura-style errors (category 9, STORAGE) and the engine's typed error enum.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// Playkit's category-9 (STORAGE) error codes: the one list. The page shim's `ErrorCode`, the
/// bootstrap's codes and the README table are generated from [`Code::ALL`] (see `schema.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Code {
    /// `STORAGE_NOT_SUPPORTED`: see [`Code::when`].
    StorageNotSupported = 9000,
    /// `INDEXED_DB_ERROR`: see [`Code::when`].
    IndexedDbError = 9001,
    /// `OPERATION_ABORTED`: see [`Code::when`].
    OperationAborted = 9002,
    /// `REQUESTED_ITEM_NOT_FOUND`: see [`Code::when`].
    RequestedItemNotFound = 9003,
    /// `MALFORMED_OFFLINE_URI`: see [`Code::when`].
    MalformedOfflineUri = 9004,
    /// `CANNOT_STORE_LIVE_OFFLINE`: see [`Code::when`].
    CannotStoreLiveOffline = 9005,
    /// `STORE_ALREADY_IN_PROGRESS`: see [`Code::when`].
    StoreAlreadyInProgress = 9006,
    /// `NO_INIT_DATA_FOR_OFFLINE`: see [`Code::when`].
    NoInitDataForOffline = 9007,
    /// `LOCAL_PLAYER_INSTANCE_REQUIRED`: see [`Code::when`].
    LocalPlayerInstanceRequired = 9008,
    /// `CONTENT_UNSUPPORTED_BY_BROWSER`: see [`Code::when`].
    ContentUnsupportedByBrowser = 9009,
    /// `CANNOT_ADD_ITEM`: see [`Code::when`].
    CannotAddItem = 9010,
    /// `DOWNLOAD_FAILED`: see [`Code::when`].
    DownloadFailed = 9011,
    /// `COULD_NOT_GET_INFO_FROM_MEDIA_PROVIDER`: see [`Code::when`].
    CouldNotGetInfoFromMediaProvider = 9012,
    /// `ENTRY_DOES_NOT_EXIST`: see [`Code::when`].
    EntryDoesNotExist = 9013,
    /// `PAUSE_FAILED`: see [`Code::when`].
    PauseFailed = 9014,
    /// `RESUME_FAILED`: see [`Code::when`].
    ResumeFailed = 9015,
    /// `RENEW_LICENSE_FAILED`: see [`Code::when`].
    RenewLicenseFailed = 9016,
    /// `ENTRY_ALREADY_EXISTS`: see [`Code::when`].
    EntryAlreadyExists = 9017,
    /// `REMOVE_FAILED`: see [`Code::when`].
    RemoveFailed = 9018,
}

impl Code {
    /// Every code, in numeric order.
    pub const ALL: [Code; 19] = [
        Code::StorageNotSupported,
        Code::IndexedDbError,
        Code::OperationAborted,
        Code::RequestedItemNotFound,
        Code::MalformedOfflineUri,
        Code::CannotStoreLiveOffline,
        Code::StoreAlreadyInProgress,
        Code::NoInitDataForOffline,
        Code::LocalPlayerInstanceRequired,
        Code::ContentUnsupportedByBrowser,
        Code::CannotAddItem,
        Code::DownloadFailed,
        Code::CouldNotGetInfoFromMediaProvider,
        Code::EntryDoesNotExist,
        Code::PauseFailed,
        Code::ResumeFailed,
        Code::RenewLicenseFailed,
        Code::EntryAlreadyExists,
        Code::RemoveFailed,
    ];

    /// The number pages see.
    pub fn number(self) -> u16 {
        self as u16
    }

    /// Playkit's name of the code (`STORAGE_NOT_SUPPORTED`).
    pub fn name(self) -> &'static str {
        match self {
            Code::StorageNotSupported => "STORAGE_NOT_SUPPORTED",
            Code::IndexedDbError => "INDEXED_DB_ERROR",
            Code::OperationAborted => "OPERATION_ABORTED",
            Code::RequestedItemNotFound => "REQUESTED_ITEM_NOT_FOUND",
            Code::MalformedOfflineUri => "MALFORMED_OFFLINE_URI",
            Code::CannotStoreLiveOffline => "CANNOT_STORE_LIVE_OFFLINE",
            Code::StoreAlreadyInProgress => "STORE_ALREADY_IN_PROGRESS",
            Code::NoInitDataForOffline => "NO_INIT_DATA_FOR_OFFLINE",
            Code::LocalPlayerInstanceRequired => "LOCAL_PLAYER_INSTANCE_REQUIRED",
            Code::ContentUnsupportedByBrowser => "CONTENT_UNSUPPORTED_BY_BROWSER",
            Code::CannotAddItem => "CANNOT_ADD_ITEM",
            Code::DownloadFailed => "DOWNLOAD_FAILED",
            Code::CouldNotGetInfoFromMediaProvider => "COULD_NOT_GET_INFO_FROM_MEDIA_PROVIDER",
            Code::EntryDoesNotExist => "ENTRY_DOES_NOT_EXIST",
            Code::PauseFailed => "PAUSE_FAILED",
            Code::ResumeFailed => "RESUME_FAILED",
            Code::RenewLicenseFailed => "RENEW_LICENSE_FAILED",
            Code::EntryAlreadyExists => "ENTRY_ALREADY_EXISTS",
            Code::RemoveFailed => "REMOVE_FAILED",
        }
    }

    /// When a user meets the code: the README's table.
    pub fn when(self) -> &'static str {
        match self {
            Code::StorageNotSupported => "no service workers on this page, or the worker failed to register",
            Code::IndexedDbError => "IndexedDB failed, or the worker could not start",
            Code::OperationAborted => "the worker did not answer in time, refused a malformed request, or speaks another protocol version (serve the page shim and the worker from one package version)",
            Code::RequestedItemNotFound => "`getDownloadedMediaConfig` before the download started; a local URL of something not stored (HTTP 404)",
            Code::MalformedOfflineUri => "a local URL (`{scope}__offline__/...`) that names no stored manifest, segment or licence (HTTP 404)",
            Code::CannotStoreLiveOffline => "the manifest is live (`type=\"dynamic\"`)",
            Code::StoreAlreadyInProgress => "`download` while the entry is downloading",
            Code::NoInitDataForOffline => "encrypted content whose manifest names no key id (`cenc:default_KID`), or, for Widevine/PlayReady, neither a `cenc:pssh` of that system nor (Widevine) a key id to build one from",
            Code::LocalPlayerInstanceRequired => "Playkit's code for a missing local player; never raised here (stored media plays in any player)",
            Code::ContentUnsupportedByBrowser => "the config has no DASH source; nothing of a kind the stream offers plays in this browser (`MediaSource.isTypeSupported`); or the content is protected only by DRM systems whose licences this browser cannot keep (Widevine/PlayReady without persistent-license sessions, FairPlay, ClearKey without EME: `data.keySystems`), refused before any segment is fetched",
            Code::CannotAddItem => "a bad `getMediaConfig` argument or download option, or a manifest that cannot be stored (malformed, no segment information, a form not supported, over a safety limit)",
            Code::DownloadFailed => "manifest, segment index, segment or licence fetch failed (`data.url`, `data.status`); a full disk has `data.name = \"QuotaExceededError\"` and pauses with reason `quota`",
            Code::CouldNotGetInfoFromMediaProvider => "the Kaltura provider failed or timed out, or its script is not loaded",
            Code::EntryDoesNotExist => "unknown entry id (call `getMediaConfig` first), or a method called without an entry id",
            Code::PauseFailed => "pause of a completed entry, or of one never downloaded",
            Code::ResumeFailed => "resume of an entry never downloaded",
            Code::RenewLicenseFailed => "`renewLicense` on clear content or failing at the licence server; at playback, an expired licence (`getDownloadedMediaConfig` rejects, and the worker's licence endpoint answers HTTP 403 with this error, which the player reports as its own DRM error, e.g. 6007)",
            Code::EntryAlreadyExists => "`download` of an entry already downloaded",
            Code::RemoveFailed => "IndexedDB refused the deletion",
        }
    }
}

/// Kaltura Player error severity: the same call may succeed later without changing anything.
pub const SEVERITY_RECOVERABLE: u8 = 1;
/// Kaltura Player error severity: something must change first.
pub const SEVERITY_CRITICAL: u8 = 2;
/// The Kaltura Player error category of every offline error (STORAGE).
pub const CATEGORY_STORAGE: u8 = 9;

/// The error shape pages receive: `{severity, category: 9, code, data: {message, ...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KalturaError {
    /// 1 recoverable, 2 critical.
    #[cfg_attr(feature = "ts", ts(type = "SeverityValue"))]
    pub severity: u8,
    /// Always 9 (STORAGE).
    #[cfg_attr(feature = "ts", ts(type = "typeof STORAGE_CATEGORY"))]
    pub category: u8,
    /// One of [`Code`].
    pub code: u16,
    /// `message` says what happened and what to do; other fields add context.
    #[cfg_attr(feature = "ts", ts(type = "KalturaErrorData"))]
    pub data: Map<String, Value>,
}

impl KalturaError {
    /// A critical error with a message and optional entry id.
    pub fn new(code: Code, message: impl Into<String>, entry_id: Option<&str>) -> Self {
        let mut data = Map::new();
        data.insert("message".into(), Value::String(message.into()));
        if let Some(id) = entry_id {
            data.insert("entryId".into(), Value::String(id.to_string()));
        }
        KalturaError {
            severity: SEVERITY_CRITICAL,
            category: CATEGORY_STORAGE,
            code: code as u16,
            data,
        }
    }

    /// Adds a context field to `data`.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.data.insert(key.to_string(), value.into());
        self
    }

    /// Marks the error recoverable (the user can retry or resume).
    pub fn recoverable(mut self) -> Self {
        self.severity = SEVERITY_RECOVERABLE;
        self
    }

    /// The message, for logs.
    pub fn message(&self) -> &str {
        self.data
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

impl fmt::Display for KalturaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message())
    }
}

/// Storage failures, as the store reports them.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreError {
    /// The origin's quota was exceeded (surfaces at transaction commit).
    Quota(String),
    /// Any other IndexedDB failure.
    Other(String),
    /// The database cannot be opened (held by another tab, written by a newer release, an
    /// upgrade that failed): the message says what to do, and the stored titles are untouched.
    Unavailable(String),
}

impl StoreError {
    /// What the store said.
    pub fn message(&self) -> &str {
        match self {
            StoreError::Quota(m) | StoreError::Other(m) | StoreError::Unavailable(m) => m,
        }
    }

    /// The error pages see for a storage failure, for a command and a download alike. A full
    /// disk is recoverable: freeing space and trying again (or resuming) succeeds.
    pub fn to_kaltura(&self, entry_id: Option<&str>) -> KalturaError {
        match self {
            StoreError::Quota(m) => KalturaError::new(
                Code::DownloadFailed,
                "the device's storage for this site is full; free space (remove downloads), then try again or resume",
                entry_id,
            )
            .with("name", "QuotaExceededError")
            .with("detail", m.as_str())
            .recoverable(),
            StoreError::Other(m) => KalturaError::new(
                Code::IndexedDbError,
                format!("IndexedDB failed ({m}); try again (resume a download), reload the page, or clear the site's data if it persists"),
                entry_id,
            ),
            StoreError::Unavailable(m) => KalturaError::new(Code::IndexedDbError, m.as_str(), entry_id),
        }
    }
}

/// Network and HTTP failures, as the fetcher reports them.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    /// The server answered with a non-success status.
    Status {
        /// HTTP status.
        status: u16,
    },
    /// The request failed before a response (offline, reset, DNS, CORS refusal).
    Network(String),
    /// The response is opaque: the CDN does not allow CORS.
    Opaque,
    /// The body did not match what was expected (length, range).
    Integrity(String),
    /// The redirect left the origin and the app did not allow it.
    CrossOriginRedirect(String),
    /// A whole file fetched into memory (a `SegmentTemplate@index` file) is larger than
    /// `limit` bytes: no index is that large, and retrying gives the same file.
    TooLarge {
        /// The most bytes accepted.
        limit: u64,
    },
}

impl FetchError {
    /// Whether trying again may succeed.
    pub fn retriable(&self) -> bool {
        match self {
            FetchError::Status { status } => *status >= 500 || *status == 408 || *status == 429,
            FetchError::Network(_) | FetchError::Integrity(_) => true,
            FetchError::Opaque
            | FetchError::CrossOriginRedirect(_)
            | FetchError::TooLarge { .. } => false,
        }
    }

    /// The error pages see when fetching `url` failed (9011, with `data.url` and, for an HTTP
    /// answer, `data.status`); `what` names a document that is not a segment ("the manifest").
    pub fn to_kaltura(&self, entry_id: &str, url: &str, what: Option<&str>) -> KalturaError {
        let message = match what {
            Some(what) => format!("could not fetch {what}: {}", self.describe(url)),
            None => self.describe(url),
        };
        let err = KalturaError::new(Code::DownloadFailed, message, Some(entry_id)).with("url", url);
        match self {
            FetchError::Status { status } => err.with("status", *status),
            _ => err,
        }
    }

    /// A sentence for users.
    pub fn describe(&self, url: &str) -> String {
        match self {
            FetchError::Status { status } => format!("the server answered HTTP {status} for {url}"),
            FetchError::Network(m) => format!("the network request for {url} failed ({m}); check the connection"),
            FetchError::Opaque => format!("{url} was answered without CORS; the CDN must allow cross-origin requests (Access-Control-Allow-Origin)"),
            FetchError::Integrity(m) => format!("{url} returned a body that does not match what was expected: {m}"),
            FetchError::CrossOriginRedirect(to) => format!("{url} redirected to another origin ({to}); allow it in the app's config"),
            FetchError::TooLarge { limit } => format!("{url} is larger than the {limit} bytes accepted for a segment index file"),
        }
    }
}
