//! The `neon`, `neondot`, `rvv` and `wasm-simd128` targets, run rather than only compiled: the
//! runtime's kernel conformance tests cross-built for aarch64 (with and without `dotprod`) and
//! for riscv64 and run under QEMU (RVV at VLEN 128 and 256), and for wasm32-wasip1 and run by
//! Node.js; every repository fixture compiled for each target that has kernels of its own for
//! it and run there like `mnetc verify --target neon|neondot|rvv|wasm-simd128` against
//! onnxruntime's output, the built programs
//! disassembled to show that the kernels the targets list really are vector code, and the
//! generated code built for the Android and iOS triples and refused without its target.
//!
//! Needs what `.ci/run` installs: Debian's `qemu-user` and cross compilers, the rustup targets
//! and the `llvm-tools` component. Without them these tests print what is missing and pass,
//! except under CI (`CI` set), where they fail: CI must run them.

use mnetc::codegen::{CodegenOptions, Generated, Target};
use mnetc_targets::{Emulation, Engine, Kernel, TargetDesc};
use mnetc_tests::{check_output, is_quantized, read_f32, repository_fixtures};
use std::path::{Path, PathBuf};
use std::process::Command;

const AARCH64: &str = "aarch64-unknown-linux-gnu";
const RISCV64: &str = "riscv64gc-unknown-linux-gnu";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // A target directory of its own: the outer `cargo test` may still hold the main one.
    cmd.current_dir(root())
        .env("CARGO_TARGET_DIR", root().join("target/cross"));
    cmd
}

/// The targets that run here under QEMU, with their emulation.
fn emulated() -> Vec<(Target, Emulation)> {
    Target::all()
        .filter_map(|t| Some((t, t.desc().emulation?)))
        .collect()
}

/// The vector lengths an emulation runs at (its own list, or the runner's default 128 for a
/// CPU without a vector-length setting).
fn vlens(e: &Emulation) -> &'static [u32] {
    if e.vlens.is_empty() { &[128] } else { e.vlens }
}

/// The runner command line for an emulation (`.cargo/config.toml`'s form: a path relative to
/// the workspace, which is where the tests run cargo), the CPU at `vlen`.
fn runner(e: &Emulation, vlen: u32) -> String {
    if e.engine == Engine::Wasi {
        return "targets/wasi-run.mjs".into();
    }
    let cpu = e
        .cpu
        .map(|c| format!(" -cpu {}", c.replace("{vlen}", &vlen.to_string())))
        .unwrap_or_default();
    format!("{} -L {}{cpu}", e.program, e.sysroot)
}

/// Whether the tools an emulated target's tests need are here. Outside CI a missing tool skips
/// the test with a printed reason; under CI it fails it.
fn tools_present(e: &Emulation) -> bool {
    let runs = |program: &str| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let missing: Vec<&str> = [e.program, e.linker]
        .into_iter()
        .filter(|p| !p.is_empty() && !runs(p))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let reason = format!(
        "{} not installed (apt-get install {}; .ci/setup does it)",
        missing.join(" and "),
        e.packages
    );
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run this test: {reason}"
    );
    eprintln!("skipped: {reason}");
    false
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("run cargo");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `.cargo/config.toml` (the linkers and runners `cargo test --target` uses) says what
/// `mnetc-targets` says.
#[test]
fn cargo_config_matches_the_targets() {
    let config = std::fs::read_to_string(root().join(".cargo/config.toml")).unwrap();
    for (target, e) in emulated() {
        let vlen = vlens(&e)[0];
        let linker = (!e.linker.is_empty()).then(|| format!("linker = {:?}", e.linker));
        for line in [
            format!("[target.{}]", e.triple),
            format!("runner = {:?}", runner(&e, vlen)),
        ]
        .into_iter()
        .chain(linker)
        {
            assert!(
                config.lines().any(|l| l == line),
                "{target}: .cargo/config.toml lacks `{line}`"
            );
        }
    }
}

/// `cargo test --release -p mnetc-runtime` built for an emulated target with `rustflags` and run
/// by `runner`.
fn runtime_tests(e: &Emulation, rustflags: &str, runner: &str) -> (bool, String) {
    let var = format!("CARGO_TARGET_{}", e.triple.to_uppercase().replace('-', "_"));
    run(cargo()
        .args([
            "test",
            "--release",
            "-p",
            "mnetc-runtime",
            "--target",
            e.triple,
        ])
        .env(format!("{var}_RUSTFLAGS"), rustflags)
        .env(format!("{var}_RUNNER"), runner))
}

