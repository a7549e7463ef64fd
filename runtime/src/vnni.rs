//! The quantized kernels of the two x86 dot-product targets, written once: `avx512vnni`'s with
//! one 512-bit `vpdpbusd` per 16 int32 lanes, `avxvnni`'s (AVX-VNNI, VEX-encoded) with two
//! 256-bit ones. Each target module implements [`Lanes16`] for its vectors and instantiates
//! the GEMM, depthwise and stem conv here with its register tile; the packing
//! (`QGemmLayout` with 16 columns by 4 k, `QDwLayout::Quads32`, `QConvLayout::Quads16`) and
//! the arithmetic are the same, so both give the scalar twins' bits.
//!
//! `vpdpbusd` adds four uint8 x int8 products into each 32-bit lane without saturating: exact.
//! `unsafe` here is the intrinsics (callable because the features are enabled for the whole
//! crate) and unaligned loads and stores through raw pointers, every one inside the arrays
//! whose lengths the kernels' inline `const` assertions tie to the shapes.

use crate::avx2::store_bytes;
use crate::pool::TaskOut;
use crate::scalar::{ConvShape, DwGeometry, Requant, TapRows, gemm_tiles, window3_columns};
use core::arch::x86_64::*;
use core::ops::Range;

/// Sixteen int32 lanes as a target's `vpdpbusd` works on them: one 512-bit vector
/// (`avx512vnni`) or two 256-bit ones (`avxvnni`). Lane `i` of a load is bytes `4i..4i + 4`.
pub(crate) trait Lanes16: Copy {
    /// Sixteen f32 scales.
    type F: Copy;
    /// 64 bytes from `p`, any alignment.
    ///
    /// # Safety
    /// `p` must have 64 readable bytes.
    unsafe fn load(p: *const u8) -> Self;
    /// 16 floats from `p`, any alignment.
    ///
    /// # Safety
    /// `p` must have 16 readable floats.
    unsafe fn load_f32(p: *const f32) -> Self::F;
    fn splat(v: i32) -> Self;
    /// The lanes of two 256-bit halves, lanes 0-7 from `lo`.
    fn halves(lo: __m256i, hi: __m256i) -> Self;
    /// Each lane plus the four products of its uint8 bytes of `x` by its int8 bytes of `w`.
    fn dot(self, x: Self, w: Self) -> Self;
    /// `self - a * k`, lane by lane.
    fn sub_times(self, a: Self, k: i32) -> Self;
    /// `scalar::requantize` of each lane by its scale (f32 product, clamp, magic-number
    /// rounding), as 16 bytes in lane order.
    fn requant(self, s: Self::F, q: Requant) -> __m128i;
}

