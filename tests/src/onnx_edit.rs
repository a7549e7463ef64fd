//! Rewrites a PyTorch-exported MobileNet (Conv -> Relu/Clip ..., GlobalAveragePool, Flatten,
//! Gemm) into the patterns other exporters write, keeping the function the same, so that
//! onnxruntime's output for the original is the oracle for the rewritten model. The patterns are
//! those of TensorFlow/Keras through tf2onnx: NHWC input + Transpose, explicit Pad before stride-2
//! convs with asymmetric conv pads, BatchNorm as per-channel Mul + Add after a bias-free
//! depthwise conv, Clip bounds as shared initializers or attributes, AveragePool/ReduceMean/1x1
//! conv heads with Squeeze/Reshape, MatMul + Add or Gemm with transB = 0, Softmax, Identity,
//! a symbolic batch dimension.

use mnetc::onnx_proto::{
    AttributeProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, tensor_proto::DataType,
    tensor_shape_proto::Dimension, tensor_shape_proto::dimension::Value as DimValue, type_proto,
};
pub use mnetc::ptq::write::{attr_float, attr_int, attr_ints, node, tensor_f32, value_info};
use prost::Message;
use std::path::Path;

pub fn load(path: &Path) -> ModelProto {
    ModelProto::decode(std::fs::read(path).expect("read model").as_slice()).expect("decode model")
}

pub fn encode(model: &ModelProto) -> Vec<u8> {
    model.encode_to_vec()
}

pub fn tensor_i64(name: &str, dims: &[i64], data: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(DataType::Int64 as i32),
        int64_data: data.to_vec(),
        ..Default::default()
    }
}

/// Replaces the initializer `name` by a float tensor of `dims`.
pub fn set_initializer(model: &mut ModelProto, name: &str, dims: &[i64], data: &[f32]) {
    let inits = &mut model.graph.as_mut().unwrap().initializer;
    let t = inits
        .iter_mut()
        .find(|t| t.name() == name)
        .unwrap_or_else(|| panic!("no initializer {name}"));
    *t = tensor_f32(name, dims, data);
}

/// The model with Keras's `Rescaling` in front: its input `x` becomes `x * scale + offset`
/// (a Mul and an Add by scalar initializers) before the original graph reads it.
pub fn rescale_input(model: &ModelProto, scale: f32, offset: f32) -> ModelProto {
    let mut m = model.clone();
    let g = m.graph.as_mut().unwrap();
    let x = g.input[0].name().to_string();
    let (mul, add) = (format!("{x}_rescaled_mul"), format!("{x}_rescaled"));
    for n in &mut g.node {
        for i in &mut n.input {
            if *i == x {
                *i = add.clone();
            }
        }
    }
    g.initializer
        .push(tensor_f32("rescaling_scale", &[], &[scale]));
    g.initializer
        .push(tensor_f32("rescaling_offset", &[], &[offset]));
    let front = [
        node(
            "Mul",
            "rescaling/mul",
            &[&x, "rescaling_scale"],
            &[&mul],
            vec![],
        ),
        node(
            "Add",
            "rescaling/add",
            &[&mul, "rescaling_offset"],
            &[&add],
            vec![],
        ),
    ];
    g.node.splice(0..0, front);
    m
}

pub fn set_opset(model: &mut ModelProto, version: i64) {
    model.opset_import = vec![OperatorSetIdProto {
        domain: Some(String::new()),
        version: Some(version),
    }];
}

/// The dims and float values of the initializer `name`.
pub fn initializer(model: &ModelProto, name: &str) -> (Vec<i64>, Vec<f32>) {
    let t = model
        .graph
        .as_ref()
        .unwrap()
        .initializer
        .iter()
        .find(|t| t.name() == name)
        .unwrap_or_else(|| panic!("no initializer {name}"));
    let data = match &t.raw_data {
        Some(raw) => raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        None => t.float_data.clone(),
    };
    (t.dims.clone(), data)
}

fn get_ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    node.attribute
        .iter()
        .find(|a| a.name() == name)
        .map(|a| a.ints.clone())
}

