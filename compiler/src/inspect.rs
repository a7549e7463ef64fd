//! The layer table behind `mnetc inspect`: one row per node of the optimised graph, with the
//! paper's cost model (multiply-adds and parameters of conv and fully connected layers only).

use crate::ir::Graph;
use serde::Serialize;
use std::fmt::Write;

#[derive(Clone, Debug, Serialize)]
pub struct Layer {
    pub name: String,
    /// `conv`, `dwconv`, `pwconv`, `dense`, or the ONNX op name for everything else.
    pub op: String,
    pub kernel: Option<[usize; 2]>,
    pub stride: Option<[usize; 2]>,
    /// `[top, left, bottom, right]`.
    pub padding: Option<[usize; 4]>,
    pub input: Vec<usize>,
    pub output: Vec<usize>,
    pub activation: Option<String>,
    pub macs: u64,
    pub params: u64,
    /// The output's element type: `float32`, or `uint8`/`int8` in a quantized model.
    pub dtype: String,
    /// A quantized output's scale and zero point.
    pub scale: Option<f32>,
    pub zero_point: Option<i32>,
    /// Bytes of the layer's weights and biases as the model stores them (int8 weights one byte,
    /// int32 biases four).
    pub weight_bytes: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub model: String,
    pub input: Vec<usize>,
    pub input_layout: String,
    pub outputs: Vec<Vec<usize>>,
    pub total_macs: u64,
    pub total_params: u64,
    /// Sum of the layers' `weight_bytes`.
    pub weight_bytes: u64,
    /// Whether any layer computes on quantized values.
    pub quantized: bool,
    pub notes: Vec<String>,
    /// For a 3-channel image input: the preprocessing `run --image` uses by default, and why.
    pub preprocess: Option<String>,
    pub layers: Vec<Layer>,
}

pub fn summarize(graph: &Graph) -> Summary {
    let shape = |id: Option<usize>| {
        id.and_then(|i| graph.shape(i))
            .map(<[usize]>::to_vec)
            .unwrap_or_default()
    };
    let len = |id: Option<usize>| {
        id.and_then(|i| graph.constant(i))
            .map_or(0, |t| t.len() as u64)
    };
    // Wider integers are held as int64 in the IR and stored as int32 (quantized biases).
    let bytes = |id: Option<usize>| {
        id.and_then(|i| graph.constant(i)).map_or(0, |t| {
            let each = match t.data {
                crate::ir::Data::U8(_) | crate::ir::Data::I8(_) => 1,
                _ => 4,
            };
            t.len() as u64 * each
        })
    };
    let mut layers = Vec::new();
    for node in &graph.nodes {
        let input = shape(node.input(0));
        let output = shape(Some(node.outputs[0]));
        let out_elems: u64 = output.iter().map(|&d| d as u64).product();
        let mut layer = Layer {
            name: node.name.clone(),
            op: node.op.name().to_string(),
            kernel: None,
            stride: None,
            padding: None,
            input: input.clone(),
            output,
            activation: None,
            macs: 0,
            params: 0,
            dtype: graph.values[node.outputs[0]].dtype.name().into(),
            scale: None,
            zero_point: None,
            weight_bytes: 0,
        };
        if let Some(q) = &graph.values[node.outputs[0]].quant {
            let (scale, zero_point) = q.at(0);
            layer.scale = Some(scale);
            layer.zero_point = Some(zero_point);
        }
        let facts = crate::ops::facts(&node.op, &input, out_elems);
        if let Some(label) = facts.label {
            layer.op = label.into();
        }
        if let Some(w) = facts.window {
            layer.kernel = Some(w.kernel);
            layer.stride = Some(w.strides);
            layer.padding = Some(w.pads);
        }
        layer.activation = facts.activation;
        layer.macs = facts.macs;
        if facts.weighted {
            layer.params = len(node.input(1)) + len(node.input(2));
            layer.weight_bytes = bytes(node.input(1)) + bytes(node.input(2));
        }
        layers.push(layer);
    }
    Summary {
        model: graph.source.clone(),
        input: shape(Some(graph.input.value)),
        input_layout: format!("{:?}", graph.input.layout).to_uppercase(),
        outputs: graph.outputs.iter().map(|&o| shape(Some(o))).collect(),
        total_macs: layers.iter().map(|l| l.macs).sum(),
        total_params: layers.iter().map(|l| l.params).sum(),
        weight_bytes: layers.iter().map(|l| l.weight_bytes).sum(),
        quantized: layers.iter().any(|l| l.scale.is_some()),
        notes: graph.notes.clone(),
        preprocess: {
            let shape = shape(Some(graph.input.value));
            (shape.len() == 4 && (shape[1] == 3 || shape[3] == 3)).then(|| {
                let (p, why) = crate::preprocess::default_for(graph);
                format!("{} ({why})", p.describe())
            })
        },
        layers,
    }
}

