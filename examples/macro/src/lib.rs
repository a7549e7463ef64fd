//! One line builds the network: the paper's MobileNet v1 at width 0.25 and resolution 128, with
//! the weights of a committed PyTorch export, for the target the build is for (`auto`: avx2 on
//! x86-64 with AVX2 and FMA enabled, neon on aarch64, otherwise portable code).

mnetc_runtime::mobilenet!(
    alpha = 0.25,
    res = 128,
    weights = "../../tests/fixtures/mobilenet_v1_0.25_128_bn.onnx",
    name = net,
);

/// Runs the network on an NCHW input.
pub fn classify(input: &[f32; net::INPUT_LEN]) -> Box<[f32; net::OUTPUT_LEN]> {
    let mut output = Box::new([0f32; net::OUTPUT_LEN]);
    let mut scratch = mnetc_runtime::boxed_zeroed::<net::Scratch>();
    net::forward(input, &mut output, &mut scratch);
    output
}
