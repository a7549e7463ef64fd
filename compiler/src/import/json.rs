//! mnetc's JSON description of a MobileNet (documented in `docs/GUIDE.md`): the base
//! (alpha = 1) architecture as channel counts and strides, plus alpha, resolution, classes,
//! activation and weights (a safetensors file or seeded random values). The importer applies
//! alpha (v1: `channels = max(int(c * alpha), min_channels)`; with `channel_divisor`, as
//! torchvision's `_make_divisible`) and the resolution, and builds the same IR an ONNX export of
//! the network would give: Conv (+ BatchNormalization) + activation per layer, GlobalAveragePool,
//! Flatten, Gemm.
//!
//! A block is v1's depthwise-separable pair (3x3 depthwise, 1x1 pointwise, both activated), or,
//! with `expand` or `expand_ratio`, an inverted residual block (MobileNetV2 and V3): 1x1
//! expansion (absent when it would not change the width), `kernel` x `kernel` depthwise, with
//! `se` a squeeze-and-excite (global pooling, 1x1 reduce to a quarter with ReLU, 1x1 expand with
//! hard-sigmoid, channel-wise product), a linear 1x1 projection, and the block's input added
//! when stride 1 keeps the width. `head` layers (1x1 convs) follow the blocks, `hidden` is a
//! fully connected layer between the pooling and the classifier (MobileNetV3's).

use crate::error::{Error, Result};
use crate::ir::{ActivationOp, BinaryOp, LinearOp, NormalizationOp, PoolOp, ShapeOp};
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
    /// Rounds every scaled channel count as torchvision's `_make_divisible(c * alpha, d)` (to
    /// the nearest multiple of `d`, at least `d`, never below 90% of `c * alpha`) instead of
    /// v1's truncation; MobileNetV2 and V3 use 8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_divisor: Option<usize>,
    #[serde(default = "default_input_channels")]
    pub input_channels: usize,
    /// Full 3x3 convolution on the input.
    pub stem: Layer,
    /// The blocks (module documentation): v1's depthwise-separable pairs, or inverted residual
    /// blocks.
    pub blocks: Vec<Layer>,
    /// 1x1 conv layers after the blocks, before the pooling.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub head: Vec<Layer>,
    /// A fully connected layer (with bias and activation) between the pooling and the
    /// classifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<Layer>,
    pub weights: Weights,
    /// Epsilon of BatchNorm tensors in a safetensors file.
    #[serde(default = "default_epsilon")]
    pub bn_epsilon: f32,
}

/// A layer's (or block's) base (alpha = 1) output channels and stride, and what else it has.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub channels: usize,
    #[serde(default = "one")]
    pub stride: usize,
    /// Inverted residual block: the expansion's base channels (scaled by alpha, MobileNetV3's
    /// tables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expand: Option<usize>,
    /// Inverted residual block: the expansion as a ratio of the block's scaled input channels,
    /// `round(input * ratio)` (MobileNetV2's `t`). On a head layer: its width as a ratio of its
    /// input's (MobileNetV3's head is six times the last block; `channels` then only says the
    /// width at alpha 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expand_ratio: Option<f64>,
    /// The depthwise window (odd); 3 unless given.
    #[serde(default = "three", skip_serializing_if = "is_three")]
    pub kernel: usize,
    /// A squeeze-and-excite after the depthwise conv.
    #[serde(default, skip_serializing_if = "is_false")]
    pub se: bool,
    /// This layer's activation instead of the description's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation: Option<Activation>,
    /// Channels not scaled by alpha up to 1 (MobileNetV2's last 1280; above 1 they are).
    #[serde(default, skip_serializing_if = "is_false")]
    pub fixed: bool,
}

impl Layer {
    /// A plain layer: `channels`, `stride`, nothing else.
    pub fn new(channels: usize, stride: usize) -> Layer {
        Layer {
            channels,
            stride,
            expand: None,
            expand_ratio: None,
            kernel: 3,
            se: false,
            activation: None,
            fixed: false,
        }
    }

