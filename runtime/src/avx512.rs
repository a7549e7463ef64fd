//! x86-64 kernels with AVX-512 (F), for the `avx512` target: compiled only when the build
//! enables AVX-512F, AVX2 and FMA (`-C target-feature=+avx512f,+avx2,+fma`), so a binary that
//! contains them never runs on a CPU without them. The GEMM (the pointwise convs and the
//! classifier, most of a MobileNet's multiply-adds) and the depthwise conv have 512-bit kernels;
//! the target takes the dense conv (the stem) from [`crate::avx2`] and the rest from
//! [`crate::scalar`]. Tested against the scalar twins like every SIMD kernel.
//!
//! `unsafe` here is the intrinsics (callable because the features are enabled for the whole
//! crate) and unaligned loads and stores through raw pointers, every one inside the arrays
//! whose lengths the inline `const` assertions tie to the shapes.
//!
//! The AVX-512 intrinsics are stable since Rust 1.89: this module (built only with the
//! target's features) needs that, the runtime's rust-version (1.85) holds for the others.
#![allow(clippy::incompatible_msrv)]

use crate::scalar::{gemm_tiles, interior, taps};
use core::arch::x86_64::*;

/// Rows of the GEMM microkernel's register tile: 24 of the 32 vector registers accumulate.
pub const GEMM_MR: usize = 12;
/// Columns of the GEMM microkernel's register tile: two vectors of 16.
pub const GEMM_NR: usize = 32;

gemm_kernel! {
    nr = GEMM_NR, mr = GEMM_MR;
    /// `y[m][n] = minmax(b[n] + sum_k x[m][k] * w[k][n])` with weights packed in panels of
    /// [`GEMM_NR`] columns: `w[panel][k][0..32]`, columns past `N` zero; `b` likewise padded to
    /// `NP` (a multiple of 32). The panels are visited in blocks of `NB` so that the block's
    /// weights stay in L2 while every row tile of `x` passes over them. A row tile of fewer
    /// than 12 rows (the last one) goes as tiles of 8, 4, 2 and 1 rows.
    #[inline(never)]
    pub fn f32_gemm_minmax_avx512(x, w, b, y, min, max, rows, panels) {
        let (first, end) = (rows.start, panels.end);
        gemm_tiles(N, NB, [GEMM_MR, GEMM_NR], rows, panels, |m0, count, p, cols| {
            // SAFETY: rows m0..m0+count of x (K each) and of y (N each) exist since
            // m0 + count <= M; panel p's K*32 weights and 32 biases exist since p < NP/32;
            // at most `cols` columns from p*32 are stored and p*32 + cols <= N; those rows of
            // that panel are this task's part of y.
            unsafe {
                let wp = w.as_ptr().add(p * K * GEMM_NR);
                let bp = b.as_ptr().add(p * GEMM_NR);
                // The first row tile of a block meets every panel cold: stream the next
                // panel in behind it, two cache lines per K step.
                let prefetch = m0 == first && p + 1 < end;
                let mut r = 0;
                while r < count {
                    let xp = x.as_ptr().add((m0 + r) * K);
                    let yp = y.as_mut_ptr().add((m0 + r) * N + p * GEMM_NR);
                    r += if prefetch {
                        let next = wp.add(K * GEMM_NR);
                        tile::<K, N, HS, true>(count - r, xp, wp, bp, yp, cols, min, max, next)
                    } else {
                        tile::<K, N, HS, false>(count - r, xp, wp, bp, yp, cols, min, max, wp)
                    };
                }
            }
        });
    }
}

