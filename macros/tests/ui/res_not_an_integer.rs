mnetc_macros::mobilenet!(alpha = 0.5, res = 12.5);
fn main() {}
