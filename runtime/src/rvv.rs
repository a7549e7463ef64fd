//! riscv64 kernels for the vector extension V 1.0, in `asm!` (stable Rust has no RVV
//! intrinsics and cannot enable `v` as a target feature). Each block switches the assembler to
//! `+v` itself (`.option arch, +v`), so the crate builds without a global `+v` and the module
//! is compiled on every riscv64 build; code generated for `rvv` calls it only when the build
//! states that the CPU has V with `--cfg mnetc_rvv` ([`crate::MNETC_RVV`]), and so do the tests.
//!
//! Vector-length agnostic: every kernel strip-mines with `vsetvli` and works for any VLEN that V
//! allows (128 bits and up; tested at 128 and 256). The GEMM keeps the AVX2/NEON packing (panels
//! of 16 columns): one 16-float panel row fits a register group of LMUL 4 at VLEN 128, and
//! `vsetvli` with 16 (or the partial panel's width) as the length gives exactly those lanes at
//! any larger VLEN. Vector registers cannot live across `asm!` blocks, so each block loads,
//! computes and stores a whole tile; the K, tap and channel loops run inside the blocks.
//!
//! `unsafe` here is the `asm!` blocks and raw pointers into the arrays whose lengths the
//! inline `const` assertions tie to the shapes; each block's bounds are argued where it is.

use crate::scalar::{Requant, act, gemm_tiles, interior, pad_init, taps};
use core::arch::asm;

/// Rows of the GEMM microkernel's register tile (6 accumulator groups of LMUL 4).
pub const GEMM_MR: usize = 6;
/// Columns of a packed weight panel.
pub const GEMM_NR: usize = 16;

gemm_kernel! {
    nr = GEMM_NR, mr = GEMM_MR;
    /// `y[m][n] = minmax(b[n] + sum_k x[m][k] * w[k][n])` with weights packed in panels of
    /// [`GEMM_NR`] columns (`w[panel][k][0..16]`, columns past `N` zero, `b` padded to `NP`),
    /// visited in blocks of `NB` panels that stay in L2 while every row tile passes over them.
    #[inline(never)]
    pub fn f32_gemm_minmax_rvv(x, w, b, y, min, max, rows, panels) {
        gemm_tiles(N, NB, [GEMM_MR, GEMM_NR], rows, panels, |m0, count, p, cols| {
            // SAFETY: rows m0..m0+count of x (K each) and of y (N each) exist since
            // m0 + count <= M (this task's rows); panel p's K*16 weights and 16 biases exist since p < NP/16;
            // `cols` columns from p*16 are loaded and stored, p*16 + cols <= N.
            unsafe {
                let xp = x.as_ptr().add(m0 * K);
                let wp = w.as_ptr().add(p * K * GEMM_NR);
                let bp = b.as_ptr().add(p * GEMM_NR);
                let yp = y.as_mut_ptr().add(m0 * N + p * GEMM_NR);
                // With hard-swish, the tile is stored unclamped and finished in place while
                // it is in L1 (the register tile leaves no room for the epilogue's temporary).
                let (lo, hi) = if HS { (f32::NEG_INFINITY, f32::INFINITY) } else { (min, max) };
                if count == 1 {
                    micro_row(xp, wp, bp, yp, K, cols, lo, hi);
                } else {
                    micro6(xp, count, K, wp, bp, yp, N, cols, lo, hi);
                }
                if HS {
                    for r in 0..count {
                        act_strip(yp.add(r * N), cols, min, max);
                    }
                }
            }
        });
    }
}

/// A tile of `rows` (2 to 6) rows by `cols` (up to 16) columns: six accumulator groups
/// (v8..v31, LMUL 4), the weight row in v4, one `vfmacc.vf` per row and K step. Rows past
/// `rows` repeat the last row (same input, same output address, same values), so one block
/// serves every row count without a branch.
///
/// # Safety
/// `x` must point to `rows` rows of `k` floats, `w` to `k` panel rows of 16 floats, `b` to
/// 16 floats, `y` to `rows` rows (stride `n`) with `cols` writable floats each; `k >= 1`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn micro6(
    x: *const f32,
    rows: usize,
    k: usize,
    w: *const f32,
    b: *const f32,
    y: *mut f32,
    n: usize,
    cols: usize,
    min: f32,
    max: f32,
) {
    let row = |r: usize| r.min(rows - 1);
    unsafe {
        let xr = |r: usize| x.add(row(r) * k);
        let yr = |r: usize| y.add(row(r) * n);
        asm!(
            ".option push",
            ".option arch, +v",
            "vsetvli {vl}, {cols}, e32, m4, ta, ma",
            "vle32.v v8, ({b})",
            "vmv.v.v v12, v8",
            "vmv.v.v v16, v8",
            "vmv.v.v v20, v8",
            "vmv.v.v v24, v8",
            "vmv.v.v v28, v8",
            "2:",
            "vle32.v v4, ({w})",
            "flw ft0, 0({x0})",
            "flw ft1, 0({x1})",
            "flw ft2, 0({x2})",
            "flw ft3, 0({x3})",
            "flw ft4, 0({x4})",
            "flw ft5, 0({x5})",
            "addi {w}, {w}, 64",
            "addi {x0}, {x0}, 4",
            "addi {x1}, {x1}, 4",
            "addi {x2}, {x2}, 4",
            "addi {x3}, {x3}, 4",
            "addi {x4}, {x4}, 4",
            "addi {x5}, {x5}, 4",
            "addi {k}, {k}, -1",
            "vfmacc.vf v8, ft0, v4",
            "vfmacc.vf v12, ft1, v4",
            "vfmacc.vf v16, ft2, v4",
            "vfmacc.vf v20, ft3, v4",
            "vfmacc.vf v24, ft4, v4",
            "vfmacc.vf v28, ft5, v4",
            "bnez {k}, 2b",
            "vfmax.vf v8, v8, {lo}",
            "vfmax.vf v12, v12, {lo}",
            "vfmax.vf v16, v16, {lo}",
            "vfmax.vf v20, v20, {lo}",
            "vfmax.vf v24, v24, {lo}",
            "vfmax.vf v28, v28, {lo}",
            "vfmin.vf v8, v8, {hi}",
            "vfmin.vf v12, v12, {hi}",
            "vfmin.vf v16, v16, {hi}",
            "vfmin.vf v20, v20, {hi}",
            "vfmin.vf v24, v24, {hi}",
            "vfmin.vf v28, v28, {hi}",
            "vse32.v v8, ({y0})",
            "vse32.v v12, ({y1})",
            "vse32.v v16, ({y2})",
            "vse32.v v20, ({y3})",
            "vse32.v v24, ({y4})",
            "vse32.v v28, ({y5})",
            ".option pop",
            vl = out(reg) _,
            cols = in(reg) cols,
            b = in(reg) b,
            w = inout(reg) w => _,
            k = inout(reg) k => _,
            x0 = inout(reg) xr(0) => _,
            x1 = inout(reg) xr(1) => _,
            x2 = inout(reg) xr(2) => _,
            x3 = inout(reg) xr(3) => _,
            x4 = inout(reg) xr(4) => _,
            x5 = inout(reg) xr(5) => _,
            y0 = in(reg) yr(0),
            y1 = in(reg) yr(1),
            y2 = in(reg) yr(2),
            y3 = in(reg) yr(3),
            y4 = in(reg) yr(4),
            y5 = in(reg) yr(5),
            lo = in(freg) min,
            hi = in(freg) max,
            out("ft0") _, out("ft1") _, out("ft2") _, out("ft3") _, out("ft4") _, out("ft5") _,
            out("v4") _, out("v5") _, out("v6") _, out("v7") _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _,
            out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            out("v24") _, out("v25") _, out("v26") _, out("v27") _,
            out("v28") _, out("v29") _, out("v30") _, out("v31") _,
            options(nostack),
        );
    }
}

