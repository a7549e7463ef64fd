//! The benchmark: for each MobileNet, mnetc's generated code (target avx2) and tract on the
//! same ONNX model and the same input, in one process, interleaved run by run, single-threaded
//! and pinned to the first CPU, a warm-up and then the median of `--runs` runs each. With
//! `--onnxruntime PYTHON`, an onnxruntime worker (`ort_worker.py`, one intra-op thread) takes
//! its turn in the same loop; with `--litert PYTHON`, a LiteRT worker (`litert_worker.py`, one
//! thread, XNNPACK) does too on the int8 models that have a TFLite twin in `models/`
//! (`litert_models.py`: the same architecture with other weights, so its outputs are not
//! compared). With `--threads N`, each round also runs mnetc's
//! `forward_parallel` on a pool of N threads (and onnxruntime with N intra-op threads) on every
//! CPU, checked to give the one-thread output to the bit, and the engines alternate in blocks
//! of runs (see the timing loop). Outputs are checked against each other before timing. Prints markdown tables and writes them as JSON (`--json`, default
//! `bench-results.json`).
//!
//! Run it with `cargo run --release` in this folder (or `./with-onnxruntime.sh`).

use mnetc_bench::{MODELS, TARGET, input_for, max_abs_diff, tract_model};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;
use tract_onnx::prelude::*;

/// This CPU's single-core FMA peak in GFLOP/s at the vector width mnetc's target uses (16
/// lanes for avx512, else 8), measured: twelve independent chains of fused multiply-adds
/// (enough to cover two FMA units' latency), best of five runs.
#[cfg(target_arch = "x86_64")]
fn fma_peak_gflops() -> f64 {
    #[cfg(target_feature = "avx512f")]
    if TARGET == "avx512" {
        // SAFETY: built with avx512f (the cfg above).
        return best_gflops(16, |iters| unsafe { chains_512(iters) });
    }
    // SAFETY: the benchmark is built with avx2 and fma (.cargo/config.toml).
    best_gflops(8, |iters| unsafe { chains_256(iters) })
}

/// GFLOP/s of `chains(iters)` (12 chains of `lanes`-wide FMAs), best of five runs.
#[cfg(target_arch = "x86_64")]
fn best_gflops(lanes: usize, chains: impl Fn(usize) -> f32) -> f64 {
    let iters = 20_000_000;
    let best = (0..5)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(chains(iters));
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    (iters * 12 * lanes * 2) as f64 / best / 1e9
}

#[cfg(all(target_arch = "x86_64", target_feature = "avx512f"))]
#[target_feature(enable = "avx512f")]
fn chains_512(iters: usize) -> f32 {
    use std::arch::x86_64::*;
    let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
    let mut acc = [_mm512_set1_ps(1.0); 12];
    for _ in 0..iters {
        for v in &mut acc {
            *v = _mm512_fmadd_ps(*v, a, b);
        }
    }
    let sum = acc
        .iter()
        .fold(_mm512_setzero_ps(), |s, &v| _mm512_add_ps(s, v));
    _mm512_reduce_add_ps(sum)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn chains_256(iters: usize) -> f32 {
    use std::arch::x86_64::*;
    let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
    let mut acc = [_mm256_set1_ps(1.0); 12];
    for _ in 0..iters {
        for v in &mut acc {
            *v = _mm256_fmadd_ps(*v, a, b);
        }
    }
    let mut out = [0f32; 8];
    let sum = acc
        .iter()
        .fold(_mm256_setzero_ps(), |s, &v| _mm256_add_ps(s, v));
    // SAFETY: `out` holds 8 floats.
    unsafe { _mm256_storeu_ps(out.as_mut_ptr(), sum) };
    out.iter().sum()
}

#[cfg(not(target_arch = "x86_64"))]
fn fma_peak_gflops() -> f64 {
    f64::NAN
}

/// `family F model M: NAME` from /proc/cpuinfo (x86 Linux), else the architecture.
fn cpu_name() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |key: &str| {
        info.lines()
            .find(|l| l.split(':').next().is_some_and(|k| k.trim() == key))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    match (field("model name"), field("cpu family"), field("model")) {
        (Some(n), Some(f), Some(m)) => format!("{n} (family {f}, model {m})"),
        _ => std::env::consts::ARCH.to_string(),
    }
}

/// A Python worker that times another engine (`ort_worker.py`, `litert_worker.py`).
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn start(python: &str, script: &str) -> Worker {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
        let mut child = Command::new(python)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", script.display()));
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Worker {
            child,
            stdin,
            stdout,
        }
    }

    fn ask(&mut self, line: &str) -> String {
        writeln!(self.stdin, "{line}").expect("write to worker");
        self.stdin.flush().expect("flush");
        let mut answer = String::new();
        self.stdout
            .read_line(&mut answer)
            .expect("read from worker");
        answer.trim().to_string()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.wait();
    }
}

