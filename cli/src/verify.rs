//! Building and running generated code: `mnetc verify` and `mnetc bench` write the module into
//! a temporary crate (with the runtime crate's sources, which this binary carries, so it works
//! wherever mnetc is installed), build it in release mode with the user's cargo, and run it:
//! natively when this CPU can, otherwise (neon and rvv on x86-64) cross-built for Linux and run
//! under QEMU's user-mode emulation, which must be installed (Debian: `qemu-user` and the
//! `gcc-*-linux-gnu` cross linkers), or (wasm-simd128) built for WASI and run by Node.js.

use crate::toolchain::{RUNTIME, io, runtime_toml, std_installed, write_runtime};
use mnetc::codegen::{Generated, Target};
use mnetc::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

pub use mnetc_targets::{Emulation, Engine};

/// The emulation for `target`, if it has one.
pub fn emulation(target: Target) -> Option<Emulation> {
    target.desc().emulation
}

/// Checks that QEMU, the linker and the Rust target an emulation needs are installed; the error
/// says how to install what is missing.
fn check(emulation: &Emulation, target: Target) -> Result<()> {
    let e = emulation;
    let runs = |program: &str| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    for program in [e.program, e.linker] {
        if !program.is_empty() && !runs(program) {
            return Err(Error::Options(format!(
                "running --target {target} code on this {} machine needs {program}, which is not installed; on Debian or Ubuntu: apt-get install {}",
                std::env::consts::ARCH,
                e.packages
            )));
        }
    }
    if !std_installed(e.triple) {
        return Err(Error::Options(format!(
            "running --target {target} code needs Rust's standard library for {}: rustup target add {}",
            e.triple, e.triple
        )));
    }
    Ok(())
}

const RUNNER: &str = r#"
mod net {
    include!("net.rs");
}

use mnetc_runtime::pool::{Parallel, ThreadPool};
use std::time::Instant;

fn read(path: &str) -> Vec<f32> {
    let bytes = std::fs::read(path).expect("read input");
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

fn write(path: &str, y: &[f32]) {
    let bytes: Vec<u8> = y.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, bytes).expect("write output");
}

/// `KEY=VALUE` among the arguments after the input and output files.
fn opt<'a>(args: &'a [String], key: &str) -> Option<&'a str> {
    args.iter().skip(3).find_map(|a| a.strip_prefix(key)?.strip_prefix('='))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads: usize = opt(&args, "threads").map_or(1, |t| t.parse().expect("threads"));
    let pool = ThreadPool::new(threads);
    if rgb8(&args, &pool) {
        return;
    }
    let input: Box<[f32; net::INPUT_LEN]> = read(&args[1]).into_boxed_slice().try_into().expect("input length");
    let mut output = Box::new([0f32; net::OUTPUT_LEN]);
    let mut scratch = mnetc_runtime::boxed_zeroed::<net::Scratch>();
    net::forward_parallel(&input, &mut output, &mut scratch, &pool);
    write(&args[2], &output[..]);
    if pool.threads() > 1 {
        // The tasks are fixed at compile time: one thread must give the same bits.
        let mut one = Box::new([0f32; net::OUTPUT_LEN]);
        net::forward(&input, &mut one, &mut scratch);
        if let Some(i) = (0..net::OUTPUT_LEN).find(|&i| one[i].to_bits() != output[i].to_bits()) {
            eprintln!("output {i} on {} threads is {}, on one thread {}", pool.threads(), output[i], one[i]);
            std::process::exit(3);
        }
    }
    let Some(runs) = opt(&args, "runs") else {
        return;
    };
    let runs: usize = runs.parse().expect("runs");
    for _ in 0..runs.min(10).max(3) {
        net::forward_parallel(&input, &mut output, &mut scratch, &pool);
    }
    let mut times: Vec<u128> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            net::forward_parallel(std::hint::black_box(&input), &mut output, &mut scratch, &pool);
            t.elapsed().as_nanos()
        })
        .collect();
    times.sort_unstable();
    println!("{} {}", times[times.len() / 2], times[0]);
    if args.iter().any(|a| a == "layers") {
        // Mean time of every kernel call, measured between the hooks.
        let mut total = vec![0u128; net::STEPS.len()];
        for _ in 0..runs {
            let mut last = Instant::now();
            net::forward_with_hook(&input, &mut output, &mut scratch, &pool, |i| {
                let now = Instant::now();
                total[i] += (now - last).as_nanos();
                last = now;
            });
        }
        for t in total {
            println!("{}", t / runs as u128);
        }
    }
    if let Some(path) = opt(&args, "trace") {
        let passes = runs.clamp(1, 10);
        let text = trace::record(&pool, passes, |tracer, hook| {
            net::forward_with_hook(&input, &mut output, &mut scratch, tracer, hook)
        });
        std::fs::write(path, text).expect("write the trace");
    }
}

