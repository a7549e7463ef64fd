//! The run-time half of mnetc: the kernels that generated code calls, and the helpers that give
//! it fixed-size views of its weights and of its scratch arena.
//!
//! `no_std`, no dependencies, no allocation (except [`boxed_zeroed`] behind the `alloc`
//! feature). Every kernel takes its shapes as const generics, so each layer of a generated
//! network gets its own monomorphized copy with constant loop bounds, and checks at compile time
//! (inline `const` blocks) that its array lengths fit those shapes: a mismatch is a build error in
//! the generated code, never a run-time panic. Activations are NHWC; weights are packed by the
//! compiler in the order each kernel reads them.
//!
//! One module per target; [`scalar`] is the portable one and the twin every SIMD kernel is
//! tested against. SIMD kernel entry points are `#[inline(never)]`: a call per layer costs
//! nothing, and every layer's kernel stays a symbol of its own, which profilers name and the
//! test that disassembles the neon and rvv builds inspects.
#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[macro_use]
mod signature;

#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx2",
    target_feature = "fma"
))]
pub mod avx2;
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx512f",
    target_feature = "avx2",
    target_feature = "fma"
))]
pub mod avx512;
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx512f",
    target_feature = "avx512vnni",
    target_feature = "avx2",
    target_feature = "fma"
))]
pub mod avx512vnni;
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avxvnni",
    target_feature = "avx2",
    target_feature = "fma"
))]
pub mod avxvnni;
// The quantized kernels the two VNNI targets share.
#[cfg(target_arch = "aarch64")]
pub mod neon;
#[cfg(all(target_arch = "aarch64", target_feature = "dotprod"))]
pub mod neondot;
#[cfg(target_arch = "riscv64")]
pub mod rvv;
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx2",
    target_feature = "fma",
    any(
        target_feature = "avxvnni",
        all(target_feature = "avx512f", target_feature = "avx512vnni")
    )
))]
mod vnni;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod wasm;

/// Whether the build states that the CPU has the RISC-V vector extension V 1.0
/// (`RUSTFLAGS="--cfg mnetc_rvv"`). Code generated for the `rvv` target refuses to build
/// unless it is set: the [`rvv`] kernels execute vector instructions.
pub const MNETC_RVV: bool = cfg!(mnetc_rvv);
pub mod frame;
pub mod pool;
pub mod scalar;
mod view;

// Shared by the SIMD modules' tests; a build without any of them uses little of it.
#[cfg(test)]
#[allow(dead_code, unused_imports, unused_macros)]
mod conformance;

pub use view::{
    Element, Scratch, Weights, WeightsError, Zeroable, arena_in_out, arena_in2_out, arena_out,
    weights,
};

#[cfg(feature = "alloc")]
pub use view::{BoxedWeights, boxed_zeroed, try_boxed_zeroed, weights_from_bytes};

/// `mobilenet!(alpha = 0.25, res = 128, weights = "model.onnx", name = net)`: see
/// `mnetc-macros`.
#[cfg(feature = "macros")]
pub use mnetc_macros::mobilenet;

/// Elementwise operations of [`scalar::f32_binary`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
}

impl BinaryOp {
    #[inline(always)]
    pub fn apply(self, a: f32, b: f32) -> f32 {
        match self {
            BinaryOp::Add => a + b,
            BinaryOp::Sub => a - b,
            BinaryOp::Mul => a * b,
            BinaryOp::Div => a / b,
            BinaryOp::Min => a.min(b),
            BinaryOp::Max => a.max(b),
        }
    }
}
