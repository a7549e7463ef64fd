//! Fully connected layers: Gemm and MatMul as ONNX defines them, and `Dense`, their canonical
//! form once the weights are constants.

use super::elementwise::broadcast;
use super::elementwise::broadcast_index;
use super::{EvalCx, InferCx, Inferred, rank};
use crate::error::{Error, Result};
use crate::ir::{Clamp, Graph, LinearOp, Node, Op, Tensor};
use crate::program::{
    Arg, Const, Elem, Kernel, Lowering, Packed, TensorId, gemm_packing, minmax_args, pack,
};
use crate::target::Target;

/// Shape inference for Gemm: the output shape.
pub(crate) fn infer_gemm(cx: &InferCx, trans_a: &bool, trans_b: &bool) -> Result<Inferred> {
    let (node, x, in_shapes) = (cx.node, &cx.x, &cx.in_shapes);
    let out = {
        let b = in_shapes[1]
            .clone()
            .ok_or_else(|| Error::node(node, None, "input B is missing"))?;
        rank(node, "A", x, 2)?;
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
        if let Some(Some(c)) = in_shapes.get(2)
            && broadcast(c, &[m, n]).as_deref() != Some(&[m, n])
        {
            return Err(Error::node(
                node,
                None,
                format!("C {c:?} does not broadcast to [{m}, {n}]"),
            ));
        }
        vec![m, n]
    };
    Ok(Inferred::Shape(out))
}

/// Shape inference for MatMul: the output shape.
pub(crate) fn infer_matmul(cx: &InferCx) -> Result<Inferred> {
    let (node, x, in_shapes) = (cx.node, &cx.x, &cx.in_shapes);
    let out = {
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
    };
    Ok(Inferred::Shape(out))
}

/// Shape inference for Dense: the output shape.
pub(crate) fn infer_dense(cx: &InferCx) -> Result<Inferred> {
    let (node, x, in_shapes) = (cx.node, &cx.x, &cx.in_shapes);
    let out = {
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
    };
    Ok(Inferred::Shape(out))
}

