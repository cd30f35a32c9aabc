//! Game payload vectors (`PROTOCOL.md` §5.6): a demo game whose input, events and commands use
//! every field codec and optional fields, its description (what `/schema.json` serves), and
//! payloads with their quantized values; plus payloads a decoder must refuse.

use serde::Serialize;
use serde_json::Value;
use tickwire_protocol::game::{GameDescription, GameSchema, MessageDef, MessageSchema, Values};
use tickwire_protocol::schema::FieldDef;
use tickwire_protocol::schema::spec::*;

use super::{hex, unhex};

/// The demo game's components: the snapshot vectors' schema.
const INPUT: &[FieldDef] = &[
    FieldDef::from_spec("throttle", fixed(-1.0, 1.0, 0.015625)),
    FieldDef::from_spec("steer", int(-127, 127)),
    FieldDef::from_spec("aim", angle(16)),
    FieldDef::from_spec("gear", uint(5)),
    FieldDef::from_spec("lights", boolean()),
    FieldDef::from_spec("buttons", buttons(3)),
    FieldDef::from_spec("target", entity()),
];

const EVENTS: &[MessageDef] = &[
    MessageDef {
        name: "Shot",
        fields: &[
            FieldDef::from_spec("shooter", entity()),
            FieldDef::from_spec("x", fixed(0.0, 2047.0 + 31.0 / 32.0, 0.03125)),
            FieldDef::from_spec("hit", entity().optional()),
            FieldDef::from_spec("damage", uint(255).optional()),
        ],
    },
    MessageDef { name: "Whistle", fields: &[] },
];

const COMMANDS: &[MessageDef] = &[
    MessageDef {
        name: "Paint",
        fields: &[FieldDef::from_spec("color", uint(7)), FieldDef::from_spec("shade", int(-3, 3))],
    },
    MessageDef { name: "Respawn", fields: &[] },
];

/// The demo game's schema.
pub(crate) fn schema() -> GameSchema {
    GameSchema::builder("demo", 1)
        .components(&super::snapshots::COMPONENTS)
        .input(INPUT)
        .events(EVENTS)
        .commands(COMMANDS)
        .build()
        .expect("valid demo game")
}

/// One encoded payload: which payload, and its quantized values (`null`: absent).
#[derive(Serialize)]
pub(crate) struct PayloadVector {
    name: &'static str,
    /// `input`, `event` or `command`.
    payload: &'static str,
    kind: u16,
    values: Vec<Option<u32>>,
    hex: String,
}

/// Bytes a payload decoder must refuse, with the error kind (`PayloadError::kind`).
#[derive(Serialize)]
pub(crate) struct HostilePayload {
    name: &'static str,
    why: &'static str,
    payload: &'static str,
    kind: u16,
    hex: String,
    error: &'static str,
}

fn layout<'a>(s: &'a GameSchema, payload: &str, kind: u16) -> &'a MessageSchema {
    match payload {
        "input" => s.input(),
        "event" => &s.events()[usize::from(kind)],
        _ => &s.commands()[usize::from(kind)],
    }
}

fn values(layout: &MessageSchema, values: &[Option<u32>]) -> Values {
    let mut v = Values::zeroed(layout.fields().len());
    for (i, q) in values.iter().enumerate() {
        v.set(i, *q);
    }
    v
}

fn vector(
    s: &GameSchema,
    name: &'static str,
    payload: &'static str,
    kind: u16,
    q: &[Option<u32>],
) -> PayloadVector {
    let l = layout(s, payload, kind);
    let v = values(l, q);
    let bytes = l.encode(&v);
    assert_eq!(l.decode(&bytes), Ok(v), "{name}");
    PayloadVector { name, payload, kind, values: q.to_vec(), hex: hex(&bytes) }
}

/// Valid payloads.
pub(crate) fn valid() -> Vec<PayloadVector> {
    let s = schema();
    vec![
        vector(
            &s,
            "input_idle",
            "input",
            0,
            &[Some(64), Some(127), Some(0), Some(0), Some(0), Some(0), Some(0)],
        ),
        vector(
            &s,
            "input_full",
            "input",
            0,
            &[Some(128), Some(0), Some(49_152), Some(5), Some(1), Some(0b101), Some(4_000_000_000)],
        ),
        vector(&s, "event_shot_hit", "event", 0, &[Some(17), Some(3_608), Some(21), Some(25)]),
        vector(&s, "event_shot_miss", "event", 0, &[Some(17), Some(65_535), None, None]),
        vector(&s, "event_shot_damage_only", "event", 0, &[Some(0), Some(0), None, Some(255)]),
        vector(&s, "event_whistle", "event", 1, &[]),
        vector(&s, "command_paint", "command", 0, &[Some(7), Some(0)]),
        vector(&s, "command_respawn", "command", 1, &[]),
    ]
}

