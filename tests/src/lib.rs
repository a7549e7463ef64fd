//! Helpers for mnetc's end-to-end tests: the reference fixtures (ONNX model, input,
//! onnxruntime's output) committed in `tests/fixtures`, plus those in `../shared/models` when
//! that folder exists beside the repository, and the tolerance of the fixtures' README.

pub mod c;
pub mod onnx_edit;

/// A model compiled by `build.rs` through [`mnetc::Builder`].
pub struct Compiled {
    pub name: &'static str,
    /// The ONNX fixture or JSON description it was compiled from.
    pub source: &'static str,
    pub optimize: bool,
    /// In the model's own layout.
    pub input_shape: &'static [usize],
    /// Runs `forward` (`false`) or the entry point for the other layout (`true`).
    pub run: fn(&[f32], bool) -> Vec<f32>,
    /// Runs `forward_parallel` on a pool.
    pub run_on: fn(&[f32], &dyn mnetc_runtime::pool::Parallel) -> Vec<f32>,
    /// Quantized models: runs `forward_q` on the input quantized with the module's
    /// `INPUT_SCALE` and `INPUT_ZERO`, and dequantizes its output with `OUTPUT_SCALE` and
    /// `OUTPUT_ZERO`.
    pub run_q: Option<RunQ>,
}

/// A quantized model's `forward_q`, floats in and out (see [`Compiled::run_q`]).
pub type RunQ = fn(&[f32]) -> Vec<f32>;

/// The generated modules and their registry.
#[allow(dead_code)]
pub mod generated {
    use super::Compiled;
    include!(concat!(env!("OUT_DIR"), "/models.rs"));
}

/// Modules with `forward_rgb8`: MobileNet v1 0.25-128 (PyTorch, NCHW) with `torchvision`, and
/// the Keras export (NHWC) with `caffe`.
pub mod photo {
    pub mod nchw {
        include!(concat!(env!("OUT_DIR"), "/photo_nchw.rs"));
    }
    pub mod nhwc {
        include!(concat!(env!("OUT_DIR"), "/photo_nhwc.rs"));
    }
}

/// Frames as cameras and image APIs lay them out, made from an RGB image.
pub mod frames {
    use mnetc_runtime::frame::PixelLayout;

    /// `rgb` (tight rows of 3 bytes) in `layout`, each row followed by `pad` unused bytes.
    pub fn layout(
        rgb: &[u8],
        w: usize,
        h: usize,
        layout: PixelLayout,
        pad: usize,
    ) -> (Vec<u8>, usize) {
        let bpp = layout.bytes_per_pixel();
        let row_bytes = w * bpp + pad;
        let mut out = vec![0xA5u8; row_bytes * h];
        for y in 0..h {
            for x in 0..w {
                let p = &rgb[(y * w + x) * 3..][..3];
                let q = &mut out[y * row_bytes + x * bpp..][..bpp];
                match layout {
                    PixelLayout::Rgb8 => q.copy_from_slice(p),
                    PixelLayout::Rgba8 => q.copy_from_slice(&[p[0], p[1], p[2], 255]),
                    PixelLayout::Bgra8 => q.copy_from_slice(&[p[2], p[1], p[0], 255]),
                    _ => unreachable!(),
                }
            }
        }
        (out, row_bytes)
    }

