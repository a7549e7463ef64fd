//! Compiles every model the end-to-end tests run through mnetc's build.rs `Builder`, exactly as
//! a user's build script would, and writes a registry (`models.rs`) of their entry points.

use mnetc::Builder;
use mnetc::import::json::Description;
use std::fmt::Write;
use std::path::{Path, PathBuf};

struct Entry {
    name: String,
    module: String,
    /// The model file: an ONNX fixture or a JSON description written here.
    source: PathBuf,
    optimize: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut entries = Vec::new();
    for dir in [
        fixtures.clone(),
        fixtures.join("keras"),
        fixtures.join("paddle"),
        fixtures.join("int8"),
    ] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        files.sort();
        for path in files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
        {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            entries.push(Entry {
                module: format!("m{}", entries.len()),
                name,
                source: path,
                optimize: true,
            });
        }
    }
    // Unoptimised twins: the same numbers must come out with every pass off.
    // The tf2onnx export keeps standalone Pad, Mul, Add, Clip, Transpose, Squeeze and Softmax
    // nodes when the passes are off.
    for name in [
        "mobilenet_v1_0.25_128_relu6_bn",
        "mobilenet_v2_imagenet",
        "keras/keras_mobilenet_v1_0.25_128_opset13",
    ] {
        entries.push(Entry {
            module: format!("m{}", entries.len()),
            name: format!("{name} (unoptimised)"),
            source: fixtures.join(format!("{name}.onnx")),
            optimize: false,
        });
    }
    // JSON descriptions across an alpha x resolution grid, seeded random weights.
    for (i, (alpha, res)) in [
        (0.25, 64),
        (0.25, 97),
        (0.5, 128),
        (0.5, 75),
        (0.75, 96),
        (1.0, 64),
    ]
    .into_iter()
    .enumerate()
    {
        let mut d = Description::mobilenet_v1(alpha, res);
        d.weights = mnetc::import::json::Weights::Random(100 + i as u64);
        d.classes = 100;
        let path = out.join(format!("grid_{alpha}_{res}.json"));
        std::fs::write(&path, d.to_json_pretty())?;
        entries.push(Entry {
            module: format!("m{}", entries.len()),
            name: format!("json {alpha}-{res}"),
            source: path,
            optimize: true,
        });
    }
    let mut registry = String::new();
    let mut runs_q = Vec::new();
    for e in &entries {
        let rs = Builder::new()
            .optimize(e.optimize)
            .name(&e.module)
            .out_dir(&out)
            .compile(&e.source)?;
        let source = std::fs::read_to_string(&rs)?;
        let other = if source.contains("pub fn forward_nhwc") {
            "forward_nhwc"
        } else {
            "forward_nchw"
        };
        let m = &e.module;
        // `forward_q` (quantized models): the input quantized as the module says, the output
        // dequantized, so that it compares with `forward`'s floats.
        let run_q = if source.contains("pub fn forward_q") {
            writeln!(
                registry,
                r#"fn {m}_run_q(x: &[f32]) -> Vec<f32> {{
    let input: Box<[f32; {m}::INPUT_LEN]> = x.to_vec().into_boxed_slice().try_into().expect("input length");
    let mut q = Box::new([0u8; {m}::INPUT_LEN]);
    let requant = mnetc_runtime::scalar::Requant {{ zero: {m}::INPUT_ZERO, lo: 0, hi: 255 }};
    mnetc_runtime::scalar::f32_quantize(&input, {m}::INPUT_SCALE, &mut q, requant);
    let mut output = Box::new([0u8; {m}::OUTPUT_LEN]);
    let mut scratch = mnetc_runtime::boxed_zeroed::<{m}::Scratch>();
    {m}::forward_q(&q, &mut output, &mut scratch);
    output.iter().map(|&v| (v as i32 - {m}::OUTPUT_ZERO) as f32 * {m}::OUTPUT_SCALE).collect()
}}"#
            )?;
            format!("Some({m}_run_q)")
        } else {
            "None".to_string()
        };
        runs_q.push(run_q);
        writeln!(
            registry,
            r#"mod {m} {{ include!(concat!(env!("OUT_DIR"), "/{m}.rs")); }}
fn {m}_run(x: &[f32], other: bool) -> Vec<f32> {{
    let input: Box<[f32; {m}::INPUT_LEN]> = x.to_vec().into_boxed_slice().try_into().expect("input length");
    let mut output = Box::new([0f32; {m}::OUTPUT_LEN]);
    let mut scratch = mnetc_runtime::boxed_zeroed::<{m}::Scratch>();
    if other {{ {m}::{other}(&input, &mut output, &mut scratch) }} else {{ {m}::forward(&input, &mut output, &mut scratch) }}
    output.to_vec()
}}
fn {m}_run_on(x: &[f32], pool: &dyn mnetc_runtime::pool::Parallel) -> Vec<f32> {{
    let input: Box<[f32; {m}::INPUT_LEN]> = x.to_vec().into_boxed_slice().try_into().expect("input length");
    let mut output = Box::new([0f32; {m}::OUTPUT_LEN]);
    let mut scratch = mnetc_runtime::boxed_zeroed::<{m}::Scratch>();
    {m}::forward_parallel(&input, &mut output, &mut scratch, pool);
    output.to_vec()
}}"#
        )?;
    }
    // Run-time weights: the same fixture as a `Net` that reads its weights file, and the
    // weights of another network to refuse.
    for (name, model) in [
        (
            "runtime_weights",
            fixtures.join("mobilenet_v1_0.25_128_bn.onnx"),
        ),
        (
            "runtime_weights_other",
            fixtures.join("mobilenet_v1_0.5_128_bn.onnx"),
        ),
    ] {
        Builder::new()
            .runtime_weights(true)
            .name(name)
            .out_dir(&out)
            .compile(&model)?;
    }
    // Photos in: `forward_rgb8` on an NCHW PyTorch export (torchvision, RGB) and an NHWC
    // tf2onnx export (caffe, BGR).
    for (name, model, preset) in [
        (
            "photo_nchw",
            fixtures.join("mobilenet_v1_0.25_128_bn.onnx"),
            "torchvision",
        ),
        (
            "photo_nhwc",
            fixtures.join("keras/keras_mobilenet_v1_0.25_128_opset13.onnx"),
            "caffe",
        ),
    ] {
        Builder::new()
            .preprocess(preset)
            .name(name)
            .out_dir(&out)
            .compile(&model)?;
    }
    // ... and with run-time weights (`Net::forward_frame`).
    Builder::new()
        .preprocess("torchvision")
        .runtime_weights(true)
        .name("photo_net")
        .out_dir(&out)
        .compile(fixtures.join("mobilenet_v1_0.25_128_bn.onnx"))?;
    registry.push_str("/// Every compiled model: (name, model file, optimised, input shape, entry points).\npub static MODELS: &[Compiled] = &[\n");
    for (e, run_q) in entries.iter().zip(&runs_q) {
        let m = &e.module;
        writeln!(
            registry,
            "    Compiled {{ name: {:?}, source: {:?}, optimize: {}, input_shape: &{m}::INPUT_SHAPE, run: {m}_run, run_on: {m}_run_on, run_q: {run_q} }},",
            e.name,
            e.source.display().to_string(),
            e.optimize
        )?;
    }
    registry.push_str("];\n");
    std::fs::write(out.join("models.rs"), registry)?;
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=fixtures");
    Ok(())
}
