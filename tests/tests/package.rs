//! `mnetc package`: the host library linked from a C program (compiled with the system C
//! compiler) runs committed fixtures (float and int8) like onnxruntime and returns the documented error codes
//! (tests/c/run_package.c); the Android and iOS archives build from this machine (no NDK or
//! Xcode needed for a static library) and export the documented symbols (llvm-nm); a failed
//! package leaves nothing in the output folder.

use mnetc_cli::package::{Platform, Request, package};
use mnetc_tests::{check_close, check_output, fixture, is_quantized, quantized_expected, read_f32};
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
        preprocess: None,
    }
}

/// Builds `tests/c/NAME.c` against the package in `out` with the system C compiler.
fn link_c(name: &str, out: &Path, archive: &Path) -> PathBuf {
    mnetc_tests::c::build_c(name, out, archive, &["-O2"])
}

/// A float v1 (onnxruntime's output within the float tolerance) and an int8 one (onnxruntime's
/// bits), each packaged for the host and run from C.
#[test]
fn the_host_library_runs_from_c_like_onnxruntime() {
    for name in [
        "mobilenet_v1_0.25_128_bn",
        "mobilenet_v1_0.25_128_int8_qdq_s8",
    ] {
        let f = fixture(name);
        let out = out_dir(&format!("host-{name}"));
        let p = package(&request(&f.onnx, Platform::Host, &out)).unwrap();
        assert_eq!(p.built.len(), 1);
        let program = link_c("run_package", &out, &p.built[0].archive);
        let (input, expected) = &f.cases[0];
        let y = out.join("output.f32");
        let run = Command::new(&program).arg(input).arg(&y).output().unwrap();
        assert!(
            run.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let want = match is_quantized(&f) {
            true => read_f32(&quantized_expected(&f, expected)),
            false => read_f32(expected),
        };
        check_output(&f, &read_f32(&y), &want).unwrap_or_else(|e| panic!("{name}: {e}"));
        std::fs::remove_dir_all(&out).unwrap();
    }
}

/// `--preprocess torchvision`: the library takes an RGBA, a BGRA and an NV21 frame with padded
/// rows from C (tests/c/run_frames.c) and gives what the reference interpreter gives on the
/// runtime resizer's pixels normalised by mnetc's `Preprocess`; bad arguments are negative codes.
#[test]
fn the_host_library_takes_camera_frames_from_c() {
    use mnetc_runtime::frame::{self, Frame, PixelLayout};
    let f = fixture("mobilenet_v1_0.25_128_bn");
    let out = out_dir("frames");
    let mut req = request(&f.onnx, Platform::Host, &out);
    req.preprocess = Some("torchvision");
    let p = package(&req).unwrap();
    let header = std::fs::read_to_string(&p.header).unwrap();
    assert!(
        header.contains("int mobilenet_run_nv21(mobilenet_t *net"),
        "{header}"
    );
    let program = link_c("run_frames", &out, &p.built[0].archive);
    let rgb = mnetc::photo::load_rgb(&mnetc_tests::repo_fixtures().join("photos/cat.png")).unwrap();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let (rgba, rgba_row) = mnetc_tests::frames::layout(rgb.as_raw(), w, h, PixelLayout::Rgba8, 16);
    let (bgra, bgra_row) = mnetc_tests::frames::layout(rgb.as_raw(), w, h, PixelLayout::Bgra8, 32);
    let nv_row = w.next_multiple_of(64);
    let (nv21, _) = mnetc_tests::frames::yuv(rgb.as_raw(), w, h, true, nv_row);
    let frames = [
        ("rgba8", rgba, rgba_row, PixelLayout::Rgba8),
        ("bgra8", bgra, bgra_row, PixelLayout::Bgra8),
        ("nv21", nv21, nv_row, PixelLayout::Nv21),
    ];
    let mut args = vec![w.to_string(), h.to_string()];
    for (name, bytes, row, _) in &frames {
        let path = out.join(format!("{name}.bin"));
        std::fs::write(&path, bytes).unwrap();
        args.push(path.display().to_string());
        args.push(row.to_string());
    }
    args.push(out.join("out-").display().to_string());
    let run = Command::new(&program).args(&args).output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // The oracle: the runtime's resize (checked against PIL in frames.rs), then Preprocess and
    // the interpreter.
    let graph = mnetc::frontend(&f.onnx, &mnetc::Options::default()).unwrap();
    let shape = graph.shape(graph.input.value).unwrap().to_vec();
    let pre = mnetc::preprocess::Preprocess::preset("torchvision").unwrap();
    type S = frame::FrameScratch<
        128,
        128,
        { 128 * 128 * 3 },
        { frame::coef_len(128) },
        { frame::row_len(128) },
    >;
    let mut s = mnetc_runtime::boxed_zeroed::<S>();
    for (name, bytes, row_bytes, layout) in &frames {
        let fr = Frame {
            bytes,
            width: w,
            height: h,
            row_bytes: *row_bytes,
            layout: *layout,
        };
        frame::resize(&fr, frame::Fit::ShorterSide(146), &mut s).unwrap();
        let x = pre
            .input(&s.pixels[..], &shape, graph.input.layout)
            .unwrap();
        let want = mnetc::interp::run(&graph, &mnetc::ir::Tensor::f32(shape.clone(), x))
            .unwrap()
            .remove(0)
            .to_f32();
        let got = read_f32(&out.join(format!("out-{name}.f32")));
        check_close(&got, &want).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
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
        // With the frame entry points, which the apps' camera code calls.
        let mut req = request(&f.onnx, platform, &out);
        req.preprocess = Some("torchvision");
        let p = package(&req).unwrap();
        assert!(p.built.iter().any(|b| b.triple == required), "{platform:?}");
        let header = std::fs::read_to_string(&p.header).unwrap();
        for line in [
            "#define MOBILENET_INPUT_LEN 49152",
            "#define MOBILENET_OUTPUT_LEN 1000",
            "mobilenet_t *mobilenet_new(void);",
            "mobilenet_t *mobilenet_new_threads(size_t threads);",
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
            for f in [
                "new",
                "new_threads",
                "threads",
                "free",
                "run",
                "version",
                "run_rgba8",
                "run_bgra8",
                "run_nv21",
            ] {
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
