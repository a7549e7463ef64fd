//! Quantized (int8) models: the reference interpreter computes them in integers
//! (`passes::quantize`) and must agree with onnxruntime's integer kernels by the int8 issue's
//! rule (`check_quantized`: 99% of the outputs within one output quantization step, all within
//! four, the same top-1), and today to the bit.

use mnetc::Options;
use mnetc::codegen::{CodegenOptions, Target};
use mnetc_tests::{
    all_fixtures, check_quantized, is_quantized, output_step, quantized_expected, read_f32,
};
use std::path::Path;

#[test]
fn quantized_models_match_onnxruntime_within_one_step() {
    let fixtures: Vec<_> = all_fixtures().into_iter().filter(is_quantized).collect();
    assert!(fixtures.len() >= 2, "int8 fixtures missing");
    let mut failures = Vec::new();
    for f in &fixtures {
        let bytes = std::fs::read(&f.onnx).unwrap();
        let graph = match mnetc::frontend_bytes(&bytes, Path::new(&f.name), &Options::default()) {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!("{}: {e}", f.name));
                continue;
            }
        };
        let step = output_step(&graph).expect("a dequantized output");
        let shape = graph.shape(graph.input.value).unwrap().to_vec();
        for (input, expected) in &f.cases {
            let x = mnetc::ir::Tensor::f32(shape.clone(), read_f32(input));
            let y = mnetc::interp::run(&graph, &x).unwrap()[0].to_f32();
            let want = read_f32(&quantized_expected(f, expected));
            match check_quantized(&y, &want, step) {
                Ok((within, worst)) => {
                    eprintln!(
                        "{} {}: {:.2}% within one step, worst {worst:.2} steps",
                        f.name,
                        input.display(),
                        100.0 * within
                    );
                    // Stricter than the rule: the same requantization as onnxruntime's integer
                    // kernels, the same bits.
                    if y != want {
                        failures.push(format!(
                            "{} {}: not onnxruntime's bits",
                            f.name,
                            input.display()
                        ));
                    }
                }
                Err(e) => failures.push(format!("{} {}: {e}", f.name, input.display())),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Generated code for every int8 fixture on the targets that run here natively (generic, and
/// avx2 and avx512 when the CPU has them): onnxruntime's bits, on one and on two threads.
/// (`cross_targets.rs` runs the repository's int8 fixtures on neon and rvv under QEMU.)
#[test]
fn generated_int8_code_gives_onnxruntime_bits_on_the_native_targets() {
    let fixtures: Vec<_> = all_fixtures().into_iter().filter(is_quantized).collect();
    let targets: Vec<Target> = Target::all().filter(|t| t.runs_here()).collect();
    assert!(targets.contains(&Target::GENERIC));
    let mut checked = 0;
    for f in &fixtures {
        let bytes = std::fs::read(&f.onnx).unwrap();
        for &target in &targets {
            let codegen = CodegenOptions {
                target,
                ..Default::default()
            };
            let generated =
                mnetc::compile_bytes(&bytes, &f.onnx, &Options::default(), &codegen).unwrap();
            let mut runner = mnetc_cli::verify::build(&generated, target).unwrap();
            for (input, expected) in &f.cases {
                let want = read_f32(&quantized_expected(f, expected));
                for threads in [1, 2] {
                    runner.set_threads(threads);
                    let (y, _) = runner.run(&read_f32(input), None).unwrap();
                    assert!(
                        y == want,
                        "{} on {target}, {threads} threads: not onnxruntime's bits",
                        f.name
                    );
                    checked += 1;
                }
            }
        }
    }
    eprintln!("{checked} runs of int8 generated code gave onnxruntime's bits");
    assert!(checked >= 2 * 3 * targets.len());
}
