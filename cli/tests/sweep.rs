//! `mnetc sweep`: a 2 x 2 sweep on the generic target writes a table, JSON and a chart whose
//! counts match an independent count of MobileNet v1's multiply-adds and parameters, with
//! times; the paper's 4 x 4 grid (compiled, not built) matches the paper's Tables 6 and 7; bad
//! requests stop with one message before anything is built; `mnetc bench --per-layer --svg`
//! draws a bar per kernel call.

use mnetc_cli::sweep::{Request, compile};
use std::path::PathBuf;
use std::process::{Command, Output};

fn mnetc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mnetc"))
        .args(args)
        .output()
        .expect("run mnetc")
}

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mnetc-sweep-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// MobileNet v1's multiply-adds and parameters counted from the paper's Table 1, apart from
/// mnetc: TF-slim's channel rule `max(int(c * alpha), 8)`, "same" padding, conv weights and a
/// bias per output channel (the BatchNorm folded into them), the classifier's weights and
/// biases.
fn v1_counts(alpha: f64, res: usize) -> (u64, u64) {
    let ch = |c: f64| ((c * alpha) as u64).max(8);
    let out = |size: u64, stride: u64| size.div_ceil(stride);
    let mut size = out(res as u64, 2);
    let mut c_in = ch(32.0);
    let mut macs = size * size * 27 * c_in;
    let mut params = 27 * c_in + c_in;
    let blocks = [
        (64, 1),
        (128, 2),
        (128, 1),
        (256, 2),
        (256, 1),
        (512, 2),
        (512, 1),
        (512, 1),
        (512, 1),
        (512, 1),
        (512, 1),
        (1024, 2),
        (1024, 1),
    ];
    for (c, stride) in blocks {
        size = out(size, stride);
        let c_out = ch(c as f64);
        macs += size * size * (9 * c_in + c_in * c_out);
        params += 9 * c_in + c_in + c_in * c_out + c_out;
        c_in = c_out;
    }
    (macs + c_in * 1000, params + c_in * 1000 + 1000)
}

#[test]
fn the_counts_of_the_papers_grid_match_its_tables() {
    let alphas = [1.0, 0.75, 0.5, 0.25];
    let resolutions = [224, 192, 160, 128];
    let request = Request {
        arch: mnetc::import::json::Arch::V1,
        model: None,
        alphas: &alphas,
        resolutions: &resolutions,
        target: mnetc::codegen::Target::GENERIC,
        threads: 1,
        runs: 1,
    };
    let compiled = compile(&request).unwrap();
    assert_eq!(compiled.len(), 16);
    for c in &compiled {
        let p = &c.point;
        let (macs, params) = v1_counts(p.alpha.unwrap(), p.res);
        let off = |got: u64, want: u64| (got as f64 - want as f64).abs() / want as f64;
        assert!(
            off(p.macs, macs) < 0.01,
            "{p:?}: {macs} multiply-adds counted"
        );
        assert!(
            off(p.params, params) < 0.01,
            "{p:?}: {params} parameters counted"
        );
    }
    // The paper's rounded figures (Table 6: width at 224; Table 7: resolution at width 1).
    let find = |a: f64, r: usize| {
        let p = &compiled
            .iter()
            .find(|c| c.point.alpha == Some(a) && c.point.res == r)
            .unwrap()
            .point;
        (p.macs as f64 / 1e6, p.params as f64 / 1e6)
    };
    for (a, r, macs) in [
        (1.0, 224, 569.0),
        (0.75, 224, 325.0),
        (0.5, 224, 149.0),
        (0.25, 224, 41.0),
        (1.0, 192, 418.0),
        (1.0, 160, 290.0),
        (1.0, 128, 186.0),
    ] {
        let got = find(a, r).0;
        assert!(
            (got - macs).abs() / macs < 0.01,
            "{a}-{r}: {got} M, paper {macs}"
        );
    }
    for (a, params) in [(1.0, 4.2), (0.75, 2.6), (0.5, 1.3), (0.25, 0.5)] {
        let got = find(a, 224).1;
        assert!(
            (got - params).abs() <= 0.05,
            "{a}: {got} M parameters, paper {params}"
        );
    }
}

