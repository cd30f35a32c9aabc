//! The room task: one per room, owning the room's [`Simulation`] (its game and world) by value.
//! It is generic over the game type; everything it hands to sessions is bytes.
//!
//! Order of work in one tick ([`Room::tick`]):
//! 1. **commands**: each member's queued game commands (in member order) go to the game;
//! 2. **drain inputs**: for each member, take the input for the next tick from its buffer,
//!    decode it with the game's schema, and choose the view time to honour from its claim and
//!    the measured RTT ([`super::lagcomp`]);
//! 3. **step** the simulation (which also records the lag-compensation history);
//! 4. encode the tick's **events** once each (by audience), into the pending messages;
//! 5. **build the snapshot** straight from the world into a shared [`TickFrame`] (with interest
//!    management, one more frame per distinct view: `publish.rs`);
//! 6. **publish** the frame and the events to every member's outbox in one lock per member (a
//!    snapshot a slow writer has not taken is replaced, never queued; the tick never waits);
//!    the writers encode deltas from the frame, sharing identical encodings;
//! 7. after the tick's time is recorded, the **fan-out**: each member's writer is woken, or,
//!    for a plain TCP session that lent the room its socket, the room renders and writes the
//!    member's messages itself (`session::direct`; no task woken per client). With many
//!    members the fan-out runs in one task per worker, yielding between batches of members.
//!
//! Between ticks the task handles joins, resumes, leaves and chat from its bounded command
//! channel. When behind schedule, [`FixedClock`] runs a capped number of catch-up ticks and the
//! snapshot is built only after the last of them.
//!
//! **Detached players** (session resume, PROTOCOL.md §1.3): a session whose connection dropped
//! without a goodbye leaves with `resumable`, and its player stays in the world (the game hears
//! [`Game::detach`]; no inputs, no snapshots) for `resume_grace`. A resuming session takes it
//! back with [`Room::resume`], which swaps in its new link; after the grace period the player
//! is removed as usual. Leaves name the link they come from, so a late leave from a replaced
//! connection never detaches the session that took over.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tickwire_protocol::codec::encode_server;
use tickwire_protocol::message::{
    CommandMessage, DisconnectReason, EventMessage, RESUME_SECRET_LEN, RejectReason, RoomEvent,
    ServerMessage, Welcome,
};
use tickwire_protocol::{ClientId, EntityId, Snapshot, Tick};
use tickwire_recording::format::Action;
use tickwire_sim::{
    FixedClock, Game, InputOf, JoinRefusal, JoinRequest, LeaveReason, PlayerInput, Simulation,
};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::frame::TickFrame;
use super::lagcomp::LagCompPolicy;
use super::link::ClientLink;
use super::{RoomCommand, RoomInfo};
use crate::games::GameInfo;
use crate::metrics::Metrics;
use crate::registry::Rooms;
use crate::resume::ResumeTable;

mod admin;
mod publish;
mod record;
mod watch;

pub use watch::SPECTATOR_ENTITY;

/// Most ticks run back to back to catch up after a stall; the rest are dropped and counted.
pub const MAX_CATCH_UP: u32 = 4;

/// Members a tick's fan-out wakes or writes to in a row ([`Room::tick`], phase 7): fewer are
/// done by the room itself; more are spread over the runtime's workers, in batches of this
/// many between yields.
pub const FAN_OUT_BATCH: usize = 64;

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
    /// Longest lag-compensation rewind, milliseconds (told to clients in the welcome).
    pub max_rewind_ms: u32,
    /// The server's resume tickets; a player's is revoked when the room removes it.
    pub tickets: Arc<ResumeTable>,
}

#[derive(Debug)]
struct Member {
    link: Arc<ClientLink>,
    /// The hecs entity it controls, and that entity's network id.
    entity: hecs::Entity,
    id: EntityId,
    name: String,
    last_input: Option<Tick>,
    /// When the connection dropped, while the player waits for a resume.
    detached: Option<Instant>,
    /// A spectator (`watch.rs`): no entity, no game calls, sees everything.
    spectator: bool,
}

