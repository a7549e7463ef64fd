//! Code generation: the optimised graph becomes a Rust module and a weights file.
//!
//! [`generate`] is the pure core (no I/O) under [`crate::compile_graph`], which the CLI, the
//! build.rs [`crate::Builder`] and the proc-macro share, so all three produce the same code for
//! the same model and options: [`lower`] runs each node through its op family's lowering,
//! [`plan`] places activations in the arena, [`emit`] writes tokens and the weights blob.

pub mod emit;
pub mod lower;
pub mod plan;
pub mod stem;

use crate::error::{Error, Result};
use crate::ir::Graph;
pub use crate::target::Target;
use std::path::Path;

/// How to generate code, beyond the front end's [`crate::Options`].
#[derive(Clone, Debug)]
pub struct CodegenOptions {
    pub target: Target,
    /// How the module's `include_bytes!` names the weights file.
    pub weights_file: WeightsFile,
    /// Path of the runtime crate in the user's code.
    pub runtime: String,
    /// Leave the weights out of the module: it gets a `Net` whose `from_bytes` reads them at
    /// run time, and [`Generated::weights`] is a weights file in that format (header, layout
    /// hash, blob).
    pub runtime_weights: bool,
    /// Photos in: the module also gets `forward_rgb8`, which takes the photo's 8-bit RGB pixels
    /// (resized and cropped to the input's size) and applies this preprocessing.
    pub preprocess: Option<crate::preprocess::Preprocess>,
}

impl Default for CodegenOptions {
    fn default() -> Self {
        CodegenOptions {
            target: Target::GENERIC,
            weights_file: WeightsFile::Named("net.weights".into()),
            runtime: "::mnetc_runtime".into(),
            runtime_weights: false,
            preprocess: None,
        }
    }
}

/// The weights file a module's `include_bytes!` reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WeightsFile {
    /// This name (or path), relative to the module's own file.
    Named(String),
    /// `DIR/HASH.weights` in the folder given, HASH being the first 16 bytes of the weights'
    /// SHA-256 in hex: content-addressed files that repeated builds reuse (`mobilenet!`'s).
    ContentAddressed(String),
}

impl WeightsFile {
    /// The path `include_bytes!` names for these weights.
    pub fn resolve(&self, weights: &[u8]) -> String {
        match self {
            WeightsFile::Named(name) => name.clone(),
            WeightsFile::ContentAddressed(dir) => {
                use sha2::Digest;
                let hash: String = sha2::Sha256::digest(weights)
                    .iter()
                    .take(16)
                    .map(|b| format!("{b:02x}"))
                    .collect();
                format!("{}/{hash}.weights", dir.trim_end_matches('/'))
            }
        }
    }
}

/// What [`generate`] produces.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The formatted Rust module, header included.
    pub source: String,
    /// The weights file its `include_bytes!` reads (or, with
    /// [`CodegenOptions::runtime_weights`], the file `Net::from_bytes` reads).
    pub weights: Vec<u8>,
    /// Where the module expects the weights file ([`WeightsFile::resolve`]), relative to the
    /// module's own file unless absolute.
    pub weights_file: String,
    pub summary: Summary,
    /// The kernel calls of `forward`, in order (the generated `STEPS`).
    pub steps: Vec<StepInfo>,
}

/// One kernel call of the generated code.
#[derive(Clone, Debug, PartialEq)]
pub struct StepInfo {
    pub node: String,
    pub kernel: &'static str,
    pub macs: u64,
    /// Tasks the call is split into (`forward_parallel` runs them on the pool's threads).
    pub tasks: usize,
}

impl Generated {
    /// Writes the module to `rs_path` and the weights beside it as [`Generated::weights_file`].
    /// Both go to temporary names first and are renamed into place only when both are written,
    /// so a failure never leaves a half-written pair.
    pub fn write(&self, rs_path: &Path) -> Result<()> {
        let weights_file = self.weights_file.as_str();
        let dir = rs_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let weights_path = dir.join(weights_file);
        let io = |path: &Path, source: std::io::Error| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let tmp = |p: &Path| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            dir.join(format!(".{name}.tmp-{}", std::process::id()))
        };
        let (tmp_rs, tmp_w) = (tmp(rs_path), tmp(&weights_path));
        let result = (|| {
            std::fs::write(&tmp_w, &self.weights).map_err(|e| io(&weights_path, e))?;
            std::fs::write(&tmp_rs, &self.source).map_err(|e| io(rs_path, e))?;
            std::fs::rename(&tmp_w, &weights_path).map_err(|e| io(&weights_path, e))?;
            std::fs::rename(&tmp_rs, rs_path).map_err(|e| io(rs_path, e))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp_rs);
            let _ = std::fs::remove_file(&tmp_w);
        }
        result
    }
}

/// Numbers `mnetc compile` prints.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub layers: usize,
    pub params: u64,
    pub macs: u64,
    pub weight_bytes: usize,
    pub scratch_bytes: usize,
    pub kernel_calls: usize,
}

