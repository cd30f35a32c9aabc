//! What the fuzz targets check, shared with the seed generator (`examples/seeds.rs`) so that
//! both use the very same snapshot fixture.
//!
//! Both properties are the canonical-encoding guarantee of `PROTOCOL.md` §2.1, §5.6 and §6.5:
//! any input the decoder accepts is the one encoding of what it decodes to, so re-encoding
//! gives back the input byte for byte. Any panic is a finding too (decoders must never panic).
//!
//! The client-message target also decodes the game payloads a message carries (an input's,
//! a command's) with both built-in games' schemas, the arena's and the kart race's, as the
//! server's session reader does, and as their typed Rust values, as their rooms do.

use std::sync::OnceLock;

use tickwire_arena::ArenaProtocol;
use tickwire_kart::KartProtocol;
use tickwire_protocol::game::{GameProtocol, GameSchema, MessageSchema, Protocol};
use tickwire_protocol::message::{ChunkKey, ClientMessage, ServerMessage};

use tickwire_protocol::schema::{
    ComponentDef, FieldCodec, FieldDef, FieldReader, FieldWriter, Replicate, Schema,
};
use tickwire_protocol::snapshot::{
    ChunkSet, DecodeLimits, Snapshot, SnapshotDecoder, chunk_delta, decode,
};
use tickwire_protocol::{EntityId, SnapshotBuilder, SnapshotEncoder, Tick, codec};

/// `decode_client`, then `encode_client` must reproduce the input; a game payload it carries
/// must do the same with each game's layout, and decode to that game's typed value.
pub fn client_message(data: &[u8]) {
    let Ok(msg) = codec::decode_client(data) else { return };
    let again = codec::encode_client(&msg);
    assert!(again == data, "non-canonical accepted: {msg:?} re-encodes to {again:02x?}");
    match &msg {
        ClientMessage::Input(frame) => {
            for game in games() {
                canonical(game.input(), &frame.payload);
            }
            typed_input::<ArenaProtocol>(&frame.payload);
            typed_input::<KartProtocol>(&frame.payload);
        }
        ClientMessage::Command(c) => {
            for game in games() {
                if let Some(layout) = game.commands().get(usize::from(c.kind)) {
                    canonical(layout, &c.payload);
                }
                let checked = game.check_command(c.kind, &c.payload);
                assert_eq!(checked.is_ok(), game.commands().get(usize::from(c.kind)).is_some_and(|l| l.decode(&c.payload).is_ok()));
            }
            typed_command::<ArenaProtocol>(c.kind, &c.payload);
            typed_command::<KartProtocol>(c.kind, &c.payload);
        }
        _ => {}
    }
}

/// The built-in games' schemas.
pub fn games() -> [&'static GameSchema; 2] {
    [ArenaProtocol::schema(), KartProtocol::schema()]
}

/// A payload `layout` accepts must be the one encoding of its values.
fn canonical(layout: &MessageSchema, bytes: &[u8]) {
    if let Ok(values) = layout.decode(bytes) {
        let again = layout.encode(&values);
        assert!(again == bytes, "{}: non-canonical accepted, re-encodes to {again:02x?}", layout.name());
    }
}

/// A valid input of `P` decodes to its typed value, which encodes back to the same bytes.
fn typed_input<P: GameProtocol>(bytes: &[u8]) {
    let schema = P::schema();
    if let Ok(input) = schema.decode_input::<<P as Protocol>::Input>(bytes) {
        assert!(schema.encode_input(&input) == bytes, "{}: typed input re-encodes differently", schema.name());
    }
}

/// A valid command of `P` decodes to its typed value, which encodes back to the same bytes.
fn typed_command<P: GameProtocol>(kind: u16, bytes: &[u8]) {
    let schema = P::schema();
    if let Ok(command) = schema.decode_command::<<P as Protocol>::Command>(kind, bytes) {
        assert!(schema.encode_command(&command) == (kind, bytes.to_vec()), "{}: typed command re-encodes differently", schema.name());
    }
}

/// `data[0] % 4` picks the scenario (see [`Scenario`]); the rest is the payload. If it decodes,
/// encoding the result against the same baseline must reproduce the payload.
pub fn snapshot(data: &[u8]) {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let (baseline, tick) = f.scenario(Scenario::from_byte(selector));
    let limits = DecodeLimits { max_entities: 4096 };
    if let Ok(snap) = decode(&f.schema, baseline, tick, payload, &limits) {
        let again = SnapshotEncoder::new().encode(&f.schema, baseline, &snap);
        assert!(again == payload, "non-canonical accepted: re-encodes to {again:02x?}");
    }
}

