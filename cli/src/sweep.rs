//! `mnetc sweep`: what the width multiplier alpha and the resolution cost in latency on this
//! CPU, the question of the MobileNets paper's Tables 6 and 7 answered with measurements. Every
//! (alpha, resolution) pair of an architecture (or every resolution of a model file) is checked
//! and compiled first, so a pair mnetc cannot build stops the sweep before anything is built;
//! then all of them are built into one program that times them interleaved, round after round
//! (as the benchmark program does), so that a change of the machine's speed during the sweep
//! touches every pair alike.

use crate::verify::{self, Timing};
use mnetc::codegen::{CodegenOptions, Generated, Target, WeightsFile};
use mnetc::import::json::{Arch, Description};
use mnetc::{Error, Options};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// What to sweep.
pub struct Request<'a> {
    /// The paper's architecture, specialised at each alpha and resolution.
    pub arch: Arch,
    /// A model file instead: re-specialised at each resolution (alpha applies to JSON
    /// descriptions only).
    pub model: Option<&'a Path>,
    pub alphas: &'a [f64],
    pub resolutions: &'a [usize],
    pub target: Target,
    /// Threads of the pool each network runs on (0: one per CPU).
    pub threads: usize,
    /// Timed runs of each network, after a warm-up.
    pub runs: usize,
}

/// One specialisation and what it costs.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// The width multiplier, or `None` for a model file's own.
    pub alpha: Option<f64>,
    pub res: usize,
    pub macs: u64,
    pub params: u64,
    pub weight_bytes: usize,
    pub scratch_bytes: usize,
    /// Median and minimum nanoseconds of a forward pass, once timed.
    pub median_ns: Option<u64>,
    pub min_ns: Option<u64>,
}

impl Point {
    /// GFLOP/s at the median (two FLOPs a multiply-add).
    pub fn gflops(&self) -> Option<f64> {
        self.median_ns
            .map(|ns| 2.0 * self.macs as f64 / ns.max(1) as f64)
    }
}

/// The model (JSON text or ONNX bytes) of one pair and the options that specialise it.
fn source(
    req: &Request,
    alpha: Option<f64>,
    res: usize,
) -> Result<(Vec<u8>, PathBuf, Options), Error> {
    match req.model {
        Some(path) => {
            let bytes = mnetc::limits::read_model(path)?;
            let options = Options {
                alpha,
                resolution: Some(res),
                ..Options::default()
            };
            Ok((bytes, path.to_path_buf(), options))
        }
        None => {
            let alpha = alpha.expect("an architecture sweep has alphas");
            let text = Description::paper(req.arch, alpha, res, false).to_json_pretty();
            Ok((
                text.into_bytes(),
                PathBuf::from("sweep.json"),
                Options::default(),
            ))
        }
    }
}

/// One pair compiled.
pub struct Compiled {
    pub point: Point,
    pub generated: Generated,
    /// Floats of the module's input.
    pub input_len: usize,
}

/// Checks and compiles every pair, in order (alpha outer, resolution inner): an alpha outside
/// the architecture's range or a resolution it cannot take stops here, with the importer's
/// message naming the pair, before anything is built.
pub fn compile(req: &Request) -> Result<Vec<Compiled>, Error> {
    if req.resolutions.is_empty() {
        return Err(Error::Options("--res needs at least one resolution".into()));
    }
    let alphas: Vec<Option<f64>> = match (req.model, req.alphas) {
        (None, []) => return Err(Error::Options("--alpha needs at least one value".into())),
        (None, a) => a.iter().map(|&a| Some(a)).collect(),
        (Some(_), []) => vec![None],
        (Some(_), a) => a.iter().map(|&a| Some(a)).collect(),
    };
    let mut out = Vec::new();
    for &alpha in &alphas {
        for &res in req.resolutions {
            let pair = match alpha {
                Some(a) => format!("alpha {a}, resolution {res}"),
                None => format!("resolution {res}"),
            };
            let (bytes, path, options) = source(req, alpha, res)?;
            let graph = mnetc::frontend_bytes(&bytes, &path, &options)
                .map_err(|e| Error::Options(format!("{pair}: {e}")))?;
            let summary = mnetc::inspect::summarize(&graph);
            let codegen = CodegenOptions {
                target: req.target,
                // Every module names its weights by content: one folder holds them all.
                weights_file: WeightsFile::ContentAddressed(".".into()),
                ..CodegenOptions::default()
            };
            let generated = mnetc::compile_graph(&graph, &codegen)
                .map_err(|e| Error::Options(format!("{pair}: {e}")))?;
            let point = Point {
                alpha,
                res,
                macs: summary.total_macs,
                params: summary.total_params,
                weight_bytes: generated.summary.weight_bytes,
                scratch_bytes: generated.summary.scratch_bytes,
                median_ns: None,
                min_ns: None,
            };
            out.push(Compiled {
                point,
                generated,
                input_len: summary.input.iter().product(),
            });
        }
    }
    Ok(out)
}

/// Builds every module into one program and times them interleaved: the points with their
/// times.
pub fn time(req: &Request, compiled: Vec<Compiled>) -> Result<Vec<Point>, Error> {
    time_with(req, compiled, || {})
}