/// Camera frames in: resizing, cropping and converting a 1920 x 1080 RGBA frame and an NV21
/// frame to the 224 x 224 input with the runtime's `frame::resize` (torchvision's fit, shorter
/// side to 256), timed interleaved with v1 1.0-224's `forward`, which it is a fraction of.
fn frame_timing(runs: usize, warmup: usize) -> Option<(String, serde_json::Value)> {
    use mnetc_runtime::frame::{self, Fit, Frame, FrameScratch, PixelLayout};
    let entry = MODELS.iter().find(|e| e.label == "1.0_224")?;
    let mut net = (entry.new)();
    net.set_input(&input_for(entry));
    let (w, h) = (1920, 1080);
    let mut s = 1u32;
    let mut noise = move || {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (s >> 24) as u8
    };
    let rgba: Vec<u8> = (0..w * h * 4).map(|_| noise()).collect();
    let nv21: Vec<u8> = (0..w * h * 3 / 2).map(|_| noise()).collect();
    let frames = [
        (
            "1920x1080 RGBA",
            Frame {
                bytes: &rgba,
                width: w,
                height: h,
                row_bytes: w * 4,
                layout: PixelLayout::Rgba8,
            },
        ),
        (
            "1920x1080 NV21",
            Frame {
                bytes: &nv21,
                width: w,
                height: h,
                row_bytes: w,
                layout: PixelLayout::Nv21,
            },
        ),
    ];
    type Scratch224 = FrameScratch<
        224,
        224,
        { 224 * 224 * 3 },
        { frame::coef_len(224) },
        { frame::row_len(224) },
    >;
    let mut scratch = mnetc_runtime::boxed_zeroed::<Scratch224>();
    let mut times = vec![Vec::new(); frames.len() + 1];
    for i in 0..warmup + runs {
        let t = Instant::now();
        net.run();
        let f = t.elapsed().as_secs_f64() * 1e3;
        let mut row = vec![f];
        for (_, fr) in &frames {
            let t = Instant::now();
            frame::resize(fr, Fit::ShorterSide(256), &mut scratch).expect("a valid frame");
            row.push(t.elapsed().as_secs_f64() * 1e3);
        }
        if i >= warmup {
            for (v, t) in times.iter_mut().zip(row) {
                v.push(t);
            }
        }
    }
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let forward = median(&mut times[0].clone());
    let mut table = format!(
        "| camera frame to 224 x 224 | ms (median) | ms (min) | % of v1 1.0-224 forward ({forward:.3} ms) |\n| --- | ---: | ---: | ---: |\n"
    );
    let mut json = Vec::new();
    for (k, (label, _)) in frames.iter().enumerate() {
        let m = median(&mut times[k + 1].clone());
        table.push_str(&format!(
            "| {label} | {m:.3} | {:.3} | {:.1}% |\n",
            min(&times[k + 1]),
            100.0 * m / forward
        ));
        json.push(serde_json::json!({ "frame": label, "ms": m, "min_ms": min(&times[k + 1]), "forward_ms": forward }));
    }
    Some((table, serde_json::Value::Array(json)))
}

/// The table of `--litert`: mnetc and LiteRT (XNNPACK, one thread) on the int8 models with a
/// TFLite twin, as median (minimum) milliseconds.
fn litert_table(rows: &[serde_json::Value]) -> String {
    let mut t = String::from(
        "| model | mnetc ms | LiteRT (XNNPACK) ms | mnetc / LiteRT |\n| --- | ---: | ---: | ---: |\n",
    );
    for r in rows.iter().filter(|r| r["litert_ms"].is_number()) {
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        t.push_str(&format!(
            "| {} | {:.3} ({:.3}) | {:.3} ({:.3}) | {:.2} |\n",
            r["model"].as_str().unwrap_or(""),
            f("mnetc_ms"),
            f("mnetc_min_ms"),
            f("litert_ms"),
            f("litert_min_ms"),
            f("mnetc_over_litert")
        ));
    }
    t
}

