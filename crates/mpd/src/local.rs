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
/// relative to the manifest's own URL. The source tree is copied selectively: the segment
/// information of the source (which can be most of a long manifest) is never cloned.
pub fn local_manifest(manifest: &Manifest, plan: &Plan) -> String {
    let src = &manifest.root;
    let mut root = shell(src);
    root.attrs.retain(|(k, _)| {
        !matches!(
            k.as_str(),
            "availabilityStartTime" | "minimumUpdatePeriod" | "timeShiftBufferDepth"
        )
    });
    set_attr(&mut root, "type", "static");
    let mut pi = 0usize;
    for child in &src.children {
        match child.local_name() {
            "Period" => {
                if let Some(p) = copy_period(child, pi, plan) {
                    root.children.push(p);
                }
                pi += 1;
            }
            "UTCTiming" => {}
            name if REPLACED.contains(&name) => {}
            _ => root.children.push(child.clone()),
        }
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write(&root, &mut out);
    out
}

/// The element with its attributes and text but no children.
fn shell(el: &Element) -> Element {
    Element {
        name: el.name.clone(),
        attrs: el.attrs.clone(),
        children: Vec::new(),
        text: el.text.clone(),
    }
}

fn copy_period(period: &Element, pi: usize, plan: &Plan) -> Option<Element> {
    let mut out = shell(period);
    let mut ai = 0usize;
    for child in &period.children {
        match child.local_name() {
            "AdaptationSet" => {
                if let Some(set) = copy_set(child, pi, ai, plan) {
                    out.children.push(set);
                }
                ai += 1;
            }
            name if REPLACED.contains(&name) => {}
            _ => out.children.push(child.clone()),
        }
    }
    out.children
        .iter()
        .any(|c| c.local_name() == "AdaptationSet")
        .then_some(out)
}

fn copy_set(set: &Element, pi: usize, ai: usize, plan: &Plan) -> Option<Element> {
    let mut out = shell(set);
    let mut ri = 0usize;
    for child in &set.children {
        match child.local_name() {
            "Representation" => {
                let key = format!("p{pi}a{ai}r{ri}");
                ri += 1;
                if let Some(track) = plan.tracks.iter().find(|t| t.key == key) {
                    let mut rep = shell(child);
                    rep.children = child
                        .children
                        .iter()
                        .filter(|c| !REPLACED.contains(&c.local_name()))
                        .cloned()
                        .collect();
                    rep.children.push(template_for(track));
                    out.children.push(rep);
                }
            }
            name if REPLACED.contains(&name) => {}
            _ => out.children.push(child.clone()),
        }
    }
    out.children
        .iter()
        .any(|c| c.local_name() == "Representation")
        .then_some(out)
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
