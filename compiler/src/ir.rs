//! The typed graph every front end produces and every pass, the interpreter and the code
//! generator consume.
//!
//! Tensors keep ONNX's logical layout (NCHW for 4-D activations, OIHW for conv weights); the
//! physical layout (NHWC inside generated code) is a decision of planning and emission, not of
//! the graph. A value is either an activation (computed at run time from the graph input) or a
//! constant (an initializer, a `Constant` node, or anything folded from constants). After shape
//! inference every value has a static shape.

use crate::error::{Error, NodeIssue};

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
}

/// Largest accepted input side; far above any MobileNet, low enough that no size overflows.
pub const MAX_RESOLUTION: usize = 8192;

/// Index of a value in [`Graph::values`].
pub type ValueId = usize;

/// Element type of a value. Activations are `F32`, or `U8`/`I8` in a quantized model (with a
/// [`Quant`]); `I64` appears in shape arithmetic (`Shape`, `Gather`, `Concat`, ...) that
/// constant folding removes, and holds every wider integer type (int32 biases of quantized
/// models among them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    F32,
    I64,
    U8,
    I8,
}

impl DType {
    /// The range of a quantized type (`U8`, `I8`).
    pub fn int_range(self) -> Option<(i32, i32)> {
        match self {
            DType::U8 => Some((0, 255)),
            DType::I8 => Some((-128, 127)),
            DType::F32 | DType::I64 => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::I64 => "int64",
            DType::U8 => "uint8",
            DType::I8 => "int8",
        }
    }
}

/// Dense tensor data, row-major.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    F32(Vec<f32>),
    I64(Vec<i64>),
    U8(Vec<u8>),
    I8(Vec<i8>),
}

/// How the integers of a quantized value stand for real numbers:
/// `real = scale * (q - zero_point)`, with one scale and zero point for the whole tensor, or
/// one per index along `axis` (per-channel weights).
#[derive(Clone, Debug, PartialEq)]
pub struct Quant {
    pub scale: Vec<f32>,
    pub zero_point: Vec<i32>,
    /// `None` for per-tensor parameters (one scale, one zero point).
    pub axis: Option<usize>,
}

impl Quant {
    pub fn per_tensor(scale: f32, zero_point: i32) -> Quant {
        Quant {
            scale: vec![scale],
            zero_point: vec![zero_point],
            axis: None,
        }
    }

    /// The scale and zero point of index `i` along the axis (the only ones when per tensor).
    pub fn at(&self, i: usize) -> (f32, i32) {
        let j = if self.scale.len() == 1 { 0 } else { i };
        (self.scale[j], self.zero_point[j])
    }
}

/// A constant tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Data,
}

impl Tensor {
    pub fn f32(shape: Vec<usize>, data: Vec<f32>) -> Tensor {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Tensor {
            shape,
            data: Data::F32(data),
        }
    }

    pub fn i64(shape: Vec<usize>, data: Vec<i64>) -> Tensor {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Tensor {
            shape,
            data: Data::I64(data),
        }
    }

    pub fn u8(shape: Vec<usize>, data: Vec<u8>) -> Tensor {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Tensor {
            shape,
            data: Data::U8(data),
        }
    }

    pub fn i8(shape: Vec<usize>, data: Vec<i8>) -> Tensor {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Tensor {
            shape,
            data: Data::I8(data),
        }
    }

    /// Integers of `dtype` (`U8`, `I8`, or `I64` for anything wider), which must fit it.
    pub fn int(dtype: DType, shape: Vec<usize>, v: Vec<i64>) -> Tensor {
        match dtype {
            DType::U8 => Tensor::u8(shape, v.into_iter().map(|x| x as u8).collect()),
            DType::I8 => Tensor::i8(shape, v.into_iter().map(|x| x as i8).collect()),
            DType::I64 => Tensor::i64(shape, v),
            DType::F32 => Tensor::f32(shape, v.into_iter().map(|x| x as f32).collect()),
        }
    }

    pub fn dtype(&self) -> DType {
        match self.data {
            Data::F32(_) => DType::F32,
            Data::I64(_) => DType::I64,
            Data::U8(_) => DType::U8,
            Data::I8(_) => DType::I8,
        }
    }

