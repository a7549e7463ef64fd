//! What mnetc accepts from a file, checked before anything of the stated size is allocated:
//! the file itself ([`read_model`]: its size, and for ONNX the protobuf framing of its top level,
//! scanned without reading the file into memory), every value's shape (shape inference refuses a
//! tensor over [`MAX_TENSOR_BYTES`] before constant folding computes it), a JSON description's
//! weights (`import::json::MAX_PARAMETERS`, counted before random weights are drawn) and the
//! generated module's arena and weights ([`check_generated`]). A garbage file of any size ends
//! with exit code 2 after reading a few bytes of it.

use crate::error::{Error, Result};
use std::io::{BufReader, Read, Seek};
use std::path::Path;

/// The largest model file: protobuf's own limit on a message (2 GiB).
pub const MAX_MODEL_BYTES: u64 = 2 << 30;
/// The largest JSON description (its weights live in a separate safetensors file).
pub const MAX_JSON_BYTES: u64 = 16 << 20;
/// The largest safetensors weights file a JSON description may name.
pub const MAX_SAFETENSORS_BYTES: u64 = 2 << 30;
/// The largest single value (activation or constant) of a graph, in bytes at 4 bytes per
/// element.
pub const MAX_TENSOR_BYTES: u64 = 1 << 30;
/// The largest packed weights of a generated module.
pub const MAX_WEIGHTS_BYTES: u64 = 1 << 30;
/// The largest activation arena (with the input) of a generated module.
pub const MAX_SCRATCH_BYTES: u64 = 1 << 30;

/// A human figure for a byte count: "1.5 GiB", "12.0 MiB".
pub fn bytes_figure(b: u64) -> String {
    const MIB: f64 = (1u64 << 20) as f64;
    if b >= 1 << 30 {
        format!("{:.1} GiB", b as f64 / (MIB * 1024.0))
    } else {
        format!("{:.1} MiB", b as f64 / MIB)
    }
}

