//! The `avx2` target: its kernels against their scalar twins (the runtime's tests, built with
//! AVX2 and FMA enabled), and every fixture compiled for it, built and run like
//! `mnetc verify --target avx2`, against onnxruntime's output. The machines this project is
//! developed and tested on have AVX2 and FMA; elsewhere these tests fail with that message.

use mnetc::codegen::{CodegenOptions, Target};
use mnetc_tests::{check_close, read_f32, repository_fixtures};
use std::process::Command;

fn require_avx2() {
    assert!(
        Target::Avx2.runs_here(),
        "this CPU lacks AVX2 or FMA: the avx2 target cannot be tested here"
    );
}

#[test]
fn runtime_kernels_match_scalar_with_avx2_enabled() {
    require_avx2();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["test", "-p", "mnetc-runtime", "--", "avx2::"])
        .current_dir(&root)
        .env("RUSTFLAGS", Target::Avx2.rustflags())
        .env("CARGO_TARGET_DIR", root.join("target/avx2"))
        .output()
        .expect("run cargo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The kernel tests really ran (they are compiled only with the features on).
    assert!(stdout.contains("test result: ok. 4 passed"), "{stdout}");
}

#[test]
fn every_repository_fixture_runs_on_the_avx2_target() {
    require_avx2();
    let mut checked = 0;
    for f in repository_fixtures().values() {
        let bytes = std::fs::read(&f.onnx).unwrap();
        let codegen = CodegenOptions {
            target: Target::Avx2,
            ..CodegenOptions::default()
        };
        let generated =
            mnetc::compile_bytes(&bytes, &f.onnx, &mnetc::Options::default(), &codegen).unwrap();
        assert!(
            generated.source.contains("avx2::f32_gemm_minmax_avx2"),
            "{}",
            f.name
        );
        let runner = mnetc::verify::build(&generated, Target::Avx2).unwrap();
        let (input, expected) = &f.cases[0];
        let (y, _) = runner.run(&read_f32(input), None).unwrap();
        check_close(&y, &read_f32(expected)).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        checked += 1;
    }
    assert!(checked >= 16, "{checked}");
}
