//! Quantization: QuantizeLinear and DequantizeLinear (shape rule, reference evaluation,
//! lowering), and the arithmetic that quantized ops share: the requantization every integer
//! kernel ends with ([`requantize`] and the scales it takes), a clamp in the quantized domain
//! ([`int_bounds`]) and the two-input rescaling of a quantized Add.
//!
//! The sums of quantized values (`U8`/`I8` with a [`Quant`]) are exact: products of integers
//! summed in 32 bits (MobileNet layers stay far from overflow: at most 255 * 128 * K, K = 9 *
//! 1024 for the largest), then one rounding, defined here, into the output's type.

use super::{EvalCx, InferCx, Inferred, constant_of, normalize_axis};
use crate::error::{Error, Result};
use crate::ir::{Clamp, DType, Graph, Node, Quant, QuantOp, Tensor, ValueId};
use crate::program::{Arg, Const, Elem, Kernel, Lowering, NHWC, TensorId};

/// The requantization of a 32-bit sum into an output's integers:
/// `clamp(round_half_even(acc as f32 * scale) + zero_point, lo, hi)`, with `scale` the f32
/// ratio of the sum's scale to the output's (for a conv, `sx * sw[c] / sy`, multiplied then
/// divided in f32). One f32 product and one rounding: what onnxruntime's integer kernels compute
/// (their outputs and mnetc's are the same bits on the shared int8 models), and the same bits on
/// every target, since every SIMD instruction set converts, multiplies and rounds (to nearest,
/// ties to even) as IEEE 754 says, and nothing here is fused. The definition every integer
/// kernel's epilogue implements (`mnetc_runtime::scalar::requantize` is the runtime's; generated
/// code is tested against this one through the interpreter).
pub fn requantize(acc: i32, scale: f32, zero_point: i32, lo: i32, hi: i32) -> i32 {
    // (The float to i64 conversion saturates; so does the sum: a huge scale clamps to `hi`.)
    let q = ((acc as f32 * scale).round_ties_even() as i64).saturating_add(zero_point as i64);
    q.clamp(lo as i64, hi as i64) as i32
}

/// The requantization scale of a conv or dense layer's output channel: `sx * sw / sy` in f32,
/// in that order (onnxruntime's), or `None` if it is not a positive finite number.
pub fn layer_scale(sx: f32, sw: f32, sy: f32) -> Option<f32> {
    let s = sx * sw / sy;
    (s.is_finite() && s > 0.0).then_some(s)
}

/// The rescaling of a quantized Add, `y = zy + (sa/sy) (a - za) + (sb/sy) (b - zb)`: the two
/// f32 products, their f32 sum, one rounding as in [`requantize`].
pub fn add_requantize(da: i32, db: i32, [ra, rb]: [f32; 2], zy: i32, lo: i32, hi: i32) -> i32 {
    let v = da as f32 * ra + db as f32 * rb;
    let q = v.round_ties_even() as i64 + zy as i64;
    q.clamp(lo as i64, hi as i64) as i32
}

/// The output bounds, in the output's integers, of a fused clamp `act` on a value quantized by
/// `(scale, zero_point)` into `dtype`: quantizing is monotonic, so clamping the real value and
/// then quantizing is clamping the quantized value to the quantized bounds.
pub fn int_bounds(act: Clamp, scale: f32, zero_point: i32, dtype: DType) -> (i32, i32) {
    let (lo, hi) = dtype.int_range().expect("a quantized type");
    let q = |v: f32| quantize_one(v, scale, zero_point, lo, hi);
    let lo = if act.min.is_finite() { q(act.min) } else { lo };
    let hi = if act.max.is_finite() { q(act.max) } else { hi };
    (lo, hi)
}

/// ONNX QuantizeLinear of one value: `saturate(round_half_even(x / scale) + zero_point)`.
pub fn quantize_one(x: f32, scale: f32, zero_point: i32, lo: i32, hi: i32) -> i32 {
    let q = (x / scale).round_ties_even() + zero_point as f32;
    q.clamp(lo as f32, hi as f32) as i32
}

