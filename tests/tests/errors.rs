//! Bad input gets one clear error naming the place (node, op, attribute) and the reason, never a
//! panic. Every case here is a library call; `compiler/tests/cli.rs` checks what the command line
//! makes of such errors (message, exit code 2, no output).

use mnetc::Options;
use mnetc_tests::onnx_edit::{
    attr_int, attr_ints, encode, fixture_bytes, node, node_mut, tensor_f32, tiny,
};
use std::path::Path;

fn compile(bytes: &[u8], options: &Options) -> Result<mnetc::ir::Graph, mnetc::Error> {
    mnetc::frontend_bytes(bytes, Path::new("model.onnx"), options)
}

fn error(model: &mnetc::onnx_proto::ModelProto) -> String {
    let err = compile(&encode(model), &Options::default()).expect_err("must be refused");
    assert_eq!(err.exit_code(), 2, "{err}");
    err.to_string()
}

#[test]
fn the_tiny_model_itself_is_fine() {
    let g = compile(&encode(&tiny()), &Options::default()).unwrap();
    assert_eq!(g.nodes.len(), 4); // conv+relu, gap, flatten, dense
}

#[test]
fn not_onnx_and_truncated_files() {
    for bytes in [
        b"hello, this is not a model".to_vec(),
        vec![0xff; 64],
        Vec::new(),
    ] {
        let err = compile(&bytes, &Options::default()).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let msg = err.to_string();
        assert!(msg.starts_with("model.onnx: not"), "{msg}");
    }
    let full = fixture_bytes("mobilenet_v1_0.25_128_folded");
    for cut in [10, full.len() / 2, full.len() - 3] {
        let msg = compile(&full[..cut], &Options::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("model.onnx: not a valid ONNX file"),
            "cut {cut}: {msg}"
        );
    }
}

#[test]
fn all_unknown_ops_are_listed_together() {
    let mut m = tiny();
    node_mut(&mut m, "relu").op_type = Some("Elu".into());
    node_mut(&mut m, "gap").op_type = Some("LpPool".into());
    let msg = error(&m);
    assert_eq!(
        msg,
        "2 unsupported node(s):\n  - node 'relu' (Elu): op 'Elu' is not supported\n  - node 'gap' (LpPool): op 'LpPool' is not supported"
    );
}

#[test]
fn unsupported_attributes_name_node_op_and_attribute() {
    let cases: Vec<(&str, Vec<mnetc::onnx_proto::AttributeProto>, &str)> = vec![
        (
            "conv",
            vec![attr_ints("dilations", &[2, 2])],
            "node 'conv' (Conv): attribute 'dilations' = [2, 2] is not supported (only 1)",
        ),
        (
            "conv",
            vec![attr_int("group", 2)],
            "node 'conv' (Conv): attribute 'group' = 2 is not supported with 3 input and 4 output channels",
        ),
        (
            "conv",
            vec![attr_ints("strides", &[1, 1, 1])],
            "node 'conv' (Conv): attribute 'strides' = [1, 1, 1]: only 2-D (H, W) is supported",
        ),
        (
            "conv",
            vec![attr_ints("kernel_shape", &[5, 5])],
            "node 'conv' (Conv): attribute 'kernel_shape' = [5, 5] does not match the weight shape [4, 3, 3, 3]",
        ),
        (
            "gap",
            vec![attr_int("colour", 1)],
            "node 'gap' (GlobalAveragePool): attribute 'colour' is not supported",
        ),
    ];
    for (name, attrs, want) in cases {
        let mut m = tiny();
        let n = node_mut(&mut m, name);
        for a in attrs {
            n.attribute.retain(|x| x.name() != a.name());
            n.attribute.push(a);
        }
        let msg = error(&m);
        assert!(msg.starts_with(want), "got:  {msg}\nwant: {want}");
    }
}

#[test]
fn pad_modes_other_than_constant_are_refused() {
    let mut m = tiny();
    let g = m.graph.as_mut().unwrap();
    g.node.insert(
        0,
        node(
            "Pad",
            "pad",
            &["x", "pads"],
            &["xp"],
            vec![mnetc::onnx_proto::AttributeProto {
                name: Some("mode".into()),
                r#type: Some(mnetc::onnx_proto::attribute_proto::AttributeType::String as i32),
                s: Some(b"reflect".to_vec()),
                ..Default::default()
            }],
        ),
    );
    g.node[1].input[0] = "xp".into();
    g.initializer
        .push(mnetc_tests::onnx_edit::tensor_i64("pads", &[8], &[0; 8]));
    let msg = error(&m);
    assert_eq!(
        msg,
        "node 'pad' (Pad): attribute 'mode' = 'reflect' is not supported (only 'constant')"
    );
}

