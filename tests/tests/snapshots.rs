//! What the generated code looks like, pinned: review changes to emission in these snapshots.

use mnetc::codegen::CodegenOptions;
use mnetc_tests::onnx_edit::{encode, tiny};
use std::path::Path;

fn compile(bytes: &[u8]) -> mnetc::codegen::Generated {
    mnetc::compile_bytes(
        bytes,
        Path::new("tiny.onnx"),
        &mnetc::Options::default(),
        &CodegenOptions::default(),
    )
    .unwrap()
}

#[test]
fn tiny_model_generated_code() {
    let generated = compile(&encode(&tiny()));
    insta::assert_snapshot!(generated.source);
    // Conv + ReLU (reading the NCHW input directly), global pooling, classifier.
    assert_eq!(generated.summary.kernel_calls, 3);
}

#[test]
fn generation_is_deterministic() {
    let bytes =
        std::fs::read(mnetc_tests::repo_fixtures().join("mobilenet_v2_imagenet.onnx")).unwrap();
    let (a, b) = (compile(&bytes), compile(&bytes));
    assert_eq!(a.source, b.source);
    assert_eq!(a.weights, b.weights);
    // Weights are a side file, never literals: the module stays small.
    assert!(
        a.source.len() < 100_000 && a.weights.len() > 13_000_000,
        "{} {}",
        a.source.len(),
        a.weights.len()
    );
}
