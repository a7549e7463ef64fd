//! Conv: the shape rule (2-D, group 1 or depthwise, the weight and bias shapes), the sliding
//! window (`auto_pad`, an omitted `kernel_shape`) that pooling shares, the reference
//! convolution and the lowering to the dense, depthwise and pointwise (GEMM) kernels.

use super::{EvalCx, InferCx, Inferred, rank};
use crate::error::{Error, Result};
use crate::ir::{AutoPad, Clamp, Conv, Node, Tensor, Window};
use crate::program::{
    Arg, Const, Elem, Kernel, Lowering, NHWC, Packed, TensorId, gemm_packing, minmax_args, pack,
};

/// Shape inference for Conv: the output shape.
pub(crate) fn infer(cx: &InferCx, conv: &mut Conv) -> Result<Inferred> {
    let (node, x, in_shapes) = (cx.node, &cx.x, &cx.in_shapes);
    let out = {
        let w = in_shapes
            .get(1)
            .cloned()
            .flatten()
            .ok_or_else(|| Error::node(node, None, "the weight input is missing"))?;
        rank(node, "input", x, 4)?;
        rank(node, "weight", &w, 4)?;
        let (c, m) = (x[1], w[0]);
        if conv.window.kernel == [0, 0] {
            conv.window.kernel = [w[2], w[3]];
        } else if conv.window.kernel != [w[2], w[3]] {
            return Err(Error::node(
                node,
                Some("kernel_shape"),
                format!(
                    "= {:?} does not match the weight shape {w:?}",
                    conv.window.kernel
                ),
            ));
        }
        let g = conv.group;
        if g != 1 && !(g == c && m == c) {
            return Err(Error::node(
                node,
                Some("group"),
                format!(
                    "= {g} is not supported with {c} input and {m} output channels (only 1, or depthwise with group = channels = output channels)"
                ),
            ));
        }
        if w[1] * g != c {
            return Err(Error::node(
                node,
                None,
                format!("weight shape {w:?} does not fit {c} input channels in {g} group(s)"),
            ));
        }
        if let Some(Some(b)) = in_shapes.get(2)
            && b.as_slice() != [m]
        {
            return Err(Error::node(
                node,
                None,
                format!("bias shape {b:?} should be [{m}]"),
            ));
        }
        if let Some(Some(s)) = in_shapes.get(3)
            && s.as_slice() != [1, c, 1, 1]
        {
            return Err(Error::node(
                node,
                None,
                format!("input channel scale shape {s:?} should be [1, {c}, 1, 1]"),
            ));
        }
        let out_hw = resolve_window(node, [x[2], x[3]], &mut conv.window, false)?;
        vec![x[0], m, out_hw[0], out_hw[1]]
    };
    Ok(Inferred::Shape(out))
}

/// Output size of a sliding window over an `input`-sized map; turns `auto_pad` into explicit
/// pads.
pub fn resolve_window(
    node: &Node,
    input: [usize; 2],
    window: &mut Window,
    ceil_mode: bool,
) -> Result<[usize; 2]> {
    let Window {
        kernel,
        strides,
        pads,
        auto_pad,
    } = window.clone();
    let mut pads = pads;
    let mut out = [0; 2];
    if input.contains(&0) {
        return Err(Error::node(
            node,
            None,
            format!("input {}x{} is empty", input[0], input[1]),
        ));
    }
    for a in 0..2 {
        let (i, k, s) = (input[a], kernel[a], strides[a]);
        match auto_pad {
            AutoPad::NotSet => {}
            AutoPad::Valid => {
                pads[a] = 0;
                pads[a + 2] = 0;
            }
            AutoPad::SameUpper | AutoPad::SameLower => {
                let o = i.div_ceil(s);
                let total = ((o - 1) * s + k).saturating_sub(i);
                let small = total / 2;
                let (begin, end) = if auto_pad == AutoPad::SameUpper {
                    (small, total - small)
                } else {
                    (total - small, small)
                };
                pads[a] = begin;
                pads[a + 2] = end;
            }
        }
        let padded = i + pads[a] + pads[a + 2];
        if padded < k {
            return Err(Error::node(
                node,
                None,
                format!(
                    "input {}x{} (padded {}) is too small for kernel {}x{}; the resolution is too small for this network",
                    input[0], input[1], padded, kernel[0], kernel[1]
                ),
            ));
        }
        out[a] = if ceil_mode {
            (padded - k).div_ceil(s) + 1
        } else {
            (padded - k) / s + 1
        };
        // ONNX: with ceil_mode, a window that starts in the end padding is dropped.
        if ceil_mode && (out[a] - 1) * s >= i + pads[a] {
            out[a] -= 1;
        }
    }
    window.pads = pads;
    window.auto_pad = AutoPad::NotSet;
    Ok(out)
}

