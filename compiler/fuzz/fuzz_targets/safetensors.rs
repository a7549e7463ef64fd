//! Any bytes as a description's safetensors weights give a graph or an error, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mnetc_fuzz::safetensors(data));
