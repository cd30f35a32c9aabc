//! The room task: one per room, owning the room's [`Arena`] by value.
//!
//! Order of work in one tick ([`Room::tick`]):
//! 1. **drain inputs**: for each member, take the input for the next tick from its buffer, and
//!    for a shot choose the view time from its claim and the measured RTT ([`super::lagcomp`]);
//! 2. **step** the simulation (which also records the lag-compensation history);
//! 3. encode the tick's **events** (shots, hits, kills) once, into the pending batch;
//! 4. **build the snapshot** straight from the world into a shared [`TickFrame`];
//! 5. **publish** the frame and the events batch to every member's outbox in one lock (a
//!    snapshot a slow writer has not taken is replaced, never queued; the tick never waits);
//!    the writers encode deltas from the frame, sharing identical encodings.
//!
//! Between ticks the task handles joins, resumes, leaves and chat from its bounded command
//! channel. When behind schedule, [`FixedClock`] runs a capped number of catch-up ticks and the
//! snapshot is built only after the last of them.
//!
//! **Detached players** (session resume, PROTOCOL.md §1.3): a session whose connection dropped
//! without a goodbye leaves with `resumable`, and its player stays in the world (standing
//! still: no inputs, no snapshots) for `resume_grace`. A resuming session takes it back with
//! [`Room::resume`], which swaps in its new link; after the grace period the player is removed
//! as usual. Leaves name the link they come from, so a late leave from a replaced connection
//! never detaches the session that took over.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tickwire_protocol::codec::encode_server;
use tickwire_protocol::message::RESUME_SECRET_LEN;
use tickwire_protocol::message::{
    DisconnectReason, EventMessage, GameEvent, RejectReason, ServerMessage, Welcome,
};
use tickwire_protocol::{ClientId, EntityId, Snapshot, Tick};
use tickwire_sim::{Arena, FixedClock, PlayerCommand};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use super::frame::TickFrame;
use super::lagcomp::LagCompPolicy;
use super::link::{Batch, ClientLink, PublishOutcome, Published};
use super::{RoomCommand, RoomInfo};
use crate::metrics::Metrics;
use crate::registry::Rooms;
use crate::resume::ResumeTable;

/// Most ticks run back to back to catch up after a stall; the rest are dropped and counted.
pub const MAX_CATCH_UP: u32 = 4;

/// Per-room settings derived from the server configuration.
#[derive(Debug, Clone)]
pub struct RoomSettings {
    /// Most players.
    pub max_players: usize,
    /// How long a client may stay unable to take snapshots.
    pub slow_client: Duration,
    /// Never closes when empty (the default room).
    pub persistent: bool,
    /// How long an empty room stays open.
    pub grace: Duration,
    /// How long a dropped player is kept for a resume (zero: removed at once).
    pub resume_grace: Duration,
    /// The server's resume tickets; a player's is revoked when the room removes it.
    pub tickets: Arc<ResumeTable>,
}

#[derive(Debug)]
struct Member {
    link: Arc<ClientLink>,
    entity: EntityId,
    name: String,
    last_input: Option<Tick>,
    /// When the connection dropped, while the player waits for a resume.
    detached: Option<Instant>,
}

/// A room's state, owned by its task (or driven directly by benches and tests).
#[derive(Debug)]
pub struct Room {
    name: Arc<str>,
    arena: Arena,
    members: Vec<Member>,
    settings: RoomSettings,
    policy: LagCompPolicy,
    metrics: Arc<Metrics>,
    info: Arc<RoomInfo>,
    commands: Vec<PlayerCommand>,
    /// Events encoded since the last published snapshot.
    pending: Vec<Arc<[u8]>>,
    tick_interval: Duration,
}

impl Room {
    /// A room around an arena.
    pub fn new(
        name: Arc<str>,
        arena: Arena,
        settings: RoomSettings,
        metrics: Arc<Metrics>,
        info: Arc<RoomInfo>,
    ) -> Self {
        let tick_rate = arena.config().tick_rate;
        Self {
            name,
            arena,
            members: Vec::new(),
            settings,
            policy: LagCompPolicy { tick_rate },
            metrics,
            info,
            commands: Vec::new(),
            pending: Vec::new(),
            tick_interval: Duration::from_secs_f64(1.0 / f64::from(tick_rate)),
        }
    }

    /// The simulation (read-only).
    pub fn arena(&self) -> &Arena {
        &self.arena
    }

