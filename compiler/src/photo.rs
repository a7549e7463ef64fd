//! Photos in (feature `photo`): decoding (JPEG, PNG, WebP through the `image` crate, with limits that refuse
//! decompression bombs before allocating), turning upright by the EXIF orientation, conversion
//! to 8-bit RGB (grey, 16-bit and alpha images are converted, not refused), and the resize and
//! centre crop a preprocessing names (`fast_image_resize`, bilinear convolution as PIL's
//! `Image.resize(..., BILINEAR)` computes it).

use crate::error::{Error, Result};
use crate::preprocess::{Preprocess, Resize, shorter_side_plan};
use fast_image_resize as fr;
use std::path::Path;

/// Largest width or height decoded.
pub const MAX_SIDE: u32 = 16384;
/// Largest memory a decoder may allocate.
pub const MAX_ALLOC: u64 = 512 << 20;

fn decode_error(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Decode {
        path: path.display().to_string(),
        reason: format!("not a readable photo (JPEG, PNG or WebP): {reason}"),
    }
}

/// The largest photo file read.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// Decodes `path` into an upright 8-bit RGB image.
pub fn load_rgb(path: &Path) -> Result<image::RgbImage> {
    decode_rgb(&crate::limits::read_limited(path, MAX_FILE_BYTES)?, path)
}

/// [`load_rgb`] on a file's bytes; `path` names it in messages.
pub fn decode_rgb(bytes: &[u8], path: &Path) -> Result<image::RgbImage> {
    use image::ImageDecoder;
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| decode_error(path, e))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| decode_error(path, e))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(|e| decode_error(path, e))?;
    img.apply_orientation(orientation);
    Ok(img.to_rgb8())
}

/// Bilinear resize of an RGB image to `w x h`.
fn resize(rgb: &image::RgbImage, w: u32, h: u32) -> Result<Vec<u8>> {
    let internal = |e: &dyn std::fmt::Display| Error::Internal(format!("resizing: {e}"));
    let src =
        fr::images::ImageRef::new(rgb.width(), rgb.height(), rgb.as_raw(), fr::PixelType::U8x3)
            .map_err(|e| internal(&e))?;
    let mut dst = fr::images::Image::new(w, h, fr::PixelType::U8x3);
    let options =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Bilinear));
    fr::Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| internal(&e))?;
    Ok(dst.into_vec())
}

/// The `res x res` RGB pixels (row-major, 3 bytes each) that `pre` makes of a photo.
pub fn fit(rgb: &image::RgbImage, res: u32, pre: &Preprocess) -> Result<Vec<u8>> {
    match pre.resize {
        Resize::Stretch => resize(rgb, res, res),
        Resize::ShorterSideThenCrop { fraction } => {
            let ([w, h], [x0, y0]) = shorter_side_plan(rgb.width(), rgb.height(), res, fraction);
            let full = resize(rgb, w, h)?;
            let (res, w) = (res as usize, w as usize);
            let mut out = Vec::with_capacity(res * res * 3);
            for y in 0..res {
                let at = ((y0 as usize + y) * w + x0 as usize) * 3;
                out.extend_from_slice(&full[at..at + res * 3]);
            }
            Ok(out)
        }
    }
}

/// `softmax(logits)`.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f64> = logits.iter().map(|&v| ((v - max) as f64).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|&v| (v / sum) as f32).collect()
}