/// The reference evaluation of Conv.
pub(crate) fn eval(cx: &EvalCx, conv: &Conv) -> Result<Tensor> {
    let x = cx.x;
    if x.dtype().int_range().is_some() {
        return conv2d_int(cx, conv);
    }
    // A fused input channel scale (`passes::fuse_scale`): the conv reads `x * scale`.
    let scaled = match cx.inputs.get(3).copied().flatten() {
        Some(s) => {
            let (s, xf, plane) = (s.to_f32(), cx.xf()?, x.shape[2] * x.shape[3]);
            let scaled = xf.iter().enumerate();
            Some(
                scaled
                    .map(|(i, &v)| v * s[i / plane % s.len()])
                    .collect::<Vec<_>>(),
            )
        }
        None => None,
    };
    Ok(conv2d(
        x.shape.as_slice(),
        match &scaled {
            Some(v) => v,
            None => cx.xf()?,
        },
        cx.arg(1)?,
        cx.inputs.get(2).copied().flatten(),
        conv,
        cx.out_shape()?,
    ))
}

pub(crate) fn conv2d(
    xs: &[usize],
    x: &[f32],
    w: &Tensor,
    bias: Option<&Tensor>,
    conv: &Conv,
    out: Vec<usize>,
) -> Tensor {
    if conv.pad_value != 0.0 {
        // Padding that holds a value: the conv of the explicitly padded input.
        let [pt, pl, pb, pr] = conv.window.pads;
        let (ph, pw) = (xs[2] + pt + pb, xs[3] + pl + pr);
        let mut padded = vec![conv.pad_value; xs[0] * xs[1] * ph * pw];
        for (plane, src) in x.chunks(xs[2] * xs[3]).enumerate() {
            for (r, row) in src.chunks(xs[3]).enumerate() {
                padded[(plane * ph + r + pt) * pw + pl..][..xs[3]].copy_from_slice(row);
            }
        }
        let mut inner = conv.clone();
        inner.window.pads = [0; 4];
        inner.pad_value = 0.0;
        return conv2d(&[xs[0], xs[1], ph, pw], &padded, w, bias, &inner, out);
    }
    let (c, h, wd) = (xs[1], xs[2], xs[3]);
    let (m, oh, ow) = (out[1], out[2], out[3]);
    let wv = w.to_f32();
    let bv = bias.map(Tensor::to_f32);
    let cg = c / conv.group;
    let mg = m / conv.group;
    let [kh, kw] = conv.window.kernel;
    let [sh, sw] = conv.window.strides;
    let (pt, pl) = (conv.window.pads[0] as isize, conv.window.pads[1] as isize);
    let mut y = vec![0f32; out.iter().product()];
    let mut acc = vec![0f64; oh * ow];
    for n in 0..xs[0] {
        for oc in 0..m {
            let g = oc / mg;
            acc.fill(bv.as_ref().map_or(0.0, |b| b[oc] as f64));
            for icg in 0..cg {
                let ic = g * cg + icg;
                let plane = &x[(n * c + ic) * h * wd..][..h * wd];
                for ky in 0..kh {
                    for kx in 0..kw {
                        let wt = wv[((oc * cg + icg) * kh + ky) * kw + kx] as f64;
                        for oy in 0..oh {
                            let iy = (oy * sh) as isize + ky as isize - pt;
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            let row = &plane[iy as usize * wd..][..wd];
                            let arow = &mut acc[oy * ow..][..ow];
                            for (ox, a) in arow.iter_mut().enumerate() {
                                let ix = (ox * sw) as isize + kx as isize - pl;
                                if ix >= 0 && ix < wd as isize {
                                    *a += wt * row[ix as usize] as f64;
                                }
                            }
                        }
                    }
                }
            }
            let dst = &mut y[(n * m + oc) * oh * ow..][..oh * ow];
            for (d, &a) in dst.iter_mut().zip(&acc) {
                *d = conv.act.apply(a as f32);
            }
        }
    }
    Tensor::f32(out, y)
}

