//! x86-64 kernels with AVX2 and FMA: compiled only when the build enables both features
//! (`-C target-feature=+avx2,+fma`, or `-C target-cpu=native` on such a CPU), so a binary that
//! contains them never runs on a CPU without them. Code generated for the `avx2` target refuses
//! to build otherwise. Each kernel has a twin in [`crate::scalar`] it is tested against; kernels
//! not listed here (pooling, softmax, layout copies) are the scalar ones.
//!
//! `unsafe` here is the intrinsics (callable because the features are enabled for the whole
//! crate) and unaligned loads and stores through raw pointers, every one inside the arrays
//! whose lengths the inline `const` assertions tie to the shapes.

use crate::scalar::{act, gemm_tiles, interior, pad_init, taps};
use core::arch::x86_64::*;

/// Rows of the GEMM microkernel's register tile.
pub const GEMM_MR: usize = 6;
/// Columns of the GEMM microkernel's register tile: two vectors of 8.
pub const GEMM_NR: usize = 16;

gemm_kernel! {
    nr = GEMM_NR, mr = GEMM_MR;
    /// `y[m][n] = minmax(b[n] + sum_k x[m][k] * w[k][n])` with weights packed in panels of
    /// [`GEMM_NR`] columns: `w[panel][k][0..16]`, columns past `N` zero; `b` likewise padded to
    /// `NP` (a multiple of 16). The panels are visited in blocks of `NB` so that the block's
    /// weights stay in L2 while every row tile of `x` passes over them.
    #[inline(never)]
    pub fn f32_gemm_minmax_avx2(x, w, b, y, min, max, rows, panels) {
        let (first, end) = (rows.start, panels.end);
        gemm_tiles(N, NB, [GEMM_MR, GEMM_NR], rows, panels, |m0, count, p, cols| {
            // SAFETY: rows m0..m0+count of x (K each) and of y (N each) exist since
            // m0 + count <= M; panel p's K*16 weights and 16 biases exist since p < NP/16;
            // at most `cols` columns from p*16 are stored and p*16 + cols <= N; those rows of
            // that panel are this task's part of y.
            unsafe {
                let xp = x.as_ptr().add(m0 * K);
                let wp = w.as_ptr().add(p * K * GEMM_NR);
                let bp = b.as_ptr().add(p * GEMM_NR);
                let yp = y.as_mut_ptr().add(m0 * N + p * GEMM_NR);
                // The first row tile of a block meets every panel cold: stream the next
                // panel in behind it, one cache line per K step.
                if m0 == first && p + 1 < end {
                    tile::<K, N, HS, true>(count, xp, wp, bp, yp, cols, min, max, wp.add(K * GEMM_NR));
                } else {
                    tile::<K, N, HS, false>(count, xp, wp, bp, yp, cols, min, max, core::ptr::null());
                }
            }
        });
    }
}

/// The microkernel for `rows` (1 to 6) rows of one panel; with `PF`, prefetching `next`.
///
/// # Safety
/// As [`micro`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile<const K: usize, const N: usize, const HS: bool, const PF: bool>(
    rows: usize,
    x: *const f32,
    w: *const f32,
    b: *const f32,
    y: *mut f32,
    cols: usize,
    min: f32,
    max: f32,
    next: *const f32,
) {
    unsafe {
        match rows {
            6 => micro::<6, K, N, HS, PF>(x, w, b, y, cols, min, max, next),
            5 => micro::<5, K, N, HS, PF>(x, w, b, y, cols, min, max, next),
            4 => micro::<4, K, N, HS, PF>(x, w, b, y, cols, min, max, next),
            3 => micro::<3, K, N, HS, PF>(x, w, b, y, cols, min, max, next),
            2 => micro::<2, K, N, HS, PF>(x, w, b, y, cols, min, max, next),
            _ => micro_row::<K, HS>(x, w, b, y, cols, min, max),
        }
    }
}

/// The K loop of the 6 x 16 tile in `asm!`: its 12 accumulators, two weight vectors and the
/// broadcast are 15 of the 16 registers, and LLVM's allocator, left to itself, kept the clamp
/// bounds (two floats that arrive in xmm0 and xmm1 and are needed only after the loop) in
/// registers across it in some builds and spilled two accumulators instead: a load and a store
/// on their FMA chains, twice the time (v1 1.0-224 24 ms instead of 11.5 in the benchmark's
/// crate, Zen 4). Here the allocator must find 15 vector registers for the block, so anything
/// else is spilled outside the loop. The same FMAs in the same order as the intrinsics (the
/// same bits). `$pf` is the prefetch of the next panel, one cache line per K step, or a
/// comment naming the (unused) operand.
macro_rules! micro6_k_loop {
    ($acc:ident, $x:expr, $w:expr, $k:expr, $next:expr, $pf:literal) => {
        core::arch::asm!(
            "2:",
            "vmovups {w0}, ymmword ptr [{wp}]",
            "vmovups {w1}, ymmword ptr [{wp} + 32]",
            $pf,
            "vbroadcastss {t}, dword ptr [{xa}]",
            "vfmadd231ps {c00}, {t}, {w0}",
            "vfmadd231ps {c01}, {t}, {w1}",
            "vbroadcastss {t}, dword ptr [{xa} + {row}]",
            "vfmadd231ps {c10}, {t}, {w0}",
            "vfmadd231ps {c11}, {t}, {w1}",
            "vbroadcastss {t}, dword ptr [{xa} + {row} * 2]",
            "vfmadd231ps {c20}, {t}, {w0}",
            "vfmadd231ps {c21}, {t}, {w1}",
            "vbroadcastss {t}, dword ptr [{xb}]",
            "vfmadd231ps {c30}, {t}, {w0}",
            "vfmadd231ps {c31}, {t}, {w1}",
            "vbroadcastss {t}, dword ptr [{xb} + {row}]",
            "vfmadd231ps {c40}, {t}, {w0}",
            "vfmadd231ps {c41}, {t}, {w1}",
            "vbroadcastss {t}, dword ptr [{xb} + {row} * 2]",
            "vfmadd231ps {c50}, {t}, {w0}",
            "vfmadd231ps {c51}, {t}, {w1}",
            "add {xa}, 4",
            "add {xb}, 4",
            "add {wp}, 64",
            "add {pf}, 64",
            "dec {n}",
            "jnz 2b",
            c00 = inout(ymm_reg) $acc[0][0],
            c01 = inout(ymm_reg) $acc[0][1],
            c10 = inout(ymm_reg) $acc[1][0],
            c11 = inout(ymm_reg) $acc[1][1],
            c20 = inout(ymm_reg) $acc[2][0],
            c21 = inout(ymm_reg) $acc[2][1],
            c30 = inout(ymm_reg) $acc[3][0],
            c31 = inout(ymm_reg) $acc[3][1],
            c40 = inout(ymm_reg) $acc[4][0],
            c41 = inout(ymm_reg) $acc[4][1],
            c50 = inout(ymm_reg) $acc[5][0],
            c51 = inout(ymm_reg) $acc[5][1],
            w0 = out(ymm_reg) _,
            w1 = out(ymm_reg) _,
            t = out(ymm_reg) _,
            // Rows 0 to 2 from xa, 3 to 5 from xb, `row` bytes apart.
            xa = inout(reg) $x => _,
            xb = inout(reg) $x.add(3 * $k) => _,
            row = in(reg) $k * 4,
            wp = inout(reg) $w => _,
            pf = inout(reg) $next => _,
            n = inout(reg) $k => _,
            options(nostack, readonly),
        )
    };
}

