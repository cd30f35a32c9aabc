//! Counters and Lists, with the real sidecar's checks and messages (`UpdateCounter`,
//! `AddListValue`, ... in `pkg/sdkserver/sdkserver.go`).
//!
//! The real sidecar batches mutations and writes them to Kubernetes about once a second; its
//! own answers (and `GET /v1beta1/...`) already include the pending batch. The mock applies
//! every mutation at once, which is what the sidecar answers and what the GameServer shows
//! once the batch is written.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::config::{Counter, ListState};
use super::error::GatewayError;
use super::wire::{self, Object};

/// The largest List capacity Agones accepts.
pub(crate) const MAX_LIST_CAPACITY: i64 = 1000;

/// A `CounterUpdateRequest`: capacity, then count, then the diff, as the sidecar applies them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CounterUpdate {
    capacity: Option<i64>,
    count: Option<i64>,
    diff: i64,
}

impl CounterUpdate {
    /// Reads `{"count"?, "capacity"?, "countDiff"?}`.
    pub(crate) fn parse(body: &Object) -> Result<Self, GatewayError> {
        Ok(Self {
            capacity: wire::int64(body, &["capacity"])?,
            count: wire::int64(body, &["count"])?,
            diff: wire::int64(body, &["countDiff", "count_diff"])?.unwrap_or(0),
        })
    }
}

/// `Counter` as the gateway renders it.
pub(crate) fn counter_json(name: &str, c: Counter) -> Value {
    json!({ "name": name, "count": wire::int64_json(c.count), "capacity": wire::int64_json(c.capacity) })
}

/// `List` as the gateway renders it.
pub(crate) fn list_json(name: &str, l: &ListState) -> Value {
    json!({ "name": name, "capacity": wire::int64_json(l.capacity), "values": l.values })
}

/// `GET /v1beta1/counters/{name}`.
pub(crate) fn get_counter(
    counters: &BTreeMap<String, Counter>,
    name: &str,
) -> Result<Counter, GatewayError> {
    counters
        .get(name)
        .copied()
        .ok_or_else(|| GatewayError::unknown(format!("counter not found: {name}")))
}

/// `PATCH /v1beta1/counters/{name}`.
pub(crate) fn update_counter(
    counters: &mut BTreeMap<String, Counter>,
    name: &str,
    update: CounterUpdate,
) -> Result<Counter, GatewayError> {
    if update.diff == 0 && update.count.is_none() && update.capacity.is_none() {
        return Err(GatewayError::unknown(format!(
            "invalid argument. Malformed CounterUpdateRequest: name:\"{name}\""
        )));
    }
    let current = get_counter(counters, name)?;
    let capacity = update.capacity.unwrap_or(current.capacity);
    if capacity < 0 {
        return Err(GatewayError::unknown(format!(
            "out of range. Capacity must be greater than or equal to 0. Found Capacity: {capacity}"
        )));
    }
    let mut count = current.count;
    if let Some(set) = update.count {
        check_count(set, capacity)?;
        count = set;
    }
    if update.diff != 0 {
        count = count.saturating_add(update.diff);
        check_count(count, capacity)?;
    }
    // A lowered capacity truncates the count, as the sidecar's projection does.
    let updated = Counter { count: count.clamp(0, capacity), capacity };
    counters.insert(name.to_owned(), updated);
    Ok(updated)
}

fn check_count(count: i64, capacity: i64) -> Result<(), GatewayError> {
    if (0..=capacity).contains(&count) {
        return Ok(());
    }
    Err(GatewayError::unknown(format!(
        "out of range. Count must be within range [0,Capacity]. Found Count: {count}, Capacity: {capacity}"
    )))
}

/// `GET /v1beta1/lists/{name}`.
pub(crate) fn get_list<'a>(
    lists: &'a BTreeMap<String, ListState>,
    name: &str,
) -> Result<&'a ListState, GatewayError> {
    lists.get(name).ok_or_else(|| GatewayError::unknown(format!("list not found: {name}")))
}

