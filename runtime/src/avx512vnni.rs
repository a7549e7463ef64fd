//! x86-64 kernels with AVX-512 VNNI: compiled only when the build enables AVX-512F, AVX-512
//! VNNI, AVX2 and FMA (`-C target-feature=+avx512f,+avx512vnni,+avx2,+fma`, or
//! `-C target-cpu=native` on such a CPU: Ice Lake and later Intel cores, Zen 4 and later). The
//! quantized GEMM, depthwise and stem conv are [`crate::vnni`]'s with one 512-bit `vpdpbusd`
//! per 16 lanes, which adds four uint8 x int8 products into each 32-bit lane without
//! saturating: exact, like the scalar twins they are tested against. The target's other
//! kernels are `avx512`'s and `avx2`'s.
//!
//! `unsafe` here is the intrinsics (callable because the features are enabled for the whole
//! crate) and unaligned loads through raw pointers, each of the length the caller promises.
// The AVX-512 intrinsics are stable since Rust 1.89; only builds that enable AVX-512 compile
// this module (the crate's minimum, 1.85, covers everything else).
#![allow(clippy::incompatible_msrv)]

use crate::scalar::{ConvShape, DwGeometry, Requant, interior};
use crate::vnni::{self, Lanes16};
use core::arch::x86_64::*;

/// Rows of the quantized GEMM's register tile (12 of the 32 vector registers accumulate).
pub const QGEMM_MR: usize = 12;
/// Columns of the quantized GEMM's register tile: one vector of 16 int32 sums.
pub const QGEMM_NR: usize = 16;

impl Lanes16 for __m512i {
    type F = __m512;

    #[inline(always)]
    unsafe fn load(p: *const u8) -> Self {
        // SAFETY: 64 readable bytes (the caller's promise).
        unsafe { _mm512_loadu_si512(p as *const __m512i) }
    }

    #[inline(always)]
    unsafe fn load_f32(p: *const f32) -> __m512 {
        // SAFETY: 16 readable floats (the caller's promise).
        unsafe { _mm512_loadu_ps(p) }
    }

    #[inline(always)]
    fn splat(v: i32) -> Self {
        // SAFETY: arithmetic on registers, with the features the build enables.
        unsafe { _mm512_set1_epi32(v) }
    }

    #[inline(always)]
    fn halves(lo: __m256i, hi: __m256i) -> Self {
        // SAFETY: as above.
        unsafe { _mm512_inserti64x4::<1>(_mm512_castsi256_si512(lo), hi) }
    }

    #[inline(always)]
    fn dot(self, x: Self, w: Self) -> Self {
        // SAFETY: as above.
        unsafe { _mm512_dpbusd_epi32(self, x, w) }
    }

    #[inline(always)]
    fn sub_times(self, a: Self, k: i32) -> Self {
        // SAFETY: as above.
        unsafe { _mm512_sub_epi32(self, _mm512_mullo_epi32(a, _mm512_set1_epi32(k))) }
    }

    /// `scalar::requantize` lane by lane (f32 product, clamp, magic-number rounding), narrowed
    /// to bytes by `vpmovusdb`.
    #[inline(always)]
    fn requant(self, sv: __m512, q: Requant) -> __m128i {
        // SAFETY: as above.
        unsafe {
            let lo = _mm512_set1_ps((q.lo - q.zero) as f32);
            let hi = _mm512_set1_ps((q.hi - q.zero) as f32);
            let magic = _mm512_set1_ps(crate::scalar::MAGIC);
            let bias = _mm512_set1_epi32(crate::scalar::MAGIC.to_bits() as i32 - q.zero);
            let v = _mm512_mul_ps(_mm512_cvtepi32_ps(self), sv);
            let v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
            // Values in q.lo..=q.hi, inside 0..=255.
            _mm512_cvtusepi32_epi8(_mm512_sub_epi32(
                _mm512_castps_si512(_mm512_add_ps(v, magic)),
                bias,
            ))
        }
    }
}

