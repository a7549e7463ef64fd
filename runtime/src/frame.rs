//! Camera frames and decoded photos to a network's input pixels, without allocating: an 8-bit
//! RGB, RGBA or BGRA image with any row stride, or a YUV 4:2:0 camera frame (NV21 or NV12), is
//! resized and cropped into the `H x W x 3` RGB array that a module's `forward_rgb8` takes.
//!
//! The resize is the one torchvision's evaluation transform gets from PIL: a separable
//! convolution with the bilinear (triangle) filter stretched by the downscaling factor, so a
//! large frame is averaged, not sampled. Two fits: the shorter side to a given size then the
//! centre crop ([`Fit::ShorterSide`], torchvision's `Resize(256)` + `CenterCrop(224)`), or the
//! whole frame to `H x W` ([`Fit::Stretch`]). Only the output pixels are computed: a column pass
//! into a ring of rows, then a row pass.
//!
//! Limits: each side at most [`MAX_SIDE`] pixels, and at most [`MAX_SCALE`] times the resized
//! side (a 224 input takes frames up to 5120 pixels on the shorter side with
//! `ShorterSide(256)`, 4480 x 4480 with `Stretch`). Scratch: [`FrameScratch`], about
//! `H * W * 3` bytes plus `4 * 41 * W * 4` bytes (about 300 KB for 224 x 224).
//!
//! YUV: BT.601 full range (JFIF, what Android cameras deliver), chroma taken from the 2 x 2 block
//! a pixel is in; the filters run on Y, U and V, and the colour conversion follows (it is
//! linear, so only out-of-gamut colours, clamped at the end, differ from converting first).

/// The largest width or height of a frame.
pub const MAX_SIDE: usize = 16384;
/// The largest factor between a frame's side and the resized side.
pub const MAX_SCALE: usize = 20;
/// The most source pixels one output pixel reads on an axis.
pub const TAPS: usize = 2 * MAX_SCALE + 1;

/// How the bytes of a frame hold its pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelLayout {
    /// 3 bytes a pixel, R G B.
    Rgb8,
    /// 4 bytes a pixel, R G B A (Android `Bitmap` `ARGB_8888` in memory); alpha is ignored.
    Rgba8,
    /// 4 bytes a pixel, B G R A (iOS `CVPixelBuffer` `kCVPixelFormatType_32BGRA`).
    Bgra8,
    /// YUV 4:2:0: the Y plane (`height` rows of `row_bytes`), then one plane of interleaved V U
    /// pairs (`(height + 1) / 2` rows of `row_bytes`): Android's NV21.
    Nv21,
    /// As [`PixelLayout::Nv21`] with U V pairs.
    Nv12,
}

impl PixelLayout {
    /// Bytes a pixel takes in a row (of the Y plane for YUV).
    pub const fn bytes_per_pixel(self) -> usize {
        match self {
            PixelLayout::Rgb8 => 3,
            PixelLayout::Rgba8 | PixelLayout::Bgra8 => 4,
            PixelLayout::Nv21 | PixelLayout::Nv12 => 1,
        }
    }

    const fn yuv(self) -> bool {
        matches!(self, PixelLayout::Nv21 | PixelLayout::Nv12)
    }
}

/// A frame: its bytes, size, row stride and pixel layout.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    pub bytes: &'a [u8],
    pub width: usize,
    pub height: usize,
    /// Bytes from one row to the next (at least `width * bytes_per_pixel`).
    pub row_bytes: usize,
    pub layout: PixelLayout,
}

/// How the frame is brought to the network's `H x W`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// Resize the shorter side to this many pixels, the other keeping the aspect ratio
    /// (`other * size / shorter`, truncated), then crop the centre `H x W`.
    ShorterSide(usize),
    /// Resize the whole frame to `H x W`.
    Stretch,
}

/// Why a frame was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// A zero width or height, or a side above [`MAX_SIDE`].
    Size,
    /// A row stride shorter than a row.
    RowBytes,
    /// Fewer bytes than the size and stride need.
    TooFewBytes,
    /// A side more than [`MAX_SCALE`] times the resized side.
    TooLarge,
    /// A fit whose resized image is smaller than `H x W`.
    Fit,
}

impl FrameError {
    /// A sentence for people.
    pub const fn message(self) -> &'static str {
        match self {
            FrameError::Size => "the frame's width or height is zero or above MAX_SIDE",
            FrameError::RowBytes => "the row stride is shorter than a row of pixels",
            FrameError::TooFewBytes => "the buffer is shorter than the frame's rows",
            FrameError::TooLarge => "the frame is more than MAX_SCALE times the network's input",
            FrameError::Fit => "the resized frame is smaller than the network's input",
        }
    }
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

