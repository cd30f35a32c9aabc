//! [`ChunksMessage`]: one tick of replicated state as the chunks of a client's view, server →
//! client (`PROTOCOL.md` §6.10, protocol version 5).
//!
//! With interest management a server cuts the world into **chunks**: the entities every client
//! sees ([`ChunkKey::Global`]), each team's ([`ChunkKey::Team`]), and each cell of its grid
//! ([`ChunkKey::Cell`]). A client's view is a set of chunks, and each chunk's payload is an
//! ordinary §6 payload of that chunk's entities, against the same chunk at the message's
//! baseline. So a server encodes each chunk once per tick and baseline, whatever the number of
//! clients and views that hold it, and a client rebuilds its view by merging its chunks
//! ([`crate::snapshot::ChunkSet`]).

use bincode::{Decode, Encode};
use serde::Serialize;

use crate::ids::Tick;

/// Which part of the world a chunk holds. Keys are ordered (`Global` < `Team` < `Cell`, then by
/// their numbers): a message lists its chunks, and the chunks it drops, in strictly ascending
/// key order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize)]
pub enum ChunkKey {
    /// Variant 0: the entities every client sees.
    Global,
    /// Variant 1: the entities of one team, seen by its members wherever they are.
    Team(u16),
    /// Variant 2: the entities in one cell of the room's interest grid.
    Cell {
        /// The cell's column.
        x: i32,
        /// The cell's row.
        y: i32,
    },
}

/// One chunk of a [`ChunksMessage`].
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct Chunk {
    /// Which chunk.
    pub key: ChunkKey,
    /// Its §6 payload: a delta against the same chunk at the message's baseline when the client
    /// holds it, else a full snapshot of the chunk.
    pub payload: Vec<u8>,
}

/// The envelope of a client's view as chunks (`ServerMessage::Chunks`).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct ChunksMessage {
    /// The tick this state belongs to.
    pub tick: Tick,
    /// The previous message of this kind on the connection, which every chunk held is a delta
    /// against; `None` for the first, when the client holds no chunk.
    pub baseline: Option<Tick>,
    /// The newest input tick from this client that the simulation has consumed, if any.
    pub last_input: Option<Tick>,
    /// Chunks the client holds and must forget (their entities left its view), ascending.
    pub dropped: Vec<ChunkKey>,
    /// Chunks that changed, and chunks new to the client, ascending. A chunk the client holds
    /// that is neither here nor dropped did not change: the empty delta applies to it.
    pub chunks: Vec<Chunk>,
}

impl ChunksMessage {
    /// Whether both key lists strictly ascend (what `ServerMessage::validate` checks).
    pub(crate) fn keys_ascend(&self) -> bool {
        self.dropped.windows(2).all(|w| w[0] < w[1])
            && self.chunks.windows(2).all(|w| w[0].key < w[1].key)
    }
}
