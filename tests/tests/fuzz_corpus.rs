//! The fuzz targets' committed corpora (`compiler/fuzz/seeds/<target>/`: the seeds, and every
//! input a fuzzing run found to crash, kept as a regression) replayed through the targets'
//! bodies (`compiler/fuzz/src/lib.rs`) on the stable toolchain: zero panics. `write_fuzz_seeds`
//! (ignored; run by hand) writes the seeds: tiny ONNX graphs of the ops MobileNets use, float
//! and QDQ, descriptions of every architecture, a safetensors file and run-time weights file
//! that the targets accept, small photos.

#[path = "../../compiler/fuzz/src/lib.rs"]
mod targets;

use std::path::{Path, PathBuf};

fn seeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../compiler/fuzz/seeds")
}

#[test]
fn committed_corpora_replay_without_a_panic() {
    let mut counts = Vec::new();
    for (name, target) in targets::TARGETS {
        let dir = seeds().join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(files.len() >= 3, "{name}: {} seeds", files.len());
        for f in &files {
            let data = std::fs::read(f).unwrap();
            let caught = std::panic::catch_unwind(|| target(&data));
            assert!(caught.is_ok(), "{name}: {} panicked", f.display());
        }
        counts.push(format!("{name} {}", files.len()));
    }
    println!("replayed: {}", counts.join(", "));
}

