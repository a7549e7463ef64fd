//! The runtime's `no_std` frame resizer (`mnetc_runtime::frame`, used by `forward_frame` and the
//! C ABI) against PIL and against the command line's resizer (`fast_image_resize`, itself
//! checked against PIL in `cli/tests/photos.rs`): RGB, RGBA and BGRA with padded row strides,
//! NV21 and NV12 camera frames, a 1920 x 1080 frame, and the frames it must refuse.

use mnetc::preprocess::Preprocess;
use mnetc_runtime::frame::{self, Fit, Frame, FrameError, PixelLayout};
use mnetc_tests::frames::{layout, yuv};
use std::path::PathBuf;

const RES: usize = 224;
type Scratch = frame::FrameScratch<
    RES,
    RES,
    { RES * RES * 3 },
    { frame::coef_len(RES) },
    { frame::row_len(RES) },
>;

/// `(photo, PIL's torchvision crop of it)`: the cat, and the coffee from ../shared/models.
fn photos() -> Vec<(PathBuf, PathBuf)> {
    let f = mnetc_tests::repo_fixtures().join("photos");
    let mut out = vec![(f.join("cat.png"), f.join("cat_224.png"))];
    match mnetc_tests::shared_models() {
        Some(s) => out.push((s.join("images/coffee.png"), s.join("images/coffee_224.png"))),
        None => eprintln!("skipped coffee.png: ../shared/models is not beside the repository"),
    }
    out
}

/// Mean absolute difference per channel value, in 8-bit levels.
fn mad(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 - y as f64).abs())
        .sum::<f64>()
        / a.len() as f64
}

fn resize(bytes: &[u8], w: usize, h: usize, row_bytes: usize, l: PixelLayout, fit: Fit) -> Vec<u8> {
    let mut s = mnetc_runtime::boxed_zeroed::<Scratch>();
    let f = Frame {
        bytes,
        width: w,
        height: h,
        row_bytes,
        layout: l,
    };
    frame::resize(&f, fit, &mut s).unwrap();
    s.pixels.to_vec()
}

/// The command line's resize of an RGB image (the oracle for frames PIL did not crop for us).
fn cli_fit(rgb: &[u8], w: usize, h: usize, preset: &str) -> Vec<u8> {
    let img = image::RgbImage::from_raw(w as u32, h as u32, rgb.to_vec()).unwrap();
    mnetc::photo::fit(&img, RES as u32, &Preprocess::preset(preset).unwrap()).unwrap()
}

#[test]
fn rgb_rgba_and_bgra_frames_match_pil_and_ignore_the_row_padding() {
    for (photo, crop) in photos() {
        let img = mnetc::photo::load_rgb(&photo).unwrap();
        let (w, h) = (img.width() as usize, img.height() as usize);
        let pil = image::open(&crop).unwrap().to_rgb8().into_raw();
        for l in [PixelLayout::Rgb8, PixelLayout::Rgba8, PixelLayout::Bgra8] {
            let (tight, rb) = layout(img.as_raw(), w, h, l, 0);
            let ours = resize(&tight, w, h, rb, l, Fit::ShorterSide(256));
            let d = mad(&ours, &pil);
            assert!(d <= 1.0, "{} {l:?}: {d} levels from PIL", photo.display());
            // A CVPixelBuffer pads its rows: the same pixels, the same output.
            let (padded, rb) = layout(img.as_raw(), w, h, l, 64 + 4);
            assert_eq!(resize(&padded, w, h, rb, l, Fit::ShorterSide(256)), ours);
        }
    }
}

#[test]
fn camera_frames_match_the_command_line_resizer() {
    // A 1920 x 1080 frame (the cat stretched to it), both fits, and a frame smaller than the
    // input (upscaled).
    let img = mnetc::photo::load_rgb(&photos()[0].0).unwrap();
    for (w, h) in [(1920, 1080), (1080, 1920), (150, 100)] {
        let big = image::imageops::resize(&img, w as u32, h as u32, image::imageops::Triangle);
        let rgb = big.as_raw();
        for (fit, preset) in [
            (Fit::ShorterSide(256), "torchvision"),
            (Fit::Stretch, "keras"),
        ] {
            let want = cli_fit(rgb, w, h, preset);
            let (rgba, rb) = layout(rgb, w, h, PixelLayout::Rgba8, 0);
            let got = resize(&rgba, w, h, rb, PixelLayout::Rgba8, fit);
            let d = mad(&got, &want);
            assert!(
                d <= 1.0,
                "{w}x{h} {preset}: {d} levels from the CLI's resize"
            );
        }
    }
}

