//! `Conv` (opsets 1, 11, 22): 2-D only, `dilations` all 1, `group` 1 (dense) or equal to the
//! input channel count (depthwise; checked by shape inference), every `auto_pad` mode.
//! `kernel_shape` may be omitted; shape inference takes it from the weight.

use super::attrs::Attrs;
use crate::error::Result;
use crate::ir::{Clamp, Conv, Op};

pub fn conv(attrs: &Attrs) -> Result<Op> {
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
    Ok(Op::Conv(Conv {
        window: attrs.window()?,
        group,
        act: Clamp::LINEAR,
    }))
}
