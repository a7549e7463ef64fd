//! Relu and Clip (ReLU6 or any constant bounds), and Min/Max with a scalar constant, after a
//! conv or dense layer that has no other reader become that layer's clamp epilogue, composed
//! with any clamp it already has; HardSwish after a float layer without an activation becomes
//! its hard-swish epilogue (a clamp after that composes too).

use crate::error::Result;
use crate::ir::{ActivationOp, LinearOp};
use crate::ir::{BinaryOp, Clamp, DType, Graph, Op};
use crate::ops::activation::graph_clip_bounds;

pub fn run(graph: &mut Graph) -> Result<()> {
    let mut index = 0;
    while index < graph.nodes.len() {
        let clamp = clamp_of(graph, index)?;
        if let (Some(clamp), Some(producer)) = (clamp, graph.sole_producer(index)) {
            // Hard-swish is a float epilogue (quantized layers clamp in their integers).
            let float = graph.nodes[producer]
                .outputs
                .first()
                .is_some_and(|&y| graph.values[y].dtype == DType::F32);
            let act = match &mut graph.nodes[producer].op {
                Op::Conv(c) => Some(&mut c.act),
                Op::Linear(LinearOp::Dense { act }) => Some(act),
                _ => None,
            };
            if let Some(act) = act
                && (float || !clamp.swish)
                && let Some(fused) = act.then(clamp)
            {
                *act = fused;
                graph.absorb_into_producer(index);
                continue;
            }
        }
        index += 1;
    }
    Ok(())
}

