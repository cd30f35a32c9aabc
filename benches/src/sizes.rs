//! Snapshot sizes: what each scenario costs on the wire per tick, with and without linear
//! prediction, next to plain bincode. The `snapshot-sizes` binary prints [`markdown`] of
//! [`measure`] for every codec scenario.
//!
//! Every payload measured here is also decoded and compared with the state it encodes, so a
//! size can never come from an encoding that would not round-trip.

use std::collections::VecDeque;

use anyhow::{Context, ensure};
use tickwire_arena::{BODY, Body};
use tickwire_protocol::snapshot::{DecodeLimits, decode};
use tickwire_protocol::{Schema, Snapshot, SnapshotEncoder};

use crate::plain::{bincode_bytes, plain_entities, poses};
use crate::scenario::{Scenario, record};
use crate::schemas::arena_without_prediction;

/// The older baseline measured besides the previous tick, in ticks.
pub const OLD_BASELINE: usize = 5;

/// Mean, 99th percentile and maximum of a sample of byte counts.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stats {
    /// Arithmetic mean.
    pub mean: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
    /// Largest value.
    pub max: f64,
}

impl Stats {
    /// The statistics of `values` (all zero when empty).
    pub fn of(values: &[usize]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let n = sorted.len();
        let rank = (n * 99).div_ceil(100).clamp(1, n);
        Self {
            mean: sorted.iter().sum::<usize>() as f64 / n as f64,
            p99: sorted[rank - 1] as f64,
            max: sorted[n - 1] as f64,
        }
    }
}

/// Payload sizes under one schema.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CodecSizes {
    /// Full snapshots.
    pub full: Stats,
    /// Deltas against the previous tick.
    pub delta: Stats,
    /// Deltas against the snapshot [`OLD_BASELINE`] ticks old.
    pub delta_old: Stats,
}

/// The sizes of one scenario over a run of consecutive ticks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeRow {
    /// What was simulated.
    pub scenario: Scenario,
    /// Ticks measured.
    pub ticks: usize,
    /// Entities per snapshot.
    pub entities: usize,
    /// Mean number of entities with a non-zero velocity per snapshot.
    pub moving: f64,
    /// Payload bytes with the arena schema (linear prediction of positions).
    pub predicted: CodecSizes,
    /// Payload bytes with the same schema without prediction.
    pub unpredicted: CodecSizes,
    /// Plain bincode of the same state ([`crate::plain::PlainEntity`]).
    pub plain: Stats,
    /// Plain bincode of positions, headings and kinds only ([`crate::plain::PlainPose`]).
    pub plain_pose: Stats,
    /// Bytes the `ServerMessage::Snapshot` envelope adds to a 1-tick delta payload.
    pub envelope: Stats,
}

impl SizeRow {
    /// `bytes` per moving entity, if any entity moves.
    pub fn per_moving(&self, bytes: f64) -> Option<f64> {
        (self.moving > 0.0).then(|| bytes / self.moving)
    }
}

