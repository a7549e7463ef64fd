//! The const-generic signature and the compile-time size checks of each kernel family, written
//! once: every target's kernel of a family is declared through its macro, so the scalar twin
//! and the SIMD kernels cannot drift apart, and the compiler (which emits one call shape per
//! family, `mnetc::program`) selects among them by path alone.
//!
//! Each macro takes the target's packing constant where the family has one (the GEMM panel
//! width, the multiple dense convs pad their output channels to; 1 for none), the function's
//! attributes, name and argument names, and the body.

/// GEMM `[M][K] x [K][N]` with bias and clamp: weights packed in panels of `NR` columns
/// (`[NP/NR][K][NR]`, zero padded; `NR` 1 is plain `[K][N]`), visited in blocks of `NB` panels.
macro_rules! gemm_kernel {
    (nr = $nr:expr; $(#[$m:meta])* $vis:vis fn $name:ident($x:ident, $w:ident, $b:ident, $y:ident, $min:ident, $max:ident) $body:block) => {
        $(#[$m])*
        // (`NP % 1` for targets without panels.)
        #[allow(clippy::too_many_arguments, clippy::modulo_one)]
        $vis fn $name<
            const M: usize,
            const K: usize,
            const N: usize,
            const NP: usize,
            const NB: usize,
            const XN: usize,
            const WN: usize,
            const YN: usize,
        >(
            $x: &[f32; XN],
            $w: &[f32; WN],
            $b: &[f32; NP],
            $y: &mut [f32; YN],
            $min: f32,
            $max: f32,
        ) {
            const {
                assert!(XN == M * K && YN == M * N && NP % $nr == 0 && NP >= N && NP < N + $nr);
                assert!(WN == NP * K && NB > 0 && K > 0);
            };
            $body
        }
    };
}

/// Dense 2-D convolution, NHWC out, reading the input through its channel, row and column
/// strides (`XSC`, `XSY`, `XSX`: any layout); weights `[KH][KW][CI][COP]` with the output
/// channels padded to `COP`, a multiple of the target's `cop` (1: no padding required).
macro_rules! conv_kernel {
    (cop = $cop:expr; $(#[$m:meta])* $vis:vis fn $name:ident($x:ident, $w:ident, $b:ident, $y:ident, $min:ident, $max:ident) $body:block) => {
        $(#[$m])*
        // (`COP % 1` for targets that do not pad.)
        #[allow(clippy::too_many_arguments, clippy::modulo_one)]
        $vis fn $name<
            const H: usize,
            const W: usize,
            const CI: usize,
            const CO: usize,
            const COP: usize,
            const KH: usize,
            const KW: usize,
            const SH: usize,
            const SW: usize,
            const PT: usize,
            const PL: usize,
            const OH: usize,
            const OW: usize,
            const XSC: usize,
            const XSY: usize,
            const XSX: usize,
            const XN: usize,
            const WN: usize,
            const YN: usize,
        >(
            $x: &[f32; XN],
            $w: &[f32; WN],
            $b: &[f32; COP],
            $y: &mut [f32; YN],
            $min: f32,
            $max: f32,
        ) {
            const {
                assert!(XN == H * W * CI && WN == KH * KW * CI * COP && YN == OH * OW * CO);
                assert!(COP % $cop == 0 && COP >= CO && ($cop == 1 || COP < CO + $cop) && CI > 0);
                assert!(
                    (H - 1) * XSY + (W - 1) * XSX + (CI - 1) * XSC < XN,
                    "input strides out of bounds"
                );
            };
            $body
        }
    };
}

/// Depthwise 2-D convolution, NHWC in and out, weights `[KH][KW][C]`.
macro_rules! dwconv_kernel {
    ($(#[$m:meta])* $vis:vis fn $name:ident($x:ident, $w:ident, $b:ident, $y:ident, $min:ident, $max:ident) $body:block) => {
        $(#[$m])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name<
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
            const XN: usize,
            const WN: usize,
            const YN: usize,
        >(
            $x: &[f32; XN],
            $w: &[f32; WN],
            $b: &[f32; C],
            $y: &mut [f32; YN],
            $min: f32,
            $max: f32,
        ) {
            const { assert!(XN == H * W * C && WN == KH * KW * C && YN == OH * OW * C) };
            $body
        }
    };
}

/// Global average pooling of `HW` pixels of `C` channels (NHWC).
macro_rules! gavgpool_kernel {
    ($(#[$m:meta])* $vis:vis fn $name:ident($x:ident, $y:ident) $body:block) => {
        $(#[$m])*
        $vis fn $name<const HW: usize, const C: usize, const XN: usize>(
            $x: &[f32; XN],
            $y: &mut [f32; C],
        ) {
            const { assert!(XN == HW * C && HW > 0) };
            $body
        }
    };
}