/// One row of one panel (fully connected layers, single-row remainders): two accumulator
/// groups over alternate K steps, summed at the end.
///
/// # Safety
/// `x` must point to `k` floats, `w` to `k` panel rows of 16, `b` to 16, `y` to `cols`
/// writable floats; `k >= 1`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn micro_row(
    x: *const f32,
    w: *const f32,
    b: *const f32,
    y: *mut f32,
    k: usize,
    cols: usize,
    min: f32,
    max: f32,
) {
    let (pairs, odd) = (k / 2, k % 2);
    unsafe {
        asm!(
            ".option push",
            ".option arch, +v",
            "vsetvli {vl}, {cols}, e32, m4, ta, ma",
            "vle32.v v8, ({b})",
            "vmv.v.i v12, 0",
            "beqz {pairs}, 3f",
            "2:",
            "vle32.v v16, ({w})",
            "addi {w}, {w}, 64",
            "vle32.v v20, ({w})",
            "addi {w}, {w}, 64",
            "flw ft0, 0({x})",
            "flw ft1, 4({x})",
            "addi {x}, {x}, 8",
            "addi {pairs}, {pairs}, -1",
            "vfmacc.vf v8, ft0, v16",
            "vfmacc.vf v12, ft1, v20",
            "bnez {pairs}, 2b",
            "3:",
            "beqz {odd}, 4f",
            "vle32.v v16, ({w})",
            "flw ft0, 0({x})",
            "vfmacc.vf v8, ft0, v16",
            "4:",
            "vfadd.vv v8, v8, v12",
            "vfmax.vf v8, v8, {lo}",
            "vfmin.vf v8, v8, {hi}",
            "vse32.v v8, ({y})",
            ".option pop",
            vl = out(reg) _,
            cols = in(reg) cols,
            b = in(reg) b,
            w = inout(reg) w => _,
            x = inout(reg) x => _,
            pairs = inout(reg) pairs => _,
            odd = in(reg) odd,
            y = in(reg) y,
            lo = in(freg) min,
            hi = in(freg) max,
            out("ft0") _, out("ft1") _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _,
            out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            options(nostack),
        );
    }
}

/// One output pixel's strip of channels: `vl = min(n, VLMAX)` channels at LMUL 8 (32 at VLEN
/// 128), accumulated over a `nky` x `nkx` block of taps (the window clipped to the input)
/// starting at `x` and `w`, with row and column strides in bytes; returns `vl`.
///
/// # Safety
/// Every tap's `vl` floats from `x + i * xrs + j * xcs` and `w + i * wrs + j * wcs` must be
/// readable (i < nky, j < nkx), `b` and `y` must have `vl` floats; `nky, nkx >= 1`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn dw_strip(
    x: *const f32,
    xrs: usize,
    xcs: usize,
    w: *const f32,
    wrs: usize,
    wcs: usize,
    nky: usize,
    nkx: usize,
    b: *const f32,
    y: *mut f32,
    n: usize,
    min: f32,
    max: f32,
) -> usize {
    let vl: usize;
    unsafe {
        asm!(
            ".option push",
            ".option arch, +v",
            "vsetvli {vl}, {n}, e32, m8, ta, ma",
            "vle32.v v8, ({b})",
            "2:",
            "mv {xp}, {x}",
            "mv {wp}, {w}",
            "mv {j}, {nkx}",
            "3:",
            "vle32.v v16, ({xp})",
            "vle32.v v24, ({wp})",
            "add {xp}, {xp}, {xcs}",
            "add {wp}, {wp}, {wcs}",
            "addi {j}, {j}, -1",
            "vfmacc.vv v8, v16, v24",
            "bnez {j}, 3b",
            "add {x}, {x}, {xrs}",
            "add {w}, {w}, {wrs}",
            "addi {nky}, {nky}, -1",
            "bnez {nky}, 2b",
            "vfmax.vf v8, v8, {lo}",
            "vfmin.vf v8, v8, {hi}",
            "vse32.v v8, ({y})",
            ".option pop",
            vl = out(reg) vl,
            n = in(reg) n,
            b = in(reg) b,
            x = inout(reg) x => _,
            w = inout(reg) w => _,
            xrs = in(reg) xrs,
            xcs = in(reg) xcs,
            wrs = in(reg) wrs,
            wcs = in(reg) wcs,
            nky = inout(reg) nky => _,
            nkx = in(reg) nkx,
            xp = out(reg) _,
            wp = out(reg) _,
            j = out(reg) _,
            y = in(reg) y,
            lo = in(freg) min,
            hi = in(freg) max,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _,
            out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            out("v24") _, out("v25") _, out("v26") _, out("v27") _,
            out("v28") _, out("v29") _, out("v30") _, out("v31") _,
            options(nostack),
        );
    }
    vl
}

dwconv_kernel! {
    /// Depthwise 2-D convolution, NHWC, strip-mined over channels (`vsetvli`, LMUL 8). Weights
    /// `[KH][KW][C]`, bias `[C]`, as [`crate::scalar::f32_dwconv_nhwc_minmax`]. Padding only
    /// shortens a pixel's tap block; the tap loops inside the block have no other branch.
    #[inline(never)]
    pub fn f32_dwconv_nhwc_minmax_rvv(x, w, b, y, min, max, rows) {
        let f = core::mem::size_of::<f32>();
        // With hard-swish, each pixel is stored unclamped, then finished in place in L1.
        let (lo, hi) = if HS { (f32::NEG_INFINITY, f32::INFINITY) } else { (min, max) };
        for oy in rows.clone() {
            let (ky0, ky1) = taps(oy, SH, PT, H, KH);
            for ox in 0..OW {
                let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                let out = (oy * OW + ox) * C;
                if ky0 == ky1 || kx0 == kx1 {
                    // A window entirely in the padding: the bias alone.
                    // SAFETY: row `oy` is this task's.
                    let px = unsafe { y.part(out, C) };
                    for (v, &bias) in px.iter_mut().zip(b) {
                        *v = act::<HS>(bias, min, max);
                    }
                    continue;
                }
                let (iy, ix) = (oy * SH + ky0 - PT, ox * SW + kx0 - PL);
                let mut c = 0;
                while c < C {
                    // SAFETY: taps (ky0..ky1, kx0..kx1) read x at ((iy + i) * W + ix + j) * C + c
                    // with iy + i < H and ix + j < W (from `taps`), and w at
                    // ((ky0 + i) * KW + kx0 + j) * C + c, each for vl <= C - c channels; bias and
                    // output likewise stay within C - c channels from c.
                    c += unsafe {
                        dw_strip(
                            x.as_ptr().add((iy * W + ix) * C + c),
                            W * C * f,
                            C * f,
                            w.as_ptr().add((ky0 * KW + kx0) * C + c),
                            KW * C * f,
                            C * f,
                            ky1 - ky0,
                            kx1 - kx0,
                            b.as_ptr().add(c),
                            y.as_mut_ptr().add(out + c),
                            C - c,
                            lo,
                            hi,
                        )
                    };
                }
                if HS {
                    // SAFETY: the pixel's C outputs were just written, in this task's row.
                    unsafe { act_strip(y.as_mut_ptr().add(out), C, min, max) };
                }
            }
        }
    }
}

/// Taps of a conv pixel handed to [`conv_strip`] at once; longer windows go in several blocks.
const CONV_TAPS: usize = 32;

