//! Ops that move, relabel or compute shapes: Pad, Flatten, Reshape, Squeeze, Unsqueeze,
//! Transpose, Identity, Cast, and the shape arithmetic (Shape, Gather, Concat, Slice) that
//! constant folding removes.

use super::elementwise::strides_of;
use super::{EvalCx, InferCx, Inferred, constant_of, normalize_axes, normalize_axis};
use crate::error::{Error, Result};
use crate::ir::{Clamp, DType, Data, Graph, Node, ShapeOp, Tensor};
use crate::program::{Arg, Const, Kernel, Lowering, TensorId, copy_call};

/// Shape inference for Pad: the output shape.
pub(crate) fn infer_pad(cx: &InferCx) -> Result<Inferred> {
    let (graph, node, x) = (cx.graph, cx.node, &cx.x);
    let out = {
        let amounts = pad_amounts(graph, node, x.len())?;
        pad_value(graph, node)?;
        let mut out = Vec::with_capacity(x.len());
        for (axis, (&d, (b, e))) in x.iter().zip(amounts).enumerate() {
            if b < 0 || e < 0 {
                return Err(Error::node(
                    node,
                    Some("pads"),
                    format!("has negative padding on axis {axis}, which is not supported"),
                ));
            }
            out.push(d + b as usize + e as usize);
        }
        out
    };
    Ok(Inferred::Shape(out))
}

/// Shape inference for Flatten: the output shape.
pub(crate) fn infer_flatten(cx: &InferCx, axis: &i64) -> Result<Inferred> {
    let (node, x) = (cx.node, &cx.x);
    let out = {
        let a = normalize_axis(node, *axis, x.len() + 1)?;
        vec![x[..a].iter().product(), x[a..].iter().product()]
    };
    Ok(Inferred::Shape(out))
}

/// Shape inference for Reshape: the output shape.
pub(crate) fn infer_reshape(cx: &InferCx, allowzero: &bool) -> Result<Inferred> {
    let (graph, node, x) = (cx.graph, cx.node, &cx.x);
    let out = {
        let id = node
            .input(1)
            .ok_or_else(|| Error::node(node, None, "the shape input is missing"))?;
        let target = constant_of(graph, node, id, "shape")?.to_i64();
        reshape(node, x, &target, *allowzero)?
    };
    Ok(Inferred::Shape(out))
}

/// Shape inference for Squeeze: the output shape.
pub(crate) fn infer_squeeze(cx: &InferCx) -> Result<Inferred> {
    let (graph, node, x) = (cx.graph, cx.node, &cx.x);
    let out = {
        let axes = match node.input(1) {
            Some(id) => Some(constant_of(graph, node, id, "axes")?.to_i64()),
            None => None,
        };
        match axes {
            None => x.iter().copied().filter(|&d| d != 1).collect(),
            Some(axes) => {
                let axes = normalize_axes(node, &axes, x.len())?;
                for &a in &axes {
                    if x[a] != 1 {
                        return Err(Error::node(
                            node,
                            Some("axes"),
                            format!("names axis {a} of {x:?}, which is not 1"),
                        ));
                    }
                }
                x.iter()
                    .enumerate()
                    .filter(|(i, _)| !axes.contains(i))
                    .map(|(_, &d)| d)
                    .collect()
            }
        }
    };
    Ok(Inferred::Shape(out))
}

/// Shape inference for Unsqueeze: the output shape.
pub(crate) fn infer_unsqueeze(cx: &InferCx) -> Result<Inferred> {
    let (graph, node, x) = (cx.graph, cx.node, &cx.x);
    let out = {
        let axes = match node.input(1) {
            Some(id) => constant_of(graph, node, id, "axes")?.to_i64(),
            None => return Err(Error::node(node, Some("axes"), "is required")),
        };
        let out_rank = x.len() + axes.len();
        let axes = normalize_axes(node, &axes, out_rank)?;
        let mut rest = x.iter();
        (0..out_rank)
            .map(|i| {
                if axes.contains(&i) {
                    1
                } else {
                    *rest.next().expect("rank checked")
                }
            })
            .collect()
    };
    Ok(Inferred::Shape(out))
}

