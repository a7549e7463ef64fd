//! Lowering: the optimised graph becomes a straight list of kernel calls over tensors with a
//! physical layout and a storage place. Decisions made here:
//!
//! - **Layout.** Conv and pooling ops read and write NHWC (logical NCHW shape, physical axis
//!   order `[0, 2, 3, 1]`); elementwise ops keep their input's layout; everything else is in
//!   logical order. A Transpose only relabels its input's memory, so it costs nothing; a layout
//!   change that is really needed is one strided copy. Layouts are compared on their non-unit
//!   axes, so `[1, C, 1, 1]` is the same in every layout.
//! - **Storage.** The graph input stays in the caller's array; activations live in the arena
//!   (planned later); reshapes alias their input; constants go into the weights blob, packed
//!   in the order their kernel reads them.
//! - **Kernel choice** per layer from the static shape: 1x1 stride-1 unpadded convs become a
//!   GEMM over pixels, depthwise convs the depthwise kernel, other convs the direct kernel.

use crate::error::{Error, Result};
use crate::ir::Graph;
use crate::ops;
pub use crate::program::{
    Kernel, Lowering, NHWC, Program, Step, Storage, TensorId, TensorInfo, dense_strides,
};
use crate::target::Target;

/// Lowers an optimised graph for `target`: each node through its op family's lowering
/// (`ops::lower`).
pub fn lower(graph: &Graph, target: Target) -> Result<Program> {
    if graph.outputs.len() != 1 {
        return Err(Error::Model(format!(
            "the graph has {} outputs; code generation supports exactly one",
            graph.outputs.len()
        )));
    }
    let input_shape = graph
        .shape(graph.input.value)
        .ok_or_else(|| Error::Internal("input not specialised".into()))?
        .to_vec();
    let mut l = Lowering::new(graph, target, input_shape);
    for node in &graph.nodes {
        let output = ops::lower(&mut l, node)?;
        l.of.insert(node.outputs[0], output);
    }
    let out = graph.outputs[0];
    l.program.output = match l.of.get(&out) {
        Some(&t) => t,
        None => {
            return Err(Error::Internal(format!(
                "output '{}' is not computed",
                graph.values[out].name
            )));
        }
    };
    Ok(l.program)
}
