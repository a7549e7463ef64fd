//! Portable scalar kernels: the `generic` target, and the reference every SIMD kernel is
//! tested against. Activations are NHWC (`[H][W][C]`, batch 1); each kernel documents the
//! packing of its weights. The conv and GEMM kernels end in the fused epilogue [`act`]:
//! hard-swish if their `HS`, then `y = min(max(acc, min), max)` (linear, ReLU, ReLU6).

use crate::BinaryOp;

#[inline(always)]
pub(crate) fn clamp(v: f32, min: f32, max: f32) -> f32 {
    v.max(min).min(max)
}

/// `x * max(0, min(1, x / 6 + 1 / 2))`: hard-swish, as [`f32_hard_swish`] computes it.
#[inline(always)]
pub(crate) fn hard_swish(v: f32) -> f32 {
    v * clamp(v * (1.0 / 6.0) + 0.5, 0.0, 1.0)
}

/// The conv and GEMM kernels' epilogue: hard-swish if `HS`, then the clamp to `[min, max]`.
#[inline(always)]
pub fn act<const HS: bool>(v: f32, min: f32, max: f32) -> f32 {
    clamp(if HS { hard_swish(v) } else { v }, min, max)
}

/// The kernel taps `k` in `0..KS` that land inside `0..size` for output position `o`:
/// input index `o * stride + k - pad`.
#[inline(always)]
pub(crate) fn taps(o: usize, stride: usize, pad: usize, size: usize, ks: usize) -> (usize, usize) {
    let start = o * stride;
    let first = pad.saturating_sub(start);
    let last = (size + pad).saturating_sub(start).min(ks);
    (first, last.max(first))
}

/// The output columns `first..last` whose whole window (`ks` taps, stride `stride`, left
/// padding `pad`) lies inside an input row of `size`: the SIMD kernels compute them in blocks
/// without clipping, and the columns outside one at a time.
#[inline(always)]
#[allow(dead_code)] // used by the SIMD modules a build compiles, if any
pub(crate) fn interior(
    pad: usize,
    stride: usize,
    size: usize,
    ks: usize,
    out: usize,
) -> (usize, usize) {
    let first = pad.div_ceil(stride).min(out);
    let last = if size + pad >= ks {
        ((size + pad - ks) / stride + 1).min(out)
    } else {
        0
    };
    (first, last.max(first))
}

/// The shape of a depthwise conv that the SIMD kernels' row loops need: input width and
/// channels, strides, top and left padding, input height, output width, the columns whose
/// window lies inside the input (`first..last`), the input's zero point.
#[allow(dead_code)] // used by the SIMD modules a build compiles, if any
pub(crate) struct DwGeometry {
    pub w: usize,
    pub c: usize,
    pub sh: usize,
    pub sw: usize,
    pub pt: usize,
    pub pl: usize,
    pub h: usize,
    pub ow: usize,
    pub first: usize,
    pub last: usize,
    pub xz: i32,
}

/// Four kernel rows of one channel block at one output row, as the dot-product depthwise
/// convs read them: each row's first byte and column step (`pad`, the zero point's bytes, and
/// 0 for a row outside the image), and whether it is a kernel row at all (the rest have zero
/// weights and read nothing).
#[allow(dead_code)] // used by the SIMD modules a build compiles, if any
pub(crate) struct TapRows {
    pub p: [*const u8; 4],
    pub step: [usize; 4],
    pub live: [bool; 4],
}

#[allow(dead_code)] // used by the SIMD modules a build compiles, if any
impl DwGeometry {
    /// Kernel rows `4g..4g + 4` (of `kh`) of output row `oy` for the channel block at `c0` of
    /// the input `x`.
    #[inline(always)]
    pub(crate) fn rows(
        &self,
        x: *const u8,
        pad: *const u8,
        kh: usize,
        oy: usize,
        g: usize,
        c0: usize,
    ) -> TapRows {
        let mut r = TapRows {
            p: [pad; 4],
            step: [0; 4],
            live: [false; 4],
        };
        for j in 0..4 {
            let ky = 4 * g + j;
            r.live[j] = ky < kh;
            let iy = (oy * self.sh + ky).wrapping_sub(self.pt);
            if ky < kh && iy < self.h {
                // Only an offset inside the input (row iy < H) is formed here.
                r.p[j] = x.wrapping_add(iy * self.w * self.c + c0);
                r.step[j] = self.c;
            }
        }
        r
    }
}

/// The shape of a dense conv (a stem) that the SIMD kernels' pixel loops need: input height,
/// width and channels, kernel height and width, strides, top and left padding, input strides
/// of channel, row and column, input length.
#[allow(dead_code)] // used by the SIMD modules a build compiles, if any
#[derive(Clone, Copy)]
pub(crate) struct ConvShape {
    pub h: usize,
    pub w: usize,
    pub ci: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub pt: usize,
    pub pl: usize,
    pub xsc: usize,
    pub xsy: usize,
    pub xsx: usize,
    pub xn: usize,
}

#[allow(dead_code)] // used by the SIMD modules a build compiles, if any
impl ConvShape {
    /// The input row kernel row `ky` of output row `oy` reads, if inside the image.
    #[inline(always)]
    pub(crate) fn row(&self, oy: usize, ky: usize) -> Option<usize> {
        let iy = (oy * self.sh + ky).wrapping_sub(self.pt);
        (iy < self.h).then_some(iy)
    }

    /// Whether reading `width` bytes from the first window column of interior pixel
    /// `(oy, ox)`, in every input channel and kernel row inside the image, stays inside the
    /// input (an input whose columns are adjacent bytes).
    #[inline(always)]
    pub(crate) fn fits(&self, oy: usize, ox: usize, width: usize) -> bool {
        // The farthest row read: the last kernel row inside the image.
        let iy = (oy * self.sh + self.kh - 1)
            .saturating_sub(self.pt)
            .min(self.h - 1);
        (self.ci - 1) * self.xsc + iy * self.xsy + ox * self.sw - self.pl + width <= self.xn
    }
}