/// The seeds are accepted by their targets (so the fuzzer starts from inputs that reach deep):
/// each ONNX and JSON seed imports, the safetensors and weights seeds load, the photos decode.
#[test]
fn the_seeds_are_accepted_inputs() {
    for name in ["onnx_import", "json_import"] {
        for f in std::fs::read_dir(seeds().join(name)).unwrap() {
            let f = f.unwrap().path();
            if f.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("crash-")
            {
                continue;
            }
            let bytes = std::fs::read(&f).unwrap();
            let options = mnetc::Options::default();
            mnetc::frontend_bytes(&bytes, &f, &options)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
    }
    let st = std::fs::read(seeds().join("safetensors/valid.safetensors")).unwrap();
    mnetc::import::json::import_with(
        targets::SAFETENSORS_DESCRIPTION,
        Path::new("fuzz.json"),
        None,
        None,
        |_| Ok((st, "fuzz.safetensors".into())),
    )
    .unwrap();
    let w = std::fs::read(seeds().join("weights/valid.weights")).unwrap();
    mnetc_runtime::weights_from_bytes::<{ targets::WEIGHTS_LEN }>(&w, &targets::WEIGHTS_LAYOUT)
        .unwrap();
    for f in ["tiny.png", "tiny.jpg"] {
        let bytes = std::fs::read(seeds().join("photo").join(f)).unwrap();
        mnetc::photo::decode_rgb(&bytes, Path::new(f)).unwrap();
    }
}

mod seed_models {
    use mnetc::onnx_proto::{ModelProto, OperatorSetIdProto, TensorProto};
    use mnetc::ptq::write::value_info;
    use mnetc::ptq::write::{attr_float, attr_int, attr_ints, node, tensor_f32, tensor_i64};
    use prost::Message;

    fn weights(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 1000.0 - 0.5)
            .collect()
    }

    fn model(
        input: &[usize],
        nodes: Vec<mnetc::onnx_proto::NodeProto>,
        init: Vec<TensorProto>,
        output: &str,
        opset: i64,
    ) -> Vec<u8> {
        let graph = mnetc::onnx_proto::GraphProto {
            name: Some("seed".into()),
            node: nodes,
            initializer: init,
            input: vec![value_info("x", input)],
            output: vec![value_info(output, &[])],
            ..Default::default()
        };
        ModelProto {
            ir_version: Some(8),
            opset_import: vec![OperatorSetIdProto {
                domain: Some(String::new()),
                version: Some(opset),
            }],
            graph: Some(graph),
            ..Default::default()
        }
        .encode_to_vec()
    }

    /// Stem conv with BatchNorm and ReLU6 (Clip), a depthwise separable block, pooling,
    /// Flatten and Gemm: v1's ops at 8 x 8.
    pub fn v1_ops(opset: i64) -> Vec<u8> {
        let clip = |name: &str, x: &str, y: &str| {
            if opset >= 11 {
                node("Clip", name, &[x, "lo", "hi"], &[y], vec![])
            } else {
                node(
                    "Clip",
                    name,
                    &[x],
                    &[y],
                    vec![attr_float("min", 0.0), attr_float("max", 6.0)],
                )
            }
        };
        let conv = |name: &str, ins: &[&str], y: &str, k: i64, s: i64, g: i64| {
            let p = k / 2;
            node(
                "Conv",
                name,
                ins,
                &[y],
                vec![
                    attr_ints("kernel_shape", &[k, k]),
                    attr_ints("strides", &[s, s]),
                    attr_ints("pads", &[p, p, p, p]),
                    attr_int("group", g),
                ],
            )
        };
        let nodes = vec![
            conv("stem", &["x", "w0"], "c0", 3, 2, 1),
            node(
                "BatchNormalization",
                "bn0",
                &["c0", "g", "b", "m", "v"],
                &["n0"],
                vec![attr_float("epsilon", 1e-5)],
            ),
            clip("act0", "n0", "a0"),
            conv("dw", &["a0", "w1", "b1"], "c1", 3, 1, 4),
            node("Relu", "act1", &["c1"], &["a1"], vec![]),
            conv("pw", &["a1", "w2", "b2"], "c2", 1, 1, 1),
            clip("act2", "c2", "a2"),
            node("GlobalAveragePool", "pool", &["a2"], &["p"], vec![]),
            node("Flatten", "flat", &["p"], &["f"], vec![attr_int("axis", 1)]),
            node(
                "Gemm",
                "fc",
                &["f", "wf", "bf"],
                &["y"],
                vec![attr_int("transB", 1)],
            ),
        ];
        let init = vec![
            tensor_f32("w0", &[4, 3, 3, 3], &weights(108, 1)),
            tensor_f32("g", &[4], &[1.0, 0.5, 2.0, 1.5]),
            tensor_f32("b", &[4], &[0.1, -0.1, 0.0, 0.2]),
            tensor_f32("m", &[4], &[0.0, 0.1, -0.1, 0.0]),
            tensor_f32("v", &[4], &[1.0, 0.5, 2.0, 1.0]),
            tensor_f32("w1", &[4, 1, 3, 3], &weights(36, 2)),
            tensor_f32("b1", &[4], &weights(4, 3)),
            tensor_f32("w2", &[8, 4, 1, 1], &weights(32, 4)),
            tensor_f32("b2", &[8], &weights(8, 5)),
            tensor_f32("wf", &[5, 8], &weights(40, 6)),
            tensor_f32("bf", &[5], &weights(5, 7)),
            tensor_f32("lo", &[], &[0.0]),
            tensor_f32("hi", &[], &[6.0]),
        ];
        model(&[1, 3, 8, 8], nodes, init, "y", opset)
    }

    /// A residual Add, hard-swish spelt out (Add, Clip, Mul, Div), a Reshape whose target
    /// comes from Shape and Gather (as exporters write it), Softmax.
    pub fn v2_v3_ops() -> Vec<u8> {
        let nodes = vec![
            node(
                "Conv",
                "pw",
                &["x", "w"],
                &["c"],
                vec![attr_ints("kernel_shape", &[1, 1])],
            ),
            node("Add", "res", &["c", "x"], &["r"], vec![]),
            node("Add", "hs.add", &["r", "three"], &["h0"], vec![]),
            node("Clip", "hs.clip", &["h0", "zero", "six"], &["h1"], vec![]),
            node("Mul", "hs.mul", &["r", "h1"], &["h2"], vec![]),
            node("Div", "hs.div", &["h2", "six"], &["h3"], vec![]),
            node("GlobalAveragePool", "pool", &["h3"], &["p"], vec![]),
            node("Shape", "shape", &["p"], &["s"], vec![]),
            node(
                "Gather",
                "batch",
                &["s", "zero_i"],
                &["n"],
                vec![attr_int("axis", 0)],
            ),
            node("Unsqueeze", "unsq", &["n", "axes"], &["n1"], vec![]),
            node(
                "Concat",
                "target",
                &["n1", "minus1"],
                &["t"],
                vec![attr_int("axis", 0)],
            ),
            node("Reshape", "reshape", &["p", "t"], &["f"], vec![]),
            node("MatMul", "fc", &["f", "wf"], &["l"], vec![]),
            node("Softmax", "prob", &["l"], &["y"], vec![attr_int("axis", 1)]),
        ];
        let init = vec![
            tensor_f32("w", &[4, 4, 1, 1], &weights(16, 8)),
            tensor_f32("three", &[], &[3.0]),
            tensor_f32("zero", &[], &[0.0]),
            tensor_f32("six", &[], &[6.0]),
            tensor_i64("zero_i", &[], &[0]),
            tensor_i64("axes", &[1], &[0]),
            tensor_i64("minus1", &[1], &[-1]),
            tensor_f32("wf", &[4, 3], &weights(12, 9)),
        ];
        model(&[1, 4, 6, 6], nodes, init, "y", 13)
    }

    /// The description's network as a QDQ model (per-channel int8 weights), calibrated on
    /// one input.
    pub fn qdq(desc: &str) -> Vec<u8> {
        let options = mnetc::Options::default();
        let graph = mnetc::frontend_bytes(desc.as_bytes(), "q.json".as_ref(), &options).unwrap();
        let shape = graph.shape(graph.input.value).unwrap().to_vec();
        let x = mnetc::rng::Rng::new(3).normal_tensor(&shape, 1.0);
        let ranges =
            mnetc::ptq::calibrate(&graph, &[x], mnetc::ptq::Method::MinMax, || {}).unwrap();
        mnetc::ptq::write::qdq_bytes(&graph, &ranges, false).unwrap()
    }
}