    pub fn len(&self) -> usize {
        match &self.data {
            Data::F32(v) => v.len(),
            Data::I64(v) => v.len(),
            Data::U8(v) => v.len(),
            Data::I8(v) => v.len(),
        }
    }

    /// The elements at `indices`, in that order, as a tensor of `shape` and the same type.
    pub fn gather(&self, shape: Vec<usize>, indices: impl Iterator<Item = usize>) -> Tensor {
        let data = match &self.data {
            Data::F32(v) => Data::F32(indices.map(|i| v[i]).collect()),
            Data::I64(v) => Data::I64(indices.map(|i| v[i]).collect()),
            Data::U8(v) => Data::U8(indices.map(|i| v[i]).collect()),
            Data::I8(v) => Data::I8(indices.map(|i| v[i]).collect()),
        };
        Tensor { shape, data }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            Data::F32(v) => Some(v),
            _ => None,
        }
    }

    /// The values as integers (shape arithmetic accepts float constants holding integers too).
    pub fn to_i64(&self) -> Vec<i64> {
        match &self.data {
            Data::F32(v) => v.iter().map(|&x| x as i64).collect(),
            Data::I64(v) => v.clone(),
            Data::U8(v) => v.iter().map(|&x| x as i64).collect(),
            Data::I8(v) => v.iter().map(|&x| x as i64).collect(),
        }
    }

    /// The values as floats (integers as they are, not dequantized).
    pub fn to_f32(&self) -> Vec<f32> {
        match &self.data {
            Data::F32(v) => v.clone(),
            Data::I64(v) => v.iter().map(|&x| x as f32).collect(),
            Data::U8(v) => v.iter().map(|&x| x as f32).collect(),
            Data::I8(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }
}

/// Activation fused into a producer's epilogue: hard-swish if `swish` (`x * max(0, min(1, x / 6
/// + 1 / 2))`, MobileNetV3's), then the clamp `min(max(x, min), max)`.
/// `(-inf, inf)` without hard-swish is linear, `(0, inf)` ReLU, `(0, 6)` ReLU6.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clamp {
    pub min: f32,
    pub max: f32,
    pub swish: bool,
}

impl Clamp {
    pub const LINEAR: Clamp = Clamp::new(f32::NEG_INFINITY, f32::INFINITY);
    pub const RELU: Clamp = Clamp::new(0.0, f32::INFINITY);
    pub const RELU6: Clamp = Clamp::new(0.0, 6.0);
    pub const HARD_SWISH: Clamp = Clamp {
        swish: true,
        ..Clamp::LINEAR
    };

    /// The clamp to `[min, max]`, without hard-swish.
    pub const fn new(min: f32, max: f32) -> Clamp {
        Clamp {
            min,
            max,
            swish: false,
        }
    }

    pub fn is_linear(&self) -> bool {
        *self == Clamp::LINEAR
    }

    /// Composition: applying `self` and then `next`, a clamp without hard-swish (hard-swish
    /// after a clamp is not one epilogue: `None`).
    pub fn then(self, next: Clamp) -> Option<Clamp> {
        if next.swish {
            return self.is_linear().then_some(next);
        }
        let min = self.min.max(next.min).min(next.max);
        let max = self.max.min(next.max).max(next.min);
        Some(Clamp {
            min,
            max,
            swish: self.swish,
        })
    }

    pub fn apply(&self, x: f32) -> f32 {
        let x = if self.swish { hard_swish(x) } else { x };
        x.max(self.min).min(self.max)
    }

    /// Short name for tables: `linear`, `relu`, `relu6`, `clip(a,b)` or `hardswish`, the
    /// last followed by its clamp if it has one (`hardswish+clip(a,b)`).
    pub fn label(&self) -> String {
        let clamp = Clamp::new(self.min, self.max);
        let bounds = if clamp == Clamp::RELU {
            "relu".into()
        } else if clamp == Clamp::RELU6 {
            "relu6".into()
        } else {
            format!("clip({},{})", self.min, self.max)
        };
        match (self.swish, clamp.is_linear()) {
            (false, true) => "linear".into(),
            (false, false) => bounds,
            (true, true) => "hardswish".into(),
            (true, false) => format!("hardswish+{bounds}"),
        }
    }
}

