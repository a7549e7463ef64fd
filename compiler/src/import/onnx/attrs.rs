//! Typed access to a node's attributes, with errors that name the node, op and attribute.

use crate::error::{Error, NodeIssue};
use crate::onnx_proto::{AttributeProto, NodeProto, attribute_proto::AttributeType};

/// The attributes of one ONNX node.
pub struct Attrs<'a> {
    node: &'a NodeProto,
}

impl<'a> Attrs<'a> {
    pub fn new(node: &'a NodeProto) -> Self {
        Attrs { node }
    }

    pub fn issue(&self, attribute: Option<&str>, reason: impl Into<String>) -> Error {
        Error::Node(NodeIssue {
            node: node_name(self.node),
            op: self.node.op_type().to_string(),
            attribute: attribute.map(str::to_string),
            reason: reason.into(),
        })
    }

    fn get(&self, name: &str) -> Option<&'a AttributeProto> {
        self.node.attribute.iter().find(|a| a.name() == name)
    }

    fn typed(&self, name: &str, want: AttributeType) -> Result<Option<&'a AttributeProto>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(a) => {
                // Old exporters leave `type` unset; accept the field that holds a value then.
                if a.r#type.is_some()
                    && a.r#type() != want
                    && a.r#type() != AttributeType::Undefined
                {
                    return Err(self.issue(
                        Some(name),
                        format!("has type {:?}, expected {:?}", a.r#type(), want),
                    ));
                }
                Ok(Some(a))
            }
        }
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, Error> {
        Ok(self.typed(name, AttributeType::Int)?.map(|a| a.i()))
    }

    pub fn int_or(&self, name: &str, default: i64) -> Result<i64, Error> {
        Ok(self.int(name)?.unwrap_or(default))
    }

    pub fn float(&self, name: &str) -> Result<Option<f32>, Error> {
        Ok(self.typed(name, AttributeType::Float)?.map(|a| a.f()))
    }

    pub fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, Error> {
        Ok(self
            .typed(name, AttributeType::Ints)?
            .map(|a| a.ints.clone()))
    }

    pub fn floats(&self, name: &str) -> Result<Option<Vec<f32>>, Error> {
        Ok(self
            .typed(name, AttributeType::Floats)?
            .map(|a| a.floats.clone()))
    }

    pub fn string(&self, name: &str) -> Result<Option<String>, Error> {
        match self.typed(name, AttributeType::String)? {
            None => Ok(None),
            Some(a) => String::from_utf8(a.s().to_vec())
                .map(Some)
                .map_err(|_| self.issue(Some(name), "is not valid UTF-8")),
        }
    }

    pub fn tensor(&self, name: &str) -> Result<Option<&'a crate::onnx_proto::TensorProto>, Error> {
        Ok(self
            .typed(name, AttributeType::Tensor)?
            .and_then(|a| a.t.as_ref()))
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A list of non-negative sizes (kernel_shape, strides, pads, ...).
    pub fn sizes(&self, name: &str) -> Result<Option<Vec<usize>>, Error> {
        match self.ints(name)? {
            None => Ok(None),
            Some(v) => v
                .iter()
                .map(|&x| {
                    usize::try_from(x).map_err(|_| {
                        self.issue(Some(name), format!("= {v:?} holds a negative value"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
        }
    }

    /// A 2-D size attribute (`kernel_shape`, `strides`, ...), `default` if absent.
    pub fn pair(&self, name: &str, default: [usize; 2]) -> Result<[usize; 2], Error> {
        match self.sizes(name)? {
            None => Ok(default),
            Some(v) if v.len() == 2 => Ok([v[0], v[1]]),
            Some(v) => {
                Err(self.issue(Some(name), format!("= {v:?}: only 2-D (H, W) is supported")))
            }
        }
    }

    /// ONNX `pads` for 2-D ops, `[top, left, bottom, right]`.
    pub fn pads(&self) -> Result<[usize; 4], Error> {
        match self.sizes("pads")? {
            None => Ok([0; 4]),
            Some(v) if v.len() == 4 => Ok([v[0], v[1], v[2], v[3]]),
            Some(v) => Err(self.issue(
                Some("pads"),
                format!("= {v:?}: expected 4 values for a 2-D op"),
            )),
        }
    }

    /// The window of a conv or pooling op: `kernel_shape` (`[0, 0]` if absent), `strides`,
    /// `pads`, `auto_pad`; `dilations` must be all 1.
    pub fn window(&self) -> Result<crate::ir::Window, Error> {
        if let Some(d) = self.ints("dilations")?
            && d.iter().any(|&x| x != 1)
        {
            return Err(self.issue(
                Some("dilations"),
                format!("= {d:?} is not supported (only 1)"),
            ));
        }
        let strides = self.pair("strides", [1, 1])?;
        if strides.contains(&0) {
            return Err(self.issue(Some("strides"), format!("= {strides:?} must be positive")));
        }
        Ok(crate::ir::Window {
            kernel: self.pair("kernel_shape", [0, 0])?,
            strides,
            pads: self.pads()?,
            auto_pad: self.auto_pad()?,
        })
    }

    fn auto_pad(&self) -> Result<crate::ir::AutoPad, Error> {
        use crate::ir::AutoPad;
        match self.string("auto_pad")?.as_deref() {
            None | Some("NOTSET") | Some("") => Ok(AutoPad::NotSet),
            Some("SAME_UPPER") => Ok(AutoPad::SameUpper),
            Some("SAME_LOWER") => Ok(AutoPad::SameLower),
            Some("VALID") => Ok(AutoPad::Valid),
            Some(other) => Err(self.issue(
                Some("auto_pad"),
                format!("= '{other}' is not a known value"),
            )),
        }
    }

    /// Rejects attributes this importer does not know for the op, so nothing is silently ignored.
    pub fn only(&self, known: &[&str]) -> Result<(), Error> {
        for a in &self.node.attribute {
            if !known.contains(&a.name()) {
                return Err(self.issue(Some(a.name()), "is not supported"));
            }
        }
        Ok(())
    }
}

/// A node's name for messages; unnamed nodes are called after their first output.
pub fn node_name(node: &NodeProto) -> String {
    if !node.name().is_empty() {
        node.name().to_string()
    } else if let Some(out) = node.output.first() {
        format!("{}:{}", node.op_type(), out)
    } else {
        node.op_type().to_string()
    }
}