/// The runtime's kernel tests (every conformance case against the scalar twins) built for each
/// emulated target and run under QEMU (or Node.js), at every vector length the target lists.
#[test]
fn runtime_kernels_match_scalar_under_qemu() {
    for (target, e) in emulated() {
        if !tools_present(&e) {
            continue;
        }
        let vlens = vlens(&e);
        for &vlen in vlens {
            let (ok, out) = runtime_tests(&e, &target.rustflags(), &runner(&e, vlen));
            assert!(ok, "{target} VLEN {vlen}: {out}");
            let module = target.desc().runtime_module;
            assert!(
                out.contains(&format!("{module}::tests::")) && !out.contains("FAILED"),
                "{target} VLEN {vlen}: {out}"
            );
        }
    }
}

/// The rvv kernels on a riscv64 CPU without V die on their first vector instruction: they
/// really execute vector code.
#[test]
fn rvv_kernels_die_without_v() {
    let e = mnetc_targets::RVV.emulation.unwrap();
    if !tools_present(&e) {
        return;
    }
    let cpu_without_v = format!("{} -L {} -cpu rv64", e.program, e.sysroot);
    let (ok, out) = runtime_tests(&e, "--cfg mnetc_rvv", &cpu_without_v);
    assert!(!ok && out.contains("SIGILL"), "{out}");
}

fn generate(onnx: &Path, target: Target) -> Generated {
    let bytes = std::fs::read(onnx).unwrap();
    let codegen = CodegenOptions {
        target,
        ..CodegenOptions::default()
    };
    mnetc::compile_bytes(&bytes, onnx, &mnetc::Options::default(), &codegen).unwrap()
}

#[test]
fn every_repository_fixture_runs_on_the_emulated_targets() {
    /// Fixtures also run on 2, 3 and 7 threads: PyTorch's NCHW v1, tf2onnx's NHWC v1 and V2
    /// (residual adds), and an int8 v1.
    const THREADED: [&str; 4] = [
        "mobilenet_v1_0.25_128_bn",
        "keras_mobilenet_v1_0.25_128_opset13",
        "keras_mobilenet_v2_0.35_96_opset13",
        "mobilenet_v1_0.25_128_int8_qdq_s8",
    ];
    let (mut checked, mut threaded) = (0, 0);
    let targets: Vec<(Target, Emulation)> = emulated()
        .into_iter()
        .filter(|(_, e)| tools_present(e))
        .collect();
    for f in repository_fixtures().values() {
        let (input, expected) = &f.cases[0];
        let (x, want) = (read_f32(input), read_f32(expected));
        let check = |y: &[f32]| check_output(f, y, &want);
        for (target, e) in &targets {
            let target = *target;
            // A target whose own kernels are all of the other precision runs the same code as
            // the target it borrows them from (neondot's float kernels are neon's).
            if !has_own_kernels(target.desc(), is_quantized(f)) {
                continue;
            }
            let generated = generate(&f.onnx, target);
            let gemm = if is_quantized(f) {
                Kernel::QGemm
            } else {
                Kernel::Gemm
            };
            let path = target.desc().kernel(gemm);
            assert!(generated.source.contains(path), "{} {target}", f.name);
            let mut runner = mnetc_cli::verify::build(&generated, target).unwrap();
            assert!(runner.emulated());
            let vlens = vlens(e);
            for &vlen in vlens {
                runner.set_vlen(vlen);
                let (y, _) = runner.run(&x, None).unwrap();
                check(&y).unwrap_or_else(|e| panic!("{} on {target} (VLEN {vlen}): {e}", f.name));
            }
            // A subset on several threads: the runner fails unless `forward_parallel` gives
            // `forward`'s bits.
            if e.threads && THREADED.contains(&f.name.as_str()) {
                for threads in [2, 3, 7] {
                    runner.set_threads(threads);
                    let (y, _) = runner.run(&x, None).unwrap_or_else(|e| {
                        panic!("{} on {target}, {threads} threads: {e}", f.name)
                    });
                    check(&y).unwrap();
                }
                runner.set_threads(1);
                threaded += 1;
            }
            checked += 1;
        }
    }
    let float_targets = targets
        .iter()
        .filter(|(t, _)| has_own_kernels(t.desc(), false))
        .count();
    let threaded_targets = targets
        .iter()
        .filter(|(t, e)| e.threads && has_own_kernels(t.desc(), false))
        .count();
    assert!(checked >= 16 * float_targets, "{checked}");
    assert!(threaded >= 3 * threaded_targets, "{threaded}");
}