/// How the sums of an integer conv or dense layer at `node` become its output: per output
/// channel scales `sx * sw[c] / sy` ([`layer_scale`]), the output's zero point and bounds (the
/// fused clamp `act` in the output's integers), the input's zero point.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerRequant {
    pub scale: Vec<f32>,
    pub x_zero: i32,
    pub y_zero: i32,
    pub lo: i32,
    pub hi: i32,
}

/// The [`LayerRequant`] of the integer conv or dense layer `node` (input 0 the quantized
/// activation, input 1 the int8 weight whose first axis is the output channel).
pub fn layer_requant(graph: &Graph, node: &Node, act: Clamp) -> Result<LayerRequant> {
    if act.swish {
        return Err(Error::Internal(format!(
            "node '{}': a quantized layer with a hard-swish epilogue",
            node.name
        )));
    }
    let q = |i: usize| {
        node.input(i)
            .and_then(|id| graph.values[id].quant.as_ref())
            .ok_or_else(|| {
                Error::Internal(format!("node '{}': input {i} is not quantized", node.name))
            })
    };
    let (xq, wq) = (q(0)?, q(1)?);
    let y = &graph.values[node.outputs[0]];
    let yq = y
        .quant
        .as_ref()
        .ok_or_else(|| Error::Internal(format!("node '{}': output is not quantized", node.name)))?;
    let co = graph
        .shape(node.input(1).expect("checked"))
        .map_or(0, |s| s[0]);
    let scale = (0..co)
        .map(|c| {
            layer_scale(xq.scale[0], wq.at(c).0, yq.scale[0])
                .ok_or_else(|| Error::node(node, None, "the requantization scale is not finite"))
        })
        .collect::<Result<_>>()?;
    let (lo, hi) = int_bounds(act, yq.scale[0], yq.zero_point[0], y.dtype);
    Ok(LayerRequant {
        scale,
        x_zero: xq.zero_point[0],
        y_zero: yq.zero_point[0],
        lo,
        hi,
    })
}

/// The per-tensor scale and zero point of quantized value `id`.
pub fn scalar_params(graph: &Graph, node: &Node, id: ValueId) -> Result<(f32, i32)> {
    graph.values[id]
        .quant
        .as_ref()
        .filter(|q| q.axis.is_none())
        .map(|q| (q.scale[0], q.zero_point[0]))
        .ok_or_else(|| {
            Error::Internal(format!(
                "node '{}': '{}' has no per-tensor quantization",
                node.name, graph.values[id].name
            ))
        })
}

/// The requantization scale of a quantized global average over `n` values: `sx / (sy * n)`
/// in f32.
pub fn pool_scale(sx: f32, sy: f32, n: usize) -> f32 {
    sx / (sy * n as f32)
}

/// The reference evaluation of a GlobalAveragePool on a quantized value: the sum of each
/// channel's `n` values less `n` zero points, requantized by [`pool_scale`].
pub(crate) fn eval_global_pool(cx: &EvalCx) -> Result<Tensor> {
    let (graph, node, x) = (cx.graph, cx.node, cx.x);
    let (sx, zx) = scalar_params(graph, node, node.input(0).expect("checked"))?;
    let out = node.outputs[0];
    let (sy, zy) = scalar_params(graph, node, out)?;
    let dtype = graph.values[out].dtype;
    let (lo, hi) = dtype.int_range().expect("quantized");
    let (c, n) = (x.shape[1], x.shape[2..].iter().product::<usize>());
    let scale = pool_scale(sx, sy, n);
    let v = x.to_i64();
    let y = (0..x.shape[0] * c)
        .map(|i| {
            let sum: i64 = v[i * n..][..n].iter().map(|&q| q - zx as i64).sum();
            requantize(sum as i32, scale, zy, lo, hi) as i64
        })
        .collect();
    Ok(Tensor::int(dtype, cx.out_shape()?, y))
}