fn get_int(node: &NodeProto, name: &str) -> Option<i64> {
    node.attribute
        .iter()
        .find(|a| a.name() == name)
        .map(|a| a.i())
}

/// How the rewritten model ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Head {
    /// AveragePool with a window the size of the last feature map, Squeeze, MatMul + Add.
    AvgPoolSqueezeMatMul,
    /// GlobalAveragePool, 1x1 conv classifier, Reshape to [-1, classes].
    ConvReshape,
    /// ReduceMean over H and W (keepdims 0), Gemm with transB = 0.
    ReduceMeanGemm,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ClipStyle {
    /// Clip with min/max inputs that are initializers shared by all layers (opset >= 11).
    SharedInitializers,
    /// Clip with min/max attributes (opset < 11).
    Attributes,
}

#[derive(Clone, Debug)]
pub struct Style {
    pub opset: i64,
    pub nhwc_input: bool,
    pub symbolic_batch: bool,
    /// Symbolic height and width too (the model then needs `--res`).
    pub symbolic_spatial: bool,
    pub depthwise_mul_add: bool,
    pub explicit_pads: bool,
    pub clip: ClipStyle,
    pub head: Head,
    pub softmax: bool,
    pub identities: bool,
}

/// Rewrites `model` (a `_folded` PyTorch export) in `style`. `final_hw` is the size of the last
/// feature map, `relu6` whether the model's activations are ReLU6.
pub fn restyle(model: &ModelProto, style: &Style, final_hw: i64, relu6: bool) -> ModelProto {
    let mut out = model.clone();
    set_opset(&mut out, style.opset);
    if style.opset < 9 {
        out.ir_version = Some(3);
    } else if style.opset < 11 {
        out.ir_version = Some(5);
    }
    let graph = out.graph.as_mut().unwrap();
    graph.node.clear();
    graph.value_info.clear();
    let mut nodes: Vec<NodeProto> = Vec::new();
    let mut inits: Vec<TensorProto> = Vec::new();
    let input_name = graph.input[0].name().to_string();
    let mut current_input = input_name.clone();

    // Input: NHWC + Transpose, symbolic dims.
    {
        let input = &mut graph.input[0];
        let Some(type_proto::Value::TensorType(tt)) =
            input.r#type.as_mut().and_then(|t| t.value.as_mut())
        else {
            panic!()
        };
        let dims = &mut tt.shape.as_mut().unwrap().dim;
        if style.nhwc_input {
            let c = dims.remove(1);
            dims.push(c);
        }
        let spatial = if style.nhwc_input { [1, 2] } else { [2, 3] };
        if style.symbolic_batch {
            dims[0] = Dimension {
                value: Some(DimValue::DimParam("unk__0".into())),
                denotation: None,
            };
        }
        if style.symbolic_spatial {
            for (i, a) in spatial.iter().enumerate() {
                dims[*a] = Dimension {
                    value: Some(DimValue::DimParam(format!("unk__{}", i + 1))),
                    denotation: None,
                };
            }
        }
        if style.nhwc_input {
            input.name = Some(format!("{input_name}_nhwc"));
            nodes.push(node(
                "Transpose",
                "input_transpose",
                &[&format!("{input_name}_nhwc")],
                &[&input_name],
                vec![attr_ints("perm", &[0, 3, 1, 2])],
            ));
        }
        if style.identities {
            nodes.push(node(
                "Identity",
                "input_identity",
                &[&input_name],
                &[&format!("{input_name}_id")],
                vec![],
            ));
            current_input = format!("{input_name}_id");
        }
    }
    let rename = |s: &str| {
        if s == input_name {
            current_input.clone()
        } else {
            s.to_string()
        }
    };

    let (lo, hi) = (0.0f32, if relu6 { 6.0 } else { f32::MAX });
    if style.clip == ClipStyle::SharedInitializers {
        inits.push(tensor_f32("clip_min", &[], &[lo]));
        inits.push(tensor_f32("clip_max", &[], &[hi]));
    }
    let old_nodes = model.graph.as_ref().unwrap().node.clone();
    let mut pooled = String::new();
    let mut features = String::new();
    let mut logits = String::new();
    for n in &old_nodes {
        let inputs: Vec<String> = n.input.iter().map(|s| rename(s)).collect();
        match n.op_type() {
            "Constant" => {}
            "Conv" => {
                let group = get_int(n, "group").unwrap_or(1);
                let strides = get_ints(n, "strides").unwrap_or(vec![1, 1]);
                let mut pads = get_ints(n, "pads").unwrap_or(vec![0; 4]);
                let mut x = inputs[0].clone();
                if style.explicit_pads && strides[0] == 2 && pads == [1, 1, 1, 1] {
                    // TF's SAME on even sizes pads bottom/right; the top/left pixel comes from a Pad.
                    let padded = format!("{}_padded", n.name());
                    let amounts = [0, 0, 1, 1, 0, 0, 0, 0];
                    if style.opset >= 11 {
                        let pname = format!("{}_pads", n.name());
                        inits.push(tensor_i64(&pname, &[8], &amounts));
                        nodes.push(node(
                            "Pad",
                            &format!("{}_pad", n.name()),
                            &[&x, &pname],
                            &[&padded],
                            vec![],
                        ));
                    } else {
                        nodes.push(node(
                            "Pad",
                            &format!("{}_pad", n.name()),
                            &[&x],
                            &[&padded],
                            vec![attr_ints("pads", &amounts)],
                        ));
                    }
                    x = padded;
                    pads = vec![0, 0, 1, 1];
                }
                let mut attrs: Vec<AttributeProto> = n
                    .attribute
                    .iter()
                    .filter(|a| a.name() != "pads")
                    .cloned()
                    .collect();
                attrs.push(attr_ints("pads", &pads));
                let out = n.output[0].clone();
                if style.depthwise_mul_add && group > 1 {
                    let (wd, w) = initializer(model, &inputs[1]);
                    let (_, b) = initializer(model, &inputs[2]);
                    let c = wd[0];
                    let wname = format!("{}_w_half", n.name());
                    inits.push(tensor_f32(
                        &wname,
                        &wd,
                        &w.iter().map(|v| v * 0.5).collect::<Vec<_>>(),
                    ));
                    inits.push(tensor_f32(
                        &format!("{}_scale", n.name()),
                        &[1, c, 1, 1],
                        &vec![2.0; c as usize],
                    ));
                    inits.push(tensor_f32(
                        &format!("{}_shift", n.name()),
                        &[1, c, 1, 1],
                        &b,
                    ));
                    let (t1, t2) = (format!("{out}_conv"), format!("{out}_scaled"));
                    nodes.push(node("Conv", n.name(), &[&x, &wname], &[&t1], attrs));
                    nodes.push(node(
                        "Mul",
                        &format!("{}_bn_mul", n.name()),
                        &[&t1, &format!("{}_scale", n.name())],
                        &[&t2],
                        vec![],
                    ));
                    nodes.push(node(
                        "Add",
                        &format!("{}_bn_add", n.name()),
                        &[&t2, &format!("{}_shift", n.name())],
                        &[&out],
                        vec![],
                    ));
                } else {
                    let ins: Vec<&str> = std::iter::once(x.as_str())
                        .chain(inputs[1..].iter().map(String::as_str))
                        .collect();
                    nodes.push(node("Conv", n.name(), &ins, &[&out], attrs));
                }
            }
            "Relu" | "Clip" => {
                let (x, out) = (&inputs[0], &n.output[0]);
                match style.clip {
                    ClipStyle::SharedInitializers => nodes.push(node(
                        "Clip",
                        n.name(),
                        &[x, "clip_min", "clip_max"],
                        &[out],
                        vec![],
                    )),
                    ClipStyle::Attributes => nodes.push(node(
                        "Clip",
                        n.name(),
                        &[x],
                        &[out],
                        vec![attr_float("min", lo), attr_float("max", hi)],
                    )),
                }
            }
            "GlobalAveragePool" => {
                features = inputs[0].clone();
                pooled = n.output[0].clone();
            }
            "Flatten" => {}
            "Gemm" => {
                let (wd, w) = initializer(model, &inputs[1]);
                let (_, b) = initializer(model, &inputs[2]);
                let (classes, c) = (wd[0], wd[1]);
                assert_eq!(get_int(n, "transB"), Some(1));
                let mut wt = vec![0f32; w.len()];
                for i in 0..classes as usize {
                    for j in 0..c as usize {
                        wt[j * classes as usize + i] = w[i * c as usize + j];
                    }
                }
                logits = n.output[0].clone();
                match style.head {
                    Head::AvgPoolSqueezeMatMul => {
                        let attrs = vec![
                            attr_ints("kernel_shape", &[final_hw, final_hw]),
                            attr_ints("strides", &[1, 1]),
                        ];
                        nodes.push(node(
                            "AveragePool",
                            "head_pool",
                            &[&features],
                            &[&pooled],
                            attrs,
                        ));
                        if style.opset >= 13 {
                            inits.push(tensor_i64("squeeze_axes", &[2], &[2, 3]));
                            nodes.push(node(
                                "Squeeze",
                                "head_squeeze",
                                &[&pooled, "squeeze_axes"],
                                &["squeezed"],
                                vec![],
                            ));
                        } else {
                            nodes.push(node(
                                "Squeeze",
                                "head_squeeze",
                                &[&pooled],
                                &["squeezed"],
                                vec![attr_ints("axes", &[2, 3])],
                            ));
                        }
                        inits.push(tensor_f32("fc_w_t", &[c, classes], &wt));
                        inits.push(tensor_f32("fc_b", &[classes], &b));
                        nodes.push(node(
                            "MatMul",
                            "head_matmul",
                            &["squeezed", "fc_w_t"],
                            &["mm"],
                            vec![],
                        ));
                        nodes.push(node(
                            "Add",
                            "head_bias",
                            &["mm", "fc_b"],
                            &[&logits],
                            vec![],
                        ));
                    }
                    Head::ConvReshape => {
                        nodes.push(node(
                            "GlobalAveragePool",
                            "head_pool",
                            &[&features],
                            &[&pooled],
                            vec![],
                        ));
                        inits.push(tensor_f32("fc_conv_w", &[classes, c, 1, 1], &w));
                        inits.push(tensor_f32("fc_conv_b", &[classes], &b));
                        nodes.push(node(
                            "Conv",
                            "head_conv",
                            &[&pooled, "fc_conv_w", "fc_conv_b"],
                            &["fc_map"],
                            vec![attr_ints("kernel_shape", &[1, 1])],
                        ));
                        inits.push(tensor_i64("head_shape", &[2], &[-1, classes]));
                        nodes.push(node(
                            "Reshape",
                            "head_reshape",
                            &["fc_map", "head_shape"],
                            &[&logits],
                            vec![],
                        ));
                    }
                    Head::ReduceMeanGemm => {
                        if style.opset >= 18 {
                            inits.push(tensor_i64("mean_axes", &[2], &[2, 3]));
                            nodes.push(node(
                                "ReduceMean",
                                "head_mean",
                                &[&features, "mean_axes"],
                                &["mean"],
                                vec![attr_int("keepdims", 0)],
                            ));
                        } else {
                            nodes.push(node(
                                "ReduceMean",
                                "head_mean",
                                &[&features],
                                &["mean"],
                                vec![attr_ints("axes", &[-2, -1]), attr_int("keepdims", 0)],
                            ));
                        }
                        inits.push(tensor_f32("fc_w_t", &[c, classes], &wt));
                        inits.push(tensor_f32("fc_b", &[classes], &b));
                        nodes.push(node(
                            "Gemm",
                            "head_gemm",
                            &["mean", "fc_w_t", "fc_b"],
                            &[&logits],
                            vec![attr_int("transB", 0)],
                        ));
                    }
                }
            }
            other => panic!("restyle: unexpected op {other}"),
        }
    }
    let mut final_out = logits.clone();
    if style.identities {
        nodes.push(node(
            "Identity",
            "output_identity",
            &[&final_out],
            &["logits_id"],
            vec![],
        ));
        final_out = "logits_id".into();
    }
    if style.softmax {
        nodes.push(node(
            "Softmax",
            "probs",
            &[&final_out],
            &["probs"],
            vec![attr_int("axis", if style.opset >= 13 { -1 } else { 1 })],
        ));
        final_out = "probs".into();
    }
    graph.output[0].name = Some(final_out);
    // Keep only the initializers still read; add the new ones.
    let used: std::collections::HashSet<String> =
        nodes.iter().flat_map(|n| n.input.iter().cloned()).collect();
    graph.initializer.retain(|t| used.contains(t.name()));
    graph
        .initializer
        .extend(inits.into_iter().filter(|t| used.contains(t.name())));
    graph.node = nodes;
    out
}

