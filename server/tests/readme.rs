//! The README's server commands are real: every `tickwire-server` command line and flag example
//! it shows parses, and its `mint-token` example mints a token the server accepts.

use std::process::Command;

const README: &str = include_str!("../../README.md");
const BIN: &str = env!("CARGO_BIN_EXE_tickwire-server");

/// Inline code spans and code-block lines of the README.
fn snippets() -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block = false;
    for line in README.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            out.push(line.split(" #").next().unwrap_or(line).trim().to_owned());
            continue;
        }
        out.extend(line.split('`').skip(1).step_by(2).map(str::to_owned));
    }
    out
}

/// The server arguments a snippet shows, if it is a server command or a flag example.
fn server_args(snippet: &str, in_hosting: bool) -> Option<Vec<String>> {
    let words: Vec<String> = snippet.split_whitespace().map(str::to_owned).collect();
    if let Some(at) = words.iter().position(|w| w == "tickwire-server") {
        let rest = &words[at + 1..];
        return Some(match rest.first().map(String::as_str) {
            Some("--") => rest[1..].to_vec(),
            _ => rest.to_vec(),
        });
    }
    (in_hosting && snippet.starts_with("--") && !snippet.contains('|')).then_some(words)
}

#[test]
fn every_server_command_in_the_readme_parses() {
    let hosting = README.find("## Hosting").expect("a Hosting section");
    let hosting_end = README[hosting..].find("\n## ").map_or(README.len(), |e| hosting + e);
    let hosting_text = &README[hosting..hosting_end];
    let help = Command::new(BIN).arg("--help").output().expect("run the server binary");
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let mut checked = 0;
    for s in snippets() {
        let in_hosting = hosting_text.contains(&format!("`{s}`"));
        let Some(args) = server_args(&s, in_hosting) else { continue };
        if let [flag] = args.as_slice() {
            // A flag named on its own: it must exist.
            assert!(
                help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
                "README names `{flag}`, which --help does not list"
            );
            checked += 1;
            continue;
        }
        let out =
            Command::new(BIN).args(&args).arg("--help").output().expect("run the server binary");
        assert!(
            out.status.success(),
            "README: `{s}` does not parse:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} server snippets found");
}

#[test]
fn the_readme_mint_token_example_mints_a_valid_token() {
    let snippet =
        snippets().into_iter().find(|s| s.contains("mint-token")).expect("a mint-token example");
    let args = server_args(&snippet, false).expect("a server command");
    let secret =
        args.windows(2).find(|w| w[0] == "--secret").map(|w| w[1].clone()).expect("--secret");
    let out = Command::new(BIN).args(&args).output().expect("run mint-token");
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).expect("utf-8");
    let mut keys = tickwire_server::auth::KeySet::default();
    keys.add_secret(secret.as_bytes()).expect("a secret");
    let verifier = tickwire_server::auth::Verifier::new(
        keys,
        vec![tickwire_server::auth::DEFAULT_AUDIENCE.into()],
        tickwire_server::auth::DEFAULT_LEEWAY_SECS,
    );
    let claims = verifier.decode(token.trim()).expect("a valid token");
    assert_eq!(claims.room, "lobby");
}