/// The reference evaluation of an Add of two quantized values of the same shape.
pub(crate) fn eval_add(cx: &EvalCx) -> Result<Tensor> {
    let (graph, node) = (cx.graph, cx.node);
    let [a, b] = [0, 1].map(|i| node.input(i).expect("checked"));
    let ((sa, za), (sb, zb)) = (
        scalar_params(graph, node, a)?,
        scalar_params(graph, node, b)?,
    );
    let out = node.outputs[0];
    let (sy, zy) = scalar_params(graph, node, out)?;
    let dtype = graph.values[out].dtype;
    let (lo, hi) = dtype.int_range().expect("quantized");
    let ratios = [sa / sy, sb / sy];
    let (av, bv) = (cx.x.to_i64(), cx.arg(1)?.to_i64());
    let y = av
        .iter()
        .zip(&bv)
        .map(|(&p, &q)| {
            add_requantize(
                (p - za as i64) as i32,
                (q - zb as i64) as i32,
                ratios,
                zy,
                lo,
                hi,
            ) as i64
        })
        .collect();
    Ok(Tensor::int(dtype, cx.out_shape()?, y))
}

/// The scale and zero point inputs of a QuantizeLinear or DequantizeLinear at `node` as a
/// [`Quant`] for a tensor of `shape`, and the integer type (the zero point's; uint8 without
/// one). Checks what ONNX requires: positive finite scales, zero points in their type, both
/// scalars or vectors along the axis, of equal length.
pub fn params(graph: &Graph, node: &Node, axis: i64, shape: &[usize]) -> Result<(Quant, DType)> {
    let bad = |reason: String| Error::node(node, None, reason);
    let scale_id = node
        .input(1)
        .ok_or_else(|| bad("the scale input is missing".into()))?;
    let scale = constant_of(graph, node, scale_id, "scale")?;
    let zp = node
        .input(2)
        .map(|id| constant_of(graph, node, id, "zero point"))
        .transpose()?;
    let dtype = zp.map_or(DType::U8, Tensor::dtype);
    let (lo, hi) = match (dtype, zp) {
        (DType::I64, _) => (i32::MIN as i64, i32::MAX as i64),
        (d, _) => {
            let (lo, hi) = d.int_range().ok_or_else(|| {
                bad(format!(
                    "zero point of type {} (uint8, int8 or int32 are supported)",
                    d.name()
                ))
            })?;
            (lo as i64, hi as i64)
        }
    };
    let scales = scale
        .as_f32()
        .ok_or_else(|| bad("the scale must be float".into()))?
        .to_vec();
    if let Some(s) = scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        return Err(bad(format!("scale {s} is not a positive finite number")));
    }
    let zps: Vec<i64> = zp.map_or_else(|| vec![0; scales.len()], Tensor::to_i64);
    if let Some(z) = zps.iter().find(|z| !(lo..=hi).contains(*z)) {
        return Err(bad(format!(
            "zero point {z} is outside its type {} ({lo} to {hi})",
            dtype.name()
        )));
    }
    if zps.len() != scales.len() || scale.shape.len() > 1 {
        return Err(bad(format!(
            "scale of shape {:?} and zero point of {} values: both must be scalars, or vectors of the same length",
            scale.shape,
            zps.len()
        )));
    }
    let axis = if scale.shape.len() == 1 && scales.len() > 1 {
        let a = normalize_axis(node, axis, shape.len())?;
        if shape[a] != scales.len() {
            return Err(Error::node(
                node,
                Some("axis"),
                format!(
                    "= {axis}: {} scales for an axis of size {} (shape {shape:?})",
                    scales.len(),
                    shape[a]
                ),
            ));
        }
        Some(a)
    } else {
        None
    };
    Ok((
        Quant {
            scale: scales,
            zero_point: zps.iter().map(|&z| z as i32).collect(),
            axis,
        },
        dtype,
    ))
}

/// Shape inference for QuantizeLinear and DequantizeLinear: the input's shape (the output's
/// type and parameters are set by `passes::shape_inference` through [`out_type`]).
pub(crate) fn infer(cx: &InferCx, op: &mut QuantOp) -> Result<Inferred> {
    let (QuantOp::QuantizeLinear { axis } | QuantOp::DequantizeLinear { axis }) = op;
    let (quant, _) = params(cx.graph, cx.node, *axis, &cx.x)?;
    if let Some(a) = quant.axis {
        *axis = a as i64;
    }
    Ok(Inferred::Shape(cx.x.clone()))
}

