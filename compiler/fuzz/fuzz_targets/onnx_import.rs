//! Any bytes given to the ONNX front end (import and all passes) give a graph or an error,
//! never a panic. Seed the corpus with `tests/fixtures/*.onnx` (from the repository root).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = mnetc::Options::default();
    let _ = mnetc::frontend_bytes(data, std::path::Path::new("fuzz.onnx"), &options);
});
