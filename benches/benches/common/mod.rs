//! Shared by the server benches (`server_tick`, `recording`): the arena room of 1,000 NPCs (25%
//! moving) they tick, built as the server builds it.

use std::sync::Arc;
use std::time::Duration;

use tickwire_arena::Arena;
use tickwire_benches::Scenario;
use tickwire_benches::scenario::SEED;
use tickwire_server::room::RoomInfo;
use tickwire_server::room::task::{Room, RoomSettings};
use tickwire_server::{GameInfo, Metrics};

/// A room of the bench scenario with space for `clients`, its game and its metrics.
pub(crate) fn arena_room(
    scenario: &Scenario,
    clients: usize,
) -> (Room<Arena>, Arc<GameInfo>, Arc<Metrics>) {
    let sim = scenario.arena().expect("valid scenario");
    let settings = RoomSettings {
        max_players: clients,
        slow_client: Duration::from_secs(3),
        persistent: true,
        grace: Duration::from_secs(30),
        resume_grace: Duration::from_secs(30),
        max_rewind_ms: 250,
        tickets: Arc::default(),
    };
    let metrics = Arc::new(Metrics::new());
    let host = tickwire_sim::HostSettings::default();
    let game =
        GameInfo::new::<Arena>(&scenario.config(), SEED, host, &metrics).expect("a valid game");
    let info = Arc::new(RoomInfo::default());
    let room = Room::new("bench".into(), sim, game.clone(), settings, metrics.clone(), info);
    (room, game, metrics)
}

/// The session readers' part of a tick: every client's scripted input for the room's next tick
/// (`tickwire_benches::script`), pushed into its link as a session would.
pub(crate) fn push_inputs<'a>(
    room: &Room<Arena>,
    links: impl IntoIterator<Item = &'a tickwire_server::room::ClientLink>,
    players: &[tickwire_protocol::EntityId],
) {
    use tickwire_protocol::GameProtocol as _;
    let sim = room.sim();
    let next = sim.tick().next();
    let schema = tickwire_arena::ArenaProtocol::schema();
    for (i, link) in links.into_iter().enumerate() {
        let input = tickwire_benches::script::player_input(sim, players, i, next);
        let frame = tickwire_protocol::message::InputFrame {
            tick: next,
            last_snapshot: Some(next.offset(-1)),
            view: tickwire_benches::script::view_for(next),
            payload: schema.encode_input(&input),
        };
        link.push_input(&frame, next);
    }
}
