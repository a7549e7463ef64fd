//! What a network expects of a photo: channel order, the resize and crop that bring it to the
//! input's size, and the per-channel map from 8-bit values to the input's floats,
//! `x = (pixel * scale - mean) / std`. Presets name what common model families were trained
//! with; [`default_for`] picks one for a model by a stated rule. Decoding and resizing pixels is
//! the command line's (`mnetc run --image`); this part is data and arithmetic only.

use crate::error::{Error, Result};
use crate::ir::{BinaryOp, Graph, InputLayout, Op};

/// The order of the input's three channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelOrder {
    Rgb,
    Bgr,
}

impl ChannelOrder {
    /// The byte of an RGB pixel that each input channel reads.
    pub fn source(self) -> [usize; 3] {
        match self {
            ChannelOrder::Rgb => [0, 1, 2],
            ChannelOrder::Bgr => [2, 1, 0],
        }
    }
}

/// How a photo is brought to the input's `res x res`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resize {
    /// Resize the shorter side to `res / fraction` (bilinear, keeping the aspect ratio), then
    /// crop the centre `res x res` (torchvision's evaluation transform: 256 then 224).
    ShorterSideThenCrop { fraction: f32 },
    /// Resize the whole photo to `res x res` (bilinear; the aspect ratio is not kept).
    Stretch,
}

/// A preprocessing: preset name (or `custom`), channel order, resize, and the per-channel map.
#[derive(Clone, Debug, PartialEq)]
pub struct Preprocess {
    pub name: String,
    pub order: ChannelOrder,
    pub resize: Resize,
    /// Multiplies the 0..255 pixel value first.
    pub scale: f32,
    /// Per channel, in the input's channel order.
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

/// The presets, by name.
pub const PRESETS: [&str; 5] = ["torchvision", "keras", "keras-v3", "caffe", "unit"];

impl Preprocess {
    /// A preset: `torchvision` (RGB, shorter side to res/0.875, centre crop, /255, ImageNet
    /// mean and std), `keras` (RGB, resize, x/127.5 - 1), `keras-v3` (RGB, resize, 0..255: the
    /// model rescales inside), `caffe` (BGR, resize, ImageNet means subtracted), `unit` (RGB,
    /// resize, /255).
    pub fn preset(name: &str) -> Result<Preprocess> {
        let p = |order, resize, scale, mean, std| Preprocess {
            name: name.to_string(),
            order,
            resize,
            scale,
            mean,
            std,
        };
        use ChannelOrder::{Bgr, Rgb};
        Ok(match name {
            "torchvision" => p(
                Rgb,
                Resize::ShorterSideThenCrop { fraction: 0.875 },
                1.0 / 255.0,
                [0.485, 0.456, 0.406],
                [0.229, 0.224, 0.225],
            ),
            "keras" => p(Rgb, Resize::Stretch, 1.0 / 127.5, [1.0; 3], [1.0; 3]),
            "keras-v3" => p(Rgb, Resize::Stretch, 1.0, [0.0; 3], [1.0; 3]),
            "caffe" => p(
                Bgr,
                Resize::Stretch,
                1.0,
                [103.939, 116.779, 123.68],
                [1.0; 3],
            ),
            "unit" => p(Rgb, Resize::Stretch, 1.0 / 255.0, [0.0; 3], [1.0; 3]),
            other => {
                return Err(Error::Options(format!(
                    "unknown preprocessing '{other}'; presets: {}",
                    PRESETS.join(", ")
                )));
            }
        })
    }

    /// The input float for 8-bit value `v` of channel `c` (in the input's channel order).
    pub fn value(&self, v: u8, c: usize) -> f32 {
        (v as f32 * self.scale - self.mean[c]) / self.std[c]
    }

    /// One line for `inspect` and `run`.
    pub fn describe(&self) -> String {
        let order = match self.order {
            ChannelOrder::Rgb => "RGB",
            ChannelOrder::Bgr => "BGR",
        };
        let resize = match self.resize {
            Resize::ShorterSideThenCrop { fraction } => {
                format!("shorter side to res/{fraction}, centre crop")
            }
            Resize::Stretch => "resize to res x res".into(),
        };
        format!(
            "{}: {order}, {resize}, (x * {} - {:?}) / {:?}",
            self.name, self.scale, self.mean, self.std
        )
    }