/// `data[0]` even: a client holding no chunk, odd: one holding [`Fixture::chunks`]; the rest is
/// a server message. A `Chunks` message the set accepts must be the one a conforming server
/// sends for the change it makes ([`chunk_delta`]); whatever else, nothing panics.
pub fn chunks(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let Ok(ServerMessage::Chunks(msg)) = codec::decode_server(bytes) else { return };
    let f = fixture();
    let mut set = if selector % 2 == 0 { ChunkSet::new() } else { f.chunks.clone() };
    let before: Vec<(ChunkKey, Snapshot)> = set.held().collect();
    let limits = DecodeLimits { max_entities: 4096 };
    let mut view = Snapshot::default();
    if set.apply(&mut SnapshotDecoder::new(), &f.schema, &msg, &limits, &mut view).is_ok() {
        // A message with no baseline starts from no chunk, whatever was held.
        let from = if msg.baseline.is_some() { &before[..] } else { &[] };
        let held: Vec<(ChunkKey, &Snapshot)> = from.iter().map(|(k, s)| (*k, s)).collect();
        let after: Vec<(ChunkKey, Snapshot)> = set.held().collect();
        let after: Vec<(ChunkKey, &Snapshot)> = after.iter().map(|(k, s)| (*k, s)).collect();
        let (dropped, chunks) = chunk_delta(&mut SnapshotEncoder::new(), &f.schema, &held, &after);
        assert!(dropped == msg.dropped && chunks == msg.chunks, "non-canonical accepted: {msg:?}");
        let mut merged: Vec<_> = after.iter().flat_map(|(_, s)| s.ids().iter().copied()).collect();
        merged.sort_unstable();
        assert!(view.ids() == merged.as_slice(), "the view is not the chunks' entities");
    }
}

/// The fixture's entities cut into chunks at tick 100: 9 global, 5 in team 1, 1 and 2 in cell
/// (0, 0), 3 and 20 in cell (3, -1).
pub const CHUNKS: [(ChunkKey, &[u32]); 4] = [
    (ChunkKey::Global, &[9]),
    (ChunkKey::Team(1), &[5]),
    (ChunkKey::Cell { x: 0, y: 0 }, &[1, 2]),
    (ChunkKey::Cell { x: 3, y: -1 }, &[3, 20]),
];

/// What a snapshot input is decoded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// A full snapshot at tick 7.
    Full,
    /// A delta at tick 101 against [`Fixture::baseline`] (tick 100): one tick of prediction.
    OneTick,
    /// A delta at tick 107 against the same baseline: seven ticks of prediction.
    SevenTicks,
    /// A delta at tick 2 against the same entities at tick 2^32 - 2: prediction across the wrap.
    Wrapped,
}

impl Scenario {
    /// All scenarios, in selector order.
    pub const ALL: [Scenario; 4] = [Self::Full, Self::OneTick, Self::SevenTicks, Self::Wrapped];

    /// The scenario a selector byte picks.
    pub fn from_byte(b: u8) -> Self {
        Self::ALL[usize::from(b % 4)]
    }

    /// The selector byte of this scenario.
    pub fn byte(self) -> u8 {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0) as u8
    }
}

/// The schema and baselines of the snapshot target.
#[derive(Debug)]
pub struct Fixture {
    /// `body` (x, y predicted linearly from vx, vy), `heading` (10-bit angle), `stats` (health
    /// 0..=100, alive flag): every codec and predictor.
    pub schema: Schema,
    /// Six entities at tick 100, among them every component combination that matters: movers,
    /// one whose prediction clamps at each end, an entity with no component.
    pub baseline: Snapshot,
    /// The same entities at tick 2^32 - 2.
    pub wrapped: Snapshot,
    /// The baseline's entities held as the chunks of [`CHUNKS`] (tick 100).
    pub chunks: ChunkSet,
}

impl Fixture {
    /// The baseline and tick of a scenario.
    pub fn scenario(&self, s: Scenario) -> (Option<&Snapshot>, Tick) {
        match s {
            Scenario::Full => (None, Tick(7)),
            Scenario::OneTick => (Some(&self.baseline), Tick(101)),
            Scenario::SevenTicks => (Some(&self.baseline), Tick(107)),
            Scenario::Wrapped => (Some(&self.wrapped), Tick(2)),
        }
    }
}

const POS: FieldCodec = FieldCodec::Fixed { min: 0.0, max: 1000.0, step: 1.0 / 32.0 };
const VEL: FieldCodec = FieldCodec::Fixed { min: -32.0, max: 32.0, step: 1.0 / 32.0 };

