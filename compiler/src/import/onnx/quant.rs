//! Quantization: `QuantizeLinear` and `DequantizeLinear` (the QDQ format: `axis` for
//! per-channel parameters, opset 13 on; `saturate` only matters for float8 types, which are
//! refused; a `block_size` other than 0, opset 21 on, is refused).

use super::attrs::Attrs;
use super::{Cx, Parsed};
use crate::error::Result;
use crate::ir::{Op, QuantOp};

/// The ONNX ops this family reads.
pub const OPS: &[&str] = &["QuantizeLinear", "DequantizeLinear"];

/// Parses one of [`OPS`]: x, scale and an optional zero point.
pub fn parse(op_type: &str, attrs: &Attrs, _cx: &mut Cx) -> Result<Parsed> {
    attrs.only(&["axis", "saturate", "block_size", "output_dtype"])?;
    if attrs.int_or("block_size", 0)? != 0 {
        return Err(attrs.issue(Some("block_size"), "blocked quantization is not supported"));
    }
    if attrs.int_or("output_dtype", 0)? != 0 {
        return Err(attrs.issue(
            Some("output_dtype"),
            "is not supported: the zero point's type gives the output's",
        ));
    }
    let axis = attrs.int_or("axis", 1)?;
    let op = match op_type {
        "QuantizeLinear" => QuantOp::QuantizeLinear { axis },
        "DequantizeLinear" => QuantOp::DequantizeLinear { axis },
        _ => unreachable!("dispatched by OPS"),
    };
    Ok((Op::Quant(op), 2..=3))
}
