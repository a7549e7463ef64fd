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

use crate::scalar::{act, gemm_tiles, interior, pad_init, taps};
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
                while ox0 + DW_PX <= last && C % 8 == 0 {
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

#[cfg(test)]
mod tests {
    extern crate std;

    crate::conformance::all_cases! {
        mnetc_targets::WASM_SIMD128,
        gemm: crate::wasm::f32_gemm_minmax_wasm,
        dwconv: crate::wasm::f32_dwconv_nhwc_minmax_wasm,
        conv: crate::wasm::f32_conv_minmax_wasm,
        gavgpool: crate::wasm::f32_gavgpool_wasm
    }
}
