//! The multithreaded forward pass (issue 13): `forward_parallel` gives `forward`'s output to the
//! bit on 1, 2, 3 and 7 threads for every compiled fixture and description (7 threads is more
//! than most layers have tasks), and so do `forward_rgb8_parallel`, `forward_frame_parallel` and
//! `Net`'s; two threads run the network on one pool at once, each with its own scratch; a pool
//! of 0 threads (one per CPU) works; the compiled tasks follow the layers' shapes.

use mnetc_runtime::pool::{Parallel, Rayon, Sequential, ThreadPool};
use mnetc_tests::generated::MODELS;
use std::sync::Arc;

fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

fn input(len: usize, seed: u64) -> Vec<f32> {
    mnetc::rng::Rng::new(seed)
        .normal_tensor(&[len], 1.0)
        .to_f32()
}

#[test]
fn every_model_gives_the_same_bits_on_any_number_of_threads() {
    let pools: Vec<ThreadPool> = [1, 2, 3, 7].into_iter().map(ThreadPool::new).collect();
    for model in MODELS {
        let x = input(model.input_shape.iter().product(), 5);
        let one = (model.run)(&x, false);
        assert!(one.iter().all(|v| v.is_finite()), "{}", model.name);
        assert!(
            same_bits(&(model.run_on)(&x, &Sequential), &one),
            "{}: Sequential",
            model.name
        );
        for pool in &pools {
            // Twice: the pool and the scratch are reused.
            for _ in 0..2 {
                let y = (model.run_on)(&x, pool);
                assert!(
                    same_bits(&y, &one),
                    "{} on {} threads differs from forward",
                    model.name,
                    pool.threads()
                );
            }
        }
    }
    assert!(MODELS.len() >= 25, "{}", MODELS.len());
}

/// An app's rayon pool (feature `rayon`) runs the tasks too, with the same bits.
#[test]
fn a_rayon_pool_gives_the_same_bits() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let on = Rayon::new(&pool);
    assert_eq!(on.threads(), 3);
    for model in MODELS.iter().take(6) {
        let x = input(model.input_shape.iter().product(), 4);
        let one = (model.run)(&x, false);
        assert!(same_bits(&(model.run_on)(&x, &on), &one), "{}", model.name);
        assert!(
            same_bits(&(model.run_on)(&x, &Rayon::global()), &one),
            "{}",
            model.name
        );
    }
}

