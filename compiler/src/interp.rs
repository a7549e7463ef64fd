//! The reference interpreter: evaluates the IR with plain loops, f32 storage and f64
//! accumulation. It is the oracle for the passes (a graph must compute the same function before
//! and after them) and for generated code, and constant folding uses it to evaluate nodes whose
//! inputs are all constants. It must stay simple enough to be obviously right; speed is not its job.

use crate::error::{Error, Result};
use crate::ir::{Graph, Node, Tensor, ValueId};
use crate::ops;

/// Runs the graph on `input` (in the graph input's own layout and shape) and returns its outputs.
pub fn run(graph: &Graph, input: &Tensor) -> Result<Vec<Tensor>> {
    run_observed(graph, input, |_, _| {})
}

/// [`run`], showing `observe` the input and every value a node computes, as it is computed
/// (calibration for `mnetc quantize` collects their ranges this way).
pub fn run_observed(
    graph: &Graph,
    input: &Tensor,
    mut observe: impl FnMut(ValueId, &Tensor),
) -> Result<Vec<Tensor>> {
    let input_id = graph.input.value;
    let want = graph
        .shape(input_id)
        .ok_or_else(|| Error::Internal("input shape is not specialised".into()))?;
    if input.shape != want || input.as_f32().is_none() {
        return Err(Error::Options(format!(
            "the input has shape {:?}, the model expects float32 {:?}",
            input.shape, want
        )));
    }
    let mut env: Vec<Option<Tensor>> = graph.values.iter().map(|v| v.constant.clone()).collect();
    observe(input_id, input);
    env[input_id] = Some(input.clone());
    // Activations are dropped after their last reader, so whole-model runs stay small.
    let mut last_use = vec![usize::MAX; graph.values.len()];
    for (i, node) in graph.nodes.iter().enumerate() {
        for &id in node.inputs.iter().flatten() {
            if graph.values[id].constant.is_none() && !graph.outputs.contains(&id) {
                last_use[id] = i;
            }
        }
    }
    for (i, node) in graph.nodes.iter().enumerate() {
        let inputs: Vec<Option<&Tensor>> = node
            .inputs
            .iter()
            .map(|input| input.and_then(|id| env[id].as_ref()))
            .collect();
        let outputs = eval(graph, node, &inputs)?;
        for (id, t) in node.outputs.iter().zip(outputs) {
            observe(*id, &t);
            env[*id] = Some(t);
        }
        for &id in node.inputs.iter().flatten() {
            if last_use[id] == i {
                env[id] = None;
            }
        }
    }
    graph
        .outputs
        .iter()
        .map(|&id| {
            env[id].take().ok_or_else(|| {
                Error::Internal(format!(
                    "output '{}' was not computed",
                    graph.values[id].name
                ))
            })
        })
        .collect()
}

/// Evaluates one node (its family's arithmetic is in `ops/`). `graph` provides static shapes
/// and constant inputs.
pub fn eval(graph: &Graph, node: &Node, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    let x = inputs
        .first()
        .copied()
        .flatten()
        .ok_or_else(|| Error::node(node, None, "input 0 is not available"))?;
    let cx = ops::EvalCx {
        graph,
        node,
        inputs,
        x,
    };
    Ok(vec![ops::eval(&cx)?])
}
