//! WebAssembly kernels with the 128-bit SIMD proposal (`core::arch::wasm32`, `simd128`; generated
//! `wasm-simd128` code refuses to build without it). Each kernel has a twin in [`crate::scalar`]
//! it is tested against (`crate::conformance`, run as a WASI program under Node.js).
//!
//! The engines that run them (V8, SpiderMonkey, JavaScriptCore; wasmtime) map `v128` onto the
//! host's vector registers: 16 on x86-64 (SSE/AVX), 32 on aarch64. The register tiles fit the
//! smaller file: the GEMM's 4 x 8 tile keeps 8 accumulators, two weight vectors and a broadcast
//! in 11. There is no fused multiply-add in `simd128` (relaxed SIMD's `f32x4.relaxed_madd` is
//! not enabled in every engine), so each product is a multiply then an add, rounded twice as
//! the scalar twin rounds it.
//!
//! `unsafe` here is the unaligned vector loads and stores through raw pointers (`v128.load` and
//! `v128.store` take any alignment), every one inside the arrays whose lengths the inline
//! `const` assertions tie to the shapes.

use crate::scalar::{MAGIC, Requant, act, gemm_tiles, interior, pad_init, requantize, taps};
use core::arch::wasm32::*;

/// Rows of the GEMM microkernel's register tile.
pub const GEMM_MR: usize = 4;
/// Columns of the GEMM microkernel's register tile (and of a packed weight panel): two vectors.
pub const GEMM_NR: usize = 8;

#[inline(always)]
unsafe fn load(p: *const f32) -> v128 {
    // SAFETY: the caller's pointer has 4 readable floats; v128.load takes any alignment.
    unsafe { v128_load(p as *const v128) }
}

#[inline(always)]
unsafe fn store(p: *mut f32, v: v128) {
    // SAFETY: the caller's pointer has 4 writable floats.
    unsafe { v128_store(p as *mut v128, v) }
}

/// `a + b * c`, rounded twice (no fused multiply-add in `simd128`).
#[inline(always)]
fn madd(a: v128, b: v128, c: v128) -> v128 {
    f32x4_add(a, f32x4_mul(b, c))
}

gemm_kernel! {
    nr = GEMM_NR, mr = GEMM_MR;
    /// `y[m][n] = minmax(b[n] + sum_k x[m][k] * w[k][n])` with weights packed in panels of
    /// [`GEMM_NR`] columns (`w[panel][k][0..8]`, columns past `N` zero, `b` padded to `NP`),
    /// visited in blocks of `NB` panels.
    #[inline(never)]
    pub fn f32_gemm_minmax_wasm(x, w, b, y, min, max, rows, panels) {
        gemm_tiles(N, NB, [GEMM_MR, GEMM_NR], rows, panels, |m0, count, p, cols| {
            // SAFETY: rows m0..m0+count of x (K each) and of y (N each) exist since
            // m0 + count <= M (this task's rows); panel p's K*8 weights and 8 biases exist
            // since p < NP/8; at most `cols` columns from p*8 are stored and p*8 + cols <= N.
            unsafe {
                let xp = x.as_ptr().add(m0 * K);
                let wp = w.as_ptr().add(p * K * GEMM_NR);
                let bp = b.as_ptr().add(p * GEMM_NR);
                let yp = y.as_mut_ptr().add(m0 * N + p * GEMM_NR);
                match count {
                    4 => micro::<4, K, N, HS>(xp, wp, bp, yp, cols, min, max),
                    3 => micro::<3, K, N, HS>(xp, wp, bp, yp, cols, min, max),
                    2 => micro::<2, K, N, HS>(xp, wp, bp, yp, cols, min, max),
                    _ => micro::<1, K, N, HS>(xp, wp, bp, yp, cols, min, max),
                }
            }
        });
    }
}