/// Shape inference for Transpose: the output shape.
pub(crate) fn infer_transpose(cx: &InferCx, perm: &mut Option<Vec<usize>>) -> Result<Inferred> {
    let (node, x) = (cx.node, &cx.x);
    let out = {
        let p = perm.clone().unwrap_or_else(|| (0..x.len()).rev().collect());
        let mut sorted = p.clone();
        sorted.sort_unstable();
        if sorted != (0..x.len()).collect::<Vec<_>>() {
            return Err(Error::node(
                node,
                Some("perm"),
                format!("= {p:?} is not a permutation of the {} axes", x.len()),
            ));
        }
        *perm = Some(p.clone());
        p.iter().map(|&a| x[a]).collect()
    };
    Ok(Inferred::Shape(out))
}

/// Shape inference for Shape: the output.
pub(crate) fn infer_shape(cx: &InferCx, start: &i64, end: &Option<i64>) -> Result<Inferred> {
    let x = &cx.x;
    let r = x.len() as i64;
    let clampi = |v: i64| if v < 0 { (v + r).clamp(0, r) } else { v.clamp(0, r) } as usize;
    let (s, e) = (clampi(*start), clampi(end.unwrap_or(r)));
    let dims: Vec<i64> = x[s..e.max(s)].iter().map(|&d| d as i64).collect();
    Ok(Inferred::Constant(Tensor::i64(vec![dims.len()], dims)))
}

/// Shape inference for Gather, Concat, Slice: the output.
pub(crate) fn infer_folded(cx: &InferCx) -> Result<Inferred> {
    let (graph, node) = (cx.graph, cx.node);
    let all_constant = node
        .inputs
        .iter()
        .flatten()
        .all(|&i| graph.constant(i).is_some());
    if !all_constant {
        return Err(Error::node(
            node,
            None,
            "is only supported on constant (shape) data, not on activations",
        ));
    }
    // Constant folding computes the value and with it the shape.
    Ok(Inferred::Folded)
}

/// ONNX Pad amounts as `(begin, end)` per axis, from the constant inputs `pads` and, if
/// present, `axes`.
pub fn pad_amounts(graph: &Graph, node: &Node, rank: usize) -> Result<Vec<(i64, i64)>> {
    let id = node
        .input(1)
        .ok_or_else(|| Error::node(node, None, "the pads input is missing"))?;
    let pads = constant_of(graph, node, id, "pads")?.to_i64();
    let axes: Vec<usize> = match node.input(3) {
        Some(id) => normalize_axes(node, &constant_of(graph, node, id, "axes")?.to_i64(), rank)?,
        None => (0..rank).collect(),
    };
    if pads.len() != 2 * axes.len() {
        return Err(Error::node(
            node,
            Some("pads"),
            format!("= {pads:?} should hold {} values", 2 * axes.len()),
        ));
    }
    let mut out = vec![(0, 0); rank];
    for (i, &a) in axes.iter().enumerate() {
        out[a] = (pads[i], pads[i + axes.len()]);
    }
    Ok(out)
}

/// The value a Pad fills with: its optional constant input 2, a scalar (default 0).
pub fn pad_value(graph: &Graph, node: &Node) -> Result<f32> {
    let Some(id) = node.input(2) else {
        return Ok(0.0);
    };
    match constant_of(graph, node, id, "constant_value")?.to_f32()[..] {
        [v] => Ok(v),
        ref v => Err(Error::node(
            node,
            Some("constant_value"),
            format!("= {v:?} must be one number"),
        )),
    }
}

pub fn reshape(node: &Node, x: &[usize], target: &[i64], allowzero: bool) -> Result<Vec<usize>> {
    let total: usize = x.iter().product();
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &t) in target.iter().enumerate() {
        match t {
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            0 if !allowzero => out.push(*x.get(i).ok_or_else(|| {
                Error::node(
                    node,
                    None,
                    format!("shape {target:?} copies axis {i} that the input {x:?} lacks"),
                )
            })?),
            t if t >= 0 => out.push(t as usize),
            _ => {
                return Err(Error::node(
                    node,
                    None,
                    format!("shape {target:?} is invalid"),
                ));
            }
        }
    }
    let known = out
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::node(node, None, format!("shape {target:?} is too large")))?;
    if let Some(i) = infer {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(Error::node(
                node,
                None,
                format!("cannot reshape {x:?} to {target:?}"),
            ));
        }
        out[i] = total / known;
    } else if known != total {
        return Err(Error::node(
            node,
            None,
            format!("cannot reshape {x:?} ({total} values) to {target:?}"),
        ));
    }
    Ok(out)
}