/// The reference evaluation of Gemm.
pub(crate) fn eval_gemm(
    cx: &EvalCx,
    alpha: &f32,
    beta: &f32,
    trans_a: &bool,
    trans_b: &bool,
) -> Result<Tensor> {
    let (x, inputs) = (cx.x, cx.inputs);
    Ok({
        let (a, b) = (x.to_f32(), cx.arg(1)?.to_f32());
        let (m, k) = if *trans_a {
            (x.shape[1], x.shape[0])
        } else {
            (x.shape[0], x.shape[1])
        };
        let n = if *trans_b {
            cx.arg(1)?.shape[0]
        } else {
            cx.arg(1)?.shape[1]
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
    })
}

/// The reference evaluation of MatMul.
pub(crate) fn eval_matmul(cx: &EvalCx) -> Result<Tensor> {
    Ok({
        let (a, b) = (cx.xf()?, cx.arg(1)?.to_f32());
        let (k, n) = (cx.arg(1)?.shape[0], cx.arg(1)?.shape[1]);
        let rows = a.len() / k;
        let mut y = vec![0f32; rows * n];
        for r in 0..rows {
            for j in 0..n {
                y[r * n + j] = (0..k)
                    .map(|l| a[r * k + l] as f64 * b[l * n + j] as f64)
                    .sum::<f64>() as f32;
            }
        }
        Tensor::f32(cx.out_shape()?, y)
    })
}

/// The reference evaluation of Dense.
pub(crate) fn eval_dense(cx: &EvalCx, act: &Clamp) -> Result<Tensor> {
    let inputs = cx.inputs;
    if cx.x.dtype().int_range().is_some() {
        return eval_dense_int(cx, *act);
    }
    Ok({
        let (a, w) = (cx.xf()?, cx.arg(1)?.to_f32());
        let b = inputs.get(2).copied().flatten().map(Tensor::to_f32);
        let (n, k) = (cx.arg(1)?.shape[0], cx.arg(1)?.shape[1]);
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
        Tensor::f32(cx.out_shape()?, y)
    })
}

/// The reference evaluation of a Dense layer on a quantized input: exact sums of
/// `(x - zx) * w` plus the integer bias, requantized per output.
fn eval_dense_int(cx: &EvalCx, act: Clamp) -> Result<Tensor> {
    let (x, w, b) = (cx.x.to_i64(), cx.arg(1)?.to_i64(), cx.arg(2)?.to_i64());
    let r = super::quant::layer_requant(cx.graph, cx.node, act)?;
    let (n, k) = (cx.arg(1)?.shape[0], cx.arg(1)?.shape[1]);
    let mut y = Vec::with_capacity(x.len() / k * n);
    for row in x.chunks_exact(k) {
        for j in 0..n {
            let acc = b[j]
                + row
                    .iter()
                    .zip(&w[j * k..][..k])
                    .map(|(&xv, &wv)| (xv - r.x_zero as i64) * wv)
                    .sum::<i64>();
            y.push(super::quant::requantize(acc as i32, r.scale[j], r.y_zero, r.lo, r.hi) as i64);
        }
    }
    let dtype = cx.graph.values[cx.node.outputs[0]].dtype;
    Ok(Tensor::int(dtype, cx.out_shape()?, y))
}

/// Lowers Dense to kernel calls; returns the output tensor.
pub(crate) fn lower_dense(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    act: &Clamp,
) -> Result<TensorId> {
    if super::quant::is_quantized(l.graph, node, 0) {
        return lower_dense_int(l, node, out_shape, *act);
    }
    Ok({
        let wt = l
            .constant(node, 1)
            .ok_or_else(|| Error::node(node, None, "the weight must be a constant"))?;
        let (n, w) = (wt.shape[0], wt.to_f32());
        let bias = l
            .constant(node, 2)
            .map_or_else(|| vec![0.0; n], |b| b.to_f32());
        dense(l, node, &out_shape, n, &w, bias, *act)?
    })
}

/// Lowers a Dense layer on a quantized input to the quantized GEMM.
fn lower_dense_int(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    act: Clamp,
) -> Result<TensorId> {
    let x = l.input(node, 0)?;
    let rank = l.program.tensors[x].shape.len();
    if !l.program.tensors[x].has_order(&(0..rank).collect::<Vec<_>>()) {
        return Err(Error::node(
            node,
            None,
            "a quantized input must be in logical order",
        ));
    }
    let wt = l
        .constant(node, 1)
        .ok_or_else(|| Error::node(node, None, "the weight must be a constant"))?;
    let (n, k) = (wt.shape[0], wt.shape[1]);
    let w = wt.to_i64();
    let bias = l
        .constant(node, 2)
        .map_or_else(|| vec![0; n], |b| b.to_i64());
    let r = super::quant::layer_requant(l.graph, node, act)?;
    let (_, xz) = super::quant::kernel_params(l.graph, node, node.input(0).expect("checked"))?;
    let requant = super::quant::requant_arg(l.graph, node, node.outputs[0], act)?;
    let m = l.program.tensors[x].numel() / k.max(1);
    let perm = (0..out_shape.len()).collect();
    qgemm(
        l,
        node,
        x,
        [m, k, n],
        &w,
        &bias,
        xz,
        r.scale,
        requant,
        &out_shape,
        perm,
    )
}

/// Lowers Gemm, MatMul to kernel calls; returns the output tensor.
pub(crate) fn lower_gemm(l: &mut Lowering, node: &Node, out_shape: Vec<usize>) -> Result<TensorId> {
    Ok({
        // A graph built without the optimising passes still has Gemm and MatMul.
        let Some((w, bias)) = dense_weights(l.graph, node) else {
            return Err(Error::node(
                node,
                None,
                "is only supported by code generation as a fully connected layer (constant B, no transA, row-vector C)",
            ));
        };
        let n = *out_shape.last().unwrap_or(&0);
        let bias = bias.unwrap_or_else(|| vec![0.0; n]);
        dense(l, node, &out_shape, n, &w, bias, Clamp::LINEAR)?
    })
}

/// A fully connected layer: weights `[N][K]` row-major, packed here as `[K][N]`.
pub(crate) fn dense(
    l: &mut Lowering,
    node: &Node,
    out_shape: &[usize],
    n: usize,
    wv: &[f32],
    bias: Vec<f32>,
    act: Clamp,
) -> Result<TensorId> {
    let x = l.input(node, 0)?;
    let rank = l.program.tensors[x].shape.len();
    let x = l.ensure(node, x, &(0..rank).collect::<Vec<_>>());
    let k = wv.len() / n.max(1);
    let packed = pack(&[k, n], |[kk, nn]| wv[nn * k + kk]);
    let (packed, bias) = gemm_packing(l.target, k, n, packed, bias);
    let m = l.program.tensors[x].numel() / k.max(1);
    let (w, b) = (l.weight(packed), l.weight(bias));
    let y = l.new_buffer(out_shape.to_vec(), (0..out_shape.len()).collect());
    let kernel = gemm_call(l.target, [m, k, n], act, [l.len(x), l.len(w), l.len(y)]);
    l.step(node, kernel, vec![x, w, b], y, act, (m * k * n) as u64);
    Ok(y)
}

/// A quantized GEMM, `[m][k] x [k][n]` (pointwise convs and fully connected layers of
/// quantized models) from uint8 `x`: int8 weights `w` given `[N][K]` row-major, packed for
/// the target's `QGemm` kernel (the scalar one's `[K][N]`), the input's zero point `xz`
/// folded into the bias (`b[n] - xz * sum_k w[n][k]`, `xz - 128` for a kernel that reads
/// `x - 128`: `QGemmLayout::folded_zero`), requantization scales per column,
/// output `y` (a new uint8 buffer of `out_shape` in `perm`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn qgemm(
    l: &mut Lowering,
    node: &Node,
    x: TensorId,
    [m, k, n]: [usize; 3],
    w: &[i64],
    bias: &[i64],
    xz: i32,
    scale: Vec<f32>,
    requant: Arg,
    out_shape: &[usize],
    perm: Vec<usize>,
) -> Result<TensorId> {
    let own = l.target.lists(mnetc_targets::Kernel::QGemm);
    let layout = if own {
        l.target.desc().qgemm
    } else {
        mnetc_targets::QGemmLayout::PLAIN
    };
    let (nr, kr) = (layout.nr, layout.kr);
    let (np, kp) = (n.next_multiple_of(nr), k.next_multiple_of(kr));
    let zero = layout.folded_zero(xz) as i64;
    let mut b: Vec<i32> = (0..n)
        .map(|j| {
            let sum: i64 = w[j * k..][..k].iter().sum();
            // Wrapped to 32 bits: the kernels' sums are exact modulo 2^32 (`signed_x`).
            (bias[j] - zero * sum) as i32
        })
        .collect();
    b.resize(np, 0);
    let mut scale = scale;
    scale.resize(np, 0.0);
    // [NP/NR][KP/KR][NR][KR], zero padded.
    let at = |[p, g, j, i]: [usize; 4]| {
        let (col, kk) = (p * nr + j, g * kr + i);
        if col < n && kk < k {
            w[col * k + kk]
        } else {
            0
        }
    };
    let shape = [np / nr, kp / kr, nr, kr];
    let packed = Packed::I8(pack(&shape, |c| at(c) as i8));
    let nb = (l.target.desc().gemm_block_bytes / (nr * kp)).max(1);
    let (w, b, s) = (l.packed(packed), l.packed(Packed::I32(b)), l.weight(scale));
    let y = l.new_buffer_of(out_shape.to_vec(), perm, Elem::U8);
    let [mt, nt] = crate::program::gemm_tile_tasks([layout.mr, nr], [m, k, n]);
    let consts = [m, k, n, np, nb, mt, nt, l.len(x), l.len(w), l.len(y)];
    let args = [
        Arg::Input(0),
        Arg::Input(1),
        Arg::Input(2),
        Arg::Input(3),
        Arg::Output,
        requant,
        Arg::Pool,
    ];
    let kernel = Kernel::call(mnetc_targets::Kernel::QGemm, consts.map(Const::from), args)
        .with_tasks(mt * nt);
    l.step(
        node,
        kernel,
        vec![x, w, b, s],
        y,
        Clamp::LINEAR,
        (m * k * n) as u64,
    );
    Ok(y)
}

