//! The targets mnetc generates code for, as data: what a build needs (architecture, Rust
//! triples, target features), which runtime module holds their kernels, and the shapes those
//! kernels want their weights packed in, how `native` and `mobilenet!(target = auto)` pick
//! them, how code for them runs on another machine (QEMU) and which app targets `mnetc package`
//! builds with them. The compiler, the CLI, the macro and the tests read these instead of
//! spelling target facts out in their code, so a new target is one more entry in [`ALL`] plus
//! its kernel module (see docs/ARCHITECTURE.md).
#![no_std]

/// One code generation target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetDesc {
    /// The `--target` name.
    pub name: &'static str,
    /// `target_arch` the code needs, or `None` for any.
    pub arch: Option<&'static str>,
    /// Rust target features the build must enable (checked by a `compile_error!` in the code).
    pub features: &'static [&'static str],
    /// `--cfg` names the build must set, for extensions stable Rust cannot name as target
    /// features (RISC-V V): the user's statement that the CPU has them. Generated code checks
    /// each through `mnetc_runtime`'s constant of the same name in upper case (the runtime
    /// declares the cfg, so the user's crate never names an unknown cfg).
    pub cfgs: &'static [&'static str],
    /// Rust target triples the generated code is meant for (documentation and cross builds).
    pub triples: &'static [&'static str],
    /// Module of `mnetc-runtime` with the target's kernels.
    pub runtime_module: &'static str,
    /// Vector width in bits (0 for scalar code and for vector-length-agnostic RVV).
    pub vector_bits: u32,
    /// GEMM register tile: rows, and columns per packed weight panel (1 means no panels).
    pub gemm_tile: [usize; 2],
    /// Output channels of dense convs are padded to a multiple of this in the packing.
    pub conv_channel_multiple: usize,
    /// Bytes of packed GEMM weights visited as one block (the panels that stay in L2 while
    /// every row tile passes over them).
    pub gemm_block_bytes: usize,
    /// The quantized GEMM's register tile and packing, when the target lists its own
    /// [`Kernel::QGemm`] (others use [`GENERIC`]'s): rows, columns per panel, consecutive k
    /// per column in the packing.
    pub qgemm: QGemmLayout,
    /// The quantized depthwise conv's weight packing, when the target lists its own
    /// [`Kernel::QDwConv`] (others use [`GENERIC`]'s).
    pub qdw: QDwLayout,
    /// The quantized dense conv's weight packing, when the target lists its own
    /// [`Kernel::QConv`] (others use [`GENERIC`]'s).
    pub qconv: QConvLayout,
    /// The target's own kernels, as paths inside `mnetc-runtime`; kinds not listed use
    /// [`GENERIC`]'s. Every kernel of a kind has the same const-generic signature on every
    /// target, so choosing one is choosing a path.
    pub kernels: &'static [(Kernel, &'static str)],
    /// `cfg` predicate (Rust syntax) under which `mobilenet!(target = auto)` uses this target's
    /// code, or `None` when auto never picks it. [`GENERIC`] is auto's fallback, under
    /// `not(any(...))` of the others.
    pub auto_cfg: Option<&'static str>,
    /// Whether `--target native` picks this target on a host of its `arch` that detects every
    /// one of its `features` at run time (of several, the one with the most features; else
    /// [`GENERIC`]).
    pub native: bool,
    /// How code for this target runs on a machine of another architecture, if it can.
    pub emulation: Option<Emulation>,
    /// App targets (`mnetc package`) whose code uses this target unless `--target` says
    /// otherwise.
    pub package_triples: &'static [&'static str],
}

/// How the quantized GEMM of a target reads its weights: panels of `nr` columns, each column's
/// int8 weights in groups of `kr` consecutive k (`[N/nr][K/kr][nr][kr]`, zero padded); `mr`
/// rows per register tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QGemmLayout {
    pub mr: usize,
    pub nr: usize,
    pub kr: usize,
    /// The kernel multiplies `x - 128` (each uint8 input with its top bit flipped, read as
    /// int8: signed-by-signed dot products such as aarch64's `sdot`) rather than `x`, so the
    /// bias it is given holds `128 * sum_k w[k][n]` more (the compiler adds it when it folds
    /// the input's zero point in). The sum is the same modulo 2^32, so exact.
    pub signed_x: bool,
}

impl QGemmLayout {
    /// Plain `[K][N]` int8 (the scalar kernel's).
    pub const PLAIN: QGemmLayout = QGemmLayout {
        mr: 1,
        nr: 1,
        kr: 1,
        signed_x: false,
    };

    /// The input zero point the compiler folds into the bias for this layout:
    /// `b[n] = bias[n] - folded_zero(xz) * sum_k w[k][n]`.
    pub const fn folded_zero(self, xz: i32) -> i32 {
        if self.signed_x { xz - 128 } else { xz }
    }
}