/// One output pixel's strip of `vl = min(n, VLMAX)` output channels (LMUL 4): starts from
/// `init` (the bias, or the partial sums of earlier taps), adds `ntaps` taps, whose input and
/// weight byte offsets from `x` and `w` are pairs in `offs`, each over `ci` input channels
/// (strides `xsc`, `wsc` in bytes), clamps and stores; returns `vl`.
///
/// # Safety
/// Every read `x + off.0 + i * xsc` (one float) and `w + off.1 + i * wsc` (`vl` floats) for
/// i < ci must be in bounds, `init` and `y` must have `vl` floats; `ntaps, ci >= 1`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn conv_strip(
    x: *const f32,
    w: *const f32,
    offs: *const [usize; 2],
    ntaps: usize,
    ci: usize,
    xsc: usize,
    wsc: usize,
    init: *const f32,
    y: *mut f32,
    n: usize,
    min: f32,
    max: f32,
) -> usize {
    let vl: usize;
    unsafe {
        asm!(
            ".option push",
            ".option arch, +v",
            "vsetvli {vl}, {n}, e32, m4, ta, ma",
            "vle32.v v8, ({init})",
            "2:",
            "ld {xp}, 0({offs})",
            "ld {wp}, 8({offs})",
            "add {xp}, {xp}, {x}",
            "add {wp}, {wp}, {w}",
            "mv {i}, {ci}",
            "3:",
            "flw ft0, 0({xp})",
            "vle32.v v16, ({wp})",
            "add {xp}, {xp}, {xsc}",
            "add {wp}, {wp}, {wsc}",
            "addi {i}, {i}, -1",
            "vfmacc.vf v8, ft0, v16",
            "bnez {i}, 3b",
            "addi {offs}, {offs}, 16",
            "addi {ntaps}, {ntaps}, -1",
            "bnez {ntaps}, 2b",
            "vfmax.vf v8, v8, {lo}",
            "vfmin.vf v8, v8, {hi}",
            "vse32.v v8, ({y})",
            ".option pop",
            vl = out(reg) vl,
            n = in(reg) n,
            init = in(reg) init,
            x = in(reg) x,
            w = in(reg) w,
            offs = inout(reg) offs => _,
            ntaps = inout(reg) ntaps => _,
            ci = in(reg) ci,
            xsc = in(reg) xsc,
            wsc = in(reg) wsc,
            xp = out(reg) _,
            wp = out(reg) _,
            i = out(reg) _,
            y = in(reg) y,
            lo = in(freg) min,
            hi = in(freg) max,
            out("ft0") _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _,
            options(nostack),
        );
    }
    vl
}

conv_kernel! {
    cop = 1;
    /// Dense 2-D convolution writing NHWC, from an input in any layout (strides `XSC`, `XSY`,
    /// `XSX` of channel, row and column, as [`crate::scalar::f32_conv_minmax`]), strip-mined over
    /// output channels. Weights `[KH][KW][CI][COP]`, bias `[COP]`; RVV needs no channel padding,
    /// `COP == CO`. Each pixel's taps (its window clipped to the input) are listed as offsets and
    /// walked inside one block per strip.
    #[inline(never)]
    pub fn f32_conv_minmax_rvv(x, w, b, y, min, max, rows) {
        let f = core::mem::size_of::<f32>();
        let mut offs = [[0usize; 2]; CONV_TAPS];
        // With a pad value (`PV`), the taps in the padding are in the starting sums.
        let d = &w[KH * KW * CI * COP..];
        for oy in rows.clone() {
            let (ky0, ky1) = taps(oy, SH, PT, H, KH);
            for ox in 0..OW {
                let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                let out = (oy * OW + ox) * CO;
                let start = PV.then(|| pad_init::<KH, KW, COP>(b, d, [ky0, ky1], [kx0, kx1]));
                let start = start.as_ref().unwrap_or(b);
                // The window's taps inside the input, as byte offsets of input and weights.
                let window = (ky0..ky1).flat_map(|ky| (kx0..kx1).map(move |kx| (ky, kx)));
                let count = (ky1 - ky0) * (kx1 - kx0);
                if count == 0 {
                    // SAFETY: row `oy` is this task's.
                    let px = unsafe { y.part(out, CO) };
                    for (v, &bias) in px.iter_mut().zip(start) {
                        *v = act::<HS>(bias, min, max);
                    }
                    continue;
                }
                let mut done = 0;
                let mut window = window;
                while done < count {
                    let chunk = (count - done).min(CONV_TAPS);
                    for o in offs.iter_mut().take(chunk) {
                        let (ky, kx) = window.next().unwrap_or((ky0, kx0));
                        let (iy, ix) = (oy * SH + ky - PT, ox * SW + kx - PL);
                        *o = [(iy * XSY + ix * XSX) * f, (ky * KW + kx) * CI * COP * f];
                    }
                    // The last block clamps; earlier ones keep partial sums in the output.
                    let last = done + chunk == count;
                    let (lo, hi) = if last && !HS {
                        (min, max)
                    } else {
                        (f32::NEG_INFINITY, f32::INFINITY)
                    };
                    let yp = y.as_mut_ptr();
                    let mut c = 0;
                    while c < CO {
                        let init = if done == 0 {
                            start.as_ptr()
                        } else {
                            yp.cast_const()
                        };
                        // SAFETY: each listed tap reads x at iy * XSY + ix * XSX + i * XSC (iy < H,
                        // ix < W, i < CI: inside XN by the const assertion) and w at
                        // ((ky * KW + kx) * CI + i) * COP + c + vl <= WN; `init` and the output
                        // have vl <= CO - c floats from c (b has COP >= CO).
                        c += unsafe {
                            conv_strip(
                                x.as_ptr(),
                                w.as_ptr().add(c),
                                offs.as_ptr(),
                                chunk,
                                CI,
                                XSC * f,
                                COP * f,
                                init.add(if done == 0 { c } else { out + c }),
                                yp.add(out + c),
                                CO - c,
                                lo,
                                hi,
                            )
                        };
                    }
                    done += chunk;
                }
                if HS {
                    // Hard-swish and the clamp, in place while the pixel is in L1.
                    // SAFETY: the pixel's CO outputs were just written, in this task's row.
                    unsafe { act_strip(y.as_mut_ptr().add(out), CO, min, max) };
                }
            }
        }
    }
}

/// The conv and GEMM kernels' epilogue with hard-swish, as [`crate::scalar::act::<true>`] (the
/// same operations, so the same bits), in place on `n` floats at `y` (LMUL 8 strips).
///
/// # Safety
/// `y` must have `n >= 1` writable floats.
#[inline(always)]
unsafe fn act_strip(y: *mut f32, n: usize, min: f32, max: f32) {
    unsafe {
        asm!(
            ".option push",
            ".option arch, +v",
            "2:",
            "vsetvli {vl}, {n}, e32, m8, ta, ma",
            "vle32.v v8, ({y})",
            "vfmul.vf v16, v8, {sixth}",
            "vfadd.vf v16, v16, {half}",
            "vfmax.vf v16, v16, {zero}",
            "vfmin.vf v16, v16, {one}",
            "vfmul.vv v8, v8, v16",
            "vfmax.vf v8, v8, {lo}",
            "vfmin.vf v8, v8, {hi}",
            "vse32.v v8, ({y})",
            "sub {n}, {n}, {vl}",
            "slli {vl}, {vl}, 2",
            "add {y}, {y}, {vl}",
            "bnez {n}, 2b",
            ".option pop",
            vl = out(reg) _,
            n = inout(reg) n => _,
            y = inout(reg) y => _,
            sixth = in(freg) 1.0f32 / 6.0,
            half = in(freg) 0.5f32,
            zero = in(freg) 0.0f32,
            one = in(freg) 1.0f32,
            lo = in(freg) min,
            hi = in(freg) max,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _,
            out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            options(nostack),
        );
    }
}

