//! Resolution: fixes the graph input's shape and specialises the graph to it.
//!
//! The batch dimension becomes 1 (a symbolic batch is noted for `inspect`). The spatial size is
//! the one declared by the model, or `--res R` (R x R). A model whose spatial size is symbolic
//! needs `--res`. When R differs from the declared size, every shape is re-inferred at R, and a
//! node that fixes the old size refuses with an error naming it: a Reshape to a literal shape or a
//! fully connected layer that receives a size-dependent tensor, or a pooling window that covered
//! the whole feature map at the declared size (a fixed 7x7 head). Global pooling and `ReduceMean`
//! heads absorb any size, so such models re-specialise freely.

use crate::error::{Error, Result};
use crate::ir::{Dim, Graph, Op};
use crate::ir::{LinearOp, PoolOp, ShapeOp};

pub use crate::ir::MAX_RESOLUTION;

pub fn run(graph: &mut Graph, resolution: Option<usize>) -> Result<()> {
    let declared = graph.input.declared.clone();
    let [ha, wa] = graph.input.layout.spatial_axes();
    let channel_axis = match graph.input.layout {
        crate::ir::InputLayout::Nchw => 1,
        crate::ir::InputLayout::Nhwc => 3,
    };
    let input_name = graph.values[graph.input.value].name.clone();
    let mut shape = Vec::with_capacity(declared.len());
    for (axis, dim) in declared.iter().enumerate() {
        shape.push(match (dim, axis) {
            (Dim::Fixed(d), 0) if *d != 1 => {
                return Err(Error::Model(format!("input '{input_name}' has batch size {d}; mnetc compiles batch 1")));
            }
            (Dim::Symbolic(name), 0) => {
                let note = format!("input '{input_name}' has a symbolic batch dimension '{name}'; treated as 1");
                if !graph.notes.contains(&note) {
                    graph.notes.push(note);
                }
                1
            }
            (_, a) if (a == ha || a == wa) && resolution.is_some() => resolution.unwrap_or(0),
            (Dim::Fixed(d), _) => *d,
            (Dim::Symbolic(name), a) if a == channel_axis => {
                return Err(Error::Model(format!("input '{input_name}' has a symbolic channel dimension '{name}'")));
            }
            (Dim::Symbolic(name), _) => {
                return Err(Error::Options(format!(
                    "input '{input_name}' has a symbolic spatial dimension '{name}'; give the resolution with --res"
                )));
            }
        });
    }
    for &a in &[ha, wa] {
        if shape[a] == 0 || shape[a] > MAX_RESOLUTION {
            return Err(Error::Options(format!(
                "resolution {} is out of range (1 to {MAX_RESOLUTION})",
                shape[a]
            )));
        }
    }
    if shape[channel_axis] == 0 || shape[channel_axis] > 4096 {
        return Err(Error::Model(format!(
            "input '{input_name}' has {} channels",
            shape[channel_axis]
        )));
    }
    crate::limits::check_shape(&shape, &format!("input '{input_name}'"))?;
    let original: Option<Vec<usize>> = declared
        .iter()
        .enumerate()
        .map(|(a, d)| match d {
            Dim::Fixed(v) => Some(*v),
            Dim::Symbolic(_) if a == 0 => Some(1),
            Dim::Symbolic(_) => None,
        })
        .collect();
    let mut reference = None;
    if let Some(original) = original.filter(|o| *o != shape) {
        let mut g = graph.clone();
        g.values[g.input.value].shape = Some(original);
        if super::infer_all(&mut g).is_ok() {
            reference = Some(g);
        }
    }
    graph.values[graph.input.value].shape = Some(shape);
    let result = super::infer_all(graph);
    if let Some(reference) = &reference {
        let reached = match &result {
            Ok(()) => graph.nodes.len(),
            Err((index, _)) => index + 1,
        };
        check_pinning(reference, graph, reached, resolution.unwrap_or(0))?;
    }
    result.map_err(|(_, e)| e)?;
    super::constant_folding::sweep(graph);
    Ok(())
}