/// The largest tile of 12, 8, 4, 2 or 1 rows that fits in the `left` rows of a row tile;
/// returns its rows. With `PF`, prefetching `next`.
///
/// # Safety
/// As [`micro`], for `left` rows.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile<const K: usize, const N: usize, const HS: bool, const PF: bool>(
    left: usize,
    x: *const f32,
    w: *const f32,
    b: *const f32,
    y: *mut f32,
    cols: usize,
    min: f32,
    max: f32,
    next: *const f32,
) -> usize {
    unsafe {
        match left {
            12.. => micro::<12, K, N, HS, PF>(x, w, b, y, cols, min, max, next),
            8.. => micro::<8, K, N, HS, PF>(x, w, b, y, cols, min, max, next),
            4.. => micro::<4, K, N, HS, PF>(x, w, b, y, cols, min, max, next),
            2.. => micro::<2, K, N, HS, PF>(x, w, b, y, cols, min, max, next),
            _ => micro_row::<K, HS>(x, w, b, y, cols, min, max),
        }
    }
}

/// One `MR` x 32 tile: 2 * MR accumulators in registers, K steps of one weight row (two
/// vectors) and MR broadcasts (folded into the multiply-adds); with `PF`, prefetching `next`
/// (the next panel). Returns `MR`.
///
/// # Safety
/// `x` must point to MR rows of K floats (row stride K), `w` to K * 32 floats, `b` to 32,
/// `y` to MR rows with `cols` writable floats each (row stride N).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn micro<const MR: usize, const K: usize, const N: usize, const HS: bool, const PF: bool>(
    x: *const f32,
    w: *const f32,
    b: *const f32,
    y: *mut f32,
    cols: usize,
    min: f32,
    max: f32,
    next: *const f32,
) -> usize {
    unsafe {
        let (b0, b1) = (_mm512_loadu_ps(b), _mm512_loadu_ps(b.add(16)));
        let mut acc = [[b0, b1]; MR];
        for k in 0..K {
            if PF {
                // A hint only: prefetching never faults, whatever the address.
                let at = next.wrapping_add(k * GEMM_NR) as *const i8;
                _mm_prefetch::<_MM_HINT_T0>(at);
                _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(64));
            }
            let w0 = _mm512_loadu_ps(w.add(k * GEMM_NR));
            let w1 = _mm512_loadu_ps(w.add(k * GEMM_NR + 16));
            for (r, a) in acc.iter_mut().enumerate() {
                let xv = _mm512_set1_ps(*x.add(r * K + k));
                a[0] = _mm512_fmadd_ps(xv, w0, a[0]);
                a[1] = _mm512_fmadd_ps(xv, w1, a[1]);
            }
        }
        let (lo, hi) = (_mm512_set1_ps(min), _mm512_set1_ps(max));
        for (r, a) in acc.iter().enumerate() {
            store32_act::<HS>(y.add(r * N), a[0], a[1], lo, hi, cols);
        }
        MR
    }
}

/// The one-row tile (fully connected layers, remainders): four interleaved K sub-sums keep
/// eight FMA chains in flight instead of two. Returns 1.
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
) -> usize {
    unsafe {
        let zero = _mm512_setzero_ps();
        let mut acc = [[zero; 2]; 4];
        acc[0] = [_mm512_loadu_ps(b), _mm512_loadu_ps(b.add(16))];
        let main = K / 4 * 4;
        let mut k = 0;
        while k < main {
            for (j, a) in acc.iter_mut().enumerate() {
                let xv = _mm512_set1_ps(*x.add(k + j));
                a[0] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(w.add((k + j) * GEMM_NR)), a[0]);
                a[1] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(w.add((k + j) * GEMM_NR + 16)), a[1]);
            }
            k += 4;
        }
        for k in main..K {
            let xv = _mm512_set1_ps(*x.add(k));
            acc[0][0] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(w.add(k * GEMM_NR)), acc[0][0]);
            acc[0][1] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(w.add(k * GEMM_NR + 16)), acc[0][1]);
        }
        let sum = |h: usize| {
            _mm512_add_ps(
                _mm512_add_ps(acc[0][h], acc[1][h]),
                _mm512_add_ps(acc[2][h], acc[3][h]),
            )
        };
        let (lo, hi) = (_mm512_set1_ps(min), _mm512_set1_ps(max));
        store32_act::<HS>(y, sum(0), sum(1), lo, hi, cols);
        1
    }
}