/// `x * max(0, min(1, x / 6 + 1 / 2))`: hard-swish, as the runtime's kernels compute it.
pub fn hard_swish(x: f32) -> f32 {
    x * Clamp::new(0.0, 1.0).apply(x * (1.0 / 6.0) + 0.5)
}

/// The sliding window of a conv or pooling op (2-D, dilation 1).
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// `[0, 0]` until shape inference takes it from a conv's weight when ONNX omits it.
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    /// Padding as `[top, left, bottom, right]`, resolved from `auto_pad` by shape inference.
    pub pads: [usize; 4],
    pub auto_pad: AutoPad,
}

impl Window {
    /// A `k` x `k` window with stride `s` and padding `p` on every side.
    pub fn square(k: usize, s: usize, p: usize) -> Window {
        Window {
            kernel: [k; 2],
            strides: [s; 2],
            pads: [p; 4],
            auto_pad: AutoPad::NotSet,
        }
    }
}

/// 2-D convolution over an NCHW activation with an OIHW weight and an optional bias.
/// `group` is 1 (dense) or the channel count (depthwise); others are rejected by shape inference.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv {
    pub window: Window,
    pub group: usize,
    pub act: Clamp,
    /// The value the padding holds: 0 as ONNX defines Conv; another when `passes::fold_affine`
    /// has folded an affine map of the input into a dense conv (the zero that the map's output
    /// is padded with is this value of its input).
    pub pad_value: f32,
}

/// ONNX `auto_pad`. Anything but `NotSet` is turned into explicit `pads` once shapes are known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoPad {
    NotSet,
    SameUpper,
    SameLower,
    Valid,
}

/// Average or max pooling with a fixed window.
#[derive(Clone, Debug, PartialEq)]
pub struct Pool {
    pub window: Window,
    pub ceil_mode: bool,
    pub count_include_pad: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
}

impl BinaryOp {
    pub fn apply(self, a: f32, b: f32) -> f32 {
        match self {
            BinaryOp::Add => a + b,
            BinaryOp::Sub => a - b,
            BinaryOp::Mul => a * b,
            BinaryOp::Div => a / b,
            BinaryOp::Min => a.min(b),
            BinaryOp::Max => a.max(b),
        }
    }

    pub fn apply_i64(self, a: i64, b: i64) -> Option<i64> {
        match self {
            BinaryOp::Add => a.checked_add(b),
            BinaryOp::Sub => a.checked_sub(b),
            BinaryOp::Mul => a.checked_mul(b),
            BinaryOp::Div => a.checked_div(b),
            BinaryOp::Min => Some(a.min(b)),
            BinaryOp::Max => Some(a.max(b)),
        }
    }
}

/// The operations of the IR, by family (the families of `import/onnx` and `ops/`: each family's
/// file there matches its own enum exhaustively, so a new op is an edit of its family's files
/// and the compiler lists them). Attributes are parsed and validated at import. Each op has one
/// form whatever the opset: what ONNX passes as tensors in newer opsets and as attributes in
/// older ones (Clip bounds, Pad amounts and value, Squeeze/Unsqueeze/ReduceMean axes, Slice
/// starts/ends/axes) is always an input, a constant the importer adds for the attribute form,
/// read once constant folding made it constant.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// inputs: x, weight (OIHW), optional bias, and (added only by `passes::fuse_scale`, never
    /// imported) an input channel scale `[1, C, 1, 1]`: the conv reads `x * scale`.
    Conv(Conv),
    Pool(PoolOp),
    Linear(LinearOp),
    Normalization(NormalizationOp),
    Activation(ActivationOp),
    /// Elementwise with numpy broadcasting.
    Binary(BinaryOp),
    Shape(ShapeOp),
    Quant(QuantOp),
}