/// Chrome trace events (the format of onnxruntime's profiler; Perfetto and chrome://tracing
/// open it) of every kernel call on every thread.
mod trace {
    use super::net::STEPS;
    use mnetc_runtime::pool::Parallel;
    use std::fmt::Write;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);
    std::thread_local! {
        /// A small number per thread, in the order threads first run a task or a hook.
        static THREAD: usize = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
    }

    /// Task spans of a call: (pass, step, thread, start ns, end ns).
    type Span = (usize, usize, usize, u64, u64);

    /// A pool that records when and where each task of each call runs.
    pub struct Tracer<'a> {
        pool: &'a dyn Parallel,
        start: Instant,
        /// (pass, step) the next call belongs to.
        at: Mutex<(usize, usize)>,
        spans: Mutex<Vec<Span>>,
    }

    impl Tracer<'_> {
        fn now(&self) -> u64 {
            self.start.elapsed().as_nanos() as u64
        }
    }

    // SAFETY: each task once, as the wrapped pool runs it, and the call returns after it.
    unsafe impl Parallel for Tracer<'_> {
        fn threads(&self) -> usize {
            self.pool.threads()
        }

        fn run(&self, tasks: usize, f: &(dyn Fn(usize) + Sync)) {
            let (pass, step) = *self.at.lock().unwrap();
            self.pool.run(tasks, &|i| {
                let begin = self.now();
                f(i);
                let end = self.now();
                let thread = THREAD.with(|t| *t);
                self.spans.lock().unwrap().push((pass, step, thread, begin, end));
            });
        }
    }

    /// Runs `passes` forward passes through `forward(tracer, hook)` and returns the trace.
    pub fn record(
        pool: &dyn Parallel,
        passes: usize,
        mut forward: impl FnMut(&Tracer, &mut dyn FnMut(usize)),
    ) -> String {
        let tracer = Tracer { pool, start: Instant::now(), at: Mutex::new((0, 0)), spans: Mutex::new(Vec::new()) };
        let main = THREAD.with(|t| *t);
        // Per pass, its start and the end of every step on the calling thread, in ns.
        let mut marks: Vec<Vec<u64>> = Vec::with_capacity(passes);
        for pass in 0..passes {
            *tracer.at.lock().unwrap() = (pass, 0);
            let mut times = vec![tracer.now()];
            forward(&tracer, &mut |i| {
                times.push(tracer.now());
                *tracer.at.lock().unwrap() = (pass, i + 1);
            });
            marks.push(times);
        }
        let spans = tracer.spans.into_inner().unwrap();
        let mut events = Vec::new();
        for (pass, times) in marks.iter().enumerate() {
            for (step, w) in times.windows(2).enumerate() {
                let mine: Vec<&Span> = spans.iter().filter(|s| s.0 == pass && s.1 == step).collect();
                if mine.is_empty() {
                    // One task, run inline on the calling thread.
                    events.push((step, main, w[0], w[1], 1));
                    continue;
                }
                let mut threads: Vec<usize> = mine.iter().map(|s| s.2).collect();
                threads.sort_unstable();
                threads.dedup();
                for t in threads {
                    let of: Vec<&&Span> = mine.iter().filter(|s| s.2 == t).collect();
                    let begin = of.iter().map(|s| s.3).min().unwrap();
                    let end = of.iter().map(|s| s.4).max().unwrap();
                    events.push((step, t, begin, end, of.len()));
                }
            }
        }
        let mut out = String::from("{\"displayTimeUnit\": \"ns\", \"traceEvents\": [\n");
        let mut names: Vec<usize> = events.iter().map(|e| e.1).collect();
        names.sort_unstable();
        names.dedup();
        for t in names {
            let name = if t == main { "main".to_string() } else { format!("worker {t}") };
            writeln!(out, "{{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 1, \"tid\": {t}, \"args\": {{\"name\": \"{name}\"}}}},").unwrap();
        }
        for (i, (step, t, begin, end, tasks)) in events.iter().enumerate() {
            let (node, kernel, macs) = STEPS[*step];
            let sep = if i + 1 < events.len() { "," } else { "" };
            writeln!(
                out,
                "{{\"name\": {}, \"cat\": \"{kernel}\", \"ph\": \"X\", \"pid\": 1, \"tid\": {t}, \"ts\": {:.3}, \"dur\": {:.3}, \"args\": {{\"step\": {step}, \"tasks\": {tasks}, \"macs\": {macs}}}}}{sep}",
                json_string(node),
                *begin as f64 / 1e3,
                (end - begin) as f64 / 1e3,
            )
            .unwrap();
        }
        out.push_str("]}\n");
        out
    }

    fn json_string(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}