/// The epilogue of the conv and GEMM kernels on one vector, as [`crate::avx2::act8`].
#[inline(always)]
fn act16<const HS: bool>(v: __m512, lo: __m512, hi: __m512) -> __m512 {
    // SAFETY: this module is compiled only with AVX-512F enabled (lib.rs).
    unsafe {
        let v = if HS {
            let gate = _mm512_add_ps(
                _mm512_mul_ps(v, _mm512_set1_ps(1.0 / 6.0)),
                _mm512_set1_ps(0.5),
            );
            let gate = _mm512_min_ps(
                _mm512_max_ps(gate, _mm512_setzero_ps()),
                _mm512_set1_ps(1.0),
            );
            _mm512_mul_ps(v, gate)
        } else {
            v
        };
        _mm512_min_ps(_mm512_max_ps(v, lo), hi)
    }
}

/// Applies the epilogue to two vectors and stores the first `cols` (up to 32) of their lanes at
/// `y`, with masked stores for a partial last panel.
///
/// # Safety
/// `y` must have `cols` writable floats.
#[inline(always)]
unsafe fn store32_act<const HS: bool>(
    y: *mut f32,
    v0: __m512,
    v1: __m512,
    lo: __m512,
    hi: __m512,
    cols: usize,
) {
    unsafe {
        let (v0, v1) = (act16::<HS>(v0, lo, hi), act16::<HS>(v1, lo, hi));
        if cols == GEMM_NR {
            _mm512_storeu_ps(y, v0);
            _mm512_storeu_ps(y.add(16), v1);
        } else {
            // Masked lanes are neither written nor faulted on.
            let m0 = ((1u32 << cols.min(16)) - 1) as __mmask16;
            let m1 = ((1u32 << cols.saturating_sub(16)) - 1) as __mmask16;
            _mm512_mask_storeu_ps(y, m0, v0);
            _mm512_mask_storeu_ps(y.add(16), m1, v1);
        }
    }
}

/// Output pixels of a row that [`f32_dwconv_nhwc_minmax_avx512`] computes together: eight
/// independent chains cover two FMA units' latency.
const DW_PX: usize = 8;

/// The lanes of the 16-channel block from channel `c` that lie below `channels`.
#[inline(always)]
fn lanes(c: usize, channels: usize) -> __mmask16 {
    if channels - c >= 16 {
        0xFFFF
    } else {
        ((1u32 << (channels - c)) - 1) as __mmask16
    }
}

