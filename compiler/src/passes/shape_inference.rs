//! Shape inference: gives every value of a node a static shape, from the static shapes of its
//! inputs and the constants it reads (Reshape targets, Pad amounts, axes). It also resolves what
//! only shapes decide: `auto_pad` into explicit pads, an omitted `kernel_shape`, `Shape` nodes
//! into constants. It checks that shapes add up and names the node when they do not, including
//! a resolution too small for the strides.
//!
//! It runs node by node, interleaved with constant folding (see `passes::specialise`), because
//! exporters compute Reshape targets from `Shape` of activations.

use crate::error::{Error, Result};
use crate::ir::{AutoPad, DType, Graph, Node, Op, Tensor, Window};

/// Infers the output shapes of node `index`. Inputs must already have shapes.
pub fn infer(graph: &mut Graph, index: usize) -> Result<()> {
    let node = &graph.nodes[index];
    let mut in_shapes = Vec::with_capacity(node.inputs.len());
    for input in &node.inputs {
        in_shapes.push(match input {
            Some(id) => Some(graph.known_shape(*id, node)?.to_vec()),
            None => None,
        });
    }
    // Only the first output carries data; the others (Dropout's mask, MaxPool's indices, ...)
    // must not be read.
    for &extra in node.outputs.iter().skip(1) {
        if graph.use_count(extra) > 0 {
            return Err(Error::node(
                node,
                None,
                format!(
                    "output '{}' is not supported (only the first output may be used)",
                    graph.values[extra].name
                ),
            ));
        }
    }
    let x = in_shapes
        .first()
        .cloned()
        .flatten()
        .ok_or_else(|| Error::node(node, None, "its first input is missing"))?;
    let mut op = node.op.clone();
    let mut constant_out = None;
    let out: Vec<usize> = match &mut op {
        Op::Conv(conv) => {
            let w = in_shapes
                .get(1)
                .cloned()
                .flatten()
                .ok_or_else(|| Error::node(node, None, "the weight input is missing"))?;
            rank(node, "input", &x, 4)?;
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
            if let Some(Some(b)) = in_shapes.get(2) {
                if b.as_slice() != [m] {
                    return Err(Error::node(
                        node,
                        None,
                        format!("bias shape {b:?} should be [{m}]"),
                    ));
                }
            }
            let out_hw = resolve_window(node, [x[2], x[3]], &mut conv.window, false)?;
            vec![x[0], m, out_hw[0], out_hw[1]]
        }
        Op::AveragePool(pool) | Op::MaxPool(pool) => {
            rank(node, "input", &x, 4)?;
            let out_hw = resolve_window(node, [x[2], x[3]], &mut pool.window, pool.ceil_mode)?;
            vec![x[0], x[1], out_hw[0], out_hw[1]]
        }
        Op::GlobalAveragePool => {
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
        }
        Op::BatchNorm { .. } => {
            if x.len() < 2 {
                return Err(Error::node(
                    node,
                    None,
                    format!("input shape {x:?} has no channel axis"),
                ));
            }
            for (i, s) in in_shapes.iter().enumerate().skip(1) {
                let s = s
                    .as_ref()
                    .ok_or_else(|| Error::node(node, None, format!("input {i} is missing")))?;
                if s.as_slice() != [x[1]] {
                    return Err(Error::node(
                        node,
                        None,
                        format!("parameter {i} has shape {s:?}, expected [{}]", x[1]),
                    ));
                }
            }
            x.clone()
        }
        Op::Clip(_) | Op::Identity | Op::Softmax { .. } => x.clone(),
        Op::Cast { .. } => x.clone(),
        Op::Binary(_) => {
            let b = in_shapes[1]
                .clone()
                .ok_or_else(|| Error::node(node, None, "the second input is missing"))?;
            broadcast(&x, &b).ok_or_else(|| {
                Error::node(
                    node,
                    None,
                    format!("shapes {x:?} and {b:?} do not broadcast"),
                )
            })?
        }
        Op::Pad { pads, .. } => {
            let amounts = pad_amounts(graph, node, pads.as_deref(), x.len())?;
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
        }
        Op::ReduceMean {
            axes: op_axes,
            keepdims,
            noop_with_empty_axes,
        } => {
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
        }
        Op::Gemm {
            trans_a, trans_b, ..
        } => {
            let b = in_shapes[1]
                .clone()
                .ok_or_else(|| Error::node(node, None, "input B is missing"))?;
            rank(node, "A", &x, 2)?;
            rank(node, "B", &b, 2)?;
            let (m, k) = if *trans_a { (x[1], x[0]) } else { (x[0], x[1]) };
            let (kb, n) = if *trans_b { (b[1], b[0]) } else { (b[0], b[1]) };
            if k != kb {
                return Err(Error::node(
                    node,
                    None,
                    format!(
                        "A {x:?} and B {b:?} do not multiply (transA = {}, transB = {})",
                        *trans_a as u8, *trans_b as u8
                    ),
                ));
            }
            if let Some(Some(c)) = in_shapes.get(2) {
                if broadcast(c, &[m, n]).as_deref() != Some(&[m, n]) {
                    return Err(Error::node(
                        node,
                        None,
                        format!("C {c:?} does not broadcast to [{m}, {n}]"),
                    ));
                }
            }
            vec![m, n]
        }
        Op::MatMul => {
            let b = in_shapes[1]
                .clone()
                .ok_or_else(|| Error::node(node, None, "input B is missing"))?;
            if x.is_empty() || b.len() != 2 || x[x.len() - 1] != b[0] {
                return Err(Error::node(
                    node,
                    None,
                    format!("shapes {x:?} and {b:?} do not multiply (B must be a matrix)"),
                ));
            }
            let mut out = x.clone();
            *out.last_mut().expect("non-empty") = b[1];
            out
        }
        Op::Dense { .. } => {
            let w = in_shapes[1]
                .clone()
                .ok_or_else(|| Error::node(node, None, "the weight is missing"))?;
            rank(node, "weight", &w, 2)?;
            if x.len() != 2 || x[1] != w[1] {
                return Err(Error::node(
                    node,
                    None,
                    format!("input {x:?} does not fit weight {w:?}"),
                ));
            }
            vec![x[0], w[0]]
        }
        Op::Flatten { axis } => {
            let a = normalize_axis(node, *axis, x.len() + 1)?;
            vec![x[..a].iter().product(), x[a..].iter().product()]
        }
        Op::Reshape { allowzero } => {
            let id = node
                .input(1)
                .ok_or_else(|| Error::node(node, None, "the shape input is missing"))?;
            let target = constant_of(graph, node, id, "shape")?.to_i64();
            reshape(node, &x, &target, *allowzero)?
        }
        Op::Squeeze { axes } => {
            let axes = match (axes.clone(), node.input(1)) {
                (Some(a), _) => Some(a),
                (None, Some(id)) => Some(constant_of(graph, node, id, "axes")?.to_i64()),
                (None, None) => None,
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
        }
        Op::Unsqueeze { axes } => {
            let axes = match (axes.clone(), node.input(1)) {
                (Some(a), _) => a,
                (None, Some(id)) => constant_of(graph, node, id, "axes")?.to_i64(),
                (None, None) => return Err(Error::node(node, Some("axes"), "is required")),
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
        }
        Op::Transpose { perm } => {
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
        }
        Op::Shape { start, end } => {
            let r = x.len() as i64;
            let clampi = |v: i64| if v < 0 { (v + r).clamp(0, r) } else { v.clamp(0, r) } as usize;
            let (s, e) = (clampi(*start), clampi(end.unwrap_or(r)));
            let dims: Vec<i64> = x[s..e.max(s)].iter().map(|&d| d as i64).collect();
            constant_out = Some(Tensor::i64(vec![dims.len()], dims));
            vec![e.max(s) - s]
        }
        Op::Gather { .. } | Op::Concat { .. } | Op::Slice { .. } => {
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
            return Ok(());
        }
    };
    let out_id = node.outputs[0];
    let dtype = match &op {
        Op::Shape { .. } => DType::I64,
        Op::Cast { to } => *to,
        _ => graph.values[node.inputs[0].expect("checked")].dtype,
    };
    graph.nodes[index].op = op;
    let value = &mut graph.values[out_id];
    value.shape = Some(out);
    value.dtype = dtype;
    if let Some(t) = constant_out {
        value.constant = Some(t);
    }
    Ok(())
}

fn rank(node: &Node, what: &str, shape: &[usize], want: usize) -> Result<()> {
    if shape.len() == want {
        Ok(())
    } else {
        Err(Error::node(
            node,
            None,
            format!("{what} has shape {shape:?}, expected rank {want}"),
        ))
    }
}

/// The constant value of input `id`, or an error saying that `what` must be constant.
pub fn constant_of<'g>(graph: &'g Graph, node: &Node, id: usize, what: &str) -> Result<&'g Tensor> {
    graph.constant(id).ok_or_else(|| {
        Error::node(
            node,
            None,
            format!(
                "input '{what}' ('{}') must be a constant",
                graph.values[id].name
            ),
        )
    })
}

