//! Where stored things live: the local URLs below the worker's scope and the IndexedDB layout.
//! The worker's router and store (`sw/src/serve.rs`, `sw/src/idb.rs`) use these; the bootstrap
//! gets them from `sw/js/generated/constants.js`, generated from [`Layout`] by `schema.rs`.
//!
//! - `{scope}__offline__/{entry}/manifest.mpd`: the local manifest;
//! - `{scope}__offline__/{entry}/{track}/{index}`: segment `index` of a track (the init segment
//!   is index 0; the poster is track `poster`), the paths the local manifest names
//!   ([`mpd::local::segment_path`]);
//! - `{scope}__offline__/{entry}/license`: the ClearKey licence endpoint (POST).
//!
//! `{entry}` is the entry id percent-encoded as one path segment.

use serde::Serialize;

/// The path segment under the worker scope where stored entries are served.
pub const OFFLINE_PREFIX: &str = "__offline__";
/// The local manifest's file name.
pub const MANIFEST_FILE: &str = "manifest.mpd";
/// The licence endpoint's name.
pub const LICENSE_FILE: &str = "license";
/// The query that asks for the local manifest cut to what is stored (`manifest.mpd?stored-only`).
pub const STORED_ONLY_QUERY: &str = "stored-only";
/// The pseudo-track under which an entry's poster image is stored (index 0).
pub const POSTER_TRACK: &str = "poster";
/// The database.
pub const DB_NAME: &str = "offline-manager";
/// Its schema version: `sw/src/idb.rs` migrates every older one step by step.
pub const DB_VERSION: u32 = 3;
/// The object stores.
pub const STORES: Stores = Stores {
    entries: "entries",
    segments: "segments",
    manifests: "manifests",
    licenses: "licenses",
    plans: "plans",
};
/// The fields of a `segments` record (key `[entryId, track, index, chunk]`).
pub const SEGMENT_RECORD: SegmentRecord = SegmentRecord {
    entry_id: "entryId",
    track: "track",
    index: "index",
    chunk: "chunk",
    chunks: "chunks",
    blob: "blob",
    bytes: "bytes",
    size: "size",
    kind: "type",
    url: "url",
    range: "range",
};
/// The key path of `manifests` records (`{entryId, text}`); `entries` records are keyed by `id`.
pub const MANIFEST_KEY: &str = "entryId";
/// The field of a `manifests` record holding the manifest text.
pub const MANIFEST_TEXT: &str = "text";
/// The key path of `entries` records.
pub const ENTRY_KEY: &str = "id";
/// What every Background Fetch id of this worker starts with (`offline-manager:{entry}:{n}`):
/// the worker handles only background fetches of its own, beside an app's.
pub const BACKGROUND_FETCH_PREFIX: &str = "offline-manager:";
/// The second part of the Blob probe's key (`[[], "blob-probe"]`, after every entry's range).
pub const BLOB_PROBE: &str = "blob-probe";

/// The object store names.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Stores {
    /// One record per entry.
    pub entries: &'static str,
    /// Segment bytes, one record per segment or chunk.
    pub segments: &'static str,
    /// Local manifests.
    pub manifests: &'static str,
    /// ClearKey keys kept for offline playback.
    pub licenses: &'static str,
    /// Each entry's plan (key: the entry id), apart from its entry record: a plan lists every
    /// segment, so a listing that reads only the entries stays small however long the titles.
    pub plans: &'static str,
}

/// The field names of a segment record.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentRecord {
    /// The entry id.
    pub entry_id: &'static str,
    /// The track key.
    pub track: &'static str,
    /// The segment index (0: init).
    pub index: &'static str,
    /// The chunk number within a segment stored in chunks.
    pub chunk: &'static str,
    /// How many chunks the segment has (absent: 1).
    pub chunks: &'static str,
    /// The bytes as a Blob (the usual form).
    pub blob: &'static str,
    /// The bytes as an ArrayBuffer, where IndexedDB refuses Blobs.
    pub bytes: &'static str,
    /// Byte length.
    pub size: &'static str,
    /// The Content-Type the origin gave.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The URL it was fetched from.
    pub url: &'static str,
    /// The byte range fetched, when one was.
    pub range: &'static str,
}

