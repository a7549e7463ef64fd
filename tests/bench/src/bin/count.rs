//! Work, not time, for the architectures this machine only emulates: runs one model's forward
//! pass `--runs` times with mnetc's generated code (the target this binary was built for) or
//! with tract, so that `count.sh` can count the instructions QEMU executes. `--engine check`
//! runs both once and asserts that their outputs agree.
//!
//! `count [--model LABEL] [--engine mnetc|tract|check] [--runs N]`

use mnetc_bench::{MODELS, input_for, max_abs_diff, tract_model};
use tract_onnx::prelude::*;

fn main() -> TractResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if args.iter().any(|a| a == "--list") {
        for e in MODELS {
            println!("{} {}", e.label, e.macs);
        }
        return Ok(());
    }
    let label = arg("--model").unwrap_or_else(|| "0.25_128".into());
    let engine = arg("--engine").unwrap_or_else(|| "mnetc".into());
    let runs: usize = arg("--runs").map_or(1, |r| r.parse().expect("--runs N"));
    let entry = MODELS
        .iter()
        .find(|e| e.label == label)
        .unwrap_or_else(|| panic!("no model {label}"));
    let x = input_for(entry);
    let input =
        || -> TractResult<TValue> { Ok(Tensor::from_shape(entry.input_shape, &x)?.into_tvalue()) };
    match engine.as_str() {
        "mnetc" => {
            let mut m = (entry.new)();
            m.set_input(&x);
            for _ in 0..runs {
                m.run();
            }
            println!("{label}: mnetc ({}) ran {runs} times", mnetc_bench::TARGET);
        }
        "tract" => {
            let model = tract_model(entry)?;
            for _ in 0..runs {
                model.run(tvec!(input()?))?;
            }
            println!("{label}: tract ran {runs} times");
        }
        "check" => {
            let mut m = (entry.new)();
            m.set_input(&x);
            m.run();
            let t = tract_model(entry)?.run(tvec!(input()?))?;
            let t: Vec<f32> = t[0].to_plain_array_view::<f32>()?.iter().copied().collect();
            let scale = t.iter().fold(1f32, |a, v| a.max(v.abs()));
            let diff = max_abs_diff(m.output(), &t);
            assert!(
                t.len() == m.output().len() && diff <= 1e-4 * scale,
                "{label}: mnetc ({}) and tract disagree by {diff}",
                mnetc_bench::TARGET
            );
            println!(
                "{label}: mnetc ({}) and tract agree (max abs difference {diff:.2e})",
                mnetc_bench::TARGET
            );
        }
        other => panic!("unknown engine {other}"),
    }
    Ok(())
}
