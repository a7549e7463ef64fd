//! Constant folding: a node whose inputs are all constants (initializers, `Constant` nodes,
//! `Shape` results, earlier folds) is evaluated now, by the reference interpreter, and its
//! outputs become constants. `Identity` needs no evaluation. Folded nodes are removed by
//! [`sweep`] once the whole graph has been specialised.

use crate::error::Result;
use crate::interp;
use crate::ir::Graph;

/// Folds node `index` if all its inputs are constants. Returns whether it did.
pub fn fold(graph: &mut Graph, index: usize) -> Result<bool> {
    let node = &graph.nodes[index];
    let out = node.outputs[0];
    if graph.values[out].constant.is_some() {
        return Ok(true); // `Shape`, resolved by shape inference
    }
    if matches!(node.op, crate::ir::Op::Quant(_)) {
        // Quantized weights stay integers for `passes::quantize`, which folds what it does
        // not compute in integers (with `evaluate`).
        return Ok(false);
    }
    evaluate(graph, index)
}

/// Evaluates node `index` if all its inputs are constants, making its first output a
/// constant. Returns whether it did.
pub fn evaluate(graph: &mut Graph, index: usize) -> Result<bool> {
    let node = &graph.nodes[index];
    let out = node.outputs[0];
    let mut inputs = Vec::with_capacity(node.inputs.len());
    for input in &node.inputs {
        match input {
            None => inputs.push(None),
            Some(id) => match graph.constant(*id) {
                Some(t) => inputs.push(Some(t)),
                None => return Ok(false),
            },
        }
    }
    let result = interp::eval(graph, node, &inputs)?;
    let first = result.into_iter().next();
    if let Some(t) = first {
        let value = &mut graph.values[out];
        value.dtype = t.dtype();
        value.shape = Some(t.shape.clone());
        value.constant = Some(t);
    }
    Ok(true)
}

/// Removes the nodes whose first output became a constant.
pub fn sweep(graph: &mut Graph) {
    let values = &graph.values;
    graph
        .nodes
        .retain(|n| values[n.outputs[0]].constant.is_none());
}

#[cfg(test)]
mod tests {
    use crate::ir::{Op, ShapeOp, Tensor};
    use crate::passes::tests::GraphBuilder;

    #[test]
    fn folds_a_shape_subgraph_into_a_reshape_target() {
        // x [1,8,1,1] -> Shape -> Gather(0) -> Unsqueeze -> Concat(-1) -> Reshape
        let mut b = GraphBuilder::new(&[1, 8, 1, 1]);
        let shape = b.node(
            "shape",
            Op::Shape(ShapeOp::Shape {
                start: 0,
                end: None,
            }),
            &[Some(b.x)],
        );
        let zero = b.constant(Tensor::i64(vec![], vec![0]));
        let batch = b.node(
            "gather",
            Op::Shape(ShapeOp::Gather { axis: 0 }),
            &[Some(shape), Some(zero)],
        );
        let axes = b.constant(Tensor::i64(vec![1], vec![0]));
        let batch1 = b.node(
            "unsq",
            Op::Shape(ShapeOp::Unsqueeze),
            &[Some(batch), Some(axes)],
        );
        let minus1 = b.constant(Tensor::i64(vec![1], vec![-1]));
        let target = b.node(
            "concat",
            Op::Shape(ShapeOp::Concat { axis: 0 }),
            &[Some(batch1), Some(minus1)],
        );
        let y = b.node(
            "reshape",
            Op::Shape(ShapeOp::Reshape { allowzero: false }),
            &[Some(b.x), Some(target)],
        );
        let mut g = b.finish(y);
        crate::passes::specialise(&mut g, None).unwrap();
        assert_eq!(g.nodes.len(), 1, "only the Reshape is left: {:?}", g.nodes);
        assert_eq!(g.shape(y), Some(&[1usize, 8][..]));
        assert_eq!(g.constant(target).unwrap().to_i64(), vec![1, -1]);
    }
}
