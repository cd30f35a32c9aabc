//! Room-driven writes (issue 16): a plain TCP session's socket, shared by the session and its
//! room, so that the room writes each tick's messages to the socket itself and the session's
//! task is not woken for them.
//!
//! **Why.** Each wake-up of a session task costs a scheduler round trip (often a futex to
//! unpark a worker) on top of the `send()` itself: a tick-driven server pays two wake-ups per
//! client per tick (the input read, the snapshot write), an echo server one. The floor
//! benchmark (`examples/floor.rs`, `--direct`) measured the write's wake-up at about 10% of the
//! CPU a client costs.
//!
//! **How.** The session lends the room a [`DirectSocket`] through its
//! [`ClientLink`](crate::room::ClientLink) once its `Welcome` is written. When the room
//! publishes, it [`try_send`](DirectSocket::try_send)s: if the session is not writing (it
//! marks itself [`busy`](DirectSocket::begin) for each of its writes, from before it takes
//! anything to publish until its flush completed) and nothing is left over, the room renders
//! what it published and writes it with one non-blocking `send`. Whatever the kernel did not
//! take is kept ([`Inner::pending`]), and the session is woken to write it: its own writes go
//! through the same socket ([`SharedWrite`]), which writes what is pending first. So bytes
//! never interleave, messages keep their order, and a client that stops reading is handled
//! as before: the room writes only to an idle socket with nothing pending, so at most one
//! tick's bytes wait here, and the session's flush of them has the slow-client deadline.
//!
//! Every lock is `parking_lot`'s, held for a render and a `send()` at most, never across an
//! await; the room only ever *tries* them, so a session that is writing never makes the tick
//! wait.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use fastwebsockets::{Frame, Payload};
use parking_lot::Mutex;
use tokio::io::AsyncWrite;
use tokio::net::tcp::OwnedWriteHalf;

use crate::metrics::Metrics;
use crate::room::ClientLink;

/// The longest WebSocket frame header the server writes (no mask; a 64-bit length).
const MAX_HEAD: usize = 10;

/// A plain TCP session's writing half, shared by the session ([`SharedWrite`]) and its room
/// ([`try_send`](Self::try_send)).
#[derive(Debug)]
pub(crate) struct DirectSocket {
    inner: Mutex<Inner>,
    metrics: Arc<Metrics>,
}

#[derive(Debug)]
struct Inner {
    socket: OwnedWriteHalf,
    /// The session is writing (its buffered writer may hold part of a frame): the room leaves
    /// the socket alone.
    busy: bool,
    /// The bytes the room's last write left: written before anything else.
    pending: Vec<u8>,
    /// The room's scratch: the frames of one write.
    wire: Vec<u8>,
}

impl DirectSocket {
    /// Shares `socket`; the room's writes are counted in `metrics`.
    pub(crate) fn new(socket: OwnedWriteHalf, metrics: Arc<Metrics>) -> Arc<Self> {
        let inner = Inner { socket, busy: false, pending: Vec::new(), wire: Vec::new() };
        Arc::new(Self { inner: Mutex::new(inner), metrics })
    }

    /// Session side: the session is about to write; the room stays away until [`end`](Self::end).
    pub(crate) fn begin(&self) {
        self.inner.lock().busy = true;
    }

    /// Session side: the session's writes are flushed (nothing of its own is buffered). What
    /// the room may have left pending meanwhile keeps the room away until the session writes
    /// it (the room woke the session for it).
    pub(crate) fn end(&self) {
        self.inner.lock().busy = false;
    }

    /// Room side: writes everything `link` has published to the socket, if the session is not
    /// writing and nothing is pending. Returns whether the session may sleep on: `false` when
    /// it was not written (the session is busy, or must close) or not all of it (the rest is
    /// pending), and the session must be woken. Each write made is counted
    /// (`direct_writes`), whole or not.
    pub(crate) fn try_send(&self, link: &ClientLink) -> bool {
        let Some(mut inner) = self.inner.try_lock() else { return false };
        if inner.busy || !inner.pending.is_empty() {
            return false;
        }
        let Some(mut sender) = link.sender().try_lock() else { return false };
        let collected = link.collect(&mut sender, &self.metrics);
        let Inner { socket, pending, wire, .. } = &mut *inner;
        wire.clear();
        for batch in sender.outgoing.batches.drain(..) {
            for message in batch.iter() {
                self.frame(wire, message);
            }
        }
        if collected.snapshot {
            self.frame(wire, &sender.snapshot);
        }
        drop(sender);
        if !wire.is_empty() {
            match socket.try_write(wire) {
                Ok(n) => pending.extend_from_slice(&wire[n..]),
                // The session's own write meets the error (or waits for the socket).
                Err(_) => pending.extend_from_slice(wire),
            }
            self.metrics.direct_writes.inc();
        }
        pending.is_empty() && collected.close.is_none()
    }

    /// Appends `message` to `wire` as a binary frame, and counts it.
    fn frame(&self, wire: &mut Vec<u8>, message: &[u8]) {
        let mut head = [0u8; MAX_HEAD];
        let len = Frame::binary(Payload::Borrowed(message)).fmt_head(&mut head);
        wire.extend_from_slice(&head[..len]);
        wire.extend_from_slice(message);
        self.metrics.sent(message.len());
    }
}