/// Writes the committed seeds. Run by hand after a change of the formats:
/// `cargo test -p mnetc-tests --test fuzz_corpus -- --ignored write_fuzz_seeds`.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    use mnetc::import::json::{Arch, Description};
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = seeds().join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    write(
        "onnx_import",
        "v1_ops_opset13.onnx",
        &seed_models::v1_ops(13),
    );
    write("onnx_import", "v1_ops_opset9.onnx", &seed_models::v1_ops(9));
    write("onnx_import", "v2_v3_ops.onnx", &seed_models::v2_v3_ops());
    let small = |arch: Arch, minimal: bool| {
        let mut d = Description::paper(arch, 0.25, 32, minimal);
        d.classes = 4;
        d
    };
    let descriptions = [
        ("v1", small(Arch::V1, false)),
        ("v2", small(Arch::V2, false)),
        ("v3_small", small(Arch::V3Small, false)),
        ("v3_large_minimalistic", small(Arch::V3Large, true)),
    ];
    for (name, d) in &descriptions {
        write(
            "json_import",
            &format!("{name}.json"),
            d.to_json_pretty().as_bytes(),
        );
    }
    // QDQ seeds of the first blocks only (a few kilobytes).
    for (name, d) in &descriptions[..2] {
        let mut d = d.clone();
        d.blocks.truncate(3);
        d.head.clear();
        let qdq = seed_models::qdq(&d.to_json_pretty());
        write("onnx_import", &format!("{name}_qdq.onnx"), &qdq);
    }

    // The safetensors target's description with random weights, saved as its file.
    let random = targets::SAFETENSORS_DESCRIPTION
        .replace(r#"{"safetensors": "fuzz.safetensors"}"#, r#"{"random": 5}"#);
    let graph =
        mnetc::import::load_bytes(random.as_bytes(), "r.json".as_ref(), None, None).unwrap();
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> = graph
        .values
        .iter()
        .filter_map(|v| {
            let t = v.constant.as_ref()?;
            let bytes = t.to_f32().iter().flat_map(|x| x.to_le_bytes()).collect();
            Some((v.name.clone(), t.shape.clone(), bytes))
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(n, s, b)| {
            let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b);
            (n.clone(), view.unwrap())
        })
        .collect();
    let st = safetensors::serialize(views, None).unwrap();
    write("safetensors", "valid.safetensors", &st);
    write(
        "safetensors",
        "header_only.safetensors",
        &st[..st.len().min(8 + 64)],
    );
    write(
        "safetensors",
        "empty_header.safetensors",
        b"\x02\x00\x00\x00\x00\x00\x00\x00{}",
    );

    let blob: Vec<u8> = (0..targets::WEIGHTS_LEN).map(|i| i as u8).collect();
    let file = mnetc::codegen::weights_file(&targets::WEIGHTS_LAYOUT, &blob);
    write("weights", "valid.weights", &file);
    write("weights", "header_only.weights", &file[..64]);
    let mut other = file.clone();
    other[20] ^= 1;
    write("weights", "other_layout.weights", &other);

    let cat =
        image::open(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos/cat_224.png"))
            .unwrap();
    let tiny = cat.resize_exact(12, 9, image::imageops::FilterType::Triangle);
    let mut png = std::io::Cursor::new(Vec::new());
    tiny.write_to(&mut png, image::ImageFormat::Png).unwrap();
    write("photo", "tiny.png", png.get_ref());
    let mut jpg = std::io::Cursor::new(Vec::new());
    tiny.to_rgb8()
        .write_to(&mut jpg, image::ImageFormat::Jpeg)
        .unwrap();
    write("photo", "tiny.jpg", jpg.get_ref());
    let grey = tiny.to_luma_alpha8();
    let mut png = std::io::Cursor::new(Vec::new());
    grey.write_to(&mut png, image::ImageFormat::Png).unwrap();
    write("photo", "tiny_grey_alpha.png", png.get_ref());
}
