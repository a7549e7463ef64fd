//! The core of the `mobilenet!` proc-macro (crate `mnetc-macros`), kept here so that it is the
//! same code path as the CLI and the [`crate::Builder`] and testable without a macro: a
//! [`Request`] (the macro's arguments) becomes generated modules written to files, one per
//! target, and the few tokens that include them. Every error names the argument it is about,
//! so the macro can point at it.

use crate::codegen::{CodegenOptions, Generated, Target, WeightsFile};
use crate::import::json::{Activation, Description, Weights};
use crate::ir::LinearOp;
use crate::ir::{Graph, Op};
use crate::{Error, Options};
use std::path::{Path, PathBuf};

/// The network to build.
#[derive(Clone, Debug)]
pub enum Network {
    /// One of the papers' MobileNets (`arch`) at a width multiplier and resolution.
    Paper {
        arch: crate::import::json::Arch,
        alpha: f64,
        res: usize,
        classes: usize,
        relu6: bool,
    },
    /// A JSON description (absolute path).
    Json(PathBuf),
}

/// Which target's code the build uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetChoice {
    /// Chosen by `cfg` in the user's build: avx2 on x86-64 with AVX2 and FMA enabled, neon on
    /// aarch64, else generic (rvv only when asked for: stable Rust has no `cfg` for V).
    Auto,
    Fixed(Target),
}

/// What `mobilenet!` was asked for.
#[derive(Clone, Debug)]
pub struct Request {
    pub network: Network,
    /// An ONNX or safetensors file (absolute path) whose weights are embedded; without it the
    /// module reads its weights at run time (`Net::from_bytes`).
    pub weights: Option<PathBuf>,
    pub target: TargetChoice,
    /// A preprocessing preset (or `auto`): the module also gets `forward_rgb8`.
    pub preprocess: Option<String>,
}

/// The argument an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    Alpha,
    Res,
    Classes,
    Weights,
    Model,
    Target,
    Preprocess,
}

/// An error and the argument it is about.
#[derive(Debug)]
pub struct ArgError {
    pub arg: Arg,
    pub message: String,
}

fn err(arg: Arg, message: impl Into<String>) -> ArgError {
    ArgError {
        arg,
        message: message.into(),
    }
}

/// One target's generated module.
pub struct Variant {
    pub target: Target,
    /// `cfg` predicate (Rust syntax) under which the build uses this variant.
    pub cfg: String,
    pub generated: Generated,
}

/// The modules for every target the request covers, the model parsed once. `weights_file` is
/// how each module names its weights (`mobilenet!` uses content-addressed files in one folder).
pub fn generate(request: &Request, weights_file: &WeightsFile) -> Result<Vec<Variant>, ArgError> {
    let targets: Vec<(Target, String)> = match request.target {
        TargetChoice::Fixed(t) => vec![(t, "all()".into())],
        TargetChoice::Auto => Target::auto_cfgs(),
    };
    let (bytes, path, options, embedded) = source(request)?;
    let graph = crate::frontend_bytes(&bytes, &path, &options)
        .map_err(|e| err(blame(request), e.to_string()))?;
    let preprocess = match &request.preprocess {
        Some(p) => Some(
            crate::preprocess::resolve(p, &graph)
                .map_err(|e| err(Arg::Preprocess, e.to_string()))?,
        ),
        None => None,
    };
    targets
        .into_iter()
        .map(|(target, cfg)| {
            let codegen = CodegenOptions {
                target,
                runtime_weights: !embedded,
                weights_file: weights_file.clone(),
                preprocess: preprocess.clone(),
                ..CodegenOptions::default()
            };
            let generated = crate::compile_graph(&graph, &codegen)
                .map_err(|e| err(blame(request), e.to_string()))?;
            Ok(Variant {
                target,
                cfg,
                generated,
            })
        })
        .collect()
}

/// The argument a failure of the model itself is blamed on.
fn blame(request: &Request) -> Arg {
    match (&request.weights, &request.network) {
        (Some(_), _) => Arg::Weights,
        (None, Network::Json(_)) => Arg::Model,
        (None, Network::Paper { .. }) => Arg::Alpha,
    }
}

fn read(path: &Path, arg: Arg) -> Result<Vec<u8>, ArgError> {
    crate::limits::read_model(path).map_err(|e| match e {
        crate::Error::Io { path, source } => err(arg, format!("cannot read {path}: {source}")),
        // Messages name the file as the user wrote it, not by where the build happens to be.
        crate::Error::Decode { reason, .. } => {
            let file = path.file_name().unwrap_or(path.as_os_str());
            err(arg, format!("{}: {reason}", file.to_string_lossy()))
        }
        e => err(arg, e.to_string()),
    })
}

