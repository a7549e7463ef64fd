//! MobileNetV3's activations as PyTorch's exporters write them: the shared Keras MobileNetV3
//! Small and Large (tf2onnx, hard-swish and hard-sigmoid decomposed into Add/Clip/Mul) with
//! their activations rewritten into `HardSwish` (opset 14) or `Mul(x, HardSigmoid(x))` (opset
//! 13) and the squeeze-and-excite gates into `HardSigmoid`, the function unchanged: mnetc's
//! interpreter and its generated code (generic, and the `native` target's) must give
//! onnxruntime's output for the original within the float tolerance. The models are in ../shared/models; the
//! tests say so and pass when it is absent.

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
        let x = read_f32(&dir.join(format!("{name}.input.f32")));
        let want = read_f32(&dir.join(format!("{name}.expected.f32")));
        let shape = graph.shape(graph.input.value).unwrap().to_vec();
        let y = mnetc::interp::run(&graph, &mnetc::ir::Tensor::f32(shape, x)).unwrap()[0].to_f32();
        check_close(&y, &want).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
