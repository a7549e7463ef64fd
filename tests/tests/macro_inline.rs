//! `mobilenet!` (crate `mnetc-macros`, re-exported by `mnetc-runtime`'s `macros` feature):
//! the example crate's macro-built network gives onnxruntime's output and exactly the output of
//! the code the Builder (the CLI's core) generated from the same file; for the same model and
//! options the macro's module is the text `mnetc compile` writes, weights path aside; and the
//! paths the macro takes without weights and with a JSON description.

use mnetc::codegen::{CodegenOptions, Target};
use mnetc::import::json::Arch;
use mnetc::inline::{Arg, Network, Request, TargetChoice};
use mnetc_tests::{check_close, fixture, generated::MODELS, read_f32};

#[test]
fn the_macro_example_matches_onnxruntime_and_the_builder_code() {
    let f = fixture("mobilenet_v1_0.25_128_bn");
    let (input, expected) = &f.cases[0];
    let x = read_f32(input);
    let boxed: Box<[f32; mnetc_example_macro::net::INPUT_LEN]> =
        x.clone().into_boxed_slice().try_into().unwrap();
    let y = mnetc_example_macro::classify(&boxed);
    check_close(&y[..], &read_f32(expected)).unwrap();
    let builder = MODELS
        .iter()
        .find(|m| m.name == "mobilenet_v1_0.25_128_bn")
        .unwrap();
    assert_eq!(&y[..], &(builder.run)(&x, false)[..], "bit for bit");
}

// Without weights: the paper's network whose weights arrive at run time.
mnetc_runtime::mobilenet!(alpha = 0.25, res = 128, name = paper, target = generic);

#[test]
fn weights_of_a_trained_export_load_into_the_macro_network_at_run_time() {
    // The fixture compiled with `--runtime-weights` (tests/build.rs): a PyTorch export of the
    // same architecture, so its weights file fits the macro's network without a rebuild.
    let file = std::fs::read(concat!(env!("OUT_DIR"), "/runtime_weights.weights")).unwrap();
    let net = paper::Net::from_bytes(&file).unwrap();
    let f = fixture("mobilenet_v1_0.25_128_bn");
    let (input, expected) = &f.cases[0];
    let x: Box<[f32; paper::INPUT_LEN]> = read_f32(input).into_boxed_slice().try_into().unwrap();
    let mut y = Box::new([0f32; paper::OUTPUT_LEN]);
    let mut scratch = mnetc_runtime::boxed_zeroed::<paper::Scratch>();
    net.forward(&x, &mut y, &mut scratch);
    check_close(&y[..], &read_f32(expected)).unwrap();
    // Weights of alpha 0.5 do not.
    let other = std::fs::read(concat!(env!("OUT_DIR"), "/runtime_weights_other.weights")).unwrap();
    assert_eq!(
        paper::Net::from_bytes(&other).err(),
        Some(mnetc_runtime::WeightsError::OtherNetwork)
    );
}

// A quantized model: onnxruntime's QDQ file of the same network.
mnetc_runtime::mobilenet!(
    alpha = 0.25,
    res = 128,
    weights = "fixtures/int8/mobilenet_v1_0.25_128_int8_qdq_u8.onnx",
    name = quantized,
    target = generic,
);

#[test]
fn the_macro_compiles_a_quantized_model_to_onnxruntimes_bits() {
    let name = "mobilenet_v1_0.25_128_int8_qdq_u8";
    let f = mnetc_tests::repository_fixtures().remove(name).unwrap();
    let (input, expected) = &f.cases[0];
    let x = read_f32(input);
    let boxed: Box<[f32; quantized::INPUT_LEN]> = x.clone().into_boxed_slice().try_into().unwrap();
    let mut y = Box::new([0f32; quantized::OUTPUT_LEN]);
    let mut scratch = mnetc_runtime::boxed_zeroed::<quantized::Scratch>();
    quantized::forward(&boxed, &mut y, &mut scratch);
    // Integer arithmetic: onnxruntime's output (on a CPU with VNNI) to the bit.
    assert_eq!(&y[..], &read_f32(expected)[..]);
    let builder = MODELS.iter().find(|m| m.name == name).unwrap();
    assert_eq!(&y[..], &(builder.run)(&x, false)[..], "bit for bit");
}