/// The quantized GEMM (`y[m][n] = requantize(b[n] + sum_k x[m][k] * w[k][n], s[n])`) of a
/// task's `rows` and `panels` with int8 weights packed in panels of 16 columns and groups of
/// four k (`w[panel][k / 4][column][k % 4]`, zero padded): per group, one broadcast of four
/// inputs per row and one dot per row of an `MR` x 16 tile. Rows are read in place when K
/// is a multiple of 4; otherwise each tile's rows are copied once per block of `nb` panels
/// into zero-padded groups of four.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<V: Lanes16, const MR: usize, const K: usize, const N: usize>(
    x: &[u8],
    w: &[i8],
    b: &[i32],
    s: &[f32],
    y: TaskOut<'_, u8>,
    q: Requant,
    nb: usize,
    rows: Range<usize>,
    panels: Range<usize>,
) {
    let kq = K.div_ceil(4);
    let direct = K.is_multiple_of(4);
    // With K not a multiple of 4, the current tile's rows in zero-padded groups of four,
    // copied when the tile changes: a tile's panels come one after another.
    let mut quads = [[0u32; K]; MR];
    let mut copied = usize::MAX;
    gemm_tiles(N, nb, [MR, 16], rows, panels, |m0, count, p, cols| {
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
        // biases and scales exist since p is one of the panels; at most `cols` bytes from
        // p*16 of rows m0..m0+count are stored, inside y and this task's part of it.
        unsafe {
            let wp = w.as_ptr().add(p * kq * 64);
            let yp = y.as_mut_ptr().add(m0 * N + p * 16);
            let (bp, sp) = (b.as_ptr().add(p * 16), s.as_ptr().add(p * 16));
            let (xp, xs) = if direct {
                (x.as_ptr().add(m0 * K) as *const u32, K / 4)
            } else {
                (quads.as_ptr() as *const u32, K)
            };
            let t = Tile {
                xs,
                w: wp,
                b: bp,
                s: sp,
                cols,
                q,
            };
            if count == MR {
                t.rows::<V, MR, K, N>(xp, yp);
            } else if MR > 8 && count >= 8 {
                t.rows::<V, 8, K, N>(xp, yp);
                t.one_by_one::<V, K, N>(count - 8, xp.add(8 * xs), yp.add(8 * N));
            } else if count >= 4 {
                t.rows::<V, 4, K, N>(xp, yp);
                t.one_by_one::<V, K, N>(count - 4, xp.add(4 * xs), yp.add(4 * N));
            } else {
                t.one_by_one::<V, K, N>(count, xp, yp);
            }
        }
    });
}

/// What the row groups of one GEMM tile share: the row stride of its inputs (in groups of
/// four), the panel's weights, biases and scales, its columns inside N, the requantization.
struct Tile {
    xs: usize,
    w: *const i8,
    b: *const i32,
    s: *const f32,
    cols: usize,
    q: Requant,
}

impl Tile {
    /// `rows` rows one at a time.
    ///
    /// # Safety
    /// As [`Tile::rows`] with `rows` rows.
    #[inline(always)]
    unsafe fn one_by_one<V: Lanes16, const K: usize, const N: usize>(
        &self,
        rows: usize,
        x: *const u32,
        y: *mut u8,
    ) {
        for r in 0..rows {
            // SAFETY: row r < rows of the caller's tile.
            unsafe { self.rows::<V, 1, K, N>(x.add(r * self.xs), y.add(r * N)) };
        }
    }

    /// `R` rows by 16 columns: R accumulators, `K / 4` steps of one load of weights (16
    /// columns x 4 k) and R broadcast groups of four inputs, then the requantization.
    ///
    /// # Safety
    /// `x` must point to R rows of `K.div_ceil(4)` groups of four bytes (row stride `xs`
    /// groups, any alignment), `w` to that many groups of 64 int8 weights, `b` and `s` to 16
    /// values, `y` to R rows with `cols` writable bytes each (row stride N).
    #[inline(always)]
    unsafe fn rows<V: Lanes16, const R: usize, const K: usize, const N: usize>(
        &self,
        x: *const u32,
        y: *mut u8,
    ) {
        unsafe {
            let mut acc = [V::load(self.b as *const u8); R];
            for j in 0..K.div_ceil(4) {
                let wv = V::load(self.w.add(j * 64) as *const u8);
                for (r, a) in acc.iter_mut().enumerate() {
                    let xv = V::splat(x.add(r * self.xs + j).read_unaligned() as i32);
                    *a = a.dot(xv, wv);
                }
            }
            let sv = V::load_f32(self.s);
            for (r, a) in acc.iter().enumerate() {
                store_bytes(y.add(r * N), a.requant(sv, self.q), self.cols);
            }
        }
    }
}

