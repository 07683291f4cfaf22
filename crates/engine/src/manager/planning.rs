//! Planning a download: fetch the manifest, resolve its xlinks, parse and select, fetch the
//! segment indexes SegmentBase and `SegmentTemplate@index` tracks need (in rounds, for
//! hierarchical `sidx`es), and plan.
//!
//! The parsing and planning rules are the `mpd` crate's; this module only does their fetches,
//! each failure named by the URL that failed.

use crate::error::{Code, KalturaError};
use crate::manager::Manager;
use crate::ports::{Fetcher, Host, Store};
use mpd::{MpdError, SelectOptions};
use std::collections::HashMap;

/// Rounds of index fetching a plan may take: the first, then up to two per level of a
/// hierarchical `sidx` (the start of each referenced range, then the whole box when it is
/// longer). The `mpd` crate refuses deeper indexes first; this bounds the loop regardless.
const MAX_INDEX_ROUNDS: usize = 1 + 2 * mpd::sidx_tree::MAX_SIDX_DEPTH;

/// Most index requests one plan may make over every track and round: a safety cap far over a
/// real manifest's needs (one or two per SegmentBase track, a few more for hierarchical ones).
const MAX_INDEX_FETCHES: usize = 4096;

/// How long a manifest a `protection` answer described stays for the download that follows:
/// the page probes its types (and for Widevine or PlayReady makes its licence sessions) in
/// between, so this covers a slow licence server, while a manifest changed since is not
/// planned from an old copy much later.
const DESCRIBED_KEEP_MS: f64 = 60_000.0;

/// A manifest fetched and parsed for a `protection` answer, kept so that the download that
/// follows plans the very manifest whose types the page probed, without fetching and parsing
/// it again.
pub(crate) struct Described {
    entry_id: String,
    url: String,
    at_ms: f64,
    manifest: mpd::Manifest,
    base: url::Url,
}

/// Most index bytes one plan holds in memory over every track and round: the fetcher caps a
/// whole `SegmentTemplate@index` file at [`mpd::MAX_INDEX_FILE_BYTES`] and the `mpd` crate a
/// hierarchical `sidx`'s boxes per track; this bounds their sum, many tracks together.
const MAX_INDEX_BYTES: u64 = 64 << 20;

impl<F: Fetcher, S: Store<F::Body>, H: Host> Manager<F, S, H> {
    /// Fetches the entry's manifest and plans it with `options`; gives the plan and the local
    /// manifest.
    pub(crate) async fn fetch_plan(
        &self,
        entry: &crate::Entry,
        options: &SelectOptions,
    ) -> Result<(mpd::Plan, String), KalturaError> {
        let planner = self.fetch_planner(entry, options).await?;
        self.finish_plan(&entry.id, &planner).await
    }

    /// Fetches the entry's manifest and the documents its xlinks name (or takes the copy a
    /// `protection` answer kept, see [`Manager::keep_described`]), parses it and selects tracks
    /// with `options`, without the index fetches a full plan needs.
    pub(crate) async fn fetch_planner(
        &self,
        entry: &crate::Entry,
        options: &SelectOptions,
    ) -> Result<mpd::Planner, KalturaError> {
        let id = entry.id.as_str();
        let url = entry.dash_url().unwrap_or_default();
        let now = self.host.now_ms();
        let kept = self
            .described
            .borrow_mut()
            .take()
            .filter(|d| d.entry_id == id && d.url == url && now - d.at_ms <= DESCRIBED_KEEP_MS);
        let (manifest, base) = match kept {
            Some(d) => (d.manifest, d.base),
            None => self.fetch_manifest(id, url).await?,
        };
        planner(id, manifest, &base, options)
    }

    /// Keeps the manifest a `protection` answer described for the download that follows (a
    /// second answer uses it too, and gives it back again).
    pub(crate) fn keep_described(&self, entry: &crate::Entry, planner: mpd::Planner) {
        let (manifest, base) = planner.into_manifest();
        *self.described.borrow_mut() = Some(Described {
            entry_id: entry.id.clone(),
            url: entry.dash_url().unwrap_or_default().to_string(),
            at_ms: self.host.now_ms(),
            manifest,
            base,
        });
    }

    /// Forgets a manifest kept for `id`'s download (the entry was removed or prepared anew).
    pub(crate) fn forget_described(&self, id: &str) {
        let mut described = self.described.borrow_mut();
        if described.as_ref().is_some_and(|d| d.entry_id == id) {
            *described = None;
        }
    }

    /// Fetches a manifest and the documents its xlinks name, and parses it; gives it with the
    /// URL its relative links resolve against.
    async fn fetch_manifest(
        &self,
        id: &str,
        url: &str,
    ) -> Result<(mpd::Manifest, url::Url), KalturaError> {
        let (final_url, text) = self
            .fetcher
            .fetch_text(url)
            .await
            .map_err(|e| e.to_kaltura(id, url, Some("the manifest")))?;
        let base = url::Url::parse(&final_url).map_err(|e| {
            cannot_add(id, &format!("the manifest URL {final_url} is invalid: {e}"))
        })?;
        let root = self.resolve_xlinks(id, &text, &base).await?;
        drop(text);
        let manifest = mpd::Manifest::from_root(root, &base).map_err(|e| plan_error(id, e))?;
        Ok((manifest, base))
    }