/// Names longer than 48 characters keep their end, the most specific part (`--json` has them whole).
fn short_name(name: &str) -> String {
    const MAX: usize = 48;
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= MAX {
        name.to_string()
    } else {
        std::iter::once('…')
            .chain(chars[chars.len() - (MAX - 1)..].iter().copied())
            .collect()
    }
}

fn dims(v: &[usize]) -> String {
    v.iter().map(usize::to_string).collect::<Vec<_>>().join("x")
}

/// The human-readable table.
pub fn table(s: &Summary) -> String {
    let mut rows = vec![
        [
            "#",
            "name",
            "op",
            "kernel",
            "stride",
            "pad t,l,b,r",
            "input",
            "output",
            "act",
            "MACs",
            "params",
            "type",
            "scale",
            "zp",
        ]
        .map(String::from)
        .to_vec(),
    ];
    // The quantization columns only for quantized models.
    let columns = if s.quantized { 14 } else { 11 };
    rows[0].truncate(columns);
    for (i, l) in s.layers.iter().enumerate() {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        rows.push(vec![
            i.to_string(),
            short_name(&l.name),
            l.op.clone(),
            opt(l.kernel.map(|k| dims(&k))),
            opt(l.stride.map(|k| dims(&k))),
            opt(l.padding.map(|p| p.map(|v| v.to_string()).join(","))),
            dims(&l.input),
            dims(&l.output),
            opt(l.activation.clone()),
            l.macs.to_string(),
            l.params.to_string(),
            l.dtype.clone(),
            opt(l.scale.map(|v| format!("{v:.4e}"))),
            opt(l.zero_point.map(|v| v.to_string())),
        ]);
        rows.last_mut().expect("pushed").truncate(columns);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    let _ = writeln!(out, "model:  {}", s.model);
    let _ = writeln!(out, "input:  {} ({})", dims(&s.input), s.input_layout);
    let outs: Vec<String> = s.outputs.iter().map(|o| dims(o)).collect();
    let _ = writeln!(out, "output: {}", outs.join(", "));
    if let Some(p) = &s.preprocess {
        let _ = writeln!(out, "photos: {p}");
    }
    for note in &s.notes {
        let _ = writeln!(out, "note:   {note}");
    }
    out.push('\n');
    for (r, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, w))| {
                if (9..11).contains(&c) || c >= 12 || c == 0 {
                    format!("{cell:>w$}")
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        if r == 0 {
            let _ = writeln!(
                out,
                "{}",
                widths
                    .iter()
                    .map(|w| "-".repeat(*w))
                    .collect::<Vec<_>>()
                    .join("  ")
            );
        }
    }
    let _ = writeln!(
        out,
        "\ntotal: {} layers, {:.1} M multiply-adds, {:.3} M parameters, {} weight bytes{}",
        s.layers.len(),
        s.total_macs as f64 / 1e6,
        s.total_params as f64 / 1e6,
        s.weight_bytes,
        if s.quantized {
            " (int8 weights, int32 biases)"
        } else {
            ""
        }
    );
    out
}