"#;

/// The runner's `rgb8` for a module with `forward_rgb8`: an input file ending in `.rgb8` holds
/// 8-bit pixels for it.
const RUNNER_RGB8: &str = r#"
fn rgb8(args: &[String], pool: &dyn Parallel) -> bool {
    if !args[1].ends_with(".rgb8") {
        return false;
    }
    let pixels: Box<[u8; net::INPUT_LEN]> = std::fs::read(&args[1]).expect("read pixels").into_boxed_slice().try_into().expect("pixels length");
    let mut output = Box::new([0f32; net::OUTPUT_LEN]);
    let mut scratch = mnetc_runtime::boxed_zeroed::<net::Scratch>();
    net::forward_rgb8_parallel(&pixels, &mut output, &mut scratch, pool);
    write(&args[2], &output[..]);
    true
}
"#;

/// The runner's `rgb8` for a module without `forward_rgb8`.
const RUNNER_NO_RGB8: &str = r#"
fn rgb8(_: &[String], _: &dyn Parallel) -> bool {
    false
}
"#;

/// Latency of `forward` over timed runs.
#[derive(Clone, Debug)]
pub struct Timing {
    pub median_ns: u64,
    pub min_ns: u64,
    /// Mean nanoseconds of every kernel call, when profiled.
    pub per_step_ns: Vec<u64>,
}

/// A built runner for one generated module.
pub struct Runner {
    binary: PathBuf,
    dir: PathBuf,
    /// Set when the binary runs under QEMU.
    emulation: Option<Emulation>,
    /// Why the binary cannot run on this CPU, if it cannot.
    unrunnable: Option<String>,
    /// Vector length in bits for emulated RVV (128 unless set with [`Runner::set_vlen`]).
    vlen: u32,
    /// Threads of the pool the program runs `forward_parallel` on (1 unless set with
    /// [`Runner::set_threads`]; 0: one per CPU).
    threads: usize,
}

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Writes the crate and builds it. The target directory is shared between runs so that the
/// runtime is built once per target and set of flags; each run's own artifacts are removed from
/// it once its binary is taken out.
pub fn build(generated: &Generated, target: Target) -> Result<Runner> {
    build_with_flags(generated, target, &target.rustflags())
}

