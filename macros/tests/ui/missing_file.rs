mnetc_macros::mobilenet!(alpha = 0.25, res = 128, weights = "no/such/model.onnx");
fn main() {}