/// The reference evaluation of Pad.
pub(crate) fn eval_pad(cx: &EvalCx) -> Result<Tensor> {
    let (graph, node, x) = (cx.graph, cx.node, cx.x);
    let amounts = pad_amounts(graph, node, x.shape.len())?;
    Ok(pad(x, &amounts, pad_value(graph, node)?, cx.out_shape()?))
}

/// The reference evaluation of Flatten, Reshape, Squeeze, Unsqueeze, Identity.
pub(crate) fn eval_relabel(cx: &EvalCx) -> Result<Tensor> {
    Ok(Tensor {
        shape: cx.out_shape()?,
        data: cx.x.data.clone(),
    })
}

/// The reference evaluation of Transpose.
pub(crate) fn eval_transpose(cx: &EvalCx, perm: &Option<Vec<usize>>) -> Result<Tensor> {
    let x = cx.x;
    Ok({
        let perm = perm
            .clone()
            .ok_or_else(|| Error::Internal("transpose without perm".into()))?;
        transpose(x, &perm)
    })
}

/// The reference evaluation of Shape.
pub(crate) fn eval_shape(cx: &EvalCx) -> Result<Tensor> {
    let (graph, node) = (cx.graph, cx.node);
    Ok({
        graph
            .constant(node.outputs[0])
            .cloned()
            .ok_or_else(|| Error::Internal("Shape was not resolved by shape inference".into()))?
    })
}

/// The reference evaluation of Gather.
pub(crate) fn eval_gather(cx: &EvalCx, axis: &i64) -> Result<Tensor> {
    let (node, x) = (cx.node, cx.x);
    gather(node, x, cx.arg(1)?, *axis)
}

/// The reference evaluation of Concat.
pub(crate) fn eval_concat(cx: &EvalCx, axis: &i64) -> Result<Tensor> {
    let (node, inputs) = (cx.node, cx.inputs);
    Ok({
        let parts: Vec<&Tensor> = inputs.iter().flatten().copied().collect();
        concat(node, &parts, *axis)?
    })
}

/// The reference evaluation of Cast.
pub(crate) fn eval_cast(cx: &EvalCx, to: &DType) -> Result<Tensor> {
    let x = cx.x;
    Ok({
        match to {
            DType::F32 => Tensor::f32(x.shape.clone(), x.to_f32()),
            int => Tensor::int(*int, x.shape.clone(), x.to_i64()),
        }
    })
}

/// The reference evaluation of Slice.
pub(crate) fn eval_slice(cx: &EvalCx) -> Result<Tensor> {
    let (node, x, inputs) = (cx.node, cx.x, cx.inputs);
    let (starts, ends) = (cx.arg(1)?.to_i64(), cx.arg(2)?.to_i64());
    let axes = inputs.get(3).copied().flatten().map(Tensor::to_i64);
    let steps = inputs.get(4).copied().flatten().map(Tensor::to_i64);
    slice(node, x, &starts, &ends, axes, steps)
}

pub(crate) fn pad(x: &Tensor, amounts: &[(i64, i64)], value: f32, out: Vec<usize>) -> Tensor {
    let xv = x.to_f32();
    let os = strides_of(&out);
    let mut y = vec![value; out.iter().product()];
    let mut coord = vec![0usize; x.shape.len()];
    for &v in &xv {
        let dst: usize = coord
            .iter()
            .enumerate()
            .map(|(a, &c)| (c + amounts[a].0 as usize) * os[a])
            .sum();
        y[dst] = v;
        for a in (0..coord.len()).rev() {
            coord[a] += 1;
            if coord[a] < x.shape[a] {
                break;
            }
            coord[a] = 0;
        }
    }
    Tensor::f32(out, y)
}

