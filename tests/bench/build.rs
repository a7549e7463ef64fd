//! Compiles every benchmark model found, with mnetc's `Builder` for the architecture being
//! built (`avx2` on x86-64, `avx512` when the build enables AVX-512F, `neon` on aarch64, `rvv`
//! on riscv64, where the instruction counts of `count.sh` come from), and writes a registry of
//! them. Models come from `../../../shared/models` when that folder
//! exists, else from the repository's fixtures (which hold the small ones), or from `models/`
//! (int8 models that `quantize.py` makes).

use mnetc::Builder;
use mnetc::codegen::Target;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// (label, file stem) in the order of the table.
const MODELS: [(&str, &str); 15] = [
    ("1.0_224", "mobilenet_v1_1.0_224_folded"),
    ("1.0_128", "mobilenet_v1_1.0_128_folded"),
    ("0.75_192", "mobilenet_v1_0.75_192_folded"),
    ("0.5_224", "mobilenet_v1_0.5_224_folded"),
    ("0.5_128", "mobilenet_v1_0.5_128_folded"),
    ("0.25_224", "mobilenet_v1_0.25_224_folded"),
    ("0.25_128", "mobilenet_v1_0.25_128_folded"),
    ("cifar10", "mobilenet_v1_cifar10_folded"),
    ("v2_1.0_224", "mobilenet_v2_imagenet"),
    // MobileNetV3 (Keras, tf2onnx; NHWC input of 0..255 pixels, logits).
    ("v3_small", "mobilenet_v3small_a1.0_r224"),
    ("v3_large", "mobilenet_v3large_a1.0_r224"),
    // int8 (QDQ): the shared ones, and those `quantize.py` makes from the float models.
    ("1.0_224_int8", "mobilenet_v1_1.0_224_int8_qdq"),
    ("0.5_128_int8", "mobilenet_v1_0.5_128_int8_qdq"),
    ("0.25_128_int8", "mobilenet_v1_0.25_128_int8_qdq"),
    ("v2_1.0_224_int8", "mobilenet_v2_imagenet_int8_qdq"),
];

fn find(stem: &str) -> Option<PathBuf> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        here.join("../../../shared/models"),
        here.join("../fixtures"),
        here.join("models"),
    ]
    .into_iter()
    .map(|d| d.join(format!("{stem}.onnx")))
    .find(|p| p.exists())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    // The last target of the build's architecture whose features the build enables (avx512
    // when built with AVX-512F, else avx2; neon, rvv), else generic.
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH")?;
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let enabled: Vec<&str> = features.split(',').collect();
    let target = Target::all()
        .filter(|t| t.desc().arch == Some(arch.as_str()))
        .filter(|t| t.desc().features.iter().all(|f| enabled.contains(f)))
        .last()
        .unwrap_or(Target::GENERIC);
    let mut registry = String::from("pub static MODELS: &[Entry] = &[\n");
    let mut modules = String::new();
    for (i, (label, stem)) in MODELS.iter().enumerate() {
        let Some(path) = find(stem) else { continue };
        let m = format!("m{i}");
        Builder::new()
            .target(target)
            .name(&m)
            .out_dir(&out)
            .compile(&path)?;
        let macs = mnetc::inspect::summarize(&mnetc::frontend(&path, &mnetc::Options::default())?)
            .total_macs;
        writeln!(
            modules,
            r#"mod {m} {{ include!(concat!(env!("OUT_DIR"), "/{m}.rs")); }}
struct State{i} {{ input: Box<[f32; {m}::INPUT_LEN]>, output: Box<[f32; {m}::OUTPUT_LEN]>, scratch: Box<{m}::Scratch> }}
impl Model for State{i} {{
    fn set_input(&mut self, x: &[f32]) {{ self.input.copy_from_slice(x) }}
    fn run(&mut self) {{ {m}::forward(&self.input, &mut self.output, &mut self.scratch) }}
    fn run_on(&mut self, pool: &dyn mnetc_runtime::pool::Parallel) {{ {m}::forward_parallel(&self.input, &mut self.output, &mut self.scratch, pool) }}
    fn output(&self) -> &[f32] {{ &self.output[..] }}
}}
fn {m}_new() -> Box<dyn Model> {{
    Box::new(State{i} {{
        input: Box::new([0.0; {m}::INPUT_LEN]),
        output: Box::new([0.0; {m}::OUTPUT_LEN]),
        scratch: mnetc_runtime::boxed_zeroed::<{m}::Scratch>(),
    }})
}}"#
        )?;
        writeln!(
            registry,
            "    Entry {{ label: {label:?}, path: {:?}, macs: {macs}, input_shape: &{m}::INPUT_SHAPE, new: {m}_new }},",
            path.display().to_string()
        )?;
    }
    registry.push_str("];\n");
    writeln!(
        registry,
        "/// The mnetc target the models were compiled for."
    )?;
    writeln!(registry, "pub const TARGET: &str = {:?};", target.name())?;
    std::fs::write(out.join("models.rs"), modules + &registry)?;
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../../../shared/models");
    println!("cargo:rerun-if-changed=models");
    Ok(())
}
