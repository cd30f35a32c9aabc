//! The floor benchmark of issue 16: what one client costs a server on Tickwire's stack when the
//! server does nothing but the socket work of a game tick.
//!
//! ```text
//! cargo run --release -p tickwire-server --example floor -- serve 127.0.0.1:0 --reply-bytes 216
//! cargo run --release -p tickwire-server --example floor -- load ws://ADDR/ws --clients 500 --pid PID
//! ```
//!
//! - `serve` accepts WebSocket upgrades with the server's own layer (hyper, fastwebsockets,
//!   `tickwire_server::session::ws`, a multi-threaded tokio runtime) and, per connection, reads
//!   one small frame and writes one snapshot-sized frame (`--reply-bytes`) for each frame read:
//!   one read and one write per client per tick, the least a game server does.
//! - `load` opens `--clients` connections, each sending a 12-byte frame `--rate` times a second
//!   (phases spread over the tick) and reading the replies; after `--warmup-secs` it samples the
//!   CPU time of the process `--pid` (the server, from `/proc/PID/stat`) for `--secs` and prints
//!   the server's cores and its CPU per client per tick, in microseconds.
//!
//! - `serve --tick-rate HZ` is the **ticked floor**: the structure of a tick-driven server without
//!   its game. Each connection has a reader task that reads (and drops) the client's frames, and
//!   a writer task woken by a ticker `HZ` times a second (a `Notify` per connection, as a room
//!   notifies its clients' outboxes) that writes one reply. Two wake-ups per client per tick
//!   instead of one: the difference between the two floors is what that structure costs.
//! - `serve --tick-rate HZ --direct` is the **room-driven floor**: no writer tasks; the ticker
//!   itself writes each connection's reply with a non-blocking `try_write` on its socket (a
//!   whole WebSocket frame), and a reader task per connection reads and drops what comes in.
//!   One wake-up per client per tick again, with the sends made from the tick.
//!
//! `scripts/floor.sh` runs both, pinned to different cores, at several client counts; the same
//! measurement of `tickwire-server` under bots (`scripts/loadtest.sh`) divided by this floor is
//! the ratio issue 16 reports.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use clap::{Parser, Subcommand};
use fastwebsockets::Frame;
use futures_util::{SinkExt as _, StreamExt as _};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tickwire_server::session::ws::{self, Incoming};
use tokio::io::AsyncReadExt as _;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Parser)]
#[command(about = "The socket floor of a game tick: a minimal server and its load")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve: one snapshot-sized frame written per small frame read.
    Serve {
        /// Address to bind.
        #[arg(default_value = "127.0.0.1:0")]
        addr: SocketAddr,
        /// Bytes of each reply (a snapshot per client per tick).
        #[arg(long, default_value_t = 216)]
        reply_bytes: usize,
        /// Ticked: write each connection's reply from a writer task woken this many times a
        /// second, instead of in answer to each frame read (0).
        #[arg(long, default_value_t = 0)]
        tick_rate: u32,
        /// With `--tick-rate`: the ticker writes the replies itself (`try_write`), no writer
        /// tasks.
        #[arg(long, requires = "tick_rate")]
        direct: bool,
    },
    /// Load a server and measure its CPU per client per tick.
    Load {
        /// The server's WebSocket URL.
        url: String,
        /// Connections.
        #[arg(long, default_value_t = 500)]
        clients: usize,
        /// Frames per second per connection (the tick rate).
        #[arg(long, default_value_t = 30)]
        rate: u32,
        /// Seconds before the measurement (connecting included).
        #[arg(long, default_value_t = 5)]
        warmup_secs: u64,
        /// Seconds measured.
        #[arg(long, default_value_t = 15)]
        secs: u64,
        /// The server's process id (its CPU time is measured).
        #[arg(long)]
        pid: u32,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve { addr, reply_bytes, tick_rate, direct } if direct => {
            tokio::runtime::Runtime::new()?.block_on(serve_direct(addr, reply_bytes, tick_rate))
        }
        Command::Serve { addr, reply_bytes, tick_rate, .. } => {
            tokio::runtime::Runtime::new()?.block_on(serve(addr, reply_bytes, tick_rate))
        }
        Command::Load { url, clients, rate, warmup_secs, secs, pid } => {
            // The load has its own single thread: it must not look like server work.
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            rt.block_on(load(&url, clients, rate, Duration::from_secs(warmup_secs), secs, pid))
        }
    }
}