/// One `MR` x 8 tile: 2 * MR accumulators; per k, one weight row (two vectors) and MR
/// broadcasts of x.
///
/// # Safety
/// `x` must point to MR rows of K floats (row stride K), `w` to K * 8 floats, `b` to 8,
/// `y` to MR rows with `cols` writable floats each (row stride N).
#[inline(always)]
unsafe fn micro<const MR: usize, const K: usize, const N: usize, const HS: bool>(
    x: *const f32,
    w: *const f32,
    b: *const f32,
    y: *mut f32,
    cols: usize,
    min: f32,
    max: f32,
) {
    unsafe {
        let bias = [load(b), load(b.add(4))];
        let mut acc = [bias; MR];
        for k in 0..K {
            let wk = w.add(k * GEMM_NR);
            let (w0, w1) = (load(wk), load(wk.add(4)));
            for (r, a) in acc.iter_mut().enumerate() {
                let xv = v128_load32_splat(x.add(r * K + k) as *const u32);
                a[0] = madd(a[0], w0, xv);
                a[1] = madd(a[1], w1, xv);
            }
        }
        let (lo, hi) = (f32x4_splat(min), f32x4_splat(max));
        for (r, a) in acc.iter().enumerate() {
            let out = y.add(r * N);
            let v = [act4::<HS>(a[0], lo, hi), act4::<HS>(a[1], lo, hi)];
            if cols == GEMM_NR {
                store(out, v[0]);
                store(out.add(4), v[1]);
            } else {
                let mut tmp = [0f32; GEMM_NR];
                store(tmp.as_mut_ptr(), v[0]);
                store(tmp.as_mut_ptr().add(4), v[1]);
                core::ptr::copy_nonoverlapping(tmp.as_ptr(), out, cols);
            }
        }
    }
}

/// The epilogue of the conv and GEMM kernels on one vector, as [`crate::scalar::act`]:
/// hard-swish if `HS` (the same operations as `scalar::hard_swish`, so the same bits), then the
/// clamp to `[lo, hi]` (`f32x4.pmax`/`pmin`: one x86 instruction each; they differ from the
/// scalar clamp only on NaN).
#[inline(always)]
fn act4<const HS: bool>(v: v128, lo: v128, hi: v128) -> v128 {
    let v = if HS {
        let gate = f32x4_add(f32x4_mul(v, f32x4_splat(1.0 / 6.0)), f32x4_splat(0.5));
        let gate = f32x4_pmin(f32x4_pmax(gate, f32x4_splat(0.0)), f32x4_splat(1.0));
        f32x4_mul(v, gate)
    } else {
        v
    };
    f32x4_pmin(f32x4_pmax(v, lo), hi)
}

/// Output pixels of a row that [`f32_dwconv_nhwc_minmax_wasm`] computes together, on two
/// vectors of channels: eight accumulators.
const DW_PX: usize = 4;

dwconv_kernel! {
    /// Depthwise 2-D convolution, NHWC, vectorised over channels (4 per vector, a scalar tail).
    /// Weights `[KH][KW][C]`, bias `[C]`, as [`crate::scalar::f32_dwconv_nhwc_minmax`]. Padding
    /// only shortens the tap ranges of border pixels; interior pixels go four at a time over
    /// eight channels when `C` is a multiple of 8.
    #[inline(never)]
    pub fn f32_dwconv_nhwc_minmax_wasm(x, w, b, y, min, max, rows) {
        let vec_c = C / 4 * 4;
        let (first, last) = interior(PL, SW, W, KW, OW);
        // SAFETY: every load is at (iy * W + ix) * C + c with iy < H, ix < W (from `taps`, or
        // from first <= ox < last for interior columns) and c + 4 <= vec_c <= C, inside x;
        // weights at (ky * KW + kx) * C + c inside w; biases at c + 4 <= C; stores at
        // (oy * OW + ox) * C + c + 4 <= YN.
        unsafe {
            let (lo, hi) = (f32x4_splat(min), f32x4_splat(max));
            let (xp, wp, bp, yp) = (x.as_ptr(), w.as_ptr(), b.as_ptr(), y.as_mut_ptr());
            let pixel = |oy: usize, ox: usize| {
                let (ky0, ky1) = taps(oy, SH, PT, H, KH);
                let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                let out = yp.add((oy * OW + ox) * C);
                let mut c = 0;
                while c < vec_c {
                    let mut acc = load(bp.add(c));
                    for ky in ky0..ky1 {
                        let row = (oy * SH + ky - PT) * W;
                        for kx in kx0..kx1 {
                            let xv = load(xp.add((row + ox * SW + kx - PL) * C + c));
                            let wv = load(wp.add((ky * KW + kx) * C + c));
                            acc = madd(acc, xv, wv);
                        }
                    }
                    store(out.add(c), act4::<HS>(acc, lo, hi));
                    c += 4;
                }
                for c in vec_c..C {
                    let mut acc = b[c];
                    for ky in ky0..ky1 {
                        let row = (oy * SH + ky - PT) * W;
                        for kx in kx0..kx1 {
                            acc += x[(row + ox * SW + kx - PL) * C + c] * w[(ky * KW + kx) * C + c];
                        }
                    }
                    *out.add(c) = act::<HS>(acc, min, max);
                }
            };
            for oy in rows.clone() {
                let (ky0, ky1) = taps(oy, SH, PT, H, KH);
                for ox in (0..first).chain(last..OW) {
                    pixel(oy, ox);
                }
                let mut ox0 = first;
                while ox0 + DW_PX <= last && C.is_multiple_of(8) {
                    for c in (0..C).step_by(8) {
                        let b0 = [load(bp.add(c)), load(bp.add(c + 4))];
                        let mut acc = [b0; DW_PX];
                        for ky in ky0..ky1 {
                            let row = xp.add((oy * SH + ky - PT) * W * C + c);
                            for kx in 0..KW {
                                let wk = wp.add((ky * KW + kx) * C + c);
                                let wv = [load(wk), load(wk.add(4))];
                                for (p, a) in acc.iter_mut().enumerate() {
                                    let xr = row.add(((ox0 + p) * SW + kx - PL) * C);
                                    a[0] = madd(a[0], load(xr), wv[0]);
                                    a[1] = madd(a[1], load(xr.add(4)), wv[1]);
                                }
                            }
                        }
                        for (p, a) in acc.iter().enumerate() {
                            let out = yp.add((oy * OW + ox0 + p) * C + c);
                            store(out, act4::<HS>(a[0], lo, hi));
                            store(out.add(4), act4::<HS>(a[1], lo, hi));
                        }
                    }
                    ox0 += DW_PX;
                }
                for ox in ox0..last {
                    pixel(oy, ox);
                }
            }
        }
    }
}

