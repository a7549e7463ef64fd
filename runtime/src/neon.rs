//! aarch64 kernels with NEON and FMA (`core::arch::aarch64`; NEON is baseline on every aarch64
//! Rust target, so no feature needs enabling, and generated `neon` code refuses to build for
//! other architectures). Each kernel has a twin in [`crate::scalar`] it is tested against
//! (`crate::conformance`); the layouts are the AVX2 ones with 128-bit vectors, so the compiler
//! packs weights the same way: GEMM panels of 16 columns, conv output channels padded to 4.
//!
//! `unsafe` here is the intrinsics and unaligned loads and stores through raw pointers, every
//! one inside the arrays whose lengths the inline `const` assertions tie to the shapes.

use crate::scalar::{DwGeometry, Requant, act, gemm_tiles, interior, pad_init, taps};
use core::arch::aarch64::*;

/// Rows of the GEMM microkernel's register tile.
pub const GEMM_MR: usize = 6;
/// Columns of the GEMM microkernel's register tile: four vectors of 4 (24 accumulators of the
/// 32 vector registers, 4 for the weight row).
pub const GEMM_NR: usize = 16;

gemm_kernel! {
    nr = GEMM_NR, mr = GEMM_MR;
    /// `y[m][n] = minmax(b[n] + sum_k x[m][k] * w[k][n])` with weights packed in panels of
    /// [`GEMM_NR`] columns (`w[panel][k][0..16]`, columns past `N` zero, `b` padded to `NP`),
    /// visited in blocks of `NB` panels that stay in L2 while every row tile passes over them.
    #[inline(never)]
    pub fn f32_gemm_minmax_neon(x, w, b, y, min, max, rows, panels) {
        gemm_tiles(N, NB, [GEMM_MR, GEMM_NR], rows, panels, |m0, count, p, cols| {
            // SAFETY: rows m0..m0+count of x (K each) and of y (N each) exist since
            // m0 + count <= M (this task's rows); panel p's K*16 weights and 16 biases exist since p < NP/16;
            // at most `cols` columns from p*16 are stored and p*16 + cols <= N.
            unsafe {
                let xp = x.as_ptr().add(m0 * K);
                let wp = w.as_ptr().add(p * K * GEMM_NR);
                let bp = b.as_ptr().add(p * GEMM_NR);
                let yp = y.as_mut_ptr().add(m0 * N + p * GEMM_NR);
                match count {
                    6 => micro::<6, K, N, HS>(xp, wp, bp, yp, cols, min, max),
                    5 => micro::<5, K, N, HS>(xp, wp, bp, yp, cols, min, max),
                    4 => micro::<4, K, N, HS>(xp, wp, bp, yp, cols, min, max),
                    3 => micro::<3, K, N, HS>(xp, wp, bp, yp, cols, min, max),
                    2 => micro::<2, K, N, HS>(xp, wp, bp, yp, cols, min, max),
                    _ => micro_row::<K, HS>(xp, wp, bp, yp, cols, min, max),
                }
            }
        });
    }
}

/// One `MR` x 16 tile: 4 * MR accumulators, K steps of one weight row (four vectors) and MR
/// scalar-by-vector FMAs (`fmla v, v, s[0]`) per vector.
///
/// # Safety
/// `x` must point to MR rows of K floats (row stride K), `w` to K * 16 floats, `b` to 16,
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
        let bias = [
            vld1q_f32(b),
            vld1q_f32(b.add(4)),
            vld1q_f32(b.add(8)),
            vld1q_f32(b.add(12)),
        ];
        let mut acc = [bias; MR];
        // Four K steps at a time: one vector load of x per row, then each weight vector meets
        // every row's x by lane (`fmla v, v, v.s[l]`): 6 + 16 loads per 96 FMAs, not 40.
        let main = K / 4 * 4;
        let mut k = 0;
        while k < main {
            let xv: [float32x4_t; MR] = core::array::from_fn(|r| vld1q_f32(x.add(r * K + k)));
            lanes::<MR, 0>(&mut acc, w.add(k * GEMM_NR), &xv);
            lanes::<MR, 1>(&mut acc, w.add((k + 1) * GEMM_NR), &xv);
            lanes::<MR, 2>(&mut acc, w.add((k + 2) * GEMM_NR), &xv);
            lanes::<MR, 3>(&mut acc, w.add((k + 3) * GEMM_NR), &xv);
            k += 4;
        }
        for k in main..K {
            let wk = w.add(k * GEMM_NR);
            let wv = [
                vld1q_f32(wk),
                vld1q_f32(wk.add(4)),
                vld1q_f32(wk.add(8)),
                vld1q_f32(wk.add(12)),
            ];
            for (r, a) in acc.iter_mut().enumerate() {
                let xv = *x.add(r * K + k);
                for j in 0..4 {
                    a[j] = vfmaq_n_f32(a[j], wv[j], xv);
                }
            }
        }
        let (lo, hi) = (vdupq_n_f32(min), vdupq_n_f32(max));
        for (r, a) in acc.iter().enumerate() {
            store16_act::<HS>(y.add(r * N), a, lo, hi, cols);
        }
    }
}

/// One K step of [`micro`]: the weight row's four vectors times lane `L` of each row's x.
///
/// # Safety
/// `wk` must point to 16 readable floats.
#[inline(always)]
unsafe fn lanes<const MR: usize, const L: i32>(
    acc: &mut [[float32x4_t; 4]; MR],
    wk: *const f32,
    xv: &[float32x4_t; MR],
) {
    unsafe {
        for j in 0..4 {
            let wv = vld1q_f32(wk.add(4 * j));
            for (a, x) in acc.iter_mut().zip(xv) {
                a[j] = vfmaq_laneq_f32::<L>(a[j], wv, *x);
            }
        }
    }
}