/// One `MR` x 16 tile: 2 * MR accumulators in registers, K steps of one weight row (two
/// vectors) and MR broadcasts.
///
/// # Safety
/// `x` must point to MR rows of K floats (row stride K), `w` to K * 16 floats, `b` to 16,
/// `y` to MR rows with `cols` writable floats each (row stride N).
// Not inlined: its 12 accumulators, two weight vectors and the broadcast take 15 of the 16
// registers, and inlined into some callers (several tasks, a partial last panel) LLVM kept
// one more value live and spilled an accumulator inside the K loop (a store and a load on
// its FMA chain: twice the time, 3136x24x72 on Zen 4). A call per tile costs nothing beside it.
// The 6-row K loop is `asm!` as well (`micro6_k_loop!`): not inlined, LLVM still spilled in
// some builds.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe fn micro<const MR: usize, const K: usize, const N: usize, const HS: bool, const PF: bool>(
    x: *const f32,
    w: *const f32,
    b: *const f32,
    y: *mut f32,
    cols: usize,
    min: f32,
    max: f32,
    prefetch: *const f32,
) {
    unsafe {
        let (b0, b1) = (_mm256_loadu_ps(b), _mm256_loadu_ps(b.add(8)));
        let mut acc = [[b0, b1]; MR];
        if MR == 6 && PF {
            micro6_k_loop!(acc, x, w, K, prefetch, "prefetcht0 byte ptr [{pf}]");
        } else if MR == 6 {
            micro6_k_loop!(acc, x, w, K, prefetch, "/* {pf} */");
        } else {
            for k in 0..K {
                if PF {
                    // A hint only: prefetching never faults, whatever the address.
                    _mm_prefetch::<_MM_HINT_T0>(prefetch.wrapping_add(k * GEMM_NR) as *const i8);
                }
                let w0 = _mm256_loadu_ps(w.add(k * GEMM_NR));
                let w1 = _mm256_loadu_ps(w.add(k * GEMM_NR + 8));
                for (r, a) in acc.iter_mut().enumerate() {
                    let xv = _mm256_broadcast_ss(&*x.add(r * K + k));
                    a[0] = _mm256_fmadd_ps(xv, w0, a[0]);
                    a[1] = _mm256_fmadd_ps(xv, w1, a[1]);
                }
            }
        }
        let (lo, hi) = (_mm256_set1_ps(min), _mm256_set1_ps(max));
        for (r, a) in acc.iter().enumerate() {
            store16_act::<HS>(y.add(r * N), a[0], a[1], lo, hi, cols);
        }
    }
}

/// The one-row tile (fully connected layers, remainders): four interleaved K sub-sums keep
/// eight FMA chains in flight instead of two.
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
        let zero = _mm256_setzero_ps();
        let mut acc = [[zero; 2]; 4];
        acc[0] = [_mm256_loadu_ps(b), _mm256_loadu_ps(b.add(8))];
        let main = K / 4 * 4;
        let mut k = 0;
        while k < main {
            for (j, a) in acc.iter_mut().enumerate() {
                let xv = _mm256_broadcast_ss(&*x.add(k + j));
                a[0] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w.add((k + j) * GEMM_NR)), a[0]);
                a[1] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w.add((k + j) * GEMM_NR + 8)), a[1]);
            }
            k += 4;
        }
        for k in main..K {
            let xv = _mm256_broadcast_ss(&*x.add(k));
            acc[0][0] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w.add(k * GEMM_NR)), acc[0][0]);
            acc[0][1] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w.add(k * GEMM_NR + 8)), acc[0][1]);
        }
        let sum = |h: usize| {
            _mm256_add_ps(
                _mm256_add_ps(acc[0][h], acc[1][h]),
                _mm256_add_ps(acc[2][h], acc[3][h]),
            )
        };
        let (lo, hi) = (_mm256_set1_ps(min), _mm256_set1_ps(max));
        store16_act::<HS>(y, sum(0), sum(1), lo, hi, cols);
    }
}

