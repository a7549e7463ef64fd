//! Post-training quantization (`mnetc quantize`): the range of every activation of a float
//! graph over a set of calibration inputs (`calibrate`), and the graph written as a standard
//! QDQ ONNX model with those ranges (`write::qdq_model`), which mnetc's `quantize` pass (and
//! onnxruntime) then run in integers.
//!
//! The scheme is the usual one for CNNs (onnxruntime's `quantize_static` in QDQ format, with
//! per-channel weights): uint8 activations with a zero point (the range always contains 0),
//! int8 weights symmetric per output channel (or per tensor), int32 biases at scale
//! `x_scale * w_scale`. Reshapes pass their input's parameters on; Softmax stays in float.

pub mod write;

use crate::error::{Error, Result};
use crate::ir::{Graph, Op, Tensor, ValueId};

/// How an activation's range is chosen from what calibration saw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// The smallest and largest values seen.
    MinMax,
    /// The given percentile (of 100) of the values seen at each end (onnxruntime's default is
    /// 99.999): outliers beyond it saturate.
    Percentile(f64),
    /// The clipping threshold that minimises the KL divergence between the distribution of
    /// `|x|` and its 128-level quantized form (TensorRT's calibration).
    Entropy,
}

impl std::str::FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Method> {
        match s {
            "minmax" => Ok(Method::MinMax),
            "percentile" => Ok(Method::Percentile(99.999)),
            "entropy" => Ok(Method::Entropy),
            _ => Err(Error::Options(format!(
                "unknown calibration method '{s}' (expected minmax, percentile or entropy)"
            ))),
        }
    }
}

/// The range calibration chose for one activation.
#[derive(Clone, Debug, PartialEq)]
pub struct Range {
    pub value: ValueId,
    /// Smallest and largest values seen.
    pub min: f32,
    pub max: f32,
    /// The range the method chose (within `min..=max`); the quantization covers it and 0.
    pub lo: f32,
    pub hi: f32,
}

impl Range {
    /// uint8 parameters covering `lo..=hi` and 0: `(scale, zero_point)`.
    pub fn u8_params(&self) -> (f32, u8) {
        let lo = self.lo.min(0.0);
        let hi = self.hi.max(0.0);
        let scale = (hi - lo) / 255.0;
        if !(scale > 0.0 && scale.is_finite()) {
            return (1.0, 0);
        }
        let zp = (-lo / scale).round_ties_even().clamp(0.0, 255.0);
        (scale, zp as u8)
    }
}

/// How many of a graph's Conv and Dense layers compute on quantized values, of all of them
/// (what `mnetc quantize` checks of the model it wrote, read back).
pub fn integer_layers(graph: &Graph) -> (usize, usize) {
    use crate::ir::{DType, LinearOp};
    let layers: Vec<_> = graph
        .nodes
        .iter()
        .filter(|n| matches!(n.op, Op::Conv(_) | Op::Linear(LinearOp::Dense { .. })))
        .collect();
    let integer = layers
        .iter()
        .filter(|n| {
            n.input(0)
                .is_some_and(|x| graph.values[x].dtype != DType::F32)
        })
        .count();
    (integer, layers.len())
}

/// Bins of the histograms the percentile and entropy methods read.
const BINS: usize = 2048;
/// Levels the entropy method compares the clipped distribution with: uint8 has 255 steps above
/// 0 for a value that is never negative, about half of them on each side for one that is.
const LEVELS_UNSIGNED: usize = 255;
const LEVELS_SIGNED: usize = 128;

/// What calibration knows of one value.
#[derive(Clone)]
struct Seen {
    min: f32,
    max: f32,
    /// Over `min..=max` (percentile) or `0..=max|x|` (entropy).
    hist: Vec<u64>,
}

/// The float activations calibration measures: the graph input and every float value a node
/// computes, but not what Softmax computes (probabilities stay float) and not the outputs of
/// reshapes (they take their input's range).
fn measured(graph: &Graph) -> Vec<bool> {
    let mut want = vec![false; graph.values.len()];
    want[graph.input.value] = true;
    for node in &graph.nodes {
        let skip = node.op.is_reshape_like()
            || matches!(
                node.op,
                Op::Activation(crate::ir::ActivationOp::Softmax { .. })
            );
        for &id in &node.outputs {
            let v = &graph.values[id];
            want[id] = !skip && v.constant.is_none() && v.dtype == crate::ir::DType::F32;
        }
    }
    want
}

