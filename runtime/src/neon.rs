//! aarch64 kernels with NEON and FMA (`core::arch::aarch64`; NEON is baseline on every aarch64
//! Rust target, so no feature needs enabling, and generated `neon` code refuses to build for
//! other architectures). Each kernel has a twin in [`crate::scalar`] it is tested against
//! (`crate::conformance`); the layouts are the AVX2 ones with 128-bit vectors, so the compiler
//! packs weights the same way: GEMM panels of 16 columns, conv output channels padded to 4.
//!
//! `unsafe` here is the intrinsics and unaligned loads and stores through raw pointers, every
//! one inside the arrays whose lengths the inline `const` assertions tie to the shapes.

use crate::scalar::{clamp, gemm_tiles, interior, taps};
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
                    6 => micro::<6, K, N>(xp, wp, bp, yp, cols, min, max),
                    5 => micro::<5, K, N>(xp, wp, bp, yp, cols, min, max),
                    4 => micro::<4, K, N>(xp, wp, bp, yp, cols, min, max),
                    3 => micro::<3, K, N>(xp, wp, bp, yp, cols, min, max),
                    2 => micro::<2, K, N>(xp, wp, bp, yp, cols, min, max),
                    _ => micro_row::<K>(xp, wp, bp, yp, cols, min, max),
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
unsafe fn micro<const MR: usize, const K: usize, const N: usize>(
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
            store16_minmax(y.add(r * N), a, lo, hi, cols);
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
unsafe fn micro_row<const K: usize>(
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
        store16_minmax(y, &sum, lo, hi, cols);
    }
}

/// Clamps four vectors to `[lo, hi]` and stores the first `cols` (up to 16) of their lanes.
///
/// # Safety
/// `y` must have `cols` writable floats.
#[inline(always)]
unsafe fn store16_minmax(
    y: *mut f32,
    v: &[float32x4_t; 4],
    lo: float32x4_t,
    hi: float32x4_t,
    cols: usize,
) {
    unsafe {
        let v = v.map(|v| vminq_f32(vmaxq_f32(v, lo), hi));
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
                    vst1q_f32(out.add(c), vminq_f32(vmaxq_f32(acc, lo), hi));
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
                    *out.add(c) = clamp(acc, min, max);
                }
            };
            for oy in rows.clone() {
                let (ky0, ky1) = taps(oy, SH, PT, H, KH);
                for ox in (0..first).chain(last..OW) {
                    pixel(oy, ox);
                }
                let mut ox0 = first;
                while ox0 + DW_PX <= last && C % 8 == 0 {
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
                            vst1q_f32(out, vminq_f32(vmaxq_f32(a[0], lo), hi));
                            vst1q_f32(out.add(4), vminq_f32(vmaxq_f32(a[1], lo), hi));
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
        // ((ky * KW + kx) * CI + ci) * COP + cb + 4 <= WN; bias reads at cb + 4 <= COP; stores
        // write min(4, CO - cb) floats at (oy * OW + ox) * CO + cb, inside YN.
        unsafe {
            let (lo, hi) = (vdupq_n_f32(min), vdupq_n_f32(max));
            let (xp, wp, bp, yp) = (x.as_ptr(), w.as_ptr(), b.as_ptr(), y.as_mut_ptr());
            let store = |v: float32x4_t, at: *mut f32, n: usize| {
                let v = vminq_f32(vmaxq_f32(v, lo), hi);
                if n == 4 {
                    vst1q_f32(at, v);
                } else {
                    let mut tmp = [0f32; 4];
                    vst1q_f32(tmp.as_mut_ptr(), v);
                    core::ptr::copy_nonoverlapping(tmp.as_ptr(), at, n);
                }
            };
            let pixel = |oy: usize, ox: usize| {
                let (ky0, ky1) = taps(oy, SH, PT, H, KH);
                let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                for cb in (0..COP).step_by(4) {
                    let mut acc = vld1q_f32(bp.add(cb));
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
                let mut ox0 = first;
                while ox0 + CONV_PX <= last {
                    for cb in (0..COP).step_by(4) {
                        let mut acc = [vld1q_f32(bp.add(cb)); CONV_PX];
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

#[cfg(test)]
mod tests {
    extern crate std;

    crate::conformance::all_cases! {
        mnetc_targets::NEON,
        gemm: crate::neon::f32_gemm_minmax_neon,
        dwconv: crate::neon::f32_dwconv_nhwc_minmax_neon,
        conv: crate::neon::f32_conv_minmax_neon,
        gavgpool: crate::neon::f32_gavgpool_neon
    }
}
