//! ONNX import: protobuf decoding (prost, with types generated from the official `onnx.proto`)
//! into the IR. `Constant` nodes and initializers become constant values; every other node is
//! parsed by the file of its op family. All unsupported nodes are collected and reported
//! together. Nothing here evaluates or rewrites the graph; that is the passes' job.

mod activation;
mod attrs;
mod conv;
mod elementwise;
mod linear;
mod normalization;
mod pool;
mod quant;
mod shape;

use crate::error::{Error, NodeIssue, Result};
use crate::ir::ShapeOp;
use crate::ir::{DType, Dim, Graph, GraphInput, InputLayout, Node, Op, Tensor, ValueId};
use crate::onnx_proto::{self, ModelProto, NodeProto, TensorProto, tensor_proto::DataType};
use attrs::{Attrs, node_name};
use prost::Message;
use std::collections::HashMap;

/// Oldest and newest default-domain opsets the importer knows.
pub const OPSET_MIN: i64 = 7;
pub const OPSET_MAX: i64 = 22;

/// Decodes and imports an ONNX model. `path` is only used in messages.
pub fn import(bytes: &[u8], path: &str) -> Result<Graph> {
    let model = ModelProto::decode(bytes).map_err(|e| Error::Decode {
        path: path.to_string(),
        reason: format!("not a valid ONNX file (protobuf decoding failed: {e})"),
    })?;
    let Some(graph) = model.graph.as_ref() else {
        return Err(Error::Decode {
            path: path.to_string(),
            reason: "not an ONNX model: it has no graph".into(),
        });
    };
    let opset = default_opset(&model)?;
    let mut importer = Importer {
        graph: new_graph(path),
        names: HashMap::new(),
        opset,
    };
    importer.constants(graph)?;
    importer.input(graph)?;
    importer.nodes(graph)?;
    importer.outputs(graph)?;
    Ok(importer.graph)
}

fn new_graph(source: &str) -> Graph {
    Graph {
        values: Vec::new(),
        nodes: Vec::new(),
        input: GraphInput {
            value: 0,
            declared: Vec::new(),
            layout: InputLayout::Nchw,
        },
        outputs: Vec::new(),
        notes: Vec::new(),
        source: source.to_string(),
        provenance: Default::default(),
    }
}

fn default_opset(model: &ModelProto) -> Result<i64> {
    let version = model
        .opset_import
        .iter()
        .find(|o| o.domain().is_empty() || o.domain() == "ai.onnx")
        .map(|o| o.version())
        // IR version 2 models predate opset_import and mean opset 1.
        .unwrap_or(1);
    if !(OPSET_MIN..=OPSET_MAX).contains(&version) {
        return Err(Error::Model(format!(
            "opset {version} is not supported (mnetc reads opsets {OPSET_MIN} to {OPSET_MAX})"
        )));
    }
    Ok(version)
}

struct Importer {
    graph: Graph,
    names: HashMap<String, ValueId>,
    opset: i64,
}

impl Importer {
    fn constants(&mut self, graph: &onnx_proto::GraphProto) -> Result<()> {
        for init in &graph.initializer {
            let tensor = tensor_from_proto(init).map_err(|reason| {
                Error::Model(format!("initializer '{}': {reason}", init.name()))
            })?;
            let id = self.graph.add_constant(init.name(), tensor);
            self.names.insert(init.name().to_string(), id);
        }
        Ok(())
    }