/// The reference evaluation of a Conv on a quantized input (`passes::quantize`): exact sums of
/// `(x - zx) * w` (padding is the real zero, `zx`, so it adds nothing) plus the integer bias,
/// requantized per output channel.
fn conv2d_int(cx: &EvalCx, conv: &Conv) -> Result<Tensor> {
    let (x, xs) = (cx.x.to_i64(), cx.x.shape.as_slice());
    let w = cx.arg(1)?.to_i64();
    let bias = cx.arg(2)?.to_i64();
    let r = super::quant::layer_requant(cx.graph, cx.node, conv.act)?;
    let out = cx.out_shape()?;
    let (c, h, wd) = (xs[1], xs[2], xs[3]);
    let (m, oh, ow) = (out[1], out[2], out[3]);
    let (cg, mg) = (c / conv.group, m / conv.group);
    let [kh, kw] = conv.window.kernel;
    let [sh, sw] = conv.window.strides;
    let (pt, pl) = (conv.window.pads[0] as isize, conv.window.pads[1] as isize);
    let mut y = Vec::with_capacity(out.iter().product());
    for oc in 0..m {
        let g = oc / mg;
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = bias[oc];
                for icg in 0..cg {
                    let ic = g * cg + icg;
                    for ky in 0..kh {
                        let iy = (oy * sh) as isize + ky as isize - pt;
                        for kx in 0..kw {
                            let ix = (ox * sw) as isize + kx as isize - pl;
                            if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                continue;
                            }
                            let xv = x[(ic * h + iy as usize) * wd + ix as usize] - r.x_zero as i64;
                            acc += xv * w[((oc * cg + icg) * kh + ky) * kw + kx];
                        }
                    }
                }
                y.push(
                    super::quant::requantize(acc as i32, r.scale[oc], r.y_zero, r.lo, r.hi) as i64,
                );
            }
        }
    }
    let dtype = cx.graph.values[cx.node.outputs[0]].dtype;
    Ok(Tensor::int(dtype, out, y))
}

