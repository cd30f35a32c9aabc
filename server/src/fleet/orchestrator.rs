//! [`Orchestrator`]: what the server tells the system that runs its processes (Agones, or a
//! host's own), and what it is told back. [`NoOrchestrator`] (the default) does nothing;
//! [`Agones`] speaks to the Agones SDK sidecar ([`super::sdk`]).
//!
//! The server drives it from one task (`fleet::run`): `ready` once the listener is bound and
//! the default room ticks, `health` while every room's tick loop advances, `report` with the
//! server's [`Load`] every second (Agones batches SDK mutations each second too),
//! `drain_requested` polled, `draining` when a drain starts, and `shutdown` at the very end.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;

use tracing::{debug, info, warn};

use super::sdk::{AgonesSdk, SdkError};

/// A boxed future, so that an orchestrator is a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why an orchestrator call failed (the server logs it and carries on).
pub type OrchestratorError = Box<dyn std::error::Error + Send + Sync>;

/// What the server holds, as the orchestrator's counters and lists see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Load {
    /// Open rooms.
    pub rooms: usize,
    /// Authenticated players with a place in a room (playing, or detached awaiting a resume).
    pub players: BTreeSet<String>,
}

/// The system that starts, watches and stops the server's process.
pub trait Orchestrator: Send + 'static {
    /// A short name for logs.
    fn name(&self) -> &'static str;
    /// Where players reach this process (`host`, `port`), when the orchestrator assigns it.
    fn public_address(&mut self)
    -> BoxFuture<'_, Result<Option<(String, u16)>, OrchestratorError>>;
    /// The server is bound and its default room ticks: it may be given players.
    fn ready(&mut self) -> BoxFuture<'_, Result<(), OrchestratorError>>;
    /// One health ping: every room's tick loop advanced since the last one.
    fn health(&mut self) -> BoxFuture<'_, Result<(), OrchestratorError>>;
    /// What the server holds now.
    fn report<'a>(&'a mut self, load: &'a Load) -> BoxFuture<'a, Result<(), OrchestratorError>>;
    /// Whether the orchestrator wants the server to drain (it is being shut down).
    fn drain_requested(&mut self) -> BoxFuture<'_, Result<bool, OrchestratorError>>;
    /// The server has started draining: new rooms are refused.
    fn draining(&mut self) -> BoxFuture<'_, Result<(), OrchestratorError>>;
    /// The server has stopped; the process may be removed.
    fn shutdown(&mut self) -> BoxFuture<'_, Result<(), OrchestratorError>>;
}

/// No orchestrator: a process started by hand or by a plain service manager.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoOrchestrator;

fn done<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, Result<T, OrchestratorError>> {
    Box::pin(std::future::ready(Ok(value)))
}

impl Orchestrator for NoOrchestrator {
    fn name(&self) -> &'static str {
        "none"
    }
    fn public_address(
        &mut self,
    ) -> BoxFuture<'_, Result<Option<(String, u16)>, OrchestratorError>> {
        done(None)
    }
    fn ready(&mut self) -> BoxFuture<'_, Result<(), OrchestratorError>> {
        done(())
    }
    fn health(&mut self) -> BoxFuture<'_, Result<(), OrchestratorError>> {
        done(())
    }
    fn report<'a>(&'a mut self, _: &'a Load) -> BoxFuture<'a, Result<(), OrchestratorError>> {
        done(())
    }
    fn drain_requested(&mut self) -> BoxFuture<'_, Result<bool, OrchestratorError>> {
        done(false)
    }
    fn draining(&mut self) -> BoxFuture<'_, Result<(), OrchestratorError>> {
        done(())
    }
    fn shutdown(&mut self) -> BoxFuture<'_, Result<(), OrchestratorError>> {
        done(())
    }
}

/// The Agones counter kept equal to the open rooms (its capacity should be `--max-rooms`).
pub const ROOMS_COUNTER: &str = "rooms";
/// The Agones list kept equal to the authenticated players.
pub const PLAYERS_LIST: &str = "players";
/// The label set when draining (stored by Agones as `agones.dev/sdk-draining`).
pub const DRAINING_LABEL: &str = "draining";