    /// A YUV 4:2:0 frame of `rgb` (BT.601 full range, chroma averaged over each 2 x 2 block) with
    /// rows of `row_bytes`, and the RGB image that frame decodes to (chroma of the block).
    pub fn yuv(rgb: &[u8], w: usize, h: usize, vu: bool, row_bytes: usize) -> (Vec<u8>, Vec<u8>) {
        let px = |x: usize, y: usize| {
            let p = &rgb[(y.min(h - 1) * w + x.min(w - 1)) * 3..][..3];
            [p[0] as f64, p[1] as f64, p[2] as f64]
        };
        let clamp = |v: f64| v.round().clamp(0.0, 255.0) as u8;
        let mut out = vec![0u8; row_bytes * (h + h.div_ceil(2))];
        for y in 0..h {
            for x in 0..w {
                let [r, g, b] = px(x, y);
                out[y * row_bytes + x] = clamp(0.299 * r + 0.587 * g + 0.114 * b);
            }
        }
        for by in 0..h.div_ceil(2) {
            for bx in 0..w.div_ceil(2) {
                let mut s = [0.0; 3];
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let p = px(2 * bx + dx, 2 * by + dy);
                    for c in 0..3 {
                        s[c] += p[c] / 4.0;
                    }
                }
                let [r, g, b] = s;
                let u = clamp(-0.168_736 * r - 0.331_264 * g + 0.5 * b + 128.0);
                let v = clamp(0.5 * r - 0.418_688 * g - 0.081_312 * b + 128.0);
                let at = (h + by) * row_bytes + 2 * bx;
                out[at..at + 2].copy_from_slice(&if vu { [v, u] } else { [u, v] });
            }
        }
        let mut decoded = vec![0u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let yy = out[y * row_bytes + x] as f64;
                let c = &out[(h + y / 2) * row_bytes + x / 2 * 2..][..2];
                let (u, v) = if vu { (c[1], c[0]) } else { (c[0], c[1]) };
                let (u, v) = (u as f64 - 128.0, v as f64 - 128.0);
                let rgb = [
                    yy + 1.402 * v,
                    yy - 0.344_136 * u - 0.714_136 * v,
                    yy + 1.772 * u,
                ];
                for c in 0..3 {
                    decoded[(y * w + x) * 3 + c] = clamp(rgb[c]);
                }
            }
        }
        (out, decoded)
    }
}

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One model and its input/expected-output pairs.
#[derive(Clone, Debug)]
pub struct Fixture {
    pub name: String,
    pub onnx: PathBuf,
    /// `(input, expected)` file pairs, raw little-endian f32.
    pub cases: Vec<(PathBuf, PathBuf)>,
    /// The model's entry in the folder's `manifest.json`.
    pub manifest: serde_json::Value,
}

/// The repository's own fixture folder.
pub fn repo_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// `../shared/models` beside the repository, if present (it is on developer machines and CI).
pub fn shared_models() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/models");
    p.join("manifest.json").exists().then_some(p)
}

/// Every fixture in `dir`, by name.
pub fn fixtures_in(dir: &Path) -> BTreeMap<String, Fixture> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest.json"))
            .expect("manifest");
    let mut out = BTreeMap::new();
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    for file in files.iter().filter(|f| f.ends_with(".onnx")) {
        let name = file.trim_end_matches(".onnx").to_string();
        let cases = files
            .iter()
            .filter(|f| f.starts_with(&format!("{name}.")) && f.ends_with(".input.f32"))
            .map(|f| {
                (
                    dir.join(f),
                    dir.join(f.replace(".input.f32", ".expected.f32")),
                )
            })
            .filter(|(_, e)| e.exists())
            .collect();
        let entry = manifest["models"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["name"] == name.as_str()))
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        out.insert(
            name.clone(),
            Fixture {
                name,
                onnx: dir.join(file),
                cases,
                manifest: entry,
            },
        );
    }
    out
}

/// Why a reference model is not checked by the float fixtures' rule: quantized models have
/// their own (`check_quantized`, in tests/int8.rs).
pub fn awaiting(f: &Fixture) -> Option<&'static str> {
    is_quantized(f).then_some("int8 model: tests/int8.rs checks it with the int8 rule")
}

/// Whether a fixture is a quantized (int8) model.
pub fn is_quantized(f: &Fixture) -> bool {
    f.name.contains("_int8_")
}

