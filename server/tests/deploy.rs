//! `deploy/`: the Grafana dashboard queries only metrics a real server exports. A server on
//! port 0 plays a session (joined, inputs, left), refuses a hello and an HTTP request, so that
//! the labelled families appear in `/metrics`; then every metric name in the dashboard's PromQL
//! must be a sample name there, and every label it groups by must be on that metric's samples.

mod common;

use std::collections::BTreeSet;

use common::{TestClient, http_get, send, server, until_closed};
use tickwire_protocol::message::{ClientMessage, DisconnectReason, Hello};

const DASHBOARD: &str = include_str!("../../deploy/grafana/tickwire-dashboard.json");
const PROMETHEUS: &str = include_str!("../../deploy/prometheus/prometheus.yml");

/// Every PromQL string of the dashboard: the panels' `expr` and the variables' queries.
fn queries(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr" | "definition", serde_json::Value::String(q)) => out.push(q.clone()),
                    _ => queries(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| queries(v, out)),
        _ => {}
    }
}

/// The `tickwire_*` identifiers of a query.
fn metric_names(query: &str) -> Vec<&str> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut names = Vec::new();
    let mut rest = query;
    while let Some(at) = rest.find("tickwire_") {
        let preceded = rest[..at].chars().next_back().is_some_and(is_ident);
        let end = rest[at..].find(|c| !is_ident(c)).map_or(rest.len(), |e| at + e);
        if !preceded {
            names.push(&rest[at..end]);
        }
        rest = &rest[end..];
    }
    names
}

/// The labels of every `by (…)` clause of a query.
fn grouped_by(query: &str) -> Vec<&str> {
    query
        .match_indices("by (")
        .filter_map(|(at, _)| {
            let inner = &query[at + 4..];
            inner.find(')').map(|end| &inner[..end])
        })
        .flat_map(|labels| labels.split(',').map(str::trim))
        .collect()
}

#[test]
fn the_parsers_find_names_and_labels() {
    let q = "histogram_quantile(0.99, sum by (le, game) \
             (rate(tickwire_tick_duration_seconds_bucket{game=~\"$game\"}[1m]))) / my_tickwire_x";
    assert_eq!(metric_names(q), ["tickwire_tick_duration_seconds_bucket"]);
    assert_eq!(grouped_by(q), ["le", "game"]);
}

#[tokio::test]
async fn every_metric_the_dashboard_queries_is_exported() {
    let server = server(|_| {}).await;
    let addr = server.handle.addr();
    // A session that joins, plays a few ticks and leaves: per-game and session families.
    let mut c = TestClient::join(addr, "lobby", "grafana").await;
    c.next_snapshot().await;
    c.next_snapshot().await;
    send(&mut c.ws, &ClientMessage::Disconnect(DisconnectReason::ClientLeft)).await;
    until_closed(&mut c.ws).await;
    // A refused hello and a refused HTTP request.
    let hello = Hello { game: "nosuchgame".into(), ..common::hello("lobby", "x") };
    assert!(TestClient::hello_url(&server.handle.ws_url(), hello).await.is_err());
    assert_eq!(http_get(addr, "/ws").await.0, 426);
    let text = loop {
        let (_, text) = http_get(addr, "/metrics").await;
        if text.contains("tickwire_sessions_closed_total{") {
            break text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let samples: Vec<&str> =
        text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    let exported: BTreeSet<&str> =
        samples.iter().filter_map(|l| l.split(['{', ' ']).next()).collect();

    let dashboard: serde_json::Value =
        serde_json::from_str(DASHBOARD).expect("the dashboard is JSON");
    let mut all = Vec::new();
    queries(&dashboard, &mut all);
    assert!(all.len() >= 20, "{all:?}");
    let mut queried = BTreeSet::new();
    for q in &all {
        let names = metric_names(q);
        assert!(!names.is_empty(), "a query of no Tickwire metric: {q}");
        for name in names {
            assert!(exported.contains(name), "{name} (in `{q}`) is not in /metrics:\n{text}");
            for label in grouped_by(q) {
                let labelled = samples.iter().any(|l| {
                    l.starts_with(&format!("{name}{{")) && l.contains(&format!("{label}=\""))
                });
                assert!(labelled, "{name} has no label `{label}` (in `{q}`)");
            }
            queried.insert(name);
        }
    }
    // What the dashboard is for: tick time, players, bytes, RTT, rewinds, sessions by reason.
    for needed in [
        "tickwire_tick_duration_seconds_bucket",
        "tickwire_players",
        "tickwire_bytes_total",
        "tickwire_rtt_seconds_bucket",
        "tickwire_rewinds_total",
        "tickwire_sessions_closed_total",
    ] {
        assert!(queried.contains(needed), "the dashboard does not chart {needed}");
    }
    // Every panel names the templated data source, so the file imports into any Grafana.
    let panels = dashboard["panels"].as_array().expect("panels");
    for p in panels.iter().filter(|p| p["type"] != "row") {
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{}", p["title"]);
    }
    server.stop().await.expect("stops");
}

#[test]
fn the_scrape_config_points_at_a_default_server() {
    let default = tickwire_server::ServerConfig::default().addr.to_string();
    assert!(PROMETHEUS.contains(&format!("[\"{default}\"]")), "targets {default}");
    assert!(PROMETHEUS.contains("metrics_path: /metrics"));
    assert!(PROMETHEUS.contains("job_name: tickwire"));
}
