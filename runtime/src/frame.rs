//! Camera frames and decoded photos to a network's input pixels, without allocating: an 8-bit
//! RGB, RGBA or BGRA image with any row stride, or a YUV 4:2:0 camera frame (NV21 or NV12), is
//! resized and cropped into the `H x W x 3` RGB array that a module's `forward_rgb8` takes.
//!
//! The resize is the one torchvision's evaluation transform gets from PIL: a separable
//! convolution with the bilinear (triangle) filter stretched by the downscaling factor, so a
//! large frame is averaged, not sampled. Two fits: the shorter side to a given size then the
//! centre crop ([`Fit::ShorterSide`], torchvision's `Resize(256)` + `CenterCrop(224)`), or the
//! whole frame to `H x W` ([`Fit::Stretch`]). Only the output pixels are computed: for each
//! output row, a vertical pass over the source columns the crop spans, then a horizontal pass.
//!
//! Limits: each side at most [`MAX_SIDE`] pixels, and at most [`MAX_SCALE`] times the resized
//! side (a 224 input takes frames up to 5120 pixels on the shorter side with
//! `ShorterSide(256)`, 4480 x 4480 with `Stretch`). Scratch: [`FrameScratch`], about
//! `H * W * 3 + 4 * W * (TAPS + 2) + 24 * (W * MAX_SCALE + TAPS + 2)` bytes (about 300 KB for
//! 224 x 224).
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

/// Floats of [`FrameScratch`]'s column filters for an output `w` pixels wide.
pub const fn coef_len(w: usize) -> usize {
    w * TAPS
}

/// Floats of [`FrameScratch`]'s row buffer for an output `w` pixels wide: the source columns
/// the output can span (`w * MAX_SCALE + TAPS`, and two for the chroma pair), 6 floats each
/// (a YUV pixel's plane sums and its four-float copy).
pub const fn row_len(w: usize) -> usize {
    6 * (w * MAX_SCALE + TAPS + 2)
}

/// Working memory of [`resize`] for an `H x W` output: `N = H * W * 3` pixel bytes, the column
/// filters (`CW =` [`coef_len`]`(W)`) and one row of vertically filtered source pixels
/// (`RW =` [`row_len`]`(W)`). About 300 KB for 224 x 224; all zeros is a valid value.
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
    row: [f32; RW],
}

