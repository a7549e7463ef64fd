//! MobileNetV3's activations as exporters spell them out become one activation node each:
//!
//! - hard-sigmoid: `relu6(x + 3) / 6`, with the division as `Mul` by 1/6 or `Div` by 6 and
//!   relu6 as `Clip(0, 6)` (tf2onnx, onnxsim), becomes `HardSigmoid(alpha = 1/6, beta = 1/2)`;
//! - hard-swish: `x * hard_sigmoid(x)` in either operand order (tf2onnx: `Mul(x, Mul(Clip(Add(x,
//!   3)), 1/6))`), or `x * relu6(x + 3) / 6` (the division last), becomes `HardSwish`.
//!
//! The replaced node computes the same function of `x` (up to float rounding: ONNX's
//! HardSwish is `x * max(0, min(1, x / 6 + 1 / 2))`); the nodes it read are dropped when
//! nothing else reads them.

use crate::error::Result;
use crate::ir::{ActivationOp, BinaryOp, Clamp, Graph, Op, ValueId};
use crate::ops::activation::graph_clip_bounds;

pub fn run(graph: &mut Graph) -> Result<()> {
    // `x * relu6(x + 3) / 6`: the division by 6 reads the product.
    for index in 0..graph.nodes.len() {
        if let Some(t) = divided_by_six(graph, index)
            && let Some(x) = times_relu6_plus3(graph, t)?
        {
            replace(graph, index, ActivationOp::HardSwish, x);
        }
    }
    // `relu6(x + 3) / 6`.
    for index in 0..graph.nodes.len() {
        if let Some(r) = divided_by_six(graph, index)
            && let Some(x) = relu6_plus3(graph, r)?
        {
            let hard_sigmoid = ActivationOp::HardSigmoid {
                alpha: 1.0 / 6.0,
                beta: 0.5,
            };
            replace(graph, index, hard_sigmoid, x);
        }
    }
    // `x * hard_sigmoid(x)`.
    for index in 0..graph.nodes.len() {
        if let Some(x) = times_own_hard_sigmoid(graph, index) {
            replace(graph, index, ActivationOp::HardSwish, x);
        }
    }
    crate::passes::dead_nodes::remove_unused_nodes(graph, |n| {
        matches!(n.op, Op::Binary(_) | Op::Activation(_))
    });
    Ok(())
}

/// Node `index` becomes `op` of `x`.
fn replace(graph: &mut Graph, index: usize, op: ActivationOp, x: ValueId) {
    let node = &mut graph.nodes[index];
    node.op = Op::Activation(op);
    node.inputs = vec![Some(x)];
}

/// The scalar value of constant `id`, if it is one.
fn scalar(graph: &Graph, id: ValueId) -> Option<f32> {
    let v = graph.constant(id)?.to_f32();
    (v.len() == 1).then(|| v[0])
}

/// The operands `(a, b)` of node `index`, if it is a binary node of kind `op` (the callers
/// check the shapes they need).
fn operands(graph: &Graph, index: usize, op: BinaryOp) -> Option<(ValueId, ValueId)> {
    let node = &graph.nodes[index];
    if node.op != Op::Binary(op) {
        return None;
    }
    let (a, b) = (node.input(0)?, node.input(1)?);
    Some((a, b))
}

/// The data input of binary node `index` of kind `op` with a scalar constant `c` as its other
/// operand (`second_only`: only as the second, for non-commutative ops), when the output has
/// the data's shape.
fn with_scalar(
    graph: &Graph,
    index: usize,
    op: BinaryOp,
    c: f32,
    second_only: bool,
) -> Option<ValueId> {
    let (a, b) = operands(graph, index, op)?;
    let near = |v: Option<f32>| v.is_some_and(|v| (v - c).abs() <= 1e-6 * c.abs());
    let data = if near(scalar(graph, b)) {
        a
    } else if !second_only && near(scalar(graph, a)) {
        b
    } else {
        return None;
    };
    (graph.constant(data).is_none()
        && graph.shape(data) == graph.shape(graph.nodes[index].outputs[0]))
    .then_some(data)
}

/// What node `index` divides by 6 (`Mul` by 1/6 or `Div` by 6).
fn divided_by_six(graph: &Graph, index: usize) -> Option<ValueId> {
    with_scalar(graph, index, BinaryOp::Mul, 1.0 / 6.0, false)
        .or_else(|| with_scalar(graph, index, BinaryOp::Div, 6.0, true))
}

/// `x` if `v` is `relu6(x + 3)`: a Clip to `[0, 6]` of an Add of 3.
fn relu6_plus3(graph: &Graph, v: ValueId) -> Result<Option<ValueId>> {
    let Some(p) = graph.producer(v) else {
        return Ok(None);
    };
    let node = &graph.nodes[p];
    let Op::Activation(ActivationOp::Clip(attr)) = &node.op else {
        return Ok(None);
    };
    if graph_clip_bounds(graph, node, *attr)? != Clamp::RELU6 {
        return Ok(None);
    }
    let Some(add) = node.input(0).and_then(|a| graph.producer(a)) else {
        return Ok(None);
    };
    Ok(with_scalar(graph, add, BinaryOp::Add, 3.0, false))
}