#[test]
fn two_callers_share_a_pool_with_a_scratch_each() {
    let model = MODELS
        .iter()
        .find(|m| m.name == "mobilenet_v2_imagenet")
        .expect("the V2 fixture");
    let x = input(model.input_shape.iter().product(), 6);
    let want = (model.run)(&x, false);
    let pool = Arc::new(ThreadPool::new(2));
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (pool, x) = (Arc::clone(&pool), x.clone());
            std::thread::spawn(move || {
                (0..5)
                    .map(|_| (model.run_on)(&x, &*pool))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for c in callers {
        for y in c.join().unwrap() {
            assert!(same_bits(&y, &want));
        }
    }
}

#[test]
fn a_pool_of_zero_threads_has_one_per_cpu_and_works() {
    let pool = ThreadPool::new(0);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(pool.threads(), cpus);
    let model = &MODELS[0];
    let x = input(model.input_shape.iter().product(), 7);
    assert!(same_bits(
        &(model.run_on)(&x, &pool),
        &(model.run)(&x, false)
    ));
}

/// The photo entry points and `Net` (run-time weights): the same bits on 3 threads.
#[test]
fn photo_frame_and_net_entry_points_give_the_same_bits() {
    use mnetc_runtime::frame::{Frame, PixelLayout};
    use mnetc_tests::photo::{nchw, nhwc};
    mod net {
        include!(concat!(env!("OUT_DIR"), "/photo_net.rs"));
    }
    let pool = ThreadPool::new(3);
    let pixels: Vec<u8> = (0..nchw::INPUT_LEN).map(|i| (i * 7 % 251) as u8).collect();
    let pixels: Box<[u8; nchw::INPUT_LEN]> = pixels.into_boxed_slice().try_into().unwrap();
    let mut scratch = mnetc_runtime::boxed_zeroed::<nchw::Scratch>();
    let (mut a, mut b) = ([0f32; nchw::OUTPUT_LEN], [0f32; nchw::OUTPUT_LEN]);
    nchw::forward_rgb8(&pixels, &mut a, &mut scratch);
    nchw::forward_rgb8_parallel(&pixels, &mut b, &mut scratch, &pool);
    assert!(same_bits(&a, &b), "forward_rgb8 (folded stem)");

    let pixels: Vec<u8> = (0..nhwc::INPUT_LEN).map(|i| (i * 5 % 253) as u8).collect();
    let pixels: Box<[u8; nhwc::INPUT_LEN]> = pixels.into_boxed_slice().try_into().unwrap();
    let mut scratch = mnetc_runtime::boxed_zeroed::<nhwc::Scratch>();
    let (mut a, mut b) = ([0f32; nhwc::OUTPUT_LEN], [0f32; nhwc::OUTPUT_LEN]);
    nhwc::forward_rgb8(&pixels, &mut a, &mut scratch);
    nhwc::forward_rgb8_parallel(&pixels, &mut b, &mut scratch, &pool);
    assert!(same_bits(&a, &b), "forward_rgb8 (NHWC)");

    let rgb = mnetc::photo::load_rgb(&mnetc_tests::repo_fixtures().join("photos/cat.png")).unwrap();
    let frame = Frame {
        bytes: rgb.as_raw(),
        width: rgb.width() as usize,
        height: rgb.height() as usize,
        row_bytes: rgb.width() as usize * 3,
        layout: PixelLayout::Rgb8,
    };
    let weights = std::fs::read(concat!(env!("OUT_DIR"), "/photo_net.weights")).unwrap();
    let n = net::Net::from_bytes(&weights).unwrap();
    let mut scratch = mnetc_runtime::boxed_zeroed::<net::Scratch>();
    let mut fs = mnetc_runtime::boxed_zeroed::<net::FrameScratch>();
    let (mut a, mut b) = ([0f32; net::OUTPUT_LEN], [0f32; net::OUTPUT_LEN]);
    n.forward_frame(&frame, &mut a, &mut scratch, &mut fs)
        .unwrap();
    n.forward_frame_parallel(&frame, &mut b, &mut scratch, &mut fs, &pool)
        .unwrap();
    assert!(same_bits(&a, &b), "Net::forward_frame");
    let x: Box<[f32; net::INPUT_LEN]> = input(net::INPUT_LEN, 8)
        .into_boxed_slice()
        .try_into()
        .unwrap();
    n.forward(&x, &mut a, &mut scratch);
    n.forward_parallel(&x, &mut b, &mut scratch, &pool);
    assert!(same_bits(&a, &b), "Net::forward");
}

/// The tasks compiled into each call follow its shape: large layers are split (up to 24
/// tasks), small ones run whole, a 7x7 depthwise layer never gets more tasks than rows, and
/// the classifier (one row) is split by its columns.
#[test]
fn tasks_follow_the_layers_shapes() {
    use mnetc::codegen::{CodegenOptions, Target};
    let path = mnetc_tests::repo_fixtures().join("mobilenet_v2_imagenet.onnx");
    let graph = mnetc::frontend(&path, &mnetc::Options::default()).unwrap();
    let generated = mnetc::compile_graph(
        &graph,
        &CodegenOptions {
            target: Target::from(&mnetc_targets::AVX2),
            ..Default::default()
        },
    )
    .unwrap();
    let tasks: Vec<(String, u64, usize)> = generated
        .steps
        .iter()
        .map(|s| (s.kernel.to_string(), s.macs, s.tasks))
        .collect();
    let split = tasks.iter().filter(|t| t.2 > 1).count();
    assert!(split * 10 >= tasks.len() * 6, "{tasks:?}");
    for (kernel, macs, n) in &tasks {
        assert!((1..=24).contains(n), "{kernel} {macs} {n}");
        if *macs < 64 * 1024 {
            assert_eq!(*n, 1, "{kernel} of {macs} multiply-adds in {n} tasks");
        }
        if *macs >= 24 * 32 * 1024 && kernel == "gemm" {
            assert!(*n >= 8, "{kernel} of {macs} multiply-adds in {n} tasks");
        }
    }
    let classifier = tasks.last().unwrap();
    assert_eq!(classifier.0, "gemm");
    assert!(classifier.2 >= 8, "{classifier:?}");
}

/// `mnetc bench --trace`'s file: Chrome trace events, every kernel call of every pass on the
/// threads that ran it: one event per call on the calling thread for calls of one task, one
/// per thread that took part for calls split into tasks, on 2 threads in all.
#[test]
fn the_trace_has_every_kernel_call_on_every_thread() {
    use mnetc::codegen::{CodegenOptions, Target};
    let f = mnetc_tests::fixture("mobilenet_v1_0.25_128_bn");
    let graph = mnetc::frontend(&f.onnx, &mnetc::Options::default()).unwrap();
    let target: Target = "native".parse().unwrap();
    let generated = mnetc::compile_graph(
        &graph,
        &CodegenOptions {
            target,
            ..Default::default()
        },
    )
    .unwrap();
    let mut runner = mnetc_cli::verify::build(&generated, target).unwrap();
    runner.set_threads(2);
    let path = std::env::temp_dir().join(format!("mnetc-trace-{}.json", std::process::id()));
    let passes = 3;
    runner
        .trace(&input(graph_input_len(&graph), 1), passes, &path)
        .unwrap();
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    let events: Vec<&serde_json::Value> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X")
        .collect();
    let mut tids = std::collections::BTreeSet::new();
    for (step, info) in generated.steps.iter().enumerate() {
        let of: Vec<_> = events
            .iter()
            .filter(|e| e["args"]["step"].as_u64() == Some(step as u64))
            .collect();
        for e in &of {
            assert_eq!(e["name"], info.node.as_str());
            assert_eq!(e["cat"], info.kernel);
            assert!(e["dur"].as_f64().unwrap() >= 0.0 && e["ts"].as_f64().is_some());
            tids.insert(e["tid"].as_u64().unwrap());
        }
        let tasks: u64 = of
            .iter()
            .map(|e| e["args"]["tasks"].as_u64().unwrap())
            .sum();
        if info.tasks == 1 {
            assert_eq!(of.len(), passes, "{}", info.node);
        } else {
            // Every task of every pass, on one or two threads per pass.
            assert_eq!(tasks, (info.tasks * passes) as u64, "{}", info.node);
            assert!((passes..=2 * passes).contains(&of.len()), "{}", info.node);
        }
    }
    assert!(tids.len() >= 2, "{tids:?}");
    assert_eq!(
        events.len(),
        events.iter().filter(|e| e["pid"] == 1).count()
    );
}

fn graph_input_len(graph: &mnetc::ir::Graph) -> usize {
    graph.shape(graph.input.value).unwrap().iter().product()
}
