//! MobileNetV3's activations as PyTorch's exporters write them: the shared Keras MobileNetV3
//! Small and Large (tf2onnx, hard-swish and hard-sigmoid decomposed into Add/Clip/Mul) with
//! their activations rewritten into `HardSwish` (opset 14) or `Mul(x, HardSigmoid(x))` (opset
//! 13) and the squeeze-and-excite gates into `HardSigmoid`, the function unchanged: mnetc's
//! interpreter and its generated code (generic, and the `native` target's) must give
//! onnxruntime's output for the original within the float tolerance. The models are in ../shared/models; the
//! tests say so and pass when it is absent. Bad or unusual input is made from the repository's
//! torchvision V3-Small (tests/fixtures/torch): a squeeze-and-excite gate of the wrong width,
//! HardSigmoid with alpha 0, 7x7 and even-sized depthwise windows.

use mnetc::Options;
use mnetc::codegen::{CodegenOptions, Target};
use mnetc::ir::{ActivationOp, Clamp, Op};
use mnetc_tests::onnx_edit::{self, HardSwishStyle};
use mnetc_tests::{check_close, read_f32, shared_models};

const MODELS: [&str; 2] = ["mobilenet_v3small_a1.0_r224", "mobilenet_v3large_a1.0_r224"];

#[test]
fn pytorch_spellings_of_hard_swish_give_onnxruntimes_output() {
    let Some(dir) = shared_models() else {
        eprintln!("skipped: ../shared/models is absent (its MobileNetV3 files are the originals)");
        return;
    };
    // The hard activations are epilogues of the convs' kernels: generic code and the host's
    // own target's.
    let mut targets = vec![Target::GENERIC, Target::native()];
    targets.dedup();
    let mut checked = 0;
    for name in MODELS {
        let original = onnx_edit::load(&dir.join(format!("{name}.onnx")));
        let x = read_f32(&dir.join(format!("{name}.input.f32")));
        let want = read_f32(&dir.join(format!("{name}.expected.f32")));
        for style in [HardSwishStyle::Op, HardSwishStyle::MulHardSigmoid] {
            let (model, sigmoids, swishes) = onnx_edit::hard_ops(&original, style);
            // V3 has hard-swish in its stem, its later blocks and its head, a gate in each SE.
            assert!(
                swishes >= 10 && sigmoids > swishes,
                "{name}: {sigmoids} {swishes}"
            );
            let bytes = onnx_edit::encode(&model);
            let path = std::path::Path::new(name);
            let graph = mnetc::frontend_bytes(&bytes, path, &Options::default()).unwrap();
            let count = |f: &dyn Fn(&ActivationOp) -> bool| {
                graph
                    .nodes
                    .iter()
                    .filter(|n| matches!(&n.op, Op::Activation(a) if f(a)))
                    .count()
            };
            let ops = count(&|a| matches!(a, ActivationOp::HardSwish));
            let gates = count(&|a| matches!(a, ActivationOp::HardSigmoid { .. }));
            // Either spelling ends as one hard-swish per hard-swish (`Mul(x, HardSigmoid(x))`
            // through `passes::hard_activation`), each fused into the conv before it, and
            // every gate as its conv's [0, 1] clamp.
            let (fused, fused_gates) = epilogues(&graph);
            assert_eq!(
                (ops + fused, gates + fused_gates, ops, gates),
                (swishes, sigmoids - swishes, 0, 0),
                "{name} {style:?}"
            );
            let shape = graph.shape(graph.input.value).unwrap().to_vec();
            let y = mnetc::interp::run(&graph, &mnetc::ir::Tensor::f32(shape, x.clone())).unwrap()
                [0]
            .to_f32();
            check_close(&y, &want).unwrap_or_else(|e| panic!("{name} {style:?}: interpreter: {e}"));
            for &target in &targets {
                let codegen = CodegenOptions {
                    target,
                    ..Default::default()
                };
                let generated =
                    mnetc::compile_bytes(&bytes, path, &Options::default(), &codegen).unwrap();
                let runner = mnetc_cli::verify::build(&generated, target).unwrap();
                let (y, _) = runner.run(&x, None).unwrap();
                check_close(&y, &want)
                    .unwrap_or_else(|e| panic!("{name} {style:?} on {target}: {e}"));
                checked += 1;
            }
        }
    }
    eprintln!("{checked} builds of rewritten MobileNetV3s gave onnxruntime's output");
    assert_eq!(checked, 2 * 2 * targets.len());
}

/// tf2onnx's spelled-out activations of the same models become one node each
/// (`passes::hard_activation`): as many `HardSwish` and `HardSigmoid` nodes as the rewrite
/// above makes, and onnxruntime's output for the original.
/// The convs with a hard-swish epilogue, and those with a hard-sigmoid's [0, 1] clamp.
fn epilogues(graph: &mnetc::ir::Graph) -> (usize, usize) {
    let acts: Vec<Clamp> = graph
        .nodes
        .iter()
        .filter_map(|n| match &n.op {
            Op::Conv(c) => Some(c.act),
            _ => None,
        })
        .collect();
    let swish = acts.iter().filter(|a| a.swish).count();
    let gate = acts.iter().filter(|a| **a == Clamp::new(0.0, 1.0)).count();
    (swish, gate)
}

