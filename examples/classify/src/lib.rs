//! Photos in, labels out: a photo is decoded, turned upright, resized and cropped as
//! torchvision's evaluation transform does (`mnetc::photo`), and the generated network's
//! `forward_rgb8` normalises its pixels and classifies them.

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
    let pre = mnetc::preprocess::Preprocess::preset("torchvision")?;
    let rgb = mnetc::photo::load_rgb(path)?;
    let pixels = mnetc::photo::fit(&rgb, net::INPUT_SHAPE[2] as u32, &pre)?;
    let pixels: Box<[u8; net::INPUT_LEN]> = pixels
        .into_boxed_slice()
        .try_into()
        .expect("fit gives the input's size");
    let mut scratch = mnetc_runtime::boxed_zeroed::<net::Scratch>();
    let mut logits = Box::new([0f32; net::OUTPUT_LEN]);
    net::forward_rgb8(&pixels, &mut logits, &mut scratch);
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
