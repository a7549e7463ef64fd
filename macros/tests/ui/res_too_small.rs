mnetc_macros::mobilenet!(alpha = 0.5, res = 8);
fn main() {}
