//! Any bytes as a run-time weights file (`Net::from_bytes`) are refused or give the blob.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mnetc_fuzz::weights(data));
