//! x86-64 kernels with AVX-512 VNNI: compiled only when the build enables AVX-512F, AVX-512
//! VNNI, AVX2 and FMA (`-C target-feature=+avx512f,+avx512vnni,+avx2,+fma`, or
//! `-C target-cpu=native` on such a CPU: Ice Lake and later Intel cores, Zen 4 and later). The
//! quantized GEMM and depthwise conv here multiply uint8 inputs by int8 weights four at a time
//! with `vpdpbusd`, which adds the four products into a 32-bit lane without saturating: exact,
//! like the scalar twins they are tested against. The target's other kernels are `avx512`'s and
//! `avx2`'s.
//!
//! `unsafe` here is the intrinsics (callable because the features are enabled for the whole
//! crate) and unaligned loads and stores through raw pointers, every one inside the arrays
//! whose lengths the inline `const` assertions tie to the shapes.
// The AVX-512 intrinsics are stable since Rust 1.89; only builds that enable AVX-512 compile
// this module (the crate's minimum, 1.85, covers everything else).
#![allow(clippy::incompatible_msrv)]

use crate::avx2::store_bytes;
use crate::scalar::{
    ConvShape, DwGeometry, Requant, TapRows, gemm_tiles, interior, window3_columns,
};
use core::arch::x86_64::*;

/// Rows of the quantized GEMM's register tile.
pub const QGEMM_MR: usize = 12;
/// Columns of the quantized GEMM's register tile: one vector of 16 int32 sums.
pub const QGEMM_NR: usize = 16;

qgemm_kernel! {
    nr = QGEMM_NR, mr = QGEMM_MR, kr = 4, w = i8;
    /// `y[m][n] = requantize(b[n] + sum_k x[m][k] * w[k][n], s[n])` with int8 weights packed
    /// in panels of 16 columns and groups of four k (`w[panel][k / 4][column][k % 4]`, zero
    /// padded): per group, one broadcast of four inputs per row and one `vpdpbusd` per row
    /// tile row. Rows are read in place when K is a multiple of 4; otherwise each tile's rows
    /// are copied once per block of panels into zero-padded groups of four.
    #[inline(never)]
    pub fn u8_gemm_avx512vnni(x, w, b, s, y, q, rows, panels) {
        let kq = K.div_ceil(4);
        let direct = K % 4 == 0;
        // With K not a multiple of 4, the current tile's rows in zero-padded groups of four,
        // copied when the tile changes: a tile's panels come one after another.
        let mut quads = [[0u32; K]; QGEMM_MR];
        let mut copied = usize::MAX;
        gemm_tiles(N, NB, [QGEMM_MR, QGEMM_NR], rows, panels, |m0, count, p, cols| {
            if !direct && copied != m0 {
                for (r, row) in quads.iter_mut().take(count).enumerate() {
                    let src = &x[(m0 + r) * K..][..K];
                    for (j, quad) in row.iter_mut().take(kq).enumerate() {
                        let mut bytes = [0u8; 4];
                        let n = (K - 4 * j).min(4);
                        bytes[..n].copy_from_slice(&src[4 * j..4 * j + n]);
                        *quad = u32::from_le_bytes(bytes);
                    }
                }
                copied = m0;
            }
            // SAFETY: `quads` holds `count` rows of `kq` groups (row stride K), or x does (rows
            // m0.., stride K / 4 groups, when K % 4 == 0); panel p's kq * 64 weights and 16
            // biases and scales exist since p < NP/16; at most `cols` bytes from p*16 of rows
            // m0..m0+count are stored, inside y and this task's part of it.
            unsafe {
                let wp = w.as_ptr().add(p * kq * 4 * QGEMM_NR);
                let yp = y.as_mut_ptr().add(m0 * N + p * QGEMM_NR);
                let (bp, sp) = (b.as_ptr().add(p * QGEMM_NR), s.as_ptr().add(p * QGEMM_NR));
                let (xp, xs) = if direct {
                    (x.as_ptr().add(m0 * K) as *const u32, K / 4)
                } else {
                    (quads.as_ptr() as *const u32, K)
                };
                match count {
                    12 => tile::<12, K, N>(xp, xs, wp, bp, sp, yp, cols, q),
                    8..=11 => {
                        tile::<8, K, N>(xp, xs, wp, bp, sp, yp, cols, q);
                        rest::<K, N>(count - 8, xp.add(8 * xs), xs, wp, bp, sp, yp.add(8 * N), cols, q);
                    }
                    4..=7 => {
                        tile::<4, K, N>(xp, xs, wp, bp, sp, yp, cols, q);
                        rest::<K, N>(count - 4, xp.add(4 * xs), xs, wp, bp, sp, yp.add(4 * N), cols, q);
                    }
                    _ => rest::<K, N>(count, xp, xs, wp, bp, sp, yp, cols, q),
                }
            }
        });
    }
}

