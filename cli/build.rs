//! Embeds the runtime crate's sources (every file of `runtime/src`, which `runtime-src` links to
//! in the repository; `cargo package` copies them into the package), which `verify`, `bench` and
//! `package` write into the crates they build, so the `mnetc` binary works wherever it is
//! installed and a new kernel module needs no edit here.

use std::path::Path;

fn main() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime-src");
    println!("cargo:rerun-if-changed={}", src.display());
    let mut files: Vec<String> = std::fs::read_dir(&src)
        .expect("runtime/src")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".rs"))
        .collect();
    files.sort();
    let mut out = String::from("pub(crate) const RUNTIME: &[(&str, &str)] = &[\n");
    for f in &files {
        let path = src.join(f).canonicalize().expect("runtime file");
        out.push_str(&format!(
            "    (\"src/{f}\", include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("runtime_sources.rs");
    std::fs::write(dest, out).expect("write runtime_sources.rs");
}
