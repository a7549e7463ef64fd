//! The crates as crates.io would serve them: `cargo package` of the five published crates, each
//! `.crate` unpacked into a folder outside this workspace, and a new app there that names them
//! as a user's crate would (`mnetc-runtime = { version = "0.1", features = ["macros"] }`,
//! `mnetc = "0.1"` for its build script), `[patch.crates-io]` pointing at the unpacked packages
//! in place of the registry. The app runs a `mobilenet!` network and a build.rs one on a fixture's
//! input and matches onnxruntime; the packaged CLI builds and verifies a model (its embedded
//! runtime sources came with the package); and a module generated for this runtime version is
//! refused, with the message, by a runtime of the next incompatible version.

use mnetc_tests::{check_close, fixture, read_f32};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The crates users depend on, in dependency order.
const PUBLISHED: [&str; 5] = [
    "mnetc-targets",
    "mnetc",
    "mnetc-macros",
    "mnetc-runtime",
    "mnetc-cli",
];
const VERSION: &str = env!("CARGO_PKG_VERSION");
const MODEL: &str = "mobilenet_v1_0.25_128_bn";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cargo(dir: &Path) -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR");
    c
}

fn run(command: &mut Command) -> Output {
    let out = command.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `[patch.crates-io]` entries for the unpacked packages, but `except`.
fn patches(except: &str) -> String {
    PUBLISHED
        .iter()
        .filter(|&&c| c != except)
        .map(|c| {
            let path = packaged().join(format!("packages/{c}-{VERSION}"));
            format!("{c} = {{ path = {:?} }}\n", path.display())
        })
        .collect()
}

/// A folder holding the five packages unpacked (`packages/NAME-VERSION`) and the apps' shared
/// target folder: packaged once per test run.
fn packaged() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // In cargo's folder for tests' files, kept between runs so that the apps' target
        // folders are reused; the packages themselves are made afresh.
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("published-crates");
        let packages = root.join("packages");
        let _ = std::fs::remove_dir_all(&packages);
        std::fs::create_dir_all(&packages).unwrap();
        let mut package = cargo(&workspace());
        package
            .args(["package", "--no-verify", "--allow-dirty", "--quiet"])
            .env("CARGO_TARGET_DIR", root.join("package-target"));
        for c in PUBLISHED {
            package.args(["-p", c]);
        }
        run(&mut package);
        for c in PUBLISHED {
            let file = root
                .join("package-target/package")
                .join(format!("{c}-{VERSION}.crate"));
            run(Command::new("tar")
                .arg("xzf")
                .arg(&file)
                .arg("-C")
                .arg(&packages));
            // What crates.io would hold: no symbolic links, and nothing of the repository.
            let manifest =
                std::fs::read_to_string(packages.join(format!("{c}-{VERSION}/Cargo.toml")))
                    .unwrap();
            assert!(
                !manifest.contains("path = \"../"),
                "{c}: a path dependency is left in the packaged manifest:\n{manifest}"
            );
        }
        root
    })
}

/// A new crate in `root/NAME` with its own workspace, the unpacked packages patched in.
fn new_app(name: &str, manifest: &str, files: &[(&str, &str)]) -> PathBuf {
    let root = packaged();
    let app = root.join(name);
    let _ = std::fs::remove_dir_all(&app);
    write(&app.join("Cargo.toml"), manifest);
    for (path, text) in files {
        write(&app.join(path), text);
    }
    std::fs::copy(workspace().join("Cargo.lock"), app.join("Cargo.lock")).unwrap();
    let f = fixture(MODEL);
    std::fs::copy(&f.onnx, app.join("model.onnx")).unwrap();
    app
}

const BUILD_RS: &str = r#"
fn main() -> Result<(), mnetc::Error> {
    mnetc::Builder::new().name("built").compile("model.onnx")?;
    Ok(())
}
"#;

const MAIN_RS: &str = r#"
mnetc_runtime::mobilenet!(alpha = 0.25, res = 128, weights = "model.onnx", name = inline);

mod built {
    include!(concat!(env!("OUT_DIR"), "/built.rs"));
}

