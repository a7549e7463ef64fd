//! Photos in: the resize and crop against PIL's (the `_224.png` crops that onnxruntime's
//! reference inputs were made from), the classes against onnxruntime's output for those inputs,
//! and bad photos refused with one message and exit code 2.

use mnetc::preprocess::Preprocess;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `(photo, PIL's 224 crop, onnxruntime's logits for it)`: the cat from the repository, the
/// coffee from ../shared/models when present.
fn photos() -> Vec<(PathBuf, PathBuf, PathBuf)> {
    let fixtures = repo().join("tests/fixtures");
    let mut out = vec![(
        fixtures.join("photos/cat.png"),
        fixtures.join("photos/cat_224.png"),
        fixtures.join("mobilenet_v2_imagenet.cat.expected.f32"),
    )];
    let shared = repo().join("../shared/models");
    if shared.join("images/coffee.png").exists() {
        out.push((
            shared.join("images/coffee.png"),
            shared.join("images/coffee_224.png"),
            shared.join("mobilenet_v2_imagenet.coffee.expected.f32"),
        ));
    } else {
        eprintln!("skipped coffee.png: ../shared/models is not beside the repository");
    }
    out
}

fn read_f32(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[test]
fn the_torchvision_crop_matches_pil() {
    let pre = Preprocess::preset("torchvision").unwrap();
    for (photo, crop, _) in photos() {
        let ours = mnetc::photo::fit(&mnetc::photo::load_rgb(&photo).unwrap(), 224, &pre).unwrap();
        let pil = image::open(&crop).unwrap().to_rgb8().into_raw();
        assert_eq!(ours.len(), pil.len());
        let mad = ours
            .iter()
            .zip(&pil)
            .map(|(&a, &b)| (a as f64 - b as f64).abs())
            .sum::<f64>()
            / pil.len() as f64;
        assert!(
            mad <= 1.0,
            "{}: mean abs difference {mad} (of 255)",
            photo.display()
        );
    }
}

#[test]
fn top_five_classes_match_onnxruntime_on_the_photos() {
    let model = repo().join("tests/fixtures/mobilenet_v2_imagenet.onnx");
    let graph = mnetc::frontend(&model, &mnetc::Options::default()).unwrap();
    let (pre, _) = mnetc::preprocess::default_for(&graph);
    assert_eq!(pre.name, "torchvision");
    let shape = graph.shape(graph.input.value).unwrap().to_vec();
    for (photo, _, expected) in photos() {
        let pixels =
            mnetc::photo::fit(&mnetc::photo::load_rgb(&photo).unwrap(), 224, &pre).unwrap();
        let x = pre.input(&pixels, &shape, graph.input.layout).unwrap();
        let x = mnetc::ir::Tensor::f32(shape.clone(), x);
        let ours = mnetc::photo::softmax(&mnetc::interp::run(&graph, &x).unwrap()[0].to_f32());
        let want = mnetc::photo::softmax(&read_f32(&expected));
        let mut order: Vec<usize> = (0..want.len()).collect();
        order.sort_by(|&a, &b| want[b].total_cmp(&want[a]));
        let top1 = (0..ours.len())
            .max_by(|&a, &b| ours[a].total_cmp(&ours[b]))
            .unwrap();
        assert_eq!(top1, order[0], "{}", photo.display());
        for &i in &order[..5] {
            assert!(
                (ours[i] - want[i]).abs() <= 0.02,
                "{} class {i}: {} vs onnxruntime's {}",
                photo.display(),
                ours[i],
                want[i]
            );
        }
    }
}

fn mnetc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mnetc"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

#[test]
fn run_image_prints_labels_and_probabilities() {
    let out = mnetc(&[
        "run",
        "tests/fixtures/mobilenet_v2_imagenet.onnx",
        "--image",
        "tests/fixtures/photos/cat.png",
        "--labels",
        "tests/fixtures/imagenet_classes.txt",
        "--top",
        "3",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("preprocessing torchvision:"), "{err}");
    let first = text.lines().nth(1).unwrap();
    assert!(
        first.contains("285") && first.contains("Egyptian cat"),
        "{text}"
    );
    let out = mnetc(&[
        "run",
        "tests/fixtures/mobilenet_v2_imagenet.onnx",
        "--image",
        "tests/fixtures/photos/cat.png",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["top"][0]["index"], 285);
    assert_eq!(v["preprocess"], "torchvision");
}

/// CRC-32 (PNG's) of `data`.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png(img: image::DynamicImage) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

#[test]
fn bad_photos_are_refused_and_odd_ones_converted() {
    let dir = std::env::temp_dir().join(format!("mnetc-photos-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cat = std::fs::read(repo().join("tests/fixtures/photos/cat.png")).unwrap();
    // A header claiming 100000 x 100000 pixels (with a valid CRC): refused by the decoder's
    // limits before it allocates.
    let mut bomb = png(image::DynamicImage::new_rgb8(1, 1));
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let bad: [(&str, Vec<u8>); 3] = [
        ("truncated.png", cat[..cat.len() / 2].to_vec()),
        ("text.jpg", b"not a photo at all\n".to_vec()),
        ("bomb.png", bomb),
    ];
    let model = "tests/fixtures/mobilenet_v1_0.25_128_bn.onnx";
    for (name, bytes) in bad {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = mnetc(&["run", model, "--image", path.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        let message: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
        assert!(
            message.len() == 1 && message[0].contains(name),
            "{name}: {err}"
        );
        assert!(
            !err.contains("panicked") && out.stdout.is_empty(),
            "{name}: {err}"
        );
    }
    // Grey, 16-bit, with alpha, and smaller than the input: converted and upscaled.
    let odd = [
        ("grey.png", image::DynamicImage::new_luma8(64, 48)),
        ("deep.png", image::DynamicImage::new_rgb16(64, 48)),
        ("alpha.png", image::DynamicImage::new_rgba8(64, 48)),
        ("small.png", image::DynamicImage::new_rgb8(20, 12)),
    ];
    for (name, img) in odd {
        let path = dir.join(name);
        std::fs::write(&path, png(img)).unwrap();
        let out = mnetc(&["run", model, "--image", path.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn verify_takes_a_photo() {
    let out = mnetc(&[
        "verify",
        "tests/fixtures/mobilenet_v1_0.25_128_bn.onnx",
        "--image",
        "tests/fixtures/photos/cat.png",
        "--preprocess",
        "unit",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.ends_with(": ok\n"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("preprocessing unit:"));
}

#[test]
fn bench_takes_a_photo() {
    let model = "tests/fixtures/mobilenet_v1_0.25_128_bn.onnx";
    let out = mnetc(&[
        "bench",
        model,
        "--image",
        "tests/fixtures/photos/cat.png",
        "--runs",
        "3",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success()
            && text.contains("cat.png: decoding ")
            && text.contains("resizing and cropping")
            && text.contains("median"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A text file named .png: one message, exit 2.
    let dir = std::env::temp_dir().join(format!("mnetc-bench-photo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join("notes.png");
    std::fs::write(&fake, "not a photo").unwrap();
    let out = mnetc(&["bench", model, "--image", fake.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a readable photo"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn explicit_options_rebuild_a_preset() {
    let model = "tests/fixtures/mobilenet_v1_0.25_128_bn.onnx";
    let cat = "tests/fixtures/photos/cat.png";
    let run = |extra: &[&str]| {
        let mut args = vec!["run", model, "--image", cat, "--json"];
        args.extend(extra);
        let out = mnetc(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (v["top"].clone(), v["preprocess"].clone())
    };
    let (preset, name) = run(&["--preprocess", "torchvision"]);
    assert_eq!(name, "torchvision");
    let (custom, name) = run(&[
        "--preprocess",
        "unit",
        "--mean",
        "0.485,0.456,0.406",
        "--std",
        "0.229,0.224,0.225",
        "--resize",
        "crop",
    ]);
    assert_eq!(name, "custom");
    assert_eq!(preset, custom);
    let (bgr, _) = run(&["--preprocess", "torchvision", "--channel-order", "bgr"]);
    assert_ne!(preset, bgr);
    let out = mnetc(&["run", model, "--image", cat, "--std", "1,0,1"]);
    assert_eq!(out.status.code(), Some(2));
}
