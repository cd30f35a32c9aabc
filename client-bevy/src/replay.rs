//! Watching a served recording (`tickwire-replay serve FILE`): [`ReplayControlPlugin`] finds
//! out whether the server replays a recording, and the [`ReplayControl`] resource shows where
//! the playback is and drives it (pause, play, speed, seek by keyframe).
//!
//! The app joins the recording's room as usual with [`TickwirePlugin`](crate::TickwirePlugin);
//! the server makes every client of a replay a spectator (its entity is never replicated, so no
//! [`LocalPlayer`](crate::LocalPlayer) appears) and plays the recorded world to it. The playback
//! is driven over HTTP on the same port (`/replay`, see `tickwire_replay::serve::control`).
//!
//! **Threads and bounds.** A `tickwire-replay` thread (a current-thread tokio runtime, as the
//! network thread) asks `GET /replay` once: a 404 means a normal server, and the thread ends
//! ([`ReplayControl::available`] stays `false`). Otherwise it polls the status every
//! [`POLL_INTERVAL`] and sends the app's actions as `POST`s. Actions travel through a channel
//! of [`ACTION_CAPACITY`]; when it is full (the server does not answer), the action is dropped
//! and counted ([`ReplayControl::dropped`]). The status comes back through a mutex held only to
//! copy it. Removing the resource (or ending the app) closes the channel and ends the thread.
//!
//! Recorded players are named from the status ([`PlayerName`](crate::PlayerName) on their
//! entities), since a replay does not repeat the room's `Joined` events.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use bevy::prelude::*;
use serde::Deserialize;
use tickwire_client::TlsOptions;
use tickwire_client::http;
use tracing::{debug, warn};

/// How often the status is read.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// Actions waiting to be sent, at most.
pub const ACTION_CAPACITY: usize = 8;
/// How long one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// Where a served recording's playback is (`GET /replay`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReplayStatus {
    /// The recorded game.
    pub game: String,
    /// The recorded room.
    pub room: String,
    /// Ticks per second of the recording.
    pub tick_rate: u16,
    /// The recorded tick shown.
    pub tick: u32,
    /// The last recorded tick.
    pub last_tick: u32,
    /// The keyframes' ticks (where seeks land).
    pub keyframes: Vec<u32>,
    /// The recorded players: entity id and name.
    pub players: Vec<RecordedPlayer>,
    /// Paused.
    pub paused: bool,
    /// Recorded ticks per room tick.
    pub speed: f64,
    /// Re-simulating up to a seek's keyframe.
    pub seeking: bool,
    /// Played to the end.
    pub ended: bool,
    /// Why the replay stopped, if it failed.
    pub error: Option<String>,
}

/// A recorded player.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RecordedPlayer {
    /// Its entity id.
    pub entity: u32,
    /// Its name.
    pub name: String,
}

impl ReplayStatus {
    /// The keyframe before (`back`) or after the shown tick: where a keyframe step lands
    /// (the start, or the last keyframe, at the ends).
    pub fn neighbour_keyframe(&self, back: bool) -> u32 {
        let k = &self.keyframes;
        if back {
            k.iter().rev().copied().find(|&t| t < self.tick).unwrap_or(0)
        } else {
            k.iter().copied().find(|&t| t > self.tick).or(k.last().copied()).unwrap_or(0)
        }
    }

    /// A recorded player's name.
    pub fn name_of(&self, entity: u32) -> Option<&str> {
        self.players.iter().find(|p| p.entity == entity).map(|p| p.name.as_str())
    }
}

/// A playback action, as `/replay` takes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReplayAction {
    /// Pause.
    Pause,
    /// Play (from the start after the end).
    Play,
    /// Recorded ticks per room tick (0.25 to 16).
    Speed(f64),
    /// Seek to the keyframe at or before this tick.
    Seek(u32),
}

