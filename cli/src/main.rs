//! The `mnetc` command line: a thin shell over the library.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use mnetc::codegen::{CodegenOptions, Target, WeightsFile};
use mnetc::ir::Tensor;
use mnetc::{Error, Options, inspect};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mnetc",
    version,
    about = "A MobileNet compiler: ONNX or JSON in, specialised Rust out"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the layers of a model after the passes, with multiply-adds and parameters.
    Inspect {
        #[command(flatten)]
        model: ModelArgs,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Skip the optimising passes (show the graph as imported, with static shapes).
        #[arg(long)]
        no_optimize: bool,
    },
    /// Run a model with the reference interpreter; print the top classes, or compare with an
    /// expected output (exit code 1 if outside the tolerance).
    Run {
        #[command(flatten)]
        model: ModelArgs,
        /// Raw little-endian f32 input in the model's own input layout (default: seeded N(0, 1) noise).
        #[arg(long)]
        input: Option<PathBuf>,
        /// Raw little-endian f32 expected output to compare with.
        #[arg(long)]
        expected: Option<PathBuf>,
        /// Accept max |y - e| <= TOLERANCE * max(1, max |e|).
        #[arg(long, default_value_t = 1e-4)]
        tolerance: f32,
        /// Class names, one per line.
        #[arg(long)]
        labels: Option<PathBuf>,
        /// How many top classes to print.
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// Photos (JPEG, PNG, WebP) to classify instead of an f32 input: each is decoded,
        /// turned upright, resized, cropped and normalised as `--preprocess` says.
        #[arg(long, num_args = 1..)]
        image: Vec<PathBuf>,
        #[command(flatten)]
        photo: PhotoArgs,
        /// With --image, print one JSON object per photo.
        #[arg(long)]
        json: bool,
    },
    /// Compile a model to a Rust module (`-o net.rs`) and its weights file (`net.weights`).
    Compile {
        #[command(flatten)]
        model: ModelArgs,
        /// Code generation target.
        #[arg(long, default_value = "generic")]
        target: String,
        /// The Rust file to write; the weights go beside it as NAME.weights.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// Base name of the weights file (default: the output's file stem).
        #[arg(long)]
        name: Option<String>,
        /// Skip the optimising passes.
        #[arg(long)]
        no_optimize: bool,
        /// Leave the weights out of the module: it gets a `Net` whose `from_bytes` reads
        /// NAME.weights (written in mnetc's weights file format) at run time.
        #[arg(long)]
        runtime_weights: bool,
        /// Photos in: also generate `forward_rgb8` with this preprocessing (a preset, or
        /// `auto` for the model's default).
        #[arg(long)]
        preprocess: Option<String>,
    },
    /// Compile a model, build the generated code in release mode, run it and compare with an
    /// expected output or, without one, with the reference interpreter on a seeded random input.
    /// Exit code 0 within the tolerance, 1 outside it, 2 on bad input.
    Verify {
        #[command(flatten)]
        model: ModelArgs,
        #[arg(long, default_value = "generic")]
        target: String,
        /// Raw little-endian f32 input in the model's own input layout.
        #[arg(long, requires = "expected")]
        input: Option<PathBuf>,
        /// Raw little-endian f32 expected output.
        #[arg(long, requires = "input")]
        expected: Option<PathBuf>,
        /// Accept max |y - e| <= TOLERANCE * max(1, max |e|).
        #[arg(long, default_value_t = 1e-4)]
        tolerance: f32,
        /// Vector length in bits of the emulated RISC-V CPU (`--target rvv` under QEMU): a
        /// power of two from 128 to 1024.
        #[arg(long, default_value_t = 128)]
        vlen: u32,
        /// A photo as the input (compared with the reference interpreter on the same input).
        #[arg(long, conflicts_with = "input")]
        image: Option<PathBuf>,
        #[command(flatten)]
        photo: PhotoArgs,
        /// Run `forward_parallel` on this many threads (0: one per CPU); with more than one,
        /// also check that one thread gives the same bits.
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
    /// Compile a model, build it in release mode and time `forward`: median and minimum over
    /// RUNS runs after a warm-up, and GFLOP/s (2 flops per multiply-add).
    Bench {
        #[command(flatten)]
        model: ModelArgs,
        #[arg(long, default_value = "generic")]
        target: String,
        #[arg(long, default_value_t = 50)]
        runs: usize,
        /// Also print the mean time and GFLOP/s of every kernel call.
        #[arg(long)]
        per_layer: bool,
        /// With --per-layer, also draw the times as a bar chart (SVG), coloured by kernel kind.
        #[arg(long, requires = "per_layer")]
        svg: Option<PathBuf>,
        /// Run `forward_parallel` on this many threads (0: one per CPU).
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Also write every kernel call of every thread, over up to ten more runs, as Chrome
        /// trace events to this JSON file (open it in Perfetto or chrome://tracing).
        #[arg(long)]
        trace: Option<PathBuf>,
        /// A photo as the input (instead of random numbers); also times its decoding, resizing
        /// and cropping (`mnetc::photo`, the command line's path).
        #[arg(long)]
        image: Option<PathBuf>,
        #[command(flatten)]
        photo: PhotoArgs,
    },
    /// Build a static library and a C header for an app: libNAME.a per Rust target of the
    /// platform in DIR/<triple>/, and DIR/NAME.h.
    Package {
        #[command(flatten)]
        model: ModelArgs,
        /// android (aarch64, plus armv7 and x86_64 when installed), ios (aarch64, plus the
        /// simulator when installed), host, or web (NAME.wasm for wasm-simd128 and an ES module
        /// NAME.js that classifies ImageData).
        #[arg(long)]
        platform: String,
        /// Code generation target for every triple (default: neon on aarch64, native on the
        /// host, generic elsewhere).
        #[arg(long)]
        target: Option<String>,
        /// Library name and C symbol prefix.
        #[arg(long, default_value = "mobilenet")]
        name: String,
        /// Output folder.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// Camera frames in: also export NAME_run_rgba8, NAME_run_bgra8 and NAME_run_nv21,
        /// which resize, crop and normalise with this preprocessing (a preset, or auto; the web
        /// package always takes photos, by default with auto).
        #[arg(long)]
        preprocess: Option<String>,
        /// Web: the weights in NAME.weights beside the module, fetched by load(), rather than
        /// inside NAME.wasm.
        #[arg(long)]
        runtime_weights: bool,
        /// Web: class names, one per line, for classify()'s labels.
        #[arg(long)]
        labels: Option<PathBuf>,
    },
    /// Post-training static quantization: calibrate the activations of a float model on
    /// photos and write it as a standard QDQ ONNX model (uint8 activations, int8 weights, int32
    /// biases) that mnetc and onnxruntime run in integers. Prints every activation's range and
    /// how often the int8 model's top class is the float model's.
    Quantize {
        #[command(flatten)]
        model: ModelArgs,
        /// A folder of photos (JPEG, PNG, WebP) to calibrate the activation ranges on.
        #[arg(long)]
        calibrate: PathBuf,
        /// A folder of other photos to measure the agreement with the float model on.
        #[arg(long)]
        evaluate: Option<PathBuf>,
        /// How each activation's range is chosen: minmax (everything seen), percentile
        /// (99.999th at each end) or entropy (the KL-optimal clipping).
        #[arg(long, default_value = "minmax", value_parser = ["minmax", "percentile", "entropy"])]
        method: String,
        /// One weight scale per layer instead of one per output channel.
        #[arg(long)]
        per_tensor: bool,
        #[command(flatten)]
        photo: PhotoArgs,
        /// The QDQ ONNX model to write.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
    /// Print the JSON description of one of the papers' MobileNets: v1 (Table 1), v2, v3-small
    /// or v3-large (torchvision's block tables and channel rounding).
    /// Time every (alpha, resolution) specialisation of an architecture side by side on this
    /// CPU (or every resolution of --model): DIR/sweep.md (a table like the MobileNet paper's
    /// Tables 6 and 7, with the measured latency), sweep.json and sweep.svg (latency against
    /// multiply-adds, a line per alpha).
    Sweep {
        /// v1, v2, v3-small or v3-large.
        #[arg(long, default_value = "v1")]
        arch: mnetc::import::json::Arch,
        /// A model file to re-specialise at each resolution instead (alpha: JSON descriptions
        /// only).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Width multipliers, comma-separated (default for --arch: 1,0.75,0.5,0.25).
        #[arg(long, value_delimiter = ',')]
        alpha: Option<Vec<f64>>,
        /// Resolutions, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "224,192,160,128")]
        res: Vec<usize>,
        #[arg(long, default_value = "native")]
        target: String,
        /// Threads of the pool each network runs on (0: one per CPU).
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Timed runs of each network (interleaved, after a warm-up).
        #[arg(long, default_value_t = 50)]
        runs: usize,
        /// A CSV of alpha,res,top-1 (%) figures, such as the paper's (docs/PERFORMANCE.md): the
        /// table gains a column, the chart a top-1 against latency panel.
        #[arg(long)]
        accuracy: Option<PathBuf>,
        /// The folder for sweep.md, sweep.json and sweep.svg.
        #[arg(short, long, default_value = "sweep")]
        output: PathBuf,
    },
    Describe {
        /// v1, v2, v3-small or v3-large.
        #[arg(long, default_value = "v1")]
        arch: mnetc::import::json::Arch,
        #[arg(long, default_value_t = 1.0)]
        alpha: f64,
        #[arg(long, default_value_t = 224)]
        res: usize,
        /// MobileNetV3's minimalistic variant (Keras's): no squeeze-and-excite, no hard-swish,
        /// 3x3 windows only.
        #[arg(long)]
        minimalistic: bool,
    },
}

/// A model compiled and built into a runnable program.
struct Built {
    graph: mnetc::ir::Graph,
    runner: mnetc_cli::verify::Runner,
    macs: u64,
    steps: Vec<mnetc::codegen::StepInfo>,
}

/// The model and the options every command that reads one takes.
#[derive(clap::Args)]
struct ModelArgs {
    /// An ONNX model or an mnetc JSON description.
    model: PathBuf,
    /// Width multiplier (JSON descriptions only), in (0, 1].
    #[arg(long)]
    alpha: Option<f64>,
    /// Input resolution (height = width); re-specialises fully convolutional ONNX models.
    #[arg(long)]
    res: Option<usize>,
}

impl ModelArgs {
    fn options(&self, optimize: bool) -> Options {
        Options {
            alpha: self.alpha,
            resolution: self.res,
            optimize,
        }
    }

    /// Reads the model and runs the passes.
    fn load(&self, optimize: bool) -> Result<mnetc::ir::Graph, Error> {
        mnetc::frontend(&self.model, &self.options(optimize))
    }

    /// Compiles the model and builds the generated code (for `verify` and `bench`).
    fn build(&self, target: Target) -> Result<Built, Error> {
        let codegen = CodegenOptions {
            target,
            ..CodegenOptions::default()
        };
        let graph = self.load(true)?;
        let generated = mnetc::compile_graph(&graph, &codegen)?;
        eprintln!("building the generated code ({target}) ...");
        let runner = mnetc_cli::verify::build(&generated, target)?;
        Ok(Built {
            graph,
            runner,
            macs: generated.summary.macs,
            steps: generated.steps,
        })
    }

    fn bytes(&self) -> Result<Vec<u8>, Error> {
        mnetc::limits::read_model(&self.model)
    }
}

/// `mnetc --version`: the version, the runtime version generated code asks for, and the targets
/// the compiler emits.
fn version() -> String {
    let targets: Vec<&str> = Target::all().map(|t| t.name()).collect();
    format!(
        "{} (generates code for mnetc-runtime {}; targets: {}, native)",
        env!("CARGO_PKG_VERSION"),
        mnetc::codegen::runtime_version(),
        targets.join(", ")
    )
}

fn main() -> ExitCode {
    // Built once per run; clap takes a `&'static str`.
    let version: &'static str = Box::leak(version().into_boxed_str());
    let matches = Cli::command().version(version).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match run(cli.command) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// Runs one command; `Ok(false)` means it ran but the check failed (exit code 1).
fn run(command: Command) -> Result<bool, Error> {
    match command {
        Command::Inspect {
            model,
            json,
            no_optimize,
        } => {
            let graph = model.load(!no_optimize)?;
            let summary = inspect::summarize(&graph);
            if json {
                let text = serde_json::to_string_pretty(&summary)
                    .map_err(|e| Error::Internal(e.to_string()))?;
                println!("{text}");
            } else {
                print!("{}", inspect::table(&summary));
            }
        }
        Command::Run {
            model,
            input,
            expected,
            tolerance,
            labels,
            top,
            image,
            photo,
            json,
        } => {
            let graph = model.load(true)?;
            if !image.is_empty() {
                let names = read_labels(labels.as_deref())?;
                classify(&graph, &image, &photo, &names, top, json)?;
                return Ok(true);
            }
            let shape = graph.shape(graph.input.value).unwrap_or(&[]).to_vec();
            let x = match &input {
                Some(path) => Tensor::f32(shape.clone(), read_f32(path, shape.iter().product())?),
                None => mnetc::rng::Rng::new(0).normal_tensor(&shape, 1.0),
            };
            let y = mnetc::interp::run(&graph, &x)?.remove(0);
            let y_data = y.to_f32();
            println!("output {:?}", y.shape);
            if let Some(path) = &expected {
                let want = read_f32(path, y_data.len())?;
                let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
                let err = y_data
                    .iter()
                    .zip(&want)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0f32, f32::max);
                let ok = err.is_finite() && err <= tolerance * scale;
                println!(
                    "max abs error {err:.3e} (limit {:.3e}): {}",
                    tolerance * scale,
                    if ok { "ok" } else { "FAILED" }
                );
                return Ok(ok);
            }
            let names = read_labels(labels.as_deref())?;
            let mut order: Vec<usize> = (0..y_data.len()).collect();
            order.sort_by(|&a, &b| y_data[b].total_cmp(&y_data[a]));
            for &i in order.iter().take(top) {
                let name = names.get(i).map(String::as_str).unwrap_or("");
                println!("{i:>6}  {:>10.4}  {name}", y_data[i]);
            }
        }
        Command::Compile {
            model,
            target,
            output,
            name,
            no_optimize,
            runtime_weights,
            preprocess,
        } => {
            let target: Target = target.parse()?;
            let stem = match name {
                Some(n) => n,
                None => output
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "net".into()),
            };
            let codegen = CodegenOptions {
                target,
                weights_file: WeightsFile::Named(format!("{stem}.weights")),
                runtime_weights,
                ..CodegenOptions::default()
            };
            let graph =
                mnetc::frontend_bytes(&model.bytes()?, &model.model, &model.options(!no_optimize))?;
            let codegen = CodegenOptions {
                preprocess: match &preprocess {
                    Some(p) => Some(mnetc::preprocess::resolve(p, &graph)?),
                    None => None,
                },
                ..codegen
            };
            let generated = mnetc::compile_graph(&graph, &codegen)?;
            generated.write(&output)?;
            let s = &generated.summary;
            println!(
                "{} (target {target}): {} layers, {} kernel calls, {:.3} M parameters, {:.1} M multiply-adds, {} weight bytes, {} scratch bytes",
                output.display(),
                s.layers,
                s.kernel_calls,
                s.params as f64 / 1e6,
                s.macs as f64 / 1e6,
                s.weight_bytes,
                s.scratch_bytes
            );
        }
        Command::Quantize {
            model,
            calibrate,
            evaluate,
            method,
            per_tensor,
            photo,
            output,
        } => quantize(
            &model,
            &calibrate,
            evaluate.as_deref(),
            method.parse()?,
            per_tensor,
            &photo,
            &output,
        )?,
        Command::Package {
            model,
            platform,
            target,
            name,
            output,
            preprocess,
            runtime_weights,
            labels,
        } => {
            if platform == "web" {
                if target.as_deref().is_some_and(|t| t != "wasm-simd128") {
                    return Err(Error::Options(
                        "web packages are built for --target wasm-simd128".into(),
                    ));
                }
                let package = mnetc_cli::web::package(&mnetc_cli::web::Request {
                    model: &model.model,
                    options: model.options(true),
                    preprocess: preprocess.as_deref().unwrap_or("auto"),
                    name: &name,
                    out: &output,
                    runtime_weights,
                    labels: labels.as_deref(),
                })?;
                for path in [
                    Some(&package.wasm),
                    Some(&package.js),
                    package.weights.as_ref(),
                ]
                .into_iter()
                .flatten()
                {
                    println!("{}", path.display());
                }
                return Ok(true);
            }
            if runtime_weights || labels.is_some() {
                return Err(Error::Options(
                    "--runtime-weights and --labels are options of --platform web".into(),
                ));
            }
            let platform: mnetc_cli::package::Platform = platform.parse()?;
            let target = target.map(|t| t.parse::<Target>()).transpose()?;
            let package = mnetc_cli::package::package(&mnetc_cli::package::Request {
                model: &model.model,
                options: model.options(true),
                platform,
                target,
                name: &name,
                out: &output,
                preprocess: preprocess.as_deref(),
            })?;
            println!("{}", package.header.display());
            for b in &package.built {
                println!(
                    "{} ({}, target {})",
                    b.archive.display(),
                    b.triple,
                    b.target
                );
            }
            for t in &package.skipped {
                println!(
                    "skipped {t}: its Rust standard library is not installed (rustup target add {t})"
                );
            }
        }
        Command::Verify {
            model,
            target,
            input,
            expected,
            tolerance,
            vlen,
            image,
            photo,
            threads,
        } => {
            let target: Target = target.parse()?;
            if !(128..=1024).contains(&vlen) || !vlen.is_power_of_two() {
                return Err(Error::Options(format!(
                    "--vlen {vlen}: the vector length must be a power of two from 128 to 1024 bits"
                )));
            }
            let mut built = model.build(target)?;
            built.runner.set_vlen(vlen);
            built.runner.set_threads(threads);
            let graph = &built.graph;
            let shape = graph.shape(graph.input.value).unwrap_or(&[]).to_vec();
            let (x, want) = match (&input, &expected) {
                (Some(i), Some(e)) => {
                    let x = read_f32(i, shape.iter().product())?;
                    let out_len = graph
                        .shape(graph.outputs[0])
                        .unwrap_or(&[])
                        .iter()
                        .product();
                    (x, read_f32(e, out_len)?)
                }
                _ => {
                    let x = match &image {
                        Some(path) => {
                            let pre = preprocessing(graph, &photo)?;
                            Tensor::f32(shape.clone(), photo_input(graph, path, &pre)?)
                        }
                        None => mnetc::rng::Rng::new(0).normal_tensor(&shape, 1.0),
                    };
                    let want = mnetc::interp::run(graph, &x)?.remove(0).to_f32();
                    (x.to_f32(), want)
                }
            };
            let (y, _) = built.runner.run(&x, None)?;
            let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
            let abs = y
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            let rel = y
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs() / b.abs().max(1e-6))
                .fold(0f32, f32::max);
            let ok = y.len() == want.len() && abs.is_finite() && abs <= tolerance * scale;
            let against = if expected.is_some() {
                "the expected output"
            } else {
                "the reference interpreter"
            };
            let on = match threads {
                1 => String::new(),
                0 => " on one thread per CPU (the same bits as on one)".into(),
                n => format!(" on {n} threads (the same bits as on one)"),
            };
            println!(
                "{}{on}: max abs error {abs:.3e}, max rel error {rel:.3e} against {against} (limit {:.3e}): {}",
                model.model.display(),
                tolerance * scale,
                if ok { "ok" } else { "FAILED" }
            );
            return Ok(ok);
        }
        Command::Bench {
            model,
            target,
            runs,
            per_layer,
            svg,
            threads,
            trace,
            image,
            photo,
        } => {
            let target: Target = target.parse()?;
            // WebAssembly runs in a real engine (Node.js's V8, as in Chromium): its timings
            // mean something; QEMU's do not.
            let wasm = target
                .desc()
                .emulation
                .is_some_and(|e| e.engine == mnetc_targets::Engine::Wasi);
            if !target.runs_here() && !wasm {
                return Err(Error::Options(format!(
                    "this CPU cannot run --target {target} code natively, and timings under emulation say nothing about real hardware; run `mnetc verify --target {target}` here (under QEMU) and bench on the device"
                )));
            }
            let mut built = model.build(target)?;
            built.runner.set_threads(threads);
            let shape = built
                .graph
                .shape(built.graph.input.value)
                .unwrap_or(&[])
                .to_vec();
            let x = match &image {
                Some(path) => {
                    let pre = preprocessing(&built.graph, &photo)?;
                    let x = photo_input(&built.graph, path, &pre)?;
                    // The photo's way in, timed as the network is.
                    // Square, as photo_input checked: [1, 3, R, R] or [1, R, R, 3].
                    let res = shape[2] as u32;
                    let mut ms = Vec::new();
                    for _ in 0..runs.clamp(1, 20) {
                        let t = std::time::Instant::now();
                        let rgb = mnetc::photo::load_rgb(path)?;
                        let decoded = t.elapsed();
                        mnetc::photo::fit(&rgb, res, &pre)?;
                        ms.push((decoded, t.elapsed()));
                    }
                    ms.sort();
                    let (decode, all) = ms[ms.len() / 2];
                    println!(
                        "{}: decoding {:.3} ms, resizing and cropping {:.3} ms (median of {})",
                        path.display(),
                        decode.as_secs_f64() * 1e3,
                        (all - decode).as_secs_f64() * 1e3,
                        ms.len()
                    );
                    x
                }
                None => mnetc::rng::Rng::new(0).normal_tensor(&shape, 1.0).to_f32(),
            };
            let (_, times) = built
                .runner
                .run_profiled(&x, Some(runs.max(1)), per_layer)?;
            let t = times.ok_or_else(|| Error::Internal("the runner printed no timings".into()))?;
            let (median, min) = (t.median_ns, t.min_ns);
            let flops = 2.0 * built.macs as f64;
            let on = threads_text(threads);
            println!(
                "{} ({target}, {on}): median {:.3} ms, min {:.3} ms over {runs} runs, {:.1} GFLOP/s at the median",
                model.model.display(),
                median as f64 / 1e6,
                min as f64 / 1e6,
                flops / median.max(1) as f64
            );
            if per_layer {
                println!(
                    "\n{:>3}  {:<8} {:>10} {:>10} {:>8} {:>6}  node",
                    "#", "kernel", "M MACs", "us", "GFLOP/s", "share"
                );
                let total: u64 = t.per_step_ns.iter().sum();
                for (i, (s, ns)) in built.steps.iter().zip(&t.per_step_ns).enumerate() {
                    let gflops = if s.macs > 0 {
                        format!("{:.1}", 2.0 * s.macs as f64 / (*ns).max(1) as f64)
                    } else {
                        "-".into()
                    };
                    println!(
                        "{i:>3}  {:<8} {:>10.3} {:>10.1} {:>8} {:>5.1}%  {}",
                        s.kernel,
                        s.macs as f64 / 1e6,
                        *ns as f64 / 1e3,
                        gflops,
                        100.0 * *ns as f64 / total.max(1) as f64,
                        s.node
                    );
                }
            }
            if let Some(path) = &svg {
                let bars: Vec<mnetc_cli::chart::Bar> = built
                    .steps
                    .iter()
                    .zip(&t.per_step_ns)
                    .map(|(s, ns)| mnetc_cli::chart::Bar {
                        kernel: s.kernel,
                        us: *ns as f64 / 1e3,
                    })
                    .collect();
                let name = model
                    .model
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy();
                let title = format!("{name} ({target}, {on}): time per kernel call");
                let text = mnetc_cli::chart::layers_svg(&bars, &title)?;
                std::fs::write(path, text).map_err(|source| Error::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                println!("{}: the kernel calls' times as a bar chart", path.display());
            }
            if let Some(path) = &trace {
                built.runner.trace(
                    &x,
                    runs.clamp(1, 10),
                    &std::path::absolute(path).map_err(|source| Error::Io {
                        path: path.display().to_string(),
                        source,
                    })?,
                )?;
                println!(
                    "{}: Chrome trace events of every kernel call on every thread (open in https://ui.perfetto.dev or chrome://tracing)",
                    path.display()
                );
            }
        }
        Command::Sweep {
            arch,
            model,
            alpha,
            res,
            target,
            threads,
            runs,
            accuracy,
            output,
        } => {
            let target: Target = target.parse()?;
            let accuracy = match &accuracy {
                Some(path) => mnetc_cli::sweep::read_accuracy(path)?,
                None => Vec::new(),
            };
            if !target.runs_here() {
                return Err(Error::Options(format!(
                    "this CPU cannot run --target {target} code natively; sweep on the device"
                )));
            }
            let alphas = alpha.unwrap_or_else(|| match model {
                Some(_) => Vec::new(),
                None => vec![1.0, 0.75, 0.5, 0.25],
            });
            let request = mnetc_cli::sweep::Request {
                arch,
                model: model.as_deref(),
                alphas: &alphas,
                resolutions: &res,
                target,
                threads,
                runs,
            };
            let what = match &model {
                Some(m) => m.display().to_string(),
                None => format!("MobileNet {arch}"),
            };
            let heading = format!("# {what} on {target}, {}", threads_text(threads));
            // Progress on stderr (drawn only on a terminal): a spinner while compiling and
            // building, then a bar over the timing rounds.
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            let pairs = alphas.len().max(1) * res.len();
            bar.set_message(format!("compiling {pairs} specialisations"));
            let mut compiled = mnetc_cli::sweep::compile(&request)?;
            mnetc_cli::sweep::apply_accuracy(compiled.iter_mut().map(|c| &mut c.point), &accuracy);
            // The counts are written at once; the times join them as the rounds go (every
            // tenth round and the last), so Ctrl-C leaves the rows timed so far.
            let points: Vec<_> = compiled.iter().map(|c| c.point.clone()).collect();
            mnetc_cli::sweep::write(&output, &points, &heading)?;
            bar.set_message(format!("building {pairs} networks into one program"));
            let rounds = runs.max(1);
            let mut written = Ok(());
            let points = mnetc_cli::sweep::time(
                &request,
                compiled,
                || {
                    bar.set_style(
                        indicatif::ProgressStyle::with_template(
                            "{msg} [{bar:30}] {pos}/{len} rounds",
                        )
                        .expect("a valid template"),
                    );
                    bar.set_length(rounds as u64);
                    bar.set_message(format!("timing {pairs} networks"));
                },
                |done, points| {
                    bar.set_position(done as u64);
                    if done % 10 == 0 && written.is_ok() {
                        written = mnetc_cli::sweep::write(&output, points, &heading);
                    }
                },
            )?;
            written?;
            bar.finish_and_clear();
            mnetc_cli::sweep::write(&output, &points, &heading)?;
            print!("{}", mnetc_cli::sweep::markdown(&points, &heading));
            println!("\n{}: sweep.md, sweep.json, sweep.svg", output.display());
        }
        Command::Describe {
            arch,
            alpha,
            res,
            minimalistic,
        } => {
            use mnetc::import::json::{Arch, Description};
            if minimalistic && matches!(arch, Arch::V1 | Arch::V2) {
                return Err(Error::Options(
                    "--minimalistic is a MobileNetV3 variant (--arch v3-small or v3-large)".into(),
                ));
            }
            let desc = Description::paper(arch, alpha, res, minimalistic);
            let text = desc.to_json_pretty();
            // Validate by building it, so an impossible alpha or resolution is refused here too.
            mnetc::frontend_bytes(
                text.as_bytes(),
                std::path::Path::new("<describe>"),
                &Options::default(),
            )?;
            print!("{text}");
        }
    }
    Ok(true)
}

