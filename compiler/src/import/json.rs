//! mnetc's JSON description of a MobileNet (documented in `docs/json-format.md`): the base
//! (alpha = 1) architecture as channel counts and strides, plus alpha, resolution, classes,
//! activation and weights (a safetensors file or seeded random values). The importer applies
//! alpha (`channels = max(int(c * alpha), min_channels)`) and the resolution, and builds the same
//! IR an ONNX export of the network would give: Conv (+ BatchNormalization) + Relu/Clip per layer,
//! GlobalAveragePool, Flatten, Gemm.

use crate::error::{Error, Result};
use crate::ir::{ActivationOp, LinearOp, NormalizationOp, PoolOp, ShapeOp};
use crate::ir::{
    Clamp, Conv, DType, Dim, Graph, GraphInput, InputLayout, Node, Op, Tensor, ValueId, Window,
};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The JSON document.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Description {
    /// Free-form name, used in messages and headers.
    #[serde(default = "default_name")]
    pub name: String,
    /// Width multiplier in (0, 1].
    pub alpha: f64,
    /// Input height and width.
    pub resolution: usize,
    pub classes: usize,
    pub activation: Activation,
    /// Smallest channel count after applying alpha (TF-slim's `min_depth`).
    #[serde(default = "default_min_channels")]
    pub min_channels: usize,
    #[serde(default = "default_input_channels")]
    pub input_channels: usize,
    /// Full 3x3 convolution on the input.
    pub stem: Layer,
    /// Depthwise-separable blocks: 3x3 depthwise (stride as given) then 1x1 pointwise.
    pub blocks: Vec<Layer>,
    pub weights: Weights,
    /// Epsilon of BatchNorm tensors in a safetensors file.
    #[serde(default = "default_epsilon")]
    pub bn_epsilon: f32,
}

/// A layer's base (alpha = 1) output channels and stride.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub channels: usize,
    pub stride: usize,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Relu,
    Relu6,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Weights {
    /// Seeded random weights (He-normal convs), for benchmarks and tests.
    Random(u64),
    /// A safetensors file, relative to the JSON file.
    Safetensors(String),
}

/// Largest accepted weight count of a description (1 GiB of f32), far above any MobileNet.
pub const MAX_PARAMETERS: u128 = 1 << 28;

fn default_name() -> String {
    "mobilenet".into()
}
fn default_min_channels() -> usize {
    8
}
fn default_input_channels() -> usize {
    3
}
fn default_epsilon() -> f32 {
    1e-5
}

impl Description {
    /// The paper's MobileNet v1 (Table 1) at the given width multiplier and resolution.
    pub fn mobilenet_v1(alpha: f64, resolution: usize) -> Description {
        let blocks = [
            (64, 1),
            (128, 2),
            (128, 1),
            (256, 2),
            (256, 1),
            (512, 2),
            (512, 1),
            (512, 1),
            (512, 1),
            (512, 1),
            (512, 1),
            (1024, 2),
            (1024, 1),
        ];
        Description {
            name: "mobilenet_v1".into(),
            alpha,
            resolution,
            classes: 1000,
            activation: Activation::Relu,
            min_channels: default_min_channels(),
            input_channels: 3,
            stem: Layer {
                channels: 32,
                stride: 2,
            },
            blocks: blocks
                .iter()
                .map(|&(channels, stride)| Layer { channels, stride })
                .collect(),
            weights: Weights::Random(42),
            bn_epsilon: default_epsilon(),
        }
    }

