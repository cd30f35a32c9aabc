//! [`ChunkSet`]: a client's view held as chunks (`PROTOCOL.md` §6.10), and the merge of its
//! chunks into the one snapshot the rest of a client reads.
//!
//! A client keeps each chunk it holds as a [`Replica`]. A [`ChunksMessage`] drops some,
//! decodes the listed ones into the chunk held (or in full when new), and moves every other
//! chunk held to the message's tick with the empty delta, which costs nothing until a row is
//! read (see [`Replica`]). The view is the chunks' entities merged by id, each row brought to
//! the tick as it is copied: an entity that crosses from one cell to another is a despawn in one
//! chunk and a spawn in the other, and shows as one entity that moved.
//!
//! Hostile input: every rule a conforming server keeps is checked (the baseline is the tick held;
//! a dropped chunk is held and not listed; no chunk is listed unchanged or left empty; an entity
//! is in one chunk only; the view respects [`DecodeLimits::max_entities`]), so that a message
//! has exactly one encoding. On error the set holds nothing: it is no baseline any more.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{DecodeLimits, EntityRef, Replica, Snapshot, SnapshotDecoder, SnapshotEncoder};
use crate::error::SnapshotError;
use crate::ids::{EntityId, Tick};
use crate::message::{Chunk, ChunkKey, ChunksMessage};
use crate::schema::Schema;

/// The payload of a delta in which nothing changed (§6.2).
pub const EMPTY_DELTA: [u8; 1] = [0x07];

/// What a conforming server sends a client that holds `held` (its chunks at the baseline) and
/// now sees `view` (its view's chunks at the message's tick, none of them empty), both by
/// strictly ascending key: the chunks to drop and the chunks to list (`PROTOCOL.md` §6.10).
/// The one encoding [`ChunkSet::apply`] accepts for that change: a reference for servers and
/// for tests (a server shares each chunk's payload between clients instead, as the reference
/// server's `room::chunks` does).
pub fn chunk_delta(
    encoder: &mut SnapshotEncoder,
    schema: &Schema,
    held: &[(ChunkKey, &Snapshot)],
    view: &[(ChunkKey, &Snapshot)],
) -> (Vec<ChunkKey>, Vec<Chunk>) {
    fn find<'a>(list: &[(ChunkKey, &'a Snapshot)], key: ChunkKey) -> Option<&'a Snapshot> {
        list.binary_search_by_key(&key, |(k, _)| *k).ok().map(|i| list[i].1)
    }
    let dropped = held.iter().map(|(k, _)| *k).filter(|k| find(view, *k).is_none()).collect();
    let chunks = view
        .iter()
        .filter_map(|&(key, snap)| {
            let base = find(held, key);
            let payload = encoder.encode(schema, base, snap);
            let unchanged = base.is_some() && payload == EMPTY_DELTA;
            (!unchanged).then_some(Chunk { key, payload })
        })
        .collect();
    (dropped, chunks)
}

/// The chunks a client holds (see the module docs).
#[derive(Debug, Default)]
pub struct ChunkSet {
    /// The tick of the chunks held (the last message's).
    tick: Option<Tick>,
    /// The schema's fields per entity (as of the last message).
    fields: usize,
    /// The chunks held, by ascending key.
    held: Vec<(ChunkKey, Replica)>,
    /// Scratch: the chunks after the message being applied.
    next: Vec<(ChunkKey, Replica)>,
    /// Scratch: the entities a message spawned, and the chunk each is in.
    spawned: Vec<(EntityId, usize)>,
    /// Scratch for the merge (see [`Merge`]).
    merge: Merge,
    /// The chunk [`get`](Self::get) found an entity in last (a client reads its own entity
    /// after every message).
    hint: AtomicUsize,
}

impl Clone for ChunkSet {
    fn clone(&self) -> Self {
        Self {
            tick: self.tick,
            fields: self.fields,
            held: self.held.clone(),
            hint: AtomicUsize::new(self.hint.load(Ordering::Relaxed)),
            ..Self::default()
        }
    }
}

impl ChunkSet {
    /// A set that holds no chunk.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tick of the chunks held: the baseline the next message must name.
    pub fn tick(&self) -> Option<Tick> {
        self.tick
    }

