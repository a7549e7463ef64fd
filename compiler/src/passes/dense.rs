//! Gemm and MatMul with constant weights become `Dense` (weights `[N, K]`, bias `[N]`): Gemm's
//! `alpha`, `beta` and `transB` are folded into the constants. Gemm with `transA`, a non-constant
//! B or a C that is not a row vector stays as it is (the interpreter runs it).

use crate::error::Result;
use crate::ir::LinearOp;
use crate::ir::{Clamp, Graph, Op, Tensor};
use crate::ops::linear::{dense_shape, dense_weights};

pub fn run(graph: &mut Graph) -> Result<()> {
    for index in 0..graph.nodes.len() {
        let node = &graph.nodes[index];
        let Some((w, bias)) = dense_weights(graph, node) else {
            continue;
        };
        let name = node.name.clone();
        let shape = dense_shape(graph, node).expect("checked by dense_weights");
        let w = graph.add_constant(format!("{name}.weight"), Tensor::f32(shape.to_vec(), w));
        let bias = bias
            .map(|b| graph.add_constant(format!("{name}.bias"), Tensor::f32(vec![shape[0]], b)));
        let node = &mut graph.nodes[index];
        node.op = Op::Linear(LinearOp::Dense { act: Clamp::LINEAR });
        node.inputs = vec![node.inputs[0], Some(w), bias];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::ir::*;
    use crate::passes::tests::{GraphBuilder, check_same_function};

    #[test]
    fn gemm_and_matmul_become_dense_with_the_same_function() {
        for (trans_b, alpha, beta) in [(false, 1.0, 1.0), (true, 0.5, 2.0)] {
            let mut b = GraphBuilder::new(&[1, 6, 1, 1]);
            let f = b.node(
                "flatten",
                Op::Shape(ShapeOp::Flatten { axis: 1 }),
                &[Some(b.x)],
            );
            let w = b.weights(if trans_b { &[4, 6] } else { &[6, 4] }, 3);
            let c = b.weights(&[4], 4);
            let y = b.node(
                "gemm",
                Op::Linear(LinearOp::Gemm {
                    alpha,
                    beta,
                    trans_a: false,
                    trans_b,
                }),
                &[Some(f), Some(w), Some(c)],
            );
            let g = check_same_function(b.finish(y));
            assert!(matches!(
                g.nodes.last().unwrap().op,
                Op::Linear(LinearOp::Dense { .. })
            ));
        }
        let mut b = GraphBuilder::new(&[1, 6, 1, 1]);
        let f = b.node(
            "flatten",
            Op::Shape(ShapeOp::Flatten { axis: 1 }),
            &[Some(b.x)],
        );
        let w = b.weights(&[6, 3], 5);
        let m = b.node("matmul", Op::Linear(LinearOp::MatMul), &[Some(f), Some(w)]);
        let bias = b.weights(&[3], 6);
        let y = b.node("add", Op::Binary(BinaryOp::Add), &[Some(m), Some(bias)]);
        let g = check_same_function(b.finish(y));
        assert_eq!(g.nodes.len(), 2, "MatMul + Add is one Dense: {:?}", g.nodes);
    }
}
