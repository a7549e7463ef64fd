//! aarch64 kernels with the dot product instructions (FEAT_DotProd): compiled only when the
//! build enables `dotprod` (`-C target-feature=+dotprod`, or a `-C target-cpu` that has it).
//! The quantized GEMM here adds four int8 x int8 products into each 32-bit lane with `sdot`,
//! which cannot saturate: exact, like the scalar twin it is tested against. `sdot` multiplies
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
use crate::scalar::{Requant, gemm_tiles};
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
        let bias = [
            vld1q_s32(b),
            vld1q_s32(b.add(4)),
            vld1q_s32(b.add(8)),
            vld1q_s32(b.add(12)),
        ];
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
        let wv: [int8x16_t; 4] = core::array::from_fn(|c| vld1q_s8(wl.add(16 * c)));
        for (a, &xr) in acc.iter_mut().zip(xv) {
            for (ac, &wc) in a.iter_mut().zip(&wv) {
                *ac = sdot::<L>(*ac, wc, xr);
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

    /// The cases ran exactly the kernels the target lists from this module: the quantized GEMM.
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
        crate::conformance::check_listed(&mnetc_targets::NEONDOT, &[(Kernel::QGemm, qgemm)]);
    }
}
