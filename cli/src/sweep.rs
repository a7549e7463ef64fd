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
use std::borrow::Cow;
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
    /// ImageNet top-1 accuracy in percent, when given (`--accuracy`).
    pub top1: Option<f64>,
}

impl Point {
    /// GFLOP/s at the median (two FLOPs a multiply-add).
    pub fn gflops(&self) -> Option<f64> {
        self.median_ns
            .map(|ns| 2.0 * self.macs as f64 / ns.max(1) as f64)
    }
}

/// The model (JSON text or the model file's bytes) of one pair and the options that
/// specialise it.
fn source<'m>(
    req: &Request,
    model: Option<&'m (Vec<u8>, &Path)>,
    alpha: Option<f64>,
    res: usize,
) -> (Cow<'m, [u8]>, PathBuf, Options) {
    match model {
        Some((bytes, path)) => {
            let options = Options {
                alpha,
                resolution: Some(res),
                ..Options::default()
            };
            (Cow::Borrowed(bytes), path.to_path_buf(), options)
        }
        None => {
            let alpha = alpha.expect("an architecture sweep has alphas");
            let text = Description::paper(req.arch, alpha, res, false).to_json_pretty();
            (
                Cow::Owned(text.into_bytes()),
                PathBuf::from("sweep.json"),
                Options::default(),
            )
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
        (Some(_), []) => vec![None],
        (_, a) => a.iter().map(|&a| Some(a)).collect(),
    };
    // A model file is read once, then specialised at every resolution.
    let model = match req.model {
        Some(path) => Some((mnetc::limits::read_model(path)?, path)),
        None => None,
    };
    let mut out = Vec::new();
    for &alpha in &alphas {
        for &res in req.resolutions {
            let pair = match alpha {
                Some(a) => format!("alpha {a}, resolution {res}"),
                None => format!("resolution {res}"),
            };
            let (bytes, path, options) = source(req, model.as_ref(), alpha, res);
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
                top1: None,
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
/// times. `built` is called between the build and the timing, `round` after every round with
/// the rounds done and the points timed so far (median and minimum of those rounds).
pub fn time(
    req: &Request,
    compiled: Vec<Compiled>,
    built: impl FnOnce(),
    mut round: impl FnMut(usize, &[Point]),
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
    let timed = |points: &mut [Point], timings: &[Timing]| {
        for (p, t) in points.iter_mut().zip(timings) {
            p.median_ns = Some(t.median_ns);
            p.min_ns = Some(t.min_ns);
        }
    };
    let timings = runner.time_batch(&inputs, req.runs.max(1), |done, times| {
        let so_far: Vec<Timing> = times.iter().map(|t| verify::summary(t)).collect();
        timed(&mut points, &so_far);
        round(done, &points);
    })?;
    timed(&mut points, &timings);
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
    let accuracy = points.iter().any(|p| p.top1.is_some());
    let mut s = format!("{heading}\n\n");
    s.push_str("| alpha | res | M multiply-adds | M parameters | weights bytes | scratch bytes | median ms | min ms | GFLOP/s |");
    s.push_str(if accuracy { " top-1 % |\n" } else { "\n" });
    s.push_str("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    s.push_str(if accuracy { " ---: |\n" } else { "\n" });
    for p in points {
        let _ = write!(
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
        if accuracy {
            let _ = write!(s, " {} |", p.top1.map_or("-".into(), |t| format!("{t}")));
        }
        s.push('\n');
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
                "top1": p.top1,
            })
        })
        .collect();
    serde_json::to_string_pretty(&rows).expect("plain values") + "\n"
}

type Area<'a> =
    plotters::drawing::DrawingArea<plotters::prelude::SVGBackend<'a>, plotters::coord::Shift>;

/// A point as a panel shows it: alpha, x, y, resolution.
type Shown = (Option<f64>, f64, f64, usize);

/// One panel of the chart: `y` against `x` for every point that has both, a line per alpha
/// through its resolutions, each point labelled with its resolution.
fn panel(
    area: &Area,
    points: &[Point],
    (x, x_desc): (fn(&Point) -> Option<f64>, &str),
    (y, y_desc): (fn(&Point) -> Option<f64>, &str),
    caption: &str,
) -> Result<(), Error> {
    use plotters::prelude::*;
    let fail = |e: &dyn std::fmt::Display| Error::Internal(format!("drawing the chart: {e}"));
    let shown: Vec<Shown> = points
        .iter()
        .filter_map(|p| Some((p.alpha, x(p)?, y(p)?, p.res)))
        .collect();
    let range = |v: &dyn Fn(&Shown) -> f64| {
        let (lo, hi) = shown
            .iter()
            .map(v)
            .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.05).max(1e-3);
        (lo - pad).max(0.0)..hi + pad
    };
    let (xs, ys) = if shown.is_empty() {
        (0.0..1.0, 0.0..1.0)
    } else {
        (range(&|t| t.1), range(&|t| t.2))
    };
    let mut alphas: Vec<Option<f64>> = Vec::new();
    for t in &shown {
        if !alphas.contains(&t.0) {
            alphas.push(t.0);
        }
    }
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(xs, ys)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()
        .map_err(|e| fail(&e))?;
    for (i, &alpha) in alphas.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let mut line: Vec<&Shown> = shown.iter().filter(|t| t.0 == alpha).collect();
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
    Ok(())
}

/// The chart (SVG, drawn by plotters): median latency against multiply-adds, a line per alpha
/// through its resolutions, each point labelled with its resolution; with top-1 figures, a
/// second panel beside it, top-1 against latency (the paper's Figures 4 and 5 with measured
/// latency in place of multiply-adds).
pub fn svg(points: &[Point], title: &str) -> Result<String, Error> {
    use plotters::prelude::*;
    let fail = |e: &dyn std::fmt::Display| Error::Internal(format!("drawing the chart: {e}"));
    let accuracy = points.iter().any(|p| p.top1.is_some());
    let width = if accuracy { 1400 } else { 800 };
    let latency = |p: &Point| p.median_ns.map(|ns| ns as f64 / 1e6);
    let macs = |p: &Point| Some(p.macs as f64 / 1e6);
    let top1 = |p: &Point| p.top1;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (width, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let root = root
            .titled(title, ("sans-serif", 18))
            .map_err(|e| fail(&e))?;
        let latency_axis = (latency as fn(&Point) -> Option<f64>, "median latency (ms)");
        let macs_axis = (macs as fn(&Point) -> Option<f64>, "million multiply-adds");
        if accuracy {
            let (left, right) = root.split_horizontally(800);
            panel(
                &left,
                points,
                macs_axis,
                latency_axis,
                "latency against multiply-adds",
            )?;
            panel(
                &right,
                points,
                latency_axis,
                (top1, "ImageNet top-1 (%)"),
                "top-1 against latency",
            )?;
        } else {
            panel(
                &root,
                points,
                macs_axis,
                latency_axis,
                "latency against multiply-adds",
            )?;
        }
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(text)
}

/// Top-1 figures: (alpha, resolution, top-1 in percent).
pub type Accuracy = Vec<(f64, usize, f64)>;

/// Reads `alpha,res,top1` lines (top-1 in percent; a header line and `#` comments are
/// skipped).
pub fn read_accuracy(path: &Path) -> Result<Accuracy, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("alpha") {
            continue;
        }
        let bad = || {
            Error::Options(format!(
                "{}:{}: expected alpha,res,top1 (for example 0.5,160,59.1), got '{line}'",
                path.display(),
                i + 1
            ))
        };
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let [alpha, res, top1] = cells[..] else {
            return Err(bad());
        };
        out.push((
            alpha.parse().map_err(|_| bad())?,
            res.parse().map_err(|_| bad())?,
            top1.parse().map_err(|_| bad())?,
        ));
    }
    Ok(out)
}

/// Gives each point its top-1 figure, if `figures` has one (a model file's points count as
/// alpha 1).
pub fn apply_accuracy<'a>(
    points: impl IntoIterator<Item = &'a mut Point>,
    figures: &[(f64, usize, f64)],
) {
    for p in points {
        p.top1 = figures
            .iter()
            .find(|(a, r, _)| *a == p.alpha.unwrap_or(1.0) && *r == p.res)
            .map(|f| f.2);
    }
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