/// Quantization: the ops at the edges of the integer parts of a model. A pass
/// (`passes::quantize`) turns the float ops that QDQ models wrap in them into the same ops on
/// quantized values, which the interpreter and the kernels compute in integers.
#[derive(Clone, Debug, PartialEq)]
pub enum QuantOp {
    /// inputs: x (float), scale, optional zero point (its type is the output's: uint8 when
    /// omitted). `y = saturate(round_half_even(x / scale) + zero_point)`. `axis` is the
    /// per-channel axis when the scale is a vector (normalised by shape inference).
    QuantizeLinear { axis: i64 },
    /// inputs: x (integer), scale, optional zero point. `y = (x - zero_point) * scale`.
    DequantizeLinear { axis: i64 },
}

/// Pooling and reductions.
#[derive(Clone, Debug, PartialEq)]
pub enum PoolOp {
    GlobalAveragePool,
    AveragePool(Pool),
    MaxPool(Pool),
    /// Mean over the axes of the optional second input (all axes without it, unless
    /// `noop_with_empty_axes`). `axes` is `None` until shape inference resolves the input into
    /// non-negative axes.
    ReduceMean {
        axes: Option<Vec<i64>>,
        keepdims: bool,
        noop_with_empty_axes: bool,
    },
}

/// Matrix products.
#[derive(Clone, Debug, PartialEq)]
pub enum LinearOp {
    /// inputs: a, b, optional c.
    Gemm {
        alpha: f32,
        beta: f32,
        trans_a: bool,
        trans_b: bool,
    },
    MatMul,
    /// Fully connected layer, the canonical form of Gemm/MatMul with constant weights:
    /// `y[n] = act(sum_k x[k] * w[n][k] + b[n])`. inputs: x (`[1, K]`), weight (`[N, K]`), bias (`[N]`).
    Dense {
        act: Clamp,
    },
}

/// Normalizations.
#[derive(Clone, Debug, PartialEq)]
pub enum NormalizationOp {
    /// inputs: x, scale, bias, mean, var.
    BatchNorm { epsilon: f32 },
}

/// Activations.
#[derive(Clone, Debug, PartialEq)]
pub enum ActivationOp {
    /// Clamp. inputs: x, then optional constant min and max, which replace the op's own bounds
    /// (`Clip(Clamp::RELU)` for a Relu, `Clamp::LINEAR` for an ONNX Clip).
    Clip(Clamp),
    Softmax {
        axis: i64,
        legacy: bool,
    },
    /// `max(0, min(1, alpha * x + beta))` (ONNX HardSigmoid).
    HardSigmoid {
        alpha: f32,
        beta: f32,
    },
    /// `x * max(0, min(1, x / 6 + 1 / 2))` (ONNX HardSwish: x times HardSigmoid with alpha 1/6,
    /// beta 1/2).
    HardSwish,
}

/// Ops that move, relabel or compute shapes.
#[derive(Clone, Debug, PartialEq)]
pub enum ShapeOp {
    /// Constant padding. inputs: x, pads (`[begin..., end...]`), optional value (default 0),
    /// optional axes.
    Pad,
    Flatten {
        axis: i64,
    },
    /// inputs: data, shape.
    Reshape {
        allowzero: bool,
    },
    /// inputs: data, optional axes (without: every axis of size 1).
    Squeeze,
    /// inputs: data, axes.
    Unsqueeze,
    Transpose {
        perm: Option<Vec<usize>>,
    },
    Identity,
    Shape {
        start: i64,
        end: Option<i64>,
    },
    Gather {
        axis: i64,
    },
    Concat {
        axis: i64,
    },
    Cast {
        to: DType,
    },
    /// inputs: data, starts, ends, optional axes, optional steps.
    Slice,
}

