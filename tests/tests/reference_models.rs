//! Every reference model (the repository's fixtures: PyTorch exports, tf2onnx exports of Keras
//! and TFLite models, a paddle2onnx export; and `../shared/models` when present) runs
//! through import -> passes -> reference interpreter and must give onnxruntime's output within
//! the fixtures' tolerance, with the optimising passes on and off. The multiply-add count of
//! `inspect` must equal the one the fixtures' manifest computed.

use mnetc::Options;
use mnetc_tests::{all_fixtures, awaiting, check_close, read_f32, run_model};

#[test]
fn every_reference_model_matches_onnxruntime_with_and_without_passes() {
    let fixtures = all_fixtures();
    assert!(fixtures.len() >= 16, "fixtures missing: {}", fixtures.len());
    let mut failures = Vec::new();
    let mut checked = 0;
    for f in &fixtures {
        if let Some(why) = awaiting(f) {
            eprintln!("skipped {}: {why}", f.name);
            continue;
        }
        let bytes = std::fs::read(&f.onnx).unwrap();
        assert!(!f.cases.is_empty(), "{}: no input/expected pair", f.name);
        for (input, expected) in &f.cases {
            for optimize in [true, false] {
                let options = Options {
                    optimize,
                    ..Default::default()
                };
                let got = run_model(&bytes, &f.name, &options, read_f32(input));
                match got
                    .map_err(|e| e.to_string())
                    .and_then(|y| check_close(&y, &read_f32(expected)))
                {
                    Ok(_) => checked += 1,
                    Err(e) => failures.push(format!(
                        "{} ({}, optimize {optimize}): {e}",
                        f.name,
                        input.display()
                    )),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{checked} model runs matched onnxruntime");
}

#[test]
fn multiply_adds_match_the_manifest() {
    let mut checked = 0;
    for f in all_fixtures() {
        if let Some(why) = awaiting(&f) {
            eprintln!("skipped {}: {why}", f.name);
            continue;
        }
        // Models outside the folders' main manifests (the MobileNetV3 files of
        // ../shared/models, described in more/manifest-v3-int8.json) have no count to compare.
        let Some(want) = f.manifest["macs"]["total"].as_u64() else {
            assert!(
                f.onnx
                    .starts_with(mnetc_tests::shared_models().unwrap_or_default()),
                "{}: no macs in manifest",
                f.name
            );
            eprintln!("skipped {}: its manifest has no multiply-add count", f.name);
            continue;
        };
        checked += 1;
        let graph = mnetc::frontend(&f.onnx, &Options::default()).unwrap();
        let s = mnetc::inspect::summarize(&graph);
        assert_eq!(s.total_macs, want, "{}", f.name);
        // Parameters: the shared manifest counts the PyTorch model (convs without bias); after
        // folding every conv has a bias of one value per output channel. The Keras manifest
        // gives the folded count itself.
        let want = match f.manifest["params"]["after_bn_folding"].as_u64() {
            Some(folded) => folded,
            None => {
                let biases: u64 = s
                    .layers
                    .iter()
                    .filter(|l| l.op.ends_with("conv"))
                    .map(|l| l.output[1] as u64)
                    .sum();
                f.manifest["params"]["conv_fc_weights_and_biases"]
                    .as_u64()
                    .unwrap()
                    + biases
            }
        };
        assert_eq!(s.total_params, want, "{}", f.name);
    }
    assert!(checked >= 16, "{checked} models counted");
}

#[test]
fn optimised_graphs_are_fused() {
    let f = mnetc_tests::fixture("mobilenet_v1_0.25_128_relu6_bn");
    let g = mnetc::frontend(&f.onnx, &Options::default()).unwrap();
    let ops: Vec<&str> = g.nodes.iter().map(|n| n.op.name()).collect();
    // 27 convs with BN and ReLU6 folded in, then pool, flatten, dense.
    assert_eq!(ops.iter().filter(|&&o| o == "Conv").count(), 27);
    assert_eq!(ops.len(), 30, "{ops:?}");
    let s = mnetc::inspect::summarize(&g);
    assert!(
        s.layers[..27]
            .iter()
            .all(|l| l.activation.as_deref() == Some("relu6"))
    );
}