/// Every model of `../shared/models` (the larger v1s, the trained MobileNetV2, the Keras
/// MobileNetV3s, the int8 models) compiled for wasm-simd128 and run under Node.js like
/// `mnetc verify --target wasm-simd128`, every case against onnxruntime's output (float models
/// within the fixtures' tolerance, int8 ones to the bit of onnxruntime's exact integer
/// output). Skipped, saying so, without the shared folder.
#[test]
fn every_shared_model_runs_on_wasm_simd128() {
    let Some(shared) = mnetc_tests::shared_models() else {
        eprintln!("skipped: ../shared/models is not here");
        return;
    };
    let Some((target, _)) = wasm() else {
        return;
    };
    let mut checked = 0;
    for f in mnetc_tests::fixtures_in(&shared).values() {
        let generated = generate(&f.onnx, target);
        let runner = mnetc_cli::verify::build(&generated, target).unwrap();
        for (input, expected) in &f.cases {
            let expected = if is_quantized(f) {
                mnetc_tests::quantized_expected(f, expected)
            } else {
                expected.clone()
            };
            let (y, _) = runner.run(&read_f32(input), None).unwrap();
            check_output(f, &y, &read_f32(&expected)).unwrap_or_else(|err| {
                panic!("{} ({}) on wasm-simd128: {err}", f.name, input.display())
            });
        }
        checked += 1;
    }
    eprintln!("{checked} shared models on wasm-simd128");
    assert!(checked >= 20, "{checked}");
}

/// The wasm-simd128 target and its emulation, when Node.js is here (see [`tools_present`]).
fn wasm() -> Option<(Target, Emulation)> {
    let t = Target::from(&mnetc_targets::WASM_SIMD128);
    let e = t.desc().emulation.expect("wasm-simd128 runs under Node.js");
    tools_present(&e).then_some((t, e))
}

/// The int8 kernel kinds.
fn is_q(kind: Kernel) -> bool {
    matches!(
        kind,
        Kernel::QGemm
            | Kernel::QDwConv
            | Kernel::QConv
            | Kernel::QGAvgPool
            | Kernel::QAdd
            | Kernel::Quantize
            | Kernel::Dequantize
    )
}

/// Whether `desc` lists a kernel of its own module for float (or, `quantized`, int8) layers.
fn has_own_kernels(desc: &TargetDesc, quantized: bool) -> bool {
    Kernel::ALL
        .into_iter()
        .any(|k| is_q(k) == quantized && desc.kernel(k).starts_with(desc.runtime_module))
}

/// `forward_rgb8` on every emulated target, against the interpreter.
#[test]
fn forward_rgb8_runs_on_the_emulated_targets() {
    for (target, e) in emulated() {
        if !tools_present(&e) || !has_own_kernels(target.desc(), false) {
            continue;
        }
        let vlens = vlens(&e);
        mnetc_tests::check_forward_rgb8(target, vlens);
    }
}

fn host() -> String {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("run rustc");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .expect("rustc -vV names the host")
}

/// `llvm-objdump` of the rustup component `llvm-tools` (it decodes RVV; GNU objdump 2.40 does
/// not).
fn objdump() -> PathBuf {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .expect("run rustc");
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    let path = sysroot.join(format!("lib/rustlib/{}/bin/llvm-objdump", host()));
    assert!(
        path.exists(),
        "{} is missing: rustup component add llvm-tools",
        path.display()
    );
    path
}

/// The disassembly of every function in `binary` whose name contains `name`.
fn functions(disassembly: &str, name: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in disassembly.lines() {
        if line.ends_with(">:") {
            if let Some(f) = current.take() {
                out.push(f);
            }
            if line.contains(name) {
                current = Some((line.to_string(), String::new()));
            }
        } else if let Some((_, f)) = current.as_mut() {
            f.push_str(line);
            f.push('\n');
        }
    }
    out.extend(current);
    out
}