/// Walks `count` output pixels of a row of a 3-wide window with stride `SW` of 1 or 2, the
/// first reading input column `ix`: `column(ix)` prepares each input column once (the
/// dot-product depthwise convs transpose it), and `pixel(o, [a, b, c])` gets the three columns
/// of output pixel `o`'s window. Three names take turns holding the columns (stride 1), or the
/// last column is the next window's first (stride 2), so nothing is copied between pixels.
#[inline(always)]
#[allow(dead_code)] // used by the SIMD modules a build compiles, if any
pub(crate) fn window3_columns<T, const SW: usize>(
    count: usize,
    ix: usize,
    mut column: impl FnMut(usize) -> T,
    mut pixel: impl FnMut(usize, [&T; 3]),
) {
    let (mut o, mut ix) = (0, ix);
    if SW == 1 {
        let (mut a, mut b) = (column(ix), column(ix + 1));
        while o + 3 <= count {
            let c = column(ix + 2);
            pixel(o, [&a, &b, &c]);
            a = column(ix + 3);
            pixel(o + 1, [&b, &c, &a]);
            b = column(ix + 4);
            pixel(o + 2, [&c, &a, &b]);
            (o, ix) = (o + 3, ix + 3);
        }
        while o < count {
            let c = column(ix + 2);
            pixel(o, [&a, &b, &c]);
            (a, b) = (b, c);
            (o, ix) = (o + 1, ix + 1);
        }
    } else {
        let mut a = column(ix);
        while o + 2 <= count {
            let (b, c) = (column(ix + 1), column(ix + 2));
            pixel(o, [&a, &b, &c]);
            let d = column(ix + 3);
            a = column(ix + 4);
            pixel(o + 1, [&c, &d, &a]);
            (o, ix) = (o + 2, ix + 4);
        }
        if o < count {
            let (b, c) = (column(ix + 1), column(ix + 2));
            pixel(o, [&a, &b, &c]);
        }
    }
}

/// Visits a task's part of a panel-packed GEMM (`rows`, starting at a multiple of `mr`, times
/// `panels` of `nr` columns) in the order the SIMD targets share: blocks of `nb` panels,
/// within a block every tile of up to `mr` rows, within that every panel; calls
/// `f(m0, count, panel, cols)` with the tile's first row, its row count, the panel and its
/// columns inside `n`. The tiles are the same whatever the task's part, so every output is
/// summed the same way.
#[inline(always)]
#[allow(dead_code)] // used by the SIMD modules a build compiles, if any
pub(crate) fn gemm_tiles(
    n: usize,
    nb: usize,
    [mr, nr]: [usize; 2],
    rows: core::ops::Range<usize>,
    panels: core::ops::Range<usize>,
    mut f: impl FnMut(usize, usize, usize, usize),
) {
    let mut p0 = panels.start;
    while p0 < panels.end {
        let p1 = (p0 + nb).min(panels.end);
        let mut m0 = rows.start;
        while m0 < rows.end {
            let count = (rows.end - m0).min(mr);
            for p in p0..p1 {
                f(m0, count, p, (n - p * nr).min(nr));
            }
            m0 += count;
        }
        p0 = p1;
    }
}

/// The starting sums of a dense conv's output pixel when its padding is a value (`PV`): the
/// bias plus, in tap order, the contribution `d[tap]` of every tap outside `ky0..ky1` x
/// `kx0..kx1` (the window clipped to the input), `d` being the `[KH][KW][COP]` block after the
/// weights. Every target's conv starts a border pixel from these sums (the same f32 additions)
/// and adds the taps inside the input as it does with zero padding.
#[inline(always)]
pub(crate) fn pad_init<const KH: usize, const KW: usize, const COP: usize>(
    b: &[f32; COP],
    d: &[f32],
    [ky0, ky1]: [usize; 2],
    [kx0, kx1]: [usize; 2],
) -> [f32; COP] {
    let mut init = *b;
    for ky in 0..KH {
        for kx in 0..KW {
            if ky < ky0 || ky >= ky1 || kx < kx0 || kx >= kx1 {
                for (a, &v) in init.iter_mut().zip(&d[(ky * KW + kx) * COP..][..COP]) {
                    *a += v;
                }
            }
        }
    }
    init
}

conv_kernel! {
    cop = 1;
    /// Dense 2-D convolution writing NHWC. The input may be in any layout: `XSC`, `XSY`, `XSX` are
    /// the strides of its channel, row and column (NHWC: `1, W * CI, CI`; NCHW: `H * W, W, 1`), so
    /// the first conv reads the caller's NCHW input directly. Weights packed `[KH][KW][CI][COP]`,
    /// bias `[COP]`, the output channels zero-padded to `COP >= CO` (SIMD targets pad to whole
    /// vectors). Padding `PT` (top) and `PL` (left); bottom and right follow from `OH`, `OW`.
    pub fn f32_conv_minmax(x, w, b, y, min, max, rows) {
        for oy in rows {
            let (ky0, ky1) = taps(oy, SH, PT, H, KH);
            for ox in 0..OW {
                let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                // SAFETY: row `oy` is this task's.
                let acc = unsafe { y.part((oy * OW + ox) * CO, CO) };
                if PV {
                    let d = &w[KH * KW * CI * COP..];
                    acc.copy_from_slice(&pad_init::<KH, KW, COP>(b, d, [ky0, ky1], [kx0, kx1])[..CO]);
                } else {
                    acc.copy_from_slice(&b[..CO]);
                }
                for ky in ky0..ky1 {
                    let iy = oy * SH + ky - PT;
                    for kx in kx0..kx1 {
                        let ix = ox * SW + kx - PL;
                        let wp = &w[(ky * KW + kx) * CI * COP..][..CI * COP];
                        for ci in 0..CI {
                            let xv = x[iy * XSY + ix * XSX + ci * XSC];
                            let wr = &wp[ci * COP..][..CO];
                            for (a, &wv) in acc.iter_mut().zip(wr) {
                                *a += xv * wv;
                            }
                        }
                    }
                }
                acc.iter_mut().for_each(|a| *a = act::<HS>(*a, min, max));
            }
        }
    }
}

