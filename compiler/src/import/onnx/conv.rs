//! `Conv` (opsets 1, 11, 22): 2-D only, `dilations` all 1, `group` 1 (dense) or equal to the
//! input channel count (depthwise; checked by shape inference), every `auto_pad` mode.
//! `kernel_shape` may be omitted; shape inference takes it from the weight.

use super::attrs::Attrs;
use super::{Cx, Parsed};
use crate::error::Result;
use crate::ir::{Clamp, Conv, Op};

/// The ONNX ops this family reads.
pub const OPS: &[&str] = &["Conv"];

/// Parses a Conv: x, weight and an optional bias.
pub fn parse(_op_type: &str, attrs: &Attrs, _cx: &mut Cx) -> Result<Parsed> {
    attrs.only(&[
        "auto_pad",
        "dilations",
        "group",
        "kernel_shape",
        "pads",
        "strides",
    ])?;
    let group = attrs.int_or("group", 1)?;
    let group = usize::try_from(group)
        .ok()
        .filter(|&g| g > 0)
        .ok_or_else(|| attrs.issue(Some("group"), format!("= {group} must be positive")))?;
    let op = Op::Conv(Conv {
        window: attrs.window()?,
        group,
        act: Clamp::LINEAR,
        pad_value: 0.0,
    });
    Ok((op, 2..=3))
}