impl<const H: usize, const W: usize, const N: usize, const CW: usize, const RW: usize>
    FrameScratch<H, W, N, CW, RW>
{
    const SIZES: () = assert!(N == H * W * 3 && CW == coef_len(W) && RW == row_len(W));

    pub const fn new() -> Self {
        let () = Self::SIZES;
        FrameScratch {
            pixels: [0; N],
            coef: [0.0; CW],
            start: [0; W],
            taps: [0; W],
            row: [0.0; RW],
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
///
/// Each output row is a vertical pass over the source rows it reads (contiguous bytes of the
/// source columns the crop spans, into the row buffer: the loop compilers vectorise), then a
/// horizontal pass over that buffer.
pub fn resize<const H: usize, const W: usize, const N: usize, const CW: usize, const RW: usize>(
    frame: &Frame,
    fit: Fit,
    s: &mut FrameScratch<H, W, N, CW, RW>,
) -> Result<(), FrameError> {
    let () = FrameScratch::<H, W, N, CW, RW>::SIZES;
    check(frame)?;
    let ([rw, rh], [left, top]) = plan(frame.width, frame.height, fit, W, H);
    if rw < W || rh < H {
        return Err(FrameError::Fit);
    }
    if frame.width > MAX_SCALE * rw || frame.height > MAX_SCALE * rh {
        return Err(FrameError::TooLarge);
    }
    let mut w = [0f32; TAPS];
    for x in 0..W {
        let (first, n) = filter(left + x, frame.width, rw, &mut w);
        s.start[x] = first as u32;
        s.taps[x] = n as u32;
        s.coef[x * TAPS..][..n].copy_from_slice(&w[..n]);
    }
    // The source columns the output reads (the windows move right with x).
    let bpp = frame.layout.bytes_per_pixel();
    let yuv = frame.layout.yuv();
    // (YUV: from an even column, so that pixels pair up with their chroma.)
    let lo = match yuv {
        true => s.start[0] as usize / 2 * 2,
        false => s.start[0] as usize,
    };
    let hi = (s.start[W - 1] + s.taps[W - 1]) as usize;
    // YUV: the Y values, then the chroma pairs of the same columns.
    let (len, clen) = if yuv {
        (hi - lo, hi.div_ceil(2) * 2 - lo)
    } else {
        ((hi - lo) * bpp, 0)
    };
    // YUV pixels are laid out again as four floats (Y U V, unused) after the planes' sums; RGB
    // reads one float past its row.
    let span = hi - lo;
    let (quads, need) = if yuv {
        (len + clen, len + clen + 4 * span)
    } else {
        (0, len + 1)
    };
    if need > RW {
        return Err(FrameError::TooLarge);
    }
    let chroma = frame.height * frame.row_bytes;
    // Input channel c of a pixel: byte `order[c]` of it (RGB layouts), or of the chroma pair
    // (YUV: U and V).
    let order = match frame.layout {
        PixelLayout::Bgra8 => [2, 1, 0],
        PixelLayout::Nv21 => [0, 1, 0],
        PixelLayout::Nv12 => [0, 0, 1],
        _ => [0, 1, 2],
    };
    // Where the horizontal pass reads pixels, floats a pixel, and each output channel's lane.
    let (pixels_at, stride, lanes_of) = if yuv {
        (quads, 4, [0, 1, 2])
    } else {
        (0, bpp, order)
    };
    // This output row's filter, and the next one's (computed a row ahead for the prefetch).
    let mut next_w = [0f32; TAPS];
    let mut current = filter(top, frame.height, rh, &mut w);
    for y in 0..H {
        let (first, n) = current;
        // The source rows the next output row adds are asked of memory while this row is
        // computed, a cache line a block (a camera frame arrives cold).
        let next = (y + 1 < H).then(|| filter(top + y + 1, frame.height, rh, &mut next_w));
        let fresh = match next {
            Some((next, m)) => (first + n).max(next)..next + m,
            None => 0..0,
        };
        let (row, rest) = s.row.split_at_mut(len);
        let mut at = [0usize; TAPS];
        let mut ahead = [0usize; TAPS];
        let rows =
            |at: &mut [usize; TAPS], ahead: &mut [usize; TAPS], place: &dyn Fn(usize) -> usize| {
                for (k, a) in at[..n].iter_mut().enumerate() {
                    *a = place(first + k);
                }
                for (a, r) in ahead.iter_mut().zip(fresh.clone()) {
                    *a = place(r);
                }
            };
        let fresh_rows = fresh.len().min(TAPS);
        rows(&mut at, &mut ahead, &|r| r * frame.row_bytes + lo * bpp);
        vertical(row, frame.bytes, &at[..n], &w[..n], &ahead[..fresh_rows]);
        if yuv {
            rows(&mut at, &mut ahead, &|r| {
                chroma + r / 2 * frame.row_bytes + lo
            });
            vertical(
                &mut rest[..clen],
                frame.bytes,
                &at[..n],
                &w[..n],
                &ahead[..fresh_rows],
            );
        }
        if yuv {
            let (sums, quads) = s.row.split_at_mut(len + clen);
            let (ys, cs) = sums.split_at(len);
            // Two pixels a chroma pair (`lo` is even).
            let (u, v) = (order[1], order[2]);
            let quads = &mut quads[..4 * span];
            for ((q, y), c) in quads
                .chunks_mut(8)
                .zip(ys.chunks(2))
                .zip(cs.chunks_exact(2))
            {
                q[..4].copy_from_slice(&[y[0], c[u], c[v], 0.0]);
                if let (Some(q), Some(&y)) = (q.get_mut(4..8), y.get(1)) {
                    q.copy_from_slice(&[y, c[u], c[v], 0.0]);
                }
            }
        }
        let px4 = &s.row[pixels_at..];
        let out = &mut s.pixels[y * W * 3..][..W * 3];
        let h = Horizontal {
            start: &s.start,
            taps: &s.taps,
            coef: &s.coef,
            lo,
            lanes_of,
            yuv,
        };
        match stride {
            3 => h.run::<3>(px4, out),
            _ => h.run::<4>(px4, out),
        }
        if let Some(next) = next {
            current = next;
            core::mem::swap(&mut w, &mut next_w);
        }
    }
    Ok(())
}

/// Asks the memory system for `bytes` ahead of their use (x86-64; elsewhere nothing).
#[inline(always)]
fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes.chunks(64) {
        // SAFETY: SSE is part of x86-64; a prefetch is a hint that reads nothing the program
        // sees and cannot fault, and the address is inside `bytes` besides.
        unsafe {
            core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                line.as_ptr() as *const i8
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// The horizontal pass of one output row.
struct Horizontal<'a> {
    start: &'a [u32],
    taps: &'a [u32],
    coef: &'a [f32],
    /// The first source column the vertical pass summed.
    lo: usize,
    /// The lane of each output channel.
    lanes_of: [usize; 3],
    yuv: bool,
}

impl Horizontal<'_> {
    /// `S` floats a source pixel in `px` (3 or 4), read as four lanes (RGB's fourth is the next
    /// pixel's first, unused): one vector multiply-add a tap.
    #[inline(always)]
    fn run<const S: usize>(&self, px: &[f32], out: &mut [u8]) {
        for (x, o) in out.chunks_exact_mut(3).enumerate() {
            let (start, taps) = (self.start[x] as usize - self.lo, self.taps[x] as usize);
            let coef = &self.coef[x * TAPS..][..taps];
            let window = &px[start * S..(start + taps) * S + (4 - S)];
            let mut lanes = [0f32; 4];
            for (k, &c) in coef.iter().enumerate() {
                let p: &[f32; 4] = window[k * S..k * S + 4].try_into().expect("four floats");
                for i in 0..4 {
                    lanes[i] += c * p[i];
                }
            }
            let acc = self.lanes_of.map(|i| lanes[i]);
            let acc = if self.yuv { yuv_to_rgb(acc) } else { acc };
            for (o, v) in o.iter_mut().zip(acc) {
                // Rounded; `as` saturates below 0 and above 255.
                *o = (v + 0.5) as u8;
            }
        }
    }
}

/// `out[j] = sum over k of w[k] * bytes[at[k] + j]`: the vertical pass, with the weights in
/// 2.14 fixed point and integer sums (exact; a weight is off by at most 2^-15), in blocks of
/// [`BLOCK`] columns whose sums stay in registers across the taps. Compilers vectorise the
/// block: on x86 a tap is a widening load and a 16-bit multiply-add (`pmaddwd`) per 8 columns.
#[inline(always)]
fn vertical(out: &mut [f32], bytes: &[u8], at: &[usize], w: &[f32], ahead: &[usize]) {
    let mut q = [0i16; TAPS];
    for (q, &w) in q.iter_mut().zip(w) {
        *q = (w * ONE + 0.5) as i16;
    }
    let q = &q[..w.len()];
    let len = out.len();
    let mut j = 0;
    loop {
        // The last block ends at the row's end, overlapping the one before (the same sums
        // again), so only rows shorter than a block take the scalar loop below.
        if j + BLOCK > len {
            if j == len || len < BLOCK {
                break;
            }
            j = len - BLOCK;
        }
        // The same columns of the rows the next output row adds (a hint; it cannot fault).
        for &a in ahead {
            prefetch(&bytes[a + j..a + j + 1]);
        }
        let mut acc = [0i32; BLOCK];
        for (&a, &wk) in at.iter().zip(q) {
            let src: &[u8; BLOCK] = bytes[a + j..a + j + BLOCK]
                .try_into()
                .expect("a block of BLOCK bytes");
            for i in 0..BLOCK {
                acc[i] += src[i] as i32 * wk as i32;
            }
        }
        for (o, a) in out[j..j + BLOCK].iter_mut().zip(acc) {
            *o = a as f32 * (1.0 / ONE);
        }
        j += BLOCK;
    }
    let j = if len < BLOCK { 0 } else { len };
    for (i, o) in out[j..].iter_mut().enumerate() {
        let sum: i32 = at
            .iter()
            .zip(q)
            .map(|(&a, &wk)| bytes[a + j + i] as i32 * wk as i32)
            .sum();
        *o = sum as f32 * (1.0 / ONE);
    }
}

/// Columns of a block of [`vertical`]: four AVX registers of sums.
const BLOCK: usize = 64;

/// 1.0 in [`vertical`]'s fixed point.
const ONE: f32 = 16384.0;

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
