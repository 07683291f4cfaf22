//! Kaltura-style errors (category 9, STORAGE) and the engine's typed error enum.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// Playkit's category-9 error codes, as the Kaltura Player defines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Code {
    /// The browser lacks service workers or IndexedDB.
    StorageNotSupported = 9000,
    /// IndexedDB failed.
    IndexedDbError = 9001,
    /// An operation was cancelled or timed out, or a request was malformed.
    OperationAborted = 9002,
    /// The entry exists but what was asked of it is not there (e.g. not downloaded yet).
    RequestedItemNotFound = 9003,
    /// A local URL the worker cannot map to stored data.
    MalformedOfflineUri = 9004,
    /// Live streams cannot be stored.
    CannotStoreLiveOffline = 9005,
    /// The entry is already downloading.
    StoreAlreadyInProgress = 9006,
    /// Encrypted content whose manifest names no key id: no licence can be asked for it.
    NoInitDataForOffline = 9007,
    /// The stream's content cannot be played by this browser or stored offline.
    ContentUnsupportedByBrowser = 9009,
    /// The entry could not be added (bad config, unusable manifest).
    CannotAddItem = 9010,
    /// The download failed (network, server, disk full).
    DownloadFailed = 9011,
    /// The media provider gave no usable config.
    CouldNotGetInfoFromMediaProvider = 9012,
    /// No entry with that id.
    EntryDoesNotExist = 9013,
    /// Pause was refused.
    PauseFailed = 9014,
    /// Resume was refused.
    ResumeFailed = 9015,
    /// The licence could not be renewed.
    RenewLicenseFailed = 9016,
    /// The entry is already downloaded.
    EntryAlreadyExists = 9017,
    /// Removal failed.
    RemoveFailed = 9018,
}

/// The error shape pages receive: `{severity, category: 9, code, data: {message, ...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KalturaError {
    /// 1 recoverable, 2 critical.
    pub severity: u8,
    /// Always 9 (STORAGE).
    pub category: u8,
    /// One of [`Code`].
    pub code: u16,
    /// `message` says what happened and what to do; other fields add context.
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
            severity: 2,
            category: 9,
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
        self.severity = 1;
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
