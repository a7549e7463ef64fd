//! mnetc: a MobileNet compiler. An ONNX MobileNet (as PyTorch, tf2onnx and other exporters
//! write it, float or int8 QDQ) or mnetc's own JSON description of one goes in; a Rust module
//! specialised to one width multiplier, one resolution and one CPU target comes out, with its
//! weights packed into a side file. The module calls the kernels of the `mnetc-runtime` crate
//! (`no_std`, no dependencies), which is the only thing a program that runs it depends on.
//!
//! This crate holds the front ends ([`frontend`], [`import`]), the typed IR ([`ir`]), the
//! passes ([`passes`]: BatchNorm folding, conv + BN + ReLU/ReLU6 fusion, shape specialisation),
//! the reference interpreter ([`interp`]), memory planning and code generation ([`codegen`]),
//! and the three ways to use them from Rust:
//!
//! - [`Builder`], for build scripts: a model in, `OUT_DIR/NAME.rs` and `NAME.weights` out;
//! - [`compile_graph`] (after [`frontend`] or [`frontend_bytes`]): the module's source and
//!   weights in memory, for tools that write them elsewhere or generate several targets;
//! - the `mobilenet!` macro of `mnetc-macros`, re-exported by `mnetc-runtime` with its `macros`
//!   feature, built on [`inline`].
//!
//! The `mnetc` command (`compile`, `verify`, `bench`, `package`, ...) is the `mnetc-cli` crate:
//! `cargo install mnetc-cli`. The `photo` feature adds [`photo`]: decoding and resizing photos
//! into a model's input.
//!
//! # A module in memory
//!
//! A small MobileNet v1 from a JSON description (two depthwise separable blocks at 32 x 32,
//! seeded random weights), its layers counted, then generated for the portable target; the
//! reference interpreter runs the same graph (the oracle the generated code is tested against):
//!
//! ```
//! let description = r#"{
//!     "name": "tiny", "alpha": 1.0, "resolution": 32, "classes": 10, "activation": "relu6",
//!     "stem": {"channels": 8, "stride": 2},
//!     "blocks": [{"channels": 16, "stride": 2}, {"channels": 32, "stride": 1}],
//!     "weights": {"random": 7}
//! }"#;
//! let graph = mnetc::frontend_bytes(
//!     description.as_bytes(),
//!     std::path::Path::new("tiny.json"),
//!     &mnetc::Options::default(),
//! )?;
//! let summary = mnetc::inspect::summarize(&graph);
//! assert_eq!(summary.input, [1, 3, 32, 32]);
//!
//! let generated = mnetc::compile_graph(&graph, &mnetc::codegen::CodegenOptions::default())?;
//! assert!(generated.source.contains("pub fn forward("));
//! assert_eq!(generated.summary.macs, summary.total_macs);
//! // `generated.source` goes to `net.rs`, `generated.weights` to `generated.weights_file`
//! // beside it; the module then runs with `net::forward(&input, &mut output, &mut scratch)`.
//!
//! let input = mnetc::ir::Tensor::f32(vec![1, 3, 32, 32], vec![0.5; 3 * 32 * 32]);
//! let outputs = mnetc::interp::run(&graph, &input)?;
//! assert_eq!(outputs[0].shape, [1, 10]);
//! # Ok::<(), mnetc::Error>(())
//! ```
//!
//! # In a build script
//!
//! [`Builder`] writes the module and its weights (to `OUT_DIR` in a build script; here to a
//! folder of the example's own):
//!
//! ```
//! # let dir = std::env::temp_dir().join(format!("mnetc-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # std::fs::write(dir.join("tiny.json"), r#"{"name": "tiny", "alpha": 1.0, "resolution": 32,
//! #     "classes": 10, "activation": "relu", "stem": {"channels": 8, "stride": 2},
//! #     "blocks": [{"channels": 16, "stride": 2}], "weights": {"random": 7}}"#).unwrap();
//! # let model = dir.join("tiny.json");
//! // build.rs: `mnetc::Builder::new().name("net").compile("model.onnx")?;`
//! let module = mnetc::Builder::new()
//!     .name("net")
//!     .resolution(32)
//!     .out_dir(&dir)
//!     .compile(&model)?;
//! assert!(module.ends_with("net.rs") && dir.join("net.weights").exists());
//! // src/lib.rs: `mod net { include!(concat!(env!("OUT_DIR"), "/net.rs")); }`
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), mnetc::Error>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
pub mod codegen;
pub mod error;
pub mod import;
pub mod inline;
pub mod inspect;
pub mod interp;
pub mod ir;
pub mod limits;
pub mod ops;
pub mod passes;
#[cfg(feature = "photo")]
#[cfg_attr(docsrs, doc(cfg(feature = "photo")))]
pub mod photo;
pub mod preprocess;
pub mod program;
pub mod ptq;
pub mod rng;
pub mod target;

