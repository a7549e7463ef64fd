//! `mnetc quantize`: the QDQ model it writes reads back with every layer in integers, its input
//! range is what the calibration photos span, its int8 weights are the float model's (BatchNorm
//! folded) within half a step; on the trained MobileNetV2 (../shared/models), calibrated on one
//! set of photos, the int8 model's top class is the float model's on at least 90% of ten other
//! photos. Bad calibration input gives one message and exit code 2.

use mnetc::ir::{Graph, Tensor};
use mnetc::onnx_proto::{ModelProto, NodeProto, TensorProto, tensor_proto::DataType};
use prost::Message;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn photos(set: &str) -> PathBuf {
    repo().join("tests/fixtures/photos").join(set)
}

fn mnetc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mnetc"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run mnetc")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mnetc-quantize-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn quantize(model: &Path, output: &Path, extra: &[&str]) -> String {
    let calibrate = photos("calibrate");
    let mut args = vec![
        "quantize",
        model.to_str().unwrap(),
        "--calibrate",
        calibrate.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ];
    args.extend(extra);
    let out = mnetc(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn load(path: &Path) -> Graph {
    mnetc::frontend(path, &mnetc::Options::default()).unwrap()
}

/// The photos of a folder through the model's default preprocessing, as its input tensors.
fn inputs(graph: &Graph, dir: &Path) -> Vec<(String, Tensor)> {
    let (pre, _) = mnetc::preprocess::default_for(graph);
    let shape = graph.shape(graph.input.value).unwrap().to_vec();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let rgb = mnetc::photo::load_rgb(p).unwrap();
            let pixels = mnetc::photo::fit(&rgb, shape[2] as u32, &pre).unwrap();
            let x = pre.input(&pixels, &shape, graph.input.layout).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, Tensor::f32(shape.clone(), x))
        })
        .collect()
}

fn find_initializer<'a>(model: &'a ModelProto, name: &str) -> Option<&'a TensorProto> {
    model
        .graph
        .as_ref()
        .unwrap()
        .initializer
        .iter()
        .find(|t| t.name() == name)
}

fn initializer<'a>(model: &'a ModelProto, name: &str) -> &'a TensorProto {
    find_initializer(model, name).unwrap_or_else(|| panic!("no initializer {name}"))
}

/// The int8 tensor a DequantizeLinear reads, if it reads one (weights, not activations).
fn int8_input<'a>(model: &'a ModelProto, dq: &NodeProto) -> Option<&'a TensorProto> {
    find_initializer(model, &dq.input[0]).filter(|t| t.data_type() == DataType::Int8 as i32)
}