/// The whole layout, as the generated bootstrap constants carry it.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Layout {
    /// [`OFFLINE_PREFIX`].
    pub offline_prefix: &'static str,
    /// [`MANIFEST_FILE`].
    pub manifest_file: &'static str,
    /// [`LICENSE_FILE`].
    pub license_file: &'static str,
    /// [`POSTER_TRACK`].
    pub poster_track: &'static str,
    /// [`DB_NAME`].
    pub database: &'static str,
    /// [`DB_VERSION`].
    pub database_version: u32,
    /// [`STORES`].
    pub stores: Stores,
    /// [`SEGMENT_RECORD`].
    pub segment_record: SegmentRecord,
    /// [`BACKGROUND_FETCH_PREFIX`].
    pub background_fetch_prefix: &'static str,
}

/// The layout in one value.
pub const LAYOUT: Layout = Layout {
    offline_prefix: OFFLINE_PREFIX,
    manifest_file: MANIFEST_FILE,
    license_file: LICENSE_FILE,
    poster_track: POSTER_TRACK,
    database: DB_NAME,
    database_version: DB_VERSION,
    stores: STORES,
    segment_record: SEGMENT_RECORD,
    background_fetch_prefix: BACKGROUND_FETCH_PREFIX,
};

/// What a local URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The local manifest of an entry.
    Manifest(String),
    /// The local manifest of an entry, cut to what is stored.
    StoredManifest(String),
    /// One stored segment: entry, track, index.
    Segment(String, String, u32),
    /// The entry's ClearKey licence endpoint.
    License(String),
}

/// The directory of an entry's local URLs: `{scope}__offline__/{entry}/`.
fn entry_base(scope: &str, entry_id: &str) -> String {
    format!("{scope}{OFFLINE_PREFIX}/{}/", encode_segment(entry_id))
}

/// The URL the player loads for a stored entry.
pub fn manifest_url(scope: &str, entry_id: &str) -> String {
    format!("{}{MANIFEST_FILE}", entry_base(scope, entry_id))
}

/// The URL of an entry's local manifest cut to what is stored.
pub fn stored_only_manifest_url(scope: &str, entry_id: &str) -> String {
    format!("{}?{STORED_ONLY_QUERY}", manifest_url(scope, entry_id))
}

/// Where the worker answers an entry's ClearKey licence requests.
pub fn license_url(scope: &str, entry_id: &str) -> String {
    format!("{}{LICENSE_FILE}", entry_base(scope, entry_id))
}

/// The id of background fetch `n` of an entry (the browser shows it nowhere; the title is the
/// entry's name).
pub fn background_fetch_id(entry_id: &str, n: u32) -> String {
    format!("{BACKGROUND_FETCH_PREFIX}{entry_id}:{n}")
}

/// The entry a background fetch id belongs to; `None` for ids this worker did not make.
pub fn background_fetch_entry(id: &str) -> Option<&str> {
    background_fetch_parts(id).map(|(entry, _)| entry)
}

/// The entry and the round number of a background fetch id (`offline-manager:{entry}:{n}`);
/// `None` for ids this worker did not make.
pub fn background_fetch_parts(id: &str) -> Option<(&str, u32)> {
    let rest = id.strip_prefix(BACKGROUND_FETCH_PREFIX)?;
    let (entry, n) = rest.rsplit_once(':')?;
    let n = n.parse::<u32>().ok()?;
    (!entry.is_empty()).then_some((entry, n))
}

/// The URL of segment `index` of an entry's track.
pub fn segment_url(scope: &str, entry_id: &str, track: &str, index: u32) -> String {
    format!(
        "{}{}",
        entry_base(scope, entry_id),
        mpd::local::segment_path(track, index)
    )
}

