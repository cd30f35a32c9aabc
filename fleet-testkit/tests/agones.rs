//! The mock Agones sidecar over real HTTP on loopback: every route, every refusal, the
//! recorded sequence, and a sidecar that is not up yet.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tickwire_fleet_testkit::agones::{
    Counter, GameServerState, ListState, MockConfig, MockSidecar,
};
use tokio::net::TcpStream;

/// One request on a fresh connection: the status and the body (JSON, or `null` when empty).
async fn send(port: u16, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let (mut tx, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(conn);
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.unwrap_or("").to_owned())))
        .expect("request");
    let resp = tx.send_request(req).await.expect("response");
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("json answer")
    };
    (status, value)
}

async fn mock() -> MockSidecar {
    MockSidecar::start(MockConfig::default()).await.expect("start")
}

fn grpc_error(code: u8, message: &str) -> Value {
    json!({"code": code, "message": message, "details": []})
}

#[tokio::test]
async fn lifecycle_calls_are_recorded_in_order() {
    let m = mock().await;
    assert_eq!(m.state(), GameServerState::Scheduled);
    assert_eq!(send(m.port(), "POST", "/ready", Some("{}")).await, (200, json!({})));
    assert_eq!(m.state(), GameServerState::Ready);
    assert_eq!(send(m.port(), "POST", "/health", Some("{}")).await, (200, json!({})));
    assert_eq!(send(m.port(), "POST", "/allocate", None).await, (200, json!({})));
    assert_eq!(m.state(), GameServerState::Allocated);
    assert!(m.annotations().contains_key("agones.dev/last-allocated"));
    assert_eq!(send(m.port(), "POST", "/shutdown", Some("{}")).await, (200, json!({})));
    assert_eq!(m.state(), GameServerState::Shutdown);
    assert!(m.is_deleted(), "the controller deletes a GameServer that shut down");

    assert_eq!(m.call_names(), ["POST /ready", "POST /health", "POST /allocate", "POST /shutdown"]);
    let calls = m.calls();
    assert_eq!(calls[0].body, json!({}));
    assert_eq!(calls[2].body, Value::Null);
    assert!(calls.iter().all(|c| c.status == 200 && c.response == json!({})));
    assert!(calls.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(calls[1].to_json()["path"], "/health");
}

#[tokio::test]
async fn game_server_is_rendered_as_the_gateway_does() {
    let m = mock().await;
    send(m.port(), "POST", "/ready", None).await;
    let (status, gs) = send(m.port(), "GET", "/gameserver", None).await;
    assert_eq!(status, 200);
    assert_eq!(gs, m.game_server());
    assert_eq!(gs["object_meta"]["name"], "tickwire-gs-mock");
    assert_eq!(gs["object_meta"]["deletion_timestamp"], "0");
    assert!(gs["object_meta"]["creation_timestamp"].is_string(), "int64 as a JSON string");
    assert_eq!(gs["spec"]["health"]["period_seconds"], 5, "int32 as a number");
    assert_eq!(gs["status"]["state"], "Ready");
    assert_eq!(gs["status"]["address"], "127.0.0.1");
    assert_eq!(gs["status"]["ports"], json!([{"name": "default", "port": 7777}]));
    assert_eq!(gs["status"]["counters"], json!({"rooms": {"count": "0", "capacity": "10"}}));
    assert_eq!(gs["status"]["lists"], json!({"players": {"capacity": "100", "values": []}}));
}

#[tokio::test]
async fn agones_shutting_the_server_down_shows_in_the_record_and_is_final() {
    let m = mock().await;
    send(m.port(), "POST", "/ready", None).await;
    m.set_state(GameServerState::Shutdown);
    let (_, gs) = send(m.port(), "GET", "/gameserver", None).await;
    assert_eq!(gs["status"]["state"], "Shutdown");
    assert_ne!(gs["object_meta"]["deletion_timestamp"], "0");
    send(m.port(), "POST", "/ready", None).await;
    send(m.port(), "POST", "/allocate", None).await;
    assert_eq!(m.state(), GameServerState::Shutdown, "no escape from deletion");
}

#[tokio::test]
async fn a_reservation_reverts_to_ready() {
    let m = mock().await;
    send(m.port(), "POST", "/ready", None).await;
    assert_eq!(send(m.port(), "POST", "/reserve", Some(r#"{"seconds":"1"}"#)).await.0, 200);
    assert_eq!(m.state(), GameServerState::Reserved);
    // The reservation is a span of real time: nothing to await but the clock.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(m.state(), GameServerState::Ready);
    send(m.port(), "POST", "/reserve", Some(r#"{"seconds":1}"#)).await;
    send(m.port(), "POST", "/allocate", None).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(m.state(), GameServerState::Allocated, "allocation cancels the reservation");
}

#[tokio::test]
async fn health_pings_are_counted_per_message() {
    let m = mock().await;
    assert_eq!(m.health_pings().count, 0);
    send(m.port(), "POST", "/health", Some("{}")).await;
    send(m.port(), "POST", "/health", Some("{}{}")).await;
    let pings = m.health_pings();
    assert_eq!(pings.count, 3, "the health stream carries one ping per message");
    assert!(pings.last.is_some_and(|t| t <= m.elapsed()));
    assert_eq!(send(m.port(), "POST", "/health", None).await, (400, Value::Null));
    assert_eq!(m.health_pings().count, 3);
}

#[tokio::test]
async fn labels_and_annotations_get_the_sdk_prefix_and_are_validated() {
    let m = mock().await;
    let ok = send(m.port(), "PUT", "/metadata/label", Some(r#"{"key":"draining","value":"true"}"#))
        .await;
    assert_eq!(ok, (200, json!({})));
    send(m.port(), "PUT", "/metadata/annotation", Some(r#"{"key":"note","value":"a b c"}"#)).await;
    assert_eq!(m.labels().get("agones.dev/sdk-draining").map(String::as_str), Some("true"));
    let (_, gs) = send(m.port(), "GET", "/gameserver", None).await;
    assert_eq!(gs["object_meta"]["labels"]["agones.dev/sdk-draining"], "true");
    assert_eq!(gs["object_meta"]["annotations"]["agones.dev/sdk-note"], "a b c");

    let (status, err) =
        send(m.port(), "PUT", "/metadata/label", Some(r#"{"key":"bad key","value":"x"}"#)).await;
    assert_eq!((status, &err["code"]), (400, &json!(3)));
    assert!(
        err["message"].as_str().is_some_and(|s| s.starts_with("invalid label key \"bad key\""))
    );
    let (status, _) =
        send(m.port(), "PUT", "/metadata/label", Some(r#"{"key":"k","value":"a b"}"#)).await;
    assert_eq!(status, 400);
    assert_eq!(m.labels().len(), 1, "refused labels are not stored");
}

#[tokio::test]
async fn counters_update_and_refuse_as_the_sidecar_does() {
    let m = mock().await;
    let path = "/v1beta1/counters/rooms";
    let rooms = |count: &str, cap: &str| json!({"name": "rooms", "count": count, "capacity": cap});
    assert_eq!(send(m.port(), "GET", path, None).await, (200, rooms("0", "10")));
    assert_eq!(
        send(m.port(), "PATCH", path, Some(r#"{"countDiff":"1"}"#)).await,
        (200, rooms("1", "10"))
    );
    assert_eq!(
        send(m.port(), "PATCH", path, Some(r#"{"countDiff":2}"#)).await,
        (200, rooms("3", "10"))
    );
    assert_eq!(
        send(m.port(), "PATCH", path, Some(r#"{"countDiff":"-1"}"#)).await,
        (200, rooms("2", "10"))
    );
    assert_eq!(
        send(m.port(), "PATCH", path, Some(r#"{"count":"5"}"#)).await,
        (200, rooms("5", "10"))
    );
    assert_eq!(
        send(m.port(), "PATCH", path, Some(r#"{"capacity":"11"}"#)).await,
        (200, rooms("5", "11"))
    );
    assert_eq!(m.counter("rooms"), Some(Counter { count: 5, capacity: 11 }));

    let out_of_range =
        "out of range. Count must be within range [0,Capacity]. Found Count: 12, Capacity: 11";
    assert_eq!(
        send(m.port(), "PATCH", path, Some(r#"{"count":"12"}"#)).await,
        (500, grpc_error(2, out_of_range))
    );
    let below =
        "out of range. Count must be within range [0,Capacity]. Found Count: -1, Capacity: 11";
    assert_eq!(
        send(m.port(), "PATCH", path, Some(r#"{"countDiff":"-6"}"#)).await,
        (500, grpc_error(2, below))
    );
    let (status, err) = send(m.port(), "PATCH", path, Some("{}")).await;
    assert_eq!((status, &err["code"]), (500, &json!(2)));
    assert!(err["message"].as_str().is_some_and(|s| s.contains("Malformed CounterUpdateRequest")));
    let (status, err) = send(m.port(), "PATCH", path, Some(r#"{"count":"abc"}"#)).await;
    assert_eq!((status, &err["code"]), (400, &json!(3)));
    assert_eq!(
        m.counter("rooms"),
        Some(Counter { count: 5, capacity: 11 }),
        "refusals change nothing"
    );

    let missing = grpc_error(2, "counter not found: nope");
    assert_eq!(send(m.port(), "GET", "/v1beta1/counters/nope", None).await, (500, missing.clone()));
    assert_eq!(
        send(m.port(), "PATCH", "/v1beta1/counters/nope", Some(r#"{"countDiff":"1"}"#)).await,
        (500, missing)
    );
    assert_eq!(m.counter("nope"), None);
}

#[tokio::test]
async fn lists_add_remove_and_refuse_as_the_sidecar_does() {
    let mut config = MockConfig::default();
    config.lists.insert("players".into(), ListState { capacity: 2, values: vec![] });
    let m = MockSidecar::start(config).await.expect("start");
    let (add, remove) = ("/v1beta1/lists/players:addValue", "/v1beta1/lists/players:removeValue");
    let players = |v: Value| json!({"name": "players", "capacity": "2", "values": v});
    assert_eq!(
        send(m.port(), "GET", "/v1beta1/lists/players", None).await,
        (200, players(json!([])))
    );
    assert_eq!(
        send(m.port(), "POST", add, Some(r#"{"value":"p1"}"#)).await,
        (200, players(json!(["p1"])))
    );
    let dup = grpc_error(2, "already exists. Value: p1 already in List: players");
    assert_eq!(send(m.port(), "POST", add, Some(r#"{"value":"p1"}"#)).await, (500, dup));
    send(m.port(), "POST", add, Some(r#"{"value":"p2"}"#)).await;
    let full =
        grpc_error(2, "out of range. No available capacity. Current Capacity: 2, List Size: 2");
    assert_eq!(send(m.port(), "POST", add, Some(r#"{"value":"p3"}"#)).await, (500, full));
    assert_eq!(
        send(m.port(), "POST", remove, Some(r#"{"value":"p1"}"#)).await,
        (200, players(json!(["p2"])))
    );
    let absent = grpc_error(2, "not found: value p1 not in list players");
    assert_eq!(send(m.port(), "POST", remove, Some(r#"{"value":"p1"}"#)).await, (500, absent));
    assert_eq!(m.list("players"), Some(ListState { capacity: 2, values: vec!["p2".into()] }));

    let patched =
        send(m.port(), "PATCH", "/v1beta1/lists/players", Some(r#"{"capacity":"120"}"#)).await;
    assert_eq!(
        patched,
        (200, json!({"name": "", "capacity": "0", "values": []})),
        "the sidecar answers an empty List"
    );
    assert_eq!(m.list("players").map(|l| l.capacity), Some(120));
    let too_big =
        grpc_error(2, "out of range. Capacity must be within range [0,1000]. Found Capacity: 1001");
    assert_eq!(
        send(m.port(), "PATCH", "/v1beta1/lists/players", Some(r#"{"capacity":1001}"#)).await,
        (500, too_big)
    );

    let missing = grpc_error(2, "list not found: nope");
    assert_eq!(send(m.port(), "GET", "/v1beta1/lists/nope", None).await, (500, missing.clone()));
    assert_eq!(
        send(m.port(), "POST", "/v1beta1/lists/nope:addValue", Some(r#"{"value":"x"}"#)).await,
        (500, missing.clone())
    );
    assert_eq!(
        send(m.port(), "POST", "/v1beta1/lists/nope:removeValue", Some(r#"{"value":"x"}"#)).await,
        (500, missing)
    );
    let patch_missing = grpc_error(2, "not found. nope List not found");
    assert_eq!(
        send(m.port(), "PATCH", "/v1beta1/lists/nope", Some(r#"{"capacity":"1"}"#)).await,
        (500, patch_missing)
    );
}

#[tokio::test]
async fn routing_errors_are_the_gateway_mux_s() {
    let m = mock().await;
    assert_eq!(send(m.port(), "GET", "/nope", None).await, (404, grpc_error(5, "Not Found")));
    assert_eq!(
        send(m.port(), "GET", "/ready", None).await,
        (501, grpc_error(12, "Method Not Allowed"))
    );
    assert_eq!(
        send(m.port(), "POST", "/gameserver", None).await,
        (501, grpc_error(12, "Method Not Allowed"))
    );
    assert_eq!(send(m.port(), "DELETE", "/v1beta1/counters/rooms", None).await.0, 501);
    let (status, err) = send(m.port(), "POST", "/ready", Some("{not json")).await;
    assert_eq!((status, &err["code"]), (400, &json!(3)));
    assert_eq!(m.state(), GameServerState::Scheduled);
    let (status, err) = send(m.port(), "POST", "/reserve", Some(r#"{"seconds":"soon"}"#)).await;
    assert_eq!((status, &err["code"]), (400, &json!(3)));
    let statuses: Vec<u16> = m.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [404, 501, 501, 501, 400, 400], "refused calls are recorded too");
}

#[tokio::test]
async fn a_sidecar_that_starts_late_refuses_connections_until_then() {
    let m = MockSidecar::start_later(MockConfig::default(), Duration::from_millis(300))
        .await
        .expect("start");
    assert!(TcpStream::connect(("127.0.0.1", m.port())).await.is_err(), "nothing listens yet");
    let mut up = false;
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", m.port())).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(up, "the sidecar came up on the announced port");
    assert_eq!(send(m.port(), "POST", "/ready", None).await.0, 200);

    m.set_unavailable(true).await;
    assert!(TcpStream::connect(("127.0.0.1", m.port())).await.is_err());
    m.set_unavailable(false).await;
    assert_eq!(send(m.port(), "POST", "/health", Some("{}")).await.0, 200);
    assert_eq!(m.call_names(), ["POST /ready", "POST /health"]);
}

#[tokio::test]
async fn observers_see_each_call_and_can_await_a_condition() {
    let m = mock().await;
    let mut events = m.subscribe();
    let port = m.port();
    tokio::spawn(async move {
        send(port, "POST", "/ready", None).await;
        send(port, "PATCH", "/v1beta1/counters/rooms", Some(r#"{"countDiff":"1"}"#)).await;
    });
    let first = events.recv().await.expect("event");
    assert_eq!((first.method.as_str(), first.path.as_str()), ("POST", "/ready"));
    let counted = m
        .wait_until(Duration::from_secs(5), |m| m.counter("rooms").is_some_and(|c| c.count == 1))
        .await;
    assert!(counted);
    assert!(
        !m.wait_until(Duration::from_millis(50), |m| m.state() == GameServerState::Allocated).await
    );
}