/// Every kernel the target lists from its own module is in the built program of a v1 model
/// (float, then int8) as a function of its own (the kernels are `#[inline(never)]`), and each
/// of its copies contains the instruction `wanted` gives for its kind (a multiply-add, or for
/// pooling another vector instruction), or calls one of the kernel's closures (LLVM outlines
/// the border-pixel closure) that does, or, for a call split into tasks, hands the pool a task
/// closure of the kernel that does.
fn check_vector_code(desc: &'static TargetDesc, wanted: impl Fn(Kernel) -> &'static str) {
    let target = Target::from(desc);
    let mut kernels = 0;
    for (fixture, quantized) in [
        ("mobilenet_v1_0.25_128_bn", false),
        ("mobilenet_v1_0.25_128_int8_qdq_s8", true),
    ] {
        let onnx = mnetc_tests::fixture(fixture).onnx;
        let runner = mnetc_cli::verify::build(&generate(&onnx, target), target).unwrap();
        let out = Command::new(objdump())
            .args(["-d", "--demangle", "--mattr=+v,+dotprod"])
            .arg(runner.binary())
            .output()
            .expect("run llvm-objdump");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        for kind in Kernel::ALL {
            let path = desc.kernel(kind);
            if !path.starts_with(desc.runtime_module) || is_q(kind) != quantized {
                continue;
            }
            let bodies = functions(&text, &format!("mnetc_runtime::{path}"));
            assert!(!bodies.is_empty(), "{}: no function {path}", desc.name);
            let wanted = wanted(kind);
            let closure = format!("mnetc_runtime::{path}::_$u7b$$u7b$closure");
            assert!(
                bodies.iter().any(|(_, b)| b.contains(wanted)),
                "{}: {path} has no {wanted}",
                desc.name
            );
            // The task closures (`{{closure}}` symbols) that compute.
            let tasks = bodies
                .iter()
                .any(|(name, b)| name.contains("closure") && b.contains(wanted));
            for (name, body) in &bodies {
                let dispatches = tasks && !name.contains("closure");
                assert!(
                    body.contains(wanted) || body.contains(&closure) || dispatches,
                    "{}: {path} has no {wanted}:\n{name}\n{body}",
                    desc.name
                );
            }
            kernels += 1;
        }
    }
    let own = Kernel::ALL
        .iter()
        .filter(|&&k| desc.kernel(k).starts_with(desc.runtime_module))
        .count();
    assert_eq!(kernels, own, "{}: {kernels} kernels checked", desc.name);
}

#[test]
fn neon_rvv_and_wasm_builds_contain_vector_code() {
    if !emulated().iter().all(|(_, e)| tools_present(e)) {
        return;
    }
    check_vector_code(&mnetc_targets::NEON, |kind| match kind {
        Kernel::GAvgPool => "fadd\tv",
        // int8: widening multiply-adds of 16-bit lanes into 32.
        Kernel::QGemm | Kernel::QDwConv | Kernel::QConv => "smlal",
        // QuantizeLinear: vector rounding conversions.
        Kernel::Quantize => "fcvtns\tv",
        _ => "fmla\tv",
    });
    check_vector_code(&mnetc_targets::NEONDOT, |_| "sdot\tv");
    check_vector_code(&mnetc_targets::RVV, |kind| match kind {
        Kernel::GAvgPool => "vfadd.vv",
        // int8: widening multiply-adds of 16-bit lanes into 32.
        Kernel::QGemm | Kernel::QDwConv | Kernel::QConv => "vwmacc.v",
        Kernel::Quantize => "vfcvt.x.f.v",
        _ => "vfmacc.v",
    });
    // No fused multiply-add in simd128: vector multiplies (and adds).
    check_vector_code(&mnetc_targets::WASM_SIMD128, |kind| match kind {
        Kernel::GAvgPool => "f32x4.add",
        // int8: pairs of 16-bit products summed into 32 bits.
        Kernel::QGemm | Kernel::QConv => "i32x4.dot_i16x8_s",
        Kernel::QDwConv => "i32x4.extmul_low_i16x8_s",
        _ => "f32x4.mul",
    });
}

