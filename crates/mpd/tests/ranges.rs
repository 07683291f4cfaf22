//! Byte ranges from the manifest are bounds-checked before any length is derived from them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

use mpd::{plan_manifest, MpdError, SelectOptions, MAX_OFFSET};
use url::Url;

fn list_with(media_range: &str) -> String {
    format!(
        r#"<MPD type="static" mediaPresentationDuration="P0Y0M0DT0H0M8.000S"><Period>
        <AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1"><BaseURL>f.mp4</BaseURL>
        <SegmentList timescale="1" duration="8"><SegmentURL mediaRange="{media_range}"/></SegmentList>
        </Representation></AdaptationSet></Period></MPD>"#
    )
}

fn plan(doc: &str) -> Result<mpd::Plan, MpdError> {
    let url = Url::parse("https://cdn.example/m.mpd").unwrap();
    plan_manifest(doc, &url, &SelectOptions::default()).map(|(p, _)| p)
}

#[test]
fn a_media_range_spanning_all_of_u64_is_refused_as_out_of_bounds() {
    let err = plan(&list_with("0-18446744073709551615")).unwrap_err();
    assert!(matches!(err, MpdError::RangeOutOfBounds(_)), "{err:?}");
    assert!(err.to_string().contains("out of bounds"), "{err}");
    assert!(err.to_string().contains("mediaRange"), "{err}");
}

#[test]
fn a_media_range_past_what_javascript_can_address_is_refused() {
    let past = format!("0-{}", MAX_OFFSET + 1);
    assert!(matches!(
        plan(&list_with(&past)),
        Err(MpdError::RangeOutOfBounds(_))
    ));
    let overflowing = "0-99999999999999999999999";
    assert!(matches!(
        plan(&list_with(overflowing)),
        Err(MpdError::RangeOutOfBounds(_))
    ));
}

#[test]
fn the_largest_addressable_range_is_planned_with_its_exact_size() {
    let p = plan(&list_with(&format!("0-{MAX_OFFSET}"))).unwrap();
    assert_eq!(p.tracks[0].segments[0].range, Some([0, MAX_OFFSET]));
    assert_eq!(p.estimated_bytes, MAX_OFFSET + 1);
}

#[test]
fn malformed_ranges_stay_bad_attributes() {
    for r in ["9-1", "-5", "1-", "a-b", "+1-2", "1"] {
        assert!(
            matches!(plan(&list_with(r)), Err(MpdError::BadAttribute { .. })),
            "{r}"
        );
    }
}
