//! Test harness: an independent WebSocket client (tokio-tungstenite + the protocol crate, none
//! of Tickwire's own client code) and helpers to start servers on port 0.

#![allow(dead_code, unreachable_pub)] // each test file uses a different subset

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tickwire_arena::{Arena, ArenaConfig, ArenaInput, ArenaProtocol, BODY, Body, schema};
use tickwire_protocol::codec::{decode_server, encode_client};
use tickwire_protocol::message::{
    ClientMessage, DisconnectReason, Hello, InputFrame, Pong, ServerMessage, ViewTime, Welcome,
};
use tickwire_protocol::snapshot::{ChunkSet, DecodeLimits, SnapshotDecoder, decode};
use tickwire_protocol::{GameProtocol, PROTOCOL_VERSION, Snapshot, Tick};
use tickwire_server::{RunningServer, Server, ServerConfig};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Generous bound for anything a test waits on.
pub const WAIT: Duration = Duration::from_secs(10);

/// The arena the tests play: the default with 50 NPCs.
pub fn small_arena() -> ArenaConfig {
    let mut arena = ArenaConfig::default();
    arena.npcs.count = 50;
    arena
}

/// Starts a server hosting the arena (`small_arena`) with `f` applied to the test
/// configuration.
pub async fn server(f: impl FnOnce(&mut ServerConfig)) -> RunningServer {
    server_with(small_arena(), f).await
}

/// Starts a server hosting the arena with `arena`, with `f` applied to the test configuration.
pub async fn server_with(arena: ArenaConfig, f: impl FnOnce(&mut ServerConfig)) -> RunningServer {
    let mut cfg = ServerConfig::for_tests();
    f(&mut cfg);
    Server::builder(cfg).game::<Arena>(arena).spawn().await.expect("server starts")
}

pub fn hello(room: &str, name: &str) -> Hello {
    Hello {
        protocol_version: PROTOCOL_VERSION,
        game: ArenaProtocol::NAME.to_owned(),
        schema_hash: ArenaProtocol::schema().hash(),
        room: room.into(),
        name: name.into(),
        token: None,
        resume: None,
    }
}

pub async fn raw_connect(addr: SocketAddr) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("websocket connects");
    ws
}

pub async fn send(ws: &mut Ws, msg: &ClientMessage) {
    ws.send(Message::Binary(encode_client(msg).into())).await.expect("send");
}

/// What the next frame was.
#[derive(Debug)]
pub enum Got {
    Msg(ServerMessage),
    Close(Option<u16>, String),
    Ended,
}

pub async fn next(ws: &mut Ws) -> Got {
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next()).await.expect("server answers in time");
        match frame {
            Some(Ok(Message::Binary(b))) => {
                return Got::Msg(decode_server(&b).expect("server messages decode"));
            }
            Some(Ok(Message::Close(c))) => {
                return Got::Close(
                    c.as_ref().map(|c: &CloseFrame| c.code.into()),
                    c.map(|c| c.reason.to_string()).unwrap_or_default(),
                );
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Got::Ended,
        }
    }
}

/// Reads until the connection closes; returns the `Disconnect` reason seen (if any) and the
/// close code.
pub async fn until_closed(ws: &mut Ws) -> (Option<DisconnectReason>, Option<u16>) {
    let mut reason = None;
    loop {
        match next(ws).await {
            Got::Msg(ServerMessage::Disconnect(r)) => reason = Some(r),
            Got::Msg(_) => {}
            Got::Close(code, _) => return (reason, code),
            Got::Ended => return (reason, None),
        }
    }
}

/// The component schema of a built-in game, by name.
pub fn components_of(game: &str) -> &'static tickwire_protocol::Schema {
    match game {
        "kart" => tickwire_kart::KartProtocol::schema().components(),
        _ => schema(),
    }
}

/// A connected, welcomed client that reconstructs snapshots.
pub struct TestClient {
    pub ws: Ws,
    /// The components of its game (what its snapshots decode with).
    pub components: &'static tickwire_protocol::Schema,
    pub welcome: Welcome,
    pub latest: Option<Snapshot>,
    pub last_input: Option<Tick>,
    pub events: Vec<ServerMessage>,
    pub rtt_reports: usize,
    pub snapshots: usize,
    /// The chunks it holds (views as chunks, protocol version 5 with interest management).
    pub chunks: ChunkSet,
    /// How many of its snapshots came as chunks.
    pub chunked: usize,
}

impl TestClient {
    pub async fn join(addr: SocketAddr, room: &str, name: &str) -> Self {
        Self::join_url(&format!("ws://{addr}/ws"), room, name).await
    }

    pub async fn join_url(url: &str, room: &str, name: &str) -> Self {
        match Self::hello_url(url, hello(room, name)).await {
            Ok(client) => client,
            Err(other) => panic!("expected a welcome, got {other:?}"),
        }
    }

    /// Says `hello` on a new connection to `url`; the welcomed client, or what came instead.
    pub async fn hello_url(url: &str, hello: Hello) -> Result<Self, Got> {
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("websocket connects");
        let components = components_of(&hello.game);
        send(&mut ws, &ClientMessage::Hello(hello)).await;
        match next(&mut ws).await {
            Got::Msg(ServerMessage::Welcome(welcome)) => Ok(Self {
                ws,
                components,
                welcome,
                latest: None,
                last_input: None,
                events: Vec::new(),
                rtt_reports: 0,
                snapshots: 0,
                chunks: ChunkSet::new(),
                chunked: 0,
            }),
            other => Err(other),
        }
    }

