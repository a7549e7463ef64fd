mnetc_macros::mobilenet!(name = net);
fn main() {}
