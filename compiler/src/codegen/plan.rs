//! Memory planning: every arena buffer gets an offset so that buffers alive at the same time
//! never overlap. A buffer lives from the step that first writes it to the last step that reads
//! it (through any alias); the output lives to the end. Buffers are placed largest first, each
//! at the lowest offset free during its lifetime, rounded to 16 floats (64 bytes) for vector
//! loads. A chain of layers needs two
//! buffers; a residual block three.

use super::lower::{Program, Storage};

/// Arena offsets (in floats) per buffer, and the arena length.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub offsets: Vec<usize>,
    pub arena_len: usize,
}

const ALIGN: usize = 16;

pub fn plan(program: &Program) -> Plan {
    let n = program.buffers.len();
    let (mut first, mut last) = (vec![usize::MAX; n], vec![0usize; n]);
    let buffer_of = |t: usize| match program.tensors[t].storage {
        Storage::Arena(b) => Some(b),
        _ => None,
    };
    for (i, step) in program.steps.iter().enumerate() {
        if let Some(b) = buffer_of(step.output) {
            first[b] = first[b].min(i);
            last[b] = last[b].max(i);
        }
        for &t in &step.inputs {
            if let Some(b) = buffer_of(t) {
                last[b] = last[b].max(i);
            }
        }
    }
    if let Some(b) = buffer_of(program.output) {
        last[b] = usize::MAX;
    }
    let mut order: Vec<usize> = (0..n).filter(|&b| first[b] != usize::MAX).collect();
    // Largest first (the greedy-by-size heuristic of TFLite's planner): big buffers take the
    // low offsets, small ones fill the gaps between them.
    order.sort_by_key(|&b| (std::cmp::Reverse(program.buffers[b]), first[b], b));
    let mut offsets = vec![0; n];
    let mut placed: Vec<usize> = Vec::new();
    let mut arena_len = 0;
    for b in order {
        let len = program.buffers[b];
        // Busy ranges of buffers alive at the same time, by offset.
        let mut busy: Vec<(usize, usize)> = placed
            .iter()
            .filter(|&&o| first[o] <= last[b] && first[b] <= last[o])
            .map(|&o| (offsets[o], offsets[o] + program.buffers[o]))
            .collect();
        busy.sort_unstable();
        let mut at = 0;
        for (start, end) in busy {
            if at + len <= start {
                break;
            }
            at = at.max(end.div_ceil(ALIGN) * ALIGN);
        }
        offsets[b] = at;
        arena_len = arena_len.max(at + len);
        placed.push(b);
    }
    Plan { offsets, arena_len }
}