    /// Pretty JSON with one line per layer, as in `examples/mobilenet_v1_0.5_160.json`.
    pub fn to_json_pretty(&self) -> String {
        let layer =
            |l: &Layer| format!("{{\"channels\": {}, \"stride\": {}}}", l.channels, l.stride);
        fn quote(v: &impl Serialize) -> String {
            serde_json::to_string(v).expect("plain values serialize")
        }
        let blocks: Vec<String> = self
            .blocks
            .iter()
            .map(|b| format!("    {}", layer(b)))
            .collect();
        let weights = match &self.weights {
            Weights::Random(seed) => format!("{{\"random\": {seed}}}"),
            Weights::Safetensors(file) => format!("{{\"safetensors\": {}}}", quote(file)),
        };
        let fields = [
            ("name", quote(&self.name)),
            ("alpha", quote(&self.alpha)),
            ("resolution", self.resolution.to_string()),
            ("classes", self.classes.to_string()),
            ("activation", quote(&self.activation)),
            ("min_channels", self.min_channels.to_string()),
            ("input_channels", self.input_channels.to_string()),
            ("stem", layer(&self.stem)),
            ("blocks", format!("[\n{}\n  ]", blocks.join(",\n"))),
            ("weights", weights),
            ("bn_epsilon", format!("{:e}", self.bn_epsilon)),
        ];
        let lines: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("  \"{k}\": {v}"))
            .collect();
        format!("{{\n{}\n}}\n", lines.join(",\n"))
    }

    /// Channels of a layer with base width `c` after alpha.
    pub fn scaled(&self, c: usize) -> usize {
        // Python's int(): truncation of the f64 product, as TF-slim and torchvision compute it.
        ((c as f64 * self.alpha).trunc() as usize).max(self.min_channels)
    }

    fn validate(&self) -> Result<()> {
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return Err(Error::Options(format!(
                "alpha {} is outside (0, 1]",
                self.alpha
            )));
        }
        let max = crate::ir::MAX_RESOLUTION;
        if self.resolution == 0 || self.resolution > max {
            return Err(Error::Options(format!(
                "resolution {} is outside 1 to {max}",
                self.resolution
            )));
        }
        if self.classes == 0 || self.input_channels == 0 || self.min_channels == 0 {
            return Err(Error::Options(
                "classes, input_channels and min_channels must be positive".into(),
            ));
        }
        for (name, layer) in self
            .layer_names()
            .iter()
            .zip(std::iter::once(&self.stem).chain(&self.blocks))
        {
            if layer.channels == 0 || layer.channels > 1 << 16 || !(1..=2).contains(&layer.stride) {
                return Err(Error::Options(format!(
                    "layer '{name}': channels {} and stride {} must be in 1..=65536 and 1..=2",
                    layer.channels, layer.stride
                )));
            }
        }
        let params = self.parameter_count();
        if params > MAX_PARAMETERS {
            return Err(Error::Options(format!(
                "the description has {params} weights; mnetc accepts at most {MAX_PARAMETERS}"
            )));
        }
        if let Some(layer) = self.first_starved_layer(self.resolution) {
            let min = (1..=max)
                .find(|&r| self.first_starved_layer(r).is_none())
                .unwrap_or(max);
            return Err(Error::Options(format!(
                "resolution {} is too small for the strides: layer '{layer}' (stride 2) would receive a 1x1 feature map (the smallest resolution for this architecture is {min})",
                self.resolution
            )));
        }
        Ok(())
    }

    /// Conv and classifier weights, without biases (enough to bound memory).
    fn parameter_count(&self) -> u128 {
        let mut c = self.scaled(self.stem.channels) as u128;
        let mut total = c * self.input_channels as u128 * 9;
        for b in &self.blocks {
            let out = self.scaled(b.channels) as u128;
            total += c * 9 + c * out;
            c = out;
        }
        total + c * self.classes as u128
    }

    /// The first stride-2 layer whose input would be 1x1 at `resolution`: its stride would
    /// then only repeat padding, a sign the resolution is too small for the network.
    fn first_starved_layer(&self, resolution: usize) -> Option<String> {
        let mut size = resolution;
        let layers = std::iter::once(("stem".to_string(), self.stem.stride)).chain(
            self.blocks
                .iter()
                .enumerate()
                .map(|(i, b)| (format!("blocks.{i}.depthwise"), b.stride)),
        );
        for (name, stride) in layers {
            if stride > 1 && size < 2 {
                return Some(name);
            }
            size = size.div_ceil(stride); // 3x3, padding 1
        }
        None
    }

    fn layer_names(&self) -> Vec<String> {
        std::iter::once("stem".to_string())
            .chain((0..self.blocks.len()).map(|i| format!("blocks.{i}")))
            .collect()
    }
}

/// Parses a JSON description. `path` locates a safetensors file named in it.
pub fn import(
    text: &str,
    path: &Path,
    alpha: Option<f64>,
    resolution: Option<usize>,
) -> Result<Graph> {
    let mut desc: Description = serde_json::from_str(text).map_err(|e| Error::Decode {
        path: path.display().to_string(),
        reason: format!("not a valid mnetc JSON description: {e}"),
    })?;
    if let Some(a) = alpha {
        desc.alpha = a;
    }
    if let Some(r) = resolution {
        desc.resolution = r;
    }
    desc.validate()?;
    let weights = match &desc.weights {
        Weights::Random(seed) => Source::Random(Rng::new(*seed)),
        Weights::Safetensors(file) => {
            let file = path.parent().unwrap_or(Path::new(".")).join(file);
            let bytes = std::fs::read(&file).map_err(|source| Error::Io {
                path: file.display().to_string(),
                source,
            })?;
            Source::File(read_safetensors(&bytes, &file.display().to_string())?)
        }
    };
    build(&desc, weights, &path.display().to_string())
}