/// The quantized depthwise conv of a task's `rows`, 32 channels at a time: four kernel rows'
/// inputs at one input column (32 bytes each) are interleaved by AVX2's byte and word unpacks
/// into each channel's four taps side by side (two sets of 16 lanes, the channels in the order
/// `QDwLayout::Quads32` packs the weights; a kernel of fewer than four rows has zero weights
/// for the rest), and one dot per set multiplies them by the weights. A 3-wide kernel with
/// stride 1 or 2 interleaves each input column of a row once and keeps it for the next output
/// pixels; other kernels and the border pixels interleave per pixel. Inputs outside the image
/// are the zero point, and every sum starts from `b - xz * (sum of the channel's weights)`, so
/// the padding adds nothing, as in the scalar twin. Blocks of 32 channels load their inputs
/// directly, a last block of a multiple of 4 channels with a masked load, others through a
/// copy; the outputs go back to channel order with four dword and qword unpacks.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn dwconv<
    V: Lanes16,
    const KH: usize,
    const KW: usize,
    const C: usize,
    const SW: usize,
>(
    x: &[u8],
    w: &[i8],
    b: &[i32],
    s: &[f32],
    y: TaskOut<'_, u8>,
    q: Requant,
    g: DwGeometry,
    rows: Range<usize>,
) {
    let zpad = [g.xz as u8; 32];
    let dw = Dw {
        x: x.as_ptr(),
        y: y.as_mut_ptr(),
        zpad: zpad.as_ptr(),
        g,
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
        // inside the kernel's WN; the rows are this task's; `block` reads inputs of channels
        // c0..c0+n (32 bytes from c0 only when that many channels exist, else masked or
        // copied) at pixels inside the image, or `zpad`, and stores n bytes per output pixel
        // of those rows.
        unsafe {
            let wb = w.as_ptr().add(blk * KH.div_ceil(4) * KW * 128);
            let (bp, sp) = (bt.as_ptr(), st.as_ptr());
            if n == 32 {
                dw.block::<V, 32, KH, KW, C, SW>(wb, bp, sp, c0, n, rows.clone(), q);
            } else if n.is_multiple_of(4) {
                dw.block::<V, 4, KH, KW, C, SW>(wb, bp, sp, c0, n, rows.clone(), q);
            } else {
                dw.block::<V, 0, KH, KW, C, SW>(wb, bp, sp, c0, n, rows.clone(), q);
            }
        }
    }
}

/// Where each group of four channels of a 32-channel block lies in the interleaved vectors
/// (`mnetc_targets::QUADS32_ORDER`, which packs the weights; the bit reversal of three bits,
/// its own inverse).
pub(crate) const QUADS32_ORDER: [usize; 8] = [0, 4, 2, 6, 1, 5, 3, 7];

/// What [`dwconv`]'s channel blocks share: the input and output, 32 bytes of the input's zero
/// point (what padding reads) and the shape.
struct Dw {
    x: *const u8,
    y: *mut u8,
    zpad: *const u8,
    g: DwGeometry,
}

/// Input column `ix` of four rows, interleaved into the 32 channels' four rows side by side
/// (two sets of 16 lanes, the channels in `QDwLayout::Quads32`'s order).
///
/// # Safety
/// `ix < W` for rows inside the image; 32 bytes readable from each row's byte when `L` is
/// 32, `n` when it is 0, `mask`'s dwords when it is 4.
#[inline(always)]
unsafe fn column<V: Lanes16, const L: usize>(
    r: &TapRows,
    mask: __m256i,
    ix: usize,
    n: usize,
) -> [V; 2] {
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
        [V::halves(t0, t2), V::halves(t1, t3)]
    }
}

