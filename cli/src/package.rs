//! `mnetc package`: a static library with a C header for an Android or iOS app (or the host).
//! Writes a small staging crate (the generated module and weights, the runtime's sources, a
//! C ABI wrapper, `Cargo.toml`), builds it with cargo as a `staticlib` for each of the
//! platform's Rust targets, and puts `<triple>/libNAME.a` and `NAME.h` into the output folder.
//! The non-Rust files (`Cargo.toml`, the header) are `tera` templates.
//!
//! The C ABI never lets a Rust panic cross it: the wrapper checks every pointer and length
//! before the kernels run, and the kernels cannot panic (their shapes are checked at compile
//! time); the library is built with `panic = "abort"` besides.

use crate::toolchain::{io, sha256_hex, std_installed, write_runtime};
use mnetc::codegen::{CodegenOptions, Target};
use mnetc::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the library runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Android,
    Ios,
    Host,
}

impl std::str::FromStr for Platform {
    type Err = Error;

    fn from_str(s: &str) -> Result<Platform> {
        match s {
            "android" => Ok(Platform::Android),
            "ios" => Ok(Platform::Ios),
            "host" => Ok(Platform::Host),
            other => Err(Error::Options(format!(
                "unknown platform '{other}'; valid platforms: android, ios, host, web"
            ))),
        }
    }
}

/// One Rust target of a platform: its triple, whether the package needs it (else it is built
/// only when installed), and the mnetc target its code uses unless `--target` says otherwise
/// (the target whose `package_triples` list it, in `mnetc-targets`).
struct Triple {
    triple: String,
    required: bool,
    default: Target,
}

fn triples(platform: Platform) -> Vec<Triple> {
    let t = |triple: &str, required| Triple {
        triple: triple.into(),
        required,
        default: Target::for_package_triple(triple).unwrap_or(Target::GENERIC),
    };
    match platform {
        Platform::Android => vec![
            t("aarch64-linux-android", true),
            t("armv7-linux-androideabi", false),
            t("x86_64-linux-android", false),
        ],
        Platform::Ios => vec![
            t("aarch64-apple-ios", true),
            t("aarch64-apple-ios-sim", false),
        ],
        Platform::Host => vec![Triple {
            default: Target::native(),
            ..t(&host_triple(), true)
        }],
    }
}

fn host_triple() -> String {
    Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("-vV")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        })
        .unwrap_or_else(|| "x86_64-unknown-linux-gnu".into())
}

/// What `mnetc package` was asked for.
pub struct Request<'a> {
    pub model: &'a Path,
    pub options: mnetc::Options,
    pub platform: Platform,
    /// Overrides every triple's default target (it must suit each triple's architecture).
    pub target: Option<Target>,
    /// Library and C symbol prefix: a C identifier.
    pub name: &'a str,
    pub out: &'a Path,
    /// Pixels in: a preprocessing preset (or `auto`, the model's default); the library also
    /// exports `NAME_run_rgba8`, `NAME_run_bgra8` and `NAME_run_nv21`.
    pub preprocess: Option<&'a str>,
}

/// One built archive.
pub struct Built {
    pub triple: String,
    pub target: Target,
    pub archive: PathBuf,
}

/// The package: the archives built, and the triples skipped because their Rust target is not
/// installed (optional ones only).
pub struct Package {
    pub header: PathBuf,
    pub built: Vec<Built>,
    pub skipped: Vec<String>,
}

const CARGO_TOML: &str = r#"[package]
name = "{{ name }}"
version = "{{ version }}"
edition = "2024"

[lib]
crate-type = ["staticlib"]
path = "src/lib.rs"

[dependencies]
mnetc-runtime = { path = "runtime", features = ["std"] }

[profile.release]
panic = "abort"
codegen-units = 4

[workspace]
"#;

const HEADER: &str = r#"/*
 * {{ name }}.h: {{ model }} compiled by mnetc {{ version }} (model sha256 {{ sha256 }}).
 * Generated; do not edit. Link lib{{ name }}.a for your target.
 *
 * Input: {{ input_len }} floats, shape {{ input_shape }} ({{ layout }}). Output: {{ output_len }}
 * floats, shape {{ output_shape }}. A {{ name }}_t owns the network's working memory
 * ({{ scratch_bytes }} bytes) and, from {{ name }}_new_threads, its worker threads; use one
 * handle per thread that runs the network at the same time. No call allocates or starts a
 * thread except {{ name }}_new and {{ name }}_new_threads.
 */