gavgpool_kernel! {
    /// Global average pooling over `HW` pixels of `C` channels, strip-mined over channels.
    #[inline(never)]
    pub fn f32_gavgpool_rvv(x, y) {
        let scale = 1.0 / HW as f32;
        let mut c = 0;
        while c < C {
            let vl: usize;
            // SAFETY: reads vl <= C - c floats at p * C + c for p < HW (inside XN), writes vl
            // floats at c (inside C).
            unsafe {
                asm!(
                    ".option push",
                    ".option arch, +v",
                    "vsetvli {vl}, {n}, e32, m8, ta, ma",
                    "vmv.v.i v8, 0",
                    "2:",
                    "vle32.v v16, ({x})",
                    "add {x}, {x}, {cs}",
                    "addi {hw}, {hw}, -1",
                    "vfadd.vv v8, v8, v16",
                    "bnez {hw}, 2b",
                    "vfmul.vf v8, v8, {scale}",
                    "vse32.v v8, ({y})",
                    ".option pop",
                    vl = out(reg) vl,
                    n = in(reg) C - c,
                    x = inout(reg) x.as_ptr().add(c) => _,
                    cs = in(reg) C * core::mem::size_of::<f32>(),
                    hw = inout(reg) HW => _,
                    scale = in(freg) scale,
                    y = in(reg) y.as_mut_ptr().add(c),
                    out("v8") _, out("v9") _, out("v10") _, out("v11") _,
                    out("v12") _, out("v13") _, out("v14") _, out("v15") _,
                    out("v16") _, out("v17") _, out("v18") _, out("v19") _,
                    out("v20") _, out("v21") _, out("v22") _, out("v23") _,
                    options(nostack),
                );
            }
            c += vl;
        }
    }
}

/// QuantizeLinear into uint8 as `scalar::f32_quantize` computes it, strip-mined at LMUL 8: the
/// same IEEE division (`vfdiv.vf`), the clamp that ignores NaN as `f32::max` and `f32::min` do
/// (`vfmax.vf`, `vfmin.vf`), `vfcvt.x.f.v` (to nearest, ties to even), the zero point, two
/// narrowing shifts to bytes.
#[inline(never)]
pub fn f32_quantize_rvv<const N: usize>(x: &[f32; N], scale: f32, y: &mut [u8; N], q: Requant) {
    let (lo, hi) = ((q.lo - q.zero) as f32, (q.hi - q.zero) as f32);
    let mut i = 0;
    while i < N {
        let vl: usize;
        // SAFETY: reads vl <= N - i floats at i and writes vl bytes at i, inside both arrays.
        unsafe {
            asm!(
                ".option push",
                ".option arch, +v",
                "vsetvli {vl}, {n}, e32, m8, ta, ma",
                "vle32.v v8, ({x})",
                "vfdiv.vf v8, v8, {scale}",
                "vfmax.vf v8, v8, {lo}",
                "vfmin.vf v8, v8, {hi}",
                "vfcvt.x.f.v v8, v8",
                "vadd.vx v8, v8, {z}",
                "vsetvli zero, {vl}, e16, m4, ta, ma",
                "vnsrl.wi v8, v8, 0",
                "vsetvli zero, {vl}, e8, m2, ta, ma",
                "vnsrl.wi v8, v8, 0",
                "vse8.v v8, ({y})",
                ".option pop",
                vl = out(reg) vl,
                n = in(reg) N - i,
                x = in(reg) x.as_ptr().add(i),
                y = in(reg) y.as_mut_ptr().add(i),
                scale = in(freg) scale,
                lo = in(freg) lo,
                hi = in(freg) hi,
                z = in(reg) q.zero as isize,
                out("v8") _, out("v9") _, out("v10") _, out("v11") _,
                out("v12") _, out("v13") _, out("v14") _, out("v15") _,
                options(nostack),
            );
        }
        i += vl;
    }
}

/// Rows of the quantized GEMM's register tile: three accumulator groups of LMUL 8.
pub const QGEMM_MR: usize = 3;
/// Columns of a quantized weight panel: 32 int32 sums, one LMUL 8 group at VLEN 128.
pub const QGEMM_NR: usize = 32;

qgemm_kernel! {
    nr = QGEMM_NR, mr = QGEMM_MR, kr = 1, w = i8;
    /// `y[m][n] = requantize(b[n] + sum_k x[m][k] * w[k][n], s[n])` with int8 weights in panels
    /// of 32 columns (`w[panel][k][0..32]`, zero padded): per k, one load of the panel row,
    /// widened to 16 bits (`vsext.vf2`), and per row one `vwmacc.vx` by the row's input: 32
    /// exact products into 32-bit sums (LMUL 8). K goes four steps per loop turn.
    #[inline(never)]
    pub fn u8_gemm_rvv(x, w, b, s, y, q, rows, panels) {
        gemm_tiles(N, NB, [QGEMM_MR, QGEMM_NR], rows, panels, |m0, count, p, cols| {
            // SAFETY: rows m0..m0+count of x (K bytes each) and of y (N each) exist and are this
            // task's; panel p's K * 32 weights and 32 biases and scales exist since p < NP/32;
            // `cols` columns from p*32 are loaded and stored, p*32 + cols <= N.
            unsafe {
                qtile3(
                    x.as_ptr().add(m0 * K),
                    count,
                    K,
                    w.as_ptr().add(p * K * QGEMM_NR),
                    b.as_ptr().add(p * QGEMM_NR),
                    s.as_ptr().add(p * QGEMM_NR),
                    y.as_mut_ptr().add(m0 * N + p * QGEMM_NR),
                    N,
                    cols,
                    q,
                )
            }
        });
    }
}