/// How the quantized depthwise conv of a target reads its weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QDwLayout {
    /// `[KH][KW][C]` int8 (the scalar kernel's).
    Plain,
    /// int16, in blocks of 16 channels (zero padded); in each block, each kernel row's taps in
    /// pairs `(kx, kx + 1)` (an odd last tap paired with a zero weight), row after row; each
    /// pair as the two vectors `vpmaddwd` takes after `vpunpck{l,h}wd` of two horizontally
    /// adjacent inputs: channels 0-3 and 8-11, then 4-7 and 12-15, each channel's two taps
    /// side by side (`avx2`).
    RowPairs16,
    /// int8, in blocks of 16 channels (zero padded); in each block the kernel rows in groups
    /// of four (the last group zero padded), and per group and kernel column the 16 channels'
    /// four taps side by side, `[C/16][KH/4][KW][16][4]`: the vectors `sdot` multiplies by
    /// four input rows transposed to the same order (`neondot`).
    Quads16,
    /// int8, in blocks of 32 channels (zero padded); per group of four kernel rows (the last
    /// group zero padded) and kernel column, the 32 channels' four taps side by side,
    /// `[C/32][KH/4][KW][32][4]`, the channels in the order AVX2's byte then word unpacks of
    /// four rows of 32 inputs leave them: 0-3, 16-19, 8-11, 24-27, then 4-7, 20-23, 12-15,
    /// 28-31, two 512-bit vectors for `vpdpbusd` (`avx512vnni`), or four 256-bit ones
    /// (`avxvnni`).
    Quads32,
}

/// Where each group of four channels of a 32-channel block goes in [`QDwLayout::Quads32`]
/// (in groups of four): the bit reversal of its three bits, its own inverse.
pub const QUADS32_ORDER: [usize; 8] = [0, 4, 2, 6, 1, 5, 3, 7];

impl QDwLayout {
    /// Elements of the packed weights of a `[kh, kw]` kernel over `c` channels.
    pub const fn len(self, kernel: [usize; 2], c: usize) -> usize {
        let [kh, kw] = kernel;
        match self {
            QDwLayout::Plain => kh * kw * c,
            QDwLayout::RowPairs16 => c.div_ceil(16) * kh * kw.div_ceil(2) * 64,
            QDwLayout::Quads16 => c.div_ceil(16) * kh.div_ceil(4) * kw * 64,
            QDwLayout::Quads32 => c.div_ceil(32) * kh.div_ceil(4) * kw * 128,
        }
    }

    /// Where the weight of tap `[ky, kx]` of a `kernel` for channel `c` of `channels` goes.
    pub const fn index(
        self,
        tap: [usize; 2],
        c: usize,
        kernel: [usize; 2],
        channels: usize,
    ) -> usize {
        let ([ky, kx], [kh, kw]) = (tap, kernel);
        match self {
            QDwLayout::Plain => (ky * kw + kx) * channels + c,
            QDwLayout::RowPairs16 => {
                let (block, j) = (c / 16, c % 16);
                let pair = ky * kw.div_ceil(2) + kx / 2;
                let slot = kx % 2;
                let (half, lane) = ((j / 4) % 2, j / 8);
                ((block * kh * kw.div_ceil(2) + pair) * 2 + half) * 32
                    + (lane * 4 + j % 4) * 2
                    + slot
            }
            QDwLayout::Quads16 => {
                let (block, j) = (c / 16, c % 16);
                ((block * kh.div_ceil(4) + ky / 4) * kw + kx) * 64 + j * 4 + ky % 4
            }
            QDwLayout::Quads32 => {
                let (block, j) = (c / 32, c % 32);
                ((block * kh.div_ceil(4) + ky / 4) * kw + kx) * 128
                    + QUADS32_ORDER[j / 4] * 16
                    + j % 4 * 4
                    + ky % 4
            }
        }
    }
}

/// How the quantized dense conv (the stem) of a target reads its weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QConvLayout {
    /// `[KH][KW][CI][CO]` int8 (the scalar kernel's).
    Plain,
    /// int16, the `KH * KW * CI` taps in pairs (the last paired with a zero tap), each pair
    /// as `CO` rounded up to 8 columns of the two taps' weights side by side, zero padded:
    /// `[K/2][COP][2]` (`avx2`'s `vpmaddwd` of a broadcast input pair).
    Pairs8,
    /// int16, `[K][COP]`, `CO` rounded up to 8 columns, zero padded (`neon`'s `smlal` by a
    /// broadcast input).
    Wide8,
    /// int8, in blocks of 16 output channels (zero padded), then per input channel, kernel row
    /// and group of four kernel columns (the last group zero padded) the 16 channels' four
    /// taps side by side, `[COP/16][CI][KH][KW/4][16][4]` (`avx512vnni`'s `vpdpbusd` of four
    /// horizontally adjacent inputs of one row and channel, broadcast; `neondot`'s `sdot` by
    /// element of four pixels' four inputs).
    Quads16,
}