    /// Parses the manifest text and splices in the documents its `xlink:actuate="onLoad"` links
    /// name, level after level (see `mpd::xlink` for the rules and caps). Each document is
    /// fetched as the manifest is, relative links resolving against the URL that answered.
    async fn resolve_xlinks(
        &self,
        id: &str,
        text: &str,
        base: &url::Url,
    ) -> Result<mpd::xml::Element, KalturaError> {
        let mut links = mpd::Xlinks::parse(text, base).map_err(|e| plan_error(id, e))?;
        loop {
            let needs = links.needs().map_err(|e| plan_error(id, e))?;
            if needs.is_empty() {
                return Ok(links.into_root());
            }
            let mut fetched = Vec::with_capacity(needs.len());
            for need in &needs {
                let answer = self.fetcher.fetch_text(&need.url).await.map_err(|e| {
                    let what = format!("the xlink document of a <{}>", need.element);
                    e.to_kaltura(id, &need.url, Some(&what))
                })?;
                fetched.push(answer);
            }
            links.resolve(fetched).map_err(|e| plan_error(id, e))?;
        }
    }

    /// Fetches the indexes SegmentBase and `SegmentTemplate@index` tracks need, round after
    /// round while a hierarchical `sidx` reveals more, and builds the plan and local manifest.
    async fn finish_plan(
        &self,
        id: &str,
        planner: &mpd::Planner,
    ) -> Result<(mpd::Plan, String), KalturaError> {
        let mut indexes = HashMap::new();
        let mut fetches = 0usize;
        let mut held = 0u64;
        for _ in 0..MAX_INDEX_ROUNDS {
            let needs = planner
                .pending_index_needs(&indexes)
                .map_err(|e| plan_error(id, e))?;
            if needs.is_empty() {
                return planner.finish(&indexes).map_err(|e| plan_error(id, e));
            }
            fetches = fetches.saturating_add(needs.len());
            if fetches > MAX_INDEX_FETCHES {
                return Err(plan_error(id, MpdError::TooLarge("segment index requests")));
            }
            for need in needs {
                let bytes = self
                    .fetcher
                    .fetch_bytes(&need.url, need.range)
                    .await
                    .map_err(|e| {
                        let what = match need.range {
                            Some([a, b]) => format!("the segment index (bytes {a}-{b}) of a track"),
                            None => "the segment index (the whole file) of a track".to_string(),
                        };
                        e.to_kaltura(id, &need.url, Some(&what))
                    })?;
                held = held.saturating_add(bytes.len() as u64);
                if held > MAX_INDEX_BYTES {
                    return Err(plan_error(id, MpdError::TooLarge("segment index bytes")));
                }
                indexes.insert(need.key, bytes);
            }
        }
        Err(plan_error(
            id,
            MpdError::BadIndex(format!(
                "it still needs bytes after {MAX_INDEX_ROUNDS} rounds of fetching"
            )),
        ))
    }
}

/// Selects; refuses (9009) a period whose video or audio the browser's probe
/// (`options.playable`) rules out entirely, since no player could start such an entry.
fn planner(
    id: &str,
    manifest: mpd::Manifest,
    base: &url::Url,
    options: &SelectOptions,
) -> Result<mpd::Planner, KalturaError> {
    let unplayable = mpd::playable::unplayable(&manifest, options);
    match (
        mpd::Planner::from_manifest(manifest, base, options),
        unplayable,
    ) {
        (Ok(p), None) => Ok(p),
        // Nothing selected under a probe: unplayable codecs are the likelier reason, and the
        // more useful message.
        (Ok(_) | Err(MpdError::NothingSelected), Some(u)) => Err(unplayable_error(id, &u)),
        (Err(e), _) => Err(plan_error(id, e)),
    }
}

fn cannot_add(id: &str, why: &str) -> KalturaError {
    KalturaError::new(Code::CannotAddItem, why.to_string(), Some(id))
}

fn unplayable_error(id: &str, u: &mpd::playable::Unplayable) -> KalturaError {
    let codecs: Vec<&str> = u.offered.iter().map(|m| m.codecs.as_str()).collect();
    KalturaError::new(
        Code::ContentUnsupportedByBrowser,
        format!("entry {id} cannot be stored: {u}; a stored copy could not be played here"),
        Some(id),
    )
    .with("codecs", codecs)
}

pub(crate) fn plan_error(id: &str, e: MpdError) -> KalturaError {
    match e {
        MpdError::Dynamic => KalturaError::new(
            Code::CannotStoreLiveOffline,
            "this is a live stream; only video on demand can be stored offline",
            Some(id),
        ),
        other => cannot_add(
            id,
            &format!("the manifest cannot be stored offline: {other}"),
        ),
    }
}