/// A tile of `rows` (1 to 3) rows by `cols` (up to 32) columns of [`u8_gemm_rvv`]: three
/// accumulator groups (v8, v16, v24 at LMUL 8), the panel row loaded into v0/v2 and widened
/// into v4; rows past `rows` repeat the last row (same input, same output, same values). Then
/// the requantization as `scalar::requantize`: `vfcvt.f.x.v`, `vfmul.vv` by the scales, the
/// clamp to the bounds less the zero point, `vfcvt.x.f.v` (the dynamic rounding mode: to
/// nearest, ties to even), the zero point added, narrowed twice to bytes.
///
/// # Safety
/// `x` must point to `rows` rows of `k` bytes, `w` to `k` panel rows of 32 int8, `b` and `s`
/// to 32 values, `y` to `rows` rows (stride `n`) with `cols` writable bytes each.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn qtile3(
    x: *const u8,
    rows: usize,
    k: usize,
    w: *const i8,
    b: *const i32,
    s: *const f32,
    y: *mut u8,
    n: usize,
    cols: usize,
    q: Requant,
) {
    let row = |r: usize| r.min(rows - 1);
    let (quads, rest) = (k / 4, k % 4);
    let (lo, hi) = ((q.lo - q.zero) as f32, (q.hi - q.zero) as f32);
    unsafe {
        asm!(
            ".option push",
            ".option arch, +v",
            "vsetvli zero, {cols}, e32, m8, ta, ma",
            "vle32.v v8, ({b})",
            "vmv.v.v v16, v8",
            "vmv.v.v v24, v8",
            "vsetvli zero, {cols}, e16, m4, ta, ma",
            "beqz {quads}, 3f",
            "2:",
            "vle8.v v0, ({w})",
            "addi {w}, {w}, 32",
            "vle8.v v2, ({w})",
            "addi {w}, {w}, 32",
            "lbu {a0}, 0({x0})",
            "lbu {a1}, 0({x1})",
            "lbu {a2}, 0({x2})",
            "vsext.vf2 v4, v0",
            "vwmacc.vx v8, {a0}, v4",
            "vwmacc.vx v16, {a1}, v4",
            "vwmacc.vx v24, {a2}, v4",
            "lbu {a0}, 1({x0})",
            "lbu {a1}, 1({x1})",
            "lbu {a2}, 1({x2})",
            "vsext.vf2 v4, v2",
            "vwmacc.vx v8, {a0}, v4",
            "vwmacc.vx v16, {a1}, v4",
            "vwmacc.vx v24, {a2}, v4",
            "vle8.v v0, ({w})",
            "addi {w}, {w}, 32",
            "vle8.v v2, ({w})",
            "addi {w}, {w}, 32",
            "lbu {a0}, 2({x0})",
            "lbu {a1}, 2({x1})",
            "lbu {a2}, 2({x2})",
            "vsext.vf2 v4, v0",
            "vwmacc.vx v8, {a0}, v4",
            "vwmacc.vx v16, {a1}, v4",
            "vwmacc.vx v24, {a2}, v4",
            "lbu {a0}, 3({x0})",
            "lbu {a1}, 3({x1})",
            "lbu {a2}, 3({x2})",
            "vsext.vf2 v4, v2",
            "vwmacc.vx v8, {a0}, v4",
            "vwmacc.vx v16, {a1}, v4",
            "vwmacc.vx v24, {a2}, v4",
            "addi {x0}, {x0}, 4",
            "addi {x1}, {x1}, 4",
            "addi {x2}, {x2}, 4",
            "addi {quads}, {quads}, -1",
            "bnez {quads}, 2b",
            "3:",
            "beqz {rest}, 5f",
            "4:",
            "vle8.v v0, ({w})",
            "addi {w}, {w}, 32",
            "lbu {a0}, 0({x0})",
            "lbu {a1}, 0({x1})",
            "lbu {a2}, 0({x2})",
            "vsext.vf2 v4, v0",
            "vwmacc.vx v8, {a0}, v4",
            "vwmacc.vx v16, {a1}, v4",
            "vwmacc.vx v24, {a2}, v4",
            "addi {x0}, {x0}, 1",
            "addi {x1}, {x1}, 1",
            "addi {x2}, {x2}, 1",
            "addi {rest}, {rest}, -1",
            "bnez {rest}, 4b",
            "5:",
            "vsetvli zero, {cols}, e32, m8, ta, ma",
            "vle32.v v0, ({s})",
            "vfcvt.f.x.v v8, v8",
            "vfcvt.f.x.v v16, v16",
            "vfcvt.f.x.v v24, v24",
            "vfmul.vv v8, v8, v0",
            "vfmul.vv v16, v16, v0",
            "vfmul.vv v24, v24, v0",
            "vfmax.vf v8, v8, {lo}",
            "vfmax.vf v16, v16, {lo}",
            "vfmax.vf v24, v24, {lo}",
            "vfmin.vf v8, v8, {hi}",
            "vfmin.vf v16, v16, {hi}",
            "vfmin.vf v24, v24, {hi}",
            "vfcvt.x.f.v v8, v8",
            "vfcvt.x.f.v v16, v16",
            "vfcvt.x.f.v v24, v24",
            "vadd.vx v8, v8, {z}",
            "vadd.vx v16, v16, {z}",
            "vadd.vx v24, v24, {z}",
            "vsetvli zero, {cols}, e16, m4, ta, ma",
            "vnsrl.wi v8, v8, 0",
            "vnsrl.wi v16, v16, 0",
            "vnsrl.wi v24, v24, 0",
            "vsetvli zero, {cols}, e8, m2, ta, ma",
            "vnsrl.wi v8, v8, 0",
            "vnsrl.wi v16, v16, 0",
            "vnsrl.wi v24, v24, 0",
            "vse8.v v8, ({y0})",
            "vse8.v v16, ({y1})",
            "vse8.v v24, ({y2})",
            ".option pop",
            cols = in(reg) cols,
            b = in(reg) b,
            s = in(reg) s,
            w = inout(reg) w => _,
            quads = inout(reg) quads => _,
            rest = inout(reg) rest => _,
            x0 = inout(reg) x.add(row(0) * k) => _,
            x1 = inout(reg) x.add(row(1) * k) => _,
            x2 = inout(reg) x.add(row(2) * k) => _,
            a0 = out(reg) _,
            a1 = out(reg) _,
            a2 = out(reg) _,
            y0 = in(reg) y.add(row(0) * n),
            y1 = in(reg) y.add(row(1) * n),
            y2 = in(reg) y.add(row(2) * n),
            z = in(reg) q.zero as isize,
            lo = in(freg) lo,
            hi = in(freg) hi,
            out("v0") _, out("v1") _, out("v2") _, out("v3") _,
            out("v4") _, out("v5") _, out("v6") _, out("v7") _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _,
            out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            out("v24") _, out("v25") _, out("v26") _, out("v27") _,
            out("v28") _, out("v29") _, out("v30") _, out("v31") _,
            options(nostack),
        );
    }
}

/// One quantized output pixel's strip of channels: `vl = min(n, VLMAX)` channels (e16 at
/// LMUL 4: 32 at VLEN 128; int32 sums at LMUL 8), over a `nky` x `nkx` block of taps (the
/// window clipped to the input) from `x` and `w` with row and column strides in bytes: per tap
/// the inputs widened less the zero point (`vzext.vf2`, `vsub.vx`), the weights widened
/// (`vsext.vf2`), one `vwmacc.vv`; then requantized as [`qtile3`] does and stored; returns
/// `vl`.
///
/// # Safety
/// Every tap's `vl` bytes from `x + i * xrs + j * xcs` and `w + i * wrs + j * wcs` must be
/// readable (i < nky, j < nkx), `b` and `s` must have `vl` values and `y` `vl` writable bytes;
/// `nky, nkx >= 1`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn qdw_strip(
    x: *const u8,
    [xrs, xcs]: [usize; 2],
    w: *const i8,
    [wrs, wcs]: [usize; 2],
    [nky, nkx]: [usize; 2],
    xz: i32,
    b: *const i32,
    s: *const f32,
    y: *mut u8,
    n: usize,
    q: Requant,
) -> usize {
    let vl: usize;
    let (lo, hi) = ((q.lo - q.zero) as f32, (q.hi - q.zero) as f32);
    unsafe {
        asm!(
            ".option push",
            ".option arch, +v",
            "vsetvli {vl}, {n}, e16, m4, ta, ma",
            "vle32.v v8, ({b})",
            "2:",
            "mv {xp}, {x}",
            "mv {wp}, {w}",
            "mv {j}, {nkx}",
            "3:",
            "vle8.v v0, ({xp})",
            "vle8.v v2, ({wp})",
            "add {xp}, {xp}, {xcs}",
            "add {wp}, {wp}, {wcs}",
            "addi {j}, {j}, -1",
            "vzext.vf2 v4, v0",
            "vsext.vf2 v16, v2",
            "vsub.vx v4, v4, {xz}",
            "vwmacc.vv v8, v4, v16",
            "bnez {j}, 3b",
            "add {x}, {x}, {xrs}",
            "add {w}, {w}, {wrs}",
            "addi {nky}, {nky}, -1",
            "bnez {nky}, 2b",
            "vsetvli zero, {vl}, e32, m8, ta, ma",
            "vle32.v v16, ({s})",
            "vfcvt.f.x.v v8, v8",
            "vfmul.vv v8, v8, v16",
            "vfmax.vf v8, v8, {lo}",
            "vfmin.vf v8, v8, {hi}",
            "vfcvt.x.f.v v8, v8",
            "vadd.vx v8, v8, {z}",
            "vsetvli zero, {vl}, e16, m4, ta, ma",
            "vnsrl.wi v8, v8, 0",
            "vsetvli zero, {vl}, e8, m2, ta, ma",
            "vnsrl.wi v8, v8, 0",
            "vse8.v v8, ({y})",
            ".option pop",
            vl = out(reg) vl,
            n = in(reg) n,
            b = in(reg) b,
            s = in(reg) s,
            x = inout(reg) x => _,
            w = inout(reg) w => _,
            xrs = in(reg) xrs,
            xcs = in(reg) xcs,
            wrs = in(reg) wrs,
            wcs = in(reg) wcs,
            nky = inout(reg) nky => _,
            nkx = in(reg) nkx,
            xz = in(reg) xz as isize,
            xp = out(reg) _,
            wp = out(reg) _,
            j = out(reg) _,
            y = in(reg) y,
            z = in(reg) q.zero as isize,
            lo = in(freg) lo,
            hi = in(freg) hi,
            out("v0") _, out("v1") _, out("v2") _, out("v3") _,
            out("v4") _, out("v5") _, out("v6") _, out("v7") _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _,
            out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            options(nostack),
        );
    }
    vl
}

