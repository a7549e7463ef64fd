//! The one error type of the compiler. Every message names the place: the node, its op and the
//! attribute where there is one. Bad input (exit code 2) is told apart from internal errors
//! (exit code 1) by [`Error::exit_code`].

use crate::ir::Node;
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
    /// A bug in mnetc.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// An issue at `node`, naming its op and, if given, the attribute.
    pub fn node(node: &Node, attribute: Option<&str>, reason: impl Into<String>) -> Error {
        Error::Node(NodeIssue {
            node: node.name.clone(),
            op: node.op.name().to_string(),
            attribute: attribute.map(str::to_string),
            reason: reason.into(),
        })
    }

    /// Process exit code: 2 for bad input or options, 1 for internal errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Internal(_) => 1,
            _ => 2,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
