//! aarch64 kernels with the dot product instructions (FEAT_DotProd): compiled only when the
//! build enables `dotprod` (`-C target-feature=+dotprod`, or a `-C target-cpu` that has it).
//! The quantized GEMM and depthwise conv here add four int8 x int8 products into each 32-bit
//! lane with `sdot`, which cannot saturate: exact, like the scalar twins they are tested
//! against. `sdot` multiplies
//! signed bytes, so each uint8 input enters with its top bit flipped (`x ^ 0x80`, which read as
//! int8 is `x - 128`) and the compiler has added `128 * sum_k w[k][n]` to the bias
//! (`QGemmLayout::signed_x`): the sum is the same modulo 2^32, and it fits 32 bits. The
//! target's other kernels are `neon`'s.
//!
//! Stable Rust has no dot product intrinsics yet (`stdarch_neon_dotprod`), so [`sdot`] is one
//! `asm!` instruction on registers the compiler allocates. `unsafe` here is that, the NEON
//! intrinsics and unaligned loads and stores through raw pointers, every one inside the arrays
//! whose lengths the inline `const` assertions tie to the shapes.

use crate::neon::{requantize16, store_bytes};
use crate::scalar::{
    ConvShape, DwGeometry, Requant, TapRows, gemm_tiles, interior, window3_columns,
};
use core::arch::aarch64::*;

/// Rows of the quantized GEMM's register tile.
pub const QGEMM_MR: usize = 4;
/// Columns of the quantized GEMM's register tile: four vectors of 4 int32 sums.
pub const QGEMM_NR: usize = 16;

qgemm_kernel! {
    nr = QGEMM_NR, mr = QGEMM_MR, kr = 4, w = i8;
    /// `y[m][n] = requantize(b[n] + sum_k x[m][k] * w[k][n], s[n])` with int8 weights packed
    /// in panels of 16 columns and groups of four k (`w[panel][k / 4][column][k % 4]`, zero
    /// padded), the bias holding `128 * sum_k w[k][n]` more: per sixteen k, one load of each
    /// row's inputs with the top bit flipped, then per group of four k, four vectors of weights
    /// and per row four `sdot` by the row's group (16 columns x 4 k). Rows are read in place;
    /// the last K % 16 inputs of a row through a zero-padded copy.
    #[inline(never)]
    pub fn u8_gemm_neondot(x, w, b, s, y, q, rows, panels) {
        gemm_tiles(N, NB, [QGEMM_MR, QGEMM_NR], rows, panels, |m0, count, p, cols| {
            // SAFETY: rows m0..m0+count of x (K bytes each) and of y (N each) exist and are this
            // task's; panel p's K.div_ceil(4) * 64 weights and 16 biases and scales exist since
            // p < NP/16; at most `cols` bytes from p*16 are stored and p*16 + cols <= N.
            unsafe {
                let xp = x.as_ptr().add(m0 * K);
                let wp = w.as_ptr().add(p * K.div_ceil(4) * 4 * QGEMM_NR);
                let (bp, sp) = (b.as_ptr().add(p * QGEMM_NR), s.as_ptr().add(p * QGEMM_NR));
                let yp = y.as_mut_ptr().add(m0 * N + p * QGEMM_NR);
                match count {
                    4 => tile::<4, K, N>(xp, wp, bp, sp, yp, cols, q),
                    3 => tile::<3, K, N>(xp, wp, bp, sp, yp, cols, q),
                    2 => tile::<2, K, N>(xp, wp, bp, sp, yp, cols, q),
                    _ => tile::<1, K, N>(xp, wp, bp, sp, yp, cols, q),
                }
            }
        });
    }
}

