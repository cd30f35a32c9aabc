//! Interest management, end to end in memory: the real arena room (interest on: cells of 100
//! units, a 3×3 view, 10 units of hysteresis) with players driven across the map, every byte
//! each client receives rendered as its writer renders it, and decoded as its client decodes it
//! (against the snapshot it last received). Checked every tick, for every client:
//! - **privacy**: no entity farther than the view can reach (per axis: (radius + 1) cells plus
//!   twice the hysteresis) is in what the client received;
//! - **completeness and exactness**: every entity within radius cells less twice the hysteresis
//!   is there, and every entity received has exactly the values a full-view client has;
//! - **shared encoding**: the payloads encoded in a tick are at most the distinct views plus the
//!   clients that changed view, for clients that read views as snapshots (protocol version 4);
//!   for those that read them as chunks (version 5, every third client here), at most two per
//!   chunk in use (a delta, and a full one for clients new to the chunk), however many clients
//!   hold it;
//! - **events follow interest**: the players fire (a shot is tied to the shooter's point, a hit
//!   to its target): a client receives every shot fired within its sure range and none beyond
//!   its reach, and a hit only on an entity it sees.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use tickwire_arena::{Arena, ArenaConfig, ArenaEvent, ArenaInput, BODY, Body};
use tickwire_protocol::codec::decode_server;
use tickwire_protocol::message::{InputFrame, RoomEvent, ServerMessage, ViewTime};
use tickwire_protocol::snapshot::{ChunkSet, DecodeLimits, SnapshotDecoder, decode};
use tickwire_protocol::{ClientId, EntityId, GameProtocol, Snapshot};
use tickwire_server::room::link::Outgoing;
use tickwire_server::room::task::{Room, RoomSettings};
use tickwire_server::room::{ClientLink, RoomInfo, Shown};
use tickwire_server::{GameInfo, Metrics};
use tickwire_sim::glam::Vec2;
use tickwire_sim::{HostSettings, InterestGrid, Simulation};

const GRID: InterestGrid = InterestGrid { cell: 100.0, radius: 1, hysteresis: 10.0 };

/// One client as its session and its decoder see it.
struct Client {
    link: Arc<ClientLink>,
    entity: EntityId,
    /// What its writer last sent, and what the client decoded from it.
    last_sent: Option<Shown>,
    world: Option<Snapshot>,
    /// The chunks it holds, when it reads views as chunks.
    chunks: Option<ChunkSet>,
    /// Where it heads (it turns at the walls of the world).
    heading: Vec2,
    /// The shots (shooter, origin) and the hits' targets it received this tick.
    shots: Vec<(EntityId, Vec2)>,
    hits: Vec<EntityId>,
}

fn room(players: usize) -> (Room<Arena>, Arc<GameInfo>) {
    let mut config = ArenaConfig::default();
    config.npcs.count = 400;
    config.npcs.moving_fraction = 0.5;
    config.rules.walls.clear();
    config.interest = Some(GRID);
    let settings = RoomSettings {
        max_players: players,
        slow_client: Duration::from_secs(30),
        persistent: true,
        grace: Duration::from_secs(30),
        resume_grace: Duration::ZERO,
        max_rewind_ms: 250,
        tickets: Arc::default(),
    };
    let metrics = Arc::new(Metrics::new());
    let host = HostSettings::default();
    let game = GameInfo::new::<Arena>(&config, 11, host, &metrics).expect("a valid game");
    let sim = Simulation::<Arena>::new(&config, 11, host).expect("a valid config");
    let info = Arc::new(RoomInfo::default());
    (Room::new("interest".into(), sim, game.clone(), settings, metrics, info), game)
}

fn body(s: &Snapshot, id: EntityId) -> Option<Body> {
    s.get(id)?.get(tickwire_arena::schema(), BODY)
}

/// Per axis, the larger distance between two points.
fn chebyshev(a: Vec2, b: Vec2) -> f32 {
    (a - b).abs().max_element()
}

