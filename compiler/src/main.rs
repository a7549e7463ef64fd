//! The `mnetc` command line: a thin shell over the library.

use clap::{Parser, Subcommand};
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
        /// An ONNX model or an mnetc JSON description.
        model: PathBuf,
        /// Width multiplier (JSON descriptions only), in (0, 1].
        #[arg(long)]
        alpha: Option<f64>,
        /// Input resolution (height = width); re-specialises fully convolutional models.
        #[arg(long)]
        res: Option<usize>,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Skip the optimising passes (show the graph as imported, with static shapes).
        #[arg(long)]
        no_optimize: bool,
    },
    /// Print the JSON description of the paper's MobileNet v1 (Table 1).
    Describe {
        #[arg(long, default_value_t = 1.0)]
        alpha: f64,
        #[arg(long, default_value_t = 224)]
        res: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn run(command: Command) -> Result<(), Error> {
    match command {
        Command::Inspect {
            model,
            alpha,
            res,
            json,
            no_optimize,
        } => {
            let options = Options {
                alpha,
                resolution: res,
                optimize: !no_optimize,
            };
            let graph = mnetc::frontend(&model, &options)?;
            let summary = inspect::summarize(&graph);
            if json {
                let text = serde_json::to_string_pretty(&summary)
                    .map_err(|e| Error::Internal(e.to_string()))?;
                println!("{text}");
            } else {
                print!("{}", inspect::table(&summary));
            }
        }
        Command::Describe { alpha, res } => {
            let desc = mnetc::import::json::Description::mobilenet_v1(alpha, res);
            let text =
                serde_json::to_string_pretty(&desc).map_err(|e| Error::Internal(e.to_string()))?;
            // Validate by building it, so an impossible alpha or resolution is refused here too.
            mnetc::frontend_bytes(
                text.as_bytes(),
                std::path::Path::new("<describe>"),
                &Options::default(),
            )?;
            println!("{text}");
        }
    }
    Ok(())
}
