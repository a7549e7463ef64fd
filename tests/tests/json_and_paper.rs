//! The JSON description: it reproduces onnxruntime's output when given a fixture's weights as
//! safetensors, and its cost model matches the MobileNet paper's Tables 6 and 7, as do the ONNX
//! fixtures re-specialised with `--res`.

use mnetc::Options;
use mnetc::import::json::Description;
use mnetc::ir::Op;
use mnetc::ir::{LinearOp, NormalizationOp};
use mnetc_tests::{check_close, fixture, read_f32, shared_models};
use std::collections::HashMap;
use std::path::Path;

/// Paper Tables 6 and 7: (alpha, resolution, million multiply-adds, million parameters).
const PAPER: [(f64, usize, f64, Option<f64>); 7] = [
    (1.0, 224, 569.0, Some(4.2)),
    (0.75, 224, 325.0, Some(2.6)),
    (0.5, 224, 149.0, Some(1.3)),
    (0.25, 224, 41.0, Some(0.5)),
    (1.0, 192, 418.0, None),
    (1.0, 160, 290.0, None),
    (1.0, 128, 186.0, None),
];

fn assert_paper(what: &str, s: &mnetc::inspect::Summary, macs: f64, params: Option<f64>) {
    let m = s.total_macs as f64 / 1e6;
    assert!(
        (m - macs).abs() < 1.0,
        "{what}: {m:.2} M multiply-adds, paper {macs}"
    );
    if let Some(p) = params {
        let got = s.total_params as f64 / 1e6;
        assert!(
            (got - p).abs() <= 0.05,
            "{what}: {got:.3} M parameters, paper {p}"
        );
    }
}

#[test]
fn json_descriptions_match_the_paper() {
    for (alpha, res, macs, params) in PAPER {
        let text = serde_json::to_string(&Description::mobilenet_v1(alpha, res)).unwrap();
        let g = mnetc::frontend_bytes(text.as_bytes(), Path::new("v1.json"), &Options::default())
            .unwrap();
        assert_paper(
            &format!("json {alpha}-{res}"),
            &mnetc::inspect::summarize(&g),
            macs,
            params,
        );
        // The same through --alpha/--res on a description written for other values.
        let other = serde_json::to_string(&Description::mobilenet_v1(1.0, 224)).unwrap();
        let options = Options {
            alpha: Some(alpha),
            resolution: Some(res),
            ..Default::default()
        };
        let g = mnetc::frontend_bytes(other.as_bytes(), Path::new("v1.json"), &options).unwrap();
        assert_paper(
            &format!("json override {alpha}-{res}"),
            &mnetc::inspect::summarize(&g),
            macs,
            params,
        );
    }
}

#[test]
fn onnx_models_match_the_paper_at_any_resolution() {
    let mut models = vec![
        (
            mnetc_tests::repo_fixtures().join("mobilenet_v1_0.25_224_bn.onnx"),
            0.25,
        ),
        (
            mnetc_tests::repo_fixtures().join("mobilenet_v1_0.5_128_bn.onnx"),
            0.5,
        ),
    ];
    if let Some(shared) = shared_models() {
        models.push((shared.join("mobilenet_v1_1.0_224_folded.onnx"), 1.0));
        models.push((shared.join("mobilenet_v1_0.75_192_folded.onnx"), 0.75));
    }
    let mut checked = 0;
    for (path, alpha) in models {
        for (_, res, macs, params) in PAPER.into_iter().filter(|p| p.0 == alpha) {
            let options = Options {
                resolution: Some(res),
                ..Default::default()
            };
            let g = mnetc::frontend(&path, &options).unwrap();
            assert_paper(
                &format!("{} at {res}", path.display()),
                &mnetc::inspect::summarize(&g),
                macs,
                params,
            );
            checked += 1;
        }
    }
    assert!(checked >= 2);
}

