//! Static DASH manifests for offline storage: parse an MPD, enumerate exactly the segments a
//! player would fetch, select tracks, and write the local manifest the worker serves.
//!
//! Pure Rust with no web dependency, so every rule is tested natively and the same code runs in
//! the service worker.
//!
//! Every module reads sizes, offsets, times and counts from untrusted input (manifests, `sidx`
//! boxes, WebM Cues), so arithmetic that can overflow and casts that can truncate are refused
//! outside the tests: such a value is checked (an [`MpdError`]) or saturated, and an operation
//! that cannot overflow says why in an `allow`.
#![cfg_attr(
    not(test),
    warn(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)
)]

mod addressing;
pub mod byterange;
pub mod describe;
pub mod duration;
pub mod error;
pub mod index_template;
pub mod local;
pub mod model;
pub mod plan;
pub mod playable;
pub mod sea;
pub mod segments;
pub mod select;
pub mod sidx;
pub mod sidx_tree;
pub mod stored_only;
pub mod template;
#[cfg(any(test, feature = "test-support"))]
#[doc(hidden)]
pub mod test_support;
pub mod urls;
pub mod webm;
pub mod xlink;
pub mod xml;

pub use byterange::{checked_range, range_len, MAX_OFFSET};
pub use error::MpdError;
pub use index_template::MAX_INDEX_FILE_BYTES;
pub use model::{Manifest, TrackKind};
pub use plan::{init_key, plan_manifest, IndexNeed, Plan, PlanItem, Planner, TrackPlan};
pub use sea::SegmentEncryption;
pub use segments::{InitSegment, Segment};
pub use select::SelectOptions;
pub use xlink::{XlinkNeed, Xlinks};
