//! # tickwire-directory
//!
//! The fleet's directory: players' backends ask it **where room R is**, and it answers with
//! the WebSocket URL of the server that holds R (or of the server it just chose for a new R)
//! and a **join token bound to that server**, the room, the game and the player. It keeps no
//! state of its own: everything is in Redis, so any number of replicas run side by side.
//!
//! ```text
//!  backend ──POST /join──▶ directory ──(ZRANGEBYSCORE, MGET, EVALSHA)──▶ Redis
//!     ◀── {ws_url, token} ──┘                                    ▲
//!  player ──ws_url?token=──▶ server S ──heartbeat: record, rooms, claims─┘
//! ```
//!
//! Servers write their own records (`{prefix}server:{id}`, with a TTL) and keep their room
//! claims alive; the directory reads the records and, for a new room, runs one Lua script
//! that either finds the room's live owner or claims the room for the least loaded live,
//! non-draining server hosting the game (a room whose owner's record expired is reclaimed).
//! The script is atomic on the Redis node, so two replicas racing to create the same room
//! agree on its server. The key schema is in `notes/fleet-design.md` and [`store`].
//!
//! - [`config`]: [`DirectoryConfig`], a plain struct (flags live in the binary).
//! - [`join`]: [`Directory`], a join from checked names to a minted token.
//! - [`pick`]: candidates for a new room and name checks (pure).
//! - [`store`]: Redis: records, the pick-and-claim script, every call under a timeout.
//! - [`record`]: what a server writes about itself.
//! - `cache`: an optional per-replica copy of the records for joins (`servers_cache`).
//! - [`http`]: the HTTP API and its limits.
//! - [`metrics`], [`error`]: Prometheus text and the stable error codes.

mod cache;
pub mod config;
pub mod error;
pub mod http;
pub mod join;
pub mod metrics;
pub mod pick;
pub mod record;
pub mod store;

pub use config::DirectoryConfig;
pub use error::DirectoryError;
pub use join::{Directory, JoinAnswer, JoinRequest, StartError};
pub use pick::MAX_PLAYER_LEN;
pub use record::{RoomEntry, ServerRecord, ServerRoom};

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A directory serving HTTP on a bound address, until [`Running::stop`] or drop.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The directory itself (metrics, configuration).
    pub directory: Arc<Directory>,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Running {
    /// Binds `addr` (port 0 for any) and serves `config` there on the current runtime.
    pub async fn start(config: DirectoryConfig, addr: SocketAddr) -> anyhow::Result<Self> {
        let directory = Arc::new(Directory::new(config)?);
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(http::serve(listener, directory.clone(), shutdown.clone()));
        Ok(Self { addr, directory, shutdown, task })
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting and closes every connection.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        let _ = (&mut self.task).await;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
