//! The targets mnetc generates code for, as data: what a build needs (architecture, Rust
//! triples, target features), which runtime module holds their kernels, and the shapes those
//! kernels want their weights packed in. The compiler reads these instead of spelling target
//! facts out in its code, so a new target is one more entry here plus its kernels.
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
    /// Rust target triples the generated code is meant for (documentation and cross builds).
    pub triples: &'static [&'static str],
    /// Module of `mnetc-runtime` with the target's kernels.
    pub runtime_module: &'static str,
    /// Vector width in bits (0 for scalar code).
    pub vector_bits: u32,
    /// GEMM register tile: rows, and columns per packed weight panel (1 means no panels).
    pub gemm_tile: [usize; 2],
    /// Output channels of dense convs are padded to a multiple of this in the packing.
    pub conv_channel_multiple: usize,
}

impl TargetDesc {
    /// `RUSTFLAGS` a build of the generated code needs, e.g. `-C target-feature=+avx2,+fma`.
    pub fn rustflags(&self, out: &mut impl core::fmt::Write) -> core::fmt::Result {
        for (i, f) in self.features.iter().enumerate() {
            out.write_str(if i == 0 { "-C target-feature=+" } else { ",+" })?;
            out.write_str(f)?;
        }
        Ok(())
    }
}

/// Portable scalar Rust: builds and runs everywhere.
pub const GENERIC: TargetDesc = TargetDesc {
    name: "generic",
    arch: None,
    features: &[],
    triples: &[],
    runtime_module: "scalar",
    vector_bits: 0,
    gemm_tile: [1, 1],
    conv_channel_multiple: 1,
};

/// x86-64 with AVX2 and FMA (Haswell and later, Zen and later).
pub const AVX2: TargetDesc = TargetDesc {
    name: "avx2",
    arch: Some("x86_64"),
    features: &["avx2", "fma"],
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
};

/// Every target, in the order `mnetc` lists them.
pub const ALL: [TargetDesc; 2] = [GENERIC, AVX2];

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
    }
}
