//! Any text given to the JSON front end gives a graph or an error, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mnetc_fuzz::json_import(data));