pub(crate) fn transpose(x: &Tensor, perm: &[usize]) -> Tensor {
    let out: Vec<usize> = perm.iter().map(|&a| x.shape[a]).collect();
    let xs = strides_of(&x.shape);
    let total: usize = out.iter().product();
    let mut src = Vec::with_capacity(total);
    let mut coord = vec![0usize; out.len()];
    for _ in 0..total {
        src.push(
            coord
                .iter()
                .enumerate()
                .map(|(a, &c)| c * xs[perm[a]])
                .sum::<usize>(),
        );
        for a in (0..out.len()).rev() {
            coord[a] += 1;
            if coord[a] < out[a] {
                break;
            }
            coord[a] = 0;
        }
    }
    gather_flat(x, out, &src)
}

pub(crate) fn gather_flat(x: &Tensor, shape: Vec<usize>, src: &[usize]) -> Tensor {
    x.gather(shape, src.iter().copied())
}

pub(crate) fn gather(node: &Node, x: &Tensor, indices: &Tensor, axis: i64) -> Result<Tensor> {
    let a = normalize_axis(node, axis, x.shape.len())?;
    let idx = indices.to_i64();
    let d = x.shape[a] as i64;
    let outer: usize = x.shape[..a].iter().product();
    let inner: usize = x.shape[a + 1..].iter().product();
    let mut src = Vec::new();
    for o in 0..outer {
        for &i in &idx {
            let i = if i < 0 { i + d } else { i };
            if !(0..d).contains(&i) {
                return Err(Error::node(
                    node,
                    None,
                    format!("index {i} is out of range for axis of size {d}"),
                ));
            }
            for k in 0..inner {
                src.push((o * d as usize + i as usize) * inner + k);
            }
        }
    }
    let mut shape = x.shape[..a].to_vec();
    shape.extend_from_slice(&indices.shape);
    shape.extend_from_slice(&x.shape[a + 1..]);
    Ok(gather_flat(x, shape, &src))
}

pub(crate) fn concat(node: &Node, parts: &[&Tensor], axis: i64) -> Result<Tensor> {
    let first = parts
        .first()
        .ok_or_else(|| Error::node(node, None, "has no inputs"))?;
    let a = normalize_axis(node, axis, first.shape.len())?;
    let mut shape = first.shape.clone();
    shape[a] = 0;
    for p in parts {
        let ok = p.shape.len() == first.shape.len()
            && p.shape
                .iter()
                .enumerate()
                .all(|(i, &d)| i == a || d == first.shape[i])
            && p.dtype() == first.dtype();
        if !ok {
            return Err(Error::node(
                node,
                None,
                format!(
                    "input shapes {:?} and {:?} do not concatenate on axis {a}",
                    first.shape, p.shape
                ),
            ));
        }
        shape[a] += p.shape[a];
    }
    // Every part's elements in one index space (the parts one after another), then the
    // concatenation as a gather from it.
    let outer: usize = shape[..a].iter().product();
    let mut src = Vec::new();
    for o in 0..outer {
        let mut base = 0;
        for p in parts {
            let chunk: usize = p.shape[a..].iter().product();
            src.extend(base + o * chunk..base + (o + 1) * chunk);
            base += p.len();
        }
    }
    let mut all = (*first).clone();
    all.shape = vec![parts.iter().map(|p| p.len()).sum()];
    for p in &parts[1..] {
        match (&mut all.data, &p.data) {
            (Data::F32(a), Data::F32(b)) => a.extend_from_slice(b),
            (Data::I64(a), Data::I64(b)) => a.extend_from_slice(b),
            (Data::U8(a), Data::U8(b)) => a.extend_from_slice(b),
            (Data::I8(a), Data::I8(b)) => a.extend_from_slice(b),
            _ => unreachable!("checked: same types"),
        }
    }
    Ok(all.gather(shape, src.into_iter()))
}