/// Fewer than four rows, one at a time.
///
/// # Safety
/// As [`tile`] with `rows` rows.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn rest<const K: usize, const N: usize>(
    rows: usize,
    x: *const u32,
    xs: usize,
    w: *const i8,
    b: *const i32,
    s: *const f32,
    y: *mut u8,
    cols: usize,
    q: Requant,
) {
    for r in 0..rows {
        // SAFETY: row r < rows of the caller's tile.
        unsafe { tile::<1, K, N>(x.add(r * xs), xs, w, b, s, y.add(r * N), cols, q) };
    }
}

/// One `MR` x 16 tile: MR int32 accumulators, `K / 4` steps of one vector of weights (16
/// columns x 4 k) and MR broadcast groups of four inputs, then the requantization.
///
/// # Safety
/// `x` must point to MR rows of `K.div_ceil(4)` groups of four bytes (row stride `xs` groups,
/// any alignment), `w` to that many groups of 64 int8 weights, `b` and `s` to 16 values, `y`
/// to MR rows with `cols` writable bytes each (row stride N).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile<const MR: usize, const K: usize, const N: usize>(
    x: *const u32,
    xs: usize,
    w: *const i8,
    b: *const i32,
    s: *const f32,
    y: *mut u8,
    cols: usize,
    q: Requant,
) {
    unsafe {
        let mut acc = [_mm512_loadu_si512(b as *const __m512i); MR];
        for j in 0..K.div_ceil(4) {
            let wv = _mm512_loadu_si512(w.add(j * 64) as *const __m512i);
            for (r, a) in acc.iter_mut().enumerate() {
                let xv = _mm512_set1_epi32(x.add(r * xs + j).read_unaligned() as i32);
                *a = _mm512_dpbusd_epi32(*a, xv, wv);
            }
        }
        let sv = _mm512_loadu_ps(s);
        for (r, a) in acc.iter().enumerate() {
            store_bytes(y.add(r * N), requant16(*a, sv, q), cols);
        }
    }
}

/// `scalar::requantize` of 16 int32 sums by 16 scales, lane by lane (f32 product, clamp,
/// magic-number rounding), as 16 bytes.
#[inline(always)]
fn requant16(a: __m512i, sv: __m512, q: Requant) -> __m128i {
    // SAFETY: arithmetic on registers, with the features the build enables.
    unsafe {
        let lo = _mm512_set1_ps((q.lo - q.zero) as f32);
        let hi = _mm512_set1_ps((q.hi - q.zero) as f32);
        let magic = _mm512_set1_ps(crate::scalar::MAGIC);
        let bias = _mm512_set1_epi32(crate::scalar::MAGIC.to_bits() as i32 - q.zero);
        let v = _mm512_mul_ps(_mm512_cvtepi32_ps(a), sv);
        let v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
        // Values in q.lo..=q.hi, inside 0..=255.
        _mm512_cvtusepi32_epi8(_mm512_sub_epi32(
            _mm512_castps_si512(_mm512_add_ps(v, magic)),
            bias,
        ))
    }
}