/// [`build`] with the given `RUSTFLAGS` instead of the target's (tests use it to show that
/// code for a SIMD target refuses to build without its features).
pub fn build_with_flags(generated: &Generated, target: Target, rustflags: &str) -> Result<Runner> {
    let rgb8 = if generated.source.contains("pub fn forward_rgb8") {
        RUNNER_RGB8
    } else {
        RUNNER_NO_RGB8
    };
    let files = vec![
        (
            "src/main.rs".to_string(),
            (RUNNER.to_string() + rgb8).into_bytes(),
        ),
        (
            "src/net.rs".to_string(),
            generated.source.clone().into_bytes(),
        ),
        (
            format!("src/{}", generated.weights_file),
            generated.weights.clone(),
        ),
    ];
    build_crate(files, target, rustflags)
}

/// Builds one program that runs every module of `generated` (as [`Runner::run_batch`]): one
/// build and one start of an emulator for many networks. Each module must name a weights file
/// of its own ([`mnetc::codegen::WeightsFile::ContentAddressed`] does).
pub fn build_batch(generated: &[Generated], target: Target) -> Result<Runner> {
    let mut files = Vec::new();
    for (i, g) in generated.iter().enumerate() {
        files.push((format!("src/net{i}.rs"), g.source.clone().into_bytes()));
        let weights = format!("src/{}", g.weights_file);
        if let Some((_, w)) = files.iter().find(|(n, _)| *n == weights) {
            if *w != g.weights {
                return Err(Error::Internal(format!(
                    "two modules of a batch name the weights file {weights}"
                )));
            }
            continue;
        }
        files.push((weights, g.weights.clone()));
    }
    let nets: Vec<String> = (0..generated.len()).map(|i| format!("net{i}")).collect();
    let mut main = String::new();
    for n in &nets {
        main.push_str(&format!("mod {n} {{ include!(\"{n}.rs\"); }}\n"));
    }
    main.push_str(BATCH_RUNNER);
    main.push_str(&format!("nets!({});\n", nets.join(", ")));
    files.push(("src/main.rs".into(), main.into_bytes()));
    build_crate(files, target, &target.rustflags())
}

/// Writes a runner crate of `files` (paths relative to it) and builds it for `target`.
fn build_crate(files: Vec<(String, Vec<u8>)>, target: Target, rustflags: &str) -> Result<Runner> {
    let cannot_run = || {
        format!(
            "this CPU cannot run code for --target {target}; `mnetc compile` still generates it"
        )
    };
    // A target of the host's architecture that this CPU lacks the features of (avxvnni on a
    // Zen 4) still builds (a build shows the refusal without the features); running it fails.
    let (emulation, unrunnable) = if target.runs_here() {
        (None, None)
    } else if let Some(e) = emulation(target) {
        check(&e, target)?;
        (Some(e), None)
    } else if target.desc().arch == Some(std::env::consts::ARCH) {
        (None, Some(cannot_run()))
    } else {
        return Err(Error::Options(cannot_run()));
    };
    let root = std::env::temp_dir().join("mnetc-verify");
    let runtime = shared_runtime(&root)?;
    // A package name of its own per run: concurrent runs share the target directory, and each
    // must find (and then remove) its own artifacts there.
    let package = format!("mnetc-run-{}-{}", std::process::id(), unique());
    let dir = root.join(&package);
    let write = |rel: &str, data: &[u8]| -> Result<()> {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("has a parent")).map_err(io(&path))?;
        std::fs::write(&path, data).map_err(io(&path))
    };
    write(
        "runner/Cargo.toml",
        RUNNER_TOML
            .replace("mnetc-runner", &package)
            .replace("RUNTIME_PATH", &runtime.display().to_string())
            .as_bytes(),
    )?;
    for (rel, data) in &files {
        write(&format!("runner/{rel}"), data)?;
    }
    // One cached target directory per set of flags: builds with other flags do not invalidate it.
    let flags: String = rustflags
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let target_dir = root.join(format!("target-{}{flags}", target.name()));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(dir.join("runner/Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("RUSTFLAGS", rustflags);
    if let Some(e) = &emulation {
        cmd.args(["--target", e.triple]);
        if !e.linker.is_empty() {
            let var = format!(
                "CARGO_TARGET_{}_LINKER",
                e.triple.to_uppercase().replace('-', "_")
            );
            cmd.env(var, e.linker);
        }
    }
    let release = match &emulation {
        Some(e) => target_dir.join(e.triple),
        None => target_dir,
    }
    .join("release");
    // Take the binary out of the shared target directory, and leave nothing else of this run
    // there or in the crate's folder when it fails: a test suite builds hundreds of modules,
    // several megabytes of weights each.
    let exe = match &emulation {
        Some(e) if e.engine == Engine::Wasi => format!("{package}.wasm"),
        _ => package.clone(),
    };
    let binary = release.join(&exe);
    let own = dir.join("mnetc-runner");
    let built = match cmd.output() {
        Err(e) => Err(Error::Tool {
            program: "cargo".into(),
            reason: e.to_string(),
        }),
        Ok(out) if !out.status.success() => Err(Error::GeneratedBuild(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )),
        Ok(_) => std::fs::rename(&binary, &own).map_err(io(&binary)),
    };
    remove_artifacts(&release, &package);
    if let Err(e) = built {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e);
    }
    if emulation.is_some_and(|e| e.engine == Engine::Wasi) {
        let host = dir.join("wasi-run.mjs");
        std::fs::write(&host, mnetc_targets::WASI_RUNNER).map_err(io(&host))?;
    }
    Ok(Runner {
        binary: own,
        dir,
        emulation,
        unrunnable,
        vlen: 128,
        threads: 1,
    })
}

