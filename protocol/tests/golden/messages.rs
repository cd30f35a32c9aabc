//! Message vectors: every variant of both message enums, of `RejectReason`, `DisconnectReason`
//! and `RoomEvent`, with values chosen to exercise every varint form; and hostile bytes. (Game
//! payloads are opaque bytes here; `golden/payloads.rs` covers their encoding.)

use tickwire_protocol::message::*;
use tickwire_protocol::{ClientId, EntityId, Tick, codec};

use super::{HostileMessage, Message, MessageVector, hex};

fn client(name: &'static str, msg: ClientMessage) -> MessageVector {
    let bytes = codec::encode_client(&msg);
    assert_eq!(codec::decode_client(&bytes).as_ref(), Ok(&msg), "{name}");
    MessageVector { name, direction: "client", hex: hex(&bytes), value: Message::Client(msg) }
}

fn server(name: &'static str, msg: ServerMessage) -> MessageVector {
    let bytes = codec::encode_server(&msg);
    assert_eq!(codec::decode_server(&bytes).as_ref(), Ok(&msg), "{name}");
    MessageVector { name, direction: "server", hex: hex(&bytes), value: Message::Server(msg) }
}

/// An arbitrary schema hash (PROTOCOL.md §8.1): above 2^53, so a JSON reader that parses numbers
/// as doubles fails.
const SCHEMA_HASH: u64 = 0x8bc7_dde6_1d6f_c83f;