/// A GEMM call, `[m][k] x [k][n]` (pointwise convs and fully connected layers): columns padded
/// to whole panels as `gemm_packing` packed them, blocks of panels (NR columns x K floats
/// each) that fill the target's GEMM block, and its tasks (`program::gemm_tasks`); `lens` are
/// the x, packed weight and y lengths.
pub(crate) fn gemm_call(
    target: Target,
    [m, k, n]: [usize; 3],
    act: Clamp,
    lens: [usize; 3],
) -> Kernel {
    let desc = target.desc();
    let nr = desc.gemm_tile[1];
    let panel_bytes = nr * k.max(1) * 4;
    let (np, nb) = (
        n.next_multiple_of(nr),
        (desc.gemm_block_bytes / panel_bytes).max(1),
    );
    let [mt, nt] = crate::program::gemm_tasks(target, [m, k, n]);
    let consts = [m, k, n, np, nb, mt, nt].map(Const::from);
    let consts = consts
        .into_iter()
        .chain([Const::Bool(act.swish)])
        .chain(lens.map(Const::from));
    Kernel::call(mnetc_targets::Kernel::Gemm, consts, minmax_args()).with_tasks(mt * nt)
}

/// Shape inference for the linear family.
pub(crate) fn infer(cx: &InferCx, op: &mut LinearOp) -> Result<Inferred> {
    match op {
        LinearOp::Gemm {
            trans_a, trans_b, ..
        } => infer_gemm(cx, trans_a, trans_b),
        LinearOp::MatMul => infer_matmul(cx),
        LinearOp::Dense { .. } => infer_dense(cx),
    }
}

/// The reference evaluation of the linear family.
pub(crate) fn eval(cx: &EvalCx, op: &LinearOp) -> Result<Tensor> {
    match op {
        LinearOp::Gemm {
            alpha,
            beta,
            trans_a,
            trans_b,
        } => eval_gemm(cx, alpha, beta, trans_a, trans_b),
        LinearOp::MatMul => eval_matmul(cx),
        LinearOp::Dense { act } => eval_dense(cx, act),
    }
}

