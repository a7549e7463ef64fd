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
///
/// Two threads may run the network at once, on one pool, each with its own scratch:
/// ```
/// use mnetc_example_macro::net;
/// let pool = mnetc_runtime::pool::ThreadPool::new(2);
/// let input = [0.5f32; net::INPUT_LEN];
/// let (mut a, mut b) = ([0f32; net::OUTPUT_LEN], [0f32; net::OUTPUT_LEN]);
/// let mut one = mnetc_runtime::boxed_zeroed::<net::Scratch>();
/// let mut two = mnetc_runtime::boxed_zeroed::<net::Scratch>();
/// std::thread::scope(|s| {
///     s.spawn(|| net::forward_parallel(&input, &mut a, &mut one, &pool));
///     s.spawn(|| net::forward_parallel(&input, &mut b, &mut two, &pool));
/// });
/// assert_eq!(a, b);
/// ```
/// but not with one scratch: each call borrows it exclusively, so this does not compile.
/// ```compile_fail,E0499
/// use mnetc_example_macro::net;
/// let pool = mnetc_runtime::pool::ThreadPool::new(2);
/// let input = [0.5f32; net::INPUT_LEN];
/// let (mut a, mut b) = ([0f32; net::OUTPUT_LEN], [0f32; net::OUTPUT_LEN]);
/// let mut one = mnetc_runtime::boxed_zeroed::<net::Scratch>();
/// std::thread::scope(|s| {
///     s.spawn(|| net::forward_parallel(&input, &mut a, &mut one, &pool));
///     s.spawn(|| net::forward_parallel(&input, &mut b, &mut one, &pool));
/// });
/// ```
pub fn classify(input: &[f32; net::INPUT_LEN]) -> Box<[f32; net::OUTPUT_LEN]> {
    let mut output = Box::new([0f32; net::OUTPUT_LEN]);
    let mut scratch = mnetc_runtime::boxed_zeroed::<net::Scratch>();
    net::forward(input, &mut output, &mut scratch);
    output
}
