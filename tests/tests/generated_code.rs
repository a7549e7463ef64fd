//! Generated code, compiled by `build.rs` through `mnetc::Builder` like a user's build script
//! would: every fixture through `forward` and through the other-layout entry point against
//! onnxruntime's output; models compiled without the optimising passes give the same numbers;
//! JSON descriptions across an alpha x resolution grid against the reference interpreter.

use mnetc_tests::generated::MODELS;
use mnetc_tests::{Compiled, all_fixtures, check_close, nchw_to_nhwc, nhwc_to_nchw, read_f32};

/// The input in the other layout than the model's own.
fn other_layout(model: &Compiled, x: &[f32]) -> Vec<f32> {
    let s = model.input_shape;
    if s[1] <= 4 && s[3] > 4 {
        nchw_to_nhwc(x, s[1], s[2], s[3]) // NCHW model: the caller holds NHWC
    } else {
        nhwc_to_nchw(x, s[1], s[2], s[3]) // NHWC model: the caller holds NCHW
    }
}

#[test]
fn every_fixture_matches_onnxruntime_through_both_entry_points() {
    let fixtures = all_fixtures();
    let mut checked = 0;
    for model in MODELS.iter().filter(|m| m.source.ends_with(".onnx")) {
        let stem = std::path::Path::new(model.source)
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap();
        let f = fixtures
            .iter()
            .find(|f| f.name == stem)
            .unwrap_or_else(|| panic!("{}", model.source));
        for (input, expected) in &f.cases {
            let (x, want) = (read_f32(input), read_f32(expected));
            let y = (model.run)(&x, false);
            check_close(&y, &want).unwrap_or_else(|e| panic!("{} forward: {e}", model.name));
            let y = (model.run)(&other_layout(model, &x), true);
            check_close(&y, &want).unwrap_or_else(|e| panic!("{} other layout: {e}", model.name));
            checked += 1;
        }
    }
    assert!(checked >= 18, "{checked}");
}

#[test]
fn optimised_and_unoptimised_code_give_the_same_numbers() {
    let mut pairs = 0;
    for plain in MODELS.iter().filter(|m| !m.optimize) {
        let opt = MODELS
            .iter()
            .find(|m| m.optimize && m.source == plain.source)
            .expect("optimised twin");
        let n: usize = plain.input_shape.iter().product();
        let x = mnetc::rng::Rng::new(9).normal_tensor(&[n], 1.0).to_f32();
        let (a, b) = ((plain.run)(&x, false), (opt.run)(&x, false));
        check_close(&a, &b).unwrap_or_else(|e| panic!("{}: {e}", plain.name));
        assert_ne!(a, vec![0.0; a.len()]);
        pairs += 1;
    }
    assert_eq!(pairs, 3);
}

#[test]
fn json_descriptions_match_the_reference_interpreter() {
    let mut checked = 0;
    for model in MODELS.iter().filter(|m| m.source.ends_with(".json")) {
        let graph = mnetc::frontend(
            std::path::Path::new(model.source),
            &mnetc::Options::default(),
        )
        .unwrap();
        let x = mnetc::rng::Rng::new(3).normal_tensor(model.input_shape, 1.0);
        let want = mnetc::interp::run(&graph, &x).unwrap().remove(0).to_f32();
        let y = (model.run)(&x.to_f32(), false);
        check_close(&y, &want).unwrap_or_else(|e| panic!("{}: {e}", model.name));
        checked += 1;
    }
    assert_eq!(checked, 6);
}
