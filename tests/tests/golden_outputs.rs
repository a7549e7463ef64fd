//! The architecture change (issue 11) must not change what mnetc generates: every repository
//! fixture (and the example JSON description) compiles, on every target, to exactly the module
//! and weights whose SHA-256 `tests/golden/outputs.sha256` records. That file was written by the
//! code before the change and is not to be edited by it.

use mnetc::codegen::{CodegenOptions, Target};
use sha2::Digest;
use std::path::{Path, PathBuf};

fn hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every model file under `tests/fixtures` (subfolders included) and the example description,
/// relative to the repository root.
fn models() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = vec![PathBuf::from("examples/mobilenet_v1_0.5_160.json")];
    let mut dirs = vec![PathBuf::from("tests/fixtures")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(root.join(&dir)).unwrap() {
            let name = entry.unwrap().file_name();
            let rel = dir.join(&name);
            if root.join(&rel).is_dir() {
                dirs.push(rel);
            } else if name.to_string_lossy().ends_with(".onnx") {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

/// One line per (model, target, variant): `SHA(net.rs) SHA(weights) model target variant`.
fn lines() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for model in models() {
        let path = root.join(&model);
        let bytes = std::fs::read(&path).unwrap();
        for target in Target::all() {
            let variants: &[(&str, bool, bool)] = if target == Target::GENERIC {
                &[
                    ("embedded", true, false),
                    ("runtime-weights", true, true),
                    ("no-optimize", false, false),
                ]
            } else {
                &[("embedded", true, false)]
            };
            for &(variant, optimize, runtime_weights) in variants {
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
                    .unwrap_or_else(|e| panic!("{}: {e}", model.display()));
                out.push(format!(
                    "{} {} {} {} {variant}",
                    hex(generated.source.as_bytes()),
                    hex(&generated.weights),
                    model.display(),
                    target.name(),
                ));
            }
        }
    }
    out
}

#[test]
fn generated_code_and_weights_are_unchanged() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/outputs.sha256");
    let actual = lines();
    let expected = std::fs::read_to_string(&file).unwrap();
    let expected: Vec<&str> = expected.lines().filter(|l| !l.starts_with('#')).collect();
    let mut differ = Vec::new();
    for line in &actual {
        if !expected.contains(&line.as_str()) {
            differ.push(line.as_str());
        }
    }
    assert!(
        differ.is_empty() && expected.len() == actual.len(),
        "{} of {} outputs differ from {} ({} recorded):\n{}",
        differ.len(),
        actual.len(),
        file.display(),
        expected.len(),
        differ.join("\n")
    );
}
