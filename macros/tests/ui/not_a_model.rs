mnetc_macros::mobilenet!(alpha = 0.25, res = 128, weights = "ui-inputs/not_a_model.onnx");
fn main() {}