/// The epilogue of the conv and GEMM kernels on one vector, as [`crate::scalar::act`]:
/// hard-swish if `HS` (the same operations as `scalar::hard_swish`, so the same bits), then the
/// clamp to `[lo, hi]`.
#[inline(always)]
pub(crate) fn act8<const HS: bool>(v: __m256, lo: __m256, hi: __m256) -> __m256 {
    // SAFETY: this module is compiled only with AVX2 and FMA enabled (lib.rs).
    unsafe {
        let v = if HS {
            let gate = _mm256_add_ps(
                _mm256_mul_ps(v, _mm256_set1_ps(1.0 / 6.0)),
                _mm256_set1_ps(0.5),
            );
            let gate = _mm256_min_ps(
                _mm256_max_ps(gate, _mm256_setzero_ps()),
                _mm256_set1_ps(1.0),
            );
            _mm256_mul_ps(v, gate)
        } else {
            v
        };
        _mm256_min_ps(_mm256_max_ps(v, lo), hi)
    }
}

/// Applies the epilogue to two vectors and stores the first `cols` (up to 16) of their lanes
/// at `y`: whole vectors when all 16 fit, through a temporary for a partial last panel.
///
/// # Safety
/// `y` must have `cols` writable floats.
#[inline(always)]
unsafe fn store16_act<const HS: bool>(
    y: *mut f32,
    v0: __m256,
    v1: __m256,
    lo: __m256,
    hi: __m256,
    cols: usize,
) {
    unsafe {
        let (v0, v1) = (act8::<HS>(v0, lo, hi), act8::<HS>(v1, lo, hi));
        if cols == GEMM_NR {
            _mm256_storeu_ps(y, v0);
            _mm256_storeu_ps(y.add(8), v1);
        } else {
            let mut tmp = [0f32; GEMM_NR];
            _mm256_storeu_ps(tmp.as_mut_ptr(), v0);
            _mm256_storeu_ps(tmp.as_mut_ptr().add(8), v1);
            core::ptr::copy_nonoverlapping(tmp.as_ptr(), y, cols);
        }
    }
}

dwconv_kernel! {
    /// Depthwise 2-D convolution, NHWC, vectorised over channels (8 per vector, a scalar tail for
    /// the rest). Weights `[KH][KW][C]`, bias `[C]`, as [`crate::scalar::f32_dwconv_nhwc_minmax`].
    /// Padding only shortens the tap ranges of border pixels; the inner loop has no branch.
    #[inline(never)]
    pub fn f32_dwconv_nhwc_minmax_avx2(x, w, b, y, min, max, rows) {
        // SAFETY: `y` is the call's output, and `rows` this task's rows of it.
        unsafe {
            dw_rows::<H, W, C, KH, KW, SH, SW, PT, PL, OH, OW, HS, XN, WN>(x, w, b, y.as_mut_ptr(), min, max, rows)
        }
    }
}

/// Output rows `rows` of [`f32_dwconv_nhwc_minmax_avx2`]; also the `avx512` target's
/// depthwise conv for fewer than 16 channels (8 per vector suit them better than half-masked
/// 16-lane vectors).
///
/// # Safety
/// `yp` must point to the call's output (`OH * OW * C` floats), rows `rows < OH` of which no
/// other thread accesses meanwhile.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn dw_rows<
    const H: usize,
    const W: usize,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PT: usize,
    const PL: usize,
    const OH: usize,
    const OW: usize,
    const HS: bool,
    const XN: usize,
    const WN: usize,