#ifndef {{ guard }}
#define {{ guard }}

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Floats in an input and an output. */
#define {{ upper }}_INPUT_LEN {{ input_len }}
#define {{ upper }}_OUTPUT_LEN {{ output_len }}

/* Return codes of {{ name }}_run. */
#define {{ upper }}_OK 0
#define {{ upper }}_ERR_NULL (-1)         /* a null handle, input or output pointer */
#define {{ upper }}_ERR_INPUT_LEN (-2)    /* input_len is not {{ upper }}_INPUT_LEN */
#define {{ upper }}_ERR_OUTPUT_LEN (-3)   /* output_len is not {{ upper }}_OUTPUT_LEN */
#define {{ upper }}_ERR_ALIGNMENT (-4)    /* input or output is not aligned for float */

typedef struct {{ name }}_t {{ name }}_t;

/* A new handle with zeroed working memory that runs the network on the calling thread alone,
 * or NULL if memory is short. Free it with {{ name }}_free. */
{{ name }}_t *{{ name }}_new(void);

/* A new handle whose runs use `threads` threads in all, the calling thread and threads - 1
 * workers it starts now (0: one per CPU the system reports), or NULL if memory or threads are
 * short. The output is the same, to the bit, on any number of threads. Between runs the
 * workers spin for some tens of microseconds, then sleep. On big.LITTLE phones ask for the
 * number of big (performance) cores, 2 to 4: a task on a little core holds up every layer. */
{{ name }}_t *{{ name }}_new_threads(size_t threads);

/* Threads a handle's runs use (1 for a handle from {{ name }}_new). */
size_t {{ name }}_threads(const {{ name }}_t *net);

/* Frees a handle from {{ name }}_new or {{ name }}_new_threads, stopping its workers; NULL is
 * ignored. */
void {{ name }}_free({{ name }}_t *net);

/* Runs the network: reads input_len floats at input, writes output_len floats at output.
 * Returns {{ upper }}_OK (0) or a negative {{ upper }}_ERR_* code, in which case output is
 * untouched. Never aborts on bad arguments it can see. What it cannot see is the caller's
 * error, with undefined behaviour: a handle already freed (or freed twice), buffers shorter
 * than the lengths given, one handle in two calls at the same time. */
int {{ name }}_run({{ name }}_t *net, const float *input, size_t input_len, float *output,
    size_t output_len);

{% if preprocess %}/* Camera frames and decoded photos in (preprocessing {{ preprocess }}).
 * The frame is resized and cropped to the input ({{ fit }}), normalised and classified; nothing
 * is allocated. pixels: height rows of row_bytes bytes (row_bytes >= the pixels' bytes; an iOS
 * CVPixelBuffer's bytesPerRow, an Android Bitmap's getRowBytes()), 4 bytes a pixel: R G B A
 * (Android Bitmap ARGB_8888) or B G R A (kCVPixelFormatType_32BGRA); alpha is ignored. NV21:
 * the Y plane (height rows of row_bytes) directly followed by the interleaved V U plane
 * ((height + 1) / 2 rows of row_bytes), BT.601 full range, as Android cameras deliver it.
 * Width and height at most {{ max_side }}, and at most {{ max_scale }} times the resized side.
 * Returns {{ upper }}_OK or a negative code; output is untouched on error. */
#define {{ upper }}_ERR_FRAME_SIZE (-5)     /* a zero width or height, or one above {{ max_side }} */
#define {{ upper }}_ERR_ROW_BYTES (-6)      /* row_bytes shorter than a row, or absurd */
#define {{ upper }}_ERR_FRAME_TOO_LARGE (-7) /* more than {{ max_scale }} times the resized side */
int {{ name }}_run_rgba8({{ name }}_t *net, const unsigned char *pixels, size_t width,
    size_t height, size_t row_bytes, float *output, size_t output_len);
int {{ name }}_run_bgra8({{ name }}_t *net, const unsigned char *pixels, size_t width,
    size_t height, size_t row_bytes, float *output, size_t output_len);
int {{ name }}_run_nv21({{ name }}_t *net, const unsigned char *pixels, size_t width,
    size_t height, size_t row_bytes, float *output, size_t output_len);

{% endif %}/* "mnetc <version> <target> sha256:<model sha256>", a static NUL-terminated string. */
const char *{{ name }}_version(void);

#ifdef __cplusplus
}
#endif

#endif /* {{ guard }} */
"#;

fn render(template: &str, context: &tera::Context) -> Result<String> {
    tera::Tera::one_off(template, context, false)
        .map_err(|e| Error::Internal(format!("template: {e}")))
}

