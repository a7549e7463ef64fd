//! The reference interpreter: evaluates the IR with plain loops, f32 storage and f64
//! accumulation. It is the oracle for the passes (a graph must compute the same function before
//! and after them) and for generated code, and constant folding uses it to evaluate nodes whose
//! inputs are all constants. It must stay simple enough to be obviously right; speed is not its job.

use crate::error::{Error, Result};
use crate::ir::{Clamp, Conv, Data, Graph, Node, Op, Pool, Tensor, Window};
use crate::passes::shape_inference::{broadcast, normalize_axis, pad_amounts};

/// Runs the graph on `input` (in the graph input's own layout and shape) and returns its outputs.
pub fn run(graph: &Graph, input: &Tensor) -> Result<Vec<Tensor>> {
    let input_id = graph.input.value;
    let want = graph
        .shape(input_id)
        .ok_or_else(|| Error::Internal("input shape is not specialised".into()))?;
    if input.shape != want || input.as_f32().is_none() {
        return Err(Error::Options(format!(
            "the input has shape {:?}, the model expects float32 {:?}",
            input.shape, want
        )));
    }
    let mut env: Vec<Option<Tensor>> = graph.values.iter().map(|v| v.constant.clone()).collect();
    env[input_id] = Some(input.clone());
    // Activations are dropped after their last reader, so whole-model runs stay small.
    let mut last_use = vec![usize::MAX; graph.values.len()];
    for (i, node) in graph.nodes.iter().enumerate() {
        for &id in node.inputs.iter().flatten() {
            if graph.values[id].constant.is_none() && !graph.outputs.contains(&id) {
                last_use[id] = i;
            }
        }
    }
    for (i, node) in graph.nodes.iter().enumerate() {
        let inputs: Vec<Option<&Tensor>> = node
            .inputs
            .iter()
            .map(|input| input.and_then(|id| env[id].as_ref()))
            .collect();
        let outputs = eval(graph, node, &inputs)?;
        for (id, t) in node.outputs.iter().zip(outputs) {
            env[*id] = Some(t);
        }
        for &id in node.inputs.iter().flatten() {
            if last_use[id] == i {
                env[id] = None;
            }
        }
    }
    graph
        .outputs
        .iter()
        .map(|&id| {
            env[id].take().ok_or_else(|| {
                Error::Internal(format!(
                    "output '{}' was not computed",
                    graph.values[id].name
                ))
            })
        })
        .collect()
}