async fn serve(addr: SocketAddr, reply_bytes: usize, tick_rate: u32) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr).await.with_context(|| format!("bind {addr}"))?;
    println!("listening on http://{}", listener.local_addr()?);
    let reply = Bytes::from(vec![0x5a; reply_bytes]);
    if tick_rate == 0 {
        return common::serve(listener, true, move |io| {
            let reply = reply.clone();
            async move { answer(io, &reply).await }
        })
        .await;
    }
    let clients = Clients::default();
    tokio::spawn(ticker(clients.clone(), tick_rate));
    common::serve(listener, true, move |io| {
        let (reply, clients) = (reply.clone(), clients.clone());
        async move { answer_ticked(io, &reply, &clients).await }
    })
    .await
}

/// The ticked floor's connections: each one's writer wake-up.
type Clients = Arc<parking_lot::Mutex<Vec<Weak<Notify>>>>;

/// Wakes every connection's writer `rate` times a second, as a room publishing a tick does.
async fn ticker(clients: Clients, rate: u32) {
    let mut tick = tokio::time::interval(Duration::from_secs(1) / rate.max(1));
    loop {
        tick.tick().await;
        clients.lock().retain(|c| c.upgrade().map(|n| n.notify_one()).is_some());
    }
}

/// A reader task that drops what the client sends, and a writer that sends one reply per tick.
async fn answer_ticked(io: TokioIo<Upgraded>, reply: &Bytes, clients: &Clients) {
    let Ok((r, w)) = ws::tcp_halves(io) else { return };
    let (mut reader, mut writer) = ws::from_halves(r, w, 2048);
    let mut read = tokio::spawn(async move {
        while let Ok(incoming) = reader.next().await {
            if matches!(incoming, Incoming::Close { .. }) {
                return;
            }
        }
    });
    let notify = Arc::new(Notify::new());
    clients.lock().push(Arc::downgrade(&notify));
    loop {
        tokio::select! {
            _ = &mut read => return,
            () = notify.notified() => {
                let frame = Frame::binary(fastwebsockets::Payload::Borrowed(reply));
                if writer.write_frame(frame).await.is_err() || writer.flush().await.is_err() {
                    return;
                }
            }
        }
    }
}