    fn input(&mut self, graph: &onnx_proto::GraphProto) -> Result<()> {
        // Before IR version 4, initializers were listed as graph inputs too.
        let inputs: Vec<_> = graph
            .input
            .iter()
            .filter(|i| !self.names.contains_key(i.name()))
            .collect();
        let input = match inputs.as_slice() {
            [one] => *one,
            [] => return Err(Error::Model("the graph has no input".into())),
            many => {
                let names: Vec<_> = many.iter().map(|i| format!("'{}'", i.name())).collect();
                return Err(Error::Model(format!(
                    "the graph has {} inputs ({}); mnetc compiles models with exactly one image input",
                    many.len(),
                    names.join(", ")
                )));
            }
        };
        let name = input.name();
        let tensor_type = match input.r#type.as_ref().and_then(|t| t.value.as_ref()) {
            Some(onnx_proto::type_proto::Value::TensorType(t)) => t,
            _ => {
                return Err(Error::Model(format!(
                    "graph input '{name}' is not a tensor"
                )));
            }
        };
        if tensor_type.elem_type() != DataType::Float as i32 {
            return Err(Error::Model(format!(
                "graph input '{name}' has element type {}; only float32 inputs are supported",
                data_type_name(tensor_type.elem_type())
            )));
        }
        let Some(shape) = tensor_type.shape.as_ref() else {
            return Err(Error::Model(format!("graph input '{name}' has no shape")));
        };
        let mut declared = Vec::new();
        for (axis, dim) in shape.dim.iter().enumerate() {
            use onnx_proto::tensor_shape_proto::dimension::Value as D;
            declared.push(match &dim.value {
                Some(D::DimValue(v)) if *v > 0 => Dim::Fixed(*v as usize),
                Some(D::DimParam(p)) if !p.is_empty() => Dim::Symbolic(p.clone()),
                _ => Dim::Symbolic(format!("dim{axis}")),
            });
        }
        if declared.len() != 4 {
            return Err(Error::Model(format!(
                "graph input '{name}' has rank {}; an image input must have rank 4 (NCHW or NHWC)",
                declared.len()
            )));
        }
        let id = self.graph.add_value(name, DType::F32);
        self.names.insert(name.to_string(), id);
        self.graph.input = GraphInput {
            value: id,
            declared,
            layout: InputLayout::Nchw,
        };
        Ok(())
    }

    fn nodes(&mut self, graph: &onnx_proto::GraphProto) -> Result<()> {
        let order = topological_order(graph, &self.names)?;
        let mut issues = Vec::new();
        for index in order {
            let node = &graph.node[index];
            if let Err(e) = self.node(node) {
                // Later nodes may read this one's outputs: give them values so that every
                // problem of the model is reported, not just the first.
                for out in &node.output {
                    if out.is_empty() || self.names.contains_key(out.as_str()) {
                        continue;
                    }
                    let id = self.graph.add_value(out.clone(), DType::F32);
                    self.names.insert(out.clone(), id);
                }
                match e {
                    Error::Node(issue) => issues.push(issue),
                    Error::Unsupported(mut list) => issues.append(&mut list),
                    other => return Err(other),
                }
            }
        }
        match issues.len() {
            0 => {}
            1 => return Err(Error::Node(issues.remove(0))),
            _ => return Err(Error::Unsupported(issues)),
        }
        self.graph.input.layout = detect_layout(&self.graph);
        Ok(())
    }

    fn node(&mut self, node: &NodeProto) -> Result<()> {
        let attrs = Attrs::new(node);
        if let Some(q) = quant::qoperator(node.op_type(), node.domain()) {
            return self.qoperator(node, &attrs, q);
        }
        if !(node.domain().is_empty() || node.domain() == "ai.onnx") {
            return Err(attrs.issue(
                None,
                format!("op domain '{}' is not supported", node.domain()),
            ));
        }
        if node.op_type() == "Constant" {
            let tensor = constant_value(&attrs)?;
            let out = node
                .output
                .first()
                .ok_or_else(|| attrs.issue(None, "has no output"))?;
            let id = self.graph.add_constant(out.clone(), tensor);
            self.names.insert(out.clone(), id);
            return Ok(());
        }
        if node.output.first().is_none_or(|o| o.is_empty()) {
            return Err(attrs.issue(None, "has no output"));
        }
        let (op, constants) = parse_op(node, &attrs, self.opset)?;
        let mut inputs = Vec::new();
        for name in &node.input {
            if name.is_empty() {
                inputs.push(None);
            } else {
                let id = self
                    .names
                    .get(name.as_str())
                    .ok_or_else(|| attrs.issue(None, format!("input '{name}' is not defined")))?;
                inputs.push(Some(*id));
            }
        }
        for (at, suffix, tensor) in constants {
            let id = self
                .graph
                .add_constant(format!("{}.{suffix}", node_name(node)), tensor);
            if inputs.len() <= at {
                inputs.resize(at + 1, None);
            }
            inputs[at] = Some(id);
        }
        let mut outputs = Vec::new();
        for name in &node.output {
            // Shape inference sets the real element type.
            let id = self.graph.add_value(name.clone(), DType::F32);
            if !name.is_empty() {
                self.names.insert(name.clone(), id);
            }
            outputs.push(id);
        }
        self.graph.nodes.push(Node {
            name: node_name(node),
            op,
            inputs,
            outputs,
        });
        Ok(())
    }

    /// The value of input `i` of `node`, which must be present.
    fn input_value(&self, node: &NodeProto, attrs: &Attrs, i: usize) -> Result<ValueId> {
        let name = node
            .input
            .get(i)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| attrs.issue(None, format!("input {i} is missing")))?;
        self.names
            .get(name.as_str())
            .copied()
            .ok_or_else(|| attrs.issue(None, format!("input '{name}' is not defined")))
    }

    /// Adds an IR node with one new output value; returns that value.
    fn push(&mut self, name: String, op: Op, inputs: Vec<Option<ValueId>>, out: &str) -> ValueId {
        let id = self.graph.add_value(out, DType::F32);
        self.graph.nodes.push(Node {
            name,
            op,
            inputs,
            outputs: vec![id],
        });
        id
    }

    /// A QOperator op written in its QDQ form: DequantizeLinear of each quantized input (and of
    /// the bias, whose scale `x_scale * w_scale` is computed here from the two constant
    /// scales), the float op, QuantizeLinear into the node's output.
    fn qoperator(&mut self, node: &NodeProto, attrs: &Attrs, q: &quant::QOperator) -> Result<()> {
        let name = node_name(node);
        let mut cx = Cx {
            opset: self.opset,
            inputs: node.input.len(),
            constants: Vec::new(),
        };
        let op = quant::float_op(q, attrs, &mut cx)?;
        let dq = Op::Quant(crate::ir::QuantOp::DequantizeLinear { axis: 0 });
        let mut inputs = Vec::new();
        for (k, [v, s, z]) in q.inputs.iter().enumerate() {
            let (v, s) = (
                self.input_value(node, attrs, *v)?,
                self.input_value(node, attrs, *s)?,
            );
            let z = self.input_value(node, attrs, *z).ok();
            // Weights are per output channel along axis 0, activations per tensor.
            let op = if k == 0 {
                Op::Quant(crate::ir::QuantOp::DequantizeLinear { axis: 1 })
            } else {
                dq.clone()
            };
            let out = format!("{name}.input{k}.dequantized");
            inputs.push(Some(self.push(
                format!("{name}.dequantize{k}"),
                op,
                vec![Some(v), Some(s), z],
                &out,
            )));
        }
        if let Some(b) = q
            .bias
            .filter(|&b| node.input.get(b).is_some_and(|n| !n.is_empty()))
        {
            let bias = self.input_value(node, attrs, b)?;
            let scale = |i: usize| -> Result<Vec<f32>> {
                let id = self.input_value(node, attrs, i)?;
                self.graph
                    .constant(id)
                    .and_then(|t| t.as_f32().map(<[f32]>::to_vec))
                    .ok_or_else(|| {
                        attrs.issue(None, format!("scale input {i} must be a float constant"))
                    })
            };
            let (sx, sw) = (scale(q.inputs[0][1])?, scale(q.inputs[1][1])?);
            let [sx] = sx[..] else {
                return Err(attrs.issue(None, "the input scale must be a scalar"));
            };
            let bs: Vec<f32> = sw.iter().map(|&s| sx * s).collect();
            let shape = if bs.len() == 1 {
                vec![]
            } else {
                vec![bs.len()]
            };
            let scale = self
                .graph
                .add_constant(format!("{name}.bias_scale"), Tensor::f32(shape, bs));
            let out = format!("{name}.bias.dequantized");
            inputs.push(Some(self.push(
                format!("{name}.dequantize_bias"),
                dq.clone(),
                vec![Some(bias), Some(scale)],
                &out,
            )));
        }
        let [s, z] = q.output;
        let out_name = node
            .output
            .first()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| attrs.issue(None, "has no output"))?
            .clone();
        let y = self.push(name.clone(), op, inputs, &format!("{name}.float"));
        let result = match node.input.get(s).filter(|n| !n.is_empty()) {
            // QGemm without an output scale has a float output.
            None => y,
            Some(_) => {
                let scale = self.input_value(node, attrs, s)?;
                let zero = self.input_value(node, attrs, z).ok();
                let q = Op::Quant(crate::ir::QuantOp::QuantizeLinear { axis: 1 });
                self.push(
                    format!("{name}.quantize"),
                    q,
                    vec![Some(y), Some(scale), zero],
                    &out_name,
                )
            }
        };
        self.graph.values[result].name = out_name.clone();
        self.names.insert(out_name, result);
        Ok(())
    }

    fn outputs(&mut self, graph: &onnx_proto::GraphProto) -> Result<()> {
        if graph.output.is_empty() {
            return Err(Error::Model("the graph has no output".into()));
        }
        for output in &graph.output {
            let Some(&id) = self.names.get(output.name()) else {
                return Err(Error::Model(format!(
                    "graph output '{}' is not produced by any node",
                    output.name()
                )));
            };
            self.graph.outputs.push(id);
        }
        Ok(())
    }
}

