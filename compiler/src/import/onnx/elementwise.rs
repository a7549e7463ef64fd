//! `Add`, `Sub`, `Mul`, `Div`, and the two-input forms of the variadic `Min`, `Max` and `Sum`,
//! with multidirectional (numpy) broadcasting, opset 7 and later. Per-channel constants after a
//! conv are folded into it by the passes, `Min`/`Max` with a scalar constant become a clamp
//! (older ReLU6 exports), two activations (a residual connection) stay an `Add`.

use super::attrs::Attrs;
use super::{Cx, Parsed};
use crate::error::Result;
use crate::ir::{BinaryOp, Op};

/// The ONNX ops this family reads.
pub const OPS: &[&str] = &["Add", "Sub", "Mul", "Div", "Min", "Max", "Sum"];

/// Parses one of [`OPS`]: two inputs.
pub fn parse(op_type: &str, attrs: &Attrs, cx: &mut Cx) -> Result<Parsed> {
    let inputs = cx.inputs;
    attrs.only(&[])?;
    if matches!(op_type, "Min" | "Max" | "Sum") && inputs != 2 {
        return Err(attrs.issue(None, format!("{inputs} inputs are not supported (only 2)")));
    }
    let op = Op::Binary(match op_type {
        "Add" | "Sum" => BinaryOp::Add,
        "Min" => BinaryOp::Min,
        "Max" => BinaryOp::Max,
        "Sub" => BinaryOp::Sub,
        "Mul" => BinaryOp::Mul,
        "Div" => BinaryOp::Div,
        _ => unreachable!("dispatched by OPS"),
    });
    Ok((op, 2..=2))
}