/// The type and quantization of a QuantizeLinear's output (that of its zero point), float for
/// a DequantizeLinear.
pub fn out_type(
    graph: &Graph,
    node: &Node,
    op: &QuantOp,
    shape: &[usize],
) -> Result<(DType, Option<Quant>)> {
    match op {
        QuantOp::DequantizeLinear { .. } => Ok((DType::F32, None)),
        QuantOp::QuantizeLinear { axis } => {
            let (quant, dtype) = params(graph, node, *axis, shape)?;
            if dtype.int_range().is_none() {
                return Err(Error::node(
                    node,
                    None,
                    format!(
                        "quantizing to {} is not supported (uint8 and int8 are)",
                        dtype.name()
                    ),
                ));
            }
            Ok((dtype, Some(quant)))
        }
    }
}

/// The index along `quant.axis` of every element of a tensor of `shape`.
fn channel_of(quant: &Quant, shape: &[usize]) -> impl Fn(usize) -> usize {
    let (inner, n) = match quant.axis {
        Some(a) => (shape[a + 1..].iter().product::<usize>(), shape[a]),
        None => (1, 1),
    };
    move |i| (i / inner) % n
}

/// The reference evaluation of QuantizeLinear and DequantizeLinear.
pub(crate) fn eval(cx: &EvalCx, op: &QuantOp) -> Result<Tensor> {
    let x = cx.x;
    match op {
        QuantOp::QuantizeLinear { axis } => {
            let (quant, dtype) = params(cx.graph, cx.node, *axis, &x.shape)?;
            let (lo, hi) = dtype.int_range().expect("checked by out_type");
            let ch = channel_of(&quant, &x.shape);
            let q = cx
                .xf()?
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let (s, z) = quant.at(ch(i));
                    quantize_one(v, s, z, lo, hi) as i64
                })
                .collect();
            Ok(Tensor::int(dtype, x.shape.clone(), q))
        }
        QuantOp::DequantizeLinear { axis } => {
            let (quant, _) = params(cx.graph, cx.node, *axis, &x.shape)?;
            if x.dtype() == DType::F32 {
                return Err(Error::node(cx.node, None, "expects integer data"));
            }
            let ch = channel_of(&quant, &x.shape);
            let y = x
                .to_i64()
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let (s, z) = quant.at(ch(i));
                    (v - z as i64) as f32 * s
                })
                .collect();
            Ok(Tensor::f32(x.shape.clone(), y))
        }
    }
}

/// The scale and zero point of quantized activation `id` as the kernels hold it: in uint8,
/// an int8 value `v` as `v + 128` with its zero point raised by 128 (the same real numbers).
pub(crate) fn kernel_params(graph: &Graph, node: &Node, id: ValueId) -> Result<(f32, i32)> {
    let (s, z) = scalar_params(graph, node, id)?;
    Ok((s, z + kernel_offset(graph.values[id].dtype)))
}

/// What the kernels add to a value of `dtype` to hold it in uint8.
fn kernel_offset(dtype: DType) -> i32 {
    if dtype == DType::I8 { 128 } else { 0 }
}

/// The requantization argument (`scalar::Requant`) of a kernel writing quantized value `id`
/// with the fused clamp `act`: zero point and bounds in the kernels' uint8.
pub(crate) fn requant_arg(graph: &Graph, node: &Node, id: ValueId, act: Clamp) -> Result<Arg> {
    let (s, z) = scalar_params(graph, node, id)?;
    let dtype = graph.values[id].dtype;
    let (lo, hi) = int_bounds(act, s, z, dtype);
    let o = kernel_offset(dtype);
    Ok(Arg::Requant([z + o, lo + o, hi + o]))
}