/// Orders nodes so that every input is produced before it is read (ONNX requires sorted
/// graphs, but a tolerant reader costs little), and checks that every name is defined.
fn topological_order(
    graph: &onnx_proto::GraphProto,
    known: &HashMap<String, ValueId>,
) -> Result<Vec<usize>> {
    let mut producer: HashMap<&str, usize> = HashMap::new();
    for (i, node) in graph.node.iter().enumerate() {
        for out in node.output.iter().filter(|o| !o.is_empty()) {
            if known.contains_key(out.as_str()) || producer.insert(out, i).is_some() {
                return Err(Error::Node(NodeIssue {
                    node: node_name(node),
                    op: node.op_type().to_string(),
                    attribute: None,
                    reason: format!("output '{out}' is defined more than once"),
                }));
            }
        }
    }
    let mut state = vec![0u8; graph.node.len()]; // 0 new, 1 in progress, 2 done
    let mut order = Vec::with_capacity(graph.node.len());
    for start in 0..graph.node.len() {
        // Iterative depth-first search: (node, next input to look at).
        let mut stack = vec![(start, 0usize)];
        while let Some(&mut (i, ref mut next)) = stack.last_mut() {
            if state[i] == 2 {
                stack.pop();
                continue;
            }
            state[i] = 1;
            let node = &graph.node[i];
            if let Some(name) = node.input.get(*next) {
                *next += 1;
                if name.is_empty() || known.contains_key(name.as_str()) {
                    continue;
                }
                match producer.get(name.as_str()) {
                    None => {
                        return Err(Error::Node(NodeIssue {
                            node: node_name(node),
                            op: node.op_type().to_string(),
                            attribute: None,
                            reason: format!("input '{name}' is not produced by any node"),
                        }));
                    }
                    Some(&p) if state[p] == 1 => {
                        return Err(Error::Model(format!(
                            "the graph has a cycle through node '{}'",
                            node_name(&graph.node[p])
                        )));
                    }
                    Some(&p) if state[p] == 0 => stack.push((p, 0)),
                    Some(_) => {}
                }
            } else {
                state[i] = 2;
                order.push(i);
                stack.pop();
            }
        }
    }
    Ok(order)
}

