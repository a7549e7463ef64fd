//! What the benchmark programs share: the models mnetc compiled in build.rs (for the target being
//! built: avx2 on x86-64, neon on aarch64, rvv on riscv64) and their inputs.

/// One compiled model's state: input, output and scratch, allocated once.
pub trait Model {
    fn set_input(&mut self, x: &[f32]);
    fn run(&mut self);
    /// `forward_parallel` on `pool`.
    fn run_on(&mut self, pool: &dyn mnetc_runtime::pool::Parallel);
    fn output(&self) -> &[f32];
}

pub struct Entry {
    pub label: &'static str,
    pub path: &'static str,
    pub macs: u64,
    pub input_shape: &'static [usize],
    pub new: fn() -> Box<dyn Model>,
}

include!(concat!(env!("OUT_DIR"), "/models.rs"));

/// tract's optimised plan of the entry's ONNX model, for its input shape.
pub fn tract_model(
    entry: &Entry,
) -> tract_onnx::prelude::TractResult<std::sync::Arc<tract_onnx::prelude::TypedRunnableModel>> {
    use tract_onnx::prelude::*;
    tract_onnx::onnx()
        .model_for_path(entry.path)?
        .with_input_fact(0, f32::fact(entry.input_shape.to_vec()).into())?
        .into_optimized()?
        .into_runnable()
}

/// The largest absolute difference between two outputs.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max)
}

/// The fixture's own input when it is there, else seeded noise.
pub fn input_for(entry: &Entry) -> Vec<f32> {
    let file = entry.path.replace(".onnx", ".input.f32");
    match std::fs::read(&file) {
        Ok(bytes) => bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Err(_) => {
            let n: usize = entry.input_shape.iter().product();
            let mut s = 12345u32;
            (0..n)
                .map(|_| {
                    s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (s >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
                })
                .collect()
        }
    }
}
