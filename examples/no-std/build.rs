//! A small network for a microcontroller-sized budget: the example description at width 0.25
//! and 96x96.

fn main() -> Result<(), mnetc::Error> {
    mnetc::Builder::new()
        .alpha(0.25)
        .resolution(96)
        .name("tiny")
        .compile("../mobilenet_v1_0.5_160.json")?;
    Ok(())
}
