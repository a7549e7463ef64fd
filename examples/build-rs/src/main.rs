//! Runs the MobileNet that build.rs compiled on a synthetic image and prints the top classes.

mod mobilenet {
    include!(concat!(env!("OUT_DIR"), "/mobilenet.rs"));
}

fn main() {
    // An HWC image, as decoders deliver them: a smooth gradient pattern.
    let [_, h, w, c] = [
        1,
        mobilenet::INPUT_SHAPE[2],
        mobilenet::INPUT_SHAPE[3],
        mobilenet::INPUT_SHAPE[1],
    ];
    let mut image = Box::new([0f32; mobilenet::INPUT_LEN]);
    for (i, v) in image.iter_mut().enumerate() {
        let (y, x, ch) = (i / (w * c), (i / c) % w, i % c);
        *v = ((x + 2 * y) as f32 / (w + h) as f32 - 0.5) * (1.0 + ch as f32);
    }
    let mut scores = Box::new([0f32; mobilenet::OUTPUT_LEN]);
    // Several megabytes: allocate in place on the heap, not on the stack.
    let mut scratch = mnetc_runtime::boxed_zeroed::<mobilenet::Scratch>();
    mobilenet::forward_nhwc(&image, &mut scores, &mut scratch);
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    for &i in &order[..5] {
        println!("class {i:4}: {:.4}", scores[i]);
    }
}
