//! Reading request bodies as grpc-gateway's protojson does: int64 fields as a JSON string or a
//! number, a field by its JSON name or its proto name, unknown fields ignored, an empty body
//! read as the empty message.

use serde_json::{Map, Value};

use super::error::GatewayError;

/// A decoded JSON object body (empty for an empty body).
pub(crate) type Object = Map<String, Value>;

/// Decodes a request body as one JSON object; an empty body is `{}` (the gateway's decoder
/// stops at EOF without error).
pub(crate) fn object(body: &[u8]) -> Result<Object, GatewayError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Object::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(GatewayError::invalid(format!(
            "proto: syntax error: unexpected token {other}, expected an object"
        ))),
        Err(e) => Err(GatewayError::invalid(format!("proto: syntax error: {e}"))),
    }
}

/// How many JSON messages a streaming body holds (`POST /health` is a client stream: one
/// ping per message).
pub(crate) fn message_count(body: &[u8]) -> Result<u64, GatewayError> {
    let mut n = 0;
    for value in serde_json::Deserializer::from_slice(body).into_iter::<Value>() {
        match value {
            Ok(Value::Object(_)) => n += 1,
            Ok(other) => {
                return Err(GatewayError::invalid(format!(
                    "proto: syntax error: unexpected token {other}"
                )));
            }
            Err(e) => return Err(GatewayError::invalid(format!("proto: syntax error: {e}"))),
        }
    }
    Ok(n)
}

/// The first present, non-null field among `names` (JSON name, then proto name).
fn field<'a>(obj: &'a Object, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|n| obj.get(*n)).filter(|v| !v.is_null())
}

/// An int64 (or `Int64Value`) field: a JSON string of digits or an integral number.
pub(crate) fn int64(obj: &Object, names: &[&str]) -> Result<Option<i64>, GatewayError> {
    let Some(v) = field(obj, names) else { return Ok(None) };
    let parsed = match v {
        Value::String(s) => s.trim().parse::<i64>().ok(),
        Value::Number(n) => n.as_i64().or_else(|| integral(n.as_f64()?)),
        _ => None,
    };
    match parsed {
        Some(i) => Ok(Some(i)),
        None => Err(GatewayError::invalid(format!(
            "proto: invalid value for int64 field {}: {v}",
            names[0]
        ))),
    }
}

/// An integral float (protojson accepts `5.0` and `5e0` for an int64).
fn integral(f: f64) -> Option<i64> {
    let in_range = f.fract() == 0.0 && f.abs() < 9.0e18;
    #[allow(clippy::cast_possible_truncation)] // checked integral and in range just above
    in_range.then_some(f as i64)
}

/// A string field; absent or null is the empty string (proto3 default).
pub(crate) fn string(obj: &Object, names: &[&str]) -> Result<String, GatewayError> {
    match field(obj, names) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => Err(GatewayError::invalid(format!(
            "proto: invalid value for string field {}: {v}",
            names[0]
        ))),
    }
}

/// A repeated string field, if present.
pub(crate) fn strings(obj: &Object, names: &[&str]) -> Result<Option<Vec<String>>, GatewayError> {
    let Some(v) = field(obj, names) else { return Ok(None) };
    let bad = || GatewayError::invalid(format!("proto: invalid value for list field {}", names[0]));
    let items = v.as_array().ok_or_else(bad)?;
    items
        .iter()
        .map(|i| i.as_str().map(str::to_owned).ok_or_else(bad))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// An int64 as grpc-gateway renders it: a JSON string.
pub(crate) fn int64_json(i: i64) -> Value {
    Value::String(i.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn obj(v: Value) -> Object {
        match v {
            Value::Object(m) => m,
            _ => Object::new(),
        }
    }

    #[test]
    fn int64_reads_strings_numbers_and_either_name() {
        let o = obj(json!({"countDiff": "-2", "count": 5, "capacity": 7.0}));
        assert_eq!(int64(&o, &["countDiff", "count_diff"]), Ok(Some(-2)));
        assert_eq!(int64(&o, &["count"]), Ok(Some(5)));
        assert_eq!(int64(&o, &["capacity"]), Ok(Some(7)));
        assert_eq!(
            int64(&obj(json!({"count_diff": "3"})), &["countDiff", "count_diff"]),
            Ok(Some(3))
        );
        assert_eq!(int64(&o, &["seconds"]), Ok(None));
        assert!(int64(&obj(json!({"count": "x"})), &["count"]).is_err());
        assert!(int64(&obj(json!({"count": 1.5})), &["count"]).is_err());
    }

    #[test]
    fn empty_bodies_are_empty_messages_and_streams_count_messages() {
        assert_eq!(object(b""), Ok(Object::new()));
        assert!(object(b"[1]").is_err());
        assert!(object(b"{").is_err());
        assert_eq!(message_count(b"{}{} {}"), Ok(3));
        assert_eq!(message_count(b""), Ok(0));
        assert!(message_count(b"{}x").is_err());
    }
}
