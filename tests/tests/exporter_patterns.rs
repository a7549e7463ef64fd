//! Models in the patterns of other exporters (TensorFlow/Keras through tf2onnx), made by
//! rewriting a PyTorch fixture without changing its function, must give onnxruntime's output for
//! the original (softmax of it where the rewrite ends in Softmax), through the interpreter and
//! through generated code, with the optimising passes on and off.

use mnetc::Options;
use mnetc::codegen::{CodegenOptions, Target};
use mnetc_tests::onnx_edit::{ClipStyle, Head, Style, encode, load, restyle};
use mnetc_tests::{check_close, fixture, nchw_to_nhwc, read_f32, run_model, softmax};

fn tf2onnx() -> Style {
    Style {
        opset: 13,
        nhwc_input: true,
        symbolic_batch: true,
        symbolic_spatial: false,
        depthwise_mul_add: true,
        explicit_pads: true,
        clip: ClipStyle::SharedInitializers,
        head: Head::AvgPoolSqueezeMatMul,
        softmax: true,
        identities: true,
    }
}

fn check(fixture_name: &str, style: &Style, options: &Options) -> mnetc::ir::Graph {
    let f = fixture(fixture_name);
    let relu6 = fixture_name.contains("relu6");
    let model = restyle(&load(&f.onnx), style, 4, relu6);
    let bytes = encode(&model);
    let (input, expected) = &f.cases[0];
    let mut x = read_f32(input);
    if style.nhwc_input {
        x = nchw_to_nhwc(&x, 3, 128, 128);
    }
    let mut want = read_f32(expected);
    if style.softmax {
        want = softmax(&want);
    }
    for optimize in [true, false] {
        let options = Options {
            optimize,
            ..options.clone()
        };
        let got = run_model(&bytes, "restyled.onnx", &options, x.clone())
            .unwrap_or_else(|e| panic!("{style:?}: {e}"));
        if let Err(e) = check_close(&got, &want) {
            panic!("{style:?}, optimize {optimize}: {e}");
        }
        // And through generated code, built and run.
        let generated = mnetc::compile_bytes(
            &bytes,
            std::path::Path::new("restyled.onnx"),
            &options,
            &CodegenOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{style:?}, optimize {optimize}: {e}"));
        let runner = mnetc_cli::verify::build(&generated, Target::GENERIC).unwrap();
        let (got, _) = runner.run(&x, None).unwrap();
        if let Err(e) = check_close(&got, &want) {
            panic!("{style:?}, optimize {optimize}, generated code: {e}");
        }
    }
    mnetc::frontend_bytes(&bytes, std::path::Path::new("restyled.onnx"), options).unwrap()
}

#[test]
fn tf2onnx_nhwc_graph_with_pads_mul_add_and_matmul_head() {
    let g = check(
        "mobilenet_v1_0.25_128_folded",
        &tf2onnx(),
        &Options::default(),
    );
    assert_eq!(g.input.layout, mnetc::ir::InputLayout::Nhwc);
    assert!(
        g.notes
            .iter()
            .any(|n| n.contains("symbolic batch dimension 'unk__0'")),
        "{:?}",
        g.notes
    );
    // Pads, Mul/Add and Identity are gone: 27 convs remain; each stride-2 conv's Pad [1,1,0,0]
    // and own pads [0,0,1,1] became [1,1,1,1].
    let convs: Vec<_> = g
        .nodes
        .iter()
        .filter_map(|n| {
            if let mnetc::ir::Op::Conv(c) = &n.op {
                Some(c)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(convs.len(), 27);
    for c in convs {
        let want = if c.window.kernel == [3, 3] {
            [1; 4]
        } else {
            [0; 4]
        };
        assert_eq!(c.window.pads, want);
    }
    let ops: Vec<&str> = g.nodes.iter().map(|n| n.op.name()).collect();
    assert!(
        !ops.iter()
            .any(|o| matches!(*o, "Pad" | "Mul" | "Add" | "Identity" | "MatMul")),
        "{ops:?}"
    );
}

#[test]
fn tf2onnx_relu6_with_shared_clip_initializers() {
    check(
        "mobilenet_v1_0.25_128_relu6_folded",
        &tf2onnx(),
        &Options::default(),
    );
}

#[test]
fn opset10_clip_and_pad_attributes_with_a_conv_classifier() {
    let style = Style {
        opset: 10,
        clip: ClipStyle::Attributes,
        head: Head::ConvReshape,
        ..tf2onnx()
    };
    check(
        "mobilenet_v1_0.25_128_relu6_folded",
        &style,
        &Options::default(),
    );
    check("mobilenet_v1_0.25_128_folded", &style, &Options::default());
}

#[test]
fn reduce_mean_head_with_gemm_trans_b_0_and_a_resolution_override() {
    for opset in [13, 18] {
        let style = Style {
            opset,
            nhwc_input: false,
            symbolic_spatial: true,
            head: Head::ReduceMeanGemm,
            softmax: false,
            identities: false,
            ..tf2onnx()
        };
        // Symbolic H and W need --res; at 128 this is the fixture's function.
        check(
            "mobilenet_v1_0.25_128_folded",
            &style,
            &Options {
                resolution: Some(128),
                ..Default::default()
            },
        );
        let f = fixture("mobilenet_v1_0.25_128_folded");
        let bytes = encode(&restyle(&load(&f.onnx), &style, 4, false));
        let err =
            mnetc::frontend_bytes(&bytes, std::path::Path::new("m.onnx"), &Options::default())
                .unwrap_err();
        assert!(
            err.to_string()
                .contains("symbolic spatial dimension 'unk__1'; give the resolution with --res"),
            "{err}"
        );
        // And any other resolution re-specialises.
        let g = mnetc::frontend_bytes(
            &bytes,
            std::path::Path::new("m.onnx"),
            &Options {
                resolution: Some(96),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(g.shape(g.input.value), Some(&[1usize, 3, 96, 96][..]));
    }
}

#[test]
fn a_fixed_pooling_head_refuses_another_resolution() {
    let f = fixture("mobilenet_v1_0.25_128_folded");
    let bytes = encode(&restyle(&load(&f.onnx), &tf2onnx(), 4, false));
    for res in [96, 160] {
        let err = mnetc::frontend_bytes(
            &bytes,
            std::path::Path::new("m.onnx"),
            &Options {
                resolution: Some(res),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "node 'head_pool' (AveragePool): the model cannot be re-specialised to resolution {res}: its fixed window covers the whole feature map at the declared size"
            )
        );
    }
}

/// Attributes of older opsets become the inputs newer opsets use, at import: an opset-10
/// tf2onnx export's Clip bounds and Pad amounts are constant inputs in the IR, as in an
/// opset-13 export, and the two give the same ops after the passes.
#[test]
fn older_opsets_import_in_the_one_canonical_form() {
    use mnetc::ir::{ActivationOp, Clamp, Op, ShapeOp};
    let dir = mnetc_tests::repo_fixtures().join("keras");
    let path = dir.join("keras_mobilenet_v1_0.25_128_opset10.onnx");
    let bytes = std::fs::read(&path).unwrap();
    let g = mnetc::import::load_bytes(&bytes, &path, None, None).unwrap();
    let (mut clips, mut pads) = (0, 0);
    for n in &g.nodes {
        let constant = |i: usize| n.input(i).and_then(|id| g.constant(id)).cloned();
        match &n.op {
            Op::Activation(ActivationOp::Clip(own)) => {
                assert_eq!(*own, Clamp::LINEAR, "{}", n.name);
                let (min, max) = (constant(1).unwrap(), constant(2).unwrap());
                assert_eq!((min.to_f32(), max.to_f32()), (vec![0.0], vec![6.0]));
                clips += 1;
            }
            Op::Shape(ShapeOp::Pad) => {
                assert_eq!(constant(1).unwrap().len(), 8, "{}", n.name);
                pads += 1;
            }
            _ => {}
        }
    }
    assert!(clips >= 27 && pads >= 4, "{clips} clips, {pads} pads");
    let opt = mnetc::Options::default();
    let a = mnetc::frontend(&path, &opt).unwrap();
    let b = mnetc::frontend(&dir.join("keras_mobilenet_v1_0.25_128_opset13.onnx"), &opt).unwrap();
    // Softmax keeps its opset's own meaning (opset < 13 flattens), which is not an attribute form.
    let ops = |g: &mnetc::ir::Graph| {
        g.nodes
            .iter()
            .filter(|n| !matches!(n.op, Op::Activation(ActivationOp::Softmax { .. })))
            .map(|n| n.op.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ops(&a), ops(&b));
}
