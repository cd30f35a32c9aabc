//! `tickwire-agones-mock`: the mock Agones SDK sidecar as a program, so that a game developer
//! can run a server with `--agones` on a laptop, without Kubernetes.
//!
//! ```text
//! tickwire-agones-mock --port 9358 --counter rooms=0/64 --list players=1000
//! TICKWIRE_AGONES=1 AGONES_SDK_HTTP_PORT=9358 tickwire-server
//! ```
//!
//! Each call is printed on stdout as one JSON line (`at_ms`, `method`, `path`, `body`,
//! `status`, `response`); logs go to stderr. Type a state name (`Shutdown`, `Ready`,
//! `Allocated`, ...) and Enter on stdin to play Agones changing the GameServer's state
//! (`Shutdown` also marks it deleted: the server should drain and stop). Ctrl-C stops.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use anyhow::{Context as _, anyhow};
use clap::Parser;
use tickwire_fleet_testkit::agones::{
    Call, Counter, GameServerState, ListState, MockConfig, MockSidecar,
};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

/// A mock of the Agones SDK sidecar's REST gateway, printing each call as a JSON line.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The gateway's port (what the game server reads from AGONES_SDK_HTTP_PORT).
    #[arg(long, env = "AGONES_SDK_HTTP_PORT", default_value_t = 9358)]
    port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// A Counter, NAME=COUNT/CAPACITY (repeatable; default rooms=0/10).
    #[arg(long = "counter", value_parser = parse_counter)]
    counters: Vec<(String, Counter)>,
    /// A List, NAME=CAPACITY (repeatable; default players=100).
    #[arg(long = "list", value_parser = parse_list)]
    lists: Vec<(String, ListState)>,
    /// The GameServer's name.
    #[arg(long, default_value = "tickwire-gs-mock")]
    name: String,
    /// The game server's address in `status.address`.
    #[arg(long, default_value = "127.0.0.1")]
    address: String,
    /// The game server's port in `status.ports`.
    #[arg(long, default_value_t = 7777)]
    game_port: u16,
    /// The initial state (a real GameServer starts Scheduled).
    #[arg(long, default_value = "Scheduled")]
    state: GameServerState,
    /// Turn Unhealthy when health pings stop (5 s period, 3 failures, 5 s initial delay).
    #[arg(long)]
    enforce_health: bool,
    /// Do not print answered polls (`GET /gameserver`, `POST /health`), which a server sends
    /// every few seconds; refusals are printed regardless.
    #[arg(long)]
    quiet_polls: bool,
}

/// Whether a call is a routine poll that `--quiet-polls` hides.
fn is_poll(call: &Call) -> bool {
    call.status == 200 && matches!(call.path.as_str(), "/gameserver" | "/health")
}

fn parse_counter(s: &str) -> anyhow::Result<(String, Counter)> {
    let (name, rest) = s.split_once('=').ok_or_else(|| anyhow!("expected NAME=COUNT/CAPACITY"))?;
    let (count, capacity) =
        rest.split_once('/').ok_or_else(|| anyhow!("expected NAME=COUNT/CAPACITY"))?;
    let counter = Counter {
        count: count.parse().context("COUNT")?,
        capacity: capacity.parse().context("CAPACITY")?,
    };
    if !(0..=counter.capacity).contains(&counter.count) {
        return Err(anyhow!("COUNT must be within 0..=CAPACITY"));
    }
    Ok((name.to_owned(), counter))
}

fn parse_list(s: &str) -> anyhow::Result<(String, ListState)> {
    let (name, capacity) = s.split_once('=').ok_or_else(|| anyhow!("expected NAME=CAPACITY"))?;
    let capacity = capacity.parse().context("CAPACITY")?;
    Ok((name.to_owned(), ListState { capacity, values: Vec::new() }))
}

impl Args {
    fn config(self) -> MockConfig {
        let mut config = MockConfig {
            bind: SocketAddr::new(self.host, self.port),
            name: self.name,
            address: self.address,
            game_port: self.game_port,
            initial_state: self.state,
            enforce_health: self.enforce_health,
            ..MockConfig::default()
        };
        if !self.counters.is_empty() {
            config.counters = self.counters.into_iter().collect::<BTreeMap<_, _>>();
        }
        if !self.lists.is_empty() {
            config.lists = self.lists.into_iter().collect::<BTreeMap<_, _>>();
        }
        config
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let args = Args::parse();
    let quiet_polls = args.quiet_polls;
    let config = args.config();
    let bind = config.bind;
    let mock = MockSidecar::start(config).await.with_context(|| format!("binding {bind}"))?;
    let mut calls = mock.subscribe();
    eprintln!("tickwire-agones-mock: Agones SDK REST gateway on {}", mock.addr());
    let mut states = stdin_states();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            call = calls.recv() => match call {
                Ok(call) if quiet_polls && is_poll(&call) => {}
                Ok(call) => println!("{}", call.to_json()),
                Err(RecvError::Lagged(n)) => eprintln!("tickwire-agones-mock: {n} calls not printed (stdout too slow)"),
                Err(RecvError::Closed) => return Ok(()),
            },
            Some(state) = states.recv() => {
                mock.set_state(state);
                eprintln!("tickwire-agones-mock: state set to {state}");
            }
        }
    }
}

/// State names typed on stdin, read by a plain thread (tokio's stdin needs a feature the
/// workspace does not enable). Bounded: the thread waits while a typed state is pending.
fn stdin_states() -> mpsc::Receiver<GameServerState> {
    let (tx, rx) = mpsc::channel(4);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { return };
            if line.trim().is_empty() {
                continue;
            }
            match line.trim().parse::<GameServerState>() {
                Ok(state) if tx.blocking_send(state).is_err() => return,
                Ok(_) => {}
                Err(e) => eprintln!("tickwire-agones-mock: {e}"),
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_lists_parse_from_flags() {
        let (name, c) = parse_counter("rooms=3/64").expect("counter");
        assert_eq!((name.as_str(), c), ("rooms", Counter { count: 3, capacity: 64 }));
        assert!(parse_counter("rooms=65/64").is_err());
        assert!(parse_counter("rooms=1").is_err());
        let (name, l) = parse_list("players=1000").expect("list");
        assert_eq!((name.as_str(), l.capacity), ("players", 1000));
        assert!(parse_list("players").is_err());
        let args =
            Args::parse_from(["m", "--counter", "a=0/1", "--counter", "b=1/2", "--state", "ready"]);
        let config = args.config();
        assert_eq!(config.counters.len(), 2, "given counters replace the default");
        assert_eq!(config.lists.keys().collect::<Vec<_>>(), ["players"], "the default list stays");
        assert_eq!(config.initial_state, GameServerState::Ready);
    }
}
