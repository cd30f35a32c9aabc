//! The files a served test works with: a fresh directory for a server's `--record`, and a room's
//! recording once its writer has ended it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tickwire_replay::reader::{Tail, read_all};

/// A fresh, empty temporary directory named after `tag` and this process.
pub(crate) fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickwire-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The finished recording of `room` in `dir` (the writer threads end after the server).
pub(crate) async fn recording(dir: &Path, room: &str) -> PathBuf {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found = std::fs::read_dir(dir)
            .expect("dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&format!("{room}-")))
            });
        if let Some(path) = found {
            let bytes = std::fs::read(&path).expect("readable");
            if read_all(&bytes).is_ok_and(|r| matches!(r.tail, Tail::Ended(_))) {
                return path;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "no finished recording of {room}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