fn f32s(t: &TensorProto) -> Vec<f32> {
    t.raw_data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[test]
fn the_written_model_runs_in_integers_with_the_calibrated_input_range_and_the_folded_weights() {
    // A model with BatchNorm nodes: what is written is the folded graph.
    let model = repo().join("tests/fixtures/mobilenet_v1_0.25_128_bn.onnx");
    let dir = temp_dir("v1");
    let output = dir.join("q.onnx");
    let stdout = quantize(&model, &output, &[]);
    let float = load(&model);
    let quantized = load(&output);
    assert_eq!(mnetc::ptq::integer_layers(&quantized), (28, 28), "{stdout}");
    assert!(stdout.contains("28 of 28 conv and dense layers run in integers"));

    let proto = ModelProto::decode(std::fs::read(&output).unwrap().as_slice()).unwrap();
    let graph = proto.graph.as_ref().unwrap();
    // The input's QuantizeLinear spans what the calibration photos span, and 0.
    let (mut lo, mut hi) = (0f32, 0f32);
    for (_, x) in inputs(&float, &photos("calibrate")) {
        for &v in x.as_f32().unwrap() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    let input_name = graph.input[0].name();
    let q = graph
        .node
        .iter()
        .find(|n| n.op_type() == "QuantizeLinear" && n.input[0] == input_name)
        .expect("the input is quantized");
    let scale = f32s(initializer(&proto, &q.input[1]))[0];
    let zero_point = initializer(&proto, &q.input[2]).raw_data()[0];
    assert_eq!(scale, (hi - lo) / 255.0);
    assert_eq!(zero_point, (-lo / scale).round() as u8);

    // Every int8 weight tensor is its float layer's (BatchNorm folded), within half a step of
    // its channel's scale.
    let mut checked = 0;
    for dq in graph
        .node
        .iter()
        .filter(|n| n.op_type() == "DequantizeLinear")
    {
        let Some(w) = int8_input(&proto, dq) else {
            continue;
        };
        let name = w.name().strip_suffix("_quantized").unwrap();
        let id = float.values.iter().position(|v| v.name == name).unwrap();
        let want = float.constant(id).unwrap().to_f32();
        let scales = f32s(initializer(&proto, &dq.input[1]));
        let per = want.len() / scales.len();
        assert_eq!(w.raw_data().len(), want.len());
        for (i, (&q, &f)) in w.raw_data().iter().zip(&want).enumerate() {
            let s = scales[i / per];
            let err = (q as i8 as f32 * s - f).abs();
            assert!(
                err <= s * 0.5 + 1e-6 * f.abs(),
                "{name}[{i}]: {q} * {s} vs {f}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 28);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn per_tensor_weights_have_one_scale_a_layer() {
    let model = repo().join("tests/fixtures/mobilenet_v1_0.25_128_folded.onnx");
    let dir = temp_dir("per-tensor");
    let output = dir.join("q.onnx");
    quantize(&model, &output, &["--per-tensor", "--method", "percentile"]);
    let proto = ModelProto::decode(std::fs::read(&output).unwrap().as_slice()).unwrap();
    let graph = proto.graph.as_ref().unwrap();
    let weight_scales: Vec<usize> = graph
        .node
        .iter()
        .filter(|n| n.op_type() == "DequantizeLinear" && int8_input(&proto, n).is_some())
        .map(|n| initializer(&proto, &n.input[1]).dims.len())
        .collect();
    assert_eq!(weight_scales, vec![0; 28]);
    assert_eq!(mnetc::ptq::integer_layers(&load(&output)), (28, 28));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_quantized_mobilenet_v2_agrees_with_the_float_one_on_other_photos() {
    let model = repo().join("../shared/models/mobilenet_v2_imagenet.onnx");
    if !model.exists() {
        eprintln!(
            "skipped: ../shared/models/mobilenet_v2_imagenet.onnx is not beside the repository"
        );
        return;
    }
    let dir = temp_dir("v2");
    let output = dir.join("q.onnx");
    let evaluate = photos("evaluate");
    let stdout = quantize(&model, &output, &["--evaluate", evaluate.to_str().unwrap()]);
    let float = load(&model);
    let quantized = load(&output);
    assert_eq!(mnetc::ptq::integer_layers(&quantized), (53, 53));
    // The photos it was not calibrated on, through the float and the int8 model (mnetc's
    // interpreter computes the int8 model's bits as onnxruntime does).
    let eval = inputs(&float, &evaluate);
    assert!(eval.len() >= 10);
    let (mut agree, mut diff) = (0, 0f64);
    for (name, x) in &eval {
        let p = mnetc::photo::softmax(&mnetc::interp::run(&float, x).unwrap()[0].to_f32());
        let q = mnetc::photo::softmax(&mnetc::interp::run(&quantized, x).unwrap()[0].to_f32());
        let top = |v: &[f32]| (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b });
        agree += usize::from(top(&p) == top(&q));
        diff += p
            .iter()
            .zip(&q)
            .map(|(a, b)| (a - b).abs() as f64)
            .sum::<f64>()
            / p.len() as f64;
        eprintln!("{name}: float {} int8 {}", top(&p), top(&q));
    }
    let diff = diff / eval.len() as f64;
    eprintln!(
        "top-1 agreement {agree}/{}, mean |softmax difference| {diff:.2e}",
        eval.len()
    );
    assert!(agree * 10 >= eval.len() * 9, "{agree} of {}", eval.len());
    // The command reports the same.
    let line = format!(
        "evaluation photos: top-1 agreement {agree}/{} ({:.1}%), mean |softmax difference| {diff:.2e}",
        eval.len(),
        100.0 * agree as f64 / eval.len() as f64
    );
    assert!(stdout.contains(&line), "{line}\n{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_calibration_input_is_refused() {
    let dir = temp_dir("refuse");
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "not a photo").unwrap();
    let output = dir.join("q.onnx");
    let model = "tests/fixtures/mobilenet_v1_0.25_128_folded.onnx";
    let quantized = "tests/fixtures/int8/mobilenet_v1_0.25_128_int8_qdq_u8.onnx";
    let calibrate = photos("calibrate");
    let cases: [(&[&str], &str); 4] = [
        (
            &["quantize", model, "--calibrate", empty.to_str().unwrap()],
            "no photos (JPEG, PNG or WebP) to calibrate on",
        ),
        (
            &["quantize", model, "--calibrate", "no/such/folder"],
            "no/such/folder",
        ),
        (
            &[
                "quantize",
                quantized,
                "--calibrate",
                calibrate.to_str().unwrap(),
            ],
            "already quantized",
        ),
        (
            &[
                "quantize",
                model,
                "--calibrate",
                calibrate.to_str().unwrap(),
                "--method",
                "kl",
            ],
            "kl",
        ),
    ];
    for (args, message) in cases {
        let mut args = args.to_vec();
        args.extend(["-o", output.to_str().unwrap()]);
        let out = mnetc(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
        assert!(
            errors.len() == 1 && errors[0].contains(message),
            "{args:?}: {err}"
        );
        assert!(!output.exists(), "{args:?} wrote {}", output.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