enum Source {
    Random(Rng),
    File(HashMap<String, Tensor>),
}

fn read_safetensors(bytes: &[u8], path: &str) -> Result<HashMap<String, Tensor>> {
    let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| Error::Decode {
        path: path.into(),
        reason: format!("not a valid safetensors file: {e}"),
    })?;
    let mut out = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(Error::Decode {
                path: path.into(),
                reason: format!(
                    "tensor '{name}' has dtype {:?}; only F32 is supported",
                    view.dtype()
                ),
            });
        }
        let data = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        out.insert(name, Tensor::f32(view.shape().to_vec(), data));
    }
    Ok(out)
}

struct Builder<'a> {
    graph: Graph,
    desc: &'a Description,
    source: Source,
}

impl Builder<'_> {
    /// A weight tensor: from the file (checked against `shape`), or random with `std`.
    fn tensor(
        &mut self,
        name: &str,
        shape: &[usize],
        random: impl FnOnce(&mut Rng) -> Tensor,
    ) -> Result<Option<ValueId>> {
        let t = match &mut self.source {
            Source::Random(rng) => Some(random(rng)),
            Source::File(map) => map.remove(name),
        };
        let Some(t) = t else { return Ok(None) };
        if t.shape != shape {
            return Err(Error::Options(format!(
                "weight '{name}' has shape {:?}, the description needs {shape:?} (alpha {}, check the channel counts)",
                t.shape, self.desc.alpha
            )));
        }
        Ok(Some(self.graph.add_constant(name, t)))
    }

    fn required(
        &mut self,
        name: &str,
        shape: &[usize],
        random: impl FnOnce(&mut Rng) -> Tensor,
    ) -> Result<ValueId> {
        self.tensor(name, shape, random)?.ok_or_else(|| {
            Error::Options(format!(
                "the safetensors file has no tensor '{name}' (shape {shape:?})"
            ))
        })
    }

    fn node(&mut self, name: &str, op: Op, inputs: Vec<Option<ValueId>>) -> ValueId {
        let out = self.graph.add_value(format!("{name}.out"), DType::F32);
        self.graph.nodes.push(Node {
            name: name.into(),
            op,
            inputs,
            outputs: vec![out],
        });
        out
    }

    /// Conv (+ BatchNorm) + activation.
    fn conv(
        &mut self,
        x: ValueId,
        name: &str,
        [cin, cout]: [usize; 2],
        kernel: usize,
        stride: usize,
        depthwise: bool,
    ) -> Result<ValueId> {
        let per_group = if depthwise { 1 } else { cin };
        let fan_in = (per_group * kernel * kernel) as f64;
        let w = self.required(
            &format!("{name}.weight"),
            &[cout, per_group, kernel, kernel],
            |r| r.normal_tensor(&[cout, per_group, kernel, kernel], (2.0 / fan_in).sqrt()),
        )?;
        let b = self.tensor(&format!("{name}.bias"), &[cout], |r| {
            r.normal_tensor(&[cout], 0.01)
        })?;
        let op = Op::Conv(Conv {
            window: Window::square(kernel, stride, kernel / 2),
            group: if depthwise { cin } else { 1 },
            act: Clamp::LINEAR,
        });
        let mut y = self.node(name, op, vec![Some(x), Some(w), b]);
        if let Source::File(map) = &self.source {
            if map.contains_key(&format!("{name}.bn.weight")) {
                let mut inputs = vec![Some(y)];
                for part in ["weight", "bias", "running_mean", "running_var"] {
                    inputs.push(Some(self.required(
                        &format!("{name}.bn.{part}"),
                        &[cout],
                        |_| unreachable!(),
                    )?));
                }
                y = self.node(
                    &format!("{name}.bn"),
                    Op::Normalization(NormalizationOp::BatchNorm {
                        epsilon: self.desc.bn_epsilon,
                    }),
                    inputs,
                );
            }
        }
        let clamp = match self.desc.activation {
            Activation::Relu => Clamp::RELU,
            Activation::Relu6 => Clamp::RELU6,
        };
        Ok(self.node(
            &format!("{name}.act"),
            Op::Activation(ActivationOp::Clip(clamp)),
            vec![Some(y)],
        ))
    }
}

