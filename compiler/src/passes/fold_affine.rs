//! Folds per-channel affine ops into the conv or dense layer before them: BatchNormalization
//! (`y = (x - mean) * gamma / sqrt(var + eps) + beta`), and Mul, Div, Add, Sub by a constant that
//! varies only along the channel axis (tf2onnx's BatchNorm after a bias-free depthwise conv, a
//! MatMul's bias Add). HardSigmoid (`max(0, min(1, alpha * x + beta))`) folds its affine part
//! the same way and stays as the clamp `Clip(0, 1)`, which `fuse_activation` takes into the
//! layer too (MobileNetV3's squeeze-and-excite gate). The producer must have no activation yet
//! and no other reader. New constants are created; shared weights are never modified in place.

use crate::error::Result;
use crate::ir::{ActivationOp, BinaryOp, Clamp, Graph, Op, Tensor};
use crate::ir::{LinearOp, NormalizationOp};
use crate::ops::normalization::batch_norm_affine;

pub fn run(graph: &mut Graph) -> Result<()> {
    let mut index = 0;
    while index < graph.nodes.len() {
        if let Some((scale, shift)) = affine_of(graph, index) {
            if let Some(producer) = foldable_producer(graph, index, scale.len()) {
                apply(graph, producer, &scale, &shift);
                let node = &mut graph.nodes[index];
                if let Op::Activation(ActivationOp::HardSigmoid { .. }) = node.op {
                    // What is left of it: the clamp to [0, 1].
                    node.op = Op::Activation(ActivationOp::Clip(Clamp::new(0.0, 1.0)));
                    index += 1;
                    continue;
                }
                // `scale` and `shift` hold the meaning now: put the activation first to absorb.
                if node
                    .input(0)
                    .is_some_and(|a| graph.values[a].constant.is_some())
                {
                    node.inputs.swap(0, 1);
                }
                graph.absorb_into_producer(index);
                continue;
            }
        }
        index += 1;
    }
    Ok(())
}

/// `y = x * scale[c] + shift[c]` for node `index`, if it is such an affine op.
fn affine_of(graph: &Graph, index: usize) -> Option<(Vec<f32>, Vec<f32>)> {
    let node = &graph.nodes[index];
    let x = node.input(0)?;
    let shape = graph.shape(x)?;
    let channels = *shape.get(1)?;
    match &node.op {
        &Op::Activation(ActivationOp::HardSigmoid { alpha, beta }) => {
            Some((vec![alpha; channels], vec![beta; channels]))
        }
        Op::Normalization(NormalizationOp::BatchNorm { epsilon }) => {
            let [g, b, m, v] = [1, 2, 3, 4].map(|i| {
                node.input(i)
                    .and_then(|id| graph.constant(id))
                    .map(Tensor::to_f32)
            });
            let (g, b, m, v) = (g?, b?, m?, v?);
            Some(batch_norm_affine([&g, &b, &m, &v], *epsilon, channels))
        }
        Op::Binary(op) => {
            let (a, b) = (node.input(0)?, node.input(1)?);
            // Which operand is the constant; the activation must be the other one.
            let (constant, constant_first) = match (graph.constant(a), graph.constant(b)) {
                (None, Some(c)) => (c, false),
                (Some(c), None) => (c, true),
                _ => return None,
            };
            let activation = if constant_first { b } else { a };
            let act_shape = graph.shape(activation)?;
            let c = per_channel(constant, act_shape)?;
            let ones = vec![1f32; c.len()];
            let zeros = vec![0f32; c.len()];
            match (op, constant_first) {
                (BinaryOp::Mul, _) => Some((c, zeros)),
                (BinaryOp::Div, false) => Some((c.iter().map(|v| 1.0 / v).collect(), zeros)),
                (BinaryOp::Add, _) => Some((ones, c)),
                (BinaryOp::Sub, false) => Some((ones, c.iter().map(|v| -v).collect())),
                (BinaryOp::Sub, true) => Some((ones.iter().map(|v| -v).collect(), c)),
                (BinaryOp::Div, true) | (BinaryOp::Min | BinaryOp::Max, _) => None,
            }
            .filter(|_| graph.shape(node.outputs[0]) == Some(act_shape))
        }
        _ => None,
    }
}

/// The constant as one value per channel (axis 1) of an activation of shape `shape`, if it is
/// a scalar or varies only along that axis.
fn per_channel(t: &Tensor, shape: &[usize]) -> Option<Vec<f32>> {
    let channels = *shape.get(1)?;
    let v = t.to_f32();
    if v.len() == 1 {
        return Some(vec![v[0]; channels]);
    }
    if t.shape.len() > shape.len() || v.len() != channels {
        return None;
    }
    // Right-aligned, the channel count must sit on axis 1.
    let offset = shape.len() - t.shape.len();
    let axis = t.shape.iter().position(|&d| d == channels)? + offset;
    (axis == 1).then_some(v)
}

/// The conv or dense node that feeds node `index` alone, with `channels` outputs, no activation.
fn foldable_producer(graph: &Graph, index: usize, channels: usize) -> Option<usize> {
    let node = &graph.nodes[index];
    let activation = node
        .inputs
        .iter()
        .flatten()
        .copied()
        .find(|&i| graph.values[i].constant.is_none())?;
    let producer = graph.producer(activation)?;
    if graph.use_count(activation) != 1 {
        return None;
    }
    let node = &graph.nodes[producer];
    let linear = match &node.op {
        Op::Conv(c) => c.act.is_linear(),
        Op::Linear(LinearOp::Dense { act }) => act.is_linear(),
        _ => false,
    };
    let weight = graph.constant(node.input(1)?)?;
    (linear && weight.shape[0] == channels).then_some(producer)
}

