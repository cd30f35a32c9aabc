//! The GameServer record the mock keeps: lifecycle, metadata and health, with no I/O and no
//! clock (time enters as `now`, the time since the mock started).
//!
//! Lifecycle as the real sidecar's `updateState`: `Ready`, `Allocate` and `Shutdown` cancel a
//! reservation; once the GameServer is being deleted (after `Shutdown`, or when the test says
//! Agones shut it down) no call changes its state, and an `Unhealthy` one never comes back.
//! A reservation reverts to `Ready` when its time is up (checked lazily, on every access).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::config::{Counter, GameServerState, HealthSpec, ListState, MockConfig};
use super::error::GatewayError;
use super::wire::int64_json;

/// The prefix the sidecar puts on SDK labels and annotations.
pub const METADATA_PREFIX: &str = "agones.dev/sdk-";
/// The annotation the sidecar stamps on allocation.
const LAST_ALLOCATED: &str = "agones.dev/last-allocated";

/// Health pings seen so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HealthPings {
    /// How many.
    pub count: u64,
    /// When the last arrived, since the mock started.
    pub last: Option<Duration>,
}

/// The mock's GameServer.
#[derive(Debug)]
pub(crate) struct GameServer {
    name: String,
    address: String,
    game_port: u16,
    pub(crate) state: GameServerState,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) annotations: BTreeMap<String, String>,
    pub(crate) counters: BTreeMap<String, Counter>,
    pub(crate) lists: BTreeMap<String, ListState>,
    pub(crate) health: HealthPings,
    health_spec: HealthSpec,
    enforce_health: bool,
    /// When deletion began (since start): `object_meta.deletion_timestamp` is set.
    deleted_at: Option<Duration>,
    /// When a reservation ends; `None` with `Reserved` is "forever" (`seconds: 0`).
    reserved_until: Option<Duration>,
    /// Unix seconds at start: timestamps are rendered from it.
    unix_start: i64,
}

impl GameServer {
    pub(crate) fn new(config: &MockConfig, unix_start: i64) -> Self {
        Self {
            name: config.name.clone(),
            address: config.address.clone(),
            game_port: config.game_port,
            state: config.initial_state,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            counters: config.counters.clone(),
            lists: config.lists.clone(),
            health: HealthPings::default(),
            health_spec: config.health,
            enforce_health: config.enforce_health,
            deleted_at: None,
            reserved_until: None,
            unix_start,
        }
    }

    /// Applies what time alone changes: an expired reservation, missed health pings.
    pub(crate) fn settle(&mut self, now: Duration) {
        if self.state == GameServerState::Reserved && self.reserved_until.is_some_and(|t| now >= t)
        {
            self.reserved_until = None;
            self.set(GameServerState::Ready);
        }
        if self.enforce_health && !self.health_spec.disabled && self.health_failed(now) {
            self.set(GameServerState::Unhealthy);
        }
    }

    fn health_failed(&self, now: Duration) -> bool {
        let spec = self.health_spec;
        let secs = |s: i32| Duration::from_secs(u64::try_from(s).unwrap_or(0));
        let since = self.health.last.unwrap_or(secs(spec.initial_delay_seconds));
        let allowed =
            secs(spec.period_seconds) * u32::try_from(spec.failure_threshold).unwrap_or(1);
        now > since + allowed
    }

    /// A state change from the SDK (or the test), unless deletion or ill health forbid it.
    pub(crate) fn set(&mut self, state: GameServerState) {
        if self.deleted_at.is_some() || self.state == GameServerState::Unhealthy {
            return;
        }
        self.state = state;
    }

    /// `POST /ready`, `/allocate`, `/shutdown`: each cancels a reservation.
    pub(crate) fn request(&mut self, state: GameServerState, now: Duration) {
        self.reserved_until = None;
        self.set(state);
        match state {
            GameServerState::Allocated if self.state == state => {
                let stamp = format!("{}", self.unix(now));
                self.annotations.insert(LAST_ALLOCATED.into(), stamp);
            }
            // The controller deletes a GameServer that asked to shut down.
            GameServerState::Shutdown => self.mark_deleted(now),
            _ => {}
        }
    }

