//! Fully connected layers: `Gemm` (`alpha`, `beta`, `transA`, `transB`; the legacy `broadcast`
//! attribute is accepted) and `MatMul`. Both become `Dense` once their weights are known constants.

use super::attrs::Attrs;
use crate::error::Result;
use crate::ir::LinearOp;
use crate::ir::Op;

pub fn parse(op_type: &str, attrs: &Attrs) -> Result<Op> {
    match op_type {
        "Gemm" => {
            attrs.only(&["alpha", "beta", "transA", "transB", "broadcast"])?;
            Ok(Op::Linear(LinearOp::Gemm {
                alpha: attrs.float("alpha")?.unwrap_or(1.0),
                beta: attrs.float("beta")?.unwrap_or(1.0),
                trans_a: attrs.int_or("transA", 0)? != 0,
                trans_b: attrs.int_or("transB", 0)? != 0,
            }))
        }
        "MatMul" => {
            attrs.only(&[])?;
            Ok(Op::Linear(LinearOp::MatMul))
        }
        _ => unreachable!("dispatched by op type"),
    }
}
