//! Quantized models (QDQ): the float ops that a QDQ model wraps in DequantizeLinear (inputs,
//! weights, bias) and QuantizeLinear (output) become the same ops on the quantized values, which
//! the interpreter and the kernels compute in integers:
//!
//! - Conv and Gemm: `DQ(x) -> Conv(DQ(w), DQ(b)) [-> Relu | Clip] -> Q` becomes
//!   `Conv(x, w, b) -> y` (Gemm becomes `Dense`) with uint8/int8 activations, int8 weights
//!   (symmetric: zero point 0, per channel or per tensor), int32 bias rescaled to `sx * sw`, the
//!   clamp fused;
//! - GlobalAveragePool and Add (two inputs with their own parameters), with a fused clamp for
//!   Add;
//! - reshapes (Flatten, Reshape, ...) between a DQ and a Q with the same parameters.
//!
//! A pattern mnetc cannot compute exactly in integers (weights that are not symmetric int8,
//! sums that could leave 32 bits) stays as it is, computed in float between its QDQ pairs, as
//! ONNX defines it. Then DequantizeLinear of constants (the weights of ops left in float)
//! folds into float constants. This pass is required, like shape inference: a quantized model
//! computes in integers whether or not the float optimisations run.

use crate::error::{Error, Result};
use crate::ir::{
    ActivationOp, BinaryOp, Clamp, DType, Graph, LinearOp, Node, Op, PoolOp, Quant, QuantOp,
    Tensor, ValueId,
};
use crate::ops::activation::graph_clip_bounds;
use crate::ops::quant::layer_scale;

/// Largest sum of products of a uint8 and an int8 mnetc computes in 32 bits: a layer's bound
/// `255 * 128 * K` plus its bias must stay below it.
const SUM_LIMIT: f64 = (1u64 << 31) as f64;

pub fn run(graph: &mut Graph) -> Result<()> {
    let mut index = 0;
    while index < graph.nodes.len() {
        if !fold(graph, index)? {
            index += 1;
        }
    }
    fold_constant_dequantize(graph)?;
    // Quantize and dequantize nodes whose outputs nothing reads any more.
    crate::passes::dead_nodes::remove_unused_nodes(graph, |n| matches!(n.op, Op::Quant(_)));
    Ok(())
}

/// The quantized value `DQ(x)` dequantizes, if `id` is the output of a DequantizeLinear of an
/// activation with per-tensor parameters.
fn dequantized(graph: &Graph, id: ValueId) -> Option<ValueId> {
    let p = graph.producer(id)?;
    let node = &graph.nodes[p];
    let Op::Quant(QuantOp::DequantizeLinear { .. }) = node.op else {
        return None;
    };
    let x = node.input(0)?;
    let v = &graph.values[x];
    let per_tensor = v.quant.as_ref().is_some_and(|q| q.axis.is_none());
    (v.constant.is_none() && v.dtype.int_range().is_some() && per_tensor).then_some(x)
}

/// The integer constant and its parameters that `id` dequantizes, if it is the output of a
/// DequantizeLinear of a constant.
fn dequantized_constant(graph: &Graph, id: ValueId) -> Option<(Tensor, Quant)> {
    let p = graph.producer(id)?;
    let node = &graph.nodes[p];
    let Op::Quant(QuantOp::DequantizeLinear { axis }) = node.op else {
        return None;
    };
    let t = graph.constant(node.input(0)?)?;
    let (quant, _) = crate::ops::quant::params(graph, node, axis, &t.shape).ok()?;
    Some((t.clone(), quant))
}

/// Where the float result of node `index` is quantized: an optional Relu/Clip (its clamp and
/// index) and the QuantizeLinear (its index and per-tensor output), each the only reader of
/// what it reads.
fn quantized_output(graph: &Graph, index: usize) -> Option<(Clamp, Vec<usize>, ValueId)> {
    let mut out = graph.nodes[index].outputs[0];
    let mut act = Clamp::LINEAR;
    let mut remove = Vec::new();
    loop {
        if graph.use_count(out) != 1 || graph.outputs.contains(&out) {
            return None;
        }
        let reader = *graph.consumers(out).first()?;
        let node = &graph.nodes[reader];
        if node.input(0) != Some(out) {
            return None;
        }
        match &node.op {
            Op::Activation(ActivationOp::Clip(attr)) => {
                act = act.then(graph_clip_bounds(graph, node, *attr).ok()?)?;
                remove.push(reader);
                out = node.outputs[0];
            }
            Op::Quant(QuantOp::QuantizeLinear { .. }) => {
                let y = node.outputs[0];
                let v = &graph.values[y];
                if v.quant.as_ref().is_none_or(|q| q.axis.is_some()) {
                    return None;
                }
                remove.push(reader);
                return Some((act, remove, y));
            }
            _ => return None,
        }
    }
}