/// The table of `--threads N`: mnetc on one and N threads, and onnxruntime on N, as median
/// (minimum) milliseconds.
fn threads_table(rows: &[serde_json::Value], n: usize, with_ort: bool) -> String {
    let mut table = format!("| model | mnetc 1 thread ms | mnetc {n} threads ms | speed-up |");
    let mut rule = String::from("| --- | ---: | ---: | ---: |");
    if with_ort {
        table.push_str(&format!(
            " onnxruntime {n} threads ms | mnetc / onnxruntime ({n} threads) | onnxruntime speed-up |"
        ));
        rule.push_str(" ---: | ---: | ---: |");
    }
    table = format!("{table}\n{rule}\n");
    for r in rows {
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        table.push_str(&format!(
            "| {} | {:.3} ({:.3}) | {:.3} ({:.3}) | {:.2}x |",
            r["model"].as_str().unwrap_or(""),
            f("mnetc_ms"),
            f("mnetc_min_ms"),
            f("mnetc_threads_ms"),
            f("mnetc_threads_min_ms"),
            f("speedup")
        ));
        if with_ort {
            table.push_str(&format!(
                " {:.3} ({:.3}) | {:.2} | {:.2}x |",
                f("onnxruntime_threads_ms"),
                f("onnxruntime_threads_min_ms"),
                f("mnetc_over_onnxruntime_threads"),
                f("onnxruntime_ms") / f("onnxruntime_threads_ms")
            ));
        }
        table.push('\n');
    }
    table
}

