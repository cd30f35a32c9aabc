//! The game binary in a real window, once per game: under Xvfb with Mesa's software Vulkan
//! (llvmpipe), against an in-process server with two bots. It draws for 60 frames, saves a
//! screenshot to `artifacts/bevy-<game>.png` (repository root, git-ignored) and exits; the test
//! then checks the picture's pixels. Arena (two firing, harmless bots): the floor, the walls,
//! the local player and the other players are there in their colours. Kart (two racers standing
//! on the grid, on a track that is not the default one): the server's track, the infield, the
//! local kart's ring and the other karts' paint.
//!
//! Skipped, saying so, when `xvfb-run` is not installed, unless `TICKWIRE_REQUIRE_XVFB` is set
//! (`scripts/test-bevy.sh` installs it and sets that).

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Harness, ROOM};
use tickwire_kart::KartConfig;

/// Bound on the client's whole run (start, connect, 60 frames on a software renderer, save).
const RUN_LIMIT: Duration = Duration::from_secs(240);

/// The games' palettes (`src/app/mod.rs`, `src/app/arena/mod.rs`, `src/app/kart/mod.rs`), as
/// 8-bit sRGB.
const FLOOR: [u8; 3] = [32, 38, 48];
const WALL: [u8; 3] = [150, 160, 180];
const PLAYER: [u8; 3] = [240, 140, 40];
const LOCAL: [u8; 3] = [60, 220, 255];
const TRACK: [u8; 3] = [58, 60, 66];
const INFIELD: [u8; 3] = [40, 96, 52];
const PAINT: [[u8; 3]; 8] = [
    [230, 60, 60],
    [240, 140, 40],
    [235, 210, 50],
    [90, 200, 90],
    [70, 130, 240],
    [170, 90, 230],
    [240, 120, 200],
    [245, 245, 245],
];