impl QConvLayout {
    /// Elements of the packed weights of a `[KH, KW, CI]` window and `co` output channels.
    pub const fn len(self, kernel: [usize; 3], co: usize) -> usize {
        let [kh, kw, ci] = kernel;
        let k = kh * kw * ci;
        match self {
            QConvLayout::Plain => k * co,
            QConvLayout::Pairs8 => k.div_ceil(2) * 2 * co.next_multiple_of(8),
            QConvLayout::Wide8 => k * co.next_multiple_of(8),
            QConvLayout::Quads16 => co.next_multiple_of(16) * ci * kh * kw.div_ceil(4) * 4,
        }
    }

    /// Where the weight of tap `[ky, kx, ci]` of a `[KH, KW, CI]` window for output channel `o`
    /// of `co` goes.
    pub const fn index(self, tap: [usize; 3], o: usize, kernel: [usize; 3], co: usize) -> usize {
        let ([ky, kx, i], [kh, kw, ci]) = (tap, kernel);
        let t = (ky * kw + kx) * ci + i;
        match self {
            QConvLayout::Plain => t * co + o,
            QConvLayout::Pairs8 => ((t / 2) * co.next_multiple_of(8) + o) * 2 + t % 2,
            QConvLayout::Wide8 => t * co.next_multiple_of(8) + o,
            QConvLayout::Quads16 => {
                ((((o / 16) * ci + i) * kh + ky) * kw.div_ceil(4) + kx / 4) * 64
                    + o % 16 * 4
                    + kx % 4
            }
        }
    }
}

/// How code for a target runs here when the CPU is another: a Linux binary for `triple`,
/// linked by Debian's cross compiler, under QEMU user-mode emulation with Debian's cross C
/// library; or ([`Engine::Wasi`]) a WASI module run by Node.js's WebAssembly engine.
/// `.cargo/config.toml` repeats these for `cargo test --target` (a test checks it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Emulation {
    pub triple: &'static str,
    /// The linker, or `""` where Rust links by itself (`rust-lld` for WebAssembly).
    pub linker: &'static str,
    /// The program that runs the binary: QEMU user mode, or `node`.
    pub program: &'static str,
    /// How `program` runs it.
    pub engine: Engine,
    /// QEMU's `-L`: the target's C library (`""` for WASI).
    pub sysroot: &'static str,
    /// QEMU's `-cpu`, `{vlen}` standing for the vector length in bits.
    pub cpu: Option<&'static str>,
    /// Vector lengths, in bits, the tests run the emulated CPU at (`{vlen}`); empty if none.
    pub vlens: &'static [u32],
    /// Debian packages that provide the linker and QEMU (or Node.js).
    pub packages: &'static str,
    /// Whether the binary can start threads there (WASI preview 1 cannot).
    pub threads: bool,
}

/// What runs an emulated target's binaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// `qemu -L sysroot [-cpu cpu] binary args...`.
    Qemu,
    /// `node --experimental-wasi-unstable-preview1 wasi-run.mjs module.wasm args...`: mnetc's
    /// WASI host (the CLI carries it, `cli/wasi-run.mjs`, also `.cargo/config.toml`'s runner),
    /// with the file system's root preopened.
    Wasi,
}

/// The WASI host that runs `wasm32-wasip1` binaries under Node.js: `wasi-run.mjs MODULE ARGS`.
/// Written out by `mnetc verify` and named by `.cargo/config.toml`.
pub const WASI_RUNNER: &str = include_str!("../wasi-run.mjs");

