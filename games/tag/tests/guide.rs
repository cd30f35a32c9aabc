//! The guide (`docs/write-a-game.md`) stays true to the code:
//!
//! - it quotes the whole of `src/lib.rs` and of `examples/serve.rs`, each in a ```rust block;
//! - a ```rust block whose first line is `// PATH (excerpt)` is a verbatim excerpt of `PATH`;
//! - every `cargo run|test|build` command it shows names a workspace package (`-p`), and that
//!   package's `--example` or `--test` target;
//! - the arguments it passes to the tag server and to the bots parse as their flags, every tag
//!   server it starts binds (with its `--game-config`), and a `/rules.json` it quotes is what
//!   one of those servers serves.

use std::path::{Path, PathBuf};

use clap::Parser as _;
use tickwire_server::{Server, ServerConfig};
use tickwire_tag::{Tag, TagConfig};

/// This crate's directory (read when the test runs: a test binary built in another checkout
/// must not read that one's files).
fn crate_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
}

/// The repository's root.
fn root() -> PathBuf {
    crate_dir().join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn guide() -> String {
    read(&root().join("docs/write-a-game.md"))
}

/// The contents of the guide's ```rust blocks, each line ending with a newline.
fn rust_blocks(guide: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in guide.lines() {
        match current.as_mut() {
            None if line.trim() == "```rust" => current = Some(String::new()),
            None => {}
            Some(_) if line.trim() == "```" => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    assert!(current.is_none(), "a ```rust block is not closed");
    blocks
}

#[test]
fn the_guide_quotes_the_whole_game_and_its_host() {
    let blocks = rust_blocks(&guide());
    for file in ["src/lib.rs", "examples/serve.rs"] {
        let code = read(&crate_dir().join(file));
        assert!(
            blocks.contains(&code),
            "docs/write-a-game.md has no ```rust block with exactly games/tag/{file}"
        );
    }
}

#[test]
fn the_guide_s_excerpts_are_in_their_files() {
    let mut excerpts = 0;
    for block in rust_blocks(&guide()) {
        let (first, rest) = block.split_once('\n').unwrap_or((&block, ""));
        let Some(path) = first.strip_prefix("// ").and_then(|l| l.strip_suffix(" (excerpt)"))
        else {
            continue;
        };
        let file = read(&root().join(path));
        assert!(file.contains(rest), "the guide's excerpt of {path} is not in it:\n{rest}");
        excerpts += 1;
    }
    assert!(excerpts > 0, "the guide quotes tests/play.rs");
}

/// The workspace's packages: name and directory.
fn packages() -> Vec<(String, PathBuf)> {
    let manifest = read(&root().join("Cargo.toml"));
    let start = manifest.find("\nmembers = [").expect("a workspace members list");
    let list = &manifest[start..];
    let list = &list[..list.find(']').expect("a closed members list")];
    list.split('"')
        .skip(1)
        .step_by(2)
        .map(|dir| {
            let dir = root().join(dir);
            let member = read(&dir.join("Cargo.toml"));
            let name = member
                .lines()
                .find_map(|l| l.trim().strip_prefix("name = "))
                .expect("a package name")
                .trim_matches('"')
                .to_owned();
            (name, dir)
        })
        .collect()
}

/// `line` split into words as a shell would: whitespace separates, quotes group (and are
/// removed), an unquoted `#` starts a comment.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, '#') if word.is_none() => break,
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

/// A `cargo` command of the guide.
#[derive(Debug, Default)]
struct Cargo {
    line: String,
    package: Option<String>,
    example: Option<String>,
    test: Option<String>,
    /// The program's arguments (after `--`).
    args: Vec<String>,
}

/// Every `cargo run|test|build` command in the guide, in code blocks or inline code.
fn cargo_commands(guide: &str) -> Vec<Cargo> {
    let mut commands = Vec::new();
    for line in guide.lines() {
        let mut rest = line;
        while let Some(at) = rest.find("cargo ") {
            let tail = &rest[at..];
            let end = tail.find('`').unwrap_or(tail.len());
            rest = &tail[end..];
            let words = shell_words(&tail[..end]);
            if !matches!(words.get(1).map(String::as_str), Some("run" | "test" | "build")) {
                continue;
            }
            let mut command = Cargo { line: tail[..end].to_owned(), ..Cargo::default() };
            let mut words = words.into_iter().skip(2);
            while let Some(word) = words.next() {
                match word.as_str() {
                    "-p" | "--package" => command.package = words.next(),
                    "--example" => command.example = words.next(),
                    "--test" => command.test = words.next(),
                    "--" => {
                        command.args = words.by_ref().collect();
                    }
                    _ => {}
                }
            }
            commands.push(command);
        }
    }
    commands
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_of_the_guide_names_real_packages_targets_and_flags() {
    let guide = guide();
    let packages = packages();
    let commands = cargo_commands(&guide);
    let mut rules = Vec::new();
    for c in &commands {
        let line = &c.line;
        let package = c.package.as_deref().unwrap_or_else(|| panic!("`{line}`: no -p PACKAGE"));
        let dir = packages
            .iter()
            .find(|(name, _)| name == package)
            .map(|(_, dir)| dir)
            .unwrap_or_else(|| panic!("`{line}`: no workspace package `{package}`"));
        if let Some(example) = &c.example {
            let found = dir.join(format!("examples/{example}.rs")).is_file()
                || dir.join(format!("examples/{example}/main.rs")).is_file();
            assert!(found, "`{line}`: {package} has no example `{example}`");
        }
        if let Some(test) = &c.test {
            let found = dir.join(format!("tests/{test}.rs")).is_file();
            assert!(found, "`{line}`: {package} has no test `{test}`");
        }
        match (package, c.example.as_deref()) {
            ("tickwire-tag", Some("serve")) => {
                let args = std::iter::once("serve".to_owned()).chain(c.args.iter().cloned());
                let mut config = match ServerConfig::try_parse_from(args) {
                    Ok(config) => config,
                    Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => continue,
                    Err(e) => panic!("`{line}`: {e}"),
                };
                config.addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
                let server = Server::builder(config)
                    .game::<Tag>(TagConfig::default())
                    .spawn()
                    .await
                    .unwrap_or_else(|e| panic!("`{line}`: {e:#}"));
                rules.extend(server.handle.game("tag").map(|g| g.rules_json.clone()));
                server.stop().await.expect("stops");
            }
            ("tickwire-bots", None) => {
                let args = std::iter::once("tickwire-bots".to_owned()).chain(c.args.clone());
                let bots = tickwire_bots::Args::try_parse_from(args)
                    .unwrap_or_else(|e| panic!("`{line}`: {e}"));
                bots.swarm_config().unwrap_or_else(|e| panic!("`{line}`: {e:#}"));
            }
            _ => assert!(c.args.is_empty(), "`{line}`: arguments this test cannot check"),
        }
    }
    let serves = commands.iter().filter(|c| c.example.as_deref() == Some("serve")).count();
    let bots = commands.iter().filter(|c| c.package.as_deref() == Some("tickwire-bots")).count();
    assert!(serves > 0 && bots > 0, "the guide hosts tag and plays it with the bots");
    for (at, _) in guide.match_indices("{\"config\":") {
        let quoted = &guide[at..];
        let quoted = &quoted[..quoted.find('`').expect("inline code")];
        assert!(
            rules.iter().any(|r| r == quoted),
            "the guide's {quoted} is not what its servers serve: {rules:?}"
        );
    }
}

#[test]
fn shell_words_split_as_a_shell_does() {
    let words = shell_words(r#"cargo run -- --game-config 'tag={"size":300}' --seed 7 # note"#);
    assert_eq!(
        words,
        ["cargo", "run", "--", "--game-config", r#"tag={"size":300}"#, "--seed", "7"]
    );
}