/// Runs `scenario` for `warmup` ticks, then measures `ticks` consecutive ticks.
pub fn measure(scenario: Scenario, warmup: u32, ticks: usize) -> anyhow::Result<SizeRow> {
    ensure!(ticks > 0, "nothing to measure");
    let schemas = [tickwire_arena::schema(), arena_without_prediction()];
    let mut arena = scenario.arena().context("building the arena")?;
    // The first snapshots only serve as baselines.
    let mut window: VecDeque<Snapshot> = record(&mut arena, warmup, OLD_BASELINE).into();
    let mut encoder = SnapshotEncoder::new();
    let mut samples = Samples::default();
    let mut message = Vec::new();
    for _ in 0..ticks {
        arena.step(&[]);
        let current = arena.snapshot(Snapshot::default()).context("a snapshot")?;
        let (Some(old), Some(previous)) = (window.front(), window.back()) else {
            anyhow::bail!("the baseline window is empty");
        };
        for (k, schema) in schemas.into_iter().enumerate() {
            let full = encode_checked(&mut encoder, schema, None, &current)?;
            let delta = encode_checked(&mut encoder, schema, Some(previous), &current)?;
            let delta_old = encode_checked(&mut encoder, schema, Some(old), &current)?;
            let sizes = &mut samples.codec[k];
            sizes[0].push(full.len());
            sizes[1].push(delta.len());
            sizes[2].push(delta_old.len());
            if k == 0 {
                message.clear();
                tickwire_protocol::codec::encode_snapshot_into(
                    &mut message,
                    current.tick(),
                    Some(previous.tick()),
                    Some(current.tick()),
                    &delta,
                );
                samples.envelope.push(message.len() - delta.len());
            }
        }
        let plain = plain_entities(schemas[0], &current);
        samples.plain.push(bincode_bytes(&plain).len());
        samples.plain_pose.push(bincode_bytes(&poses(&plain)).len());
        samples.moving.push(moving(schemas[0], &current));
        samples.entities = current.len();
        window.pop_front();
        window.push_back(current);
    }
    let sizes = |s: &[Vec<usize>; 3]| CodecSizes {
        full: Stats::of(&s[0]),
        delta: Stats::of(&s[1]),
        delta_old: Stats::of(&s[2]),
    };
    Ok(SizeRow {
        scenario,
        ticks,
        entities: samples.entities,
        moving: Stats::of(&samples.moving).mean,
        predicted: sizes(&samples.codec[0]),
        unpredicted: sizes(&samples.codec[1]),
        plain: Stats::of(&samples.plain),
        plain_pose: Stats::of(&samples.plain_pose),
        envelope: Stats::of(&samples.envelope),
    })
}

/// Raw byte counts, one per tick.
#[derive(Debug, Default)]
struct Samples {
    /// Per schema (predicted, unpredicted): full, delta, old-baseline delta.
    codec: [[Vec<usize>; 3]; 2],
    plain: Vec<usize>,
    plain_pose: Vec<usize>,
    envelope: Vec<usize>,
    moving: Vec<usize>,
    entities: usize,
}

/// Encodes, then decodes and checks that the decoded state is `current`.
fn encode_checked(
    encoder: &mut SnapshotEncoder,
    schema: &Schema,
    baseline: Option<&Snapshot>,
    current: &Snapshot,
) -> anyhow::Result<Vec<u8>> {
    let bytes = encoder.encode(schema, baseline, current);
    let decoded = decode(schema, baseline, current.tick(), &bytes, &DecodeLimits::default())
        .with_context(|| format!("decoding tick {}", current.tick()))?;
    ensure!(decoded == *current, "tick {} does not round-trip", current.tick());
    Ok(bytes)
}

/// Entities whose velocity is not zero.
fn moving(schema: &Schema, snapshot: &Snapshot) -> usize {
    snapshot
        .iter()
        .filter_map(|e| e.get::<Body>(schema, BODY))
        .filter(|b| b.vx != 0.0 || b.vy != 0.0)
        .count()
}