/// NHWC if every reader of the input is a `Transpose(0, 3, 1, 2)` (tf2onnx's pattern), or a
/// QuantizeLinear (elementwise) that only such Transposes read (tf2onnx's from an int8 TFLite
/// model).
fn detect_layout(graph: &Graph) -> InputLayout {
    fn to_nchw(graph: &Graph, value: crate::ir::ValueId, quantized: bool) -> bool {
        let readers = graph.consumers(value);
        !readers.is_empty()
            && readers.iter().all(|&i| match &graph.nodes[i].op {
                Op::Shape(ShapeOp::Transpose { perm: Some(p) }) => p == &[0, 3, 1, 2],
                Op::Quant(crate::ir::QuantOp::QuantizeLinear { .. }) if !quantized => {
                    to_nchw(graph, graph.nodes[i].outputs[0], true)
                }
                _ => false,
            })
    }
    if to_nchw(graph, graph.input.value, false) {
        InputLayout::Nhwc
    } else {
        InputLayout::Nchw
    }
}

/// What a family's parser knows of a node beyond its attributes, and the constant inputs it
/// adds.
pub struct Cx {
    pub opset: i64,
    /// Number of inputs the node lists (omitted optional ones included).
    pub inputs: usize,
    /// Attributes of older opsets that newer ones pass as inputs, as constant inputs to add.
    /// The IR knows only the input form.
    pub constants: Vec<AddedInput>,
}