#[test]
fn graph_level_problems() {
    let mut m = tiny();
    let second = m.graph.as_ref().unwrap().input[0].clone();
    let mut second = second;
    second.name = Some("mask".into());
    m.graph.as_mut().unwrap().input.push(second);
    assert_eq!(
        error(&m),
        "model: the graph has 2 inputs ('x', 'mask'); mnetc compiles models with exactly one image input"
    );

    let mut m = tiny();
    node_mut(&mut m, "fc").input[0] = "nowhere".into();
    assert_eq!(
        error(&m),
        "node 'fc' (Gemm): input 'nowhere' is not produced by any node"
    );

    let mut m = tiny();
    m.opset_import[0].version = Some(3);
    assert!(error(&m).contains("opset 3 is not supported"));
}

#[test]
fn shapes_that_do_not_add_up() {
    let mut m = tiny();
    let g = m.graph.as_mut().unwrap();
    g.initializer.retain(|t| t.name() != "fw");
    g.initializer.push(tensor_f32("fw", &[5, 7], &[0.5; 35]));
    assert_eq!(
        error(&m),
        "node 'fc' (Gemm): A [1, 4] and B [5, 7] do not multiply (transA = 0, transB = 1)"
    );

    let mut m = tiny();
    let g = m.graph.as_mut().unwrap();
    g.initializer.retain(|t| t.name() != "b");
    g.initializer.push(tensor_f32("b", &[3], &[0.5; 3]));
    assert_eq!(
        error(&m),
        "node 'conv' (Conv): bias shape [3] should be [4]"
    );

    // A tensor whose data does not fill its shape.
    let mut m = tiny();
    let g = m.graph.as_mut().unwrap();
    g.initializer[0].dims = vec![4, 3, 3, 4];
    assert!(error(&m).starts_with("model: initializer 'w': raw_data has 432 bytes, expected 576"));
}

#[test]
fn options_that_cannot_apply() {
    let bytes = encode(&tiny());
    let alpha = compile(
        &bytes,
        &Options {
            alpha: Some(0.5),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        alpha
            .to_string()
            .starts_with("--alpha 0.5: the width multiplier applies to JSON descriptions only")
    );
    let zero = compile(
        &bytes,
        &Options {
            resolution: Some(0),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(zero.to_string(), "resolution 0 is out of range (1 to 8192)");
    // With pads 1 and no stride, 1x1 still works; the classifier is size-independent.
    compile(
        &bytes,
        &Options {
            resolution: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
}

#[test]
fn fuzz_like_mutations_never_panic() {
    // Flip bytes all over a real model: every result is Ok or a clean error.
    // MNETC_MUTATIONS=1000000 for a longer local run.
    let rounds = std::env::var("MNETC_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let base = encode(&tiny());
    let mut rng = mnetc::rng::Rng::new(3);
    for _ in 0..rounds {
        let mut bytes = base.clone();
        for _ in 0..1 + rng.next_u64() % 4 {
            let i = (rng.next_u64() as usize) % bytes.len();
            bytes[i] = rng.next_u64() as u8;
        }
        if rng.next_u64().is_multiple_of(5) {
            bytes.truncate((rng.next_u64() as usize) % bytes.len());
        }
        let result = std::panic::catch_unwind(|| {
            if let Ok(g) = compile(&bytes, &Options::default()) {
                let shape = g.shape(g.input.value).unwrap().to_vec();
                if shape.iter().product::<usize>() < 1 << 16 {
                    let x = mnetc::rng::Rng::new(1).normal_tensor(&shape, 1.0);
                    let _ = mnetc::interp::run(&g, &x);
                }
            }
        });
        assert!(result.is_ok(), "panic on mutated model");
    }
}

#[test]
fn mutated_json_descriptions_never_panic() {
    let mut desc = mnetc::import::json::Description::mobilenet_v1(0.25, 64);
    desc.classes = 10;
    let base = serde_json::to_vec(&desc).unwrap();
    let mut rng = mnetc::rng::Rng::new(5);
    let alphabet = b"{}[]\":,0123456789-.eE abcdefghijklmnopqrstuvwxyz";
    let mut parsed = 0;
    for _ in 0..2000 {
        let mut bytes = base.clone();
        for _ in 0..1 + rng.next_u64() % 3 {
            let i = (rng.next_u64() as usize) % bytes.len();
            bytes[i] = alphabet[(rng.next_u64() as usize) % alphabet.len()];
        }
        let result = std::panic::catch_unwind(|| {
            mnetc::frontend_bytes(&bytes, Path::new("m.json"), &Options::default()).is_ok()
        });
        parsed += result.expect("panic on mutated description") as usize;
    }
    assert!(parsed > 0, "some mutations stay valid (digits changed)");
}
