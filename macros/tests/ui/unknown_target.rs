mnetc_macros::mobilenet!(alpha = 0.5, res = 128, target = z80);
fn main() {}