    /// Players in the room.
    pub fn player_count(&self) -> usize {
        self.members.len()
    }

    /// Runs the room until shutdown, or until it has been empty for its grace period.
    pub async fn run(
        mut self,
        mut rx: mpsc::Receiver<RoomCommand>,
        shutdown: CancellationToken,
        rooms: Weak<Rooms>,
    ) {
        let origin = Instant::now();
        let mut clock = FixedClock::new(self.arena.config().tick_rate, MAX_CATCH_UP);
        let mut empty_since: Option<Instant> = None;
        let mut dropped_seen = 0;
        info!(room = %self.name, "room open");
        loop {
            let deadline = origin + clock.next_deadline();
            tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    self.close_all(DisconnectReason::ServerShutdown);
                    break;
                }
                () = sleep_until(deadline) => {
                    let n = clock.advance(origin.elapsed());
                    for i in 0..n {
                        self.tick(i + 1 == n);
                    }
                    let dropped = clock.dropped_ticks();
                    self.metrics.ticks_dropped.inc_by(dropped - dropped_seen);
                    dropped_seen = dropped;
                }
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.handle(cmd),
                    None => break,
                },
            }
            if self.settings.persistent || !self.members.is_empty() {
                empty_since = None;
                continue;
            }
            let since = *empty_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= self.settings.grace {
                let closed = match rooms.upgrade() {
                    Some(rooms) => rooms.remove_if(&self.name, || rx.is_empty()),
                    None => true,
                };
                if closed {
                    break;
                }
            }
        }
        self.metrics.players.dec_by(self.members.len() as i64);
        let detached = self.members.iter().filter(|m| m.detached.is_some()).count();
        self.metrics.players_detached.dec_by(detached as i64);
        for m in &self.members {
            self.settings.tickets.revoke(m.link.id);
        }
        info!(room = %self.name, "room closed");
    }

    /// Handles one command from a session.
    pub fn handle(&mut self, cmd: RoomCommand) {
        match cmd {
            RoomCommand::Join { name, link, reply } => {
                let result = self.join(name, link);
                // A session that gave up waiting has gone; its Leave will follow.
                let _ = reply.send(result);
            }
            RoomCommand::Resume { link, reply } => {
                let result = self.resume(link);
                let _ = reply.send(result);
            }
            RoomCommand::Leave { link, reason, resumable } => {
                if resumable && !self.settings.resume_grace.is_zero() {
                    self.detach(&link);
                } else {
                    self.leave(&link, reason);
                }
            }
            RoomCommand::Chat { client, text } => {
                if let Some(m) = self.members.iter().find(|m| m.link.id == client) {
                    let event = GameEvent::Chat { from: client, name: m.name.clone(), text };
                    self.broadcast_event(event);
                }
            }
        }
    }

    /// Adds a player, or says why not.
    pub fn join(&mut self, name: String, link: Arc<ClientLink>) -> Result<Welcome, RejectReason> {
        if self.members.len() >= self.settings.max_players {
            return Err(RejectReason::RoomFull);
        }
        if self.members.iter().any(|m| m.link.id == link.id) {
            return Err(RejectReason::HelloExpected);
        }
        let entity = self.arena.add_player(&name);
        self.send_roster(&link);
        let welcome = self.welcome(link.id, entity, false);
        let event = GameEvent::Joined { client: link.id, entity, name: name.clone() };
        self.members.push(Member { link, entity, name, last_input: None, detached: None });
        self.broadcast_event(event);
        self.metrics.players.inc();
        self.info.players.store(self.members.len(), std::sync::atomic::Ordering::Relaxed);
        debug!(room = %self.name, client = %welcome.client_id, %entity, "player joined");
        Ok(welcome)
    }

    /// Gives a detached (or still attached) player to a resuming session's `link`, which
    /// carries the player's client id; the old link, if still open, is closed as `Replaced`.
    pub fn resume(&mut self, link: Arc<ClientLink>) -> Result<Welcome, RejectReason> {
        let Some(i) = self.members.iter().position(|m| m.link.id == link.id) else {
            return Err(RejectReason::ResumeFailed);
        };
        self.send_roster_except(&link, i);
        let m = &mut self.members[i];
        let old = std::mem::replace(&mut m.link, link);
        m.last_input = None;
        let entity = m.entity;
        if m.detached.take().is_some() {
            self.metrics.players_detached.dec();
        } else {
            old.close(DisconnectReason::Replaced);
        }
        self.metrics.resumes.get_or_create(&[("outcome", "resumed")]).inc();
        debug!(room = %self.name, client = %old.id, %entity, "player resumed");
        Ok(self.welcome(old.id, entity, true))
    }

    /// Keeps the player of `link` for a resume (if `link` is still its current link).
    pub fn detach(&mut self, link: &Arc<ClientLink>) {
        let Some(m) = self.members.iter_mut().find(|m| Arc::ptr_eq(&m.link, link)) else {
            return;
        };
        if m.detached.is_none() {
            m.detached = Some(Instant::now());
            self.metrics.players_detached.inc();
            debug!(room = %self.name, client = %link.id, "player detached, awaiting resume");
        }
    }

    /// Removes the player of `link` (if `link` is still its current link); the others see the
    /// despawn in the next snapshot and a `Left` event.
    pub fn leave(&mut self, link: &Arc<ClientLink>, reason: DisconnectReason) {
        if let Some(i) = self.members.iter().position(|m| Arc::ptr_eq(&m.link, link)) {
            self.remove(i, reason);
        }
    }

    fn remove(&mut self, i: usize, reason: DisconnectReason) {
        let m = self.members.swap_remove(i);
        if m.detached.is_some() {
            self.metrics.players_detached.dec();
        }
        let client = m.link.id;
        self.settings.tickets.revoke(client);
        self.arena.remove_player(m.entity);
        self.metrics.players.dec();
        self.info.players.store(self.members.len(), std::sync::atomic::Ordering::Relaxed);
        debug!(room = %self.name, %client, %reason, "player left");
        self.broadcast_event(GameEvent::Left { client, name: m.name });
    }

    /// Removes the detached players whose grace period has ended.
    fn expire_detached(&mut self, now: Instant) {
        let grace = self.settings.resume_grace;
        let mut i = 0;
        while i < self.members.len() {
            if self.members[i].detached.is_some_and(|t| now.duration_since(t) >= grace) {
                self.metrics.resumes.get_or_create(&[("outcome", "expired")]).inc();
                self.remove(i, DisconnectReason::Timeout);
            } else {
                i += 1;
            }
        }
    }

    fn welcome(&self, client_id: ClientId, entity: EntityId, resumed: bool) -> Welcome {
        let config = self.arena.config();
        Welcome {
            client_id,
            entity,
            tick_rate: config.tick_rate,
            server_tick: self.arena.tick(),
            room: self.name.to_string(),
            max_rewind_ms: u16::try_from(config.max_rewind_ms).unwrap_or(u16::MAX),
            resumed,
            // The session fills in the secret from the server's resume table.
            resume_secret: [0; RESUME_SECRET_LEN],
            resume_grace_ms: u32::try_from(self.settings.resume_grace.as_millis())
                .unwrap_or(u32::MAX),
        }
    }

    /// The newcomer learns who is here in one batch (whatever the room's size).
    fn send_roster(&self, link: &ClientLink) {
        self.send_roster_except(link, usize::MAX);
    }

    fn send_roster_except(&self, link: &ClientLink, skip: usize) {
        let tick = self.arena.tick();
        let roster: Vec<Arc<[u8]>> = self
            .members
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != skip)
            .map(|(_, m)| {
                let event =
                    GameEvent::Joined { client: m.link.id, entity: m.entity, name: m.name.clone() };
                event_bytes(tick, event)
            })
            .collect();
        if !roster.is_empty() {
            link.send(roster.into());
        }
    }

    /// Runs one tick (see the module docs); builds and publishes a snapshot when `publish`.
    pub fn tick(&mut self, publish: bool) {
        let started = Instant::now();
        let next = self.arena.tick().next();
        self.commands.clear();
        self.expire_detached(started);
        for m in &mut self.members {
            if m.detached.is_some() {
                continue;
            }
            let (input, last) = m.link.take_input(next);
            m.last_input = last;
            let Some(input) = input else { continue };
            let view = input.fire().then(|| {
                let choice = self.policy.choose(&input, m.link.rtt());
                if choice.corrected {
                    self.metrics.rewind_claims_corrected.inc();
                }
                choice.view
            });
            self.commands.push(PlayerCommand { entity: m.entity, input, view });
        }
        let out = self.arena.step(&self.commands);
        let tick_rate = f64::from(self.arena.config().tick_rate);
        for r in &out.rewinds {
            let outcome = if r.hit.is_some() { "hit" } else { "miss" };
            self.metrics.rewinds.get_or_create(&[("outcome", outcome)]).inc();
            self.metrics.rewind_seconds.observe(f64::from(r.applied_ticks) / tick_rate);
        }
        for event in out.events {
            self.broadcast_event(event);
        }
        if publish {
            let frame = Arc::new(TickFrame::new(self.arena.snapshot(Snapshot::default())));
            self.publish(&frame);
            self.info.update(self.members.len(), self.arena.entity_count(), frame);
        }
        let elapsed = started.elapsed();
        self.metrics.tick_duration.observe(elapsed.as_secs_f64());
        if elapsed > self.tick_interval {
            self.metrics.tick_overruns.inc();
        }
    }

    fn publish(&mut self, frame: &Arc<TickFrame>) {
        let now = Instant::now();
        let events: Option<Batch> =
            (!self.pending.is_empty()).then(|| std::mem::take(&mut self.pending).into());
        for m in self.members.iter().filter(|m| m.detached.is_none()) {
            let published = Published { frame: frame.clone(), last_input: m.last_input };
            match m.link.publish(published, events.as_ref(), now, self.settings.slow_client) {
                PublishOutcome::Queued => {}
                PublishOutcome::Superseded => {
                    self.metrics.snapshots_dropped.inc();
                }
                PublishOutcome::TooSlow => {
                    self.metrics.snapshots_dropped.inc();
                    debug!(room = %self.name, client = %m.link.id, "client too slow, disconnecting");
                }
            };
        }
    }

    /// Queues an event for everyone; it goes out with the next published snapshot, in one
    /// batch per tick encoded once for the whole room.
    fn broadcast_event(&mut self, event: GameEvent) {
        if !self.members.is_empty() {
            self.pending.push(event_bytes(self.arena.tick(), event));
        }
    }

    fn close_all(&self, reason: DisconnectReason) {
        for m in &self.members {
            m.link.close(reason);
        }
    }
}