/// A constant input standing for an attribute: input position, name suffix, value.
pub type AddedInput = (usize, &'static str, Tensor);

/// A parsed op and the number of inputs it takes.
pub type Parsed = (Op, std::ops::RangeInclusive<usize>);

/// A family's parser.
type Parse = fn(&str, &Attrs, &mut Cx) -> Result<Parsed>;

/// The op families: the ONNX ops each reads and its parser. A new op joins its family's `OPS`
/// and `parse`; a new family is one more line here.
const FAMILIES: [(&[&str], Parse); 8] = [
    (conv::OPS, conv::parse),
    (normalization::OPS, normalization::parse),
    (activation::OPS, activation::parse),
    (pool::OPS, pool::parse),
    (linear::OPS, linear::parse),
    (elementwise::OPS, elementwise::parse),
    (shape::OPS, shape::parse),
    (quant::OPS, quant::parse),
];

/// The node's op, and the constant inputs that stand for attributes of older opsets.
fn parse_op(node: &NodeProto, attrs: &Attrs, opset: i64) -> Result<(Op, Vec<AddedInput>)> {
    let op_type = node.op_type();
    let mut cx = Cx {
        opset,
        inputs: node.input.len(),
        constants: Vec::new(),
    };
    let Some((_, parse)) = FAMILIES.iter().find(|(ops, _)| ops.contains(&op_type)) else {
        return Err(attrs.issue(None, format!("op '{op_type}' is not supported")));
    };
    let (op, arity) = parse(op_type, attrs, &mut cx)?;
    let present = node
        .input
        .iter()
        .rposition(|n| !n.is_empty())
        .map_or(0, |p| p + 1);
    if !arity.contains(&node.input.len()) && !arity.contains(&present) {
        return Err(attrs.issue(
            None,
            format!("has {} inputs, expected {:?}", node.input.len(), arity),
        ));
    }
    if node.input.first().is_none_or(|n| n.is_empty()) {
        return Err(attrs.issue(None, "its first input is missing"));
    }
    Ok((op, cx.constants))
}

fn constant_value(attrs: &Attrs) -> Result<Tensor> {
    attrs.only(&[
        "value",
        "value_float",
        "value_floats",
        "value_int",
        "value_ints",
    ])?;
    if let Some(t) = attrs.tensor("value")? {
        return tensor_from_proto(t).map_err(|reason| attrs.issue(Some("value"), reason));
    }
    if let Some(v) = attrs.float("value_float")? {
        return Ok(Tensor::f32(vec![], vec![v]));
    }
    if let Some(v) = attrs.floats("value_floats")? {
        return Ok(Tensor::f32(vec![v.len()], v));
    }
    if let Some(v) = attrs.int("value_int")? {
        return Ok(Tensor::i64(vec![], vec![v]));
    }
    if let Some(v) = attrs.ints("value_ints")? {
        return Ok(Tensor::i64(vec![v.len()], v));
    }
    Err(attrs.issue(
        None,
        "has no supported value attribute (value, value_float(s), value_int(s))",
    ))
}

fn data_type_name(t: i32) -> String {
    DataType::try_from(t)
        .map(|d| d.as_str_name().to_string())
        .unwrap_or_else(|_| format!("#{t}"))
}

/// Converts a TensorProto into an IR tensor: float, double and float16 become f32, uint8 and
/// int8 keep their type (quantized weights and zero points), int32 and int64 become i64.
pub(crate) fn tensor_from_proto(t: &TensorProto) -> std::result::Result<Tensor, String> {
    if !t.external_data.is_empty()
        || t.data_location() == onnx_proto::tensor_proto::DataLocation::External
    {
        return Err("weights stored in an external file are not supported; save the model with all tensors inside".into());
    }
    if t.segment.is_some() {
        return Err("segmented tensors are not supported".into());
    }
    let mut shape = Vec::with_capacity(t.dims.len());
    let mut len: usize = 1;
    for &d in &t.dims {
        let d = usize::try_from(d).map_err(|_| format!("negative dimension in {:?}", t.dims))?;
        len = len
            .checked_mul(d)
            .ok_or_else(|| format!("dimensions {:?} overflow", t.dims))?;
        shape.push(d);
    }
    let data_type = DataType::try_from(t.data_type())
        .map_err(|_| format!("unknown data type {}", t.data_type()))?;
    let decoder = Decoder {
        raw: t.raw_data.as_deref(),
        len,
        shape: &shape,
    };
    Ok(match data_type {
        DataType::Float => Tensor::f32(
            shape.clone(),
            decoder.values(&t.float_data, f32::from_le_bytes, |&x| x)?,
        ),
        DataType::Double => Tensor::f32(
            shape.clone(),
            decoder.values(
                &t.double_data,
                |b| f64::from_le_bytes(b) as f32,
                |&x| x as f32,
            )?,
        ),
        // float16 values sit in the low 16 bits of int32_data when not raw.
        DataType::Float16 => Tensor::f32(
            shape.clone(),
            decoder.values(
                &t.int32_data,
                |b| f16_to_f32(u16::from_le_bytes(b)),
                |&x| f16_to_f32(x as u16),
            )?,
        ),
        DataType::Int64 => Tensor::i64(
            shape.clone(),
            decoder.values(&t.int64_data, i64::from_le_bytes, |&x| x)?,
        ),
        DataType::Int32 => Tensor::i64(
            shape.clone(),
            decoder.values(
                &t.int32_data,
                |b| i32::from_le_bytes(b) as i64,
                |&x| x as i64,
            )?,
        ),
        // Without raw_data, 8-bit values sit in int32_data, one per element.
        DataType::Uint8 | DataType::Int8 => {
            let int8 = data_type == DataType::Int8;
            let (lo, hi) = if int8 { (-128, 127) } else { (0, 255) };
            if let Some(v) = t.int32_data.iter().find(|v| !(lo..=hi).contains(*v)) {
                return Err(format!(
                    "value {v} is outside its type {} ({lo} to {hi})",
                    data_type.as_str_name()
                ));
            }
            let v = decoder.values(&t.int32_data, |[b]: [u8; 1]| b, |&x| x as u8)?;
            if int8 {
                Tensor::i8(shape.clone(), v.into_iter().map(|b| b as i8).collect())
            } else {
                Tensor::u8(shape.clone(), v)
            }
        }
        other => {
            return Err(format!(
                "data type {} is not supported",
                other.as_str_name()
            ));
        }
    })
}

/// Reads a tensor's values from `raw_data` (little-endian) or from its typed field.
struct Decoder<'a> {
    raw: Option<&'a [u8]>,
    len: usize,
    shape: &'a [usize],
}