impl Op {
    /// The ONNX-style name used in messages and tables.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Conv(_) => "Conv",
            Op::Pool(op) => match op {
                PoolOp::GlobalAveragePool => "GlobalAveragePool",
                PoolOp::AveragePool(_) => "AveragePool",
                PoolOp::MaxPool(_) => "MaxPool",
                PoolOp::ReduceMean { .. } => "ReduceMean",
            },
            Op::Linear(op) => match op {
                LinearOp::Gemm { .. } => "Gemm",
                LinearOp::MatMul => "MatMul",
                LinearOp::Dense { .. } => "Dense",
            },
            Op::Normalization(NormalizationOp::BatchNorm { .. }) => "BatchNormalization",
            Op::Activation(op) => match op {
                ActivationOp::Clip(_) => "Clip",
                ActivationOp::Softmax { .. } => "Softmax",
                ActivationOp::HardSigmoid { .. } => "HardSigmoid",
                ActivationOp::HardSwish => "HardSwish",
            },
            Op::Binary(op) => match op {
                BinaryOp::Add => "Add",
                BinaryOp::Sub => "Sub",
                BinaryOp::Mul => "Mul",
                BinaryOp::Div => "Div",
                BinaryOp::Min => "Min",
                BinaryOp::Max => "Max",
            },
            Op::Shape(op) => match op {
                ShapeOp::Pad => "Pad",
                ShapeOp::Flatten { .. } => "Flatten",
                ShapeOp::Reshape { .. } => "Reshape",
                ShapeOp::Squeeze => "Squeeze",
                ShapeOp::Unsqueeze => "Unsqueeze",
                ShapeOp::Transpose { .. } => "Transpose",
                ShapeOp::Identity => "Identity",
                ShapeOp::Shape { .. } => "Shape",
                ShapeOp::Gather { .. } => "Gather",
                ShapeOp::Concat { .. } => "Concat",
                ShapeOp::Cast { .. } => "Cast",
                ShapeOp::Slice => "Slice",
            },
            Op::Quant(op) => match op {
                QuantOp::QuantizeLinear { .. } => "QuantizeLinear",
                QuantOp::DequantizeLinear { .. } => "DequantizeLinear",
            },
        }
    }

    /// Ops that only move or relabel data: their output holds the input's elements in the same
    /// order, so they cost nothing at run time.
    pub fn is_reshape_like(&self) -> bool {
        matches!(
            self,
            Op::Shape(
                ShapeOp::Flatten { .. }
                    | ShapeOp::Reshape { .. }
                    | ShapeOp::Squeeze
                    | ShapeOp::Unsqueeze
                    | ShapeOp::Identity
            )
        )
    }
}

/// One operation. `inputs` may hold `None` for ONNX's omitted optional inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub name: String,
    pub op: Op,
    pub inputs: Vec<Option<ValueId>>,
    pub outputs: Vec<ValueId>,
}

impl Node {
    /// The `i`-th input, if present.
    pub fn input(&self, i: usize) -> Option<ValueId> {
        self.inputs.get(i).copied().flatten()
    }
}

/// A named value: activation or constant.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub name: String,
    pub dtype: DType,
    /// Static shape; `None` until shape inference reached it.
    pub shape: Option<Vec<usize>>,
    pub constant: Option<Tensor>,
    /// What the integers of a `U8`/`I8` value stand for (set by shape inference from the
    /// `QuantizeLinear` that makes it, by `passes::quantize` for integer weights).
    pub quant: Option<Quant>,
}

/// Layout of the 4-D graph input, as written by the exporter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputLayout {
    /// `[N, C, H, W]`, PyTorch's.
    Nchw,
    /// `[N, H, W, C]`, TensorFlow's; the graph usually starts with `Transpose(0, 3, 1, 2)`.
    Nhwc,
}

impl InputLayout {
    /// Axes of height and width in the input.
    pub fn spatial_axes(self) -> [usize; 2] {
        match self {
            InputLayout::Nchw => [2, 3],
            InputLayout::Nhwc => [1, 2],
        }
    }
}

/// One dimension of the declared graph input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dim {
    Fixed(usize),
    Symbolic(String),
}

/// The single graph input.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphInput {
    pub value: ValueId,
    /// As declared by the model, before specialisation.
    pub declared: Vec<Dim>,
    pub layout: InputLayout,
}