/// Output pixels of a row that [`f32_conv_minmax_wasm`] computes together.
const CONV_PX: usize = 8;

conv_kernel! {
    cop = 4;
    /// Dense 2-D convolution writing NHWC, from an input in any layout (strides `XSC`, `XSY`,
    /// `XSX` of channel, row and column, as [`crate::scalar::f32_conv_minmax`]). Weights
    /// `[KH][KW][CI][COP]` and bias `[COP]`, output channels zero-padded to `COP`, a multiple
    /// of 4. Interior pixels go eight at a time per vector of output channels; border pixels
    /// one at a time with their window clipped.
    #[inline(never)]
    pub fn f32_conv_minmax_wasm(x, w, b, y, min, max, rows) {
        let (first, last) = interior(PL, SW, W, KW, OW);
        // SAFETY: input reads at iy * XSY + ix * XSX + ci * XSC with iy < H, ix < W, ci < CI,
        // which the const assertion bounds by XN; weight reads at
        // ((ky * KW + kx) * CI + ci) * COP + cb + 4 <= WN; bias (or starting sums) reads at
        // cb + 4 <= COP; stores write min(4, CO - cb) floats at (oy * OW + ox) * CO + cb,
        // inside YN.
        unsafe {
            let (lo, hi) = (f32x4_splat(min), f32x4_splat(max));
            let (xp, wp, bp, yp) = (x.as_ptr(), w.as_ptr(), b.as_ptr(), y.as_mut_ptr());
            let put = |v: v128, at: *mut f32, n: usize| {
                let v = act4::<HS>(v, lo, hi);
                if n == 4 {
                    store(at, v);
                } else {
                    let mut tmp = [0f32; 4];
                    store(tmp.as_mut_ptr(), v);
                    core::ptr::copy_nonoverlapping(tmp.as_ptr(), at, n);
                }
            };
            // With a pad value (`PV`), the taps in the padding are in the starting sums.
            let d = &w[KH * KW * CI * COP..];
            let pixel = |oy: usize, ox: usize| {
                let (ky0, ky1) = taps(oy, SH, PT, H, KH);
                let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                let init = PV.then(|| pad_init::<KH, KW, COP>(b, d, [ky0, ky1], [kx0, kx1]));
                let ib = init.as_ref().map_or(bp, |i| i.as_ptr());
                for cb in (0..COP).step_by(4) {
                    let mut acc = load(ib.add(cb));
                    for ky in ky0..ky1 {
                        for kx in kx0..kx1 {
                            let xb = xp.add((oy * SH + ky - PT) * XSY + (ox * SW + kx - PL) * XSX);
                            let wb = wp.add((ky * KW + kx) * CI * COP + cb);
                            for ci in 0..CI {
                                let xv = f32x4_splat(*xb.add(ci * XSC));
                                acc = madd(acc, load(wb.add(ci * COP)), xv);
                            }
                        }
                    }
                    put(acc, yp.add((oy * OW + ox) * CO + cb), (CO - cb).min(4));
                }
            };
            for oy in rows.clone() {
                let (ky0, ky1) = taps(oy, SH, PT, H, KH);
                for ox in (0..first).chain(last..OW) {
                    pixel(oy, ox);
                }
                // The interior columns' starting sums: this row's taps in the padding, if any.
                let init = PV.then(|| pad_init::<KH, KW, COP>(b, d, [ky0, ky1], [0, KW]));
                let rb = init.as_ref().map_or(bp, |i| i.as_ptr());
                let mut ox0 = first;
                while ox0 + CONV_PX <= last {
                    for cb in (0..COP).step_by(4) {
                        let mut acc = [load(rb.add(cb)); CONV_PX];
                        for ky in ky0..ky1 {
                            let row = xp.add((oy * SH + ky - PT) * XSY);
                            for kx in 0..KW {
                                let wb = wp.add((ky * KW + kx) * CI * COP + cb);
                                let xb = row.add((ox0 * SW + kx - PL) * XSX);
                                for ci in 0..CI {
                                    let wv = load(wb.add(ci * COP));
                                    for (p, a) in acc.iter_mut().enumerate() {
                                        let xv = f32x4_splat(*xb.add(p * SW * XSX + ci * XSC));
                                        *a = madd(*a, wv, xv);
                                    }
                                }
                            }
                        }
                        for (p, a) in acc.iter().enumerate() {
                            put(*a, yp.add((oy * OW + ox0 + p) * CO + cb), (CO - cb).min(4));
                        }
                    }
                    ox0 += CONV_PX;
                }
                for ox in ox0..last {
                    pixel(oy, ox);
                }
            }
        }
    }
}