fn onnx() -> std::path::PathBuf {
    fixture("mobilenet_v1_0.25_128_bn").onnx
}

#[test]
fn the_macro_module_is_the_cli_output() {
    for target in [
        Target::GENERIC,
        Target::from(&mnetc_targets::AVX2),
        Target::from(&mnetc_targets::NEON),
        Target::from(&mnetc_targets::RVV),
    ] {
        let request = Request {
            network: Network::Paper {
                arch: Arch::V1,
                alpha: 0.25,
                res: 128,
                classes: 1000,
                relu6: false,
            },
            weights: Some(onnx()),
            target: TargetChoice::Fixed(target),
            preprocess: None,
        };
        let variants =
            mnetc::inline::generate(&request, &CodegenOptions::default().weights_file).unwrap();
        assert_eq!(variants.len(), 1);
        // `mnetc compile mobilenet_v1_0.25_128_bn.onnx --res 128 --target T -o net.rs`
        let options = mnetc::Options {
            resolution: Some(128),
            ..Default::default()
        };
        let codegen = CodegenOptions {
            target,
            ..CodegenOptions::default()
        };
        let bytes = std::fs::read(onnx()).unwrap();
        let cli = mnetc::compile_bytes(&bytes, &onnx(), &options, &codegen).unwrap();
        assert_eq!(variants[0].generated.source, cli.source, "{target}");
        assert_eq!(variants[0].generated.weights, cli.weights, "{target}");
    }
}