/// "1 thread", "4 threads", "a thread per CPU" (0).
fn threads_text(threads: usize) -> String {
    match threads {
        1 => "1 thread".to_string(),
        0 => "a thread per CPU".into(),
        n => format!("{n} threads"),
    }
}

/// Reads a raw little-endian f32 file of exactly `len` values.
fn read_f32(path: &std::path::Path, len: usize) -> Result<Vec<f32>, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    if bytes.len() != len * 4 {
        return Err(Error::Options(format!(
            "{}: holds {} bytes, expected {len} float32 values ({} bytes)",
            path.display(),
            bytes.len(),
            len * 4
        )));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Class names, one per line (none without a file).
fn read_labels(path: Option<&std::path::Path>) -> Result<Vec<String>, Error> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(text.lines().map(str::to_string).collect())
}

/// How photos become the input: a preset and what to change of it.
#[derive(clap::Args, Clone, Debug, Default)]
struct PhotoArgs {
    /// Preprocessing preset for photos: torchvision, keras, keras-v3, caffe or unit
    /// (default: chosen from the model, and printed).
    #[arg(long)]
    preprocess: Option<String>,
    /// Per-channel means, in the input's channel order, replacing the preset's: A,B,C.
    #[arg(long)]
    mean: Option<String>,
    /// Per-channel standard deviations, replacing the preset's: A,B,C.
    #[arg(long)]
    std: Option<String>,
    /// Factor on the 0..255 pixel values before the mean is subtracted, replacing the preset's.
    #[arg(long)]
    scale: Option<f32>,
    /// Channel order of the input: rgb or bgr.
    #[arg(long, value_parser = ["rgb", "bgr"])]
    channel_order: Option<String>,
    /// stretch (the whole photo to res x res) or crop (the shorter side to res / --crop, then
    /// the centre res x res).
    #[arg(long, value_parser = ["stretch", "crop"])]
    resize: Option<String>,
    /// With --resize crop: the share of the resized shorter side kept (0.875: 224 of 256).
    #[arg(long)]
    crop: Option<f32>,
}