/// The size a `w x h` frame is resized to, and the top-left corner of the `out_w x out_h` crop
/// in it (`round((size - out) / 2)`, as torchvision's `CenterCrop`). The same arithmetic as
/// mnetc's `preprocess::shorter_side_plan`.
pub fn plan(w: usize, h: usize, fit: Fit, out_w: usize, out_h: usize) -> ([usize; 2], [usize; 2]) {
    let size = match fit {
        Fit::Stretch => return ([out_w, out_h], [0, 0]),
        Fit::ShorterSide(short) => {
            if w <= h {
                [short, short * h / w.max(1)]
            } else {
                [short * w / h.max(1), short]
            }
        }
    };
    // round(d / 2), halves to even as Python's round does.
    let at = |size: usize, out: usize| {
        let d = size.saturating_sub(out);
        if d % 4 == 1 { d / 2 } else { d.div_ceil(2) }
    };
    (size, [at(size[0], out_w), at(size[1], out_h)])
}

/// Working memory of [`resize`] for an `H x W` output: `N = H * W * 3` pixel bytes, the column
/// filters (`CW = W * TAPS`) and a ring of filtered rows (`RW = TAPS * W * 3`).
pub struct FrameScratch<
    const H: usize,
    const W: usize,
    const N: usize,
    const CW: usize,
    const RW: usize,
> {
    /// The resized and cropped RGB pixels, row-major: `forward_rgb8`'s input.
    pub pixels: [u8; N],
    coef: [f32; CW],
    start: [u32; W],
    taps: [u32; W],
    ring: [f32; RW],
}

impl<const H: usize, const W: usize, const N: usize, const CW: usize, const RW: usize>
    FrameScratch<H, W, N, CW, RW>
{
    pub const fn new() -> Self {
        const { assert!(N == H * W * 3 && CW == W * TAPS && RW == TAPS * W * 3) };
        FrameScratch {
            pixels: [0; N],
            coef: [0.0; CW],
            start: [0; W],
            taps: [0; W],
            ring: [0.0; RW],
        }
    }
}

impl<const H: usize, const W: usize, const N: usize, const CW: usize, const RW: usize> Default
    for FrameScratch<H, W, N, CW, RW>
{
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: arrays of u8, u32 and f32, for which all-zero bytes are valid values.
unsafe impl<const H: usize, const W: usize, const N: usize, const CW: usize, const RW: usize>
    crate::Zeroable for FrameScratch<H, W, N, CW, RW>
{
}

/// The triangle filter's taps for output index `i` of an axis of `input` pixels resized to
/// `size`: the first source pixel, and the weights (summing to 1) written to `w`.
#[inline]
fn filter(i: usize, input: usize, size: usize, w: &mut [f32; TAPS]) -> (usize, usize) {
    let scale = input as f64 / size as f64;
    let stretch = if scale > 1.0 { scale } else { 1.0 };
    let center = (i as f64 + 0.5) * scale;
    // Truncation toward zero, then the clamp at 0, as PIL's resampler.
    let first = ((center - stretch + 0.5) as isize).max(0) as usize;
    let end = ((center + stretch + 0.5) as isize).clamp(0, input as isize) as usize;
    let n = end.saturating_sub(first).min(TAPS);
    let mut sum = 0.0;
    for (k, v) in w[..n].iter_mut().enumerate() {
        let x = ((k + first) as f64 - center + 0.5) / stretch;
        let x = if x < 0.0 { -x } else { x };
        let t = if x < 1.0 { 1.0 - x } else { 0.0 };
        *v = t as f32;
        sum += t;
    }
    if sum > 0.0 {
        for v in &mut w[..n] {
            *v = (*v as f64 / sum) as f32;
        }
    }
    (first, n)
}

/// Checks a frame's size, stride and length against its layout.
pub fn check(frame: &Frame) -> Result<(), FrameError> {
    let (w, h) = (frame.width, frame.height);
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(FrameError::Size);
    }
    let row = w * frame.layout.bytes_per_pixel();
    if frame.row_bytes < row {
        return Err(FrameError::RowBytes);
    }
    let rows = if frame.layout.yuv() {
        // The chroma rows hold `2 * ceil(w / 2)` bytes.
        if frame.row_bytes < w.div_ceil(2) * 2 {
            return Err(FrameError::RowBytes);
        }
        h + h.div_ceil(2)
    } else {
        h
    };
    if frame.bytes.len() < (rows - 1) * frame.row_bytes + row.max(w.div_ceil(2) * 2) {
        return Err(FrameError::TooFewBytes);
    }
    Ok(())
}