/// One reply per binary frame read, until the client goes.
async fn answer(io: TokioIo<Upgraded>, reply: &Bytes) {
    let Ok((r, w)) = ws::tcp_halves(io) else { return };
    let (mut reader, mut writer) = ws::from_halves(r, w, 2048);
    loop {
        match reader.next().await {
            Ok(Incoming::Binary(_)) => {
                let frame = Frame::binary(fastwebsockets::Payload::Borrowed(reply));
                if writer.write_frame(frame).await.is_err() || writer.flush().await.is_err() {
                    return;
                }
            }
            Ok(Incoming::Close { .. }) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// The room-driven floor: the ticker writes every connection's reply itself.
async fn serve_direct(addr: SocketAddr, reply_bytes: usize, rate: u32) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr).await.with_context(|| format!("bind {addr}"))?;
    println!("listening on http://{}", listener.local_addr()?);
    let frame = Bytes::from(unmasked_binary_frame(reply_bytes));
    let sockets: Sockets = Arc::default();
    tokio::spawn(write_from_ticks(sockets.clone(), frame, rate));
    common::serve(listener, true, move |io| {
        let sockets = sockets.clone();
        async move {
            let Ok(parts) = io.into_inner().downcast::<hyper_util::rt::TokioIo<TcpStream>>() else {
                return;
            };
            let (mut read, write) = parts.io.into_inner().into_split();
            let write = Arc::new(write);
            sockets.lock().push(Arc::downgrade(&write));
            let mut buf = vec![0u8; 4096];
            while matches!(read.read(&mut buf).await, Ok(n) if n > 0) {}
            drop(write);
        }
    })
    .await
}

/// The room-driven floor's connections: each one's writing half.
type Sockets = Arc<parking_lot::Mutex<Vec<Weak<OwnedWriteHalf>>>>;

/// Each tick, writes `frame` to every connection with `try_write` (a full socket buffer drops
/// the reply: a floor, not a server).
async fn write_from_ticks(sockets: Sockets, frame: Bytes, rate: u32) {
    let mut tick = tokio::time::interval(Duration::from_secs(1) / rate.max(1));
    loop {
        tick.tick().await;
        sockets.lock().retain(|s| {
            s.upgrade()
                .map(|w| {
                    let _ = w.try_write(&frame);
                })
                .is_some()
        });
    }
}

/// A server's WebSocket binary frame of `len` zero-ish bytes (FIN, opcode 2, unmasked).
fn unmasked_binary_frame(len: usize) -> Vec<u8> {
    let mut frame = vec![0x82];
    match u16::try_from(len) {
        Ok(n) if n < 126 => frame.push(n as u8),
        Ok(n) => {
            frame.push(126);
            frame.extend_from_slice(&n.to_be_bytes());
        }
        Err(_) => {
            frame.push(127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.resize(frame.len() + len, 0x5a);
    frame
}

/// User + system CPU time of `pid`, in clock ticks (`/proc/PID/stat` fields 14 and 15).
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces: count from the closing parenthesis.
    let rest = stat.rsplit_once(')').context("a stat line")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11).context("utime")?.parse()?;
    let stime: u64 = fields.get(12).context("stime")?.parse()?;
    Ok(utime + stime)
}

async fn load(
    url: &str,
    clients: usize,
    rate: u32,
    warmup: Duration,
    secs: u64,
    pid: u32,
) -> anyhow::Result<()> {
    let start = Instant::now();
    let period = Duration::from_secs(1) / rate.max(1);
    let mut tasks = Vec::with_capacity(clients);
    for i in 0..clients {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .with_context(|| format!("connection {i}"))?;
        let phase = period * u32::try_from(i % 97).unwrap_or(0) / 97;
        tasks.push(tokio::spawn(client(socket, period, phase)));
    }
    let connected = start.elapsed();
    tokio::time::sleep(warmup.saturating_sub(connected)).await;
    let hz = 100.0; // USER_HZ on Linux
    let (c0, t0) = (cpu_ticks(pid)?, Instant::now());
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let (c1, elapsed) = (cpu_ticks(pid)?, t0.elapsed().as_secs_f64());
    let cores = (c1 - c0) as f64 / hz / elapsed;
    let client_ticks = clients as f64 * f64::from(rate) * elapsed;
    let us = (c1 - c0) as f64 / hz * 1e6 / client_ticks;
    println!(
        "floor: {clients} clients at {rate} Hz: server {cores:.3} cores, {us:.2} us per client per tick ({elapsed:.1} s measured, connected in {:.1} s)",
        connected.as_secs_f64()
    );
    for t in tasks {
        t.abort();
    }
    Ok(())
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Sends a small frame every `period` (after `phase`) and reads every reply.
async fn client(socket: Socket, period: Duration, phase: Duration) {
    let (mut tx, mut rx) = socket.split();
    let reader = tokio::spawn(async move { while let Some(Ok(_)) = rx.next().await {} });
    tokio::time::sleep(phase).await;
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let input = Bytes::from_static(&[1; 12]);
    loop {
        ticks.tick().await;
        if tx.send(Message::Binary(input.clone())).await.is_err() {
            break;
        }
    }
    reader.abort();
}