/// Folds the pattern at node `index` if it is one; returns whether it did.
fn fold(graph: &mut Graph, index: usize) -> Result<bool> {
    let node = graph.nodes[index].clone();
    let Some(x) = node.input(0).and_then(|id| dequantized(graph, id)) else {
        return Ok(false);
    };
    let is_reshape = node.op.is_reshape_like();
    let Some((act, remove, y)) = quantized_output(graph, index) else {
        return Ok(false);
    };
    if is_reshape && act != Clamp::LINEAR {
        return Ok(false);
    }
    let mixed = |id: ValueId| graph.values[id].dtype != graph.values[y].dtype;
    let other = node.input(1).and_then(|id| dequantized(graph, id));
    if mixed(x) || other.is_some_and(|b| matches!(node.op, Op::Binary(_)) && mixed(b)) {
        return Err(Error::node(
            &node,
            None,
            "mixes uint8 and int8 activations (its inputs and output must be quantized to one type)",
        ));
    }
    let xq = graph.values[x].quant.clone().expect("checked");
    let yq = graph.values[y].quant.clone().expect("checked");
    let (sx, sy) = (xq.scale[0] as f64, yq.scale[0] as f64);
    let (op, inputs) = match &node.op {
        Op::Conv(conv) => {
            let Some(w) = node.input(1) else {
                return Ok(false);
            };
            let Some((wt, wq)) = dequantized_constant(graph, w) else {
                return Ok(false);
            };
            let co = wt.shape[0];
            let Some((w, b)) = weights(graph, &node, &wt, &wq, co, sx, sy)? else {
                return Ok(false);
            };
            let mut conv = conv.clone();
            let Some(fused) = conv.act.then(act) else {
                return Ok(false);
            };
            conv.act = fused;
            (Op::Conv(conv), vec![Some(x), Some(w), Some(b)])
        }
        Op::Linear(LinearOp::Gemm {
            alpha,
            beta,
            trans_a,
            trans_b,
        }) => {
            let Some(w) = node.input(1) else {
                return Ok(false);
            };
            let Some((wt, wq)) = dequantized_constant(graph, w) else {
                return Ok(false);
            };
            if *alpha != 1.0 || *beta != 1.0 || *trans_a || wt.shape.len() != 2 {
                return Ok(false);
            }
            // Dense takes the weight as [N][K]; the per-channel axis is N.
            let (wt, wq) = if *trans_b {
                (wt, wq)
            } else {
                let (k, n) = (wt.shape[0], wt.shape[1]);
                let t = wt.gather(vec![n, k], (0..n * k).map(|i| (i % k) * n + i / k));
                let q = Quant {
                    axis: wq.axis.map(|a| 1 - a),
                    ..wq
                };
                (t, q)
            };
            let n = wt.shape[0];
            let Some((w, b)) = weights(graph, &node, &wt, &wq, n, sx, sy)? else {
                return Ok(false);
            };
            (
                Op::Linear(LinearOp::Dense { act }),
                vec![Some(x), Some(w), Some(b)],
            )
        }
        Op::Pool(PoolOp::GlobalAveragePool) if act == Clamp::LINEAR => {
            let shape = graph.shape(x).unwrap_or_default();
            let n: usize = shape.get(2..).map_or(1, |s| s.iter().product());
            if 255.0 * n as f64 >= SUM_LIMIT {
                return Ok(false);
            }
            (node.op.clone(), vec![Some(x)])
        }
        Op::Binary(BinaryOp::Add) => {
            let Some(b) = node.input(1).and_then(|id| dequantized(graph, id)) else {
                return Ok(false);
            };
            let shapes = (graph.shape(x), graph.shape(b), graph.shape(node.outputs[0]));
            if shapes.0 != shapes.2 || shapes.1 != shapes.2 {
                return Ok(false); // no broadcasting in integers
            }
            let sb = graph.values[b].quant.as_ref().expect("checked").scale[0] as f64;
            if !((sx / sy).is_finite() && (sb / sy).is_finite()) {
                return Ok(false);
            }
            (Op::Binary(BinaryOp::Add), vec![Some(x), Some(b)])
        }
        op if op.is_reshape_like() => {
            if xq != yq || graph.values[x].dtype != graph.values[y].dtype {
                return Ok(false);
            }
            let mut inputs = node.inputs.clone();
            inputs[0] = Some(x);
            (node.op.clone(), inputs)
        }
        _ => return Ok(false),
    };
    // An Add's clamp: kept as a Clip in integers is not supported; only folded Adds without
    // one, or with one the output's range already implies, get here.
    if matches!(op, Op::Binary(_)) && act != Clamp::LINEAR {
        let dtype = graph.values[y].dtype;
        let (z, s) = (yq.zero_point[0], yq.scale[0]);
        let bounds = crate::ops::quant::int_bounds(act, s, z, dtype);
        if Some(bounds) != dtype.int_range() {
            return Ok(false);
        }
    }
    for &r in remove.iter().rev() {
        graph.nodes.remove(r);
    }
    graph.nodes[index] = Node {
        name: node.name.clone(),
        op,
        inputs,
        outputs: vec![y],
    };
    Ok(true)
}

