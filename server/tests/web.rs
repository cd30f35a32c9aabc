//! The embedded browser client: `/` and every module the page imports are served with the right
//! content type and caching headers, byte for byte as in `web/`; `/schema.json` describes the
//! schema the server checks hellos against; `/rules.json` holds the game's configuration.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;

use common::{WAIT, crate_dir, server, server_with, small_arena};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response: status code, lower-cased headers, body.
struct Got {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

async fn request(addr: SocketAddr, method: &str, path: &str, extra: &str) -> Got {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let req = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut raw)).await.expect("in time").expect("read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Got { status, headers, body: raw[split + 4..].to_vec() }
}

async fn get(addr: SocketAddr, path: &str) -> Got {
    request(addr, "GET", path, "").await
}

fn web_dir() -> PathBuf {
    crate_dir().join("..").join("web")
}

/// The local modules a file imports (`from './x.js'`, `import('./x.js')`, `src="/x.js"`), as
/// URL paths resolved against the file's own URL path.
fn imports(url_path: &str, text: &str) -> Vec<String> {
    let dir = &url_path[..=url_path.rfind('/').unwrap_or(0)];
    let mut out = Vec::new();
    for marker in ["from ", "import(", "src="] {
        for (at, _) in text.match_indices(marker) {
            let rest = &text[at + marker.len()..];
            let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') else {
                continue;
            };
            let Some(spec) = rest[1..].split(quote).next() else { continue };
            let relative = spec.starts_with("./") || spec.starts_with("../");
            if !(spec.ends_with(".js") && (relative || spec.starts_with('/'))) {
                continue;
            }
            let mut parts: Vec<&str> =
                if relative { dir.split('/').filter(|p| !p.is_empty()).collect() } else { vec![] };
            for p in spec.split('/').filter(|p| !p.is_empty()) {
                match p {
                    "." => {}
                    ".." => {
                        parts.pop();
                    }
                    p => parts.push(p),
                }
            }
            out.push(format!("/{}", parts.join("/")));
        }
    }
    out
}

#[tokio::test]
async fn the_page_and_every_module_it_imports_are_served() {
    let server = server(|_| {}).await;
    let addr = server.handle.addr();

    let page = get(addr, "/").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert!(page.header("content-security-policy").is_some_and(|p| p.contains("'self'")));
    let on_disk = std::fs::read(web_dir().join("index.html")).expect("web/index.html");
    assert_eq!(page.body, on_disk, "/ is web/index.html");
    assert_eq!(get(addr, "/index.html").await.body, on_disk);

    // Walk the import graph from the page: every module is served as JavaScript, identical to
    // its file, so that a module added to web/ but not to web.rs's table fails here.
    let mut seen = BTreeSet::new();
    let mut todo = imports("/", &String::from_utf8_lossy(&page.body));
    while let Some(path) = todo.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let got = get(addr, &path).await;
        assert_eq!(got.status, 200, "{path}");
        assert_eq!(got.header("content-type"), Some("text/javascript; charset=utf-8"), "{path}");
        assert_eq!(got.header("cache-control"), Some("no-cache"), "{path}");
        assert_eq!(got.header("x-content-type-options"), Some("nosniff"), "{path}");
        let file = web_dir().join(path.trim_start_matches('/'));
        assert_eq!(got.body, std::fs::read(&file).expect("the module's file"), "{path}");
        todo.extend(imports(&path, &String::from_utf8_lossy(&got.body)));
    }
    for module in ["/game.js", "/arena.js", "/sdk/client.js", "/sdk/codec.js", "/sdk/snapshot.js"] {
        assert!(seen.contains(module), "{module} not reached from / ({seen:?})");
    }
    // Every SDK file is embedded, imported by the page or not.
    for entry in std::fs::read_dir(web_dir().join("sdk")).expect("web/sdk") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        let got = get(addr, &format!("/sdk/{name}")).await;
        assert_eq!(got.status, 200, "/sdk/{name} is not served");
    }

    assert_eq!(get(addr, "/sdk/nope.js").await.status, 404);
    assert_eq!(get(addr, "/../Cargo.toml").await.status, 404);
    let head = request(addr, "HEAD", "/sdk/client.js", "").await;
    assert_eq!((head.status, head.body.len()), (200, 0));
    assert_eq!(request(addr, "POST", "/schema.json", "").await.status, 405);
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn revalidation_with_the_etag_is_a_304() {
    let server = server(|_| {}).await;
    let addr = server.handle.addr();
    for path in ["/", "/sdk/codec.js", "/schema.json", "/rules.json?game=arena", "/games"] {
        let first = get(addr, path).await;
        let etag = first.header("etag").unwrap_or_else(|| panic!("{path} has an ETag")).to_owned();
        let again = request(addr, "GET", path, &format!("If-None-Match: {etag}\r\n")).await;
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty(), "{path}");
        let stale = request(addr, "GET", path, "If-None-Match: \"0\"\r\n").await;
        assert_eq!(stale.status, 200, "{path}");
        assert_eq!(stale.body, first.body, "{path}");
    }
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn schema_json_describes_the_schema_hellos_are_checked_against() {
    let server = server(|_| {}).await;
    let got = get(server.handle.addr(), "/schema.json").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/json"));
    let json: serde_json::Value = serde_json::from_slice(&got.body).expect("JSON");
    let schema = <tickwire_arena::ArenaProtocol as tickwire_protocol::GameProtocol>::schema();
    assert_eq!(json["game"], "arena");
    assert_eq!(json["name"], "arena");
    assert_eq!(json["hash"], format!("{:016x}", schema.hash()));
    assert_eq!(json["canonical_text"], schema.canonical_text());
    assert_eq!(json["components"].as_array().map(Vec::len), Some(4));
    assert_eq!(json["input"]["max_bytes"], 5);
    assert_eq!(json["events"].as_array().map(Vec::len), Some(3));
    // The same with the game named; an unknown game is a 404.
    let named = get(server.handle.addr(), "/schema.json?game=arena").await;
    assert_eq!(named.body, got.body);
    assert_eq!(get(server.handle.addr(), "/schema.json?game=chess").await.status, 404);
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn rules_json_holds_the_games_config_and_tick_rate() {
    let arena = tickwire_arena::ArenaConfig { tick_rate: 60, ..small_arena() };
    let server = server_with(arena, |c| c.max_rewind_ms = 200).await;
    let got = get(server.handle.addr(), "/rules.json?game=arena").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/json"));
    let json: serde_json::Value = serde_json::from_slice(&got.body).expect("JSON");
    let rules = tickwire_arena::ArenaRules::default();
    assert_eq!((json["game"].as_str(), json["tick_rate"].as_u64()), (Some("arena"), Some(60)));
    assert_eq!(json["max_rewind_ms"], 200);
    let r = &json["config"]["rules"];
    assert_eq!(r["world"], serde_json::json!([rules.world.x, rules.world.y]));
    assert_eq!(r["walls"].as_array().map(Vec::len), Some(rules.walls.len()));
    assert_eq!(r["walls"][0], serde_json::json!({"min": [200.0, 200.0], "max": [260.0, 400.0]}));
    assert_eq!(r["player_speed"], serde_json::json!(rules.player_speed));
    assert_eq!(json["config"]["npcs"]["count"], 50);
    assert_eq!(get(server.handle.addr(), "/rules.json").await.body, got.body, "the default game");
    server.stop().await.expect("clean stop");
}