/// Whether node input `i` is a quantized activation (its op then lowers to integer kernels).
pub(crate) fn is_quantized(graph: &Graph, node: &Node, i: usize) -> bool {
    node.input(i).is_some_and(|id| {
        graph.values[id].dtype.int_range().is_some() && graph.values[id].constant.is_none()
    })
}

/// An integer activation tensor of `l` must be NHWC (or one that every layout agrees on): the
/// integer kernels have no strided copy to change it.
pub(crate) fn nhwc_input(l: &mut Lowering, node: &Node, i: usize) -> Result<TensorId> {
    let x = l.input(node, i)?;
    if l.program.tensors[x].shape.len() == 4 && !l.program.tensors[x].has_order(&NHWC) {
        return Err(Error::node(
            node,
            None,
            "a quantized activation in another layout than NHWC is not supported",
        ));
    }
    Ok(x)
}

/// Lowers QuantizeLinear (float to uint8, in the input's layout) and DequantizeLinear (uint8
/// to float) on activations.
pub(crate) fn lower(
    l: &mut Lowering,
    node: &Node,
    out_shape: Vec<usize>,
    op: &QuantOp,
) -> Result<TensorId> {
    let x = l.input(node, 0)?;
    let info = l.program.tensors[x].clone();
    let n = info.numel();
    let (kind, elem, args, id) = match op {
        QuantOp::QuantizeLinear { .. } => {
            let y = node.outputs[0];
            let (s, _) = kernel_params(l.graph, node, y)?;
            let q = requant_arg(l.graph, node, y, Clamp::LINEAR)?;
            let args = vec![Arg::Input(0), Arg::F32(s), Arg::Output, q];
            (mnetc_targets::Kernel::Quantize, Elem::U8, args, y)
        }
        QuantOp::DequantizeLinear { .. } => {
            let xid = node.input(0).expect("checked");
            let (s, z) = kernel_params(l.graph, node, xid)?;
            let args = vec![Arg::Input(0), Arg::I32(z), Arg::F32(s), Arg::Output];
            (mnetc_targets::Kernel::Dequantize, Elem::F32, args, xid)
        }
    };
    if l.graph.values[id]
        .quant
        .as_ref()
        .is_none_or(|q| q.axis.is_some())
    {
        return Err(Error::node(
            node,
            None,
            "per-channel quantization of an activation is not supported by code generation",
        ));
    }
    let y = l.new_buffer_of(out_shape, info.perm.clone(), elem);
    l.step(
        node,
        Kernel::call(kind, [Const::from(n)], args),
        vec![x],
        y,
        Clamp::LINEAR,
        0,
    );
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requantization_rounds_half_to_even_and_clamps() {
        assert_eq!(requantize(6, 0.25, 0, 0, 255), 2); // 1.5 -> 2
        assert_eq!(requantize(10, 0.25, 0, 0, 255), 2); // 2.5 -> 2
        assert_eq!(requantize(-6, 0.25, 0, -128, 127), -2); // -1.5 -> -2
        assert_eq!(requantize(5, 0.25, 10, 0, 255), 11); // 1.25 -> 1
        assert_eq!(requantize(4000, 0.25, 10, 0, 255), 255);
        assert_eq!(requantize(-4000, 0.25, 10, 0, 255), 0);
    }

    #[test]
    fn clamps_map_to_quantized_bounds() {
        assert_eq!(int_bounds(Clamp::RELU, 0.05, 3, DType::U8), (3, 255));
        assert_eq!(int_bounds(Clamp::RELU6, 0.05, 3, DType::U8), (3, 123));
        assert_eq!(int_bounds(Clamp::LINEAR, 0.05, -3, DType::I8), (-128, 127));
    }

    #[test]
    fn add_rescaling_is_the_real_formula_rounded() {
        for (da, db) in [(100, -50), (-255, 255), (3, 4), (0, 0)] {
            let real = 0.7 * da as f64 + 1.3 * db as f64 + 9.0;
            let got = add_requantize(da, db, [0.7, 1.3], 9, -1000, 1000);
            assert!(
                (got as f64 - real).abs() <= 0.5 + 1e-3,
                "{da} {db}: {got} vs {real}"
            );
        }
    }
}
