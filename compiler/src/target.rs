//! The target a generated module is specialised for: a handle on one entry of
//! [`mnetc_targets::ALL`], where everything about it is declared, with what only the machine
//! mnetc runs on can answer (which target `native` means, whether code runs here).

use crate::error::{Error, Result};
use mnetc_targets::TargetDesc;
use std::fmt;
use std::str::FromStr;

/// The CPU a generated module is specialised for: one entry of [`mnetc_targets::ALL`], where
/// everything about it is declared (`Target::from(&mnetc_targets::AVX2)`, or by name with
/// `"avx2".parse()`).
#[derive(Clone, Copy)]
pub struct Target(&'static TargetDesc);

impl Target {
    /// Portable scalar Rust: the fallback everywhere.
    pub const GENERIC: Target = Target(&mnetc_targets::GENERIC);

    /// Whether the target lists its own kernel of `kind` (else it uses the scalar one, and the
    /// scalar kernel's weight packing).
    pub fn lists(self, kind: mnetc_targets::Kernel) -> bool {
        self.0.kernels.iter().any(|(k, _)| *k == kind)
    }

    /// Every target, in the order `mnetc` lists them.
    pub fn all() -> impl Iterator<Item = Target> {
        mnetc_targets::ALL.iter().map(Target)
    }

    /// What the target is, as data (`mnetc-targets`).
    pub fn desc(self) -> &'static TargetDesc {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// The best target for the machine mnetc runs on: of those that `native` may pick whose
    /// architecture this is and whose features the CPU has, the one with the most features.
    pub fn native() -> Target {
        Target::all()
            .filter(|t| {
                t.0.native
                    && t.0.arch == Some(std::env::consts::ARCH)
                    && t.0.features.iter().all(|f| host_has(f))
            })
            .max_by_key(|t| t.0.features.len())
            .unwrap_or(Target::GENERIC)
    }

    /// The `mobilenet!(target = auto)` variants: each target with an `auto_cfg` under it, then
    /// the generic code under `not(any(...))` of those.
    pub fn auto_cfgs() -> Vec<(Target, String)> {
        let mut out: Vec<(Target, String)> = Target::all()
            .filter_map(|t| Some((t, t.0.auto_cfg?.to_string())))
            .collect();
        let others: Vec<&str> = out.iter().map(|(_, c)| c.as_str()).collect();
        let fallback = format!("not(any({}))", others.join(", "));
        out.push((Target::GENERIC, fallback));
        out
    }

    /// The target whose code `mnetc package` uses for a Rust target triple by default.
    pub fn for_package_triple(triple: &str) -> Option<Target> {
        Target::all().find(|t| t.0.package_triples.contains(&triple))
    }

    /// Whether code for this target can run natively on the machine mnetc runs on (otherwise
    /// `verify` runs it under QEMU where it can).
    pub fn runs_here(self) -> bool {
        match self.0.arch {
            None => true,
            Some(arch) if arch != std::env::consts::ARCH => false,
            // No stable detection of cfg-stated extensions (RISC-V V): a host of the right
            // architecture is taken to run them.
            Some(_) => self.0.features.iter().all(|f| host_has(f)),
        }
    }

    /// `RUSTFLAGS` a build of code for this target needs.
    pub fn rustflags(self) -> String {
        let mut s = String::new();
        self.0.rustflags(&mut s).expect("writing to a String");
        s
    }
}

/// Whether the CPU mnetc runs on has a Rust target feature (run-time detection where the
/// standard library offers it; features it does not know are taken as absent).
fn host_has(feature: &str) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        match feature {
            "avx2" => return std::is_x86_feature_detected!("avx2"),
            "fma" => return std::is_x86_feature_detected!("fma"),
            "avx512f" => return std::is_x86_feature_detected!("avx512f"),
            "avx512vnni" => return std::is_x86_feature_detected!("avx512vnni"),
            "avxvnni" => return std::is_x86_feature_detected!("avxvnni"),
            _ => {}
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        match feature {
            "neon" => return std::arch::is_aarch64_feature_detected!("neon"),
            "dotprod" => return std::arch::is_aarch64_feature_detected!("dotprod"),
            _ => {}
        }
    }
    let _ = feature;
    false
}

impl From<&'static TargetDesc> for Target {
    fn from(desc: &'static TargetDesc) -> Target {
        Target(desc)
    }
}

impl PartialEq for Target {
    fn eq(&self, other: &Target) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for Target {}

impl std::hash::Hash for Target {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.name.hash(state);
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Target {
    type Err = Error;

    fn from_str(s: &str) -> Result<Target> {
        if s == "native" {
            return Ok(Target::native());
        }
        Target::all().find(|t| t.name() == s).ok_or_else(|| {
            let valid: Vec<&str> = Target::all().map(|t| t.name()).chain(["native"]).collect();
            Error::Options(format!(
                "unknown target '{s}'; valid targets: {}",
                valid.join(", ")
            ))
        })
    }
}
