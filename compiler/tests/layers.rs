//! The compiler's layers point only down (docs/ARCHITECTURE.md): every `crate::` path in a
//! module's code names a layer below it. And the library stays free of the command line's
//! dependencies.

use std::collections::BTreeMap;
use std::path::Path;

/// Each top-level module (or item of lib.rs) and its layer; a module may use lower layers only.
const LAYERS: &[(&str, u32)] = &[
    ("error", 0),
    ("onnx_proto", 0),
    ("Error", 0),
    ("Result", 0),
    ("ir", 1),
    ("target", 1),
    ("limits", 1),
    ("rng", 2),
    ("program", 2),
    ("ops", 3),
    ("import", 3),
    ("interp", 4),
    ("inspect", 4),
    ("photo", 4),
    ("preprocess", 3),
    ("passes", 5),
    ("ptq", 5),
    ("codegen", 6),
    ("builder", 8),
    ("inline", 8),
    ("Options", 7),
    ("Builder", 8),
    ("frontend", 7),
    ("frontend_bytes", 7),
    ("compile_graph", 7),
    ("compile_bytes", 7),
];

fn layer(name: &str) -> u32 {
    LAYERS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("crate::{name} has no layer in this test"))
        .1
}

/// The `crate::` names a file's code (not its comments) uses.
fn uses(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        out.push(name);
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push(name);
            }
        }
    }
    out
}

fn visit(dir: &Path, top: Option<&str>, out: &mut BTreeMap<String, Vec<String>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let module = top.map_or(name.clone(), str::to_string);
        if path.is_dir() {
            visit(&path, Some(&module), out);
        } else if path.extension().is_some_and(|e| e == "rs") && module != "lib" {
            let text = std::fs::read_to_string(&path).unwrap();
            out.entry(module).or_default().extend(uses(&text));
        }
    }
}

#[test]
fn every_module_uses_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut uses = BTreeMap::new();
    visit(&src, None, &mut uses);
    assert!(uses.len() >= 12, "{:?}", uses.keys());
    let mut wrong = Vec::new();
    for (module, names) in &uses {
        for name in names {
            if name != module && layer(name) >= layer(module) {
                wrong.push(format!(
                    "{module} (layer {}) uses crate::{name} (layer {})",
                    layer(module),
                    layer(name)
                ));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_library_has_no_command_line_dependencies() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "tree",
            "-p",
            "mnetc",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("prost"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for crate_name in ["clap", "tera"] {
        assert!(
            !text
                .lines()
                .any(|l| l.split(' ').next() == Some(crate_name)),
            "mnetc depends on {crate_name}:\n{text}"
        );
    }
}
