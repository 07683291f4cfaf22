//! The local manifest of a partly downloaded entry cut to what is stored: each track lists only
//! the media segments stored from its start without a gap, and the presentation ends where the
//! first track's stored segments end, so a player never asks for a segment the store lacks.

use crate::error::MpdError;
use crate::local::timeline_of;
use crate::plan::Plan;
use crate::xml::{parse, write, Element};
use std::collections::HashMap;

/// `local` (the local manifest `local_manifest` wrote for `plan`) with track `key` cut to its
/// first `stored[key]` media segments (0 when absent), and the presentation to the earliest end
/// of those. `Ok(None)` when a track has no segment stored yet: nothing plays then.
pub fn stored_only(
    local: &str,
    plan: &Plan,
    stored: &HashMap<String, usize>,
) -> Result<Option<String>, MpdError> {
    let mut end = f64::INFINITY;
    for track in &plan.tracks {
        let n = stored.get(&track.key).copied().unwrap_or(0);
        let Some(last) = n.checked_sub(1).and_then(|i| track.segments.get(i)) else {
            return Ok(None);
        };
        end = end.min(last.end);
    }
    let mut root = parse(local)?;
    let mut periods_left = 0usize;
    for period in root
        .children
        .iter_mut()
        .filter(|c| c.local_name() == "Period")
    {
        let mut any = false;
        for set in period
            .children
            .iter_mut()
            .filter(|c| c.local_name() == "AdaptationSet")
        {
            for rep in set
                .children
                .iter_mut()
                .filter(|c| c.local_name() == "Representation")
            {
                any |= cut_representation(rep, plan, stored, end);
            }
        }
        if any {
            periods_left = periods_left.saturating_add(1);
        } else {
            period.name = String::new();
        }
    }
    root.children.retain(|c| !c.name.is_empty());
    if periods_left == 0 {
        return Ok(None);
    }
    if let Some(last) = root
        .children
        .iter_mut()
        .filter(|c| c.local_name() == "Period")
        .last()
    {
        last.attrs.retain(|(k, _)| k != "duration");
    }
    root.attrs.retain(|(k, _)| k != "mediaPresentationDuration");
    root.attrs.push((
        "mediaPresentationDuration".into(),
        format!("PT{:.3}S", end.max(0.0)),
    ));
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write(&root, &mut out);
    Ok(Some(out))
}

/// Cuts one Representation's timeline to its stored segments that begin before `end`; false
/// when none is left.
fn cut_representation(
    rep: &mut Element,
    plan: &Plan,
    stored: &HashMap<String, usize>,
    end: f64,
) -> bool {
    let Some(template) = rep
        .children
        .iter_mut()
        .find(|c| c.local_name() == "SegmentTemplate")
    else {
        return false;
    };
    let key = template
        .attr("media")
        .and_then(|m| m.strip_suffix("/$Number$"))
        .map(str::to_string);
    let Some(track) = key.and_then(|k| plan.tracks.iter().find(|t| t.key == k)) else {
        return false;
    };
    let n = stored.get(&track.key).copied().unwrap_or(0);
    let keep: Vec<_> = track
        .segments
        .iter()
        .take(n)
        .take_while(|s| s.start < end)
        .cloned()
        .collect();
    if keep.is_empty() {
        return false;
    }
    template
        .children
        .retain(|c| c.local_name() != "SegmentTimeline");
    template.children.push(timeline_of(&keep));
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{plan_manifest, SelectOptions};
    use url::Url;

    const MPD: &str = r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT8S">
  <Period>
    <AdaptationSet mimeType="video/mp4" codecs="avc1.64001e">
      <Representation id="v" bandwidth="1000">
        <SegmentTemplate timescale="1" duration="2" media="v$Number$.m4s" initialization="vi.m4s"/>
      </Representation>
    </AdaptationSet>
    <AdaptationSet mimeType="audio/mp4" codecs="mp4a.40.2">
      <Representation id="a" bandwidth="100">
        <SegmentTemplate timescale="1" duration="1" media="a$Number$.m4s" initialization="ai.m4s"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>"#;

    fn planned() -> (Plan, String) {
        let base = Url::parse("https://cdn.test/m.mpd").unwrap();
        plan_manifest(MPD, &base, &SelectOptions::default()).unwrap()
    }

    fn stored(v: usize, a: usize) -> HashMap<String, usize> {
        HashMap::from([("p0a0r0".to_string(), v), ("p0a1r0".to_string(), a)])
    }

    #[test]
    fn each_track_lists_its_stored_segments_and_the_title_ends_where_the_first_track_does() {
        let (plan, local) = planned();
        let cut = stored_only(&local, &plan, &stored(2, 5)).unwrap().unwrap();
        // Video: 2 × 2 s stored ends at 4 s; audio: 5 × 1 s would reach 5 s, cut to 4 s.
        assert!(
            cut.contains(r#"mediaPresentationDuration="PT4.000S""#),
            "{cut}"
        );
        let root = parse(&cut).unwrap();
        let plan_of_cut = plan_manifest(
            &cut,
            &Url::parse("https://app.test/m.mpd").unwrap(),
            &SelectOptions::default(),
        )
        .unwrap()
        .0;
        let counts: Vec<usize> = plan_of_cut
            .tracks
            .iter()
            .map(|t| t.segments.len())
            .collect();
        assert_eq!(counts, [2, 4]);
        assert_eq!(root.local_name(), "MPD");
    }

    #[test]
    fn nothing_is_listed_while_a_track_has_no_segment_stored() {
        let (plan, local) = planned();
        assert_eq!(stored_only(&local, &plan, &stored(3, 0)).unwrap(), None);
        assert_eq!(stored_only(&local, &plan, &HashMap::new()).unwrap(), None);
    }

    #[test]
    fn everything_stored_keeps_the_whole_title() {
        let (plan, local) = planned();
        let cut = stored_only(&local, &plan, &stored(4, 8)).unwrap().unwrap();
        assert!(
            cut.contains(r#"mediaPresentationDuration="PT8.000S""#),
            "{cut}"
        );
    }
}