/// A tiny valid model: input `x` [1, 3, 8, 8] -> Conv 3x3 (4 channels, pad 1) -> Relu ->
/// GlobalAveragePool -> Flatten -> Gemm (transB) to 5 classes, opset 13.
pub fn tiny() -> ModelProto {
    use mnetc::onnx_proto::GraphProto;
    let graph = GraphProto {
        name: Some("tiny".into()),
        node: vec![
            node(
                "Conv",
                "conv",
                &["x", "w", "b"],
                &["c"],
                vec![
                    attr_ints("kernel_shape", &[3, 3]),
                    attr_ints("pads", &[1, 1, 1, 1]),
                ],
            ),
            node("Relu", "relu", &["c"], &["r"], vec![]),
            node("GlobalAveragePool", "gap", &["r"], &["p"], vec![]),
            node("Flatten", "flatten", &["p"], &["f"], vec![]),
            node(
                "Gemm",
                "fc",
                &["f", "fw", "fb"],
                &["y"],
                vec![attr_int("transB", 1)],
            ),
        ],
        initializer: vec![
            tensor_f32(
                "w",
                &[4, 3, 3, 3],
                &(0..108)
                    .map(|i| (i as f32 * 0.37).sin())
                    .collect::<Vec<_>>(),
            ),
            tensor_f32("b", &[4], &[0.1, -0.2, 0.3, 0.0]),
            tensor_f32(
                "fw",
                &[5, 4],
                &(0..20).map(|i| (i as f32 * 0.71).cos()).collect::<Vec<_>>(),
            ),
            tensor_f32("fb", &[5], &[0.0; 5]),
        ],
        input: vec![value_info("x", &[1, 3, 8, 8])],
        output: vec![value_info("y", &[1, 5])],
        ..Default::default()
    };
    let mut model = ModelProto {
        ir_version: Some(7),
        graph: Some(graph),
        ..Default::default()
    };
    set_opset(&mut model, 13);
    model
}

