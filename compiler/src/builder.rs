//! The build.rs front end, in the style of prost-build.

use crate::Options;
use crate::codegen::{CodegenOptions, Generated, Target, WeightsFile};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Compiles a model from a build script into `OUT_DIR`.
///
/// # Example
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), mnetc::Error> {
///     mnetc::Builder::new().resolution(160).name("net").compile("model.onnx")?;
///     Ok(())
/// }
/// // src/lib.rs: mod net { include!(concat!(env!("OUT_DIR"), "/net.rs")); }
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    options: Options,
    codegen: CodegenOptions,
    preprocess: Option<String>,
    name: Option<String>,
    out_dir: Option<PathBuf>,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            options: Options::default(),
            codegen: CodegenOptions::default(),
            preprocess: None,
            name: None,
            out_dir: None,
        }
    }

    /// The code generation target (default `generic`).
    pub fn target(mut self, target: Target) -> Self {
        self.codegen.target = target;
        self
    }

    /// Input resolution (height = width).
    pub fn resolution(mut self, resolution: usize) -> Self {
        self.options.resolution = Some(resolution);
        self
    }

    /// Width multiplier, for JSON descriptions.
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.options.alpha = Some(alpha);
        self
    }

    /// Run the optimising passes (default true).
    pub fn optimize(mut self, optimize: bool) -> Self {
        self.options.optimize = optimize;
        self
    }

    /// Base name of the files written: `NAME.rs` and `NAME.weights` (default: the model's file
    /// stem, with characters that are not allowed in file names replaced).
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// Where to write (default: the `OUT_DIR` Cargo gives build scripts).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Leave the weights out of the module (default false): it gets a `Net` whose
    /// `from_bytes` reads `NAME.weights` (or any weights file for the same network and target)
    /// at run time; needs the runtime's `alloc` feature.
    pub fn runtime_weights(mut self, runtime_weights: bool) -> Self {
        self.codegen.runtime_weights = runtime_weights;
        self
    }

    /// Photos in: the module also gets `forward_rgb8` with this preprocessing, a preset name
    /// (`torchvision`, `keras`, `keras-v3`, `caffe`, `unit`) or `auto` (the model's default,
    /// `mnetc::preprocess::default_for`).
    pub fn preprocess(mut self, preset: &str) -> Self {
        self.preprocess = Some(preset.to_string());
        self
    }

    /// The path of the runtime crate in the generated code (default `::mnetc_runtime`).
    pub fn runtime_path(mut self, path: &str) -> Self {
        self.codegen.runtime = path.to_string();
        self
    }

    /// Compiles `model`, writes `NAME.rs` and `NAME.weights`, prints `cargo:rerun-if-changed`
    /// for the model, and returns the path of the `.rs` file.
    pub fn compile(&self, model: impl AsRef<Path>) -> Result<PathBuf> {
        let model = model.as_ref();
        let out_dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| {
                    Error::Options(
                        "OUT_DIR is not set: call Builder::out_dir outside build scripts".into(),
                    )
                })?,
        };
        println!("cargo:rerun-if-changed={}", model.display());
        let name = match &self.name {
            Some(n) => n.clone(),
            None => model
                .file_stem()
                .map(|s| {
                    s.to_string_lossy()
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                        .collect()
                })
                .unwrap_or_else(|| "net".into()),
        };
        let codegen = CodegenOptions {
            weights_file: WeightsFile::Named(format!("{name}.weights")),
            ..self.codegen.clone()
        };
        let generated = self.generate(model, &codegen)?;
        std::fs::create_dir_all(&out_dir).map_err(|source| Error::Io {
            path: out_dir.display().to_string(),
            source,
        })?;
        let rs = out_dir.join(format!("{name}.rs"));
        generated.write(&rs)?;
        Ok(rs)
    }

    fn generate(&self, model: &Path, codegen: &CodegenOptions) -> Result<Generated> {
        let bytes = crate::limits::read_model(model)?;
        let graph = crate::frontend_bytes(&bytes, model, &self.options)?;
        let mut codegen = codegen.clone();
        if let Some(preset) = &self.preprocess {
            codegen.preprocess = Some(crate::preprocess::resolve(preset, &graph)?);
        }
        crate::compile_graph(&graph, &codegen)
    }
}