dwconv_kernel! {
    /// Depthwise 2-D convolution (one filter per channel), NHWC. Weights packed `[KH][KW][C]`,
    /// bias `[C]`.
    pub fn f32_dwconv_nhwc_minmax(x, w, b, y, min, max, rows) {
        for oy in rows {
            let (ky0, ky1) = taps(oy, SH, PT, H, KH);
            for ox in 0..OW {
                let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                // SAFETY: row `oy` is this task's.
                let acc = unsafe { y.part((oy * OW + ox) * C, C) };
                acc.copy_from_slice(b);
                for ky in ky0..ky1 {
                    let iy = oy * SH + ky - PT;
                    for kx in kx0..kx1 {
                        let ix = ox * SW + kx - PL;
                        let xp = &x[(iy * W + ix) * C..][..C];
                        let wp = &w[(ky * KW + kx) * C..][..C];
                        for ((a, &xv), &wv) in acc.iter_mut().zip(xp).zip(wp) {
                            *a += xv * wv;
                        }
                    }
                }
                acc.iter_mut().for_each(|a| *a = act::<HS>(*a, min, max));
            }
        }
    }
}

gemm_kernel! {
    nr = 1, mr = 1;
    /// `y[m][n] = minmax(b[n] + sum_k x[m][k] * w[k][n])`: a pointwise (1x1) conv over M pixels,
    /// or a fully connected layer with M = 1. Weights packed `[K][N]`. `NP` (padded columns) and
    /// `NB` (panels per block) belong to the SIMD targets' signature; scalar weights have no panels,
    /// so `NP == N`, `NB` is unused and a task's `panels` are its columns.
    pub fn f32_gemm_minmax(x, w, b, y, min, max, rows, panels) {
        let cols = panels.len();
        for m in rows {
            // SAFETY: row `m`'s columns `panels` are this task's.
            let acc = unsafe { y.part(m * N + panels.start, cols) };
            acc.copy_from_slice(&b[panels.clone()]);
            for (k, &xv) in x[m * K..][..K].iter().enumerate() {
                for (a, &wv) in acc.iter_mut().zip(&w[k * N + panels.start..][..cols]) {
                    *a += xv * wv;
                }
            }
            acc.iter_mut().for_each(|a| *a = act::<HS>(*a, min, max));
        }
    }
}

gavgpool_kernel! {
    /// Global average pooling: `y[c] = mean over the HW pixels of x[p][c]`.
    pub fn f32_gavgpool(x, y) {
        y.fill(0.0);
        for p in 0..HW {
            for (a, &v) in y.iter_mut().zip(&x[p * C..][..C]) {
                *a += v;
            }
        }
        let scale = 1.0 / HW as f32;
        y.iter_mut().for_each(|a| *a *= scale);
    }
}

/// Average (`MAX == false`) or max (`MAX == true`) pooling with a fixed window, NHWC.
/// For averages, `COUNT_PAD` divides by the window's part inside input + padding
/// (`count_include_pad`), otherwise by its part inside the input. `PB`, `PR` are the bottom and
/// right padding.
#[allow(clippy::too_many_arguments)]
pub fn f32_pool_nhwc<
    const H: usize,
    const W: usize,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PT: usize,
    const PL: usize,
    const PB: usize,
    const PR: usize,
    const OH: usize,
    const OW: usize,
    const MAX: bool,
    const COUNT_PAD: bool,
    const XN: usize,
    const YN: usize,
>(
    x: &[f32; XN],
    y: &mut [f32; YN],
) {
    const { assert!(XN == H * W * C && YN == OH * OW * C) };
    for oy in 0..OH {
        let (ky0, ky1) = taps(oy, SH, PT, H, KH);
        let (py0, py1) = taps(oy, SH, 0, H + PT + PB, KH);
        for ox in 0..OW {
            let (kx0, kx1) = taps(ox, SW, PL, W, KW);
            let (px0, px1) = taps(ox, SW, 0, W + PL + PR, KW);
            let acc = &mut y[(oy * OW + ox) * C..][..C];
            acc.fill(if MAX { f32::NEG_INFINITY } else { 0.0 });
            for ky in ky0..ky1 {
                let iy = oy * SH + ky - PT;
                for kx in kx0..kx1 {
                    let ix = ox * SW + kx - PL;
                    for (a, &v) in acc.iter_mut().zip(&x[(iy * W + ix) * C..][..C]) {
                        *a = if MAX { a.max(v) } else { *a + v };
                    }
                }
            }
            if !MAX {
                let count = if COUNT_PAD {
                    (py1 - py0) * (px1 - px0)
                } else {
                    (ky1 - ky0) * (kx1 - kx0)
                };
                let scale = 1.0 / count.max(1) as f32;
                acc.iter_mut().for_each(|a| *a *= scale);
            }
        }
    }
}

/// Softmax over the middle axis of `[OUTER][N][INNER]`.
pub fn f32_softmax<const OUTER: usize, const N: usize, const INNER: usize, const LEN: usize>(
    x: &[f32; LEN],
    y: &mut [f32; LEN],
) {
    const { assert!(LEN == OUTER * N * INNER) };
    for o in 0..OUTER {
        for i in 0..INNER {
            let at = |j: usize| (o * N + j) * INNER + i;
            let mut m = f32::NEG_INFINITY;
            for j in 0..N {
                m = m.max(x[at(j)]);
            }
            let mut sum = 0.0;
            for j in 0..N {
                let e = libm_exp(x[at(j)] - m);
                y[at(j)] = e;
                sum += e;
            }
            let inv = 1.0 / sum;
            for j in 0..N {
                y[at(j)] *= inv;
            }
        }
    }
}