#[test]
fn a_two_by_two_sweep_writes_its_table_json_and_chart() {
    let dir = out_dir("2x2");
    std::fs::create_dir_all(&dir).unwrap();
    let accuracy = dir.join("top1.csv");
    std::fs::write(
        &accuracy,
        "alpha,res,top1\n0.5,64,60.5\n# a comment\n0.25,32,40\n",
    )
    .unwrap();
    let out = mnetc(&[
        "sweep",
        "--accuracy",
        accuracy.to_str().unwrap(),
        "--alpha",
        "0.5,0.25",
        "--res",
        "64,32",
        "--target",
        "generic",
        "--runs",
        "5",
        "-o",
        dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pairs = [(0.5, 64), (0.5, 32), (0.25, 64), (0.25, 32)];

    let json: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(json.len(), pairs.len());
    for (row, (alpha, res)) in json.iter().zip(pairs) {
        assert_eq!(row["alpha"].as_f64(), Some(alpha));
        assert_eq!(row["res"].as_u64(), Some(res as u64));
        let (macs, params) = v1_counts(alpha, res);
        assert_eq!(row["macs"].as_u64(), Some(macs), "{row}");
        assert_eq!(row["params"].as_u64(), Some(params), "{row}");
        let (median, min) = (
            row["median_ns"].as_u64().unwrap(),
            row["min_ns"].as_u64().unwrap(),
        );
        assert!(min > 0 && min <= median, "{row}");
        let gflops = row["gflops"].as_f64().unwrap();
        assert!(
            (gflops - 2.0 * macs as f64 / median as f64).abs() < 1e-9,
            "{row}"
        );
        assert!(row["weight_bytes"].as_u64().unwrap() >= 4 * params);
        let top1 = match (alpha, res) {
            (0.5, 64) => Some(60.5),
            (0.25, 32) => Some(40.0),
            _ => None,
        };
        assert_eq!(row["top1"].as_f64(), top1, "{row}");
    }

    // The table (printed and written): a row per pair, in order, with its counts and times.
    let table = std::fs::read_to_string(dir.join("sweep.md")).unwrap();
    assert!(stdout.contains(&table), "{stdout}");
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| 0.")).collect();
    assert_eq!(rows.len(), pairs.len(), "{table}");
    for (line, (row, (alpha, res))) in rows.iter().zip(json.iter().zip(pairs)) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        assert_eq!(cells[1], alpha.to_string());
        assert_eq!(cells[2], res.to_string());
        let macs = row["macs"].as_u64().unwrap() as f64 / 1e6;
        assert_eq!(cells[3], format!("{macs:.1}"));
        let median = row["median_ns"].as_u64().unwrap() as f64 / 1e6;
        assert_eq!(cells[7], format!("{median:.3}"));
        let top1 = row["top1"]
            .as_f64()
            .map_or("-".to_string(), |t| t.to_string());
        assert_eq!(cells[10], top1);
    }

    // The chart: XML, a point per pair, labelled with its resolution, a line per alpha; and a
    // point per pair with a top-1 figure in the top-1 against latency panel.
    let svg = std::fs::read_to_string(dir.join("sweep.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let circles = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .count();
    assert_eq!(circles, pairs.len() + 2);
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect();
    for label in [
        "64",
        "32",
        "alpha 0.5",
        "alpha 0.25",
        "million multiply-adds",
    ] {
        assert!(
            texts.iter().filter(|t| *t == label).count() >= 1,
            "no '{label}' in {texts:?}"
        );
    }
    assert_eq!(texts.iter().filter(|t| *t == "64").count(), 3, "{texts:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_requests_stop_before_anything_is_built() {
    for (args, message) in [
        (
            vec!["--arch", "v4"],
            "unknown architecture 'v4'; expected v1, v2, v3-small or v3-large",
        ),
        (vec!["--alpha", "1.4"], "alpha 1.4 is outside (0, 1]"),
        (
            vec!["--arch", "v2", "--alpha", "1.4,1.5"],
            "alpha 1.5 is outside (0, 1.4]",
        ),
        (
            vec!["--alpha", "0.25", "--res", "8"],
            "alpha 0.25, resolution 8:",
        ),
        (vec!["--target", "avx9"], "unknown target"),
    ] {
        let dir = out_dir("bad");
        let mut all = vec!["sweep", "-o", dir.to_str().unwrap()];
        all.extend(&args);
        let start = std::time::Instant::now();
        let out = mnetc(&all);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        // One message (clap adds its usual pointer to --help).
        assert_eq!(stderr.matches("error").count(), 1, "{args:?}: {stderr}");
        assert!(!dir.exists(), "{args:?} wrote {}", dir.display());
        assert!(
            start.elapsed().as_secs() < 30,
            "{args:?} took {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn bench_draws_a_bar_per_kernel_call() {
    let dir = out_dir("layers");
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("layers.svg");
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/mobilenet_v1_0.25_128_bn.onnx");
    let out = mnetc(&[
        "bench",
        model.to_str().unwrap(),
        "--runs",
        "3",
        "--per-layer",
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The table's rows: "  i  kernel  M MACs  us ...".
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|c| c.len() > 5 && c[0].parse::<usize>().is_ok())
        .collect();
    assert!(rows.len() > 20, "{stdout}");
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    // The background, a bar per call (as wide as a call's slot), a swatch per kind, the legend.
    let bars = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect"))
        .filter(|n| n.attribute("fill") != Some("#FFFFFF") && n.attribute("fill") != Some("none"))
        .count();
    let mut kinds: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(bars, rows.len() + kinds.len(), "{text}");
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect();
    for kind in kinds {
        assert!(
            texts.iter().any(|t| t.starts_with(&format!("{kind} ("))),
            "no legend for {kind}: {texts:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Ctrl-C in the middle of the timing leaves whole files with the rounds timed so far.
#[test]
fn an_interrupted_sweep_leaves_the_rows_timed_so_far() {
    let dir = out_dir("interrupted");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mnetc"))
        .args([
            "sweep", "--alpha", "0.25", "--res", "32,40", "--target", "generic",
        ])
        .args(["--runs", "1000000", "-o", dir.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let json = dir.join("sweep.json");
    let timed = |text: &str| {
        serde_json::from_str::<Vec<serde_json::Value>>(text)
            .is_ok_and(|rows| rows.iter().all(|r| r["median_ns"].as_u64().is_some()))
    };
    let start = std::time::Instant::now();
    loop {
        let text = std::fs::read_to_string(&json).unwrap_or_default();
        // Counts first (no times yet), then times every tenth round.
        if timed(&text) {
            break;
        }
        assert!(
            start.elapsed().as_secs() < 120,
            "no times after two minutes: {text}"
        );
        assert!(child.try_wait().unwrap().is_none(), "the sweep ended");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(!status.success());
    let text = std::fs::read_to_string(&json).unwrap();
    assert!(timed(&text), "{text}");
    let table = std::fs::read_to_string(dir.join("sweep.md")).unwrap();
    assert_eq!(
        table.lines().filter(|l| l.starts_with("| 0.25 |")).count(),
        2
    );
    roxmltree::Document::parse(&std::fs::read_to_string(dir.join("sweep.svg")).unwrap()).unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--model`: an ONNX export re-specialised at each resolution (the v1 0.25 fixture, whose
/// counts at any resolution are v1's at 0.25).
#[test]
fn a_model_file_is_swept_over_resolutions() {
    let dir = out_dir("model");
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/mobilenet_v1_0.25_128_bn.onnx");
    let out = mnetc(&[
        "sweep",
        "--model",
        model.to_str().unwrap(),
        "--res",
        "96,64",
        "--target",
        "generic",
        "--runs",
        "3",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(rows.len(), 2);
    for (row, res) in rows.iter().zip([96, 64]) {
        assert!(row["alpha"].is_null(), "{row}");
        assert_eq!(row["res"].as_u64(), Some(res));
        let (macs, params) = v1_counts(0.25, res as usize);
        assert_eq!(row["macs"].as_u64(), Some(macs), "{row}");
        assert_eq!(row["params"].as_u64(), Some(params), "{row}");
        assert!(row["median_ns"].as_u64().is_some(), "{row}");
    }
    let table = std::fs::read_to_string(dir.join("sweep.md")).unwrap();
    assert!(table.contains("| model | 96 |"), "{table}");
    let _ = std::fs::remove_dir_all(&dir);
}