/// The expected output to check a quantized model's case against: onnxruntime's output
/// computed with exact integer sums (`tests/fixtures/int8/make_fixtures.py` explains why the
/// shared models' own files are not that): the repository's own files, and for the shared
/// models those in `tests/fixtures/int8/shared/`.
pub fn quantized_expected(f: &Fixture, expected: &Path) -> PathBuf {
    if f.onnx.starts_with(repo_fixtures()) {
        return expected.to_path_buf();
    }
    repo_fixtures()
        .join("int8")
        .join("shared")
        .join(expected.file_name().expect("a file"))
}

/// The repository's fixtures (PyTorch exports copied from the shared models; tf2onnx exports
/// of Keras and TFLite models in `keras/`; a paddle2onnx export in `paddle/`; onnxruntime's
/// quantizations of a v1 in `int8/`; torchvision MobileNetV3s exported by torch.onnx in `torch/`), plus the shared models when present (shared ones win on
/// names present in both, they are the same files).
pub fn all_fixtures() -> Vec<Fixture> {
    let mut all = repository_fixtures();
    if let Some(shared) = shared_models() {
        all.extend(fixtures_in(&shared));
    }
    all.into_values().collect()
}

/// The repository's own fixtures, by name.
pub fn repository_fixtures() -> BTreeMap<String, Fixture> {
    let mut all = fixtures_in(&repo_fixtures());
    for exporter in ["keras", "paddle", "int8", "torch"] {
        all.extend(fixtures_in(&repo_fixtures().join(exporter)));
    }
    all
}