/// Renders and decodes what `c` was published this tick; returns how many payloads that
/// encoded.
fn receive(c: &mut Client, out: &mut Outgoing, buf: &mut Vec<u8>) -> usize {
    c.link.take(out);
    c.shots.clear();
    c.hits.clear();
    let game = <tickwire_arena::ArenaProtocol as GameProtocol>::schema();
    for message in out.batches.drain(..).flat_map(|b| b.to_vec()) {
        let Ok(ServerMessage::Event(e)) = decode_server(&message) else { continue };
        let RoomEvent::Game { kind, payload } = e.event else { continue };
        match game.decode_event::<ArenaEvent>(kind, &payload).expect("an arena event") {
            ArenaEvent::Shot { shooter, from_x, from_y, .. } => {
                c.shots.push((shooter, Vec2::new(from_x, from_y)));
            }
            ArenaEvent::Hit { target, .. } => c.hits.push(target),
            _ => {}
        }
    }
    let published = out.snapshot.take().expect("a snapshot every tick");
    let encoded = published.render(c.last_sent.as_ref(), buf);
    let schema = tickwire_arena::schema();
    let msg = match (decode_server(buf).expect("a server message"), &mut c.chunks) {
        (ServerMessage::Snapshot(msg), None) => msg,
        (ServerMessage::Chunks(msg), Some(set)) => {
            let mut world = Snapshot::default();
            let limits = DecodeLimits::default();
            set.apply(&mut SnapshotDecoder::new(), schema, &msg, &limits, &mut world)
                .expect("applies");
            c.world = Some(world);
            c.last_sent = Some(published.shown);
            return encoded;
        }
        (other, _) => {
            panic!("{}: {other:?} for a client reading chunks: {}", c.link.id, c.chunks.is_some())
        }
    };
    let baseline = match msg.baseline {
        Some(t) => {
            let b = c.world.as_ref().expect("a baseline");
            assert_eq!(b.tick(), t, "the baseline is the last snapshot received");
            Some(b)
        }
        None => None,
    };
    let world = decode(schema, baseline, msg.tick, &msg.payload, &DecodeLimits::default())
        .expect("decodes");
    c.world = Some(world);
    c.last_sent = Some(published.shown);
    encoded
}

/// What a client received against the whole world of the same tick.
fn check(c: &Client, full: &Snapshot) -> Result<(), String> {
    let got = c.world.as_ref().expect("received");
    assert_eq!(got.tick(), full.tick());
    let me = body(full, c.entity).ok_or("no own body")?;
    let me = Vec2::new(me.x, me.y);
    let reach = (f32::from(GRID.radius) + 1.0) * GRID.cell + 2.0 * GRID.hysteresis;
    let sure = f32::from(GRID.radius) * GRID.cell - 2.0 * GRID.hysteresis;
    for e in got.iter() {
        let truth = full.get(e.id).ok_or_else(|| format!("{:?} does not exist", e.id))?;
        if e != truth {
            return Err(format!("{:?}: received {e:?}, the world has {truth:?}", e.id));
        }
        let b = body(full, e.id).ok_or("no body")?;
        let d = chebyshev(me, Vec2::new(b.x, b.y));
        if d > reach {
            return Err(format!("{:?} at {d} units was sent (reach {reach})", e.id));
        }
    }
    for e in full.iter() {
        let b: Body = e.get(tickwire_arena::schema(), BODY).ok_or("no body")?;
        if chebyshev(me, Vec2::new(b.x, b.y)) <= sure && got.get(e.id).is_none() {
            return Err(format!("{:?}, within {sure} units, is missing", e.id));
        }
    }
    if let Some(t) = c.hits.iter().find(|t| got.get(**t).is_none()) {
        return Err(format!("a hit on {t:?}, which it does not see"));
    }
    Ok(())
}

/// Every shot of the tick (each was received by at least its shooter) against what each
/// client received: all within its sure range, none beyond its reach.
fn check_shots(clients: &[Client], full: &Snapshot) -> Result<usize, String> {
    let all: BTreeSet<(EntityId, [u32; 2])> = clients
        .iter()
        .flat_map(|c| c.shots.iter().map(|(s, p)| (*s, [p.x.to_bits(), p.y.to_bits()])))
        .collect();
    let reach = (f32::from(GRID.radius) + 1.0) * GRID.cell + 2.0 * GRID.hysteresis;
    let sure = f32::from(GRID.radius) * GRID.cell - 2.0 * GRID.hysteresis;
    for c in clients {
        let me = body(full, c.entity).ok_or("no own body")?;
        let me = Vec2::new(me.x, me.y);
        for &(shooter, [x, y]) in &all {
            let at = Vec2::new(f32::from_bits(x), f32::from_bits(y));
            let got = c.shots.iter().any(|&(s, p)| s == shooter && p == at);
            let d = chebyshev(me, at);
            if d <= sure && !got {
                return Err(format!("{}: missed {shooter:?}'s shot {d} units away", c.link.id));
            }
            if d > reach && got {
                return Err(format!("{}: got {shooter:?}'s shot {d} units away", c.link.id));
            }
        }
    }
    Ok(all.len())
}