/// Lowers Conv to kernel calls; returns the output tensor.
pub(crate) fn lower(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    conv: &Conv,
) -> Result<TensorId> {
    if super::quant::is_quantized(l.graph, node, 0) {
        return lower_int(l, node, out_shape, conv);
    }
    Ok({
        let x = l.input(node, 0)?;
        let depthwise = conv.group > 1;
        let pointwise = !depthwise
            && conv.window.kernel == [1, 1]
            && conv.window.strides == [1, 1]
            && conv.window.pads == [0; 4];
        // Dense convs read any layout through strides (the stem reads an NCHW input
        // as it is); depthwise and pointwise convs read NHWC.
        let x = if depthwise || pointwise {
            l.ensure(node, x, &NHWC)
        } else {
            x
        };
        let xs = l.program.tensors[x].shape.clone();
        let strides = l.program.tensors[x].strides();
        let wt = l
            .constant(node, 1)
            .ok_or_else(|| Error::node(node, None, "the weight must be a constant"))?;
        let (co, ci, oh, ow) = (out_shape[1], xs[1], out_shape[2], out_shape[3]);
        let [kh, kw] = conv.window.kernel;
        let w = wt.to_f32();
        let bias = l
            .constant(node, 2)
            .map_or_else(|| vec![0.0; co], |b| b.to_f32());
        // Weights arrive OIHW ([co][ci/group][kh][kw]).
        let packed = if depthwise {
            pack(&[kh, kw, co], |[ky, kx, c]| w[(c * kh + ky) * kw + kx])
        } else {
            pack(&[kh, kw, ci, co], |[ky, kx, i, o]| {
                w[((o * ci + i) * kh + ky) * kw + kx]
            })
        };
        // A pointwise conv is a GEMM whose [K][N] matrix is the [CI][CO] packing.
        let (packed, bias) = if pointwise {
            gemm_packing(l.target, ci, co, packed, bias)
        } else if !depthwise && l.target.desc().conv_channel_multiple > 1 {
            // SIMD convs read output channels in whole vectors: pad them.
            let cop = co.next_multiple_of(l.target.desc().conv_channel_multiple);
            let mut b = bias;
            b.resize(cop, 0.0);
            (
                pack(&[kh * kw * ci, cop], |[r, o]| {
                    if o < co { packed[r * co + o] } else { 0.0 }
                }),
                b,
            )
        } else {
            (packed, bias)
        };
        // A pad value (`passes::fold_affine`, dense convs only): each tap's contribution from
        // it, `[KH][KW][COP]`, after the weights (the kernels' `PV`).
        let pv = conv.pad_value != 0.0;
        if pv && (depthwise || pointwise) {
            return Err(Error::Internal(format!(
                "'{}': a pad value on a conv that is not dense",
                node.name
            )));
        }
        let packed = if pv {
            let cop = bias.len();
            let taps = pack(&[kh * kw, cop], |[t, o]| {
                let sum: f64 = (0..ci).map(|i| packed[(t * ci + i) * cop + o] as f64).sum();
                (sum * conv.pad_value as f64) as f32
            });
            [packed, taps].concat()
        } else {
            packed
        };
        let (w, b) = (l.weight(packed), l.weight(bias));
        // A fused input channel scale (`passes::fuse_scale`, pointwise convs only) goes into
        // a copy of the packed weights, rows of K scaled, made at run time.
        let w = match node.input(3) {
            Some(_) if !pointwise => {
                return Err(Error::Internal(format!(
                    "'{}': an input channel scale on a conv that is not pointwise",
                    node.name
                )));
            }
            Some(_) => {
                let gate = l.input(node, 3)?;
                let nr = l.target.desc().gemm_tile[1];
                let row = if nr > 1 { nr } else { co };
                let scaled = l.new_buffer(vec![l.len(w)], vec![0]);
                let kernel = Kernel::call(
                    mnetc_targets::Kernel::ScaleRows,
                    [ci, row, l.len(w)].map(Const::from),
                    [Arg::Input(0), Arg::Input(1), Arg::Output],
                );
                l.step(node, kernel, vec![w, gate], scaled, Clamp::LINEAR, 0);
                scaled
            }
            None => w,
        };
        let y = l.new_buffer(out_shape.clone(), NHWC.to_vec());
        let macs = (oh * ow * co * kh * kw * if depthwise { 1 } else { ci }) as u64;
        let lens = [l.len(x), l.len(w), l.len(y)];
        let kernel = if pointwise {
            super::linear::gemm_call(l.target, [xs[2] * xs[3], ci, co], conv.act, lens)
        } else {
            // Dense convs' output channels are padded as packed above; they also take the
            // input's channel, row and column strides.
            let (kind, shape, strides) = if depthwise {
                (mnetc_targets::Kernel::DwConv, vec![co], vec![])
            } else {
                let cop = co.next_multiple_of(l.target.desc().conv_channel_multiple);
                (
                    mnetc_targets::Kernel::Conv,
                    vec![ci, co, cop],
                    vec![strides[1], strides[2], strides[3]],
                )
            };
            let tasks = crate::program::row_tasks(oh, macs);
            let flags = if depthwise {
                vec![conv.act.swish]
            } else {
                vec![conv.act.swish, pv]
            };
            let consts = window_consts(conv, &xs, shape, [oh, ow], strides, tasks, &flags, lens);
            Kernel::call(kind, consts, minmax_args()).with_tasks(tasks)
        };
        l.step(node, kernel, vec![x, w, b], y, conv.act, macs);
        y
    })
}

