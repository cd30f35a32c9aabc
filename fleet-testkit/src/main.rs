//! `tickwire-agones-mock` (being written).
fn main() {}