/// Runs the interpreter on every input and returns the range of every activation that the
/// written model quantizes, in value order. `progress` is called after each interpreter run
/// (the percentile and entropy methods run every input twice: extremes, then histograms).
pub fn calibrate(
    graph: &Graph,
    inputs: &[Tensor],
    method: Method,
    mut progress: impl FnMut(),
) -> Result<Vec<Range>> {
    if inputs.is_empty() {
        return Err(Error::Options(
            "calibration needs at least one input".into(),
        ));
    }
    if graph.nodes.iter().any(|n| matches!(n.op, Op::Quant(_))) {
        return Err(Error::Options(format!(
            "{}: the model is already quantized",
            graph.source
        )));
    }
    let want = measured(graph);
    let mut seen: Vec<Option<Seen>> = vec![None; graph.values.len()];
    for x in inputs {
        crate::interp::run_observed(graph, x, |id, t| {
            let Some(data) = t.as_f32().filter(|_| want[id]) else {
                return;
            };
            let s = seen[id].get_or_insert(Seen {
                min: f32::INFINITY,
                max: f32::NEG_INFINITY,
                hist: Vec::new(),
            });
            for &v in data {
                s.min = s.min.min(v);
                s.max = s.max.max(v);
            }
        })?;
        progress();
    }
    if let Some(id) = (0..seen.len()).find(|&id| {
        seen[id]
            .as_ref()
            .is_some_and(|s| !(s.min.is_finite() && s.max.is_finite()))
    }) {
        return Err(Error::Options(format!(
            "calibration saw a value that is not finite in '{}'",
            graph.values[id].name
        )));
    }
    if method != Method::MinMax {
        for s in seen.iter_mut().flatten() {
            s.hist = vec![0; BINS];
        }
        for x in inputs {
            crate::interp::run_observed(graph, x, |id, t| {
                let (Some(data), Some(s)) = (t.as_f32(), seen[id].as_mut()) else {
                    return;
                };
                let (lo, hi) = match method {
                    Method::Entropy => (0.0, s.max.max(-s.min)),
                    _ => (s.min, s.max),
                };
                let width = (hi - lo) / BINS as f32;
                for &v in data {
                    // Zero is exact at any scale: for entropy, the spike of zeros a ReLU makes
                    // would only pull the threshold down.
                    if method == Method::Entropy && v == 0.0 {
                        continue;
                    }
                    let v = if method == Method::Entropy {
                        v.abs()
                    } else {
                        v
                    };
                    let bin = if width > 0.0 {
                        (((v - lo) / width) as usize).min(BINS - 1)
                    } else {
                        0
                    };
                    s.hist[bin] += 1;
                }
            })?;
            progress();
        }
    }
    let mut ranges: Vec<Range> = seen
        .iter()
        .enumerate()
        .filter_map(|(id, s)| {
            let s = s.as_ref()?;
            let (lo, hi) = match method {
                Method::MinMax => (s.min, s.max),
                Method::Percentile(p) => percentile_range(s, p),
                Method::Entropy => {
                    let levels = if s.min >= 0.0 {
                        LEVELS_UNSIGNED
                    } else {
                        LEVELS_SIGNED
                    };
                    let t = entropy_threshold(&s.hist, s.max.max(-s.min), levels);
                    (s.min.max(-t), s.max.min(t))
                }
            };
            Some(Range {
                value: id,
                min: s.min,
                max: s.max,
                lo,
                hi,
            })
        })
        .collect();
    // Reshapes take their input's range.
    for node in &graph.nodes {
        if !node.op.is_reshape_like() {
            continue;
        }
        let (Some(x), Some(&y)) = (node.input(0), node.outputs.first()) else {
            continue;
        };
        if let Some(r) = ranges.iter().find(|r| r.value == x).cloned() {
            ranges.push(Range { value: y, ..r });
        }
    }
    ranges.sort_by_key(|r| r.value);
    Ok(ranges)
}

/// The values at the `p` and `100 - p` percentiles of a histogram over `min..=max` (bin edges:
/// the range can only shrink).
fn percentile_range(s: &Seen, p: f64) -> (f32, f32) {
    let total: u64 = s.hist.iter().sum();
    let width = (s.max - s.min) / BINS as f32;
    let tail = ((1.0 - p / 100.0) * total as f64).floor() as u64;
    // The first bin from each end whose cumulative count passes the tail.
    let mut acc = 0;
    let mut lo_bin = 0;
    for (i, &c) in s.hist.iter().enumerate() {
        acc += c;
        if acc > tail {
            lo_bin = i;
            break;
        }
    }
    let mut acc = 0;
    let mut hi_bin = BINS - 1;
    for (i, &c) in s.hist.iter().enumerate().rev() {
        acc += c;
        if acc > tail {
            hi_bin = i;
            break;
        }
    }
    let lo = s.min + lo_bin as f32 * width;
    let hi = s.min + (hi_bin + 1) as f32 * width;
    (lo.max(s.min), hi.min(s.max))
}