/// A room's state, owned by its task (or driven directly by benches and tests).
pub struct Room<G: Game> {
    name: Arc<str>,
    game: Arc<GameInfo>,
    sim: Simulation<G>,
    /// Sorted by client id, so commands and inputs reach the game in a deterministic order.
    members: Vec<Member>,
    settings: RoomSettings,
    policy: LagCompPolicy,
    metrics: Arc<Metrics>,
    info: Arc<RoomInfo>,
    inputs: Vec<PlayerInput<InputOf<G>>>,
    commands: Vec<CommandMessage>,
    /// Messages encoded since the last published snapshot, with their audience.
    pending: Vec<publish::Pending>,
    /// The attached members and their viewpoints, rebuilt each tick into the same buffer.
    attached: Vec<(ClientId, Option<tickwire_sim::Viewpoint>)>,
    /// The members published to this tick, for the fan-out (kept to reuse its buffer).
    woken: Vec<Arc<ClientLink>>,
    tick_interval: Duration,
    /// Bytes sent to players who have left (the room's total adds its members' own).
    departed_bytes: u64,
    /// An operator closed the room: the task ends after the command that set it.
    closing: bool,
    /// `--record`: gathers what the simulation consumes, tick by tick, for the room's writer
    /// thread (`None`: not recorded). See [`crate::recording`].
    recorder: Option<crate::recording::Recorder>,
}

impl<G: Game> std::fmt::Debug for Room<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Room")
            .field("name", &self.name)
            .field("game", &self.game.name)
            .field("members", &self.members.len())
            .finish_non_exhaustive()
    }
}

impl<G: Game> Room<G> {
    /// A room around a simulation.
    pub fn new(
        name: Arc<str>,
        sim: Simulation<G>,
        game: Arc<GameInfo>,
        settings: RoomSettings,
        metrics: Arc<Metrics>,
        info: Arc<RoomInfo>,
    ) -> Self {
        let tick_rate = sim.tick_rate();
        Self {
            name,
            game,
            sim,
            members: Vec::new(),
            settings,
            policy: LagCompPolicy { tick_rate },
            metrics,
            info,
            inputs: Vec::new(),
            commands: Vec::new(),
            pending: Vec::new(),
            attached: Vec::new(),
            woken: Vec::new(),
            tick_interval: Duration::from_secs_f64(1.0 / f64::from(tick_rate)),
            departed_bytes: 0,
            closing: false,
            recorder: None,
        }
    }

