//! What a mock sidecar starts with: the GameServer's name, address and port, its initial
//! state, its Counters and Lists, and its health-check spec.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;

/// A GameServer state, as Agones names it in `status.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GameServerState {
    /// The pod is scheduled; the game server has not called Ready yet (where a real GameServer
    /// starts).
    Scheduled,
    /// Ready: allocatable.
    Ready,
    /// Held out of allocation for a while (`POST /reserve`).
    Reserved,
    /// Players are on it (`POST /allocate`, or a GameServerAllocation).
    Allocated,
    /// Shutting down: the GameServer is being deleted.
    Shutdown,
    /// Health pings stopped; Agones will replace it.
    Unhealthy,
}

impl GameServerState {
    /// The name Agones uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "Scheduled",
            Self::Ready => "Ready",
            Self::Reserved => "Reserved",
            Self::Allocated => "Allocated",
            Self::Shutdown => "Shutdown",
            Self::Unhealthy => "Unhealthy",
        }
    }
}

impl fmt::Display for GameServerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A state name that is not one of [`GameServerState`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown GameServer state {0:?} (Scheduled, Ready, Reserved, Allocated, Shutdown, Unhealthy)"
)]
pub struct UnknownState(pub String);

impl FromStr for GameServerState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::Scheduled,
            Self::Ready,
            Self::Reserved,
            Self::Allocated,
            Self::Shutdown,
            Self::Unhealthy,
        ]
        .into_iter()
        .find(|st| st.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

/// A Counter: `count` within `0..=capacity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// The current count.
    pub count: i64,
    /// The most `count` may be.
    pub capacity: i64,
}

/// A List: at most `capacity` distinct values, in insertion order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListState {
    /// The most values the list may hold.
    pub capacity: i64,
    /// The values.
    pub values: Vec<String>,
}

/// The GameServer's `spec.health` (Agones' defaults: not disabled, 5 s period, 3 failures,
/// 5 s initial delay).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthSpec {
    /// No health checking at all.
    pub disabled: bool,
    /// Seconds between expected pings.
    pub period_seconds: i32,
    /// Missed periods before the GameServer is Unhealthy.
    pub failure_threshold: i32,
    /// Seconds after start before pings are expected.
    pub initial_delay_seconds: i32,
}

impl Default for HealthSpec {
    fn default() -> Self {
        Self { disabled: false, period_seconds: 5, failure_threshold: 3, initial_delay_seconds: 5 }
    }
}

/// How a [`MockSidecar`](super::MockSidecar) starts.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Where the REST gateway listens (`127.0.0.1:0` picks a free port).
    pub bind: SocketAddr,
    /// `object_meta.name`.
    pub name: String,
    /// `status.address`: where players reach the game server.
    pub address: String,
    /// `status.ports[0].port` (named `default`): the game server's port.
    pub game_port: u16,
    /// The state before the game server calls anything. A real GameServer is `Scheduled`.
    pub initial_state: GameServerState,
    /// The Counters (default: `rooms` {count 0, capacity 10}).
    pub counters: BTreeMap<String, Counter>,
    /// The Lists (default: `players` {capacity 100, no values}).
    pub lists: BTreeMap<String, ListState>,
    /// `spec.health`, reported by `GET /gameserver`.
    pub health: HealthSpec,
    /// Turn the GameServer Unhealthy when pings stop for `period × failure_threshold` after
    /// the initial delay, as the real sidecar does. Off by default so that a slow test
    /// machine does not fail unrelated tests.
    pub enforce_health: bool,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            name: "tickwire-gs-mock".into(),
            address: "127.0.0.1".into(),
            game_port: 7777,
            initial_state: GameServerState::Scheduled,
            counters: BTreeMap::from([("rooms".into(), Counter { count: 0, capacity: 10 })]),
            lists: BTreeMap::from([(
                "players".into(),
                ListState { capacity: 100, values: Vec::new() },
            )]),
            health: HealthSpec::default(),
            enforce_health: false,
        }
    }
}
