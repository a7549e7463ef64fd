//! The one error type of the compiler. Every message names the place: the node, its op and the
//! attribute where there is one. Bad input (exit code 2) is told apart from internal errors
//! (exit code 1) by [`Error::exit_code`].

use std::fmt;

/// An unsupported or invalid construct at one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeIssue {
    pub node: String,
    pub op: String,
    pub attribute: Option<String>,
    pub reason: String,
}

impl fmt::Display for NodeIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node '{}' ({})", self.node, self.op)?;
        if let Some(attribute) = &self.attribute {
            write!(f, ": attribute '{attribute}' {}", self.reason)
        } else {
            write!(f, ": {}", self.reason)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file is not a model at all: not protobuf, truncated, not JSON.
    #[error("{path}: {reason}")]
    Decode { path: String, reason: String },
    /// The model is well-formed but describes something invalid or unsupported at a node.
    #[error("{0}")]
    Node(NodeIssue),
    /// Several nodes are unsupported; all of them are listed.
    #[error("{} unsupported node(s):\n{}", .0.len(), .0.iter().map(|i| format!("  - {i}")).collect::<Vec<_>>().join("\n"))]
    Unsupported(Vec<NodeIssue>),
    /// A problem with the model as a whole (graph inputs, outputs, references).
    #[error("model: {0}")]
    Model(String),
    /// An option the user gave (alpha, resolution, ...) that cannot apply to this model.
    #[error("{0}")]
    Options(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// A program mnetc runs (cargo, QEMU, the built network) could not be started.
    #[error("cannot run {program}: {reason}")]
    Tool { program: String, reason: String },
    /// Generated code did not build (with the compiler's messages).
    #[error("the generated code did not build:\n{0}")]
    GeneratedBuild(String),
    /// Generated code built but failed when run.
    #[error("{0}")]
    GeneratedRun(String),
    /// A bug in mnetc.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Process exit code: 2 for bad input or options, 1 for internal errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Internal(_)
            | Error::Tool { .. }
            | Error::GeneratedBuild(_)
            | Error::GeneratedRun(_) => 1,
            _ => 2,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
