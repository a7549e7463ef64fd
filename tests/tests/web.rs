//! `mnetc package --platform web`: the package's ES module run by Node.js against onnxruntime's
//! outputs, its errors for bad calls, and the example page (`examples/web`) in headless
//! Chromium (Debian's, driven by playwright-core from `tests/web`), which must show
//! onnxruntime's top-1 label and probability for the sample photos and for a photo picked
//! through its file input, and a clear error for a file that is not a photo.
//!
//! Needs what `.ci/setup` installs: the rustup target wasm32-unknown-unknown, Node.js, Debian's
//! chromium and `npm ci` in tests/web. Without them these tests print what is missing and pass,
//! except under CI (`CI` set), where they fail.

use mnetc_tests::{fixture, read_f32, shared_models};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn web() -> PathBuf {
    root().join("tests/web")
}

/// Whether Node.js, the wasm32 standard library and (for the browser) Chromium and the npm
/// packages are here; outside CI a missing one skips the test with a printed reason.
fn present(browser: bool) -> bool {
    let runs = |program: &str| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let mut missing = Vec::new();
    if !runs("node") {
        missing.push("node (apt-get install nodejs)".to_string());
    }
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if !sysroot.is_ok_and(|s| s.join("lib/rustlib/wasm32-unknown-unknown").exists()) {
        missing.push("rustup target add wasm32-unknown-unknown".into());
    }
    if browser {
        if !Path::new("/usr/bin/chromium").exists() && std::env::var_os("CHROMIUM").is_none() {
            missing.push("chromium (apt-get install chromium)".into());
        }
        if !web().join("node_modules/playwright-core").exists() {
            missing.push("npm ci --prefix tests/web".into());
        }
    }
    if missing.is_empty() {
        return true;
    }
    let reason = format!("missing: {} (.ci/setup installs them)", missing.join(", "));
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run this test: {reason}"
    );
    eprintln!("skipped: {reason}");
    false
}

fn node(args: &[&Path]) -> Value {
    let out = Command::new("node").args(args).output().expect("run node");
    assert!(
        out.status.success(),
        "node {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stdout));
    })
}