    /// The keys of the chunks held, ascending.
    pub fn keys(&self) -> impl Iterator<Item = ChunkKey> + '_ {
        self.held.iter().map(|(k, _)| *k)
    }

    /// The chunks held, by ascending key, each written out as a snapshot.
    pub fn held(&self) -> impl Iterator<Item = (ChunkKey, Snapshot)> + '_ {
        self.held.iter().map(|(k, r)| (*k, r.snapshot()))
    }

    /// A chunk held, written out as a snapshot.
    pub fn chunk(&self, key: ChunkKey) -> Option<Snapshot> {
        let i = self.held.binary_search_by_key(&key, |(k, _)| *k).ok()?;
        Some(self.held[i].1.snapshot())
    }

    /// Entities in the view.
    pub fn len(&self) -> usize {
        self.held.iter().map(|(_, r)| r.len()).sum()
    }

    /// Whether the view holds no entity.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Entity `id` of the view, its values written to `buf` (see [`Replica::get`]).
    pub fn get<'b>(&self, id: EntityId, buf: &'b mut Vec<u32>) -> Option<EntityRef<'b>> {
        let hint = self.hint.load(Ordering::Relaxed);
        if let Some((_, r)) = self.held.get(hint).filter(|(_, r)| r.holds(id)) {
            return r.get(id, buf);
        }
        let c = self.held.iter().position(|(_, r)| r.holds(id))?;
        self.hint.store(c, Ordering::Relaxed);
        self.held[c].1.get(id, buf)
    }

    /// Forgets every chunk (a new connection starts from none).
    pub fn clear(&mut self) {
        self.tick = None;
        self.held.clear();
    }

    /// Applies `msg` and writes the client's whole view at its tick into `out` (its buffers
    /// reused): [`update`](Self::update), then [`view_into`](Self::view_into).
    pub fn apply(
        &mut self,
        decoder: &mut SnapshotDecoder,
        schema: &Schema,
        msg: &ChunksMessage,
        limits: &DecodeLimits,
        out: &mut Snapshot,
    ) -> Result<(), SnapshotError> {
        self.update(decoder, schema, msg, limits)?;
        let (held, merge) = (&self.held, &mut self.merge);
        merge.write(held, self.fields, msg.tick, out);
        Ok(())
    }

    /// Applies `msg` to the chunks held, without writing the view out: a client that reads a
    /// few entities ([`get`](Self::get)) pays for the rows the message changed, not for the
    /// view. Every rule of `PROTOCOL.md` §6.10 is checked. On error the set holds nothing.
    pub fn update(
        &mut self,
        decoder: &mut SnapshotDecoder,
        schema: &Schema,
        msg: &ChunksMessage,
        limits: &DecodeLimits,
    ) -> Result<(), SnapshotError> {
        self.fields = schema.field_count();
        let result = self.step(decoder, schema, msg, limits).and_then(|()| self.check(limits));
        match result {
            Ok(()) => self.tick = Some(msg.tick),
            Err(_) => self.clear(),
        }
        result
    }

    /// The view at the set's tick, its entities merged by ascending id, into `out` (its
    /// buffers reused).
    pub fn view_into(&self, out: &mut Snapshot) {
        let tick = self.tick.unwrap_or_default();
        Merge::default().write(&self.held, self.fields, tick, out);
    }

    /// The view's limits: at most `max_entities`, and an entity in one chunk only. Only an
    /// entity spawned by this message can be in two (the view held before was checked).
    fn check(&self, limits: &DecodeLimits) -> Result<(), SnapshotError> {
        let total = self.len();
        let limit = limits.max_entities.min(u32::MAX as usize);
        if total > limit {
            return Err(SnapshotError::CountTooLarge {
                what: "entities in the view's chunks",
                count: total as u64,
                limit: limit as u64,
                bit: 0,
            });
        }
        for &(id, chunk) in &self.spawned {
            let elsewhere = |(c, (_, r)): (usize, &(ChunkKey, Replica))| c != chunk && r.holds(id);
            if self.held.iter().enumerate().any(elsewhere) {
                return Err(SnapshotError::DuplicateEntity { entity: id });
            }
        }
        Ok(())
    }

    /// Builds `next` from `held` and the message, then makes it `held`; lists the spawned
    /// entities in `spawned`.
    fn step(
        &mut self,
        decoder: &mut SnapshotDecoder,
        schema: &Schema,
        msg: &ChunksMessage,
        limits: &DecodeLimits,
    ) -> Result<(), SnapshotError> {
        match msg.baseline {
            None => self.clear(),
            Some(b) if self.tick != Some(b) => {
                let actual = self.tick;
                return Err(SnapshotError::BaselineMismatch {
                    tick: msg.tick,
                    expected: b,
                    actual,
                });
            }
            Some(b) if !msg.tick.is_newer_than(b) => {
                return Err(SnapshotError::NotAfterBaseline { tick: msg.tick, baseline: b });
            }
            Some(_) => {}
        }
        self.spawned.clear();
        let mut held = std::mem::take(&mut self.held);
        let mut next = std::mem::take(&mut self.next);
        next.clear();
        let tick = msg.tick;
        let (mut dropped, mut listed) =
            (msg.dropped.iter().peekable(), msg.chunks.iter().peekable());
        let result = (|| {
            for (key, mut replica) in held.drain(..) {
                // Dropped or listed keys below this held one are not held.
                if let Some(&&k) = dropped.peek().filter(|k| ***k < key) {
                    return Err(SnapshotError::UnknownChunk { key: k, why: "not held" });
                }
                while let Some(c) = listed.next_if(|c| c.key < key) {
                    let chunk = self.new_chunk(decoder, schema, msg, c, limits, next.len())?;
                    next.push((c.key, chunk));
                }
                let is_dropped = dropped.next_if(|k| **k == key).is_some();
                let payload = listed.next_if(|c| c.key == key).map(|c| c.payload.as_slice());
                match (is_dropped, payload) {
                    (true, Some(_)) => {
                        return Err(SnapshotError::UnknownChunk { key, why: "also listed" });
                    }
                    (true, None) => {}
                    (false, Some(p)) if p == EMPTY_DELTA.as_slice() => {
                        return Err(SnapshotError::EmptyChunk { key, why: "listed unchanged" });
                    }
                    (false, payload) => {
                        let payload = payload.unwrap_or(&EMPTY_DELTA);
                        decoder.decode_replica(schema, tick, payload, limits, &mut replica)?;
                        if replica.is_empty() {
                            return Err(SnapshotError::EmptyChunk { key, why: "empty" });
                        }
                        let c = next.len();
                        self.spawned.extend(decoder.spawned_ids().iter().map(|&id| (id, c)));
                        next.push((key, replica));
                    }
                }
            }
            if let Some(&&k) = dropped.peek() {
                return Err(SnapshotError::UnknownChunk { key: k, why: "not held" });
            }
            for c in listed {
                let chunk = self.new_chunk(decoder, schema, msg, c, limits, next.len())?;
                next.push((c.key, chunk));
            }
            Ok(())
        })();
        held.clear();
        self.held = next;
        self.next = held;
        result
    }

    /// Decodes a chunk new to the client (in full), to be chunk number `c` of the next set.
    fn new_chunk(
        &mut self,
        decoder: &mut SnapshotDecoder,
        schema: &Schema,
        msg: &ChunksMessage,
        chunk: &Chunk,
        limits: &DecodeLimits,
        c: usize,
    ) -> Result<Replica, SnapshotError> {
        // Decoded into a snapshot of its own, which the replica then takes over.
        let mut snap = Snapshot::default();
        decoder.decode_into(schema, None, msg.tick, &chunk.payload, limits, &mut snap)?;
        if snap.is_empty() {
            return Err(SnapshotError::EmptyChunk { key: chunk.key, why: "empty" });
        }
        self.spawned.extend(snap.ids().iter().map(|&id| (id, c)));
        Ok(Replica::new(snap))
    }
}

