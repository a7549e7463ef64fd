//! Quantized (int8) models: the reference interpreter computes them in integers
//! (`passes::quantize`) and must agree with onnxruntime's integer kernels by the int8 issue's
//! rule (`check_quantized`: 99% of the outputs within one output quantization step, all within
//! four, the same top-1), and today to the bit.

use mnetc::Options;
use mnetc::codegen::{CodegenOptions, Target};
use mnetc_tests::{
    all_fixtures, check_quantized, is_quantized, output_step, quantized_expected, read_f32,
};
use std::path::Path;

#[test]
fn quantized_models_match_onnxruntime_within_one_step() {
    let fixtures: Vec<_> = all_fixtures().into_iter().filter(is_quantized).collect();
    assert!(fixtures.len() >= 2, "int8 fixtures missing");
    let mut failures = Vec::new();
    for f in &fixtures {
        let bytes = std::fs::read(&f.onnx).unwrap();
        let graph = match mnetc::frontend_bytes(&bytes, Path::new(&f.name), &Options::default()) {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!("{}: {e}", f.name));
                continue;
            }
        };
        let step = output_step(&graph).expect("a dequantized output");
        let shape = graph.shape(graph.input.value).unwrap().to_vec();
        for (input, expected) in &f.cases {
            let x = mnetc::ir::Tensor::f32(shape.clone(), read_f32(input));
            let y = mnetc::interp::run(&graph, &x).unwrap()[0].to_f32();
            let want = read_f32(&quantized_expected(f, expected));
            match check_quantized(&y, &want, step) {
                Ok((within, worst)) => {
                    eprintln!(
                        "{} {}: {:.2}% within one step, worst {worst:.2} steps",
                        f.name,
                        input.display(),
                        100.0 * within
                    );
                    // Stricter than the rule: the same requantization as onnxruntime's integer
                    // kernels, the same bits.
                    if y != want {
                        failures.push(format!(
                            "{} {}: not onnxruntime's bits",
                            f.name,
                            input.display()
                        ));
                    }
                }
                Err(e) => failures.push(format!("{} {}: {e}", f.name, input.display())),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Generated code for every int8 fixture on the targets that run here natively (generic, and
/// each x86 target whose features the CPU has): onnxruntime's bits, on one and on two threads.
/// (`cross_targets.rs` runs the repository's int8 fixtures on neon and rvv under QEMU.)
#[test]
fn generated_int8_code_gives_onnxruntime_bits_on_the_native_targets() {
    let fixtures: Vec<_> = all_fixtures().into_iter().filter(is_quantized).collect();
    let targets: Vec<Target> = Target::all().filter(|t| t.runs_here()).collect();
    assert!(targets.contains(&Target::GENERIC));
    let mut checked = 0;
    for f in &fixtures {
        let bytes = std::fs::read(&f.onnx).unwrap();
        for &target in &targets {
            let codegen = CodegenOptions {
                target,
                ..Default::default()
            };
            let generated =
                mnetc::compile_bytes(&bytes, &f.onnx, &Options::default(), &codegen).unwrap();
            let mut runner = mnetc_cli::verify::build(&generated, target).unwrap();
            for (input, expected) in &f.cases {
                let want = read_f32(&quantized_expected(f, expected));
                for threads in [1, 2] {
                    runner.set_threads(threads);
                    let (y, _) = runner.run(&read_f32(input), None).unwrap();
                    assert!(
                        y == want,
                        "{} on {target}, {threads} threads: not onnxruntime's bits",
                        f.name
                    );
                    checked += 1;
                }
            }
        }
    }
    eprintln!("{checked} runs of int8 generated code gave onnxruntime's bits");
    assert!(checked >= 2 * 3 * targets.len());
}

/// `forward_q` of every int8 model the tests' build script compiled: the fixture inputs
/// quantized as the module's constants say, its uint8 output dequantized, give `forward`'s
/// floats to the bit (and so onnxruntime's).
#[test]
fn forward_q_is_forward_in_integers() {
    let mut checked = 0;
    for m in mnetc_tests::generated::MODELS {
        let Some(run_q) = m.run_q else { continue };
        let f = all_fixtures()
            .into_iter()
            .find(|f| f.onnx.to_string_lossy() == m.source)
            .unwrap_or_else(|| panic!("no fixture for {}", m.name));
        assert!(is_quantized(&f), "{}: forward_q in a float model", m.name);
        for (input, expected) in &f.cases {
            let x = read_f32(input);
            let want = read_f32(&quantized_expected(&f, expected));
            assert!((m.run)(&x, false) == want, "{}: forward", m.name);
            assert!(run_q(&x) == want, "{}: forward_q is not forward", m.name);
            checked += 1;
        }
    }
    assert!(checked >= 3, "{checked} forward_q runs");
}

/// Bad quantized models get one clear message (exit code 2), never a panic or a silently
/// different model.
#[test]
fn bad_quantization_parameters_are_refused() {
    use mnetc::onnx_proto::{ModelProto, TensorProto, tensor_proto::DataType};
    use mnetc_tests::onnx_edit::{attr_ints, encode, load, tensor_f32};
    let dir = mnetc_tests::repo_fixtures().join("int8");
    let qdq = load(&dir.join("mobilenet_v1_0.25_128_int8_qdq_u8.onnx"));
    let error = |m: &ModelProto| {
        let err = mnetc::frontend_bytes(&encode(m), Path::new("model.onnx"), &Options::default())
            .expect_err("must be refused");
        assert_eq!(err.exit_code(), 2, "{err}");
        err.to_string()
    };
    fn init<'a>(m: &'a mut ModelProto, name: &str) -> &'a mut TensorProto {
        let g = m.graph.as_mut().unwrap();
        g.initializer.iter_mut().find(|t| t.name() == name).unwrap()
    }
    // A zero and a negative scale.
    for s in [0.0f32, -0.5] {
        let mut m = qdq.clone();
        *init(&mut m, "input_scale") = tensor_f32("input_scale", &[], &[s]);
        let msg = error(&m);
        assert!(
            msg.contains(&format!("scale {s} is not a positive finite number")),
            "{msg}"
        );
    }
    // A uint8 zero point of 300 (in the typed field, where it fits).
    let mut m = qdq.clone();
    let t = init(&mut m, "input_zero_point");
    t.raw_data = None;
    t.int32_data = vec![300];
    let msg = error(&m);
    assert!(
        msg.contains("value 300 is outside its type UINT8 (0 to 255)"),
        "{msg}"
    );
    // Weights quantized per channel along the input channels: axis 1 of a 1x1 conv's weight.
    let mut m = qdq.clone();
    let g = m.graph.as_mut().unwrap();
    let dims = |name: &str| {
        g.initializer
            .iter()
            .find(|t| t.name() == name)
            .map(|t| t.dims.clone())
    };
    let (at, ci) = g
        .node
        .iter()
        .enumerate()
        .find_map(|(i, n)| {
            let d = dims(&n.input[0])?;
            (n.op_type() == "DequantizeLinear" && d.len() == 4 && d[1] > 1 && d[2] == 1)
                .then(|| (i, d[1] as usize))
        })
        .unwrap();
    let (scale, zero) = (g.node[at].input[1].clone(), g.node[at].input[2].clone());
    g.node[at].attribute = vec![mnetc_tests::onnx_edit::attr_int("axis", 1)];
    for t in g.initializer.iter_mut() {
        if t.name() == scale {
            *t = tensor_f32(&scale, &[ci as i64], &vec![0.01; ci]);
        } else if t.name() == zero {
            t.dims = vec![ci as i64];
            t.raw_data = Some(vec![0; ci]);
        }
    }
    let msg = error(&m);
    assert!(msg.contains("quantized per channel along axis 1"), "{msg}");
    // Mixed uint8 and int8: the first conv's output quantized to int8.
    let mut m = qdq.clone();
    let g = m.graph.as_mut().unwrap();
    let q = g
        .node
        .iter()
        .filter(|n| n.op_type() == "QuantizeLinear")
        .nth(1)
        .unwrap();
    let zero = q.input[2].clone();
    let t = g.initializer.iter_mut().find(|t| t.name() == zero).unwrap();
    t.data_type = Some(DataType::Int8 as i32);
    let msg = error(&m);
    assert!(msg.contains("mixes uint8 and int8 activations"), "{msg}");
    // A QLinearConv with dilations.
    let mut m = load(&dir.join("mobilenet_v1_0.25_128_int8_qop_u8.onnx"));
    let g = m.graph.as_mut().unwrap();
    let conv = g
        .node
        .iter_mut()
        .find(|n| n.op_type() == "QLinearConv")
        .unwrap();
    conv.attribute.retain(|a| a.name() != "dilations");
    conv.attribute.push(attr_ints("dilations", &[2, 2]));
    let msg = error(&m);
    assert!(
        msg.contains("QLinearConv") && msg.contains("dilations"),
        "{msg}"
    );
}

/// tf2onnx's QDQ ONNX of an int8 TFLite model (int8 activations, the input's QuantizeLinear
/// followed by a Transpose of the int8 values to NCHW, Reshapes of int8 values around the
/// classifier): every layer computes in integers, from the stem to the classifier, and only
/// the output is dequantized. (Its outputs are checked against onnxruntime's bits with the
/// other int8 fixtures above.)
#[test]
fn tf2onnx_int8_tflite_models_compute_in_integers() {
    let f = mnetc_tests::fixture("tflite_mobilenet_v1_0.25_128_int8_qdq_s8");
    let graph = mnetc::frontend(&f.onnx, &Options::default()).unwrap();
    let s = mnetc::inspect::summarize(&graph);
    let float: Vec<&str> = s
        .layers
        .iter()
        .filter(|l| l.dtype != "int8" && l.op != "DequantizeLinear")
        .map(|l| l.name.as_str())
        .collect();
    assert!(float.is_empty(), "not in integers: {float:?}");
    let convs = s.layers.iter().filter(|l| l.op.ends_with("conv")).count();
    assert_eq!(
        convs, 28,
        "the stem, 13 depthwise and 13 pointwise convs, the classifier"
    );
    assert_eq!(s.layers.last().unwrap().op, "DequantizeLinear");
}