/// The C ABI over the generated module `net`; with `frames`, also the frame entry points.
fn wrapper(name: &str, version: &str, frames: bool) -> String {
    let mut out = format!(
        r#"//! The C ABI of {name} (see {name}.h). Generated by mnetc; do not edit.

#[allow(dead_code, clippy::all)]
mod net {{
    include!("net.rs");
}}

use core::ffi::{{c_char, c_int}};
use mnetc_runtime::pool::{{Parallel, ThreadPool}};

/// A handle: the network's working memory{frame_doc} and the pool its runs use.
struct Handle {{
    scratch: Box<net::Scratch>,{frame_field}
    pool: ThreadPool,
}}

#[unsafe(no_mangle)]
pub extern "C" fn {name}_new() -> *mut Handle {{
    {name}_new_threads(1)
}}

#[unsafe(no_mangle)]
pub extern "C" fn {name}_new_threads(threads: usize) -> *mut Handle {{
    let (Some(scratch), Ok(pool)) = (mnetc_runtime::try_boxed_zeroed::<net::Scratch>(), ThreadPool::try_new(threads)) else {{
        return core::ptr::null_mut();
    }};{frame_alloc}
    Box::into_raw(Box::new(Handle {{ scratch,{frame_init} pool }}))
}}

/// # Safety
/// `net` is null or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn {name}_threads(net: *const Handle) -> usize {{
    if net.is_null() {{
        return 0;
    }}
    // SAFETY: a live handle (the caller's contract).
    unsafe {{ (*net).pool.threads() }}
}}

/// # Safety
/// `net` is null or a handle from `{name}_new` or `{name}_new_threads` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn {name}_free(net: *mut Handle) {{
    if !net.is_null() {{
        // SAFETY: a live handle from Box::into_raw; dropping it joins the workers.
        drop(unsafe {{ Box::from_raw(net) }});
    }}
}}

/// # Safety
/// `net` is null or a live handle; `input` is null or points to `input_len` readable floats;
/// `output` is null or points to `output_len` writable floats not overlapping `input`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn {name}_run(
    net: *mut Handle,
    input: *const f32,
    input_len: usize,
    output: *mut f32,
    output_len: usize,
) -> c_int {{
    if net.is_null() || input.is_null() || output.is_null() {{
        return -1;
    }}
    if input_len != net::INPUT_LEN {{
        return -2;
    }}
    if output_len != net::OUTPUT_LEN {{
        return -3;
    }}
    let align = core::mem::align_of::<f32>();
    if input as usize % align != 0 || output as usize % align != 0 {{
        return -4;
    }}
    // SAFETY: non-null, aligned, and of the lengths checked above (the caller's contract);
    // the handle is live and not shared with another thread during the call.
    unsafe {{
        let input = &*(input as *const [f32; net::INPUT_LEN]);
        let output = &mut *(output as *mut [f32; net::OUTPUT_LEN]);
        let h = &mut *net;
        net::forward_parallel(input, output, &mut h.scratch, &h.pool);
    }}
    0
}}

static VERSION: &[u8] = b"{version}\0";

#[unsafe(no_mangle)]
pub extern "C" fn {name}_version() -> *const c_char {{
    VERSION.as_ptr() as *const c_char
}}
"#,
        frame_doc = if frames { ", the frame resizer's" } else { "" },
        frame_field = if frames {
            "\n    frame: Box<net::FrameScratch>,"
        } else {
            ""
        },
        frame_alloc = if frames {
            "\n    let Some(frame) = mnetc_runtime::try_boxed_zeroed::<net::FrameScratch>() else {\n        return core::ptr::null_mut();\n    };"
        } else {
            ""
        },
        frame_init = if frames { " frame," } else { "" },
    );
    if frames {
        out.push_str(&frame_functions(name));
    }
    out
}

