//! [`check_vectors`]: a game's golden vectors ([`GameVectors`]) kept in a committed JSON file,
//! so that clients in other languages can test their codecs against the game's own.
//!
//! A game's test builds its vectors from typed payloads and calls [`check_vectors`]: the
//! vectors must hold, and the file must hold exactly them. After a deliberate change,
//! `TICKWIRE_BLESS=1 cargo test ...` rewrites the file.

use std::path::Path;

use thiserror::Error;
use tickwire_protocol::game::{GameVectors, VectorError};

/// Why [`check_vectors`] failed.
#[derive(Debug, Error)]
pub enum GoldenError {
    /// A vector does not hold (a codec bug, or a hand-made vector).
    #[error(transparent)]
    Vector(#[from] VectorError),
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file holds other vectors.
    #[error("{path} differs from the game's vectors (TICKWIRE_BLESS=1 rewrites it)")]
    Differs {
        /// The file.
        path: String,
    },
}

/// Checks `vectors` and that the file at `path` holds exactly them (as pretty JSON); with the
/// environment variable `TICKWIRE_BLESS` set, writes them there first.
pub fn check_vectors(vectors: &GameVectors, path: &Path) -> Result<(), GoldenError> {
    vectors.verify()?;
    let io = |source| GoldenError::Io { path: path.display().to_string(), source };
    let text = serde_json::to_string_pretty(vectors).map_err(|e| io(e.into()))? + "\n";
    if std::env::var_os("TICKWIRE_BLESS").is_some() {
        std::fs::write(path, &text).map_err(io)?;
    }
    if std::fs::read_to_string(path).map_err(io)? != text {
        return Err(GoldenError::Differs { path: path.display().to_string() });
    }
    Ok(())
}
