//! Building the C programs of `tests/c` against a `mnetc package` library with the system C
//! compiler (`CC`, else `cc`). Shared by `tests/tests/package.rs` and, through `#[path]`,
//! `cli/tests/sanitizers.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds `tests/c/NAME.c` against the package in `out` (its header) and `archive`, with
/// `flags` before the sources; the program's path.
pub fn build_c(name: &str, out: &Path, archive: &Path, flags: &[&str]) -> PathBuf {
    let program = out.join(name);
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(format!("tests/c/{name}.c"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(cc)
        .args(flags)
        .arg("-I")
        .arg(out)
        .arg(&source)
        .arg(archive)
        .args(["-lpthread", "-lm", "-ldl", "-o"])
        .arg(&program)
        .status()
        .expect("run the C compiler");
    assert!(status.success(), "{name}.c did not build");
    program
}