/// Timed runs per engine in a row with `--threads` (see the timing loop).
const BLOCK: usize = 5;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn minimum(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// The CPUs this process may run on.
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is an empty set; sched_getaffinity writes at most its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return vec![0];
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

/// Lets the calling thread run on `cpus` only.
fn pin(cpus: &[usize]) {
    // SAFETY: as above; the set is built from valid CPU numbers.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus {
            libc::CPU_SET(c, &mut set);
        }
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn main() -> TractResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let runs: usize = arg("--runs").map_or(50, |r| r.parse().expect("--runs N"));
    let threads: usize = arg("--threads").map_or(1, |r| r.parse().expect("--threads N"));
    // Started on every CPU, before the one-thread runs pin the main thread.
    let cpus = allowed_cpus();
    let pool = (threads > 1).then(|| mnetc_runtime::pool::ThreadPool::new(threads));
    let one_cpu = [cpus[0]];
    let json_path = arg("--json").unwrap_or_else(|| "bench-results.json".into());
    // Started on every CPU too (it pins its one-thread runs itself).
    let mut ort = arg("--onnxruntime").map(|python| Worker::start(&python, "ort_worker.py"));
    let mut litert = arg("--litert").map(|python| Worker::start(&python, "litert_worker.py"));
    pin(&one_cpu);
    let warmup = 5;
    let peak = fma_peak_gflops();
    let cpu = cpu_name();
    println!(
        "CPU: {cpu}; mnetc target {TARGET}; measured single-core FMA peak at its vector width {peak:.1} GFLOP/s."
    );
    let mut rows = Vec::new();
    println!(
        "Timing {} models, {runs} runs each after {warmup} warm-up runs, interleaved, one thread{}.\n",
        MODELS.len(),
        if threads > 1 {
            format!(
                " (pinned to CPU {}) and {threads} threads (on CPUs {cpus:?})",
                cpus[0]
            )
        } else {
            String::new()
        }
    );
    // `--models A,B`: only the models with these labels.
    let only: Option<Vec<String>> =
        arg("--models").map(|m| m.split(',').map(str::to_string).collect());
    for entry in MODELS {
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|l| l == entry.label))
        {
            continue;
        }
        let x = input_for(entry);
        let mut mnetc = (entry.new)();
        mnetc.set_input(&x);
        let shape: Vec<usize> = entry.input_shape.to_vec();
        // Quantized models: integer kernels, whose outputs differ from tract's float ones and,
        // on CPUs without VNNI, from onnxruntime's (see tests/fixtures/int8): checked for the
        // same top class only.
        let int8 = entry.label.contains("int8");
        let tract = match tract_model(entry) {
            Ok(t) => Some(t),
            Err(e) if int8 => {
                eprintln!(
                    "{}: tract does not run it ({e}); no tract column",
                    entry.label
                );
                None
            }
            Err(e) => return Err(e),
        };
        let input: TValue = Tensor::from_shape(&shape, &x)?.into_tvalue();
        // Same numbers first.
        mnetc.run();
        let top = |v: &[f32]| (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b });
        let mut scale = mnetc.output().iter().fold(1f32, |m, v| m.max(v.abs()));
        if let Some(tract) = &tract {
            let t_out = tract.run(tvec!(input.clone()))?;
            let t_out: Vec<f32> = t_out[0]
                .to_plain_array_view::<f32>()?
                .iter()
                .copied()
                .collect();
            scale = t_out.iter().fold(1f32, |m, v| m.max(v.abs()));
            let diff = max_abs_diff(mnetc.output(), &t_out);
            assert!(
                diff <= 1e-4 * scale || (int8 && top(&t_out) == top(mnetc.output())),
                "{}: mnetc and tract disagree by {diff}",
                entry.label
            );
        }
        let input_file =
            std::env::temp_dir().join(format!("mnetc-bench-{}.f32", std::process::id()));
        std::fs::write(
            &input_file,
            x.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>(),
        )?;
        if let Some(o) = ort.as_mut() {
            let answer = o.ask(&format!(
                "load {} {} {threads}",
                entry.path,
                input_file.display()
            ));
            let o_out: Vec<f32> = answer
                .split_whitespace()
                .map(|v| v.parse().expect("float"))
                .collect();
            let diff = max_abs_diff(mnetc.output(), &o_out);
            assert!(
                o_out.len() == mnetc.output().len()
                    && (diff <= 1e-4 * scale || (int8 && top(&o_out) == top(mnetc.output()))),
                "{}: mnetc and onnxruntime disagree by {diff}",
                entry.label
            );
            if int8 {
                eprintln!(
                    "{}: onnxruntime's output within {diff} of mnetc's",
                    entry.label
                );
            }
        }
        // LiteRT on the int8 model's TFLite twin, if there is one: other weights, so only the
        // output's length is checked.
        let tflite = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(format!("litert_{}.tflite", entry.label));
        let mut lite = litert.as_mut().filter(|_| int8 && tflite.exists());
        if let Some(l) = lite.as_mut() {
            let answer = l.ask(&format!(
                "load {} {}",
                tflite.display(),
                input_file.display()
            ));
            let n = answer.split_whitespace().count();
            assert_eq!(
                n,
                mnetc.output().len(),
                "{}: LiteRT's output length",
                entry.label
            );
        }
        if let Some(pool) = &pool {
            // The tasks are fixed at compile time: the same bits on any number of threads.
            let one = mnetc.output().to_vec();
            pin(&cpus);
            mnetc.run_on(pool);
            pin(&one_cpu);
            assert!(
                one.iter()
                    .zip(mnetc.output())
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{}: {threads} threads differ from one",
                entry.label
            );
        }
        // Times of mnetc, tract, onnxruntime on one thread; mnetc and onnxruntime on N; LiteRT
        // on one.
        let mut times: [Vec<f64>; 6] = Default::default();
        // One thread: run by run, mnetc, tract, onnxruntime. With --threads, engine by engine
        // in blocks of BLOCK timed runs, each after an untimed one: a block's engine has the
        // CPUs to itself, as in an app that runs frame after frame, while the threads that
        // spin after a multithreaded run (the pool's, onnxruntime's intra-op threads) wind
        // down during the next block's untimed run.
        let block = if pool.is_some() { BLOCK } else { 1 };
        let mut done = 0;
        while done < warmup + runs {
            let timed = done >= warmup;
            let mut time = |slot: usize, run: &mut dyn FnMut() -> f64| {
                if block > 1 {
                    run();
                }
                for _ in 0..block {
                    let t = run();
                    if timed {
                        times[slot].push(t);
                    }
                }
            };
            time(0, &mut || {
                let t = Instant::now();
                mnetc.run();
                t.elapsed().as_secs_f64() * 1e3
            });
            if let Some(tract) = &tract {
                time(1, &mut || {
                    let t = Instant::now();
                    let r = tract.run(tvec!(input.clone())).expect("tract runs");
                    let ms = t.elapsed().as_secs_f64() * 1e3;
                    drop(r);
                    ms
                });
            }
            if let Some(o) = ort.as_mut() {
                time(2, &mut || o.ask("run 1").parse::<f64>().expect("ms"));
            }
            if let Some(l) = lite.as_mut() {
                time(5, &mut || l.ask("run 1").parse::<f64>().expect("ms"));
            }
            if let Some(pool) = &pool {
                pin(&cpus);
                time(3, &mut || {
                    let t = Instant::now();
                    mnetc.run_on(pool);
                    t.elapsed().as_secs_f64() * 1e3
                });
                if let Some(o) = ort.as_mut() {
                    let ask = format!("run {threads}");
                    time(4, &mut || o.ask(&ask).parse::<f64>().expect("ms"));
                }
                pin(&one_cpu);
            }
            done += block;
        }
        let stat = |v: &[f64]| (!v.is_empty()).then(|| (median(&mut v.to_vec()), minimum(v)));
        let [sm, st, so, smn, son, sl] = times.each_ref().map(|v| stat(v));
        let (m, m_min) = sm.expect("mnetc timed");
        let t = st.map_or(f64::NAN, |s| s.0);
        let o = so.map(|s| s.0);
        let gflops = 2.0 * entry.macs as f64 / (m * 1e6);
        rows.push(serde_json::json!({
            "model": entry.label,
            "macs": entry.macs,
            "mnetc_ms": m,
            "mnetc_min_ms": m_min,
            "tract_ms": st.map(|s| s.0),
            "onnxruntime_ms": o,
            "onnxruntime_min_ms": so.map(|s| s.1),
            "mnetc_over_tract": st.map(|s| m / s.0),
            "mnetc_over_onnxruntime": o.map(|o| m / o),
            "mnetc_gflops": gflops,
            "percent_of_peak": 100.0 * gflops / peak,
            "threads": threads,
            "mnetc_threads_ms": smn.map(|s| s.0),
            "mnetc_threads_min_ms": smn.map(|s| s.1),
            "speedup": smn.map(|s| m / s.0),
            "onnxruntime_threads_ms": son.map(|s| s.0),
            "onnxruntime_threads_min_ms": son.map(|s| s.1),
            "mnetc_over_onnxruntime_threads": smn.zip(son).map(|(a, b)| a.0 / b.0),
            "litert_ms": sl.map(|s| s.0),
            "litert_min_ms": sl.map(|s| s.1),
            "mnetc_over_litert": sl.map(|s| m / s.0),
        }));
        eprintln!(
            "{}: mnetc {m:.3} ms, tract {t:.3} ms{}{}",
            entry.label,
            o.map_or(String::new(), |o| format!(", onnxruntime {o:.3} ms")),
            smn.map_or(String::new(), |s| format!(
                "; {threads} threads: mnetc {:.3} ms{}",
                s.0,
                son.map_or(String::new(), |o| format!(", onnxruntime {:.3} ms", o.0))
            )),
        );
    }
    let frames = frame_timing(runs, warmup);
    let with_ort = ort.is_some();
    let mut table = String::from(if with_ort {
        "| model | M MACs | mnetc ms | tract ms | mnetc / tract | onnxruntime ms | mnetc / onnxruntime | mnetc GFLOP/s | % of peak |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    } else {
        "| model | M MACs | mnetc ms | tract ms | mnetc / tract | mnetc GFLOP/s | % of peak |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    });
    for r in &rows {
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        let ort_cells = if with_ort {
            format!(
                " {:.3} | {:.2} |",
                f("onnxruntime_ms"),
                f("mnetc_over_onnxruntime")
            )
        } else {
            String::new()
        };
        table.push_str(&format!(
            "| {} | {:.1} | {:.3} | {:.3} | {:.2} |{} {:.1} | {:.0}% |\n",
            r["model"].as_str().unwrap_or(""),
            f("macs") / 1e6,
            f("mnetc_ms"),
            f("tract_ms"),
            f("mnetc_over_tract"),
            ort_cells,
            f("mnetc_gflops"),
            f("percent_of_peak")
        ));
    }
    println!("{table}");
    if threads > 1 {
        println!("{}", threads_table(&rows, threads, with_ort));
    }
    if rows.iter().any(|r| r["litert_ms"].is_number()) {
        println!("{}", litert_table(&rows));
    }
    if let Some((table, _)) = &frames {
        println!("{table}");
    }
    let frames = frames.map(|(_, json)| json);
    let doc = serde_json::json!({ "runs": runs, "warmup": warmup, "threads": threads, "cpu": cpu, "peak_gflops": peak, "target": TARGET, "rows": rows, "frames": frames });
    std::fs::write(&json_path, serde_json::to_string_pretty(&doc)? + "\n")?;
    println!("written to {json_path}");
    Ok(())
}
