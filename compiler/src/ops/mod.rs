//! The ops, one file per family: what each op's output shape is ([`infer`]), what it computes
//! ([`eval`], the reference interpreter's arithmetic) and which kernels compute it in generated
//! code ([`lower`]), with the math they share (broadcasting, padding amounts, windows, clip
//! bounds, the BatchNorm scale). The families are those of `import/onnx`:
//!
//! | family | ops |
//! | --- | --- |
//! | [`conv`] | Conv, and the sliding window it shares with pooling |
//! | [`pool`] | GlobalAveragePool, AveragePool, MaxPool, ReduceMean |
//! | [`linear`] | Gemm, MatMul, Dense |
//! | [`normalization`] | BatchNormalization |
//! | [`activation`] | Clip, Softmax |
//! | [`elementwise`] | Add, Sub, Mul, Div, Min, Max (numpy broadcasting) |
//! | [`shape`] | Pad, Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Identity, Shape, Gather, Concat, Cast, Slice |
//! | [`quant`] | QuantizeLinear, DequantizeLinear, and the integer arithmetic of quantized ops |
//!
//! The dispatchers below send each family's ops to its file, where `infer`, `eval` and `lower`
//! match the family's enum exhaustively (no catch-all arms): a new op does not compile until
//! its family's file says how to infer its shape, evaluate it and lower it. This layer
//! sits on `ir` and `error` only; `passes`, `interp` and `codegen` call it.

pub mod activation;
pub mod conv;
pub mod elementwise;
pub mod linear;
pub mod normalization;
pub mod pool;
pub mod quant;
pub mod shape;

use crate::error::{Error, Result};
use crate::ir::{Graph, Node, Op, Tensor, Window};
use crate::program::{Lowering, TensorId};

/// The reference evaluation of `cx.node` (plain loops, f64 accumulation).
pub fn eval(cx: &EvalCx) -> Result<Tensor> {
    match &cx.node.op {
        Op::Conv(conv) => conv::eval(cx, conv),
        Op::Pool(op) => pool::eval(cx, op),
        Op::Linear(op) => linear::eval(cx, op),
        Op::Normalization(op) => normalization::eval(cx, op),
        Op::Activation(op) => activation::eval(cx, op),
        Op::Binary(op) => elementwise::eval(cx, op),
        Op::Shape(op) => shape::eval(cx, op),
        Op::Quant(op) => quant::eval(cx, op),
    }
}

/// Lowers `node` to kernel calls in `l`'s program; returns the tensor holding its output.
pub fn lower(l: &mut Lowering, node: &Node) -> Result<TensorId> {
    let out_shape = l.out_shape(node);
    match &node.op {
        Op::Conv(conv) => conv::lower(l, node, out_shape, conv),
        Op::Pool(op) => pool::lower(l, node, out_shape, op),
        Op::Linear(op) => linear::lower(l, node, out_shape, op),
        Op::Normalization(op) => normalization::lower(l, node, out_shape, op),
        Op::Activation(op) => activation::lower(l, node, out_shape, op),
        Op::Binary(op) => elementwise::lower(l, node, out_shape, op),
        Op::Shape(op) => shape::lower(l, node, out_shape, op),
        Op::Quant(op) => quant::lower(l, node, out_shape, op),
    }
}

/// What `inspect` shows of a node beyond its shapes, by the paper's cost model: multiply-adds
/// and parameters of conv and fully connected layers only.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    /// `conv`, `dwconv`, `pwconv` or `dense` instead of the op's name.
    pub label: Option<&'static str>,
    /// The sliding window of a conv or pooling op.
    pub window: Option<Window>,
    /// The fused or standalone activation (`relu`, `relu6`, `linear`, `clip(a,b)`).
    pub activation: Option<String>,
    pub macs: u64,
    /// Whether inputs 1 and 2 (weight, bias) count as parameters.
    pub weighted: bool,
}

/// The [`Facts`] of `op` with input shape `input` and `out_elems` output elements.
pub fn facts(op: &Op, input: &[usize], out_elems: u64) -> Facts {
    match op {
        Op::Conv(conv) => conv::facts(conv, input, out_elems),
        Op::Pool(op) => pool::facts(op),
        Op::Linear(op) => linear::facts(op, input, out_elems),
        Op::Activation(op) => activation::facts(op),
        Op::Normalization(_) | Op::Binary(_) | Op::Shape(_) | Op::Quant(_) => Facts::default(),
    }
}