qdwconv_kernel! {
    w = i8, wn = KH * KW * C;
    /// Quantized depthwise 2-D convolution, NHWC, weights `[KH][KW][C]` int8, strip-mined over
    /// channels ([`qdw_strip`]); padding only shortens a pixel's tap block. A window entirely
    /// in the padding gives the requantized bias.
    #[inline(never)]
    pub fn u8_dwconv_rvv(x, xz, w, b, s, y, q, rows) {
        for oy in rows.clone() {
            let (ky0, ky1) = taps(oy, SH, PT, H, KH);
            for ox in 0..OW {
                let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                let out = (oy * OW + ox) * C;
                if ky0 == ky1 || kx0 == kx1 {
                    // SAFETY: row `oy` is this task's.
                    let px = unsafe { y.part(out, C) };
                    for ((v, &bias), &scale) in px.iter_mut().zip(b).zip(s) {
                        *v = crate::scalar::requantize(bias, scale, q);
                    }
                    continue;
                }
                let (iy, ix) = (oy * SH + ky0 - PT, ox * SW + kx0 - PL);
                let mut c = 0;
                while c < C {
                    // SAFETY: taps (ky0..ky1, kx0..kx1) read x at ((iy + i) * W + ix + j) * C + c
                    // with iy + i < H and ix + j < W (from `taps`), and w at
                    // ((ky0 + i) * KW + kx0 + j) * C + c, each for vl <= C - c channels; bias,
                    // scales and output likewise stay within C - c channels from c.
                    c += unsafe {
                        qdw_strip(
                            x.as_ptr().add((iy * W + ix) * C + c),
                            [W * C, C],
                            w.as_ptr().add((ky0 * KW + kx0) * C + c),
                            [KW * C, C],
                            [ky1 - ky0, kx1 - kx0],
                            xz,
                            b.as_ptr().add(c),
                            s.as_ptr().add(c),
                            y.as_mut_ptr().add(out + c),
                            C - c,
                            q,
                        )
                    };
                }
            }
        }
    }
}

