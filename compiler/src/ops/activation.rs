//! Activations: Clip (bounds as attributes or constant inputs), Softmax, HardSigmoid and
//! HardSwish.

use super::{EvalCx, InferCx, Inferred, normalize_axis};
use crate::error::{Error, Result};
use crate::ir::{ActivationOp, Clamp, Node, Tensor, hard_swish};
use crate::program::{Arg, Const, Kernel, Lowering, TensorId};

/// The reference evaluation of Clip.
pub(crate) fn eval_clip(cx: &EvalCx, clamp: &Clamp) -> Result<Tensor> {
    let (node, x, inputs) = (cx.node, cx.x, cx.inputs);
    Ok({
        let clamp = clip_bounds(node, *clamp, inputs)?;
        Tensor::f32(
            x.shape.clone(),
            cx.xf()?.iter().map(|&v| clamp.apply(v)).collect(),
        )
    })
}

/// The reference evaluation of Softmax.
pub(crate) fn eval_softmax(cx: &EvalCx, axis: &i64, legacy: &bool) -> Result<Tensor> {
    let (node, x) = (cx.node, cx.x);
    softmax(node, x, *axis, *legacy)
}

/// The clamp of Clip node `node` of `graph`, its bound inputs read from the graph's constants.
pub fn graph_clip_bounds(graph: &crate::ir::Graph, node: &Node, attr: Clamp) -> Result<Clamp> {
    let bounds: Vec<_> = node
        .inputs
        .iter()
        .map(|i| i.and_then(|id| graph.constant(id)))
        .collect();
    clip_bounds(node, attr, &bounds)
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

pub(crate) fn softmax(node: &Node, x: &Tensor, axis: i64, legacy: bool) -> Result<Tensor> {
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

/// Lowers Clip to kernel calls; returns the output tensor.
pub(crate) fn lower_clip(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    attr: &Clamp,
) -> Result<TensorId> {
    Ok({
        let x = l.input(node, 0)?;
        let bounds: Vec<_> = node
            .inputs
            .iter()
            .map(|i| i.and_then(|id| l.graph.constant(id)))
            .collect();
        let clamp = clip_bounds(node, *attr, &bounds)?;
        let perm = l.program.tensors[x].perm.clone();
        let y = l.new_buffer(out_shape.clone(), perm);
        let kernel = Kernel::call(
            mnetc_targets::Kernel::Clamp,
            [Const::from(l.len(y))],
            [Arg::Input(0), Arg::Output, Arg::Min, Arg::Max],
        );
        l.step(node, kernel, vec![x], y, clamp, 0);
        y
    })
}

/// `max(0, min(1, alpha * x + beta))`, as the scalar kernel computes it.
pub(crate) fn hard_sigmoid(x: f32, alpha: f32, beta: f32) -> f32 {
    Clamp::new(0.0, 1.0).apply(alpha * x + beta)
}

/// The reference evaluation of HardSigmoid and HardSwish.
fn eval_hard(cx: &EvalCx, f: impl Fn(f32) -> f32) -> Result<Tensor> {
    Ok(Tensor::f32(
        cx.x.shape.clone(),
        cx.xf()?.iter().map(|&v| f(v)).collect(),
    ))
}

/// Lowers HardSigmoid and HardSwish to one elementwise kernel call (`extra`: the kernel's
/// arguments after the input and output); returns the output tensor.
fn lower_hard(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    kind: mnetc_targets::Kernel,
    extra: Vec<Arg>,
) -> Result<TensorId> {
    let x = l.input(node, 0)?;
    let perm = l.program.tensors[x].perm.clone();
    let y = l.new_buffer(out_shape, perm);
    let args = [Arg::Input(0), Arg::Output].into_iter().chain(extra);
    let kernel = Kernel::call(kind, [Const::from(l.len(y))], args);
    l.step(node, kernel, vec![x], y, Clamp::LINEAR, 0);
    Ok(y)
}

/// Lowers Softmax to kernel calls; returns the output tensor.
pub(crate) fn lower_softmax(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    axis: &i64,
    legacy: &bool,
) -> Result<TensorId> {
    Ok({
        let x = l.input(node, 0)?;
        let rank = out_shape.len();
        let x = l.ensure(node, x, &(0..rank).collect::<Vec<_>>());
        let a = crate::ops::normalize_axis(node, *axis, rank)?;
        let (outer, n, inner) = if *legacy {
            (
                out_shape[..a].iter().product(),
                out_shape[a..].iter().product(),
                1,
            )
        } else {
            (
                out_shape[..a].iter().product(),
                out_shape[a],
                out_shape[a + 1..].iter().product(),
            )
        };
        let y = l.new_buffer(out_shape.clone(), (0..rank).collect());
        let kernel = Kernel::call(
            mnetc_targets::Kernel::Softmax,
            [outer, n, inner, l.len(y)].map(Const::from),
            [Arg::Input(0), Arg::Output],
        );
        l.step(node, kernel, vec![x], y, Clamp::LINEAR, 0);
        y
    })
}

/// Shape inference for the activation family: the input's shape.
pub(crate) fn infer(cx: &InferCx, op: &mut ActivationOp) -> Result<Inferred> {
    match op {
        ActivationOp::Clip(_)
        | ActivationOp::Softmax { .. }
        | ActivationOp::HardSigmoid { .. }
        | ActivationOp::HardSwish => Ok(Inferred::Shape(cx.x.clone())),
    }
}

/// The reference evaluation of the activation family.
pub(crate) fn eval(cx: &EvalCx, op: &ActivationOp) -> Result<Tensor> {
    match op {
        ActivationOp::Clip(clamp) => eval_clip(cx, clamp),
        ActivationOp::Softmax { axis, legacy } => eval_softmax(cx, axis, legacy),
        &ActivationOp::HardSigmoid { alpha, beta } => {
            eval_hard(cx, |v| hard_sigmoid(v, alpha, beta))
        }
        ActivationOp::HardSwish => eval_hard(cx, hard_swish),
    }
}

/// Lowers the activation family.
pub(crate) fn lower(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    op: &ActivationOp,
) -> Result<TensorId> {
    match op {
        ActivationOp::Clip(clamp) => lower_clip(l, node, out_shape, clamp),
        ActivationOp::Softmax { axis, legacy } => lower_softmax(l, node, out_shape, axis, legacy),
        &ActivationOp::HardSigmoid { alpha, beta } => lower_hard(
            l,
            node,
            out_shape,
            mnetc_targets::Kernel::HardSigmoid,
            vec![Arg::F32(alpha), Arg::F32(beta)],
        ),
        ActivationOp::HardSwish => {
            lower_hard(l, node, out_shape, mnetc_targets::Kernel::HardSwish, vec![])
        }
    }
}

/// What `inspect` shows of an activation: a Clip's bounds.
pub(crate) fn facts(op: &ActivationOp) -> super::Facts {
    match op {
        ActivationOp::Clip(c) => super::Facts {
            activation: Some(c.label()),
            ..Default::default()
        },
        ActivationOp::Softmax { .. } => super::Facts::default(),
        ActivationOp::HardSigmoid { alpha, beta } => super::Facts {
            activation: Some(format!("hardsigmoid({alpha}, {beta})")),
            ..Default::default()
        },
        ActivationOp::HardSwish => super::Facts {
            activation: Some("hardswish".into()),
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> Node {
        Node {
            name: "clip".into(),
            op: crate::ir::Op::Activation(ActivationOp::Clip(Clamp::LINEAR)),
            inputs: vec![],
            outputs: vec![],
        }
    }

    #[test]
    fn clip_bounds_come_from_inputs_or_the_attribute() {
        let six = Tensor::f32(vec![], vec![6.0]);
        let zero = Tensor::f32(vec![], vec![0.0]);
        let c = clip_bounds(&node(), Clamp::LINEAR, &[None, Some(&zero), Some(&six)]).unwrap();
        assert_eq!(c, Clamp::RELU6);
        // An omitted min keeps the attribute's.
        let c = clip_bounds(&node(), Clamp::RELU, &[None, None, Some(&six)]).unwrap();
        assert_eq!(c, Clamp::RELU6);
        let two = Tensor::f32(vec![2], vec![0.0, 1.0]);
        assert!(clip_bounds(&node(), Clamp::LINEAR, &[None, Some(&two)]).is_err());
    }

    #[test]
    fn softmax_sums_to_one_along_its_axis() {
        let x = Tensor::f32(vec![2, 3], vec![1.0, 2.0, 3.0, 0.0, 0.0, 0.0]);
        let y = softmax(&node(), &x, -1, false).unwrap();
        let y = y.as_f32().unwrap();
        assert!((y[3] - 1.0 / 3.0).abs() < 1e-6);
        assert!((y[0..3].iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(y[2] > y[1] && y[1] > y[0]);
    }
}