/// The error for an op code generation does not lower (the interpreter still runs it).
pub(crate) fn unsupported(node: &Node) -> Error {
    Error::node(
        node,
        None,
        format!(
            "{} is not supported by code generation yet (the reference interpreter runs it)",
            node.op.name()
        ),
    )
}

/// What the interpreter evaluates a node with: the graph (static shapes, constants), the node
/// and its input tensors (`None` for omitted optional inputs).
pub struct EvalCx<'g> {
    pub graph: &'g Graph,
    pub node: &'g Node,
    pub inputs: &'g [Option<&'g Tensor>],
    /// The first input.
    pub x: &'g Tensor,
}

impl EvalCx<'_> {
    /// Input `i`, which must be present.
    pub fn arg(&self, i: usize) -> Result<&Tensor> {
        self.inputs
            .get(i)
            .copied()
            .flatten()
            .ok_or_else(|| Error::node(self.node, None, format!("input {i} is not available")))
    }

    /// The first input's data, which must be float.
    pub fn xf(&self) -> Result<&[f32]> {
        self.x
            .as_f32()
            .ok_or_else(|| Error::node(self.node, None, "expects float data"))
    }

    /// The output's static shape, from shape inference.
    pub fn out_shape(&self) -> Result<Vec<usize>> {
        self.graph
            .shape(self.node.outputs[0])
            .map(<[usize]>::to_vec)
            .ok_or_else(|| {
                Error::Internal(format!("node '{}': output shape unknown", self.node.name))
            })
    }
}

/// What shape inference knows when it reaches a node: the graph (constant inputs), the node,
/// the shape of its first input and of every input.
pub struct InferCx<'g> {
    pub graph: &'g Graph,
    pub node: &'g Node,
    pub x: Vec<usize>,
    pub in_shapes: Vec<Option<Vec<usize>>>,
}

/// The outcome of shape inference for a node.
pub enum Inferred {
    /// The output's shape.
    Shape(Vec<usize>),
    /// The output is this constant (`Shape` of a static shape).
    Constant(Tensor),
    /// Only constant folding can tell (shape arithmetic on constants).
    Folded,
}

/// The output shape of `op` at `cx.node`; may complete `op` (an omitted `kernel_shape`,
/// `auto_pad` resolved into pads, default axes and permutations made explicit).
pub fn infer(op: &mut Op, cx: &InferCx) -> Result<Inferred> {
    match op {
        Op::Conv(conv) => conv::infer(cx, conv),
        Op::Pool(op) => pool::infer(cx, op),
        Op::Linear(op) => linear::infer(cx, op),
        Op::Normalization(op) => normalization::infer(cx, op),
        Op::Activation(op) => activation::infer(cx, op),
        Op::Binary(_) => elementwise::infer(cx),
        Op::Shape(op) => shape::infer(cx, op),
        Op::Quant(op) => quant::infer(cx, op),
    }
}

pub(crate) fn rank(node: &Node, what: &str, shape: &[usize], want: usize) -> Result<()> {
    if shape.len() == want {
        Ok(())
    } else {
        Err(Error::node(
            node,
            None,
            format!("{what} has shape {shape:?}, expected rank {want}"),
        ))
    }
}

/// The constant value of input `id`, or an error saying that `what` must be constant.
pub fn constant_of<'g>(graph: &'g Graph, node: &Node, id: usize, what: &str) -> Result<&'g Tensor> {
    graph.constant(id).ok_or_else(|| {
        Error::node(
            node,
            None,
            format!(
                "input '{what}' ('{}') must be a constant",
                graph.values[id].name
            ),
        )
    })
}

/// Normalizes a possibly negative axis for a tensor of rank `rank`.
pub fn normalize_axis(node: &Node, axis: i64, rank: usize) -> Result<usize> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if (0..r).contains(&a) {
        Ok(a as usize)
    } else {
        Err(Error::node(
            node,
            Some("axis"),
            format!("= {axis} is out of range for rank {}", rank),
        ))
    }
}

pub(crate) fn normalize_axes(node: &Node, axes: &[i64], rank: usize) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let a = normalize_axis(node, a, rank)?;
        if out.contains(&a) {
            return Err(Error::node(
                node,
                Some("axes"),
                format!("= {axes:?} repeats an axis"),
            ));
        }
        out.push(a);
    }
    Ok(out)
}