/// `PATCH /v1beta1/lists/{name}` with a `List` body. The field mask is the body's fields (the
/// gateway derives it when `update_mask` is absent); `capacity` and `values` are applied.
/// The real sidecar answers an empty `List`, so this returns nothing.
pub(crate) fn update_list(
    lists: &mut BTreeMap<String, ListState>,
    name: &str,
    body: &Object,
) -> Result<(), GatewayError> {
    let capacity = wire::int64(body, &["capacity"])?;
    let values = wire::strings(body, &["values"])?;
    let shown = capacity.unwrap_or(0);
    if !(0..=MAX_LIST_CAPACITY).contains(&shown) {
        return Err(GatewayError::unknown(format!(
            "out of range. Capacity must be within range [0,1000]. Found Capacity: {shown}"
        )));
    }
    let list = lists
        .get_mut(name)
        .ok_or_else(|| GatewayError::unknown(format!("not found. {name} List not found")))?;
    if let Some(capacity) = capacity {
        list.capacity = capacity;
    }
    if let Some(values) = values {
        list.values.retain(|v| values.contains(v));
        for v in values {
            if !list.values.contains(&v) {
                list.values.push(v);
            }
        }
    }
    let keep = usize::try_from(list.capacity).unwrap_or(0);
    list.values.truncate(keep);
    Ok(())
}

/// `POST /v1beta1/lists/{name}:addValue`.
pub(crate) fn add_value<'a>(
    lists: &'a mut BTreeMap<String, ListState>,
    name: &str,
    value: String,
) -> Result<&'a ListState, GatewayError> {
    get_list(lists, name)?;
    let list = lists.get_mut(name).ok_or_else(|| GatewayError::unknown("list vanished"))?;
    let len = list.values.len();
    if usize::try_from(list.capacity).unwrap_or(0) <= len {
        return Err(GatewayError::unknown(format!(
            "out of range. No available capacity. Current Capacity: {}, List Size: {len}",
            list.capacity
        )));
    }
    if list.values.contains(&value) {
        return Err(GatewayError::unknown(format!(
            "already exists. Value: {value} already in List: {name}"
        )));
    }
    list.values.push(value);
    Ok(list)
}

/// `POST /v1beta1/lists/{name}:removeValue`.
pub(crate) fn remove_value<'a>(
    lists: &'a mut BTreeMap<String, ListState>,
    name: &str,
    value: &str,
) -> Result<&'a ListState, GatewayError> {
    get_list(lists, name)?;
    let list = lists.get_mut(name).ok_or_else(|| GatewayError::unknown("list vanished"))?;
    let Some(at) = list.values.iter().position(|v| v == value) else {
        return Err(GatewayError::unknown(format!("not found: value {value} not in list {name}")));
    };
    list.values.remove(at);
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rooms(count: i64, capacity: i64) -> BTreeMap<String, Counter> {
        BTreeMap::from([("rooms".to_owned(), Counter { count, capacity })])
    }

    fn up(capacity: Option<i64>, count: Option<i64>, diff: i64) -> CounterUpdate {
        CounterUpdate { capacity, count, diff }
    }

    #[test]
    fn counter_updates_apply_capacity_then_count_then_diff() {
        let mut c = rooms(2, 10);
        assert_eq!(
            update_counter(&mut c, "rooms", up(None, None, 3)),
            Ok(Counter { count: 5, capacity: 10 })
        );
        assert_eq!(
            update_counter(&mut c, "rooms", up(Some(4), Some(1), 2)),
            Ok(Counter { count: 3, capacity: 4 })
        );
        assert_eq!(
            update_counter(&mut c, "rooms", up(Some(1), None, 0)),
            Ok(Counter { count: 1, capacity: 1 })
        );
        let err = update_counter(&mut c, "rooms", up(None, None, 1)).expect_err("refused");
        assert_eq!(
            err.message,
            "out of range. Count must be within range [0,Capacity]. Found Count: 2, Capacity: 1"
        );
        assert!(
            update_counter(&mut c, "rooms", up(None, None, 0))
                .expect_err("refused")
                .message
                .contains("Malformed")
        );
        assert!(update_counter(&mut c, "rooms", up(Some(-1), None, 0)).is_err());
        assert_eq!(
            c["rooms"],
            Counter { count: 1, capacity: 1 },
            "a refused update changes nothing"
        );
    }

    #[test]
    fn list_values_are_bounded_and_distinct() {
        let mut l = BTreeMap::from([("p".to_owned(), ListState { capacity: 2, values: vec![] })]);
        add_value(&mut l, "p", "a".into()).expect("ok");
        assert!(
            add_value(&mut l, "p", "a".into())
                .expect_err("refused")
                .message
                .starts_with("already exists")
        );
        add_value(&mut l, "p", "b".into()).expect("ok");
        assert!(
            add_value(&mut l, "p", "c".into())
                .expect_err("refused")
                .message
                .starts_with("out of range")
        );
        assert!(
            remove_value(&mut l, "p", "z")
                .expect_err("refused")
                .message
                .starts_with("not found: value z")
        );
        assert_eq!(remove_value(&mut l, "p", "a").expect("ok").values, vec!["b".to_owned()]);
    }
}
