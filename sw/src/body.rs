//! Segment bodies are Blob handles: the bytes stay in the browser, never in wasm memory
//! (WebAssembly.Memory never shrinks).

use engine::ports::Body;

/// A fetched segment.
#[derive(Debug, Clone)]
pub struct BlobBody(pub web_sys::Blob);

impl Body for BlobBody {
    fn size(&self) -> u64 {
        self.0.size() as u64
    }
}