qdwconv_kernel! {
    w = i8, wn = C.div_ceil(32) * KH.div_ceil(4) * KW * 128;
    /// Quantized depthwise conv, exact, 32 channels at a time with `vpdpbusd`: four kernel
    /// rows' inputs at one input column (32 bytes each) are interleaved by AVX2's byte and word
    /// unpacks into each channel's four taps side by side (two 512-bit vectors, the channels
    /// in the order `QDwLayout::Quads32` packs the weights; a kernel of fewer than four rows has
    /// zero weights for the rest), and one `vpdpbusd` per vector multiplies them by the
    /// weights. A 3-wide kernel with stride 1 or 2 interleaves each input column of a row once
    /// and keeps it for the next output pixels; other kernels and the border pixels interleave
    /// per pixel. Inputs outside the image are the zero point, and every sum starts from
    /// `b - xz * (sum of the channel's weights)`, so the padding adds nothing, as in the scalar
    /// twin. Blocks of 32 channels load their inputs directly, a last block of a multiple of 4
    /// channels with a masked load, others through a copy; the outputs go back to channel
    /// order with four dword and qword unpacks.
    #[inline(never)]
    pub fn u8_dwconv_avx512vnni(x, xz, w, b, s, y, q, rows) {
        let (first, last) = interior(PL, SW, W, KW, OW);
        let zpad = [xz as u8; 32];
        let dw = VnniDw {
            x: x.as_ptr(),
            y: y.as_mut_ptr(),
            zpad: zpad.as_ptr(),
            g: DwGeometry { w: W, c: C, sh: SH, sw: SW, pt: PT, pl: PL, h: H, ow: OW, first, last, xz },
        };
        for blk in 0..C.div_ceil(32) {
            let c0 = blk * 32;
            let n = (C - c0).min(32);
            // Biases and scales in the weights' channel order.
            let (mut bt, mut st) = ([0i32; 32], [0f32; 32]);
            for (p, (bv, sv)) in bt.iter_mut().zip(st.iter_mut()).enumerate() {
                let ch = 4 * QUADS32_ORDER[p / 4] + p % 4;
                if ch < n {
                    (*bv, *sv) = (b[c0 + ch], s[c0 + ch]);
                }
            }
            // SAFETY: the block's weights are KH.div_ceil(4) * KW * 128 from blk times that,
            // inside WN; the rows are this task's; `block` reads inputs of channels c0..c0+n
            // (32 bytes from c0 only when that many channels exist, else masked or copied) at
            // pixels inside the image, or `zpad`, and stores n bytes per output pixel of those
            // rows.
            unsafe {
                let wb = w.as_ptr().add(blk * KH.div_ceil(4) * KW * 128);
                let (bp, sp) = (bt.as_ptr(), st.as_ptr());
                if n == 32 {
                    dw.block::<32, KH, KW, C, SW>(wb, bp, sp, c0, n, rows.clone(), q);
                } else if n % 4 == 0 {
                    dw.block::<4, KH, KW, C, SW>(wb, bp, sp, c0, n, rows.clone(), q);
                } else {
                    dw.block::<0, KH, KW, C, SW>(wb, bp, sp, c0, n, rows.clone(), q);
                }
            }
        }
    }
}