/// Normalizes a possibly negative axis for a tensor of rank `rank`.
pub fn normalize_axis(node: &Node, axis: i64, rank: usize) -> Result<usize> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if (0..r).contains(&a) {
        Ok(a as usize)
    } else {
        Err(Error::node(
            node,
            Some("axis"),
            format!("= {axis} is out of range for rank {}", rank),
        ))
    }
}

fn normalize_axes(node: &Node, axes: &[i64], rank: usize) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let a = normalize_axis(node, a, rank)?;
        if out.contains(&a) {
            return Err(Error::node(
                node,
                Some("axes"),
                format!("= {axes:?} repeats an axis"),
            ));
        }
        out.push(a);
    }
    Ok(out)
}

/// Numpy broadcasting of two shapes.
pub fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// ONNX Pad amounts as `(begin, end)` per axis, from the attribute or the constant inputs
/// (`pads`, and from opset 18 `axes`).
pub fn pad_amounts(
    graph: &Graph,
    node: &Node,
    attr: Option<&[i64]>,
    rank: usize,
) -> Result<Vec<(i64, i64)>> {
    let pads = match attr {
        Some(p) => p.to_vec(),
        None => {
            let id = node
                .input(1)
                .ok_or_else(|| Error::node(node, None, "the pads input is missing"))?;
            constant_of(graph, node, id, "pads")?.to_i64()
        }
    };
    let axes: Vec<usize> = match node.input(3) {
        Some(id) if attr.is_none() => {
            normalize_axes(node, &constant_of(graph, node, id, "axes")?.to_i64(), rank)?
        }
        _ => (0..rank).collect(),
    };
    if pads.len() != 2 * axes.len() {
        return Err(Error::node(
            node,
            Some("pads"),
            format!("= {pads:?} should hold {} values", 2 * axes.len()),
        ));
    }
    if let Some(id) = node.input(2) {
        let v = constant_of(graph, node, id, "constant_value")?.to_f32();
        if v.iter().any(|&x| x != 0.0) {
            return Err(Error::node(
                node,
                Some("constant_value"),
                format!("= {v:?}: only zero padding is supported"),
            ));
        }
    }
    let mut out = vec![(0, 0); rank];
    for (i, &a) in axes.iter().enumerate() {
        out[a] = (pads[i], pads[i + axes.len()]);
    }
    Ok(out)
}

/// Output size of a sliding window over an `input`-sized map; turns `auto_pad` into explicit
/// pads.
fn resolve_window(
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

fn reshape(node: &Node, x: &[usize], target: &[i64], allowzero: bool) -> Result<Vec<usize>> {
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
        if known == 0 || total % known != 0 {
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