fn hostile_one(
    s: &GameSchema,
    name: &'static str,
    payload: &'static str,
    kind: u16,
    bytes: &[u8],
    error: &'static str,
    why: &'static str,
) -> HostilePayload {
    let err = layout(s, payload, kind).decode(bytes).expect_err(name);
    assert_eq!(err.kind(), error, "{name}: {err}");
    HostilePayload { name, why, payload, kind, hex: hex(bytes), error }
}

/// Payloads each decoder must refuse.
pub(crate) fn hostile() -> Vec<HostilePayload> {
    let s = schema();
    let idle = unhex(&valid()[0].hex);
    let mut padded = idle.clone();
    let last = padded.len() - 1;
    padded[last] |= 0x80;
    let mut long = idle.clone();
    long.push(0);
    let mut miss = unhex(&valid()[3].hex);
    miss.push(0);
    vec![
        hostile_one(
            &s,
            "input_short",
            "input",
            0,
            &idle[..idle.len() - 1],
            "unexpected_end",
            "the input's last byte is missing",
        ),
        hostile_one(
            &s,
            "input_long",
            "input",
            0,
            &long,
            "too_large",
            "one byte more than the input's size",
        ),
        hostile_one(
            &s,
            "input_padding",
            "input",
            0,
            &padded,
            "non_zero_padding",
            "a padding bit of the last byte is set",
        ),
        hostile_one(
            &s,
            "input_throttle_out_of_range",
            "input",
            0,
            &[0xff, 0, 0, 0, 0, 0, 0, 0, 0],
            "value_out_of_range",
            "throttle 255 is above its largest value, 128",
        ),
        hostile_one(
            &s,
            "command_paint_too_long",
            "command",
            0,
            &[0x07, 0x00],
            "too_large",
            "Paint takes at most 1 byte",
        ),
        hostile_one(
            &s,
            "event_shot_trailing",
            "event",
            0,
            &miss,
            "trailing_bytes",
            "a whole byte after the last field of a Shot without its optional fields",
        ),
        hostile_one(
            &s,
            "command_shade_out_of_range",
            "command",
            0,
            &[0x3f],
            "value_out_of_range",
            "shade 7 is above its largest value, 6",
        ),
        hostile_one(
            &s,
            "event_whistle_with_bytes",
            "event",
            1,
            &[0x00],
            "too_large",
            "a payload with no fields takes no bytes",
        ),
    ]
}

/// Checks the committed vectors as a consumer sees them: the description rebuilds the schema,
/// and every vector decodes to its values and re-encodes to its bytes.
pub(crate) fn check(file: &Value) {
    let description: GameDescription =
        serde_json::from_value(file["game_schema"].clone()).expect("a game description");
    let rebuilt = GameSchema::from_description(&description).expect("the description is valid");
    assert_eq!(rebuilt.hash(), schema().hash());
    for v in file["payloads"].as_array().expect("payloads") {
        let name = v["name"].as_str().unwrap_or_default();
        let payload = v["payload"].as_str().unwrap_or_default();
        let kind = v["kind"].as_u64().unwrap_or_default() as u16;
        let l = layout(&rebuilt, payload, kind);
        let q: Vec<Option<u32>> = v["values"]
            .as_array()
            .expect("values")
            .iter()
            .map(|x| x.as_u64().map(|n| n as u32))
            .collect();
        let bytes = unhex(v["hex"].as_str().unwrap_or_default());
        assert_eq!(l.decode(&bytes), Ok(values(l, &q)), "{name}: decoded values");
        assert_eq!(l.encode(&values(l, &q)), bytes, "{name}: encoding");
    }
    for v in file["hostile_payloads"].as_array().expect("hostile_payloads") {
        let name = v["name"].as_str().unwrap_or_default();
        let payload = v["payload"].as_str().unwrap_or_default();
        let kind = v["kind"].as_u64().unwrap_or_default() as u16;
        let bytes = unhex(v["hex"].as_str().unwrap_or_default());
        let err = layout(&rebuilt, payload, kind).decode(&bytes).expect_err(name);
        assert_eq!(err.kind(), v["error"].as_str().unwrap_or_default(), "{name}: {err}");
    }
}
