//! The README's Bevy command is real: its arguments parse with the game's own parser.

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
