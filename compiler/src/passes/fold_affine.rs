//! Folds per-channel affine ops into the conv or dense layer before them: BatchNormalization
//! (`y = (x - mean) * gamma / sqrt(var + eps) + beta`), and Mul, Div, Add, Sub by a constant that
//! varies only along the channel axis (tf2onnx's BatchNorm after a bias-free depthwise conv, a
//! MatMul's bias Add). HardSigmoid (`max(0, min(1, alpha * x + beta))`) folds its affine part
//! the same way and stays as the clamp `Clip(0, 1)`, which `fuse_activation` takes into the
//! layer too (MobileNetV3's squeeze-and-excite gate). The producer must have no activation yet
//! and no other reader. New constants are created; shared weights are never modified in place.
//!
//! An affine op by scalar constants whose only reader is a dense float conv, directly or
//! through Transposes (which a scalar map commutes with), folds into that conv the other way:
//! `y = s * x + t` read by `conv(w, b)` is `conv(w * s, b + t * sum(w))` of `x`, with the
//! padding holding the value `x` has where `y` is zero, `-t / s` (`Conv::pad_value`; the
//! kernels' `PV`). That is Keras's in-graph `Rescaling` before MobileNetV3's stem.

use crate::error::Result;
use crate::ir::{ActivationOp, BinaryOp, Clamp, Graph, Op, Tensor};
use crate::ir::{LinearOp, NormalizationOp};
use crate::ops::normalization::batch_norm_affine;

