//! What the generated code looks like, pinned: review changes to emission in these snapshots.

use mnetc::codegen::{CodegenOptions, Target};
use mnetc_tests::onnx_edit::{encode, tiny};
use std::path::Path;

fn compile(bytes: &[u8]) -> mnetc::codegen::Generated {
    compile_for(bytes, Target::GENERIC)
}

fn compile_for(bytes: &[u8], target: Target) -> mnetc::codegen::Generated {
    let codegen = CodegenOptions {
        target,
        ..CodegenOptions::default()
    };
    mnetc::compile_bytes(
        bytes,
        Path::new("tiny.onnx"),
        &mnetc::Options::default(),
        &codegen,
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

/// The same model on every other target: its kernels, guards and packed sizes.
#[test]
fn tiny_model_generated_code_on_every_target() {
    let bytes = encode(&tiny());
    for target in Target::all().filter(|&t| t != Target::GENERIC) {
        let generated = compile_for(&bytes, target);
        insta::assert_snapshot!(format!("tiny_model_{target}"), generated.source);
    }
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
