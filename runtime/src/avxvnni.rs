//! x86-64 kernels with AVX-VNNI (the VEX-encoded 256-bit `vpdpbusd`): compiled only when the
//! build enables AVX-VNNI, AVX2 and FMA (`-C target-feature=+avxvnni,+avx2,+fma`, or
//! `-C target-cpu=native` on such a CPU: Intel Alder Lake and later client cores, Sapphire
//! Rapids and later Xeons, AMD Zen 5). The quantized GEMM, depthwise and stem conv are
//! [`crate::vnni`]'s, the same packing and arithmetic as `avx512vnni`'s with two 256-bit
//! `vpdpbusd` per 16 lanes and register tiles that fit AVX2's 16 registers; exact, like the
//! scalar twins they are tested against. The target's other kernels are `avx2`'s.
//!
//! `unsafe` here is the intrinsics (callable because the features are enabled for the whole
//! crate) and unaligned loads through raw pointers, each of the length the caller promises.
// AVX-VNNI's intrinsics are stable since Rust 1.89; only builds that enable AVX-VNNI compile
// this module (the crate's minimum, 1.85, covers everything else).
#![allow(clippy::incompatible_msrv)]

use crate::avx2::requant16;
use crate::scalar::{ConvShape, DwGeometry, Requant, interior};
use crate::vnni::{self, Lanes16};
use core::arch::x86_64::*;

/// Rows of the quantized GEMM's register tile (12 of the 16 vector registers accumulate).
pub const QGEMM_MR: usize = 6;
/// Columns of the quantized GEMM's register tile: two vectors of 8 int32 sums.
pub const QGEMM_NR: usize = 16;

/// Sixteen int32 lanes in two 256-bit vectors.
#[derive(Clone, Copy)]
pub(crate) struct Ymm2([__m256i; 2]);

impl Lanes16 for Ymm2 {
    type F = [__m256; 2];

    #[inline(always)]
    unsafe fn load(p: *const u8) -> Self {
        // SAFETY: 64 readable bytes (the caller's promise).
        unsafe {
            Ymm2([
                _mm256_loadu_si256(p as *const __m256i),
                _mm256_loadu_si256(p.add(32) as *const __m256i),
            ])
        }
    }

    #[inline(always)]
    unsafe fn load_f32(p: *const f32) -> [__m256; 2] {
        // SAFETY: 16 readable floats (the caller's promise).
        unsafe { [_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8))] }
    }

    #[inline(always)]
    fn splat(v: i32) -> Self {
        // SAFETY: arithmetic on registers, with the features the build enables.
        let v = unsafe { _mm256_set1_epi32(v) };
        Ymm2([v, v])
    }

    #[inline(always)]
    fn halves(lo: __m256i, hi: __m256i) -> Self {
        Ymm2([lo, hi])
    }

    #[inline(always)]
    fn dot(self, x: Self, w: Self) -> Self {
        // SAFETY: as above.
        unsafe {
            Ymm2([
                _mm256_dpbusd_avx_epi32(self.0[0], x.0[0], w.0[0]),
                _mm256_dpbusd_avx_epi32(self.0[1], x.0[1], w.0[1]),
            ])
        }
    }

    #[inline(always)]
    fn sub_times(self, a: Self, k: i32) -> Self {
        // SAFETY: as above.
        unsafe {
            let k = _mm256_set1_epi32(k);
            Ymm2([
                _mm256_sub_epi32(self.0[0], _mm256_mullo_epi32(a.0[0], k)),
                _mm256_sub_epi32(self.0[1], _mm256_mullo_epi32(a.0[1], k)),
            ])
        }
    }

    #[inline(always)]
    fn requant(self, s: [__m256; 2], q: Requant) -> __m128i {
        requant16(self.0, s, q)
    }
}

qgemm_kernel! {
    nr = QGEMM_NR, mr = QGEMM_MR, kr = 4, w = i8;
    /// `y[m][n] = requantize(b[n] + sum_k x[m][k] * w[k][n], s[n])` with int8 weights packed
    /// in panels of 16 columns and groups of four k (`w[panel][k / 4][column][k % 4]`, zero
    /// padded, as `avx512vnni`'s): [`vnni::gemm`] with a 6 x 16 tile, two 256-bit `vpdpbusd`
    /// per tile row and group of four k.
    #[inline(never)]
    pub fn u8_gemm_avxvnni(x, w, b, s, y, q, rows, panels) {
        vnni::gemm::<Ymm2, QGEMM_MR, K, N>(x, w, b, s, y, q, NB, rows, panels);
    }
}

