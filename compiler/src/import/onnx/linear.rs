//! Fully connected layers: `Gemm` (`alpha`, `beta`, `transA`, `transB`; the legacy `broadcast`
//! attribute is accepted) and `MatMul`. Both become `Dense` once their weights are known constants.

use super::attrs::Attrs;
use super::{Cx, Parsed};
use crate::error::Result;
use crate::ir::LinearOp;
use crate::ir::Op;

/// The ONNX ops this family reads.
pub const OPS: &[&str] = &["Gemm", "MatMul"];

/// Parses one of [`OPS`]: Gemm takes a, b and an optional c; MatMul a and b.
pub fn parse(op_type: &str, attrs: &Attrs, _cx: &mut Cx) -> Result<Parsed> {
    match op_type {
        "Gemm" => {
            attrs.only(&["alpha", "beta", "transA", "transB", "broadcast"])?;
            let op = Op::Linear(LinearOp::Gemm {
                alpha: attrs.float("alpha")?.unwrap_or(1.0),
                beta: attrs.float("beta")?.unwrap_or(1.0),
                trans_a: attrs.int_or("transA", 0)? != 0,
                trans_b: attrs.int_or("transB", 0)? != 0,
            });
            Ok((op, 2..=3))
        }
        "MatMul" => {
            attrs.only(&[])?;
            Ok((Op::Linear(LinearOp::MatMul), 2..=2))
        }
        _ => unreachable!("dispatched by OPS"),
    }
}
