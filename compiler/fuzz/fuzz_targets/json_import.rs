//! Any text given to the JSON front end gives a graph or an error, never a panic. Seed the
//! corpus with `examples/*.json`. Seeded random weights keep the run free of file access.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut text = b"{".to_vec(); // always take the JSON path
    text.extend_from_slice(data.strip_prefix(b"{").unwrap_or(data));
    let options = mnetc::Options::default();
    let _ = mnetc::frontend_bytes(&text, std::path::Path::new("fuzz.json"), &options);
});
