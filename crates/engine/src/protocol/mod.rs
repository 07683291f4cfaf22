//! The page ↔ worker protocol (version 1): every command, answer, event and error shape is a
//! Rust type here, and the page shim's TypeScript declarations are generated from them
//! (`page-shim/src/generated/protocol.ts`, by `schema.rs`).
//!
//! A page posts `{v: 1, id, type, ...}` with a MessagePort; the worker answers once on the port
//! with [`Reply`]. Events go to every window client as [`EventMessage`].

mod answers;
mod events;

pub use answers::*;
pub use events::*;

use crate::entry::PersistentSession;
use crate::error::{Code, KalturaError};
use mpd::SelectOptions;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The protocol version this worker speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// Largest request accepted, in bytes of JSON (a media config is a few KB).
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// Longest entry id accepted.
pub const MAX_ENTRY_ID_LEN: usize = 256;

/// A request from a page.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "RequestMessage"))]
pub struct Request {
    /// Protocol version.
    #[cfg_attr(feature = "ts", ts(type = "typeof PROTOCOL_VERSION"))]
    pub v: u32,
    /// Page-chosen id echoed in the reply.
    pub id: f64,
    /// What to do.
    #[serde(flatten)]
    pub command: Command,
}

/// The commands a page can send.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Command {
    /// Keep a media config as a prepared entry.
    Prepare {
        /// Entry id.
        entry_id: String,
        /// The media config.
        #[cfg_attr(feature = "ts", ts(type = "MediaConfig"))]
        config: Value,
    },
    /// Plan and start the download.
    Download {
        /// Entry id.
        entry_id: String,
        /// Track options.
        #[serde(default)]
        #[cfg_attr(feature = "ts", ts(optional))]
        options: Option<SelectOptions>,
    },
    /// Pause a download.
    Pause {
        /// Entry id.
        entry_id: String,
    },
    /// Resume a paused or failed download.
    Resume {
        /// Entry id.
        entry_id: String,
    },
    /// Delete an entry and everything stored for it.
    Remove {
        /// Entry id.
        entry_id: String,
    },
    /// Pause every running download.
    PauseAll,
    /// Remove every entry.
    RemoveAll,
    /// One entry with its config and local manifest URL.
    Get {
        /// Entry id.
        entry_id: String,
    },
    /// Every entry.
    List,
    /// Every entry, or word that none changed since the listing a page holds.
    Listing {
        /// The tag of the listing the page holds, if any.
        #[serde(default)]
        #[cfg_attr(feature = "ts", ts(optional))]
        since: Option<String>,
    },
    /// Keep-alive.
    Ping,
    /// Get fresh licences for an entry (segments are not touched).
    Renew {
        /// Entry id.
        entry_id: String,
        /// A fresh media config from the provider (its `drmData` may carry a new licence URL
        /// or token); the stored config when absent.
        #[serde(default)]
        #[cfg_attr(feature = "ts", ts(type = "MediaConfig", optional))]
        config: Option<Value>,
    },
    /// Select with these options without downloading, and tell what protects the selected
    /// tracks (the page makes persistent-license sessions from it before the download starts)
    /// and which audio/video types the manifest offers (`mediaTypes: [{mimeType, codecs}]`: the
    /// page probes them with `MediaSource.isTypeSupported` and sends the download the supported
    /// ones as `options.playable`).
    Protection {
        /// Entry id.
        entry_id: String,
        /// Track options, as the download will use them.
        #[serde(default)]
        #[cfg_attr(feature = "ts", ts(optional))]
        options: Option<SelectOptions>,
    },
    /// Keep the persistent-license sessions the page made for an entry (replacing earlier ones).
    KeepSessions {
        /// Entry id.
        entry_id: String,
        /// The sessions.
        sessions: Vec<PersistentSession>,
    },
    /// The background fetches a page should start for an entry in background mode (browsers
    /// allow `backgroundFetch.fetch()` only in pages, not in service workers); empty when there
    /// is nothing to hand over.
    BackgroundPlan {
        /// Entry id.
        entry_id: String,
    },
    /// What the page started of a [`Command::BackgroundPlan`]: the ids the browser took, and
    /// why it refused the rest. With none started the entry downloads in the foreground.
    BackgroundStarted {
        /// Entry id.
        entry_id: String,
        /// Ids of the background fetches the browser took.
        started: Vec<String>,
        /// The browser's refusal (`backgroundFetch.fetch()`'s error), if it refused one.
        #[serde(default)]
        #[cfg_attr(feature = "ts", ts(optional))]
        refused: Option<String>,
    },
    /// Read every stored record of an entry back (every byte, and its size against the record
    /// and the plan) and check its manifest and licences are there. What cannot be read is
    /// deleted, and a completed entry missing something becomes `failed` with stop reason
    /// `evicted`; with `repair` the entry then downloads what is missing.
    Verify {
        /// Entry id.
        entry_id: String,
        /// Download what is missing at once.
        #[serde(default)]
        #[cfg_attr(feature = "ts", ts(optional))]
        repair: Option<bool>,
    },
}