/// A whole model.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    pub values: Vec<Value>,
    /// In topological order.
    pub nodes: Vec<Node>,
    pub input: GraphInput,
    pub outputs: Vec<ValueId>,
    /// Things a user should know about how the model was read (e.g. a symbolic batch dimension).
    pub notes: Vec<String>,
    /// Where the model came from, for messages and headers.
    pub source: String,
    /// The model file and the front-end options, as the generated header states them.
    pub provenance: Provenance,
}

/// How a graph was made: the model file (name and SHA-256) and the front end's options. Set by
/// [`crate::frontend_bytes`]; code generation writes it into the module's header, so a caller
/// that parses once can generate for several targets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Provenance {
    /// The model's file name (no folders, so the output does not depend on where it sits).
    pub file: String,
    /// SHA-256 of the model file's bytes, in hex.
    pub sha256: String,
    pub alpha: Option<f64>,
    pub resolution: Option<usize>,
    pub optimize: bool,
}

impl Graph {
    pub fn value(&self, id: ValueId) -> &Value {
        &self.values[id]
    }

    pub fn shape(&self, id: ValueId) -> Option<&[usize]> {
        self.values[id].shape.as_deref()
    }

    pub fn constant(&self, id: ValueId) -> Option<&Tensor> {
        self.values[id].constant.as_ref()
    }

    pub fn add_value(&mut self, name: impl Into<String>, dtype: DType) -> ValueId {
        self.values.push(Value {
            name: name.into(),
            dtype,
            shape: None,
            constant: None,
            quant: None,
        });
        self.values.len() - 1
    }

    pub fn add_constant(&mut self, name: impl Into<String>, tensor: Tensor) -> ValueId {
        self.values.push(Value {
            name: name.into(),
            dtype: tensor.dtype(),
            shape: Some(tensor.shape.clone()),
            constant: Some(tensor),
            quant: None,
        });
        self.values.len() - 1
    }

    /// Number of nodes that read `id`, plus one if it is a graph output.
    pub fn use_count(&self, id: ValueId) -> usize {
        let reads = self
            .nodes
            .iter()
            .flat_map(|n| n.inputs.iter())
            .filter(|&&i| i == Some(id))
            .count();
        reads + self.outputs.iter().filter(|&&o| o == id).count()
    }

    /// Index of the node producing `id`, if any.
    pub fn producer(&self, id: ValueId) -> Option<usize> {
        self.nodes.iter().position(|n| n.outputs.contains(&id))
    }

    /// Indices of the nodes reading `id`.
    pub fn consumers(&self, id: ValueId) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].inputs.contains(&Some(id)))
            .collect()
    }

    /// The static shape of `id`, or an error naming `node` if shape inference has not reached it.
    pub fn known_shape(&self, id: ValueId, node: &Node) -> Result<&[usize], Error> {
        self.shape(id).ok_or_else(|| {
            Error::node(
                node,
                None,
                format!("the shape of '{}' is not known", self.values[id].name),
            )
        })
    }

    /// Replaces every read of `from` (by nodes and graph outputs) with `to`.
    pub fn replace_uses(&mut self, from: ValueId, to: ValueId) {
        for node in &mut self.nodes {
            for input in node.inputs.iter_mut().flatten() {
                if *input == from {
                    *input = to;
                }
            }
        }
        for output in &mut self.outputs {
            if *output == from {
                *output = to;
            }
        }
    }

    /// Removes node `index`, whose single data input is produced by another node that it is the
    /// only reader of, by making that producer write the removed node's output instead. Output
    /// names (and graph outputs) stay as they were. Returns the producer's index after removal.
    pub fn absorb_into_producer(&mut self, index: usize) -> usize {
        let node = self.nodes.remove(index);
        let input = node.inputs[0].expect("absorbed nodes have a data input");
        let producer = self.producer(input).expect("caller checked the producer");
        self.nodes[producer].outputs[0] = node.outputs[0];
        producer
    }

    /// The node producing input 0 of node `index`, if that node's output is read only there.
    pub fn sole_producer(&self, index: usize) -> Option<usize> {
        let input = self.nodes[index].input(0)?;
        let producer = self.producer(input)?;
        (self.use_count(input) == 1).then_some(producer)
    }
}