/// The session's side of a [`DirectSocket`]: an [`AsyncWrite`] that writes what the room left
/// pending before anything else.
#[derive(Debug, Clone)]
pub(crate) struct SharedWrite(pub(crate) Arc<DirectSocket>);

impl Inner {
    /// Writes what is pending.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let n = ready!(poll_send(&self.socket, cx, &self.pending))?;
            self.pending.drain(..n);
        }
        Poll::Ready(Ok(()))
    }
}

/// One non-blocking `send()` of `buf`, waiting for the socket when it is full.
fn poll_send(socket: &OwnedWriteHalf, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
    loop {
        ready!(socket.as_ref().poll_write_ready(cx))?;
        match socket.try_write(buf) {
            Ok(0) if !buf.is_empty() => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            result => return Poll::Ready(result),
        }
    }
}

impl AsyncWrite for SharedWrite {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut inner = self.0.inner.lock();
        ready!(inner.poll_pending(cx))?;
        poll_send(&inner.socket, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.inner.lock().poll_pending(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut inner = self.0.inner.lock();
        ready!(inner.poll_pending(cx))?;
        Pin::new(&mut inner.socket).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tickwire_protocol::ClientId;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::room::link::Batch;

    /// A link lending the room the server's end of a loopback connection; the client's end.
    async fn lent() -> (Arc<ClientLink>, Arc<DirectSocket>, TcpStream, Arc<Metrics>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let client =
            TcpStream::connect(listener.local_addr().expect("addr")).await.expect("connect");
        let (server, _) = listener.accept().await.expect("accept");
        let (_, w) = server.into_split();
        let metrics = Arc::new(Metrics::new());
        let direct = DirectSocket::new(w, metrics.clone());
        let link = Arc::new(ClientLink::new(ClientId(1), Vec::new()));
        link.set_direct(Some(direct.clone()));
        (link, direct, client, metrics)
    }

    fn batch(message: &[u8]) -> Batch {
        Arc::from(vec![Arc::<[u8]>::from(message)])
    }

    /// Whether the session was woken (a permit is waiting).
    async fn woken(link: &ClientLink) -> bool {
        tokio::time::timeout(Duration::from_millis(20), link.notified()).await.is_ok()
    }

    /// A binary frame's header (no mask) and payload.
    fn frame(message: &[u8]) -> Vec<u8> {
        let mut wire = vec![0x82];
        match message.len() {
            n if n < 126 => wire.push(n as u8),
            n => {
                wire.push(126);
                wire.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        wire.extend_from_slice(message);
        wire
    }

    #[tokio::test]
    async fn the_room_writes_to_an_idle_socket_and_the_session_sleeps_on() {
        let (link, direct, mut client, metrics) = lent().await;
        assert!(link.send(batch(b"hello")));
        assert!(!woken(&link).await, "written by the room: nobody to wake");
        let mut got = [0u8; 7];
        client.read_exact(&mut got).await.expect("read");
        assert_eq!(got[..], frame(b"hello")[..]);
        assert_eq!(metrics.direct_writes.get(), 1);

        // While the session writes, the room leaves the socket and the outbox alone.
        direct.begin();
        assert!(link.send(batch(b"later")));
        assert!(woken(&link).await, "the session is woken instead");
        let mut taken = crate::room::link::Outgoing::default();
        link.take(&mut taken);
        assert_eq!(taken.batches.len(), 1, "still in the outbox for the session");
        direct.end();
        // Once it ended, the room writes again; a link that takes its socket back wakes.
        assert!(link.send(batch(b"again")));
        assert!(!woken(&link).await);
        link.set_direct(None);
        assert!(link.send(batch(b"woken")));
        assert!(woken(&link).await);
    }

    #[tokio::test]
    async fn what_the_room_could_not_write_goes_first_and_whole() {
        let (link, direct, mut client, _) = lent().await;
        // A client that does not read: the room's writes fill the socket, the rest is pending
        // and the session is woken; after that the room writes nothing more.
        let big = vec![7u8; 60_000];
        let mut sent = 0usize;
        loop {
            assert!(link.send(batch(&big)));
            sent += 1;
            if woken(&link).await {
                break;
            }
            assert!(sent < 1_000, "the socket never filled");
        }
        assert!(!direct.inner.lock().pending.is_empty());
        assert!(link.send(batch(b"after")));
        assert!(woken(&link).await, "pending: the room does not write");
        // The session: its writes go after what is pending, in order, once the client reads.
        let reading = tokio::spawn(async move {
            let want = frame(&big).len() * sent + frame(b"after").len() + frame(b"own").len();
            let mut got = vec![0u8; want];
            client.read_exact(&mut got).await.expect("read");
            got
        });
        direct.begin();
        let mut taken = crate::room::link::Outgoing::default();
        link.take(&mut taken);
        let mut session = SharedWrite(direct.clone());
        for m in taken.batches.iter().flat_map(|b| b.iter()) {
            session.write_all(&frame(m)).await.expect("write");
        }
        session.write_all(&frame(b"own")).await.expect("write");
        session.flush().await.expect("flush");
        direct.end();
        let got = reading.await.expect("reader");
        let mut want = frame(&vec![7u8; 60_000]).repeat(sent);
        want.extend(frame(b"after"));
        want.extend(frame(b"own"));
        assert!(got == want, "frames whole and in order");
    }
}
