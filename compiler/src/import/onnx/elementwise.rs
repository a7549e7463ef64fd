//! `Add`, `Sub`, `Mul`, `Div` with multidirectional (numpy) broadcasting, opset 7 and later.
//! Per-channel constants after a conv are folded into it by the passes; two activations
//! (a residual connection) stay an `Add`.

use super::attrs::Attrs;
use crate::error::Result;
use crate::ir::{BinaryOp, Op};

pub fn parse(op_type: &str, attrs: &Attrs) -> Result<Op> {
    attrs.only(&[])?;
    Ok(Op::Binary(match op_type {
        "Add" => BinaryOp::Add,
        "Sub" => BinaryOp::Sub,
        "Mul" => BinaryOp::Mul,
        "Div" => BinaryOp::Div,
        _ => unreachable!("dispatched by op type"),
    }))
}
