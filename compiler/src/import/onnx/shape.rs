//! Data movement and shape arithmetic: `Flatten`, `Reshape` (`allowzero`), `Squeeze` and
//! `Unsqueeze` (axes as attribute before opset 13, as input from 13), `Transpose`, `Identity`,
//! `Dropout` (an identity at inference; its mask output must be unused), `Pad` (constant mode
//! only; attributes before opset 11, inputs from 11, `axes` from 18), and the ops that exporters
//! use to compute shapes: `Shape` (`start`, `end`), `Gather`, `Concat`, `Cast`, `Slice`. The
//! shape ops must fold to constants; on activations they are rejected by shape inference.

use super::attrs::Attrs;
use super::{Cx, Parsed};
use crate::error::Result;
use crate::ir::ShapeOp;
use crate::ir::{DType, Op, Tensor};
use crate::onnx_proto::tensor_proto::DataType;

/// A constant 1-D integer tensor.
fn ints(v: Vec<i64>) -> Tensor {
    Tensor::i64(vec![v.len()], v)
}

/// The ONNX ops this family reads.
pub const OPS: &[&str] = &[
    "Flatten",
    "Reshape",
    "Squeeze",
    "Unsqueeze",
    "Transpose",
    "Identity",
    "Dropout",
    "Shape",
    "Gather",
    "Concat",
    "Cast",
    "Slice",
    "Pad",
];

/// Parses one of [`OPS`], with the number of inputs it takes.
pub fn parse(op_type: &str, attrs: &Attrs, cx: &mut Cx) -> Result<Parsed> {
    let opset = cx.opset;
    let op = match op_type {
        "Flatten" => {
            attrs.only(&["axis"])?;
            Op::Shape(ShapeOp::Flatten {
                axis: attrs.int_or("axis", 1)?,
            })
        }
        "Reshape" => {
            attrs.only(&["allowzero"])?;
            Op::Shape(ShapeOp::Reshape {
                allowzero: attrs.int_or("allowzero", 0)? != 0,
            })
        }
        "Squeeze" | "Unsqueeze" => {
            attrs.only(&["axes"])?;
            if let Some(axes) = attrs.ints("axes")? {
                cx.constants.push((1, "axes", ints(axes)));
            }
            Op::Shape(if op_type == "Squeeze" {
                ShapeOp::Squeeze
            } else {
                ShapeOp::Unsqueeze
            })
        }
        "Transpose" => {
            attrs.only(&["perm"])?;
            Op::Shape(ShapeOp::Transpose {
                perm: attrs.sizes("perm")?,
            })
        }
        "Identity" => {
            attrs.only(&[])?;
            Op::Shape(ShapeOp::Identity)
        }
        "Dropout" => {
            attrs.only(&["ratio", "seed", "is_test"])?;
            Op::Shape(ShapeOp::Identity)
        }
        "Shape" => {
            attrs.only(&["start", "end"])?;
            Op::Shape(ShapeOp::Shape {
                start: attrs.int_or("start", 0)?,
                end: attrs.int("end")?,
            })
        }
        "Gather" => {
            attrs.only(&["axis"])?;
            Op::Shape(ShapeOp::Gather {
                axis: attrs.int_or("axis", 0)?,
            })
        }
        "Concat" => {
            attrs.only(&["axis"])?;
            let axis = attrs
                .int("axis")?
                .ok_or_else(|| attrs.issue(Some("axis"), "is required"))?;
            Op::Shape(ShapeOp::Concat { axis })
        }
        "Cast" => {
            attrs.only(&["to", "saturate", "round_mode"])?;
            let to = attrs
                .int("to")?
                .ok_or_else(|| attrs.issue(Some("to"), "is required"))?;
            let to = match DataType::try_from(to as i32) {
                Ok(DataType::Float | DataType::Double | DataType::Float16) => DType::F32,
                Ok(
                    DataType::Int64
                    | DataType::Int32
                    | DataType::Int16
                    | DataType::Int8
                    | DataType::Uint8,
                ) => DType::I64,
                _ => {
                    return Err(attrs.issue(
                        Some("to"),
                        format!("= {to}: this data type is not supported"),
                    ));
                }
            };
            Op::Shape(ShapeOp::Cast { to })
        }
        "Slice" => {
            if opset < 10 {
                attrs.only(&["starts", "ends", "axes"])?;
                let starts = attrs
                    .ints("starts")?
                    .ok_or_else(|| attrs.issue(Some("starts"), "is required"))?;
                let ends = attrs
                    .ints("ends")?
                    .ok_or_else(|| attrs.issue(Some("ends"), "is required"))?;
                cx.constants.push((1, "starts", ints(starts)));
                cx.constants.push((2, "ends", ints(ends)));
                if let Some(axes) = attrs.ints("axes")? {
                    cx.constants.push((3, "axes", ints(axes)));
                }
            } else {
                attrs.only(&[])?;
            }
            Op::Shape(ShapeOp::Slice)
        }
        "Pad" => {
            attrs.only(&["mode", "pads", "value"])?;
            let mode = attrs.string("mode")?.unwrap_or_else(|| "constant".into());
            if mode != "constant" {
                return Err(attrs.issue(
                    Some("mode"),
                    format!("= '{mode}' is not supported (only 'constant')"),
                ));
            }
            if opset < 11 {
                let pads = attrs
                    .ints("pads")?
                    .ok_or_else(|| attrs.issue(Some("pads"), "is required"))?;
                cx.constants.push((1, "pads", ints(pads)));
                if let Some(value) = attrs.float("value")? {
                    cx.constants
                        .push((2, "value", Tensor::f32(vec![], vec![value])));
                }
            }
            Op::Shape(ShapeOp::Pad)
        }
        _ => unreachable!("dispatched by OPS"),
    };
    let arity = match op_type {
        "Reshape" | "Gather" => 2..=2,
        "Squeeze" | "Unsqueeze" => 1..=2,
        "Concat" => 1..=usize::MAX,
        "Slice" => 1..=5,
        "Pad" => 1..=4,
        // Dropout's optional ratio and training_mode inputs do not matter in inference.
        "Dropout" => 1..=3,
        _ => 1..=1,
    };
    Ok((op, arity))
}