    /// `POST /reserve`: `seconds` 0 holds the reservation until another state call.
    pub(crate) fn reserve(&mut self, seconds: i64, now: Duration) {
        self.reserved_until = None;
        self.set(GameServerState::Reserved);
        if self.state == GameServerState::Reserved {
            let secs = u64::try_from(seconds).unwrap_or(0);
            self.reserved_until = (secs > 0).then(|| now + Duration::from_secs(secs));
        }
    }

    /// Agones began deleting the GameServer (a Fleet scale-down, or Shutdown).
    pub(crate) fn mark_deleted(&mut self, now: Duration) {
        self.deleted_at.get_or_insert(now);
    }

    /// Whether deletion has begun.
    pub(crate) fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// `POST /health` with `pings` messages.
    pub(crate) fn ping(&mut self, pings: u64, now: Duration) {
        self.health.count += pings;
        self.health.last = Some(now);
    }

    /// `PUT /metadata/label` (validated as Kubernetes does) and `/metadata/annotation`.
    pub(crate) fn set_metadata(
        &mut self,
        kind: MetaKind,
        key: &str,
        value: &str,
    ) -> Result<(), GatewayError> {
        let noun = kind.noun();
        if let Err(why) = qualified_name(key) {
            return Err(GatewayError::invalid(format!("invalid {noun} key {key:?}: {why}")));
        }
        let map = match kind {
            MetaKind::Label => {
                if let Err(why) = label_value(value) {
                    return Err(GatewayError::invalid(format!(
                        "invalid label value {value:?} for key {key:?}: {why}"
                    )));
                }
                &mut self.labels
            }
            MetaKind::Annotation => &mut self.annotations,
        };
        map.insert(format!("{METADATA_PREFIX}{key}"), value.to_owned());
        Ok(())
    }

    fn unix(&self, t: Duration) -> i64 {
        self.unix_start + i64::try_from(t.as_secs()).unwrap_or(i64::MAX / 2)
    }

    /// `GET /gameserver`: protojson with proto field names and every field emitted.
    pub(crate) fn to_json(&self) -> Value {
        let counters: BTreeMap<_, _> = self
            .counters
            .iter()
            .map(|(k, c)| {
                (k, json!({"count": int64_json(c.count), "capacity": int64_json(c.capacity)}))
            })
            .collect();
        let lists: BTreeMap<_, _> = self
            .lists
            .iter()
            .map(|(k, l)| (k, json!({"capacity": int64_json(l.capacity), "values": l.values})))
            .collect();
        let h = self.health_spec;
        json!({
            "object_meta": {
                "name": self.name, "namespace": "default", "uid": format!("mock-{}", self.name),
                "resource_version": "1", "generation": "1",
                "creation_timestamp": int64_json(self.unix_start),
                "deletion_timestamp": int64_json(self.deleted_at.map_or(0, |t| self.unix(t))),
                "annotations": self.annotations, "labels": self.labels,
            },
            "spec": {"health": {
                "disabled": h.disabled, "period_seconds": h.period_seconds,
                "failure_threshold": h.failure_threshold,
                "initial_delay_seconds": h.initial_delay_seconds,
            }},
            "status": {
                "state": self.state.as_str(), "address": self.address,
                "addresses": [{"type": "InternalIP", "address": self.address}],
                "ports": [{"name": "default", "port": self.game_port}],
                "players": null, "counters": counters, "lists": lists,
            },
        })
    }
}

/// Which metadata map a `PUT /metadata/...` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetaKind {
    Label,
    Annotation,
}

impl MetaKind {
    fn noun(self) -> &'static str {
        match self {
            Self::Label => "label",
            Self::Annotation => "annotation",
        }
    }
}

const NAME_RULE: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', \
                         and must start and end with an alphanumeric character";