/// `x` if `t` is `x * relu6(x + 3)`, in either operand order.
fn times_relu6_plus3(graph: &Graph, t: ValueId) -> Result<Option<ValueId>> {
    let Some((a, b)) = graph
        .producer(t)
        .and_then(|p| operands(graph, p, BinaryOp::Mul))
    else {
        return Ok(None);
    };
    for (x, r) in [(a, b), (b, a)] {
        if relu6_plus3(graph, r)? == Some(x) {
            return Ok(Some(x));
        }
    }
    Ok(None)
}

/// `x` if node `index` is `x * HardSigmoid(1/6, 1/2)(x)`, in either operand order.
fn times_own_hard_sigmoid(graph: &Graph, index: usize) -> Option<ValueId> {
    let (a, b) = operands(graph, index, BinaryOp::Mul)?;
    [(a, b), (b, a)].into_iter().find_map(|(x, h)| {
        let p = graph.producer(h)?;
        let node = &graph.nodes[p];
        let is_gate = matches!(node.op, Op::Activation(ActivationOp::HardSigmoid { alpha, beta })
            if alpha == 1.0 / 6.0 && beta == 0.5);
        (is_gate
            && node.input(0) == Some(x)
            && graph.shape(x) == graph.shape(graph.nodes[index].outputs[0]))
        .then_some(x)
    })
}

#[cfg(test)]
mod tests {
    use crate::ir::*;
    use crate::passes::tests::{GraphBuilder, check_same_function, conv};

    fn scalar(b: &mut GraphBuilder, v: f32) -> ValueId {
        b.constant(Tensor::f32(vec![], vec![v]))
    }

    /// Each spelling of hard-swish and hard-sigmoid after a conv becomes one node (which the
    /// later passes fuse into the conv), and the optimised graph computes what the unoptimised
    /// one does.
    #[test]
    fn spelt_out_hard_swish_and_hard_sigmoid_become_one_node() {
        for spelling in 0..4 {
            let mut b = GraphBuilder::new(&[1, 3, 6, 6]);
            let w = b.weights(&[4, 3, 3, 3], 1);
            let x = b.node("conv", conv(3, 1, 1, 1), &[Some(b.x), Some(w), None]);
            let (three, zero, six, sixth) = (
                scalar(&mut b, 3.0),
                scalar(&mut b, 0.0),
                scalar(&mut b, 6.0),
                scalar(&mut b, 1.0 / 6.0),
            );
            let clip = Op::Activation(ActivationOp::Clip(Clamp::LINEAR));
            let add = b.node("add", Op::Binary(BinaryOp::Add), &[Some(three), Some(x)]);
            let r = b.node("relu6", clip, &[Some(add), Some(zero), Some(six)]);
            let y = match spelling {
                // tf2onnx: x * (relu6(x + 3) * 1/6).
                0 => {
                    let h = b.node("sixth", Op::Binary(BinaryOp::Mul), &[Some(r), Some(sixth)]);
                    b.node("swish", Op::Binary(BinaryOp::Mul), &[Some(x), Some(h)])
                }
                // x * relu6(x + 3) / 6.
                1 => {
                    let t = b.node("times", Op::Binary(BinaryOp::Mul), &[Some(r), Some(x)]);
                    b.node("div", Op::Binary(BinaryOp::Div), &[Some(t), Some(six)])
                }
                // The hard-sigmoid alone, as a Div.
                2 => b.node("div", Op::Binary(BinaryOp::Div), &[Some(r), Some(six)]),
                // A Mul by 1/5: not a hard-sigmoid, left alone.
                _ => {
                    let fifth = scalar(&mut b, 0.2);
                    b.node("fifth", Op::Binary(BinaryOp::Mul), &[Some(r), Some(fifth)])
                }
            };
            let g = check_same_function(b.finish(y));
            let ops: Vec<&str> = g.nodes.iter().map(|n| n.op.name()).collect();
            // After the later passes: hard-swish is the conv's epilogue, and hard-sigmoid's
            // affine part is in its weights with the clamp to [0, 1] as its epilogue.
            let act = match &g.nodes[0].op {
                Op::Conv(c) => c.act,
                _ => panic!("{ops:?}"),
            };
            match spelling {
                0 | 1 => assert_eq!((&ops[..], act), (&["Conv"][..], Clamp::HARD_SWISH)),
                2 => assert_eq!((&ops[..], act), (&["Conv"][..], Clamp::new(0.0, 1.0))),
                _ => assert!(!ops.iter().any(|o| o.starts_with("Hard")), "{ops:?}"),
            }
        }
    }
}