#[test]
fn clients_crossing_cells_see_exactly_their_view_and_share_encodings() {
    const PLAYERS: usize = 24;
    let (mut room, game) = room(PLAYERS);
    let mut clients: Vec<Client> = (0..PLAYERS)
        .map(|i| {
            let link = ClientLink::new(ClientId(i as u32 + 1), game.release_mask.clone());
            let link = Arc::new(link.with_chunks(i % 3 == 0));
            let welcome = room.join(format!("p{i}"), None, link.clone()).expect("joins");
            // Half of them run together (one view), the others fan out.
            let angle = if i % 2 == 0 { 0.7 } else { i as f32 * 0.9 };
            Client {
                link,
                entity: welcome.entity,
                last_sent: None,
                world: None,
                chunks: (i % 3 == 0).then(ChunkSet::new),
                heading: Vec2::from_angle(angle),
                shots: Vec::new(),
                hits: Vec::new(),
            }
        })
        .collect();
    let schema = <tickwire_arena::ArenaProtocol as GameProtocol>::schema();
    let world_size = ArenaConfig::default().rules.world;
    let (mut out, mut buf) = (Outgoing::default(), Vec::new());
    let mut cells_crossed: BTreeMap<u32, BTreeSet<(i32, i32)>> = BTreeMap::new();
    let (mut max_views, mut max_chunks) = (0, 0);
    let (mut shots, mut hits) = (0, 0);
    for _ in 0..240 {
        let next = room.sim().tick().next();
        for c in &mut clients {
            if let Some(b) =
                room.sim().snapshot(Snapshot::default()).ok().and_then(|s| body(&s, c.entity))
            {
                let p = Vec2::new(b.x, b.y);
                if p.x < 60.0 || p.x > world_size.x - 60.0 {
                    c.heading.x = if p.x < 60.0 { c.heading.x.abs() } else { -c.heading.x.abs() };
                }
                if p.y < 60.0 || p.y > world_size.y - 60.0 {
                    c.heading.y = if p.y < 60.0 { c.heading.y.abs() } else { -c.heading.y.abs() };
                }
                cells_crossed
                    .entry(c.link.id.0)
                    .or_default()
                    .insert(((p.x / GRID.cell) as i32, (p.y / GRID.cell) as i32));
            }
            // Everyone fires ahead, as fast as the weapon allows.
            let input = ArenaInput::toward(c.heading).aiming(Vec2::ZERO, c.heading).firing(true);
            let frame = InputFrame {
                tick: next,
                last_snapshot: Some(room.sim().tick()),
                view: ViewTime { tick: next, fraction: 0 },
                payload: schema.encode_input(&input),
            };
            c.link.push_input(&frame, next);
        }
        let before = game.metrics.interest_transitions.get();
        room.tick(true);
        let transitions = (game.metrics.interest_transitions.get() - before) as usize;
        let full = room.sim().snapshot(Snapshot::default()).expect("a snapshot");
        let (mut encodes, mut chunk_encodes) = (0, 0);
        let (mut frames, mut chunks) = (BTreeSet::new(), BTreeSet::new());
        for c in &mut clients {
            let encoded = receive(c, &mut out, &mut buf);
            match c.last_sent.as_ref().expect("sent") {
                Shown::Frame(frame) => {
                    encodes += encoded;
                    frames.insert(Arc::as_ptr(frame) as usize);
                }
                Shown::Chunks(view) => {
                    chunk_encodes += encoded;
                    chunks.extend(view.chunk_ids());
                }
            }
            check(c, &full)
                .unwrap_or_else(|e| panic!("tick {:?}, client {}: {e}", full.tick(), c.link.id));
        }
        shots +=
            check_shots(&clients, &full).unwrap_or_else(|e| panic!("tick {:?}: {e}", full.tick()));
        hits += clients.iter().map(|c| c.hits.len()).sum::<usize>();
        let views = frames.len();
        max_views = max_views.max(views);
        assert!(
            encodes <= views + transitions,
            "tick {:?}: {encodes} encodes for {views} views and {transitions} transitions",
            full.tick()
        );
        assert!(
            chunk_encodes <= 2 * chunks.len(),
            "tick {:?}: {chunk_encodes} chunk encodes for {} chunks in use",
            full.tick(),
            chunks.len()
        );
        max_chunks = max_chunks.max(chunks.len());
    }
    let crossed = cells_crossed.values().map(|c| c.len()).min().unwrap_or(0);
    assert!(crossed >= 6, "every client crossed at least 6 cells (the least: {crossed})");
    assert!(max_views > 1 && max_views < PLAYERS, "views are shared: at most {max_views}");
    assert!(max_chunks > 9, "the clients reading chunks held {max_chunks} chunks at most");
    assert!(shots > 100 && hits > 0, "{shots} shots and {hits} hits received: the players fought");
}