/// `NAME_run_rgba8`, `NAME_run_bgra8` and `NAME_run_nv21` over the module's `forward_frame`.
fn frame_functions(name: &str) -> String {
    let mut out = String::from(
        r#"
use mnetc_runtime::frame::{Frame, FrameError, MAX_SIDE, PixelLayout};

/// # Safety
/// As `run_rgba8`'s.
unsafe fn run_frame(
    net: *mut Handle,
    pixels: *const u8,
    width: usize,
    height: usize,
    row_bytes: usize,
    layout: PixelLayout,
    output: *mut f32,
    output_len: usize,
) -> c_int {
    if net.is_null() || pixels.is_null() || output.is_null() {
        return -1;
    }
    if output_len != net::OUTPUT_LEN {
        return -3;
    }
    if output as usize % core::mem::align_of::<f32>() != 0 {
        return -4;
    }
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return -5;
    }
    let (row, rows) = match layout {
        PixelLayout::Nv21 | PixelLayout::Nv12 => (width.div_ceil(2) * 2, height + height.div_ceil(2)),
        _ => (width * layout.bytes_per_pixel(), height),
    };
    // The bytes the frame spans, from its size and stride (the caller's contract).
    let len = (rows - 1).checked_mul(row_bytes).and_then(|n| n.checked_add(row));
    let Some(len) = len.filter(|&n| row_bytes >= row && n <= isize::MAX as usize) else {
        return -6;
    };
    // SAFETY: non-null, `len` readable bytes (the caller's contract), the handle live and not
    // shared during the call; the output checked above.
    let (bytes, h, output) = unsafe {
        (
            core::slice::from_raw_parts(pixels, len),
            &mut *net,
            &mut *(output as *mut [f32; net::OUTPUT_LEN]),
        )
    };
    let frame = Frame { bytes, width, height, row_bytes, layout };
    match net::forward_frame_parallel(&frame, output, &mut h.scratch, &mut h.frame, &h.pool) {
        Ok(()) => 0,
        Err(FrameError::Size) => -5,
        Err(FrameError::RowBytes | FrameError::TooFewBytes) => -6,
        Err(FrameError::TooLarge | FrameError::Fit) => -7,
    }
}
"#,
    );
    for (suffix, layout) in [("rgba8", "Rgba8"), ("bgra8", "Bgra8"), ("nv21", "Nv21")] {
        out.push_str(&format!(
            r#"
/// # Safety
/// `net` is null or a live handle; `pixels` is null or points to the frame's bytes (see
/// {name}.h); `output` is null or points to `output_len` writable floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn {name}_run_{suffix}(
    net: *mut Handle,
    pixels: *const u8,
    width: usize,
    height: usize,
    row_bytes: usize,
    output: *mut f32,
    output_len: usize,
) -> c_int {{
    // SAFETY: the caller's contract, passed on.
    unsafe {{ run_frame(net, pixels, width, height, row_bytes, PixelLayout::{layout}, output, output_len) }}
}}
"#
        ));
    }
    out
}