qconv_kernel! {
    w = i8, wn = CO.next_multiple_of(16) * CI * KH * KW.div_ceil(4) * 4;
    /// Quantized dense 2-D convolution (a quantized model's stem) with `vpdpbusd`, exact:
    /// weights `[COP/16][CI][KH][KW/4][16][4]` int8 (`QConvLayout::Quads16`); per input
    /// channel, kernel row and group of four kernel columns, the four inputs of a pixel
    /// broadcast (one 32-bit load from an input whose columns are adjacent bytes, an NCHW
    /// one; otherwise gathered) times 16 output channels' four weights. Pixels go eight at a
    /// time with two blocks of 16 output channels (16 accumulators); the border pixels, whose
    /// windows the padding clips, one at a time with their inputs gathered (the zero point
    /// outside). Every sum starts from `b - xz * (sum of the channel's weights)`, so inputs
    /// outside the image, read as the zero point, add nothing, as in the scalar twin.
    #[inline(never)]
    pub fn u8_conv_avx512vnni(x, xz, w, b, s, y, q, rows) {
        let (first, last) = interior(PL, SW, W, KW, OW);
        let groups = KW.div_ceil(4);
        let blocks = CO.div_ceil(16);
        let stem = VnniConv {
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
        // SAFETY: `chunk` reads inputs inside x (the fast pixels' 32-bit reads checked against
        // XN, the others gathered inside the image) and weights of blocks below COP/16 inside
        // WN; it stores min(16, CO - 16 * block) bytes per pixel of this task's rows.
        unsafe {
            let mut cb = 0;
            while cb < blocks {
                let nb = (blocks - cb).min(2);
                // Starts and scales of the blocks cb.. (zero padded).
                let mut start = [_mm512_setzero_si512(); 2];
                let mut scale = [_mm512_setzero_ps(); 2];
                let ones = _mm512_set1_epi8(1);
                for j in 0..nb {
                    let c0 = (cb + j) * 16;
                    let n = (CO - c0).min(16);
                    let (mut bt, mut st) = ([0i32; 16], [0f32; 16]);
                    bt[..n].copy_from_slice(&b[c0..c0 + n]);
                    st[..n].copy_from_slice(&s[c0..c0 + n]);
                    let mut sum = _mm512_setzero_si512();
                    for t in 0..CI * KH * groups {
                        let wv = _mm512_loadu_si512(w.as_ptr().add(((cb + j) * CI * KH * groups + t) * 64) as *const __m512i);
                        sum = _mm512_dpbusd_epi32(sum, ones, wv);
                    }
                    let bv = _mm512_loadu_si512(bt.as_ptr() as *const __m512i);
                    start[j] = _mm512_sub_epi32(bv, _mm512_mullo_epi32(sum, _mm512_set1_epi32(xz)));
                    scale[j] = _mm512_loadu_ps(st.as_ptr());
                }
                let wb = w.as_ptr().add(cb * CI * KH * groups * 64);
                let out = |oy: usize, ox: usize| y.as_mut_ptr().add((oy * OW + ox) * CO + cb * 16);
                let n = CO - cb * 16;
                for oy in rows.clone() {
                    for ox in (0..first).chain(last..OW) {
                        if nb == 2 {
                            stem.chunk::<1, 2, false>(wb, start, scale, q, oy, ox, out(oy, ox), CO, n);
                        } else {
                            stem.chunk::<1, 1, false>(wb, start, scale, q, oy, ox, out(oy, ox), CO, n);
                        }
                    }
                    let mut ox = first;
                    while ox < last {
                        let p = if ox + 8 <= last { 8 } else { 1 };
                        let fast = XSX == 1 && stem.shape.fits(oy, ox + p - 1, 4 * groups);
                        let at = out(oy, ox);
                        match (p, nb, fast) {
                            (8, 2, true) => stem.chunk::<8, 2, true>(wb, start, scale, q, oy, ox, at, CO, n),
                            (8, _, true) => stem.chunk::<8, 1, true>(wb, start, scale, q, oy, ox, at, CO, n),
                            (1, 2, true) => stem.chunk::<1, 2, true>(wb, start, scale, q, oy, ox, at, CO, n),
                            (1, _, true) => stem.chunk::<1, 1, true>(wb, start, scale, q, oy, ox, at, CO, n),
                            (_, 2, _) => {
                                for i in 0..p {
                                    stem.chunk::<1, 2, false>(wb, start, scale, q, oy, ox + i, out(oy, ox + i), CO, n);
                                }
                            }
                            _ => {
                                for i in 0..p {
                                    stem.chunk::<1, 1, false>(wb, start, scale, q, oy, ox + i, out(oy, ox + i), CO, n);
                                }
                            }
                        }
                        ox += p;
                    }
                }
                cb += nb;
            }
        }
    }
}

/// What [`u8_conv_avx512vnni`]'s pixel chunks share: the input, its zero point, the shape and
/// the groups of four kernel columns.
struct VnniConv {
    x: *const u8,
    xz: i32,
    shape: ConvShape,
    groups: usize,
}

impl VnniConv {
    /// `P` pixels from `(oy, ox)` of `NB` blocks of 16 output channels (weights from `wb`,
    /// sums starting from `start`, requantized by `scale`), stored from `y` (pixel stride
    /// `co`, the first `n` channels); `FAST` reads each group's four inputs with one 32-bit
    /// load (interior pixels of an input with adjacent columns whose reads [`ConvShape::fits`]),
    /// else gathers them (the zero point outside the image).
    ///
    /// # Safety
    /// The pixels are output pixels of this task's rows; `wb` the first block's weights with
    /// `NB` blocks of them; `y` the first pixel's output at the first block's channels.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn chunk<const P: usize, const NB: usize, const FAST: bool>(
        &self,
        wb: *const i8,
        start: [__m512i; 2],
        scale: [__m512; 2],
        q: Requant,
        oy: usize,
        ox: usize,
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
            let mut acc = [[start[0], start[1]]; P];
            let xz4 = i32::from_ne_bytes([self.xz as u8; 4]);
            for c in 0..ci {
                for ky in 0..kh {
                    let iy = self.shape.row(oy, ky);
                    for g in 0..groups {
                        let wv: [__m512i; NB] = core::array::from_fn(|j| {
                            _mm512_loadu_si512(wb.add((((j * ci + c) * kh + ky) * groups + g) * 64)
                                as *const __m512i)
                        });
                        for (p, a) in acc.iter_mut().enumerate() {
                            let v = match iy {
                                None => xz4,
                                Some(iy) if FAST => {
                                    let at =
                                        c * xsc + iy * xsy + ((ox + p) * sw - pl + 4 * g) * xsx;
                                    (self.x.add(at) as *const i32).read_unaligned()
                                }
                                Some(iy) => {
                                    let bytes: [u8; 4] = core::array::from_fn(|j| {
                                        let kx = 4 * g + j;
                                        let ix = ((ox + p) * sw + kx).wrapping_sub(pl);
                                        if kx >= kw {
                                            0
                                        } else if ix < w {
                                            *self.x.add(c * xsc + iy * xsy + ix * xsx)
                                        } else {
                                            self.xz as u8
                                        }
                                    });
                                    i32::from_ne_bytes(bytes)
                                }
                            };
                            let bc = _mm512_set1_epi32(v);
                            for (aj, &wj) in a.iter_mut().zip(&wv) {
                                *aj = _mm512_dpbusd_epi32(*aj, bc, wj);
                            }
                        }
                    }
                }
            }
            for (p, a) in acc.iter().enumerate() {
                for (j, &aj) in a.iter().enumerate().take(NB) {
                    let m = n.saturating_sub(16 * j).min(16);
                    store_bytes(y.add(p * co + 16 * j), requant16(aj, scale[j], q), m);
                }
            }
        }
    }
}