#[test]
fn neon_code_builds_for_android_and_ios_and_rvv_code_for_riscv64() {
    if !emulated().iter().all(|(_, e)| tools_present(e)) {
        return;
    }
    // A library crate around the generated module (an rlib needs no linker), as a user's
    // crate for an app would hold it.
    let dir = root().join("target/cross/gen-lib");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let runtime = root().join("runtime").canonicalize().unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"gen-lib\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nmnetc-runtime = {{ path = {:?} }}\n\n[workspace]\n",
            runtime.display().to_string()
        ),
    )
    .unwrap();
    let onnx = mnetc_tests::fixture("mobilenet_v1_0.25_128_bn").onnx;
    let build = |target: Target, triple: &str, flags: &str| {
        let generated = generate(&onnx, target);
        std::fs::write(dir.join("src/net.rs"), &generated.source).unwrap();
        std::fs::write(dir.join("src/net.weights"), &generated.weights).unwrap();
        std::fs::write(
            dir.join("src/lib.rs"),
            "#![no_std]\npub mod net {\n    include!(\"net.rs\");\n}\n",
        )
        .unwrap();
        let var = format!(
            "CARGO_TARGET_{}_RUSTFLAGS",
            triple.to_uppercase().replace('-', "_")
        );
        run(cargo()
            .current_dir(&dir)
            .args(["build", "--release", "--target", triple])
            .env_remove("CARGO_TARGET_DIR")
            .env(var, flags))
    };
    for triple in [AARCH64, "aarch64-linux-android", "aarch64-apple-ios"] {
        let (ok, out) = build(Target::from(&mnetc_targets::NEON), triple, "");
        assert!(ok, "neon for {triple}: {out}");
    }
    let (ok, out) = build(
        Target::from(&mnetc_targets::RVV),
        RISCV64,
        "--cfg mnetc_rvv",
    );
    assert!(ok, "rvv: {out}");
    // Without the statement that the CPU has V, rvv code refuses to build, saying what to add.
    let (ok, out) = build(Target::from(&mnetc_targets::RVV), RISCV64, "");
    assert!(
        !ok && out.contains(
            "generated by mnetc for --target rvv: build it for riscv64, stating that the CPU has the extension with RUSTFLAGS=\"--cfg mnetc_rvv\""
        ),
        "{out}"
    );
    // neon code for this (x86-64) host refuses too.
    let (ok, out) = build(Target::from(&mnetc_targets::NEON), &host(), "");
    assert!(
        !ok && out.contains("generated by mnetc for --target neon: build it for aarch64"),
        "{out}"
    );
    // wasm-simd128 code builds for the browsers' triple with simd128, and refuses without it.
    let wasm = Target::from(&mnetc_targets::WASM_SIMD128);
    let (ok, out) = build(wasm, "wasm32-unknown-unknown", &wasm.rustflags());
    assert!(ok, "wasm-simd128: {out}");
    let (ok, out) = build(wasm, "wasm32-unknown-unknown", "");
    assert!(
        !ok && out.contains(
            "generated by mnetc for --target wasm-simd128: build it for wasm32 with SIMD128 enabled (RUSTFLAGS=\"-C target-feature=+simd128\""
        ),
        "{out}"
    );
}

/// `mobilenet!` with its default `target = auto` in a crate built for wasm32-wasip1 with
/// `simd128` uses the wasm-simd128 kernels, and the program (the macro example) gives
/// onnxruntime's top class under Node.js.
#[test]
fn mobilenet_macro_auto_picks_wasm_simd128_on_wasm32() {
    let Some((target, e)) = wasm() else {
        return;
    };
    let (ok, out) = run(cargo()
        .args([
            "build",
            "--release",
            "-p",
            "mnetc-example-macro",
            "--target",
            e.triple,
        ])
        .env("CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS", target.rustflags()));
    assert!(ok, "{out}");
    let program = root().join("target/cross/wasm32-wasip1/release/mnetc-example-macro.wasm");
    let f = mnetc_tests::fixture("mobilenet_v1_0.25_128_bn");
    let (input, expected) = &f.cases[0];
    let out = Command::new("node")
        .args(["--experimental-wasi-unstable-preview1", "--no-warnings"])
        .arg(root().join("targets/wasi-run.mjs"))
        .arg(&program)
        .arg(input.canonicalize().unwrap())
        .output()
        .expect("run node");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = read_f32(expected);
    let top = (0..want.len())
        .max_by(|&a, &b| want[a].total_cmp(&want[b]))
        .unwrap();
    let first = text.lines().nth(1).unwrap_or_default();
    assert!(first.contains(&format!("class {top:4}")), "{text}");
    // The kernels in the program are wasm-simd128's.
    let dis = Command::new(objdump())
        .arg("-d")
        .arg(&program)
        .output()
        .expect("run llvm-objdump");
    let dis = String::from_utf8_lossy(&dis.stdout);
    assert!(
        dis.contains("f32_gemm_minmax_wasm"),
        "no wasm GEMM in the program"
    );
    assert!(!dis.contains("f32_gemm_minmax_avx2"));
}