/// Agones, through its SDK sidecar's REST gateway. It keeps what the sidecar acknowledged and
/// sends only the difference: `countDiff` for `rooms`, `addValue`/`removeValue` for
/// `players`. After a refused or failed call it reads the sidecar's state again.
#[derive(Debug)]
pub struct Agones {
    sdk: AgonesSdk,
    /// The `rooms` count the sidecar last acknowledged (`None`: read it first).
    rooms: Option<i64>,
    /// The `players` values the sidecar last acknowledged (`None`: read them first).
    players: Option<BTreeSet<String>>,
}

impl Agones {
    /// Agones through `sdk`.
    pub fn new(sdk: AgonesSdk) -> Self {
        Self { sdk, rooms: None, players: None }
    }

    async fn sync_rooms(&mut self, want: i64) -> Result<(), SdkError> {
        let have = match self.rooms {
            Some(n) => n,
            None => self.sdk.counter(ROOMS_COUNTER).await?,
        };
        self.rooms = Some(have);
        if want != have {
            self.rooms = None;
            let now = self.sdk.add_to_counter(ROOMS_COUNTER, want - have).await?;
            debug!(from = have, to = now, "agones: rooms counter");
            self.rooms = Some(now);
        }
        Ok(())
    }

    async fn sync_players(&mut self, want: &BTreeSet<String>) -> Result<(), SdkError> {
        let mut have = match self.players.take() {
            Some(p) => p,
            None => self.sdk.list(PLAYERS_LIST).await?.into_iter().collect(),
        };
        let gone: Vec<String> = have.difference(want).cloned().collect();
        let new: Vec<String> = want.difference(&have).cloned().collect();
        for p in gone {
            self.sdk.remove_list_value(PLAYERS_LIST, &p).await?;
            have.remove(&p);
        }
        for p in new {
            self.sdk.add_list_value(PLAYERS_LIST, &p).await?;
            have.insert(p);
        }
        self.players = Some(have);
        Ok(())
    }
}

fn boxed(e: SdkError) -> OrchestratorError {
    Box::new(e)
}

impl Orchestrator for Agones {
    fn name(&self) -> &'static str {
        "agones"
    }

    fn public_address(
        &mut self,
    ) -> BoxFuture<'_, Result<Option<(String, u16)>, OrchestratorError>> {
        Box::pin(async move {
            let gs = self.sdk.game_server().await.map_err(boxed)?;
            let address = gs["status"]["address"].as_str().filter(|a| !a.is_empty());
            let port = gs["status"]["ports"].get(0).and_then(|p| super::sdk::int(&p["port"]));
            Ok(match (address, port.and_then(|p| u16::try_from(p).ok())) {
                (Some(a), Some(p)) => Some((a.to_owned(), p)),
                _ => None,
            })
        })
    }

    fn ready(&mut self) -> BoxFuture<'_, Result<(), OrchestratorError>> {
        Box::pin(async move {
            self.sdk.ready().await.map_err(boxed)?;
            info!(port = self.sdk.port(), "agones: Ready");
            Ok(())
        })
    }

    fn health(&mut self) -> BoxFuture<'_, Result<(), OrchestratorError>> {
        Box::pin(async move { self.sdk.health().await.map_err(boxed) })
    }

    fn report<'a>(&'a mut self, load: &'a Load) -> BoxFuture<'a, Result<(), OrchestratorError>> {
        Box::pin(async move {
            let rooms = i64::try_from(load.rooms).unwrap_or(i64::MAX);
            let r = self.sync_rooms(rooms).await;
            let p = self.sync_players(&load.players).await;
            if let Err(e) = &r {
                warn!(error = %e, "agones: rooms counter not updated");
            }
            r.and(p).map_err(boxed)
        })
    }

    fn drain_requested(&mut self) -> BoxFuture<'_, Result<bool, OrchestratorError>> {
        Box::pin(async move {
            let gs = self.sdk.game_server().await.map_err(boxed)?;
            let state = gs["status"]["state"].as_str().unwrap_or_default();
            let deleted =
                super::sdk::int(&gs["object_meta"]["deletion_timestamp"]).is_some_and(|t| t > 0);
            Ok(state == "Shutdown" || deleted)
        })
    }

    fn draining(&mut self) -> BoxFuture<'_, Result<(), OrchestratorError>> {
        Box::pin(async move { self.sdk.set_label(DRAINING_LABEL, "true").await.map_err(boxed) })
    }

    fn shutdown(&mut self) -> BoxFuture<'_, Result<(), OrchestratorError>> {
        Box::pin(async move {
            self.sdk.shutdown().await.map_err(boxed)?;
            info!("agones: Shutdown");
            Ok(())
        })
    }
}