/// One of the repository's fixtures (any exporter's folder), by name.
pub fn fixture(name: &str) -> Fixture {
    repository_fixtures()
        .remove(name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

pub fn read_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// A fixture's output against the expected one: an int8 model's must be the same bits (integer
/// arithmetic has no excuse to differ), a float model's within [`check_close`]'s tolerance.
pub fn check_output(f: &Fixture, got: &[f32], expected: &[f32]) -> Result<(), String> {
    if !is_quantized(f) {
        return check_close(got, expected).map(|_| ());
    }
    match got == expected {
        true => Ok(()),
        false => Err("not the expected bits".to_string()),
    }
}

/// The fixtures' acceptance rule: `max |y - e| <= 1e-4 * max(1, max |e|)`. Returns the max
/// absolute error, or an error message.
pub fn check_close(got: &[f32], expected: &[f32]) -> Result<f32, String> {
    if got.len() != expected.len() {
        return Err(format!("{} values, expected {}", got.len(), expected.len()));
    }
    let scale = expected.iter().fold(1f32, |m, v| m.max(v.abs()));
    let err = got
        .iter()
        .zip(expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    if err.is_finite() && err <= 1e-4 * scale {
        Ok(err)
    } else {
        Err(format!("max abs error {err} > {}", 1e-4 * scale))
    }
}

/// The int8 issue's acceptance rule for a quantized model against onnxruntime (whose integer
/// kernels round differently): at least 99% of the outputs within one output quantization
/// step `step` of the expected ones, all within four, and the same top-1 class. Returns the
/// share within one step and the largest difference in steps.
pub fn check_quantized(got: &[f32], expected: &[f32], step: f32) -> Result<(f64, f32), String> {
    if got.len() != expected.len() {
        return Err(format!("{} values, expected {}", got.len(), expected.len()));
    }
    let steps: Vec<f32> = got
        .iter()
        .zip(expected)
        .map(|(a, b)| (a - b).abs() / step)
        .collect();
    // A hair above one step: the two sides dequantize with float products.
    let within = steps.iter().filter(|&&s| s <= 1.001).count() as f64 / got.len() as f64;
    let worst = steps.iter().fold(0f32, |m, &s| m.max(s));
    let top = |v: &[f32]| {
        v.iter()
            .enumerate()
            .fold(
                (0, f32::NEG_INFINITY),
                |b, (i, &x)| if x > b.1 { (i, x) } else { b },
            )
            .0
    };
    if within < 0.99 || !worst.is_finite() || worst > 4.001 || top(got) != top(expected) {
        return Err(format!(
            "{:.2}% within one step (need 99%), worst {worst:.2} steps (need 4), top-1 {} vs {}",
            100.0 * within,
            top(got),
            top(expected)
        ));
    }
    Ok((within, worst))
}

/// The quantization step of a quantized model's output: the scale of the DequantizeLinear that
/// makes it.
pub fn output_step(graph: &mnetc::ir::Graph) -> Option<f32> {
    let out = graph.outputs[0];
    let node = &graph.nodes[graph.producer(out)?];
    if !matches!(
        node.op,
        mnetc::ir::Op::Quant(mnetc::ir::QuantOp::DequantizeLinear { .. })
    ) {
        return None;
    }
    graph.values[node.input(0)?]
        .quant
        .as_ref()
        .map(|q| q.scale[0])
}

/// NCHW data of shape `[1, c, h, w]` laid out as NHWC.
pub fn nchw_to_nhwc(x: &[f32], c: usize, h: usize, w: usize) -> Vec<f32> {
    let mut y = vec![0f32; x.len()];
    for ch in 0..c {
        for i in 0..h * w {
            y[i * c + ch] = x[ch * h * w + i];
        }
    }
    y
}

/// Softmax in f64, for comparing a model that ends in Softmax with logits from onnxruntime.
pub fn softmax(x: &[f32]) -> Vec<f32> {
    let max = x.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
    let e: Vec<f64> = x.iter().map(|&v| (v as f64 - max).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| (v / s) as f32).collect()
}

/// Runs a model file through the front end and the interpreter on one input.
pub fn run_model(
    bytes: &[u8],
    name: &str,
    options: &mnetc::Options,
    input: Vec<f32>,
) -> mnetc::Result<Vec<f32>> {
    let graph = mnetc::frontend_bytes(bytes, Path::new(name), options)?;
    let shape = graph
        .shape(graph.input.value)
        .expect("specialised")
        .to_vec();
    let out = mnetc::interp::run(&graph, &mnetc::ir::Tensor::f32(shape, input))?;
    Ok(out[0].to_f32())
}

/// NHWC data of shape `[1, h, w, c]` laid out as NCHW.
pub fn nhwc_to_nchw(x: &[f32], h: usize, w: usize, c: usize) -> Vec<f32> {
    let mut y = vec![0f32; x.len()];
    for ch in 0..c {
        for i in 0..h * w {
            y[ch * h * w + i] = x[i * c + ch];
        }
    }
    y
}

/// `forward_rgb8` of MobileNet v1 0.25-128, float and int8, compiled for `target` with the
/// `torchvision` preprocessing, built and run like `mnetc verify` (under QEMU for emulated targets, at each
/// vector length of `vlens`), against the reference interpreter on the same pixels normalised
/// by `Preprocess`: random pixels, an all-black and an all-white image.
pub fn check_forward_rgb8(target: mnetc::codegen::Target, vlens: &[u32]) {
    // A float v1 (the preprocessing folded into the stem conv) and an int8 one (the photo
    // quantized by a table straight into the quantized stem's input: the interpreter's bits).
    for name in [
        "mobilenet_v1_0.25_128_bn",
        "mobilenet_v1_0.25_128_int8_qdq_s8",
    ] {
        let f = fixture(name);
        let graph = mnetc::frontend(&f.onnx, &mnetc::Options::default()).unwrap();
        let pre = mnetc::preprocess::Preprocess::preset("torchvision").unwrap();
        let codegen = mnetc::codegen::CodegenOptions {
            target,
            preprocess: Some(pre.clone()),
            ..Default::default()
        };
        let generated = mnetc::compile_graph(&graph, &codegen).unwrap();
        if is_quantized(&f) {
            assert!(
                generated.source.contains("u8_pixels_quantize"),
                "{name}: no table from pixels to the quantized input"
            );
        }
        let mut runner = mnetc_cli::verify::build(&generated, target).unwrap();
        let shape = graph.shape(graph.input.value).unwrap().to_vec();
        let len: usize = shape.iter().product();
        let mut s = 7u32;
        let random: Vec<u8> = (0..len)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 24) as u8
            })
            .collect();
        for pixels in [random, vec![0; len], vec![255; len]] {
            let x = pre.input(&pixels, &shape, graph.input.layout).unwrap();
            let want = mnetc::interp::run(&graph, &mnetc::ir::Tensor::f32(shape.clone(), x))
                .unwrap()
                .remove(0)
                .to_f32();
            for &vlen in vlens {
                runner.set_vlen(vlen);
                let got = runner.run_rgb8(&pixels).unwrap();
                check_output(&f, &got, &want)
                    .unwrap_or_else(|e| panic!("{name} on {target} (VLEN {vlen}): {e}"));
            }
        }
    }
}

