//! Compiles the example MobileNet description (0.5 width, 160x160, random weights) into
//! `OUT_DIR/mobilenet.rs` and `OUT_DIR/mobilenet.weights`.

fn main() -> Result<(), mnetc::Error> {
    mnetc::Builder::new()
        .name("mobilenet")
        .compile("../mobilenet_v1_0.5_160.json")?;
    Ok(())
}
