//! Placeholder (the game binary comes next).
fn main() {}