>(
    x: &[f32; XN],
    w: &[f32; WN],
    b: &[f32; C],
    yp: *mut f32,
    min: f32,
    max: f32,
    rows: core::ops::Range<usize>,
) {
    let vec_c = C / 8 * 8;
    // Interior columns: the whole window row inside the input.
    let (first, last) = interior(PL, SW, W, KW, OW);
    // SAFETY: every load is at (iy * W + ix) * C + c with iy < H, ix < W (from `taps`, or
    // from first <= ox < last for interior columns) and c + 8 <= vec_c <= C (the four-vector blocks: c + 32 <= vec_c), inside x; weights
    // at (ky * KW + kx) * C + c inside w; biases at c + 8 <= C; stores at
    // (oy * OW + ox) * C + c + 8 <= OH * OW * C, in rows `rows` (the caller's promise).
    unsafe {
        let (lo, hi) = (_mm256_set1_ps(min), _mm256_set1_ps(max));
        let (xp, wp, bp) = (x.as_ptr(), w.as_ptr(), b.as_ptr());
        // One pixel, window clipped to the input.
        let pixel = |oy: usize, ox: usize| {
            let (ky0, ky1) = taps(oy, SH, PT, H, KH);
            let (kx0, kx1) = taps(ox, SW, PL, W, KW);
            let out = yp.add((oy * OW + ox) * C);
            let mut c = 0;
            // Four vectors of channels at a time: four independent FMA chains (a 7x7 map
            // under a 5x5 window has almost no interior pixels, and one chain per pixel would
            // wait on the FMA latency at every tap).
            while c + 32 <= vec_c {
                let mut acc = [0, 8, 16, 24].map(|j| _mm256_loadu_ps(bp.add(c + j)));
                for ky in ky0..ky1 {
                    let row = (oy * SH + ky - PT) * W;
                    for kx in kx0..kx1 {
                        let xb = xp.add((row + ox * SW + kx - PL) * C + c);
                        let wb = wp.add((ky * KW + kx) * C + c);
                        for (j, a) in acc.iter_mut().enumerate() {
                            let xv = _mm256_loadu_ps(xb.add(8 * j));
                            *a = _mm256_fmadd_ps(xv, _mm256_loadu_ps(wb.add(8 * j)), *a);
                        }
                    }
                }
                for (j, a) in acc.iter().enumerate() {
                    _mm256_storeu_ps(out.add(c + 8 * j), act8::<HS>(*a, lo, hi));
                }
                c += 32;
            }
            while c < vec_c {
                let mut acc = _mm256_loadu_ps(bp.add(c));
                for ky in ky0..ky1 {
                    let row = (oy * SH + ky - PT) * W;
                    for kx in kx0..kx1 {
                        let xv = _mm256_loadu_ps(xp.add((row + ox * SW + kx - PL) * C + c));
                        let wv = _mm256_loadu_ps(wp.add((ky * KW + kx) * C + c));
                        acc = _mm256_fmadd_ps(xv, wv, acc);
                    }
                }
                _mm256_storeu_ps(out.add(c), act8::<HS>(acc, lo, hi));
                c += 8;
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
            // Interior: DW_PX pixels per vector of channels, four independent chains.
            let mut ox0 = first;
            while ox0 + DW_PX <= last && vec_c == C {
                for c in (0..C).step_by(8) {
                    let mut acc = [_mm256_loadu_ps(bp.add(c)); DW_PX];
                    for ky in ky0..ky1 {
                        let row = xp.add((oy * SH + ky - PT) * W * C + c);
                        for kx in 0..KW {
                            let wv = _mm256_loadu_ps(wp.add((ky * KW + kx) * C + c));
                            for (p, a) in acc.iter_mut().enumerate() {
                                let xv = _mm256_loadu_ps(row.add(((ox0 + p) * SW + kx - PL) * C));
                                *a = _mm256_fmadd_ps(xv, wv, *a);
                            }
                        }
                    }
                    for (p, a) in acc.iter().enumerate() {
                        let out = yp.add((oy * OW + ox0 + p) * C + c);
                        _mm256_storeu_ps(out, act8::<HS>(*a, lo, hi));
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

/// Output pixels of a row that [`f32_dwconv_nhwc_minmax_avx2`] computes together.
const DW_PX: usize = 4;

/// Output pixels of a row that [`f32_conv_minmax_avx2`] computes together: eight independent
/// accumulator chains hide the FMA latency even when there are only 8 output channels.
const CONV_PX: usize = 8;
/// Output pixels per block when the output channels come in pairs of vectors (12 of the 16
/// registers accumulate).
const CONV_PX2: usize = 6;

conv_kernel! {
    cop = 8;
    /// Dense 2-D convolution writing NHWC, from an input in any layout (strides `XSC`, `XSY`,
    /// `XSX` of channel, row and column, as [`crate::scalar::f32_conv_minmax`]): the stem conv
    /// reads an NCHW input directly. Weights `[KH][KW][CI][COP]` and bias `[COP]`, with the output
    /// channels zero-padded to `COP`, a multiple of 8. Interior pixels go eight at a time per
    /// vector of output channels; border pixels, whose windows leave the input, one at a time.
    #[inline(never)]
    pub fn f32_conv_minmax_avx2(x, w, b, y, min, max, rows) {
        // Output columns whose whole window lies inside the input: ox * SW >= PL and
        // ox * SW - PL + KW <= W.
        let (first, last) = interior(PL, SW, W, KW, OW);
        // SAFETY: input reads at iy * XSY + ix * XSX + ci * XSC with iy < H, ix < W, ci < CI,
        // which the const assertion bounds by XN; weight reads at
        // ((ky * KW + kx) * CI + ci) * COP + cb + 8 <= WN; bias (or starting sums) reads at
        // cb + 8 <= COP; stores write min(8, CO - cb) floats at (oy * OW + ox) * CO + cb,
        // inside YN.
        unsafe {
            let (lo, hi) = (_mm256_set1_ps(min), _mm256_set1_ps(max));
            let (xp, wp, bp, yp) = (x.as_ptr(), w.as_ptr(), b.as_ptr(), y.as_mut_ptr());
            let store = |v: __m256, at: *mut f32, n: usize| {
                let v = act8::<HS>(v, lo, hi);
                if n == 8 {
                    _mm256_storeu_ps(at, v);
                } else {
                    let mut tmp = [0f32; 8];
                    _mm256_storeu_ps(tmp.as_mut_ptr(), v);
                    core::ptr::copy_nonoverlapping(tmp.as_ptr(), at, n);
                }
            };
            // One pixel, all output channels, with the window clipped to the input.
            // With a pad value (`PV`), the taps in the padding are in the starting sums.
            let d = &w[KH * KW * CI * COP..];
            let pixel = |oy: usize, ox: usize| {
                let (ky0, ky1) = taps(oy, SH, PT, H, KH);
                let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                let init = PV.then(|| pad_init::<KH, KW, COP>(b, d, [ky0, ky1], [kx0, kx1]));
                let ib = init.as_ref().map_or(bp, |i| i.as_ptr());
                for cb in (0..COP).step_by(8) {
                    let mut acc = _mm256_loadu_ps(ib.add(cb));
                    for ky in ky0..ky1 {
                        for kx in kx0..kx1 {
                            let xb = xp.add((oy * SH + ky - PT) * XSY + (ox * SW + kx - PL) * XSX);
                            let wb = wp.add((ky * KW + kx) * CI * COP + cb);
                            for ci in 0..CI {
                                let xv = _mm256_broadcast_ss(&*xb.add(ci * XSC));
                                acc = _mm256_fmadd_ps(xv, _mm256_loadu_ps(wb.add(ci * COP)), acc);
                            }
                        }
                    }
                    store(acc, yp.add((oy * OW + ox) * CO + cb), (CO - cb).min(8));
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
                // With output channels in pairs of vectors, six pixels share each broadcast of an
                // input value between two weight vectors: 12 accumulators, 8 loads per 12 FMAs
                // instead of 9 per 8.
                while ox0 + CONV_PX2 <= last && COP.is_multiple_of(16) {
                    for cb in (0..COP).step_by(16) {
                        let bias = [_mm256_loadu_ps(rb.add(cb)), _mm256_loadu_ps(rb.add(cb + 8))];
                        let mut acc = [bias; CONV_PX2];
                        for ky in ky0..ky1 {
                            let row = xp.add((oy * SH + ky - PT) * XSY);
                            for kx in 0..KW {
                                let wb = wp.add((ky * KW + kx) * CI * COP + cb);
                                let xb = row.add((ox0 * SW + kx - PL) * XSX);
                                for ci in 0..CI {
                                    let w0 = _mm256_loadu_ps(wb.add(ci * COP));
                                    let w1 = _mm256_loadu_ps(wb.add(ci * COP + 8));
                                    for (p, a) in acc.iter_mut().enumerate() {
                                        let xv = _mm256_broadcast_ss(&*xb.add(p * SW * XSX + ci * XSC));
                                        a[0] = _mm256_fmadd_ps(xv, w0, a[0]);
                                        a[1] = _mm256_fmadd_ps(xv, w1, a[1]);
                                    }
                                }
                            }
                        }
                        for (p, a) in acc.iter().enumerate() {
                            let out = yp.add((oy * OW + ox0 + p) * CO + cb);
                            store(a[0], out, (CO - cb).min(8));
                            store(a[1], out.add(8), (CO - cb - 8).min(8));
                        }
                    }
                    ox0 += CONV_PX2;
                }
                while ox0 + CONV_PX <= last {
                    for cb in (0..COP).step_by(8) {
                        let mut acc = [_mm256_loadu_ps(rb.add(cb)); CONV_PX];
                        for ky in ky0..ky1 {
                            let row = xp.add((oy * SH + ky - PT) * XSY);
                            for kx in 0..KW {
                                let wb = wp.add((ky * KW + kx) * CI * COP + cb);
                                let xb = row.add((ox0 * SW + kx - PL) * XSX);
                                for ci in 0..CI {
                                    let wv = _mm256_loadu_ps(wb.add(ci * COP));
                                    for (p, a) in acc.iter_mut().enumerate() {
                                        let xv = _mm256_broadcast_ss(&*xb.add(p * SW * XSX + ci * XSC));
                                        *a = _mm256_fmadd_ps(xv, wv, *a);
                                    }
                                }
                            }
                        }
                        for (p, a) in acc.iter().enumerate() {
                            store(*a, yp.add((oy * OW + ox0 + p) * CO + cb), (CO - cb).min(8));
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

qgemm_kernel! {
    nr = GEMM_NR, mr = GEMM_MR, kr = 2, w = i8;
    /// `y[m][n] = requantize(b[n] + sum_k x[m][k] * w[k][n], s[n])`, exact: the int8 weights
    /// are packed in panels of 16 columns and pairs of k (`w[panel][k / 2][column][k % 2]`,
    /// zero padded) and widened to int16 as they are loaded (`vpmovsxbw`: the weights file
    /// stays a quarter of the float one's), and each tile's rows of `x` are widened
    /// to int16 once per block of panels (tiles and blocks visited by `gemm_tiles`, as in the
    /// float GEMM), so that `vpmaddwd` multiplies a broadcast pair of
    /// inputs by a pair of weights for 8 columns and adds the two products into 32 bits
    /// (at most 2 * 255 * 128 in magnitude: nothing saturates).
    #[inline(never)]
    pub fn u8_gemm_avx2(x, w, b, s, y, q, rows, panels) {
        let kp = K.div_ceil(2);
        // The current tile's rows as pairs of int16 (one u32 per pair, `kp` of the K used),
        // widened when the tile changes: a tile's panels come one after another.
        let mut wide = [[0u32; K]; GEMM_MR];
        let mut widened = usize::MAX;
        gemm_tiles(N, NB, [GEMM_MR, GEMM_NR], rows, panels, |m0, count, p, cols| {
            if widened != m0 {
                for (r, row) in wide.iter_mut().take(count).enumerate() {
                    widen_pairs(&x[(m0 + r) * K..][..K], row);
                }
                widened = m0;
            }
            // SAFETY: `wide` holds `count` rows of `kp` pairs (row stride K); panel p's
            // kp * 32 weights and 16 biases and scales exist since p < NP/16; at most `cols`
            // columns from p*16 of rows m0..m0+count are stored, inside y and this task's part
            // of it.
            unsafe {
                let wp = w.as_ptr().add(p * kp * 2 * GEMM_NR);
                let yp = y.as_mut_ptr().add(m0 * N + p * GEMM_NR);
                let (bp, sp) = (b.as_ptr().add(p * GEMM_NR), s.as_ptr().add(p * GEMM_NR));
                let xp = wide.as_ptr() as *const u32;
                match count {
                    6 => qmicro::<6, K, N>(xp, wp, bp, sp, yp, cols, q),
                    5 => qmicro::<5, K, N>(xp, wp, bp, sp, yp, cols, q),
                    4 => qmicro::<4, K, N>(xp, wp, bp, sp, yp, cols, q),
                    3 => qmicro::<3, K, N>(xp, wp, bp, sp, yp, cols, q),
                    2 => qmicro::<2, K, N>(xp, wp, bp, sp, yp, cols, q),
                    _ => qmicro::<1, K, N>(xp, wp, bp, sp, yp, cols, q),
                }
            }
        });
    }
}

/// A row of uint8 as int16 pairs, one u32 per pair (the low half the even k), the last pair's
/// high half 0 when the row is odd.
#[inline(always)]
fn widen_pairs(x: &[u8], out: &mut [u32]) {
    let n = x.len();
    let mut i = 0;
    // SAFETY: 16 bytes are read from i and 32 written at 2 * i bytes only while i + 16 <= n,
    // and `out` has n u32s (4 * n bytes, at least 2 * n + 2).
    unsafe {
        let o = out.as_mut_ptr() as *mut u16;
        while i + 16 <= n {
            let v = _mm_loadu_si128(x.as_ptr().add(i) as *const __m128i);
            _mm256_storeu_si256(o.add(i) as *mut __m256i, _mm256_cvtepu8_epi16(v));
            i += 16;
        }
        for (j, &v) in x.iter().enumerate().skip(i) {
            *o.add(j) = v as u16;
        }
        if n % 2 == 1 {
            *o.add(n) = 0;
        }
    }
}

/// One `MR` x 16 tile of the quantized GEMM: 2 * MR int32 accumulators, `K / 2` steps of one
/// pair of weight rows (two vectors of 8 columns x 2 k) and MR broadcast input pairs, then the
/// requantization into uint8.
///
/// # Safety
/// `x` must point to MR rows of `K.div_ceil(2)` pairs (row stride K u32s), `w` to that many
/// pairs times 16 columns of int8 pairs, `b` and `s` to 16 values, `y` to MR rows with `cols`
/// writable bytes each (row stride N).
#[inline(always)]
unsafe fn qmicro<const MR: usize, const K: usize, const N: usize>(
    x: *const u32,
    w: *const i8,
    b: *const i32,
    s: *const f32,
    y: *mut u8,
    cols: usize,
    q: crate::scalar::Requant,
) {
    unsafe {
        let (b0, b1) = (
            _mm256_loadu_si256(b as *const __m256i),
            _mm256_loadu_si256(b.add(8) as *const __m256i),
        );
        let mut acc = [[b0, b1]; MR];
        for j in 0..K.div_ceil(2) {
            let w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(w.add(j * 32) as *const __m128i));
            let w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(w.add(j * 32 + 16) as *const __m128i));
            for (r, a) in acc.iter_mut().enumerate() {
                let xv = _mm256_set1_epi32(*x.add(r * K + j) as i32);
                a[0] = _mm256_add_epi32(a[0], _mm256_madd_epi16(xv, w0));
                a[1] = _mm256_add_epi32(a[1], _mm256_madd_epi16(xv, w1));
            }
        }
        let (s0, s1) = (_mm256_loadu_ps(s), _mm256_loadu_ps(s.add(8)));
        for (r, a) in acc.iter().enumerate() {
            store16_requant(y.add(r * N), a[0], a[1], s0, s1, q, cols);
        }
    }
}

/// Requantizes 16 int32 sums (columns 0-7 in `a0`, 8-15 in `a1`) by `scalar::requantize`'s
/// arithmetic lane by lane (f32 product, clamp, magic-number rounding) and stores the first
/// `cols` bytes.
///
/// # Safety
/// `y` must have `cols` (at most 16) writable bytes.
#[inline(always)]
unsafe fn store16_requant(
    y: *mut u8,
    a0: __m256i,
    a1: __m256i,
    s0: __m256,
    s1: __m256,
    q: crate::scalar::Requant,
    cols: usize,
) {
    unsafe { store_bytes(y, requant16([a0, a1], [s0, s1], q), cols) }
}

/// `scalar::requantize` of 16 int32 sums (`a[0]` then `a[1]`) by their scales, lane by lane
/// (as [`requant8`]), as 16 bytes in order (also `avxvnni`'s).
#[inline(always)]
pub(crate) fn requant16(a: [__m256i; 2], s: [__m256; 2], q: crate::scalar::Requant) -> __m128i {
    // SAFETY: arithmetic on registers, with the features the build enables.
    unsafe {
        // Values in 0..=255: the saturating packs only reorder. packs: [0-3, 8-11 | 4-7, 12-15].
        let p = _mm256_packs_epi32(requant8(a[0], s[0], q), requant8(a[1], s[1], q));
        let p = _mm256_permute4x64_epi64::<0b11_01_10_00>(p);
        _mm_packus_epi16(_mm256_castsi256_si128(p), _mm256_extracti128_si256::<1>(p))
    }
}

/// Output pixels of a row that [`u8_dwconv_avx2`] computes together.
const QDW_PX: usize = 4;
/// Input columns of the widened rows [`u8_dwconv_avx2`] keeps (a chunk of output columns
/// reads at most this many).
const QDW_IN: usize = 72;

qdwconv_kernel! {
    w = i16, wn = C.div_ceil(16) * KH * KW.div_ceil(2) * 64;
    /// Quantized depthwise conv, exact, 16 channels at a time. Each input row a chunk of output
    /// columns reads is widened to int16 once, as pairs of horizontally adjacent pixels
    /// interleaved (`vpunpck{l,h}wd`), and kept while the output rows that read it are
    /// computed (a ring of KH rows); then a kernel row's taps `(kx, kx + 1)` are one
    /// `vpmaddwd` per 8 channels against weights packed in the same order at compile time
    /// (`QDwLayout::RowPairs16`; an odd last tap has a zero partner weight). Inputs outside
    /// the image are the zero point, and every sum starts from `b - xz * (sum of the channel's
    /// weights)`, so the padding adds nothing, as in the scalar twin. A last block of fewer
    /// than 16 channels reads its inputs through a zero-point-padded copy.
    #[inline(never)]
    pub fn u8_dwconv_avx2(x, xz, w, b, s, y, q, rows) {
        let kwp = KW.div_ceil(2);
        let pairs = KH * kwp;
        // Output columns per chunk: their inputs fit QDW_IN columns (one more for the last
        // pair's partner).
        let chunk = (QDW_IN - 1 - KW) / SW + 1;
        // SAFETY: weights are read at (block * pairs + pair) * 64 + 32 + 16 i16s <= WN;
        // inputs 16 bytes at (iy * W + ix) * C + c with iy < H, ix < W, c + 16 <= C (a
        // partial block reads a copy); the ring's columns below QDW_IN (a chunk reads columns
        // (px - 1) * SW + KW < QDW_IN); outputs at (oy * OW + ox) * C + c, at most C - c bytes,
        // in this task's rows.
        unsafe {
            let xzv = _mm256_set1_epi16(xz as i16);
            let wp = w.as_ptr();
            let yp = y.as_mut_ptr();
            let weights = |blk: usize, pair: usize| {
                let p = wp.add((blk * pairs + pair) * 64);
                (
                    _mm256_loadu_si256(p as *const __m256i),
                    _mm256_loadu_si256(p.add(32) as *const __m256i),
                )
            };
            // The 16 inputs of channels c.. at input pixel (iy, ix), or the zero point outside.
            let load = |iy: isize, ix: isize, c: usize| -> __m256i {
                if iy < 0 || ix < 0 || iy >= H as isize || ix >= W as isize {
                    return xzv;
                }
                let at = (iy as usize * W + ix as usize) * C + c;
                let bytes = if c + 16 <= C {
                    _mm_loadu_si128(x.as_ptr().add(at) as *const __m128i)
                } else {
                    let mut tmp = [xz as u8; 16];
                    tmp[..C - c].copy_from_slice(&x[at..at + C - c]);
                    _mm_loadu_si128(tmp.as_ptr() as *const __m128i)
                };
                _mm256_cvtepu8_epi16(bytes)
            };
            // Widened input rows: ring[iy % KH][i] pairs input columns ix0 + i and ix0 + i + 1
            // of row iy (`held` says which row and chunk a slot holds).
            let mut ring = [[[_mm256_setzero_si256(); 2]; QDW_IN]; KH];
            for blk in 0..C.div_ceil(16) {
                let c = blk * 16;
                let n = (C - c).min(16);
                // Bias and scales of the block in the accumulators' channel order
                // ([0-3, 8-11], [4-7, 12-15]), the bias less xz times the weight sums.
                let (mut bt, mut st) = ([0i32; 16], [0f32; 16]);
                bt[..n].copy_from_slice(&b[c..c + n]);
                st[..n].copy_from_slice(&s[c..c + n]);
                let b0 = _mm256_loadu_si256(bt.as_ptr() as *const __m256i);
                let b1 = _mm256_loadu_si256(bt.as_ptr().add(8) as *const __m256i);
                let mut start = [
                    _mm256_permute2x128_si256::<0x20>(b0, b1),
                    _mm256_permute2x128_si256::<0x31>(b0, b1),
                ];
                for pair in 0..pairs {
                    let (wl, wh) = weights(blk, pair);
                    start[0] = _mm256_sub_epi32(start[0], _mm256_madd_epi16(xzv, wl));
                    start[1] = _mm256_sub_epi32(start[1], _mm256_madd_epi16(xzv, wh));
                }
                let (s0, s1) = (_mm256_loadu_ps(st.as_ptr()), _mm256_loadu_ps(st.as_ptr().add(8)));
                let scale = [
                    _mm256_permute2f128_ps::<0x20>(s0, s1),
                    _mm256_permute2f128_ps::<0x31>(s0, s1),
                ];
                let mut ox0 = 0;
                while ox0 < OW {
                    let cols = (OW - ox0).min(chunk);
                    let ix0 = (ox0 * SW) as isize - PL as isize;
                    // Columns the chunk's taps read (pairs start at even offsets from a pixel's
                    // first tap: with an even stride, only even columns are read).
                    let width = (cols - 1) * SW + KW;
                    let mut held = [isize::MIN; KH];
                    for oy in rows.clone() {
                        let oyi = (oy * SH) as isize - PT as isize;
                        for ky in 0..KH {
                            let iy = oyi + ky as isize;
                            let slot = iy.rem_euclid(KH as isize) as usize;
                            if held[slot] == iy {
                                continue;
                            }
                            held[slot] = iy;
                            let row = &mut ring[slot];
                            let mut next = load(iy, ix0, c);
                            for (i, pair) in row.iter_mut().enumerate().take(width) {
                                let cur = next;
                                next = load(iy, ix0 + i as isize + 1, c);
                                if SW.is_multiple_of(2) && i % 2 == 1 {
                                    continue;
                                }
                                *pair = [_mm256_unpacklo_epi16(cur, next), _mm256_unpackhi_epi16(cur, next)];
                            }
                        }
                        let slots: [usize; KH] =
                            core::array::from_fn(|ky| (oyi + ky as isize).rem_euclid(KH as isize) as usize);
                        let mut p0 = 0;
                        while p0 < cols {
                            let px = (cols - p0).min(QDW_PX);
                            let mut acc = [start; QDW_PX];
                            for (ky, &slot) in slots.iter().enumerate() {
                                let row = &ring[slot];
                                for j in 0..kwp {
                                    let (wl, wh) = weights(blk, ky * kwp + j);
                                    for (p, a) in acc.iter_mut().enumerate().take(px) {
                                        let v = &row[(p0 + p) * SW + 2 * j];
                                        a[0] = _mm256_add_epi32(a[0], _mm256_madd_epi16(v[0], wl));
                                        a[1] = _mm256_add_epi32(a[1], _mm256_madd_epi16(v[1], wh));
                                    }
                                }
                            }
                            for (p, a) in acc.iter().enumerate().take(px) {
                                // packs of ([0-3, 8-11], [4-7, 12-15]) is [0-7 | 8-15]: in order.
                                let p16 = _mm256_packs_epi32(requant8(a[0], scale[0], q), requant8(a[1], scale[1], q));
                                let bytes = _mm_packus_epi16(
                                    _mm256_castsi256_si128(p16),
                                    _mm256_extracti128_si256::<1>(p16),
                                );
                                store_bytes(yp.add((oy * OW + ox0 + p0 + p) * C + c), bytes, n);
                            }
                            p0 += px;
                        }
                    }
                    ox0 += cols;
                }
            }
        }
    }
}

/// `scalar::requantize` of 8 int32 sums, lane by lane: f32 product, clamp, magic-number
/// rounding; the results (in `q.lo..=q.hi`) as int32.
#[inline(always)]
unsafe fn requant8(a: __m256i, s: __m256, q: crate::scalar::Requant) -> __m256i {
    unsafe { round8(_mm256_mul_ps(_mm256_cvtepi32_ps(a), s), q) }
}

/// `scalar::requantize_f32` of 8 scaled values, lane by lane: clamp (a NaN lane to the lower
/// bound, as `f32::max` does), magic-number rounding; the results as int32.
#[inline(always)]
unsafe fn round8(v: __m256, q: crate::scalar::Requant) -> __m256i {
    unsafe {
        let lo = _mm256_set1_ps((q.lo - q.zero) as f32);
        let hi = _mm256_set1_ps((q.hi - q.zero) as f32);
        let magic = _mm256_set1_ps(crate::scalar::MAGIC);
        let bias = _mm256_set1_epi32(crate::scalar::MAGIC.to_bits() as i32 - q.zero);
        // maxps returns its second operand when either is NaN.
        let v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
        _mm256_sub_epi32(_mm256_castps_si256(_mm256_add_ps(v, magic)), bias)
    }
}

/// QuantizeLinear into uint8 as `scalar::f32_quantize` computes it (the same IEEE division,
/// clamp and round-half-to-even), 16 values at a time.
pub fn f32_quantize_avx2<const N: usize>(
    x: &[f32; N],
    scale: f32,
    y: &mut [u8; N],
    q: crate::scalar::Requant,
) {
    let mut i = 0;
    // SAFETY: 16 floats are read and 16 bytes written at i only while i + 16 <= N.
    unsafe {
        let sv = _mm256_set1_ps(scale);
        while i + 16 <= N {
            let a = round8(_mm256_div_ps(_mm256_loadu_ps(x.as_ptr().add(i)), sv), q);
            let b = round8(_mm256_div_ps(_mm256_loadu_ps(x.as_ptr().add(i + 8)), sv), q);
            // Values in 0..=255: the packs only reorder ([0-3, 8-11 | 4-7, 12-15]).
            let p = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi32(a, b));
            let bytes =
                _mm_packus_epi16(_mm256_castsi256_si128(p), _mm256_extracti128_si256::<1>(p));
            _mm_storeu_si128(y.as_mut_ptr().add(i) as *mut __m128i, bytes);
            i += 16;
        }
    }
    for j in i..N {
        y[j] = crate::scalar::requantize_f32(x[j] / scale, q);
    }
}

/// Stores the first `n` (at most 16) of 16 bytes (also the VNNI targets').
///
/// # Safety
/// `y` must have `n` writable bytes.
#[inline(always)]
pub(crate) unsafe fn store_bytes(y: *mut u8, bytes: __m128i, n: usize) {
    unsafe {
        if n == 16 {
            _mm_storeu_si128(y as *mut __m128i, bytes);
        } else {
            let mut tmp = [0u8; 16];
            _mm_storeu_si128(tmp.as_mut_ptr() as *mut __m128i, bytes);
            core::ptr::copy_nonoverlapping(tmp.as_ptr(), y, n);
        }
    }
}

qconv_kernel! {
    w = i16, wn = (KH * KW * CI).div_ceil(2) * 2 * CO.next_multiple_of(8);
    /// Quantized dense conv (a quantized model's stem), exact: each output pixel's window of
    /// `KH * KW * CI` inputs gathered (less the zero point, 0 outside the input) as int16
    /// pairs, and a broadcast pair times the pair's weights for 8 output channels
    /// (`QConvLayout::Pairs8`) added into 32 bits by `vpmaddwd`.
    #[inline(never)]
    pub fn u8_conv_avx2(x, xz, w, b, s, y, q, rows) {
        const { assert!(KH * KW * CI < 512, "windows of fewer than 512 inputs") };
        let k = KH * KW * CI;
        let pairs = k.div_ceil(2);
        let cop = CO.next_multiple_of(8);
        // SAFETY: input reads at iy * XSY + ix * XSX + ci * XSC < XN (iy < H, ix < W, the const
        // assertion of the family); weight reads at (pair * COP + c) * 2 + 16 i16s <= WN for
        // c + 8 <= COP; the patch holds `pairs` <= 256 u32s (the assertion above); bias and
        // scale through copies of up to 64; outputs at (oy * OW + ox) * CO + c, at most CO - c
        // bytes, in this task's rows.
        unsafe {
            let mut patch = [0u32; 256];
            let wp = w.as_ptr();
            // Up to 64 output channels (8 accumulators) at a time; one chunk for stems of at
            // most 64 channels.
            let mut c0 = 0;
            while c0 < CO {
                let n = (CO - c0).min(64);
                let blocks = n.div_ceil(8);
                let (mut bt, mut st) = ([0i32; 64], [0f32; 64]);
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
                        let mut acc = [_mm256_setzero_si256(); 8];
                        for (blk, a) in acc.iter_mut().enumerate().take(blocks) {
                            *a = _mm256_loadu_si256(bt.as_ptr().add(blk * 8) as *const __m256i);
                        }
                        for (j, &pair) in patch.iter().enumerate().take(pairs) {
                            let xv = _mm256_set1_epi32(pair as i32);
                            let row = wp.add((j * cop + c0) * 2);
                            for (blk, a) in acc.iter_mut().enumerate().take(blocks) {
                                let wv = _mm256_loadu_si256(row.add(blk * 16) as *const __m256i);
                                *a = _mm256_add_epi32(*a, _mm256_madd_epi16(xv, wv));
                            }
                        }
                        let out = y.as_mut_ptr().add((oy * OW + ox) * CO + c0);
                        for blk in (0..blocks).step_by(2) {
                            let (s0, s1) = (
                                _mm256_loadu_ps(st.as_ptr().add(blk * 8)),
                                _mm256_loadu_ps(st.as_ptr().add(blk * 8 + 8)),
                            );
                            let cols = (n - blk * 8).min(16);
                            store16_requant(out.add(blk * 8), acc[blk], acc[blk + 1], s0, s1, q, cols);
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

    #[test]
    fn the_cpu_has_avx2_and_fma() {
        assert!(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"));
    }

    crate::conformance::all_cases! {
        mnetc_targets::AVX2,
        gemm: crate::avx2::f32_gemm_minmax_avx2,
        dwconv: crate::avx2::f32_dwconv_nhwc_minmax_avx2,
        conv: crate::avx2::f32_conv_minmax_avx2,
        qgemm: crate::avx2::u8_gemm_avx2,
        qdwconv: crate::avx2::u8_dwconv_avx2,
        qconv: crate::avx2::u8_conv_avx2,
        quantize: crate::avx2::f32_quantize_avx2
    }
}
