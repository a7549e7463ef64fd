//! What `verify`, `bench` and `package` share when they build generated code with the user's
//! cargo: the runtime crate they carry (its sources, embedded by build.rs, and a manifest that
//! stands alone), the check for a Rust target's standard library, and I/O errors that name
//! their path.

use mnetc::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

// `RUNTIME`: the runtime crate's sources (path in the crate, text), embedded by build.rs.
include!(concat!(env!("OUT_DIR"), "/runtime_sources.rs"));

/// The runtime's `Cargo.toml` for a crate outside mnetc's workspace (the runtime's own
/// inherits from the workspace): its `alloc` and `std` features (`macros` declared, never
/// enabled: these builds do not run the compiler), and every `--cfg` a target states
/// (`mnetc-targets`) declared, so the builds never warn about an unknown cfg.
pub(crate) fn runtime_toml() -> String {
    let cfgs: Vec<String> = mnetc_targets::ALL
        .iter()
        .flat_map(|t| t.cfgs)
        .map(|c| format!("'cfg({c})'"))
        .collect();
    format!(
        "[package]\nname = \"mnetc-runtime\"\nversion = \"{}\"\nedition = \"2024\"\n\n[features]\nalloc = []\nstd = [\"alloc\"]\nmacros = []\n\n[lints.rust]\nunexpected_cfgs = {{ level = \"warn\", check-cfg = [{}] }}\n",
        // The embedded sources are the runtime of this release (the crates share one version).
        env!("CARGO_PKG_VERSION"),
        cfgs.join(", ")
    )
}

/// Writes the runtime crate (its sources and the stand-alone manifest) into `dir`, for a
/// staging crate that depends on it by path.
pub(crate) fn write_runtime(dir: &Path) -> Result<(), Error> {
    for (rel, text) in RUNTIME {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("has a parent")).map_err(io(&path))?;
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    let manifest = dir.join("Cargo.toml");
    std::fs::write(&manifest, runtime_toml()).map_err(io(&manifest))
}

/// The SHA-256 of `bytes` in lower-case hex (how the packages name the model they hold).
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether rustup (or the toolchain) has Rust's standard library for `triple`.
pub(crate) fn std_installed(triple: &str) -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .is_ok_and(|s| s.join("lib/rustlib").join(triple).exists())
}

/// Maps an I/O error to one naming `path`.
pub(crate) fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.display().to_string(),
        source,
    }
}