/// Evaluates one node. `graph` provides static shapes and constant inputs.
pub fn eval(graph: &Graph, node: &Node, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    let arg = |i: usize| -> Result<&Tensor> {
        inputs
            .get(i)
            .copied()
            .flatten()
            .ok_or_else(|| Error::node(node, None, format!("input {i} is not available")))
    };
    let x = arg(0)?;
    let out_shape = || -> Result<Vec<usize>> {
        graph
            .shape(node.outputs[0])
            .map(<[usize]>::to_vec)
            .ok_or_else(|| Error::Internal(format!("node '{}': output shape unknown", node.name)))
    };
    let xf = || {
        x.as_f32()
            .ok_or_else(|| Error::node(node, None, "expects float data"))
    };
    let out = match &node.op {
        Op::Conv(conv) => conv2d(
            x.shape.as_slice(),
            xf()?,
            arg(1)?,
            inputs.get(2).copied().flatten(),
            conv,
            out_shape()?,
        ),
        Op::BatchNorm { epsilon } => {
            let [s, b, m, v] = [1, 2, 3, 4].map(|i| arg(i).map(Tensor::to_f32));
            let (s, b, m, v) = (s?, b?, m?, v?);
            let c = x.shape[1];
            let inner: usize = x.shape[2..].iter().product();
            let mut y = xf()?.to_vec();
            for (i, val) in y.iter_mut().enumerate() {
                let ch = (i / inner) % c;
                let scale = s[ch] as f64 / (v[ch] as f64 + *epsilon as f64).sqrt();
                *val = ((*val as f64 - m[ch] as f64) * scale + b[ch] as f64) as f32;
            }
            Tensor::f32(x.shape.clone(), y)
        }
        Op::Clip(clamp) => {
            let clamp = clip_bounds(node, *clamp, inputs)?;
            Tensor::f32(
                x.shape.clone(),
                xf()?.iter().map(|&v| clamp.apply(v)).collect(),
            )
        }
        Op::Pad { pads, value } => {
            let amounts = pad_amounts(graph, node, pads.as_deref(), x.shape.len())?;
            pad(x, &amounts, *value, out_shape()?)
        }
        Op::Binary(op) => {
            let b = arg(1)?;
            let shape = broadcast(&x.shape, &b.shape)
                .ok_or_else(|| Error::node(node, None, "shapes do not broadcast"))?;
            let ia = broadcast_index(&x.shape, &shape);
            let ib = broadcast_index(&b.shape, &shape);
            match (&x.data, &b.data) {
                (Data::I64(av), Data::I64(bv)) => {
                    let mut out = Vec::with_capacity(ia.len());
                    for (&i, &j) in ia.iter().zip(&ib) {
                        out.push(op.apply_i64(av[i], bv[j]).ok_or_else(|| {
                            Error::node(node, None, "integer overflow or division by zero")
                        })?);
                    }
                    Tensor::i64(shape, out)
                }
                _ => {
                    let (av, bv) = (x.to_f32(), b.to_f32());
                    Tensor::f32(
                        shape,
                        ia.iter()
                            .zip(&ib)
                            .map(|(&i, &j)| op.apply(av[i], bv[j]))
                            .collect(),
                    )
                }
            }
        }
        Op::GlobalAveragePool => {
            let (c, inner) = (
                x.shape[0] * x.shape[1],
                x.shape[2..].iter().product::<usize>(),
            );
            let xv = xf()?;
            let y = (0..c)
                .map(|i| {
                    (xv[i * inner..(i + 1) * inner]
                        .iter()
                        .map(|&v| v as f64)
                        .sum::<f64>()
                        / inner as f64) as f32
                })
                .collect();
            Tensor::f32(out_shape()?, y)
        }
        Op::AveragePool(pool) => pool2d(&x.shape, xf()?, pool, out_shape()?, false),
        Op::MaxPool(pool) => pool2d(&x.shape, xf()?, pool, out_shape()?, true),
        Op::ReduceMean { axes, .. } => {
            let axes: Vec<usize> = axes
                .clone()
                .unwrap_or_default()
                .iter()
                .map(|&a| a as usize)
                .collect();
            reduce_mean(x, &axes, out_shape()?)
        }
        Op::Gemm {
            alpha,
            beta,
            trans_a,
            trans_b,
        } => {
            let (a, b) = (x.to_f32(), arg(1)?.to_f32());
            let (m, k) = if *trans_a {
                (x.shape[1], x.shape[0])
            } else {
                (x.shape[0], x.shape[1])
            };
            let n = if *trans_b {
                arg(1)?.shape[0]
            } else {
                arg(1)?.shape[1]
            };
            let c = inputs.get(2).copied().flatten();
            let ic = c.map(|c| broadcast_index(&c.shape, &[m, n]));
            let cv = c.map(Tensor::to_f32);
            let mut y = vec![0f32; m * n];
            for i in 0..m {
                for j in 0..n {
                    let mut acc = 0f64;
                    for l in 0..k {
                        let av = if *trans_a { a[l * m + i] } else { a[i * k + l] };
                        let bv = if *trans_b { b[j * k + l] } else { b[l * n + j] };
                        acc += av as f64 * bv as f64;
                    }
                    let mut v = *alpha as f64 * acc;
                    if let (Some(ic), Some(cv)) = (&ic, &cv) {
                        v += *beta as f64 * cv[ic[i * n + j]] as f64;
                    }
                    y[i * n + j] = v as f32;
                }
            }
            Tensor::f32(vec![m, n], y)
        }
        Op::MatMul => {
            let (a, b) = (xf()?, arg(1)?.to_f32());
            let (k, n) = (arg(1)?.shape[0], arg(1)?.shape[1]);
            let rows = a.len() / k;
            let mut y = vec![0f32; rows * n];
            for r in 0..rows {
                for j in 0..n {
                    y[r * n + j] = (0..k)
                        .map(|l| a[r * k + l] as f64 * b[l * n + j] as f64)
                        .sum::<f64>() as f32;
                }
            }
            Tensor::f32(out_shape()?, y)
        }
        Op::Dense { act } => {
            let (a, w) = (xf()?, arg(1)?.to_f32());
            let b = inputs.get(2).copied().flatten().map(Tensor::to_f32);
            let (n, k) = (arg(1)?.shape[0], arg(1)?.shape[1]);
            let rows = a.len() / k;
            let mut y = vec![0f32; rows * n];
            for r in 0..rows {
                for j in 0..n {
                    let mut acc: f64 = (0..k)
                        .map(|l| a[r * k + l] as f64 * w[j * k + l] as f64)
                        .sum();
                    if let Some(b) = &b {
                        acc += b[j] as f64;
                    }
                    y[r * n + j] = act.apply(acc as f32);
                }
            }
            Tensor::f32(out_shape()?, y)
        }
        Op::Flatten { .. }
        | Op::Reshape { .. }
        | Op::Squeeze { .. }
        | Op::Unsqueeze { .. }
        | Op::Identity => Tensor {
            shape: out_shape()?,
            data: x.data.clone(),
        },
        Op::Transpose { perm } => {
            let perm = perm
                .clone()
                .ok_or_else(|| Error::Internal("transpose without perm".into()))?;
            transpose(x, &perm)
        }
        Op::Softmax { axis, legacy } => softmax(node, x, *axis, *legacy)?,
        Op::Shape { .. } => graph
            .constant(node.outputs[0])
            .cloned()
            .ok_or_else(|| Error::Internal("Shape was not resolved by shape inference".into()))?,
        Op::Gather { axis } => gather(node, x, arg(1)?, *axis)?,
        Op::Concat { axis } => {
            let parts: Vec<&Tensor> = inputs.iter().flatten().copied().collect();
            concat(node, &parts, *axis)?
        }
        Op::Cast { to } => match to {
            crate::ir::DType::F32 => Tensor::f32(x.shape.clone(), x.to_f32()),
            crate::ir::DType::I64 => Tensor::i64(x.shape.clone(), x.to_i64()),
        },
        Op::Slice { attrs } => {
            let (starts, ends, axes, steps) = match attrs {
                Some(a) => (a.starts.clone(), a.ends.clone(), a.axes.clone(), None),
                None => (
                    arg(1)?.to_i64(),
                    arg(2)?.to_i64(),
                    inputs.get(3).copied().flatten().map(Tensor::to_i64),
                    inputs.get(4).copied().flatten().map(Tensor::to_i64),
                ),
            };
            slice(node, x, &starts, &ends, axes, steps)?
        }
    };
    Ok(vec![out])
}

