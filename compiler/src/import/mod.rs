//! Front ends: ONNX (protobuf) and mnetc's JSON description, both producing the IR.

pub mod json;
pub mod onnx;

use crate::error::{Error, Result};
use crate::ir::Graph;
use std::path::Path;

/// Reads a model file. JSON descriptions are recognised by their first non-blank byte (`{`);
/// anything else is decoded as ONNX. `alpha` and `resolution` apply to JSON descriptions;
/// for ONNX the resolution is applied by the passes and alpha is refused.
pub fn load(path: &Path, alpha: Option<f64>, resolution: Option<usize>) -> Result<Graph> {
    let bytes = crate::limits::read_model(path)?;
    load_bytes(&bytes, path, alpha, resolution)
}

/// [`load`] on bytes already read.
pub fn load_bytes(
    bytes: &[u8],
    path: &Path,
    alpha: Option<f64>,
    resolution: Option<usize>,
) -> Result<Graph> {
    let is_json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if is_json {
        let text = std::str::from_utf8(bytes).map_err(|_| Error::Decode {
            path: path.display().to_string(),
            reason: "not valid UTF-8 JSON".into(),
        })?;
        json::import(text, path, alpha, resolution)
    } else {
        if let Some(a) = alpha {
            return Err(Error::Options(format!(
                "--alpha {a}: the width multiplier applies to JSON descriptions only; an ONNX model's channel counts are fixed by its weights"
            )));
        }
        onnx::import(bytes, &path.display().to_string())
    }
}
