//! Charts of timings as SVG (plotters' SVG backend: no fonts or bitmaps needed; the file names
//! its fonts). `mnetc sweep`'s chart is in [`crate::sweep`].

use mnetc::Error;

/// One kernel call's time.
pub struct Bar<'a> {
    /// The kernel kind (`gemm`, `dwconv`, ...): the bar's colour.
    pub kernel: &'a str,
    /// Microseconds.
    pub us: f64,
}

/// `mnetc bench --per-layer --svg`: a bar per kernel call, in order, its height the call's mean
/// time, coloured by kernel kind, with a legend of the kinds and their share of the total.
pub fn layers_svg(bars: &[Bar], title: &str) -> Result<String, Error> {
    use plotters::prelude::*;
    let fail = |e: &dyn std::fmt::Display| Error::Internal(format!("drawing the chart: {e}"));
    let mut kinds: Vec<&str> = Vec::new();
    for b in bars {
        if !kinds.contains(&b.kernel) {
            kinds.push(b.kernel);
        }
    }
    let total: f64 = bars.iter().map(|b| b.us).sum::<f64>().max(1e-9);
    let top = bars.iter().map(|b| b.us).fold(0.0, f64::max).max(1e-3) * 1.1;
    let width = (bars.len() as u32 * 14 + 160).clamp(640, 1600);
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (width, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..bars.len().max(1) as f64, 0f64..top)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_label_formatter(&|x| format!("{}", *x as usize))
            .x_desc("kernel call")
            .y_desc("mean time (us)")
            .draw()
            .map_err(|e| fail(&e))?;
        for (k, kind) in kinds.iter().enumerate() {
            let color = Palette99::pick(k).to_rgba();
            let share: f64 = bars
                .iter()
                .filter(|b| b.kernel == *kind)
                .map(|b| b.us)
                .sum();
            chart
                .draw_series(
                    bars.iter()
                        .enumerate()
                        .filter(|(_, b)| b.kernel == *kind)
                        .map(|(i, b)| {
                            Rectangle::new(
                                [(i as f64 + 0.1, 0.0), (i as f64 + 0.9, b.us)],
                                color.filled(),
                            )
                        }),
                )
                .map_err(|e| fail(&e))?
                .label(format!("{kind} ({:.1}%)", 100.0 * share / total))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.85))
            .draw()
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(text)
}
