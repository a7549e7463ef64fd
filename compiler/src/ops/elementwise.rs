//! Elementwise binary ops with numpy broadcasting: Add, Sub, Mul, Div, Min, Max.

use super::{EvalCx, InferCx, Inferred};
use crate::error::{Error, Result};
use crate::ir::{BinaryOp, Clamp, Data, Node, Tensor};
use crate::program::{Arg, Const, Kernel, Lowering, Storage, TensorId, TensorInfo};

/// Shape inference for Binary: the output shape.
pub(crate) fn infer(cx: &InferCx) -> Result<Inferred> {
    let (node, x, in_shapes) = (cx.node, &cx.x, &cx.in_shapes);
    let out = {
        let b = in_shapes[1]
            .clone()
            .ok_or_else(|| Error::node(node, None, "the second input is missing"))?;
        broadcast(x, &b).ok_or_else(|| {
            Error::node(
                node,
                None,
                format!("shapes {x:?} and {b:?} do not broadcast"),
            )
        })?
    };
    Ok(Inferred::Shape(out))
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

/// The reference evaluation of Binary.
pub(crate) fn eval(cx: &EvalCx, op: &BinaryOp) -> Result<Tensor> {
    let (node, x) = (cx.node, cx.x);
    if *op == BinaryOp::Add && x.dtype().int_range().is_some() {
        return super::quant::eval_add(cx);
    }
    Ok({
        let b = cx.arg(1)?;
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
    })
}

pub(crate) fn strides_of(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// For every element of `out` (row-major), the index of the element of a tensor of shape
/// `from` that broadcasting maps to it.
pub(crate) fn broadcast_index(from: &[usize], out: &[usize]) -> Vec<usize> {
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

/// Lowers Binary to kernel calls; returns the output tensor.
pub(crate) fn lower(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    op: &BinaryOp,
) -> Result<TensorId> {
    if *op == BinaryOp::Add && super::quant::is_quantized(l.graph, node, 0) {
        return add_int(l, node, out_shape);
    }
    Ok({
        let (a, b) = (l.input(node, 0)?, l.input(node, 1)?);
        binary(l, node, *op, a, b, &out_shape)
    })
}

/// A quantized Add of two inputs of the output's shape, both NHWC.
fn add_int(l: &mut Lowering, node: &Node, out_shape: Vec<usize>) -> Result<TensorId> {
    use super::quant::{kernel_params, requant_arg, scalar_params};
    let (a, b) = (
        super::quant::nhwc_input(l, node, 0)?,
        super::quant::nhwc_input(l, node, 1)?,
    );
    let [ai, bi] = [0, 1].map(|i| node.input(i).expect("checked"));
    let ((sa, za), (sb, zb)) = (
        kernel_params(l.graph, node, ai)?,
        kernel_params(l.graph, node, bi)?,
    );
    let (sy, _) = scalar_params(l.graph, node, node.outputs[0])?;
    let requant = requant_arg(l.graph, node, node.outputs[0], crate::ir::Clamp::LINEAR)?;
    let perm = l.program.tensors[a].perm.clone();
    let y = l.new_buffer_of(out_shape, perm, crate::program::Elem::U8);
    let kernel = Kernel::call(
        mnetc_targets::Kernel::QAdd,
        [Const::from(l.len(y))],
        [
            Arg::Input(0),
            Arg::I32(za),
            Arg::F32(sa / sy),
            Arg::Input(1),
            Arg::I32(zb),
            Arg::F32(sb / sy),
            Arg::Output,
            requant,
        ],
    );
    l.step(node, kernel, vec![a, b], y, crate::ir::Clamp::LINEAR, 0);
    Ok(y)
}

/// `y = a (op) b` with broadcasting; `y` takes the layout of an operand of the full shape.
pub(crate) fn binary(
    l: &mut Lowering,
    node: &Node,
    op: BinaryOp,
    a: TensorId,
    b: TensorId,
    out_shape: &[usize],
) -> TensorId {
    let rank = out_shape.len();
    let full = |t: &TensorInfo| t.shape == out_shape && !matches!(t.storage, Storage::Weight(_));
    let perm = [a, b]
        .iter()
        .map(|&t| &l.program.tensors[t])
        .find(|t| full(t))
        .map_or_else(|| (0..rank).collect(), |t| t.perm.clone());
    let y = l.new_buffer(out_shape.to_vec(), perm.clone());
    let operand_strides = |t: &TensorInfo| -> Vec<usize> {
        let s = t.strides();
        let offset = rank - t.shape.len();
        perm.iter()
            .map(|&axis| {
                if axis < offset || t.shape[axis - offset] == 1 {
                    0
                } else {
                    s[axis - offset]
                }
            })
            .collect()
    };
    let op = match op {
        BinaryOp::Add => "BinaryOp::Add",
        BinaryOp::Sub => "BinaryOp::Sub",
        BinaryOp::Mul => "BinaryOp::Mul",
        BinaryOp::Div => "BinaryOp::Div",
        BinaryOp::Min => "BinaryOp::Min",
        BinaryOp::Max => "BinaryOp::Max",
    };
    let kernel = Kernel::call(
        mnetc_targets::Kernel::Binary,
        [rank, l.len(a), l.len(b), l.len(y)].map(Const::from),
        [
            Arg::Runtime(op),
            Arg::Input(0),
            Arg::Usizes(operand_strides(&l.program.tensors[a])),
            Arg::Input(1),
            Arg::Usizes(operand_strides(&l.program.tensors[b])),
            Arg::Output,
            Arg::Usizes(perm.iter().map(|&axis| out_shape[axis]).collect()),
        ],
    );
    l.step(node, kernel, vec![a, b], y, Clamp::LINEAR, 0);
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast(&[1, 8, 4, 4], &[8, 1, 1]), Some(vec![1, 8, 4, 4]));
        assert_eq!(broadcast(&[3], &[2, 1]), Some(vec![2, 3]));
        assert_eq!(broadcast(&[2, 3], &[3, 2]), None);
    }

    #[test]
    fn broadcast_index_repeats_the_smaller_operand() {
        // [2, 1] broadcast to [2, 3]: each row reads its one element three times.
        assert_eq!(broadcast_index(&[2, 1], &[2, 3]), vec![0, 0, 0, 1, 1, 1]);
        assert_eq!(broadcast_index(&[3], &[2, 3]), vec![0, 1, 2, 0, 1, 2]);
    }
}