/// The const generic arguments of a dense or depthwise conv call, float or quantized (the
/// conv families' order in `runtime/src/signature.rs`): input height and width, the kind's
/// channel counts (`shape`), the window, the input strides (dense convs), tasks, the float
/// kernels' flags (`flags`: hard-swish, then for dense convs the pad value; none for
/// the quantized ones), array lengths.
#[allow(clippy::too_many_arguments)]
fn window_consts(
    conv: &Conv,
    xs: &[usize],
    shape: Vec<usize>,
    [oh, ow]: [usize; 2],
    strides: Vec<usize>,
    tasks: usize,
    flags: &[bool],
    lens: [usize; 3],
) -> Vec<Const> {
    let (k, s, pad) = (conv.window.kernel, conv.window.strides, conv.window.pads);
    let window = [k[0], k[1], s[0], s[1], pad[0], pad[1], oh, ow];
    [xs[2], xs[3]]
        .into_iter()
        .chain(shape)
        .chain(window)
        .chain(strides)
        .chain([tasks])
        .map(Const::from)
        .chain(flags.iter().copied().map(Const::Bool))
        .chain(lens.map(Const::from))
        .collect()
}

/// Lowers a Conv on a quantized input (`passes::quantize`) to the quantized GEMM (pointwise),
/// depthwise or dense kernel.
fn lower_int(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    conv: &Conv,
) -> Result<TensorId> {
    let depthwise = conv.group > 1;
    let pointwise = !depthwise
        && conv.window.kernel == [1, 1]
        && conv.window.strides == [1, 1]
        && conv.window.pads == [0; 4];
    let x = if depthwise || pointwise {
        super::quant::nhwc_input(l, node, 0)?
    } else {
        l.input(node, 0)?
    };
    let xs = l.program.tensors[x].shape.clone();
    let strides = l.program.tensors[x].strides();
    let wt = l
        .constant(node, 1)
        .ok_or_else(|| Error::node(node, None, "the weight must be a constant"))?;
    let w = wt.to_i64();
    let (co, ci, oh, ow) = (out_shape[1], xs[1], out_shape[2], out_shape[3]);
    let bias = l
        .constant(node, 2)
        .map_or_else(|| vec![0; co], |b| b.to_i64());
    let r = super::quant::layer_requant(l.graph, node, conv.act)?;
    let (_, xz) = super::quant::kernel_params(l.graph, node, node.input(0).expect("checked"))?;
    let requant = super::quant::requant_arg(l.graph, node, node.outputs[0], conv.act)?;
    let [kh, kw] = conv.window.kernel;
    if pointwise {
        let m = xs[2] * xs[3];
        // OIHW with 1x1 kernels is the [N][K] matrix the GEMM takes.
        return super::linear::qgemm(
            l,
            node,
            x,
            [m, ci, co],
            &w,
            &bias,
            xz,
            r.scale,
            requant,
            &out_shape,
            NHWC.to_vec(),
        );
    }
    let macs = (oh * ow * co * kh * kw * if depthwise { 1 } else { ci }) as u64;
    let packed = if depthwise {
        let own = l.target.lists(mnetc_targets::Kernel::QDwConv);
        let layout = if own {
            l.target.desc().qdw
        } else {
            mnetc_targets::QDwLayout::Plain
        };
        let mut out = vec![0i16; layout.len([kh, kw], co)];
        for ky in 0..kh {
            for kx in 0..kw {
                for c in 0..co {
                    out[layout.index([ky, kx], c, [kh, kw], co)] =
                        w[(c * kh + ky) * kw + kx] as i16;
                }
            }
        }
        match layout {
            mnetc_targets::QDwLayout::Plain
            | mnetc_targets::QDwLayout::Quads16
            | mnetc_targets::QDwLayout::Quads32 => {
                Packed::I8(out.iter().map(|&v| v as i8).collect())
            }
            mnetc_targets::QDwLayout::RowPairs16 => Packed::I16(out),
        }
    } else {
        let own = l.target.lists(mnetc_targets::Kernel::QConv);
        let layout = if own {
            l.target.desc().qconv
        } else {
            mnetc_targets::QConvLayout::Plain
        };
        let window = [kh, kw, ci];
        let mut out = vec![0i16; layout.len(window, co)];
        for ky in 0..kh {
            for kx in 0..kw {
                for i in 0..ci {
                    for o in 0..co {
                        out[layout.index([ky, kx, i], o, window, co)] =
                            w[((o * ci + i) * kh + ky) * kw + kx] as i16;
                    }
                }
            }
        }
        match layout {
            mnetc_targets::QConvLayout::Plain | mnetc_targets::QConvLayout::Quads16 => {
                Packed::I8(out.iter().map(|&v| v as i8).collect())
            }
            mnetc_targets::QConvLayout::Pairs8 | mnetc_targets::QConvLayout::Wide8 => {
                Packed::I16(out)
            }
        }
    };
    let bias: Vec<i32> = bias.iter().map(|&b| b as i32).collect();
    let (w, b, s) = (
        l.packed(packed),
        l.packed(Packed::I32(bias)),
        l.weight(r.scale),
    );
    let y = l.new_buffer_of(out_shape.clone(), NHWC.to_vec(), Elem::U8);
    let tasks = crate::program::row_tasks(oh, macs);
    let lens = [l.len(x), l.len(w), l.len(y)];
    let (kind, shape, strides) = if depthwise {
        (mnetc_targets::Kernel::QDwConv, vec![co], vec![])
    } else {
        (
            mnetc_targets::Kernel::QConv,
            vec![ci, co],
            vec![strides[1], strides[2], strides[3]],
        )
    };
    let consts = window_consts(conv, &xs, shape, [oh, ow], strides, tasks, &[], lens);
    let args = [
        Arg::Input(0),
        Arg::I32(xz),
        Arg::Input(1),
        Arg::Input(2),
        Arg::Input(3),
        Arg::Output,
        requant,
        Arg::Pool,
    ];
    let kernel = Kernel::call(kind, consts, args).with_tasks(tasks);
    l.step(node, kernel, vec![x, w, b, s], y, Clamp::LINEAR, macs);
    Ok(y)
}