/// Kubernetes' `IsQualifiedName`: an optional DNS-subdomain prefix and `/`, then a name of at
/// most 63 characters.
fn qualified_name(key: &str) -> Result<(), String> {
    let name = match key.rsplit_once('/') {
        Some((prefix, name)) => {
            let ok = !prefix.is_empty() && prefix.len() <= 253 && prefix.split('.').all(dns_label);
            if !ok {
                return Err("prefix part must be a DNS-1123 subdomain".into());
            }
            name
        }
        None => key,
    };
    if name.is_empty() {
        return Err("name part must be non-empty".into());
    }
    if name.len() > 63 {
        return Err("name part must be no more than 63 characters".into());
    }
    if !name_chars(name) {
        return Err(NAME_RULE.into());
    }
    Ok(())
}

/// Kubernetes' `IsValidLabelValue`: empty, or a name of at most 63 characters.
fn label_value(value: &str) -> Result<(), String> {
    if value.len() > 63 {
        return Err("must be no more than 63 characters".into());
    }
    if !value.is_empty() && !name_chars(value) {
        return Err(NAME_RULE.replace("name part ", "a valid label ").to_string());
    }
    Ok(())
}

fn name_chars(s: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    edge(s.chars().next())
        && edge(s.chars().last())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn dns_label(l: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    !l.is_empty()
        && l.len() <= 63
        && edge(l.chars().next())
        && edge(l.chars().last())
        && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn a_reservation_reverts_to_ready_unless_allocated() {
        let mut gs = GameServer::new(&MockConfig::default(), 0);
        gs.request(GameServerState::Ready, S);
        gs.reserve(5, S);
        gs.settle(5 * S);
        assert_eq!(gs.state, GameServerState::Reserved);
        gs.settle(6 * S);
        assert_eq!(gs.state, GameServerState::Ready);
        gs.reserve(5, 7 * S);
        gs.request(GameServerState::Allocated, 8 * S);
        gs.settle(100 * S);
        assert_eq!(gs.state, GameServerState::Allocated);
        assert_eq!(gs.annotations.get(LAST_ALLOCATED).map(String::as_str), Some("8"));
    }

    #[test]
    fn deletion_and_ill_health_are_final() {
        let mut gs =
            GameServer::new(&MockConfig { enforce_health: true, ..MockConfig::default() }, 0);
        gs.request(GameServerState::Ready, S);
        gs.ping(1, 2 * S);
        gs.settle(17 * S);
        assert_eq!(gs.state, GameServerState::Ready, "15 s of grace after the last ping");
        gs.settle(18 * S);
        assert_eq!(gs.state, GameServerState::Unhealthy);
        gs.request(GameServerState::Ready, 19 * S);
        assert_eq!(gs.state, GameServerState::Unhealthy);

        let mut gs = GameServer::new(&MockConfig::default(), 100);
        gs.request(GameServerState::Shutdown, 3 * S);
        gs.request(GameServerState::Ready, 4 * S);
        assert_eq!(gs.state, GameServerState::Shutdown);
        assert_eq!(gs.to_json()["object_meta"]["deletion_timestamp"], "103");
    }

    #[test]
    fn labels_are_validated_and_prefixed() {
        let mut gs = GameServer::new(&MockConfig::default(), 0);
        gs.set_metadata(MetaKind::Label, "draining", "true").expect("ok");
        assert_eq!(gs.labels.get("agones.dev/sdk-draining").map(String::as_str), Some("true"));
        assert!(gs.set_metadata(MetaKind::Label, "bad key", "x").is_err());
        assert!(gs.set_metadata(MetaKind::Label, "k", "no spaces").is_err());
        assert!(gs.set_metadata(MetaKind::Label, "k", &"x".repeat(64)).is_err());
        gs.set_metadata(MetaKind::Annotation, "k", "any text at all").expect("ok");
        assert!(gs.set_metadata(MetaKind::Annotation, "-k", "x").is_err());
    }
}