gavgpool_kernel! {
    /// Global average pooling over `HW` pixels of `C` channels, 4 channels per vector.
    #[inline(never)]
    pub fn f32_gavgpool_wasm(x, y) {
        let vec_c = C / 4 * 4;
        let scale = 1.0 / HW as f32;
        // SAFETY: loads at p * C + c + 4 <= HW * C = XN and stores at c + 4 <= C.
        unsafe {
            let (xp, yp) = (x.as_ptr(), y.as_mut_ptr());
            for c in (0..vec_c).step_by(4) {
                let mut acc = f32x4_splat(0.0);
                for p in 0..HW {
                    acc = f32x4_add(acc, load(xp.add(p * C + c)));
                }
                store(yp.add(c), f32x4_mul(acc, f32x4_splat(scale)));
            }
        }
        for c in vec_c..C {
            let s: f32 = (0..HW).map(|p| x[p * C + c]).sum();
            y[c] = s * scale;
        }
    }
}

/// Rows of the quantized GEMM's register tile.
pub const QGEMM_MR: usize = 4;
/// Columns of the quantized GEMM's register tile and packed panels: two vectors of four int32.
pub const QGEMM_NR: usize = 8;

qgemm_kernel! {
    nr = QGEMM_NR, mr = QGEMM_MR, kr = 2, w = i8;
    /// `y[m][n] = requantize(b[n] + sum_k x[m][k] * w[k][n], s[n])`, exact: the int8 weights
    /// are packed in panels of 8 columns and pairs of k (`w[panel][k / 2][column][k % 2]`,
    /// zero padded, one vector per pair of k) and widened to int16 as they are loaded; each
    /// tile's rows of `x` are widened to int16 pairs once per block of panels, so that
    /// `i32x4.dot_i16x8_s` multiplies a broadcast pair of inputs by a pair of weights for four
    /// columns and adds the two products into 32 bits (at most 2 * 255 * 128 in magnitude).
    #[inline(never)]
    pub fn u8_gemm_wasm(x, w, b, s, y, q, rows, panels) {
        let kp = K.div_ceil(2);
        let mut wide = [[0u32; K]; QGEMM_MR];
        let mut widened = usize::MAX;
        gemm_tiles(N, NB, [QGEMM_MR, QGEMM_NR], rows, panels, |m0, count, p, cols| {
            if widened != m0 {
                for (r, row) in wide.iter_mut().take(count).enumerate() {
                    let xr = &x[(m0 + r) * K..][..K];
                    for (j, pair) in row.iter_mut().take(kp).enumerate() {
                        let hi = xr.get(2 * j + 1).map_or(0, |&v| v as u32);
                        *pair = xr[2 * j] as u32 | hi << 16;
                    }
                }
                widened = m0;
            }
            // SAFETY: `wide` holds `count` rows of `kp` pairs (row stride K); panel p's
            // kp * 16 weights and 8 biases and scales exist since p < NP/8; at most `cols`
            // columns from p*8 of rows m0..m0+count are stored, inside y and this task's part
            // of it.
            unsafe {
                let wp = w.as_ptr().add(p * kp * 2 * QGEMM_NR);
                let yp = y.as_mut_ptr().add(m0 * N + p * QGEMM_NR);
                let (bp, sp) = (b.as_ptr().add(p * QGEMM_NR), s.as_ptr().add(p * QGEMM_NR));
                let xp = wide.as_ptr() as *const u32;
                match count {
                    4 => qmicro::<4, K, N>(xp, wp, bp, sp, yp, cols, q),
                    3 => qmicro::<3, K, N>(xp, wp, bp, sp, yp, cols, q),
                    2 => qmicro::<2, K, N>(xp, wp, bp, sp, yp, cols, q),
                    _ => qmicro::<1, K, N>(xp, wp, bp, sp, yp, cols, q),
                }
            }
        });
    }
}