fn has_xvfb() -> bool {
    Command::new("sh")
        .args(["-c", "command -v xvfb-run"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn artifact(game: &str) -> PathBuf {
    let root =
        Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
            .join("..")
            .join("artifacts");
    std::fs::create_dir_all(&root).expect("artifacts/ can be created");
    let out = root.join(format!("bevy-{game}.png"));
    let _ = std::fs::remove_file(&out);
    out
}

/// Whether the test can run (it fails instead of skipping when `TICKWIRE_REQUIRE_XVFB` is set).
fn can_run() -> bool {
    if has_xvfb() {
        return true;
    }
    assert!(
        std::env::var_os("TICKWIRE_REQUIRE_XVFB").is_none(),
        "xvfb-run is not installed, and TICKWIRE_REQUIRE_XVFB says this test must run"
    );
    eprintln!("SKIPPED: xvfb-run is not installed (scripts/test-bevy.sh installs it)");
    false
}

/// Runs the client on `game` until it exits (bounded), returning its combined output.
fn run_client(game: &str, url: &str, out: &Path) -> String {
    let log = std::env::temp_dir().join(format!("bevy-{game}-{}.log", std::process::id()));
    let log_file = std::fs::File::create(&log).expect("log file");
    let mut child = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x720x24"])
        .arg(env!("CARGO_BIN_EXE_client-bevy"))
        .args(["--game", game, "--url", url, "--room", ROOM, "--name", "tester", "--frames", "60"])
        .arg("--screenshot")
        .arg(out)
        .env("RUST_LOG", "info,wgpu=error,naga=warn")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("log file"))
        .stderr(log_file)
        .spawn()
        .expect("xvfb-run starts");
    let deadline = Instant::now() + RUN_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let output = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("the client did not exit within {RUN_LIMIT:?}:\n{output}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    assert!(status.success(), "the client failed ({status}):\n{output}");
    output
}

/// Pixels of a PNG as RGB triples, with its size.
fn decode(path: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let file = std::fs::File::open(path).expect("screenshot exists");
    let mut reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().expect("png");
    let mut buf = vec![0; reader.output_buffer_size().expect("size fits")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let step = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected colour type {other:?}"),
    };
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let pixels = buf[..info.buffer_size()].chunks_exact(step).map(|p| [p[0], p[1], p[2]]).collect();
    (info.width, info.height, pixels)
}

/// Pixels within a small distance of `color` (dithering moves channels by a step or two).
fn count(pixels: &[[u8; 3]], color: [u8; 3]) -> usize {
    pixels.iter().filter(|p| p.iter().zip(color).all(|(&a, b)| a.abs_diff(b) <= 6)).count()
}

/// The screenshot's pixels, checked for size and for not being blank.
fn screenshot(out: &Path) -> Vec<[u8; 3]> {
    let (w, h, pixels) = decode(out);
    assert_eq!((w, h), (1280, 720), "the window's size");
    let distinct: HashSet<_> = pixels.iter().collect();
    assert!(distinct.len() > 20, "not a blank window: {} colours", distinct.len());
    pixels
}

#[test]
fn draws_the_arena_and_the_players() {
    if !can_run() {
        return;
    }
    // The bots fire (tracers), harmlessly: a dead local player would be drawn in grey.
    let net = Harness::start_with(2, true, |_, arena| arena.rules.damage = 0);
    let out = artifact("arena");
    let output = run_client("arena", &net.url(), &out);
    assert!(output.contains("connected"), "the client connected:\n{output}");

    let pixels = screenshot(&out);
    let total = pixels.len();
    let (floor, wall, player, local) = (
        count(&pixels, FLOOR),
        count(&pixels, WALL),
        count(&pixels, PLAYER),
        count(&pixels, LOCAL),
    );
    eprintln!("{total} pixels: floor {floor}, walls {wall}, players {player}, local {local}");
    // The 1000×1000 arena fills about 650×650 pixels; the five walls about 18 000 of them.
    assert!(floor > total / 4, "the floor is drawn ({floor} pixels)");
    assert!(wall > 10_000, "the walls are drawn ({wall} pixels)");
    // A player disc is about 200 pixels; the bots' are orange, ours cyan.
    assert!(player > 150, "the other players are drawn ({player} pixels)");
    assert!(local > 80, "the local player is drawn ({local} pixels)");
}

#[test]
fn draws_the_race_and_the_karts() {
    if !can_run() {
        return;
    }
    // Two racers standing on the start grid, beside ours, on a track with a wider lane than the
    // default one (the client draws the track it read from the server) and no barrels.
    let mut race = KartConfig::default();
    race.rules.track.lane = 400;
    race.barrels.count = 0;
    let net = Harness::kart_standing(2, race);
    let out = artifact("kart");
    let output = run_client("kart", &net.url(), &out);
    assert!(output.contains("connected"), "the client connected:\n{output}");

    let pixels = screenshot(&out);
    let total = pixels.len();
    let (track, infield, local) =
        (count(&pixels, TRACK), count(&pixels, INFIELD), count(&pixels, LOCAL));
    let paint: usize = PAINT.iter().map(|&c| count(&pixels, c)).sum();
    eprintln!(
        "{total} pixels: track {track}, infield {infield}, local ring {local}, paint {paint}"
    );
    // The camera follows our kart on the bottom straight at one unit per pixel: the lane across
    // the middle (400 units: 1280×400 pixels less the HUD's panels, about 435 000; the default
    // lane draws about 389 000), the edge of the infield above it.
    assert!(track > 420_000, "the server's track is drawn ({track} pixels)");
    assert!(infield > 10_000, "the infield is drawn ({infield} pixels)");
    // Our ring is about 240 pixels; a kart body about 500, three of them in paint.
    assert!(local > 100, "the local kart's ring is drawn ({local} pixels)");
    assert!(paint > 1_000, "the karts are drawn in their paint ({paint} pixels)");
}