/// The clamp of a Clip node: attribute bounds (opset < 11) or constant `min`/`max` inputs.
pub fn clip_bounds(node: &Node, attr: Clamp, inputs: &[Option<&Tensor>]) -> Result<Clamp> {
    let mut clamp = attr;
    for (i, slot) in [(1, &mut clamp.min), (2, &mut clamp.max)] {
        if let Some(t) = inputs.get(i).copied().flatten() {
            let v = t.to_f32();
            if v.len() != 1 || v[0].is_nan() {
                return Err(Error::node(
                    node,
                    None,
                    format!("bound input {i} must be a scalar number, got {v:?}"),
                ));
            }
            *slot = v[0];
        }
    }
    Ok(clamp)
}

fn conv2d(
    xs: &[usize],
    x: &[f32],
    w: &Tensor,
    bias: Option<&Tensor>,
    conv: &Conv,
    out: Vec<usize>,
) -> Tensor {
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

fn pool2d(xs: &[usize], x: &[f32], pool: &Pool, out: Vec<usize>, max: bool) -> Tensor {
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

fn strides_of(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// For every element of `out` (row-major), the index of the element of a tensor of shape
/// `from` that broadcasting maps to it.
fn broadcast_index(from: &[usize], out: &[usize]) -> Vec<usize> {
    let total: usize = out.iter().product();
    let fs = strides_of(from);
    let offset = out.len() - from.len();
    let mut idx = vec![0usize; total];
    let mut coord = vec![0usize; out.len()];
    for slot in idx.iter_mut() {
        let mut i = 0;
        for (a, &c) in coord.iter().enumerate().skip(offset) {
            let fa = a - offset;
            if from[fa] != 1 {
                i += c * fs[fa];
            }
        }
        *slot = i;
        for a in (0..out.len()).rev() {
            coord[a] += 1;
            if coord[a] < out[a] {
                break;
            }
            coord[a] = 0;
        }
    }
    idx
}

fn pad(x: &Tensor, amounts: &[(i64, i64)], value: f32, out: Vec<usize>) -> Tensor {
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

fn reduce_mean(x: &Tensor, axes: &[usize], out: Vec<usize>) -> Tensor {
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

fn transpose(x: &Tensor, perm: &[usize]) -> Tensor {
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

fn gather_flat(x: &Tensor, shape: Vec<usize>, src: &[usize]) -> Tensor {
    match &x.data {
        Data::F32(v) => Tensor::f32(shape, src.iter().map(|&i| v[i]).collect()),
        Data::I64(v) => Tensor::i64(shape, src.iter().map(|&i| v[i]).collect()),
    }
}

fn softmax(node: &Node, x: &Tensor, axis: i64, legacy: bool) -> Result<Tensor> {
    let a = normalize_axis(node, axis, x.shape.len())?;
    let xv = x.to_f32();
    let mut y = vec![0f32; xv.len()];
    // Legacy (opset < 13): the input is flattened to 2-D at `axis`.
    let (outer, n, inner) = if legacy {
        (
            x.shape[..a].iter().product::<usize>(),
            x.shape[a..].iter().product::<usize>(),
            1,
        )
    } else {
        (
            x.shape[..a].iter().product(),
            x.shape[a],
            x.shape[a + 1..].iter().product(),
        )
    };
    for o in 0..outer {
        for i in 0..inner {
            let at = |j: usize| (o * n + j) * inner + i;
            let max = (0..n).map(|j| xv[at(j)]).fold(f32::NEG_INFINITY, f32::max);
            let sum: f64 = (0..n).map(|j| ((xv[at(j)] - max) as f64).exp()).sum();
            for j in 0..n {
                y[at(j)] = (((xv[at(j)] - max) as f64).exp() / sum) as f32;
            }
        }
    }
    Ok(Tensor::f32(x.shape.clone(), y))
}

fn gather(node: &Node, x: &Tensor, indices: &Tensor, axis: i64) -> Result<Tensor> {
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

fn concat(node: &Node, parts: &[&Tensor], axis: i64) -> Result<Tensor> {
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
    let outer: usize = shape[..a].iter().product();
    let mut f = Vec::new();
    let mut i = Vec::new();
    for o in 0..outer {
        for p in parts {
            let chunk: usize = p.shape[a..].iter().product();
            match &p.data {
                Data::F32(v) => f.extend_from_slice(&v[o * chunk..][..chunk]),
                Data::I64(v) => i.extend_from_slice(&v[o * chunk..][..chunk]),
            }
        }
    }
    Ok(match first.data {
        Data::F32(_) => Tensor::f32(shape, f),
        Data::I64(_) => Tensor::i64(shape, i),
    })
}

fn slice(
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