/// Requantizes a pixel's 32 sums (in the weights' channel order) by the scales at `sp` and
/// stores the first `n` bytes at `y` in channel order.
///
/// # Safety
/// `sp` must point to 32 floats, `y` to `n` writable bytes.
#[inline(always)]
unsafe fn put<V: Lanes16>(y: *mut u8, acc: [V; 2], sp: *const f32, q: Requant, n: usize) {
    unsafe {
        // b0: channels 0-3, 16-19, 8-11, 24-27; b1: 4-7, 20-23, 12-15, 28-31.
        let b0 = acc[0].requant(V::load_f32(sp), q);
        let b1 = acc[1].requant(V::load_f32(sp.add(16)), q);
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
fn dot3<V: Lanes16>(start: [V; 2], wv: &[[V; 2]; 3], t: [&[V; 2]; 3]) -> [V; 2] {
    let mut acc = start;
    for (tc, wc) in t.iter().zip(wv) {
        for ((a, &x), &w) in acc.iter_mut().zip(tc.iter()).zip(wc) {
            *a = a.dot(x, w);
        }
    }
    acc
}

/// `count` interior output pixels of a row of a 3-wide kernel (at most 4 rows) with stride `SW`
/// of 1 or 2, the first reading input column `ix` and stored at `y` (pixel stride `C`), each
/// input column interleaved once ([`window3_columns`]).
///
/// # Safety
/// The window's columns `ix..ix + (count - 1) * SW + 3` inside the input; as [`Dw::block`]'s
/// for the rest.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn row3<V: Lanes16, const L: usize, const C: usize, const SW: usize>(
    r: &TapRows,
    mask: __m256i,
    wb: *const i8,
    start: [V; 2],
    y: *mut u8,
    count: usize,
    ix: usize,
    sp: *const f32,
    q: Requant,
    n: usize,
) {
    unsafe {
        let wv: [[V; 2]; 3] = core::array::from_fn(|kx| {
            core::array::from_fn(|i| V::load(wb.add((kx * 2 + i) * 64) as *const u8))
        });
        window3_columns::<_, SW>(
            count,
            ix,
            |ix| column::<V, L>(r, mask, ix, n),
            |o, t| put(y.add(o * C), dot3(start, &wv, t), sp, q, n),
        );
    }
}

impl Dw {
    /// Output rows `rows` of channels `c0..c0 + n` (32 from `c0` in the weights `wb`, biases
    /// `bp` and scales `sp`, all in the weights' channel order). `L` is how inputs load: 32
    /// bytes, (4) the first `n / 4` dwords, or (0) through a copy of `n` bytes.
    ///
    /// # Safety
    /// As [`dwconv`]'s: `wb` the block's weights, `bp` and `sp` 32 values, `c0 + n <= C` with
    /// `n == 32` if `L == 32` and `n % 4 == 0` if `L == 4`, `rows` this task's.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn block<
        V: Lanes16,
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
        rows: Range<usize>,
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
            let ones = V::splat(0x0101_0101);
            let mut sum = [V::splat(0); 2];
            for t in 0..KH.div_ceil(4) * KW {
                for (i, v) in sum.iter_mut().enumerate() {
                    *v = v.dot(ones, V::load(wb.add((t * 2 + i) * 64) as *const u8));
                }
            }
            let start: [V; 2] = core::array::from_fn(|i| {
                V::load(bp.add(16 * i) as *const u8).sub_times(sum[i], self.g.xz)
            });
            let fast = KH <= 4 && KW == 3 && (SW == 1 || SW == 2);
            for oy in rows {
                let yrow = self.y.add(oy * ow * C + c0);
                if !fast {
                    for ox in 0..ow {
                        let acc = self.pixel::<V, L, KH, KW, SW>(wb, start, c0, n, mask, oy, ox);
                        put(yrow.add(ox * C), acc, sp, q, n);
                    }
                    continue;
                }
                for ox in (0..first).chain(last..ow) {
                    let acc = self.pixel::<V, L, KH, KW, SW>(wb, start, c0, n, mask, oy, ox);
                    put(yrow.add(ox * C), acc, sp, q, n);
                }
                if first < last {
                    let r = self.g.rows(self.x, self.zpad, KH, oy, 0, c0);
                    let ix = first * SW - pl;
                    row3::<V, L, C, SW>(
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
    /// As [`Dw::block`]'s; `oy < OH`, `ox < OW`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn pixel<
        V: Lanes16,
        const L: usize,
        const KH: usize,
        const KW: usize,
        const SW: usize,
    >(
        &self,
        wb: *const i8,
        start: [V; 2],
        c0: usize,
        n: usize,
        mask: __m256i,
        oy: usize,
        ox: usize,
    ) -> [V; 2] {
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
                        column::<V, L>(&r, mask, ix, n)
                    } else {
                        column::<V, L>(&outside, mask, 0, n)
                    };
                    for (i, a) in acc.iter_mut().enumerate() {
                        let wv = V::load(wb.add(((g * KW + kx) * 2 + i) * 64) as *const u8);
                        *a = a.dot(t[i], wv);
                    }
                }
            }
            acc
        }
    }
}

