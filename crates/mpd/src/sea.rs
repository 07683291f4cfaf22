//! DASH segment encryption (ISO/IEC 23009-4, `urn:mpeg:dash:sea:2012`) with AES-128-CBC, in
//! exactly the shape shaka-player 5.2 plays:
//!
//! ```xml
//! <AdaptationSet>
//!   <ContentProtection schemeIdUri="urn:mpeg:dash:sea:2012">
//!     <sea:SegmentEncryption schemeIdUri="urn:mpeg:dash:sea:aes128-cbc:2013"/>
//!     <sea:CryptoPeriod IV="0x…32 hex digits…" keyUriTemplate="key.bin"/>
//!   </ContentProtection>
//! ```
//!
//! One such element per AdaptationSet, with exactly one `SegmentEncryption` of that scheme and
//! exactly one `CryptoPeriod` carrying both `@IV` and `@keyUriTemplate`. Every init and media
//! segment of every representation of the set is then one AES-128-CBC message with PKCS#7
//! padding, under that one key and that one IV. The key URL is used as written (shaka fills no
//! `$Number$` into it) and resolved against the representation's BaseURL. Other shapes (an IV
//! derived from the segment number, several crypto periods, `CryptoTimeline`, other cipher
//! schemes, the element on a Representation) are refused, as shaka refuses or ignores them.
//!
//! The engine decrypts segments while downloading, so the stored segments are clear and the
//! local manifest drops these elements: every MSE player then plays the stored entry, including
//! players that know no segment encryption at all (dash.js), and no key is kept.

use crate::error::MpdError;
use crate::xml::Element;
use serde::{Deserialize, Serialize};
use url::Url;

/// `ContentProtection@schemeIdUri` of DASH segment encryption (compared case-insensitively).
pub const SEA_SCHEME: &str = "urn:mpeg:dash:sea:2012";
/// `SegmentEncryption@schemeIdUri` of AES-128-CBC, the only cipher shaka-player implements.
pub const AES128_CBC: &str = "urn:mpeg:dash:sea:aes128-cbc:2013";

/// How a track's segments (init included) are encrypted: AES-128-CBC, PKCS#7 padding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentEncryption {
    /// Absolute URL of the 16 raw key bytes. Fetched by each job run, never stored.
    pub key_url: String,
    /// The IV as 32 lower-case hex digits (no `0x`), the same for every segment.
    pub iv: String,
}

impl SegmentEncryption {
    /// The IV's 16 bytes; `None` when a stored plan holds something else.
    pub fn iv_bytes(&self) -> Option<[u8; 16]> {
        hex16(&self.iv)
    }
}

/// What an AdaptationSet's segment-encryption descriptor says, before each representation
/// resolves the key URL against its own BaseURL.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SetEncryption {
    key_uri: String,
    iv: [u8; 16],
}

impl SetEncryption {
    /// The encryption of a representation whose BaseURL is `base`.
    pub(crate) fn resolve(&self, base: &Url) -> Result<SegmentEncryption, MpdError> {
        let key = base
            .join(&self.key_uri)
            .map_err(|e| MpdError::Url(format!("{}: {e}", self.key_uri)))?;
        let iv = self.iv.iter().map(|b| format!("{b:02x}")).collect();
        Ok(SegmentEncryption {
            key_url: key.to_string(),
            iv,
        })
    }
}

/// Whether `el` is a segment-encryption `ContentProtection`.
pub(crate) fn is_sea(el: &Element) -> bool {
    el.local_name() == "ContentProtection"
        && el
            .attr("schemeIdUri")
            .is_some_and(|s| s.trim().eq_ignore_ascii_case(SEA_SCHEME))
}

fn refused(why: &str) -> MpdError {
    MpdError::BadAttribute {
        element: "ContentProtection",
        attr: "schemeIdUri",
        value: format!("{SEA_SCHEME} ({why})"),
    }
}