pub(crate) fn slice(
    node: &Node,
    x: &Tensor,
    starts: &[i64],
    ends: &[i64],
    axes: Option<Vec<i64>>,
    steps: Option<Vec<i64>>,
) -> Result<Tensor> {
    let r = x.shape.len();
    let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return Err(Error::node(
            node,
            None,
            "starts, ends, axes and steps differ in length",
        ));
    }
    let mut ranges: Vec<Vec<usize>> = x.shape.iter().map(|&d| (0..d).collect()).collect();
    for k in 0..starts.len() {
        let a = normalize_axis(node, axes[k], r)?;
        let d = x.shape[a] as i64;
        let step = steps[k];
        if step == 0 {
            return Err(Error::node(node, None, "step 0 is invalid"));
        }
        let fix = |v: i64, lo: i64, hi: i64| {
            if v < 0 {
                (v + d).clamp(lo, hi)
            } else {
                v.clamp(lo, hi)
            }
        };
        let (s, e) = if step > 0 {
            (fix(starts[k], 0, d), fix(ends[k], 0, d))
        } else {
            (fix(starts[k], 0, d - 1), fix(ends[k], -1, d - 1))
        };
        let mut v = Vec::new();
        let mut i = s;
        while (step > 0 && i < e) || (step < 0 && i > e) {
            v.push(i as usize);
            i += step;
        }
        ranges[a] = v;
    }
    let shape: Vec<usize> = ranges.iter().map(Vec::len).collect();
    let xs = strides_of(&x.shape);
    let mut src = vec![0usize];
    for (a, range) in ranges.iter().enumerate() {
        let stride = xs[a];
        src = src
            .iter()
            .flat_map(|&base| range.iter().map(move |&i| base + i * stride))
            .collect();
    }
    Ok(gather_flat(x, shape, &src))
}

/// Lowers Pad to kernel calls; returns the output tensor.
pub(crate) fn lower_pad(l: &mut Lowering, node: &Node, out_shape: Vec<usize>) -> Result<TensorId> {
    Ok({
        let x = l.input(node, 0)?;
        let info = l.program.tensors[x].clone();
        let y = l.new_buffer(out_shape.clone(), info.perm.clone());
        let y_info = l.program.tensors[y].clone();
        let ys = y_info.strides();
        let amounts = pad_amounts(l.graph, node, info.shape.len())?;
        let value = pad_value(l.graph, node)?;
        // The data starts after the padding before it, on every axis.
        let y_start = amounts
            .iter()
            .zip(&ys)
            .map(|(&(before, _), s)| before as usize * s)
            .sum();
        let fill = Kernel::call(
            mnetc_targets::Kernel::Fill,
            [Const::from(l.len(y))],
            [Arg::Output, Arg::F32(value)],
        );
        l.step(node, fill, vec![], y, Clamp::LINEAR, 0);
        let xs = info.strides();
        let order = &info.perm;
        let kernel = copy_call(
            order.len(),
            [l.len(x), l.len(y)],
            order.iter().map(|&a| xs[a]).collect(),
            y_start,
            order.iter().map(|&a| ys[a]).collect(),
            order.iter().map(|&a| info.shape[a]).collect(),
        );
        l.step(node, kernel, vec![x], y, Clamp::LINEAR, 0);
        y
    })
}

/// Lowers Transpose to kernel calls; returns the output tensor.
pub(crate) fn lower_transpose(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    q: &[usize],
) -> Result<TensorId> {
    Ok({
        let x = l.input(node, 0)?;
        let info = l.program.tensors[x].clone();
        // y's logical axis j is x's axis q[j]: keep the memory, relabel the axes.
        let mut inverse = vec![0; q.len()];
        for (j, &a) in q.iter().enumerate() {
            inverse[a] = j;
        }
        let perm = info.perm.iter().map(|&a| inverse[a]).collect();
        l.tensor_of(out_shape.clone(), perm, info.storage, info.elem)
    })
}

/// Lowers the ops that only relabel their input (Flatten, Reshape, Squeeze, Unsqueeze,
/// Identity): the same memory in logical order under the output's shape.
pub(crate) fn lower_relabel(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
) -> Result<TensorId> {
    let x = l.input(node, 0)?;
    let rank = l.program.tensors[x].shape.len();
    let x = l.ensure(node, x, &(0..rank).collect::<Vec<_>>());
    Ok(l.relabel(x, out_shape))
}