#[test]
fn auto_covers_every_architecture_once() {
    let request = Request {
        network: Network::Paper {
            arch: Arch::V1,
            alpha: 0.25,
            res: 64,
            classes: 10,
            relu6: true,
        },
        weights: None,
        target: TargetChoice::Auto,
        preprocess: None,
    };
    let variants =
        mnetc::inline::generate(&request, &CodegenOptions::default().weights_file).unwrap();
    let targets: Vec<Target> = variants.iter().map(|v| v.target).collect();
    assert_eq!(
        targets,
        [
            Target::from(&mnetc_targets::AVX2),
            Target::from(&mnetc_targets::AVXVNNI),
            Target::from(&mnetc_targets::NEON),
            Target::from(&mnetc_targets::NEONDOT),
            Target::from(&mnetc_targets::WASM_SIMD128),
            Target::GENERIC
        ]
    );
    // Without weights every variant reads them at run time.
    for v in &variants {
        assert!(
            v.generated.source.contains("pub fn from_bytes"),
            "{}",
            v.target
        );
        assert!(v.generated.weights.starts_with(b"MNETCWTS"));
    }
    let dir = std::env::temp_dir().join(format!("mnetc-inline-{}", std::process::id()));
    let body = mnetc::inline::write(&request, &variants, &dir).unwrap();
    assert_eq!(body.matches("include!(").count(), 6, "{body}");
    assert!(body.contains("#[cfg(not(any("), "{body}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn refuse(request: Request) -> (Arg, String) {
    match mnetc::inline::generate(&request, &CodegenOptions::default().weights_file) {
        Ok(_) => panic!("accepted {request:?}"),
        Err(e) => (e.arg, e.message),
    }
}

fn paper(alpha: f64, res: usize, classes: usize) -> Network {
    Network::Paper {
        arch: Arch::V1,
        alpha,
        res,
        classes,
        relu6: false,
    }
}

#[test]
fn errors_name_their_argument() {
    let plain = |network, weights| Request {
        network,
        weights,
        target: TargetChoice::Fixed(Target::GENERIC),
        preprocess: None,
    };
    let mut photo = plain(paper(0.25, 128, 1000), None);
    photo.preprocess = Some("sepia".into());
    let (arg, m) = refuse(photo);
    assert_eq!(arg, Arg::Preprocess);
    assert!(m.contains("unknown preprocessing 'sepia'"), "{m}");
    let (arg, m) = refuse(plain(paper(1.5, 128, 1000), None));
    assert_eq!(arg, Arg::Alpha);
    assert!(m.contains("alpha 1.5 is outside (0, 1]"), "{m}");
    let (arg, m) = refuse(plain(paper(0.25, 8, 1000), None));
    assert_eq!(arg, Arg::Res);
    assert!(m.contains("resolution 8 is too small"), "{m}");
    let (arg, _) = refuse(plain(paper(0.25, 128, 0), None));
    assert_eq!(arg, Arg::Classes);
    // The fixture is alpha 0.25: at alpha 0.5 its first conv has half the channels.
    let (arg, m) = refuse(plain(paper(0.5, 128, 1000), Some(onnx())));
    assert_eq!(arg, Arg::Weights);
    assert!(
        m.contains("has shape [8, 3, 3, 3]; the network needs [16, 3, 3, 3]"),
        "{m}"
    );
    let (arg, m) = refuse(plain(paper(0.25, 128, 10), Some(onnx())));
    assert_eq!(arg, Arg::Weights);
    assert!(m.contains("[1000, 256]") && m.contains("[10, 256]"), "{m}");
    let garbage = std::env::temp_dir().join(format!("mnetc-garbage-{}.onnx", std::process::id()));
    std::fs::write(&garbage, b"not a model").unwrap();
    let (arg, _) = refuse(plain(paper(0.25, 128, 1000), Some(garbage.clone())));
    assert_eq!(arg, Arg::Weights);
    std::fs::remove_file(&garbage).unwrap();
    let json = std::env::temp_dir().join(format!("mnetc-bad-{}.json", std::process::id()));
    std::fs::write(&json, b"{\"alpha\": 2}").unwrap();
    let (arg, m) = refuse(plain(Network::Json(json.clone()), None));
    assert_eq!(arg, Arg::Model);
    assert!(m.contains("not a valid mnetc JSON description"), "{m}");
    std::fs::remove_file(&json).unwrap();
}

#[test]
fn preprocess_adds_forward_rgb8() {
    let request = Request {
        network: Network::Paper {
            arch: Arch::V1,
            alpha: 0.25,
            res: 128,
            classes: 1000,
            relu6: false,
        },
        weights: None,
        target: TargetChoice::Fixed(Target::GENERIC),
        preprocess: Some("auto".into()),
    };
    let variants =
        mnetc::inline::generate(&request, &CodegenOptions::default().weights_file).unwrap();
    let source = &variants[0].generated.source;
    assert!(source.contains("pub fn forward_rgb8"), "{source}");
    assert!(source.contains("preprocess torchvision"), "{source}");
}

/// `mobilenet!(arch = v3_small, alpha = 0.35, res = 96, classes = 100, weights = ...)` with a
/// torchvision model's weights (safetensors under the JSON description's names) builds and
/// computes onnxruntime's output for that model's ONNX export.
#[test]
fn the_macro_builds_mobilenet_v3_from_torchvision_weights() {
    let f = fixture("torch_mobilenet_v3_small_0.35_96_opset17");
    let request = Request {
        network: Network::Paper {
            arch: "v3_small".parse().unwrap(),
            alpha: 0.35,
            res: 96,
            classes: 100,
            relu6: false,
        },
        weights: Some(
            f.onnx
                .with_file_name("torch_mobilenet_v3_small_0.35_96.safetensors"),
        ),
        target: TargetChoice::Fixed(Target::native()),
        preprocess: None,
    };
    let variants =
        mnetc::inline::generate(&request, &CodegenOptions::default().weights_file).unwrap();
    let runner = mnetc_cli::verify::build(&variants[0].generated, Target::native()).unwrap();
    let (input, expected) = &f.cases[0];
    let (y, _) = runner.run(&read_f32(input), None).unwrap();
    check_close(&y, &read_f32(expected)).unwrap();
}
