//! A session writer's side of an attached client, as the room benches (`server_tick`,
//! `big_world`) drive it: what the writer remembers between ticks and what it does each tick.
//! (In a module of its own, included by the benches that have writers: `recording` has none.)

use std::sync::Arc;

use tickwire_server::room::Shown;
use tickwire_server::room::link::{ClientLink, Outgoing};

/// One attached client: its link, the view it was sent last (the next delta's baseline), and
/// the buffers a writer reuses.
pub(crate) struct Writer {
    pub(crate) link: Arc<ClientLink>,
    pub(crate) last_sent: Option<Shown>,
    pub(crate) outgoing: Outgoing,
    buf: Vec<u8>,
}

/// What one writer handed its client in one tick.
#[derive(Default, Clone, Copy)]
pub(crate) struct Written {
    /// Snapshot message bytes.
    pub(crate) snapshot: usize,
    /// Event message bytes.
    pub(crate) events: usize,
    /// Payload encodes (0 when the bytes were shared).
    pub(crate) encodes: usize,
}

impl Writer {
    /// The writer of `link`, which has sent nothing yet.
    pub(crate) fn new(link: Arc<ClientLink>) -> Self {
        Self { link, last_sent: None, outgoing: Outgoing::default(), buf: Vec::with_capacity(1024) }
    }

    /// One tick of the writer: takes what the room published and renders the snapshot
    /// against the one sent last (the events are counted and dropped).
    pub(crate) fn write(&mut self) -> Written {
        let mut written = Written::default();
        self.link.take(&mut self.outgoing);
        written.events = self.outgoing.batches.iter().flat_map(|b| b.iter()).map(|m| m.len()).sum();
        self.outgoing.batches.clear();
        if let Some(published) = self.outgoing.snapshot.take() {
            written.encodes = published.render(self.last_sent.as_ref(), &mut self.buf);
            written.snapshot = self.buf.len();
            self.last_sent = Some(published.shown);
        }
        written
    }

    /// What a writer does while others join: takes what the room published and drops it.
    pub(crate) fn drain(&mut self) {
        self.link.take(&mut self.outgoing);
        self.outgoing.batches.clear();
    }
}
