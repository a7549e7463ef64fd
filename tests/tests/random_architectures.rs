//! Random MobileNet-like networks (proptest): JSON descriptions with random blocks (v1's
//! depthwise-separable pairs and inverted residual blocks, strides, odd channel counts, 3x3 to
//! 7x7 windows, squeeze-and-excite, residual adds), widths, activations (ReLU, ReLU6,
//! hard-swish), input channels and resolutions down to the smallest legal one, with random
//! weights; each compiled for every target with kernels of its own and compared with the
//! reference interpreter (`1e-4 * max(1, max |expected|)`). The networks of a run are batched
//! into one program per target (`verify::build_batch`): rustc, and QEMU or Node.js, start once
//! per target. A failure is shrunk by proptest to the smallest failing description, which the
//! message prints as JSON.
//!
//! `MNETC_PROPTEST_CASES` (default 50) networks from `MNETC_PROPTEST_SEED` (default fixed, so
//! that CI is reproducible); 1000 by hand:
//! `MNETC_PROPTEST_CASES=1000 cargo test -p mnetc-tests --test random_architectures -- --nocapture`.

use mnetc::codegen::{CodegenOptions, Target, WeightsFile};
use mnetc::import::json::{Activation, Description, Layer, Weights};
use mnetc_targets::Kernel;
use mnetc_tests::check_close;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn activation() -> impl Strategy<Value = Activation> {
    prop_oneof![
        Just(Activation::Relu),
        Just(Activation::Relu6),
        Just(Activation::Hardswish)
    ]
}

/// A block: (base channels, stride, expansion, window, squeeze-and-excite, own activation,
/// repeat the previous block's channels at stride 1, so that a residual add follows).
fn block() -> impl Strategy<Value = (Layer, bool)> {
    let expansion = prop_oneof![
        2 => Just((None, None)),
        2 => prop::sample::select(vec![1.0, 2.0, 3.0, 4.5, 6.0]).prop_map(|r| (None, Some(r))),
        1 => (1usize..=72).prop_map(|e| (Some(e), None)),
    ];
    (
        1usize..=48,
        prop_oneof![3 => Just(1usize), 2 => Just(2usize)],
        expansion,
        prop::sample::select(vec![3usize, 3, 5, 7]),
        any::<bool>(),
        prop::option::weighted(0.3, activation()),
        prop::bool::weighted(0.3),
    )
        .prop_map(
            |(channels, stride, (expand, ratio), kernel, se, act, repeat)| {
                let mut l = Layer::new(channels, stride);
                l.expand = expand;
                l.expand_ratio = ratio;
                l.kernel = kernel;
                l.se = se && (expand.is_some() || ratio.is_some());
                l.activation = act;
                (l, repeat)
            },
        )
}

fn description() -> impl Strategy<Value = Description> {
    (
        prop::sample::select(vec![0.25, 0.35, 0.5, 0.75, 1.0]),
        prop::collection::vec(block(), 1..=6),
        (
            1usize..=32,
            1usize..=2,
            prop::sample::select(vec![1usize, 3, 4]),
        ),
        (
            prop::option::of(prop::sample::select(vec![4usize, 8])),
            1usize..=8,
        ),
        (activation(), 1usize..=12, 0usize..=10),
        (
            prop::option::weighted(0.4, 1usize..=64),
            prop::option::weighted(0.3, 1usize..=48),
        ),
        any::<u64>(),
    )
        .prop_map(
            |(
                alpha,
                blocks,
                (stem, stem_stride, input_channels),
                (divisor, min),
                rest,
                extra,
                seed,
            )| {
                let (activation, classes, more_pixels) = rest;
                let (head, hidden) = extra;
                let mut layers: Vec<Layer> = Vec::new();
                for (mut l, repeat) in blocks {
                    if let (true, Some(prev)) = (repeat, layers.last()) {
                        l.channels = prev.channels;
                        l.stride = 1;
                    }
                    layers.push(l);
                }
                // The smallest legal resolution: every stride-2 layer gets at least 2 x 2.
                let stride2 = (stem_stride == 2) as u32
                    + layers.iter().filter(|l| l.stride == 2).count() as u32;
                let smallest = if stride2 == 0 {
                    1
                } else {
                    (1 << (stride2 - 1)) + 1
                };
                Description {
                    name: "random".into(),
                    alpha,
                    resolution: smallest + more_pixels,
                    classes,
                    activation,
                    min_channels: min,
                    channel_divisor: divisor,
                    input_channels,
                    stem: Layer::new(stem, stem_stride),
                    blocks: layers,
                    head: head.map(|c| Layer::new(c, 1)).into_iter().collect(),
                    hidden: hidden.map(|c| Layer::new(c, 1)),
                    weights: Weights::Random(seed),
                    bn_epsilon: 1e-5,
                }
            },
        )
}

/// A drawn network, compiled: its description, input, the interpreter's output.
struct Case {
    desc: Description,
    graph: mnetc::ir::Graph,
    input: Vec<f32>,
    expected: Vec<f32>,
}

