//! DRM licences kept for offline playback: which key ids a plan needs, which DRM systems protect
//! it, the W3C ClearKey licence exchange (asked while online, answered from storage offline) and
//! expiry.
//!
//! ClearKey licences carry no expiry of their own. Ours is, in order: an `expiration` field (ms
//! since the epoch) in the licence JSON, the `X-License-Expiration` response header (ms since
//! the epoch), else none.

use crate::error::{Code, KalturaError};
use mpd::Plan;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// DRM systems by their DASH `ContentProtection@schemeIdUri` UUID.
const SYSTEMS: [(&str, &str); 4] = [
    ("e2719d58-a985-b3c9-781a-b030af78d30e", "ClearKey"),
    ("edef8ba9-79d6-4ace-a3c8-27dcd51d21ed", "Widevine"),
    ("9a04f079-9840-4286-ab92-e65be0885f95", "PlayReady"),
    ("94ce86fb-07ff-4f43-adb8-93d2fa968ca2", "FairPlay"),
];

/// One content key kept for an entry (the `licenses` store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredLicense {
    /// The entry it belongs to.
    pub entry_id: String,
    /// Key id, base64url without padding (as ClearKey JSON writes it).
    pub key_id: String,
    /// The key, base64url without padding.
    pub key: String,
    /// Expiry in ms since the epoch; `None` when the licence server gave none.
    pub expiration: Option<f64>,
    /// Where it came from.
    pub license_url: String,
    /// When it was acquired (ms since the epoch).
    pub acquired_at: f64,
}

/// Why a licence cannot be had or answered.
#[derive(Debug, Clone, PartialEq)]
pub enum LicenseError {
    /// The licence server's answer is not a ClearKey licence for the keys asked.
    BadLicense(String),
    /// The stored licence expired at this time (ms since the epoch).
    Expired(f64),
    /// No stored key for these key ids.
    UnknownKeys(Vec<String>),
    /// The player's licence request is not ClearKey JSON.
    BadRequest(String),
}

impl std::fmt::Display for LicenseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LicenseError::BadLicense(m) => {
                write!(f, "the licence server's answer is unusable: {m}")
            }
            LicenseError::Expired(at) => {
                write!(f, "the licence expired at {at} ms since the epoch")
            }
            LicenseError::UnknownKeys(k) => {
                write!(f, "no stored licence for key ids {}", k.join(", "))
            }
            LicenseError::BadRequest(m) => {
                write!(f, "the licence request is not ClearKey JSON: {m}")
            }
        }
    }
}

/// Key ids (base64url) the plan's tracks name in `cenc:default_KID`, without repeats.
pub fn key_ids(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in plan.tracks.iter().flat_map(|t| &t.info.protection) {
        if let Some(kid) = p.default_kid.as_deref().and_then(uuid_to_b64url) {
            if !out.contains(&kid) {
                out.push(kid);
            }
        }
    }
    out
}

/// The `ContentProtection` descriptors of the selected tracks, without repeats.
pub fn protection(plan: &Plan) -> Vec<mpd::describe::Protection> {
    let mut out: Vec<mpd::describe::Protection> = Vec::new();
    for p in plan.tracks.iter().flat_map(|t| &t.info.protection) {
        if !out.contains(p) {
            out.push(p.clone());
        }
    }
    out
}

/// Whether any selected track is encrypted.
pub fn is_protected(plan: &Plan) -> bool {
    plan.tracks.iter().any(|t| !t.info.protection.is_empty())
}