/// The model bytes, the path that names them, the front-end options, and whether the model
/// carries real weights to embed (a `weights` file, or a JSON description with its own
/// safetensors file) rather than placeholders (the module then reads them at run time).
fn source(request: &Request) -> Result<(Vec<u8>, PathBuf, Options, bool), ArgError> {
    let mut desc: Description = match &request.network {
        Network::Paper {
            arch,
            alpha,
            res,
            classes,
            relu6,
        } => {
            let max = Description::paper(*arch, 1.0, 224, false).max_alpha();
            if !(*alpha > 0.0 && *alpha <= max) {
                return Err(err(
                    Arg::Alpha,
                    format!("alpha {alpha} is outside (0, {max}]"),
                ));
            }
            if *res == 0 {
                return Err(err(Arg::Res, "the resolution must be a positive integer"));
            }
            if *classes == 0 {
                return Err(err(Arg::Classes, "classes must be a positive integer"));
            }
            let mut d = Description::paper(*arch, *alpha, *res, false);
            d.classes = *classes;
            if *arch == crate::import::json::Arch::V1 {
                d.activation = if *relu6 {
                    Activation::Relu6
                } else {
                    Activation::Relu
                };
            }
            d.name = format!("{}_{alpha}_{res}", d.name);
            d
        }
        Network::Json(path) => {
            let text = String::from_utf8(read(path, Arg::Model)?)
                .map_err(|_| err(Arg::Model, format!("{} is not UTF-8", path.display())))?;
            serde_json::from_str(&text).map_err(|e| {
                err(
                    Arg::Model,
                    format!(
                        "{} is not a valid mnetc JSON description: {e}",
                        path.display()
                    ),
                )
            })?
        }
    };
    let onnx = request
        .weights
        .as_ref()
        .filter(|w| w.extension().is_some_and(|e| e == "onnx"));
    if let (Some(w), None) = (&request.weights, onnx) {
        // A safetensors file with the JSON format's tensor names.
        if !w.exists() {
            return Err(err(Arg::Weights, format!("{} does not exist", w.display())));
        }
        desc.weights = Weights::Safetensors(w.display().to_string());
    }
    let embedded = matches!(desc.weights, Weights::Safetensors(_));
    // Validate (alpha, resolution, classes, the safetensors shapes) by importing it.
    let json = desc.to_json_pretty().into_bytes();
    let json_path = match (&request.network, &request.weights) {
        (Network::Json(p), _) => p.clone(),
        (_, Some(w)) => w.with_extension("json"),
        _ => PathBuf::from(format!("{}.json", desc.name)),
    };
    let options = Options {
        alpha: None,
        resolution: None,
        optimize: true,
    };
    let graph = crate::frontend_bytes(&json, &json_path, &options).map_err(|e| {
        let arg = match (&e, &request.network) {
            (Error::Options(m), Network::Paper { .. }) if m.contains("resolution") => Arg::Res,
            (Error::Options(m), Network::Paper { .. }) if m.contains("alpha") => Arg::Alpha,
            (_, Network::Json(_)) if request.weights.is_none() => Arg::Model,
            _ if request.weights.is_some() => Arg::Weights,
            _ => Arg::Alpha,
        };
        err(arg, e.to_string())
    })?;
    let Some(onnx) = onnx else {
        return Ok((json, json_path, options, embedded));
    };
    // An ONNX file: its weights must have the description's shapes; it is then compiled at the
    // description's resolution.
    let bytes = read(onnx, Arg::Weights)?;
    let options = Options {
        resolution: Some(desc.resolution),
        ..options
    };
    // Messages name the file as the user wrote it, not by where the build happens to be.
    let file = onnx.file_name().map_or_else(
        || onnx.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    );
    let model = crate::frontend_bytes(&bytes, Path::new(&file), &options)
        .map_err(|e| err(Arg::Weights, e.to_string()))?;
    let (want, got) = (weight_shapes(&graph), weight_shapes(&model));
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        if w.1 != g.1 {
            return Err(err(
                Arg::Weights,
                format!(
                    "{file}: tensor '{}' (layer {i}, node '{}') has shape {:?}; the network needs {:?} there",
                    g.2, g.0, g.1, w.1
                ),
            ));
        }
    }
    if want.len() != got.len() {
        return Err(err(
            Arg::Weights,
            format!(
                "{file}: the model has {} conv and fully connected layers; the network has {}",
                got.len(),
                want.len()
            ),
        ));
    }
    Ok((bytes, onnx.to_path_buf(), options, true))
}

/// (node, weight shape, weight name) of every conv and fully connected layer, in order.
fn weight_shapes(graph: &Graph) -> Vec<(String, Vec<usize>, String)> {
    graph
        .nodes
        .iter()
        .filter(|n| matches!(n.op, Op::Conv(_) | Op::Linear(LinearOp::Dense { .. })))
        .filter_map(|n| {
            let w = n.inputs.get(1).copied().flatten()?;
            let shape = graph.shape(w)?.to_vec();
            Some((n.name.clone(), shape, graph.values[w].name.clone()))
        })
        .collect()
}

/// Writes each variant's module and weights under `dir` (content-addressed file names, so
/// repeated expansions reuse them) and returns the module body the macro expands to:
/// `include!`s of the modules under their `cfg`s, and `include_bytes!`s that make Cargo rebuild
/// when an input file changes.
pub fn write(request: &Request, variants: &[Variant], dir: &Path) -> Result<String, ArgError> {
    use sha2::Digest;
    let io = |p: &Path, e: std::io::Error| err(blame(request), format!("{}: {e}", p.display()));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut body = String::new();
    for file in request.weights.iter().chain(match &request.network {
        Network::Json(p) => Some(p),
        Network::Paper { .. } => None,
    }) {
        body.push_str(&format!(
            "const _: &[u8] = include_bytes!({:?});\n",
            file.display().to_string()
        ));
    }
    let short_hash = |data: &[u8]| -> String {
        sha2::Sha256::digest(data)
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    for v in variants {
        let weights = dir.join(&v.generated.weights_file);
        let source = &v.generated.source;
        let rs = dir.join(format!("{}.rs", short_hash(source.as_bytes())));
        for (path, data) in [
            (&weights, &v.generated.weights[..]),
            (&rs, source.as_bytes()),
        ] {
            if std::fs::read(path).ok().as_deref() != Some(data) {
                let tmp = path.with_extension(format!("tmp{}", std::process::id()));
                std::fs::write(&tmp, data).map_err(|e| io(&tmp, e))?;
                std::fs::rename(&tmp, path).map_err(|e| io(path, e))?;
            }
        }
        body.push_str(&format!(
            "#[cfg({})]\ninclude!({:?});\n",
            v.cfg,
            rs.display().to_string()
        ));
    }
    Ok(body)
}