pub fn run(graph: &mut Graph) -> Result<()> {
    let mut index = 0;
    while index < graph.nodes.len() {
        if let Some((scale, shift)) = affine_of(graph, index)
            && let Some(producer) = foldable_producer(graph, index, scale.len())
        {
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
        index += 1;
    }
    // From the start again after each fold: an affine op before the folded one (Mul then Add)
    // may now be read by the conv.
    let mut index = 0;
    while index < graph.nodes.len() {
        if fold_into_reader(graph, index) {
            index = 0;
            continue;
        }
        index += 1;
    }
    Ok(())
}

/// Folds node `index` into the dense conv that alone reads it (through Transposes) if it is an
/// affine op by scalar constants; whether it did.
fn fold_into_reader(graph: &mut Graph, index: usize) -> bool {
    let Some((scale, shift)) = affine_of(graph, index) else {
        return false;
    };
    let node = &graph.nodes[index];
    if matches!(node.op, Op::Activation(_) | Op::Normalization(_)) {
        return false;
    }
    let (s, t) = (scale[0], shift[0]);
    let scalar = scale.iter().all(|&v| v == s) && shift.iter().all(|&v| v == t);
    if !scalar || s == 0.0 || !s.is_finite() || !t.is_finite() {
        return false;
    }
    // The reader, through Transposes that are the only readers of their inputs.
    let sole_reader = |v| match graph.consumers(v)[..] {
        [r] if graph.use_count(v) == 1 => Some(r),
        _ => None,
    };
    let mut value = node.outputs[0];
    let conv = loop {
        let Some(r) = sole_reader(value) else {
            return false;
        };
        match &graph.nodes[r].op {
            Op::Shape(crate::ir::ShapeOp::Transpose { .. }) => value = graph.nodes[r].outputs[0],
            Op::Conv(_) => break r,
            _ => return false,
        }
    };
    let reader = &graph.nodes[conv];
    let Op::Conv(c) = &reader.op else {
        return false;
    };
    let float = reader
        .outputs
        .iter()
        .all(|&y| graph.values[y].dtype == crate::ir::DType::F32);
    let Some(weight) = reader.input(1).and_then(|w| graph.constant(w)) else {
        return false;
    };
    if c.group != 1 || reader.input(0) != Some(value) || reader.inputs.len() > 3 || !float {
        return false;
    }
    let pads = c.window.pads != [0; 4];
    let pad_value = if pads { (c.pad_value - t) / s } else { 0.0 };
    if !pad_value.is_finite() {
        return false;
    }
    let co = weight.shape[0];
    let per_out = weight.len() / co;
    let w = weight.to_f32();
    let old_bias = reader
        .input(2)
        .and_then(|id| graph.constant(id))
        .map(Tensor::to_f32);
    let bias: Vec<f32> = (0..co)
        .map(|o| {
            let sum: f64 = w[o * per_out..][..per_out].iter().map(|&v| v as f64).sum();
            (old_bias.as_ref().map_or(0.0, |b| b[o]) as f64 + t as f64 * sum) as f32
        })
        .collect();
    let scaled: Vec<f32> = w.iter().map(|v| v * s).collect();
    let (name, wshape) = (reader.name.clone(), weight.shape.clone());
    let wv = graph.add_constant(format!("{name}.weight"), Tensor::f32(wshape, scaled));
    let bv = graph.add_constant(format!("{name}.bias"), Tensor::f32(vec![co], bias));
    let reader = &mut graph.nodes[conv];
    reader.inputs.resize(3, None);
    reader.inputs[1] = Some(wv);
    reader.inputs[2] = Some(bv);
    if let Op::Conv(c) = &mut reader.op {
        c.pad_value = pad_value;
    }
    // The affine op's data input takes its place.
    let node = graph.nodes.remove(index);
    let data = node
        .inputs
        .iter()
        .flatten()
        .copied()
        .find(|&i| graph.values[i].constant.is_none())
        .expect("an affine op has a data input");
    graph.replace_uses(node.outputs[0], data);
    true
}

/// `y = x * scale[c] + shift[c]` for node `index`, if it is such an affine op.
fn affine_of(graph: &Graph, index: usize) -> Option<(Vec<f32>, Vec<f32>)> {
    let node = &graph.nodes[index];
    // The data operand (a binary op's constant may come first).
    let x = match &node.op {
        Op::Binary(_) => node
            .inputs
            .iter()
            .flatten()
            .copied()
            .find(|&i| graph.constant(i).is_none())?,
        _ => node.input(0)?,
    };
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

    /// Keras's `Rescaling` before the stem: `x * (1 / 127.5) + (-1)` on an NHWC input, a
    /// Transpose to NCHW, a 3x3 stride-2 conv padded at the end only (TensorFlow's SAME).
    fn rescaled_stem(pads: [usize; 4]) -> Graph {
        let mut b = GraphBuilder::new(&[1, 7, 8, 3]);
        let s = b.constant(Tensor::f32(vec![], vec![1.0 / 127.5]));
        let t = b.constant(Tensor::f32(vec![1], vec![-1.0]));
        let m = b.node("mul", Op::Binary(BinaryOp::Mul), &[Some(b.x), Some(s)]);
        let a = b.node("add", Op::Binary(BinaryOp::Add), &[Some(t), Some(m)]);
        let perm = Op::Shape(ShapeOp::Transpose {
            perm: Some(vec![0, 3, 1, 2]),
        });
        let nchw = b.node("transpose", perm, &[Some(a)]);
        let (w, bias) = (b.weights(&[5, 3, 3, 3], 1), b.weights(&[5], 2));
        let mut op = conv(3, 2, 0, 1);
        if let Op::Conv(c) = &mut op {
            c.window.pads = pads;
        }
        let y = b.node("conv", op, &[Some(nchw), Some(w), Some(bias)]);
        b.finish(y)
    }

    #[test]
    fn an_input_rescaling_folds_into_the_stem_with_its_pad_value() {
        for (pads, pad_value) in [([0, 0, 1, 1], 127.5), ([1, 1, 1, 1], 127.5), ([0; 4], 0.0)] {
            // Inputs of 0..255 as Keras feeds them: the padded taps matter.
            let g = rescaled_stem(pads);
            let mut plain = g.clone();
            crate::passes::run(&mut plain, None, false).unwrap();
            let mut opt = g;
            crate::passes::run(&mut opt, None, true).unwrap();
            let ops: Vec<_> = opt.nodes.iter().map(|n| n.op.name()).collect();
            assert_eq!(ops, ["Transpose", "Conv"], "{pads:?}");
            let Op::Conv(c) = &opt.nodes[1].op else {
                panic!()
            };
            assert!((c.pad_value - pad_value).abs() < 1e-4, "{}", c.pad_value);
            let shape = plain.shape(plain.input.value).unwrap().to_vec();
            let x: Vec<f32> = (0..shape.iter().product::<usize>())
                .map(|i| (i * 37 % 256) as f32)
                .collect();
            let x = Tensor::f32(shape, x);
            let a = crate::interp::run(&plain, &x).unwrap()[0].to_f32();
            let b = crate::interp::run(&opt, &x).unwrap()[0].to_f32();
            for (p, q) in a.iter().zip(&b) {
                assert!(
                    (p - q).abs() <= 1e-4 * p.abs().max(1.0),
                    "{pads:?}: {p} vs {q}"
                );
            }
        }
    }

    /// A rescaling whose result another reader (here a graph output) needs stays.
    #[test]
    fn an_input_rescaling_with_another_reader_stays() {
        let mut g = rescaled_stem([1, 1, 1, 1]);
        let add = g.nodes[1].outputs[0];
        g.outputs.push(add);
        crate::passes::run(&mut g, None, true).unwrap();
        let ops: Vec<_> = g.nodes.iter().map(|n| n.op.name()).collect();
        assert_eq!(ops, ["Mul", "Add", "Transpose", "Conv"]);
    }

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