/// The runtime's sources, written once under `root` in a folder named by their digest (so that
/// another mnetc's runtime gets a folder of its own): every run depends on the same path, which
/// cargo then builds once per target directory.
fn shared_runtime(root: &Path) -> Result<PathBuf> {
    use sha2::Digest;
    let toml = runtime_toml();
    let mut h = sha2::Sha256::new();
    for (rel, text) in RUNTIME {
        h.update(rel.as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
        h.update([0]);
    }
    h.update(toml.as_bytes());
    let digest: String = h
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = root.join(format!("runtime-{digest}"));
    if dir.join("Cargo.toml").exists() {
        return Ok(dir);
    }
    // Written aside and renamed into place, so that a folder under the final name is complete.
    let part = root.join(format!("runtime-part-{}-{}", std::process::id(), unique()));
    // (The runtime's own Cargo.toml inherits from mnetc's workspace; this one stands alone.)
    write_runtime(&part)?;
    if let Err(e) = std::fs::rename(&part, &dir) {
        let _ = std::fs::remove_dir_all(&part);
        // Another run may have put the same sources there first.
        if !dir.join("Cargo.toml").exists() {
            return Err(io(&dir)(e));
        }
    }
    Ok(dir)
}

/// Removes what building `package` left in the profile directory `release` (the runtime's
/// artifacts, shared by every run, stay).
fn remove_artifacts(release: &Path, package: &str) {
    let crate_name = package.replace('-', "_");
    let _ = std::fs::remove_file(release.join(format!("{package}.d")));
    for (sub, prefix) in [
        ("deps", format!("{crate_name}-")),
        (".fingerprint", format!("{package}-")),
        ("build", format!("{package}-")),
    ] {
        let Ok(entries) = std::fs::read_dir(release.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let path = entry.path();
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The main of [`build_batch`]'s program: every network on its part of the input file (the
/// inputs one after the other), the outputs one after the other in the output file; on more
/// than one thread, each also on one thread, which must give the same bits.
const BATCH_RUNNER: &str = r#"
use mnetc_runtime::pool::{Parallel, ThreadPool};

macro_rules! nets {
    ($($net:ident),*) => {
        fn main() {
            let args: Vec<String> = std::env::args().collect();
            let threads: usize = args.iter().find_map(|a| a.strip_prefix("threads=")).map_or(1, |t| t.parse().expect("threads"));
            let pool = ThreadPool::new(threads);
            let bytes = std::fs::read(&args[1]).expect("read input");
            let input: Vec<f32> = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            let (mut at, mut out) = (0, Vec::new());
            $({
                let x: Box<[f32; $net::INPUT_LEN]> = input[at..at + $net::INPUT_LEN].to_vec().into_boxed_slice().try_into().expect("input length");
                at += $net::INPUT_LEN;
                let mut y = Box::new([0f32; $net::OUTPUT_LEN]);
                let mut scratch = mnetc_runtime::boxed_zeroed::<$net::Scratch>();
                $net::forward_parallel(&x, &mut y, &mut scratch, &pool);
                if pool.threads() > 1 {
                    let mut one = Box::new([0f32; $net::OUTPUT_LEN]);
                    $net::forward(&x, &mut one, &mut scratch);
                    if let Some(i) = (0..$net::OUTPUT_LEN).find(|&i| one[i].to_bits() != y[i].to_bits()) {
                        eprintln!("{}: output {i} on {} threads is {}, on one thread {}", stringify!($net), pool.threads(), y[i], one[i]);
                        std::process::exit(3);
                    }
                }
                out.extend(y.iter().flat_map(|v| v.to_le_bytes()));
            })*
            assert_eq!(at, input.len(), "input length");
            std::fs::write(&args[2], out).expect("write output");
            // With `runs=R`: every network timed, interleaved, round after round.
            let Some(runs) = args.iter().find_map(|a| a.strip_prefix("runs=")) else {
                return;
            };
            let runs: usize = runs.parse().expect("runs");
            let mut at = 0;
            let mut forwards: Vec<Box<dyn FnMut() + '_>> = Vec::new();
            let pool = &pool;
            $({
                let x: Box<[f32; $net::INPUT_LEN]> = input[at..at + $net::INPUT_LEN].to_vec().into_boxed_slice().try_into().expect("input length");
                at += $net::INPUT_LEN;
                let mut y = Box::new([0f32; $net::OUTPUT_LEN]);
                let mut scratch = mnetc_runtime::boxed_zeroed::<$net::Scratch>();
                forwards.push(Box::new(move || {
                    $net::forward_parallel(std::hint::black_box(&x), &mut y, &mut scratch, pool)
                }));
            })*
            for forward in forwards.iter_mut() {
                for _ in 0..3 {
                    forward();
                }
            }
            // A line per round, as it ends: every network's nanoseconds.
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            for _ in 0..runs {
                let mut line = String::new();
                for forward in forwards.iter_mut() {
                    let start = std::time::Instant::now();
                    forward();
                    line.push_str(&format!("{} ", start.elapsed().as_nanos()));
                }
                writeln!(stdout, "{}", line.trim_end()).expect("stdout");
                stdout.flush().expect("stdout");
            }
        }
    };
}
"#;

const RUNNER_TOML: &str = r#"[package]
name = "mnetc-runner"
version = "0.1.0"
edition = "2024"

[dependencies]
mnetc_runtime = { package = "mnetc-runtime", path = 'RUNTIME_PATH', features = ["std"] }

[profile.release]
codegen-units = 16

[workspace]
"#;

impl Runner {
    /// The built program (it takes an input file, an output file and optionally a run count).
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// Whether the binary runs under QEMU (its timings then say nothing about real hardware).
    pub fn emulated(&self) -> bool {
        self.emulation.is_some()
    }

    /// The vector length, in bits, of the emulated RVV CPU (any power of two from 128 to 1024).
    pub fn set_vlen(&mut self, bits: u32) {
        self.vlen = bits;
    }

    /// Runs the network on a pool of `threads` threads (0: one per CPU) from now on; with more
    /// than one, every run also checks that one thread gives the same bits (the program fails
    /// otherwise).
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads;
    }

    /// The command that runs the binary: itself, or QEMU with it.
    pub fn command(&self) -> Command {
        match &self.emulation {
            None => Command::new(&self.binary),
            Some(e) if e.engine == Engine::Wasi => {
                let mut cmd = Command::new(e.program);
                cmd.args(["--experimental-wasi-unstable-preview1", "--no-warnings"])
                    .arg(self.dir.join("wasi-run.mjs"))
                    .arg(&self.binary);
                cmd
            }
            Some(e) => {
                let mut cmd = Command::new(e.program);
                cmd.args(["-L", e.sysroot]);
                if let Some(cpu) = e.cpu {
                    cmd.args(["-cpu", &cpu.replace("{vlen}", &self.vlen.to_string())]);
                }
                cmd.arg(&self.binary);
                cmd
            }
        }
    }

    /// Runs `forward_rgb8` once on 8-bit `pixels` (the module must have it: built with a
    /// preprocessing).
    pub fn run_rgb8(&self, pixels: &[u8]) -> Result<Vec<f32>> {
        let inp = self.dir.join("input.rgb8");
        std::fs::write(&inp, pixels).map_err(io(&inp))?;
        Ok(self.execute(&inp, &[])?.0)
    }

    /// Runs the program on the input file `inp` with `extra` arguments; its output and stdout.
    fn execute(&self, inp: &Path, extra: &[String]) -> Result<(Vec<f32>, String)> {
        if let Some(why) = &self.unrunnable {
            return Err(Error::Options(why.clone()));
        }
        let outp = self.dir.join("output.f32");
        let out = self
            .command()
            .arg(inp)
            .arg(&outp)
            .arg(format!("threads={}", self.threads))
            .args(extra)
            .output()
            .map_err(|e| Error::Tool {
                program: "the generated code".into(),
                reason: e.to_string(),
            })?;
        if !out.status.success() {
            return Err(Error::GeneratedRun(format!(
                "the generated code failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        let y = std::fs::read(&outp).map_err(io(&outp))?;
        let y = y
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok((y, String::from_utf8_lossy(&out.stdout).into_owned()))
    }

    /// Runs a [`build_batch`] program: every network on its input, in order; their outputs
    /// (of `output_lens` values each).
    pub fn run_batch(&self, inputs: &[Vec<f32>], output_lens: &[usize]) -> Result<Vec<Vec<f32>>> {
        let flat: Vec<f32> = inputs.concat();
        let (y, _) = self.execute_f32(&flat, &[])?;
        if y.len() != output_lens.iter().sum::<usize>() {
            return Err(Error::GeneratedRun(format!(
                "the batch wrote {} outputs, expected {}",
                y.len(),
                output_lens.iter().sum::<usize>()
            )));
        }
        let mut at = 0;
        Ok(output_lens
            .iter()
            .map(|&n| {
                at += n;
                y[at - n..at].to_vec()
            })
            .collect())
    }

    /// Times a [`build_batch`] program's networks on their inputs: `runs` timed runs of each
    /// after a warm-up, interleaved (one run of every network, then the next round), so a change
    /// of the machine's speed touches them alike. After each round, `round` gets the rounds
    /// done and every network's times so far; at the end, their median and minimum, in order.
    pub fn time_batch(
        &self,
        inputs: &[Vec<f32>],
        runs: usize,
        mut round: impl FnMut(usize, &[Vec<u64>]),
    ) -> Result<Vec<Timing>> {
        use std::io::BufRead;
        if let Some(why) = &self.unrunnable {
            return Err(Error::Options(why.clone()));
        }
        let inp = self.write_input(&inputs.concat())?;
        let tool = |e: std::io::Error| Error::Tool {
            program: "the generated code".into(),
            reason: e.to_string(),
        };
        let mut child = self
            .command()
            .arg(&inp)
            .arg(self.dir.join("output.f32"))
            .arg(format!("threads={}", self.threads))
            .arg(format!("runs={runs}"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(tool)?;
        let mut times = vec![Vec::with_capacity(runs); inputs.len()];
        let stdout = child.stdout.take().expect("piped");
        for (done, line) in std::io::BufReader::new(stdout).lines().enumerate() {
            let line = line.map_err(tool)?;
            let ns: Vec<u64> = line
                .split_whitespace()
                .filter_map(|t| t.parse().ok())
                .collect();
            if ns.len() != inputs.len() {
                let _ = child.kill();
                return Err(Error::GeneratedRun(format!(
                    "the batch printed '{line}' for its {} networks",
                    inputs.len()
                )));
            }
            for (t, ns) in times.iter_mut().zip(ns) {
                t.push(ns);
            }
            round(done + 1, &times);
        }
        let out = child.wait_with_output().map_err(tool)?;
        if !out.status.success() || times.iter().any(|t| t.len() != runs) {
            return Err(Error::GeneratedRun(format!(
                "the generated code failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(times.iter().map(|t| summary(t)).collect())
    }

    /// Writes `input` to the program's input file and runs it with `extra` arguments.
    fn execute_f32(&self, input: &[f32], extra: &[String]) -> Result<(Vec<f32>, String)> {
        let inp = self.write_input(input)?;
        self.execute(&inp, extra)
    }

    /// Writes `input` to the program's input file (raw little-endian f32); its path.
    fn write_input(&self, input: &[f32]) -> Result<PathBuf> {
        let inp = self.dir.join("input.f32");
        let bytes: Vec<u8> = input.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(&inp, bytes).map_err(io(&inp))?;
        Ok(inp)
    }

    /// Times `runs` runs of `input` (as [`Runner::run`]), then writes Chrome trace events of up
    /// to ten more, every kernel call on every thread, to `path` (JSON: Perfetto or
    /// chrome://tracing open it).
    pub fn trace(&self, input: &[f32], runs: usize, path: &Path) -> Result<Timing> {
        let extra = [format!("runs={runs}"), format!("trace={}", path.display())];
        let (_, text) = self.execute_f32(input, &extra)?;
        timing(&text).ok_or_else(|| {
            Error::GeneratedRun(format!("the generated code printed no timings: {text}"))
        })
    }

    /// Runs `forward` once on `input`; with `runs`, also times that many runs after a warm-up.
    pub fn run(&self, input: &[f32], runs: Option<usize>) -> Result<(Vec<f32>, Option<Timing>)> {
        self.run_profiled(input, runs, false)
    }

    /// [`Runner::run`]; with `per_layer`, the timing also holds the mean nanoseconds of every
    /// kernel call.
    pub fn run_profiled(
        &self,
        input: &[f32],
        runs: Option<usize>,
        per_layer: bool,
    ) -> Result<(Vec<f32>, Option<Timing>)> {
        let mut extra = Vec::new();
        if let Some(n) = runs {
            extra.push(format!("runs={n}"));
            if per_layer {
                extra.push("layers".into());
            }
        }
        let (y, text) = self.execute_f32(input, &extra)?;
        Ok((y, runs.and_then(|_| timing(&text))))
    }
}

/// Median and minimum of some runs' nanoseconds (at least one).
pub fn summary(ns: &[u64]) -> Timing {
    let mut sorted = ns.to_vec();
    sorted.sort_unstable();
    Timing {
        median_ns: sorted[sorted.len() / 2],
        min_ns: sorted[0],
        per_step_ns: Vec::new(),
    }
}

/// The timings the program prints: median and minimum nanoseconds, then those of every kernel
/// call when profiled.
fn timing(text: &str) -> Option<Timing> {
    let mut it = text.split_whitespace().map(|t| t.parse::<u64>().ok());
    let (median_ns, min_ns) = (it.next()??, it.next()??);
    Some(Timing {
        median_ns,
        min_ns,
        per_step_ns: it.collect::<Option<Vec<u64>>>()?,
    })
}
