//! The README's bots commands are real: the full command line and every flag example in its
//! "Bots" bullet parse with the binary's own argument parser.

use std::process::Command;

const README: &str = include_str!("../../README.md");
const BIN: &str = env!("CARGO_BIN_EXE_tickwire-bots");

#[test]
fn the_readme_bots_commands_parse() {
    let bullet = README.lines().find(|l| l.contains("**Bots**")).expect("a Bots bullet");
    let start = README.find(bullet).expect("bullet position");
    let end = README[start..].find("\n- **").map_or(README.len(), |e| start + e);
    let text = &README[start..end];
    let help = Command::new(BIN).arg("--help").output().expect("run the bots");
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let mut checked = 0;
    for span in text.split('`').skip(1).step_by(2) {
        let words: Vec<&str> = span.split_whitespace().collect();
        let args: Vec<&str> = match words.iter().position(|w| *w == "--") {
            Some(at) if span.contains("-p tickwire-bots") => words[at + 1..].to_vec(),
            _ if span.starts_with("--") && !span.contains('|') => words,
            _ => continue,
        };
        if let [flag] = args.as_slice() {
            assert!(
                help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
                "README names unknown `{flag}`"
            );
        } else {
            let out = Command::new(BIN).args(&args).arg("--help").output().expect("run the bots");
            assert!(
                out.status.success(),
                "README: `{span}` does not parse:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} bots snippets found in {text}");
}