/// Reads the segment encryption of an AdaptationSet, if it has one.
pub(crate) fn of_adaptation_set(set: &Element) -> Result<Option<SetEncryption>, MpdError> {
    let mut found = set.children.iter().filter(|c| is_sea(c));
    let Some(cp) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(refused("given twice in one AdaptationSet"));
    }
    let scheme = only(cp, "SegmentEncryption")
        .ok_or_else(|| refused("it needs exactly one sea:SegmentEncryption"))?
        .attr("schemeIdUri")
        .unwrap_or_default();
    if scheme != AES128_CBC {
        return Err(MpdError::BadAttribute {
            element: "SegmentEncryption",
            attr: "schemeIdUri",
            value: format!("{scheme} (only {AES128_CBC} is supported)"),
        });
    }
    let period = only(cp, "CryptoPeriod").ok_or_else(|| {
        refused("it needs exactly one sea:CryptoPeriod; several crypto periods are not supported")
    })?;
    let bad = |attr: &'static str, value: &str| MpdError::BadAttribute {
        element: "CryptoPeriod",
        attr,
        value: value.chars().take(200).collect(),
    };
    let iv_text = period.attr("IV").unwrap_or_default();
    let iv = iv_text
        .trim()
        .strip_prefix("0x")
        .or_else(|| iv_text.trim().strip_prefix("0X"))
        .and_then(hex16)
        .ok_or_else(|| bad("IV", iv_text))?;
    let key_uri = period
        .attr("keyUriTemplate")
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| bad("keyUriTemplate", ""))?;
    Ok(Some(SetEncryption {
        key_uri: key_uri.to_string(),
        iv,
    }))
}

/// Refuses a segment-encryption descriptor on a Representation of a set that has none: shaka
/// reads it from the AdaptationSet only, so such segments would reach players encrypted.
pub(crate) fn check_representation(rep: &Element, set_has_it: bool) -> Result<(), MpdError> {
    if !set_has_it && rep.children.iter().any(is_sea) {
        return Err(refused(
            "on a Representation; segment encryption is read from the AdaptationSet only",
        ));
    }
    Ok(())
}

/// Removes every segment-encryption descriptor from AdaptationSets and Representations: the
/// stored segments are decrypted, so the local manifest must not announce them encrypted.
pub(crate) fn strip(root: &mut Element) {
    for period in root.children.iter_mut() {
        if period.local_name() != "Period" {
            continue;
        }
        for set in period.children.iter_mut() {
            if set.local_name() != "AdaptationSet" {
                continue;
            }
            set.children.retain(|c| !is_sea(c));
            for rep in set.children.iter_mut() {
                if rep.local_name() == "Representation" {
                    rep.children.retain(|c| !is_sea(c));
                }
            }
        }
    }
}

