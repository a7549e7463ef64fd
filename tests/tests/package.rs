//! `mnetc package`: the host library linked from a C program (compiled with the system C
//! compiler) runs a committed fixture like onnxruntime and returns the documented error codes
//! (tests/c/run_package.c); the Android and iOS archives build from this machine (no NDK or
//! Xcode needed for a static library) and export the documented symbols (llvm-nm); a failed
//! package leaves nothing in the output folder.

use mnetc_cli::package::{Platform, Request, package};
use mnetc_tests::{check_close, fixture, read_f32};
use std::path::{Path, PathBuf};
use std::process::Command;

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mnetc-package-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn request<'a>(model: &'a Path, platform: Platform, out: &'a Path) -> Request<'a> {
    Request {
        model,
        options: mnetc::Options::default(),
        platform,
        target: None,
        name: "mobilenet",
        out,
    }
}

#[test]
fn the_host_library_runs_from_c_like_onnxruntime() {
    let f = fixture("mobilenet_v1_0.25_128_bn");
    let out = out_dir("host");
    let p = package(&request(&f.onnx, Platform::Host, &out)).unwrap();
    assert_eq!(p.built.len(), 1);
    let program = out.join("run_package");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("c/run_package.c");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(cc)
        .arg("-O2")
        .arg("-I")
        .arg(&out)
        .arg(&source)
        .arg(&p.built[0].archive)
        .args(["-lpthread", "-lm", "-ldl", "-o"])
        .arg(&program)
        .status()
        .expect("run the C compiler");
    assert!(status.success());
    let (input, expected) = &f.cases[0];
    let y = out.join("output.f32");
    let run = Command::new(&program).arg(input).arg(&y).output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    check_close(&read_f32(&y), &read_f32(expected)).unwrap();
    std::fs::remove_dir_all(&out).unwrap();
}

fn llvm_nm() -> PathBuf {
    let out = Command::new("rustc").arg("-vV").output().unwrap();
    let host = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .unwrap();
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    let nm = sysroot.join(format!("lib/rustlib/{host}/bin/llvm-nm"));
    assert!(nm.exists(), "rustup component add llvm-tools");
    nm
}

#[test]
fn android_and_ios_archives_export_the_c_abi() {
    let f = fixture("mobilenet_v1_0.25_128_bn");
    for (platform, required, prefix) in [
        (Platform::Android, "aarch64-linux-android", ""),
        (Platform::Ios, "aarch64-apple-ios", "_"),
    ] {
        let out = out_dir("mobile");
        let p = package(&request(&f.onnx, platform, &out)).unwrap();
        assert!(p.built.iter().any(|b| b.triple == required), "{platform:?}");
        let header = std::fs::read_to_string(&p.header).unwrap();
        for line in [
            "#define MOBILENET_INPUT_LEN 49152",
            "#define MOBILENET_OUTPUT_LEN 1000",
            "mobilenet_t *mobilenet_new(void);",
            "int mobilenet_run(mobilenet_t *net, const float *input, size_t input_len, float *output,",
        ] {
            assert!(header.contains(line), "{line}\n{header}");
        }
        for b in &p.built {
            let nm = Command::new(llvm_nm())
                .args(["-g", "--defined-only"])
                .arg(&b.archive)
                .output()
                .unwrap();
            let symbols = String::from_utf8_lossy(&nm.stdout);
            for f in ["new", "free", "run", "version"] {
                let want = format!(" T {prefix}mobilenet_{f}\n");
                assert!(symbols.contains(&want), "{}: no {want}", b.triple);
            }
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
}

#[test]
fn refusals_leave_nothing_behind() {
    let f = fixture("mobilenet_v1_0.25_128_bn");
    let out = out_dir("refuse");
    let mut r = request(&f.onnx, Platform::Android, &out);
    r.target = Some(mnetc::codegen::Target::from(&mnetc_targets::AVX2));
    let e = package(&r)
        .err()
        .expect("avx2 code for aarch64 is refused")
        .to_string();
    assert!(
        e.contains("--target avx2 is for x86_64; aarch64-linux-android is aarch64"),
        "{e}"
    );
    let mut r = request(&f.onnx, Platform::Host, &out);
    r.name = "mobile-net";
    let e = package(&r)
        .err()
        .expect("a name that is not a C identifier")
        .to_string();
    assert!(e.contains("must be a C identifier"), "{e}");
    assert!(!out.join("mobilenet.h").exists() && !out.join("mobile-net.h").exists());
}