/// Up to eight output channels of `vl = min(npx, VLMAX at e16, m1)` interior output pixels of
/// a row side by side in the lanes (the stem from any input layout; returned): sums start from
/// the eight biases at `b`; per tap of the window (`rows` kernel rows from the one `x` and `w`
/// point at, `kw` columns, `ci` input channels; input strides `xsy`, `xsx`, `xsc` in bytes,
/// `xstep` between the pixels' inputs, weight rows `wstep` bytes apart) the pixels' inputs
/// (`vlse8`, widened, less the zero point) times each channel's int16 weight, one `vwmacc.vx`
/// into eight accumulator groups (v8..v23, LMUL 2); then each channel is requantized as
/// [`qtile3`] does and its first `n` bytes stored `ystep` apart from `y` (the output of the
/// first pixel's first channel).
///
/// # Safety
/// Every read `x + r * xsy + j * xsx + i * xsc + p * xstep` (r < rows, j < kw, i < ci,
/// p < vl) must be inside the input, `w` must have `rows * kw * ci` rows of 8 int16 `wstep`
/// bytes apart, `b` and `s` eight values, and `y + p * ystep + c` (p < vl, c < n) be writable;
/// `rows, kw, ci, npx >= 1`, `n <= 8`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn qconv_lanes(
    x: *const u8,
    w: *const i16,
    [rows, kw, ci]: [usize; 3],
    [xsy, xsx, xsc, xstep]: [usize; 4],
    wstep: usize,
    xz: i32,
    b: *const i32,
    s: *const f32,
    y: *mut u8,
    [ystep, n, npx]: [usize; 3],
    q: Requant,
) -> usize {
    let vl: usize;
    let (lo, hi) = ((q.lo - q.zero) as f32, (q.hi - q.zero) as f32);
    unsafe {
        asm!(
            ".option push",
            ".option arch, +v",
            "vsetvli {vl}, {npx}, e32, m2, ta, ma",
            "lw {t}, 0({b})",
            "vmv.v.x v8, {t}",
            "lw {t}, 4({b})",
            "vmv.v.x v10, {t}",
            "lw {t}, 8({b})",
            "vmv.v.x v12, {t}",
            "lw {t}, 12({b})",
            "vmv.v.x v14, {t}",
            "lw {t}, 16({b})",
            "vmv.v.x v16, {t}",
            "lw {t}, 20({b})",
            "vmv.v.x v18, {t}",
            "lw {t}, 24({b})",
            "vmv.v.x v20, {t}",
            "lw {t}, 28({b})",
            "vmv.v.x v22, {t}",
            "vsetvli zero, {vl}, e16, m1, ta, ma",
            "1:",
            "mv {xc}, {x}",
            "mv {kx}, {kw}",
            "2:",
            "mv {xp}, {xc}",
            "mv {i}, {ci}",
            "3:",
            "vlse8.v v1, ({xp}), {xstep}",
            "vzext.vf2 v2, v1",
            "vsub.vx v2, v2, {xz}",
            "lh {t}, 0({wp})",
            "vwmacc.vx v8, {t}, v2",
            "lh {t}, 2({wp})",
            "vwmacc.vx v10, {t}, v2",
            "lh {t}, 4({wp})",
            "vwmacc.vx v12, {t}, v2",
            "lh {t}, 6({wp})",
            "vwmacc.vx v14, {t}, v2",
            "lh {t}, 8({wp})",
            "vwmacc.vx v16, {t}, v2",
            "lh {t}, 10({wp})",
            "vwmacc.vx v18, {t}, v2",
            "lh {t}, 12({wp})",
            "vwmacc.vx v20, {t}, v2",
            "lh {t}, 14({wp})",
            "vwmacc.vx v22, {t}, v2",
            "add {wp}, {wp}, {wstep}",
            "add {xp}, {xp}, {xsc}",
            "addi {i}, {i}, -1",
            "bnez {i}, 3b",
            "add {xc}, {xc}, {xsx}",
            "addi {kx}, {kx}, -1",
            "bnez {kx}, 2b",
            "add {x}, {x}, {xsy}",
            "addi {rows}, {rows}, -1",
            "bnez {rows}, 1b",
            "vsetvli zero, {vl}, e32, m2, ta, ma",
            "flw ft0, 0({s})",
            "vfcvt.f.x.v v8, v8",
            "vfmul.vf v8, v8, ft0",
            "vfmax.vf v8, v8, {lo}",
            "vfmin.vf v8, v8, {hi}",
            "vfcvt.x.f.v v8, v8",
            "vadd.vx v8, v8, {z}",
            "flw ft0, 4({s})",
            "vfcvt.f.x.v v10, v10",
            "vfmul.vf v10, v10, ft0",
            "vfmax.vf v10, v10, {lo}",
            "vfmin.vf v10, v10, {hi}",
            "vfcvt.x.f.v v10, v10",
            "vadd.vx v10, v10, {z}",
            "flw ft0, 8({s})",
            "vfcvt.f.x.v v12, v12",
            "vfmul.vf v12, v12, ft0",
            "vfmax.vf v12, v12, {lo}",
            "vfmin.vf v12, v12, {hi}",
            "vfcvt.x.f.v v12, v12",
            "vadd.vx v12, v12, {z}",
            "flw ft0, 12({s})",
            "vfcvt.f.x.v v14, v14",
            "vfmul.vf v14, v14, ft0",
            "vfmax.vf v14, v14, {lo}",
            "vfmin.vf v14, v14, {hi}",
            "vfcvt.x.f.v v14, v14",
            "vadd.vx v14, v14, {z}",
            "flw ft0, 16({s})",
            "vfcvt.f.x.v v16, v16",
            "vfmul.vf v16, v16, ft0",
            "vfmax.vf v16, v16, {lo}",
            "vfmin.vf v16, v16, {hi}",
            "vfcvt.x.f.v v16, v16",
            "vadd.vx v16, v16, {z}",
            "flw ft0, 20({s})",
            "vfcvt.f.x.v v18, v18",
            "vfmul.vf v18, v18, ft0",
            "vfmax.vf v18, v18, {lo}",
            "vfmin.vf v18, v18, {hi}",
            "vfcvt.x.f.v v18, v18",
            "vadd.vx v18, v18, {z}",
            "flw ft0, 24({s})",
            "vfcvt.f.x.v v20, v20",
            "vfmul.vf v20, v20, ft0",
            "vfmax.vf v20, v20, {lo}",
            "vfmin.vf v20, v20, {hi}",
            "vfcvt.x.f.v v20, v20",
            "vadd.vx v20, v20, {z}",
            "flw ft0, 28({s})",
            "vfcvt.f.x.v v22, v22",
            "vfmul.vf v22, v22, ft0",
            "vfmax.vf v22, v22, {lo}",
            "vfmin.vf v22, v22, {hi}",
            "vfcvt.x.f.v v22, v22",
            "vadd.vx v22, v22, {z}",
            "vsetvli zero, {vl}, e16, m1, ta, ma",
            "vnsrl.wi v8, v8, 0",
            "vnsrl.wi v10, v10, 0",
            "vnsrl.wi v12, v12, 0",
            "vnsrl.wi v14, v14, 0",
            "vnsrl.wi v16, v16, 0",
            "vnsrl.wi v18, v18, 0",
            "vnsrl.wi v20, v20, 0",
            "vnsrl.wi v22, v22, 0",
            "vsetvli zero, {vl}, e8, mf2, ta, ma",
            "vnsrl.wi v8, v8, 0",
            "vsse8.v v8, ({y}), {ystep}",
            "addi {y}, {y}, 1",
            "li {t}, 1",
            "bleu {n}, {t}, 9f",
            "vnsrl.wi v10, v10, 0",
            "vsse8.v v10, ({y}), {ystep}",
            "addi {y}, {y}, 1",
            "li {t}, 2",
            "bleu {n}, {t}, 9f",
            "vnsrl.wi v12, v12, 0",
            "vsse8.v v12, ({y}), {ystep}",
            "addi {y}, {y}, 1",
            "li {t}, 3",
            "bleu {n}, {t}, 9f",
            "vnsrl.wi v14, v14, 0",
            "vsse8.v v14, ({y}), {ystep}",
            "addi {y}, {y}, 1",
            "li {t}, 4",
            "bleu {n}, {t}, 9f",
            "vnsrl.wi v16, v16, 0",
            "vsse8.v v16, ({y}), {ystep}",
            "addi {y}, {y}, 1",
            "li {t}, 5",
            "bleu {n}, {t}, 9f",
            "vnsrl.wi v18, v18, 0",
            "vsse8.v v18, ({y}), {ystep}",
            "addi {y}, {y}, 1",
            "li {t}, 6",
            "bleu {n}, {t}, 9f",
            "vnsrl.wi v20, v20, 0",
            "vsse8.v v20, ({y}), {ystep}",
            "addi {y}, {y}, 1",
            "li {t}, 7",
            "bleu {n}, {t}, 9f",
            "vnsrl.wi v22, v22, 0",
            "vsse8.v v22, ({y}), {ystep}",
            "addi {y}, {y}, 1",
            "9:",
            ".option pop",
            vl = out(reg) vl,
            npx = in(reg) npx,
            b = in(reg) b,
            s = in(reg) s,
            x = inout(reg) x => _,
            wp = inout(reg) w => _,
            rows = inout(reg) rows => _,
            kw = in(reg) kw,
            ci = in(reg) ci,
            xsy = in(reg) xsy,
            xsx = in(reg) xsx,
            xsc = in(reg) xsc,
            xstep = in(reg) xstep,
            wstep = in(reg) wstep,
            xz = in(reg) xz as isize,
            xc = out(reg) _,
            kx = out(reg) _,
            xp = out(reg) _,
            i = out(reg) _,
            t = out(reg) _,
            y = inout(reg) y => _,
            ystep = in(reg) ystep,
            n = in(reg) n,
            z = in(reg) q.zero as isize,
            lo = in(freg) lo,
            hi = in(freg) hi,
            out("ft0") _,
            out("v1") _, out("v2") _, out("v8") _, out("v9") _, out("v10") _, out("v11") _, out("v12") _, out("v13") _, out("v14") _, out("v15") _, out("v16") _, out("v17") _, out("v18") _, out("v19") _, out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            options(nostack),
        );
    }
    vl
}

/// One quantized output pixel's strip of `vl = min(n, VLMAX)` output channels (e16 weights at
/// LMUL 4, int32 sums at LMUL 8): starts from `init` (the bias, or the sums of earlier taps),
/// adds `ntaps` taps, whose input and weight byte offsets from `x` and `w` are pairs in `offs`,
/// each over `ci` input channels (strides `xsc`, `wsc` in bytes; per channel the input less the
/// zero point times the channels' int16 weights, one `vwmacc.vx`); then, if `last`, requantizes
/// into `y` as [`qtile3`] does, else stores the sums into `part`; returns `vl`.
///
/// # Safety
/// Every read `x + off.0 + i * xsc` (one byte) and `w + off.1 + i * wsc` (`vl` int16) for
/// i < ci must be in bounds, `init`, `s` and `part` must have `vl` values and `y` `vl` bytes;
/// `ntaps, ci >= 1`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn qconv_strip(
    x: *const u8,
    w: *const i16,
    offs: *const [usize; 2],
    [ntaps, ci]: [usize; 2],
    [xsc, wsc]: [usize; 2],
    xz: i32,
    init: *const i32,
    last: bool,
    part: *mut i32,
    s: *const f32,
    y: *mut u8,
    n: usize,
    q: Requant,
) -> usize {
    let vl: usize;
    let (lo, hi) = ((q.lo - q.zero) as f32, (q.hi - q.zero) as f32);
    unsafe {
        asm!(
            ".option push",
            ".option arch, +v",
            "vsetvli {vl}, {n}, e16, m4, ta, ma",
            "vle32.v v8, ({init})",
            "2:",
            "ld {xp}, 0({offs})",
            "ld {wp}, 8({offs})",
            "add {xp}, {xp}, {x}",
            "add {wp}, {wp}, {w}",
            "mv {i}, {ci}",
            "3:",
            "lbu {t}, 0({xp})",
            "vle16.v v16, ({wp})",
            "sub {t}, {t}, {xz}",
            "add {xp}, {xp}, {xsc}",
            "add {wp}, {wp}, {wsc}",
            "addi {i}, {i}, -1",
            "vwmacc.vx v8, {t}, v16",
            "bnez {i}, 3b",
            "addi {offs}, {offs}, 16",
            "addi {ntaps}, {ntaps}, -1",
            "bnez {ntaps}, 2b",
            "vsetvli zero, {vl}, e32, m8, ta, ma",
            "bnez {last}, 4f",
            "vse32.v v8, ({part})",
            "j 5f",
            "4:",
            "vle32.v v16, ({s})",
            "vfcvt.f.x.v v8, v8",
            "vfmul.vv v8, v8, v16",
            "vfmax.vf v8, v8, {lo}",
            "vfmin.vf v8, v8, {hi}",
            "vfcvt.x.f.v v8, v8",
            "vadd.vx v8, v8, {z}",
            "vsetvli zero, {vl}, e16, m4, ta, ma",
            "vnsrl.wi v8, v8, 0",
            "vsetvli zero, {vl}, e8, m2, ta, ma",
            "vnsrl.wi v8, v8, 0",
            "vse8.v v8, ({y})",
            "5:",
            ".option pop",
            vl = out(reg) vl,
            n = in(reg) n,
            init = in(reg) init,
            x = in(reg) x,
            w = in(reg) w,
            offs = inout(reg) offs => _,
            ntaps = inout(reg) ntaps => _,
            ci = in(reg) ci,
            xsc = in(reg) xsc,
            wsc = in(reg) wsc,
            xz = in(reg) xz as isize,
            xp = out(reg) _,
            wp = out(reg) _,
            i = out(reg) _,
            t = out(reg) _,
            last = in(reg) last as usize,
            part = in(reg) part,
            s = in(reg) s,
            y = in(reg) y,
            z = in(reg) q.zero as isize,
            lo = in(freg) lo,
            hi = in(freg) hi,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _,
            out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            options(nostack),
        );
    }
    vl
}