    /// The ticket that resumes this client's session.
    pub fn ticket(&self) -> tickwire_protocol::message::ResumeTicket {
        tickwire_protocol::message::ResumeTicket {
            client_id: self.welcome.client_id,
            secret: self.welcome.resume_secret,
        }
    }

    pub async fn send(&mut self, msg: ClientMessage) {
        send(&mut self.ws, &msg).await;
    }

    /// Handles one server message; returns the snapshot if it was one.
    pub async fn step(&mut self) -> Option<Snapshot> {
        match next(&mut self.ws).await {
            Got::Msg(ServerMessage::Snapshot(s)) => {
                let base = match s.baseline {
                    None => None,
                    Some(t) => {
                        let latest = self.latest.as_ref().expect("a delta needs a baseline");
                        assert_eq!(
                            latest.tick(),
                            t,
                            "delta baseline must be the previous snapshot"
                        );
                        Some(latest)
                    }
                };
                let snap =
                    decode(self.components, base, s.tick, &s.payload, &DecodeLimits::default())
                        .expect("snapshot decodes");
                self.latest = Some(snap.clone());
                self.last_input = s.last_input;
                self.snapshots += 1;
                Some(snap)
            }
            Got::Msg(ServerMessage::Chunks(c)) => {
                let mut snap = Snapshot::default();
                let limits = DecodeLimits::default();
                let mut decoder = SnapshotDecoder::new();
                self.chunks
                    .apply(&mut decoder, self.components, &c, &limits, &mut snap)
                    .expect("chunks apply");
                self.latest = Some(snap.clone());
                self.last_input = c.last_input;
                self.snapshots += 1;
                self.chunked += 1;
                Some(snap)
            }
            Got::Msg(ServerMessage::Ping(p)) => {
                self.send(ClientMessage::Pong(Pong { id: p.id, echo_us: p.sent_us, held_us: 0 }))
                    .await;
                None
            }
            Got::Msg(ServerMessage::Rtt(_)) => {
                self.rtt_reports += 1;
                None
            }
            Got::Msg(m) => {
                self.events.push(m);
                None
            }
            other => panic!("connection ended unexpectedly: {other:?}"),
        }
    }

    /// Reads buffered snapshots until this client is at most a tick behind the server's room.
    pub async fn catch_up(&mut self, server: &tickwire_server::ServerHandle) {
        let room = self.welcome.room.clone();
        loop {
            let tick = self.next_snapshot().await.tick();
            let now = server.rooms().into_iter().find(|r| r.name == room).map(|r| Tick(r.tick));
            if now.is_none_or(|now| now.diff(tick) <= 1) {
                return;
            }
        }
    }

    pub async fn next_snapshot(&mut self) -> Snapshot {
        loop {
            if let Some(s) = self.step().await {
                return s;
            }
        }
    }

    /// Sends `input` stamped for the tick after the latest snapshot, then waits for a snapshot.
    pub async fn input_and_snapshot(&mut self, input: ArenaInput) -> Snapshot {
        self.input_with_view_and_snapshot(input, None).await
    }

    /// Like `input_and_snapshot`, claiming view time `view` (default: the latest snapshot).
    pub async fn input_with_view_and_snapshot(
        &mut self,
        input: ArenaInput,
        view: Option<ViewTime>,
    ) -> Snapshot {
        let latest = match &self.latest {
            Some(s) => s.tick(),
            None => self.next_snapshot().await.tick(),
        };
        let frame = InputFrame {
            tick: latest.offset(2),
            last_snapshot: Some(latest),
            view: view.unwrap_or(ViewTime { tick: latest, fraction: 0 }),
            payload: ArenaProtocol::schema().encode_input(&input),
        };
        self.send(ClientMessage::Input(frame)).await;
        self.next_snapshot().await
    }
}

/// An input frame for `tick` carrying `input`.
pub fn input_frame(tick: Tick, input: &ArenaInput) -> InputFrame {
    InputFrame {
        tick,
        last_snapshot: None,
        view: ViewTime::default(),
        payload: ArenaProtocol::schema().encode_input(input),
    }
}

/// The position of entity `id` in `snap`, if it has a body.
pub fn position(snap: &Snapshot, id: tickwire_protocol::EntityId) -> Option<(f32, f32)> {
    let body: Body = snap.get(id)?.get(schema(), BODY)?;
    Some((body.x, body.y))
}

/// The server crate's directory, as cargo says when it runs the test (not as compiled in: a
/// test binary reused from a checkout elsewhere must not read that checkout's files).
pub fn crate_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR").into()
}

/// The value of an unlabelled metric (or a full `name{labels}` key) in Prometheus text.
pub fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(name).filter(|r| r.starts_with(' ')).and_then(|r| r.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

/// `GET path` over a plain HTTP/1.1 connection: the status code and the body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut raw))
        .await
        .expect("answer in time")
        .expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}
