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

/// The real-photo example: the cat photo in, onnxruntime's classes out (top-1 the same, top-5
/// probabilities within 0.02 of onnxruntime's on PIL's preprocessing of the photo).
#[test]
fn the_classify_example_names_the_cat() {
    let fixtures = mnetc_tests::repo_fixtures();
    let classes = mnetc_example_classify::classify(&fixtures.join("photos/cat.png"), 5).unwrap();
    let logits = mnetc_tests::read_f32(&fixtures.join("mobilenet_v2_imagenet.cat.expected.f32"));
    let want = mnetc::photo::softmax(&logits);
    assert_eq!((classes[0].index, classes[0].label), (285, "Egyptian cat"));
    for c in &classes {
        assert!(
            (c.probability - want[c.index]).abs() <= 0.02,
            "{c:?} vs {}",
            want[c.index]
        );
    }
}

#[test]
fn forward_rgb8_runs_like_verify_on_generic() {
    mnetc_tests::check_forward_rgb8(mnetc::codegen::Target::GENERIC, &[128]);
}