qdwconv_kernel! {
    w = i8, wn = C.div_ceil(32) * KH.div_ceil(4) * KW * 128;
    /// Quantized depthwise conv, exact, 32 channels at a time ([`vnni::dwconv`]): each input
    /// column's four kernel rows interleaved into four 256-bit vectors of the channels' four
    /// taps, one `vpdpbusd` per vector and kernel column (`QDwLayout::Quads32`).
    #[inline(never)]
    pub fn u8_dwconv_avxvnni(x, xz, w, b, s, y, q, rows) {
        let (first, last) = interior(PL, SW, W, KW, OW);
        let g = DwGeometry { w: W, c: C, sh: SH, sw: SW, pt: PT, pl: PL, h: H, ow: OW, first, last, xz };
        vnni::dwconv::<Ymm2, KH, KW, C, SW>(x, w, b, s, y, q, g, rows);
    }
}

/// Output pixels [`u8_conv_avxvnni`] computes together: six pixels by one block of 16
/// channels keep 12 accumulators in AVX2's 16 registers (v1 1.0-224's stem on an Intel Xeon,
/// family 6 model 167: 114-132 us, against 186 for four pixels by two blocks, whose 16
/// accumulators spill, and 125-134 for three by two).
const QCONV_PX: usize = 6;
/// Blocks of 16 output channels [`u8_conv_avxvnni`] computes together.
const QCONV_NB: usize = 1;

qconv_kernel! {
    w = i8, wn = CO.next_multiple_of(16) * CI * KH * KW.div_ceil(4) * 4;
    /// Quantized dense 2-D convolution (a quantized model's stem) with `vpdpbusd`, exact
    /// ([`vnni::conv`], `QConvLayout::Quads16`), `QCONV_PX` pixels by `QCONV_NB` blocks of
    /// 16 output channels at a time.
    #[inline(never)]
    pub fn u8_conv_avxvnni(x, xz, w, b, s, y, q, rows) {
        let (first, last) = interior(PL, SW, W, KW, OW);
        let shape = ConvShape { h: H, w: W, ci: CI, kh: KH, kw: KW, sh: SH, sw: SW, pt: PT, pl: PL, xsc: XSC, xsy: XSY, xsx: XSX, xn: XN };
        vnni::conv::<Ymm2, QCONV_PX, QCONV_NB>(x, xz, w, b, s, y, q, shape, [first, last, CO, OW], rows);
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    #[test]
    fn the_cpu_has_avx_vnni() {
        assert!(std::is_x86_feature_detected!("avxvnni"));
    }

    crate::conformance::qgemm_cases! {
        mnetc_targets::AVXVNNI,
        crate::avxvnni::u8_gemm_avxvnni
    }

    /// The dwconv reads the channels in the order the target packs them.
    #[test]
    fn the_channel_order_is_the_packing_order() {
        assert_eq!(crate::vnni::QUADS32_ORDER, mnetc_targets::QUADS32_ORDER);
    }

    crate::conformance::qdw_cases! {
        mnetc_targets::AVXVNNI,
        crate::avxvnni::u8_dwconv_avxvnni
    }

    crate::conformance::qconv_cases! {
        mnetc_targets::AVXVNNI,
        crate::avxvnni::u8_conv_avxvnni
    }

    /// The cases ran exactly the kernels the target lists from this module: the quantized GEMM,
    /// depthwise and dense conv.
    #[test]
    fn the_kernels_tested_are_the_kernels_listed() {
        use mnetc_targets::Kernel;
        let qgemm = crate::conformance::qgemm_case!(
            crate::avxvnni::u8_gemm_avxvnni,
            mnetc_targets::AVXVNNI,
            1,
            1,
            1
        );
        let qdw = crate::conformance::qdw_case!(
            crate::avxvnni::u8_dwconv_avxvnni,
            mnetc_targets::AVXVNNI,
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
            crate::avxvnni::u8_conv_avxvnni,
            mnetc_targets::AVXVNNI,
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
            &mnetc_targets::AVXVNNI,
            &[
                (Kernel::QGemm, qgemm),
                (Kernel::QDwConv, qdw),
                (Kernel::QConv, qconv),
            ],
        );
    }
}
