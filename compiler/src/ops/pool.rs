//! Pooling and reductions: GlobalAveragePool, AveragePool, MaxPool, ReduceMean.

use super::conv::resolve_window;
use super::elementwise::strides_of;
use super::{EvalCx, InferCx, Inferred, constant_of, normalize_axes, rank};
use crate::error::{Error, Result};
use crate::ir::{Clamp, Node, Op, Pool, PoolOp, Tensor, Window};
use crate::program::{Arg, Const, Kernel, Lowering, NHWC, TensorId};

/// Shape inference for AveragePool, MaxPool: the output shape.
pub(crate) fn infer_window(cx: &InferCx, pool: &mut Pool) -> Result<Inferred> {
    let (node, x) = (cx.node, &cx.x);
    let out = {
        rank(node, "input", x, 4)?;
        let out_hw = resolve_window(node, [x[2], x[3]], &mut pool.window, pool.ceil_mode)?;
        vec![x[0], x[1], out_hw[0], out_hw[1]]
    };
    Ok(Inferred::Shape(out))
}

/// Shape inference for GlobalAveragePool: the output shape.
pub(crate) fn infer_global(cx: &InferCx) -> Result<Inferred> {
    let (node, x) = (cx.node, &cx.x);
    let out = {
        if x.len() < 3 {
            return Err(Error::node(
                node,
                None,
                format!("input shape {x:?} has no spatial axes"),
            ));
        }
        let mut out = x.clone();
        out[2..].iter_mut().for_each(|d| *d = 1);
        out
    };
    Ok(Inferred::Shape(out))
}

/// Shape inference for ReduceMean: the output shape.
pub(crate) fn infer_reduce_mean(
    cx: &InferCx,
    op_axes: &mut Option<Vec<i64>>,
    keepdims: &bool,
    noop_with_empty_axes: &bool,
) -> Result<Inferred> {
    let (graph, node, x) = (cx.graph, cx.node, &cx.x);
    let out = {
        let axes = match (op_axes.clone(), node.input(1)) {
            (Some(a), _) => a,
            (None, Some(id)) => constant_of(graph, node, id, "axes")?.to_i64(),
            (None, None) => Vec::new(),
        };
        let axes = if axes.is_empty() && *noop_with_empty_axes {
            Vec::new()
        } else if axes.is_empty() {
            (0..x.len()).collect()
        } else {
            normalize_axes(node, &axes, x.len())?
        };
        let axes: Vec<i64> = axes.iter().map(|&a| a as i64).collect();
        let mut out = Vec::new();
        for (i, &d) in x.iter().enumerate() {
            if axes.contains(&(i as i64)) {
                if *keepdims {
                    out.push(1);
                }
            } else {
                out.push(d);
            }
        }
        *op_axes = Some(axes);
        out
    };
    Ok(Inferred::Shape(out))
}

/// The reference evaluation of GlobalAveragePool.
pub(crate) fn eval_global(cx: &EvalCx) -> Result<Tensor> {
    if cx.x.dtype().int_range().is_some() {
        return super::quant::eval_global_pool(cx);
    }
    let x = cx.x;
    Ok({
        let (c, inner) = (
            x.shape[0] * x.shape[1],
            x.shape[2..].iter().product::<usize>(),
        );
        let xv = cx.xf()?;
        let y = (0..c)
            .map(|i| {
                (xv[i * inner..(i + 1) * inner]
                    .iter()
                    .map(|&v| v as f64)
                    .sum::<f64>()
                    / inner as f64) as f32
            })
            .collect();
        Tensor::f32(cx.out_shape()?, y)
    })
}

/// The reference evaluation of AveragePool.
pub(crate) fn eval_average(cx: &EvalCx, pool: &Pool) -> Result<Tensor> {
    let x = cx.x;
    Ok(pool2d(&x.shape, cx.xf()?, pool, cx.out_shape()?, false))
}

/// The reference evaluation of MaxPool.
pub(crate) fn eval_max(cx: &EvalCx, pool: &Pool) -> Result<Tensor> {
    let x = cx.x;
    Ok(pool2d(&x.shape, cx.xf()?, pool, cx.out_shape()?, true))
}

