//! A float graph written as a QDQ ONNX model (opset 13): every calibrated activation gets a
//! QuantizeLinear (uint8) and a DequantizeLinear after the node that computes it, Conv and Gemm
//! read int8 weights and an int32 bias through DequantizeLinear. What is written is the graph
//! after mnetc's passes (BatchNorm folded into the convs, activations as Relu or Clip after
//! their conv), at its specialised input shape.

use super::Range;
use crate::error::{Error, Result};
use crate::ir::{
    ActivationOp, Clamp, Data, Graph, LinearOp, Node, NormalizationOp, Op, PoolOp, ShapeOp, Tensor,
    ValueId,
};
use crate::onnx_proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto::AttributeType,
    tensor_proto::DataType, tensor_shape_proto::Dimension,
    tensor_shape_proto::dimension::Value as DimValue, type_proto,
};
use std::collections::HashSet;

/// The opset of the written model (the first with per-channel DequantizeLinear).
pub const OPSET: i64 = 13;

/// A float tensor as an initializer (raw little-endian data).
pub fn tensor_f32(name: &str, dims: &[i64], data: &[f32]) -> TensorProto {
    raw_tensor(
        name,
        dims,
        DataType::Float,
        data.iter().flat_map(|v| v.to_le_bytes()),
    )
}

/// An int64 tensor as an initializer.
pub fn tensor_i64(name: &str, dims: &[i64], data: &[i64]) -> TensorProto {
    raw_tensor(
        name,
        dims,
        DataType::Int64,
        data.iter().flat_map(|v| v.to_le_bytes()),
    )
}

fn raw_tensor(
    name: &str,
    dims: &[i64],
    data_type: DataType,
    bytes: impl Iterator<Item = u8>,
) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(data_type as i32),
        raw_data: Some(bytes.collect()),
        ..Default::default()
    }
}

pub fn attr_int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Int as i32),
        i: Some(v),
        ..Default::default()
    }
}

pub fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Ints as i32),
        ints: v.to_vec(),
        ..Default::default()
    }
}

pub fn attr_float(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Float as i32),
        f: Some(v),
        ..Default::default()
    }
}

pub fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    attrs: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        name: Some(name.into()),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute: attrs,
        ..Default::default()
    }
}

/// A float tensor's name, type and static shape.
pub fn value_info(name: &str, dims: &[usize]) -> ValueInfoProto {
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(DataType::Float as i32),
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|&d| Dimension {
                            value: Some(DimValue::DimValue(d as i64)),
                            denotation: None,
                        })
                        .collect(),
                }),
            })),
            denotation: None,
        }),
        ..Default::default()
    }
}