/// Three comma-separated numbers.
fn three(flag: &str, text: &str) -> Result<[f32; 3], Error> {
    let v: Vec<f32> = text
        .split(',')
        .map(|t| t.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Options(format!("--{flag} {text}: {e}")))?;
    <[f32; 3]>::try_from(v)
        .map_err(|v| Error::Options(format!("--{flag} takes 3 numbers A,B,C, not {}", v.len())))
}

/// The preprocessing for photos: the preset asked for, or the model's default, with the
/// options' changes; printed on stderr (stdout holds results only, and nothing when a photo is
/// refused).
fn preprocessing(
    graph: &mnetc::ir::Graph,
    args: &PhotoArgs,
) -> Result<mnetc::preprocess::Preprocess, Error> {
    use mnetc::preprocess::{ChannelOrder, Preprocess, Resize};
    let (mut pre, mut why) = match &args.preprocess {
        Some(name) => (Preprocess::preset(name)?, "--preprocess".to_string()),
        None => {
            let (p, why) = mnetc::preprocess::default_for(graph);
            (p, why.to_string())
        }
    };
    let base = pre.name.clone();
    let mut changed = false;
    if let Some(m) = &args.mean {
        pre.mean = three("mean", m)?;
        changed = true;
    }
    if let Some(s) = &args.std {
        pre.std = three("std", s)?;
        if pre.std.contains(&0.0) {
            return Err(Error::Options(format!("--std {s}: a deviation of 0")));
        }
        changed = true;
    }
    if let Some(s) = args.scale {
        pre.scale = s;
        changed = true;
    }
    if let Some(o) = &args.channel_order {
        pre.order = if o == "bgr" {
            ChannelOrder::Bgr
        } else {
            ChannelOrder::Rgb
        };
        changed = true;
    }
    let fraction = args.crop.unwrap_or(0.875);
    if !(fraction > 0.0 && fraction <= 1.0) {
        return Err(Error::Options(format!(
            "--crop {fraction}: the share kept must be in (0, 1]"
        )));
    }
    match args.resize.as_deref() {
        Some("stretch") => pre.resize = Resize::Stretch,
        Some(_) => pre.resize = Resize::ShorterSideThenCrop { fraction },
        None if args.crop.is_some() => pre.resize = Resize::ShorterSideThenCrop { fraction },
        None => {}
    }
    changed |= args.resize.is_some() || args.crop.is_some();
    if changed {
        pre.name = "custom".into();
        why = format!("{base} ({why}) changed by options");
    }
    eprintln!("preprocessing {} ({why})", pre.describe());
    Ok(pre)
}

