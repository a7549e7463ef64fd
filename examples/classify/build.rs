//! Compiles the trained MobileNetV2 (torchvision's ImageNet weights, a repository fixture) for
//! the CPU this crate is built for, with `forward_rgb8` for torchvision's preprocessing.

use mnetc::codegen::Target;
use std::path::Path;

fn main() -> Result<(), mnetc::Error> {
    let model = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/mobilenet_v2_imagenet.onnx");
    // The first target of this build's architecture whose features the build enables (avx2
    // with `-C target-feature=+avx2,+fma`, neon on aarch64), else portable code.
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let enabled: Vec<&str> = features.split(',').collect();
    let target = Target::all()
        .find(|t| {
            let d = t.desc();
            d.arch == Some(arch.as_str())
                && d.cfgs.is_empty()
                && d.features.iter().all(|f| enabled.contains(f))
        })
        .unwrap_or(Target::GENERIC);
    mnetc::Builder::new()
        .target(target)
        .preprocess("torchvision")
        .name("mobilenet_v2")
        .compile(model)?;
    Ok(())
}