/// `exp` without `std`: range reduction to `2^k * exp(r)`, `|r| <= ln(2) / 2`, and a degree-7
/// Taylor polynomial (relative error below 1e-7 over the reduced range).
fn libm_exp(x: f32) -> f32 {
    if x < -103.0 {
        return 0.0;
    }
    if x > 88.7 {
        return f32::INFINITY;
    }
    let k = (x * core::f32::consts::LOG2_E + if x < 0.0 { -0.5 } else { 0.5 }) as i32;
    // ln 2 split in two (Cody and Waite) so that k * LN2_HI is exact.
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let r = (x - k as f32 * LN2_HI) - k as f32 * LN2_LO;
    let mut p = 1.0 / 5040.0;
    for c in [
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    // 2^k for k in -150..=128, built in two steps so that subnormal results work.
    let half = k / 2;
    p * pow2(half) * pow2(k - half)
}

fn pow2(k: i32) -> f32 {
    f32::from_bits(((k + 127).clamp(1, 254) as u32) << 23)
}

/// `y = minmax(x)` elementwise.
pub fn f32_clamp<const N: usize>(x: &[f32; N], y: &mut [f32; N], min: f32, max: f32) {
    for (d, &v) in y.iter_mut().zip(x) {
        *d = clamp(v, min, max);
    }
}

/// `y = max(0, min(1, alpha * x + beta))` elementwise (ONNX HardSigmoid).
pub fn f32_hard_sigmoid<const N: usize>(x: &[f32; N], y: &mut [f32; N], alpha: f32, beta: f32) {
    for (d, &v) in y.iter_mut().zip(x) {
        *d = clamp(alpha * v + beta, 0.0, 1.0);
    }
}

/// `y = x * max(0, min(1, x / 6 + 1 / 2))` elementwise (ONNX HardSwish: x times its
/// HardSigmoid with alpha 1/6, beta 1/2).
pub fn f32_hard_swish<const N: usize>(x: &[f32; N], y: &mut [f32; N]) {
    for (d, &v) in y.iter_mut().zip(x) {
        *d = hard_swish(v);
    }
}

/// A GEMM's packed weights for an input whose channels are scaled: `y = w` with row `k` of
/// every `[K][R]` block multiplied by `s[k]`. The packings of `Gemm` (`[N/NR][K][NR]`, or
/// `[K][N]` on targets without panels: `R` is `NR` or `N`) have that shape, so the GEMM then
/// computes `sum_k (x[m][k] * s[k]) * w[k][n]` with `y` as its weights: a squeeze-and-excite
/// gate applied to the following pointwise conv's weights instead of to the feature map.
pub fn f32_scale_rows<const K: usize, const R: usize, const WN: usize>(
    w: &[f32; WN],
    s: &[f32; K],
    y: &mut [f32; WN],
) {
    const { assert!(K > 0 && R > 0 && WN.is_multiple_of(K * R)) };
    for (yb, wb) in y.chunks_exact_mut(K * R).zip(w.chunks_exact(K * R)) {
        for ((yr, wr), &sk) in yb.chunks_exact_mut(R).zip(wb.chunks_exact(R)).zip(s) {
            for (d, &v) in yr.iter_mut().zip(wr) {
                *d = v * sk;
            }
        }
    }
}

/// `y[i] = mean(x[i * N .. (i + 1) * N])`.
pub fn f32_mean_rows<const G: usize, const N: usize, const XN: usize>(
    x: &[f32; XN],
    y: &mut [f32; G],
) {
    const { assert!(XN == G * N) };
    let scale = 1.0 / N as f32;
    for (g, d) in y.iter_mut().enumerate() {
        *d = x[g * N..][..N].iter().sum::<f32>() * scale;
    }
}

/// 8-bit pixels to a network's input: `P` pixels of 3 bytes (a photo already resized and
/// cropped), input channel `c` from byte `order[c]` of each pixel, mapped to
/// `(v * scale - mean[c]) / std[c]` (the same f32 operations as mnetc's `Preprocess::value`),
/// written NCHW, or NHWC when `NHWC`.
pub fn u8_pixels_to_f32<const P: usize, const N: usize, const NHWC: bool>(
    pixels: &[u8; N],
    y: &mut [f32; N],
    order: [usize; 3],
    scale: f32,
    mean: [f32; 3],
    std: [f32; 3],
) {
    const { assert!(N == P * 3) };
    for p in 0..P {
        for c in 0..3 {
            let v = (pixels[p * 3 + order[c]] as f32 * scale - mean[c]) / std[c];
            y[if NHWC { p * 3 + c } else { c * P + p }] = v;
        }
    }
}

/// 8-bit pixels straight to a quantized network's uint8 input: the bits of
/// [`u8_pixels_to_f32`] followed by [`f32_quantize`] by `qscale` and `q`, without the float
/// stage. The map of each channel's 256 possible bytes is computed first (the same f32
/// operations), then each pixel is one table lookup, written NCHW, or NHWC when `NHWC`.
#[allow(clippy::too_many_arguments)]
pub fn u8_pixels_quantize<const P: usize, const N: usize, const NHWC: bool>(
    pixels: &[u8; N],
    y: &mut [u8; N],
    order: [usize; 3],
    scale: f32,
    mean: [f32; 3],
    std: [f32; 3],
    qscale: f32,
    q: Requant,
) {
    const { assert!(N == P * 3) };
    let table: [[u8; 256]; 3] = core::array::from_fn(|c| {
        core::array::from_fn(|v| requantize_f32((v as f32 * scale - mean[c]) / std[c] / qscale, q))
    });
    for p in 0..P {
        for (c, t) in table.iter().enumerate() {
            y[if NHWC { p * 3 + c } else { c * P + p }] = t[pixels[p * 3 + order[c]] as usize];
        }
    }
}

/// 8-bit pixels (`H` x `W` pixels of 3 bytes, row-major) as they are, in floats, for a stem
/// conv that carries the preprocessing in its weights: written NHWC into a padded buffer of
/// `ROWS` x `COLS` with the photo's top-left pixel at (`TOP`, `LEFT`), input channel `c` from
/// byte `order[c]`; every position outside the photo holds `border[c]` (the 8-bit value that
/// the preprocessing maps to zero).
#[allow(clippy::too_many_arguments)]
pub fn u8_pixels_to_padded_f32<
    const H: usize,
    const W: usize,
    const ROWS: usize,
    const COLS: usize,
    const TOP: usize,
    const LEFT: usize,
    const N: usize,
    const YN: usize,
>(
    pixels: &[u8; N],
    y: &mut [f32; YN],
    order: [usize; 3],
    border: [f32; 3],
) {
    const { assert!(N == H * W * 3 && YN == ROWS * COLS * 3 && TOP < ROWS && LEFT < COLS) };
    for (r, row) in y.chunks_exact_mut(COLS * 3).enumerate() {
        let photo_row = r.checked_sub(TOP).filter(|&i| i < H);
        for (col, px) in row.chunks_exact_mut(3).enumerate() {
            match (photo_row, col.checked_sub(LEFT).filter(|&j| j < W)) {
                (Some(i), Some(j)) => {
                    let p = &pixels[(i * W + j) * 3..][..3];
                    for c in 0..3 {
                        px[c] = p[order[c]] as f32;
                    }
                }
                _ => px.copy_from_slice(&border),
            }
        }
    }
}

/// Fills `y` with `v`.
pub fn f32_fill<const N: usize>(y: &mut [f32; N], v: f32) {
    y.fill(v);
}

/// Visits the coordinates of `shape` in row-major order, tracking one linear index per
/// operand with its own strides (0 for broadcast axes).
#[inline(always)]
fn for_each_index<const R: usize, const K: usize>(
    shape: [usize; R],
    strides: [[usize; R]; K],
    start: [usize; K],
    mut f: impl FnMut([usize; K]),
) {
    let total: usize = shape.iter().product();
    let mut coord = [0usize; R];
    let mut idx = start;
    for _ in 0..total {
        f(idx);
        let mut a = R;
        while a > 0 {
            a -= 1;
            coord[a] += 1;
            for k in 0..K {
                idx[k] += strides[k][a];
            }
            if coord[a] < shape[a] {
                break;
            }
            coord[a] = 0;
            for k in 0..K {
                idx[k] -= strides[k][a] * shape[a];
            }
        }
    }
}

/// Elementwise `y = a (op) b` with broadcasting and any layouts: `shape` is the output's shape
/// in its memory order, `a_strides` and `b_strides` the operands' strides along those axes
/// (0 where an operand is broadcast).
/// Rows along the last axes go through one loop per operation and stride pattern (both
/// operands contiguous, or one a broadcast scalar), which the compiler vectorises: a
/// squeeze-and-excite's channel scale, a residual add and an input's rescaling are such rows.
pub fn f32_binary<const R: usize, const AN: usize, const BN: usize, const YN: usize>(
    op: BinaryOp,
    a: &[f32; AN],
    a_strides: [usize; R],
    b: &[f32; BN],
    b_strides: [usize; R],
    y: &mut [f32; YN],
    shape: [usize; R],
) {
    match op {
        BinaryOp::Add => binary_rows(a, a_strides, b, b_strides, y, shape, |p, q| p + q),
        BinaryOp::Sub => binary_rows(a, a_strides, b, b_strides, y, shape, |p, q| p - q),
        BinaryOp::Mul => binary_rows(a, a_strides, b, b_strides, y, shape, |p, q| p * q),
        BinaryOp::Div => binary_rows(a, a_strides, b, b_strides, y, shape, |p, q| p / q),
        BinaryOp::Min => binary_rows(a, a_strides, b, b_strides, y, shape, f32::min),
        BinaryOp::Max => binary_rows(a, a_strides, b, b_strides, y, shape, f32::max),
    }
}

/// [`f32_binary`] of one operation `f` (`BinaryOp::apply`'s), row by row.
#[inline(always)]
fn binary_rows<const R: usize>(
    a: &[f32],
    a_strides: [usize; R],
    b: &[f32],
    b_strides: [usize; R],
    y: &mut [f32],
    shape: [usize; R],
    f: impl Fn(f32, f32) -> f32,
) {
    if R == 0 {
        y[0] = f(a[0], b[0]);
        return;
    }
    let (sa, sb) = (a_strides[R - 1], b_strides[R - 1]);
    // The row takes in every outer axis along which both operands keep their step (a
    // scalar's stride 0 included): a 3-channel NHWC input's rescaling is one row, not one
    // per pixel.
    let (mut n, mut k) = (shape[R - 1], R - 1);
    while k > 0 && a_strides[k - 1] == sa * n && b_strides[k - 1] == sb * n {
        k -= 1;
        n *= shape[k];
    }
    let mut rows = shape;
    for r in &mut rows[k..] {
        *r = 1;
    }
    let mut out = 0;
    for_each_index(rows, [a_strides, b_strides], [0, 0], |[i, j]| {
        let row = &mut y[out..out + n];
        match (sa, sb) {
            (1, 1) => {
                for ((d, &p), &q) in row.iter_mut().zip(&a[i..i + n]).zip(&b[j..j + n]) {
                    *d = f(p, q);
                }
            }
            (1, 0) => {
                let q = b[j];
                for (d, &p) in row.iter_mut().zip(&a[i..i + n]) {
                    *d = f(p, q);
                }
            }
            (0, 1) => {
                let p = a[i];
                for (d, &q) in row.iter_mut().zip(&b[j..j + n]) {
                    *d = f(p, q);
                }
            }
            _ => {
                for (t, d) in row.iter_mut().enumerate() {
                    *d = f(a[i + t * sa], b[j + t * sb]);
                }
            }
        }
        out += n;
    });
}

/// Copies `x` into `y` along `shape`, with strides per operand: transposes, layout changes,
/// and (with `y_start` and `y`'s strides) the interior of a padded tensor.
pub fn f32_copy_strided<const R: usize, const XN: usize, const YN: usize>(
    x: &[f32; XN],
    x_strides: [usize; R],
    y: &mut [f32; YN],
    y_start: usize,
    y_strides: [usize; R],
    shape: [usize; R],
) {
    for_each_index(shape, [x_strides, y_strides], [0, y_start], |[i, j]| {
        y[j] = x[i]
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `f32_binary`'s rows (merged axes, contiguous and broadcast operands, other strides) give
    /// `BinaryOp::apply` of each element pair, visited one coordinate at a time.
    #[test]
    fn binary_rows_are_elementwise() {
        const R: usize = 3;
        let shape = [2, 3, 4];
        let a: [f32; 24] = core::array::from_fn(|i| i as f32 * 0.37 - 3.0);
        let b: [f32; 24] = core::array::from_fn(|i| 1.5 - i as f32 * 0.21);
        let cases: [([usize; R], [usize; R]); 6] = [
            ([12, 4, 1], [12, 4, 1]), // both contiguous: one row
            ([12, 4, 1], [0, 0, 0]),  // a scalar
            ([0, 0, 0], [12, 4, 1]),
            ([12, 4, 1], [0, 0, 1]), // a per-channel scale (SE)
            ([12, 4, 1], [0, 1, 0]), // broadcast along the last axis
            ([1, 2, 6], [12, 4, 1]), // a transposed operand
        ];
        for (sa, sb) in cases {
            for op in [
                BinaryOp::Add,
                BinaryOp::Sub,
                BinaryOp::Mul,
                BinaryOp::Div,
                BinaryOp::Min,
                BinaryOp::Max,
            ] {
                let mut y = [0f32; 24];
                f32_binary(op, &a, sa, &b, sb, &mut y, shape);
                let mut want = [0f32; 24];
                let mut out = 0;
                for_each_index(shape, [sa, sb], [0, 0], |[i, j]| {
                    want[out] = op.apply(a[i], b[j]);
                    out += 1;
                });
                assert_eq!(
                    y.map(f32::to_bits),
                    want.map(f32::to_bits),
                    "{op:?} {sa:?} {sb:?}"
                );
            }
        }
    }

    /// A conv whose padding is the value `c` (`PV`, each tap's `c * sum over input channels of
    /// its weights` after the weights) gives the zero-padded conv of the input padded with `c`
    /// explicitly (up to rounding: the sums go in another order).
    #[test]
    fn a_pad_value_is_the_explicitly_padded_input() {
        const C: f32 = 1.75;
        // 5x4 input, 2 channels, 3x3 window, stride 2, padding top 1, left 0, bottom 1, right 1.
        const H: usize = 5;
        const W: usize = 4;
        const PH: usize = H + 2;
        const PW: usize = W + 1;
        const OH: usize = 3;
        const OW: usize = 2;
        const WN: usize = 3 * 3 * 2 * 3;
        let x: [f32; H * W * 2] = core::array::from_fn(|i| (i as f32 * 0.37).sin());
        let w: [f32; WN] = core::array::from_fn(|i| (i as f32 * 0.61).cos());
        let b = [0.5, -0.25, 0.125];
        let mut wd = [0f32; WN + 3 * 3 * 3];
        wd[..WN].copy_from_slice(&w);
        for tap in 0..9 {
            for o in 0..3 {
                wd[WN + tap * 3 + o] = C * (w[(tap * 2) * 3 + o] + w[(tap * 2 + 1) * 3 + o]);
            }
        }
        let mut padded = [C; PH * PW * 2];
        for (r, row) in x.chunks(W * 2).enumerate() {
            padded[((r + 1) * PW) * 2..][..W * 2].copy_from_slice(row);
        }
        let (mut got, mut want) = ([0f32; OH * OW * 3], [0f32; OH * OW * 3]);
        let seq = &crate::pool::Sequential;
        let (lo, hi) = (f32::NEG_INFINITY, f32::INFINITY);
        f32_conv_minmax::<
            H,
            W,
            2,
            3,
            3,
            3,
            3,
            2,
            2,
            1,
            0,
            OH,
            OW,
            1,
            { W * 2 },
            2,
            1,
            false,
            true,
            { H * W * 2 },
            { WN + 27 },
            18,
        >(&x, &wd, &b, &mut got, lo, hi, seq);
        f32_conv_minmax::<
            PH,
            PW,
            2,
            3,
            3,
            3,
            3,
            2,
            2,
            0,
            0,
            OH,
            OW,
            1,
            { PW * 2 },
            2,
            1,
            false,
            false,
            { PH * PW * 2 },
            WN,
            18,
        >(&padded, &w, &b, &mut want, lo, hi, seq);
        for (g, e) in got.iter().zip(&want) {
            assert!((g - e).abs() <= 1e-5 * e.abs().max(1.0), "{got:?} {want:?}");
        }
    }

    /// `f32_scale_rows` scales element `(panel, k, j)` of a `[panels][K][R]` packing by `s[k]`,
    /// whatever the panel and column.
    #[test]
    fn scale_rows_scales_each_k_row_of_every_panel() {
        const K: usize = 5;
        const R: usize = 4;
        const WN: usize = 3 * K * R;
        let w: [f32; WN] = core::array::from_fn(|i| i as f32 * 0.5 - 7.0);
        let s: [f32; K] = core::array::from_fn(|k| 0.25 + k as f32);
        let mut y = [0f32; WN];
        f32_scale_rows::<K, R, WN>(&w, &s, &mut y);
        for p in 0..3 {
            for (k, &sk) in s.iter().enumerate() {
                for j in 0..R {
                    let at = (p * K + k) * R + j;
                    assert_eq!(y[at].to_bits(), (w[at] * sk).to_bits(), "{p} {k} {j}");
                }
            }
        }
    }

    /// [`tasks_give_the_same_bits`] at sizes Miri runs in seconds (the full cases take it
    /// more than ten minutes): still several tasks per call.
    #[test]
    #[cfg(miri)]
    fn tasks_give_the_same_bits_small() {
        use crate::conformance::{conv_case, dw_case, gemm_case};
        gemm_case!(
            crate::scalar::f32_gemm_minmax,
            mnetc_targets::GENERIC,
            5,
            9,
            7
        );
        dw_case!(
            crate::scalar::f32_dwconv_nhwc_minmax,
            5,
            4,
            8,
            3,
            2,
            1,
            1,
            1,
            1
        );
        conv_case!(
            crate::scalar::f32_conv_minmax,
            mnetc_targets::GENERIC,
            9,
            7,
            3,
            4,
            3,
            2,
            1,
            0,
            1,
            2
        );
    }

    /// The scalar kernels split into tasks on three threads give the bits of one task (the
    /// cases compare the scalar kernel with itself too).
    #[test]
    #[cfg_attr(
        miri,
        ignore = "minutes under Miri: tasks_give_the_same_bits_small runs there"
    )]
    fn tasks_give_the_same_bits() {
        use crate::conformance::{conv_case, dw_case, gemm_case};
        gemm_case!(
            crate::scalar::f32_gemm_minmax,
            mnetc_targets::GENERIC,
            13,
            17,
            33
        );
        gemm_case!(
            crate::scalar::f32_gemm_minmax,
            mnetc_targets::GENERIC,
            1,
            17,
            1000
        );
        dw_case!(
            crate::scalar::f32_dwconv_nhwc_minmax,
            9,
            6,
            16,
            3,
            1,
            1,
            1,
            1,
            1
        );
        dw_case!(
            crate::scalar::f32_dwconv_nhwc_minmax,
            6,
            23,
            16,
            3,
            2,
            1,
            1,
            1,
            1
        );
        conv_case!(
            crate::scalar::f32_conv_minmax,
            mnetc_targets::GENERIC,
            40,
            37,
            3,
            12,
            3,
            2,
            1,
            0,
            1,
            2
        );
    }

    #[test]
    fn exp_is_accurate() {
        let mut x = -30.0f32;
        while x < 30.0 {
            let (got, want) = (libm_exp(x) as f64, (x as f64).exp());
            assert!(
                ((got - want) / want).abs() < 2e-7,
                "exp({x}) = {got}, want {want}"
            );
            x += 0.0137;
        }
        assert_eq!(libm_exp(-200.0), 0.0);
        assert!(libm_exp(-100.0) > 0.0 && libm_exp(-100.0) < 1e-43);
    }

    #[test]
    fn taps_clip_the_window_to_the_input() {
        // 3 taps, stride 2, padding 1 on an input of 4: output 0 starts at -1.
        assert_eq!(taps(0, 2, 1, 4, 3), (1, 3));
        assert_eq!(taps(1, 2, 1, 4, 3), (0, 3));
        // Output 2 starts at 3: tap 0 only (4 is padding).
        assert_eq!(taps(2, 2, 1, 4, 3), (0, 1));
    }

    #[test]
    fn binary_broadcasts_a_per_channel_constant() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // [2 pixels][3 channels]
        let b = [10.0, 20.0, 30.0];
        let mut y = [0.0; 6];
        f32_binary(BinaryOp::Add, &a, [3, 1], &b, [0, 1], &mut y, [2, 3]);
        assert_eq!(y, [11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
    }

    #[test]
    fn pixels_quantize_as_the_float_stage_then_quantize() {
        // Every byte in every channel, NCHW and NHWC, against the two steps it replaces.
        const P: usize = 256;
        let pixels: [u8; P * 3] = core::array::from_fn(|i| (i / 3) as u8 ^ (i % 3 * 85) as u8);
        let (order, scale) = ([2, 0, 1], 1.0 / 255.0);
        let (mean, std) = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);
        let q = Requant {
            zero: 100,
            lo: 0,
            hi: 255,
        };
        for nhwc in [false, true] {
            let mut stage = [0f32; P * 3];
            let (mut want, mut got) = ([0u8; P * 3], [0u8; P * 3]);
            if nhwc {
                u8_pixels_to_f32::<P, { P * 3 }, true>(
                    &pixels, &mut stage, order, scale, mean, std,
                );
                u8_pixels_quantize::<P, { P * 3 }, true>(
                    &pixels, &mut got, order, scale, mean, std, 0.0187, q,
                );
            } else {
                u8_pixels_to_f32::<P, { P * 3 }, false>(
                    &pixels, &mut stage, order, scale, mean, std,
                );
                u8_pixels_quantize::<P, { P * 3 }, false>(
                    &pixels, &mut got, order, scale, mean, std, 0.0187, q,
                );
            }
            f32_quantize(&stage, 0.0187, &mut want, q);
            assert_eq!(got, want);
            assert!(want.contains(&0) && want.iter().any(|&v| v > 200));
        }
    }

    #[test]
    fn copy_strided_transposes_and_pads() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2x3
        let mut t = [0.0; 6];
        f32_copy_strided(&x, [1, 3], &mut t, 0, [2, 1], [3, 2]);
        assert_eq!(t, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        let mut p = [0.0; 12]; // 2x3 into a 3x4 with one row and column of padding before
        f32_copy_strided(&x, [3, 1], &mut p, 5, [4, 1], [2, 3]);
        assert_eq!(
            p,
            [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 4.0, 5.0, 6.0]
        );
    }
}

/// The output side of a requantization: the output's zero point and its bounds (the type's
/// range, narrowed by a fused clamp), all in the output's integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requant {
    pub zero: i32,
    pub lo: i32,
    pub hi: i32,
}

