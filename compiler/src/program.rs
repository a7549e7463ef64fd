//! The lowered program: a straight list of kernel calls over tensors with a physical layout
//! (an axis order) and a storage place (the input array, an arena buffer, the weights blob), and
//! the builder the ops' lowerings (`ops/`) write it with. `codegen` plans its memory and emits
//! it.

use crate::error::{Error, Result};
use crate::ir::{Clamp, Graph, Node, ValueId};
use crate::target::Target;
use std::collections::HashMap;

pub type TensorId = usize;

/// Where a tensor's elements are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// The caller's input array.
    Input,
    /// An arena buffer; tensors that alias one another share it.
    Arena(usize),
    /// A packed constant in the weights blob.
    Weight(usize),
}

/// The element type of a tensor in generated code (the runtime's `Element`s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Elem {
    F32,
    U8,
    I8,
    I16,
    I32,
}

impl Elem {
    pub fn size(self) -> usize {
        match self {
            Elem::F32 | Elem::I32 => 4,
            Elem::I16 => 2,
            Elem::U8 | Elem::I8 => 1,
        }
    }

    /// The Rust type.
    pub fn rust(self) -> &'static str {
        match self {
            Elem::F32 => "f32",
            Elem::U8 => "u8",
            Elem::I8 => "i8",
            Elem::I16 => "i16",
            Elem::I32 => "i32",
        }
    }
}

/// A packed constant of the weights blob.
#[derive(Clone, Debug, PartialEq)]
pub enum Packed {
    F32(Vec<f32>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
}

impl Packed {
    pub fn len(&self) -> usize {
        match self {
            Packed::F32(v) => v.len(),
            Packed::I8(v) => v.len(),
            Packed::I16(v) => v.len(),
            Packed::I32(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn elem(&self) -> Elem {
        match self {
            Packed::F32(_) => Elem::F32,
            Packed::I8(_) => Elem::I8,
            Packed::I16(_) => Elem::I16,
            Packed::I32(_) => Elem::I32,
        }
    }

    /// Little-endian bytes, as the weights file holds them.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Packed::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Packed::I8(v) => v.iter().map(|&x| x as u8).collect(),
            Packed::I16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Packed::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }

    /// The floats of an f32 constant.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match self {
            Packed::F32(v) => Some(v),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct TensorInfo {
    /// Logical (ONNX) shape.
    pub shape: Vec<usize>,
    /// Physical axis order: physical axis `i` is logical axis `perm[i]`.
    pub perm: Vec<usize>,
    pub storage: Storage,
    pub elem: Elem,
}

impl TensorInfo {
    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The memory stride of every logical axis.
    pub fn strides(&self) -> Vec<usize> {
        let mut strides = vec![0; self.shape.len()];
        let mut s = 1;
        for &axis in self.perm.iter().rev() {
            strides[axis] = s;
            s *= self.shape[axis];
        }
        strides
    }

    /// Whether the elements sit in memory in the order `perm` would put them.
    pub(crate) fn has_order(&self, perm: &[usize]) -> bool {
        let other = TensorInfo {
            shape: self.shape.clone(),
            perm: perm.to_vec(),
            storage: self.storage,
            elem: self.elem,
        };
        let (a, b) = (self.strides(), other.strides());
        (0..self.shape.len()).all(|i| self.shape[i] == 1 || a[i] == b[i])
    }
}

/// A call of one of the runtime's kernels: its kind (the target picks the function, see
/// `mnetc_targets`), its const generic arguments and its value arguments, in the kernel's order.
/// The op family that lowers to a kernel builds its calls (with padded sizes, tile blocks and
/// array lengths worked out there), so emission writes every call the same way.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    /// Which of the runtime's kernels runs this call (the target picks the function).
    pub kind: mnetc_targets::Kernel,
    pub consts: Vec<Const>,
    pub args: Vec<Arg>,
    /// Tasks the call is split into (also among `consts`, where the kernel reads it); 1 for
    /// kernels that run whole.
    pub tasks: usize,
}

/// A const generic argument.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Const {
    Usize(usize),
    Bool(bool),
}

impl From<usize> for Const {
    fn from(n: usize) -> Const {
        Const::Usize(n)
    }
}

impl From<bool> for Const {
    fn from(b: bool) -> Const {
        Const::Bool(b)
    }
}

/// A value argument of a kernel call.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// The step's `i`-th input tensor.
    Input(usize),
    /// The step's output tensor.
    Output,
    /// The lower and upper bound of the step's clamp.
    Min,
    Max,
    F32(f32),
    I32(i32),
    /// A requantization's output side, `scalar::Requant { zero, lo, hi }`.
    Requant([i32; 3]),
    Usize(usize),
    /// A `[usize; N]` literal (strides, shapes).
    Usizes(Vec<usize>),
    /// A path inside the runtime crate (an enum value such as `BinaryOp::Add`).
    Runtime(&'static str),
    /// The `pool::Parallel` that runs the call's tasks.
    Pool,
}

impl Kernel {
    /// A call of `kind` with these const generic and value arguments.
    pub fn call(
        kind: mnetc_targets::Kernel,
        consts: impl IntoIterator<Item = Const>,
        args: impl IntoIterator<Item = Arg>,
    ) -> Kernel {
        Kernel {
            kind,
            consts: consts.into_iter().collect(),
            args: args.into_iter().collect(),
            tasks: 1,
        }
    }

