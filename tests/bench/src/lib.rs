//! What the benchmark programs share: the models mnetc compiled in build.rs (for the target being
//! built: avx2 on x86-64, neon on aarch64, rvv on riscv64) and their inputs.

/// One compiled model's state: input, output and scratch, allocated once.
pub trait Model {
    fn set_input(&mut self, x: &[f32]);
    fn run(&mut self);
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