/// Where each group of four channels of a 32-channel block lies in the interleaved vectors
/// (`mnetc_targets::QUADS32_ORDER`, which packs the weights; the bit reversal of three bits,
/// its own inverse).
const QUADS32_ORDER: [usize; 8] = [0, 4, 2, 6, 1, 5, 3, 7];

/// What [`u8_dwconv_avx512vnni`]'s channel blocks share: the input and output, 32 bytes of the
/// input's zero point (what padding reads) and the shape.
struct VnniDw {
    x: *const u8,
    y: *mut u8,
    zpad: *const u8,
    g: DwGeometry,
}

/// Input column `ix` of four rows, interleaved into the 32 channels' four rows side by side
/// (two vectors, the channels in `QDwLayout::Quads32`'s order).
///
/// # Safety
/// `ix < W` for rows inside the image; 32 bytes readable from each row's byte when `L` is
/// 32, `n` when it is 0, `mask`'s dwords when it is 4.
#[inline(always)]
unsafe fn column<const L: usize>(r: &TapRows, mask: __m256i, ix: usize, n: usize) -> [__m512i; 2] {
    unsafe {
        let v: [__m256i; 4] = core::array::from_fn(|j| {
            if !r.live[j] {
                return _mm256_setzero_si256();
            }
            let p = r.p[j].add(ix * r.step[j]);
            match L {
                32 => _mm256_loadu_si256(p as *const __m256i),
                4 => _mm256_maskload_epi32(p as *const i32, mask),
                _ => {
                    let mut tmp = [0u8; 32];
                    core::ptr::copy_nonoverlapping(p, tmp.as_mut_ptr(), n);
                    _mm256_loadu_si256(tmp.as_ptr() as *const __m256i)
                }
            }
        });
        let a0 = _mm256_unpacklo_epi8(v[0], v[1]);
        let a1 = _mm256_unpackhi_epi8(v[0], v[1]);
        let b0 = _mm256_unpacklo_epi8(v[2], v[3]);
        let b1 = _mm256_unpackhi_epi8(v[2], v[3]);
        // t0: channels 0-3 | 16-19, t1: 4-7 | 20-23, t2: 8-11 | 24-27, t3: 12-15 | 28-31.
        let t0 = _mm256_unpacklo_epi16(a0, b0);
        let t1 = _mm256_unpackhi_epi16(a0, b0);
        let t2 = _mm256_unpacklo_epi16(a1, b1);
        let t3 = _mm256_unpackhi_epi16(a1, b1);
        [
            _mm512_inserti64x4::<1>(_mm512_castsi256_si512(t0), t2),
            _mm512_inserti64x4::<1>(_mm512_castsi256_si512(t1), t3),
        ]
    }
}