/// `acc[i] += sum_j a[4i + j] * b[4i + j]` over signed bytes (`sdot` of two vectors).
#[inline(always)]
fn sdotv(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    // SAFETY: one arithmetic instruction on registers, which the build's `dotprod` allows.
    unsafe {
        core::arch::asm!(
            "sdot {acc:v}.4s, {a:v}.16b, {b:v}.16b",
            acc = inout(vreg) acc,
            a = in(vreg) a,
            b = in(vreg) b,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    acc
}

/// `acc[i] += sum_j a[4i + j] * b[4L + j]` over signed bytes (`sdot` by element `L`).
#[inline(always)]
fn sdot<const L: i32>(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    // SAFETY: one arithmetic instruction on registers, which the build's `dotprod` allows.
    unsafe {
        core::arch::asm!(
            "sdot {acc:v}.4s, {a:v}.16b, {b:v}.4b[{l}]",
            acc = inout(vreg) acc,
            a = in(vreg) a,
            b = in(vreg) b,
            l = const L,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    acc
}

/// One `MR` x 16 tile: 4 * MR int32 accumulators; K in steps of sixteen (four groups), then the
/// last groups from a zero-padded copy of each row's tail; then the requantization.
///
/// # Safety
/// `x` must point to MR rows of K bytes (row stride K), `w` to `K.div_ceil(4)` groups of 64
/// weights, `b` and `s` to 16 values, `y` to MR rows with `cols` writable bytes each (row
/// stride N).
#[inline(always)]
unsafe fn tile<const MR: usize, const K: usize, const N: usize>(
    x: *const u8,
    w: *const i8,
    b: *const i32,
    s: *const f32,
    y: *mut u8,
    cols: usize,
    q: Requant,
) {
    unsafe {
        let b4 = vld1q_s32_x4(b);
        let bias = [b4.0, b4.1, b4.2, b4.3];
        let mut acc = [bias; MR];
        let flip = vdupq_n_u8(0x80);
        let signed = |v: uint8x16_t| vreinterpretq_s8_u8(veorq_u8(v, flip));
        let mut k = 0;
        while k + 16 <= K {
            let xv: [int8x16_t; MR] = core::array::from_fn(|r| signed(vld1q_u8(x.add(r * K + k))));
            let wk = w.add(k * QGEMM_NR);
            step::<MR, 0>(&mut acc, &xv, wk);
            step::<MR, 1>(&mut acc, &xv, wk);
            step::<MR, 2>(&mut acc, &xv, wk);
            step::<MR, 3>(&mut acc, &xv, wk);
            k += 16;
        }
        if k < K {
            // The last K - k (< 16) inputs; the weights past K are zero.
            let xv: [int8x16_t; MR] = core::array::from_fn(|r| {
                let mut tail = [0u8; 16];
                core::ptr::copy_nonoverlapping(x.add(r * K + k), tail.as_mut_ptr(), K - k);
                signed(vld1q_u8(tail.as_ptr()))
            });
            let wk = w.add(k * QGEMM_NR);
            let groups = (K - k).div_ceil(4);
            step::<MR, 0>(&mut acc, &xv, wk);
            if groups > 1 {
                step::<MR, 1>(&mut acc, &xv, wk);
            }
            if groups > 2 {
                step::<MR, 2>(&mut acc, &xv, wk);
            }
            if groups > 3 {
                step::<MR, 3>(&mut acc, &xv, wk);
            }
        }
        for (r, a) in acc.iter().enumerate() {
            store_bytes(y.add(r * N), requantize16(*a, s, q), cols);
        }
    }
}

/// Group `L` of four of [`tile`]: its 64 weights (16 columns x 4 k) times group `L` of each
/// row's sixteen inputs.
///
/// # Safety
/// `w` must point to (L + 1) * 64 readable weights.
#[inline(always)]
unsafe fn step<const MR: usize, const L: i32>(
    acc: &mut [[int32x4_t; 4]; MR],
    xv: &[int8x16_t; MR],
    w: *const i8,
) {
    unsafe {
        let wl = w.add(L as usize * 4 * QGEMM_NR);
        // One `ld1` of four registers.
        let w4 = vld1q_s8_x4(wl);
        let wv = [w4.0, w4.1, w4.2, w4.3];
        for (a, &xr) in acc.iter_mut().zip(xv) {
            for (ac, &wc) in a.iter_mut().zip(&wv) {
                *ac = sdot::<L>(*ac, wc, xr);
            }
        }
    }
}

qdwconv_kernel! {
    w = i8, wn = C.div_ceil(16) * KH.div_ceil(4) * KW * 64;
    /// Quantized depthwise conv, exact, 16 channels at a time with `sdot`: four kernel rows'
    /// inputs at one input column (16 bytes each, top bit flipped) are transposed with `zip` into
    /// each channel's four taps side by side, and one `sdot` per four channels multiplies them by
    /// the weights packed in that order at compile time (`QDwLayout::Quads16`; a kernel of
    /// fewer than four rows has zero weights for the rest). A 3-wide kernel with stride 1 or 2
    /// transposes each input column of a row once and keeps it for the next output pixels;
    /// other kernels and the border pixels transpose per pixel. Inputs outside the image are
    /// the zero point, and every sum starts from `b + (128 - xz) * (sum of the channel's
    /// weights)` (computed per block with `sdot` by ones), so the padding adds nothing and the
    /// flipped inputs add what the inputs less the zero point do, as in the scalar twin.
    /// Channel blocks of 16 and 8 load their inputs directly, others through a copy.
    #[inline(never)]
    pub fn u8_dwconv_neondot(x, xz, w, b, s, y, q, rows) {
        let (first, last) = interior(PL, SW, W, KW, OW);
        let zpad = [xz as u8; 16];
        let dw = DotDw {
            x: x.as_ptr(),
            y: y.as_mut_ptr(),
            zpad: zpad.as_ptr(),
            g: DwGeometry { w: W, c: C, sh: SH, sw: SW, pt: PT, pl: PL, h: H, ow: OW, first, last, xz },
        };
        for blk in 0..C.div_ceil(16) {
            let c0 = blk * 16;
            let n = (C - c0).min(16);
            let (mut bt, mut st) = ([0i32; 16], [0f32; 16]);
            bt[..n].copy_from_slice(&b[c0..c0 + n]);
            st[..n].copy_from_slice(&s[c0..c0 + n]);
            // SAFETY: the block's weights are KH.div_ceil(4) * KW * 64 from blk times that,
            // inside WN; the rows are this task's; `block` reads inputs of channels c0..c0+n
            // (16 or 8 bytes from c0 only when that many channels exist) at pixels inside the
            // image, or `zpad`, and stores n bytes per output pixel of those rows.
            unsafe {
                let wb = w.as_ptr().add(blk * KH.div_ceil(4) * KW * 64);
                let (bp, sp) = (bt.as_ptr(), st.as_ptr());
                match n {
                    16 => dw.block::<16, KH, KW, C, SW>(wb, bp, sp, c0, n, rows.clone(), q),
                    8 => dw.block::<8, KH, KW, C, SW>(wb, bp, sp, c0, n, rows.clone(), q),
                    _ => dw.block::<0, KH, KW, C, SW>(wb, bp, sp, c0, n, rows.clone(), q),
                }
            }
        }
    }
}

/// What [`u8_dwconv_neondot`]'s channel blocks share: the input and output, 16 bytes of the
/// input's zero point (what padding reads) and the shape.
struct DotDw {
    x: *const u8,
    y: *mut u8,
    zpad: *const u8,
    g: DwGeometry,
}

/// Input column `ix` of four rows, the top bits flipped, transposed into four vectors of
/// four channels' four rows.
///
/// # Safety
/// `ix < W` for rows inside the image; as [`DotDw::block`]'s for `L` and `n`.
#[inline(always)]
unsafe fn column<const L: usize>(r: &TapRows, ix: usize, n: usize) -> [int8x16_t; 4] {
    unsafe {
        let flip = vdupq_n_u8(0x80);
        let v: [int8x16_t; 4] = core::array::from_fn(|j| {
            if !r.live[j] {
                return vdupq_n_s8(0);
            }
            let p = r.p[j].add(ix * r.step[j]);
            let bytes = match L {
                16 => vld1q_u8(p),
                8 => vcombine_u8(vld1_u8(p), vdup_n_u8(0)),
                _ => {
                    let mut tmp = [0u8; 16];
                    core::ptr::copy_nonoverlapping(p, tmp.as_mut_ptr(), n);
                    vld1q_u8(tmp.as_ptr())
                }
            };
            vreinterpretq_s8_u8(veorq_u8(bytes, flip))
        });
        let a0 = vreinterpretq_s16_s8(vzip1q_s8(v[0], v[1]));
        let a1 = vreinterpretq_s16_s8(vzip2q_s8(v[0], v[1]));
        let b0 = vreinterpretq_s16_s8(vzip1q_s8(v[2], v[3]));
        let b1 = vreinterpretq_s16_s8(vzip2q_s8(v[2], v[3]));
        [
            vreinterpretq_s8_s16(vzip1q_s16(a0, b0)),
            vreinterpretq_s8_s16(vzip2q_s16(a0, b0)),
            vreinterpretq_s8_s16(vzip1q_s16(a1, b1)),
            vreinterpretq_s8_s16(vzip2q_s16(a1, b1)),
        ]
    }
}

/// Requantizes a pixel's 16 sums by the scales at `sp` and stores the first `n` bytes at `y`.
///
/// # Safety
/// `sp` must point to 16 floats, `y` to `n` writable bytes.
#[inline(always)]
unsafe fn put(y: *mut u8, acc: [int32x4_t; 4], sp: *const f32, q: Requant, n: usize) {
    unsafe { store_bytes(y, requantize16(acc, sp, q), n) }
}

/// The sums of one pixel of a 3-wide kernel from its window's three transposed columns.
#[inline(always)]
fn dot3(
    start: [int32x4_t; 4],
    wv: &[[int8x16_t; 4]; 3],
    t: [&[int8x16_t; 4]; 3],
) -> [int32x4_t; 4] {
    let mut acc = start;
    for (tc, wc) in t.iter().zip(wv) {
        for ((a, &x), &w) in acc.iter_mut().zip(tc.iter()).zip(wc) {
            *a = sdotv(*a, x, w);
        }
    }
    acc
}

/// `count` interior output pixels of a row of a 3-wide kernel (at most 4 rows) with stride `SW`
/// of 1 or 2, the first reading input column `ix` and stored at `y` (pixel stride `C`), each
/// input column transposed once ([`window3_columns`]).
///
/// # Safety
/// The window's columns `ix..ix + (count - 1) * SW + 3` inside the input; as
/// [`DotDw::block`]'s for the rest.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn row3<const L: usize, const C: usize, const SW: usize>(
    r: &TapRows,
    wb: *const i8,
    start: [int32x4_t; 4],
    y: *mut u8,
    count: usize,
    ix: usize,
    sp: *const f32,
    q: Requant,
    n: usize,
) {
    unsafe {
        let wv: [[int8x16_t; 4]; 3] = core::array::from_fn(|kx| {
            core::array::from_fn(|i| vld1q_s8(wb.add((kx * 4 + i) * 16)))
        });
        window3_columns::<_, SW>(
            count,
            ix,
            |ix| column::<L>(r, ix, n),
            |o, t| put(y.add(o * C), dot3(start, &wv, t), sp, q, n),
        );
    }
}

impl DotDw {
    /// Output rows `rows` of channels `c0..c0 + n` (16 from `c0` in the weights `wb`, biases
    /// `bp` and scales `sp`). `L` is how inputs load: 16 or 8 bytes, or (0) through a copy of
    /// `n` bytes.
    ///
    /// # Safety
    /// As the kernel's: `wb` the block's weights, `bp` and `sp` 16 values, `c0 + n <= C` with
    /// `n == L` unless `L == 0`, `rows` this task's.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn block<
        const L: usize,
        const KH: usize,
        const KW: usize,
        const C: usize,
        const SW: usize,
    >(
        &self,
        wb: *const i8,
        bp: *const i32,
        sp: *const f32,
        c0: usize,
        n: usize,
        rows: core::ops::Range<usize>,
        q: Requant,
    ) {
        unsafe {
            let (pl, ow, first, last) = (self.g.pl, self.g.ow, self.g.first, self.g.last);
            let n = if L == 16 { 16 } else { n };
            // The sums start from b + (128 - xz) * (sum of the weights).
            let ones = vdupq_n_s8(1);
            let mut sum = [vdupq_n_s32(0); 4];
            for t in 0..KH.div_ceil(4) * KW {
                for (i, v) in sum.iter_mut().enumerate() {
                    *v = sdotv(*v, vld1q_s8(wb.add(t * 64 + 16 * i)), ones);
                }
            }
            let start: [int32x4_t; 4] = core::array::from_fn(|i| {
                vmlaq_n_s32(vld1q_s32(bp.add(4 * i)), sum[i], 128 - self.g.xz)
            });
            let fast = KH <= 4 && KW == 3 && (SW == 1 || SW == 2);
            for oy in rows {
                let yrow = self.y.add(oy * ow * C + c0);
                if !fast {
                    for ox in 0..ow {
                        let acc = self.pixel::<L, KH, KW>(wb, start, c0, n, oy, ox);
                        put(yrow.add(ox * C), acc, sp, q, n);
                    }
                    continue;
                }
                for ox in (0..first).chain(last..ow) {
                    let acc = self.pixel::<L, KH, KW>(wb, start, c0, n, oy, ox);
                    put(yrow.add(ox * C), acc, sp, q, n);
                }
                if first < last {
                    let r = self.g.rows(self.x, self.zpad, KH, oy, 0, c0);
                    let ix = first * SW - pl;
                    row3::<L, C, SW>(
                        &r,
                        wb,
                        start,
                        yrow.add(first * C),
                        last - first,
                        ix,
                        sp,
                        q,
                        n,
                    );
                }
            }
        }
    }

    /// The sums of output pixel `(oy, ox)`, any kernel, its window clipped by the padding (the
    /// columns outside read the zero point).
    ///
    /// # Safety
    /// As [`DotDw::block`]'s; `oy < OH`, `ox < OW`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn pixel<const L: usize, const KH: usize, const KW: usize>(
        &self,
        wb: *const i8,
        start: [int32x4_t; 4],
        c0: usize,
        n: usize,
        oy: usize,
        ox: usize,
    ) -> [int32x4_t; 4] {
        unsafe {
            let (w, sw, pl) = (self.g.w, self.g.sw, self.g.pl);
            let mut acc = start;
            for g in 0..KH.div_ceil(4) {
                let r = self.g.rows(self.x, self.zpad, KH, oy, g, c0);
                let outside = TapRows {
                    p: [self.zpad; 4],
                    step: [0; 4],
                    live: r.live,
                };
                for kx in 0..KW {
                    let ix = (ox * sw + kx).wrapping_sub(pl);
                    let t = if ix < w {
                        column::<L>(&r, ix, n)
                    } else {
                        column::<L>(&outside, 0, n)
                    };
                    for (i, a) in acc.iter_mut().enumerate() {
                        *a = sdotv(*a, t[i], vld1q_s8(wb.add(((g * KW + kx) * 4 + i) * 16)));
                    }
                }
            }
            acc
        }
    }
}

qconv_kernel! {
    w = i8, wn = CO.next_multiple_of(16) * CI * KH * KW.div_ceil(4) * 4;
    /// Quantized dense 2-D convolution (a quantized model's stem) with `sdot`, exact: weights
    /// `[COP/16][CI][KH][KW/4][16][4]` int8 (`QConvLayout::Quads16`: per input channel, kernel
    /// row and group of four kernel columns, 16 output channels' four taps side by side). Four
    /// output pixels side by side in the lanes: per input channel and kernel row, one 16-byte
    /// load of the input row (an NCHW input: adjacent columns are adjacent bytes), its top bit
    /// flipped, and one `tbl` gathering each pixel's four taps into its lane; then one `sdot`
    /// by element per output channel (16 accumulators of 4 pixels). Border pixels, and inputs
    /// of other layouts, gather their taps (the zero point outside the image). Every sum starts
    /// from `b + (128 - xz) * (sum of the channel's weights)`. The requantized bytes go back to
    /// pixel order with one four-register `tbl` per pixel.
    #[inline(never)]
    pub fn u8_conv_neondot(x, xz, w, b, s, y, q, rows) {
        let (first, last) = interior(PL, SW, W, KW, OW);
        let groups = KW.div_ceil(4);
        let stem = DotConv {
            x: x.as_ptr(),
            xz,
            shape: ConvShape {
                h: H,
                w: W,
                ci: CI,
                kh: KH,
                kw: KW,
                sh: SH,
                sw: SW,
                pt: PT,
                pl: PL,
                xsc: XSC,
                xsy: XSY,
                xsx: XSX,
                xn: XN,
            },
            groups,
        };
        // Four pixels' taps from one 16-byte load: pixel p's group g at bytes SW * p + 4g.
        let tbl_fits = XSX == 1 && groups <= 2 && SW * 3 + 4 * groups <= 16;
        for cb in 0..CO.div_ceil(16) {
            let c0 = cb * 16;
            let n = (CO - c0).min(16);
            let (mut bt, mut st) = ([0i32; 16], [0f32; 16]);
            bt[..n].copy_from_slice(&b[c0..c0 + n]);
            st[..n].copy_from_slice(&s[c0..c0 + n]);
            // SAFETY: the block's weights are CI * KH * groups * 64 from cb times that, inside
            // WN; `chunk` reads inputs inside x (16-byte loads checked against XN by `fits`,
            // gathered bytes inside the image) and stores n bytes for each of its pixels, in
            // this task's rows.
            unsafe {
                let wb = w.as_ptr().add(cb * CI * KH * groups * 64);
                let (bp, sp) = (bt.as_ptr(), st.as_ptr());
                let prep = stem.prepare(wb, bp);
                let yp = y.as_mut_ptr().add(c0);
                for oy in rows.clone() {
                    let mut ox = 0;
                    while ox < OW {
                        // Interior pixels (their windows inside the input's columns) four at a
                        // time (the lanes past `last` read inside the same load, not stored),
                        // the border ones up to four at a time, apart.
                        let inside = ox >= first && ox < last;
                        let count = if inside {
                            (last - ox).min(4)
                        } else if ox < first {
                            (first - ox).min(4)
                        } else {
                            (OW - ox).min(4)
                        };
                        let fast = inside && tbl_fits && stem.shape.fits(oy, ox, 16);
                        let at = yp.add((oy * OW + ox) * CO);
                        match (fast, n > 8) {
                            (true, true) => stem.chunk::<4, true>(wb, &prep, sp, q, oy, ox, count, at, CO, n),
                            (true, false) => stem.chunk::<2, true>(wb, &prep, sp, q, oy, ox, count, at, CO, n),
                            (false, true) => stem.chunk::<4, false>(wb, &prep, sp, q, oy, ox, count, at, CO, n),
                            (false, false) => stem.chunk::<2, false>(wb, &prep, sp, q, oy, ox, count, at, CO, n),
                        }
                        ox += count;
                    }
                }
            }
        }
    }
}

/// See [`DotConv::prepare`].
struct Prep {
    starts: [int32x4_t; 4],
    taps: [uint8x16_t; 2],
    pixels: [uint8x16_t; 4],
}

/// What [`u8_conv_neondot`]'s pixel chunks share: the input, its zero point, the shape and the
/// groups of four kernel columns.
struct DotConv {
    x: *const u8,
    xz: i32,
    shape: ConvShape,
    groups: usize,
}

impl DotConv {
    /// What a block of 16 output channels' pixel chunks share: each channel's starting sum,
    /// `b + (128 - xz) * (sum of its weights)` (`bp` the 16 biases, `wb` the block's weights),
    /// the `tbl` indices gathering four pixels' taps of the first two column groups from a
    /// 16-byte load, and those putting each pixel's 16 channels together from the requantized
    /// `[channel][pixel]` bytes.
    ///
    /// # Safety
    /// `wb` must be a block's weights, `bp` 16 values.
    #[inline(always)]
    unsafe fn prepare(&self, wb: *const i8, bp: *const i32) -> Prep {
        unsafe {
            let ConvShape { ci, kh, sw, .. } = self.shape;
            let ones = vdupq_n_s8(1);
            let mut sums = [vdupq_n_s32(0); 4];
            for t in 0..ci * kh * self.groups {
                for (v, sum) in sums.iter_mut().enumerate() {
                    *sum = sdotv(*sum, vld1q_s8(wb.add(t * 64 + 16 * v)), ones);
                }
            }
            // Byte j of pixel p's lane in group g: input column ox * SW - PL + SW * p + 4g + j.
            let taps: [[u8; 16]; 2] = core::array::from_fn(|g| {
                core::array::from_fn(|i| (sw * (i / 4) + 4 * g + i % 4).min(255) as u8)
            });
            // Channel 4v + i of pixel p: byte 16v + 4i + p of the table.
            let pixels: [[u8; 16]; 4] = core::array::from_fn(|p| {
                core::array::from_fn(|k| (16 * (k / 4) + 4 * (k % 4) + p) as u8)
            });
            Prep {
                starts: core::array::from_fn(|v| {
                    vmlaq_n_s32(vld1q_s32(bp.add(4 * v)), sums[v], 128 - self.xz)
                }),
                taps: core::array::from_fn(|g| vld1q_u8(taps[g].as_ptr())),
                pixels: core::array::from_fn(|p| vld1q_u8(pixels[p].as_ptr())),
            }
        }
    }

    /// `count` (at most 4) pixels from `(oy, ox)` of the first `4 * V` channels of a block of
    /// 16 (weights from `wb`, starting sums and indices `prep`, scales `sp`), stored from `y` (pixel stride
    /// `co`, `n` channels each). `FAST`: the four pixels' inputs of a row come from one 16-byte
    /// load (interior pixels whose loads [`ConvShape::fits`]); else each pixel gathers its taps.
    ///
    /// # Safety
    /// The pixels are output pixels of this task's rows, `wb` the block's weights, `sp` 16
    /// values, `y` the first pixel's output at the block's first channel, `n <= 4 * V`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn chunk<const V: usize, const FAST: bool>(
        &self,
        wb: *const i8,
        prep: &Prep,
        sp: *const f32,
        q: Requant,
        oy: usize,
        ox: usize,
        count: usize,
        y: *mut u8,
        co: usize,
        n: usize,
    ) {
        unsafe {
            let ConvShape {
                w,
                ci,
                kh,
                kw,
                sw,
                pl,
                xsc,
                xsy,
                xsx,
                ..
            } = self.shape;
            let groups = self.groups;
            let flip = vdupq_n_u8(0x80);
            let pad = vreinterpretq_s8_u8(vdupq_n_u8(self.xz as u8 ^ 0x80));
            let mut acc: [[int32x4_t; 4]; V] = core::array::from_fn(|v| {
                let start = prep.starts[v];
                [
                    vdupq_laneq_s32::<0>(start),
                    vdupq_laneq_s32::<1>(start),
                    vdupq_laneq_s32::<2>(start),
                    vdupq_laneq_s32::<3>(start),
                ]
            });
            for c in 0..ci {
                for ky in 0..kh {
                    let iy = self.shape.row(oy, ky);
                    let fast_row = if FAST {
                        iy.map(|iy| {
                            let at = c * xsc + iy * xsy + ox * sw - pl;
                            veorq_u8(vld1q_u8(self.x.add(at)), flip)
                        })
                    } else {
                        None
                    };
                    for g in 0..groups {
                        let t = match (iy, fast_row) {
                            (None, _) => pad,
                            (Some(_), Some(v)) => {
                                vreinterpretq_s8_u8(vqtbl1q_u8(v, prep.taps[g.min(1)]))
                            }
                            (Some(iy), None) => {
                                // Taps past the kernel have zero weights; pixels past `count`
                                // are not stored.
                                let mut quads = [0x80u8; 16];
                                let row = self.x.add(c * xsc + iy * xsy);
                                for p in 0..count {
                                    for j in 0..4.min(kw - 4 * g) {
                                        let ix = ((ox + p) * sw + 4 * g + j).wrapping_sub(pl);
                                        let v = if ix < w {
                                            *row.add(ix * xsx)
                                        } else {
                                            self.xz as u8
                                        };
                                        quads[4 * p + j] = v ^ 0x80;
                                    }
                                }
                                vreinterpretq_s8_u8(vld1q_u8(quads.as_ptr()))
                            }
                        };
                        let wt = wb.add(((c * kh + ky) * groups + g) * 64);
                        for (v, a) in acc.iter_mut().enumerate() {
                            let wv = vld1q_s8(wt.add(16 * v));
                            a[0] = sdot::<0>(a[0], t, wv);
                            a[1] = sdot::<1>(a[1], t, wv);
                            a[2] = sdot::<2>(a[2], t, wv);
                            a[3] = sdot::<3>(a[3], t, wv);
                        }
                    }
                }
            }
            // Requantize each channel's four pixels; bytes [channel][pixel] per group of four
            // channels, then each pixel's channels gathered by one `tbl` of up to 4 registers.
            let zero = vdupq_n_s16(q.zero as i16);
            let groups4: [uint8x16_t; 4] = core::array::from_fn(|v| {
                if v >= V {
                    return vdupq_n_u8(0);
                }
                let sv = vld1q_f32(sp.add(4 * v));
                let a = &acc[v];
                let r0 = vcvtnq_s32_f32(vmulq_laneq_f32::<0>(vcvtq_f32_s32(a[0]), sv));
                let r1 = vcvtnq_s32_f32(vmulq_laneq_f32::<1>(vcvtq_f32_s32(a[1]), sv));
                let r2 = vcvtnq_s32_f32(vmulq_laneq_f32::<2>(vcvtq_f32_s32(a[2]), sv));
                let r3 = vcvtnq_s32_f32(vmulq_laneq_f32::<3>(vcvtq_f32_s32(a[3]), sv));
                let h0 = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(r0), r1), zero);
                let h1 = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(r2), r3), zero);
                let v8 = vqmovun_high_s16(vqmovun_s16(h0), h1);
                vminq_u8(vmaxq_u8(v8, vdupq_n_u8(q.lo as u8)), vdupq_n_u8(q.hi as u8))
            });
            let table = uint8x16x4_t(groups4[0], groups4[1], groups4[2], groups4[3]);
            for (p, &sel) in prep.pixels.iter().enumerate().take(count) {
                store_bytes(y.add(p * co), vqtbl4q_u8(table, sel), n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    #[test]
    fn the_cpu_has_dotprod() {
        assert!(std::arch::is_aarch64_feature_detected!("dotprod"));
    }

    crate::conformance::qgemm_cases! {
        mnetc_targets::NEONDOT,
        crate::neondot::u8_gemm_neondot
    }

    crate::conformance::qdw_cases! {
        mnetc_targets::NEONDOT,
        crate::neondot::u8_dwconv_neondot
    }

    crate::conformance::qconv_cases! {
        mnetc_targets::NEONDOT,
        crate::neondot::u8_conv_neondot
    }

    /// The cases ran exactly the kernels the target lists from this module: the quantized GEMM,
    /// depthwise and dense conv.
    #[test]
    fn the_kernels_tested_are_the_kernels_listed() {
        use mnetc_targets::Kernel;
        let qgemm = crate::conformance::qgemm_case!(
            crate::neondot::u8_gemm_neondot,
            mnetc_targets::NEONDOT,
            1,
            1,
            1
        );
        let qdw = crate::conformance::qdw_case!(
            crate::neondot::u8_dwconv_neondot,
            mnetc_targets::NEONDOT,
            7,
            7,
            3,
            3,
            1,
            1,
            1,
            1,
            1
        );
        let qconv = crate::conformance::qconv_case!(
            crate::neondot::u8_conv_neondot,
            mnetc_targets::NEONDOT,
            9,
            9,
            3,
            5,
            3,
            2,
            1,
            1,
            1,
            1
        );
        crate::conformance::check_listed(
            &mnetc_targets::NEONDOT,
            &[
                (Kernel::QGemm, qgemm),
                (Kernel::QDwConv, qdw),
                (Kernel::QConv, qconv),
            ],
        );
    }
}
