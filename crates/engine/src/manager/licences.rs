//! Licences of encrypted entries: acquired before the first segment is fetched, renewed on
//! request without touching segments, answered offline by the worker at the entry's local
//! licence URL.

use crate::entry::{Entry, PersistentSession};
use crate::error::{Code, FetchError, KalturaError};
use crate::layout;
use crate::license;
use crate::manager::Manager;
use crate::ports::{Fetcher, Host, Store};
use crate::protocol::{Answer, ProtectionAnswer, Renewed};
use mpd::SelectOptions;
use serde_json::Value;
use std::rc::Rc;

impl<F: Fetcher, S: Store<F::Body>, H: Host> Manager<F, S, H> {
    /// The URL the player sends an entry's ClearKey licence requests to, offline.
    pub fn local_license_url(&self, entry_id: &str) -> String {
        layout::license_url(self.scope(), entry_id)
    }

    /// For encrypted content, gets and stores the ClearKey licence for every key id of the plan
    /// and records its expiry on the entry. Clear content passes untouched.
    pub(crate) async fn acquire_licenses(
        &self,
        entry: &mut Entry,
        plan: &mpd::Plan,
    ) -> Result<(), KalturaError> {
        if !license::is_protected(plan) {
            entry.protected = false;
            entry.expiration = None;
            return Ok(());
        }
        if !entry.sessions.is_empty() {
            // The page made persistent-license sessions in the browser's CDM: nothing to get.
            entry.protected = true;
            return Ok(());
        }
        let id = entry.id.clone();
        let systems = license::systems(plan);
        let Some(url) = license::clearkey_url(&entry.config, plan) else {
            return Err(KalturaError::new(
                Code::ContentUnsupportedByBrowser,
                format!(
                    "entry {id} is encrypted ({}); only ClearKey licences can be kept offline by this worker, and the media config has no ClearKey licence URL (sources.dash[0].drmData with scheme org.w3.clearkey)",
                    if systems.is_empty() { "unknown DRM system".to_string() } else { systems.join(", ") }
                ),
                Some(&id),
            )
            .with("systems", systems));
        };
        let kids = license::key_ids(plan);
        if kids.is_empty() {
            return Err(KalturaError::new(
                Code::NoInitDataForOffline,
                format!("entry {id} is encrypted but its manifest names no key id (cenc:default_KID); such content cannot be stored offline"),
                Some(&id),
            ));
        }
        let licenses = self
            .fetch_licenses(&id, &url, &kids)
            .await
            .map_err(|why| {
                KalturaError::new(
                    Code::DownloadFailed,
                    format!("could not get the licence for entry {id} from {url}: {why}; check the licence server and try again"),
                    Some(&id),
                )
                .with("url", url.as_str())
            })?;
        entry.expiration = license::expiration(&licenses);
        entry.protected = true;
        self.store
            .put_licenses(&id, licenses)
            .await
            .map_err(|e| e.to_kaltura(Some(&id)))?;
        Ok(())
    }

    async fn fetch_licenses(
        &self,
        id: &str,
        url: &str,
        kids: &[String],
    ) -> Result<Vec<license::StoredLicense>, String> {
        let (text, header) = self
            .fetcher
            .post_license(url, license::request_body(kids))
            .await
            .map_err(|e| match e {
                FetchError::Status { status } => {
                    format!("the licence server answered HTTP {status}")
                }
                other => other.describe(url),
            })?;
        license::parse_license(id, url, &text, header.as_deref(), kids, self.host.now_ms())
            .map_err(|e| e.to_string())
    }

    /// `renewLicense`: fresh licences from the (fresh) config's licence URL; segments untouched.
    pub(crate) async fn renew(
        self: &Rc<Self>,
        id: &str,
        config: Option<Value>,
    ) -> Result<Answer, KalturaError> {
        let mut entry = self.entry(id).await?;
        let fail = |why: String| KalturaError::new(Code::RenewLicenseFailed, why, Some(id));
        if !entry.protected {
            return Err(fail(format!(
                "entry {id} is clear content: it has no licence to renew, and none is needed to play it offline"
            )));
        }
        if !entry.sessions.is_empty() {
            return Err(fail(format!(
                "entry {id} keeps its licence in persistent-license sessions of the browser's CDM; they are renewed by the page (OfflineManager.renewLicense), not by the worker"
            )));
        }
        let Some(plan) = entry.plan.clone() else {
            return Err(fail(format!(
                "entry {id} has no download plan; download it first"
            )));
        };
        if let Some(config) = config.filter(Value::is_object) {
            entry.config = config;
        }
        let url = license::clearkey_url(&entry.config, &plan).ok_or_else(|| {
            fail(format!(
                "the media config of entry {id} has no ClearKey licence URL (drmData)"
            ))
        })?;
        let licenses = self
            .fetch_licenses(id, &url, &license::key_ids(&plan))
            .await
            .map_err(|why| fail(format!("could not renew the licence of entry {id} from {url}: {why}; the stored licence is kept, try again while online")).with("url", url.as_str()))?;
        entry.expiration = license::expiration(&licenses);
        self.store
            .put_licenses(id, licenses)
            .await
            .map_err(|e| e.to_kaltura(Some(id)))?;
        self.save_entry(&mut entry).await?;
        Ok(Answer::Renewed(Renewed {
            entry_id: id.to_string(),
            expiration: entry.expiration,
        }))
    }

    /// Selects the entry's tracks with `options` without downloading and answers what protects
    /// the selected tracks and which MSE types the manifest offers:
    /// `{entryId, protection: [{scheme, value, defaultKid, pssh, licenseUrl}], mediaTypes:
    /// [{mimeType, codecs}]}` (`protection` empty for clear content). The page makes
    /// persistent-license sessions from the `pssh`, and probes `mediaTypes` with
    /// `MediaSource.isTypeSupported` to send the download its `playable` option. No segment
    /// index is fetched: protection and types are in the manifest itself.
    pub(crate) async fn protection(
        &self,
        id: &str,
        options: SelectOptions,
    ) -> Result<Answer, KalturaError> {
        let entry = self.entry(id).await?;
        let planner = self.fetch_planner(&entry, &options).await?;
        let manifest = planner.manifest();
        let mut protection: Vec<&mpd::describe::Protection> = Vec::new();
        for p in mpd::select::select(manifest, &options)
            .into_iter()
            .flat_map(|t| &t.info.protection)
        {
            if !protection.contains(&p) {
                protection.push(p);
            }
        }
        let answer = ProtectionAnswer {
            entry_id: id.to_string(),
            protection: protection.into_iter().cloned().collect(),
            media_types: mpd::playable::media_types(manifest),
        };
        self.keep_described(&entry, planner);
        Ok(Answer::Protection(answer))
    }

    /// Keeps the persistent-license sessions the page made for an entry; their earliest
    /// expiry becomes the entry's. An empty list forgets them.
    pub(crate) async fn keep_sessions(
        &self,
        id: &str,
        sessions: Vec<PersistentSession>,
    ) -> Result<Answer, KalturaError> {
        if let Some(why) = sessions.iter().find_map(PersistentSession::invalid) {
            return Err(KalturaError::new(
                Code::OperationAborted,
                format!("the worker refused a persistent-license session for entry {id}: {why}"),
                Some(id),
            ));
        }
        let mut entry = self.entry(id).await?;
        entry.expiration = sessions
            .iter()
            .filter_map(|s| s.expiration)
            .reduce(f64::min);
        entry.protected = entry.protected || !sessions.is_empty();
        entry.sessions = sessions;
        self.save_entry(&mut entry).await?;
        self.summary_answer(&entry).await
    }
}