/// The error of building code generated for `target` (a tiny model) with only `flags`: the
/// guard's message naming what the build lacks, which each target's test checks.
pub fn build_error_without_features(target: mnetc::codegen::Target, flags: &str) -> String {
    let bytes = onnx_edit::encode(&onnx_edit::tiny());
    let codegen = mnetc::codegen::CodegenOptions {
        target,
        ..Default::default()
    };
    let generated = mnetc::compile_bytes(
        &bytes,
        Path::new("tiny.onnx"),
        &mnetc::Options::default(),
        &codegen,
    )
    .unwrap();
    match mnetc_cli::verify::build_with_flags(&generated, target, flags) {
        Ok(_) => panic!("{target} code built with only {flags:?}"),
        Err(e) => e.to_string(),
    }
}

/// Runs the runtime's own tests whose names start with `module::` (a SIMD module's kernel
/// cases) in a build with `target`'s flags (its own target directory), asserts that they
/// passed, and returns how many of them ran.
pub fn run_runtime_kernel_tests(target: mnetc::codegen::Target, module: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let filter = format!("{module}::");
    let out = std::process::Command::new(cargo)
        .args(["test", "-p", "mnetc-runtime", "--", &filter])
        .current_dir(&root)
        .env("RUSTFLAGS", target.rustflags())
        .env("CARGO_TARGET_DIR", root.join("target").join(target.name()))
        .output()
        .expect("run cargo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The kernel tests really ran (they are compiled only with the features on), one per case,
    // and so did the check that they are the kernels the target lists.
    assert!(
        stdout.contains(&format!(
            "{module}::tests::the_kernels_tested_are_the_kernels_listed ... ok"
        )),
        "{stdout}"
    );
    stdout.matches(&format!("{module}::tests::")).count()
}

/// Every repository fixture compiled for `target`, whose code must call each of `kernels`
/// (runtime paths), built and run like `mnetc verify` against onnxruntime's output; with
/// `threads`, run again on that many threads, which must give the same output. Returns how
/// many fixtures ran.
pub fn run_fixtures_on(
    target: mnetc::codegen::Target,
    kernels: &[&str],
    threads: Option<usize>,
) -> usize {
    let mut checked = 0;
    for f in repository_fixtures().values().filter(|f| !is_quantized(f)) {
        let bytes = std::fs::read(&f.onnx).unwrap();
        let codegen = mnetc::codegen::CodegenOptions {
            target,
            ..Default::default()
        };
        let generated =
            mnetc::compile_bytes(&bytes, &f.onnx, &mnetc::Options::default(), &codegen).unwrap();
        for k in kernels {
            assert!(generated.source.contains(k), "{}: no {k}", f.name);
        }
        let mut runner = mnetc_cli::verify::build(&generated, target).unwrap();
        let (input, expected) = &f.cases[0];
        let (y, _) = runner.run(&read_f32(input), None).unwrap();
        check_close(&y, &read_f32(expected)).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        if let Some(n) = threads {
            // The runner also fails unless the bits are one thread's.
            runner.set_threads(n);
            let (again, _) = runner.run(&read_f32(input), None).unwrap();
            assert_eq!(y, again, "{} on {n} threads", f.name);
        }
        checked += 1;
    }
    checked
}