qgemm_kernel! {
    nr = QGEMM_NR, mr = QGEMM_MR, kr = 4, w = i8;
    /// `y[m][n] = requantize(b[n] + sum_k x[m][k] * w[k][n], s[n])` with int8 weights packed
    /// in panels of 16 columns and groups of four k (`w[panel][k / 4][column][k % 4]`, zero
    /// padded): [`vnni::gemm`] with a 12 x 16 tile, one 512-bit `vpdpbusd` per tile row and
    /// group of four k.
    #[inline(never)]
    pub fn u8_gemm_avx512vnni(x, w, b, s, y, q, rows, panels) {
        vnni::gemm::<__m512i, QGEMM_MR, K, N>(x, w, b, s, y, q, NB, rows, panels);
    }
}

qdwconv_kernel! {
    w = i8, wn = C.div_ceil(32) * KH.div_ceil(4) * KW * 128;
    /// Quantized depthwise conv, exact, 32 channels at a time ([`vnni::dwconv`]): each input
    /// column's four kernel rows interleaved into two 512-bit vectors of the channels' four
    /// taps, one `vpdpbusd` per vector and kernel column (`QDwLayout::Quads32`).
    #[inline(never)]
    pub fn u8_dwconv_avx512vnni(x, xz, w, b, s, y, q, rows) {
        let (first, last) = interior(PL, SW, W, KW, OW);
        let g = DwGeometry { w: W, c: C, sh: SH, sw: SW, pt: PT, pl: PL, h: H, ow: OW, first, last, xz };
        vnni::dwconv::<__m512i, KH, KW, C, SW>(x, w, b, s, y, q, g, rows);
    }
}

qconv_kernel! {
    w = i8, wn = CO.next_multiple_of(16) * CI * KH * KW.div_ceil(4) * 4;
    /// Quantized dense 2-D convolution (a quantized model's stem) with `vpdpbusd`, exact
    /// ([`vnni::conv`], `QConvLayout::Quads16`): eight pixels by two blocks of 16 output
    /// channels at a time (16 of the 32 vector registers accumulate).
    #[inline(never)]
    pub fn u8_conv_avx512vnni(x, xz, w, b, s, y, q, rows) {
        let (first, last) = interior(PL, SW, W, KW, OW);
        let shape = ConvShape { h: H, w: W, ci: CI, kh: KH, kw: KW, sh: SH, sw: SW, pt: PT, pl: PL, xsc: XSC, xsy: XSY, xsx: XSX, xn: XN };
        vnni::conv::<__m512i, 8, 2>(x, xz, w, b, s, y, q, shape, [first, last, CO, OW], rows);
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

    /// The dwconv reads the channels in the order the target packs them.
    #[test]
    fn the_channel_order_is_the_packing_order() {
        assert_eq!(crate::vnni::QUADS32_ORDER, mnetc_targets::QUADS32_ORDER);
    }

    crate::conformance::qdw_cases! {
        mnetc_targets::AVX512VNNI,
        crate::avx512vnni::u8_dwconv_avx512vnni
    }

    crate::conformance::qconv_cases! {
        mnetc_targets::AVX512VNNI,
        crate::avx512vnni::u8_conv_avx512vnni
    }

    /// The cases ran exactly the kernels the target lists from this module: the quantized GEMM,
    /// depthwise and dense conv.
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
        let qdw = crate::conformance::qdw_case!(
            crate::avx512vnni::u8_dwconv_avx512vnni,
            mnetc_targets::AVX512VNNI,
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
        let qconv = crate::conformance::qconv_case!(
            crate::avx512vnni::u8_conv_avx512vnni,
            mnetc_targets::AVX512VNNI,
            9,
            9,
            3,
            5,
            3,
            2,
            1,
            1,
            1,
            1
        );
        crate::conformance::check_listed(
            &mnetc_targets::AVX512VNNI,
            &[
                (Kernel::QGemm, qgemm),
                (Kernel::QDwConv, qdw),
                (Kernel::QConv, qconv),
            ],
        );
    }
}