/// The threshold on `|x|` (histogram over `0..=amax`) that minimises the KL divergence between
/// the distribution clipped there and that distribution quantized to `levels` levels.
fn entropy_threshold(hist: &[u64], amax: f32, levels: usize) -> f32 {
    let width = amax / BINS as f32;
    let mut best = (f64::INFINITY, BINS);
    for i in levels..=BINS {
        // The reference: the first i bins, the outliers added to the last.
        let mut p: Vec<f64> = hist[..i].iter().map(|&c| c as f64).collect();
        p[i - 1] += hist[i..].iter().sum::<u64>() as f64;
        // The candidate: the first i bins merged into `levels` groups, each group's count
        // spread evenly over its bins that were not empty.
        let mut q = vec![0f64; i];
        for g in 0..levels {
            let (a, b) = (g * i / levels, (g + 1) * i / levels);
            let sum: f64 = hist[a..b].iter().map(|&c| c as f64).sum();
            let nonzero = hist[a..b].iter().filter(|&&c| c > 0).count();
            if nonzero > 0 {
                for j in a..b {
                    if hist[j] > 0 {
                        q[j] = sum / nonzero as f64;
                    }
                }
            }
        }
        let (ps, qs) = (p.iter().sum::<f64>(), q.iter().sum::<f64>());
        if ps == 0.0 || qs == 0.0 {
            continue;
        }
        let mut kl = 0.0;
        for (&pj, &qj) in p.iter().zip(&q) {
            if pj > 0.0 {
                // An outlier bin the candidate left empty: smooth it rather than rule it out.
                let qj = if qj > 0.0 { qj / qs } else { 1e-12 };
                kl += pj / ps * ((pj / ps) / qj).ln();
            }
        }
        if kl < best.0 {
            best = (kl, i);
        }
    }
    best.1 as f32 * width
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u8_parameters_cover_the_range_and_zero() {
        let r = |lo, hi| Range {
            value: 0,
            min: lo,
            max: hi,
            lo,
            hi,
        };
        assert_eq!(r(0.0, 6.0).u8_params(), (6.0 / 255.0, 0));
        assert_eq!(r(1.0, 2.0).u8_params(), (2.0 / 255.0, 0));
        let (s, zp) = r(-1.0, 3.0).u8_params();
        assert_eq!(s, 4.0 / 255.0);
        assert_eq!(zp, 64); // -(-1) / (4/255) = 63.75
        assert_eq!(r(0.0, 0.0).u8_params(), (1.0, 0));
    }

    #[test]
    fn percentile_drops_only_the_tails() {
        // 1000 values, one in each of bins 0..1000 of [0, 2048), and one outlier in bin 2047.
        let mut hist = vec![0u64; BINS];
        for c in hist.iter_mut().take(1000) {
            *c = 1;
        }
        hist[BINS - 1] = 1;
        let s = Seen {
            min: 0.0,
            max: BINS as f32,
            hist,
        };
        // 0.1% of 1001 values: one dropped at each end, the outlier and the smallest.
        assert_eq!(percentile_range(&s, 99.9), (1.0, 1000.0));
        // At 99.99% nothing is dropped.
        assert_eq!(percentile_range(&s, 99.99), (0.0, BINS as f32));
    }

    #[test]
    fn entropy_clips_a_long_thin_tail() {
        // Most values in the first 256 bins, a few far out: the threshold lands well before the
        // end, and never before the bulk.
        let mut hist = vec![0u64; BINS];
        for (i, c) in hist.iter_mut().enumerate().take(256) {
            *c = 10_000 - 30 * i as u64;
        }
        hist[2000] = 1;
        hist[1500] = 1;
        let t = entropy_threshold(&hist, BINS as f32, LEVELS_SIGNED);
        assert!((256.0..1500.0).contains(&t), "threshold {t}");
        // Without a tail nothing is clipped.
        let flat = vec![1u64; BINS];
        assert_eq!(
            entropy_threshold(&flat, BINS as f32, LEVELS_SIGNED),
            BINS as f32
        );
    }
}