fn apply(graph: &mut Graph, producer: usize, scale: &[f32], shift: &[f32]) {
    let node = &graph.nodes[producer];
    let weight = graph
        .constant(node.input(1).expect("checked"))
        .expect("checked");
    let per_out = weight.len() / scale.len();
    let mut w = weight.to_f32();
    for (o, chunk) in w.chunks_mut(per_out).enumerate() {
        chunk.iter_mut().for_each(|v| *v *= scale[o]);
    }
    let old_bias = node
        .input(2)
        .and_then(|id| graph.constant(id))
        .map(Tensor::to_f32);
    let bias: Vec<f32> = (0..scale.len())
        .map(|o| old_bias.as_ref().map_or(0.0, |b| b[o]) * scale[o] + shift[o])
        .collect();
    let (name, wshape) = (node.name.clone(), weight.shape.clone());
    let w = graph.add_constant(format!("{name}.weight"), Tensor::f32(wshape, w));
    let b = graph.add_constant(format!("{name}.bias"), Tensor::f32(vec![scale.len()], bias));
    let node = &mut graph.nodes[producer];
    node.inputs.resize(3, None);
    node.inputs[1] = Some(w);
    node.inputs[2] = Some(b);
}

#[cfg(test)]
mod tests {
    use crate::ir::*;
    use crate::passes::tests::{GraphBuilder, check_same_function, conv};

    #[test]
    fn batchnorm_folds_into_a_conv() {
        let mut b = GraphBuilder::new(&[1, 3, 8, 8]);
        let w = b.weights(&[4, 3, 3, 3], 1);
        let c = b.node("conv", conv(3, 1, 1, 1), &[Some(b.x), Some(w), None]);
        let gamma = b.weights(&[4], 2);
        let beta = b.weights(&[4], 3);
        let mean = b.weights(&[4], 4);
        let var = b.constant(Tensor::f32(vec![4], vec![0.5, 1.0, 1.5, 2.0]));
        let y = b.node(
            "bn",
            Op::Normalization(NormalizationOp::BatchNorm { epsilon: 1e-3 }),
            &[Some(c), Some(gamma), Some(beta), Some(mean), Some(var)],
        );
        let g = check_same_function(b.finish(y));
        assert_eq!(g.nodes.len(), 1);
    }

    /// HardSigmoid after a linear conv: its affine part goes into the weights, its clamp to
    /// [0, 1] into the epilogue, for any alpha (0 too: a constant gate of beta); after a
    /// ReLU it stays.
    #[test]
    fn hard_sigmoid_folds_into_a_linear_conv() {
        for (alpha, relu_first) in [(0.2, false), (1.0 / 6.0, false), (0.0, false), (0.2, true)] {
            let mut b = GraphBuilder::new(&[1, 3, 8, 8]);
            let w = b.weights(&[4, 3, 1, 1], 1);
            let bias = b.weights(&[4], 2);
            let mut c = b.node("conv", conv(1, 1, 0, 1), &[Some(b.x), Some(w), Some(bias)]);
            if relu_first {
                let relu = Op::Activation(ActivationOp::Clip(Clamp::RELU));
                c = b.node("relu", relu, &[Some(c)]);
            }
            let op = ActivationOp::HardSigmoid { alpha, beta: 0.5 };
            let y = b.node("hsig", Op::Activation(op), &[Some(c)]);
            let g = check_same_function(b.finish(y));
            let ops: Vec<&str> = g.nodes.iter().map(|n| n.op.name()).collect();
            if relu_first {
                assert_eq!(ops, ["Conv", "HardSigmoid"]);
            } else {
                assert_eq!(ops, ["Conv"], "alpha {alpha}");
                let Op::Conv(c) = &g.nodes[0].op else {
                    panic!()
                };
                assert_eq!(c.act, Clamp::new(0.0, 1.0));
            }
        }
    }

    #[test]
    fn per_channel_mul_add_sub_div_fold_into_a_depthwise_conv() {
        for (op, first) in [
            (BinaryOp::Mul, false),
            (BinaryOp::Mul, true),
            (BinaryOp::Div, false),
            (BinaryOp::Sub, true),
            (BinaryOp::Sub, false),
        ] {
            let mut b = GraphBuilder::new(&[1, 4, 7, 7]);
            let w = b.weights(&[4, 1, 3, 3], 1);
            let c = b.node("dw", conv(3, 2, 1, 4), &[Some(b.x), Some(w), None]);
            let k = b.constant(Tensor::f32(vec![1, 4, 1, 1], vec![0.5, -2.0, 3.0, 1.25]));
            let inputs = if first {
                [Some(k), Some(c)]
            } else {
                [Some(c), Some(k)]
            };
            let m = b.node("affine", Op::Binary(op), &inputs);
            let bias = b.constant(Tensor::f32(vec![4, 1, 1], vec![0.1, 0.2, 0.3, 0.4]));
            let y = b.node("add", Op::Binary(BinaryOp::Add), &[Some(m), Some(bias)]);
            let g = check_same_function(b.finish(y));
            assert_eq!(g.nodes.len(), 1, "{op:?} {first}: {:?}", g.nodes);
        }
    }

    #[test]
    fn a_constant_that_is_not_per_channel_stays() {
        let mut b = GraphBuilder::new(&[1, 2, 3, 3]);
        let w = b.weights(&[2, 2, 1, 1], 1);
        let c = b.node("pw", conv(1, 1, 0, 1), &[Some(b.x), Some(w), None]);
        let k = b.weights(&[1, 1, 3, 3], 2);
        let y = b.node("mul", Op::Binary(BinaryOp::Mul), &[Some(c), Some(k)]);
        let g = check_same_function(b.finish(y));
        assert_eq!(g.nodes.len(), 2);
    }
}
