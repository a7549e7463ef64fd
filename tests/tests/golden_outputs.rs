//! The architecture change (issue 11) must not change what mnetc generates: every repository
//! fixture (and the example JSON description) compiles, on every target, to exactly the module
//! and weights whose SHA-256 `tests/golden/outputs.sha256` records. That file was written by the
//! code before the change (commit b70d4cf, from every model file then in tests/fixtures) and is
//! not to be edited by it.
//!
//! Since the multithreaded forward pass (issue 13) the modules differ by design (the
//! `_parallel` entry points, each kernel call's task count and pool): the weights are still
//! compared byte for byte; the modules' hashes stay in the file as issue 11's record. The tests
//! of `threads.rs` hold the new code to `forward`'s bits, and the rest of the suite to
//! onnxruntime's outputs.

use mnetc::codegen::{CodegenOptions, Target};
use sha2::Digest;
use std::path::Path;

fn hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `SHA(weights) model target variant` for one recorded output, generated now.
fn line(model: &str, target: &str, variant: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(model);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{model}: {e}"));
    let target: Target = target.parse().unwrap_or_else(|e| panic!("{target}: {e}"));
    let (optimize, runtime_weights) = match variant {
        "embedded" => (true, false),
        "runtime-weights" => (true, true),
        "no-optimize" => (false, false),
        other => panic!("unknown variant {other}"),
    };
    let options = mnetc::Options {
        optimize,
        ..Default::default()
    };
    let codegen = CodegenOptions {
        target,
        runtime_weights,
        ..Default::default()
    };
    let generated = mnetc::compile_bytes(&bytes, &path, &options, &codegen)
        .unwrap_or_else(|e| panic!("{model}: {e}"));
    format!(
        "{} {model} {} {variant}",
        hex(&generated.weights),
        target.name()
    )
}

/// Every recorded weights file is generated again, byte for byte (targets and fixtures added
/// later have no record to match).
#[test]
fn generated_weights_are_unchanged() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/outputs.sha256");
    let text = std::fs::read_to_string(&file).unwrap();
    let recorded: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    let mut differ = Vec::new();
    for rec in &recorded {
        let f: Vec<&str> = rec.split(' ').collect();
        let now = line(f[2], f[3], f[4]);
        let weights = f[1..].join(" ");
        if now != weights {
            differ.push(format!("recorded {weights}\nnow      {now}"));
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} outputs differ from {}:\n{}",
        differ.len(),
        recorded.len(),
        file.display(),
        differ.join("\n")
    );
    // 17 models (every repository fixture and the example description, when recorded) x
    // (generic x 3 variants + avx2, neon, rvv).
    assert_eq!(recorded.len(), 102);
}