#[test]
fn tf2onnx_hard_swish_becomes_one_node() {
    let Some(dir) = shared_models() else {
        eprintln!("skipped: ../shared/models is absent (its MobileNetV3 files are the originals)");
        return;
    };
    for name in MODELS {
        let path = dir.join(format!("{name}.onnx"));
        let (_, sigmoids, swishes) =
            onnx_edit::hard_ops(&onnx_edit::load(&path), HardSwishStyle::Op);
        let graph = mnetc::frontend(&path, &Options::default()).unwrap();
        let count = |op: &str| graph.nodes.iter().filter(|n| n.op.name() == op).count();
        let (fused, fused_gates) = epilogues(&graph);
        assert_eq!(count("HardSwish") + fused, swishes, "{name}");
        assert_eq!(
            count("HardSigmoid") + fused_gates,
            sigmoids - swishes,
            "{name}"
        );
        assert_eq!(count("Clip"), 0, "{name}: every relu6 fused or recognised");
        // The SE gates whose projection conv has at most half as many outputs as the map has
        // pixels scale its weights instead (`passes::fuse_scale`): V3-Small's at 56x56 (16
        // outputs) and 14x14 (40 and 48), not at 7x7 (96); V3-Large's at 28x28 (40), not at
        // 14x14 (112) or 7x7 (160). The other gates stay Muls; the input's rescaling (a Mul
        // and an Add) is in the stem conv, padded with 127.5.
        let scaled = graph.nodes.iter().filter(|n| n.inputs.len() == 4).count();
        let (want_scaled, gates) = if name.contains("small") {
            (6, 9)
        } else {
            (3, 8)
        };
        assert_eq!(
            (scaled, count("Mul")),
            (want_scaled, gates - want_scaled),
            "{name}"
        );
        let stem = graph.nodes.iter().find_map(|n| match &n.op {
            Op::Conv(c) => Some(c.pad_value),
            _ => None,
        });
        assert!(
            stem.is_some_and(|p| (p - 127.5).abs() < 1e-3),
            "{name}: {stem:?}"
        );
        let x = read_f32(&dir.join(format!("{name}.input.f32")));
        let want = read_f32(&dir.join(format!("{name}.expected.f32")));
        let shape = graph.shape(graph.input.value).unwrap().to_vec();
        let y = mnetc::interp::run(&graph, &mnetc::ir::Tensor::f32(shape, x)).unwrap()[0].to_f32();
        check_close(&y, &want).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// The torchvision MobileNetV3-Small fixture (HardSwish and HardSigmoid ops), edited.
fn torch_v3() -> (mnetc_tests::Fixture, mnetc::onnx_proto::ModelProto) {
    let f = mnetc_tests::fixture("torch_mobilenet_v3_small_0.35_96_opset17");
    let m = onnx_edit::load(&f.onnx);
    (f, m)
}

/// The generated code for `model` (the host's target and generic) against the reference
/// interpreter on the unoptimised graph.
fn compiled_matches_the_interpreter(model: &mnetc::onnx_proto::ModelProto, x: &[f32], what: &str) {
    let bytes = onnx_edit::encode(model);
    let path = std::path::Path::new("edited.onnx");
    let plain = Options {
        optimize: false,
        ..Default::default()
    };
    let graph = mnetc::frontend_bytes(&bytes, path, &plain).unwrap();
    let shape = graph.shape(graph.input.value).unwrap().to_vec();
    let want =
        mnetc::interp::run(&graph, &mnetc::ir::Tensor::f32(shape, x.to_vec())).unwrap()[0].to_f32();
    let mut targets = vec![Target::GENERIC, Target::native()];
    targets.dedup();
    for target in targets {
        let codegen = CodegenOptions {
            target,
            ..Default::default()
        };
        let generated = mnetc::compile_bytes(&bytes, path, &Options::default(), &codegen).unwrap();
        let runner = mnetc_cli::verify::build(&generated, target).unwrap();
        let (y, _) = runner.run(x, None).unwrap();
        check_close(&y, &want).unwrap_or_else(|e| panic!("{what} on {target}: {e}"));
    }
}

/// A squeeze-and-excite whose gate does not have the feature map's width is refused as bad
/// input, naming the node whose shapes do not fit.
#[test]
fn a_squeeze_excite_gate_of_the_wrong_width_is_refused() {
    let (_, mut m) = torch_v3();
    let graph = m.graph.as_ref().unwrap();
    let gate = graph
        .node
        .iter()
        .find(|n| n.op_type() == "HardSigmoid")
        .unwrap();
    let fc2 = graph
        .node
        .iter()
        .find(|n| n.output == gate.input[..1])
        .unwrap();
    let (w, b) = (fc2.input[1].clone(), fc2.input[2].clone());
    for name in [w, b] {
        let (mut dims, data) = onnx_edit::initializer(&m, &name);
        dims[0] /= 2;
        let keep = data.len() / 2;
        onnx_edit::set_initializer(&mut m, &name, &dims, &data[..keep]);
    }
    let bytes = onnx_edit::encode(&m);
    let err = mnetc::frontend_bytes(&bytes, std::path::Path::new("se.onnx"), &Options::default())
        .unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
    let text = err.to_string();
    assert!(text.contains("Mul") && text.contains("broadcast"), "{text}");
}

/// An input rescaling in the graph (Keras's `Rescaling`: `x / 127.5 - 1` on 0..255 pixels)
/// in front of the torchvision V3-Small, whose stem pads all four sides: folded into the stem
/// conv, whose padding then holds 127.5 (`passes::fold_affine`), the compiled code gives the
/// interpreter's output for the graph as written, through `forward` and through
/// `forward_rgb8` (which then maps the photo into a stage buffer first).
#[test]
fn an_input_rescaling_folds_into_the_stem() {
    let (f, original) = torch_v3();
    let m = onnx_edit::rescale_input(&original, 1.0 / 127.5, -1.0);
    let bytes = onnx_edit::encode(&m);
    let path = std::path::Path::new("rescaled.onnx");
    let graph = mnetc::frontend_bytes(&bytes, path, &Options::default()).unwrap();
    let Op::Conv(stem) = &graph.nodes[0].op else {
        panic!("the stem comes first: {:?}", graph.nodes[0].op)
    };
    assert!((stem.pad_value - 127.5).abs() < 1e-3, "{}", stem.pad_value);
    // Pixels: the fixture's input taken back to 0..255.
    let x: Vec<f32> = read_f32(&f.cases[0].0)
        .iter()
        .map(|v| ((v + 1.0) * 127.5).clamp(0.0, 255.0))
        .collect();
    compiled_matches_the_interpreter(&m, &x, "input rescaling");
    // forward_rgb8 with the identity map (the graph rescales its input itself).
    let pre = mnetc::preprocess::Preprocess::preset("keras-v3").unwrap();
    let shape = graph.shape(graph.input.value).unwrap().to_vec();
    let pixels: Vec<u8> = x.iter().map(|&v| v as u8).collect();
    let input = pre.input(&pixels, &shape, graph.input.layout).unwrap();
    let plain = Options {
        optimize: false,
        ..Default::default()
    };
    let reference = mnetc::frontend_bytes(&bytes, path, &plain).unwrap();
    let want =
        mnetc::interp::run(&reference, &mnetc::ir::Tensor::f32(shape, input)).unwrap()[0].to_f32();
    let target = Target::native();
    let codegen = CodegenOptions {
        target,
        preprocess: Some(pre),
        ..Default::default()
    };
    let generated = mnetc::compile_graph(&graph, &codegen).unwrap();
    let runner = mnetc_cli::verify::build(&generated, target).unwrap();
    let got = runner.run_rgb8(&pixels).unwrap();
    check_close(&got, &want).unwrap_or_else(|e| panic!("forward_rgb8 on {target}: {e}"));
}

/// HardSigmoid with alpha 0 is the constant gate beta (the fold into the conv scales its
/// weights by 0); 7x7 and even-sized (4x4, asymmetric padding) depthwise windows in place of
/// V3's 5x5 ones: all compiled by the general path to the interpreter's output.
#[test]
fn odd_gates_and_depthwise_windows_compute_the_interpreters_output() {
    use mnetc_tests::onnx_edit::{attr_float, attr_ints};
    let (f, original) = torch_v3();
    let x = read_f32(&f.cases[0].0);
    let mut m = original.clone();
    for n in &mut m.graph.as_mut().unwrap().node {
        if n.op_type() == "HardSigmoid" {
            n.attribute.retain(|a| a.name() != "alpha");
            n.attribute.push(attr_float("alpha", 0.0));
        }
    }
    compiled_matches_the_interpreter(&m, &x, "HardSigmoid alpha 0");
    for (k, pads) in [(7i64, [3i64, 3, 3, 3]), (4, [1, 1, 2, 2])] {
        let mut m = original.clone();
        let mut weights = Vec::new();
        for n in &mut m.graph.as_mut().unwrap().node {
            let five = n
                .attribute
                .iter()
                .any(|a| a.name() == "kernel_shape" && a.ints == [5, 5]);
            if n.op_type() == "Conv" && five {
                n.attribute
                    .retain(|a| a.name() != "kernel_shape" && a.name() != "pads");
                n.attribute.push(attr_ints("kernel_shape", &[k, k]));
                n.attribute.push(attr_ints("pads", &pads));
                weights.push(n.input[1].clone());
            }
        }
        assert!(weights.len() >= 5, "V3-Small has 5x5 depthwise convs");
        for name in weights {
            let (dims, _) = onnx_edit::initializer(&m, &name);
            let c = dims[0];
            let data: Vec<f32> = (0..c * k * k)
                .map(|i| (i as f32 * 0.61).sin() * 0.2)
                .collect();
            onnx_edit::set_initializer(&mut m, &name, &[c, 1, k, k], &data);
        }
        compiled_matches_the_interpreter(&m, &x, &format!("{k}x{k} depthwise"));
    }
}
