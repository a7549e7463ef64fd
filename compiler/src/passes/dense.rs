//! Gemm and MatMul with constant weights become `Dense` (weights `[N, K]`, bias `[N]`): Gemm's
//! `alpha`, `beta` and `transB` are folded into the constants. Gemm with `transA`, a non-constant
//! B or a C that is not a row vector stays as it is (the interpreter runs it).

use crate::error::Result;
use crate::ir::LinearOp;
use crate::ir::{Clamp, Graph, Node, Op, Tensor};

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

/// `[N, K]` of a Gemm or MatMul that is a fully connected layer.
fn dense_shape(graph: &Graph, node: &Node) -> Option<[usize; 2]> {
    let trans_b = match node.op {
        Op::Linear(LinearOp::Gemm {
            trans_a: false,
            trans_b,
            ..
        }) => trans_b,
        Op::Linear(LinearOp::MatMul) => false,
        _ => return None,
    };
    let b = graph.constant(node.input(1)?)?;
    if graph.shape(node.input(0)?)?.len() != 2 || b.shape.len() != 2 {
        return None;
    }
    let (rows, cols) = (b.shape[0], b.shape[1]);
    Some(if trans_b { [rows, cols] } else { [cols, rows] })
}

/// The weights (`[N, K]`, row-major) and bias (`[N]`) of a Gemm or MatMul with a constant B
/// and, for Gemm, no `transA` and a constant row-vector C: `alpha` and `beta` folded in. `None`
/// for anything else. Code generation uses it too, for graphs built without this pass.
pub fn dense_weights(graph: &Graph, node: &Node) -> Option<(Vec<f32>, Option<Vec<f32>>)> {
    let [n, k] = dense_shape(graph, node)?;
    let (alpha, beta, trans_b) = match node.op {
        Op::Linear(LinearOp::Gemm {
            alpha,
            beta,
            trans_b,
            ..
        }) => (alpha, beta, trans_b),
        _ => (1.0, 0.0, false),
    };
    let bv = graph.constant(node.input(1)?)?.to_f32();
    let mut w = vec![0f32; n * k];
    for j in 0..n {
        for l in 0..k {
            let v = if trans_b {
                bv[j * k + l]
            } else {
                bv[l * n + j]
            };
            w[j * k + l] = alpha * v;
        }
    }
    let bias = match node
        .input(2)
        .filter(|_| matches!(node.op, Op::Linear(LinearOp::Gemm { .. })))
    {
        None => None,
        Some(id) => {
            let c = graph.constant(id)?;
            let cv = c.to_f32();
            let row = match c.shape.as_slice() {
                [] | [1] | [1, 1] => vec![cv[0]; n],
                [m] | [1, m] if *m == n => cv,
                _ => return None,
            };
            Some(row.iter().map(|&v| beta * v).collect())
        }
    };
    Some((w, bias))
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