/// The kernels of `mnetc-runtime`, one per kind of layer. This list drives kernel selection in
/// the compiler, the per-kernel tests of every SIMD module (each checks that it tests exactly
/// the functions its target lists here) and the labels of `mnetc bench --per-layer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Dense 2-D convolution (the stem), from any input layout, NHWC out, fused clamp.
    Conv,
    /// Depthwise 2-D convolution, NHWC, fused clamp.
    DwConv,
    /// GEMM with packed weights: pointwise convs and fully connected layers, fused clamp.
    Gemm,
    /// Global average pooling.
    GAvgPool,
    /// Windowed average or max pooling.
    Pool,
    Softmax,
    /// A standalone clamp (an activation that could not be fused).
    Clamp,
    /// Mean over rows (ReduceMean over non-spatial axes).
    Mean,
    /// A constant fill.
    Fill,
    /// Broadcast elementwise binary operation (residual adds).
    Binary,
    /// Strided copy (layout changes, the output).
    Copy,
    /// Quantized (uint8 x int8) GEMM with packed weights and requantization: pointwise convs and
    /// fully connected layers of quantized models.
    QGemm,
    /// Quantized depthwise 2-D convolution, NHWC.
    QDwConv,
    /// Quantized dense 2-D convolution (the stem), from any input layout.
    QConv,
    /// Quantized global average pooling.
    QGAvgPool,
    /// Quantized addition (residual adds).
    QAdd,
    /// Float to uint8 (QuantizeLinear).
    Quantize,
    /// Uint8 to float (DequantizeLinear).
    Dequantize,
    /// A standalone hard-sigmoid, `max(0, min(1, alpha * x + beta))`.
    HardSigmoid,
    /// A standalone hard-swish, `x * max(0, min(1, x / 6 + 1 / 2))`.
    HardSwish,
    /// A GEMM's packed weights with each input channel's row scaled (a squeeze-and-excite gate
    /// moved from the feature map into the following pointwise conv).
    ScaleRows,
}

impl Kernel {
    pub const ALL: [Kernel; 21] = [
        Kernel::Conv,
        Kernel::DwConv,
        Kernel::Gemm,
        Kernel::GAvgPool,
        Kernel::Pool,
        Kernel::Softmax,
        Kernel::Clamp,
        Kernel::Mean,
        Kernel::Fill,
        Kernel::Binary,
        Kernel::Copy,
        Kernel::QGemm,
        Kernel::QDwConv,
        Kernel::QConv,
        Kernel::QGAvgPool,
        Kernel::QAdd,
        Kernel::Quantize,
        Kernel::Dequantize,
        Kernel::HardSigmoid,
        Kernel::HardSwish,
        Kernel::ScaleRows,
    ];

    /// A short name for profiles: `conv`, `dwconv`, `gemm`, ...
    pub const fn label(self) -> &'static str {
        match self {
            Kernel::Conv => "conv",
            Kernel::DwConv => "dwconv",
            Kernel::Gemm => "gemm",
            Kernel::GAvgPool => "gavgpool",
            Kernel::Pool => "pool",
            Kernel::Softmax => "softmax",
            Kernel::Clamp => "clamp",
            Kernel::Mean => "mean",
            Kernel::Fill => "fill",
            Kernel::Binary => "binary",
            Kernel::Copy => "copy",
            Kernel::QGemm => "qgemm",
            Kernel::QDwConv => "qdwconv",
            Kernel::QConv => "qconv",
            Kernel::QGAvgPool => "qgavgpool",
            Kernel::QAdd => "qadd",
            Kernel::Quantize => "quantize",
            Kernel::Dequantize => "dequantize",
            Kernel::HardSigmoid => "hardsigmoid",
            Kernel::HardSwish => "hardswish",
            Kernel::ScaleRows => "scalerows",
        }
    }
}

impl TargetDesc {
    /// The path inside `mnetc-runtime` of the function this target uses for `kind`.
    pub fn kernel(&self, kind: Kernel) -> &'static str {
        // GENERIC lists every kind (tested), so the fallback always finds one.
        self.kernels
            .iter()
            .chain(GENERIC.kernels)
            .find(|(k, _)| *k == kind)
            .map_or("", |(_, path)| path)
    }

    /// `RUSTFLAGS` a build of the generated code needs, e.g. `-C target-feature=+avx2,+fma`.
    pub fn rustflags(&self, out: &mut impl core::fmt::Write) -> core::fmt::Result {
        for (i, f) in self.features.iter().enumerate() {
            out.write_str(if i == 0 { "-C target-feature=+" } else { ",+" })?;
            out.write_str(f)?;
        }
        for (i, c) in self.cfgs.iter().enumerate() {
            let sep = if i == 0 && self.features.is_empty() {
                ""
            } else {
                " "
            };
            write!(out, "{sep}--cfg {c}")?;
        }
        Ok(())
    }
}