fn event_bytes(tick: Tick, event: GameEvent) -> Arc<[u8]> {
    encode_server(&ServerMessage::Event(EventMessage { tick, event })).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::link::Outgoing;
    use tickwire_protocol::ClientId;
    use tickwire_sim::{ArenaConfig, NpcConfig};

    fn room(max_players: usize) -> Room {
        let config = ArenaConfig {
            npcs: NpcConfig { count: 0, ..NpcConfig::default() },
            ..ArenaConfig::default()
        };
        let settings = RoomSettings {
            max_players,
            slow_client: Duration::from_secs(1),
            persistent: true,
            grace: Duration::ZERO,
            resume_grace: Duration::from_secs(30),
            tickets: Arc::default(),
        };
        let arena = Arena::new(config).expect("valid arena");
        Room::new("test".into(), arena, settings, Arc::new(Metrics::new()), Arc::default())
    }

    #[test]
    fn a_crowded_room_welcomes_its_last_joiner_with_one_roster_batch() {
        let mut room = room(1000);
        let links: Vec<Arc<ClientLink>> =
            (0..900).map(|i| Arc::new(ClientLink::new(ClientId(i)))).collect();
        for (i, link) in links.iter().enumerate() {
            room.join(format!("p{i}"), link.clone()).expect("room has space");
        }
        let mut out = Outgoing::default();
        links[899].take(&mut out);
        assert_eq!(out.close, None, "the 900th joiner must not be dropped");
        assert_eq!(out.batches.len(), 1);
        assert_eq!(out.batches[0].len(), 899, "one Joined per player already there");
        // Everyone's join announcements go out with the next tick, as one shared batch.
        room.tick(true);
        links[0].take(&mut out);
        assert_eq!(out.close, None);
        assert!(out.snapshot.is_some());
        let announced: usize = out.batches.iter().map(|b| b.len()).sum();
        assert_eq!(announced, 900);
        assert!(room.join("late".into(), Arc::new(ClientLink::new(ClientId(5000)))).is_ok());
        assert_eq!(room.join("x".into(), links[3].clone()), Err(RejectReason::HelloExpected));
    }

    #[test]
    fn room_full_is_refused() {
        let mut room = room(1);
        room.join("a".into(), Arc::new(ClientLink::new(ClientId(1)))).expect("space");
        assert_eq!(
            room.join("b".into(), Arc::new(ClientLink::new(ClientId(2)))),
            Err(RejectReason::RoomFull)
        );
    }
}