/// Types generated from the official `onnx.proto` by prost.
#[allow(clippy::all, missing_docs)]
pub mod onnx_proto {
    include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
}

pub use builder::Builder;
pub use error::{Error, Result};

/// What the user asked for, shared by every front end.
#[derive(Clone, Debug)]
pub struct Options {
    /// Width multiplier (JSON descriptions only).
    pub alpha: Option<f64>,
    /// Input height and width; re-specialises fully convolutional ONNX models.
    pub resolution: Option<usize>,
    /// Run the optimising passes (folding, fusion, dead-node removal).
    pub optimize: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            alpha: None,
            resolution: None,
            optimize: true,
        }
    }
}

/// Compiles a model to a Rust module and its weights: [`frontend_bytes`], then
/// [`compile_graph`]. `path` names the model in the generated header and in messages; only its
/// file name is written, so the output does not depend on where the model sits.
pub fn compile_bytes(
    bytes: &[u8],
    path: &std::path::Path,
    options: &Options,
    codegen: &codegen::CodegenOptions,
) -> Result<codegen::Generated> {
    compile_graph(&frontend_bytes(bytes, path, options)?, codegen)
}

/// Generates the module for a graph from [`frontend`] / [`frontend_bytes`]: parse once, then
/// generate for as many targets and options as needed. The header names the model file and the
/// front-end options the graph carries ([`ir::Provenance`]).
pub fn compile_graph(
    graph: &ir::Graph,
    codegen: &codegen::CodegenOptions,
) -> Result<codegen::Generated> {
    let p = &graph.provenance;
    let opt = |v: Option<String>| v.unwrap_or_else(|| "model's own".into());
    let header = format!(
        "@generated by mnetc {} from {} (sha256 {}). Do not edit.\n\
         options: target {}, alpha {}, resolution {}, optimize {}{}\n\
         input {:?} ({:?}), output {:?}",
        env!("CARGO_PKG_VERSION"),
        p.file,
        p.sha256,
        codegen.target,
        opt(p.alpha.map(|a| a.to_string())),
        opt(p.resolution.map(|r| r.to_string())),
        p.optimize,
        codegen
            .preprocess
            .as_ref()
            .map(|pre| format!(", preprocess {}", pre.name))
            .unwrap_or_default(),
        graph.shape(graph.input.value).unwrap_or(&[]),
        graph.input.layout,
        graph
            .outputs
            .iter()
            .map(|&o| graph.shape(o).unwrap_or(&[]).to_vec())
            .collect::<Vec<_>>(),
    );
    codegen::generate(graph, &header, codegen)
}

/// Reads a model and runs the passes: the graph every back end starts from.
pub fn frontend(path: &std::path::Path, options: &Options) -> Result<ir::Graph> {
    let bytes = limits::read_model(path)?;
    frontend_bytes(&bytes, path, options)
}

/// [`frontend`] on bytes already read; `path` names the model in messages (and locates files a
/// JSON description refers to).
pub fn frontend_bytes(
    bytes: &[u8],
    path: &std::path::Path,
    options: &Options,
) -> Result<ir::Graph> {
    use sha2::Digest;
    let mut graph = import::load_bytes(bytes, path, options.alpha, options.resolution)?;
    passes::run(&mut graph, options.resolution, options.optimize)?;
    graph.provenance = ir::Provenance {
        file: path.file_name().map_or_else(
            || path.display().to_string(),
            |f| f.to_string_lossy().into_owned(),
        ),
        sha256: sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        alpha: options.alpha,
        resolution: options.resolution,
        optimize: options.optimize,
    };
    Ok(graph)
}