/// The model's input made of a photo: decoded, upright, resized and cropped to the input's
/// resolution, normalised and laid out as the input.
fn photo_input(
    graph: &mnetc::ir::Graph,
    photo: &std::path::Path,
    pre: &mnetc::preprocess::Preprocess,
) -> Result<Vec<f32>, Error> {
    let shape = graph.shape(graph.input.value).unwrap_or(&[]);
    let square =
        |s: &[usize]| matches!(s, [1, 3, h, w] if h == w) || matches!(s, [1, h, w, 3] if h == w);
    if !square(shape) {
        return Err(Error::Options(format!(
            "photos need a square 3-channel input; the model's is {shape:?}"
        )));
    }
    let rgb = mnetc::photo::load_rgb(photo)?;
    let pixels = mnetc::photo::fit(&rgb, shape[2] as u32, pre)?;
    pre.input(&pixels, shape, graph.input.layout)
}

/// `run --image`: each photo through the preprocessing and the reference interpreter; the top
/// classes with softmax probabilities, as text or one JSON object a photo.
fn classify(
    graph: &mnetc::ir::Graph,
    photos: &[PathBuf],
    args: &PhotoArgs,
    names: &[String],
    top: usize,
    json: bool,
) -> Result<(), Error> {
    let pre = preprocessing(graph, args)?;
    let shape = graph.shape(graph.input.value).unwrap_or(&[]).to_vec();
    // A progress bar on stderr for several photos (drawn only on a terminal).
    let bar = if photos.len() > 1 {
        indicatif::ProgressBar::new(photos.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    for photo in photos {
        let x = Tensor::f32(shape.clone(), photo_input(graph, photo, &pre)?);
        let y = mnetc::interp::run(graph, &x)?.remove(0).to_f32();
        bar.inc(1);
        let p = mnetc::photo::softmax(&y);
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
        let best: Vec<(usize, &str, f32)> = order
            .iter()
            .take(top)
            .map(|&i| (i, names.get(i).map_or("", String::as_str), p[i]))
            .collect();
        if json {
            let classes: Vec<serde_json::Value> = best
                .iter()
                .map(|(i, name, prob)| serde_json::json!({"index": i, "label": name, "probability": prob}))
                .collect();
            let line = serde_json::json!({
                "image": photo.display().to_string(),
                "preprocess": pre.name,
                "top": classes,
            });
            bar.suspend(|| println!("{line}"));
        } else {
            bar.suspend(|| {
                println!("{}", photo.display());
                for (i, name, prob) in best {
                    println!("{i:>6}  {prob:>8.4}  {name}");
                }
            });
        }
    }
    bar.finish_and_clear();
    Ok(())
}

/// The photos (JPEG, PNG, WebP) in a folder, sorted by name; an error when there are none.
fn photos_in(dir: &std::path::Path, what: &str) -> Result<Vec<PathBuf>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let mut photos: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| {
                ["jpg", "jpeg", "png", "webp"]
                    .contains(&e.to_string_lossy().to_lowercase().as_str())
            })
        })
        .collect();
    photos.sort();
    if photos.is_empty() {
        return Err(Error::Options(format!(
            "{}: no photos (JPEG, PNG or WebP) to {what}",
            dir.display()
        )));
    }
    Ok(photos)
}

