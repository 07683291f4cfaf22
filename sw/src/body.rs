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
    fn slice(&self, start: u64, end: u64) -> Self {
        // Slicing a Blob only fails for non-finite bounds, which u64s are not.
        BlobBody(
            self.0
                .slice_with_f64_and_f64(start as f64, end as f64)
                .unwrap_or_else(|_| self.0.clone()),
        )
    }
}
