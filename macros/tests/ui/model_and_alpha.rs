mnetc_macros::mobilenet!(model = "ui-inputs/v1_0.5_160.json", alpha = 0.5);
fn main() {}