/// The clamp or hard-swish node `index` applies to its first input, if it is one.
fn clamp_of(graph: &mut Graph, index: usize) -> Result<Option<Clamp>> {
    let node = &graph.nodes[index];
    match &node.op {
        Op::Activation(ActivationOp::HardSwish) => Ok(Some(Clamp::HARD_SWISH)),
        Op::Activation(ActivationOp::Clip(attr)) => {
            Ok(Some(graph_clip_bounds(graph, node, *attr)?))
        }
        Op::Binary(op @ (BinaryOp::Min | BinaryOp::Max)) => {
            let op = *op;
            let (Some(a), Some(b)) = (node.input(0), node.input(1)) else {
                return Ok(None);
            };
            let (v, first) = match (graph.constant(a), graph.constant(b)) {
                (None, Some(c)) => (c.to_f32(), false),
                (Some(c), None) => (c.to_f32(), true),
                _ => return Ok(None),
            };
            let data = if first { b } else { a };
            if v.len() != 1 || v[0].is_nan() || graph.shape(node.outputs[0]) != graph.shape(data) {
                return Ok(None);
            }
            // Min and Max commute: put the activation first, where fusion looks for it.
            graph.nodes[index].inputs = vec![Some(data), Some(if first { a } else { b })];
            Ok(Some(match op {
                BinaryOp::Min => Clamp::new(f32::NEG_INFINITY, v[0]),
                _ => Clamp::new(v[0], f32::INFINITY),
            }))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::*;
    use crate::passes::tests::{GraphBuilder, check_same_function, conv};

    #[test]
    fn relu6_from_constants_and_relu_fuse_into_convs() {
        let mut b = GraphBuilder::new(&[1, 3, 6, 6]);
        let w = b.weights(&[4, 3, 3, 3], 1);
        let c = b.node("conv", conv(3, 1, 1, 1), &[Some(b.x), Some(w), None]);
        let lo = b.constant(Tensor::f32(vec![], vec![0.0]));
        let hi = b.constant(Tensor::f32(vec![], vec![0.25]));
        let r6 = b.node(
            "clip",
            Op::Activation(ActivationOp::Clip(Clamp::LINEAR)),
            &[Some(c), Some(lo), Some(hi)],
        );
        let w2 = b.weights(&[4, 1, 3, 3], 2);
        let d = b.node("dw", conv(3, 1, 1, 4), &[Some(r6), Some(w2), None]);
        let y = b.node(
            "relu",
            Op::Activation(ActivationOp::Clip(Clamp::RELU)),
            &[Some(d)],
        );
        let g = check_same_function(b.finish(y));
        assert_eq!(g.nodes.len(), 2);
        let Op::Conv(c) = &g.nodes[0].op else {
            panic!()
        };
        assert_eq!(c.act, Clamp::new(0.0, 0.25));
        let Op::Conv(d) = &g.nodes[1].op else {
            panic!()
        };
        assert_eq!(d.act, Clamp::RELU);
    }

    #[test]
    fn max_and_min_with_scalar_constants_become_relu6() {
        let mut b = GraphBuilder::new(&[1, 3, 6, 6]);
        let w = b.weights(&[4, 3, 3, 3], 1);
        let c = b.node("conv", conv(3, 1, 1, 1), &[Some(b.x), Some(w), None]);
        let zero = b.constant(Tensor::f32(vec![1], vec![0.0]));
        let six = b.constant(Tensor::f32(vec![], vec![0.3]));
        let r = b.node("max", Op::Binary(BinaryOp::Max), &[Some(zero), Some(c)]);
        let y = b.node("min", Op::Binary(BinaryOp::Min), &[Some(r), Some(six)]);
        let g = check_same_function(b.finish(y));
        assert_eq!(g.nodes.len(), 1);
        let Op::Conv(c) = &g.nodes[0].op else {
            panic!()
        };
        assert_eq!(c.act, Clamp::new(0.0, 0.3));
    }

    /// HardSwish fuses into a linear conv, and a clamp after it composes; after a ReLU it
    /// stays a node (hard-swish after a clamp is not one epilogue).
    #[test]
    fn hard_swish_fuses_into_a_linear_layer_only() {
        for relu_first in [false, true] {
            let mut b = GraphBuilder::new(&[1, 3, 6, 6]);
            let w = b.weights(&[4, 3, 3, 3], 1);
            let mut c = b.node("conv", conv(3, 1, 1, 1), &[Some(b.x), Some(w), None]);
            let relu = Op::Activation(ActivationOp::Clip(Clamp::RELU));
            if relu_first {
                c = b.node("relu", relu.clone(), &[Some(c)]);
            }
            let h = b.node("hs", Op::Activation(ActivationOp::HardSwish), &[Some(c)]);
            let y = b.node("relu6", relu6(), &[Some(h)]);
            let g = check_same_function(b.finish(y));
            let ops: Vec<&str> = g.nodes.iter().map(|n| n.op.name()).collect();
            let Op::Conv(c) = &g.nodes[0].op else {
                panic!()
            };
            if relu_first {
                assert_eq!(ops, ["Conv", "HardSwish", "Clip"]);
                assert_eq!(c.act, Clamp::RELU);
            } else {
                assert_eq!(ops, ["Conv"]);
                let want = Clamp {
                    swish: true,
                    ..Clamp::RELU6
                };
                assert_eq!((c.act, c.act.label().as_str()), (want, "hardswish+relu6"));
            }
        }
    }

    fn relu6() -> Op {
        Op::Activation(ActivationOp::Clip(Clamp::RELU6))
    }

    #[test]
    fn an_activation_with_a_second_reader_of_its_input_stays() {
        // A residual block: the conv output is read by the Clip and by the Add.
        let mut b = GraphBuilder::new(&[1, 2, 4, 4]);
        let w = b.weights(&[2, 2, 1, 1], 1);
        let c = b.node("conv", conv(1, 1, 0, 1), &[Some(b.x), Some(w), None]);
        let r = b.node(
            "relu",
            Op::Activation(ActivationOp::Clip(Clamp::RELU)),
            &[Some(c)],
        );
        let y = b.node("add", Op::Binary(BinaryOp::Add), &[Some(r), Some(c)]);
        let g = check_same_function(b.finish(y));
        assert_eq!(g.nodes.len(), 3);
    }
}