/// The fixture's components.
pub const COMPONENTS: [ComponentDef; 3] = [
    ComponentDef {
        name: "body",
        fields: &[
            FieldDef::linear("x", POS, 2),
            FieldDef::linear("y", POS, 3),
            FieldDef::new("vx", VEL),
            FieldDef::new("vy", VEL),
        ],
    },
    ComponentDef { name: "heading", fields: &[FieldDef::new("a", FieldCodec::Angle { bits: 10 })] },
    ComponentDef {
        name: "stats",
        fields: &[
            FieldDef::new("health", FieldCodec::UInt { max: 100 }),
            FieldDef::new("alive", FieldCodec::Bool),
        ],
    },
];

/// Component `C` as raw quantized values.
#[derive(Debug, Clone, Copy)]
pub struct Raw<const C: usize, const N: usize>(pub [u32; N]);

impl<const C: usize, const N: usize> Replicate for Raw<C, N> {
    const DEF: ComponentDef = COMPONENTS[C];
    fn write(&self, out: &mut FieldWriter<'_>) {
        self.0.iter().for_each(|&q| out.raw(q));
    }
    fn read(input: &mut FieldReader<'_>) -> Self {
        Self([0; N].map(|_| input.raw()))
    }
}

/// An entity as quantized components: body `[x, y, vx, vy]` (velocity zero 1024), heading,
/// stats `[health, alive]`.
pub type Ent = (u32, Option<[u32; 4]>, Option<u32>, Option<[u32; 2]>);

/// The baseline's entities.
pub const BASELINE: [Ent; 6] = [
    (1, Some([3200, 6400, 1088, 1024]), Some(80), Some([80, 1])),
    (2, Some([320, 31968, 1024, 2016]), None, None),
    (3, None, Some(1020), None),
    (5, None, None, Some([100, 1])),
    (9, None, None, None),
    (20, Some([32, 32, 960, 1024]), Some(0), Some([0, 0])),
];

/// Builds a snapshot of `schema` at `tick`.
pub fn build(schema: &Schema, tick: Tick, entities: &[Ent]) -> Snapshot {
    let mut b = SnapshotBuilder::new(schema, tick, Snapshot::default());
    for &(id, body, heading, stats) in entities {
        let mut e = b.entity(EntityId(id));
        if let Some(v) = body {
            e.set(0, &Raw::<0, 4>(v));
        }
        if let Some(a) = heading {
            e.set(1, &Raw::<1, 1>([a]));
        }
        if let Some(v) = stats {
            e.set(2, &Raw::<2, 2>(v));
        }
    }
    // invariant: the fixtures' ids are unique.
    b.finish().unwrap_or_default()
}

/// The fixture, built once.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // invariant: the components above are a valid schema (checked by the seed generator).
        let schema = Schema::new("fuzz", &COMPONENTS).unwrap_or_else(|e| panic!("{e}"));
        let baseline = build(&schema, Tick(100), &BASELINE);
        let wrapped = build(&schema, Tick(u32::MAX - 1), &BASELINE);
        let chunks = chunk_set(&schema);
        Fixture { schema, baseline, wrapped, chunks }
    })
}

/// The entities of the baseline with these ids, at tick 100.
pub fn chunk_of(schema: &Schema, ids: &[u32]) -> Snapshot {
    let entities: Vec<Ent> = BASELINE.iter().filter(|e| ids.contains(&e.0)).copied().collect();
    build(schema, Tick(100), &entities)
}

/// A set holding the chunks of [`CHUNKS`], as a full message gives them.
fn chunk_set(schema: &Schema) -> ChunkSet {
    let view: Vec<(ChunkKey, Snapshot)> = CHUNKS.iter().map(|(k, ids)| (*k, chunk_of(schema, ids))).collect();
    let view: Vec<(ChunkKey, &Snapshot)> = view.iter().map(|(k, s)| (*k, s)).collect();
    let (dropped, chunks) = chunk_delta(&mut SnapshotEncoder::new(), schema, &[], &view);
    let msg = tickwire_protocol::message::ChunksMessage { tick: Tick(100), baseline: None, last_input: None, dropped, chunks };
    let mut set = ChunkSet::new();
    let mut out = Snapshot::default();
    // invariant: a conforming full message of the fixture's entities (checked by the seed generator).
    set.apply(&mut SnapshotDecoder::new(), schema, &msg, &DecodeLimits::default(), &mut out).unwrap_or_else(|e| panic!("{e}"));
    set
}
