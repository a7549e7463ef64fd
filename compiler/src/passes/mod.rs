//! The passes, and the one place that fixes their order.
//!
//! [`run`] applies, in this order:
//!
//! 1. [`resolution`]: fixes the input shape (batch 1, the `--res` override or the declared size)
//!    and, when the resolution changes, checks that no node pins the old size.
//! 2. [`shape_inference`] and [`constant_folding`], interleaved node by node in topological order
//!    ([`specialise`]): exporters compute Reshape targets from `Shape` of activations, so shapes
//!    need folded constants and folding needs shapes.
//! 3. [`quantize`]: in a quantized (QDQ) model, the ops between DequantizeLinear and
//!    QuantizeLinear become integer ops on the quantized values.
//! 4. [`dense`]: Gemm and MatMul with constant weights become `Dense`.
//! 5. [`fuse_pad`]: zero `Pad` nodes move into the padding of the conv they feed.
//! 6. [`hard_activation`]: hard-swish and hard-sigmoid spelt out as Add/Clip/Mul/Div become
//!    one `HardSwish` or `HardSigmoid` node (before `fold_affine` takes their `+ 3` into a
//!    conv's bias).
//! 7. [`fold_affine`]: BatchNormalization, and per-channel Mul/Add/Sub/Div by constants, fold
//!    into the preceding conv's (or dense layer's) weights and bias.
//! 8. [`fuse_activation`]: Relu and Clip move into the clamp of the preceding conv or dense layer.
//! 9. [`fuse_scale`]: a squeeze-and-excite gate's channel-wise Mul before a pointwise conv
//!    becomes that conv's input scale (applied to its weights at run time) where the weights
//!    are the smaller operand.
//! 10. [`dead_nodes`]: identities and no-op reshapes are bypassed, unused nodes and values
//!     dropped.
//!
//! Steps 1 to 3 are required for any use of the graph (they make every shape static, and a
//! quantized model compute in integers); steps 4 to 10 are the optimisations that
//! `Options::optimize = false` leaves out.

pub mod constant_folding;
pub mod dead_nodes;
pub mod dense;
pub mod fold_affine;
pub mod fuse_activation;
pub mod fuse_pad;
pub mod fuse_scale;
pub mod hard_activation;
pub mod quantize;
pub mod resolution;
pub mod shape_inference;

use crate::error::Result;
use crate::ir::Graph;

/// Runs the passes in the documented order. `resolution` re-specialises the input size.
pub fn run(graph: &mut Graph, resolution: Option<usize>, optimize: bool) -> Result<()> {
    specialise(graph, resolution)?;
    quantize::run(graph)?;
    if optimize {
        dense::run(graph)?;
        fuse_pad::run(graph)?;
        hard_activation::run(graph)?;
        fold_affine::run(graph)?;
        fuse_activation::run(graph)?;
        fuse_scale::run(graph)?;
        dead_nodes::run(graph)?;
    }
    Ok(())
}

/// Steps 1 and 2: a static shape for every value, constant subgraphs folded away.
pub fn specialise(graph: &mut Graph, resolution: Option<usize>) -> Result<()> {
    resolution::run(graph, resolution)
}

/// Shape inference and constant folding over all nodes, for an input shape already set.
/// On failure, returns the index of the node that failed with the error.
pub(crate) fn infer_all(
    graph: &mut Graph,
) -> std::result::Result<(), (usize, crate::error::Error)> {
    for index in 0..graph.nodes.len() {
        shape_inference::infer(graph, index).map_err(|e| (index, e))?;
        constant_folding::fold(graph, index).map_err(|e| (index, e))?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::ir::*;

    /// Builds small graphs for pass tests: one NCHW input, nodes added in order.
    pub struct GraphBuilder {
        pub graph: Graph,
        pub x: ValueId,
    }

    impl GraphBuilder {
        pub fn new(input: &[usize]) -> Self {
            let mut graph = Graph {
                values: Vec::new(),
                nodes: Vec::new(),
                input: GraphInput {
                    value: 0,
                    declared: input.iter().map(|&d| Dim::Fixed(d)).collect(),
                    layout: InputLayout::Nchw,
                },
                outputs: Vec::new(),
                notes: Vec::new(),
                source: "test".into(),
                provenance: Default::default(),
            };
            let x = graph.add_value("x", DType::F32);
            GraphBuilder { graph, x }
        }

        pub fn constant(&mut self, t: Tensor) -> ValueId {
            let name = format!("c{}", self.graph.values.len());
            self.graph.add_constant(name, t)
        }

        /// A constant filled with a deterministic, non-trivial pattern.
        pub fn weights(&mut self, shape: &[usize], seed: u64) -> ValueId {
            let t = crate::rng::Rng::new(seed).normal_tensor(shape, 0.5);
            self.constant(t)
        }

        pub fn node(&mut self, name: &str, op: Op, inputs: &[Option<ValueId>]) -> ValueId {
            let out = self.graph.add_value(format!("{name}_out"), DType::F32);
            self.graph.nodes.push(Node {
                name: name.into(),
                op,
                inputs: inputs.to_vec(),
                outputs: vec![out],
            });
            out
        }

        pub fn finish(mut self, output: ValueId) -> Graph {
            self.graph.outputs = vec![output];
            self.graph
        }
    }

    pub fn conv(kernel: usize, stride: usize, pad: usize, group: usize) -> Op {
        Op::Conv(Conv {
            window: Window::square(kernel, stride, pad),
            group,
            act: Clamp::LINEAR,
            pad_value: 0.0,
        })
    }

    /// Runs `graph` unoptimised and optimised on the same random input; asserts equal outputs
    /// and returns the optimised graph.
    pub fn check_same_function(graph: Graph) -> Graph {
        let mut plain = graph.clone();
        crate::passes::run(&mut plain, None, false).unwrap();
        let mut opt = graph;
        crate::passes::run(&mut opt, None, true).unwrap();
        let shape = plain.shape(plain.input.value).unwrap().to_vec();
        let input = crate::rng::Rng::new(7).normal_tensor(&shape, 1.0);
        let a = crate::interp::run(&plain, &input).unwrap();
        let b = crate::interp::run(&opt, &input).unwrap();
        assert_eq!(a[0].shape, b[0].shape);
        let (a, b) = (a[0].to_f32(), b[0].to_f32());
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-4 * (1.0 + x.abs()), "{x} vs {y}");
        }
        opt
    }
}