/// Lowers the linear family.
pub(crate) fn lower(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    op: &LinearOp,
) -> Result<TensorId> {
    match op {
        LinearOp::Gemm { .. } | LinearOp::MatMul => lower_gemm(l, node, out_shape),
        LinearOp::Dense { act } => lower_dense(l, node, out_shape, act),
    }
}

/// What `inspect` shows of a matrix product: multiply-adds and parameters.
pub(crate) fn facts(op: &LinearOp, input: &[usize], out_elems: u64) -> super::Facts {
    match op {
        LinearOp::Dense { act } => super::Facts {
            label: Some("dense"),
            activation: Some(act.label()),
            macs: out_elems * input.last().copied().unwrap_or(0) as u64,
            weighted: true,
            ..Default::default()
        },
        LinearOp::Gemm { .. } | LinearOp::MatMul if input.is_empty() => super::Facts::default(),
        LinearOp::Gemm { trans_a, .. } => super::Facts {
            macs: out_elems
                * if *trans_a {
                    input[0]
                } else {
                    input[input.len() - 1]
                } as u64,
            weighted: true,
            ..Default::default()
        },
        LinearOp::MatMul => super::Facts {
            macs: out_elems * input[input.len() - 1] as u64,
            weighted: true,
            ..Default::default()
        },
    }
}

/// `[N, K]` of a Gemm or MatMul that is a fully connected layer.
pub fn dense_shape(graph: &Graph, node: &Node) -> Option<[usize; 2]> {
    let trans_b = match node.op {
        Op::Linear(LinearOp::Gemm {
            trans_a: false,
            trans_b,
            ..
        }) => trans_b,
        Op::Linear(LinearOp::MatMul) => false,
        _ => return None,
    };
    let b = graph.constant(node.input(1)?)?;
    if graph.shape(node.input(0)?)?.len() != 2 || b.shape.len() != 2 {
        return None;
    }
    let (rows, cols) = (b.shape[0], b.shape[1]);
    Some(if trans_b { [rows, cols] } else { [cols, rows] })
}

/// The weights (`[N, K]`, row-major) and bias (`[N]`) of a Gemm or MatMul with a constant B
/// and, for Gemm, no `transA` and a constant row-vector C: `alpha` and `beta` folded in. `None`
/// for anything else. The `dense` pass uses it, and the lowering for graphs built without it.
pub fn dense_weights(graph: &Graph, node: &Node) -> Option<(Vec<f32>, Option<Vec<f32>>)> {
    let [n, k] = dense_shape(graph, node)?;
    let (alpha, beta, trans_b) = match node.op {
        Op::Linear(LinearOp::Gemm {
            alpha,
            beta,
            trans_b,
            ..
        }) => (alpha, beta, trans_b),
        _ => (1.0, 0.0, false),
    };
    let bv = graph.constant(node.input(1)?)?.to_f32();
    let mut w = vec![0f32; n * k];
    for j in 0..n {
        for l in 0..k {
            let v = if trans_b {
                bv[j * k + l]
            } else {
                bv[l * n + j]
            };
            w[j * k + l] = alpha * v;
        }
    }
    let bias = match node
        .input(2)
        .filter(|_| matches!(node.op, Op::Linear(LinearOp::Gemm { .. })))
    {
        None => None,
        Some(id) => {
            let c = graph.constant(id)?;
            let cv = c.to_f32();
            let row = match c.shape.as_slice() {
                [] | [1] | [1, 1] => vec![cv[0]; n],
                [m] | [1, m] if *m == n => cv,
                _ => return None,
            };
            Some(row.iter().map(|&v| beta * v).collect())
        }
    };
    Some((w, bias))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Target;

    #[test]
    fn gemm_calls_carry_the_padded_columns_and_the_block() {
        // avx2: 16-column panels, 256 KiB blocks of K * 16 floats.
        let avx2 = Target::from(&mnetc_targets::AVX2);
        let lens = [49 * 64, 32 * 64, 49 * 17];
        let call = gemm_call(avx2, [49, 64, 17], Clamp::RELU, lens);
        // 53 k multiply-adds: one task; no hard-swish.
        let consts: Vec<Const> = [49, 64, 17, 32, 64, 1, 1].map(Const::from).to_vec();
        let lens = lens.map(Const::from);
        assert_eq!(
            call.consts,
            [&consts[..], &[Const::Bool(false)], &lens].concat()
        );
        // generic: no panels.
        let call = gemm_call(Target::GENERIC, [1, 8, 3], Clamp::HARD_SWISH, [8, 24, 3]);
        assert_eq!(call.consts[3], Const::Usize(3));
        assert_eq!(call.consts[7], Const::Bool(true));
    }
}
