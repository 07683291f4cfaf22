//! What a track is, beyond its segments: roles, label, frame rate, protection, thumbnail tiles.
//! Apps show these to users and the download engine needs the protection data for licences.

use crate::xml::Element;
use serde::{Deserialize, Serialize};

/// Descriptive attributes of a representation (with AdaptationSet inheritance).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackInfo {
    /// `Role@value`s (e.g. `main`, `alternate`, `subtitle`, `caption`).
    pub roles: Vec<String>,
    /// `Label` text, if any.
    pub label: Option<String>,
    /// `@frameRate` as written (`25`, `30000/1001`).
    pub frame_rate: Option<String>,
    /// `ContentProtection` descriptors.
    pub protection: Vec<Protection>,
    /// DASH-IF thumbnail tile grid (`columns x rows`), for image tracks.
    pub tiles: Option<String>,
}

/// One `ContentProtection` element.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Protection {
    /// `@schemeIdUri` (lower-cased, e.g. `urn:mpeg:dash:mp4protection:2011` or a system UUID).
    pub scheme: String,
    /// `@value` (e.g. `cenc`).
    pub value: Option<String>,
    /// `cenc:default_KID` (UUID form).
    pub default_kid: Option<String>,
    /// `cenc:pssh` (base64).
    pub pssh: Option<String>,
    /// A licence server URL hinted in the manifest (`dashif:laurl`, `ms:laurl@licenseUrl`, ...).
    pub license_url: Option<String>,
}

/// Known schemes of the thumbnail tile property.
const TILE_SCHEMES: [&str; 2] = [
    "http://dashif.org/thumbnail_tile",
    "http://dashif.org/guidelines/thumbnail_tile",
];

/// Describes `rep` within `set`.
pub fn describe(set: &Element, rep: &Element) -> TrackInfo {
    let both = || set.children.iter().chain(rep.children.iter());
    let roles = both()
        .filter(|c| c.local_name() == "Role")
        .filter_map(|r| r.attr("value"))
        .map(str::to_string)
        .collect();
    let label = rep
        .child("Label")
        .or_else(|| set.child("Label"))
        .map(|l| l.text.clone())
        .filter(|t| !t.is_empty());
    let frame_rate = rep
        .attr("frameRate")
        .or_else(|| set.attr("frameRate"))
        .map(str::to_string);
    let protection = both()
        .filter(|c| c.local_name() == "ContentProtection")
        .map(protection_of)
        .collect();
    let tiles = both()
        .filter(|c| {
            c.local_name() == "EssentialProperty" || c.local_name() == "SupplementalProperty"
        })
        .find(|p| {
            p.attr("schemeIdUri")
                .is_some_and(|s| TILE_SCHEMES.contains(&s))
        })
        .and_then(|p| p.attr("value"))
        .map(str::to_string);
    TrackInfo {
        roles,
        label,
        frame_rate,
        protection,
        tiles,
    }
}

fn protection_of(cp: &Element) -> Protection {
    let license_url =
        cp.children
            .iter()
            .find_map(|c| match c.local_name().to_ascii_lowercase().as_str() {
                "laurl" => c
                    .attr("licenseUrl")
                    .map(str::to_string)
                    .or_else(|| Some(c.text.clone()).filter(|t| !t.is_empty())),
                _ => None,
            });
    Protection {
        scheme: cp
            .attr("schemeIdUri")
            .unwrap_or_default()
            .to_ascii_lowercase(),
        value: cp.attr("value").map(str::to_string),
        default_kid: cp.attr("default_KID").map(str::to_string),
        pssh: cp
            .child("pssh")
            .map(|p| p.text.clone())
            .filter(|t| !t.is_empty()),
        license_url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    #[test]
    fn roles_label_protection_and_tiles_are_read_with_inheritance() {
        let set = parse(
            r#"<AdaptationSet frameRate="25" xmlns:cenc="urn:mpeg:cenc:2013" xmlns:dashif="https://dashif.org/CPS">
                <Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>
                <Label>English</Label>
                <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="10000000-1000-1000-1000-100000000001"/>
                <ContentProtection schemeIdUri="urn:uuid:E2719D58-A985-B3C9-781A-B030AF78D30E">
                  <dashif:laurl>https://lic.example/clearkey</dashif:laurl>
                  <cenc:pssh>AAAA</cenc:pssh>
                </ContentProtection>
                <EssentialProperty schemeIdUri="http://dashif.org/thumbnail_tile" value="10x1"/>
                <Representation id="r"/>
              </AdaptationSet>"#,
        )
        .unwrap();
        let info = describe(&set, &set.children[5]);
        assert_eq!(info.roles, ["main"]);
        assert_eq!(info.label.as_deref(), Some("English"));
        assert_eq!(info.frame_rate.as_deref(), Some("25"));
        assert_eq!(info.tiles.as_deref(), Some("10x1"));
        assert_eq!(
            info.protection[0].default_kid.as_deref(),
            Some("10000000-1000-1000-1000-100000000001")
        );
        assert_eq!(
            info.protection[1].scheme,
            "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"
        );
        assert_eq!(
            info.protection[1].license_url.as_deref(),
            Some("https://lic.example/clearkey")
        );
        assert_eq!(info.protection[1].pssh.as_deref(), Some("AAAA"));
    }
}
