//! The offline manager's engine: entries and their states, download jobs, the page/worker
//! protocol and Kaltura-style errors. It reaches storage, network and the host only through the
//! traits in [`ports`], so the service worker implements them with web APIs and tests with the
//! in-memory twins in `memory` (feature `twins`). Where stored things live is [`layout`].

pub mod entry;
pub mod error;
pub mod job;
pub mod layout;
pub mod license;
pub mod manager;
#[cfg(feature = "twins")]
pub mod memory;
pub mod ports;
pub mod progress;
pub mod protocol;
pub mod range;
#[cfg(feature = "ts")]
pub mod schema;
mod watched;

pub use entry::{Entry, State, StopReason};
pub use error::{Code, FetchError, KalturaError, StoreError};
pub use job::JobConfig;
pub use manager::Manager;
pub use protocol::{parse_request, Answer, Command, Event, EventMessage, Reply, Request};