/// One `MR` x 8 tile of the quantized GEMM: 2 * MR int32 accumulators, `K / 2` steps of one
/// vector of weights (8 columns x 2 k, widened into two) and MR broadcast input pairs, then the
/// requantization into uint8.
///
/// # Safety
/// `x` must point to MR rows of `K.div_ceil(2)` pairs (row stride K u32s), `w` to that many
/// times 16 int8, `b` and `s` to 8 values, `y` to MR rows with `cols` writable bytes each (row
/// stride N).
#[inline(always)]
unsafe fn qmicro<const MR: usize, const K: usize, const N: usize>(
    x: *const u32,
    w: *const i8,
    b: *const i32,
    s: *const f32,
    y: *mut u8,
    cols: usize,
    q: Requant,
) {
    unsafe {
        let bias = [
            v128_load(b as *const v128),
            v128_load(b.add(4) as *const v128),
        ];
        let mut acc = [bias; MR];
        for j in 0..K.div_ceil(2) {
            let wv = v128_load(w.add(j * 16) as *const v128);
            let (w0, w1) = (i16x8_extend_low_i8x16(wv), i16x8_extend_high_i8x16(wv));
            for (r, a) in acc.iter_mut().enumerate() {
                let xv = u32x4_splat(*x.add(r * K + j));
                a[0] = i32x4_add(a[0], i32x4_dot_i16x8(w0, xv));
                a[1] = i32x4_add(a[1], i32x4_dot_i16x8(w1, xv));
            }
        }
        let scale = [load(s), load(s.add(4))];
        for (r, a) in acc.iter().enumerate() {
            let v = u8x16_narrow_i16x8(
                i16x8_narrow_i32x4(requant4(a[0], scale[0], q), requant4(a[1], scale[1], q)),
                i16x8_splat(0),
            );
            let out = y.add(r * N);
            if cols == QGEMM_NR {
                v128_store64_lane::<0>(v, out as *mut u64);
            } else {
                let mut tmp = [0u8; 16];
                v128_store(tmp.as_mut_ptr() as *mut v128, v);
                core::ptr::copy_nonoverlapping(tmp.as_ptr(), out, cols);
            }
        }
    }
}

/// `scalar::requantize` of four int32 sums by their scales, lane by lane (f32 product, clamp to
/// the bounds less the zero point, magic-number rounding, the zero point added), as int32 in
/// `q.lo..=q.hi`.
#[inline(always)]
fn requant4(acc: v128, scale: v128, q: Requant) -> v128 {
    let v = f32x4_mul(f32x4_convert_i32x4(acc), scale);
    let v = f32x4_pmin(
        f32x4_pmax(v, f32x4_splat((q.lo - q.zero) as f32)),
        f32x4_splat((q.hi - q.zero) as f32),
    );
    let r = f32x4_add(v, f32x4_splat(MAGIC));
    i32x4_add(
        i32x4_sub(r, i32x4_splat(MAGIC.to_bits() as i32)),
        i32x4_splat(q.zero),
    )
}