/// The one-row tile (fully connected layers, remainders): two interleaved K sub-sums keep
/// eight FMA chains in flight.
///
/// # Safety
/// As [`micro`] with MR = 1.
#[inline(always)]
unsafe fn micro_row<const K: usize, const HS: bool>(
    x: *const f32,
    w: *const f32,
    b: *const f32,
    y: *mut f32,
    cols: usize,
    min: f32,
    max: f32,
) {
    unsafe {
        let zero = vdupq_n_f32(0.0);
        let mut acc = [[zero; 4]; 2];
        for (j, a) in acc[0].iter_mut().enumerate() {
            *a = vld1q_f32(b.add(4 * j));
        }
        let main = K / 2 * 2;
        let mut k = 0;
        while k < main {
            for (s, a) in acc.iter_mut().enumerate() {
                let xv = *x.add(k + s);
                let wk = w.add((k + s) * GEMM_NR);
                for (j, v) in a.iter_mut().enumerate() {
                    *v = vfmaq_n_f32(*v, vld1q_f32(wk.add(4 * j)), xv);
                }
            }
            k += 2;
        }
        for k in main..K {
            let xv = *x.add(k);
            let wk = w.add(k * GEMM_NR);
            for (j, v) in acc[0].iter_mut().enumerate() {
                *v = vfmaq_n_f32(*v, vld1q_f32(wk.add(4 * j)), xv);
            }
        }
        let sum: [float32x4_t; 4] = core::array::from_fn(|j| vaddq_f32(acc[0][j], acc[1][j]));
        let (lo, hi) = (vdupq_n_f32(min), vdupq_n_f32(max));
        store16_act::<HS>(y, &sum, lo, hi, cols);
    }
}

/// The epilogue of the conv and GEMM kernels on one vector, as [`crate::scalar::act`]:
/// hard-swish if `HS` (the same operations as `scalar::hard_swish`, so the same bits), then the
/// clamp to `[lo, hi]`.
#[inline(always)]
fn act4<const HS: bool>(v: float32x4_t, lo: float32x4_t, hi: float32x4_t) -> float32x4_t {
    // SAFETY: NEON is part of every aarch64 target this module is compiled for.
    unsafe {
        let v = if HS {
            let gate = vaddq_f32(vmulq_f32(v, vdupq_n_f32(1.0 / 6.0)), vdupq_n_f32(0.5));
            let gate = vminq_f32(vmaxq_f32(gate, vdupq_n_f32(0.0)), vdupq_n_f32(1.0));
            vmulq_f32(v, gate)
        } else {
            v
        };
        vminq_f32(vmaxq_f32(v, lo), hi)
    }
}

/// Applies the epilogue to four vectors and stores the first `cols` (up to 16) of their lanes.
///
/// # Safety
/// `y` must have `cols` writable floats.
#[inline(always)]
unsafe fn store16_act<const HS: bool>(
    y: *mut f32,
    v: &[float32x4_t; 4],
    lo: float32x4_t,
    hi: float32x4_t,
    cols: usize,
) {
    unsafe {
        let v = v.map(|v| act4::<HS>(v, lo, hi));
        if cols == GEMM_NR {
            for (j, v) in v.iter().enumerate() {
                vst1q_f32(y.add(4 * j), *v);
            }
        } else {
            let mut tmp = [0f32; GEMM_NR];
            for (j, v) in v.iter().enumerate() {
                vst1q_f32(tmp.as_mut_ptr().add(4 * j), *v);
            }
            core::ptr::copy_nonoverlapping(tmp.as_ptr(), y, cols);
        }
    }
}

/// Output pixels of a row that [`f32_dwconv_nhwc_minmax_neon`] computes together, on two
/// vectors of channels: eight independent FMA chains.
const DW_PX: usize = 4;

