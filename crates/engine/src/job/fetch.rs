//! One unit's fetch: retries with backoff and jitter, the track's other BaseURLs, the redirect
//! policy, and the size a byte range must have.

use super::units::Unit;
use super::JobConfig;
use crate::error::FetchError;
use crate::ports::{Body, Fetcher, Host, NewSegment};
use mpd::Plan;
use std::collections::HashSet;

/// The origin (`scheme://host:port`) of a URL, if it has one.
pub fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    match u.origin() {
        o @ url::Origin::Tuple(..) => Some(o.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

/// Where segment requests may be redirected: the manifest's origin, every BaseURL's origin, and
/// what the app allowed (`"*"` allows any).
#[derive(Debug, Clone, Default)]
pub struct RedirectPolicy {
    origins: HashSet<String>,
    any: bool,
}

impl RedirectPolicy {
    /// The policy for a plan and the origins the app allowed.
    pub fn new(plan: &Plan, allowed: &[String]) -> Self {
        let mut origins: HashSet<String> = plan
            .tracks
            .iter()
            .flat_map(|t| t.base_urls.iter())
            .chain(std::iter::once(&plan.manifest_url))
            .filter_map(|u| origin_of(u))
            .collect();
        let any = allowed.iter().any(|a| a == "*");
        origins.extend(allowed.iter().filter_map(|a| origin_of(a)));
        RedirectPolicy { origins, any }
    }

    /// `Err` with the final origin when `requested` landed on an origin not allowed.
    pub(super) fn check(&self, requested: &str, final_url: Option<&str>) -> Result<(), FetchError> {
        let Some(final_url) = final_url.filter(|f| !f.is_empty() && *f != requested) else {
            return Ok(());
        };
        let to = origin_of(final_url).unwrap_or_else(|| final_url.to_string());
        if self.any || origin_of(requested).as_ref() == Some(&to) || self.origins.contains(&to) {
            Ok(())
        } else {
            Err(FetchError::CrossOriginRedirect(to))
        }
    }
}

/// Fetches an item, retrying retriable failures with exponential backoff and jitter, then
/// trying the alternative base URLs in turn. The error reported is the primary URL's.
pub(super) async fn fetch_with_retry<F: Fetcher, H: Host>(
    fetcher: &F,
    host: &H,
    policy: &RedirectPolicy,
    unit: Unit,
    cfg: JobConfig,
) -> Result<NewSegment<F::Body>, (String, FetchError)> {
    let mut first_error = None;
    for url in std::iter::once(&unit.url).chain(&unit.alternates) {
        match fetch_one(fetcher, host, policy, url, unit.range, cfg).await {
            Ok(body) => {
                return Ok(NewSegment {
                    track: unit.track,
                    index: unit.index,
                    chunk: unit.chunk,
                    chunks: unit.chunks,
                    body,
                    url: url.clone(),
                    range: unit.range,
                })
            }
            // Offline: the other CDNs are unreachable too; pause now.
            Err(e @ FetchError::Network(_)) if !host.online() => return Err((unit.url, e)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let e = first_error.unwrap_or(FetchError::Network("no URL to fetch".into()));
    Err((unit.url, e))
}

async fn fetch_one<F: Fetcher, H: Host>(
    fetcher: &F,
    host: &H,
    policy: &RedirectPolicy,
    url: &str,
    range: Option<[u64; 2]>,
    cfg: JobConfig,
) -> Result<F::Body, FetchError> {
    let mut attempt = 0u32;
    loop {
        let result = fetcher.fetch(url, range).await.and_then(|f| {
            policy.check(url, f.final_url.as_deref())?;
            check_size(&f.body, range)?;
            Ok(f.body)
        });
        match result {
            Ok(body) => return Ok(body),
            Err(FetchError::Network(m)) if !host.online() => {
                return Err(FetchError::Network(format!("{m}; the device is offline")))
            }
            Err(e) if e.retriable() && attempt + 1 < cfg.max_attempts => {
                host.sleep(backoff_ms(cfg, attempt, host.random())).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The wait before retry `attempt + 1`: the first backoff doubled per attempt, ±50 % jitter
/// (`random` in [0, 1)), at most 30 s.
pub(super) fn backoff_ms(cfg: JobConfig, attempt: u32, random: f64) -> u32 {
    let base = f64::from(cfg.backoff_ms) * 2f64.powi(attempt.min(30) as i32);
    (base * (0.5 + random)).min(30_000.0) as u32
}

/// A body for a byte range must be exactly that long: whatever the server claimed, a short or
/// long body is never stored (and the request is tried again).
pub(super) fn check_size<B: Body>(body: &B, range: Option<[u64; 2]>) -> Result<(), FetchError> {
    let Some([a, b]) = range else {
        return Ok(());
    };
    match mpd::range_len([a, b]) {
        Some(want) if body.size() == want => Ok(()),
        want => Err(FetchError::Integrity(format!(
            "asked for bytes {a}-{b} ({} bytes), got {}",
            want.map_or_else(|| "an impossible number of".to_string(), |w| w.to_string()),
            body.size()
        ))),
    }
}