impl Command {
    /// The command's `type`, as pages write it.
    pub fn kind(&self) -> &'static str {
        match self {
            Command::Prepare { .. } => "prepare",
            Command::Download { .. } => "download",
            Command::Pause { .. } => "pause",
            Command::Resume { .. } => "resume",
            Command::Remove { .. } => "remove",
            Command::PauseAll => "pauseAll",
            Command::RemoveAll => "removeAll",
            Command::Get { .. } => "get",
            Command::List => "list",
            Command::Listing { .. } => "listing",
            Command::Ping => "ping",
            Command::Renew { .. } => "renew",
            Command::Protection { .. } => "protection",
            Command::KeepSessions { .. } => "keepSessions",
            Command::BackgroundPlan { .. } => "backgroundPlan",
            Command::BackgroundStarted { .. } => "backgroundStarted",
            Command::Verify { .. } => "verify",
        }
    }

    /// The entry id the command names, if any.
    pub fn entry_id(&self) -> Option<&str> {
        match self {
            Command::Prepare { entry_id, .. }
            | Command::Download { entry_id, .. }
            | Command::Pause { entry_id }
            | Command::Resume { entry_id }
            | Command::Remove { entry_id }
            | Command::Get { entry_id }
            | Command::Renew { entry_id, .. }
            | Command::Protection { entry_id, .. }
            | Command::KeepSessions { entry_id, .. }
            | Command::BackgroundPlan { entry_id }
            | Command::BackgroundStarted { entry_id, .. }
            | Command::Verify { entry_id, .. } => Some(entry_id),
            _ => None,
        }
    }
}

/// Parses and validates a request's JSON text. On failure returns the reply id (when readable)
/// and an error for the page.
pub fn parse_request(json: &str) -> Result<Request, (f64, KalturaError)> {
    let bad = |id: f64, why: String| {
        (id, KalturaError::new(Code::OperationAborted, format!("the worker refused a malformed request: {why}; make sure the page shim and the worker come from the same release"), None))
    };
    if json.len() > MAX_REQUEST_BYTES {
        return Err(bad(
            -1.0,
            format!(
                "it is {} bytes, over the {MAX_REQUEST_BYTES}-byte limit",
                json.len()
            ),
        ));
    }
    let raw: Value = serde_json::from_str(json).map_err(|e| bad(-1.0, e.to_string()))?;
    let id = raw.get("id").and_then(Value::as_f64).unwrap_or(-1.0);
    let req: Request = serde_json::from_value(raw).map_err(|e| bad(id, e.to_string()))?;
    if req.v != PROTOCOL_VERSION {
        return Err(bad(
            id,
            format!(
                "protocol version {} (this worker speaks {PROTOCOL_VERSION})",
                req.v
            ),
        ));
    }
    if let Some(entry) = req.command.entry_id() {
        if entry.is_empty() || entry.len() > MAX_ENTRY_ID_LEN || entry.chars().any(char::is_control)
        {
            return Err(bad(
                id,
                "entryId must be 1 to 256 printable characters".into(),
            ));
        }
    }
    if let Command::BackgroundStarted {
        entry_id,
        started,
        refused,
    } = &req.command
    {
        let foreign = started
            .iter()
            .any(|f| crate::layout::background_fetch_entry(f) != Some(entry_id.as_str()));
        if foreign || started.len() > MAX_BACKGROUND_FETCHES {
            return Err(bad(
                id,
                format!("started must name at most {MAX_BACKGROUND_FETCHES} background fetch ids of the entry, as backgroundPlan gave them"),
            ));
        }
        if refused.as_ref().is_some_and(|r| r.len() > 4096) {
            return Err(bad(id, "refused must be at most 4096 bytes".into()));
        }
    }
    Ok(req)
}

