//! [`ClientConfig`]: where to connect, who to be, and the knobs of the core and the driver.

use std::time::Duration;

use tickwire_protocol::PROTOCOL_VERSION;
use tickwire_protocol::message::Hello;
use tickwire_sim::arena::ArenaRules;

use crate::error::ClientError;
use crate::link::LinkConfig;
use crate::reconnect::ReconnectPolicy;
use crate::state::Tuning;
use crate::tls::TlsOptions;

/// Everything [`connect`](crate::connect) needs. Its `Debug` output hides the token.
#[derive(Clone)]
pub struct ClientConfig {
    /// `ws://host:port/ws` (plain WebSocket) or `wss://host:port/ws` (TLS, trusting what
    /// [`tls`](Self::tls) says).
    pub url: String,
    /// Room to join: 1..=32 bytes of `[A-Za-z0-9_-]`.
    pub room: String,
    /// Display name: 1..=24 bytes, no control characters.
    pub name: String,
    /// Auth token, if the server wants one.
    pub token: Option<String>,
    /// Schema hash sent in the hello. Defaults to the arena schema's; change it only to test
    /// that a mismatch is refused.
    pub schema_hash: u64,
    /// The rules the server plays by (for prediction). Servers use the defaults.
    pub rules: ArenaRules,
    /// Knobs of the sans-IO core (history, interpolation delay, input margin, pings).
    pub tuning: Tuning,
    /// Artificial latency and jitter on both directions (off by default).
    pub link: LinkConfig,
    /// Time allowed for TCP connect, WebSocket upgrade and hello → welcome, together.
    pub connect_timeout: Duration,
    /// Capacity of the event channel ([`Client::next_event`](crate::Client::next_event)).
    /// When it is full, events wait in the core's bounded queue, whose oldest are dropped.
    pub event_capacity: usize,
    /// Offer the `tickwire.v1` WebSocket subprotocol.
    pub offer_subprotocol: bool,
    /// Which servers `wss://` trusts: no CA by default (no system roots are loaded).
    pub tls: TlsOptions,
    /// Reconnecting after a drop, resuming the session (on by default; see
    /// [`ReconnectPolicy`]).
    pub reconnect: ReconnectPolicy,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("url", &self.url)
            .field("room", &self.room)
            .field("name", &self.name)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("tuning", &self.tuning)
            .field("link", &self.link)
            .field("tls", &self.tls)
            .field("reconnect", &self.reconnect)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// A configuration with defaults for everything but the URL, room and name.
    pub fn new(url: impl Into<String>, room: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            room: room.into(),
            name: name.into(),
            token: None,
            schema_hash: tickwire_sim::arena::schema().hash(),
            rules: ArenaRules::default(),
            tuning: Tuning::default(),
            link: LinkConfig::default(),
            connect_timeout: Duration::from_secs(10),
            event_capacity: 256,
            offer_subprotocol: true,
            tls: TlsOptions::default(),
            reconnect: ReconnectPolicy::default(),
        }
    }

    /// Also trusts the certificates in `pem` (CA certificates, or a self-signed server's own
    /// certificate) for `wss://`. Fails on malformed PEM or PEM without a certificate.
    pub fn with_ca_pem(mut self, pem: &[u8]) -> Result<Self, ClientError> {
        self.tls.add_ca_pem(pem)?;
        Ok(self)
    }

    /// **For tests and load tests against your own dev servers only**: accepts any `wss://`
    /// server certificate (see [`TlsOptions::danger_accept_invalid_certs`]).
    pub fn with_danger_accept_invalid_certs(mut self) -> Self {
        self.tls.danger_accept_invalid_certs = true;
        self
    }

    /// The hello this configuration sends.
    pub fn hello(&self) -> Hello {
        Hello {
            protocol_version: PROTOCOL_VERSION,
            schema_hash: self.schema_hash,
            room: self.room.clone(),
            name: self.name.clone(),
            token: self.token.clone(),
            resume: None,
        }
    }
}