/// The reference evaluation of ReduceMean.
pub(crate) fn eval_reduce_mean(cx: &EvalCx, axes: &Option<Vec<i64>>) -> Result<Tensor> {
    let x = cx.x;
    Ok({
        let axes: Vec<usize> = axes
            .clone()
            .unwrap_or_default()
            .iter()
            .map(|&a| a as usize)
            .collect();
        reduce_mean(x, &axes, cx.out_shape()?)
    })
}

pub(crate) fn pool2d(xs: &[usize], x: &[f32], pool: &Pool, out: Vec<usize>, max: bool) -> Tensor {
    let (h, w) = (xs[2], xs[3]);
    let (oh, ow) = (out[2], out[3]);
    let planes = xs[0] * xs[1];
    let Window {
        kernel: [kh, kw],
        strides: [sh, sw],
        pads,
        ..
    } = pool.window;
    let (pt, pl) = (pads[0] as isize, pads[1] as isize);
    let (hp, wp) = ((h + pads[2]) as isize, (w + pads[3]) as isize);
    let mut y = Vec::with_capacity(planes * oh * ow);
    for p in 0..planes {
        let plane = &x[p * h * w..][..h * w];
        for oy in 0..oh {
            for ox in 0..ow {
                let (y0, x0) = ((oy * sh) as isize - pt, (ox * sw) as isize - pl);
                let mut acc = if max { f64::NEG_INFINITY } else { 0.0 };
                let mut count = 0usize;
                let mut padded_count = 0usize;
                for iy in y0..y0 + kh as isize {
                    for ix in x0..x0 + kw as isize {
                        // The window part inside input + explicit padding counts for
                        // count_include_pad; ceil_mode overhang beyond it never does.
                        if iy < hp && ix < wp {
                            padded_count += 1;
                        }
                        if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                            continue;
                        }
                        let v = plane[iy as usize * w + ix as usize] as f64;
                        if max {
                            acc = acc.max(v);
                        } else {
                            acc += v;
                        }
                        count += 1;
                    }
                }
                let v = if max {
                    acc
                } else if pool.count_include_pad {
                    acc / padded_count.max(1) as f64
                } else {
                    acc / count.max(1) as f64
                };
                y.push(v as f32);
            }
        }
    }
    Tensor::f32(out, y)
}

pub(crate) fn reduce_mean(x: &Tensor, axes: &[usize], out: Vec<usize>) -> Tensor {
    let xv = x.to_f32();
    let keep: Vec<usize> = x
        .shape
        .iter()
        .enumerate()
        .map(|(a, &d)| if axes.contains(&a) { 1 } else { d })
        .collect();
    let ks = strides_of(&keep);
    let n: usize = axes.iter().map(|&a| x.shape[a]).product();
    let mut acc = vec![0f64; keep.iter().product()];
    let mut coord = vec![0usize; x.shape.len()];
    for &v in &xv {
        let dst: usize = coord
            .iter()
            .enumerate()
            .map(|(a, &c)| if axes.contains(&a) { 0 } else { c * ks[a] })
            .sum();
        acc[dst] += v as f64;
        for a in (0..coord.len()).rev() {
            coord[a] += 1;
            if coord[a] < x.shape[a] {
                break;
            }
            coord[a] = 0;
        }
    }
    Tensor::f32(
        out,
        acc.iter().map(|&s| (s / n.max(1) as f64) as f32).collect(),
    )
}