/// `mnetc quantize`: calibration on the interpreter, the QDQ model written, read back and
/// compared with the float model.
fn quantize(
    model: &ModelArgs,
    calibrate: &std::path::Path,
    evaluate: Option<&std::path::Path>,
    method: mnetc::ptq::Method,
    per_tensor: bool,
    args: &PhotoArgs,
    output: &std::path::Path,
) -> Result<(), Error> {
    let calibration = photos_in(calibrate, "calibrate on")?;
    let evaluation = evaluate
        .map(|dir| photos_in(dir, "evaluate on"))
        .transpose()?
        .unwrap_or_default();
    let graph = model.load(true)?;
    let pre = preprocessing(&graph, args)?;
    let shape = graph.shape(graph.input.value).unwrap_or(&[]).to_vec();
    let load = |photos: &[PathBuf]| -> Result<Vec<Tensor>, Error> {
        photos
            .iter()
            .map(|p| Ok(Tensor::f32(shape.clone(), photo_input(&graph, p, &pre)?)))
            .collect()
    };
    let inputs = load(&calibration)?;
    let runs = if method == mnetc::ptq::Method::MinMax {
        1
    } else {
        2
    };
    let bar = indicatif::ProgressBar::new((inputs.len() * runs) as u64);
    let ranges = mnetc::ptq::calibrate(&graph, &inputs, method, || bar.inc(1))?;
    bar.finish_and_clear();
    println!(
        "{} calibration photos, {} activations ({method:?}):",
        inputs.len(),
        ranges.len()
    );
    println!(
        "{:<40} {:>21} {:>21} {:>10} {:>4}",
        "activation", "seen", "quantized", "scale", "zp"
    );
    for r in &ranges {
        let (scale, zp) = r.u8_params();
        println!(
            "{:<40} {:>21} {:>21} {scale:>10.3e} {zp:>4}",
            graph.values[r.value].name,
            format!("[{:.4}, {:.4}]", r.min, r.max),
            format!("[{:.4}, {:.4}]", r.lo.min(0.0), r.hi.max(0.0)),
        );
    }
    let bytes = mnetc::ptq::write::qdq_bytes(&graph, &ranges, per_tensor)?;
    // What was written must read back as a quantized model mnetc runs in integers.
    let quantized = mnetc::frontend_bytes(&bytes, output, &model.options(true))
        .map_err(|e| Error::Internal(format!("the written model does not read back: {e}")))?;
    let (integer, layers) = mnetc::ptq::integer_layers(&quantized);
    println!("{integer} of {layers} conv and dense layers run in integers");
    let report = |name: &str, photos: &[PathBuf], inputs: &[Tensor]| -> Result<(), Error> {
        let mut agree = 0;
        let mut diff = 0f64;
        for (photo, x) in photos.iter().zip(inputs) {
            let p = mnetc::photo::softmax(&mnetc::interp::run(&graph, x)?.remove(0).to_f32());
            let q = mnetc::photo::softmax(&mnetc::interp::run(&quantized, x)?.remove(0).to_f32());
            let (a, b) = (argmax(&p), argmax(&q));
            agree += usize::from(a == b);
            let d = p
                .iter()
                .zip(&q)
                .map(|(x, y)| (x - y).abs() as f64)
                .sum::<f64>();
            diff += d / p.len() as f64;
            println!(
                "  {:<40} float top-1 {a:>5} ({:.3})  int8 top-1 {b:>5} ({:.3}){}",
                photo.file_name().unwrap_or_default().to_string_lossy(),
                p[a],
                q[b],
                if a == b { "" } else { "  DIFFERENT" }
            );
        }
        println!(
            "{name}: top-1 agreement {agree}/{} ({:.1}%), mean |softmax difference| {:.2e}",
            photos.len(),
            100.0 * agree as f64 / photos.len() as f64,
            diff / photos.len() as f64
        );
        Ok(())
    };
    report("calibration photos", &calibration, &inputs)?;
    if !evaluation.is_empty() {
        report("evaluation photos", &evaluation, &load(&evaluation)?)?;
    }
    write_atomically(output, &bytes)?;
    println!("wrote {} ({} bytes)", output.display(), bytes.len());
    Ok(())
}

fn argmax(v: &[f32]) -> usize {
    (0..v.len()).fold(0, |best, i| if v[i] > v[best] { i } else { best })
}

/// Writes `bytes` beside `path` and renames it into place: never a half-written file.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}
