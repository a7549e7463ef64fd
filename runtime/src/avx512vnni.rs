//! x86-64 kernels with AVX-512 VNNI: compiled only when the build enables AVX-512F, AVX-512
//! VNNI, AVX2 and FMA (`-C target-feature=+avx512f,+avx512vnni,+avx2,+fma`, or
//! `-C target-cpu=native` on such a CPU: Ice Lake and later Intel cores, Zen 4 and later). The
//! quantized GEMM here multiplies uint8 inputs by int8 weights four at a time with `vpdpbusd`,
//! which adds the four products into a 32-bit lane without saturating: exact, like the scalar
//! twin it is tested against. The target's other kernels are `avx512`'s and `avx2`'s.
//!
//! `unsafe` here is the intrinsics (callable because the features are enabled for the whole
//! crate) and unaligned loads and stores through raw pointers, every one inside the arrays
//! whose lengths the inline `const` assertions tie to the shapes.
// The AVX-512 intrinsics are stable since Rust 1.89; only builds that enable AVX-512 compile
// this module (the crate's minimum, 1.85, covers everything else).
#![allow(clippy::incompatible_msrv)]

use crate::scalar::gemm_tiles;
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
    q: crate::scalar::Requant,
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
    q: crate::scalar::Requant,
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
        let lo = _mm512_set1_ps((q.lo - q.zero) as f32);
        let hi = _mm512_set1_ps((q.hi - q.zero) as f32);
        let magic = _mm512_set1_ps(crate::scalar::MAGIC);
        let bias = _mm512_set1_epi32(crate::scalar::MAGIC.to_bits() as i32 - q.zero);
        for (r, a) in acc.iter().enumerate() {
            // `scalar::requantize` lane by lane: f32 product, clamp, magic-number rounding.
            let v = _mm512_mul_ps(_mm512_cvtepi32_ps(*a), sv);
            let v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
            let i = _mm512_sub_epi32(_mm512_castps_si512(_mm512_add_ps(v, magic)), bias);
            // Values in q.lo..=q.hi, inside 0..=255: the saturating narrowing only narrows.
            crate::avx2::store_bytes(y.add(r * N), _mm512_cvtusepi32_epi8(i), cols);
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

    /// The cases ran exactly the kernels the target lists from this module: the quantized GEMM.
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
        crate::conformance::check_listed(&mnetc_targets::AVX512VNNI, &[(Kernel::QGemm, qgemm)]);
    }
}