/// Portable scalar Rust: builds and runs everywhere.
pub const GENERIC: TargetDesc = TargetDesc {
    name: "generic",
    arch: None,
    features: &[],
    cfgs: &[],
    triples: &[],
    runtime_module: "scalar",
    vector_bits: 0,
    gemm_tile: [1, 1],
    conv_channel_multiple: 1,
    gemm_block_bytes: 256 * 1024,
    qgemm: QGemmLayout::PLAIN,
    qdw: QDwLayout::Plain,
    qconv: QConvLayout::Plain,
    kernels: &[
        (Kernel::Conv, "scalar::f32_conv_minmax"),
        (Kernel::DwConv, "scalar::f32_dwconv_nhwc_minmax"),
        (Kernel::Gemm, "scalar::f32_gemm_minmax"),
        (Kernel::GAvgPool, "scalar::f32_gavgpool"),
        (Kernel::Pool, "scalar::f32_pool_nhwc"),
        (Kernel::Softmax, "scalar::f32_softmax"),
        (Kernel::Clamp, "scalar::f32_clamp"),
        (Kernel::Mean, "scalar::f32_mean_rows"),
        (Kernel::Fill, "scalar::f32_fill"),
        (Kernel::Binary, "scalar::f32_binary"),
        (Kernel::Copy, "scalar::f32_copy_strided"),
        (Kernel::QGemm, "scalar::u8_gemm"),
        (Kernel::QDwConv, "scalar::u8_dwconv"),
        (Kernel::QConv, "scalar::u8_conv"),
        (Kernel::QGAvgPool, "scalar::u8_gavgpool"),
        (Kernel::QAdd, "scalar::u8_add"),
        (Kernel::Quantize, "scalar::f32_quantize"),
        (Kernel::Dequantize, "scalar::u8_dequantize"),
        (Kernel::HardSigmoid, "scalar::f32_hard_sigmoid"),
        (Kernel::HardSwish, "scalar::f32_hard_swish"),
        (Kernel::ScaleRows, "scalar::f32_scale_rows"),
    ],
    auto_cfg: None,
    native: false,
    emulation: None,
    // x86-64 Android devices are mostly emulators, some without AVX2: portable code there.
    package_triples: &["armv7-linux-androideabi", "x86_64-linux-android"],
};

/// x86-64 with AVX2 and FMA (Haswell and later, Zen and later).
pub const AVX2: TargetDesc = TargetDesc {
    name: "avx2",
    arch: Some("x86_64"),
    features: &["avx2", "fma"],
    cfgs: &[],
    triples: &[
        "x86_64-unknown-linux-gnu",
        "x86_64-apple-darwin",
        "x86_64-pc-windows-msvc",
        "x86_64-linux-android",
    ],
    runtime_module: "avx2",
    vector_bits: 256,
    gemm_tile: [6, 16],
    conv_channel_multiple: 8,
    // A quarter of Zen 4's 1 MiB L2.
    gemm_block_bytes: 256 * 1024,
    qgemm: QGemmLayout {
        mr: 6,
        nr: 16,
        kr: 2,
        signed_x: false,
    },
    qdw: QDwLayout::RowPairs16,
    qconv: QConvLayout::Pairs8,
    kernels: &[
        (Kernel::Conv, "avx2::f32_conv_minmax_avx2"),
        (Kernel::DwConv, "avx2::f32_dwconv_nhwc_minmax_avx2"),
        (Kernel::Gemm, "avx2::f32_gemm_minmax_avx2"),
        (Kernel::QGemm, "avx2::u8_gemm_avx2"),
        (Kernel::QDwConv, "avx2::u8_dwconv_avx2"),
        (Kernel::QConv, "avx2::u8_conv_avx2"),
        (Kernel::Quantize, "avx2::f32_quantize_avx2"),
    ],
    auto_cfg: Some(
        r#"all(target_arch = "x86_64", target_feature = "avx2", target_feature = "fma", not(target_feature = "avxvnni"))"#,
    ),
    native: true,
    emulation: None,
    package_triples: &[],
};

