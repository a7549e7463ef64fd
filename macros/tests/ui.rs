//! The macro's compile-time errors, pinned with trybuild: each points at the argument it is
//! about. trybuild builds the cases in a crate of its own under the target directory, whose
//! folder is the `CARGO_MANIFEST_DIR` the macro resolves paths against; the files the cases
//! name are copied there first (`ui-inputs/`).
use std::path::Path;

#[test]
fn errors() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("..");
    let inputs = target.join("tests/trybuild/mnetc-macros/ui-inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::copy(
        repo.join("tests/fixtures/mobilenet_v1_0.25_128_bn.onnx"),
        inputs.join("v1_0.25_128.onnx"),
    )
    .unwrap();
    std::fs::copy(
        repo.join("examples/mobilenet_v1_0.5_160.json"),
        inputs.join("v1_0.5_160.json"),
    )
    .unwrap();
    std::fs::write(inputs.join("not_a_model.onnx"), b"not a model").unwrap();
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
