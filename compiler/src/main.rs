//! The `mnetc` command line: a thin shell over the library.

use clap::{Parser, Subcommand};
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
    },
    /// Print the JSON description of the paper's MobileNet v1 (Table 1).
    Describe {
        #[arg(long, default_value_t = 1.0)]
        alpha: f64,
        #[arg(long, default_value_t = 224)]
        res: usize,
    },
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
    /// Reads the model and runs the passes.
    fn load(&self, optimize: bool) -> Result<mnetc::ir::Graph, Error> {
        let options = Options {
            alpha: self.alpha,
            resolution: self.res,
            optimize,
        };
        mnetc::frontend(&self.model, &options)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
        } => {
            let graph = model.load(true)?;
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
            let names = match &labels {
                Some(path) => std::fs::read_to_string(path)
                    .map_err(|source| Error::Io {
                        path: path.display().to_string(),
                        source,
                    })?
                    .lines()
                    .map(str::to_string)
                    .collect(),
                None => Vec::new(),
            };
            let mut order: Vec<usize> = (0..y_data.len()).collect();
            order.sort_by(|&a, &b| y_data[b].total_cmp(&y_data[a]));
            for &i in order.iter().take(top) {
                let name = names.get(i).map(String::as_str).unwrap_or("");
                println!("{i:>6}  {:>10.4}  {name}", y_data[i]);
            }
        }
        Command::Describe { alpha, res } => {
            let desc = mnetc::import::json::Description::mobilenet_v1(alpha, res);
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
