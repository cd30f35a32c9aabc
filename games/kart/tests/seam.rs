//! The seam: a game is written against Tickwire's public crates only. This crate, the arena
//! and tag depend on `tickwire-protocol` and `tickwire-sim` and on no other Tickwire crate
//! (not the server, the client or the bots; their tests may), and their code names no other.

use std::path::Path;

const PUBLIC: [&str; 2] = ["tickwire-protocol", "tickwire-sim"];

/// The `[dependencies]` names of a manifest.
fn dependencies(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == "[dependencies]";
        } else if inside && !line.is_empty() && !line.starts_with('#') {
            names.extend(line.split(['=', '.', ' ']).next().map(str::to_owned));
        }
    }
    names
}

fn sources(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(std::fs::read_to_string(&path).expect("readable"));
        }
    }
}

#[test]
fn the_games_depend_only_on_the_public_crates() {
    let games =
        Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
            .join("..");
    for game in ["kart", "arena", "tag"] {
        let dir = games.join(game);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("a manifest");
        let deps = dependencies(&manifest);
        assert!(PUBLIC.iter().all(|p| deps.iter().any(|d| d == p)), "{game}: {deps:?}");
        let tickwire: Vec<&String> = deps.iter().filter(|d| d.starts_with("tickwire")).collect();
        assert_eq!(tickwire, PUBLIC, "{game} depends on another Tickwire crate");
        let mut code = Vec::new();
        sources(&dir.join("src"), &mut code);
        for crate_name in ["tickwire_server", "tickwire_client", "tickwire_bots"] {
            assert!(code.iter().all(|c| !c.contains(crate_name)), "{game} names {crate_name}");
        }
    }
}
