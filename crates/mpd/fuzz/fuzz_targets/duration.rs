//! Any text as an `xs:duration`: a finite, non-negative number of seconds or `None`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(seconds) = mpd::duration::parse_duration(text) {
        assert!(seconds.is_finite() && seconds >= 0.0, "{text:?} gave {seconds}");
    }
});