/// Resizes and crops `frame` as `fit` says into `scratch.pixels` (`H x W` RGB). Allocates
/// nothing; refuses a frame that [`check`] refuses or that is too large for [`MAX_SCALE`].
pub fn resize<const H: usize, const W: usize, const N: usize, const CW: usize, const RW: usize>(
    frame: &Frame,
    fit: Fit,
    scratch: &mut FrameScratch<H, W, N, CW, RW>,
) -> Result<(), FrameError> {
    const { assert!(N == H * W * 3 && CW == W * TAPS && RW == TAPS * W * 3) };
    check(frame)?;
    let ([rw, rh], [left, top]) = plan(frame.width, frame.height, fit, W, H);
    if rw < W || rh < H {
        return Err(FrameError::Fit);
    }
    if frame.width > MAX_SCALE * rw || frame.height > MAX_SCALE * rh {
        return Err(FrameError::TooLarge);
    }
    let at = [rw, rh, left, top];
    match frame.layout {
        PixelLayout::Rgb8 => run(frame, at, scratch, |r, _, x| {
            let p = &r[x * 3..x * 3 + 3];
            [p[0] as f32, p[1] as f32, p[2] as f32]
        }),
        PixelLayout::Rgba8 => run(frame, at, scratch, |r, _, x| {
            let p = &r[x * 4..x * 4 + 3];
            [p[0] as f32, p[1] as f32, p[2] as f32]
        }),
        PixelLayout::Bgra8 => run(frame, at, scratch, |r, _, x| {
            let p = &r[x * 4..x * 4 + 3];
            [p[2] as f32, p[1] as f32, p[0] as f32]
        }),
        PixelLayout::Nv21 => run(frame, at, scratch, |y, c, x| {
            let c = &c[x / 2 * 2..x / 2 * 2 + 2];
            [y[x] as f32, c[1] as f32, c[0] as f32]
        }),
        PixelLayout::Nv12 => run(frame, at, scratch, |y, c, x| {
            let c = &c[x / 2 * 2..x / 2 * 2 + 2];
            [y[x] as f32, c[0] as f32, c[1] as f32]
        }),
    }
    Ok(())
}

/// The two passes, for one way of reading a pixel: `pixel(row, chroma_row, x)` gives source
/// pixel `x` as three floats (RGB, or YUV, whose conversion follows the row pass; the chroma
/// row is empty for RGB layouts).
#[inline(always)]
fn run<F, const H: usize, const W: usize, const N: usize, const CW: usize, const RW: usize>(
    frame: &Frame,
    [rw, rh, left, top]: [usize; 4],
    s: &mut FrameScratch<H, W, N, CW, RW>,
    pixel: F,
) where
    F: Fn(&[u8], &[u8], usize) -> [f32; 3],
{
    let yuv = frame.layout.yuv();
    let mut w = [0f32; TAPS];
    for x in 0..W {
        let (first, n) = filter(left + x, frame.width, rw, &mut w);
        s.start[x] = first as u32;
        s.taps[x] = n as u32;
        s.coef[x * TAPS..][..n].copy_from_slice(&w[..n]);
    }
    let row_len = frame.width * frame.layout.bytes_per_pixel();
    let chroma = frame.height * frame.row_bytes;
    // Source rows filtered so far; row `r` sits in the ring at `r % TAPS`.
    let mut next = 0usize;
    for y in 0..H {
        let (first, n) = filter(top + y, frame.height, rh, &mut w);
        next = next.max(first);
        while next < first + n {
            let at = next * frame.row_bytes;
            let row = &frame.bytes[at..at + row_len];
            let crow: &[u8] = if yuv {
                let at = chroma + next / 2 * frame.row_bytes;
                &frame.bytes[at..at + frame.width.div_ceil(2) * 2]
            } else {
                &[]
            };
            let slot = &mut s.ring[(next % TAPS) * W * 3..][..W * 3];
            for (x, o) in slot.chunks_exact_mut(3).enumerate() {
                let (start, taps) = (s.start[x] as usize, s.taps[x] as usize);
                let mut acc = [0f32; 3];
                for (k, &c) in s.coef[x * TAPS..][..taps].iter().enumerate() {
                    let p = pixel(row, crow, start + k);
                    for i in 0..3 {
                        acc[i] += c * p[i];
                    }
                }
                o.copy_from_slice(&acc);
            }
            next += 1;
        }
        let out = &mut s.pixels[y * W * 3..][..W * 3];
        for x in 0..W {
            let mut acc = [0f32; 3];
            for (k, &wk) in w[..n].iter().enumerate() {
                let r = &s.ring[((first + k) % TAPS) * W * 3 + x * 3..][..3];
                for c in 0..3 {
                    acc[c] += wk * r[c];
                }
            }
            let rgb = if yuv { yuv_to_rgb(acc) } else { acc };
            for c in 0..3 {
                out[x * 3 + c] = to_u8(rgb[c]);
            }
        }
    }
}

/// BT.601 full range (JFIF).
#[inline(always)]
fn yuv_to_rgb([y, u, v]: [f32; 3]) -> [f32; 3] {
    let (u, v) = (u - 128.0, v - 128.0);
    [
        y + 1.402 * v,
        y - 0.344_136 * u - 0.714_136 * v,
        y + 1.772 * u,
    ]
}

#[inline(always)]
fn to_u8(v: f32) -> u8 {
    if v <= 0.0 {
        0
    } else if v >= 255.0 {
        255
    } else {
        (v + 0.5) as u8
    }
}
