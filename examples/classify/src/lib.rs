//! Photos in, labels out: a photo is decoded and turned upright (`mnetc::photo::load_rgb`), and
//! the generated network's `forward_frame` resizes and crops it as torchvision's evaluation
//! transform does (the runtime's `no_std` resizer, as a camera frame would be), normalises it
//! (folded into the stem conv) and classifies it.

use std::path::Path;

mod net {
    include!(concat!(env!("OUT_DIR"), "/mobilenet_v2.rs"));
}

/// The 1000 ImageNet class names, line i = class i.
const LABELS: &str = include_str!("../../../tests/fixtures/imagenet_classes.txt");

/// One class of a photo.
#[derive(Clone, Debug, PartialEq)]
pub struct Class {
    pub index: usize,
    pub label: &'static str,
    pub probability: f32,
}

/// The `top` most likely ImageNet classes of the photo at `path`.
pub fn classify(path: &Path, top: usize) -> Result<Vec<Class>, mnetc::Error> {
    let rgb = mnetc::photo::load_rgb(path)?;
    let frame = mnetc_runtime::frame::Frame {
        bytes: rgb.as_raw(),
        width: rgb.width() as usize,
        height: rgb.height() as usize,
        row_bytes: rgb.width() as usize * 3,
        layout: mnetc_runtime::frame::PixelLayout::Rgb8,
    };
    let mut scratch = mnetc_runtime::boxed_zeroed::<net::Scratch>();
    let mut frame_scratch = mnetc_runtime::boxed_zeroed::<net::FrameScratch>();
    let mut logits = Box::new([0f32; net::OUTPUT_LEN]);
    net::forward_frame(&frame, &mut logits, &mut scratch, &mut frame_scratch).map_err(|e| {
        mnetc::Error::Decode {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    })?;
    let p = mnetc::photo::softmax(&logits[..]);
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let labels: Vec<&'static str> = LABELS.lines().collect();
    Ok(order
        .into_iter()
        .take(top)
        .map(|i| Class {
            index: i,
            label: labels.get(i).copied().unwrap_or(""),
            probability: p[i],
        })
        .collect())
}
