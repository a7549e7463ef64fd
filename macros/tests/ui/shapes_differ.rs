mnetc_macros::mobilenet!(alpha = 0.5, res = 128, weights = "ui-inputs/v1_0.25_128.onnx");
fn main() {}