/// The one child of `el` named `name`; `None` when there is none or several (as shaka's
/// `findChildNS`).
fn only<'a>(el: &'a Element, name: &'a str) -> Option<&'a Element> {
    let mut it = el.children_named(name);
    match (it.next(), it.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// Exactly 32 hex digits as 16 bytes.
fn hex16(text: &str) -> Option<[u8; 16]> {
    let digits = text.as_bytes();
    if digits.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    fn set(inner: &str) -> Element {
        parse(&format!(
            r#"<AdaptationSet xmlns:sea="urn:mpeg:dash:schema:sea:2012">{inner}<Representation id="v"/></AdaptationSet>"#
        ))
        .unwrap()
    }

    const GOOD: &str = r#"<ContentProtection schemeIdUri="urn:mpeg:dash:sea:2012">
        <sea:SegmentEncryption schemeIdUri="urn:mpeg:dash:sea:aes128-cbc:2013"/>
        <sea:CryptoPeriod IV="0x000102030405060708090A0B0C0D0E0F" keyUriTemplate="keys/k.bin?a=1&amp;b=2"/>
      </ContentProtection>"#;

    #[test]
    fn the_shaka_shape_gives_key_url_and_iv() {
        let enc = of_adaptation_set(&set(GOOD)).unwrap().unwrap();
        let base = Url::parse("https://cdn.test/film/video/").unwrap();
        let enc = enc.resolve(&base).unwrap();
        assert_eq!(
            enc.key_url,
            "https://cdn.test/film/video/keys/k.bin?a=1&b=2"
        );
        assert_eq!(enc.iv, "000102030405060708090a0b0c0d0e0f");
        assert_eq!(
            enc.iv_bytes(),
            Some([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
        );
    }

    #[test]
    fn other_shapes_are_refused() {
        let period = |attrs: &str| {
            format!(
                r#"<ContentProtection schemeIdUri="urn:mpeg:dash:sea:2012">
                  <sea:SegmentEncryption schemeIdUri="urn:mpeg:dash:sea:aes128-cbc:2013"/>
                  <sea:CryptoPeriod {attrs}/></ContentProtection>"#
            )
        };
        let cases = [
            period(r#"keyUriTemplate="k""#),
            period(r#"IV="0x0001" keyUriTemplate="k""#),
            period(r#"IV="000102030405060708090a0b0c0d0e0f" keyUriTemplate="k""#),
            period(r#"IV="0x000102030405060708090a0b0c0d0e0g" keyUriTemplate="k""#),
            period(r#"IV="0x000102030405060708090a0b0c0d0e0f""#),
            GOOD.replace("aes128-cbc:2013", "aes128-ctr:2013"),
            GOOD.replace("<sea:SegmentEncryption", "<sea:X"),
            GOOD.replace(
                "</ContentProtection>",
                "<sea:CryptoPeriod/></ContentProtection>",
            ),
            format!("{GOOD}{GOOD}"),
        ];
        for case in cases {
            assert!(
                matches!(
                    of_adaptation_set(&set(&case)),
                    Err(MpdError::BadAttribute { .. })
                ),
                "{case}"
            );
        }
        assert_eq!(of_adaptation_set(&set("")), Ok(None));
    }

    #[test]
    fn a_representation_level_descriptor_alone_is_refused() {
        let rep = parse(&format!("<Representation>{GOOD}</Representation>")).unwrap();
        assert!(check_representation(&rep, false).is_err());
        assert!(check_representation(&rep, true).is_ok());
    }

    fn mpd(set_inner: &str, rep_inner: &str) -> String {
        format!(
            r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:sea="urn:mpeg:dash:schema:sea:2012" type="static" mediaPresentationDuration="PT4S">
              <Period><AdaptationSet contentType="video" mimeType="video/mp4">{set_inner}
                <Representation id="v" bandwidth="1000" height="360"><BaseURL>v/</BaseURL>{rep_inner}
                  <SegmentTemplate timescale="1" duration="2" initialization="init.mp4" media="$Number$.m4s"/>
                </Representation></AdaptationSet></Period></MPD>"#
        )
    }

    #[test]
    fn a_manifest_plans_with_its_encryption_and_a_local_manifest_without_it() {
        let url = Url::parse("https://cdn.test/film/manifest.mpd").unwrap();
        let (plan, local) =
            crate::plan_manifest(&mpd(GOOD, ""), &url, &Default::default()).unwrap();
        let track = &plan.tracks[0];
        let enc = track.encryption.as_ref().unwrap();
        assert_eq!(enc.key_url, "https://cdn.test/film/v/keys/k.bin?a=1&b=2");
        assert!(track.info.protection.is_empty(), "no DRM system to license");
        assert_eq!(
            plan.items().filter(|i| i.encryption == Some(enc)).count(),
            3
        );
        assert!(!local.contains("ContentProtection") && !local.contains("CryptoPeriod"));
        let reparsed = crate::Manifest::parse(&local, &url).unwrap();
        assert!(reparsed.tracks().all(|(_, t)| t.encryption.is_none()));
    }

    #[test]
    fn drm_descriptors_beside_it_are_kept() {
        let cenc =
            r#"<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc"/>"#;
        let url = Url::parse("https://cdn.test/m.mpd").unwrap();
        let (plan, local) = crate::plan_manifest(
            &mpd(&format!("{GOOD}{cenc}"), ""),
            &url,
            &Default::default(),
        )
        .unwrap();
        assert_eq!(plan.tracks[0].info.protection.len(), 1);
        assert!(local.contains("mp4protection") && !local.contains("urn:mpeg:dash:sea:2012"));
    }

    #[test]
    fn a_manifest_with_it_only_on_a_representation_is_refused() {
        let url = Url::parse("https://cdn.test/m.mpd").unwrap();
        let err = crate::plan_manifest(&mpd("", GOOD), &url, &Default::default()).unwrap_err();
        assert!(err.to_string().contains("Representation"), "{err}");
    }
}
