//! Gemm and MatMul with constant weights become `Dense` (weights `[N, K]`, bias `[N]`): Gemm's
//! `alpha`, `beta` and `transB` are folded into the constants. Gemm with `transA`, a non-constant
//! B or a C that is not a row vector stays as it is (the interpreter runs it).

use crate::error::Result;
use crate::ir::{Clamp, Graph, Op, Tensor};

pub fn run(graph: &mut Graph) -> Result<()> {
    for index in 0..graph.nodes.len() {
        let node = &graph.nodes[index];
        let (alpha, beta, trans_b, has_c) = match node.op {
            Op::Gemm {
                alpha,
                beta,
                trans_a: false,
                trans_b,
            } => (alpha, beta, trans_b, true),
            Op::MatMul => (1.0, 0.0, false, false),
            _ => continue,
        };
        let Some(b) = node.input(1).and_then(|id| graph.constant(id)) else {
            continue;
        };
        let x_shape = graph
            .shape(node.inputs[0].expect("data input"))
            .unwrap_or(&[]);
        if x_shape.len() != 2 {
            continue;
        }
        let (rows, cols) = (b.shape[0], b.shape[1]);
        let (n, k) = if trans_b { (rows, cols) } else { (cols, rows) };
        let bv = b.to_f32();
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
        let bias = match node.input(2).filter(|_| has_c) {
            None => None,
            Some(id) => {
                let Some(c) = graph.constant(id) else {
                    continue;
                };
                let cv = c.to_f32();
                let row = match c.shape.as_slice() {
                    [] | [1] | [1, 1] => vec![cv[0]; n],
                    [m] | [1, m] if *m == n => cv,
                    _ => continue,
                };
                Some(row.iter().map(|&v| beta * v).collect::<Vec<f32>>())
            }
        };
        let name = node.name.clone();
        let w = graph.add_constant(format!("{name}.weight"), Tensor::f32(vec![n, k], w));
        let bias =
            bias.map(|b| graph.add_constant(format!("{name}.bias"), Tensor::f32(vec![n], b)));
        let node = &mut graph.nodes[index];
        node.op = Op::Dense { act: Clamp::LINEAR };
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
            let f = b.node("flatten", Op::Flatten { axis: 1 }, &[Some(b.x)]);
            let w = b.weights(if trans_b { &[4, 6] } else { &[6, 4] }, 3);
            let c = b.weights(&[4], 4);
            let y = b.node(
                "gemm",
                Op::Gemm {
                    alpha,
                    beta,
                    trans_a: false,
                    trans_b,
                },
                &[Some(f), Some(w), Some(c)],
            );
            let g = check_same_function(b.finish(y));
            assert!(matches!(g.nodes.last().unwrap().op, Op::Dense { .. }));
        }
        let mut b = GraphBuilder::new(&[1, 6, 1, 1]);
        let f = b.node("flatten", Op::Flatten { axis: 1 }, &[Some(b.x)]);
        let w = b.weights(&[6, 3], 5);
        let m = b.node("matmul", Op::MatMul, &[Some(f), Some(w)]);
        let bias = b.weights(&[3], 6);
        let y = b.node("add", Op::Binary(BinaryOp::Add), &[Some(m), Some(bias)]);
        let g = check_same_function(b.finish(y));
        assert_eq!(g.nodes.len(), 2, "MatMul + Add is one Dense: {:?}", g.nodes);
    }
}
