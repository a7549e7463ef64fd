//! The C ABI under sanitizers: `mnetc package --platform host` with the static library built by
//! nightly Rust with `-Zsanitizer=address`, the C programs of `tests/c` built with
//! `-fsanitize=address,undefined` (the system C compiler's runtimes). `run_package.c` (error
//! codes of the misuse matrix, several pools, four app threads on handles of their own) must
//! run clean for a float and an int8 network; `out_of_bounds.c` (an input buffer one float
//! short) must be stopped by AddressSanitizer inside the library, which proves the Rust code is
//! instrumented. Needs the nightly toolchain (.ci/setup installs it); outside CI its absence
//! skips the test, saying so.

use std::path::{Path, PathBuf};
use std::process::Command;

const TRIPLE_VAR: &str = "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn nightly() -> bool {
    let ok = Command::new("cargo")
        .args(["+nightly", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the sanitizer test: no nightly toolchain (rustup toolchain install nightly)"
        );
        eprintln!("skipped: no nightly toolchain (rustup toolchain install nightly)");
    }
    ok
}

/// Packages `model` with an AddressSanitizer-instrumented library; its folder.
fn package(model: &Path, out: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(out);
    let run = Command::new(env!("CARGO_BIN_EXE_mnetc"))
        .arg("package")
        .arg(model)
        .args(["--platform", "host", "--target", "avx2", "-o"])
        .arg(out)
        // The rustup proxy, told to use nightly (the `cargo` running this test is stable's).
        .env("CARGO", "cargo")
        .env("RUSTUP_TOOLCHAIN", "nightly")
        .env_remove("RUSTC")
        .env(TRIPLE_VAR, "-Zsanitizer=address")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    out.join("x86_64-unknown-linux-gnu/libmobilenet.a")
}

#[path = "../../tests/src/c.rs"]
mod c;

/// Builds `tests/c/NAME.c` with AddressSanitizer and UndefinedBehaviorSanitizer.
fn build_c(name: &str, out: &Path, archive: &Path) -> PathBuf {
    let flags = [
        "-O1",
        "-g",
        "-fno-omit-frame-pointer",
        "-fsanitize=address,undefined",
    ];
    c::build_c(
        name,
        out,
        archive,
        &[&flags[..], &["-fno-sanitize-recover=all"]].concat(),
    )
}

#[test]
fn the_c_abi_runs_clean_under_address_and_undefined_behaviour_sanitizers() {
    if !nightly() {
        return;
    }
    let fixtures = repo().join("tests/fixtures");
    let tmp = std::env::temp_dir().join(format!("mnetc-sanitizers-{}", std::process::id()));
    for (name, model) in [
        ("float", fixtures.join("mobilenet_v1_0.25_128_bn.onnx")),
        (
            "int8",
            fixtures.join("int8/mobilenet_v1_0.25_128_int8_qdq_s8.onnx"),
        ),
    ] {
        let out = tmp.join(name);
        let archive = package(&model, &out);
        let symbols = Command::new("nm").arg(&archive).output().unwrap();
        assert!(
            String::from_utf8_lossy(&symbols.stdout).contains("__asan_report_load"),
            "{name}: the library is not instrumented"
        );
        let program = build_c("run_package", &out, &archive);
        let input = model.with_extension("input.f32");
        let run = Command::new(&program)
            .arg(&input)
            .arg(out.join("output.f32"))
            .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{name}: run_package under sanitizers:\n{}",
            String::from_utf8_lossy(&run.stderr)
        );

        let program = build_c("out_of_bounds", &out, &archive);
        let run = Command::new(&program).output().unwrap();
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(
            !run.status.success() && err.contains("AddressSanitizer: heap-buffer-overflow"),
            "{name}: the short input was not caught:\n{}{err}",
            String::from_utf8_lossy(&run.stdout)
        );
        assert!(
            err.contains("mobilenet_run"),
            "{name}: not in the library:\n{err}"
        );
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}
