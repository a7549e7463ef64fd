//! BatchNormalization in inference form, and the per-channel scale and shift it amounts to
//! (the one place that formula is written: the interpreter, the folding pass and the lowering
//! use it).

use super::elementwise::binary;
use super::{EvalCx, InferCx, Inferred};
use crate::error::{Error, Result};
use crate::ir::{BinaryOp, Node, NormalizationOp, Tensor};
use crate::program::{Lowering, TensorId};

/// Shape inference for BatchNorm: the output shape.
pub(crate) fn infer_batch_norm(cx: &InferCx) -> Result<Inferred> {
    let (node, x, in_shapes) = (cx.node, &cx.x, &cx.in_shapes);
    let out = {
        if x.len() < 2 {
            return Err(Error::node(
                node,
                None,
                format!("input shape {x:?} has no channel axis"),
            ));
        }
        for (i, s) in in_shapes.iter().enumerate().skip(1) {
            let s = s
                .as_ref()
                .ok_or_else(|| Error::node(node, None, format!("input {i} is missing")))?;
            if s.as_slice() != [x[1]] {
                return Err(Error::node(
                    node,
                    None,
                    format!("parameter {i} has shape {s:?}, expected [{}]", x[1]),
                ));
            }
        }
        x.clone()
    };
    Ok(Inferred::Shape(out))
}

/// BatchNormalization as the per-channel affine map it is at inference,
/// `y = x * scale + shift` with `scale = gamma / sqrt(var + epsilon)` and
/// `shift = beta - mean * scale`, from `[gamma, beta, mean, var]` over `channels` channels. In
/// f64, `scale` rounded to f32 before `shift` uses it, so the f32 pair is consistent. The one
/// place the formula is written: the interpreter, the folding pass and the lowering use it.
pub fn batch_norm_affine(
    [gamma, beta, mean, var]: [&[f32]; 4],
    epsilon: f32,
    channels: usize,
) -> (Vec<f32>, Vec<f32>) {
    let scale: Vec<f32> = (0..channels)
        .map(|c| (gamma[c] as f64 / (var[c] as f64 + epsilon as f64).sqrt()) as f32)
        .collect();
    let shift = (0..channels)
        .map(|c| (beta[c] as f64 - mean[c] as f64 * scale[c] as f64) as f32)
        .collect();
    (scale, shift)
}

/// The reference evaluation of BatchNorm.
pub(crate) fn eval_batch_norm(cx: &EvalCx, epsilon: &f32) -> Result<Tensor> {
    let x = cx.x;
    Ok({
        let [g, b, m, v] = [1, 2, 3, 4].map(|i| cx.arg(i).map(Tensor::to_f32));
        let (g, b, m, v) = (g?, b?, m?, v?);
        let c = x.shape[1];
        let (scale, shift) = batch_norm_affine([&g, &b, &m, &v], *epsilon, c);
        let inner: usize = x.shape[2..].iter().product();
        let mut y = cx.xf()?.to_vec();
        for (i, val) in y.iter_mut().enumerate() {
            let ch = (i / inner) % c;
            *val = (*val as f64 * scale[ch] as f64 + shift[ch] as f64) as f32;
        }
        Tensor::f32(x.shape.clone(), y)
    })
}

/// Lowers BatchNorm to kernel calls; returns the output tensor.
pub(crate) fn lower_batch_norm(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    epsilon: &f32,
) -> Result<TensorId> {
    Ok({
        // Not after a conv: a per-channel Mul and Add by constants folded here.
        let p: Vec<Vec<f32>> = (1..5)
            .map(|i| l.constant(node, i).map(|t| t.to_f32()).unwrap_or_default())
            .collect();
        let c = out_shape[1];
        let (scale, shift) = batch_norm_affine([&p[0], &p[1], &p[2], &p[3]], *epsilon, c);
        let mut channel = vec![1; out_shape.len()];
        channel[1] = c;
        let x = l.input(node, 0)?;
        let s = l.weight(scale);
        let s = l.relabel(s, channel.clone());
        let scaled = binary(l, node, BinaryOp::Mul, x, s, &out_shape);
        let b = l.weight(shift);
        let b = l.relabel(b, channel);
        binary(l, node, BinaryOp::Add, scaled, b, &out_shape)
    })
}

/// Shape inference for the normalization family.
pub(crate) fn infer(cx: &InferCx, op: &mut NormalizationOp) -> Result<Inferred> {
    match op {
        NormalizationOp::BatchNorm { .. } => infer_batch_norm(cx),
    }
}

/// The reference evaluation of the normalization family.
pub(crate) fn eval(cx: &EvalCx, op: &NormalizationOp) -> Result<Tensor> {
    match op {
        NormalizationOp::BatchNorm { epsilon } => eval_batch_norm(cx, epsilon),
    }
}

/// Lowers the normalization family.
pub(crate) fn lower(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    op: &NormalizationOp,
) -> Result<TensorId> {
    match op {
        NormalizationOp::BatchNorm { epsilon } => lower_batch_norm(l, node, out_shape, epsilon),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_norm_affine_matches_the_definition() {
        // gamma 2, beta 1, mean 3, var 3, eps 1: scale 2 / sqrt(4) = 1, shift 1 - 3 = -2.
        let (s, b) = batch_norm_affine([&[2.0], &[1.0], &[3.0], &[3.0]], 1.0, 1);
        assert_eq!((s, b), (vec![1.0], vec![-2.0]));
        // x = 5: (5 - 3) * 1 + 1 = 3 = 5 * 1 - 2.
    }
}
