//! Writes the local manifest: static, only the selected representations, each addressed by a
//! SegmentTemplate + SegmentTimeline whose URLs are relative paths served by the worker.
//!
//! Every addressing form maps onto this one local form, with the source's timescale,
//! presentationTimeOffset and segment times kept exactly, so players see the same timeline.

use crate::model::Manifest;
use crate::plan::{Plan, TrackPlan};
use crate::xml::{write, Element};

/// Child elements that locate or address media in the source and are replaced locally.
const REPLACED: [&str; 6] = [
    "BaseURL",
    "SegmentTemplate",
    "SegmentList",
    "SegmentBase",
    "Location",
    "PatchLocation",
];

/// The local MPD text for `plan`. Segment `k` of track `T` is at `T/k` (init at `T/0`),
/// relative to the manifest's own URL.
pub fn local_manifest(manifest: &Manifest, plan: &Plan) -> String {
    let mut root = manifest.root.clone();
    root.attrs.retain(|(k, _)| {
        !matches!(
            k.as_str(),
            "availabilityStartTime" | "minimumUpdatePeriod" | "timeShiftBufferDepth"
        )
    });
    set_attr(&mut root, "type", "static");
    root.children
        .retain(|c| !REPLACED.contains(&c.local_name()) && c.local_name() != "UTCTiming");
    let mut period_index = 0usize;
    root.children.retain_mut(|period| {
        if period.local_name() != "Period" {
            return true;
        }
        let pi = period_index;
        period_index += 1;
        keep_period(period, pi, plan)
    });
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write(&root, &mut out);
    out
}

fn keep_period(period: &mut Element, pi: usize, plan: &Plan) -> bool {
    period
        .children
        .retain(|c| !REPLACED.contains(&c.local_name()));
    let mut ai = 0usize;
    period.children.retain_mut(|set| {
        if set.local_name() != "AdaptationSet" {
            return true;
        }
        let a = ai;
        ai += 1;
        set.children.retain(|c| !REPLACED.contains(&c.local_name()));
        let mut ri = 0usize;
        set.children.retain_mut(|rep| {
            if rep.local_name() != "Representation" {
                return true;
            }
            let key = format!("p{pi}a{a}r{ri}");
            ri += 1;
            match plan.tracks.iter().find(|t| t.key == key) {
                Some(track) => {
                    rep.children.retain(|c| !REPLACED.contains(&c.local_name()));
                    rep.children.push(template_for(track));
                    true
                }
                None => false,
            }
        });
        set.children
            .iter()
            .any(|c| c.local_name() == "Representation")
    });
    period
        .children
        .iter()
        .any(|c| c.local_name() == "AdaptationSet")
}

fn template_for(track: &TrackPlan) -> Element {
    let mut attrs = vec![
        ("timescale".to_string(), track.timescale.to_string()),
        ("presentationTimeOffset".to_string(), track.pto.to_string()),
        ("startNumber".to_string(), "1".to_string()),
        ("media".to_string(), format!("{}/$Number$", track.key)),
    ];
    if track.init.is_some() {
        attrs.push(("initialization".to_string(), format!("{}/0", track.key)));
    }
    let mut timeline = Element {
        name: "SegmentTimeline".into(),
        ..Element::default()
    };
    let mut i = 0;
    let segs = &track.segments;
    while i < segs.len() {
        let (t, d) = (segs[i].t, segs[i].d);
        let mut r = 0u64;
        while i + 1 < segs.len() && segs[i + 1].d == d && segs[i + 1].t == segs[i].t + d {
            r += 1;
            i += 1;
        }
        let mut s = vec![
            ("t".to_string(), t.to_string()),
            ("d".to_string(), d.to_string()),
        ];
        if r > 0 {
            s.push(("r".to_string(), r.to_string()));
        }
        timeline.children.push(Element {
            name: "S".into(),
            attrs: s,
            ..Element::default()
        });
        i += 1;
    }
    Element {
        name: "SegmentTemplate".into(),
        attrs,
        children: vec![timeline],
        text: String::new(),
    }
}

fn set_attr(el: &mut Element, name: &str, value: &str) {
    match el.attrs.iter_mut().find(|(k, _)| k == name) {
        Some((_, v)) => *v = value.to_string(),
        None => el.attrs.push((name.to_string(), value.to_string())),
    }
}