/// Requantizes a pixel's 32 sums (in the weights' channel order) by the scales at `sp` and
/// stores the first `n` bytes at `y` in channel order.
///
/// # Safety
/// `sp` must point to 32 floats, `y` to `n` writable bytes.
#[inline(always)]
unsafe fn put(y: *mut u8, acc: [__m512i; 2], sp: *const f32, q: Requant, n: usize) {
    unsafe {
        // b0: channels 0-3, 16-19, 8-11, 24-27; b1: 4-7, 20-23, 12-15, 28-31.
        let b0 = requant16(acc[0], _mm512_loadu_ps(sp), q);
        let b1 = requant16(acc[1], _mm512_loadu_ps(sp.add(16)), q);
        let l = _mm_unpacklo_epi32(b0, b1); // 0-3, 4-7, 16-19, 20-23
        let h = _mm_unpackhi_epi32(b0, b1); // 8-11, 12-15, 24-27, 28-31
        let (lo, hi) = (_mm_unpacklo_epi64(l, h), _mm_unpackhi_epi64(l, h));
        if n == 32 {
            _mm_storeu_si128(y as *mut __m128i, lo);
            _mm_storeu_si128(y.add(16) as *mut __m128i, hi);
        } else {
            store_bytes(y, lo, n.min(16));
            if n > 16 {
                store_bytes(y.add(16), hi, n - 16);
            }
        }
    }
}

/// The sums of one pixel of a 3-wide kernel from its window's three interleaved columns.
#[inline(always)]
fn dot3(start: [__m512i; 2], wv: &[[__m512i; 2]; 3], t: [&[__m512i; 2]; 3]) -> [__m512i; 2] {
    let mut acc = start;
    for (tc, wc) in t.iter().zip(wv) {
        for ((a, &x), &w) in acc.iter_mut().zip(tc.iter()).zip(wc) {
            // SAFETY: arithmetic on registers, with the features the build enables.
            *a = unsafe { _mm512_dpbusd_epi32(*a, x, w) };
        }
    }
    acc
}

/// `count` interior output pixels of a row of a 3-wide kernel (at most 4 rows) with stride `SW`
/// of 1 or 2, the first reading input column `ix` and stored at `y` (pixel stride `C`), each
/// input column interleaved once ([`window3_columns`]).
///
/// # Safety
/// The window's columns `ix..ix + (count - 1) * SW + 3` inside the input; as
/// [`VnniDw::block`]'s for the rest.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn row3<const L: usize, const C: usize, const SW: usize>(
    r: &TapRows,
    mask: __m256i,
    wb: *const i8,
    start: [__m512i; 2],
    y: *mut u8,
    count: usize,
    ix: usize,
    sp: *const f32,
    q: Requant,
    n: usize,
) {
    unsafe {
        let wv: [[__m512i; 2]; 3] = core::array::from_fn(|kx| {
            core::array::from_fn(
                |i| _mm512_loadu_si512(wb.add((kx * 2 + i) * 64) as *const __m512i),
            )
        });
        window3_columns::<_, SW>(
            count,
            ix,
            |ix| column::<L>(r, mask, ix, n),
            |o, t| put(y.add(o * C), dot3(start, &wv, t), sp, q, n),
        );
    }
}

