//! Any bytes as a photo are decoded and fitted to the network's input, or refused.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mnetc_fuzz::photo(data));
