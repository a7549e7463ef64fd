//! The const-generic signature and the compile-time size checks of each kernel family, written
//! once: every target's kernel of a family is declared through its macro, so the scalar twin
//! and the SIMD kernels cannot drift apart, and the compiler (which emits one call shape per
//! family, `mnetc::program`) selects among them by path alone.
//!
//! Each macro takes the target's packing constant where the family has one (the GEMM panel
//! width, the multiple dense convs pad their output channels to; 1 for none), the function's
//! attributes, name and argument names, and the body.
//!
//! The GEMM and the convolutions split their work into tasks (`pool::Parallel`) along their
//! output: the macro runs the body once per task with the task's part (output rows; for the
//! GEMM, rows in whole register tiles times a range of panels) and with the output as a
//! `pool::TaskOut`, through which the body writes only that part. The number of tasks is a
//! const generic the compiler chooses per layer, the same whatever runs them, and no part
//! shares a sum with another, so the output has the same bits on any number of threads.

/// GEMM `[M][K] x [K][N]` with bias and epilogue (hard-swish if `HS`, then the clamp to
/// `[min, max]`, as [`crate::scalar::act`]): weights packed in panels of `NR` columns
/// (`[NP/NR][K][NR]`, zero padded; `NR` 1 is plain `[K][N]`), visited in blocks of `NB` panels.
/// `MT * NT` tasks: `MT` groups of rows (whole tiles of the target's `MR` rows), times `NT`
/// groups of panels; the body sees its task's `rows` and `panels`.
macro_rules! gemm_kernel {
    (nr = $nr:expr, mr = $mr:expr; $(#[$m:meta])* $vis:vis fn $name:ident($x:ident, $w:ident, $b:ident, $y:ident, $min:ident, $max:ident, $rows:ident, $panels:ident) $body:block) => {
        $(#[$m])*
        // (`NP % 1` for targets without panels.)
        #[allow(clippy::too_many_arguments, clippy::modulo_one)]
        $vis fn $name<
            const M: usize,
            const K: usize,
            const N: usize,
            const NP: usize,
            const NB: usize,
            const MT: usize,
            const NT: usize,
            const HS: bool,
            const XN: usize,
            const WN: usize,
            const YN: usize,
        >(
            $x: &[f32; XN],
            $w: &[f32; WN],
            $b: &[f32; NP],
            y: &mut [f32; YN],
            $min: f32,
            $max: f32,
            pool: &dyn $crate::pool::Parallel,
        ) {
            const {
                assert!(XN == M * K && YN == M * N && NP % $nr == 0 && NP >= N && NP < N + $nr);
                assert!(WN == NP * K && NB > 0 && K > 0);
                assert!(
                    MT > 0 && NT > 0 && MT <= M.div_ceil($mr) && NT <= NP / $nr,
                    "a GEMM task without rows or panels"
                );
            };
            let $y = $crate::pool::TaskOut::new(y);
            $crate::pool::tasks(pool, MT * NT, |task| {
                let tiles = $crate::pool::share(M.div_ceil($mr), MT, task / NT);
                let $rows = tiles.start * $mr..(tiles.end * $mr).min(M);
                let $panels = $crate::pool::share(NP / $nr, NT, task % NT);
                $body
            });
        }
    };
}

/// Dense 2-D convolution, NHWC out, reading the input through its channel, row and column
/// strides (`XSC`, `XSY`, `XSX`: any layout); weights `[KH][KW][CI][COP]` with the output
/// channels padded to `COP`, a multiple of the target's `cop` (1: no padding required). With
/// `PV` the padding is a value rather than zero: the weights are followed by each tap's
/// contribution from it, `[KH][KW][COP]` (the pad value times the tap's weights summed over
/// the input channels; `scalar::pad_init` adds them). `T` tasks of output rows; the body sees
/// its task's `rows`.
macro_rules! conv_kernel {
    (cop = $cop:expr; $(#[$m:meta])* $vis:vis fn $name:ident($x:ident, $w:ident, $b:ident, $y:ident, $min:ident, $max:ident, $rows:ident) $body:block) => {
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
            const T: usize,
            const HS: bool,
            const PV: bool,
            const XN: usize,
            const WN: usize,
            const YN: usize,
        >(
            $x: &[f32; XN],
            $w: &[f32; WN],
            $b: &[f32; COP],
            y: &mut [f32; YN],
            $min: f32,
            $max: f32,
            pool: &dyn $crate::pool::Parallel,
        ) {
            const {
                assert!(XN == H * W * CI && YN == OH * OW * CO);
                assert!(WN == KH * KW * CI * COP + if PV { KH * KW * COP } else { 0 });
                assert!(COP % $cop == 0 && COP >= CO && ($cop == 1 || COP < CO + $cop) && CI > 0);
                assert!(
                    (H - 1) * XSY + (W - 1) * XSX + (CI - 1) * XSC < XN,
                    "input strides out of bounds"
                );
                assert!(T > 0 && T <= OH, "a conv task without output rows");
            };
            let $y = $crate::pool::TaskOut::new(y);
            $crate::pool::tasks(pool, T, |task| {
                let $rows = $crate::pool::share(OH, T, task);
                $body
            });
        }
    };
}

/// Depthwise 2-D convolution, NHWC in and out, weights `[KH][KW][C]`. `T` tasks of output
/// rows; the body sees its task's `rows`.
macro_rules! dwconv_kernel {
    ($(#[$m:meta])* $vis:vis fn $name:ident($x:ident, $w:ident, $b:ident, $y:ident, $min:ident, $max:ident, $rows:ident) $body:block) => {
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
            const T: usize,
            const HS: bool,
            const XN: usize,
            const WN: usize,
            const YN: usize,
        >(
            $x: &[f32; XN],
            $w: &[f32; WN],
            $b: &[f32; C],
            y: &mut [f32; YN],
            $min: f32,
            $max: f32,
            pool: &dyn $crate::pool::Parallel,
        ) {
            const {
                assert!(XN == H * W * C && WN == KH * KW * C && YN == OH * OW * C);
                assert!(T > 0 && T <= OH, "a depthwise task without output rows");
            };
            let $y = $crate::pool::TaskOut::new(y);
            $crate::pool::tasks(pool, T, |task| {
                let $rows = $crate::pool::share(OH, T, task);
                $body
            });
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

/// Quantized GEMM `[M][K] x [K][N]`: uint8 activations (zero point folded into the bias by the
/// compiler: `b[n] = bias[n] - zx * sum_k w[k][n]`), weights of type `Wt` (int8, or int16 where a
/// target widens them at compile time) packed in panels of `NR` columns and groups of `KR`
/// consecutive k (`[NP/NR][KP/KR][NR][KR]`, `KP` = `K` rounded up to `KR`, zero padded; the
/// scalar kernel's `NR = KR = 1` is `[N][K]`),
/// int32 bias and f32 requantization scale per column, uint8 out through
/// `scalar::requantize`. Tasks as `gemm_kernel!`'s.
macro_rules! qgemm_kernel {
    (nr = $nr:expr, mr = $mr:expr, kr = $kr:expr, w = $wt:ty; $(#[$m:meta])* $vis:vis fn $name:ident($x:ident, $w:ident, $b:ident, $s:ident, $y:ident, $q:ident, $rows:ident, $panels:ident) $body:block) => {
        $(#[$m])*
        #[allow(clippy::too_many_arguments, clippy::modulo_one)]
        $vis fn $name<
            const M: usize,
            const K: usize,
            const N: usize,
            const NP: usize,
            const NB: usize,
            const MT: usize,
            const NT: usize,
            const XN: usize,
            const WN: usize,
            const YN: usize,
        >(
            $x: &[u8; XN],
            $w: &[$wt; WN],
            $b: &[i32; NP],
            $s: &[f32; NP],
            y: &mut [u8; YN],
            $q: $crate::scalar::Requant,
            pool: &dyn $crate::pool::Parallel,
        ) {
            const {
                assert!(XN == M * K && YN == M * N && NP % $nr == 0 && NP >= N && NP < N + $nr);
                assert!(WN == NP * K.div_ceil($kr) * $kr && NB > 0 && K > 0);
                assert!(
                    MT > 0 && NT > 0 && MT <= M.div_ceil($mr) && NT <= NP / $nr,
                    "a GEMM task without rows or panels"
                );
            };
            let $y = $crate::pool::TaskOut::new(y);
            $crate::pool::tasks(pool, MT * NT, |task| {
                let tiles = $crate::pool::share(M.div_ceil($mr), MT, task / NT);
                let $rows = tiles.start * $mr..(tiles.end * $mr).min(M);
                let $panels = $crate::pool::share(NP / $nr, NT, task % NT);
                $body
            });
        }
    };
}

/// Quantized dense 2-D convolution (the stem of a quantized model): uint8 input in any layout
/// (strides as `conv_kernel!`'s), its zero point `xz` (padding is the real zero, so it adds
/// nothing: sums of `(x - xz) * w` over the taps inside), weights of type `Wt` packed as the
/// target's `QConvLayout` says (`wn` of them; the scalar `[KH][KW][CI][CO]` int8), int32 bias
/// and f32 scale per output channel, uint8 NHWC out. `T` tasks of output rows.
macro_rules! qconv_kernel {
    (w = $wt:ty, wn = $wn:expr; $(#[$m:meta])* $vis:vis fn $name:ident($x:ident, $xz:ident, $w:ident, $b:ident, $s:ident, $y:ident, $q:ident, $rows:ident) $body:block) => {
        $(#[$m])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name<
            const H: usize,
            const W: usize,
            const CI: usize,
            const CO: usize,
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
            const T: usize,
            const XN: usize,
            const WN: usize,
            const YN: usize,
        >(
            $x: &[u8; XN],
            $xz: i32,
            $w: &[$wt; WN],
            $b: &[i32; CO],
            $s: &[f32; CO],
            y: &mut [u8; YN],
            $q: $crate::scalar::Requant,
            pool: &dyn $crate::pool::Parallel,
        ) {
            const {
                assert!(XN == H * W * CI && WN == $wn && YN == OH * OW * CO);
                assert!(
                    (H - 1) * XSY + (W - 1) * XSX + (CI - 1) * XSC < XN,
                    "input strides out of bounds"
                );
                assert!(T > 0 && T <= OH, "a conv task without output rows");
            };
            let $y = $crate::pool::TaskOut::new(y);
            $crate::pool::tasks(pool, T, |task| {
                let $rows = $crate::pool::share(OH, T, task);
                $body
            });
        }
    };
}

/// Quantized depthwise 2-D convolution, NHWC uint8 in and out, the input's zero point `xz`
/// (padding adds nothing, as `qconv_kernel!`'s), weights of type `Wt` packed as the target's
/// `QDwLayout` says (`wn`: their number, from `KH`, `KW` and `C`; the scalar `[KH][KW][C]`),
/// int32 bias and f32 scale per channel. `T` tasks of output rows.
macro_rules! qdwconv_kernel {
    (w = $wt:ty, wn = $wn:expr; $(#[$m:meta])* $vis:vis fn $name:ident($x:ident, $xz:ident, $w:ident, $b:ident, $s:ident, $y:ident, $q:ident, $rows:ident) $body:block) => {
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
            const T: usize,
            const XN: usize,
            const WN: usize,
            const YN: usize,
        >(
            $x: &[u8; XN],
            $xz: i32,
            $w: &[$wt; WN],
            $b: &[i32; C],
            $s: &[f32; C],
            y: &mut [u8; YN],
            $q: $crate::scalar::Requant,
            pool: &dyn $crate::pool::Parallel,
        ) {
            const {
                assert!(XN == H * W * C && WN == $wn && YN == OH * OW * C);
                assert!(T > 0 && T <= OH, "a depthwise task without output rows");
            };
            let $y = $crate::pool::TaskOut::new(y);
            $crate::pool::tasks(pool, T, |task| {
                let $rows = $crate::pool::share(OH, T, task);
                $body
            });
        }
    };
}
