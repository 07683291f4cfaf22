//! DASH segment encryption (AES-128-CBC, see `mpd::sea`) in a job run: each key is fetched once
//! per run, before the first segment it decrypts, and kept only in memory; each segment is
//! decrypted right after its fetch passed the size checks (which see the encrypted bytes), so
//! what is stored, counted and served is the clear segment.

use super::fetch::backoff_ms;
use super::units::Unit;
use super::{JobConfig, JobError};
use crate::error::{Code, FetchError, KalturaError};
use crate::ports::{Body, DecryptError, Fetcher, Host, KeyError, NewSegment};
use mpd::SegmentEncryption;
use std::collections::HashMap;

/// Largest encrypted segment accepted: WebCrypto decrypts one whole message at a time, in
/// memory, so an encrypted item is never fetched or decrypted in chunks. Real segments are a
/// few MiB.
pub(super) const MAX_ENCRYPTED_BYTES: u64 = 256 * 1024 * 1024;

/// Keys by key URL, for one job run.
pub(super) type Keys<K> = HashMap<String, K>;

/// Fetches the key of every encrypted unit left to fetch, once per key URL.
pub(super) async fn fetch_keys<F: Fetcher, H: Host>(
    entry_id: &str,
    fetcher: &F,
    host: &H,
    cfg: JobConfig,
    units: &[Unit],
) -> Result<Keys<F::Key>, JobError> {
    let mut keys = Keys::new();
    for enc in units.iter().filter_map(|u| u.encryption.as_ref()) {
        if keys.contains_key(&enc.key_url) {
            continue;
        }
        let key = fetch_key(fetcher, host, cfg, &enc.key_url)
            .await
            .map_err(|e| key_error(entry_id, &enc.key_url, e))?;
        keys.insert(enc.key_url.clone(), key);
    }
    Ok(keys)
}

/// One key, with the retries and backoff of a segment request.
async fn fetch_key<F: Fetcher, H: Host>(
    fetcher: &F,
    host: &H,
    cfg: JobConfig,
    url: &str,
) -> Result<F::Key, KeyError> {
    let mut attempt = 0u32;
    loop {
        match fetcher.fetch_key(url).await {
            Ok(key) => return Ok(key),
            Err(KeyError::Fetch(FetchError::Network(m))) if !host.online() => {
                return Err(KeyError::Fetch(FetchError::Network(format!(
                    "{m}; the device is offline"
                ))))
            }
            Err(KeyError::Fetch(e)) if e.retriable() && attempt + 1 < cfg.max_attempts => {
                host.sleep(backoff_ms(cfg, attempt, host.random())).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// A key that cannot be had fails the entry with 9011 naming the key URL; a network failure
/// pauses it instead, as for segments.
fn key_error(entry_id: &str, url: &str, e: KeyError) -> JobError {
    let what = match &e {
        KeyError::Fetch(f) => f.describe(url),
        KeyError::Unusable(why) => format!("{url} is no AES-128 key: {why}"),
    };
    let err = KalturaError::new(
        Code::DownloadFailed,
        format!("could not get the segment-encryption key {url}: {what}"),
        Some(entry_id),
    )
    .with("url", url);
    match e {
        KeyError::Fetch(FetchError::Network(_)) => JobError::Network(err.recoverable()),
        KeyError::Fetch(FetchError::Status { status }) if status >= 500 => {
            JobError::Network(err.with("status", status).recoverable())
        }
        KeyError::Fetch(FetchError::Status { status }) => {
            JobError::Fatal(err.with("status", status))
        }
        _ => JobError::Fatal(err),
    }
}

/// Replaces a fetched segment's encrypted body by its clear bytes.
pub(super) async fn decrypt<F: Fetcher>(
    entry_id: &str,
    fetcher: &F,
    keys: &Keys<F::Key>,
    segment: NewSegment<F::Body>,
    enc: &SegmentEncryption,
) -> Result<NewSegment<F::Body>, JobError> {
    let fail = |why: String| {
        JobError::Fatal(
            KalturaError::new(
                Code::DownloadFailed,
                format!(
                    "the segment {} could not be decrypted with the AES-128 key from {} ({why}); the key or IV is wrong, or the segment is damaged",
                    segment.url, enc.key_url
                ),
                Some(entry_id),
            )
            .with("url", segment.url.as_str())
            .with("keyUrl", enc.key_url.as_str()),
        )
    };
    let iv = enc
        .iv_bytes()
        .ok_or_else(|| fail(format!("the IV {} is not 32 hex digits", enc.iv)))?;
    let key = keys
        .get(&enc.key_url)
        .ok_or_else(|| fail("its key was not fetched".into()))?;
    let size = segment.body.size();
    if size > MAX_ENCRYPTED_BYTES {
        return Err(fail(format!(
            "it is {size} bytes, more than the {MAX_ENCRYPTED_BYTES} bytes decrypted at once"
        )));
    }
    match fetcher.decrypt(segment.body.clone(), key, iv).await {
        Ok(body) => Ok(NewSegment { body, ..segment }),
        Err(DecryptError(why)) => Err(fail(why)),
    }
}
