mnetc_macros::mobilenet!(alpha = 1.5, res = 128);
fn main() {}