qdwconv_kernel! {
    w = i8, wn = KH * KW * C;
    /// Quantized depthwise 2-D convolution, NHWC, weights `[KH][KW][C]` int8 (the scalar
    /// kernel's layout), exact: eight channels at a time, each tap's inputs widened to int16
    /// less the zero point and multiplied by the widened weights into int32 (`extmul`), then
    /// `scalar::requantize`'s arithmetic lane by lane; the channels past a multiple of 8 as the
    /// scalar kernel computes them. Taps outside the input add nothing.
    #[inline(never)]
    pub fn u8_dwconv_wasm(x, xz, w, b, s, y, q, rows) {
        let vec_c = C / 8 * 8;
        // SAFETY: every load reads 8 bytes at (iy * W + ix) * C + c with iy < H, ix < W (from
        // `taps`) and c + 8 <= vec_c <= C, inside x; weights at (ky * KW + kx) * C + c + 8 <=
        // WN; biases and scales at c + 8 <= C; stores of 8 bytes at (oy * OW + ox) * C + c
        // inside this task's rows of y.
        unsafe {
            let (xp, wp, yp) = (x.as_ptr(), w.as_ptr(), y.as_mut_ptr());
            let zero = i16x8_splat(xz as i16);
            for oy in rows {
                let (ky0, ky1) = taps(oy, SH, PT, H, KH);
                for ox in 0..OW {
                    let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                    let out = yp.add((oy * OW + ox) * C);
                    let mut c = 0;
                    while c < vec_c {
                        let mut lo = v128_load(b.as_ptr().add(c) as *const v128);
                        let mut hi = v128_load(b.as_ptr().add(c + 4) as *const v128);
                        for ky in ky0..ky1 {
                            let row = (oy * SH + ky - PT) * W;
                            for kx in kx0..kx1 {
                                let at = (row + ox * SW + kx - PL) * C + c;
                                let xv = i16x8_sub(u16x8_load_extend_u8x8(xp.add(at)), zero);
                                let wv = i16x8_load_extend_i8x8(wp.add((ky * KW + kx) * C + c));
                                lo = i32x4_add(lo, i32x4_extmul_low_i16x8(xv, wv));
                                hi = i32x4_add(hi, i32x4_extmul_high_i16x8(xv, wv));
                            }
                        }
                        let sp = s.as_ptr().add(c);
                        let v = u8x16_narrow_i16x8(
                            i16x8_narrow_i32x4(requant4(lo, load(sp), q), requant4(hi, load(sp.add(4)), q)),
                            i16x8_splat(0),
                        );
                        v128_store64_lane::<0>(v, out.add(c) as *mut u64);
                        c += 8;
                    }
                    for c in vec_c..C {
                        let mut acc = b[c];
                        for ky in ky0..ky1 {
                            let row = (oy * SH + ky - PT) * W;
                            for kx in kx0..kx1 {
                                let xv = x[(row + ox * SW + kx - PL) * C + c] as i32 - xz;
                                acc += xv * w[(ky * KW + kx) * C + c] as i32;
                            }
                        }
                        *out.add(c) = requantize(acc, s[c], q);
                    }
                }
            }
        }
    }
}

/// Output channels [`u8_conv_wasm`] accumulates at once: four blocks of eight (eight vectors).
const QCONV_CHUNK: usize = 32;

