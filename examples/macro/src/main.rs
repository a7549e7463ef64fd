//! `cargo run -p mnetc-example-macro [INPUT.f32]`: runs the macro-built MobileNet on the
//! fixture's input (or a raw little-endian f32 NCHW file) and prints the five top classes.

use mnetc_example_macro::{classify, net};

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/mobilenet_v1_0.25_128_bn.input.f32"
        )
        .into()
    });
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(2);
        }
    };
    let x: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let Ok(input) = <Box<[f32; net::INPUT_LEN]>>::try_from(x.into_boxed_slice()) else {
        eprintln!("{path}: expected {} floats", net::INPUT_LEN);
        std::process::exit(2);
    };
    let y = classify(&input);
    let mut order: Vec<usize> = (0..y.len()).collect();
    order.sort_by(|&a, &b| y[b].total_cmp(&y[a]));
    println!(
        "MobileNet v1 0.25-128 (mobilenet! inline), top 5 of {} classes:",
        y.len()
    );
    for &i in &order[..5] {
        println!("  class {i:4}  logit {:.4}", y[i]);
    }
}