/// The quantized dense conv (a quantized model's stem) of a task's `rows`: weights
/// `[COP/16][CI][KH][KW/4][16][4]` int8 (`QConvLayout::Quads16`); per input channel, kernel
/// row and group of four kernel columns, the four inputs of a pixel broadcast (one 32-bit
/// load from an input whose columns are adjacent bytes, an NCHW one; otherwise gathered)
/// times 16 output channels' four weights. Pixels go `P` at a time with up to `NB` (1 or 2)
/// blocks of 16 output channels; the border pixels, whose windows the padding clips, one at
/// a time with their inputs gathered (the zero point outside). Every sum starts from
/// `b - xz * (sum of the channel's weights)`, so inputs outside the image, read as the zero
/// point, add nothing, as in the scalar twin. `first..last` are the interior output columns,
/// `co` the output channels and `ow` the output width.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv<V: Lanes16, const P: usize, const NB: usize>(
    x: &[u8],
    xz: i32,
    w: &[i8],
    b: &[i32],
    s: &[f32],
    y: TaskOut<'_, u8>,
    q: Requant,
    shape: ConvShape,
    [first, last, co, ow]: [usize; 4],
    rows: Range<usize>,
) {
    const { assert!(NB == 1 || NB == 2) };
    let groups = shape.kw.div_ceil(4);
    let blocks = co.div_ceil(16);
    let (ci, kh, xsx) = (shape.ci, shape.kh, shape.xsx);
    let stem = Stem {
        x: x.as_ptr(),
        xz,
        shape,
        groups,
    };
    // SAFETY: `chunk` reads inputs inside x (the fast pixels' 32-bit reads checked against
    // XN, the others gathered inside the image) and weights of blocks below COP/16 inside
    // WN; it stores min(16, co - 16 * block) bytes per pixel of this task's rows.
    unsafe {
        let mut cb = 0;
        while cb < blocks {
            let nb = (blocks - cb).min(NB);
            // Starts and scales of the blocks cb.. (zero padded).
            let mut start = [V::splat(0); 2];
            let zeros = [0f32; 16];
            let mut scale = [V::load_f32(zeros.as_ptr()); 2];
            let ones = V::splat(0x0101_0101);
            for j in 0..nb {
                let c0 = (cb + j) * 16;
                let n = (co - c0).min(16);
                let (mut bt, mut st) = ([0i32; 16], [0f32; 16]);
                bt[..n].copy_from_slice(&b[c0..c0 + n]);
                st[..n].copy_from_slice(&s[c0..c0 + n]);
                let mut sum = V::splat(0);
                for t in 0..ci * kh * groups {
                    let wv = V::load(
                        w.as_ptr().add(((cb + j) * ci * kh * groups + t) * 64) as *const u8
                    );
                    sum = sum.dot(ones, wv);
                }
                start[j] = V::load(bt.as_ptr() as *const u8).sub_times(sum, xz);
                scale[j] = V::load_f32(st.as_ptr());
            }
            let blk = Block {
                wb: w.as_ptr().add(cb * ci * kh * groups * 64),
                start,
                scale,
                q,
                co,
                n: co - cb * 16,
                nb,
            };
            let out = |oy: usize, ox: usize| y.as_mut_ptr().add((oy * ow + ox) * co + cb * 16);
            for oy in rows.clone() {
                for ox in (0..first).chain(last..ow) {
                    stem.pixels::<V, 1, false>(&blk, oy, ox, out(oy, ox));
                }
                let mut ox = first;
                while ox < last {
                    let p = if ox + P <= last { P } else { 1 };
                    let fast = xsx == 1 && stem.shape.fits(oy, ox + p - 1, 4 * groups);
                    match (p == P, fast) {
                        (true, true) => stem.pixels::<V, P, true>(&blk, oy, ox, out(oy, ox)),
                        (false, true) => stem.pixels::<V, 1, true>(&blk, oy, ox, out(oy, ox)),
                        (_, false) => {
                            for i in 0..p {
                                stem.pixels::<V, 1, false>(&blk, oy, ox + i, out(oy, ox + i));
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

/// One to two blocks of 16 output channels of [`conv`]: the first block's weights (`NB`
/// blocks of them from `wb`), the sums' starts and the scales, the requantization, the output
/// channels (a pixel's stride) and how many of them from the first block's, the blocks.
struct Block<V: Lanes16> {
    wb: *const i8,
    start: [V; 2],
    scale: [V::F; 2],
    q: Requant,
    co: usize,
    n: usize,
    nb: usize,
}

/// What [`conv`]'s pixel chunks share: the input, its zero point, the shape and the groups
/// of four kernel columns.
struct Stem {
    x: *const u8,
    xz: i32,
    shape: ConvShape,
    groups: usize,
}

impl Stem {
    /// `P` pixels from `(oy, ox)` of `blk`'s blocks, stored from `y`.
    ///
    /// # Safety
    /// As [`Stem::chunk`]'s.
    #[inline(always)]
    unsafe fn pixels<V: Lanes16, const P: usize, const FAST: bool>(
        &self,
        blk: &Block<V>,
        oy: usize,
        ox: usize,
        y: *mut u8,
    ) {
        // SAFETY: the caller's promise.
        unsafe {
            if blk.nb == 2 {
                self.chunk::<V, P, 2, FAST>(blk, oy, ox, y);
            } else {
                self.chunk::<V, P, 1, FAST>(blk, oy, ox, y);
            }
        }
    }

    /// `P` pixels from `(oy, ox)` of `NB` blocks of 16 output channels (`blk`'s), stored from
    /// `y` (pixel stride `blk.co`, the first `blk.n` channels); `FAST` reads each group's four
    /// inputs with one 32-bit load (interior pixels of an input with adjacent columns whose
    /// reads [`ConvShape::fits`]), else gathers them (the zero point outside the image).
    ///
    /// # Safety
    /// The pixels are output pixels of this task's rows; `blk.wb` the first block's weights
    /// with `NB` blocks of them; `y` the first pixel's output at the first block's channels.
    #[inline(always)]
    unsafe fn chunk<V: Lanes16, const P: usize, const NB: usize, const FAST: bool>(
        &self,
        blk: &Block<V>,
        oy: usize,
        ox: usize,
        y: *mut u8,
    ) {
        let Block {
            wb,
            start,
            scale,
            q,
            co,
            n,
            ..
        } = *blk;
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
                        let wv: [V; NB] = core::array::from_fn(|j| {
                            V::load(
                                wb.add((((j * ci + c) * kh + ky) * groups + g) * 64) as *const u8
                            )
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
                            let bc = V::splat(v);
                            for (aj, &wj) in a.iter_mut().zip(&wv) {
                                *aj = aj.dot(bc, wj);
                            }
                        }
                    }
                }
            }
            for (p, a) in acc.iter().enumerate() {
                for (j, &aj) in a.iter().enumerate().take(NB) {
                    let m = n.saturating_sub(16 * j).min(16);
                    store_bytes(y.add(p * co + 16 * j), aj.requant(scale[j], q), m);
                }
            }
        }
    }
}