/// 1.5 * 2^23: added to an f32 of magnitude below 2^22, it leaves the value rounded to an
/// integer (to nearest, ties to even, as IEEE addition rounds) in the low mantissa bits.
pub(crate) const MAGIC: f32 = 12_582_912.0;

/// The requantization of a 32-bit sum, mnetc's one definition (the compiler's
/// `ops::quant::requantize` is the reference it is tested against):
/// `clamp(round_half_even(acc as f32 * scale) + q.zero, q.lo, q.hi)`. The product is clamped
/// to the bounds less the zero point first, then rounded by adding `MAGIC` (1.5 * 2^23): the same bits as
/// rounding then clamping, and what every SIMD kernel computes lane by lane (no fused
/// multiply-add anywhere).
#[inline(always)]
pub fn requantize(acc: i32, scale: f32, q: Requant) -> u8 {
    let v = (acc as f32 * scale)
        .max((q.lo - q.zero) as f32)
        .min((q.hi - q.zero) as f32);
    ((v + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32 + q.zero) as u8
}

qgemm_kernel! {
    nr = 1, mr = 1, kr = 1, w = i8;
    /// `y[m][n] = requantize(b[n] + sum_k x[m][k] * w[n][k], s[n])`: a quantized pointwise conv
    /// over M pixels, or a fully connected layer with M = 1. Weights `[N][K]` int8 (panels of
    /// one column).
    pub fn u8_gemm(x, w, b, s, y, q, rows, panels) {
        let cols = panels.len();
        for m in rows {
            // SAFETY: row `m`'s columns `panels` are this task's.
            let out = unsafe { y.part(m * N + panels.start, cols) };
            let xr = &x[m * K..][..K];
            for (j, o) in out.iter_mut().enumerate() {
                let n = panels.start + j;
                let wr = &w[n * K..][..K];
                let acc = xr.iter().zip(wr).fold(b[n], |a, (&xv, &wv)| a + xv as i32 * wv as i32);
                *o = requantize(acc, s[n], q);
            }
        }
    }
}

qconv_kernel! {
    w = i8, wn = KH * KW * CI * CO;
    /// Quantized dense 2-D convolution (a quantized model's stem), input in any layout.
    pub fn u8_conv(x, xz, w, b, s, y, q, rows) {
        for oy in rows {
            let (ky0, ky1) = taps(oy, SH, PT, H, KH);
            for ox in 0..OW {
                let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                // SAFETY: row `oy` is this task's.
                let out = unsafe { y.part((oy * OW + ox) * CO, CO) };
                for (co, o) in out.iter_mut().enumerate() {
                    let mut acc = b[co];
                    for ky in ky0..ky1 {
                        let iy = oy * SH + ky - PT;
                        for kx in kx0..kx1 {
                            let ix = ox * SW + kx - PL;
                            for ci in 0..CI {
                                let xv = x[iy * XSY + ix * XSX + ci * XSC] as i32 - xz;
                                acc += xv * w[((ky * KW + kx) * CI + ci) * CO + co] as i32;
                            }
                        }
                    }
                    *o = requantize(acc, s[co], q);
                }
            }
        }
    }
}

qdwconv_kernel! {
    w = i8, wn = KH * KW * C;
    /// Quantized depthwise 2-D convolution, NHWC. Weights `[KH][KW][C]` int8.
    pub fn u8_dwconv(x, xz, w, b, s, y, q, rows) {
        for oy in rows {
            let (ky0, ky1) = taps(oy, SH, PT, H, KH);
            for ox in 0..OW {
                let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                // SAFETY: row `oy` is this task's.
                let out = unsafe { y.part((oy * OW + ox) * C, C) };
                for (c, o) in out.iter_mut().enumerate() {
                    let mut acc = b[c];
                    for ky in ky0..ky1 {
                        let iy = oy * SH + ky - PT;
                        for kx in kx0..kx1 {
                            let ix = ox * SW + kx - PL;
                            let xv = x[(iy * W + ix) * C + c] as i32 - xz;
                            acc += xv * w[(ky * KW + kx) * C + c] as i32;
                        }
                    }
                    *o = requantize(acc, s[c], q);
                }
            }
        }
    }
}

/// Quantized global average pooling of `HW` pixels of `C` channels (NHWC): each channel's sum
/// less `HW` zero points `xz`, requantized by `scale`.
pub fn u8_gavgpool<const HW: usize, const C: usize, const XN: usize>(
    x: &[u8; XN],
    xz: i32,
    scale: f32,
    y: &mut [u8; C],
    q: Requant,
) {
    const { assert!(XN == HW * C && HW > 0) };
    for (c, o) in y.iter_mut().enumerate() {
        let sum: i32 = (0..HW).map(|p| x[p * C + c] as i32).sum();
        *o = requantize(sum - HW as i32 * xz, scale, q);
    }
}

/// Quantized addition of two arrays in the same layout:
/// `y = clamp(round_half_even((a - za) * ra + (b - zb) * rb) + q.zero, q.lo, q.hi)`, the two
/// f32 products and their sum rounded as [`requantize`] rounds.
#[allow(clippy::too_many_arguments)]
pub fn u8_add<const N: usize>(
    a: &[u8; N],
    za: i32,
    ra: f32,
    b: &[u8; N],
    zb: i32,
    rb: f32,
    y: &mut [u8; N],
    q: Requant,
) {
    for ((o, &av), &bv) in y.iter_mut().zip(a).zip(b) {
        let v = (av as i32 - za) as f32 * ra + (bv as i32 - zb) as f32 * rb;
        *o = requantize_f32(v, q);
    }
}

/// [`requantize`] of a value already scaled.
#[inline(always)]
pub(crate) fn requantize_f32(v: f32, q: Requant) -> u8 {
    let v = v.max((q.lo - q.zero) as f32).min((q.hi - q.zero) as f32);
    ((v + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32 + q.zero) as u8
}

/// ONNX QuantizeLinear into uint8 (an int8 value is held as uint8 with its zero point raised by
/// 128): `clamp(round_half_even(x / scale) + q.zero, q.lo, q.hi)`, elementwise.
pub fn f32_quantize<const N: usize>(x: &[f32; N], scale: f32, y: &mut [u8; N], q: Requant) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = requantize_f32(v / scale, q);
    }
}

/// ONNX DequantizeLinear from uint8: `(x - zero) * scale`, elementwise.
pub fn u8_dequantize<const N: usize>(x: &[u8; N], zero: i32, scale: f32, y: &mut [f32; N]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = (v as i32 - zero) as f32 * scale;
    }
}