qconv_kernel! {
    w = i16, wn = KH * KW * CI * CO.next_multiple_of(8);
    /// Quantized dense 2-D convolution (a quantized model's stem), from an input in any layout,
    /// weights `[KH * KW * CI][COP]` int16 (`QConvLayout::Wide8`, `COP` = `CO` rounded up to
    /// 8). Interior pixels of a row (their windows inside the input's columns) go side by side
    /// in the lanes, eight output channels at a time ([`qconv_lanes`]: per tap one strided load
    /// of the pixels' inputs and a `vwmacc.vx` by each channel's weight). The border pixels are
    /// strip-mined over output channels ([`qconv_strip`]): each pixel's taps (its window
    /// clipped to the input) are listed as offsets and walked inside one block per strip, up
    /// to [`CONV_TAPS`] at a time (longer windows keep their sums in a stack buffer between
    /// blocks). A window entirely in the padding gives the requantized bias.
    #[inline(never)]
    pub fn u8_conv_rvv(x, xz, w, b, s, y, q, rows) {
        let cop = CO.next_multiple_of(8);
        let mut offs = [[0usize; 2]; CONV_TAPS];
        let mut part = [0i32; CO];
        for oy in rows.clone() {
            let (ky0, ky1) = taps(oy, SH, PT, H, KH);
            // Interior pixels side by side in the lanes, eight output channels at a time (the
            // block's biases and scales copied once per row, zero padded).
            let (first, last) = if ky1 > ky0 { interior(PL, SW, W, KW, OW) } else { (0, 0) };
            let iy = (oy * SH + ky0).wrapping_sub(PT);
            for cb in (0..CO).step_by(8) {
                let (mut bp, mut sp) = ([0i32; 8], [0f32; 8]);
                let n = (CO - cb).min(8);
                bp[..n].copy_from_slice(&b[cb..cb + n]);
                sp[..n].copy_from_slice(&s[cb..cb + n]);
                let mut ox = first;
                while ox < last {
                    let ix = ox * SW - PL;
                    // SAFETY: the pixels ox..last have their windows inside the input's columns
                    // and rows ky0..ky1 inside its rows, so every read lies in x (XN by the
                    // const assertion); weight rows (ky0 * KW * CI ..) * COP + cb + 8 <= WN;
                    // outputs of pixels ox..ox + vl (vl <= last - ox), channels cb..cb + n, in
                    // this task's row.
                    ox += unsafe {
                        qconv_lanes(
                            x.as_ptr().add(iy * XSY + ix * XSX),
                            w.as_ptr().add(ky0 * KW * CI * cop + cb),
                            [ky1 - ky0, KW, CI],
                            [XSY, XSX, XSC, SW * XSX],
                            cop * 2,
                            xz,
                            bp.as_ptr(),
                            sp.as_ptr(),
                            y.as_mut_ptr().add((oy * OW + ox) * CO + cb),
                            [CO, n, last - ox],
                            q,
                        )
                    };
                }
            }
            for ox in (0..first).chain(last..OW) {
                let (kx0, kx1) = taps(ox, SW, PL, W, KW);
                let out = (oy * OW + ox) * CO;
                let count = (ky1 - ky0) * (kx1 - kx0);
                if count == 0 {
                    // SAFETY: row `oy` is this task's.
                    let px = unsafe { y.part(out, CO) };
                    for ((v, &bias), &scale) in px.iter_mut().zip(b).zip(s) {
                        *v = crate::scalar::requantize(bias, scale, q);
                    }
                    continue;
                }
                let mut window = (ky0..ky1).flat_map(|ky| (kx0..kx1).map(move |kx| (ky, kx)));
                let mut done = 0;
                while done < count {
                    let chunk = (count - done).min(CONV_TAPS);
                    for o in offs.iter_mut().take(chunk) {
                        let (ky, kx) = window.next().unwrap_or((ky0, kx0));
                        let (iy, ix) = (oy * SH + ky - PT, ox * SW + kx - PL);
                        *o = [iy * XSY + ix * XSX, (ky * KW + kx) * CI * cop * 2];
                    }
                    let last = done + chunk == count;
                    let init = if done == 0 { b.as_ptr() } else { part.as_ptr() };
                    let mut c = 0;
                    while c < CO {
                        // SAFETY: each listed tap reads x at iy * XSY + ix * XSX + i * XSC (iy < H,
                        // ix < W, i < CI: inside XN by the const assertion) and w at
                        // ((ky * KW + kx) * CI + i) * COP + c + vl <= WN; `init`, `part`, the
                        // scales and the output have vl <= CO - c values from c, the output in
                        // this task's row.
                        c += unsafe {
                            qconv_strip(
                                x.as_ptr(),
                                w.as_ptr().add(c),
                                offs.as_ptr(),
                                [chunk, CI],
                                [XSC, cop * 2],
                                xz,
                                init.add(c),
                                last,
                                part.as_mut_ptr().add(c),
                                s.as_ptr().add(c),
                                y.as_mut_ptr().add(out + c),
                                CO - c,
                                q,
                            )
                        };
                    }
                    done += chunk;
                }
            }
        }
    }
}

#[cfg(all(test, mnetc_rvv))]
mod tests {
    extern crate std;

    crate::conformance::all_cases! {
        mnetc_targets::RVV,
        gemm: crate::rvv::f32_gemm_minmax_rvv,
        dwconv: crate::rvv::f32_dwconv_nhwc_minmax_rvv,
        conv: crate::rvv::f32_conv_minmax_rvv,
        gavgpool: crate::rvv::f32_gavgpool_rvv,
        qgemm: crate::rvv::u8_gemm_rvv,
        qdwconv: crate::rvv::u8_dwconv_rvv,
        qconv: crate::rvv::u8_conv_rvv,
        quantize: crate::rvv::f32_quantize_rvv
    }
}