    fn inverted(&self) -> bool {
        self.expand.is_some() || self.expand_ratio.is_some()
    }
}

fn one() -> usize {
    1
}
fn three() -> usize {
    3
}
fn is_three(k: &usize) -> bool {
    *k == 3
}
fn is_false(b: &bool) -> bool {
    !b
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Relu,
    Relu6,
    /// `x * relu6(x + 3) / 6` (MobileNetV3).
    Hardswish,
}

/// The widest alpha of descriptions with torchvision's channel rounding (MobileNetV2's paper
/// reports 1.4).
pub const MAX_ALPHA_ROUNDED: f64 = 1.4;

/// The architectures `mnetc describe --arch` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    V1,
    V2,
    V3Small,
    V3Large,
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Arch::V1 => "v1",
            Arch::V2 => "v2",
            Arch::V3Small => "v3-small",
            Arch::V3Large => "v3-large",
        })
    }
}

impl std::str::FromStr for Arch {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Arch, String> {
        match s.replace('_', "-").as_str() {
            "v1" => Ok(Arch::V1),
            "v2" => Ok(Arch::V2),
            "v3-small" => Ok(Arch::V3Small),
            "v3-large" => Ok(Arch::V3Large),
            _ => Err(format!(
                "unknown architecture '{s}'; expected v1, v2, v3-small or v3-large"
            )),
        }
    }
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
            channel_divisor: None,
            input_channels: 3,
            stem: Layer::new(32, 2),
            blocks: blocks
                .iter()
                .map(|&(channels, stride)| Layer::new(channels, stride))
                .collect(),
            head: Vec::new(),
            hidden: None,
            weights: Weights::Random(42),
            bn_epsilon: default_epsilon(),
        }
    }

    /// One of the papers' architectures at a width multiplier and resolution; `minimalistic`
    /// (V3 only, Keras's variant) drops squeeze-and-excite, hard-swish and 5x5 windows.
    pub fn paper(arch: Arch, alpha: f64, resolution: usize, minimalistic: bool) -> Description {
        let mut d = match arch {
            Arch::V1 => Description::mobilenet_v1(alpha, resolution),
            Arch::V2 => Description::mobilenet_v2(alpha, resolution),
            Arch::V3Small | Arch::V3Large => {
                Description::mobilenet_v3(arch == Arch::V3Large, alpha, resolution)
            }
        };
        if minimalistic && matches!(arch, Arch::V3Small | Arch::V3Large) {
            d.name.push_str("_minimalistic");
            d.activation = Activation::Relu;
            for l in std::iter::once(&mut d.stem)
                .chain(&mut d.blocks)
                .chain(&mut d.head)
                .chain(&mut d.hidden)
            {
                l.activation = None;
                l.se = false;
                l.kernel = 3;
            }
        }
        d
    }

    /// MobileNetV2 (Sandler et al., 2018, Table 2; torchvision's `mobilenet_v2`): inverted
    /// residual blocks with expansion ratio `t`, ReLU6, channels rounded to multiples of 8, the
    /// last 1x1 conv 1280 wide at any alpha <= 1.
    pub fn mobilenet_v2(alpha: f64, resolution: usize) -> Description {
        // t, c, n, s
        let table = [
            (1.0, 16, 1, 1),
            (6.0, 24, 2, 2),
            (6.0, 32, 3, 2),
            (6.0, 64, 4, 2),
            (6.0, 96, 3, 1),
            (6.0, 160, 3, 2),
            (6.0, 320, 1, 1),
        ];
        let mut blocks = Vec::new();
        for (t, c, n, s) in table {
            for i in 0..n {
                blocks.push(Layer {
                    expand_ratio: Some(t),
                    ..Layer::new(c, if i == 0 { s } else { 1 })
                });
            }
        }
        Description {
            name: "mobilenet_v2".into(),
            alpha,
            resolution,
            classes: 1000,
            activation: Activation::Relu6,
            min_channels: 8,
            channel_divisor: Some(8),
            input_channels: 3,
            stem: Layer::new(32, 2),
            blocks,
            head: vec![Layer {
                fixed: true,
                ..Layer::new(1280, 1)
            }],
            hidden: None,
            weights: Weights::Random(42),
            bn_epsilon: default_epsilon(),
        }
    }

    /// MobileNetV3-Large or -Small (Howard et al., 2019, Tables 1 and 2; torchvision's
    /// `mobilenet_v3_large`/`_small`): hard-swish stem, inverted residual blocks with 3x3 or 5x5
    /// windows, squeeze-and-excite in some, ReLU or hard-swish, a 1x1 head conv (six times the
    /// last block's width), then a hard-swish fully connected layer before the classifier.
    pub fn mobilenet_v3(large: bool, alpha: f64, resolution: usize) -> Description {
        use Activation::{Hardswish as HS, Relu as RE};
        // kernel, expansion, out, SE, activation, stride
        let large_table = [
            (3, 16, 16, false, RE, 1),
            (3, 64, 24, false, RE, 2),
            (3, 72, 24, false, RE, 1),
            (5, 72, 40, true, RE, 2),
            (5, 120, 40, true, RE, 1),
            (5, 120, 40, true, RE, 1),
            (3, 240, 80, false, HS, 2),
            (3, 200, 80, false, HS, 1),
            (3, 184, 80, false, HS, 1),
            (3, 184, 80, false, HS, 1),
            (3, 480, 112, true, HS, 1),
            (3, 672, 112, true, HS, 1),
            (5, 672, 160, true, HS, 2),
            (5, 960, 160, true, HS, 1),
            (5, 960, 160, true, HS, 1),
        ];
        let small_table = [
            (3, 16, 16, true, RE, 2),
            (3, 72, 24, false, RE, 2),
            (3, 88, 24, false, RE, 1),
            (5, 96, 40, true, HS, 2),
            (5, 240, 40, true, HS, 1),
            (5, 240, 40, true, HS, 1),
            (5, 120, 48, true, HS, 1),
            (5, 144, 48, true, HS, 1),
            (5, 288, 96, true, HS, 2),
            (5, 576, 96, true, HS, 1),
            (5, 576, 96, true, HS, 1),
        ];
        let table: &[_] = if large { &large_table } else { &small_table };
        let blocks = table
            .iter()
            .map(|&(kernel, expand, channels, se, act, stride)| Layer {
                expand: Some(expand),
                kernel,
                se,
                activation: Some(act),
                ..Layer::new(channels, stride)
            })
            .collect();
        let (last, hidden) = if large { (960, 1280) } else { (576, 1024) };
        Description {
            name: if large {
                "mobilenet_v3_large"
            } else {
                "mobilenet_v3_small"
            }
            .into(),
            alpha,
            resolution,
            classes: 1000,
            activation: HS,
            min_channels: 8,
            channel_divisor: Some(8),
            input_channels: 3,
            stem: Layer::new(16, 2),
            blocks,
            head: vec![Layer {
                expand_ratio: Some(6.0),
                ..Layer::new(last, 1)
            }],
            hidden: Some(Layer::new(hidden, 1)),
            weights: Weights::Random(42),
            bn_epsilon: 1e-3,
        }
    }

    /// Pretty JSON with one line per layer, as in `examples/mobilenet_v1_0.5_160.json`.
    pub fn to_json_pretty(&self) -> String {
        fn quote(v: &impl Serialize) -> String {
            serde_json::to_string(v).expect("plain values serialize")
        }
        let layer = |l: &Layer| {
            let mut parts = vec![
                format!("\"channels\": {}", l.channels),
                format!("\"stride\": {}", l.stride),
            ];
            if let Some(e) = l.expand {
                parts.push(format!("\"expand\": {e}"));
            }
            if let Some(r) = l.expand_ratio {
                parts.push(format!("\"expand_ratio\": {}", quote(&r)));
            }
            if l.kernel != 3 {
                parts.push(format!("\"kernel\": {}", l.kernel));
            }
            if l.se {
                parts.push("\"se\": true".into());
            }
            if let Some(a) = l.activation {
                parts.push(format!("\"activation\": {}", quote(&a)));
            }
            if l.fixed {
                parts.push("\"fixed\": true".into());
            }
            format!("{{{}}}", parts.join(", "))
        };
        let blocks: Vec<String> = self
            .blocks
            .iter()
            .map(|b| format!("    {}", layer(b)))
            .collect();
        let weights = match &self.weights {
            Weights::Random(seed) => format!("{{\"random\": {seed}}}"),
            Weights::Safetensors(file) => format!("{{\"safetensors\": {}}}", quote(file)),
        };
        let mut fields = vec![
            ("name", quote(&self.name)),
            ("alpha", quote(&self.alpha)),
            ("resolution", self.resolution.to_string()),
            ("classes", self.classes.to_string()),
            ("activation", quote(&self.activation)),
            ("min_channels", self.min_channels.to_string()),
        ];
        if let Some(d) = self.channel_divisor {
            fields.push(("channel_divisor", d.to_string()));
        }
        fields.extend([
            ("input_channels", self.input_channels.to_string()),
            ("stem", layer(&self.stem)),
            ("blocks", format!("[\n{}\n  ]", blocks.join(",\n"))),
        ]);
        if !self.head.is_empty() {
            let head: Vec<String> = self.head.iter().map(&layer).collect();
            fields.push(("head", format!("[{}]", head.join(", "))));
        }
        if let Some(h) = &self.hidden {
            fields.push(("hidden", layer(h)));
        }
        fields.extend([
            ("weights", weights),
            ("bn_epsilon", format!("{:e}", self.bn_epsilon)),
        ]);
        let lines: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("  \"{k}\": {v}"))
            .collect();
        format!("{{\n{}\n}}\n", lines.join(",\n"))
    }

    /// Channels of a layer with base width `c` after alpha.
    pub fn scaled(&self, c: usize) -> usize {
        self.rounded(c as f64 * self.alpha)
    }

    /// `v` channels rounded by the description's rule: v1's truncation with a minimum, or
    /// torchvision's `_make_divisible(v, divisor)`.
    pub fn rounded(&self, v: f64) -> usize {
        match self.channel_divisor {
            // Python's int(): truncation of the f64 product, as TF-slim computes it.
            None => (v.trunc() as usize).max(self.min_channels),
            Some(d) => {
                let mut n = (((v + d as f64 / 2.0).trunc() as usize) / d * d).max(d);
                if (n as f64) < 0.9 * v {
                    n += d;
                }
                n
            }
        }
    }

    /// A layer's channels after alpha (`fixed` layers keep theirs at alpha up to 1, and grow
    /// with it above: torchvision's `last_channel * max(1.0, width_mult)`).
    fn width(&self, l: &Layer) -> usize {
        if l.fixed && self.alpha <= 1.0 {
            l.channels
        } else {
            self.scaled(l.channels)
        }
    }

    /// A head layer's width, given its input's.
    fn head_width(&self, l: &Layer, input: usize) -> usize {
        match l.expand_ratio {
            Some(r) => (input as f64 * r).round_ties_even() as usize,
            None => self.width(l),
        }
    }

    /// An inverted residual block's expansion width, given its scaled input width.
    fn expansion(&self, l: &Layer, input: usize) -> usize {
        match (l.expand, l.expand_ratio) {
            (Some(e), _) => self.scaled(e),
            // Python's round() of the product: halves to even.
            (None, Some(r)) => (input as f64 * r).round_ties_even() as usize,
            (None, None) => input,
        }
    }

    /// The squeeze width of a squeeze-and-excite on `c` channels: a quarter, rounded by the
    /// description's rule (torchvision: `_make_divisible(c // 4, 8)`).
    fn squeeze(&self, c: usize) -> usize {
        self.rounded((c / 4) as f64)
    }

    /// The largest width multiplier the description takes: 1 with TF-slim's channel rule (v1),
    /// 1.4 with torchvision's rounding (`channel_divisor`; the MobileNetV2 paper's widest).
    pub fn max_alpha(&self) -> f64 {
        match self.channel_divisor {
            Some(_) => MAX_ALPHA_ROUNDED,
            None => 1.0,
        }
    }

    fn validate(&self) -> Result<()> {
        let max = self.max_alpha();
        if !(self.alpha > 0.0 && self.alpha <= max) {
            return Err(Error::Options(format!(
                "alpha {} is outside (0, {max}]",
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
        if self.channel_divisor.is_some_and(|d| d == 0 || d > 1 << 10) {
            return Err(Error::Options("channel_divisor must be in 1..=1024".into()));
        }
        for (name, layer) in self.layer_names().iter().zip(self.layers()) {
            if layer.channels == 0 || layer.channels > 1 << 16 || !(1..=2).contains(&layer.stride) {
                return Err(Error::Options(format!(
                    "layer '{name}': channels {} and stride {} must be in 1..=65536 and 1..=2",
                    layer.channels, layer.stride
                )));
            }
            if layer.kernel % 2 == 0 || layer.kernel > 11 {
                return Err(Error::Options(format!(
                    "layer '{name}': kernel {} must be odd and at most 11",
                    layer.kernel
                )));
            }
            let ratio_ok = layer
                .expand_ratio
                .is_none_or(|r| r.is_finite() && r > 0.0 && r <= 64.0);
            let expand_ok = layer.expand.is_none_or(|e| (1..=1 << 16).contains(&e));
            if !ratio_ok || !expand_ok || (layer.expand.is_some() && layer.expand_ratio.is_some()) {
                return Err(Error::Options(format!(
                    "layer '{name}': give one of expand (1..=65536 channels) and expand_ratio (in (0, 64])"
                )));
            }
            let block = name.starts_with("blocks.");
            let head_ratio = name.starts_with("head.") && layer.expand.is_none();
            if !block && ((layer.inverted() && !head_ratio) || layer.se || layer.kernel != 3) {
                return Err(Error::Options(format!(
                    "layer '{name}': expand, se and kernel belong to blocks, expand_ratio to blocks and head layers"
                )));
            }
            if !block && name != "stem" && layer.stride != 1 {
                return Err(Error::Options(format!(
                    "layer '{name}': head and hidden layers have stride 1"
                )));
            }
            if block && !layer.inverted() && layer.se {
                return Err(Error::Options(format!(
                    "layer '{name}': squeeze-and-excite needs an inverted residual block (expand or expand_ratio)"
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
        let mut c = self.width(&self.stem) as u128;
        let mut total = c * self.input_channels as u128 * 9;
        for b in &self.blocks {
            let out = self.width(b) as u128;
            let k = (b.kernel * b.kernel) as u128;
            if b.inverted() {
                let e = self.expansion(b, c as usize) as u128;
                let se = if b.se {
                    2 * e * self.squeeze(e as usize) as u128
                } else {
                    0
                };
                total += c * e + e * k + se + e * out;
            } else {
                total += c * k + c * out;
            }
            c = out;
        }
        for l in &self.head {
            let out = self.head_width(l, c as usize) as u128;
            total += c * out;
            c = out;
        }
        if let Some(l) = &self.hidden {
            let out = self.width(l) as u128;
            total += c * out;
            c = out;
        }
        total + c * self.classes as u128
    }

    /// Stem, blocks, head and hidden layer, in order.
    fn layers(&self) -> impl Iterator<Item = &Layer> {
        std::iter::once(&self.stem)
            .chain(&self.blocks)
            .chain(&self.head)
            .chain(&self.hidden)
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
            .chain((0..self.head.len()).map(|i| format!("head.{i}")))
            .chain(self.hidden.iter().map(|_| "hidden".to_string()))
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
    import_with(text, path, alpha, resolution, |file| {
        let file = path.parent().unwrap_or(Path::new(".")).join(file);
        let bytes = crate::limits::read_limited(&file, crate::limits::MAX_SAFETENSORS_BYTES)?;
        Ok((bytes, file.display().to_string()))
    })
}

/// [`import`] with the bytes of the safetensors file a description names given by `read` (its
/// bytes and the name messages use), rather than read from beside `path`.
pub fn import_with(
    text: &str,
    path: &Path,
    alpha: Option<f64>,
    resolution: Option<usize>,
    read: impl FnOnce(&str) -> Result<(Vec<u8>, String)>,
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
            let (bytes, name) = read(file)?;
            Source::File(read_safetensors(&bytes, &name)?)
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

    /// Conv (+ BatchNorm) + activation (`None`: linear).
    #[allow(clippy::too_many_arguments)]
    fn conv(
        &mut self,
        x: ValueId,
        name: &str,
        [cin, cout]: [usize; 2],
        kernel: usize,
        stride: usize,
        depthwise: bool,
        act: Option<Activation>,
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
            pad_value: 0.0,
        });
        let mut y = self.node(name, op, vec![Some(x), Some(w), b]);
        if let Source::File(map) = &self.source
            && map.contains_key(&format!("{name}.bn.weight"))
        {
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
        Ok(match act {
            Some(act) => self.activation(y, &format!("{name}.act"), act),
            None => y,
        })
    }

    fn activation(&mut self, x: ValueId, name: &str, act: Activation) -> ValueId {
        let op = match act {
            Activation::Relu => ActivationOp::Clip(Clamp::RELU),
            Activation::Relu6 => ActivationOp::Clip(Clamp::RELU6),
            Activation::Hardswish => ActivationOp::HardSwish,
        };
        self.node(name, Op::Activation(op), vec![Some(x)])
    }

    /// A 1x1 conv with a bias and no BatchNorm (squeeze-and-excite's), then `act`.
    fn fc_conv(
        &mut self,
        x: ValueId,
        name: &str,
        [cin, cout]: [usize; 2],
        act: ActivationOp,
    ) -> Result<ValueId> {
        let w = self.required(&format!("{name}.weight"), &[cout, cin, 1, 1], |r| {
            r.normal_tensor(&[cout, cin, 1, 1], (2.0 / cin as f64).sqrt())
        })?;
        let b = self.required(&format!("{name}.bias"), &[cout], |r| {
            r.normal_tensor(&[cout], 0.01)
        })?;
        let op = Op::Conv(Conv {
            window: Window::square(1, 1, 0),
            group: 1,
            act: Clamp::LINEAR,
            pad_value: 0.0,
        });
        let y = self.node(name, op, vec![Some(x), Some(w), Some(b)]);
        Ok(self.node(&format!("{name}.act"), Op::Activation(act), vec![Some(y)]))
    }

    /// Squeeze-and-excite on `x` (`c` channels): global pooling, 1x1 reduce with ReLU, 1x1
    /// expand with hard-sigmoid, the product with `x`.
    fn squeeze_excite(&mut self, x: ValueId, name: &str, c: usize) -> Result<ValueId> {
        let s = self.desc.squeeze(c);
        let pooled = self.node(
            &format!("{name}.pool"),
            Op::Pool(PoolOp::GlobalAveragePool),
            vec![Some(x)],
        );
        let r = self.fc_conv(
            pooled,
            &format!("{name}.reduce"),
            [c, s],
            ActivationOp::Clip(Clamp::RELU),
        )?;
        let gate = ActivationOp::HardSigmoid {
            alpha: 1.0 / 6.0,
            beta: 0.5,
        };
        let g = self.fc_conv(r, &format!("{name}.expand"), [s, c], gate)?;
        Ok(self.node(
            &format!("{name}.scale"),
            Op::Binary(BinaryOp::Mul),
            vec![Some(x), Some(g)],
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
        notes: vec![match desc.channel_divisor {
            None => format!(
                "{} at alpha {} and resolution {}: channels = max(int(c * alpha), {})",
                desc.name, desc.alpha, desc.resolution, desc.min_channels
            ),
            Some(d) => format!(
                "{} at alpha {} and resolution {}: channels = _make_divisible(c * alpha, {d})",
                desc.name, desc.alpha, desc.resolution
            ),
        }],
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
    let act = |l: &Layer| Some(l.activation.unwrap_or(desc.activation));
    let mut c = desc.width(&desc.stem);
    let mut x = b.conv(
        input,
        "stem",
        [desc.input_channels, c],
        3,
        desc.stem.stride,
        false,
        act(&desc.stem),
    )?;
    for (i, block) in desc.blocks.iter().enumerate() {
        let out = desc.width(block);
        let (k, s) = (block.kernel, block.stride);
        if !block.inverted() {
            let dw = format!("blocks.{i}.depthwise");
            x = b.conv(x, &dw, [c, c], k, s, true, act(block))?;
            let pw = format!("blocks.{i}.pointwise");
            x = b.conv(x, &pw, [c, out], 1, 1, false, act(block))?;
            c = out;
            continue;
        }
        let input = x;
        let e = desc.expansion(block, c);
        if e != c {
            let name = format!("blocks.{i}.expand");
            x = b.conv(x, &name, [c, e], 1, 1, false, act(block))?;
        }
        let dw = format!("blocks.{i}.depthwise");
        x = b.conv(x, &dw, [e, e], k, s, true, act(block))?;
        if block.se {
            x = b.squeeze_excite(x, &format!("blocks.{i}.se"), e)?;
        }
        x = b.conv(
            x,
            &format!("blocks.{i}.project"),
            [e, out],
            1,
            1,
            false,
            None,
        )?;
        if s == 1 && c == out {
            let name = format!("blocks.{i}.add");
            x = b.node(&name, Op::Binary(BinaryOp::Add), vec![Some(x), Some(input)]);
        }
        c = out;
    }
    for (i, layer) in desc.head.iter().enumerate() {
        let out = desc.head_width(layer, c);
        x = b.conv(x, &format!("head.{i}"), [c, out], 1, 1, false, act(layer))?;
        c = out;
    }
    let pooled = b.node("pool", Op::Pool(PoolOp::GlobalAveragePool), vec![Some(x)]);
    let mut flat = b.node(
        "flatten",
        Op::Shape(ShapeOp::Flatten { axis: 1 }),
        vec![Some(pooled)],
    );
    if let Some(hidden) = &desc.hidden {
        let h = desc.width(hidden);
        let bound = 1.0 / (c as f64).sqrt();
        let w = b.required("hidden.weight", &[h, c], |r| {
            r.uniform_tensor(&[h, c], bound)
        })?;
        let bias = b.tensor("hidden.bias", &[h], |r| r.uniform_tensor(&[h], bound))?;
        let gemm = Op::Linear(LinearOp::Gemm {
            alpha: 1.0,
            beta: 1.0,
            trans_a: false,
            trans_b: true,
        });
        let y = b.node("hidden", gemm, vec![Some(flat), Some(w), bias]);
        flat = b.activation(y, "hidden.act", act(hidden).expect("some"));
        c = h;
    }
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
    if let Source::File(map) = &b.source
        && let Some(name) = map.keys().min()
    {
        return Err(Error::Options(format!(
            "the safetensors file has a tensor '{name}' that the description does not use"
        )));
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