/// Shape inference for the shape family.
pub(crate) fn infer(cx: &InferCx, op: &mut ShapeOp) -> Result<Inferred> {
    match op {
        ShapeOp::Pad => infer_pad(cx),
        ShapeOp::Identity | ShapeOp::Cast { .. } => Ok(Inferred::Shape(cx.x.clone())),
        ShapeOp::Flatten { axis } => infer_flatten(cx, axis),
        ShapeOp::Reshape { allowzero } => infer_reshape(cx, allowzero),
        ShapeOp::Squeeze => infer_squeeze(cx),
        ShapeOp::Unsqueeze => infer_unsqueeze(cx),
        ShapeOp::Transpose { perm } => infer_transpose(cx, perm),
        ShapeOp::Shape { start, end } => infer_shape(cx, start, end),
        ShapeOp::Gather { .. } | ShapeOp::Concat { .. } | ShapeOp::Slice => infer_folded(cx),
    }
}

/// The reference evaluation of the shape family.
pub(crate) fn eval(cx: &EvalCx, op: &ShapeOp) -> Result<Tensor> {
    match op {
        ShapeOp::Pad => eval_pad(cx),
        ShapeOp::Flatten { .. }
        | ShapeOp::Reshape { .. }
        | ShapeOp::Squeeze
        | ShapeOp::Unsqueeze
        | ShapeOp::Identity => eval_relabel(cx),
        ShapeOp::Transpose { perm } => eval_transpose(cx, perm),
        ShapeOp::Shape { .. } => eval_shape(cx),
        ShapeOp::Gather { axis } => eval_gather(cx, axis),
        ShapeOp::Concat { axis } => eval_concat(cx, axis),
        ShapeOp::Cast { to } => eval_cast(cx, to),
        ShapeOp::Slice => eval_slice(cx),
    }
}

/// Lowers the shape family: data movement is copies or nothing; shape arithmetic is folded
/// before code generation, so reaching it is an error.
pub(crate) fn lower(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    op: &ShapeOp,
) -> Result<TensorId> {
    match op {
        ShapeOp::Pad => lower_pad(l, node, out_shape),
        ShapeOp::Flatten { .. }
        | ShapeOp::Reshape { .. }
        | ShapeOp::Squeeze
        | ShapeOp::Unsqueeze
        | ShapeOp::Identity => lower_relabel(l, node, out_shape),
        ShapeOp::Transpose { perm: Some(perm) } => lower_transpose(l, node, out_shape, perm),
        ShapeOp::Transpose { perm: None }
        | ShapeOp::Shape { .. }
        | ShapeOp::Gather { .. }
        | ShapeOp::Concat { .. }
        | ShapeOp::Cast { .. }
        | ShapeOp::Slice => Err(super::unsupported(node)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> Node {
        Node {
            name: "r".into(),
            op: crate::ir::Op::Shape(ShapeOp::Identity),
            inputs: vec![],
            outputs: vec![],
        }
    }

    #[test]
    fn reshape_infers_one_dimension_and_copies_zeros() {
        assert_eq!(
            reshape(&node(), &[1, 8, 2, 2], &[1, -1], false).unwrap(),
            vec![1, 32]
        );
        assert_eq!(
            reshape(&node(), &[1, 8, 2, 2], &[0, 0, 4], false).unwrap(),
            vec![1, 8, 4]
        );
        assert!(reshape(&node(), &[1, 8, 2, 2], &[3, -1], false).is_err());
    }

    #[test]
    fn transpose_moves_elements() {
        let x = Tensor::f32(vec![2, 3], vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let y = transpose(&x, &[1, 0]);
        assert_eq!(y.shape, vec![3, 2]);
        assert_eq!(y.as_f32().unwrap(), &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    }

    #[test]
    fn pad_surrounds_with_the_value() {
        let x = Tensor::f32(vec![1, 2], vec![1.0, 2.0]);
        let y = pad(&x, &[(0, 0), (1, 2)], 9.0, vec![1, 5]);
        assert_eq!(y.as_f32().unwrap(), &[9.0, 1.0, 2.0, 9.0, 9.0]);
    }
}
