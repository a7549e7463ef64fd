//! The memory planner: a chain of layers (MobileNet v1) lives in two activation buffers, a
//! network with residual connections (MobileNetV2) needs a third, and the arena is no larger
//! than the largest set of buffers alive at one step.

use mnetc::codegen::{lower, plan};
use mnetc_tests::repo_fixtures;

fn program(name: &str) -> (lower::Program, plan::Plan) {
    let g = mnetc::frontend(
        &repo_fixtures().join(format!("{name}.onnx")),
        &mnetc::Options::default(),
    )
    .unwrap();
    let p = lower::lower(&g, mnetc::codegen::Target::GENERIC).unwrap();
    let plan = plan::plan(&p);
    (p, plan)
}

/// Buffers alive at each step (written there, or read there or later), by liveness.
fn peak(p: &lower::Program) -> (usize, usize) {
    let buffer = |t: usize| match p.tensors[t].storage {
        lower::Storage::Arena(b) => Some(b),
        _ => None,
    };
    let n = p.buffers.len();
    let (mut first, mut last) = (vec![usize::MAX; n], vec![0; n]);
    for (i, s) in p.steps.iter().enumerate() {
        for t in s.inputs.iter().chain([&s.output]) {
            if let Some(b) = buffer(*t) {
                first[b] = first[b].min(i);
                last[b] = last[b].max(i);
            }
        }
    }
    if let Some(b) = buffer(p.output) {
        last[b] = usize::MAX;
    }
    let (mut most_floats, mut most_buffers) = (0, 0);
    for i in 0..p.steps.len() {
        let alive: Vec<usize> = (0..n).filter(|&b| first[b] <= i && i <= last[b]).collect();
        most_floats = most_floats.max(alive.iter().map(|&b| p.buffers[b].div_ceil(16) * 16).sum());
        most_buffers = most_buffers.max(alive.len());
    }
    (most_floats, most_buffers)
}

#[test]
fn a_v1_chain_needs_two_buffers() {
    let (p, plan) = program("mobilenet_v1_0.25_128_folded");
    let (floats, buffers) = peak(&p);
    assert_eq!(buffers, 2);
    assert_eq!(
        plan.arena_len, floats,
        "largest-first placement reaches the liveness bound on a chain"
    );
    // The largest pair: block 1's depthwise output (64x64x8) and pointwise output (64x64x16).
    assert_eq!(plan.arena_len, 64 * 64 * 8 + 64 * 64 * 16);
}

#[test]
fn residual_blocks_need_three_buffers() {
    let (p, plan) = program("mobilenet_v2_imagenet");
    let (floats, buffers) = peak(&p);
    assert_eq!(buffers, 3);
    assert!(
        plan.arena_len >= floats && plan.arena_len <= floats * 5 / 4,
        "{} vs {floats}",
        plan.arena_len
    );
}