/// Valid messages; `snapshot_payload` is the full snapshot vector's payload.
pub(crate) fn valid(snapshot_payload: &[u8]) -> Vec<MessageVector> {
    let mut v = vec![
        client(
            "hello",
            ClientMessage::Hello(Hello {
                protocol_version: 4,
                game: "demo".into(),
                schema_hash: SCHEMA_HASH,
                room: "lobby".into(),
                name: "Zoë".into(),
                token: None,
                resume: None,
            }),
        ),
        client(
            "hello_with_token",
            ClientMessage::Hello(Hello {
                protocol_version: 4,
                game: "Arena_2".into(),
                schema_hash: 42,
                room: "Arena_2-eu".into(),
                name: "名前 with spaces".into(),
                token: Some("eyJhbGciOiJIUzI1NiJ9.e30.sig".into()),
                resume: None,
            }),
        ),
        client(
            "hello_resuming",
            ClientMessage::Hello(Hello {
                protocol_version: 4,
                game: "demo".into(),
                schema_hash: SCHEMA_HASH,
                room: "lobby".into(),
                name: "Zoë".into(),
                token: None,
                resume: Some(ResumeTicket {
                    client_id: ClientId(300),
                    secret: [
                        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
                        0xcc, 0xdd, 0xee, 0xff,
                    ],
                }),
            }),
        ),
        client(
            "input",
            ClientMessage::Input(InputFrame {
                tick: Tick(1000),
                last_snapshot: Some(Tick(998)),
                view: ViewTime { tick: Tick(995), fraction: 128 },
                payload: vec![0x81, 0x7f, 0x00, 0x40, 0x01],
            }),
        ),
        client(
            "input_before_any_snapshot",
            ClientMessage::Input(InputFrame {
                tick: Tick(70_000),
                last_snapshot: None,
                view: ViewTime { tick: Tick(0), fraction: 0 },
                payload: vec![],
            }),
        ),
        client("ping", ClientMessage::Ping(Ping { id: 7, sent_us: 300 })),
        client(
            "ping_large_clock",
            ClientMessage::Ping(Ping { id: 65_536, sent_us: 1_763_700_000_123_456 }),
        ),
        client("pong", ClientMessage::Pong(Pong { id: 251, echo_us: 4_294_967_296, held_us: 120 })),
        client("chat", ClientMessage::Chat(Chat { text: "gg — well played!".into() })),
        client("disconnect", ClientMessage::Disconnect(DisconnectReason::ClientLeft)),
        client(
            "command",
            ClientMessage::Command(CommandMessage { kind: 2, payload: vec![0x2a, 0x01] }),
        ),
        client(
            "command_empty_large_kind",
            ClientMessage::Command(CommandMessage { kind: 300, payload: vec![] }),
        ),
        server(
            "welcome",
            ServerMessage::Welcome(Welcome {
                client_id: ClientId(3),
                entity: EntityId(17),
                tick_rate: 30,
                server_tick: Tick(123_456),
                room: "lobby".into(),
                max_rewind_ms: 250,
                resumed: false,
                resume_secret: [0xa5; 16],
                resume_grace_ms: 30_000,
            }),
        ),
        server(
            "welcome_resumed",
            ServerMessage::Welcome(Welcome {
                client_id: ClientId(300),
                entity: EntityId(4_000_000),
                tick_rate: 60,
                server_tick: Tick(u32::MAX),
                room: "Arena_2-eu".into(),
                max_rewind_ms: 0,
                resumed: true,
                resume_secret: [
                    0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33,
                    0x22, 0x11, 0x00,
                ],
                resume_grace_ms: 0,
            }),
        ),
    ];
    let rejects = [
        ("reject_version_mismatch", RejectReason::VersionMismatch { server: 3 }),
        ("reject_schema_mismatch", RejectReason::SchemaMismatch { server: SCHEMA_HASH }),
        ("reject_room_full", RejectReason::RoomFull),
        ("reject_too_many_rooms", RejectReason::TooManyRooms),
        ("reject_bad_room_name", RejectReason::BadRoomName),
        ("reject_bad_name", RejectReason::BadName),
        ("reject_unauthorized", RejectReason::Unauthorized),
        ("reject_shutting_down", RejectReason::ShuttingDown),
        ("reject_hello_expected", RejectReason::HelloExpected),
        ("reject_resume_failed", RejectReason::ResumeFailed),
        ("reject_unknown_game", RejectReason::UnknownGame),
        ("reject_game_mismatch", RejectReason::GameMismatch),
        ("reject_join_refused", RejectReason::JoinRefused { code: 300 }),
        ("reject_room_elsewhere", RejectReason::RoomElsewhere),
    ];
    v.extend(rejects.into_iter().map(|(name, r)| server(name, ServerMessage::Reject(r))));
    v.extend([
        server(
            "snapshot_full",
            ServerMessage::Snapshot(SnapshotMessage {
                tick: Tick(100),
                baseline: None,
                last_input: None,
                payload: snapshot_payload.to_vec(),
            }),
        ),
        server(
            "snapshot_delta",
            ServerMessage::Snapshot(SnapshotMessage {
                tick: Tick(103),
                baseline: Some(Tick(100)),
                last_input: Some(Tick(104)),
                payload: vec![0x07],
            }),
        ),
        server(
            "chunks_first",
            ServerMessage::Chunks(ChunksMessage {
                tick: Tick(100),
                baseline: None,
                last_input: None,
                dropped: vec![],
                chunks: vec![
                    Chunk { key: ChunkKey::Global, payload: vec![0x07] },
                    Chunk {
                        key: ChunkKey::Cell { x: -3, y: 300 },
                        payload: snapshot_payload.to_vec(),
                    },
                ],
            }),
        ),
        server(
            "chunks_delta",
            ServerMessage::Chunks(ChunksMessage {
                tick: Tick(101),
                baseline: Some(Tick(100)),
                last_input: Some(Tick(102)),
                dropped: vec![ChunkKey::Team(7), ChunkKey::Cell { x: -70_000, y: 2 }],
                chunks: vec![Chunk {
                    key: ChunkKey::Cell { x: i32::MAX, y: i32::MIN },
                    payload: vec![0x03, 0x58],
                }],
            }),
        ),
        server("ping_from_server", ServerMessage::Ping(Ping { id: 1, sent_us: 0 })),
        server(
            "pong_from_server",
            ServerMessage::Pong(Pong { id: 7, echo_us: 300, held_us: 65_535 }),
        ),
        server("rtt", ServerMessage::Rtt(RttReport { rtt_us: 48_250, jitter_us: 3_100 })),
    ]);
    let events = [
        (
            "event_game",
            RoomEvent::Game { kind: 0, payload: vec![0x11, 0x00, 0x00, 0x00, 0x90, 0x01] },
        ),
        ("event_game_large_kind", RoomEvent::Game { kind: 65_535, payload: vec![] }),
        (
            "event_joined",
            RoomEvent::Joined { client: ClientId(4), entity: EntityId(22), name: "Ana".into() },
        ),
        ("event_left", RoomEvent::Left { client: ClientId(4), name: "Ana".into() }),
        (
            "event_chat",
            RoomEvent::Chat { from: ClientId(3), name: "Zoë".into(), text: "hello 👋".into() },
        ),
    ];
    v.extend(events.into_iter().enumerate().map(|(i, (name, event))| {
        let tick = Tick(500 + i as u32);
        server(name, ServerMessage::Event(EventMessage { tick, event }))
    }));
    let reasons = [
        ("disconnect_client_left", DisconnectReason::ClientLeft),
        ("disconnect_server_shutdown", DisconnectReason::ServerShutdown),
        ("disconnect_timeout", DisconnectReason::Timeout),
        ("disconnect_too_slow", DisconnectReason::TooSlow),
        ("disconnect_protocol_violation", DisconnectReason::ProtocolViolation),
        ("disconnect_rate_limited", DisconnectReason::RateLimited),
        ("disconnect_room_closed", DisconnectReason::RoomClosed),
        ("disconnect_replaced", DisconnectReason::Replaced),
        ("disconnect_kicked", DisconnectReason::Kicked),
    ];
    v.extend(reasons.into_iter().map(|(name, r)| server(name, ServerMessage::Disconnect(r))));
    v
}