#[test]
fn nv21_and_nv12_frames_match_their_rgb_decoding() {
    let img = mnetc::photo::load_rgb(&photos()[0].0).unwrap();
    let (w, h) = (img.width() as usize, img.height() as usize);
    for vu in [true, false] {
        let l = if vu {
            PixelLayout::Nv21
        } else {
            PixelLayout::Nv12
        };
        let (frame, decoded) = yuv(img.as_raw(), w, h, vu, w.next_multiple_of(64));
        let want = cli_fit(&decoded, w, h, "torchvision");
        let got = resize(
            &frame,
            w,
            h,
            w.next_multiple_of(64),
            l,
            Fit::ShorterSide(256),
        );
        let d = mad(&got, &want);
        assert!(d <= 1.0, "{l:?}: {d} levels from its RGB decoding");
        // And against PIL's crop of the photo itself: chroma subsampling costs a little.
        let pil = image::open(&photos()[0].1).unwrap().to_rgb8().into_raw();
        let d = mad(&got, &pil);
        assert!(
            d <= 3.0,
            "{l:?}: {d} levels from PIL's crop of the RGB photo"
        );
    }
}

#[test]
fn bad_frames_are_refused() {
    let bytes = vec![0u8; 64 * 64 * 4];
    let mut s = mnetc_runtime::boxed_zeroed::<Scratch>();
    let f = |w, h, row_bytes, layout| Frame {
        bytes: &bytes,
        width: w,
        height: h,
        row_bytes,
        layout,
    };
    let rgba = PixelLayout::Rgba8;
    for (frame, err) in [
        (f(0, 64, 256, rgba), FrameError::Size),
        (f(64, 0, 256, rgba), FrameError::Size),
        (f(100_000, 1, 400_000, rgba), FrameError::Size),
        (f(64, 64, 255, rgba), FrameError::RowBytes),
        (f(64, 65, 256, rgba), FrameError::TooFewBytes),
    ] {
        assert_eq!(
            frame::resize(&frame, Fit::ShorterSide(256), &mut s),
            Err(err),
            "{frame:?}"
        );
    }
    // NV21: 64 x 64 takes 64 * 96 bytes (the Y plane and half as many chroma rows).
    let yuv = |n: usize| vec![128u8; n];
    let (short, enough) = (yuv(64 * 64), yuv(64 * 96));
    let nv21 = |bytes| Frame {
        bytes,
        width: 64,
        height: 64,
        row_bytes: 64,
        layout: PixelLayout::Nv21,
    };
    assert_eq!(
        frame::resize(&nv21(&short), Fit::ShorterSide(256), &mut s),
        Err(FrameError::TooFewBytes)
    );
    // Enough bytes: upscaled, and grey stays grey.
    assert_eq!(
        frame::resize(&nv21(&enough), Fit::ShorterSide(256), &mut s),
        Ok(())
    );
    assert!(s.pixels.iter().all(|&v| v == 128));
    // More than MAX_SCALE times the resized side.
    let wide = vec![0u8; 8000 * 3];
    let f = Frame {
        bytes: &wide,
        width: 8000,
        height: 1,
        row_bytes: 8000 * 3,
        layout: PixelLayout::Rgb8,
    };
    assert_eq!(
        frame::resize(&f, Fit::Stretch, &mut s),
        Err(FrameError::TooLarge)
    );
}

#[test]
fn the_runtime_and_the_compiler_plan_the_same_crop() {
    for (w, h) in [
        (451, 300),
        (300, 451),
        (1920, 1080),
        (257, 256),
        (259, 256),
        (261, 999),
        (224, 224),
    ] {
        let (size, at) = mnetc::preprocess::shorter_side_plan(w, h, 224, 0.875);
        let (rsize, rat) = frame::plan(w as usize, h as usize, Fit::ShorterSide(256), 224, 224);
        assert_eq!(
            (size.map(|v| v as usize), at.map(|v| v as usize)),
            (rsize, rat),
            "{w}x{h}"
        );
    }
}