impl ReplayAction {
    fn path(self) -> String {
        match self {
            Self::Pause => "/replay/pause".to_owned(),
            Self::Play => "/replay/play".to_owned(),
            Self::Speed(x) => format!("/replay/speed?x={x}"),
            Self::Seek(t) => format!("/replay/seek?tick={t}"),
        }
    }
}

#[derive(Debug, Default)]
struct Shared {
    status: Option<ReplayStatus>,
    /// The first answer came: a replay (`Some(true)`) or a normal server.
    probed: Option<bool>,
    failures: u64,
}

/// The playback of a served recording, if the server replays one (see the module docs).
#[derive(Resource, Debug)]
pub struct ReplayControl {
    actions: SyncSender<ReplayAction>,
    shared: Arc<parking_lot::Mutex<Shared>>,
    status: Option<ReplayStatus>,
    available: bool,
    dropped: u64,
}

impl ReplayControl {
    /// Whether the server replays a recording (known after its first answer).
    pub fn available(&self) -> bool {
        self.available
    }

    /// The newest status (`None` until the first answer, or on a normal server).
    pub fn status(&self) -> Option<&ReplayStatus> {
        self.status.as_ref()
    }

    /// Actions dropped because the channel was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Sends `action` (dropped and counted when [`ACTION_CAPACITY`] are waiting).
    pub fn send(&mut self, action: ReplayAction) {
        match self.actions.try_send(action) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => self.dropped += 1,
        }
    }

    /// Pauses a playing replay, plays a paused or ended one.
    pub fn toggle(&mut self) {
        let Some(s) = &self.status else { return };
        let action = if s.paused || s.ended { ReplayAction::Play } else { ReplayAction::Pause };
        self.send(action);
    }

    /// Seeks to the previous (`back`) or next keyframe.
    pub fn step_keyframe(&mut self, back: bool) {
        let Some(tick) = self.status.as_ref().map(|s| s.neighbour_keyframe(back)) else { return };
        self.send(ReplayAction::Seek(tick));
    }

    /// Halves (`slower`) or doubles the speed, within 0.25 to 16.
    pub fn change_speed(&mut self, slower: bool) {
        let Some(speed) = self.status.as_ref().map(|s| s.speed) else { return };
        let x = if slower { speed / 2.0 } else { speed * 2.0 };
        self.send(ReplayAction::Speed(x.clamp(0.25, 16.0)));
    }
}

/// Finds out whether the server of `ws_url` replays a recording and keeps [`ReplayControl`]
/// up to date (see the module docs).
#[derive(Debug, Clone)]
pub struct ReplayControlPlugin {
    ws_url: String,
    tls: TlsOptions,
}

impl ReplayControlPlugin {
    /// For the server of the WebSocket URL `ws_url`, trusting what `tls` says (the game
    /// connection's options).
    pub fn new(ws_url: impl Into<String>, tls: TlsOptions) -> Self {
        Self { ws_url: ws_url.into(), tls }
    }
}

impl Plugin for ReplayControlPlugin {
    fn build(&self, app: &mut App) {
        let (tx, rx) = sync_channel(ACTION_CAPACITY);
        let shared = Arc::new(parking_lot::Mutex::new(Shared::default()));
        match http::server_url(&self.ws_url, "/replay") {
            Ok(url) => spawn(url, self.tls.clone(), rx, shared.clone()),
            Err(e) => warn!("replay control: {e}"),
        }
        app.insert_resource(ReplayControl {
            actions: tx,
            shared,
            status: None,
            available: false,
            dropped: 0,
        })
        .add_systems(PreUpdate, refresh)
        .add_systems(PostUpdate, name_recorded_players);
    }
}

/// Recorded players get their recorded [`PlayerName`](crate::PlayerName) (a replay does not
/// repeat the room's `Joined` events, which name players otherwise).
fn name_recorded_players(
    control: Res<ReplayControl>,
    entities: Res<crate::NetEntities>,
    named: Query<(), With<crate::PlayerName>>,
    mut commands: Commands,
) {
    let Some(status) = &control.status else { return };
    for p in &status.players {
        let Some(e) = entities.get(tickwire_protocol::EntityId(p.entity)) else { continue };
        if !named.contains(e) {
            commands.entity(e).insert(crate::PlayerName(p.name.clone()));
        }
    }
}

