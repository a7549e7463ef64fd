//! The preprocessing folded into the stem: `forward_rgb8` feeds the 8-bit values themselves (as
//! floats, in the input's channel order) to a copy of the first conv whose weights and bias
//! carry the per-channel map `x = (v * scale - mean) / std`:
//!
//! `w' = w * scale / std`, `b' = b - sum(w * mean / std)` over the window.
//!
//! The border: the network pads the *normalised* input with zeros, and a zero there is the
//! 8-bit value `mean / scale` (not an integer). So the folded conv reads a stage buffer that
//! already holds the padding, filled with `mean / scale` per channel, and pads nothing itself:
//! a padded tap then contributes `w' * mean / scale - w * mean / std = 0`, as in the network.
//!
//! The fold applies when the first kernel is a dense conv reading the graph input and nothing
//! else reads it (every MobileNet export) and zero-padding it; otherwise (a conv into which
//! `passes::fold_affine` folded the graph's own input rescaling pads with a value) `forward_rgb8`
//! normalises into the stage buffer and runs `forward`.

use super::lower::{Program, Step, Storage, TensorInfo};
use crate::preprocess::Preprocess;
use crate::program::{Const, Elem, Packed};

/// The folded stem: its kernel call (reading a padded NHWC stage buffer), and that buffer's
/// geometry.
pub struct Stem {
    pub step: Step,
    /// Rows and columns of the padded buffer, and where the photo starts in it.
    pub rows: usize,
    pub cols: usize,
    pub top: usize,
    pub left: usize,
    /// The photo's rows and columns (the input's).
    pub height: usize,
    pub width: usize,
    /// The 8-bit value that is zero after the map, per input channel: the padding.
    pub border: [f32; 3],
    /// Photo byte of each input channel (RGB or BGR).
    pub order: [usize; 3],
}

impl Stem {
    /// Floats in the padded stage buffer.
    pub fn floats(&self) -> usize {
        self.rows * self.cols * 3
    }
}

// The dense conv kernel's const generics, in order (`runtime/src/signature.rs`).
const H: usize = 0;
const W: usize = 1;
const CI: usize = 2;
const COP: usize = 4;
const KH: usize = 5;
const KW: usize = 6;
const SH: usize = 7;
const SW: usize = 8;
const PT: usize = 9;
const PL: usize = 10;
const OH: usize = 11;
const OW: usize = 12;
const XSC: usize = 13;
/// (16 is the task count, 17 the hard-swish flag, 18 the pad value flag.)
const HS: usize = 17;
const PV: usize = 18;
const XN: usize = 19;

/// Folds `pre` into a copy of the program's stem conv (appending its weights to the program),
/// or `None` when the program does not start with a conv that alone reads the input.
pub fn fold(program: &mut Program, pre: &Preprocess) -> Option<Stem> {
    // The input, or a relabelling of it (an NHWC model's Transpose).
    let first = program.first_step_alone_on_input(mnetc_targets::Kernel::Conv)?;
    if pre.scale == 0.0 || pre.std.contains(&0.0) {
        return None;
    }
    let c: Vec<usize> = first
        .kernel
        .consts
        .iter()
        .map(|c| match c {
            Const::Usize(n) => *n,
            Const::Bool(b) => *b as usize,
        })
        .collect();
    // A conv whose padding holds a value (an input rescaling folded in by
    // `passes::fold_affine`): `forward_rgb8` maps the photo into a stage buffer first.
    if c[CI] != 3 || c[PV] != 0 {
        return None;
    }
    let (kh, kw, cop) = (c[KH], c[KW], c[COP]);
    let rows = (c[OH] - 1) * c[SH] + kh;
    let cols = (c[OW] - 1) * c[SW] + kw;
    let (Storage::Weight(wi), Storage::Weight(bi)) = (
        program.tensors[first.inputs[1]].storage,
        program.tensors[first.inputs[2]].storage,
    ) else {
        return None;
    };
    // Packed `[KH][KW][CI][COP]`: input channel `i` of tap `r` starts at `(r * 3 + i) * COP`.
    let (Some(w), Some(b)) = (program.weights[wi].as_f32(), program.weights[bi].as_f32()) else {
        return None; // an integer stem (a quantized model)
    };
    let mut folded = w.to_vec();
    let mut bias: Vec<f64> = b.iter().map(|&v| v as f64).collect();
    for r in 0..kh * kw {
        for i in 0..3 {
            let at = (r * 3 + i) * cop;
            let (s, m) = (pre.scale as f64, pre.mean[i] as f64);
            let d = pre.std[i] as f64;
            for o in 0..cop {
                let v = w[at + o] as f64;
                folded[at + o] = (v * s / d) as f32;
                bias[o] -= v * m / d;
            }
        }
    }
    let bias: Vec<f32> = bias.into_iter().map(|v| v as f32).collect();
    let mut step = first.clone();
    let (height, width) = (c[H], c[W]);
    // The folded weights and bias: the originals' shapes, new places in the blob.
    let (w_info, b_info) = (
        program.tensors[first.inputs[1]].clone(),
        program.tensors[first.inputs[2]].clone(),
    );
    program.weights.push(Packed::F32(folded));
    program.weights.push(Packed::F32(bias));
    let n = program.weights.len();
    let mut push = |info: TensorInfo| {
        program.tensors.push(info);
        program.tensors.len() - 1
    };
    let padded = push(TensorInfo {
        shape: vec![1, 3, rows, cols],
        perm: vec![0, 2, 3, 1],
        storage: Storage::Input,
        elem: Elem::F32,
    });
    let wt = push(TensorInfo {
        storage: Storage::Weight(n - 2),
        ..w_info
    });
    let bt = push(TensorInfo {
        storage: Storage::Weight(n - 1),
        ..b_info
    });
    step.inputs = vec![padded, wt, bt];
    let mut consts = c.clone();
    consts[H] = rows;
    consts[W] = cols;
    consts[PT] = 0;
    consts[PL] = 0;
    consts[XSC] = 1;
    consts[XSC + 1] = cols * 3;
    consts[XSC + 2] = 3;
    consts[XN] = rows * cols * 3;
    step.kernel.consts = consts
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            if i == HS || i == PV {
                Const::Bool(n != 0)
            } else {
                Const::Usize(n)
            }
        })
        .collect();
    Some(Stem {
        step,
        rows,
        cols,
        top: c[PT],
        left: c[PL],
        height,
        width,
        border: std::array::from_fn(|i| pre.mean[i] / pre.scale),
        order: pre.order.source(),
    })
}