    /// The simulation (read-only).
    pub fn sim(&self) -> &Simulation<G> {
        &self.sim
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
        let mut clock = FixedClock::new(self.sim.tick_rate(), MAX_CATCH_UP);
        let mut empty_since: Option<Instant> = None;
        let mut dropped_seen = 0;
        info!(room = %self.name, game = self.game.name, "room open");
        loop {
            let deadline = origin + clock.next_deadline();
            tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    self.close_all(DisconnectReason::ServerShutdown);
                    self.end_recording(tickwire_recording::format::EndReason::ServerShutdown);
                    break;
                }
                () = sleep_until(deadline) => {
                    let n = clock.advance(origin.elapsed());
                    if n > 1 {
                        self.game.metrics.ticks_caught_up.inc_by(u64::from(n - 1));
                    }
                    for i in 0..n {
                        self.tick(i + 1 == n);
                    }
                    let (next, due) = (self.sim.tick().next(), origin + clock.next_deadline());
                    self.info.set_schedule(next, due, self.tick_interval);
                    let dropped = clock.dropped_ticks();
                    self.game.metrics.ticks_dropped.inc_by(dropped - dropped_seen);
                    dropped_seen = dropped;
                }
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.handle(cmd),
                    None => break,
                },
            }
            if self.closing {
                if let Some(rooms) = rooms.upgrade() {
                    rooms.remove_if(&self.name, || true);
                }
                break;
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
        self.end_recording(tickwire_recording::format::EndReason::RoomClosed);
        let gm = &self.game.metrics;
        gm.players.dec_by(self.members.len() as i64);
        let detached = self.members.iter().filter(|m| m.detached.is_some()).count();
        gm.players_detached.dec_by(detached as i64);
        for m in &self.members {
            self.settings.tickets.revoke(m.link.id);
        }
        info!(room = %self.name, "room closed");
    }

    /// Handles one command from a session.
    pub fn handle(&mut self, cmd: RoomCommand) {
        match cmd {
            RoomCommand::Join { name, account, link, spectator, reply } => {
                let result = if spectator {
                    self.watch(name, account, link)
                } else {
                    self.join(name, account, link)
                };
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
                    let event = RoomEvent::Chat { from: client, name: m.name.clone(), text };
                    self.broadcast(event);
                }
            }
            RoomCommand::Kick { client, reply } => {
                let _ = reply.send(self.kick(client));
            }
            RoomCommand::Close { reply } => {
                let _ = reply.send(self.close());
            }
            RoomCommand::Players { reply } => {
                let _ = reply.send(self.players(Instant::now()));
            }
        }
    }

    /// Adds a player, or says why not.
    pub fn join(
        &mut self,
        name: String,
        account: Option<String>,
        link: Arc<ClientLink>,
    ) -> Result<Welcome, RejectReason> {
        self.has_room_for(&link)?;
        let who = JoinRequest { player: link.id, name: &name, account: account.as_deref() };
        let joined = self.sim.join(&who);
        self.record_join(&who, &joined);
        let joined = joined.map_err(|refusal| match refusal {
            JoinRefusal::Full => RejectReason::RoomFull,
            JoinRefusal::Refused { code } => RejectReason::JoinRefused { code },
        });
        let joined = match joined {
            Ok(joined) => joined,
            Err(reason) => {
                self.collect_events();
                return Err(reason);
            }
        };
        self.send_roster(&link, None);
        let welcome = self.welcome(link.id, joined.id, false);
        let event = RoomEvent::Joined { client: link.id, entity: joined.id, name: name.clone() };
        let member = Member {
            link,
            entity: joined.entity,
            id: joined.id,
            name,
            last_input: None,
            detached: None,
            spectator: false,
        };
        self.insert(member);
        self.broadcast(event);
        // What the game emitted while joining, after `Joined`, to the new member too.
        self.collect_events();
        self.game.metrics.players.inc();
        self.info.players.store(self.members.len(), std::sync::atomic::Ordering::Relaxed);
        debug!(room = %self.name, client = %welcome.client_id, entity = %joined.id, "player joined");
        Ok(welcome)
    }

    /// Whether `link` may become a member: the room is not full, and it is not one already.
    fn has_room_for(&self, link: &ClientLink) -> Result<(), RejectReason> {
        if self.members.len() >= self.settings.max_players {
            return Err(RejectReason::RoomFull);
        }
        if self.members.iter().any(|m| m.link.id == link.id) {
            return Err(RejectReason::HelloExpected);
        }
        Ok(())
    }

    /// Adds a member, keeping the members sorted by client id.
    fn insert(&mut self, member: Member) {
        let at = self.members.partition_point(|m| m.link.id < member.link.id);
        self.members.insert(at, member);
    }

    /// Gives a detached (or still attached) player to a resuming session's `link`, which
    /// carries the player's client id; the old link, if still open, is closed as `Replaced`.
    pub fn resume(&mut self, link: Arc<ClientLink>) -> Result<Welcome, RejectReason> {
        let Some(i) = self.members.iter().position(|m| m.link.id == link.id) else {
            return Err(RejectReason::ResumeFailed);
        };
        self.send_roster(&link, Some(i));
        let m = &mut self.members[i];
        let old = std::mem::replace(&mut m.link, link);
        m.last_input = None;
        let (client, id, spectator) = (old.id, m.id, m.spectator);
        if m.detached.take().is_some() {
            self.game.metrics.players_detached.dec();
            if !spectator {
                self.sim.resume(client);
                self.note(|| Action::Resume { client });
                self.collect_events();
            }
        } else {
            old.close(DisconnectReason::Replaced);
        }
        self.metrics.resumes.get_or_create(&[("outcome", "resumed")]).inc();
        debug!(room = %self.name, %client, entity = %id, "player resumed");
        Ok(self.welcome(client, id, true))
    }

    /// Keeps the player of `link` for a resume (if `link` is still its current link).
    pub fn detach(&mut self, link: &Arc<ClientLink>) {
        let Some(m) = self.members.iter_mut().find(|m| Arc::ptr_eq(&m.link, link)) else {
            return;
        };
        if m.detached.is_none() {
            m.detached = Some(Instant::now());
            self.game.metrics.players_detached.inc();
            if !m.spectator {
                self.sim.detach(link.id);
                let client = link.id;
                self.note(|| Action::Detach { client });
                self.collect_events();
            }
            debug!(room = %self.name, client = %link.id, "player detached, awaiting resume");
        }
    }

    /// Removes the player of `link` (if `link` is still its current link); the others see the
    /// despawn in the next snapshot and a `Left` event.
    pub fn leave(&mut self, link: &Arc<ClientLink>, reason: DisconnectReason) {
        if let Some(i) = self.members.iter().position(|m| Arc::ptr_eq(&m.link, link)) {
            let why = match reason {
                DisconnectReason::ClientLeft => LeaveReason::Left,
                other => LeaveReason::Ended(other),
            };
            self.remove(i, why);
        }
    }

    fn remove(&mut self, i: usize, why: LeaveReason) {
        let m = self.members.remove(i);
        self.departed_bytes += m.link.stats.bytes_out();
        if m.detached.is_some() {
            self.game.metrics.players_detached.dec();
        }
        let client = m.link.id;
        self.settings.tickets.revoke(client);
        self.info.players.store(self.members.len(), std::sync::atomic::Ordering::Relaxed);
        if m.spectator {
            debug!(room = %self.name, %client, ?why, "spectator left");
            return;
        }
        self.sim.leave(client, why);
        self.note(|| Action::Leave { client, reason: why });
        self.collect_events();
        self.game.metrics.players.dec();
        debug!(room = %self.name, %client, ?why, "player left");
        self.broadcast(RoomEvent::Left { client, name: m.name });
    }

    /// Removes the detached players whose grace period has ended.
    fn expire_detached(&mut self, now: Instant) {
        let grace = self.settings.resume_grace;
        let mut i = 0;
        while i < self.members.len() {
            if self.members[i].detached.is_some_and(|t| now.duration_since(t) >= grace) {
                self.metrics.resumes.get_or_create(&[("outcome", "expired")]).inc();
                self.remove(i, LeaveReason::Expired);
            } else {
                i += 1;
            }
        }
    }

    fn welcome(&self, client_id: ClientId, entity: EntityId, resumed: bool) -> Welcome {
        Welcome {
            client_id,
            entity,
            tick_rate: self.sim.tick_rate(),
            server_tick: self.sim.tick(),
            room: self.name.to_string(),
            max_rewind_ms: u16::try_from(self.settings.max_rewind_ms).unwrap_or(u16::MAX),
            resumed,
            // The session fills in the secret from the server's resume table.
            resume_secret: [0; RESUME_SECRET_LEN],
            resume_grace_ms: u32::try_from(self.settings.resume_grace.as_millis())
                .unwrap_or(u32::MAX),
        }
    }

    /// The newcomer learns who is here in one batch (whatever the room's size), but for the
    /// member at `skip` (a resuming player, who is told who it is by its welcome).
    fn send_roster(&self, link: &ClientLink, skip: Option<usize>) {
        let tick = self.sim.tick();
        let roster: Vec<Arc<[u8]>> = self
            .members
            .iter()
            .enumerate()
            .filter(|&(i, m)| Some(i) != skip && !m.spectator)
            .map(|(_, m)| {
                let event =
                    RoomEvent::Joined { client: m.link.id, entity: m.id, name: m.name.clone() };
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
        self.expire_detached(started);
        self.apply_commands();
        self.take_inputs();
        self.sim.step(&self.inputs);
        self.count_rewinds();
        self.collect_events();
        let frame = if publish { self.publish_snapshot() } else { None };
        self.record_step(frame);
        let elapsed = started.elapsed();
        self.info.record_tick(elapsed);
        self.game.metrics.tick_duration.observe(elapsed.as_secs_f64());
        if elapsed > self.tick_interval {
            self.game.metrics.tick_overruns.inc();
        }
        self.fan_out();
    }

    /// Phase 7: wakes the writer of every member published to, or writes to its socket
    /// ([`ClientLink::wake`]). Up to [`FAN_OUT_BATCH`] members, here; past that, in one task per
    /// worker of the runtime, each yielding after every [`FAN_OUT_BATCH`] members so that the
    /// sessions' readers on the same workers take their clients' inputs in between (a fan-out
    /// of 2,000 members renders and writes for milliseconds).
    fn fan_out(&mut self) {
        let runtime = tokio::runtime::Handle::try_current().ok();
        let Some(rt) = runtime.filter(|_| self.woken.len() > FAN_OUT_BATCH) else {
            self.woken.drain(..).for_each(|link| link.wake());
            return;
        };
        let share = self.woken.len().div_ceil(rt.metrics().num_workers().max(1));
        for part in self.woken.chunks(share) {
            let part = part.to_vec();
            rt.spawn(async move {
                for batch in part.chunks(FAN_OUT_BATCH) {
                    batch.iter().for_each(|link| link.wake());
                    tokio::task::yield_now().await;
                }
            });
        }
        self.woken.clear();
    }

    /// Phase 1: every member's queued commands, in member order.
    fn apply_commands(&mut self) {
        let schema = self.game.schema;
        for i in 0..self.members.len() {
            self.members[i].link.take_commands(&mut self.commands);
            if self.members[i].spectator {
                self.commands.clear(); // a spectator's commands are ignored
            }
            if self.commands.is_empty() {
                continue;
            }
            let client = self.members[i].link.id;
            for cmd in std::mem::take(&mut self.commands) {
                match schema.decode_command(cmd.kind, &cmd.payload) {
                    Ok(command) => {
                        self.sim.command(client, command);
                        if let Some(r) = &mut self.recorder {
                            let CommandMessage { kind, payload } = cmd;
                            r.action(Action::Command { client, kind, payload });
                        }
                    }
                    // The session checked it: only a schema bug gets here.
                    Err(e) => warn!(room = %self.name, %client, "command refused: {e}"),
                }
            }
        }
        self.collect_events();
    }

    /// Phase 2: the input of every attached member for the next tick.
    fn take_inputs(&mut self) {
        let next = self.sim.tick().next();
        let schema = self.game.schema;
        self.inputs.clear();
        for m in &mut self.members {
            if m.detached.is_some() {
                continue;
            }
            let (taken, last) = m.link.take_input(next);
            m.last_input = last;
            // A spectator's inputs are taken (its buffer stays healthy) and ignored.
            let Some(taken) = taken.filter(|_| !m.spectator) else { continue };
            let Ok(input) = schema.decode_input(taken.input.payload()) else {
                // The session checked it: only a schema bug gets here.
                continue;
            };
            let choice = self.policy.choose(taken.input.tick, taken.input.view, m.link.rtt());
            if let Some(r) = &mut self.recorder {
                let payload = taken.input.payload();
                r.input(m.link.id, payload, taken.repeated, choice.view, choice.corrected);
            }
            self.inputs.push(PlayerInput {
                player: m.link.id,
                entity: m.entity,
                input,
                repeated: taken.repeated,
                view: choice.view,
                view_corrected: choice.corrected,
            });
        }
    }

    fn count_rewinds(&mut self) {
        let gm = &self.game.metrics;
        let tick_rate = f64::from(self.sim.tick_rate());
        for r in self.sim.drain_rewinds() {
            if r.hit {
                gm.rewind_hits.inc()
            } else {
                gm.rewind_misses.inc()
            };
            gm.rewind_seconds.observe(f64::from(r.applied_ticks) / tick_rate);
            if r.corrected {
                gm.rewind_claims_corrected.inc();
            }
        }
    }

    /// Builds, publishes and returns the tick's frame (`None` if the game wrote a bad
    /// snapshot).
    fn publish_snapshot(&mut self) -> Option<Arc<TickFrame>> {
        let frame = self.build_frame()?;
        self.publish(&frame);
        self.info.update(self.members.len(), self.sim.entity_count(), frame.clone());
        let present: u64 = self.members.iter().map(|m| m.link.stats.bytes_out()).sum();
        self.info.set_bytes_out(self.departed_bytes + present);
        Some(frame)
    }

    /// The current tick's snapshot as a frame (`None`, logged, if the game wrote a bad one).
    fn build_frame(&self) -> Option<Arc<TickFrame>> {
        let snapshot = match self.sim.snapshot(Snapshot::default()) {
            Ok(s) => s,
            Err(e) => {
                warn!(room = %self.name, "the game wrote a bad snapshot: {e}");
                return None;
            }
        };
        let schema = self.game.schema.components();
        Some(Arc::new(TickFrame::new(snapshot, schema)))
    }

    fn close_all(&self, reason: DisconnectReason) {
        for m in &self.members {
            m.link.close(reason);
        }
    }
}

fn event_bytes(tick: Tick, event: RoomEvent) -> Arc<[u8]> {
    encode_server(&ServerMessage::Event(EventMessage { tick, event })).into()
}