/// Lowers AveragePool, MaxPool to kernel calls; returns the output tensor.
pub(crate) fn lower_window(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    p: &Pool,
) -> Result<TensorId> {
    Ok({
        let x = l.input(node, 0)?;
        let x = l.ensure(node, x, &NHWC);
        let xs = l.program.tensors[x].shape.clone();
        let y = l.new_buffer(out_shape.clone(), NHWC.to_vec());
        let (k, s, pad) = (p.window.kernel, p.window.strides, p.window.pads);
        let dims = [
            xs[2],
            xs[3],
            xs[1],
            k[0],
            k[1],
            s[0],
            s[1],
            pad[0],
            pad[1],
            pad[2],
            pad[3],
            out_shape[2],
            out_shape[3],
        ];
        let max = matches!(node.op, Op::Pool(PoolOp::MaxPool(_)));
        let consts = dims
            .into_iter()
            .map(Const::from)
            .chain([max, p.count_include_pad].map(Const::from))
            .chain([l.len(x), l.len(y)].map(Const::from));
        let kernel = Kernel::call(
            mnetc_targets::Kernel::Pool,
            consts,
            [Arg::Input(0), Arg::Output],
        );
        l.step(node, kernel, vec![x], y, Clamp::LINEAR, 0);
        y
    })
}

pub(crate) fn global_pool(l: &mut Lowering, node: &Node, out_shape: &[usize]) -> Result<TensorId> {
    let x = l.input(node, 0)?;
    let x = l.ensure(node, x, &NHWC);
    let xs = l.program.tensors[x].shape.clone();
    let rank = out_shape.len();
    let y = l.new_buffer(out_shape.to_vec(), (0..rank).collect());
    let kernel = Kernel::call(
        mnetc_targets::Kernel::GAvgPool,
        [xs[2] * xs[3], xs[1], l.len(x)].map(Const::from),
        [Arg::Input(0), Arg::Output],
    );
    l.step(node, kernel, vec![x], y, Clamp::LINEAR, 0);
    Ok(y)
}

/// Lowers GlobalAveragePool (4-D) to the global pooling kernel.
pub(crate) fn lower_global(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
) -> Result<TensorId> {
    if out_shape.len() != 4 {
        return Err(super::unsupported(node));
    }
    if super::quant::is_quantized(l.graph, node, 0) {
        return global_pool_int(l, node, &out_shape);
    }
    global_pool(l, node, &out_shape)
}

/// Global average pooling of a quantized input: the sums less the zero points, requantized by
/// `ops::quant::pool_scale`.
fn global_pool_int(l: &mut Lowering, node: &Node, out_shape: &[usize]) -> Result<TensorId> {
    use super::quant::{kernel_params, pool_scale, requant_arg, scalar_params};
    let x = super::quant::nhwc_input(l, node, 0)?;
    let xs = l.program.tensors[x].shape.clone();
    let (xid, yid) = (node.input(0).expect("checked"), node.outputs[0]);
    let (sx, xz) = kernel_params(l.graph, node, xid)?;
    let (sy, _) = scalar_params(l.graph, node, yid)?;
    let hw = xs[2] * xs[3];
    let scale = pool_scale(sx, sy, hw);
    let requant = requant_arg(l.graph, node, yid, Clamp::LINEAR)?;
    let y = l.new_buffer_of(
        out_shape.to_vec(),
        (0..4).collect(),
        crate::program::Elem::U8,
    );
    let kernel = Kernel::call(
        mnetc_targets::Kernel::QGAvgPool,
        [hw, xs[1], l.len(x)].map(Const::from),
        [
            Arg::Input(0),
            Arg::I32(xz),
            Arg::F32(scale),
            Arg::Output,
            requant,
        ],
    );
    l.step(node, kernel, vec![x], y, Clamp::LINEAR, 0);
    Ok(y)
}

/// Lowers ReduceMean: over height and width of a 4-D tensor it is global pooling; over other
/// axes, a mean over rows with the reduced axes last.
pub(crate) fn lower_reduce_mean(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    axes: &Option<Vec<i64>>,
) -> Result<TensorId> {
    let Some(axes) = axes else {
        return Err(super::unsupported(node));
    };
    let x = l.input(node, 0)?;
    let shape = l.program.tensors[x].shape.clone();
    // Axes from the end (the dynamo exporter's `[-1, -2]`) counted from the front, in order.
    let mut axes: Vec<usize> = axes
        .iter()
        .map(|&a| if a < 0 { a + shape.len() as i64 } else { a } as usize)
        .collect();
    axes.sort_unstable();
    axes.dedup();
    if axes == [2, 3] && shape.len() == 4 {
        return global_pool(l, node, &out_shape);
    }
    // Kept axes first, reduced axes last: each output is the mean of a contiguous row.
    let perm: Vec<usize> = (0..shape.len())
        .filter(|a| !axes.contains(a))
        .chain(axes.iter().copied())
        .collect();
    let x = l.ensure(node, x, &perm);
    let n: usize = axes.iter().map(|&a| shape[a]).product();
    let groups = shape.iter().product::<usize>() / n.max(1);
    let y = l.new_buffer(out_shape.clone(), (0..out_shape.len()).collect());
    let kernel = Kernel::call(
        mnetc_targets::Kernel::Mean,
        [groups, n, l.len(x)].map(Const::from),
        [Arg::Input(0), Arg::Output],
    );
    l.step(node, kernel, vec![x], y, Clamp::LINEAR, 0);
    Ok(y)
}

