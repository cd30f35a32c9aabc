//! The README's Bevy parts are real: the command's arguments parse with the client's own
//! parser, and the snippet is the crate example that rustdoc compiles.

use std::process::Command;

const README: &str = include_str!("../../README.md");

#[test]
fn the_readme_bevy_command_parses() {
    let span = README
        .split('`')
        .skip(1)
        .step_by(2)
        .find(|s| s.contains("-p client-bevy --"))
        .expect("a client-bevy command in the README");
    let args: Vec<&str> =
        span.split(" -- ").nth(1).expect("arguments after --").split_whitespace().collect();
    let out = Command::new(env!("CARGO_BIN_EXE_client-bevy"))
        .args(&args)
        .arg("--help")
        .output()
        .expect("run the game");
    assert!(
        out.status.success(),
        "README: `{span}` does not parse:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The README's Bevy snippet is the crate docs' example, which rustdoc compiles (`cargo test
/// --doc`), so the README cannot show code that does not build.
#[test]
fn the_readme_bevy_snippet_is_the_compiled_crate_example() {
    let section = README.split("### Your game in Bevy").nth(1).expect("the README's Bevy section");
    let snippet = section
        .split("```rust\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a rust block in the Bevy section");
    let lib = include_str!("../src/lib.rs");
    let docs: String = lib
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| l.strip_prefix("//! ").unwrap_or(l.trim_start_matches("//!")))
        .fold(String::new(), |acc, l| acc + l + "\n");
    let example = docs
        .split("```no_run\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a no_run example in the crate docs");
    assert_eq!(
        snippet, example,
        "README.md's Bevy snippet differs from client-bevy's crate example"
    );
}
