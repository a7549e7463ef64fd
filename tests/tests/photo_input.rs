//! `forward_rgb8` (the preprocessing folded into the stem conv's weights, the padding around
//! the photo set to the value that maps to zero) against the same pixels normalised by mnetc's
//! `Preprocess` and given to `forward`: within the usual tolerance, for random pixels and for
//! all-black and all-white images (whose border is the extreme case for padding).

use mnetc::ir::InputLayout;
use mnetc::preprocess::Preprocess;
use mnetc_tests::photo::{nchw, nhwc};

fn images(len: usize) -> Vec<Vec<u8>> {
    let mut s = 12345u32;
    let random = (0..len)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 24) as u8
        })
        .collect();
    vec![random, vec![0; len], vec![255; len]]
}

macro_rules! check {
    ($m:ident, $preset:literal, $layout:expr) => {{
        let pre = Preprocess::preset($preset).unwrap();
        for pixels in images($m::INPUT_LEN) {
            let pixels: Box<[u8; $m::INPUT_LEN]> = pixels.into_boxed_slice().try_into().unwrap();
            let x = pre.input(&pixels[..], &$m::INPUT_SHAPE, $layout).unwrap();
            let x: Box<[f32; $m::INPUT_LEN]> = x.into_boxed_slice().try_into().unwrap();
            let mut scratch = mnetc_runtime::boxed_zeroed::<$m::Scratch>();
            let (mut a, mut b) = ([0f32; $m::OUTPUT_LEN], [0f32; $m::OUTPUT_LEN]);
            $m::forward_rgb8(&pixels, &mut a, &mut scratch);
            $m::forward(&x, &mut b, &mut scratch);
            mnetc_tests::check_close(&a, &b).unwrap_or_else(|e| panic!("{}: {e}", $preset));
            assert!(a.iter().any(|&v| v != 0.0));
        }
    }};
}

#[test]
fn forward_rgb8_is_normalise_then_forward() {
    check!(nchw, "torchvision", InputLayout::Nchw);
    check!(nhwc, "caffe", InputLayout::Nhwc);
}

/// The real-photo example (decoding by `mnetc::photo`, then `forward_frame`: the runtime's
/// `no_std` resizer and the preprocessing folded into the stem): onnxruntime's classes on PIL's
/// preprocessing of the cat (and the coffee, from ../shared/models), top-1 the same and the
/// top-5 probabilities within 0.02.
#[test]
fn the_classify_example_names_the_cat_and_the_coffee() {
    let fixtures = mnetc_tests::repo_fixtures();
    let mut photos = vec![(
        fixtures.join("photos/cat.png"),
        fixtures.join("mobilenet_v2_imagenet.cat.expected.f32"),
        285,
        "Egyptian cat",
    )];
    match mnetc_tests::shared_models() {
        Some(s) => photos.push((
            s.join("images/coffee.png"),
            s.join("mobilenet_v2_imagenet.coffee.expected.f32"),
            967,
            "espresso",
        )),
        None => eprintln!("skipped coffee.png: ../shared/models is not beside the repository"),
    }
    for (photo, expected, index, label) in photos {
        let classes = mnetc_example_classify::classify(&photo, 5).unwrap();
        let want = mnetc::photo::softmax(&mnetc_tests::read_f32(&expected));
        assert_eq!((classes[0].index, classes[0].label), (index, label));
        let mut order: Vec<usize> = (0..want.len()).collect();
        order.sort_by(|&a, &b| want[b].total_cmp(&want[a]));
        let ours: Vec<usize> = classes.iter().map(|c| c.index).collect();
        for c in &classes {
            assert!(
                (c.probability - want[c.index]).abs() <= 0.02,
                "{c:?} vs {}",
                want[c.index]
            );
        }
        // onnxruntime's top 5 are ours (up to near-ties within the tolerance).
        for &i in &order[..5] {
            assert!(
                ours.contains(&i) || want[i] <= classes[4].probability + 0.02,
                "class {i}"
            );
        }
    }
}

