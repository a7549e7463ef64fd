//! Pooling: `GlobalAveragePool`; `AveragePool` and `MaxPool` (2-D, `kernel_shape`, `strides`,
//! `pads`, every `auto_pad`, `ceil_mode`, `count_include_pad`; `dilations` all 1, `MaxPool`'s
//! `Indices` output unused); `ReduceMean` with `axes` as attribute (opset < 18) or input
//! (opset >= 18), `keepdims`, `noop_with_empty_axes`.

use super::attrs::Attrs;
use super::{Cx, Parsed};
use crate::error::Result;
use crate::ir::PoolOp;
use crate::ir::{Op, Pool, Tensor};

/// The ONNX ops this family reads.
pub const OPS: &[&str] = &["GlobalAveragePool", "AveragePool", "MaxPool", "ReduceMean"];

/// Parses one of [`OPS`]: one input, and ReduceMean's optional axes (opset >= 18).
pub fn parse(op_type: &str, attrs: &Attrs, cx: &mut Cx) -> Result<Parsed> {
    match op_type {
        "GlobalAveragePool" => {
            attrs.only(&[])?;
            Ok((Op::Pool(PoolOp::GlobalAveragePool), 1..=1))
        }
        "AveragePool" | "MaxPool" => {
            attrs.only(&[
                "auto_pad",
                "ceil_mode",
                "count_include_pad",
                "dilations",
                "kernel_shape",
                "pads",
                "strides",
                "storage_order",
            ])?;
            let window = attrs.window()?;
            if !attrs.has("kernel_shape") {
                return Err(attrs.issue(Some("kernel_shape"), "is required"));
            }
            if window.kernel.contains(&0) {
                return Err(attrs.issue(
                    Some("kernel_shape"),
                    format!("= {:?} must be positive", window.kernel),
                ));
            }
            let pool = Pool {
                window,
                ceil_mode: attrs.int_or("ceil_mode", 0)? != 0,
                count_include_pad: attrs.int_or("count_include_pad", 0)? != 0,
            };
            let op = if op_type == "MaxPool" {
                Op::Pool(PoolOp::MaxPool(pool))
            } else {
                Op::Pool(PoolOp::AveragePool(pool))
            };
            Ok((op, 1..=1))
        }
        "ReduceMean" => {
            attrs.only(&["axes", "keepdims", "noop_with_empty_axes"])?;
            if let Some(axes) = attrs.ints("axes")? {
                let n = axes.len();
                cx.constants.push((1, "axes", Tensor::i64(vec![n], axes)));
            }
            let op = Op::Pool(PoolOp::ReduceMean {
                axes: None,
                keepdims: attrs.int_or("keepdims", 1)? != 0,
                noop_with_empty_axes: attrs.int_or("noop_with_empty_axes", 0)? != 0,
            });
            Ok((op, 1..=2))
        }
        _ => unreachable!("dispatched by OPS"),
    }
}
