//! Quantization: `QuantizeLinear` and `DequantizeLinear` (the QDQ format: `axis` for
//! per-channel parameters, opset 13 on; `saturate` only matters for float8 types, which are
//! refused; a `block_size` other than 0, opset 21 on, is refused).

use super::attrs::Attrs;
use super::{Cx, Parsed};
use crate::error::Result;
use crate::ir::{Op, QuantOp};

/// The ONNX ops this family reads.
pub const OPS: &[&str] = &["QuantizeLinear", "DequantizeLinear"];

/// Parses one of [`OPS`]: x, scale and an optional zero point.
pub fn parse(op_type: &str, attrs: &Attrs, _cx: &mut Cx) -> Result<Parsed> {
    attrs.only(&["axis", "saturate", "block_size", "output_dtype"])?;
    if attrs.int_or("block_size", 0)? != 0 {
        return Err(attrs.issue(Some("block_size"), "blocked quantization is not supported"));
    }
    if attrs.int_or("output_dtype", 0)? != 0 {
        return Err(attrs.issue(
            Some("output_dtype"),
            "is not supported: the zero point's type gives the output's",
        ));
    }
    let axis = attrs.int_or("axis", 1)?;
    let op = match op_type {
        "QuantizeLinear" => QuantOp::QuantizeLinear { axis },
        "DequantizeLinear" => QuantOp::DequantizeLinear { axis },
        _ => unreachable!("dispatched by OPS"),
    };
    Ok((Op::Quant(op), 2..=3))
}

/// A QOperator-format op (onnxruntime's `QuantFormat.QOperator`): a float op with quantized
/// inputs and output, which the importer writes as its QDQ form (DequantizeLinear of each
/// input, the float op, QuantizeLinear of the output), so that one pass (`passes::quantize`)
/// serves both formats.
pub struct QOperator {
    /// ONNX name and domain.
    pub name: &'static str,
    pub domain: &'static str,
    /// Input positions of each quantized input: value, scale, zero point.
    pub inputs: &'static [[usize; 3]],
    /// Input position of the int32 bias (quantized with scale `x_scale * w_scale`, zero point 0).
    pub bias: Option<usize>,
    /// Input positions of the output's scale and zero point.
    pub output: [usize; 2],
}

/// The QOperator ops mnetc reads.
pub const QOPERATORS: &[QOperator] = &[
    QOperator {
        name: "QLinearConv",
        domain: "",
        inputs: &[[0, 1, 2], [3, 4, 5]],
        bias: Some(8),
        output: [6, 7],
    },
    QOperator {
        name: "QLinearMatMul",
        domain: "",
        inputs: &[[0, 1, 2], [3, 4, 5]],
        bias: None,
        output: [6, 7],
    },
    QOperator {
        name: "QGemm",
        domain: "com.microsoft",
        inputs: &[[0, 1, 2], [3, 4, 5]],
        bias: Some(6),
        output: [7, 8],
    },
    QOperator {
        name: "QLinearAdd",
        domain: "com.microsoft",
        inputs: &[[0, 1, 2], [3, 4, 5]],
        bias: None,
        output: [6, 7],
    },
    QOperator {
        name: "QLinearGlobalAveragePool",
        domain: "com.microsoft",
        inputs: &[[0, 1, 2]],
        bias: None,
        output: [3, 4],
    },
];

/// The QOperator op of this type and domain, if mnetc reads it.
pub fn qoperator(op_type: &str, domain: &str) -> Option<&'static QOperator> {
    let domain = if domain == "ai.onnx" { "" } else { domain };
    QOPERATORS
        .iter()
        .find(|q| q.name == op_type && q.domain == domain)
}

/// The float op a QOperator op computes between its dequantized inputs and quantized output.
pub fn float_op(q: &QOperator, attrs: &Attrs, cx: &mut Cx) -> Result<Op> {
    use crate::ir::{BinaryOp, LinearOp, PoolOp};
    Ok(match q.name {
        "QLinearConv" => super::conv::parse("Conv", attrs, cx)?.0,
        "QLinearMatMul" => {
            attrs.only(&[])?;
            Op::Linear(LinearOp::MatMul)
        }
        "QGemm" => {
            attrs.only(&["alpha", "transA", "transB"])?;
            Op::Linear(LinearOp::Gemm {
                alpha: attrs.float("alpha")?.unwrap_or(1.0),
                beta: 1.0,
                trans_a: attrs.int_or("transA", 0)? != 0,
                trans_b: attrs.int_or("transB", 0)? != 0,
            })
        }
        "QLinearAdd" => {
            attrs.only(&[])?;
            Op::Binary(BinaryOp::Add)
        }
        "QLinearGlobalAveragePool" => {
            attrs.only(&["channels_last"])?;
            if attrs.int_or("channels_last", 0)? != 0 {
                return Err(attrs.issue(Some("channels_last"), "= 1 is not supported"));
            }
            Op::Pool(PoolOp::GlobalAveragePool)
        }
        _ => unreachable!("listed in QOPERATORS"),
    })
}
