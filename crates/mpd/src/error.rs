//! The MPD crate's typed errors.

use std::fmt;

/// Why a manifest cannot be planned for offline storage.
#[derive(Debug, Clone, PartialEq)]
pub enum MpdError {
    /// The text is not well-formed XML (or uses an entity we refuse to expand).
    Xml(String),
    /// The root element is not `MPD`.
    NotAnMpd,
    /// `type="dynamic"`: live streams cannot be stored offline.
    Dynamic,
    /// A representation has no segment information we can enumerate.
    NoSegmentInfo(String),
    /// An attribute has a value we cannot use.
    BadAttribute {
        /// The element it was on.
        element: &'static str,
        /// The attribute name.
        attr: &'static str,
        /// The offending value.
        value: String,
    },
    /// A URL could not be resolved.
    Url(String),
    /// A hard cap was hit (the name says which); real streams never hit these.
    TooLarge(&'static str),
    /// An xlink reference cannot be resolved offline (`xlink:actuate="onRequest"`, a remote
    /// document of the wrong element, or one left unresolved); the text says which.
    Xlink(String),
    /// Selection left nothing to download.
    NothingSelected,
    /// The manifest has no representation at all (e.g. only event streams).
    NoTracks,
    /// A SegmentBase representation's `sidx` box is missing or malformed.
    BadIndex(String),
    /// A SegmentBase representation needs its index bytes before it can be planned.
    IndexNeeded(String),
    /// A byte range (named by the text) ends past the largest offset a browser can address, or
    /// its length does not fit 64 bits: no real file is that large.
    RangeOutOfBounds(String),
}

impl fmt::Display for MpdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MpdError::Xml(e) => write!(f, "the manifest is not valid XML: {e}"),
            MpdError::NotAnMpd => write!(f, "the document is not a DASH manifest (no <MPD> root)"),
            MpdError::Dynamic => write!(
                f,
                "the manifest is a live (dynamic) stream, which cannot be stored offline"
            ),
            MpdError::NoSegmentInfo(r) => write!(
                f,
                "representation {r} has no segment information to download"
            ),
            MpdError::BadAttribute {
                element,
                attr,
                value,
            } => {
                write!(f, "<{element} {attr}=\"{value}\"> is not a usable value")
            }
            MpdError::Url(e) => write!(f, "a segment URL could not be resolved: {e}"),
            MpdError::TooLarge(what) => write!(f, "the manifest exceeds a safety limit ({what})"),
            MpdError::Xlink(why) => write!(f, "an xlink reference cannot be used: {why}"),
            MpdError::NothingSelected => {
                write!(f, "no track of the manifest matches the download options")
            }
            MpdError::NoTracks => write!(f, "the manifest has no representation to download"),
            MpdError::BadIndex(why) => write!(f, "the segment index (sidx) is unusable: {why}"),
            MpdError::IndexNeeded(key) => {
                write!(f, "track {key} needs its segment index fetched first")
            }
            MpdError::RangeOutOfBounds(what) => write!(
                f,
                "the byte range {what} is out of bounds (past 2^53 - 1 bytes, larger than any file)"
            ),
        }
    }
}

impl std::error::Error for MpdError {}