fn prepare(desc: &Description) -> Option<Case> {
    let text = desc.to_json_pretty();
    let options = mnetc::Options::default();
    let graph = mnetc::frontend_bytes(text.as_bytes(), "random.json".as_ref(), &options).ok()?;
    let shape = graph.shape(graph.input.value)?.to_vec();
    let x = mnetc::rng::Rng::new(desc.classes as u64).normal_tensor(&shape, 1.0);
    let expected = mnetc::interp::run(&graph, &x).ok()?[0].to_f32();
    Some(Case {
        desc: desc.clone(),
        graph,
        input: x.to_f32(),
        expected,
    })
}

fn generate(graph: &mnetc::ir::Graph, target: Target) -> mnetc::codegen::Generated {
    let codegen = CodegenOptions {
        target,
        weights_file: WeightsFile::ContentAddressed("w".into()),
        ..CodegenOptions::default()
    };
    mnetc::compile_graph(graph, &codegen).unwrap()
}

/// The targets with float kernels of their own (neondot's are neon's, the VNNI targets' are
/// avx2's or avx512's) that run here, natively or emulated; outside CI a target whose
/// emulator is missing is skipped, saying so.
fn targets() -> Vec<Target> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for t in Target::all() {
        let gemm = t.desc().kernel(Kernel::Gemm);
        if seen.contains(&gemm) {
            continue;
        }
        seen.push(gemm);
        let tiny = prepare(&Description::mobilenet_v1(0.25, 32)).unwrap();
        match mnetc_cli::verify::build(&generate(&tiny.graph, t), t) {
            Ok(r) if r.binary().exists() && (t.runs_here() || r.emulated()) => out.push(t),
            Ok(_) => eprintln!("skipped {t}: this CPU cannot run it"),
            Err(e) => {
                assert!(std::env::var_os("CI").is_none(), "CI must run {t}: {e}");
                eprintln!("skipped {t}: {e}");
            }
        }
    }
    out
}

/// Runs `cases` on `target` in one program: the indices of the cases whose output is off.
fn failures(cases: &[Case], target: Target, threads: usize) -> Vec<(usize, String)> {
    let generated: Vec<_> = cases.iter().map(|c| generate(&c.graph, target)).collect();
    let mut runner = mnetc_cli::verify::build_batch(&generated, target)
        .unwrap_or_else(|e| panic!("{target}: {e}"));
    runner.set_threads(threads);
    let inputs: Vec<Vec<f32>> = cases.iter().map(|c| c.input.clone()).collect();
    let lens: Vec<usize> = cases.iter().map(|c| c.expected.len()).collect();
    let outputs = runner
        .run_batch(&inputs, &lens)
        .unwrap_or_else(|e| panic!("{target}: {e}"));
    cases
        .iter()
        .zip(&outputs)
        .enumerate()
        .filter_map(|(i, (c, y))| check_close(y, &c.expected).err().map(|e| (i, e)))
        .collect()
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.parse().expect(name))
}

#[test]
fn random_architectures_match_the_interpreter_on_every_target() {
    let cases_wanted = env("MNETC_PROPTEST_CASES", 50) as usize;
    let seed = env("MNETC_PROPTEST_SEED", 0x006d_6e65_7463);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = description();
    let (mut trees, mut cases, mut refused) = (Vec::new(), Vec::new(), 0);
    while cases.len() < cases_wanted {
        let tree = strategy.new_tree(&mut runner).unwrap();
        match prepare(&tree.current()) {
            Some(case) => {
                trees.push(tree);
                cases.push(case);
            }
            None => refused += 1,
        }
        assert!(
            refused < 10 * cases_wanted + 100,
            "the strategy draws invalid networks"
        );
    }
    let residual = cases
        .iter()
        .filter(|c| {
            c.graph
                .nodes
                .iter()
                .any(|n| matches!(n.op, mnetc::ir::Op::Binary(_)))
        })
        .count();
    let targets = targets();
    for &target in &targets {
        let threads = if target.runs_here() || target.desc().emulation.is_some_and(|e| e.threads) {
            2
        } else {
            1
        };
        let failed = failures(&cases, target, threads);
        if let Some((i, first)) = failed.first() {
            // Shrink the first failure on this target, one network per build.
            let mut tree = trees.swap_remove(*i);
            let mut smallest = cases[*i].desc.clone();
            let fails = |d: &Description| {
                prepare(d).is_some_and(|c| {
                    !failures(std::slice::from_ref(&c), target, threads).is_empty()
                })
            };
            for _ in 0..64 {
                if !tree.simplify() {
                    break;
                }
                if fails(&tree.current()) {
                    smallest = tree.current();
                } else if !tree.complicate() {
                    break;
                }
            }
            panic!(
                "{} of {} random networks differ from the interpreter on {target} (first: {first}); the smallest failing description:\n{}",
                failed.len(),
                cases.len(),
                smallest.to_json_pretty()
            );
        }
    }
    println!(
        "random architectures: {} networks (seed {seed:#x}, {residual} with residual adds or gates, {refused} draws refused by the front end) on {} targets ({}): all match the interpreter",
        cases.len(),
        targets.len(),
        targets
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
}