/// Finds the first of the first `reached` nodes that fixes the declared input size.
fn check_pinning(reference: &Graph, graph: &Graph, reached: usize, res: usize) -> Result<()> {
    let differs = |id: usize| match (reference.shape(id), graph.shape(id)) {
        (Some(a), Some(b)) => a != b,
        _ => true,
    };
    for node in &graph.nodes[..reached] {
        let Some(x) = node.input(0) else { continue };
        if !differs(x) || graph.shape(x).is_none() {
            continue;
        }
        let reason = match &node.op {
            Op::Pool(PoolOp::AveragePool(_)) | Op::Pool(PoolOp::MaxPool(_)) => {
                let (ri, ro) = (reference.shape(x), reference.shape(node.outputs[0]));
                let covers = matches!((ri, ro), (Some(i), Some(o)) if o[2] == 1 && o[3] == 1 && (i[2] > 1 || i[3] > 1));
                covers.then(|| {
                    "its fixed window covers the whole feature map at the declared size".to_string()
                })
            }
            Op::Shape(ShapeOp::Reshape { .. }) => {
                let literal = node
                    .input(1)
                    .is_some_and(|s| reference.constant(s) == graph.constant(s));
                literal
                    .then(|| "it reshapes a size-dependent tensor to a literal shape".to_string())
            }
            Op::Linear(LinearOp::Gemm { .. })
            | Op::Linear(LinearOp::MatMul)
            | Op::Linear(LinearOp::Dense { .. }) => {
                Some("its weights fix the size of its input".to_string())
            }
            _ => None,
        };
        if let Some(reason) = reason {
            return Err(Error::node(
                node,
                None,
                format!("the model cannot be re-specialised to resolution {res}: {reason}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::ir::*;
    use crate::passes::tests::{GraphBuilder, conv};

    fn head(pool: Op) -> Graph {
        let mut b = GraphBuilder::new(&[1, 3, 32, 32]);
        let w = b.weights(&[4, 3, 3, 3], 1);
        let c = b.node("conv", conv(3, 2, 1, 1), &[Some(b.x), Some(w), None]);
        let p = b.node("pool", pool, &[Some(c)]);
        let f = b.node(
            "flatten",
            Op::Shape(ShapeOp::Flatten { axis: 1 }),
            &[Some(p)],
        );
        let fw = b.weights(&[4, 5], 2);
        let y = b.node(
            "fc",
            Op::Linear(LinearOp::Gemm {
                alpha: 1.0,
                beta: 1.0,
                trans_a: false,
                trans_b: false,
            }),
            &[Some(f), Some(fw), None],
        );
        b.finish(y)
    }

    #[test]
    fn global_pooling_heads_take_any_resolution() {
        let mut g = head(Op::Pool(PoolOp::GlobalAveragePool));
        crate::passes::run(&mut g, Some(57), true).unwrap();
        assert_eq!(g.shape(g.input.value), Some(&[1usize, 3, 57, 57][..]));
        assert_eq!(g.shape(g.outputs[0]), Some(&[1usize, 5][..]));
    }

    #[test]
    fn a_fixed_pooling_window_pins_the_size() {
        let pool = Op::Pool(PoolOp::AveragePool(Pool {
            window: Window::square(16, 1, 0),
            ceil_mode: false,
            count_include_pad: false,
        }));
        for res in [64, 24] {
            let err = crate::passes::run(&mut head(pool.clone()), Some(res), true).unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.contains("node 'pool' (AveragePool)")
                    && msg.contains("covers the whole feature map"),
                "{msg}"
            );
        }
        // The declared size itself is fine.
        crate::passes::run(&mut head(pool), Some(32), true).unwrap();
    }

    #[test]
    fn a_literal_reshape_of_a_feature_map_pins_the_size_but_not_after_pooling() {
        let build = |pool_first: bool| {
            let mut b = GraphBuilder::new(&[1, 3, 8, 8]);
            let w = b.weights(&[2, 3, 3, 3], 1);
            let c = b.node("conv", conv(3, 2, 1, 1), &[Some(b.x), Some(w), None]);
            let (x, target) = if pool_first {
                (
                    b.node("gap", Op::Pool(PoolOp::GlobalAveragePool), &[Some(c)]),
                    vec![1, 2],
                )
            } else {
                (c, vec![1, 32])
            };
            let shape = b.constant(Tensor::i64(vec![2], target));
            let y = b.node(
                "reshape",
                Op::Shape(ShapeOp::Reshape { allowzero: false }),
                &[Some(x), Some(shape)],
            );
            b.finish(y)
        };
        let msg = crate::passes::run(&mut build(false), Some(16), true)
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "node 'reshape' (Reshape): the model cannot be re-specialised to resolution 16: it reshapes a size-dependent tensor to a literal shape"
        );
        crate::passes::run(&mut build(true), Some(16), true).unwrap();
    }

    #[test]
    fn too_small_a_resolution_names_the_node() {
        let mut b = GraphBuilder::new(&[1, 3, 32, 32]);
        let w = b.weights(&[4, 3, 3, 3], 1);
        let c1 = b.node("conv1", conv(3, 2, 0, 1), &[Some(b.x), Some(w), None]);
        let w2 = b.weights(&[4, 4, 3, 3], 2);
        let c2 = b.node("conv2", conv(3, 2, 0, 1), &[Some(c1), Some(w2), None]);
        let y = b.node("gap", Op::Pool(PoolOp::GlobalAveragePool), &[Some(c2)]);
        let mut g = b.finish(y);
        let msg = crate::passes::run(&mut g, Some(5), true)
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("node 'conv2' (Conv): input 2x2 (padded 2) is too small"),
            "{msg}"
        );
    }
}
