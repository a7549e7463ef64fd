//! The `mnetc` command line: output formats, exit codes (0 ok, 1 check failed or internal
//! error, 2 bad input), one clear message on stderr and nothing on stdout when it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn mnetc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mnetc"))
        .args(args)
        .output()
        .expect("run mnetc")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command that must fail with exit code 2; returns its stderr.
fn bad_input(args: &[&str]) -> String {
    let out = mnetc(args);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        out.stdout.is_empty(),
        "{args:?} printed {}",
        text(&out.stdout)
    );
    assert!(
        err.starts_with("error: ") && !err.contains("panicked"),
        "{args:?}: {err}"
    );
    err
}

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mnetc-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn inspect_prints_a_layer_table_with_totals() {
    let model = fixtures().join("mobilenet_v1_0.25_128_bn.onnx");
    let out = mnetc(&["inspect", model.to_str().unwrap()]);
    assert!(out.status.success());
    let table = text(&out.stdout);
    assert!(table.contains("input:  1x3x128x128 (NCHW)"), "{table}");
    assert!(
        table.contains("photos: torchvision: RGB, shorter side to res/0.875, centre crop"),
        "{table}"
    );
    // The stem: full 3x3 conv, stride 2, padding 1, BN and ReLU fused, 8 channels.
    let stem = table
        .lines()
        .find(|l| l.trim_start().starts_with("0 "))
        .unwrap();
    let cells: Vec<&str> = stem.split_whitespace().collect();
    assert_eq!(
        &cells[2..],
        [
            "conv",
            "3x3",
            "2x2",
            "1,1,1,1",
            "1x3x128x128",
            "1x8x64x64",
            "relu",
            "884736",
            "224"
        ]
    );
    assert!(
        table.contains("total: 30 layers, 13.6 M multiply-adds, 0.467 M parameters"),
        "{table}"
    );
}