/// The URL of an entry's stored poster.
pub fn poster_url(scope: &str, entry_id: &str) -> String {
    segment_url(scope, entry_id, POSTER_TRACK, 0)
}

/// Maps a path below the scope (`__offline__/...`, query and fragment ignored) to a route.
pub fn route(rest: &str) -> Option<Route> {
    let rest = rest.split('#').next()?;
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let stored_only = query.split('&').any(|p| p == STORED_ONLY_QUERY);
    let mut parts = rest
        .strip_prefix(OFFLINE_PREFIX)?
        .strip_prefix('/')?
        .split('/');
    let entry = decode_segment(parts.next()?)?;
    match (parts.next()?, parts.next(), parts.next()) {
        (MANIFEST_FILE, None, _) if stored_only => Some(Route::StoredManifest(entry)),
        (MANIFEST_FILE, None, _) => Some(Route::Manifest(entry)),
        (LICENSE_FILE, None, _) => Some(Route::License(entry)),
        (track, Some(index), None) if !track.is_empty() => Some(Route::Segment(
            entry,
            track.to_string(),
            index.parse().ok()?,
        )),
        _ => None,
    }
}

/// Percent-encodes an entry id for use as one URL path segment.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Undoes [`encode_segment`] (and any other percent-encoding); `None` for bad escapes or
/// bytes that are not UTF-8.
fn decode_segment(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_segment_and_licence_paths_route() {
        assert_eq!(
            route("__offline__/0_ab/manifest.mpd"),
            Some(Route::Manifest("0_ab".into()))
        );
        assert_eq!(
            route("__offline__/a%20b/p0a0r1/12?x=1"),
            Some(Route::Segment("a b".into(), "p0a0r1".into(), 12))
        );
        assert_eq!(
            route("__offline__/0_ab/license"),
            Some(Route::License("0_ab".into()))
        );
    }

    #[test]
    fn background_fetch_ids_name_their_entry_and_no_others() {
        let id = background_fetch_id("0_a:b", 3);
        assert_eq!(background_fetch_entry(&id), Some("0_a:b"));
        for other in [
            "app-fetch",
            "offline-manager::1",
            "offline-manager:x:y",
            "offline-manager:x",
        ] {
            assert_eq!(background_fetch_entry(other), None, "{other}");
        }
    }

    #[test]
    fn other_paths_do_not_route() {
        for p in [
            "__offline__/x",
            "__offline__/x/t/notanumber",
            "__offline__/x/t/1/extra",
            "__offline__/x//1",
            "other/x/manifest.mpd",
            "__offline__/%zz/manifest.mpd",
            "__offline__/%e9/manifest.mpd",
        ] {
            assert_eq!(route(p), None, "{p}");
        }
    }

    #[test]
    fn every_url_built_routes_back_to_what_it_names() {
        let scope = "https://app.test/base/";
        for id in ["0_abc", "a b/c?d#e", "é", "%41"] {
            let rest = |url: String| url.strip_prefix(scope).unwrap_or_default().to_string();
            assert_eq!(
                route(&rest(manifest_url(scope, id))),
                Some(Route::Manifest(id.into()))
            );
            assert_eq!(
                route(&rest(stored_only_manifest_url(scope, id))),
                Some(Route::StoredManifest(id.into()))
            );
            assert_eq!(
                route(&rest(license_url(scope, id))),
                Some(Route::License(id.into()))
            );
            assert_eq!(
                route(&rest(poster_url(scope, id))),
                Some(Route::Segment(id.into(), POSTER_TRACK.into(), 0))
            );
            let segment = rest(segment_url(scope, id, "p0a1r2", 7));
            assert_eq!(
                route(&segment),
                Some(Route::Segment(id.into(), "p0a1r2".into(), 7))
            );
        }
    }
}