fn build(desc: &Description, source: Source, path: &str) -> Result<Graph> {
    let graph = Graph {
        values: Vec::new(),
        nodes: Vec::new(),
        input: GraphInput {
            value: 0,
            declared: [1, desc.input_channels, desc.resolution, desc.resolution]
                .map(Dim::Fixed)
                .to_vec(),
            layout: InputLayout::Nchw,
        },
        outputs: Vec::new(),
        notes: vec![format!(
            "{} at alpha {} and resolution {}: channels = max(int(c * alpha), {})",
            desc.name, desc.alpha, desc.resolution, desc.min_channels
        )],
        source: path.to_string(),
        provenance: Default::default(),
    };
    let mut b = Builder {
        graph,
        desc,
        source,
    };
    let input = b.graph.add_value("input", DType::F32);
    b.graph.input.value = input;
    let mut c = desc.scaled(desc.stem.channels);
    let mut x = b.conv(
        input,
        "stem",
        [desc.input_channels, c],
        3,
        desc.stem.stride,
        false,
    )?;
    for (i, block) in desc.blocks.iter().enumerate() {
        let out = desc.scaled(block.channels);
        x = b.conv(
            x,
            &format!("blocks.{i}.depthwise"),
            [c, c],
            3,
            block.stride,
            true,
        )?;
        x = b.conv(x, &format!("blocks.{i}.pointwise"), [c, out], 1, 1, false)?;
        c = out;
    }
    let pooled = b.node("pool", Op::Pool(PoolOp::GlobalAveragePool), vec![Some(x)]);
    let flat = b.node(
        "flatten",
        Op::Shape(ShapeOp::Flatten { axis: 1 }),
        vec![Some(pooled)],
    );
    let k = desc.classes;
    let bound = 1.0 / (c as f64).sqrt();
    let w = b.required("classifier.weight", &[k, c], |r| {
        r.uniform_tensor(&[k, c], bound)
    })?;
    let bias = b.tensor("classifier.bias", &[k], |r| r.uniform_tensor(&[k], bound))?;
    let gemm = Op::Linear(LinearOp::Gemm {
        alpha: 1.0,
        beta: 1.0,
        trans_a: false,
        trans_b: true,
    });
    let logits = b.node("classifier", gemm, vec![Some(flat), Some(w), bias]);
    b.graph.values[logits].name = "logits".into();
    b.graph.outputs = vec![logits];
    if let Source::File(map) = &b.source {
        if let Some(name) = map.keys().min() {
            return Err(Error::Options(format!(
                "the safetensors file has a tensor '{name}' that the description does not use"
            )));
        }
    }
    Ok(b.graph)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_truncates_like_python_with_a_minimum() {
        let mut d = Description::mobilenet_v1(0.75, 224);
        assert_eq!(d.scaled(32), 24);
        assert_eq!(d.scaled(1024), 768);
        d.alpha = 0.29;
        assert_eq!(d.scaled(100), 28, "Python: int(100 * 0.29) == 28");
        d.alpha = 0.1;
        assert_eq!(d.scaled(32), 8, "min_channels");
    }

    #[test]
    fn the_description_round_trips_through_json() {
        let d = Description::mobilenet_v1(0.5, 160);
        let text = serde_json::to_string_pretty(&d).unwrap();
        let back: Description = serde_json::from_str(&text).unwrap();
        assert_eq!(d, back);
        let back: Description = serde_json::from_str(&d.to_json_pretty()).unwrap();
        assert_eq!(d, back);
    }

    #[test]
    fn bad_descriptions_are_refused_with_a_reason() {
        let base = serde_json::to_value(Description::mobilenet_v1(1.0, 224)).unwrap();
        let cases: [(&str, serde_json::Value, &str); 4] = [
            (
                "alpha",
                serde_json::json!(1.5),
                "alpha 1.5 is outside (0, 1]",
            ),
            ("alpha", serde_json::json!(0.0), "alpha 0 is outside (0, 1]"),
            (
                "resolution",
                serde_json::json!(0),
                "resolution 0 is outside",
            ),
            ("colour", serde_json::json!(1), "unknown field `colour`"),
        ];
        for (key, value, want) in cases {
            let mut v = base.clone();
            v[key] = value;
            let err = import(&v.to_string(), Path::new("m.json"), None, None).unwrap_err();
            assert!(err.to_string().contains(want), "{key}: {err}");
            assert_eq!(err.exit_code(), 2);
        }
    }
}
