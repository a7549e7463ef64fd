mnetc_macros::mobilenet!(alpha = 0.25, res = 128, classes = 10, weights = "ui-inputs/v1_0.25_128.onnx");
fn main() {}