    /// The network's input (its own shape and layout) from an RGB photo already resized and
    /// cropped to `res x res` (`rgb` row-major, 3 bytes a pixel): channel order, the map to
    /// floats, and NCHW or NHWC as `shape` says (the axis of size 3 is the channel axis).
    pub fn input(&self, rgb: &[u8], shape: &[usize], layout: InputLayout) -> Result<Vec<f32>> {
        let nhwc = match shape {
            [1, 3, _, _] if layout == InputLayout::Nchw || shape[3] != 3 => false,
            [1, _, _, 3] => true,
            [1, 3, _, _] => false,
            _ => {
                return Err(Error::Options(format!(
                    "a photo needs a 3-channel input, and the model's is {shape:?}"
                )));
            }
        };
        let (h, w) = if nhwc {
            (shape[1], shape[2])
        } else {
            (shape[2], shape[3])
        };
        if rgb.len() != h * w * 3 {
            return Err(Error::Internal(format!(
                "{} pixel bytes for a {h}x{w} input",
                rgb.len()
            )));
        }
        let mut out = vec![0f32; h * w * 3];
        for p in 0..h * w {
            for c in 0..3 {
                let src = self.order.source()[c];
                let v = self.value(rgb[p * 3 + src], c);
                let at = if nhwc { p * 3 + c } else { c * h * w + p };
                out[at] = v;
            }
        }
        Ok(out)
    }
}

/// The preprocessing a model most likely expects, and the rule that chose it: a graph that
/// rescales its input itself (its input goes straight into Mul/Div/Add/Sub by constants, as
/// Keras's `Rescaling` layer exports) gets `keras-v3` (0..255); otherwise an NHWC input
/// (TensorFlow/Keras exports) gets `keras` and an NCHW one (PyTorch exports) `torchvision`.
pub fn default_for(graph: &Graph) -> (Preprocess, &'static str) {
    let input = graph.input.value;
    let rescales = graph.nodes.iter().any(|n| {
        n.input(0) == Some(input)
            && matches!(
                n.op,
                Op::Binary(BinaryOp::Mul | BinaryOp::Div | BinaryOp::Add | BinaryOp::Sub)
            )
            && n.input(1).is_some_and(|c| graph.constant(c).is_some())
    });
    let nhwc = graph.input.layout == InputLayout::Nhwc
        || graph
            .shape(input)
            .is_some_and(|s| s.len() == 4 && s[3] == 3 && s[1] != 3);
    let (name, why) = if rescales {
        ("keras-v3", "the graph rescales its input itself")
    } else if nhwc {
        ("keras", "NHWC input (a TensorFlow/Keras export)")
    } else {
        ("torchvision", "NCHW input (a PyTorch export)")
    };
    (Preprocess::preset(name).expect("a preset"), why)
}

/// A preset by name, or `auto`: the model's default ([`default_for`]).
pub fn resolve(preset: &str, graph: &Graph) -> Result<Preprocess> {
    match preset {
        "auto" => Ok(default_for(graph).0),
        name => Preprocess::preset(name),
    }
}

/// The size a photo of `w x h` is resized to before the centre crop of `res` (torchvision's
/// `Resize(int(res / fraction))`: the shorter side to that size, the longer one scaled and
/// truncated), and the crop's top-left corner (`round((size - res) / 2)` on each axis, halves
/// to even as Python's `round` in torchvision's `CenterCrop`; the runtime's `frame::plan` is
/// the same arithmetic).
pub fn shorter_side_plan(w: u32, h: u32, res: u32, fraction: f32) -> ([u32; 2], [u32; 2]) {
    let short = (res as f32 / fraction) as u32;
    let (rw, rh) = if w <= h {
        (short, (short as u64 * h as u64 / w.max(1) as u64) as u32)
    } else {
        ((short as u64 * w as u64 / h.max(1) as u64) as u32, short)
    };
    let at = |size: u32| {
        let d = size.saturating_sub(res);
        if d % 4 == 1 { d / 2 } else { d.div_ceil(2) }
    };
    ([rw, rh], [at(rw), at(rh)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torchvision_maps_pixels_with_imagenet_statistics() {
        let p = Preprocess::preset("torchvision").unwrap();
        // (255 / 255 - 0.485) / 0.229 = 2.2489...
        assert!((p.value(255, 0) - 2.248_908).abs() < 1e-5);
        let k = Preprocess::preset("keras").unwrap();
        assert_eq!((k.value(0, 0), k.value(255, 2)), (-1.0, 1.0));
        let c = Preprocess::preset("caffe").unwrap();
        assert_eq!(c.order, ChannelOrder::Bgr);
        assert!(Preprocess::preset("nope").is_err());
    }

    #[test]
    fn the_torchvision_plan_is_256_then_the_centre_224() {
        // A 451 x 300 photo: shorter side 300 -> 256, longer 451 * 256 / 300 = 384.85 -> 384.
        assert_eq!(
            shorter_side_plan(451, 300, 224, 0.875),
            ([384, 256], [80, 16])
        );
        assert_eq!(
            shorter_side_plan(300, 451, 224, 0.875),
            ([256, 384], [16, 80])
        );
    }

    #[test]
    fn input_layout_follows_the_channel_axis() {
        let p = Preprocess::preset("unit").unwrap();
        let rgb = [0u8, 51, 255, 255, 0, 0];
        let round = |v: Vec<f32>| {
            v.iter()
                .map(|x| (x * 1e4).round() / 1e4)
                .collect::<Vec<_>>()
        };
        let nchw = round(p.input(&rgb, &[1, 3, 1, 2], InputLayout::Nchw).unwrap());
        assert_eq!(nchw, vec![0.0, 1.0, 0.2, 0.0, 1.0, 0.0]);
        let nhwc = round(p.input(&rgb, &[1, 1, 2, 3], InputLayout::Nhwc).unwrap());
        assert_eq!(nhwc, vec![0.0, 0.2, 1.0, 1.0, 0.0, 0.0]);
    }
}
