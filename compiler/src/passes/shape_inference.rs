//! Shape inference: gives every value of a node a static shape (each op's rule is in its
//! family's file under `ops/`; this is the node-generic part), from the static shapes of its
//! inputs and the constants it reads (Reshape targets, Pad amounts, axes). It also resolves what
//! only shapes decide: `auto_pad` into explicit pads, an omitted `kernel_shape`, `Shape` nodes
//! into constants. It checks that shapes add up and names the node when they do not, including
//! a resolution too small for the strides.
//!
//! It runs node by node, interleaved with constant folding (see `passes::specialise`), because
//! exporters compute Reshape targets from `Shape` of activations.

use crate::error::{Error, Result};
use crate::ir::ShapeOp;
use crate::ir::{DType, Graph, Op};
use crate::ops;

/// Infers the output shapes of node `index`. Inputs must already have shapes.
pub fn infer(graph: &mut Graph, index: usize) -> Result<()> {
    let node = &graph.nodes[index];
    let mut in_shapes = Vec::with_capacity(node.inputs.len());
    for input in &node.inputs {
        in_shapes.push(match input {
            Some(id) => Some(graph.known_shape(*id, node)?.to_vec()),
            None => None,
        });
    }
    // Only the first output carries data; the others (Dropout's mask, MaxPool's indices, ...)
    // must not be read.
    for &extra in node.outputs.iter().skip(1) {
        if graph.use_count(extra) > 0 {
            return Err(Error::node(
                node,
                None,
                format!(
                    "output '{}' is not supported (only the first output may be used)",
                    graph.values[extra].name
                ),
            ));
        }
    }
    let x = in_shapes
        .first()
        .cloned()
        .flatten()
        .ok_or_else(|| Error::node(node, None, "its first input is missing"))?;
    let mut op = node.op.clone();
    let cx = ops::InferCx {
        graph,
        node,
        x,
        in_shapes,
    };
    let (out, constant_out) = match ops::infer(&mut op, &cx)? {
        ops::Inferred::Shape(shape) => (shape, None),
        ops::Inferred::Constant(t) => (t.shape.clone(), Some(t)),
        ops::Inferred::Folded => return Ok(()),
    };
    let out_id = node.outputs[0];
    crate::limits::check_shape(&out, &format!("the output of node '{}'", node.name))?;
    let x = &graph.values[node.inputs[0].expect("checked")];
    let (dtype, quant) = match &op {
        Op::Shape(ShapeOp::Shape { .. }) => (DType::I64, None),
        Op::Shape(ShapeOp::Cast { to }) => (*to, None),
        Op::Quant(q) => ops::quant::out_type(graph, node, q, &out)?,
        // Quantized values keep their parameters through ops that only move elements (a
        // transpose only per-tensor ones: it would move a per-channel axis).
        op if op.is_reshape_like() => (x.dtype, x.quant.clone()),
        Op::Shape(ShapeOp::Transpose { .. })
            if x.quant.as_ref().is_some_and(|q| q.axis.is_none()) =>
        {
            (x.dtype, x.quant.clone())
        }
        _ => (x.dtype, None),
    };
    graph.nodes[index].op = op;
    let value = &mut graph.values[out_id];
    value.shape = Some(out);
    value.dtype = dtype;
    value.quant = quant;
    if let Some(t) = constant_out {
        value.constant = Some(t);
    }
    Ok(())
}
