//! Playback control of a served recording: what the `/replay` endpoint asks for and what the
//! replay room reports back.
//!
//! The endpoint (on the game port, [`tickwire_server::ServerBuilder::route`]):
//!
//! | request | effect |
//! | --- | --- |
//! | `GET /replay` | the [`Status`], as JSON |
//! | `POST /replay/pause` | pauses (the room keeps sending the paused state) |
//! | `POST /replay/play` | plays on; at the end, plays again from the start |
//! | `POST /replay/speed?x=2` | playback speed, `0.25` to `16` recorded ticks per room tick |
//! | `POST /replay/seek?tick=T` | seeks to the latest keyframe at or before tick `T` (the room's creation when there is none) |
//!
//! Every `POST` answers with the status after the request was taken (a seek's `seeking` is
//! true until the room has re-simulated up to its keyframe). A bad value is a `400` saying
//! why; another method or path is a `405` or a `404`. A page of another origin cannot `POST`
//! (the server refuses it, 403).
//!
//! The room reads the requests once per tick ([`Control::take`]) and publishes its
//! [`Status`] after each tick ([`Control::publish`]); both sides hold the lock only to copy a
//! few fields.

use std::sync::Arc;

use parking_lot::Mutex;
use serde::Serialize;
use tickwire_protocol::Tick;
use tickwire_server::route::{Route, RouteRequest, RouteResponse};

use super::Source;
use crate::format::Header;

/// Slowest playback speed.
pub const MIN_SPEED: f64 = 0.25;
/// Fastest playback speed.
pub const MAX_SPEED: f64 = 16.0;

/// What a served recording is doing, as `GET /replay` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// The recorded game.
    pub game: String,
    /// The recorded room's name.
    pub room: String,
    /// Ticks per second of the recording.
    pub tick_rate: u16,
    /// The recorded tick shown now.
    pub tick: u32,
    /// The last recorded tick.
    pub last_tick: u32,
    /// The recorded keyframes' ticks (where a seek lands).
    pub keyframes: Vec<u32>,
    /// Every recorded player that joined: its entity and name (a spectator's client learns
    /// names from the room's `Joined` events, which a replay does not repeat).
    pub players: Vec<RecordedPlayer>,
    /// Paused.
    pub paused: bool,
    /// Recorded ticks per room tick.
    pub speed: f64,
    /// Re-simulating up to a seek's keyframe (the keyframe is shown meanwhile).
    pub seeking: bool,
    /// Played to the last recorded tick.
    pub ended: bool,
    /// Why the replay stopped, if it failed (a recording that does not re-simulate).
    pub error: Option<String>,
}

/// A recorded player, as [`Status::players`] lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedPlayer {
    /// Its entity id.
    pub entity: u32,
    /// Its name.
    pub name: String,
}

/// What the endpoint asks the room for, taken once per room tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Requests {
    /// Paused.
    pub paused: bool,
    /// Recorded ticks per room tick.
    pub speed: f64,
    /// A seek not yet taken: the number of recorded steps to have applied.
    pub seek: Option<usize>,
    /// Play from the start (a `play` at the end).
    pub restart: bool,
}

#[derive(Debug)]
struct State {
    requests: Requests,
    status: Status,
}

/// The shared playback state of a served recording (see the module docs).
#[derive(Debug)]
pub struct Control {
    state: Mutex<State>,
}

impl Control {
    /// Playing at 1×, at the recording's start.
    pub fn new(header: &Header) -> Self {
        let status = Status {
            game: header.game.clone(),
            room: header.room.clone(),
            tick_rate: header.tick_rate,
            tick: header.first_tick.0,
            last_tick: header.first_tick.0,
            keyframes: Vec::new(),
            players: Vec::new(),
            paused: false,
            speed: 1.0,
            seeking: false,
            ended: false,
            error: None,
        };
        let requests = Requests { paused: false, speed: 1.0, seek: None, restart: false };
        Self { state: Mutex::new(State { requests, status }) }
    }