/// Copies the thread's newest status into the resource.
fn refresh(mut control: ResMut<ReplayControl>) {
    let (status, probed) = {
        let s = control.shared.lock();
        (s.status.clone(), s.probed)
    };
    control.available = probed == Some(true);
    if status.is_some() && status != control.status {
        control.status = status;
    }
}

fn spawn(
    url: String,
    tls: TlsOptions,
    rx: Receiver<ReplayAction>,
    shared: Arc<parking_lot::Mutex<Shared>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return warn!("replay control: no runtime: {e}"),
    };
    let spawned = std::thread::Builder::new()
        .name("tickwire-replay".into())
        .spawn(move || runtime.block_on(run(url, tls, rx, shared)));
    if let Err(e) = spawned {
        warn!("replay control: no thread: {e}");
    }
}

async fn run(
    url: String,
    tls: TlsOptions,
    rx: Receiver<ReplayAction>,
    shared: Arc<parking_lot::Mutex<Shared>>,
) {
    let base = url.trim_end_matches("/replay").to_owned();
    loop {
        // Actions first, then the status; the channel's end (the resource is gone) ends this.
        loop {
            match rx.try_recv() {
                Ok(action) => {
                    let target = format!("{base}{}", action.path());
                    let answer = http::post(&target, &tls, REQUEST_TIMEOUT).await;
                    take(&shared, answer, false);
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => break,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return,
            }
        }
        let answer = http::get(&url, &tls, REQUEST_TIMEOUT).await;
        if !take(&shared, answer, true) {
            debug!("{url}: not a replay server");
            return;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Stores an answer; `false` when the first one says the server replays nothing.
fn take(
    shared: &parking_lot::Mutex<Shared>,
    answer: Result<String, tickwire_client::ClientError>,
    probe: bool,
) -> bool {
    let mut s = shared.lock();
    match answer.map(|body| serde_json::from_str::<ReplayStatus>(&body)) {
        Ok(Ok(status)) => {
            s.status = Some(status);
            s.probed = Some(true);
        }
        Err(tickwire_client::ClientError::Http { status: 404, .. })
            if probe && s.probed.is_none() =>
        {
            s.probed = Some(false);
            return false;
        }
        Ok(Err(e)) => {
            s.failures += 1;
            debug!("replay status: {e}");
        }
        Err(e) => {
            s.failures += 1;
            debug!("replay request: {e}");
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(tick: u32) -> ReplayStatus {
        ReplayStatus {
            game: "kart".into(),
            room: "lobby".into(),
            tick_rate: 30,
            tick,
            last_tick: 700,
            keyframes: vec![300, 600],
            players: vec![RecordedPlayer { entity: 4, name: "ada".into() }],
            paused: false,
            speed: 1.0,
            seeking: false,
            ended: false,
            error: None,
        }
    }

    #[test]
    fn keyframe_steps_land_on_neighbours_and_stop_at_the_ends() {
        assert_eq!(status(10).neighbour_keyframe(false), 300);
        assert_eq!(status(300).neighbour_keyframe(false), 600);
        assert_eq!(status(650).neighbour_keyframe(false), 600);
        assert_eq!(status(650).neighbour_keyframe(true), 600);
        assert_eq!(status(600).neighbour_keyframe(true), 300);
        assert_eq!(status(100).neighbour_keyframe(true), 0);
        assert_eq!(status(1).name_of(4), Some("ada"));
        assert_eq!(status(1).name_of(5), None);
    }

    #[test]
    fn actions_are_the_endpoints_paths() {
        assert_eq!(ReplayAction::Speed(0.5).path(), "/replay/speed?x=0.5");
        assert_eq!(ReplayAction::Seek(300).path(), "/replay/seek?tick=300");
        assert_eq!(ReplayAction::Pause.path(), "/replay/pause");
    }
}