fn is_c_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Builds the package.
pub fn package(req: &Request) -> Result<Package> {
    if !is_c_identifier(req.name) {
        return Err(Error::Options(format!(
            "--name '{}': the library name is the prefix of its C functions, so it must be a C identifier (letters, digits, _)",
            req.name
        )));
    }
    let bytes = mnetc::limits::read_model(req.model)?;
    let sha = sha256_hex(&bytes);
    // Which triples, with which mnetc target; required ones must be installed.
    let mut plan = Vec::new();
    let mut skipped = Vec::new();
    for t in triples(req.platform) {
        if !std_installed(&t.triple) {
            if t.required {
                return Err(Error::Options(format!(
                    "packaging for {:?} needs Rust's standard library for {}: rustup target add {}",
                    req.platform, t.triple, t.triple
                )));
            }
            skipped.push(t.triple);
            continue;
        }
        let target = req.target.unwrap_or(t.default);
        let arch = t.triple.split('-').next().unwrap_or_default();
        let arch = if arch.starts_with("armv7") {
            "arm"
        } else {
            arch
        };
        if let Some(want) = target.desc().arch
            && want != arch
        {
            return Err(Error::Options(format!(
                "--target {target} is for {want}; {} is {arch}",
                t.triple
            )));
        }
        plan.push((t.triple, target));
    }
    // The staging crate (kept between runs, so rebuilds are incremental).
    let staging = req.out.join(".mnetc-build");
    std::fs::create_dir_all(staging.join("src")).map_err(io(&staging))?;
    write_runtime(&staging.join("runtime"))?;
    let version = env!("CARGO_PKG_VERSION");
    let mut ctx = tera::Context::new();
    ctx.insert("name", req.name);
    ctx.insert("version", version);
    let toml = staging.join("Cargo.toml");
    std::fs::write(&toml, render(CARGO_TOML, &ctx)?).map_err(io(&toml))?;
    let graph = mnetc::frontend_bytes(&bytes, req.model, &req.options)?;
    let preprocess = req
        .preprocess
        .map(|p| mnetc::preprocess::resolve(p, &graph))
        .transpose()?;
    let mut built: Vec<Built> = Vec::new();
    let mut header_target = None;
    for (triple, target) in &plan {
        let codegen = CodegenOptions {
            target: *target,
            preprocess: preprocess.clone(),
            ..CodegenOptions::default()
        };
        let generated = mnetc::compile_graph(&graph, &codegen)?;
        for (rel, data) in [
            ("src/net.rs", generated.source.as_bytes()),
            ("src/net.weights", &generated.weights[..]),
        ] {
            let path = staging.join(rel);
            std::fs::write(&path, data).map_err(io(&path))?;
        }
        let version_string = format!("mnetc {version} {target} sha256:{sha}");
        let lib = staging.join("src/lib.rs");
        std::fs::write(
            &lib,
            wrapper(req.name, &version_string, preprocess.is_some()),
        )
        .map_err(io(&lib))?;
        let var = format!(
            "CARGO_TARGET_{}_RUSTFLAGS",
            triple.to_uppercase().replace('-', "_")
        );
        // Flags the caller set for this triple come after the target's (a sanitizer build:
        // `-Zsanitizer=address` with a nightly cargo, as tests/c/sanitize.sh does).
        let flags = match std::env::var(&var) {
            Ok(extra) if !extra.trim().is_empty() => format!("{} {extra}", target.rustflags()),
            _ => target.rustflags(),
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args(["build", "--release", "--quiet", "--target", triple])
            .arg("--manifest-path")
            .arg(&toml)
            .env("CARGO_TARGET_DIR", staging.join("target"))
            .env_remove("RUSTFLAGS")
            .env(var, flags.trim())
            .output()
            .map_err(|e| Error::Tool {
                program: "cargo".into(),
                reason: e.to_string(),
            })?;
        if !out.status.success() {
            return Err(Error::GeneratedBuild(format!(
                "building the library for {triple} failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        // Kept aside per triple (the next build overwrites the target folder's copy).
        let archive = format!("lib{}.a", req.name);
        let from = staging
            .join("target")
            .join(triple)
            .join("release")
            .join(&archive);
        let kept = staging.join("archives").join(triple);
        std::fs::create_dir_all(&kept).map_err(io(&kept))?;
        std::fs::copy(&from, kept.join(&archive)).map_err(io(&from))?;
        header_target.get_or_insert((generated, *target));
        built.push(Built {
            triple: triple.clone(),
            target: *target,
            archive: kept.join(&archive),
        });
    }
    let (generated, _) = header_target.expect("at least the required triple is built");
    let input_shape = graph.shape(graph.input.value).unwrap_or(&[]).to_vec();
    let output_shape = graph.shape(graph.outputs[0]).unwrap_or(&[]).to_vec();
    let upper = req.name.to_uppercase();
    ctx.insert(
        "model",
        &req.model
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned()),
    );
    ctx.insert("sha256", &sha);
    ctx.insert("upper", &upper);
    ctx.insert("guard", &format!("{upper}_H"));
    ctx.insert("input_len", &input_shape.iter().product::<usize>());
    ctx.insert("output_len", &output_shape.iter().product::<usize>());
    ctx.insert("input_shape", &format!("{input_shape:?}"));
    ctx.insert("output_shape", &format!("{output_shape:?}"));
    ctx.insert(
        "layout",
        &format!("{:?}", graph.input.layout).to_uppercase(),
    );
    ctx.insert("scratch_bytes", &generated.summary.scratch_bytes);
    ctx.insert("preprocess", &preprocess.as_ref().map(|p| p.describe()));
    ctx.insert("max_side", &mnetc_runtime::frame::MAX_SIDE);
    ctx.insert("max_scale", &mnetc_runtime::frame::MAX_SCALE);
    ctx.insert(
        "fit",
        &match preprocess.as_ref().map(|p| p.resize) {
            Some(mnetc::preprocess::Resize::ShorterSideThenCrop { fraction }) => {
                format!("shorter side to input / {fraction}, centre crop")
            }
            _ => "the whole frame stretched to the input".to_string(),
        },
    );
    // Every build succeeded: only now do the results appear in the output folder.
    for b in &mut built {
        let dir = req.out.join(&b.triple);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let to = dir.join(format!("lib{}.a", req.name));
        std::fs::copy(&b.archive, &to).map_err(io(&b.archive))?;
        b.archive = to;
    }
    let header = req.out.join(format!("{}.h", req.name));
    std::fs::write(&header, render(HEADER, &ctx)?).map_err(io(&header))?;
    Ok(Package {
        header,
        built,
        skipped,
    })
}