fn package(model: &Path, out: &Path, runtime_weights: bool) -> mnetc_cli::web::WebPackage {
    mnetc_cli::web::package(&mnetc_cli::web::Request {
        model,
        options: mnetc::Options::default(),
        preprocess: "auto",
        name: "mobilenet",
        out,
        runtime_weights,
        labels: Some(&root().join("tests/fixtures/imagenet_classes.txt")),
    })
    .unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn softmax(v: &[f32]) -> Vec<f64> {
    let max = v.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
    let e: Vec<f64> = v.iter().map(|&x| (x as f64 - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|x| x / sum).collect()
}

fn argmax(v: &[f64]) -> usize {
    (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap()
}

/// A v1 (weights inside) and the trained MobileNetV2 (run-time weights) packaged for the web
/// and run by Node.js on onnxruntime's inputs: the outputs within the fixtures' tolerance, and
/// every bad call a JavaScript error that says what was wrong.
#[test]
fn web_packages_run_in_node_against_onnxruntime() {
    if !present(false) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let v1 = fixture("mobilenet_v1_0.25_128_bn");
    let v2 = fixture("mobilenet_v2_imagenet");
    let runs = [(&v1, false), (&v2, true)];
    for (f, runtime_weights) in runs {
        let out = dir.path().join(&f.name);
        let p = package(&f.onnx, &out, runtime_weights);
        assert_eq!(p.weights.is_some(), runtime_weights);
        let (input, expected) = &f.cases[0];
        // Another network's weights file for the same target: v1's for the v2 module.
        let wrong = dir.path().join("v1.weights");
        if runtime_weights {
            let g = mnetc::compile_bytes(
                &std::fs::read(&v1.onnx).unwrap(),
                &v1.onnx,
                &mnetc::Options::default(),
                &mnetc::codegen::CodegenOptions {
                    target: mnetc::codegen::Target::from(&mnetc_targets::WASM_SIMD128),
                    runtime_weights: true,
                    ..Default::default()
                },
            )
            .unwrap();
            std::fs::write(&wrong, &g.weights).unwrap();
        }
        let mut args = vec![web().join("node-test.mjs"), p.js.clone(), input.clone()];
        if runtime_weights {
            args.push(wrong.clone());
        }
        let args: Vec<&Path> = args.iter().map(PathBuf::as_path).collect();
        let mut r = node(&args);
        let y = floats(&r["output"]);
        r["output"] = Value::Null;
        mnetc_tests::check_output(f, &y, &read_f32(expected))
            .unwrap_or_else(|e| panic!("{} in node: {e}", f.name));
        let error = |key: &str| r["errors"][key].as_str().unwrap_or("").to_string();
        assert!(
            error("beforeLoad").contains("before load(): await load() first"),
            "{r}"
        );
        assert!(
            error("whileLoading").contains("before load() finished"),
            "{r}"
        );
        assert!(error("shortPixels").contains("shorter than width * height * 4"));
        assert!(error("huge").contains("more than 20 times"), "{r}");
        assert!(error("notAnImage").contains("needs an image"));
        assert!(error("wrongTensor").contains("input tensor must hold"));
        if runtime_weights {
            assert!(
                error("wrongWeights").contains("written for another network"),
                "{r}"
            );
        }
        assert_eq!(r["gray"].as_array().unwrap().len(), 1);
    }
}

/// The example page in headless Chromium, as its README says to use it: the sample photos by
/// their buttons, a photo the page does not ship through the file input, and a file that is not
/// a photo. onnxruntime's top-1 class and probability (within 0.02) for each: for the samples
/// onnxruntime's outputs stored with the model, for the picked photo onnxruntime-web in the same
/// browser on that photo preprocessed by `mnetc::photo`. Keeps a screenshot in
/// target/web-test/.
#[test]
fn the_example_page_classifies_photos_in_headless_chromium() {
    if !present(true) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::copy(
        root().join("examples/web/index.html"),
        site.join("index.html"),
    )
    .unwrap();
    let v2 = fixture("mobilenet_v2_imagenet");
    package(&v2.onnx, &pkg, false);
    // Samples: the cat (in the repository) and, with ../shared/models, the coffee; each with
    // onnxruntime's output on it.
    let mut samples = vec![(
        "cat.png",
        root().join("tests/fixtures/photos/cat.png"),
        root().join("tests/fixtures/mobilenet_v2_imagenet.cat.expected.f32"),
    )];
    match shared_models() {
        Some(s) => samples.push((
            "coffee.png",
            s.join("images/coffee.png"),
            s.join("mobilenet_v2_imagenet.coffee.expected.f32"),
        )),
        None => eprintln!("../shared/models is not here: the coffee photo is not tested"),
    }
    for (name, photo, _) in &samples {
        std::fs::copy(photo, pkg.join(name)).unwrap();
    }
    let names: Vec<&str> = samples.iter().map(|s| s.0).collect();
    std::fs::write(
        pkg.join("samples.json"),
        serde_json::to_string(&names).unwrap(),
    )
    .unwrap();
    // The photo the page does not ship, and onnxruntime's input for it.
    let picked = root().join("tests/fixtures/photos/evaluate/camera.jpg");
    let graph = mnetc::frontend_bytes(
        &std::fs::read(&v2.onnx).unwrap(),
        &v2.onnx,
        &mnetc::Options::default(),
    )
    .unwrap();
    let pre = mnetc::preprocess::resolve("auto", &graph).unwrap();
    let shape = graph.shape(graph.input.value).unwrap().to_vec();
    let rgb = mnetc::photo::load_rgb(&picked).unwrap();
    let pixels = mnetc::photo::fit(&rgb, shape[2] as u32, &pre).unwrap();
    let x = pre.input(&pixels, &shape, graph.input.layout).unwrap();
    let oracle = dir.path().join("camera.input.f32");
    let bytes: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(&oracle, bytes).unwrap();
    let artefacts = root().join("target/web-test");
    std::fs::create_dir_all(&artefacts).unwrap();
    let shot = artefacts.join("example-page.png");
    let r = node(&[
        &web().join("browser-test.mjs"),
        &site,
        &picked,
        &oracle,
        &v2.onnx,
        &shot,
    ]);
    let check = |name: &str, reference: &[f32]| {
        let p = softmax(reference);
        let top = argmax(&p);
        let shown = &r["photos"][name];
        assert_eq!(shown["state"], "done", "{name}: {shown}");
        let first = &shown["top5"][0];
        assert_eq!(first["index"].as_u64(), Some(top as u64), "{name}: {shown}");
        let prob = first["probability"].as_f64().unwrap();
        assert!(
            (prob - p[top]).abs() <= 0.02,
            "{name}: the page shows {prob}, onnxruntime {}",
            p[top]
        );
        let label = std::fs::read_to_string(root().join("tests/fixtures/imagenet_classes.txt"))
            .unwrap()
            .lines()
            .nth(top)
            .unwrap()
            .to_string();
        assert!(
            first["text"].as_str().unwrap().starts_with(&label),
            "{name}: {first}"
        );
        eprintln!(
            "{name}: {label} {prob:.4} (onnxruntime {:.4}) in {} ms",
            p[top], shown["ms"]
        );
    };
    for (name, _, expected) in &samples {
        check(name, &read_f32(expected));
    }
    check("picked", &floats(&r["oracle"]));
    let bad = &r["errors"]["undecodable"];
    assert_eq!(bad["state"], "error", "{bad}");
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .contains("not a photo this browser can decode"),
        "{bad}"
    );
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
}