dwconv_kernel! {
    /// Depthwise 2-D convolution, NHWC, vectorised over channels (4 per vector, a scalar tail).
    /// Weights `[KH][KW][C]`, bias `[C]`, as [`crate::scalar::f32_dwconv_nhwc_minmax`]. Padding
    /// only shortens the tap ranges of border pixels; the inner loop has no branch. Interior pixels
    /// go four at a time over eight channels when `C` is a multiple of 8.
    #[inline(never)]
    pub fn f32_dwconv_nhwc_minmax_neon(x, w, b, y, min, max, rows) {
        let vec_c = C / 4 * 4;
        let (first, last) = interior(PL, SW, W, KW, OW);
        // SAFETY: every load is at (iy * W + ix) * C + c with iy < H, ix < W (from `taps`, or
        // from first <= ox < last for interior columns) and c + 4 <= vec_c <= C, inside x; weights
        // at (ky * KW + kx) * C + c inside w; biases at c + 4 <= C; stores at
        // (oy * OW + ox) * C + c + 4 <= YN.
        unsafe {
            let (lo, hi) = (vdupq_n_f32(min), vdupq_n_f32(max));
            let (xp, wp, bp, yp) = (x.as_ptr(), w.as_ptr(), b.as_ptr(), y.as_mut_ptr());
            let pixel = |oy: usize, ox: usize| {
                let (ky0, ky1) = taps(oy, SH, PT, H, KH);
                let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                let out = yp.add((oy * OW + ox) * C);
                let mut c = 0;
                while c < vec_c {
                    let mut acc = vld1q_f32(bp.add(c));
                    for ky in ky0..ky1 {
                        let row = (oy * SH + ky - PT) * W;
                        for kx in kx0..kx1 {
                            let xv = vld1q_f32(xp.add((row + ox * SW + kx - PL) * C + c));
                            let wv = vld1q_f32(wp.add((ky * KW + kx) * C + c));
                            acc = vfmaq_f32(acc, xv, wv);
                        }
                    }
                    vst1q_f32(out.add(c), act4::<HS>(acc, lo, hi));
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
                        let b0 = [vld1q_f32(bp.add(c)), vld1q_f32(bp.add(c + 4))];
                        let mut acc = [b0; DW_PX];
                        for ky in ky0..ky1 {
                            let row = xp.add((oy * SH + ky - PT) * W * C + c);
                            for kx in 0..KW {
                                let wk = wp.add((ky * KW + kx) * C + c);
                                let wv = [vld1q_f32(wk), vld1q_f32(wk.add(4))];
                                for (p, a) in acc.iter_mut().enumerate() {
                                    let xr = row.add(((ox0 + p) * SW + kx - PL) * C);
                                    a[0] = vfmaq_f32(a[0], vld1q_f32(xr), wv[0]);
                                    a[1] = vfmaq_f32(a[1], vld1q_f32(xr.add(4)), wv[1]);
                                }
                            }
                        }
                        for (p, a) in acc.iter().enumerate() {
                            let out = yp.add((oy * OW + ox0 + p) * C + c);
                            vst1q_f32(out, act4::<HS>(a[0], lo, hi));
                            vst1q_f32(out.add(4), act4::<HS>(a[1], lo, hi));
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

/// Output pixels of a row that [`f32_conv_minmax_neon`] computes together.
const CONV_PX: usize = 8;

conv_kernel! {
    cop = 4;
    /// Dense 2-D convolution writing NHWC, from an input in any layout (strides `XSC`, `XSY`,
    /// `XSX` of channel, row and column, as [`crate::scalar::f32_conv_minmax`]). Weights
    /// `[KH][KW][CI][COP]` and bias `[COP]`, output channels zero-padded to `COP`, a multiple of 4.
    /// Interior pixels go eight at a time per vector of output channels; border pixels one at a
    /// time with their window clipped.
    #[inline(never)]
    pub fn f32_conv_minmax_neon(x, w, b, y, min, max, rows) {
        let (first, last) = interior(PL, SW, W, KW, OW);
        // SAFETY: input reads at iy * XSY + ix * XSX + ci * XSC with iy < H, ix < W, ci < CI,
        // which the const assertion bounds by XN; weight reads at
        // ((ky * KW + kx) * CI + ci) * COP + cb + 4 <= WN; bias (or starting sums) reads at
        // cb + 4 <= COP; stores write min(4, CO - cb) floats at (oy * OW + ox) * CO + cb,
        // inside YN.
        unsafe {
            let (lo, hi) = (vdupq_n_f32(min), vdupq_n_f32(max));
            let (xp, wp, bp, yp) = (x.as_ptr(), w.as_ptr(), b.as_ptr(), y.as_mut_ptr());
            let store = |v: float32x4_t, at: *mut f32, n: usize| {
                let v = act4::<HS>(v, lo, hi);
                if n == 4 {
                    vst1q_f32(at, v);
                } else {
                    let mut tmp = [0f32; 4];
                    vst1q_f32(tmp.as_mut_ptr(), v);
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
                    let mut acc = vld1q_f32(ib.add(cb));
                    for ky in ky0..ky1 {
                        for kx in kx0..kx1 {
                            let xb = xp.add((oy * SH + ky - PT) * XSY + (ox * SW + kx - PL) * XSX);
                            let wb = wp.add((ky * KW + kx) * CI * COP + cb);
                            for ci in 0..CI {
                                acc = vfmaq_n_f32(acc, vld1q_f32(wb.add(ci * COP)), *xb.add(ci * XSC));
                            }
                        }
                    }
                    store(acc, yp.add((oy * OW + ox) * CO + cb), (CO - cb).min(4));
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
                        let mut acc = [vld1q_f32(rb.add(cb)); CONV_PX];
                        for ky in ky0..ky1 {
                            let row = xp.add((oy * SH + ky - PT) * XSY);
                            for kx in 0..KW {
                                let wb = wp.add((ky * KW + kx) * CI * COP + cb);
                                let xb = row.add((ox0 * SW + kx - PL) * XSX);
                                for ci in 0..CI {
                                    let wv = vld1q_f32(wb.add(ci * COP));
                                    for (p, a) in acc.iter_mut().enumerate() {
                                        *a = vfmaq_n_f32(*a, wv, *xb.add(p * SW * XSX + ci * XSC));
                                    }
                                }
                            }
                        }
                        for (p, a) in acc.iter().enumerate() {
                            store(*a, yp.add((oy * OW + ox0 + p) * CO + cb), (CO - cb).min(4));
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
    pub fn f32_gavgpool_neon(x, y) {
        let vec_c = C / 4 * 4;
        let scale = 1.0 / HW as f32;
        // SAFETY: loads at p * C + c + 4 <= HW * C = XN and stores at c + 4 <= C.
        unsafe {
            let (xp, yp) = (x.as_ptr(), y.as_mut_ptr());
            for c in (0..vec_c).step_by(4) {
                let mut acc = vdupq_n_f32(0.0);
                for p in 0..HW {
                    acc = vaddq_f32(acc, vld1q_f32(xp.add(p * C + c)));
                }
                vst1q_f32(yp.add(c), vmulq_n_f32(acc, scale));
            }
        }
        for c in vec_c..C {
            let s: f32 = (0..HW).map(|p| x[p * C + c]).sum();
            y[c] = s * scale;
        }
    }
}

/// `scalar::requantize` of eight sums (two vectors) by the eight scales at `s`, as bytes:
/// f32 product, rounding to nearest with ties to even (`fcvtns`, saturating), narrowed to
/// int16 and the zero point added, both with saturation, narrowed to bytes with saturation and
/// clamped to `[q.lo, q.hi]`. The bounds are integers inside `0..=255` and the saturations
/// only ever move a value past them in the direction it already lay, so clamping after
/// rounding gives the bits of the scalar twin's clamping before it.
///
/// # Safety
/// `s` must point to eight readable floats.
#[inline(always)]
pub(crate) unsafe fn requantize8(acc: [int32x4_t; 2], s: *const f32, q: Requant) -> uint8x8_t {
    unsafe { requantize8_by(acc, [vld1q_f32(s), vld1q_f32(s.add(4))], q) }
}

/// [`requantize8`] with the eight scales in two vectors (a stem's lanes share one scale).
#[inline(always)]
fn requantize8_by(acc: [int32x4_t; 2], s: [float32x4_t; 2], q: Requant) -> uint8x8_t {
    // SAFETY: arithmetic on registers; NEON is baseline on aarch64.
    unsafe {
        vmin_u8(
            vmax_u8(vqmovun_s16(rounded8(acc, s, q)), vdup_n_u8(q.lo as u8)),
            vdup_n_u8(q.hi as u8),
        )
    }
}

/// The first steps of [`requantize8`]: eight sums scaled, rounded, narrowed to int16 and the
/// zero point added (both with saturation).
#[inline(always)]
fn rounded8(acc: [int32x4_t; 2], s: [float32x4_t; 2], q: Requant) -> int16x8_t {
    // SAFETY: arithmetic on registers; NEON is baseline on aarch64.
    unsafe {
        let r = |a: int32x4_t, s: float32x4_t| vcvtnq_s32_f32(vmulq_f32(vcvtq_f32_s32(a), s));
        let h = vqmovn_high_s32(vqmovn_s32(r(acc[0], s[0])), r(acc[1], s[1]));
        vqaddq_s16(h, vdupq_n_s16(q.zero as i16))
    }
}

/// [`requantize8`] of sixteen sums (four vectors), clamped as one vector of bytes.
///
/// # Safety
/// `s` must point to sixteen readable floats.
#[inline(always)]
pub(crate) unsafe fn requantize16(acc: [int32x4_t; 4], s: *const f32, q: Requant) -> uint8x16_t {
    unsafe {
        let sv = vld1q_f32_x4(s);
        let lo = rounded8([acc[0], acc[1]], [sv.0, sv.1], q);
        let hi = rounded8([acc[2], acc[3]], [sv.2, sv.3], q);
        let v = vqmovun_high_s16(vqmovun_s16(lo), hi);
        vminq_u8(vmaxq_u8(v, vdupq_n_u8(q.lo as u8)), vdupq_n_u8(q.hi as u8))
    }
}

/// Stores the first `n` (up to 16) bytes of `v` at `y`.
///
/// # Safety
/// `y` must have `n` writable bytes.
#[inline(always)]
pub(crate) unsafe fn store_bytes(y: *mut u8, v: uint8x16_t, n: usize) {
    unsafe {
        if n == 16 {
            vst1q_u8(y, v);
        } else {
            let mut tmp = [0u8; 16];
            vst1q_u8(tmp.as_mut_ptr(), v);
            core::ptr::copy_nonoverlapping(tmp.as_ptr(), y, n);
        }
    }
}

/// QuantizeLinear into uint8 as `scalar::f32_quantize` computes it, 16 values at a time: the
/// same IEEE division, the clamp that ignores NaN as `f32::max` and `f32::min` do (`fmaxnm`,
/// `fminnm`), round-half-to-even (`fcvtns`), the zero point, narrowing to bytes.
#[inline(never)]
pub fn f32_quantize_neon<const N: usize>(x: &[f32; N], scale: f32, y: &mut [u8; N], q: Requant) {
    let mut i = 0;
    // SAFETY: 16 floats are read and 16 bytes written at i only while i + 16 <= N.
    unsafe {
        let sv = vdupq_n_f32(scale);
        let lo = vdupq_n_f32((q.lo - q.zero) as f32);
        let hi = vdupq_n_f32((q.hi - q.zero) as f32);
        let z = vdupq_n_s32(q.zero);
        let round = |p: *const f32| {
            let v = vdivq_f32(vld1q_f32(p), sv);
            vaddq_s32(vcvtnq_s32_f32(vminnmq_f32(vmaxnmq_f32(v, lo), hi)), z)
        };
        while i + 16 <= N {
            let p = x.as_ptr().add(i);
            // Values in q.lo..=q.hi, inside 0..=255: the saturating narrowing only narrows.
            let a = vqmovun_high_s32(vqmovun_s32(round(p)), round(p.add(4)));
            let b = vqmovun_high_s32(vqmovun_s32(round(p.add(8))), round(p.add(12)));
            vst1q_u8(y.as_mut_ptr().add(i), vqmovn_high_u16(vqmovn_u16(a), b));
            i += 16;
        }
    }
    for j in i..N {
        y[j] = crate::scalar::requantize_f32(x[j] / scale, q);
    }
}

/// Rows of the quantized GEMM's register tile.
pub const QGEMM_MR: usize = 4;
/// Columns of the quantized GEMM's register tile: four vectors of 4 int32 sums.
pub const QGEMM_NR: usize = 16;

qgemm_kernel! {
    nr = QGEMM_NR, mr = QGEMM_MR, kr = 1, w = i8;
    /// `y[m][n] = requantize(b[n] + sum_k x[m][k] * w[k][n], s[n])` with int8 weights in panels
    /// of 16 columns (`w[panel][k][0..16]`, zero padded): per k, one load of 16 weights widened
    /// to 16 bits, and per row 4 `smlal` by the row's input (a lane of eight inputs widened
    /// once), 16 exact products into 32-bit sums. Rows are read in place.
    #[inline(never)]
    pub fn u8_gemm_neon(x, w, b, s, y, q, rows, panels) {
        gemm_tiles(N, NB, [QGEMM_MR, QGEMM_NR], rows, panels, |m0, count, p, cols| {
            // SAFETY: rows m0..m0+count of x (K bytes each) and of y (N each) exist and are this
            // task's; panel p's K * 16 weights and 16 biases and scales exist since p < NP/16;
            // at most `cols` bytes from p*16 are stored and p*16 + cols <= N.
            unsafe {
                let xp = x.as_ptr().add(m0 * K);
                let wp = w.as_ptr().add(p * K * QGEMM_NR);
                let (bp, sp) = (b.as_ptr().add(p * QGEMM_NR), s.as_ptr().add(p * QGEMM_NR));
                let yp = y.as_mut_ptr().add(m0 * N + p * QGEMM_NR);
                match count {
                    4 => qtile::<4, K, N>(xp, wp, bp, sp, yp, cols, q),
                    3 => qtile::<3, K, N>(xp, wp, bp, sp, yp, cols, q),
                    2 => qtile::<2, K, N>(xp, wp, bp, sp, yp, cols, q),
                    _ => qtile::<1, K, N>(xp, wp, bp, sp, yp, cols, q),
                }
            }
        });
    }
}

/// One `MR` x 16 tile of [`u8_gemm_neon`]: 4 * MR int32 accumulators; K in steps of eight
/// (each row's eight inputs widened once, then eight weight rows by lane), the rest one k at
/// a time; then the requantization.
///
/// # Safety
/// `x` must point to MR rows of K bytes (row stride K), `w` to K * 16 weights, `b` and `s` to
/// 16 values, `y` to MR rows with `cols` writable bytes each (row stride N).
#[inline(always)]
unsafe fn qtile<const MR: usize, const K: usize, const N: usize>(
    x: *const u8,
    w: *const i8,
    b: *const i32,
    s: *const f32,
    y: *mut u8,
    cols: usize,
    q: Requant,
) {
    unsafe {
        let bias = [
            vld1q_s32(b),
            vld1q_s32(b.add(4)),
            vld1q_s32(b.add(8)),
            vld1q_s32(b.add(12)),
        ];
        let mut acc = [bias; MR];
        let mut k = 0;
        while k + 8 <= K {
            let xv: [int16x8_t; MR] = core::array::from_fn(|r| {
                vreinterpretq_s16_u16(vmovl_u8(vld1_u8(x.add(r * K + k))))
            });
            let wk = w.add(k * QGEMM_NR);
            qstep::<MR, 0>(&mut acc, &xv, wk);
            qstep::<MR, 1>(&mut acc, &xv, wk);
            qstep::<MR, 2>(&mut acc, &xv, wk);
            qstep::<MR, 3>(&mut acc, &xv, wk);
            qstep::<MR, 4>(&mut acc, &xv, wk);
            qstep::<MR, 5>(&mut acc, &xv, wk);
            qstep::<MR, 6>(&mut acc, &xv, wk);
            qstep::<MR, 7>(&mut acc, &xv, wk);
            k += 8;
        }
        while k < K {
            let (w0, w1) = widen16(w.add(k * QGEMM_NR));
            for (r, a) in acc.iter_mut().enumerate() {
                let xs = *x.add(r * K + k) as i16;
                a[0] = vmlal_n_s16(a[0], vget_low_s16(w0), xs);
                a[1] = vmlal_high_n_s16(a[1], w0, xs);
                a[2] = vmlal_n_s16(a[2], vget_low_s16(w1), xs);
                a[3] = vmlal_high_n_s16(a[3], w1, xs);
            }
            k += 1;
        }
        for (r, a) in acc.iter().enumerate() {
            store_bytes(y.add(r * N), requantize16(*a, s, q), cols);
        }
    }
}

/// Sixteen int8 weights at `w`, widened to two vectors of 16 bits.
///
/// # Safety
/// `w` must point to 16 readable bytes.
#[inline(always)]
unsafe fn widen16(w: *const i8) -> (int16x8_t, int16x8_t) {
    unsafe {
        let v = vld1q_s8(w);
        (vmovl_s8(vget_low_s8(v)), vmovl_high_s8(v))
    }
}

/// Step `L` of eight of [`qtile`]: weight row `L` (16 columns) times lane `L` of each row's
/// widened inputs.
///
/// # Safety
/// `w` must point to 8 * 16 readable weights.
#[inline(always)]
unsafe fn qstep<const MR: usize, const L: i32>(
    acc: &mut [[int32x4_t; 4]; MR],
    xv: &[int16x8_t; MR],
    w: *const i8,
) {
    unsafe {
        let (w0, w1) = widen16(w.add(L as usize * QGEMM_NR));
        for (a, &xr) in acc.iter_mut().zip(xv) {
            a[0] = vmlal_laneq_s16::<L>(a[0], vget_low_s16(w0), xr);
            a[1] = vmlal_high_laneq_s16::<L>(a[1], w0, xr);
            a[2] = vmlal_laneq_s16::<L>(a[2], vget_low_s16(w1), xr);
            a[3] = vmlal_high_laneq_s16::<L>(a[3], w1, xr);
        }
    }
}

qdwconv_kernel! {
    w = i8, wn = KH * KW * C;
    /// Quantized depthwise 2-D convolution, NHWC, weights `[KH][KW][C]` int8. Sixteen channels
    /// at a time (then eight): `usubl`/`usubl2` widen the inputs less the zero point to 16
    /// bits, `smlal`/`smlal2` add their products with the widened weights into 32-bit sums.
    /// Along an output row a channel block's weights are widened once and stay in registers;
    /// pixels whose window is clipped by the padding skip the taps outside. Channels past the
    /// last multiple of 8 are the scalar twin's.
    #[inline(never)]
    pub fn u8_dwconv_neon(x, xz, w, b, s, y, q, rows) {
        let c8 = C / 8 * 8;
        let (first, last) = interior(PL, SW, W, KW, OW);
        let geometry = DwGeometry { w: W, c: C, sh: SH, sw: SW, pt: PT, pl: PL, h: H, ow: OW, first, last, xz };
        // SAFETY: `dw_row` reads inputs at (iy * W + ix) * C + c0 .. + 8 * V with iy < H,
        // ix < W (taps clipped by `taps`) and c0 + 8 * V <= C, inside XN; weights at
        // (ky * KW + kx) * C + c0 .. + 8 * V, inside WN; biases and scales at c0 .. + 8 * V;
        // it stores 8 * V bytes per pixel of row `oy`, this task's, inside YN.
        unsafe {
            for oy in rows.clone() {
                let mut c0 = 0;
                while c0 + 16 <= C {
                    dw_row::<2, KH, KW>(x.as_ptr(), w.as_ptr(), b.as_ptr(), s.as_ptr(), y.as_mut_ptr(), &geometry, oy, c0, q);
                    c0 += 16;
                }
                if c0 < c8 {
                    dw_row::<1, KH, KW>(x.as_ptr(), w.as_ptr(), b.as_ptr(), s.as_ptr(), y.as_mut_ptr(), &geometry, oy, c0, q);
                }
            }
        }
        for oy in rows {
            for ox in 0..OW {
                let (ky0, ky1) = taps(oy, SH, PT, H, KH);
                let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                // SAFETY: row `oy` is this task's.
                let out = unsafe { y.part((oy * OW + ox) * C + c8, C - c8) };
                for (j, o) in out.iter_mut().enumerate() {
                    let c = c8 + j;
                    let mut acc = b[c];
                    for ky in ky0..ky1 {
                        for kx in kx0..kx1 {
                            let xv = x[((oy * SH + ky - PT) * W + ox * SW + kx - PL) * C + c] as i32 - xz;
                            acc += xv * w[(ky * KW + kx) * C + c] as i32;
                        }
                    }
                    *o = crate::scalar::requantize(acc, s[c], q);
                }
            }
        }
    }
}

/// Output row `oy` of [`u8_dwconv_neon`] for the `8 * V` channels from `c0`: the block's
/// `KH x KW` weights widened into registers once, then every pixel; a pixel whose window the
/// padding clips skips the taps outside (the branches fold away where nothing is clipped).
///
/// # Safety
/// `c0 + 8 * V <= g.c`; the pointers are the kernel's arrays, `oy < OH` one of this task's rows.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn dw_row<const V: usize, const KH: usize, const KW: usize>(
    x: *const u8,
    w: *const i8,
    b: *const i32,
    s: *const f32,
    y: *mut u8,
    g: &DwGeometry,
    oy: usize,
    c0: usize,
    q: Requant,
) {
    unsafe {
        let zv = vdupq_n_u8(g.xz as u8);
        let (ky0, ky1) = taps(oy, g.sh, g.pt, g.h, KH);
        let wv: [[[int16x8_t; V]; KW]; KH] = core::array::from_fn(|ky| {
            core::array::from_fn(|kx| {
                core::array::from_fn(|v| {
                    vmovl_s8(vld1_s8(w.add((ky * KW + kx) * g.c + c0 + 8 * v)))
                })
            })
        });
        let bias: [[int32x4_t; 2]; V] = core::array::from_fn(|v| {
            let p = b.add(c0 + 8 * v);
            [vld1q_s32(p), vld1q_s32(p.add(4))]
        });
        let pixel = |ox: usize, clip: bool| {
            let (kx0, kx1) = taps(ox, g.sw, g.pl, g.w, KW);
            let mut acc = bias;
            for (ky, wr) in wv.iter().enumerate() {
                if clip && (ky < ky0 || ky >= ky1) {
                    continue;
                }
                let row = x.add(((oy * g.sh + ky).wrapping_sub(g.pt) * g.w) * g.c + c0);
                for (kx, wk) in wr.iter().enumerate() {
                    if clip && (kx < kx0 || kx >= kx1) {
                        continue;
                    }
                    let px = row.add((ox * g.sw + kx).wrapping_sub(g.pl) * g.c);
                    let xs: [int16x8_t; V] = if V == 2 {
                        let v = vld1q_u8(px);
                        let lo = vreinterpretq_s16_u16(vsubl_u8(vget_low_u8(v), vget_low_u8(zv)));
                        let hi = vreinterpretq_s16_u16(vsubl_high_u8(v, zv));
                        core::array::from_fn(|i| if i == 0 { lo } else { hi })
                    } else {
                        [vreinterpretq_s16_u16(vsubl_u8(vld1_u8(px), vget_low_u8(zv))); V]
                    };
                    for ((a, &xv), &wk) in acc.iter_mut().zip(&xs).zip(wk) {
                        a[0] = vmlal_s16(a[0], vget_low_s16(xv), vget_low_s16(wk));
                        a[1] = vmlal_high_s16(a[1], xv, wk);
                    }
                }
            }
            let at = y.add((oy * g.ow + ox) * g.c + c0);
            for (v, a) in acc.iter().enumerate() {
                vst1_u8(at.add(8 * v), requantize8(*a, s.add(c0 + 8 * v), q));
            }
        };
        let full = ky0 == 0 && ky1 == KH;
        for ox in (0..g.first).chain(g.last..g.ow) {
            pixel(ox, true);
        }
        for ox in g.first..g.last {
            pixel(ox, !full);
        }
    }
}

/// Output pixels of a row that [`u8_conv_neon`] computes together.
const QCONV_PX: usize = 4;

qconv_kernel! {
    w = i16, wn = KH * KW * CI * CO.next_multiple_of(8);
    /// Quantized dense 2-D convolution (a quantized model's stem), from an input in any layout,
    /// weights `[KH * KW * CI][COP]` int16 (`QConvLayout::Wide8`: `CO` padded to 8). Per tap,
    /// the input less the zero point times a vector of 8 output channels' weights, two `smlal`;
    /// interior pixels four at a time per block of 16 output channels (16 accumulators), border
    /// pixels one at a time with their window clipped.
    #[inline(never)]
    pub fn u8_conv_neon(x, xz, w, b, s, y, q, rows) {
        let cop = CO.next_multiple_of(8);
        let (first, last) = interior(PL, SW, W, KW, OW);
        let strides = [XSC, XSY, XSX];
        // SAFETY: the windows read inputs inside the image (taps() clips them; interior pixels'
        // windows lie inside), at most XN by the const assertion; weight reads of 8 at
        // t * COP + cb with cb + 8 <= COP, inside WN; bias and scale reads of up to 16 at cb
        // stay below CO + 8 only where CO is short of it: the kernel reads `b` and `s` through
        // padded copies; stores of min(16, CO - cb) bytes per pixel of this task's rows.
        unsafe {
            let mut bp = [0i32; 16];
            let mut sp = [0f32; 16];
            let yp = y.as_mut_ptr();
            let win = QWindow { x: x.as_ptr(), strides, ci: CI, kw: KW, cop, xz, sw: SW };
            for oy in rows {
                let (ky0, ky1) = taps(oy, SH, PT, H, KH);
                let iy = (oy * SH).wrapping_sub(PT);
                // Interior pixels eight at a time in lanes, when a tap's inputs for neighbouring
                // output pixels are 1 or 2 bytes apart (an NCHW input, stride 1 or 2) and the
                // block's widest load stays inside the input.
                let mut lanes_end = first;
                if XSX * SW <= 2 && ky1 > ky0 {
                    // The block's farthest read (last window row, column and channel) inside
                    // the input: lanes_end >= first, so lanes_end * SW >= PL.
                    let rest = (iy + ky1 - 1) * XSY + (CI - 1) * XSC + 16;
                    while lanes_end + 8 <= last
                        && rest + (lanes_end * SW + KW - 1 - PL) * XSX <= XN
                    {
                        let ix = lanes_end * SW - PL;
                        for cb in (0..cop).step_by(8) {
                            let n = (CO - cb).min(8);
                            let mut b8 = [0i32; 8];
                            let mut s8 = [0f32; 8];
                            b8[..n].copy_from_slice(&b[cb..cb + n]);
                            s8[..n].copy_from_slice(&s[cb..cb + n]);
                            let at = yp.add((oy * OW + lanes_end) * CO + cb);
                            let (wcb, bb, sb) = (w.as_ptr().add(cb), b8.as_ptr(), s8.as_ptr());
                            if XSX * SW == 1 {
                                win.lanes::<1>([iy, ix], [ky0, ky1], wcb, bb, sb, at, CO, n, q);
                            } else {
                                win.lanes::<2>([iy, ix], [ky0, ky1], wcb, bb, sb, at, CO, n, q);
                            }
                        }
                        lanes_end += 8;
                    }
                }
                let mut cb = 0;
                while cb < cop {
                    let n = (CO - cb).min(16);
                    bp[..n].copy_from_slice(&b[cb..cb + n]);
                    sp[..n].copy_from_slice(&s[cb..cb + n]);
                    let wcb = w.as_ptr().add(cb);
                    let (bb, sb) = (bp.as_ptr(), sp.as_ptr());
                    let at = |ox: usize| yp.add((oy * OW + ox) * CO + cb);
                    let one = |ox: usize| {
                        let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                        let ix = (ox * SW).wrapping_sub(PL);
                        if cop - cb >= 16 {
                            win.pixels::<1, 2>([iy, ix], [ky0, ky1], [kx0, kx1], wcb, bb, sb, at(ox), CO, n, q);
                        } else {
                            win.pixels::<1, 1>([iy, ix], [ky0, ky1], [kx0, kx1], wcb, bb, sb, at(ox), CO, n, q);
                        }
                    };
                    for ox in (0..first).chain(last..OW) {
                        one(ox);
                    }
                    let mut ox = lanes_end;
                    while ox + QCONV_PX <= last {
                        let ix = (ox * SW).wrapping_sub(PL);
                        if cop - cb >= 16 {
                            win.pixels::<QCONV_PX, 2>([iy, ix], [ky0, ky1], [0, KW], wcb, bb, sb, at(ox), CO, n, q);
                        } else {
                            win.pixels::<QCONV_PX, 1>([iy, ix], [ky0, ky1], [0, KW], wcb, bb, sb, at(ox), CO, n, q);
                        }
                        ox += QCONV_PX;
                    }
                    for ox in ox..last {
                        one(ox);
                    }
                    cb += 16;
                }
            }
        }
    }
}

/// `acc += x * w[J]` for eight 16-bit inputs: two `smlal` by element.
#[inline(always)]
fn lane<const J: i32>(acc: &mut [int32x4_t; 2], x: int16x8_t, w: int16x8_t) {
    // SAFETY: arithmetic on registers; NEON is baseline on aarch64.
    unsafe {
        acc[0] = vmlal_laneq_s16::<J>(acc[0], vget_low_s16(x), w);
        acc[1] = vmlal_high_laneq_s16::<J>(acc[1], x, w);
    }
}

/// What [`u8_conv_neon`]'s pixel blocks share: the input and its strides (channel, row,
/// column), its channels, the window width, the padded output channels, the zero point and the
/// column stride.
#[derive(Clone, Copy)]
struct QWindow {
    x: *const u8,
    strides: [usize; 3],
    ci: usize,
    kw: usize,
    cop: usize,
    xz: i32,
    sw: usize,
}

impl QWindow {
    /// Eight output pixels side by side in the lanes (columns `ix + p * sw` of tap (0, 0); an
    /// input column step `STEP` of 1 or 2 bytes, read with `ld1` or `ld2`) and 8 output
    /// channels: per tap, the eight inputs less the zero point (`usubl`) by lane `j` of the
    /// channels' weights into channel `j`'s two vectors of sums (16 `smlal`); then each channel
    /// requantized by its scale, the 8 x 8 bytes transposed to pixels (three rounds of `zip`)
    /// and `n` channels stored per pixel (pixel stride `ys`).
    ///
    /// # Safety
    /// The taps' 16-byte reads from `x` must be in bounds, `w` must point to the block's first
    /// channel in `[taps][cop]`, `b` and `s` to 8 values, `y` to 8 pixels of `n` writable bytes.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn lanes<const STEP: usize>(
        self,
        [iy, ix]: [usize; 2],
        [ky0, ky1]: [usize; 2],
        w: *const i16,
        b: *const i32,
        s: *const f32,
        y: *mut u8,
        ys: usize,
        n: usize,
        q: Requant,
    ) {
        unsafe {
            let [xsc, xsy, xsx] = self.strides;
            let zv = vdup_n_u8(self.xz as u8);
            let mut acc: [[int32x4_t; 2]; 8] = core::array::from_fn(|j| {
                let v = vdupq_n_s32(*b.add(j));
                [v, v]
            });
            for ky in ky0..ky1 {
                let row = self.x.add((iy + ky) * xsy);
                for kx in 0..self.kw {
                    for c in 0..self.ci {
                        let t = (ky * self.kw + kx) * self.ci + c;
                        let p = row.add((ix + kx) * xsx + c * xsc);
                        let xv = if STEP == 1 { vld1_u8(p) } else { vld2_u8(p).0 };
                        let xv = vreinterpretq_s16_u16(vsubl_u8(xv, zv));
                        let wv = vld1q_s16(w.add(t * self.cop));
                        lane::<0>(&mut acc[0], xv, wv);
                        lane::<1>(&mut acc[1], xv, wv);
                        lane::<2>(&mut acc[2], xv, wv);
                        lane::<3>(&mut acc[3], xv, wv);
                        lane::<4>(&mut acc[4], xv, wv);
                        lane::<5>(&mut acc[5], xv, wv);
                        lane::<6>(&mut acc[6], xv, wv);
                        lane::<7>(&mut acc[7], xv, wv);
                    }
                }
            }
            // Channel j's eight pixels, requantized by its one scale.
            let mut m: [uint8x8_t; 8] = core::array::from_fn(|j| {
                let sj = vdupq_n_f32(*s.add(j));
                requantize8_by(acc[j], [sj, sj], q)
            });
            // Rows k and k + 4 zipped, three times: the transpose, row p now pixel p's channels.
            for _ in 0..3 {
                let old = m;
                for k in 0..4 {
                    m[2 * k] = vzip1_u8(old[k], old[k + 4]);
                    m[2 * k + 1] = vzip2_u8(old[k], old[k + 4]);
                }
            }
            for (p, &v) in m.iter().enumerate() {
                if n == 8 {
                    vst1_u8(y.add(p * ys), v);
                } else {
                    let mut tmp = [0u8; 8];
                    vst1_u8(tmp.as_mut_ptr(), v);
                    core::ptr::copy_nonoverlapping(tmp.as_ptr(), y.add(p * ys), n);
                }
            }
        }
    }

    /// `PX` output pixels side by side (columns `ix` + p * sw of tap 0) and `8 * V` output
    /// channels: each tap's input less the zero point, by the channels' weights, into `2 * V`
    /// sums per pixel; then `n` of the channels requantized and stored per pixel (pixel stride
    /// `ys`). `iy`, `ix` are the input row and column of tap (0, 0) of the first pixel (wrapped
    /// when the window starts in the padding: only taps `ky0..ky1`, `kx0..kx1` are read).
    ///
    /// # Safety
    /// The taps read must lie inside the input; `w` must point to the block's first channel in
    /// `[taps][cop]`, `b` and `s` to 8 * V values, `y` to `PX` pixels of `n` writable bytes.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn pixels<const PX: usize, const V: usize>(
        self,
        [iy, ix]: [usize; 2],
        [ky0, ky1]: [usize; 2],
        [kx0, kx1]: [usize; 2],
        w: *const i16,
        b: *const i32,
        s: *const f32,
        y: *mut u8,
        ys: usize,
        n: usize,
        q: Requant,
    ) {
        unsafe {
            let [xsc, xsy, xsx] = self.strides;
            let bias: [[int32x4_t; 2]; V] =
                core::array::from_fn(|v| [vld1q_s32(b.add(8 * v)), vld1q_s32(b.add(8 * v + 4))]);
            let mut acc = [bias; PX];
            for ky in ky0..ky1 {
                let row = self.x.add(iy.wrapping_add(ky) * xsy);
                for kx in kx0..kx1 {
                    for c in 0..self.ci {
                        let t = (ky * self.kw + kx) * self.ci + c;
                        let wv: [int16x8_t; V] =
                            core::array::from_fn(|v| vld1q_s16(w.add(t * self.cop + 8 * v)));
                        for (p, a) in acc.iter_mut().enumerate() {
                            let col = ix.wrapping_add(p * self.sw + kx);
                            let xv = (*row.add(col * xsx + c * xsc) as i32 - self.xz) as i16;
                            for (av, &wk) in a.iter_mut().zip(&wv) {
                                av[0] = vmlal_n_s16(av[0], vget_low_s16(wk), xv);
                                av[1] = vmlal_high_n_s16(av[1], wk, xv);
                            }
                        }
                    }
                }
            }
            for (p, a) in acc.iter().enumerate() {
                let v = if V == 2 {
                    requantize16([a[0][0], a[0][1], a[V - 1][0], a[V - 1][1]], s, q)
                } else {
                    vcombine_u8(requantize8(a[0], s, q), vdup_n_u8(0))
                };
                store_bytes(y.add(p * ys), v, n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    crate::conformance::all_cases! {
        mnetc_targets::NEON,
        gemm: crate::neon::f32_gemm_minmax_neon,
        dwconv: crate::neon::f32_dwconv_nhwc_minmax_neon,
        conv: crate::neon::f32_conv_minmax_neon,
        gavgpool: crate::neon::f32_gavgpool_neon,
        qgemm: crate::neon::u8_gemm_neon,
        qdwconv: crate::neon::u8_dwconv_neon,
        qconv: crate::neon::u8_conv_neon,
        quantize: crate::neon::f32_quantize_neon
    }
}
