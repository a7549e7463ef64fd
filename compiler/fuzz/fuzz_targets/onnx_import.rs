//! Any bytes given to the ONNX front end (import and all passes) give a graph or an error,
//! never a panic; small accepted graphs are compiled and interpreted too.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mnetc_fuzz::onnx_import(data));