/// The node called `name` in `model`.
pub fn node_mut<'a>(model: &'a mut ModelProto, name: &str) -> &'a mut NodeProto {
    model
        .graph
        .as_mut()
        .unwrap()
        .node
        .iter_mut()
        .find(|n| n.name() == name)
        .unwrap_or_else(|| panic!("no node {name}"))
}

/// The bytes of a repository fixture model.
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(crate::repo_fixtures().join(format!("{name}.onnx"))).expect("fixture")
}

/// How [`hard_ops`] spells hard-swish.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HardSwishStyle {
    /// The `HardSwish` op (opset 14 and later: PyTorch's exporters from opset 14).
    Op,
    /// `Mul(x, HardSigmoid(x, alpha = 1/6, beta = 1/2))` (PyTorch's exporter at opset 13).
    MulHardSigmoid,
}

/// Rewrites tf2onnx's decomposed hard-sigmoid, `Mul(Clip(Add(x, 3), 0, 6), 1/6)`, into
/// `HardSigmoid(x, alpha = 1/6, beta = 1/2)`, and each hard-swish, `Mul(x, hard-sigmoid(x))`
/// in either operand order, into `style`'s spelling: a Keras MobileNetV3 as PyTorch's
/// exporters write its activations, the function unchanged (onnxruntime's output for the
/// original is the oracle). Returns the model and how many hard-sigmoids and hard-swishes it
/// rewrote.
pub fn hard_ops(model: &ModelProto, style: HardSwishStyle) -> (ModelProto, usize, usize) {
    let mut m = model.clone();
    let graph = m.graph.as_mut().unwrap();
    let scalar = |name: &str| -> Option<f32> {
        let t = graph.initializer.iter().find(|t| t.name() == name)?;
        let v = match &t.raw_data {
            Some(raw) if raw.len() == 4 => f32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]),
            None if t.float_data.len() == 1 => t.float_data[0],
            _ => return None,
        };
        Some(v)
    };
    let producer = |nodes: &[NodeProto], out: &str| nodes.iter().position(|n| n.output[0] == out);
    let consumers = |nodes: &[NodeProto], out: &str| {
        nodes
            .iter()
            .filter(|n| n.input.iter().any(|i| i == out))
            .count()
    };
    let mut nodes = graph.node.clone();
    // Hard-sigmoids: a Mul by 1/6 of a Clip(0, 6) of an Add of 3, each read only by the next.
    let mut sigmoids = Vec::new();
    for (i, mul) in nodes.iter().enumerate() {
        if mul.op_type() != "Mul"
            || scalar(&mul.input[1]).is_none_or(|v| (v - 1.0 / 6.0).abs() > 1e-7)
        {
            continue;
        }
        let Some(c) = producer(&nodes, &mul.input[0]) else {
            continue;
        };
        let clip = &nodes[c];
        if clip.op_type() != "Clip"
            || clip.input.len() != 3
            || scalar(&clip.input[1]) != Some(0.0)
            || scalar(&clip.input[2]) != Some(6.0)
            || consumers(&nodes, &clip.output[0]) != 1
        {
            continue;
        }
        let Some(a) = producer(&nodes, &clip.input[0]) else {
            continue;
        };
        let add = &nodes[a];
        if add.op_type() != "Add"
            || scalar(&add.input[1]) != Some(3.0)
            || consumers(&nodes, &add.output[0]) != 1
        {
            continue;
        }
        sigmoids.push((i, c, a, add.input[0].clone()));
    }
    let mut drop = vec![false; nodes.len()];
    let mut swishes = 0;
    for &(i, c, a, ref x) in &sigmoids {
        let hs = nodes[i].output[0].clone();
        let name = format!("{}_hard_sigmoid", nodes[i].name());
        nodes[i] = node(
            "HardSigmoid",
            &name,
            &[x],
            &[&hs],
            vec![attr_float("alpha", 1.0 / 6.0), attr_float("beta", 0.5)],
        );
        drop[c] = true;
        drop[a] = true;
        // A hard-swish: the hard-sigmoid's only reader multiplies it by x.
        let readers: Vec<usize> = (0..nodes.len())
            .filter(|&j| nodes[j].input.contains(&hs))
            .collect();
        if let [j] = readers[..] {
            let mul = &nodes[j];
            let other = mul.input.iter().find(|s| **s != hs).cloned();
            if mul.op_type() == "Mul" && other.as_deref() == Some(x.as_str()) {
                if style == HardSwishStyle::Op {
                    let (y, name) = (mul.output[0].clone(), format!("{}_hard_swish", mul.name()));
                    nodes[j] = node("HardSwish", &name, &[x], &[&y], vec![]);
                    drop[i] = true;
                } else {
                    // PyTorch's order: x first.
                    nodes[j].input = vec![x.clone(), hs.clone()];
                }
                swishes += 1;
            }
        }
    }
    graph.node = nodes
        .into_iter()
        .zip(drop)
        .filter(|(_, d)| !d)
        .map(|(n, _)| n)
        .collect();
    if style == HardSwishStyle::Op {
        set_opset(&mut m, 14);
    }
    (m, sigmoids.len(), swishes)
}