/// Most background fetches one entry hands over at once (a 10,000-request title at 200
/// requests each is 50).
pub const MAX_BACKGROUND_FETCHES: usize = 1000;

/// The single answer to a request (the bootstrap adds `v` and `workerVersion`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    /// The request's id.
    pub id: f64,
    /// Whether it succeeded.
    pub ok: bool,
    /// The result, when ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Answer>,
    /// The error, when not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<KalturaError>,
}

impl Reply {
    /// Builds the reply for a handler's outcome.
    pub fn from_result(id: f64, result: Result<Answer, KalturaError>) -> Reply {
        match result {
            Ok(v) => Reply {
                id,
                ok: true,
                result: Some(v),
                error: None,
            },
            Err(e) => Reply {
                id,
                ok: false,
                result: None,
                error: Some(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::State;

    #[test]
    fn download_request_with_options_parses() {
        let r = parse_request(r#"{"v":1,"id":3,"type":"download","entryId":"0_a","options":{"language":"en","bitrate":800000}}"#).unwrap();
        assert_eq!(r.id, 3.0);
        let Command::Download { entry_id, options } = r.command else {
            panic!("wrong command")
        };
        assert_eq!(entry_id, "0_a");
        assert_eq!(options.unwrap().bitrate, Some(800_000));
    }

    #[test]
    fn every_selection_option_of_the_shim_is_understood() {
        let r = parse_request(r#"{"v":1,"id":4,"type":"download","entryId":"e","options":{"language":"en","bitrate":1,
            "audioLanguages":["en","es"],"textLanguages":["fr"],"videoHeight":720,"maxHeight":1080,"videoBitrate":2,
            "thumbnails":true,"codecs":["avc1","mp4a"],"playable":[{"mimeType":"video/mp4","codecs":"avc1.64001f"}]}}"#).unwrap();
        let Command::Download {
            options: Some(o), ..
        } = r.command
        else {
            panic!("wrong command")
        };
        assert_eq!(o.audio_languages.unwrap(), ["en", "es"]);
        assert_eq!(
            (o.video_height, o.max_height, o.video_bitrate),
            (Some(720), Some(1080), Some(2))
        );
        assert!(o.thumbnails && !o.all);
        assert_eq!(o.codecs.unwrap(), ["avc1", "mp4a"]);
        let playable = o.playable.unwrap();
        assert_eq!(
            (playable[0].mime_type.as_str(), playable[0].codecs.as_str()),
            ("video/mp4", "avc1.64001f")
        );
    }

    #[test]
    fn an_oversized_request_is_refused_before_it_is_parsed() {
        let big = format!(
            r#"{{"v":1,"id":5,"type":"prepare","entryId":"e","config":{{"x":"{}"}}}}"#,
            "a".repeat(MAX_REQUEST_BYTES)
        );
        let (_, err) = parse_request(&big).unwrap_err();
        assert_eq!(err.code, 9002);
        assert!(err.message().contains("limit"));
    }

    #[test]
    fn unknown_type_is_refused_with_the_request_id() {
        let (id, err) = parse_request(r#"{"v":1,"id":9,"type":"explode"}"#).unwrap_err();
        assert_eq!(id, 9.0);
        assert_eq!(err.code, 9002);
    }

    #[test]
    fn missing_entry_id_and_wrong_version_are_refused() {
        assert!(parse_request(r#"{"v":1,"id":1,"type":"pause"}"#).is_err());
        assert!(parse_request(r#"{"v":2,"id":1,"type":"list"}"#).is_err());
        assert!(parse_request("not json").is_err());
        assert!(parse_request(r#"{"v":1,"id":1,"type":"pause","entryId":""}"#).is_err());
    }

    #[test]
    fn events_serialise_as_the_shim_expects() {
        let e = Event::Statechange(StateDetail {
            entry_id: "x".into(),
            state: State::Completed,
            stop_reason: None,
            mode: crate::entry::Mode::Background,
        });
        let v = serde_json::to_value(EventMessage {
            kind: "event",
            event: &e,
        })
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind":"event","type":"statechange","detail":{"entryId":"x","state":"completed","stopReason":null,"mode":"background"}})
        );
    }
}