/// `forward_frame` takes the same photo as tight RGB, as RGBA with padded rows and as BGRA,
/// and gives `frame::resize` then `forward_rgb8`'s output for all three; a bad frame is an
/// error, not a panic.
#[test]
fn forward_frame_takes_any_layout_and_row_stride() {
    use mnetc_runtime::frame::{Frame, FrameError, PixelLayout};
    use mnetc_tests::photo::nchw as m;
    let rgb = mnetc::photo::load_rgb(&mnetc_tests::repo_fixtures().join("photos/cat.png")).unwrap();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let mut scratch = mnetc_runtime::boxed_zeroed::<m::Scratch>();
    let mut fs = mnetc_runtime::boxed_zeroed::<m::FrameScratch>();
    let mut want = [0f32; m::OUTPUT_LEN];
    mnetc_runtime::frame::resize(
        &Frame {
            bytes: rgb.as_raw(),
            width: w,
            height: h,
            row_bytes: w * 3,
            layout: PixelLayout::Rgb8,
        },
        m::FIT,
        &mut fs,
    )
    .unwrap();
    let pixels = fs.pixels;
    m::forward_rgb8(&pixels, &mut want, &mut scratch);
    for (layout, pad) in [
        (PixelLayout::Rgb8, 0),
        (PixelLayout::Rgba8, 64),
        (PixelLayout::Bgra8, 12),
    ] {
        let bpp = layout.bytes_per_pixel();
        let row_bytes = w * bpp + pad;
        let mut bytes = vec![0u8; row_bytes * h];
        for y in 0..h {
            for x in 0..w {
                let p = &rgb.as_raw()[(y * w + x) * 3..][..3];
                let q = &mut bytes[y * row_bytes + x * bpp..][..bpp];
                match layout {
                    PixelLayout::Bgra8 => q.copy_from_slice(&[p[2], p[1], p[0], 0]),
                    _ => q[..3].copy_from_slice(p),
                }
            }
        }
        let frame = Frame {
            bytes: &bytes,
            width: w,
            height: h,
            row_bytes,
            layout,
        };
        let mut got = [0f32; m::OUTPUT_LEN];
        m::forward_frame(&frame, &mut got, &mut scratch, &mut fs).unwrap();
        assert_eq!(got, want, "{layout:?}");
        let short = Frame {
            row_bytes: w * bpp - 1,
            ..frame
        };
        assert_eq!(
            m::forward_frame(&short, &mut got, &mut scratch, &mut fs),
            Err(FrameError::RowBytes)
        );
    }
}

#[test]
fn forward_rgb8_runs_like_verify_on_generic() {
    mnetc_tests::check_forward_rgb8(mnetc::codegen::Target::GENERIC, &[128]);
}

/// A module with run-time weights has the same frame entry point, as a method of `Net`, and
/// gives the embedded-weights module's output.
#[test]
fn net_forward_frame_is_the_embedded_modules() {
    use mnetc_runtime::frame::{Frame, PixelLayout};
    use mnetc_tests::photo::nchw as m;
    mod net {
        include!(concat!(env!("OUT_DIR"), "/photo_net.rs"));
    }
    let weights = std::fs::read(concat!(env!("OUT_DIR"), "/photo_net.weights")).unwrap();
    let n = net::Net::from_bytes(&weights).unwrap();
    let rgb = mnetc::photo::load_rgb(&mnetc_tests::repo_fixtures().join("photos/cat.png")).unwrap();
    let frame = Frame {
        bytes: rgb.as_raw(),
        width: rgb.width() as usize,
        height: rgb.height() as usize,
        row_bytes: rgb.width() as usize * 3,
        layout: PixelLayout::Rgb8,
    };
    let (mut a, mut b) = ([0f32; m::OUTPUT_LEN], [0f32; net::OUTPUT_LEN]);
    let mut fs = mnetc_runtime::boxed_zeroed::<m::FrameScratch>();
    m::forward_frame(
        &frame,
        &mut a,
        &mut mnetc_runtime::boxed_zeroed::<m::Scratch>(),
        &mut fs,
    )
    .unwrap();
    let mut fs = mnetc_runtime::boxed_zeroed::<net::FrameScratch>();
    n.forward_frame(
        &frame,
        &mut b,
        &mut mnetc_runtime::boxed_zeroed::<net::Scratch>(),
        &mut fs,
    )
    .unwrap();
    assert_eq!(a, b);
}