/// Names of the DRM systems the manifest offers (ClearKey, Widevine, ...), without repeats.
pub fn systems(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in plan.tracks.iter().flat_map(|t| &t.info.protection) {
        let uuid = p
            .scheme
            .trim_start_matches("urn:uuid:")
            .to_ascii_lowercase();
        if let Some((_, name)) = SYSTEMS.iter().find(|(u, _)| *u == uuid) {
            if !out.iter().any(|o| o == name) {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// The ClearKey licence URL: the config's `drmData` entry whose scheme names ClearKey
/// (`org.w3.clearkey`), else one without a scheme when the manifest offers ClearKey (the Kaltura
/// provider drops scheme strings it does not know, ClearKey's among them), else a `laurl` hint on
/// the manifest's ClearKey ContentProtection.
pub fn clearkey_url(config: &Value, plan: &Plan) -> Option<String> {
    let dash = config.pointer("/sources/dash/0").unwrap_or(config);
    let entries: Vec<&Value> = dash
        .get("drmData")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let url_of = |d: &Value| {
        d.get("licenseUrl")
            .or_else(|| d.get("licenseURL"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let scheme = |d: &Value| {
        d.get("scheme")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    let offers_clearkey = systems(plan).iter().any(|s| s == "ClearKey");
    entries
        .iter()
        .find(|d| scheme(d).is_some_and(|s| s.contains("clearkey")))
        .and_then(|d| url_of(d))
        .or_else(|| {
            entries
                .iter()
                .find(|d| offers_clearkey && scheme(d).is_none_or(|s| s.is_empty()))
                .and_then(|d| url_of(d))
        })
        .or_else(|| {
            plan.tracks
                .iter()
                .flat_map(|t| &t.info.protection)
                .find(|p| p.scheme.ends_with(SYSTEMS[0].0))
                .and_then(|p| p.license_url.clone())
        })
}

/// The W3C ClearKey licence request for `kids`.
pub fn request_body(kids: &[String]) -> String {
    json!({ "kids": kids, "type": "temporary" }).to_string()
}

/// Reads a ClearKey licence answer into stored keys; every key id asked must be in it.
pub fn parse_license(
    entry_id: &str,
    url: &str,
    text: &str,
    expiration_header: Option<&str>,
    kids: &[String],
    now: f64,
) -> Result<Vec<StoredLicense>, LicenseError> {
    let bad = |m: &str| LicenseError::BadLicense(m.to_string());
    let v: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
    let expiration = v
        .get("expiration")
        .and_then(Value::as_f64)
        .or_else(|| expiration_header.and_then(|h| h.trim().parse::<f64>().ok()))
        .filter(|e| e.is_finite());
    let keys = v
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no `keys` array"))?;
    let mut out = Vec::new();
    for k in keys {
        let field = |n: &str| k.get(n).and_then(Value::as_str).map(strip_padding);
        let (Some(kid), Some(key)) = (field("kid"), field("k")) else {
            return Err(bad("a key without `kid` or `k`"));
        };
        if b64url_decode(&kid).map(|b| b.len()) != Some(16)
            || b64url_decode(&key).map(|b| b.len()) != Some(16)
        {
            return Err(bad("a `kid` or `k` that is not 16 bytes of base64url"));
        }
        out.push(StoredLicense {
            entry_id: entry_id.to_string(),
            key_id: kid,
            key,
            expiration,
            license_url: url.to_string(),
            acquired_at: now,
        });
    }
    let missing: Vec<&String> = kids
        .iter()
        .filter(|k| !out.iter().any(|l| &l.key_id == *k))
        .collect();
    if !missing.is_empty() {
        return Err(bad(&format!(
            "no key for {}",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(out)
}

/// The earliest expiry of an entry's licences (`None` when none expires).
pub fn expiration(licenses: &[StoredLicense]) -> Option<f64> {
    licenses
        .iter()
        .filter_map(|l| l.expiration)
        .fold(None, |m: Option<f64>, e| Some(m.map_or(e, |m| m.min(e))))
}

/// Answers a player's ClearKey licence request from the stored keys (offline).
pub fn answer(request: &str, stored: &[StoredLicense], now: f64) -> Result<String, LicenseError> {
    let v: Value =
        serde_json::from_str(request).map_err(|e| LicenseError::BadRequest(e.to_string()))?;
    let kids: Vec<String> = v
        .get("kids")
        .and_then(Value::as_array)
        .ok_or_else(|| LicenseError::BadRequest("no `kids` array".into()))?
        .iter()
        .filter_map(Value::as_str)
        .map(strip_padding)
        .collect();
    let mut keys = Vec::new();
    let mut unknown = Vec::new();
    for kid in &kids {
        match stored.iter().find(|l| &l.key_id == kid) {
            Some(l) => {
                if let Some(at) = l.expiration.filter(|at| *at <= now) {
                    return Err(LicenseError::Expired(at));
                }
                keys.push(json!({"kty": "oct", "kid": l.key_id, "k": l.key}));
            }
            None => unknown.push(kid.clone()),
        }
    }
    if keys.is_empty() {
        return Err(LicenseError::UnknownKeys(unknown));
    }
    Ok(json!({ "keys": keys, "type": "temporary" }).to_string())
}

fn strip_padding(s: &str) -> String {
    s.trim_end_matches('=').replace('+', "-").replace('/', "_")
}

/// `10000000-1000-...` (any case, dashes optional) → base64url of its 16 bytes.
fn uuid_to_b64url(uuid: &str) -> Option<String> {
    let hex: String = uuid.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..16)
        .map(|i| u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok())
        .collect();
    Some(b64url_encode(&bytes?))
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding (RFC 4648 §5), as ClearKey JSON uses.
fn b64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Decodes base64url (padding and the standard alphabet's `+/` accepted).
fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let s = strip_padding(s);
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits & 0xff) as u8);
        }
    }
    Some(out)
}

/// The worker's answer to a player's licence request for a stored entry: HTTP status and body.
/// An expired or unknown licence gets a Kaltura error (9016) that says to renew it.
pub fn answer_license_request(
    entry_id: &str,
    request: &str,
    stored: &[StoredLicense],
    now: f64,
) -> (u16, String) {
    match answer(request, stored, now) {
        Ok(body) => (200, body),
        Err(e) => {
            let (status, why) = match &e {
                LicenseError::Expired(_) => (403, format!("the licence of entry {entry_id} expired; call renewLicense('{entry_id}') while online")),
                LicenseError::UnknownKeys(_) => (404, format!("entry {entry_id} has no stored licence for these keys ({e}); download it again")),
                _ => (400, format!("{e}")),
            };
            let err = KalturaError::new(Code::RenewLicenseFailed, why, Some(entry_id));
            (status, serde_json::to_string(&err).unwrap_or_default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KID: &str = "10000000-1000-1000-1000-100000000001";

    fn stored(expiration: Option<f64>) -> Vec<StoredLicense> {
        let kid = uuid_to_b64url(KID).unwrap_or_default();
        let answer = json!({"keys": [{"kty": "oct", "kid": kid, "k": "AAECAwQFBgcICQoLDA0ODw"}]});
        parse_license("e", "http://lic", &answer.to_string(), None, &[kid], 1.0)
            .map(|mut v| {
                v.iter_mut().for_each(|l| l.expiration = expiration);
                v
            })
            .unwrap_or_default()
    }

    #[test]
    fn base64url_round_trips_and_matches_rfc_4648() {
        assert_eq!(b64url_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(b64url_encode(b"fo"), "Zm8");
        assert_eq!(b64url_encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(b64url_decode("Zm8=").as_deref(), Some(&b"fo"[..]));
        assert_eq!(b64url_decode("-_8").as_deref(), Some(&[0xfb, 0xff][..]));
        assert_eq!(b64url_decode("a b"), None);
        assert_eq!(
            uuid_to_b64url(KID).as_deref(),
            Some("EAAAABAAEAAQABAAAAAAAQ")
        );
    }

    #[test]
    fn a_stored_key_answers_the_players_request_until_it_expires() {
        let keys = stored(Some(5_000.0));
        let request = json!({"kids": ["EAAAABAAEAAQABAAAAAAAQ"], "type": "temporary"}).to_string();
        let text = answer(&request, &keys, 4_000.0).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["keys"][0]["k"], "AAECAwQFBgcICQoLDA0ODw");
        assert_eq!(
            answer(&request, &keys, 5_000.0),
            Err(LicenseError::Expired(5_000.0))
        );
    }

    #[test]
    fn unknown_key_ids_and_malformed_requests_are_refused() {
        let keys = stored(None);
        let other = json!({"kids": ["AAAAAAAAAAAAAAAAAAAAAA"]}).to_string();
        assert!(matches!(
            answer(&other, &keys, 0.0),
            Err(LicenseError::UnknownKeys(_))
        ));
        assert!(matches!(
            answer("{", &keys, 0.0),
            Err(LicenseError::BadRequest(_))
        ));
    }

    #[test]
    fn a_licence_missing_a_key_asked_for_is_refused() {
        let kid = uuid_to_b64url(KID).unwrap_or_default();
        let got = parse_license("e", "u", r#"{"keys": []}"#, None, &[kid], 0.0);
        assert!(matches!(got, Err(LicenseError::BadLicense(_))));
        let short = r#"{"keys": [{"kty":"oct","kid":"EAAAABAAEAAQABAAAAAAAQ","k":"AAEC"}]}"#;
        assert!(parse_license("e", "u", short, None, &[], 0.0).is_err());
    }

    #[test]
    fn expiry_comes_from_the_licence_json_else_the_header() {
        let body = r#"{"keys": [{"kty":"oct","kid":"EAAAABAAEAAQABAAAAAAAQ","k":"AAECAwQFBgcICQoLDA0ODw"}], "expiration": 7}"#;
        let l = parse_license("e", "u", body, Some("9"), &[], 0.0).unwrap();
        assert_eq!(expiration(&l), Some(7.0));
        let body = r#"{"keys": [{"kty":"oct","kid":"EAAAABAAEAAQABAAAAAAAQ","k":"AAECAwQFBgcICQoLDA0ODw"}]}"#;
        let l = parse_license("e", "u", body, Some("9"), &[], 0.0).unwrap();
        assert_eq!(expiration(&l), Some(9.0));
        assert_eq!(expiration(&stored(None)), None);
    }
}