/// Reads a model file (ONNX, or a JSON description: told apart as [`crate::import::load_bytes`]
/// does) after checking its size and, for ONNX, that its top level is well-formed protobuf with
/// a graph: field by field, skipping over their contents, so that a large file that is not a
/// model is refused having read a few bytes of it.
pub fn read_model(path: &Path) -> Result<Vec<u8>> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let decode = |reason: String| Error::Decode {
        path: path.display().to_string(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > MAX_MODEL_BYTES {
        return Err(decode(format!(
            "the file is {}; mnetc reads models of at most {} (protobuf's limit)",
            bytes_figure(len),
            bytes_figure(MAX_MODEL_BYTES)
        )));
    }
    let mut reader = BufReader::new(file);
    let mut head = Vec::new();
    (&mut reader)
        .take(4096)
        .read_to_end(&mut head)
        .map_err(io)?;
    let is_json = head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if is_json && len > MAX_JSON_BYTES {
        return Err(decode(format!(
            "a JSON description of {} is over the limit of {} (weights belong in a safetensors file)",
            bytes_figure(len),
            bytes_figure(MAX_JSON_BYTES)
        )));
    }
    if !is_json && !head.iter().all(|b| b.is_ascii_whitespace()) {
        reader.rewind().map_err(io)?;
        scan_model_proto(&mut reader, len).map_err(|reason| {
            decode(format!(
                "not a valid ONNX file (protobuf decoding failed: {reason})"
            ))
        })?;
    }
    let mut bytes = Vec::with_capacity(len as usize);
    reader.rewind().map_err(io)?;
    reader.read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

/// Reads a file a model refers to (a JSON description's safetensors weights), refusing one over
/// `max` bytes before reading it.
pub fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > max {
        return Err(Error::Decode {
            path: path.display().to_string(),
            reason: format!(
                "the file is {}; the limit is {}",
                bytes_figure(len),
                bytes_figure(max)
            ),
        });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    BufReader::new(file).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

/// ONNX's ModelProto fields with their wire types (`onnx.proto`): a known field with another
/// wire type is not ONNX.
const MODEL_FIELDS: [(u64, u8); 11] = [
    (1, 0),  // ir_version
    (2, 2),  // producer_name
    (3, 2),  // producer_version
    (4, 2),  // domain
    (5, 0),  // model_version
    (6, 2),  // doc_string
    (7, 2),  // graph
    (8, 2),  // opset_import
    (14, 2), // metadata_props
    (20, 2), // training_info
    (25, 2), // functions
];

/// Walks the top-level fields of a protobuf message of `len` bytes: valid tags and wire types,
/// lengths within the file, a `graph` field; contents are skipped, not read.
fn scan_model_proto(r: &mut (impl Read + Seek), len: u64) -> std::result::Result<(), String> {
    fn varint(r: &mut impl Read, pos: &mut u64) -> std::result::Result<u64, String> {
        let mut v = 0u64;
        for i in 0..10 {
            let mut b = [0u8];
            r.read_exact(&mut b)
                .map_err(|_| format!("the file ends inside a varint at byte {pos}"))?;
            *pos += 1;
            v |= u64::from(b[0] & 0x7f) << (7 * i);
            if b[0] & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(format!(
            "a varint longer than 10 bytes ending at byte {pos}"
        ))
    }
    let mut pos = 0u64;
    let mut graph = false;
    while pos < len {
        let at = pos;
        let key = varint(r, &mut pos)?;
        let (field, wire) = (key >> 3, (key & 7) as u8);
        if field == 0 {
            return Err(format!("invalid tag value 0 at byte {at}"));
        }
        if let Some(&(_, expected)) = MODEL_FIELDS.iter().find(|(f, _)| *f == field)
            && expected != wire
        {
            return Err(format!(
                "field {field} of ModelProto has wire type {wire}, expected {expected} (byte {at})"
            ));
        }
        graph |= field == 7;
        let skip = match wire {
            0 => {
                varint(r, &mut pos)?;
                0
            }
            1 => 8,
            2 => varint(r, &mut pos)?,
            5 => 4,
            _ => return Err(format!("invalid wire type value {wire} at byte {at}")),
        };
        if skip > len - pos {
            return Err(format!(
                "field {field} at byte {at} needs {skip} bytes, but the file ends {} bytes later",
                len - pos
            ));
        }
        let skip = i64::try_from(skip).map_err(|_| "a length over 2^63".to_string())?;
        r.seek_relative(skip)
            .map_err(|e| format!("cannot skip over field {field}: {e}"))?;
        pos += skip as u64;
    }
    if !graph {
        return Err("no graph (ModelProto field 7)".into());
    }
    Ok(())
}

/// Refuses a value whose shape holds more than [`MAX_TENSOR_BYTES`] (4-byte elements), naming
/// `what` (the value) and the figure.
pub fn check_shape(shape: &[usize], what: &str) -> Result<()> {
    let elements = shape
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(d as u64))
        .unwrap_or(u64::MAX);
    let bytes = elements.saturating_mul(4);
    if bytes > MAX_TENSOR_BYTES {
        return Err(Error::Model(format!(
            "{what} has shape {shape:?}, {} as float32; mnetc accepts tensors of at most {}",
            bytes_figure(bytes),
            bytes_figure(MAX_TENSOR_BYTES)
        )));
    }
    Ok(())
}

/// Refuses a generated module whose packed weights or activation arena would exceed
/// [`MAX_WEIGHTS_BYTES`] or [`MAX_SCRATCH_BYTES`].
pub fn check_generated(weights: u64, scratch: u64) -> Result<()> {
    let checks = [
        ("the packed weights would take", weights, MAX_WEIGHTS_BYTES),
        (
            "the activations would need a scratch of",
            scratch,
            MAX_SCRATCH_BYTES,
        ),
    ];
    for (what, bytes, max) in checks {
        if bytes > max {
            return Err(Error::Model(format!(
                "{what} {}; mnetc generates at most {}",
                bytes_figure(bytes),
                bytes_figure(max)
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn scan(bytes: &[u8]) -> std::result::Result<(), String> {
        scan_model_proto(&mut Cursor::new(bytes), bytes.len() as u64)
    }

    #[test]
    fn the_scan_accepts_a_model_and_refuses_what_is_not_one() {
        // ir_version 8, a 2-byte graph, an unknown varint field 9.
        assert_eq!(scan(&[0x08, 8, 0x3a, 2, 0x0a, 0, 0x48, 1]), Ok(()));
        assert!(scan(&[0x08, 8]).unwrap_err().contains("no graph"));
        assert!(scan(&[0, 0]).unwrap_err().contains("tag value 0"));
        assert!(scan(&[0x3a, 9, 1]).unwrap_err().contains("needs 9 bytes"));
        assert!(scan(&[0x7f]).unwrap_err().contains("wire type value 7"));
        assert!(
            scan(&[0x38, 1])
                .unwrap_err()
                .contains("field 7 of ModelProto")
        );
        assert!(
            scan(&[0x3a, 0x80])
                .unwrap_err()
                .contains("ends inside a varint")
        );
        let long = [&[0x08][..], &[0xff; 10], &[1]].concat();
        assert!(scan(&long).unwrap_err().contains("longer than 10"));
    }

    #[test]
    fn shapes_over_the_limit_are_refused_with_the_figure() {
        assert!(check_shape(&[1, 3, 224, 224], "x").is_ok());
        let e = check_shape(&[1, 2048, 1024, 256], "x").unwrap_err();
        assert!(e.to_string().contains("2.0 GiB as float32"), "{e}");
        let e = check_shape(&[usize::MAX, 2], "x").unwrap_err();
        assert!(e.to_string().contains("at most 1.0 GiB"), "{e}");
        assert!(check_generated(1 << 20, (1 << 30) + 1).is_err());
        assert!(check_generated((1 << 30) + 1, 0).is_err());
    }
}