/// x86-64 with AVX-512F (Skylake-SP, Ice Lake and later Intel cores, Zen 4 and later): a
/// 512-bit GEMM and depthwise conv, the dense conv of `avx2`. Neither `native` nor `auto` picks it (measured faster
/// than `avx2` only on an Intel Xeon so far; Zen 4 splits 512-bit operations in two): ask for
/// it by name.
pub const AVX512: TargetDesc = TargetDesc {
    name: "avx512",
    arch: Some("x86_64"),
    features: &["avx512f", "avx2", "fma"],
    cfgs: &[],
    triples: &[
        "x86_64-unknown-linux-gnu",
        "x86_64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ],
    runtime_module: "avx512",
    vector_bits: 512,
    gemm_tile: [12, 32],
    // The dense conv is avx2's.
    conv_channel_multiple: 8,
    gemm_block_bytes: 256 * 1024,
    // The quantized GEMM is avx2's.
    qgemm: AVX2.qgemm,
    qdw: AVX2.qdw,
    qconv: AVX2.qconv,
    kernels: &[
        (Kernel::Conv, "avx2::f32_conv_minmax_avx2"),
        (Kernel::DwConv, "avx512::f32_dwconv_nhwc_minmax_avx512"),
        (Kernel::Gemm, "avx512::f32_gemm_minmax_avx512"),
        (Kernel::QGemm, "avx2::u8_gemm_avx2"),
        (Kernel::QDwConv, "avx2::u8_dwconv_avx2"),
        (Kernel::QConv, "avx2::u8_conv_avx2"),
        (Kernel::Quantize, "avx2::f32_quantize_avx2"),
    ],
    auto_cfg: None,
    native: false,
    emulation: None,
    package_triples: &[],
};

/// x86-64 with AVX-512 VNNI besides AVX-512F (Ice Lake and later Intel cores, Zen 4 and later):
/// `avx512`'s kernels, and a quantized GEMM, depthwise and dense conv with `vpdpbusd` (four uint8
/// x int8 products into each 32-bit lane, exact). Neither `native` nor `auto` picks it: ask for it by
/// name.
pub const AVX512VNNI: TargetDesc = TargetDesc {
    name: "avx512vnni",
    features: &["avx512f", "avx512vnni", "avx2", "fma"],
    runtime_module: "avx512vnni",
    qgemm: QGemmLayout {
        mr: 12,
        nr: 16,
        kr: 4,
        signed_x: false,
    },
    qdw: QDwLayout::Quads32,
    qconv: QConvLayout::Quads16,
    kernels: &[
        (Kernel::Conv, "avx2::f32_conv_minmax_avx2"),
        (Kernel::DwConv, "avx512::f32_dwconv_nhwc_minmax_avx512"),
        (Kernel::Gemm, "avx512::f32_gemm_minmax_avx512"),
        (Kernel::QGemm, "avx512vnni::u8_gemm_avx512vnni"),
        (Kernel::QDwConv, "avx512vnni::u8_dwconv_avx512vnni"),
        (Kernel::QConv, "avx512vnni::u8_conv_avx512vnni"),
        (Kernel::Quantize, "avx2::f32_quantize_avx2"),
    ],
    ..AVX512
};

/// x86-64 with AVX-VNNI besides AVX2 and FMA (the VEX-encoded 256-bit `vpdpbusd`: Intel Alder
/// Lake and later client cores, Sapphire Rapids and later Xeons, AMD Zen 5): `avx2`'s float
/// kernels, and `avx512vnni`'s quantized GEMM, depthwise and dense conv (the same packing) on
/// 256-bit vectors, in register tiles that fit AVX2's 16 registers. `auto` and `native` pick
/// it where the build or the CPU has AVX-VNNI.
pub const AVXVNNI: TargetDesc = TargetDesc {
    name: "avxvnni",
    features: &["avxvnni", "avx2", "fma"],
    runtime_module: "avxvnni",
    qgemm: QGemmLayout {
        mr: 6,
        nr: 16,
        kr: 4,
        signed_x: false,
    },
    qdw: QDwLayout::Quads32,
    qconv: QConvLayout::Quads16,
    kernels: &[
        (Kernel::Conv, "avx2::f32_conv_minmax_avx2"),
        (Kernel::DwConv, "avx2::f32_dwconv_nhwc_minmax_avx2"),
        (Kernel::Gemm, "avx2::f32_gemm_minmax_avx2"),
        (Kernel::QGemm, "avxvnni::u8_gemm_avxvnni"),
        (Kernel::QDwConv, "avxvnni::u8_dwconv_avxvnni"),
        (Kernel::QConv, "avxvnni::u8_conv_avxvnni"),
        (Kernel::Quantize, "avx2::f32_quantize_avx2"),
    ],
    auto_cfg: Some(
        r#"all(target_arch = "x86_64", target_feature = "avx2", target_feature = "fma", target_feature = "avxvnni")"#,
    ),
    ..AVX2
};

/// aarch64 with NEON (Advanced SIMD, baseline on every aarch64 Rust target) and its FMA.
pub const NEON: TargetDesc = TargetDesc {
    name: "neon",
    arch: Some("aarch64"),
    features: &["neon"],
    cfgs: &[],
    triples: &[
        "aarch64-unknown-linux-gnu",
        "aarch64-linux-android",
        "aarch64-apple-ios",
        "aarch64-apple-darwin",
    ],
    runtime_module: "neon",
    vector_bits: 128,
    // 24 of the 32 vector registers accumulate; the panels are the AVX2 ones.
    gemm_tile: [6, 16],
    conv_channel_multiple: 4,
    gemm_block_bytes: 256 * 1024,
    qgemm: QGemmLayout {
        mr: 4,
        nr: 16,
        kr: 1,
        signed_x: false,
    },
    qdw: QDwLayout::Plain,
    qconv: QConvLayout::Wide8,
    kernels: &[
        (Kernel::Conv, "neon::f32_conv_minmax_neon"),
        (Kernel::DwConv, "neon::f32_dwconv_nhwc_minmax_neon"),
        (Kernel::Gemm, "neon::f32_gemm_minmax_neon"),
        (Kernel::GAvgPool, "neon::f32_gavgpool_neon"),
        (Kernel::QGemm, "neon::u8_gemm_neon"),
        (Kernel::QDwConv, "neon::u8_dwconv_neon"),
        (Kernel::QConv, "neon::u8_conv_neon"),
        (Kernel::Quantize, "neon::f32_quantize_neon"),
    ],
    auto_cfg: Some(r#"all(target_arch = "aarch64", not(target_feature = "dotprod"))"#),
    native: true,
    emulation: Some(Emulation {
        triple: "aarch64-unknown-linux-gnu",
        linker: "aarch64-linux-gnu-gcc",
        program: "qemu-aarch64",
        sysroot: "/usr/aarch64-linux-gnu",
        cpu: None,
        vlens: &[],
        packages: "qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross",
        engine: Engine::Qemu,
        threads: true,
    }),
    package_triples: &[
        "aarch64-linux-android",
        "aarch64-apple-ios",
        "aarch64-apple-ios-sim",
    ],
};

/// aarch64 with the dot product instructions (`dotprod`, FEAT_DotProd: optional from ARMv8.2,
/// in Cortex-A55/A75 and later, Apple A13 and later, every ARMv9 core): `neon`'s kernels, and a
/// quantized GEMM, depthwise and stem conv with `sdot` (four int8 x int8 products into each
/// 32-bit lane, exact; the uint8 inputs enter with their top bit flipped, see
/// [`QGemmLayout::signed_x`]). `auto` and `native` pick it where the build or the CPU has
/// `dotprod`.
pub const NEONDOT: TargetDesc = TargetDesc {
    name: "neondot",
    features: &["neon", "dotprod"],
    triples: &[
        "aarch64-unknown-linux-gnu",
        "aarch64-linux-android",
        "aarch64-apple-darwin",
    ],
    runtime_module: "neondot",
    qgemm: QGemmLayout {
        mr: 4,
        nr: 16,
        kr: 4,
        signed_x: true,
    },
    qdw: QDwLayout::Quads16,
    qconv: QConvLayout::Quads16,
    kernels: &[
        (Kernel::Conv, "neon::f32_conv_minmax_neon"),
        (Kernel::DwConv, "neon::f32_dwconv_nhwc_minmax_neon"),
        (Kernel::Gemm, "neon::f32_gemm_minmax_neon"),
        (Kernel::GAvgPool, "neon::f32_gavgpool_neon"),
        (Kernel::QGemm, "neondot::u8_gemm_neondot"),
        (Kernel::QDwConv, "neondot::u8_dwconv_neondot"),
        (Kernel::QConv, "neondot::u8_conv_neondot"),
        (Kernel::Quantize, "neon::f32_quantize_neon"),
    ],
    auto_cfg: Some(r#"all(target_arch = "aarch64", target_feature = "dotprod")"#),
    // Android's and iOS's arm64 baselines (ARMv8.0, A7) lack it: packages stay on `neon`.
    package_triples: &[],
    ..NEON
};

/// riscv64 with the vector extension V 1.0, any VLEN (128 bits or more, as V requires). Stable
/// Rust can neither name `v` as a target feature nor offer intrinsics, so the kernels are
/// `asm!` and the build states the CPU has V with `--cfg mnetc_rvv`.
pub const RVV: TargetDesc = TargetDesc {
    name: "rvv",
    arch: Some("riscv64"),
    features: &[],
    cfgs: &["mnetc_rvv"],
    triples: &["riscv64gc-unknown-linux-gnu"],
    runtime_module: "rvv",
    // Vector-length agnostic: 16-float register groups (LMUL 4 at VLEN 128) whatever VLEN is.
    vector_bits: 0,
    gemm_tile: [6, 16],
    conv_channel_multiple: 1,
    gemm_block_bytes: 256 * 1024,
    // Three rows of 32 int32 sums (LMUL 8 at VLEN 128).
    qgemm: QGemmLayout {
        mr: 3,
        nr: 32,
        kr: 1,
        signed_x: false,
    },
    qdw: QDwLayout::Plain,
    qconv: QConvLayout::Wide8,
    kernels: &[
        (Kernel::Conv, "rvv::f32_conv_minmax_rvv"),
        (Kernel::DwConv, "rvv::f32_dwconv_nhwc_minmax_rvv"),
        (Kernel::Gemm, "rvv::f32_gemm_minmax_rvv"),
        (Kernel::GAvgPool, "rvv::f32_gavgpool_rvv"),
        (Kernel::QGemm, "rvv::u8_gemm_rvv"),
        (Kernel::QDwConv, "rvv::u8_dwconv_rvv"),
        (Kernel::QConv, "rvv::u8_conv_rvv"),
        (Kernel::Quantize, "rvv::f32_quantize_rvv"),
    ],
    // Stable Rust has no cfg for V: auto and native never pick rvv; ask for it by name.
    auto_cfg: None,
    native: false,
    emulation: Some(Emulation {
        triple: "riscv64gc-unknown-linux-gnu",
        linker: "riscv64-linux-gnu-gcc",
        program: "qemu-riscv64",
        sysroot: "/usr/riscv64-linux-gnu",
        cpu: Some("rv64,v=true,vlen={vlen},elen=64,vext_spec=v1.0"),
        vlens: &[128, 256],
        packages: "qemu-user gcc-riscv64-linux-gnu libc6-dev-riscv64-cross",
        engine: Engine::Qemu,
        threads: true,
    }),
    package_triples: &[],
};

/// WebAssembly with the 128-bit SIMD proposal (`simd128`: every current browser engine, Node.js
/// 16.4 and later, wasmtime): f32x4 kernels without fused multiply-add (relaxed SIMD's is not
/// enabled everywhere), GEMM tiles sized for the 16 vector registers x86-64 engines map
/// `v128` onto. `auto` picks it on wasm32 builds with `simd128`; code runs in a browser
/// (`mnetc package --platform web`) or, for `verify` and the tests, as a WASI module under
/// Node.js.
pub const WASM_SIMD128: TargetDesc = TargetDesc {
    name: "wasm-simd128",
    arch: Some("wasm32"),
    features: &["simd128"],
    cfgs: &[],
    triples: &["wasm32-unknown-unknown", "wasm32-wasip1"],
    runtime_module: "wasm",
    vector_bits: 128,
    gemm_tile: [4, 8],
    conv_channel_multiple: 4,
    gemm_block_bytes: 256 * 1024,
    // `i32x4.dot_i16x8_s` of a broadcast pair of inputs by pairs of weights.
    qgemm: QGemmLayout {
        mr: 4,
        nr: 8,
        kr: 2,
        signed_x: false,
    },
    qdw: QDwLayout::Plain,
    qconv: QConvLayout::Pairs8,
    kernels: &[
        (Kernel::Conv, "wasm::f32_conv_minmax_wasm"),
        (Kernel::DwConv, "wasm::f32_dwconv_nhwc_minmax_wasm"),
        (Kernel::Gemm, "wasm::f32_gemm_minmax_wasm"),
        (Kernel::GAvgPool, "wasm::f32_gavgpool_wasm"),
        (Kernel::QGemm, "wasm::u8_gemm_wasm"),
        (Kernel::QDwConv, "wasm::u8_dwconv_wasm"),
        (Kernel::QConv, "wasm::u8_conv_wasm"),
    ],
    auto_cfg: Some(r#"all(target_arch = "wasm32", target_feature = "simd128")"#),
    native: false,
    emulation: Some(Emulation {
        triple: "wasm32-wasip1",
        linker: "",
        program: "node",
        engine: Engine::Wasi,
        sysroot: "",
        cpu: None,
        vlens: &[],
        packages: "nodejs",
        threads: false,
    }),
    package_triples: &[],
};

/// Every target, in the order `mnetc` lists them.
pub const ALL: &[TargetDesc] = &[
    GENERIC,
    AVX2,
    AVXVNNI,
    AVX512,
    AVX512VNNI,
    NEON,
    NEONDOT,
    RVV,
    WASM_SIMD128,
];

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::String;

    #[test]
    fn rustflags_name_every_feature() {
        let mut s = String::new();
        super::AVX2.rustflags(&mut s).unwrap();
        assert_eq!(s, "-C target-feature=+avx2,+fma");
        let mut s = String::new();
        super::GENERIC.rustflags(&mut s).unwrap();
        assert_eq!(s, "");
        let mut s = String::new();
        super::RVV.rustflags(&mut s).unwrap();
        assert_eq!(s, "--cfg mnetc_rvv");
    }

    #[test]
    fn generic_lists_every_kernel_and_targets_fall_back_to_it() {
        for kind in super::Kernel::ALL {
            assert!(super::GENERIC.kernel(kind).starts_with("scalar::"));
            for t in super::ALL {
                let path = t.kernel(kind);
                // Its own module's, the scalar one, or that of a target whose features it has
                // all (avx512 takes avx2's convs).
                let borrowed = super::ALL.iter().any(|o| {
                    o.name != t.name
                        && path.starts_with(o.runtime_module)
                        && o.arch == t.arch
                        && o.features.iter().all(|f| t.features.contains(f))
                        && o.cfgs.iter().all(|c| t.cfgs.contains(c))
                });
                assert!(
                    path.starts_with(t.runtime_module) || path.starts_with("scalar::") || borrowed,
                    "{} {kind:?}: {path}",
                    t.name
                );
            }
        }
        assert_eq!(
            super::AVX2.kernel(super::Kernel::Softmax),
            "scalar::f32_softmax"
        );
    }
}