/// The first bytes of a run-time weights file.
pub const WEIGHTS_MAGIC: [u8; 8] = *b"MNETCWTS";
/// Version of the run-time weights file format.
pub const WEIGHTS_VERSION: u32 = 1;
/// Bytes before the blob in a run-time weights file.
pub const WEIGHTS_HEADER: usize = 64;

/// The `mnetc-runtime` version generated code asks for (`generated_for!`): this compiler's own,
/// as the crates are released together at one version, cut to the part Cargo's semver rules
/// keep fixed among compatible releases (`"0.1"` for 0.1.x, `"2"` for 2.x.y).
pub fn runtime_version() -> &'static str {
    let version = env!("CARGO_PKG_VERSION");
    let major = version.split('.').next().unwrap_or(version);
    let end = if major == "0" {
        version
            .match_indices('.')
            .nth(1)
            .map_or(version.len(), |(i, _)| i)
    } else {
        major.len()
    };
    &version[..end]
}

/// What a weights blob must match to be used by a module: SHA-256 of the target, the input and
/// output shapes, and the length of every packed tensor in order (the packing follows from the
/// target and the shapes). Two networks with the same architecture and target share it, so
/// retrained weights load into a module built before them.
pub fn layout_hash(program: &lower::Program, target: Target, blob: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let shape = |t: lower::TensorId| format!("{:?}", program.tensors[t].shape);
    h.update(format!(
        "mnetc weights v{WEIGHTS_VERSION}\ntarget {}\ninput {}\noutput {}\nbytes {}\n",
        target.name(),
        shape(program.input),
        shape(program.output),
        blob.len()
    ));
    for w in &program.weights {
        match w.elem() {
            crate::program::Elem::F32 => h.update(format!("{}\n", w.len())),
            e => h.update(format!("{} {}\n", w.len(), e.rust())),
        }
    }
    h.finalize().into()
}

/// A run-time weights file: `MNETCWTS`, the format version (u32 LE), 4 zero bytes, the layout
/// hash (32 bytes), the blob's length (u64 LE), zeros up to byte 64, then the blob.
pub fn weights_file(layout: &[u8; 32], blob: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(WEIGHTS_HEADER + blob.len());
    out.extend_from_slice(&WEIGHTS_MAGIC);
    out.extend_from_slice(&WEIGHTS_VERSION.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(layout);
    out.extend_from_slice(&(blob.len() as u64).to_le_bytes());
    out.resize(WEIGHTS_HEADER, 0);
    out.extend_from_slice(blob);
    out
}

/// Generates the module for an optimised graph. `header` is written as `//` comments on top.
pub fn generate(graph: &Graph, header: &str, options: &CodegenOptions) -> Result<Generated> {
    let mut program = lower::lower(graph, options.target)?;
    let mut stem = None;
    if let Some(pre) = &options.preprocess {
        let shape = &program.tensors[program.input].shape;
        if !matches!(shape.as_slice(), [1, 3, _, _] | [1, _, _, 3]) {
            return Err(Error::Options(format!(
                "preprocessing '{}' needs a 3-channel image input; the model's is {shape:?}",
                pre.name
            )));
        }
        stem = stem::fold(&mut program, pre);
    }
    let plan = plan::plan(&program);
    let input_len = program.tensors[program.input].numel();
    crate::limits::check_generated(
        program.weights_bytes(),
        4 * (plan.arena_len as u64 + input_len as u64),
    )?;
    let (weight_offsets, blob) = emit::weights_blob(&program);
    let layout = layout_hash(&program, options.target, &blob);
    let weights_path = options.weights_file.resolve(&blob);
    let module = emit::Module {
        program: &program,
        plan: &plan,
        weight_offsets: &weight_offsets,
        weights_len: blob.len(),
        weights_file: (!options.runtime_weights).then_some(weights_path.as_str()),
        layout,
        runtime: &options.runtime,
        target: options.target,
        input_layout: graph.input.layout,
        preprocess: options.preprocess.as_ref(),
        stem: stem.as_ref(),
    };
    let weights = if options.runtime_weights {
        weights_file(&layout, &blob)
    } else {
        blob
    };
    let tokens = module.tokens();
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| Error::Internal(format!("generated code does not parse: {e}")))?;
    let mut source = String::new();
    for line in header.lines() {
        source.push_str("// ");
        source.push_str(line);
        source.push('\n');
    }
    source.push('\n');
    source.push_str(&prettyplease::unparse(&file));
    let stats = crate::inspect::summarize(graph);
    Ok(Generated {
        source,
        summary: Summary {
            layers: stats.layers.len(),
            params: stats.total_params,
            macs: stats.total_macs,
            weight_bytes: module.weights_len,
            scratch_bytes: 4 * (plan.arena_len + input_len),
            kernel_calls: program.steps.len(),
        },
        weights,
        weights_file: weights_path,
        steps: program
            .steps
            .iter()
            .map(|s| StepInfo {
                node: s.node.clone(),
                kernel: s.kernel.kind.label(),
                macs: s.macs,
                tasks: s.kernel.tasks,
            })
            .collect(),
    })
}