/// Writes `graph` as a QDQ model with the activation `ranges` of [`super::calibrate`]; weights
/// per output channel unless `per_tensor`.
pub fn qdq_model(graph: &Graph, ranges: &[Range], per_tensor: bool) -> Result<ModelProto> {
    let mut w = Writer {
        graph,
        names: graph.values.iter().map(|v| v.name.clone()).collect(),
        read: vec![None; graph.values.len()],
        scale: vec![None; graph.values.len()],
        taken: graph.values.iter().map(|v| v.name.clone()).collect(),
        nodes: Vec::new(),
        inits: Vec::new(),
        per_tensor,
    };
    let range = |id: ValueId| ranges.iter().find(|r| r.value == id);
    let input = graph.input.value;
    if let Some(r) = range(input) {
        w.quantize(input, r);
    }
    for node in &graph.nodes {
        // A graph output that is quantized is computed under another name, so that its
        // DequantizeLinear writes the output's own.
        for &id in &node.outputs {
            if graph.outputs.contains(&id) && range(id).is_some() {
                w.names[id] = w.fresh(&format!("{}_float", graph.values[id].name));
            }
        }
        w.node(node)?;
        for &id in &node.outputs {
            if let Some(r) = range(id) {
                w.quantize(id, r);
            }
        }
    }
    let shape = |id: ValueId| {
        graph.shape(id).ok_or_else(|| {
            Error::Internal(format!("'{}' has no static shape", graph.values[id].name))
        })
    };
    let outputs = graph
        .outputs
        .iter()
        .map(|&id| Ok(value_info(&graph.values[id].name, shape(id)?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(ModelProto {
        ir_version: Some(7),
        producer_name: Some("mnetc quantize".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(OPSET),
        }],
        graph: Some(GraphProto {
            name: Some("mnetc_qdq".into()),
            node: w.nodes,
            initializer: w.inits,
            input: vec![value_info(&graph.values[input].name, shape(input)?)],
            output: outputs,
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// [`qdq_model`], encoded.
pub fn qdq_bytes(graph: &Graph, ranges: &[Range], per_tensor: bool) -> Result<Vec<u8>> {
    use prost::Message;
    Ok(qdq_model(graph, ranges, per_tensor)?.encode_to_vec())
}

struct Writer<'g> {
    graph: &'g Graph,
    /// The name each value is written under.
    names: Vec<String>,
    /// The name readers of a quantized value read (its DequantizeLinear's output).
    read: Vec<Option<String>>,
    /// The scale of a quantized activation (a bias is quantized at `x_scale * w_scale`).
    scale: Vec<Option<f32>>,
    taken: HashSet<String>,
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    per_tensor: bool,
}

impl Writer<'_> {
    /// A name no value or written tensor has, made from `base`.
    fn fresh(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut n = 1;
        while self.taken.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }

    fn init(&mut self, mut t: TensorProto) -> String {
        let name = self.fresh(t.name());
        t.name = Some(name.clone());
        self.inits.push(t);
        name
    }

    /// What readers of `id` read: its DequantizeLinear when quantized, its initializer when
    /// constant (written the first time it is read).
    fn input(&mut self, id: ValueId) -> Result<String> {
        if let Some(name) = &self.read[id] {
            return Ok(name.clone());
        }
        if let Some(t) = self.graph.constant(id) {
            let name = self.graph.values[id].name.clone();
            let dims: Vec<i64> = t.shape.iter().map(|&d| d as i64).collect();
            let proto = match &t.data {
                Data::F32(v) => tensor_f32(&name, &dims, v),
                Data::I64(v) => tensor_i64(&name, &dims, v),
                _ => {
                    return Err(Error::Options(format!(
                        "'{name}' is an integer constant: the model is already quantized"
                    )));
                }
            };
            let written = self.init(proto);
            self.read[id] = Some(written.clone());
            return Ok(written);
        }
        Ok(self.names[id].clone())
    }

    /// QuantizeLinear and DequantizeLinear after the node that computed `id`.
    fn quantize(&mut self, id: ValueId, range: &Range) {
        let (scale, zp) = range.u8_params();
        let name = self.graph.values[id].name.clone();
        let s = self.init(tensor_f32(&format!("{name}_scale"), &[], &[scale]));
        let z = self.init(raw_tensor(
            &format!("{name}_zero_point"),
            &[],
            DataType::Uint8,
            [zp].into_iter(),
        ));
        let q = self.fresh(&format!("{name}_quantized"));
        // A graph output's DequantizeLinear writes the output's own name.
        let dq = if self.graph.outputs.contains(&id) {
            name.clone()
        } else {
            self.fresh(&format!("{name}_dequantized"))
        };
        let src = self.names[id].clone();
        self.nodes.push(node(
            "QuantizeLinear",
            &format!("{name}_QuantizeLinear"),
            &[&src, &s, &z],
            &[&q],
            vec![],
        ));
        self.nodes.push(node(
            "DequantizeLinear",
            &format!("{name}_DequantizeLinear"),
            &[&q, &s, &z],
            &[&dq],
            vec![],
        ));
        self.read[id] = Some(dq);
        self.scale[id] = Some(scale);
    }

    /// int8 weights (symmetric, per output channel along axis 0 unless per tensor) and, with
    /// `bias`, the int32 bias, each behind a DequantizeLinear; returns what the layer reads.
    fn weights(
        &mut self,
        node: &Node,
        x: ValueId,
        w: ValueId,
        bias: Option<ValueId>,
    ) -> Result<(String, Option<String>)> {
        let graph = self.graph;
        let wt = graph
            .constant(w)
            .and_then(Tensor::as_f32)
            .ok_or_else(|| Error::node(node, None, "the weights must be a float constant"))?;
        let shape = graph.shape(w).unwrap_or_default();
        let channels = if self.per_tensor { 1 } else { shape[0] };
        let per = wt.len() / channels;
        let scales: Vec<f32> = wt
            .chunks(per)
            .map(|c| {
                let m = c.iter().fold(0f32, |m, v| m.max(v.abs()));
                if m > 0.0 { m / 127.0 } else { 1.0 }
            })
            .collect();
        let q: Vec<u8> = wt
            .chunks(per)
            .zip(&scales)
            .flat_map(|(c, &s)| {
                c.iter()
                    .map(move |&v| (v / s).round_ties_even().clamp(-127.0, 127.0) as i8 as u8)
            })
            .collect();
        let name = self.graph.values[w].name.clone();
        let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let scale_dims: &[i64] = if self.per_tensor {
            &[]
        } else {
            &[channels as i64]
        };
        let axis = if self.per_tensor {
            vec![]
        } else {
            vec![attr_int("axis", 0)]
        };
        let wq = self.init(raw_tensor(
            &format!("{name}_quantized"),
            &dims,
            DataType::Int8,
            q.into_iter(),
        ));
        let ws = self.init(tensor_f32(&format!("{name}_scale"), scale_dims, &scales));
        let wz = self.init(raw_tensor(
            &format!("{name}_zero_point"),
            scale_dims,
            DataType::Int8,
            std::iter::repeat_n(0, channels),
        ));
        let wd = self.fresh(&format!("{name}_dequantized"));
        self.nodes.push(node_with(
            "DequantizeLinear",
            &format!("{name}_DequantizeLinear"),
            &[&wq, &ws, &wz],
            &wd,
            axis.clone(),
        ));
        let Some(b) = bias else {
            return Ok((wd, None));
        };
        let sx = self.scale[x].ok_or_else(|| {
            Error::Internal(format!("the input of '{}' is not quantized", node.name))
        })?;
        let bt = self
            .graph
            .constant(b)
            .and_then(Tensor::as_f32)
            .ok_or_else(|| Error::node(node, None, "the bias must be a float constant"))?;
        let bias_scales: Vec<f32> = (0..bt.len())
            .map(|c| sx * scales[if self.per_tensor { 0 } else { c }])
            .collect();
        let mut bq = Vec::with_capacity(bt.len() * 4);
        for (&v, &s) in bt.iter().zip(&bias_scales) {
            let q = (v / s).round_ties_even();
            if q.is_nan() || q.abs() >= i32::MAX as f32 {
                return Err(Error::node(
                    node,
                    None,
                    format!("the bias {v} does not fit int32 at scale {s:e}"),
                ));
            }
            bq.extend((q as i32).to_le_bytes());
        }
        let bname = self.graph.values[b].name.clone();
        let bn = bt.len() as i64;
        let bqn = self.init(raw_tensor(
            &format!("{bname}_quantized"),
            &[bn],
            DataType::Int32,
            bq.into_iter(),
        ));
        let (bs_dims, bs): (&[i64], Vec<f32>) = if self.per_tensor {
            (&[], vec![bias_scales[0]])
        } else {
            (&[bn], bias_scales)
        };
        let bsn = self.init(tensor_f32(&format!("{bname}_scale"), bs_dims, &bs));
        let bzn = self.init(raw_tensor(
            &format!("{bname}_zero_point"),
            bs_dims,
            DataType::Int32,
            std::iter::repeat_n(0, bs.len() * 4),
        ));
        let bd = self.fresh(&format!("{bname}_dequantized"));
        self.nodes.push(node_with(
            "DequantizeLinear",
            &format!("{bname}_DequantizeLinear"),
            &[&bqn, &bsn, &bzn],
            &bd,
            axis,
        ));
        Ok((wd, Some(bd)))
    }

    /// A conv's or dense layer's fused clamp, as a Relu or Clip after it that writes `out`.
    fn clamp(&mut self, name: &str, act: Clamp, computed: String, out: &str) {
        if act == Clamp::LINEAR {
            // The layer wrote `out` itself.
            return;
        }
        if act == Clamp::RELU {
            self.nodes.push(node(
                "Relu",
                &format!("{name}_relu"),
                &[&computed],
                &[out],
                vec![],
            ));
            return;
        }
        let lo = self.init(tensor_f32(&format!("{name}_min"), &[], &[act.min]));
        let hi = self.init(tensor_f32(&format!("{name}_max"), &[], &[act.max]));
        self.nodes.push(node(
            "Clip",
            &format!("{name}_clip"),
            &[&computed, &lo, &hi],
            &[out],
            vec![],
        ));
    }

    /// A Conv or Dense (written as Gemm) on int8 weights, its clamp after it.
    fn layer(&mut self, node: &Node, x_name: &str, out: &str) -> Result<()> {
        let missing = || Error::node(node, None, "a layer needs its input and weights");
        let x = node.input(0).ok_or_else(missing)?;
        let w = node.input(1).ok_or_else(missing)?;
        let (wd, bd) = self.weights(node, x, w, node.input(2))?;
        let act = match &node.op {
            Op::Conv(c) => c.act,
            Op::Linear(LinearOp::Dense { act }) => *act,
            _ => return Err(Error::Internal(format!("'{}' is not a layer", node.name))),
        };
        if node.input(3).is_some() {
            return Err(Error::node(
                node,
                None,
                "mnetc quantize cannot write a squeeze-and-excite scale into a QDQ model yet",
            ));
        }
        if act.swish {
            return Err(Error::node(
                node,
                None,
                "mnetc quantize cannot write a hard-swish into a QDQ model yet",
            ));
        }
        let computed = if act == Clamp::LINEAR {
            out.to_string()
        } else {
            self.fresh(&format!("{out}_linear"))
        };
        let mut inputs = vec![x_name, wd.as_str()];
        if let Some(b) = &bd {
            inputs.push(b);
        }
        let (op, attrs) = match &node.op {
            Op::Conv(conv) => {
                let ints = |v: [usize; 2]| v.map(|d| d as i64);
                let w = &conv.window;
                (
                    "Conv",
                    vec![
                        attr_ints("kernel_shape", &ints(w.kernel)),
                        attr_ints("strides", &ints(w.strides)),
                        attr_ints("pads", &w.pads.map(|d| d as i64)),
                        attr_int("group", conv.group as i64),
                    ],
                )
            }
            _ => ("Gemm", vec![attr_int("transB", 1)]),
        };
        self.nodes
            .push(node_with(op, &node.name, &inputs, &computed, attrs));
        self.clamp(&node.name, act, computed, out);
        Ok(())
    }

    fn node(&mut self, node: &Node) -> Result<()> {
        let out = self.names[node.outputs[0]].clone();
        let name = node.name.clone();
        if let Op::Conv(_) | Op::Linear(LinearOp::Dense { .. }) = node.op {
            // Its weights and bias are written quantized, never as float initializers.
            let x = node.input(0).map(|x| self.input(x)).transpose()?;
            return self.layer(node, x.as_deref().unwrap_or(""), &out);
        }
        let inputs = node
            .inputs
            .iter()
            .map(|i| i.map(|id| self.input(id)).transpose())
            .collect::<Result<Vec<Option<String>>>>()?;
        // Optional inputs that are absent are written as empty names.
        let ins: Vec<&str> = inputs.iter().map(|i| i.as_deref().unwrap_or("")).collect();
        let unsupported = || {
            Error::node(
                node,
                None,
                "mnetc quantize cannot write this op into a QDQ model yet",
            )
        };
        match &node.op {
            Op::Pool(PoolOp::GlobalAveragePool) => {
                self.nodes.push(node_with(
                    "GlobalAveragePool",
                    &name,
                    &ins[..1],
                    &out,
                    vec![],
                ));
            }
            Op::Pool(PoolOp::AveragePool(p) | PoolOp::MaxPool(p)) => {
                let mut attrs = vec![
                    attr_ints("kernel_shape", &p.window.kernel.map(|v| v as i64)),
                    attr_ints("strides", &p.window.strides.map(|v| v as i64)),
                    attr_ints("pads", &p.window.pads.map(|v| v as i64)),
                    attr_int("ceil_mode", p.ceil_mode as i64),
                ];
                if matches!(node.op, Op::Pool(PoolOp::AveragePool(_))) {
                    attrs.push(attr_int("count_include_pad", p.count_include_pad as i64));
                }
                self.nodes
                    .push(node_with(node.op.name(), &name, &ins[..1], &out, attrs));
            }
            Op::Normalization(NormalizationOp::BatchNorm { epsilon }) => {
                self.nodes.push(node_with(
                    "BatchNormalization",
                    &name,
                    &ins,
                    &out,
                    vec![attr_float("epsilon", *epsilon)],
                ));
            }
            Op::Activation(ActivationOp::Clip(attr)) => {
                let act = crate::ops::activation::graph_clip_bounds(self.graph, node, *attr)?;
                let x = ins[0].to_string();
                self.clamp(&name, act, x.clone(), &out);
                if act == Clamp::LINEAR {
                    self.nodes
                        .push(node_with("Identity", &name, &[&x], &out, vec![]));
                }
            }
            Op::Activation(ActivationOp::Softmax { axis, legacy }) => {
                let rank = self.graph.shape(node.outputs[0]).map_or(0, <[usize]>::len) as i64;
                let axis = if *axis < 0 { axis + rank } else { *axis };
                // Opset 13's Softmax is over one axis; the older one flattens from `axis` on,
                // which is the same when that axis is the last.
                if *legacy && axis != rank - 1 {
                    return Err(unsupported());
                }
                self.nodes.push(node_with(
                    "Softmax",
                    &name,
                    &ins[..1],
                    &out,
                    vec![attr_int("axis", axis)],
                ));
            }
            Op::Binary(_) => {
                self.nodes
                    .push(node_with(node.op.name(), &name, &ins, &out, vec![]));
            }
            Op::Shape(op) => {
                let attrs = match op {
                    ShapeOp::Flatten { axis } => vec![attr_int("axis", *axis)],
                    ShapeOp::Reshape { allowzero } => {
                        vec![attr_int("allowzero", *allowzero as i64)]
                    }
                    ShapeOp::Transpose { perm } => match perm {
                        Some(p) => {
                            let p: Vec<i64> = p.iter().map(|&v| v as i64).collect();
                            vec![attr_ints("perm", &p)]
                        }
                        None => vec![],
                    },
                    ShapeOp::Pad | ShapeOp::Squeeze | ShapeOp::Unsqueeze | ShapeOp::Identity => {
                        vec![]
                    }
                    _ => return Err(unsupported()),
                };
                self.nodes
                    .push(node_with(node.op.name(), &name, &ins, &out, attrs));
            }
            _ => return Err(unsupported()),
        }
        Ok(())
    }
}

fn node_with(
    op: &str,
    name: &str,
    inputs: &[&str],
    out: &str,
    attrs: Vec<AttributeProto>,
) -> NodeProto {
    node(op, name, inputs, &[out], attrs)
}