impl VnniDw {
    /// Output rows `rows` of channels `c0..c0 + n` (32 from `c0` in the weights `wb`, biases
    /// `bp` and scales `sp`, all in the weights' channel order). `L` is how inputs load: 32
    /// bytes, (4) the first `n / 4` dwords, or (0) through a copy of `n` bytes.
    ///
    /// # Safety
    /// As the kernel's: `wb` the block's weights, `bp` and `sp` 32 values, `c0 + n <= C` with
    /// `n == 32` if `L == 32` and `n % 4 == 0` if `L == 4`, `rows` this task's.
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
            let n = if L == 32 { 32 } else { n };
            let mask = _mm256_cmpgt_epi32(
                _mm256_set1_epi32((n / 4) as i32),
                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
            );
            // The sums start from b - xz * (sum of the weights).
            let ones = _mm512_set1_epi8(1);
            let mut sum = [_mm512_setzero_si512(); 2];
            for t in 0..KH.div_ceil(4) * KW {
                for (i, v) in sum.iter_mut().enumerate() {
                    let wv = _mm512_loadu_si512(wb.add((t * 2 + i) * 64) as *const __m512i);
                    *v = _mm512_dpbusd_epi32(*v, ones, wv);
                }
            }
            let xzv = _mm512_set1_epi32(self.g.xz);
            let start: [__m512i; 2] = core::array::from_fn(|i| {
                let bv = _mm512_loadu_si512(bp.add(16 * i) as *const __m512i);
                _mm512_sub_epi32(bv, _mm512_mullo_epi32(sum[i], xzv))
            });
            let fast = KH <= 4 && KW == 3 && (SW == 1 || SW == 2);
            for oy in rows {
                let yrow = self.y.add(oy * ow * C + c0);
                if !fast {
                    for ox in 0..ow {
                        let acc = self.pixel::<L, KH, KW, SW>(wb, start, c0, n, mask, oy, ox);
                        put(yrow.add(ox * C), acc, sp, q, n);
                    }
                    continue;
                }
                for ox in (0..first).chain(last..ow) {
                    let acc = self.pixel::<L, KH, KW, SW>(wb, start, c0, n, mask, oy, ox);
                    put(yrow.add(ox * C), acc, sp, q, n);
                }
                if first < last {
                    let r = self.g.rows(self.x, self.zpad, KH, oy, 0, c0);
                    let ix = first * SW - pl;
                    row3::<L, C, SW>(
                        &r,
                        mask,
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
    /// As [`VnniDw::block`]'s; `oy < OH`, `ox < OW`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn pixel<const L: usize, const KH: usize, const KW: usize, const SW: usize>(
        &self,
        wb: *const i8,
        start: [__m512i; 2],
        c0: usize,
        n: usize,
        mask: __m256i,
        oy: usize,
        ox: usize,
    ) -> [__m512i; 2] {
        unsafe {
            let (w, pl) = (self.g.w, self.g.pl);
            let mut acc = start;
            for g in 0..KH.div_ceil(4) {
                let r = self.g.rows(self.x, self.zpad, KH, oy, g, c0);
                let outside = TapRows {
                    p: [self.zpad; 4],
                    step: [0; 4],
                    live: r.live,
                };
                for kx in 0..KW {
                    let ix = (ox * SW + kx).wrapping_sub(pl);
                    let t = if ix < w {
                        column::<L>(&r, mask, ix, n)
                    } else {
                        column::<L>(&outside, mask, 0, n)
                    };
                    for (i, a) in acc.iter_mut().enumerate() {
                        let wv = _mm512_loadu_si512(
                            wb.add(((g * KW + kx) * 2 + i) * 64) as *const __m512i
                        );
                        *a = _mm512_dpbusd_epi32(*a, t[i], wv);
                    }
                }
            }
            acc
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    #[test]
    fn the_cpu_has_avx512_vnni() {
        assert!(std::is_x86_feature_detected!("avx512vnni"));
    }

    crate::conformance::qgemm_cases! {
        mnetc_targets::AVX512VNNI,
        crate::avx512vnni::u8_gemm_avx512vnni
    }

    #[test]
    fn the_channel_order_is_the_packing_order() {
        assert_eq!(super::QUADS32_ORDER, mnetc_targets::QUADS32_ORDER);
    }

    crate::conformance::qdw_cases! {
        mnetc_targets::AVX512VNNI,
        crate::avx512vnni::u8_dwconv_avx512vnni
    }

    crate::conformance::qconv_cases! {
        mnetc_targets::AVX512VNNI,
        crate::avx512vnni::u8_conv_avx512vnni
    }

    /// The cases ran exactly the kernels the target lists from this module: the quantized GEMM,
    /// depthwise and dense conv.
    #[test]
    fn the_kernels_tested_are_the_kernels_listed() {
        use mnetc_targets::Kernel;
        let qgemm = crate::conformance::qgemm_case!(
            crate::avx512vnni::u8_gemm_avx512vnni,
            mnetc_targets::AVX512VNNI,
            1,
            1,
            1
        );
        let qdw = crate::conformance::qdw_case!(
            crate::avx512vnni::u8_dwconv_avx512vnni,
            mnetc_targets::AVX512VNNI,
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
            crate::avx512vnni::u8_conv_avx512vnni,
            mnetc_targets::AVX512VNNI,
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
            &mnetc_targets::AVX512VNNI,
            &[
                (Kernel::QGemm, qgemm),
                (Kernel::QDwConv, qdw),
                (Kernel::QConv, qconv),
            ],
        );
    }
}