#[test]
fn inspect_json_has_the_totals_and_layers() {
    let model = fixtures().join("mobilenet_v1_0.5_128_bn.onnx");
    let out = mnetc(&["inspect", model.to_str().unwrap(), "--res", "224", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Paper Table 6, 0.5 MobileNet-224: 149 M multiply-adds, 1.3 M parameters.
    let macs = v["total_macs"].as_u64().unwrap();
    assert!((148_500_000..149_600_000).contains(&macs), "{macs}");
    let params = v["total_params"].as_u64().unwrap();
    assert!((1_250_000..1_350_000).contains(&params), "{params}");
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 30);
    assert_eq!(layers[0]["output"], serde_json::json!([1, 16, 112, 112]));
    assert_eq!(v["input"], serde_json::json!([1, 3, 224, 224]));
}

#[test]
fn inspect_shows_the_types_scales_and_weight_bytes_of_a_quantized_model() {
    use mnetc::onnx_proto::ModelProto;
    use prost::Message;
    let model = fixtures().join("int8/mobilenet_v1_0.25_128_int8_qdq_u8.onnx");
    let out = mnetc(&["inspect", model.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["quantized"], serde_json::json!(true));
    // The input's QuantizeLinear: the scale and zero point the file gives it.
    let proto = ModelProto::decode(std::fs::read(&model).unwrap().as_slice()).unwrap();
    let graph = proto.graph.unwrap();
    let q = graph
        .node
        .iter()
        .find(|n| n.op_type() == "QuantizeLinear" && n.input[0] == graph.input[0].name())
        .unwrap();
    let init = |name: &str| graph.initializer.iter().find(|t| t.name() == name).unwrap();
    // onnxruntime writes these scalars as typed fields, not raw data.
    let (s, z) = (init(&q.input[1]), init(&q.input[2]));
    let scale = match s.raw_data() {
        [] => s.float_data[0],
        raw => f32::from_le_bytes(raw[..4].try_into().unwrap()),
    };
    let zero_point = match z.raw_data() {
        [] => z.int32_data[0] as u8,
        raw => raw[0],
    };
    let first = &v["layers"][0];
    assert_eq!(first["dtype"], "uint8");
    assert_eq!(first["scale"].as_f64().unwrap() as f32, scale);
    assert_eq!(first["zero_point"].as_i64().unwrap(), zero_point as i64);
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(layers.last().unwrap()["dtype"], "float32");
    // int8 weights and int32 biases: at most 0.3x the float model's bytes.
    let float = fixtures().join("mobilenet_v1_0.25_128_folded.onnx");
    let out = mnetc(&["inspect", float.to_str().unwrap(), "--json"]);
    let f: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (q8, f32) = (
        v["weight_bytes"].as_u64().unwrap(),
        f["weight_bytes"].as_u64().unwrap(),
    );
    assert_eq!(f32, 4 * f["total_params"].as_u64().unwrap());
    assert!(q8 * 10 <= f32 * 3, "{q8} of {f32}");
    // The table has the quantization columns only for the quantized model.
    let table = text(&mnetc(&["inspect", model.to_str().unwrap()]).stdout);
    assert!(table.contains("type") && table.contains("zp"), "{table}");
    assert!(table.contains(&format!("{scale:.4e}")), "{table}");
    let table = text(&mnetc(&["inspect", float.to_str().unwrap()]).stdout);
    assert!(!table.contains("zp"), "{table}");
}

#[test]
fn describe_output_is_a_valid_description() {
    let out = mnetc(&["describe", "--alpha", "0.75", "--res", "160"]);
    assert!(out.status.success());
    let path = temp("v1.json", &out.stdout);
    let out = mnetc(&["inspect", path.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["input"], serde_json::json!([1, 3, 160, 160]));
    assert_eq!(v["layers"][0]["output"], serde_json::json!([1, 24, 80, 80]));
    // MobileNetV3-Large 0.75-224: torchvision's stem of 16 (rounded to 8s), its hard-swish
    // and its 5x5 windows; minimalistic: 3x3 windows and no hard-swish.
    for (minimalistic, swish, five) in [(false, true, true), (true, false, false)] {
        let mut args = vec!["describe", "--arch", "v3-large", "--alpha", "0.75"];
        if minimalistic {
            args.push("--minimalistic");
        }
        let out = mnetc(&args);
        assert!(out.status.success());
        let path = temp("v3.json", &out.stdout);
        let out = mnetc(&["inspect", path.to_str().unwrap(), "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            v["layers"][0]["output"],
            serde_json::json!([1, 16, 112, 112])
        );
        let text = v.to_string();
        assert_eq!(text.contains("hardswish"), swish, "{text}");
        assert_eq!(text.contains("\"kernel\":[5,5]"), five, "{text}");
    }
}

#[test]
fn run_checks_against_an_expected_output() {
    let f = fixtures();
    let model = f.join("mobilenet_v1_0.25_128_relu6_bn.onnx");
    let input = f.join("mobilenet_v1_0.25_128_relu6_bn.input.f32");
    let expected = f.join("mobilenet_v1_0.25_128_relu6_bn.expected.f32");
    let args = [
        "run",
        model.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--expected",
        expected.to_str().unwrap(),
    ];
    let out = mnetc(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains(": ok"));
    // Another model's output is outside the tolerance: exit code 1.
    let other = f.join("mobilenet_v1_0.25_128_bn.expected.f32");
    let out = mnetc(&[
        "run",
        model.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--expected",
        other.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("FAILED"));
}

#[test]
fn bad_input_gets_one_message_and_exit_code_2() {
    let f = fixtures();
    let model = f.join("mobilenet_v1_0.25_128_folded.onnx");
    let m = model.to_str().unwrap();
    let err = bad_input(&["inspect", "no/such/model.onnx"]);
    assert!(err.contains("no/such/model.onnx: No such file"), "{err}");

    let garbage = temp("garbage.onnx", b"\x08\x07garbage that is not protobuf");
    let err = bad_input(&["inspect", garbage.to_str().unwrap()]);
    assert!(err.contains("not a valid ONNX file"), "{err}");

    let full = std::fs::read(&model).unwrap();
    let cut = temp("cut.onnx", &full[..full.len() / 3]);
    let err = bad_input(&["inspect", cut.to_str().unwrap()]);
    assert!(err.contains("not a valid ONNX file"), "{err}");

    let err = bad_input(&["inspect", m, "--alpha", "0.5"]);
    assert!(err.contains("applies to JSON descriptions only"), "{err}");

    let err = bad_input(&["describe", "--arch", "v1", "--minimalistic"]);
    assert!(
        err.contains("--minimalistic is a MobileNetV3 variant"),
        "{err}"
    );
    let err = bad_input(&["describe", "--arch", "v4"]);
    assert!(err.contains("unknown architecture 'v4'"), "{err}");
    let err = bad_input(&["describe", "--alpha", "1.5"]);
    assert_eq!(err, "error: alpha 1.5 is outside (0, 1]\n");
    let err = bad_input(&["describe", "--res", "8"]);
    assert!(
        err.contains("resolution 8 is too small for the strides"),
        "{err}"
    );

    let cifar = f.join("mobilenet_v1_cifar10_folded.onnx");
    let err = bad_input(&["inspect", cifar.to_str().unwrap(), "--res", "64"]);
    assert_eq!(
        err,
        "error: node '/AveragePool' (AveragePool): the model cannot be re-specialised to resolution 64: its fixed window covers the whole feature map at the declared size\n"
    );

    let short = temp("short.f32", &[0u8; 12]);
    let err = bad_input(&["run", m, "--input", short.to_str().unwrap()]);
    assert!(
        err.contains("holds 12 bytes, expected 49152 float32 values"),
        "{err}"
    );
}

#[test]
fn symbolic_batch_is_reported_by_inspect() {
    // A tf2onnx-style header: the same fixture with its batch dimension made symbolic.
    let model = std::fs::read(fixtures().join("mobilenet_v1_0.25_128_folded.onnx")).unwrap();
    use prost::Message;
    let mut m = mnetc::onnx_proto::ModelProto::decode(model.as_slice()).unwrap();
    let input = &mut m.graph.as_mut().unwrap().input[0];
    if let Some(mnetc::onnx_proto::type_proto::Value::TensorType(t)) =
        input.r#type.as_mut().and_then(|t| t.value.as_mut())
    {
        t.shape.as_mut().unwrap().dim[0].value =
            Some(mnetc::onnx_proto::tensor_shape_proto::dimension::Value::DimParam("N".into()));
    }
    let path = temp("batch.onnx", &m.encode_to_vec());
    let out = mnetc(&["inspect", path.to_str().unwrap()]);
    assert!(
        text(&out.stdout)
            .contains("note:   input 'input' has a symbolic batch dimension 'N'; treated as 1"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn compile_writes_a_module_and_its_weights_deterministically() {
    let model = fixtures().join("mobilenet_v1_0.25_128_relu6_bn.onnx");
    let dir = std::env::temp_dir().join(format!("mnetc-cli-compile-{}", std::process::id()));
    let rs = dir.join("sub/net.rs");
    let out = mnetc(&[
        "compile",
        model.to_str().unwrap(),
        "--target",
        "generic",
        "-o",
        rs.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(
        summary.contains("30 layers")
            && summary.contains("13.6 M multiply-adds")
            && summary.contains("scratch bytes"),
        "{summary}"
    );
    let (source, weights) = (
        std::fs::read(&rs).unwrap(),
        std::fs::read(dir.join("sub/net.weights")).unwrap(),
    );
    let text_source = String::from_utf8_lossy(&source).into_owned();
    assert!(
        text_source.starts_with("// @generated by mnetc")
            && text_source.contains("include_bytes!(\"net.weights\")")
    );
    // Again, under another name: the same code but for the weights file name.
    let rs2 = dir.join("other.rs");
    let out = mnetc(&[
        "compile",
        model.to_str().unwrap(),
        "-o",
        rs2.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let again = std::fs::read_to_string(&rs2).unwrap();
    assert_eq!(again.replace("other.weights", "net.weights"), text_source);
    assert_eq!(std::fs::read(dir.join("other.weights")).unwrap(), weights);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compile_refuses_unknown_targets_and_leaves_nothing_behind() {
    let model = fixtures().join("mobilenet_v1_0.25_128_bn.onnx");
    let dir = std::env::temp_dir().join(format!("mnetc-cli-refuse-{}", std::process::id()));
    let rs = dir.join("net.rs");
    let err = bad_input(&[
        "compile",
        model.to_str().unwrap(),
        "--target",
        "z80",
        "-o",
        rs.to_str().unwrap(),
    ]);
    assert_eq!(
        err,
        "error: unknown target 'z80'; valid targets: generic, avx2, avxvnni, avx512, avx512vnni, neon, neondot, rvv, wasm-simd128, native\n"
    );
    let garbage = temp("garbage2.onnx", b"not a model at all");
    bad_input(&[
        "compile",
        garbage.to_str().unwrap(),
        "-o",
        rs.to_str().unwrap(),
    ]);
    assert!(!rs.exists() && !dir.join("net.weights").exists());
}

#[test]
fn verify_builds_and_runs_the_generated_code() {
    let f = fixtures();
    let model = f.join("mobilenet_v1_0.25_128_folded.onnx");
    let input = f.join("mobilenet_v1_0.25_128_folded.input.f32");
    let expected = f.join("mobilenet_v1_0.25_128_folded.expected.f32");
    let (m, i, e) = (
        model.to_str().unwrap(),
        input.to_str().unwrap(),
        expected.to_str().unwrap(),
    );
    let out = mnetc(&["verify", m, "--input", i, "--expected", e]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("against the expected output")
            && text(&out.stdout).ends_with(": ok\n")
    );
    // On 3 threads (and the same bits as on one, which the built program checks).
    let out = mnetc(&["verify", m, "--input", i, "--expected", e, "--threads", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("on 3 threads (the same bits as on one)"),
        "{}",
        text(&out.stdout)
    );
    // The ReLU6 model's output is another function: exit code 1.
    let relu6 = f.join("mobilenet_v1_0.25_128_relu6_folded.expected.f32");
    let out = mnetc(&[
        "verify",
        m,
        "--input",
        i,
        "--expected",
        relu6.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    // Without an expected output: the reference interpreter on a seeded input.
    let json = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/mobilenet_v1_0.5_160.json");
    let out = mnetc(&[
        "verify",
        json.to_str().unwrap(),
        "--alpha",
        "0.25",
        "--res",
        "64",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("against the reference interpreter"));
}

#[test]
fn bench_prints_latency_and_throughput() {
    let json = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/mobilenet_v1_0.5_160.json");
    let bench = [
        "bench",
        json.to_str().unwrap(),
        "--alpha",
        "0.25",
        "--res",
        "64",
        "--runs",
        "5",
    ];
    let out = mnetc(&bench);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    assert!(
        line.contains("median") && line.contains("GFLOP/s"),
        "{line}"
    );
    // Two threads and a trace file (its contents: tests/tests/threads.rs).
    let trace = std::env::temp_dir().join(format!("mnetc-cli-trace-{}.json", std::process::id()));
    let out = mnetc(
        &[
            &bench[..],
            &["--threads", "2", "--trace", trace.to_str().unwrap()],
        ]
        .concat(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2 threads): median"),
        "{}",
        text(&out.stdout)
    );
    let events = std::fs::read_to_string(&trace).unwrap();
    assert!(events.starts_with("{\"displayTimeUnit\"") && events.contains("\"ph\": \"X\""));
    std::fs::remove_file(&trace).unwrap();
}

#[test]
fn verify_runs_neon_and_rvv_code_under_qemu_and_bench_refuses_them() {
    // Needs QEMU and the cross linkers (.ci/setup), as the cross-target tests do: outside CI
    // their absence skips the test with the reason, under CI (`CI` set) it fails it.
    for program in [
        "qemu-aarch64",
        "qemu-riscv64",
        "aarch64-linux-gnu-gcc",
        "riscv64-linux-gnu-gcc",
    ] {
        if Command::new(program).arg("--version").output().is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run this test: {program} is missing"
            );
            eprintln!("skipped: {program} is not installed (.ci/setup installs it)");
            return;
        }
    }
    let f = fixtures();
    let model = f.join("mobilenet_v1_0.25_128_folded.onnx");
    let input = f.join("mobilenet_v1_0.25_128_folded.input.f32");
    let expected = f.join("mobilenet_v1_0.25_128_folded.expected.f32");
    let (m, i, e) = (
        model.to_str().unwrap(),
        input.to_str().unwrap(),
        expected.to_str().unwrap(),
    );
    for target in [&["neon"][..], &["rvv", "--vlen", "256"]] {
        let mut args = vec!["verify", m, "--input", i, "--expected", e, "--target"];
        args.extend(target);
        let out = mnetc(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{target:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(text(&out.stdout).ends_with(": ok\n"), "{target:?}");
    }
    let err = bad_input(&["verify", m, "--target", "rvv", "--vlen", "96"]);
    assert!(
        err.contains("--vlen 96: the vector length must be a power of two"),
        "{err}"
    );
    let err = bad_input(&["bench", m, "--target", "neon"]);
    assert!(
        err.contains("cannot run --target neon code natively"),
        "{err}"
    );
}

#[test]
fn compile_with_runtime_weights_writes_a_weights_file_and_a_net() {
    let model = fixtures().join("mobilenet_v1_0.25_128_bn.onnx");
    let dir = std::env::temp_dir().join(format!("mnetc-cli-rw-{}", std::process::id()));
    let rs = dir.join("net.rs");
    let out = mnetc(&[
        "compile",
        model.to_str().unwrap(),
        "--runtime-weights",
        "-o",
        rs.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let source = std::fs::read_to_string(&rs).unwrap();
    assert!(
        source.contains("pub fn from_bytes(bytes: &[u8])") && !source.contains("include_bytes!")
    );
    let weights = std::fs::read(dir.join("net.weights")).unwrap();
    assert_eq!(&weights[..8], b"MNETCWTS");
    assert_eq!(u32::from_le_bytes(weights[8..12].try_into().unwrap()), 1);
    let len = u64::from_le_bytes(weights[48..56].try_into().unwrap()) as usize;
    assert_eq!(len, weights.len() - 64);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn package_refuses_unknown_platforms() {
    let model = fixtures().join("mobilenet_v1_0.25_128_bn.onnx");
    let dir = std::env::temp_dir().join(format!("mnetc-cli-pkg-{}", std::process::id()));
    let err = bad_input(&[
        "package",
        model.to_str().unwrap(),
        "--platform",
        "windows",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(
        err,
        "error: unknown platform 'windows'; valid platforms: android, ios, host, web\n"
    );
    assert!(!dir.exists());
}

#[test]
fn package_web_options_belong_to_the_web_platform() {
    let model = fixtures().join("mobilenet_v1_0.25_128_bn.onnx");
    let dir = std::env::temp_dir().join(format!("mnetc-cli-web-{}", std::process::id()));
    let (m, d) = (model.to_str().unwrap(), dir.to_str().unwrap());
    let err = bad_input(&[
        "package",
        m,
        "--platform",
        "android",
        "--runtime-weights",
        "-o",
        d,
    ]);
    assert_eq!(
        err,
        "error: --runtime-weights and --labels are options of --platform web\n"
    );
    let err = bad_input(&[
        "package",
        m,
        "--platform",
        "web",
        "--target",
        "avx2",
        "-o",
        d,
    ]);
    assert_eq!(
        err,
        "error: web packages are built for --target wasm-simd128\n"
    );
    assert!(!dir.exists());
}

#[test]
fn verify_says_how_to_install_node_when_it_is_missing() {
    // A PATH without Node.js: the WASI run is refused before any build.
    let empty = std::env::temp_dir().join(format!("mnetc-empty-path-node-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let model = fixtures().join("mobilenet_v1_0.25_128_folded.onnx");
    let out = Command::new(env!("CARGO_BIN_EXE_mnetc"))
        .args([
            "verify",
            model.to_str().unwrap(),
            "--target",
            "wasm-simd128",
        ])
        .env("PATH", &empty)
        .output()
        .expect("run mnetc");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "needs node, which is not installed; on Debian or Ubuntu: apt-get install nodejs"
        ),
        "{err}"
    );
    std::fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn verify_says_how_to_install_qemu_when_it_is_missing() {
    // A PATH without QEMU (an empty folder): the emulated run is refused before any build.
    let empty = std::env::temp_dir().join(format!("mnetc-empty-path-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let model = fixtures().join("mobilenet_v1_0.25_128_folded.onnx");
    let out = Command::new(env!("CARGO_BIN_EXE_mnetc"))
        .args(["verify", model.to_str().unwrap(), "--target", "neon"])
        .env("PATH", &empty)
        .output()
        .expect("run mnetc");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("needs qemu-aarch64, which is not installed; on Debian or Ubuntu: apt-get install qemu-user"),
        "{err}"
    );
    std::fs::remove_dir_all(&empty).unwrap();
}

/// A gigabyte that is not a model (random bytes, then zeros: a sparse file) ends with exit code
/// 2 within seconds, under an address-space limit of 512 MiB: mnetc refuses it from its first
/// bytes rather than reading it into memory. A description whose feature maps would exceed
/// the tensor limit is refused with the figure before any code is generated.
#[test]
fn a_gigabyte_of_garbage_and_oversized_networks_are_refused_quickly() {
    let mut head = vec![0u8; 1 << 20];
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    for b in &mut head {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        *b = (s >> 24) as u8;
    }
    let garbage = temp("gigabyte.onnx", &head);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&garbage)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let out_rs = garbage.with_extension("rs");
    let start = std::time::Instant::now();
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 524288 && exec \"$0\" compile \"$1\" -o \"$2\"")
        .arg(env!("CARGO_BIN_EXE_mnetc"))
        .arg(&garbage)
        .arg(&out_rs)
        .output()
        .unwrap();
    let elapsed = start.elapsed();
    let err = text(&out.stderr);
    std::fs::remove_file(&garbage).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not a valid ONNX file"), "{err}");
    assert!(elapsed.as_secs() < 10, "took {elapsed:?}");
    assert!(!out_rs.exists());

    let desc = temp(
        "huge.json",
        br#"{"alpha": 1.0, "resolution": 8192, "classes": 10, "activation": "relu",
            "stem": {"channels": 1024, "stride": 1}, "blocks": [], "weights": {"random": 1}}"#,
    );
    let err = bad_input(&["compile", desc.to_str().unwrap(), "-o", "/dev/null"]);
    assert!(
        err.contains("mnetc accepts tensors of at most 1.0 GiB"),
        "{err}"
    );
}