    /// The call split into `tasks` tasks.
    pub fn with_tasks(self, tasks: usize) -> Kernel {
        Kernel { tasks, ..self }
    }
}

/// One kernel call. `inputs` are activations then weights, in the kernel's argument order.
#[derive(Clone, Debug)]
pub struct Step {
    /// The IR node this call comes from (for comments and `--per-layer` reports).
    pub node: String,
    pub kernel: Kernel,
    pub inputs: Vec<TensorId>,
    pub output: TensorId,
    pub clamp: Clamp,
    /// Multiply-adds of this call (conv and GEMM only).
    pub macs: u64,
}

#[derive(Clone, Debug)]
pub struct Program {
    pub tensors: Vec<TensorInfo>,
    /// Length of every arena buffer, in floats (4-byte units: integer tensors take their
    /// bytes rounded up).
    pub buffers: Vec<usize>,
    /// Packed constants.
    pub weights: Vec<Packed>,
    pub steps: Vec<Step>,
    pub input: TensorId,
    /// The graph output, copied to the caller's array in logical order at the end.
    pub output: TensorId,
}

impl Program {
    /// The size of the weights blob: every packed constant, 64-byte aligned.
    pub fn weights_bytes(&self) -> u64 {
        let size = |w: &Packed| (w.len() * w.elem().size()).div_ceil(64) as u64 * 64;
        self.weights.iter().map(size).sum()
    }

