//! mnetc: a MobileNet compiler. This crate holds the front ends (ONNX, JSON), the typed IR, the
//! passes, the reference interpreter and the `mnetc` command line.
//!
//! ```no_run
//! let options = mnetc::Options { resolution: Some(160), ..Default::default() };
//! let graph = mnetc::frontend(std::path::Path::new("model.onnx"), &options)?;
//! let summary = mnetc::inspect::summarize(&graph);
//! println!("{} multiply-adds", summary.total_macs);
//! # Ok::<(), mnetc::Error>(())
//! ```

pub mod error;
pub mod import;
pub mod inspect;
pub mod interp;
pub mod ir;
pub mod passes;
pub mod rng;

/// Types generated from the official `onnx.proto` by prost.
#[allow(clippy::all, missing_docs)]
pub mod onnx_proto {
    include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
}

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

/// Reads a model and runs the passes: the graph every back end starts from.
pub fn frontend(path: &std::path::Path, options: &Options) -> Result<ir::Graph> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    frontend_bytes(&bytes, path, options)
}

/// [`frontend`] on bytes already read; `path` names the model in messages (and locates files a
/// JSON description refers to).
pub fn frontend_bytes(
    bytes: &[u8],
    path: &std::path::Path,
    options: &Options,
) -> Result<ir::Graph> {
    let mut graph = import::load_bytes(bytes, path, options.alpha, options.resolution)?;
    passes::run(&mut graph, options.resolution, options.optimize)?;
    Ok(graph)
}