fn read(path: &str) -> Vec<f32> {
    std::fs::read(path).unwrap().chunks(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
}

fn write(path: &str, values: &[f32]) {
    std::fs::write(path, values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let input = read(&args[1]);

    let mut x = Box::new([0f32; inline::INPUT_LEN]);
    x.copy_from_slice(&input);
    let mut y = Box::new([0f32; inline::OUTPUT_LEN]);
    let mut scratch = mnetc_runtime::boxed_zeroed::<inline::Scratch>();
    inline::forward(&x, &mut y, &mut scratch);
    write(&args[2], &y[..]);

    let mut x = Box::new([0f32; built::INPUT_LEN]);
    x.copy_from_slice(&input);
    let mut y = Box::new([0f32; built::OUTPUT_LEN]);
    let mut scratch = mnetc_runtime::boxed_zeroed::<built::Scratch>();
    built::forward(&x, &mut y, &mut scratch);
    write(&args[3], &y[..]);
}
"#;

#[test]
fn an_app_outside_the_workspace_builds_and_runs_the_published_crates() {
    let manifest = format!(
        "[package]\nname = \"mnetc-app\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nmnetc-runtime = {{ version = \"0.1\", features = [\"macros\"] }}\n\n\
         [build-dependencies]\nmnetc = \"0.1\"\n\n\
         # The packaged CLI, built as `cargo install` would from crates.io.\n\
         [workspace]\nmembers = [\".\", \"cli\"]\n\n\
         [patch.crates-io]\n{}",
        patches("mnetc-cli")
    );
    let app = new_app(
        "app",
        &manifest,
        &[("build.rs", BUILD_RS), ("src/main.rs", MAIN_RS)],
    );
    run(Command::new("cp")
        .arg("-r")
        .arg(packaged().join(format!("packages/mnetc-cli-{VERSION}")))
        .arg(app.join("cli")));
    let target = packaged().join("target");
    run(cargo(&app)
        .args(["build", "--quiet", "-p", "mnetc-app"])
        .env("CARGO_TARGET_DIR", &target));

    // Both networks match onnxruntime's output on the fixture's input.
    let f = fixture(MODEL);
    let (input, expected) = &f.cases[0];
    let (inline, built) = (app.join("inline.f32"), app.join("built.f32"));
    run(Command::new(target.join("debug/mnetc-app"))
        .arg(input)
        .arg(&inline)
        .arg(&built));
    let expected = read_f32(expected);
    for (what, path) in [("mobilenet!", &inline), ("build.rs", &built)] {
        let err = check_close(&read_f32(path), &expected).unwrap_or_else(|e| panic!("{what}: {e}"));
        eprintln!("{what}: max abs error {err:e} against onnxruntime");
    }

    // The packaged CLI names its version and targets, and `verify` builds generated code with
    // the runtime sources the package carries.
    run(cargo(&app)
        .args(["build", "--quiet", "-p", "mnetc-cli"])
        .env("CARGO_TARGET_DIR", &target));
    let mnetc = target.join("debug/mnetc");
    let version = run(Command::new(&mnetc).arg("--version"));
    let version = String::from_utf8_lossy(&version.stdout).into_owned();
    assert!(
        version.starts_with(&format!("mnetc {VERSION}")) && version.contains("avx2"),
        "{version}"
    );
    let verify = run(Command::new(&mnetc)
        .arg("verify")
        .arg(app.join("model.onnx"))
        .arg("--input")
        .arg(input)
        .arg("--expected")
        .arg(&f.cases[0].1));
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains("ok"),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

/// The unpacked runtime copied with its version raised to the next incompatible one, 0.2.0
/// (and, with `update_macro`, its `generated_for!` too, as that release would have it).
fn next_runtime(update_macro: bool) -> PathBuf {
    let from = packaged().join(format!("packages/mnetc-runtime-{VERSION}"));
    let to = packaged().join(format!("next-runtime-{update_macro}"));
    let _ = std::fs::remove_dir_all(&to);
    run(Command::new("cp").arg("-r").arg(&from).arg(&to));
    let manifest = std::fs::read_to_string(to.join("Cargo.toml")).unwrap();
    let package_version = format!("version = \"{VERSION}\"");
    let at = manifest.find("[package]").unwrap();
    let at = at + manifest[at..].find(&package_version).unwrap();
    let manifest = format!(
        "{}version = \"0.2.0\"{}",
        &manifest[..at],
        &manifest[at + package_version.len()..]
    );
    std::fs::write(to.join("Cargo.toml"), manifest).unwrap();
    if update_macro {
        let path = to.join("src/version.rs");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("(\"0.1\") => {};"), "{text}");
        std::fs::write(&path, text.replace("0.1", "0.2")).unwrap();
    }
    to
}

/// Builds an app whose build.rs generates a module with this mnetc against `runtime` (a
/// runtime 0.2.0 folder): the build's error output.
fn build_against(name: &str, runtime: &Path) -> String {
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nmnetc-runtime = \"0.2\"\n\n\
         [build-dependencies]\nmnetc = \"0.1\"\n\n\
         [workspace]\n\n\
         [patch.crates-io]\nmnetc-runtime = {{ path = {:?} }}\n{}",
        runtime.display(),
        patches("mnetc-runtime")
    );
    let main = "mod built {\n    include!(concat!(env!(\"OUT_DIR\"), \"/built.rs\"));\n}\n\nfn main() {\n    let _ = built::INPUT_LEN;\n}\n";
    let app = new_app(
        name,
        &manifest,
        &[("build.rs", BUILD_RS), ("src/main.rs", main)],
    );
    // Cargo.lock names runtime 0.1.0 from the workspace: let cargo pick 0.2.0.
    std::fs::remove_file(app.join("Cargo.lock")).unwrap();
    let out = cargo(&app)
        .args(["build", "--offline"])
        .env("CARGO_TARGET_DIR", packaged().join("target"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "{name} built");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_module_for_another_runtime_version_is_refused_with_a_message() {
    let stderr = build_against("old-module", &next_runtime(true));
    assert!(
        stderr.contains(
            "this module was generated by mnetc for mnetc-runtime 0.1, but it is being built \
             against mnetc-runtime 0.2, which cannot run it"
        ),
        "{stderr}"
    );
    // A release whose version changed but not its macro does not build at all.
    let stderr = build_against("stale-macro", &next_runtime(false));
    assert!(
        stderr.contains("generated_for! accepts 0.1 but the crate's version is another"),
        "{stderr}"
    );
}
