//! [`ClientConfig`]: where to connect, who to be, and the knobs of the core and the driver.

use std::time::Duration;

use tickwire_protocol::message::Hello;
use tickwire_protocol::{GameProtocol, GameSchema, PROTOCOL_VERSION};
use tickwire_sim::Predict;

use crate::error::ClientError;
use crate::forensics::ForensicsTarget;
use crate::link::LinkConfig;
use crate::reconnect::ReconnectPolicy;
use crate::state::Tuning;
use crate::tls::TlsOptions;

/// Everything [`connect`](crate::connect) needs to play game `P`. Its `Debug` output hides the
/// token.
pub struct ClientConfig<P: Predict> {
    /// `ws://host:port/ws` (plain WebSocket) or `wss://host:port/ws` (TLS, trusting what
    /// [`tls`](Self::tls) says).
    pub url: String,
    /// Room to join: 1..=32 bytes of `[A-Za-z0-9_-]`.
    pub room: String,
    /// Display name: 1..=24 bytes, no control characters.
    pub name: String,
    /// Auth token, if the server wants one.
    pub token: Option<String>,
    /// The game's schema: what the hello names (game and hash) and every message is encoded
    /// with. For a game declared in Rust, its [`GameProtocol::schema`]; for one learnt at run
    /// time, [`GameSchema::from_description`].
    pub schema: &'static GameSchema,
    /// Schema hash sent in the hello. Defaults to the schema's; change it only to test that a
    /// mismatch is refused.
    pub schema_hash: u64,
    /// The rules the server plays by, as the game's prediction needs them (its defaults unless
    /// the server was configured otherwise: `/rules.json?game=NAME` says).
    pub rules: P::Rules,
    /// Read [`rules`](Self::rules) from the server's `/rules.json?game=NAME` before connecting
    /// (and fail to connect if they cannot be read): the prediction then steps with the rules
    /// the server plays by, however it was configured. Off by default (the rules above are
    /// used).
    pub fetch_rules: bool,
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
    /// Where to write the client forensics log (per tick: input sent, predicted and server
    /// state; see [`crate::forensics`]), if anywhere. Off by default.
    pub forensics: Option<ForensicsTarget>,
}

impl<P: Predict> Clone for ClientConfig<P> {
    fn clone(&self) -> Self {
        Self {
            url: self.url.clone(),
            room: self.room.clone(),
            name: self.name.clone(),
            token: self.token.clone(),
            schema: self.schema,
            schema_hash: self.schema_hash,
            rules: self.rules.clone(),
            fetch_rules: self.fetch_rules,
            tuning: self.tuning,
            link: self.link,
            connect_timeout: self.connect_timeout,
            event_capacity: self.event_capacity,
            offer_subprotocol: self.offer_subprotocol,
            tls: self.tls.clone(),
            reconnect: self.reconnect,
            forensics: self.forensics.clone(),
        }
    }
}

impl<P: Predict> std::fmt::Debug for ClientConfig<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("url", &self.url)
            .field("game", &self.schema.name())
            .field("room", &self.room)
            .field("name", &self.name)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("tuning", &self.tuning)
            .field("link", &self.link)
            .field("tls", &self.tls)
            .field("reconnect", &self.reconnect)
            .field("forensics", &self.forensics)
            .finish_non_exhaustive()
    }
}

impl<P: Predict + GameProtocol> ClientConfig<P> {
    /// A configuration for game `P` with defaults for everything but the URL, room and name.
    pub fn new(url: impl Into<String>, room: impl Into<String>, name: impl Into<String>) -> Self {
        Self::for_schema(P::schema(), url, room, name)
    }
}

impl<P: Predict> ClientConfig<P> {
    /// A configuration for the game `schema` describes (a game learnt at run time, played with
    /// [`Dynamic`](tickwire_protocol::game::Dynamic)), with defaults for everything but the
    /// URL, room and name.
    pub fn for_schema(
        schema: &'static GameSchema,
        url: impl Into<String>,
        room: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            url: url.into(),
            room: room.into(),
            name: name.into(),
            token: None,
            schema,
            schema_hash: schema.hash(),
            rules: P::Rules::default(),
            fetch_rules: false,
            tuning: Tuning::default(),
            link: LinkConfig::default(),
            connect_timeout: Duration::from_secs(10),
            event_capacity: 256,
            offer_subprotocol: true,
            tls: TlsOptions::default(),
            reconnect: ReconnectPolicy::default(),
            forensics: None,
        }
    }

    /// Writes the client forensics log to `target` (a [`ForensicsTarget::File`] path, or any
    /// writer with [`ForensicsTarget::writer`]). Connecting fails with
    /// [`ClientError::Forensics`] if the file cannot be created.
    pub fn forensics(mut self, target: impl Into<ForensicsTarget>) -> Self {
        self.forensics = Some(target.into());
        self
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
            game: self.schema.name().to_owned(),
            schema_hash: self.schema_hash,
            room: self.room.clone(),
            name: self.name.clone(),
            token: self.token.clone(),
            resume: None,
        }
    }
}
