//! `cargo run --release -p mnetc-example-classify -- PHOTO...`: the top 5 ImageNet classes of
//! each photo, with probabilities.

use std::process::ExitCode;

fn main() -> ExitCode {
    let photos: Vec<String> = std::env::args().skip(1).collect();
    if photos.is_empty() {
        eprintln!("usage: classify PHOTO...");
        return ExitCode::from(2);
    }
    for photo in &photos {
        match mnetc_example_classify::classify(photo.as_ref(), 5) {
            Ok(classes) => {
                println!("{photo}");
                for c in classes {
                    println!("{:>6}  {:>7.4}  {}", c.index, c.probability, c.label);
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}