dwconv_kernel! {
    /// Depthwise 2-D convolution, NHWC, 16 channels per vector with the last block masked (no
    /// scalar tail); fewer than 16 channels go 8 at a time ([`crate::avx2::dw_rows`]). Weights `[KH][KW][C]`, bias `[C]`, as
    /// [`crate::scalar::f32_dwconv_nhwc_minmax`]. Interior pixels go eight at a time per
    /// block of channels; border pixels, whose windows leave the input, one at a time.
    #[inline(never)]
    pub fn f32_dwconv_nhwc_minmax_avx512(x, w, b, y, min, max, rows) {
        if C < 16 {
            // SAFETY: `y` is the call's output, and `rows` this task's rows of it.
            return unsafe {
                crate::avx2::dw_rows::<H, W, C, KH, KW, SH, SW, PT, PL, OH, OW, HS, XN, WN>(
                    x,
                    w,
                    b,
                    y.as_mut_ptr(),
                    min,
                    max,
                    rows,
                )
            };
        }
        // Interior columns: the whole window row inside the input.
        let (first, last) = interior(PL, SW, W, KW, OW);
        // SAFETY: every load and store covers the lanes `lanes(c, C)` of channels c..c + 16
        // (masked lanes are neither read nor written, nor can they fault) at pixel offsets
        // (iy * W + ix) * C with iy < H, ix < W (from `taps`, or first <= ox < last for
        // interior columns) for x, (ky * KW + kx) * C for w, 0 for b and (oy * OW + ox) * C
        // for y, with oy in this task's rows.
        unsafe {
            let (lo, hi) = (_mm512_set1_ps(min), _mm512_set1_ps(max));
            let (xp, wp, bp, yp) = (x.as_ptr(), w.as_ptr(), b.as_ptr(), y.as_mut_ptr());
            let clamp = |v: __m512| act16::<HS>(v, lo, hi);
            // One pixel, window clipped to the input.
            let pixel = |oy: usize, ox: usize| {
                let (ky0, ky1) = taps(oy, SH, PT, H, KH);
                let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                let out = yp.add((oy * OW + ox) * C);
                for c in (0..C).step_by(16) {
                    let m = lanes(c, C);
                    let mut acc = _mm512_maskz_loadu_ps(m, bp.add(c));
                    for ky in ky0..ky1 {
                        let row = (oy * SH + ky - PT) * W;
                        for kx in kx0..kx1 {
                            let xv = _mm512_maskz_loadu_ps(m, xp.add((row + ox * SW + kx - PL) * C + c));
                            let wv = _mm512_maskz_loadu_ps(m, wp.add((ky * KW + kx) * C + c));
                            acc = _mm512_fmadd_ps(xv, wv, acc);
                        }
                    }
                    _mm512_mask_storeu_ps(out.add(c), m, clamp(acc));
                }
            };
            for oy in rows.clone() {
                let (ky0, ky1) = taps(oy, SH, PT, H, KH);
                for ox in (0..first).chain(last..OW) {
                    pixel(oy, ox);
                }
                let mut ox0 = first;
                while ox0 + DW_PX <= last {
                    for c in (0..C).step_by(16) {
                        let m = lanes(c, C);
                        let mut acc = [_mm512_maskz_loadu_ps(m, bp.add(c)); DW_PX];
                        for ky in ky0..ky1 {
                            let row = xp.add((oy * SH + ky - PT) * W * C + c);
                            for kx in 0..KW {
                                let wv = _mm512_maskz_loadu_ps(m, wp.add((ky * KW + kx) * C + c));
                                for (p, a) in acc.iter_mut().enumerate() {
                                    let xv = _mm512_maskz_loadu_ps(m, row.add(((ox0 + p) * SW + kx - PL) * C));
                                    *a = _mm512_fmadd_ps(xv, wv, *a);
                                }
                            }
                        }
                        for (p, a) in acc.iter().enumerate() {
                            _mm512_mask_storeu_ps(yp.add((oy * OW + ox0 + p) * C + c), m, clamp(*a));
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

#[cfg(test)]
mod tests {
    extern crate std;

    #[test]
    fn the_cpu_has_avx512f() {
        assert!(std::is_x86_feature_detected!("avx512f"));
    }

    crate::conformance::gemm_cases! {
        mnetc_targets::AVX512,
        crate::avx512::f32_gemm_minmax_avx512
    }

    crate::conformance::dw_cases! {
        crate::avx512::f32_dwconv_nhwc_minmax_avx512
    }

    /// The cases ran exactly the kernels the target lists from this module: the GEMM and the
    /// depthwise conv.
    #[test]
    fn the_kernels_tested_are_the_kernels_listed() {
        use mnetc_targets::Kernel;
        let gemm = crate::conformance::gemm_case!(
            crate::avx512::f32_gemm_minmax_avx512,
            mnetc_targets::AVX512,
            1,
            1,
            1
        );
        let dw = crate::conformance::dw_case!(
            crate::avx512::f32_dwconv_nhwc_minmax_avx512,
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
        crate::conformance::check_listed(
            &mnetc_targets::AVX512,
            &[(Kernel::Gemm, gemm), (Kernel::DwConv, dw)],
        );
    }
}
