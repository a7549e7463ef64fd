//! The fuzz targets' bodies, one per file format mnetc reads from users: each takes any bytes
//! and must return without panicking (an `Err` is the right answer to bad input), and checks
//! what must hold when the input is accepted. `fuzz_targets/*.rs` hand them to libFuzzer;
//! `tests/tests/fuzz_corpus.rs` replays the committed corpora (`corpus/<target>/`) through the
//! same functions on the stable toolchain, so every input that once crashed stays fixed.

use std::path::Path;

/// A target's body.
pub type Target = fn(&[u8]);

/// The targets, by name: the folder of their corpus and of their fuzz target.
pub const TARGETS: [(&str, Target); 5] = [
    ("onnx_import", onnx_import),
    ("json_import", json_import),
    ("safetensors", safetensors),
    ("weights", weights),
    ("photo", photo),
];

/// Accepted graphs small enough to run cheaply are also compiled (generic target) and run by
/// the reference interpreter: any graph the front end accepts must go through both.
fn compile_and_run(graph: &mnetc::ir::Graph) {
    let summary = mnetc::inspect::summarize(graph);
    let input: usize = graph
        .shape(graph.input.value)
        .map_or(usize::MAX, |s| s.iter().product());
    if summary.total_macs > 1 << 22 || input > 1 << 16 || summary.weight_bytes > 1 << 22 {
        return;
    }
    let _ = mnetc::compile_graph(graph, &mnetc::codegen::CodegenOptions::default());
    let x = mnetc::ir::Tensor::f32(graph.shape(graph.input.value).unwrap().to_vec(), {
        (0..input).map(|i| (i % 7) as f32 * 0.25 - 0.5).collect()
    });
    let _ = mnetc::interp::run(graph, &x);
}

/// Any bytes given to the ONNX front end (import and all passes).
pub fn onnx_import(data: &[u8]) {
    let options = mnetc::Options::default();
    if let Ok(graph) = mnetc::frontend_bytes(data, Path::new("fuzz.onnx"), &options) {
        compile_and_run(&graph);
    }
}

/// Any text given to the JSON front end (always its path: the first byte is `{`), with seeded
/// random weights.
pub fn json_import(data: &[u8]) {
    let mut text = b"{".to_vec();
    text.extend_from_slice(data.strip_prefix(b"{").unwrap_or(data));
    let options = mnetc::Options::default();
    if let Ok(graph) = mnetc::frontend_bytes(&text, Path::new("fuzz.json"), &options) {
        compile_and_run(&graph);
    }
}

/// A small description whose weights come from a safetensors file: the bytes given.
pub const SAFETENSORS_DESCRIPTION: &str = r#"{"name": "fuzz", "alpha": 1.0, "resolution": 16,
    "classes": 3, "activation": "relu6", "min_channels": 1, "input_channels": 3,
    "stem": {"channels": 4, "stride": 2}, "blocks": [{"channels": 8, "stride": 2}],
    "weights": {"safetensors": "fuzz.safetensors"}}"#;

/// Any bytes as the safetensors weights of a small description.
pub fn safetensors(data: &[u8]) {
    let read = |_: &str| Ok((data.to_vec(), "fuzz.safetensors".to_string()));
    let imported = mnetc::import::json::import_with(
        SAFETENSORS_DESCRIPTION,
        Path::new("fuzz.json"),
        None,
        None,
        read,
    );
    if let Ok(mut graph) = imported
        && mnetc::passes::run(&mut graph, None, true).is_ok()
    {
        compile_and_run(&graph);
    }
}

/// The layout hash and blob length of the network the `weights` target loads for.
pub const WEIGHTS_LAYOUT: [u8; 32] = [0x5a; 32];
pub const WEIGHTS_LEN: usize = 192;

/// Any bytes as a run-time weights file (`Net::from_bytes`): refused with a reason, or accepted
/// with exactly the blob after the header.
pub fn weights(data: &[u8]) {
    if let Ok(w) = mnetc_runtime::weights_from_bytes::<WEIGHTS_LEN>(data, &WEIGHTS_LAYOUT) {
        assert_eq!(w.0[..], data[64..]);
    }
}

/// Any bytes as a photo: decoded (with the decoders' limits), then resized and cropped as the
/// torchvision preprocessing does, to 32 x 32 pixels.
pub fn photo(data: &[u8]) {
    let Ok(rgb) = mnetc::photo::decode_rgb(data, Path::new("fuzz.jpg")) else {
        return;
    };
    let pre = mnetc::preprocess::Preprocess::preset("torchvision").unwrap();
    if let Ok(pixels) = mnetc::photo::fit(&rgb, 32, &pre) {
        assert_eq!(pixels.len(), 32 * 32 * 3);
    }
}