    /// The first step, when it is of `kind`, reads the graph input (or a relabelling of it)
    /// and is the only reader of it, and the output is not the input: a step that may take the
    /// input from elsewhere (`forward_rgb8`'s folded stem, its table into a quantized input,
    /// `forward_q`).
    pub fn first_step_alone_on_input(&self, kind: mnetc_targets::Kernel) -> Option<&Step> {
        let first = self.steps.first()?;
        let reads_input = |t: &TensorId| self.tensors[*t].storage == Storage::Input;
        let alone = first.kernel.kind == kind
            && reads_input(&first.inputs[0])
            && !self.steps[1..]
                .iter()
                .any(|s| s.inputs.iter().any(reads_input))
            && !reads_input(&self.output);
        alone.then_some(first)
    }
}

/// NHWC as an axis order of a logical NCHW tensor.
pub const NHWC: [usize; 4] = [0, 2, 3, 1];

/// The program being built, with the graph it comes from and the tensor of each IR value.
pub struct Lowering<'g> {
    pub(crate) graph: &'g Graph,
    pub(crate) target: Target,
    pub(crate) program: Program,
    /// The tensor holding each IR value once computed.
    pub(crate) of: HashMap<ValueId, TensorId>,
}

impl<'g> Lowering<'g> {
    /// An empty program for `graph`, the graph input in the caller's array.
    pub fn new(graph: &'g Graph, target: Target, input_shape: Vec<usize>) -> Lowering<'g> {
        let mut l = Lowering {
            graph,
            target,
            program: Program {
                tensors: Vec::new(),
                buffers: Vec::new(),
                weights: Vec::new(),
                steps: Vec::new(),
                input: 0,
                output: 0,
            },
            of: HashMap::new(),
        };
        let identity = (0..input_shape.len()).collect();
        l.program.input = l.tensor(input_shape, identity, Storage::Input);
        l.of.insert(graph.input.value, l.program.input);
        l
    }

    /// A float tensor.
    pub(crate) fn tensor(
        &mut self,
        shape: Vec<usize>,
        perm: Vec<usize>,
        storage: Storage,
    ) -> TensorId {
        self.tensor_of(shape, perm, storage, Elem::F32)
    }

    pub(crate) fn tensor_of(
        &mut self,
        shape: Vec<usize>,
        perm: Vec<usize>,
        storage: Storage,
        elem: Elem,
    ) -> TensorId {
        self.program.tensors.push(TensorInfo {
            shape,
            perm,
            storage,
            elem,
        });
        self.program.tensors.len() - 1
    }

    /// A new float arena buffer.
    pub(crate) fn new_buffer(&mut self, shape: Vec<usize>, perm: Vec<usize>) -> TensorId {
        self.new_buffer_of(shape, perm, Elem::F32)
    }

    pub(crate) fn new_buffer_of(
        &mut self,
        shape: Vec<usize>,
        perm: Vec<usize>,
        elem: Elem,
    ) -> TensorId {
        let bytes = shape.iter().product::<usize>() * elem.size();
        self.program.buffers.push(bytes.div_ceil(4));
        let b = self.program.buffers.len() - 1;
        self.tensor_of(shape, perm, Storage::Arena(b), elem)
    }

    /// A packed f32 constant.
    pub(crate) fn weight(&mut self, data: Vec<f32>) -> TensorId {
        self.packed(Packed::F32(data))
    }

    /// A packed constant of any element type.
    pub(crate) fn packed(&mut self, data: Packed) -> TensorId {
        let (len, elem) = (data.len(), data.elem());
        self.program.weights.push(data);
        let w = self.program.weights.len() - 1;
        self.tensor_of(vec![len], vec![0], Storage::Weight(w), elem)
    }

    pub(crate) fn step(
        &mut self,
        node: &Node,
        kernel: Kernel,
        inputs: Vec<TensorId>,
        output: TensorId,
        clamp: Clamp,
        macs: u64,
    ) {
        self.program.steps.push(Step {
            node: node.name.clone(),
            kernel,
            inputs,
            output,
            clamp,
            macs,
        });
    }

    /// The tensor of input `i` of `node`: an activation, or a constant stored in logical order.
    pub(crate) fn input(&mut self, node: &Node, i: usize) -> Result<TensorId> {
        let id = node
            .input(i)
            .ok_or_else(|| Error::node(node, None, format!("input {i} is missing")))?;
        if let Some(&t) = self.of.get(&id) {
            return Ok(t);
        }
        let Some(c) = self.graph.constant(id) else {
            return Err(Error::Internal(format!(
                "node '{}': input {i} is not computed",
                node.name
            )));
        };
        let (shape, data) = (c.shape.clone(), c.to_f32());
        let w = self.weight(data);
        let storage = self.program.tensors[w].storage;
        let t = self.tensor(shape.clone(), (0..shape.len()).collect(), storage);
        self.of.insert(id, t);
        Ok(t)
    }

    pub(crate) fn out_shape(&self, node: &Node) -> Vec<usize> {
        self.graph
            .shape(node.outputs[0])
            .map(<[usize]>::to_vec)
            .unwrap_or_default()
    }

    /// Number of elements of tensor `t`.
    pub(crate) fn len(&self, t: TensorId) -> usize {
        self.program.tensors[t].numel()
    }

    /// `t` in the memory order `perm`: itself, or a copy.
    pub(crate) fn ensure(&mut self, node: &Node, t: TensorId, perm: &[usize]) -> TensorId {
        if self.program.tensors[t].has_order(perm) {
            return t;
        }
        let shape = self.program.tensors[t].shape.clone();
        let y = self.new_buffer(shape.clone(), perm.to_vec());
        let x_logical = self.program.tensors[t].strides();
        let kernel = copy_call(
            perm.len(),
            [self.len(t), self.len(y)],
            perm.iter().map(|&a| x_logical[a]).collect(),
            0,
            dense_strides(&perm.iter().map(|&a| shape[a]).collect::<Vec<_>>()),
            perm.iter().map(|&a| shape[a]).collect(),
        );
        self.step(node, kernel, vec![t], y, Clamp::LINEAR, 0);
        y
    }

    pub(crate) fn constant(&self, node: &Node, i: usize) -> Option<&crate::ir::Tensor> {
        node.input(i).and_then(|id| self.graph.constant(id))
    }

    /// The same memory under another logical shape (same length, logical order).
    pub(crate) fn relabel(&mut self, t: TensorId, shape: Vec<usize>) -> TensorId {
        let (storage, elem) = (
            self.program.tensors[t].storage,
            self.program.tensors[t].elem,
        );
        let rank = shape.len();
        self.tensor_of(shape, (0..rank).collect(), storage, elem)
    }
}

/// The weights (`[K][N]` row-major) and bias of a GEMM in the layout the target's kernel reads:
/// in zero-padded panels of `NR` columns (`[N/NR][K][NR]`) where the target's GEMM tile has
/// `NR > 1` (16 for `avx2`), as they are otherwise.
pub(crate) fn gemm_packing(
    target: Target,
    k: usize,
    n: usize,
    kn: Vec<f32>,
    bias: Vec<f32>,
) -> (Vec<f32>, Vec<f32>) {
    let nr = target.desc().gemm_tile[1];
    if nr <= 1 {
        return (kn, bias);
    }
    let np = n.div_ceil(nr) * nr;
    let w = pack(&[np / nr, k, nr], |[p, kk, j]| {
        if p * nr + j < n {
            kn[kk * n + p * nr + j]
        } else {
            0.0
        }
    });
    let mut b = bias;
    b.resize(np, 0.0);
    (w, b)
}

/// The arguments of the conv and GEMM kernels: input, weights, bias, output, clamp bounds and
/// the pool that runs their tasks.
pub fn minmax_args() -> [Arg; 7] {
    [
        Arg::Input(0),
        Arg::Input(1),
        Arg::Input(2),
        Arg::Output,
        Arg::Min,
        Arg::Max,
        Arg::Pool,
    ]
}

/// Most tasks one kernel call is split into: 24 divides evenly among 2, 3, 4, 6 and 8 threads,
/// and threads done with their share take the others' tasks, so uneven parts even out.
const MAX_TASKS: usize = 24;
/// Fewest multiply-adds per task: a split call costs most of a microsecond of handing out and
/// waiting (`ThreadPool`, two threads), the time of some 32 thousand multiply-adds.
const TASK_MACS: u64 = 32 * 1024;
/// The task counts used, largest first: each divides `MAX_TASKS`, and none is odd but 1, so
/// that two threads, the common case, always share a call evenly.
const TASK_COUNTS: [usize; 7] = [24, 12, 8, 6, 4, 2, 1];

/// The largest task count of at most `want` and at most `units`.
fn task_count(want: usize, units: usize) -> usize {
    TASK_COUNTS
        .into_iter()
        .find(|&c| c <= want && c <= units)
        .unwrap_or(1)
}

/// How many tasks a call of `macs` multiply-adds gets at most.
fn wanted_tasks(macs: u64) -> usize {
    (macs / TASK_MACS).clamp(1, MAX_TASKS as u64) as usize
}

/// Tasks of a conv or depthwise call: groups of its `rows` output rows.
pub(crate) fn row_tasks(rows: usize, macs: u64) -> usize {
    task_count(wanted_tasks(macs), rows)
}

/// Tasks of a GEMM call `[m][k] x [k][n]` on `target`: row groups (whole register tiles) times
/// panel groups. The larger operand is split first, so that each thread streams only its
/// share of it: the weights (`k * n`) for the late layers and the classifier, the pixels
/// (`m * k`) for the early ones.
pub(crate) fn gemm_tasks(target: Target, mnk: [usize; 3]) -> [usize; 2] {
    gemm_tile_tasks(target.desc().gemm_tile, mnk)
}

/// [`gemm_tasks`] for a GEMM kernel with the register tile `[mr, nr]`.
pub(crate) fn gemm_tile_tasks([mr, nr]: [usize; 2], [m, k, n]: [usize; 3]) -> [usize; 2] {
    let (row_tiles, panels) = (m.div_ceil(mr.max(1)), n.div_ceil(nr.max(1)));
    let want = wanted_tasks((m * k * n) as u64);
    if n >= m {
        let nt = task_count(want, panels);
        [task_count(want / nt, row_tiles), nt]
    } else {
        let mt = task_count(want, row_tiles);
        [mt, task_count(want / mt, panels)]
    }
}

/// A strided copy of input 0 into the output from element `y_start` on: `shape` in the copy's
/// axis order, with each side's strides for those axes; `lens` are the two arrays' lengths.
pub fn copy_call(
    rank: usize,
    lens: [usize; 2],
    x_strides: Vec<usize>,
    y_start: usize,
    y_strides: Vec<usize>,
    shape: Vec<usize>,
) -> Kernel {
    Kernel::call(
        mnetc_targets::Kernel::Copy,
        [rank, lens[0], lens[1]].map(Const::from),
        [
            Arg::Input(0),
            Arg::Usizes(x_strides),
            Arg::Output,
            Arg::Usize(y_start),
            Arg::Usizes(y_strides),
            Arg::Usizes(shape),
        ],
    )
}

/// Row-major strides of `shape`.
pub fn dense_strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// A packed array of `shape` (row-major) whose element at each coordinate is `at(coordinate)`.
pub(crate) fn pack<const R: usize, T>(shape: &[usize; R], at: impl Fn([usize; R]) -> T) -> Vec<T> {
    let total: usize = shape.iter().product();
    let mut out = Vec::with_capacity(total);
    let mut c = [0usize; R];
    for _ in 0..total {
        out.push(at(c));
        for a in (0..R).rev() {
            c[a] += 1;
            if c[a] < shape[a] {
                break;
            }
            c[a] = 0;
        }
    }
    out
}