/// The report: one table with prediction, one without, and notes.
pub fn markdown(rows: &[SizeRow]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let ticks = rows.first().map_or(0, |r| r.ticks);
    let _ = writeln!(
        s,
        "Snapshot payload bytes, mean over {ticks} consecutive ticks (p99 where noted).\n\n\
         | scenario | entities | moving | full | 1-tick delta (mean) | delta p99 | \
         B / moving entity | {OLD_BASELINE}-tick delta | plain bincode full | delta / bincode | \
         bincode pose-only | delta / pose-only |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for r in rows {
        let p = &r.predicted;
        let _ = writeln!(
            s,
            "| {} | {} | {:.0} | {:.0} | {:.1} | {:.0} | {} | {:.1} | {:.0} | {} | {:.0} | {} |",
            r.scenario.label(),
            r.entities,
            r.moving,
            p.full.mean,
            p.delta.mean,
            p.delta.p99,
            per_moving(r, p.delta.mean),
            p.delta_old.mean,
            r.plain.mean,
            ratio(p.delta.mean, r.plain.mean),
            r.plain_pose.mean,
            ratio(p.delta.mean, r.plain_pose.mean),
        );
    }
    let _ = writeln!(
        s,
        "\nThe same snapshots with linear prediction disabled (`FieldDef::new` for x/y, same \
         codecs and field count).\n\n\
         | scenario | full | 1-tick delta (mean) | delta p99 | B / moving entity | \
         {OLD_BASELINE}-tick delta | delta / bincode | delta vs predicted |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for r in rows {
        let u = &r.unpredicted;
        let _ = writeln!(
            s,
            "| {} | {:.0} | {:.1} | {:.0} | {} | {:.1} | {} | {} |",
            r.scenario.label(),
            u.full.mean,
            u.delta.mean,
            u.delta.p99,
            per_moving(r, u.delta.mean),
            u.delta_old.mean,
            ratio(u.delta.mean, r.plain.mean),
            times(u.delta.mean, r.predicted.delta.mean),
        );
    }
    let (lo, hi) = rows
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), r| (lo.min(r.envelope.mean), hi.max(r.envelope.max)));
    let _ = writeln!(
        s,
        "\nNotes: sizes are snapshot payloads (`PROTOCOL.md` §6); the `ServerMessage::Snapshot` \
         envelope adds {lo:.0}–{hi:.0} bytes (tick, baseline and last-input varints, payload \
         length) and WebSocket framing 2–4 more. \"moving\" counts entities with a non-zero \
         velocity. Plain bincode is a `Vec` of structs encoded with `bincode::config::standard()`: \
         `{{id: u32, x, y, vx, vy, heading: f32, kind: u8}}` (the same state) and pose-only \
         `{{id, x, y, heading, kind}}`. Every payload was decoded and checked equal to its state."
    );
    s
}

fn per_moving(r: &SizeRow, bytes: f64) -> String {
    r.per_moving(bytes).map_or_else(|| "–".to_owned(), |b| format!("{b:.2}"))
}

fn ratio(part: f64, whole: f64) -> String {
    if part <= 0.0 || whole <= 0.0 {
        return "–".to_owned();
    }
    format!("1/{:.0}", whole / part)
}

fn times(a: f64, b: f64) -> String {
    if b <= 0.0 { "–".to_owned() } else { format!("{:.1}×", a / b) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_nearest_rank() {
        let v: Vec<usize> = (1..=200).collect();
        let s = Stats::of(&v);
        assert_eq!((s.mean, s.p99, s.max), (100.5, 198.0, 200.0));
        assert_eq!(Stats::of(&[7]), Stats { mean: 7.0, p99: 7.0, max: 7.0 });
        assert_eq!(Stats::of(&[]), Stats::default());
    }

    #[test]
    fn small_world_sizes() {
        let row = measure(Scenario::new(200, 0.25), 3, 12).expect("measures");
        assert_eq!((row.entities, row.ticks), (200, 12));
        assert_eq!(row.moving, 50.0, "the moving count is constant");
        let (p, u) = (&row.predicted, &row.unpredicted);
        assert_eq!(p.full, u.full, "full snapshots do not use prediction");
        assert!(p.delta.mean < p.full.mean / 10.0, "{row:?}");
        assert!(u.delta.mean > p.delta.mean, "prediction saves bytes: {row:?}");
        assert!(p.delta_old.mean >= p.delta.mean);
        // 200 entities: ids are 1-byte varints below 251; 22 bytes each plus the length.
        assert_eq!(row.plain.mean, 1.0 + 200.0 * 22.0);
        assert_eq!(row.plain_pose.mean, 1.0 + 200.0 * 14.0);
        assert!(row.per_moving(p.delta.mean).is_some());
        let table = markdown(&[row]);
        assert!(table.contains("| arena-200/25%moving | 200 | 50 |"), "{table}");
    }

    #[test]
    fn still_world_deltas_are_one_byte() {
        let row = measure(Scenario::new(100, 0.0), 2, 5).expect("measures");
        // No despawn, no change, no spawn: three 1-bit counts, padded to a byte.
        assert_eq!(row.predicted.delta.max, 1.0);
        assert_eq!(row.unpredicted.delta.max, 1.0);
        assert_eq!(row.per_moving(1.0), None);
    }
}
