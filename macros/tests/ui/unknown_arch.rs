mnetc_macros::mobilenet!(alpha = 0.5, res = 128, arch = v4);
fn main() {}
