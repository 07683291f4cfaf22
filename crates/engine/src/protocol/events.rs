//! What the worker broadcasts to every page: progress, state changes and errors.

use crate::entry::{Mode, State, StopReason};
use crate::error::KalturaError;
use serde::Serialize;

/// Events broadcast to every page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", content = "detail", rename_all = "lowercase")]
pub enum Event {
    /// Download progress.
    Progress(ProgressDetail),
    /// State change.
    Statechange(StateDetail),
    /// An error about an entry.
    Error(KalturaError),
}

/// `progress` event detail.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ProgressDetail {
    /// Entry id.
    pub entry_id: String,
    /// 0–100.
    pub progress: f64,
    /// Bytes stored.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes_downloaded: u64,
    /// Expected total bytes.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub total_bytes: u64,
    /// Items stored.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub segments_done: u64,
    /// Items planned.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub segments_total: u64,
    /// Bytes per second over the last interval.
    pub speed: f64,
    /// Seconds to completion at that speed, when known.
    pub eta: Option<f64>,
}

/// `statechange` event detail.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "StateChangeDetail"))]
#[serde(rename_all = "camelCase")]
pub struct StateDetail {
    /// Entry id.
    pub entry_id: String,
    /// New state.
    pub state: State,
    /// Why it stopped.
    pub stop_reason: Option<StopReason>,
    /// Who downloads it (changes to foreground when the browser fails a background fetch).
    pub mode: Mode,
}

/// The envelope of a broadcast event: `{kind: "event", type, detail}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventMessage<'a> {
    /// Always "event".
    pub kind: &'static str,
    /// The event.
    #[serde(flatten)]
    pub event: &'a Event,
}