qconv_kernel! {
    w = i16, wn = (KH * KW * CI).div_ceil(2) * 2 * CO.next_multiple_of(8);
    /// Quantized dense conv (a quantized model's stem), exact: each output pixel's window of
    /// `KH * KW * CI` inputs gathered (less the zero point, 0 outside the input) as int16
    /// pairs, and a broadcast pair times the pair's weights for 4 output channels
    /// (`QConvLayout::Pairs8`, avx2's packing) added into 32 bits by `i32x4.dot_i16x8_s`; then
    /// `scalar::requantize`'s arithmetic lane by lane.
    #[inline(never)]
    pub fn u8_conv_wasm(x, xz, w, b, s, y, q, rows) {
        const { assert!(KH * KW * CI < 512, "windows of fewer than 512 inputs") };
        let k = KH * KW * CI;
        let pairs = k.div_ceil(2);
        let cop = CO.next_multiple_of(8);
        // SAFETY: input reads at iy * XSY + ix * XSX + ci * XSC < XN (iy < H, ix < W, the const
        // assertion of the family); weight reads of 16 i16s at (pair * COP + c) * 2 for
        // c + 8 <= COP, inside WN; the patch holds `pairs` <= 256 u32s (the assertion above);
        // bias and scale through copies of up to 32; outputs at (oy * OW + ox) * CO + c, at
        // most CO - c bytes, in this task's rows.
        unsafe {
            let mut patch = [0u32; 256];
            let wp = w.as_ptr();
            let mut c0 = 0;
            while c0 < CO {
                let n = (CO - c0).min(QCONV_CHUNK);
                let blocks = n.div_ceil(8);
                let (mut bt, mut st) = ([0i32; QCONV_CHUNK], [0f32; QCONV_CHUNK]);
                bt[..n].copy_from_slice(&b[c0..c0 + n]);
                st[..n].copy_from_slice(&s[c0..c0 + n]);
                for oy in rows.clone() {
                    for ox in 0..OW {
                        let pp = patch.as_mut_ptr() as *mut i16;
                        let mut t = 0;
                        for ky in 0..KH {
                            let iy = (oy * SH + ky) as isize - PT as isize;
                            for kx in 0..KW {
                                let ix = (ox * SW + kx) as isize - PL as isize;
                                let inside = iy >= 0 && ix >= 0 && iy < H as isize && ix < W as isize;
                                for ci in 0..CI {
                                    *pp.add(t) = if inside {
                                        x[iy as usize * XSY + ix as usize * XSX + ci * XSC] as i16 - xz as i16
                                    } else {
                                        0
                                    };
                                    t += 1;
                                }
                            }
                        }
                        if k % 2 == 1 {
                            *pp.add(k) = 0;
                        }
                        let mut acc = [[i32x4_splat(0); 2]; QCONV_CHUNK / 8];
                        for (blk, a) in acc.iter_mut().enumerate().take(blocks) {
                            let bp = bt.as_ptr().add(blk * 8);
                            *a = [v128_load(bp as *const v128), v128_load(bp.add(4) as *const v128)];
                        }
                        for (j, &pair) in patch.iter().enumerate().take(pairs) {
                            let xv = u32x4_splat(pair);
                            let row = wp.add((j * cop + c0) * 2);
                            for (blk, a) in acc.iter_mut().enumerate().take(blocks) {
                                let w0 = v128_load(row.add(blk * 16) as *const v128);
                                let w1 = v128_load(row.add(blk * 16 + 8) as *const v128);
                                a[0] = i32x4_add(a[0], i32x4_dot_i16x8(w0, xv));
                                a[1] = i32x4_add(a[1], i32x4_dot_i16x8(w1, xv));
                            }
                        }
                        let out = y.as_mut_ptr().add((oy * OW + ox) * CO + c0);
                        for (blk, a) in acc.iter().enumerate().take(blocks) {
                            let sp = st.as_ptr().add(blk * 8);
                            let v = u8x16_narrow_i16x8(
                                i16x8_narrow_i32x4(requant4(a[0], load(sp), q), requant4(a[1], load(sp.add(4)), q)),
                                i16x8_splat(0),
                            );
                            let cols = (n - blk * 8).min(8);
                            if cols == 8 {
                                v128_store64_lane::<0>(v, out.add(blk * 8) as *mut u64);
                            } else {
                                let mut tmp = [0u8; 16];
                                v128_store(tmp.as_mut_ptr() as *mut v128, v);
                                core::ptr::copy_nonoverlapping(tmp.as_ptr(), out.add(blk * 8), cols);
                            }
                        }
                    }
                }
                c0 += n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    crate::conformance::all_cases! {
        mnetc_targets::WASM_SIMD128,
        gemm: crate::wasm::f32_gemm_minmax_wasm,
        dwconv: crate::wasm::f32_dwconv_nhwc_minmax_wasm,
        conv: crate::wasm::f32_conv_minmax_wasm,
        gavgpool: crate::wasm::f32_gavgpool_wasm,
        qgemm: crate::wasm::u8_gemm_wasm,
        qdwconv: crate::wasm::u8_dwconv_wasm,
        qconv: crate::wasm::u8_conv_wasm
    }
}
