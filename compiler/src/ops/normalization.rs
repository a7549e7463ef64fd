//! BatchNormalization in inference form, and the per-channel scale and shift it amounts to
//! (the one place that formula is written: the interpreter, the folding pass and the lowering
//! use it).

use super::{EvalCx, InferCx, Inferred};
use crate::error::{Error, Result};
use crate::ir::Tensor;

/// Shape inference for BatchNorm: the output shape.
pub(crate) fn infer(cx: &InferCx) -> Result<Inferred> {
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

/// The reference evaluation of BatchNorm.
pub(crate) fn eval(cx: &EvalCx, epsilon: &f32) -> Result<Tensor> {
    let x = cx.x;
    Ok({
        let [s, b, m, v] = [1, 2, 3, 4].map(|i| cx.arg(i).map(Tensor::to_f32));
        let (s, b, m, v) = (s?, b?, m?, v?);
        let c = x.shape[1];
        let inner: usize = x.shape[2..].iter().product();
        let mut y = cx.xf()?.to_vec();
        for (i, val) in y.iter_mut().enumerate() {
            let ch = (i / inner) % c;
            let scale = s[ch] as f64 / (v[ch] as f64 + *epsilon as f64).sqrt();
            *val = ((*val as f64 - m[ch] as f64) * scale + b[ch] as f64) as f32;
        }
        Tensor::f32(x.shape.clone(), y)
    })
}
