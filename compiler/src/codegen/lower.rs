//! Lowering: the optimised graph becomes a straight list of kernel calls over tensors with a
//! physical layout and a storage place. Decisions made here:
//!
//! - **Layout.** Conv and pooling ops read and write NHWC (logical NCHW shape, physical axis
//!   order `[0, 2, 3, 1]`); elementwise ops keep their input's layout; everything else is in
//!   logical order. A Transpose only relabels its input's memory, so it costs nothing; a layout
//!   change that is really needed is one strided copy. Layouts are compared on their non-unit
//!   axes, so `[1, C, 1, 1]` is the same in every layout.
//! - **Storage.** The graph input stays in the caller's array; activations live in the arena
//!   (planned later); reshapes alias their input; constants go into the weights blob, packed
//!   in the order their kernel reads them.
//! - **Kernel choice** per layer from the static shape: 1x1 stride-1 unpadded convs become a
//!   GEMM over pixels, depthwise convs the depthwise kernel, other convs the direct kernel.

use super::Target;
use crate::error::{Error, Result};
use crate::ir::{BinaryOp, Clamp, Graph, Node, Op, ValueId};
use crate::ops::activation::clip_bounds;
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

#[derive(Clone, Debug)]
pub struct TensorInfo {
    /// Logical (ONNX) shape.
    pub shape: Vec<usize>,
    /// Physical axis order: physical axis `i` is logical axis `perm[i]`.
    pub perm: Vec<usize>,
    pub storage: Storage,
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
    fn has_order(&self, perm: &[usize]) -> bool {
        let other = TensorInfo {
            shape: self.shape.clone(),
            perm: perm.to_vec(),
            storage: self.storage,
        };
        let (a, b) = (self.strides(), other.strides());
        (0..self.shape.len()).all(|i| self.shape[i] == 1 || a[i] == b[i])
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kernel {
    /// Direct convolution, or depthwise when `depthwise`.
    Conv {
        h: usize,
        w: usize,
        ci: usize,
        co: usize,
        k: [usize; 2],
        s: [usize; 2],
        pad: [usize; 4],
        oh: usize,
        ow: usize,
        depthwise: bool,
        /// Strides of the input's channel, row and column (dense convs read any layout).
        x_strides: [usize; 3],
    },
    /// `[m][k] x [k][n]`: pointwise convs and fully connected layers.
    Gemm {
        m: usize,
        k: usize,
        n: usize,
    },
    GlobalAvgPool {
        hw: usize,
        c: usize,
    },
    Pool {
        h: usize,
        w: usize,
        c: usize,
        k: [usize; 2],
        s: [usize; 2],
        pad: [usize; 4],
        oh: usize,
        ow: usize,
        max: bool,
        count_pad: bool,
    },
    Softmax {
        outer: usize,
        n: usize,
        inner: usize,
    },
    Clamp,
    MeanRows {
        groups: usize,
        n: usize,
    },
    Fill(f32),
    Binary {
        op: BinaryOp,
        a_strides: Vec<usize>,
        b_strides: Vec<usize>,
        shape: Vec<usize>,
    },
    Copy {
        x_strides: Vec<usize>,
        y_start: usize,
        y_strides: Vec<usize>,
        shape: Vec<usize>,
    },
}

impl Kernel {
    /// Which of the runtime's kernels runs this call (the target picks the function).
    pub fn kind(&self) -> mnetc_targets::Kernel {
        use mnetc_targets::Kernel as K;
        match self {
            Kernel::Conv {
                depthwise: true, ..
            } => K::DwConv,
            Kernel::Conv { .. } => K::Conv,
            Kernel::Gemm { .. } => K::Gemm,
            Kernel::GlobalAvgPool { .. } => K::GAvgPool,
            Kernel::Pool { .. } => K::Pool,
            Kernel::Softmax { .. } => K::Softmax,
            Kernel::Clamp => K::Clamp,
            Kernel::MeanRows { .. } => K::Mean,
            Kernel::Fill(_) => K::Fill,
            Kernel::Binary { .. } => K::Binary,
            Kernel::Copy { .. } => K::Copy,
        }
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
    /// Length of every arena buffer.
    pub buffers: Vec<usize>,
    /// Packed constants.
    pub weights: Vec<Vec<f32>>,
    pub steps: Vec<Step>,
    pub input: TensorId,
    /// The graph output, copied to the caller's array in logical order at the end.
    pub output: TensorId,
}

const NHWC: [usize; 4] = [0, 2, 3, 1];

struct Lowering<'g> {
    graph: &'g Graph,
    target: Target,
    program: Program,
    /// The tensor holding each IR value once computed.
    of: HashMap<ValueId, TensorId>,
}

pub fn lower(graph: &Graph, target: Target) -> Result<Program> {
    if graph.outputs.len() != 1 {
        return Err(Error::Model(format!(
            "the graph has {} outputs; code generation supports exactly one",
            graph.outputs.len()
        )));
    }
    let input_shape = graph
        .shape(graph.input.value)
        .ok_or_else(|| Error::Internal("input not specialised".into()))?
        .to_vec();
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
    for node in &graph.nodes {
        l.node(node)?;
    }
    let out = graph.outputs[0];
    l.program.output = match l.of.get(&out) {
        Some(&t) => t,
        None => {
            return Err(Error::Internal(format!(
                "output '{}' is not computed",
                graph.values[out].name
            )));
        }
    };
    Ok(l.program)
}

impl Lowering<'_> {
    fn tensor(&mut self, shape: Vec<usize>, perm: Vec<usize>, storage: Storage) -> TensorId {
        self.program.tensors.push(TensorInfo {
            shape,
            perm,
            storage,
        });
        self.program.tensors.len() - 1
    }

    fn new_buffer(&mut self, shape: Vec<usize>, perm: Vec<usize>) -> TensorId {
        let len = shape.iter().product();
        self.program.buffers.push(len);
        let b = self.program.buffers.len() - 1;
        self.tensor(shape, perm, Storage::Arena(b))
    }

    fn weight(&mut self, data: Vec<f32>) -> TensorId {
        let len = data.len();
        self.program.weights.push(data);
        let w = self.program.weights.len() - 1;
        self.tensor(vec![len], vec![0], Storage::Weight(w))
    }

    fn step(
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
    fn input(&mut self, node: &Node, i: usize) -> Result<TensorId> {
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

    fn out_shape(&self, node: &Node) -> Vec<usize> {
        self.graph
            .shape(node.outputs[0])
            .map(<[usize]>::to_vec)
            .unwrap_or_default()
    }

    /// `t` in the memory order `perm`: itself, or a copy.
    fn ensure(&mut self, node: &Node, t: TensorId, perm: &[usize]) -> TensorId {
        if self.program.tensors[t].has_order(perm) {
            return t;
        }
        let shape = self.program.tensors[t].shape.clone();
        let y = self.new_buffer(shape.clone(), perm.to_vec());
        let x_logical = self.program.tensors[t].strides();
        let kernel = Kernel::Copy {
            x_strides: perm.iter().map(|&a| x_logical[a]).collect(),
            y_start: 0,
            y_strides: dense_strides(&perm.iter().map(|&a| shape[a]).collect::<Vec<_>>()),
            shape: perm.iter().map(|&a| shape[a]).collect(),
        };
        self.step(node, kernel, vec![t], y, Clamp::LINEAR, 0);
        y
    }

    fn constant(&self, node: &Node, i: usize) -> Option<&crate::ir::Tensor> {
        node.input(i).and_then(|id| self.graph.constant(id))
    }

    fn node(&mut self, node: &Node) -> Result<()> {
        let out_shape = self.out_shape(node);
        let output = match &node.op {
            Op::Conv(conv) => {
                let x = self.input(node, 0)?;
                let depthwise = conv.group > 1;
                let pointwise = !depthwise
                    && conv.window.kernel == [1, 1]
                    && conv.window.strides == [1, 1]
                    && conv.window.pads == [0; 4];
                // Dense convs read any layout through strides (the stem reads an NCHW input
                // as it is); depthwise and pointwise convs read NHWC.
                let x = if depthwise || pointwise {
                    self.ensure(node, x, &NHWC)
                } else {
                    x
                };
                let xs = self.program.tensors[x].shape.clone();
                let strides = self.program.tensors[x].strides();
                let wt = self
                    .constant(node, 1)
                    .ok_or_else(|| Error::node(node, None, "the weight must be a constant"))?;
                let (co, ci, oh, ow) = (out_shape[1], xs[1], out_shape[2], out_shape[3]);
                let [kh, kw] = conv.window.kernel;
                let w = wt.to_f32();
                let bias = self
                    .constant(node, 2)
                    .map_or_else(|| vec![0.0; co], |b| b.to_f32());
                // Weights arrive OIHW ([co][ci/group][kh][kw]).
                let packed = if depthwise {
                    pack(&[kh, kw, co], |[ky, kx, c]| w[(c * kh + ky) * kw + kx])
                } else {
                    pack(&[kh, kw, ci, co], |[ky, kx, i, o]| {
                        w[((o * ci + i) * kh + ky) * kw + kx]
                    })
                };
                // A pointwise conv is a GEMM whose [K][N] matrix is the [CI][CO] packing.
                let (packed, bias) = if pointwise {
                    gemm_packing(self.target, ci, co, packed, bias)
                } else if !depthwise && self.target.desc().conv_channel_multiple > 1 {
                    // SIMD convs read output channels in whole vectors: pad them.
                    let cop = co.next_multiple_of(self.target.desc().conv_channel_multiple);
                    let mut b = bias;
                    b.resize(cop, 0.0);
                    (
                        pack(&[kh * kw * ci, cop], |[r, o]| {
                            if o < co { packed[r * co + o] } else { 0.0 }
                        }),
                        b,
                    )
                } else {
                    (packed, bias)
                };
                let (w, b) = (self.weight(packed), self.weight(bias));
                let y = self.new_buffer(out_shape.clone(), NHWC.to_vec());
                let macs = (oh * ow * co * kh * kw * if depthwise { 1 } else { ci }) as u64;
                let kernel = if pointwise {
                    Kernel::Gemm {
                        m: xs[2] * xs[3],
                        k: ci,
                        n: co,
                    }
                } else {
                    Kernel::Conv {
                        h: xs[2],
                        w: xs[3],
                        ci,
                        co,
                        k: conv.window.kernel,
                        s: conv.window.strides,
                        pad: conv.window.pads,
                        oh,
                        ow,
                        depthwise,
                        x_strides: [strides[1], strides[2], strides[3]],
                    }
                };
                self.step(node, kernel, vec![x, w, b], y, conv.act, macs);
                y
            }
            Op::Dense { act } => {
                let wt = self
                    .constant(node, 1)
                    .ok_or_else(|| Error::node(node, None, "the weight must be a constant"))?;
                let (n, w) = (wt.shape[0], wt.to_f32());
                let bias = self
                    .constant(node, 2)
                    .map_or_else(|| vec![0.0; n], |b| b.to_f32());
                self.dense(node, &out_shape, n, &w, bias, *act)?
            }
            Op::Gemm { .. } | Op::MatMul => {
                // A graph built without the optimising passes still has Gemm and MatMul.
                let Some((w, bias)) = crate::passes::dense::dense_weights(self.graph, node) else {
                    return Err(Error::node(
                        node,
                        None,
                        "is only supported by code generation as a fully connected layer (constant B, no transA, row-vector C)",
                    ));
                };
                let n = *out_shape.last().unwrap_or(&0);
                let bias = bias.unwrap_or_else(|| vec![0.0; n]);
                self.dense(node, &out_shape, n, &w, bias, Clamp::LINEAR)?
            }
            Op::GlobalAveragePool if out_shape.len() == 4 => self.global_pool(node, &out_shape)?,
            Op::ReduceMean {
                axes: Some(axes), ..
            } if axes == &[2, 3]
                && self
                    .graph
                    .shape(node.inputs[0].unwrap_or(0))
                    .is_some_and(|s| s.len() == 4) =>
            {
                self.global_pool(node, &out_shape)?
            }
            Op::ReduceMean {
                axes: Some(axes), ..
            } => {
                let x = self.input(node, 0)?;
                let shape = self.program.tensors[x].shape.clone();
                let axes: Vec<usize> = axes.iter().map(|&a| a as usize).collect();
                // Kept axes first, reduced axes last: each output is the mean of a contiguous row.
                let perm: Vec<usize> = (0..shape.len())
                    .filter(|a| !axes.contains(a))
                    .chain(axes.iter().copied())
                    .collect();
                let x = self.ensure(node, x, &perm);
                let n: usize = axes.iter().map(|&a| shape[a]).product();
                let groups = shape.iter().product::<usize>() / n.max(1);
                let y = self.new_buffer(out_shape.clone(), (0..out_shape.len()).collect());
                self.step(
                    node,
                    Kernel::MeanRows { groups, n },
                    vec![x],
                    y,
                    Clamp::LINEAR,
                    0,
                );
                y
            }
            Op::AveragePool(p) | Op::MaxPool(p) => {
                let x = self.input(node, 0)?;
                let x = self.ensure(node, x, &NHWC);
                let xs = self.program.tensors[x].shape.clone();
                let y = self.new_buffer(out_shape.clone(), NHWC.to_vec());
                let kernel = Kernel::Pool {
                    h: xs[2],
                    w: xs[3],
                    c: xs[1],
                    k: p.window.kernel,
                    s: p.window.strides,
                    pad: p.window.pads,
                    oh: out_shape[2],
                    ow: out_shape[3],
                    max: matches!(node.op, Op::MaxPool(_)),
                    count_pad: p.count_include_pad,
                };
                self.step(node, kernel, vec![x], y, Clamp::LINEAR, 0);
                y
            }
            Op::Clip(attr) => {
                let x = self.input(node, 0)?;
                let bounds: Vec<_> = node
                    .inputs
                    .iter()
                    .map(|i| i.and_then(|id| self.graph.constant(id)))
                    .collect();
                let clamp = clip_bounds(node, *attr, &bounds)?;
                let perm = self.program.tensors[x].perm.clone();
                let y = self.new_buffer(out_shape.clone(), perm);
                self.step(node, Kernel::Clamp, vec![x], y, clamp, 0);
                y
            }
            Op::BatchNorm { epsilon } => {
                // Not after a conv: a per-channel Mul and Add by constants folded here.
                let p: Vec<Vec<f32>> = (1..5)
                    .map(|i| {
                        self.constant(node, i)
                            .map(|t| t.to_f32())
                            .unwrap_or_default()
                    })
                    .collect();
                let c = out_shape[1];
                let scale: Vec<f32> = (0..c)
                    .map(|i| (p[0][i] as f64 / (p[3][i] as f64 + *epsilon as f64).sqrt()) as f32)
                    .collect();
                let shift: Vec<f32> = (0..c)
                    .map(|i| (p[1][i] as f64 - p[2][i] as f64 * scale[i] as f64) as f32)
                    .collect();
                let mut channel = vec![1; out_shape.len()];
                channel[1] = c;
                let x = self.input(node, 0)?;
                let s = self.weight(scale);
                let s = self.relabel(s, channel.clone());
                let scaled = self.binary(node, BinaryOp::Mul, x, s, &out_shape);
                let b = self.weight(shift);
                let b = self.relabel(b, channel);
                self.binary(node, BinaryOp::Add, scaled, b, &out_shape)
            }
            Op::Binary(op) => {
                let (a, b) = (self.input(node, 0)?, self.input(node, 1)?);
                self.binary(node, *op, a, b, &out_shape)
            }
            Op::Pad { .. } => {
                let x = self.input(node, 0)?;
                let info = self.program.tensors[x].clone();
                let y = self.new_buffer(out_shape.clone(), info.perm.clone());
                let y_info = self.program.tensors[y].clone();
                let ys = y_info.strides();
                let Op::Pad { pads, .. } = &node.op else {
                    unreachable!("matched above")
                };
                let amounts = crate::ops::shape::pad_amounts(
                    self.graph,
                    node,
                    pads.as_deref(),
                    info.shape.len(),
                )?;
                // The data starts after the padding before it, on every axis.
                let y_start = amounts
                    .iter()
                    .zip(&ys)
                    .map(|(&(before, _), s)| before as usize * s)
                    .sum();
                self.step(node, Kernel::Fill(0.0), vec![], y, Clamp::LINEAR, 0);
                let xs = info.strides();
                let order = &info.perm;
                let kernel = Kernel::Copy {
                    x_strides: order.iter().map(|&a| xs[a]).collect(),
                    y_start,
                    y_strides: order.iter().map(|&a| ys[a]).collect(),
                    shape: order.iter().map(|&a| info.shape[a]).collect(),
                };
                self.step(node, kernel, vec![x], y, Clamp::LINEAR, 0);
                y
            }
            op if op.is_reshape_like() => {
                let x = self.input(node, 0)?;
                let rank = self.program.tensors[x].shape.len();
                let x = self.ensure(node, x, &(0..rank).collect::<Vec<_>>());
                self.relabel(x, out_shape.clone())
            }
            Op::Transpose { perm: Some(q) } => {
                let x = self.input(node, 0)?;
                let info = self.program.tensors[x].clone();
                // y's logical axis j is x's axis q[j]: keep the memory, relabel the axes.
                let mut inverse = vec![0; q.len()];
                for (j, &a) in q.iter().enumerate() {
                    inverse[a] = j;
                }
                let perm = info.perm.iter().map(|&a| inverse[a]).collect();
                self.tensor(out_shape.clone(), perm, info.storage)
            }
            Op::Softmax { axis, legacy } => {
                let x = self.input(node, 0)?;
                let rank = out_shape.len();
                let x = self.ensure(node, x, &(0..rank).collect::<Vec<_>>());
                let a = crate::ops::normalize_axis(node, *axis, rank)?;
                let (outer, n, inner) = if *legacy {
                    (
                        out_shape[..a].iter().product(),
                        out_shape[a..].iter().product(),
                        1,
                    )
                } else {
                    (
                        out_shape[..a].iter().product(),
                        out_shape[a],
                        out_shape[a + 1..].iter().product(),
                    )
                };
                let y = self.new_buffer(out_shape.clone(), (0..rank).collect());
                self.step(
                    node,
                    Kernel::Softmax { outer, n, inner },
                    vec![x],
                    y,
                    Clamp::LINEAR,
                    0,
                );
                y
            }
            other => {
                return Err(Error::node(
                    node,
                    None,
                    format!(
                        "{} is not supported by code generation yet (the reference interpreter runs it)",
                        other.name()
                    ),
                ));
            }
        };
        self.of.insert(node.outputs[0], output);
        Ok(())
    }

    /// A fully connected layer: weights `[N][K]` row-major, packed here as `[K][N]`.
    fn dense(
        &mut self,
        node: &Node,
        out_shape: &[usize],
        n: usize,
        wv: &[f32],
        bias: Vec<f32>,
        act: Clamp,
    ) -> Result<TensorId> {
        let x = self.input(node, 0)?;
        let rank = self.program.tensors[x].shape.len();
        let x = self.ensure(node, x, &(0..rank).collect::<Vec<_>>());
        let k = wv.len() / n.max(1);
        let packed = pack(&[k, n], |[kk, nn]| wv[nn * k + kk]);
        let (packed, bias) = gemm_packing(self.target, k, n, packed, bias);
        let m = self.program.tensors[x].numel() / k.max(1);
        let (w, b) = (self.weight(packed), self.weight(bias));
        let y = self.new_buffer(out_shape.to_vec(), (0..out_shape.len()).collect());
        self.step(
            node,
            Kernel::Gemm { m, k, n },
            vec![x, w, b],
            y,
            act,
            (m * k * n) as u64,
        );
        Ok(y)
    }

    /// The same memory under another logical shape (same length, logical order).
    fn relabel(&mut self, t: TensorId, shape: Vec<usize>) -> TensorId {
        let storage = self.program.tensors[t].storage;
        let rank = shape.len();
        self.tensor(shape, (0..rank).collect(), storage)
    }

    fn global_pool(&mut self, node: &Node, out_shape: &[usize]) -> Result<TensorId> {
        let x = self.input(node, 0)?;
        let x = self.ensure(node, x, &NHWC);
        let xs = self.program.tensors[x].shape.clone();
        let rank = out_shape.len();
        let y = self.new_buffer(out_shape.to_vec(), (0..rank).collect());
        self.step(
            node,
            Kernel::GlobalAvgPool {
                hw: xs[2] * xs[3],
                c: xs[1],
            },
            vec![x],
            y,
            Clamp::LINEAR,
            0,
        );
        Ok(y)
    }

    /// `y = a (op) b` with broadcasting; `y` takes the layout of an operand of the full shape.
    fn binary(
        &mut self,
        node: &Node,
        op: BinaryOp,
        a: TensorId,
        b: TensorId,
        out_shape: &[usize],
    ) -> TensorId {
        let rank = out_shape.len();
        let full =
            |t: &TensorInfo| t.shape == out_shape && !matches!(t.storage, Storage::Weight(_));
        let perm = [a, b]
            .iter()
            .map(|&t| &self.program.tensors[t])
            .find(|t| full(t))
            .map_or_else(|| (0..rank).collect(), |t| t.perm.clone());
        let y = self.new_buffer(out_shape.to_vec(), perm.clone());
        let operand_strides = |t: &TensorInfo| -> Vec<usize> {
            let s = t.strides();
            let offset = rank - t.shape.len();
            perm.iter()
                .map(|&axis| {
                    if axis < offset || t.shape[axis - offset] == 1 {
                        0
                    } else {
                        s[axis - offset]
                    }
                })
                .collect()
        };
        let kernel = Kernel::Binary {
            op,
            a_strides: operand_strides(&self.program.tensors[a]),
            b_strides: operand_strides(&self.program.tensors[b]),
            shape: perm.iter().map(|&axis| out_shape[axis]).collect(),
        };
        self.step(node, kernel, vec![a, b], y, Clamp::LINEAR, 0);
        y
    }
}

/// The weights (`[K][N]` row-major) and bias of a GEMM in the layout the target's kernel reads:
/// in zero-padded panels of `NR` columns (`[N/NR][K][NR]`) where the target's GEMM tile has
/// `NR > 1` (16 for `avx2`), as they are otherwise.
fn gemm_packing(
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

/// Row-major strides of `shape`.
pub fn dense_strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// A packed array of `shape` (row-major) whose element at each coordinate is `at(coordinate)`.
fn pack<const R: usize>(shape: &[usize; R], at: impl Fn([usize; R]) -> f32) -> Vec<f32> {
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