/// [`time`], calling `built` between the build and the timing (for a progress display).
pub fn time_with(
    req: &Request,
    compiled: Vec<Compiled>,
    built: impl FnOnce(),
) -> Result<Vec<Point>, Error> {
    let inputs: Vec<Vec<f32>> = compiled
        .iter()
        .map(|c| {
            mnetc::rng::Rng::new(0)
                .normal_tensor(&[c.input_len], 1.0)
                .to_f32()
        })
        .collect();
    let (mut points, generated): (Vec<Point>, Vec<Generated>) =
        compiled.into_iter().map(|c| (c.point, c.generated)).unzip();
    let mut runner = verify::build_batch(&generated, req.target)?;
    runner.set_threads(req.threads);
    built();
    let timings: Vec<Timing> = runner.time_batch(&inputs, req.runs.max(1))?;
    for (p, t) in points.iter_mut().zip(timings) {
        p.median_ns = Some(t.median_ns);
        p.min_ns = Some(t.min_ns);
    }
    Ok(points)
}

fn ms(ns: Option<u64>) -> String {
    ns.map_or("-".into(), |ns| format!("{:.3}", ns as f64 / 1e6))
}

fn alpha_text(a: Option<f64>) -> String {
    a.map_or("model".into(), |a| format!("{a}"))
}

/// The table, as the paper's Tables 6 and 7 lay theirs out, with the measured columns.
pub fn markdown(points: &[Point], heading: &str) -> String {
    let mut s = format!("{heading}\n\n");
    s.push_str("| alpha | res | M multiply-adds | M parameters | weights bytes | scratch bytes | median ms | min ms | GFLOP/s |\n");
    s.push_str("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for p in points {
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} | {:.3} | {} | {} | {} | {} | {} |",
            alpha_text(p.alpha),
            p.res,
            p.macs as f64 / 1e6,
            p.params as f64 / 1e6,
            p.weight_bytes,
            p.scratch_bytes,
            ms(p.median_ns),
            ms(p.min_ns),
            p.gflops().map_or("-".into(), |g| format!("{g:.1}")),
        );
    }
    s
}

/// The points as JSON: an array of objects with the table's columns (times in nanoseconds,
/// `null` until timed).
pub fn json(points: &[Point]) -> String {
    let rows: Vec<serde_json::Value> = points
        .iter()
        .map(|p| {
            serde_json::json!({
                "alpha": p.alpha,
                "res": p.res,
                "macs": p.macs,
                "params": p.params,
                "weight_bytes": p.weight_bytes,
                "scratch_bytes": p.scratch_bytes,
                "median_ns": p.median_ns,
                "min_ns": p.min_ns,
                "gflops": p.gflops(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&rows).expect("plain values") + "\n"
}

/// The chart: median latency against multiply-adds, a line per alpha through its resolutions,
/// each point labelled with its resolution (SVG, drawn by plotters).
pub fn svg(points: &[Point], title: &str) -> Result<String, Error> {
    use plotters::prelude::*;
    let fail = |e: &dyn std::fmt::Display| Error::Internal(format!("drawing the chart: {e}"));
    let timed: Vec<(Option<f64>, f64, f64, usize)> = points
        .iter()
        .filter_map(|p| {
            let ms = p.median_ns? as f64 / 1e6;
            Some((p.alpha, p.macs as f64 / 1e6, ms, p.res))
        })
        .collect();
    let max_x = timed.iter().map(|t| t.1).fold(0.0, f64::max).max(1.0) * 1.1;
    let max_y = timed.iter().map(|t| t.2).fold(0.0, f64::max).max(1e-3) * 1.15;
    let mut alphas: Vec<Option<f64>> = Vec::new();
    for t in &timed {
        if !alphas.contains(&t.0) {
            alphas.push(t.0);
        }
    }
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (800, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..max_x, 0f64..max_y)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("million multiply-adds")
            .y_desc("median latency (ms)")
            .draw()
            .map_err(|e| fail(&e))?;
        for (i, &alpha) in alphas.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let mut line: Vec<&(Option<f64>, f64, f64, usize)> =
                timed.iter().filter(|t| t.0 == alpha).collect();
            line.sort_by(|a, b| a.1.total_cmp(&b.1));
            chart
                .draw_series(LineSeries::new(
                    line.iter().map(|t| (t.1, t.2)),
                    color.stroke_width(2),
                ))
                .map_err(|e| fail(&e))?
                .label(format!("alpha {}", alpha_text(alpha)))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
            chart
                .draw_series(line.iter().map(|t| {
                    EmptyElement::at((t.1, t.2))
                        + Circle::new((0, 0), 4, color.filled())
                        + Text::new(format!("{}", t.3), (6, -14), ("sans-serif", 12))
                }))
                .map_err(|e| fail(&e))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.85))
            .draw()
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(text)
}

/// Writes `sweep.md`, `sweep.json` and `sweep.svg` into `dir` (created if needed); each file is
/// written to a temporary name and renamed, so an interrupted sweep leaves whole files.
pub fn write(dir: &Path, points: &[Point], heading: &str) -> Result<(), Error> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| Error::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let files = [
        ("sweep.md", markdown(points, heading)),
        ("sweep.json", json(points)),
        ("sweep.svg", svg(points, heading.trim_start_matches("# "))?),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        let part = dir.join(format!(".{name}.part"));
        std::fs::write(&part, text).map_err(io(&part))?;
        std::fs::rename(&part, &path).map_err(io(&path))?;
    }
    Ok(())
}