    /// The room takes the pending requests (a seek or restart is taken once).
    pub fn take(&self) -> Requests {
        let mut s = self.state.lock();
        let r = s.requests;
        s.requests.seek = None;
        s.requests.restart = false;
        r
    }

    /// The room reports where it is.
    pub fn publish(&self, tick: Tick, seeking: bool, ended: bool, error: Option<&str>) {
        let mut s = self.state.lock();
        let paused = s.requests.paused;
        let speed = s.requests.speed;
        let status = &mut s.status;
        status.tick = tick.0;
        status.seeking = seeking;
        status.ended = ended;
        status.paused = paused;
        status.speed = speed;
        if let Some(e) = error {
            status.error = Some(e.to_owned());
        }
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.state.lock().status.clone()
    }

    fn request(&self, f: impl FnOnce(&mut State)) -> Status {
        let mut s = self.state.lock();
        f(&mut s);
        s.status.paused = s.requests.paused;
        s.status.speed = s.requests.speed;
        s.status.clone()
    }
}

/// The `/replay` endpoint of a served recording.
#[derive(Debug)]
pub struct Endpoint {
    source: Arc<Source>,
}

impl Endpoint {
    /// The endpoint of `source`.
    pub fn new(source: Arc<Source>) -> Self {
        {
            let mut s = source.control.state.lock();
            s.status.keyframes = source.keyframe_ticks().map(|t| t.0).collect();
            s.status.last_tick = source.last_tick().0;
            s.status.players = source.players();
        }
        Self { source }
    }

    fn act(&self, action: &str, request: &RouteRequest<'_>) -> Result<Status, RouteResponse> {
        let control = &self.source.control;
        Ok(match action {
            "pause" => control.request(|s| s.requests.paused = true),
            "play" => control.request(|s| {
                s.requests.paused = false;
                s.requests.restart |= s.status.ended;
            }),
            "speed" => {
                let x = number(request, "x")?;
                if !(MIN_SPEED..=MAX_SPEED).contains(&x) {
                    return Err(bad(format!("x={x}: the speed is {MIN_SPEED} to {MAX_SPEED}")));
                }
                control.request(|s| s.requests.speed = x)
            }
            "seek" => {
                let tick = number(request, "tick")?;
                if tick < 0.0 || tick.fract() != 0.0 || tick > f64::from(u32::MAX) {
                    return Err(bad(format!("tick={tick}: a tick is a whole number")));
                }
                // invariant: checked above to be a whole number in u32's range.
                let target = self.source.seek_target(Tick(tick as u32));
                control.request(|s| {
                    s.requests.seek = Some(target);
                    s.status.seeking = true;
                })
            }
            _ => return Err(RouteResponse::text(404, "not found")),
        })
    }
}

impl Route for Endpoint {
    fn handle(&self, request: &RouteRequest<'_>) -> RouteResponse {
        let action = request.path.strip_prefix("/replay").unwrap_or("");
        match (request.method.as_str(), action) {
            ("GET" | "HEAD", "") => RouteResponse::json(&self.source.control.status()),
            ("POST", "") => RouteResponse::text(405, "POST /replay/pause|play|speed|seek"),
            (_, "") => RouteResponse::text(405, "method not allowed"),
            ("POST", action) => match self.act(&action[1..], request) {
                Ok(status) => RouteResponse::json(&status),
                Err(refusal) => refusal,
            },
            _ => RouteResponse::text(405, "method not allowed: use POST"),
        }
    }
}

fn bad(why: String) -> RouteResponse {
    RouteResponse::text(400, why)
}

fn number(request: &RouteRequest<'_>, key: &str) -> Result<f64, RouteResponse> {
    let raw = request.param(key).ok_or_else(|| bad(format!("`{key}` is missing")))?;
    raw.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| bad(format!("{key}={raw}: not a number")))
}