fn hostile_one(
    name: &'static str,
    direction: &'static str,
    bytes: &[u8],
    error: &'static str,
    why: &'static str,
) -> HostileMessage {
    let result = match direction {
        "client" => codec::decode_client(bytes).map(|_| ()),
        _ => codec::decode_server(bytes).map(|_| ()),
    };
    let err = result.expect_err(name);
    assert_eq!(err.kind(), error, "{name}: {err}");
    HostileMessage { name, why, direction, hex: hex(bytes), error }
}

fn encoded_hello(room: &str, name: &str, token: Option<&str>) -> Vec<u8> {
    encoded_hello_for("demo", room, name, token)
}

fn encoded_hello_for(game: &str, room: &str, name: &str, token: Option<&str>) -> Vec<u8> {
    codec::encode_client(&ClientMessage::Hello(Hello {
        protocol_version: 4,
        game: game.into(),
        schema_hash: 42,
        room: room.into(),
        name: name.into(),
        token: token.map(Into::into),
        resume: None,
    }))
}

fn encoded_event(event: RoomEvent) -> Vec<u8> {
    codec::encode_server(&ServerMessage::Event(EventMessage { tick: Tick(1), event }))
}

/// Bytes each decoder must refuse.
pub(crate) fn hostile() -> Vec<HostileMessage> {
    let mut too_long = vec![0x04, 0xfb, 0x03, 0x08];
    too_long.resize(CLIENT_LIMIT_PLUS_ONE, b'a');
    vec![
        hostile_one("empty", "client", &[], "malformed", "no bytes at all"),
        hostile_one(
            "unknown_variant",
            "client",
            &[0x07],
            "malformed",
            "ClientMessage has 7 variants",
        ),
        hostile_one(
            "unordered_chunks",
            "server",
            &codec::encode_server(&ServerMessage::Chunks(ChunksMessage {
                tick: Tick(5),
                baseline: Some(Tick(4)),
                last_input: None,
                dropped: vec![ChunkKey::Cell { x: 1, y: 0 }, ChunkKey::Cell { x: 0, y: 9 }],
                chunks: vec![],
            })),
            "invalid",
            "Chunks.dropped lists cell (1, 0) before cell (0, 9): keys must strictly ascend",
        ),
        hostile_one(
            "repeated_chunk",
            "server",
            &codec::encode_server(&ServerMessage::Chunks(ChunksMessage {
                tick: Tick(5),
                baseline: None,
                last_input: None,
                dropped: vec![],
                chunks: vec![
                    Chunk { key: ChunkKey::Team(2), payload: vec![0x07] },
                    Chunk { key: ChunkKey::Team(2), payload: vec![0x07] },
                ],
            })),
            "invalid",
            "Chunks.chunks lists team 2 twice",
        ),
        hostile_one(
            "truncated_ping",
            "client",
            &[0x02, 0x07, 0xfb, 0x2c],
            "malformed",
            "sent_us 0xfb needs two more bytes, only one follows",
        ),
        hostile_one(
            "trailing_byte",
            "client",
            &[0x02, 0x07, 0x00, 0x00],
            "trailing_bytes",
            "a complete Ping followed by one more byte",
        ),
        hostile_one(
            "non_minimal_varint",
            "client",
            &[0x02, 0xfb, 0x07, 0x00, 0x00],
            "malformed",
            "Ping.id 7 written in the 3-byte form; only the shortest form is canonical",
        ),
        hostile_one(
            "non_minimal_variant_index",
            "client",
            &[0xfb, 0x02, 0x00, 0x07, 0x00],
            "malformed",
            "variant index 2 written in the 3-byte form",
        ),
        hostile_one(
            "u32_varint_tag_for_u16",
            "client",
            &[0x00, 0xfc, 0x01, 0x00, 0x00, 0x00],
            "malformed",
            "Hello.protocol_version is a u16: the 0xfc (u32) tag is not allowed",
        ),
        hostile_one(
            "reserved_varint_tag",
            "client",
            &[0x02, 0xff],
            "malformed",
            "0xff is not a varint tag",
        ),
        hostile_one(
            "bad_option_tag",
            "client",
            &[0x01, 0x05, 0x02, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
            "malformed",
            "InputFrame.last_snapshot has Option tag 2",
        ),
        hostile_one(
            "invalid_utf8",
            "client",
            &[0x04, 0x02, 0xc3, 0x28],
            "malformed",
            "Chat.text is not UTF-8",
        ),
        hostile_one(
            "length_beyond_limit",
            "client",
            &[0x04, 0xfc, 0xff, 0xff, 0xff, 0xff],
            "malformed",
            "Chat.text claims 2^32 - 1 bytes: refused before allocating",
        ),
        hostile_one(
            "too_large",
            "client",
            &too_long,
            "too_large",
            "2049 bytes, over the client message limit",
        ),
        hostile_one(
            "bad_room",
            "client",
            &encoded_hello("lobby!", "Zoë", None),
            "invalid",
            "'!' is not allowed in a room name",
        ),
        hostile_one(
            "room_too_long",
            "client",
            &encoded_hello(&"r".repeat(33), "Zoë", None),
            "invalid",
            "a 33-byte room name",
        ),
        hostile_one(
            "empty_name",
            "client",
            &encoded_hello("lobby", "", None),
            "invalid",
            "a player name needs 1..=24 bytes",
        ),
        hostile_one(
            "name_too_long",
            "client",
            &encoded_hello("lobby", "ëëëëëëëëëëëëë", None),
            "invalid",
            "13 characters but 26 UTF-8 bytes",
        ),
        hostile_one(
            "control_in_name",
            "client",
            &encoded_hello("lobby", "a\u{85}b", None),
            "invalid",
            "U+0085 is a control character (category Cc)",
        ),
        hostile_one(
            "empty_token",
            "client",
            &encoded_hello("lobby", "Zoë", Some("")),
            "invalid",
            "a present token needs 1..=512 bytes",
        ),
        hostile_one(
            "chat_too_long",
            "client",
            &codec::encode_client(&ClientMessage::Chat(Chat { text: "x".repeat(201) })),
            "invalid",
            "a 201-byte chat line",
        ),
        hostile_one(
            "chat_with_newline",
            "client",
            &codec::encode_client(&ClientMessage::Chat(Chat { text: "a\nb".into() })),
            "invalid",
            "newline is a control character",
        ),
        hostile_one(
            "server_unknown_variant",
            "server",
            &[0x08],
            "malformed",
            "ServerMessage has 8 variants",
        ),
        hostile_one(
            "server_non_minimal_u64",
            "server",
            &[0x03, 0x07, 0xfd, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
            "malformed",
            "Ping.sent_us 1 written in the 9-byte form",
        ),
        hostile_one(
            "bad_game_name",
            "client",
            &encoded_hello_for("ar-ena", "lobby", "Zoë", None),
            "invalid",
            "'-' is not allowed in a game name",
        ),
        hostile_one(
            "game_name_starts_with_digit",
            "client",
            &encoded_hello_for("2d", "lobby", "Zoë", None),
            "invalid",
            "a game name does not start with a digit",
        ),
        hostile_one(
            "command_payload_beyond_limit",
            "client",
            &[0x06, 0x00, 0xfc, 0x00, 0x10, 0x00, 0x00],
            "malformed",
            "Command.payload claims 4096 bytes, more than the message",
        ),
        hostile_one(
            "welcome_zero_tick_rate",
            "server",
            &codec::encode_server(&ServerMessage::Welcome(Welcome {
                client_id: ClientId(1),
                entity: EntityId(1),
                tick_rate: 0,
                server_tick: Tick(0),
                room: "lobby".into(),
                max_rewind_ms: 0,
                resumed: false,
                resume_secret: [0; 16],
                resume_grace_ms: 0,
            })),
            "invalid",
            "Welcome.tick_rate is 0",
        ),
        hostile_one(
            "event_chat_empty_text",
            "server",
            &encoded_event(RoomEvent::Chat {
                from: ClientId(1),
                name: "Ana".into(),
                text: String::new(),
            }),
            "invalid",
            "a relayed chat line needs 1..=200 bytes",
        ),
    ]
}

const CLIENT_LIMIT_PLUS_ONE: usize = tickwire_protocol::CLIENT_MESSAGE_LIMIT + 1;