/// Shape inference for the pooling family.
pub(crate) fn infer(cx: &InferCx, op: &mut PoolOp) -> Result<Inferred> {
    match op {
        PoolOp::AveragePool(pool) | PoolOp::MaxPool(pool) => infer_window(cx, pool),
        PoolOp::GlobalAveragePool => infer_global(cx),
        PoolOp::ReduceMean {
            axes,
            keepdims,
            noop_with_empty_axes,
        } => infer_reduce_mean(cx, axes, keepdims, noop_with_empty_axes),
    }
}

/// The reference evaluation of the pooling family.
pub(crate) fn eval(cx: &EvalCx, op: &PoolOp) -> Result<Tensor> {
    match op {
        PoolOp::AveragePool(pool) => eval_average(cx, pool),
        PoolOp::MaxPool(pool) => eval_max(cx, pool),
        PoolOp::GlobalAveragePool => eval_global(cx),
        PoolOp::ReduceMean { axes, .. } => eval_reduce_mean(cx, axes),
    }
}

/// Lowers the pooling family.
pub(crate) fn lower(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    op: &PoolOp,
) -> Result<TensorId> {
    match op {
        PoolOp::AveragePool(pool) | PoolOp::MaxPool(pool) => lower_window(l, node, out_shape, pool),
        PoolOp::GlobalAveragePool => lower_global(l, node, out_shape),
        PoolOp::ReduceMean { axes, .. } => lower_reduce_mean(l, node, out_shape, axes),
    }
}

/// What `inspect` shows of a pooling op: its window, if it has one.
pub(crate) fn facts(op: &PoolOp) -> super::Facts {
    match op {
        PoolOp::AveragePool(p) | PoolOp::MaxPool(p) => super::Facts {
            window: Some(p.window.clone()),
            ..Default::default()
        },
        PoolOp::GlobalAveragePool | PoolOp::ReduceMean { .. } => super::Facts::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Window;

    #[test]
    fn average_pool_counts_padding_only_when_asked() {
        // A 2x2 map of ones, 2x2 window, stride 1, padding 1 on every side: the corner output
        // sees one input value.
        let x = [1.0f32; 4];
        let pool = |count_include_pad| Pool {
            window: Window::square(2, 1, 1),
            ceil_mode: false,
            count_include_pad,
        };
        let y = pool2d(&[1, 1, 2, 2], &x, &pool(false), vec![1, 1, 3, 3], false);
        assert_eq!(y.as_f32().unwrap()[0], 1.0);
        let y = pool2d(&[1, 1, 2, 2], &x, &pool(true), vec![1, 1, 3, 3], false);
        assert_eq!(y.as_f32().unwrap()[0], 0.25);
        let y = pool2d(
            &[1, 1, 2, 2],
            &[1.0, 4.0, 2.0, 3.0],
            &pool(false),
            vec![1, 1, 3, 3],
            true,
        );
        assert_eq!(y.as_f32().unwrap()[4], 4.0);
    }

    #[test]
    fn reduce_mean_over_the_last_axis() {
        let x = Tensor::f32(vec![2, 2], vec![1.0, 3.0, 5.0, 9.0]);
        let y = reduce_mean(&x, &[1], vec![2, 1]);
        assert_eq!(y.as_f32().unwrap(), &[2.0, 7.0]);
    }
}