/// What `inspect` shows of a conv: its kind, window, fused activation, multiply-adds.
pub(crate) fn facts(c: &Conv, input: &[usize], out_elems: u64) -> super::Facts {
    let cin = input.get(1).copied().unwrap_or(0);
    let label = if c.group > 1 {
        "dwconv"
    } else if c.window.kernel == [1, 1] {
        "pwconv"
    } else {
        "conv"
    };
    super::Facts {
        label: Some(label),
        window: Some(c.window.clone()),
        activation: Some(c.act.label()),
        macs: out_elems * (cin / c.group) as u64 * (c.window.kernel[0] * c.window.kernel[1]) as u64,
        weighted: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{AutoPad, Clamp};

    fn node() -> Node {
        Node {
            name: "c".into(),
            op: crate::ir::Op::Conv(Conv {
                window: Window::square(3, 2, 0),
                group: 1,
                act: Clamp::LINEAR,
                pad_value: 0.0,
            }),
            inputs: vec![],
            outputs: vec![],
        }
    }

    #[test]
    fn same_upper_pads_the_end_more() {
        // 3x3, stride 2 over 8: output 4, total padding (4-1)*2+3-8 = 1, at the end.
        let mut w = Window::square(3, 2, 0);
        w.auto_pad = AutoPad::SameUpper;
        assert_eq!(
            resolve_window(&node(), [8, 8], &mut w, false).unwrap(),
            [4, 4]
        );
        assert_eq!(w.pads, [0, 0, 1, 1]);
        let mut w = Window::square(3, 2, 0);
        w.auto_pad = AutoPad::SameLower;
        resolve_window(&node(), [8, 8], &mut w, false).unwrap();
        assert_eq!(w.pads, [1, 1, 0, 0]);
    }

    #[test]
    fn a_window_larger_than_the_input_is_refused() {
        let mut w = Window::square(5, 1, 0);
        assert!(resolve_window(&node(), [3, 3], &mut w, false).is_err());
    }

    #[test]
    fn conv2d_computes_a_hand_checked_sum() {
        // One 2x2 input channel, a 2x2 kernel of ones, padding 0, bias 0.5: the sum plus 0.5.
        let conv = Conv {
            window: Window::square(2, 1, 0),
            group: 1,
            act: Clamp::LINEAR,
            pad_value: 0.0,
        };
        let w = Tensor::f32(vec![1, 1, 2, 2], vec![1.0; 4]);
        let b = Tensor::f32(vec![1], vec![0.5]);
        let y = conv2d(
            &[1, 1, 2, 2],
            &[1.0, 2.0, 3.0, 4.0],
            &w,
            Some(&b),
            &conv,
            vec![1, 1, 1, 1],
        );
        assert_eq!(y.as_f32().unwrap(), &[10.5]);
    }
}
