//! The offline manager's engine: entries and their states, download jobs, the page/worker
//! protocol and Kaltura-style errors. It reaches storage, network and the host only through the
//! traits in [`ports`], so the service worker implements them with web APIs and tests with the
//! in-memory twins in [`memory`].

pub mod drm;
pub mod entry;
pub mod error;
pub mod job;
pub mod license;
pub mod manager;
pub mod memory;
mod planning;
pub mod ports;
pub mod progress;
pub mod protocol;
pub mod range;

pub use entry::{Entry, State, StopReason};
pub use error::{Code, FetchError, KalturaError, StoreError};
pub use job::JobConfig;
pub use manager::{encode_segment, Manager, OFFLINE_PREFIX};
pub use protocol::{parse_request, Command, Event, EventMessage, Reply, Request};