/// Scratch for writing a view out: every entity as `id << 32 | its place in the chunks`,
/// sorted (one sort of integers, rather than a comparison of every chunk's head per entity),
/// and each place's chunk and row.
#[derive(Debug, Default)]
struct Merge {
    order: Vec<u64>,
    from: Vec<(u32, u32)>,
}

impl Merge {
    /// Writes the entities of `held` (checked: at most `u32::MAX`, each in one chunk), merged by
    /// ascending id and brought to `tick`, into `out`.
    fn write(
        &mut self,
        held: &[(ChunkKey, Replica)],
        stride: usize,
        tick: Tick,
        out: &mut Snapshot,
    ) {
        let (order, from) = (&mut self.order, &mut self.from);
        order.clear();
        from.clear();
        for (c, (_, replica)) in held.iter().enumerate() {
            for (row, id) in replica.ids().iter().enumerate() {
                order.push(u64::from(id.0) << 32 | from.len() as u64);
                from.push((c as u32, row as u32));
            }
        }
        order.sort_unstable();
        let total = order.len();
        *out = Snapshot { tick, stride, ..std::mem::take(out) };
        out.ids.clear();
        out.masks.clear();
        out.values.clear();
        out.ids.reserve(total);
        out.masks.reserve(total);
        out.values.reserve(total * stride);
        for key in order.iter() {
            let (c, row) = from[(key & u64::from(u32::MAX)) as usize];
            held[c as usize].1.push_row(row as usize, out);
        }
    }
}
