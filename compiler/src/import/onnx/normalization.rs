//! `BatchNormalization` in inference form (opsets 7, 9, 14, 15): `epsilon`; `momentum` is
//! meaningless at inference and ignored; `spatial` must be 1 and `training_mode` 0.

use super::attrs::Attrs;
use super::{Cx, Parsed};
use crate::error::Result;
use crate::ir::NormalizationOp;
use crate::ir::Op;

/// The ONNX ops this family reads.
pub const OPS: &[&str] = &["BatchNormalization"];

/// Parses a BatchNormalization: x, scale, bias, mean and variance.
pub fn parse(_op_type: &str, attrs: &Attrs, _cx: &mut Cx) -> Result<Parsed> {
    attrs.only(&["epsilon", "momentum", "spatial", "training_mode", "is_test"])?;
    if attrs.int_or("spatial", 1)? != 1 {
        return Err(attrs.issue(
            Some("spatial"),
            "!= 1 is not supported (only per-channel statistics)",
        ));
    }
    if attrs.int_or("training_mode", 0)? != 0 {
        return Err(attrs.issue(
            Some("training_mode"),
            "= 1 (training mode) is not supported; export the model in eval mode",
        ));
    }
    let epsilon = attrs.float("epsilon")?.unwrap_or(1e-5);
    if !(epsilon >= 0.0 && epsilon.is_finite()) {
        return Err(attrs.issue(
            Some("epsilon"),
            format!("= {epsilon} must be a finite non-negative number"),
        ));
    }
    Ok((
        Op::Normalization(NormalizationOp::BatchNorm { epsilon }),
        5..=5,
    ))
}
