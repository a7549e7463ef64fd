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
        "[package]\nname = \"mnetc-runtime\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[features]\nalloc = []\nstd = [\"alloc\"]\nmacros = []\n\n[lints.rust]\nunexpected_cfgs = {{ level = \"warn\", check-cfg = [{}] }}\n",
        cfgs.join(", ")
    )
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
