mnetc_macros::mobilenet!(alpha = 0.5, res = 128, arch = v3_small, relu6 = true);
fn main() {}
