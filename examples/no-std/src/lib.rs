//! Generated code in a `#![no_std]` crate: no allocator, no standard library. The caller owns
//! the scratch memory (a `static`, a linker section, ...).
#![no_std]

mod tiny {
    include!(concat!(env!("OUT_DIR"), "/tiny.rs"));
}

pub use tiny::{INPUT_LEN, OUTPUT_LEN, Scratch};

/// Classifies an NHWC image and returns the best class.
pub fn classify(
    image: &[f32; INPUT_LEN],
    scores: &mut [f32; OUTPUT_LEN],
    scratch: &mut Scratch,
) -> usize {
    tiny::forward_nhwc(image, scores, scratch);
    let mut best = 0;
    for (i, &s) in scores.iter().enumerate() {
        if s > scores[best] {
            best = i;
        }
    }
    best
}