/// The integer weight and bias constants of a conv or dense layer with `co` output channels
/// (the weight's first axis), or `None` if the layer cannot be computed in integers: weights
/// not int8, zero points not 0, a requantization multiplier out of range, a bias out of
/// 32 bits. The bias becomes integers in units of `sx * sw[c]`, the scale of the sums.
fn weights(
    graph: &mut Graph,
    node: &Node,
    wt: &Tensor,
    wq: &Quant,
    co: usize,
    sx: f64,
    sy: f64,
) -> Result<Option<(ValueId, ValueId)>> {
    if let Some(a) = wq.axis.filter(|&a| a != 0 && wq.scale.len() > 1) {
        return Err(Error::node(
            node,
            None,
            format!(
                "its weight is quantized per channel along axis {a}; per-channel weight scales must be along the output channels"
            ),
        ));
    }
    if wt.dtype() != DType::I8 || wq.zero_point.iter().any(|&z| z != 0) {
        return Ok(None);
    }
    let sw: Vec<f64> = (0..co).map(|c| wq.at(c).0 as f64).collect();
    if sw
        .iter()
        .any(|&s| layer_scale(sx as f32, s as f32, sy as f32).is_none())
    {
        return Ok(None);
    }
    let k = wt.len() / co.max(1);
    let bias: Vec<f64> = match node.input(2) {
        None => vec![0.0; co],
        Some(b) => match dequantized_constant(graph, b) {
            Some((t, q)) => {
                let ch = t.shape.len() == 1 && t.shape[0] == co;
                t.to_i64()
                    .iter()
                    .enumerate()
                    .map(|(c, &v)| {
                        let (s, z) = q.at(if ch { c } else { 0 });
                        (v - z as i64) as f64 * s as f64
                    })
                    .collect()
            }
            None => match graph.constant(b) {
                Some(t) => t.to_f32().iter().map(|&v| v as f64).collect(),
                None => return Ok(None),
            },
        },
    };
    if bias.len() != co {
        return Ok(None);
    }
    let mut b = Vec::with_capacity(co);
    for c in 0..co {
        let v = (bias[c] / (sx * sw[c])).round();
        if v.is_nan() || v.abs() + 255.0 * 128.0 * (k as f64) >= SUM_LIMIT {
            return Ok(None);
        }
        b.push(v as i64);
    }
    let w = graph.add_constant(format!("{}.weight_q", node.name), wt.clone());
    graph.values[w].quant = Some(Quant {
        axis: (wq.scale.len() > 1).then_some(0),
        ..wq.clone()
    });
    let b = graph.add_constant(format!("{}.bias_q", node.name), Tensor::i64(vec![co], b));
    Ok(Some((w, b)))
}

/// DequantizeLinear of constants that no integer op took: float constants now.
fn fold_constant_dequantize(graph: &mut Graph) -> Result<()> {
    for index in 0..graph.nodes.len() {
        let node = &graph.nodes[index];
        if matches!(node.op, Op::Quant(QuantOp::DequantizeLinear { .. }))
            && graph.use_count(node.outputs[0]) > 0
        {
            crate::passes::constant_folding::evaluate(graph, index)?;
        }
    }
    crate::passes::constant_folding::sweep(graph);
    Ok(())
}
