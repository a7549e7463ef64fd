//! Activations: `Relu`; `Clip` with bounds as attributes (opset < 11) or as constant inputs
//! (opset >= 11: initializers, `Constant` nodes or folded subgraphs, either may be omitted);
//! `Softmax` (opset < 13 flattens at `axis`, default 1; opset >= 13 works along `axis`, default -1);
//! `HardSigmoid` (`alpha` default 0.2, `beta` 0.5) and `HardSwish` (opset 14), MobileNetV3's.

use super::attrs::Attrs;
use super::{Cx, Parsed};
use crate::error::Result;
use crate::ir::ActivationOp;
use crate::ir::{Clamp, Op, Tensor};

/// The ONNX ops this family reads.
pub const OPS: &[&str] = &["Relu", "Clip", "Softmax", "HardSigmoid", "HardSwish"];

/// Parses one of [`OPS`], with the number of inputs it takes.
pub fn parse(op_type: &str, attrs: &Attrs, cx: &mut Cx) -> Result<Parsed> {
    let opset = cx.opset;
    let op = match op_type {
        "Relu" => {
            attrs.only(&[])?;
            Op::Activation(ActivationOp::Clip(Clamp::RELU))
        }
        "Clip" => {
            if opset < 11 {
                attrs.only(&["min", "max"])?;
                let min = attrs.float("min")?.unwrap_or(f32::NEG_INFINITY);
                let max = attrs.float("max")?.unwrap_or(f32::INFINITY);
                if min.is_nan() || max.is_nan() {
                    return Err(attrs.issue(Some("min"), "is NaN, which is not supported"));
                }
                // The attribute form becomes the input form.
                cx.constants
                    .push((1, "min", Tensor::f32(vec![], vec![min])));
                cx.constants
                    .push((2, "max", Tensor::f32(vec![], vec![max])));
                Op::Activation(ActivationOp::Clip(Clamp::LINEAR))
            } else {
                attrs.only(&[])?;
                // Bounds come from the inputs once constant folding has run.
                Op::Activation(ActivationOp::Clip(Clamp::LINEAR))
            }
        }
        "Softmax" => {
            attrs.only(&["axis"])?;
            let legacy = opset < 13;
            let axis = attrs.int_or("axis", if legacy { 1 } else { -1 })?;
            Op::Activation(ActivationOp::Softmax { axis, legacy })
        }
        "HardSigmoid" => {
            attrs.only(&["alpha", "beta"])?;
            let alpha = attrs.float("alpha")?.unwrap_or(0.2);
            let beta = attrs.float("beta")?.unwrap_or(0.5);
            for (name, v) in [("alpha", alpha), ("beta", beta)] {
                if !v.is_finite() {
                    return Err(attrs.issue(Some(name), "must be a finite number"));
                }
            }
            Op::Activation(ActivationOp::HardSigmoid { alpha, beta })
        }
        "HardSwish" => {
            attrs.only(&[])?;
            Op::Activation(ActivationOp::HardSwish)
        }
        _ => unreachable!("dispatched by OPS"),
    };
    // Clip: x, then the optional min and max inputs (opset >= 11).
    let arity = if op_type == "Clip" { 1..=3 } else { 1..=1 };
    Ok((op, arity))
}