/// Writes the weights of an imported `_bn` fixture under the JSON description's tensor names.
fn safetensors_from(graph: &mnetc::ir::Graph) -> Vec<u8> {
    let mut tensors: HashMap<String, (Vec<usize>, Vec<u8>)> = HashMap::new();
    let mut put = |name: String, id: Option<usize>| {
        let t = graph.constant(id.unwrap()).unwrap();
        let bytes = t.to_f32().iter().flat_map(|v| v.to_le_bytes()).collect();
        tensors.insert(name, (t.shape.clone(), bytes));
    };
    let mut conv_index = 0usize;
    let mut layer = String::new();
    for node in &graph.nodes {
        match &node.op {
            Op::Conv(_) => {
                layer = match conv_index {
                    0 => "stem".to_string(),
                    i => format!(
                        "blocks.{}.{}",
                        (i - 1) / 2,
                        if i % 2 == 1 { "depthwise" } else { "pointwise" }
                    ),
                };
                put(format!("{layer}.weight"), node.input(1));
                if node.input(2).is_some() {
                    put(format!("{layer}.bias"), node.input(2));
                }
                conv_index += 1;
            }
            Op::Normalization(NormalizationOp::BatchNorm { .. }) => {
                for (i, part) in ["weight", "bias", "running_mean", "running_var"]
                    .iter()
                    .enumerate()
                {
                    put(format!("{layer}.bn.{part}"), node.input(i + 1));
                }
            }
            Op::Linear(LinearOp::Gemm { .. }) => {
                put("classifier.weight".into(), node.input(1));
                put("classifier.bias".into(), node.input(2));
            }
            _ => {}
        }
    }
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(k, (shape, data))| {
            (
                k.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                    .unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

#[test]
fn a_json_description_with_safetensors_weights_reproduces_onnxruntime() {
    for name in [
        "mobilenet_v1_0.25_128_bn",
        "mobilenet_v1_0.5_128_bn",
        "mobilenet_v1_0.25_128_relu6_bn",
    ] {
        let f = fixture(name);
        let imported = mnetc::frontend(
            &f.onnx,
            &Options {
                optimize: false,
                ..Default::default()
            },
        )
        .unwrap();
        let dir = std::env::temp_dir().join(format!("mnetc-json-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("weights.safetensors"), safetensors_from(&imported)).unwrap();
        let alpha = f.manifest["alpha"].as_f64().unwrap();
        let mut desc = Description::mobilenet_v1(alpha, 128);
        desc.weights = mnetc::import::json::Weights::Safetensors("weights.safetensors".into());
        if name.contains("relu6") {
            desc.activation = mnetc::import::json::Activation::Relu6;
        }
        std::fs::write(
            dir.join("model.json"),
            serde_json::to_string_pretty(&desc).unwrap(),
        )
        .unwrap();
        let (input, expected) = &f.cases[0];
        for optimize in [true, false] {
            let g = mnetc::frontend(
                &dir.join("model.json"),
                &Options {
                    optimize,
                    ..Default::default()
                },
            )
            .unwrap();
            let x = mnetc::ir::Tensor::f32(vec![1, 3, 128, 128], read_f32(input));
            let y = mnetc::interp::run(&g, &x).unwrap();
            check_close(&y[0].to_f32(), &read_f32(expected))
                .unwrap_or_else(|e| panic!("{name}, optimize {optimize}: {e}"));
        }
        // A missing tensor is named.
        desc.classes = 10;
        std::fs::write(
            dir.join("model.json"),
            serde_json::to_string(&desc).unwrap(),
        )
        .unwrap();
        let err = mnetc::frontend(&dir.join("model.json"), &Options::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("weight 'classifier.weight' has shape [1000,"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn random_weights_are_deterministic_and_odd_resolutions_work() {
    for res in [97, 113, 224, 33] {
        let text = serde_json::to_string(&Description::mobilenet_v1(0.25, res)).unwrap();
        let run = || {
            let g =
                mnetc::frontend_bytes(text.as_bytes(), Path::new("v1.json"), &Options::default())
                    .unwrap();
            let x = mnetc::rng::Rng::new(1).normal_tensor(&[1, 3, res, res], 1.0);
            mnetc::interp::run(&g, &x).unwrap().remove(0).to_f32()
        };
        let (a, b) = (run(), run());
        assert_eq!(a, b);
        assert_eq!(a.len(), 1000);
        assert!(a.iter().all(|v| v.is_finite()) && a.iter().any(|&v| v != a[0]));
    }
    // With 5 stride-2 layers, 17 is the smallest resolution at which no stride-2 layer gets a
    // 1x1 map (17, 9, 5, 3, 2 -> 1).
    let text = serde_json::to_string(&Description::mobilenet_v1(0.25, 16)).unwrap();
    let err = mnetc::frontend_bytes(text.as_bytes(), Path::new("v1.json"), &Options::default())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "resolution 16 is too small for the strides: layer 'blocks.11.depthwise' (stride 2) would receive a 1x1 feature map (the smallest resolution for this architecture is 17)"
    );
}

/// `mnetc describe --arch v2|v3-small|v3-large` against their papers' totals (MobileNetV2
/// Table 3's 300 M multiply-adds and torchvision's 3.5 M parameters; MobileNetV3 Table 3:
/// Large 219 M and 5.4 M, Small 56 M and 2.5 M), within 2%. Squeeze-and-excite's 1x1 convs
/// count as the fully connected layers they are (once per image, weights and biases); its
/// pooling and channel-wise product are not multiply-adds.
#[test]
fn v2_and_v3_descriptions_match_their_papers() {
    use mnetc::import::json::Arch;
    for (arch, macs, params) in [
        (Arch::V2, 300.0, 3.5),
        (Arch::V3Large, 219.0, 5.4),
        (Arch::V3Small, 56.0, 2.5),
    ] {
        let text = Description::paper(arch, 1.0, 224, false).to_json_pretty();
        let g = mnetc::frontend_bytes(text.as_bytes(), Path::new("d.json"), &Options::default())
            .unwrap();
        let s = mnetc::inspect::summarize(&g);
        let (m, p) = (s.total_macs as f64 / 1e6, s.total_params as f64 / 1e6);
        assert!(
            (m / macs - 1.0).abs() <= 0.02,
            "{arch:?}: {m:.1} M multiply-adds"
        );
        assert!(
            (p / params - 1.0).abs() <= 0.02,
            "{arch:?}: {p:.3} M parameters"
        );
    }
    // The V2 paper's widest, 1.4 (its Table 4: 585 M multiply-adds), with torchvision's last
    // 1x1 conv widened too: 1280 * 1.4 = 1792.
    let text = Description::paper(Arch::V2, 1.4, 224, false).to_json_pretty();
    let g =
        mnetc::frontend_bytes(text.as_bytes(), Path::new("d.json"), &Options::default()).unwrap();
    let s = mnetc::inspect::summarize(&g);
    let m = s.total_macs as f64 / 1e6;
    assert!(
        (m / 585.0 - 1.0).abs() <= 0.01,
        "V2 1.4: {m:.1} M multiply-adds"
    );
    let classifier_in = g.nodes.iter().rev().find_map(|n| match &n.op {
        Op::Linear(LinearOp::Dense { .. }) => g.shape(n.inputs[0]?).map(|s| s[1]),
        _ => None,
    });
    assert_eq!(classifier_in, Some(1792));
    // Minimalistic V3: no squeeze-and-excite, no hard-swish, no 5x5 window left.
    let d = Description::paper(Arch::V3Large, 0.75, 160, true);
    let g = mnetc::frontend_bytes(
        d.to_json_pretty().as_bytes(),
        Path::new("d.json"),
        &Options::default(),
    )
    .unwrap();
    let ops: Vec<&str> = g.nodes.iter().map(|n| n.op.name()).collect();
    assert!(
        !ops.iter().any(|o| o.starts_with("Hard") || *o == "Mul"),
        "{ops:?}"
    );
    assert!(g.nodes.iter().all(|n| match &n.op {
        Op::Conv(c) => c.window.kernel[0] <= 3,
        _ => true,
    }));
}

/// The V3-Small description with a torchvision model's weights (written as safetensors under
/// the description's names by tests/fixtures/torch/make_fixtures.py) computes onnxruntime's
/// output for that model's ONNX export, in the reference interpreter and compiled.
#[test]
fn the_v3_description_with_torchvision_weights_reproduces_onnxruntime() {
    use mnetc::import::json::{Arch, Weights};
    let f = fixture("torch_mobilenet_v3_small_0.35_96_opset17");
    let mut desc = Description::paper(Arch::V3Small, 0.35, 96, false);
    desc.classes = 100;
    desc.weights = Weights::Safetensors("torch_mobilenet_v3_small_0.35_96.safetensors".into());
    let json = f.onnx.with_file_name("v3_small_0.35_96.json");
    let (input, expected) = &f.cases[0];
    let g = mnetc::frontend_bytes(desc.to_json_pretty().as_bytes(), &json, &Options::default())
        .unwrap();
    let x = mnetc::ir::Tensor::f32(vec![1, 3, 96, 96], read_f32(input));
    let y = mnetc::interp::run(&g, &x).unwrap();
    check_close(&y[0].to_f32(), &read_f32(expected)).unwrap();
    // Compiled for the host's best target, through the same path as `mnetc compile model.json`.
    let target = mnetc::codegen::Target::native();
    let codegen = mnetc::codegen::CodegenOptions {
        target,
        ..Default::default()
    };
    let generated = mnetc::compile_graph(&g, &codegen).unwrap();
    let runner = mnetc_cli::verify::build(&generated, target).unwrap();
    let (y, _) = runner.run(&read_f32(input), None).unwrap();
    check_close(&y, &read_f32(expected)).unwrap();
}
