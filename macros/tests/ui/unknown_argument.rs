mnetc_macros::mobilenet!(alpha = 0.5, res = 128, depth = 3);
fn main() {}