impl Decoder<'_> {
    fn values<T, U, const N: usize>(
        &self,
        typed: &[U],
        from_le: impl Fn([u8; N]) -> T,
        from_typed: impl Fn(&U) -> T,
    ) -> std::result::Result<Vec<T>, String> {
        let v: Vec<T> = match self.raw {
            Some(r) => le_chunks::<N>(r, self.len)?.map(from_le).collect(),
            None => typed.iter().map(from_typed).collect(),
        };
        if v.len() != self.len {
            return Err(format!(
                "holds {} values but its shape {:?} needs {}",
                v.len(),
                self.shape,
                self.len
            ));
        }
        Ok(v)
    }
}

/// IEEE 754 half precision to single precision (exact).
fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: value = frac * 2^-24.
            let v = frac as f32 * f32::from_bits(0x3380_0000);
            return if sign != 0 { -v } else { v };
        }
        (0x1f, _) => sign | 0x7f80_0000 | (frac << 13),
        _ => sign | ((exp + 112) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

fn le_chunks<const N: usize>(
    raw: &[u8],
    len: usize,
) -> std::result::Result<impl Iterator<Item = [u8; N]> + '_, String> {
    if raw.len() != len.saturating_mul(N) {
        return Err(format!(
            "raw_data has {} bytes, expected {} ({len} values of {N} bytes)",
            raw.len(),
            len.saturating_mul(N)
        ));
    }
    Ok(raw.chunks_exact(N).map(|c| {
        let mut b = [0u8; N];
        b.copy_from_slice(c);
        b
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_decodes_exactly() {
        for (h, f) in [
            (0x3c00u16, 1.0f32),
            (0xc000, -2.0),
            (0x3555, 0.333_251_95),
            (0x0001, 5.960_464_5e-8),
            (0x7bff, 65504.0),
            (0x8000, -0.0),
        ] {
            assert_eq!(f16_to_f32(h).to_bits(), f.to_bits(), "{h:#x}");
        }
        assert!(f16_to_f32(0x7c00).is_infinite() && f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn tensors_of_every_supported_type_decode_from_raw_and_typed_fields() {
        let raw = |v: Vec<u8>, ty: DataType, dims: Vec<i64>| TensorProto {
            dims,
            data_type: Some(ty as i32),
            raw_data: Some(v),
            ..Default::default()
        };
        let t = tensor_from_proto(&raw(
            [0x00, 0x3c, 0x00, 0xc0].to_vec(),
            DataType::Float16,
            vec![2],
        ))
        .unwrap();
        assert_eq!(t.as_f32(), Some(&[1.0f32, -2.0][..]));
        let t = tensor_from_proto(&raw(
            1.5f64.to_le_bytes().to_vec(),
            DataType::Double,
            vec![1],
        ))
        .unwrap();
        assert_eq!(t.as_f32(), Some(&[1.5f32][..]));
        let t = tensor_from_proto(&TensorProto {
            dims: vec![2],
            data_type: Some(DataType::Int32 as i32),
            int32_data: vec![-3, 4],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(t.to_i64(), vec![-3, 4]);
        let err = tensor_from_proto(&raw(vec![0; 6], DataType::Float, vec![2])).unwrap_err();
        assert_eq!(
            err,
            "raw_data has 6 bytes, expected 8 (2 values of 4 bytes)"
        );
        let err = tensor_from_proto(&TensorProto {
            dims: vec![3],
            data_type: Some(DataType::Float as i32),
            float_data: vec![1.0],
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err, "holds 1 values but its shape [3] needs 3");
        let err = tensor_from_proto(&raw(vec![0; 2], DataType::Bfloat16, vec![1])).unwrap_err();
        assert_eq!(err, "data type BFLOAT16 is not supported");
    }
}
