//! Envelope tests: round-trips of every message, exact bytes, hostile inputs.

use proptest::prelude::*;

use super::*;
use crate::ids::{ClientId, EntityId, Tick};
use crate::message::*;

fn arb_text(max: usize) -> impl Strategy<Value = String> {
    prop::string::string_regex(&format!("[a-zA-Z0-9 é_-]{{1,{}}}", max / 2)).expect("regex")
}

fn arb_room() -> impl Strategy<Value = String> {
    prop::string::string_regex("[a-zA-Z0-9_-]{1,32}").expect("regex")
}

fn arb_input() -> impl Strategy<Value = InputFrame> {
    (
        any::<u32>(),
        any::<Option<u32>>(),
        any::<u32>(),
        any::<u8>(),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(t, l, v, f, payload)| InputFrame {
            tick: Tick(t),
            last_snapshot: l.map(Tick),
            view: ViewTime { tick: Tick(v), fraction: f },
            payload,
        })
}

fn arb_game() -> impl Strategy<Value = String> {
    prop::string::string_regex("[a-z_][a-z0-9_]{0,31}").expect("regex")
}

fn arb_reason() -> impl Strategy<Value = DisconnectReason> {
    prop_oneof![
        Just(DisconnectReason::ClientLeft),
        Just(DisconnectReason::ServerShutdown),
        Just(DisconnectReason::Timeout),
        Just(DisconnectReason::TooSlow),
        Just(DisconnectReason::ProtocolViolation),
        Just(DisconnectReason::RateLimited),
        Just(DisconnectReason::RoomClosed),
        Just(DisconnectReason::Replaced),
        Just(DisconnectReason::Kicked),
    ]
}

fn arb_client() -> impl Strategy<Value = ClientMessage> {
    prop_oneof![
        (
            any::<u16>(),
            arb_game(),
            any::<u64>(),
            arb_room(),
            arb_text(24),
            prop::option::of(arb_text(512)),
            prop::option::of((any::<u32>(), any::<[u8; RESUME_SECRET_LEN]>()))
        )
            .prop_map(
                |(protocol_version, game, schema_hash, room, name, token, resume)| {
                    let resume =
                        resume.map(|(id, secret)| ResumeTicket { client_id: ClientId(id), secret });
                    ClientMessage::Hello(Hello {
                        protocol_version,
                        game,
                        schema_hash,
                        room,
                        name,
                        token,
                        resume,
                    })
                }
            ),
        arb_input().prop_map(ClientMessage::Input),
        (any::<u32>(), any::<u64>())
            .prop_map(|(id, sent_us)| ClientMessage::Ping(Ping { id, sent_us })),
        (any::<u32>(), any::<u64>(), any::<u32>())
            .prop_map(|(id, echo_us, held_us)| ClientMessage::Pong(Pong { id, echo_us, held_us })),
        arb_text(200).prop_map(|text| ClientMessage::Chat(Chat { text })),
        arb_reason().prop_map(ClientMessage::Disconnect),
        (any::<u16>(), prop::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(kind, payload)| ClientMessage::Command(CommandMessage { kind, payload })),
    ]
}

fn arb_event() -> impl Strategy<Value = RoomEvent> {
    prop_oneof![
        (any::<u32>(), any::<u32>(), arb_text(24)).prop_map(|(c, e, name)| RoomEvent::Joined {
            client: ClientId(c),
            entity: EntityId(e),
            name
        }),
        (any::<u32>(), arb_text(24))
            .prop_map(|(c, name)| RoomEvent::Left { client: ClientId(c), name }),
        (any::<u32>(), arb_text(24), arb_text(200)).prop_map(|(c, name, text)| RoomEvent::Chat {
            from: ClientId(c),
            name,
            text
        }),
        (any::<u16>(), prop::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(kind, payload)| RoomEvent::Game { kind, payload }),
    ]
}

fn arb_server() -> impl Strategy<Value = ServerMessage> {
    prop_oneof![
        (
            (any::<u32>(), any::<u32>(), 1u16.., any::<u32>(), arb_room(), any::<u16>()),
            (any::<bool>(), any::<[u8; RESUME_SECRET_LEN]>(), any::<u32>())
        )
            .prop_map(
                |(
                    (c, e, tick_rate, t, room, max_rewind_ms),
                    (resumed, resume_secret, resume_grace_ms),
                )| ServerMessage::Welcome(Welcome {
                    client_id: ClientId(c),
                    entity: EntityId(e),
                    tick_rate,
                    server_tick: Tick(t),
                    room,
                    max_rewind_ms,
                    resumed,
                    resume_secret,
                    resume_grace_ms,
                })
            ),
        Just(ServerMessage::Reject(RejectReason::RoomFull)),
        Just(ServerMessage::Reject(RejectReason::ResumeFailed)),
        Just(ServerMessage::Reject(RejectReason::UnknownGame)),
        Just(ServerMessage::Reject(RejectReason::GameMismatch)),
        any::<u16>().prop_map(|code| ServerMessage::Reject(RejectReason::JoinRefused { code })),
        Just(ServerMessage::Reject(RejectReason::RoomElsewhere)),
        any::<u16>()
            .prop_map(|server| ServerMessage::Reject(RejectReason::VersionMismatch { server })),
        (
            any::<u32>(),
            any::<Option<u32>>(),
            any::<Option<u32>>(),
            prop::collection::vec(any::<u8>(), 0..300)
        )
            .prop_map(|(t, b, l, payload)| ServerMessage::Snapshot(SnapshotMessage {
                tick: Tick(t),
                baseline: b.map(Tick),
                last_input: l.map(Tick),
                payload
            })),
        (any::<u32>(), any::<u64>())
            .prop_map(|(id, sent_us)| ServerMessage::Ping(Ping { id, sent_us })),
        (any::<u32>(), any::<u64>(), any::<u32>())
            .prop_map(|(id, echo_us, held_us)| ServerMessage::Pong(Pong { id, echo_us, held_us })),
        (any::<u32>(), any::<u32>())
            .prop_map(|(rtt_us, jitter_us)| ServerMessage::Rtt(RttReport { rtt_us, jitter_us })),
        (any::<u32>(), arb_event())
            .prop_map(|(t, event)| ServerMessage::Event(EventMessage { tick: Tick(t), event })),
        arb_reason().prop_map(ServerMessage::Disconnect),
        arb_chunks().prop_map(ServerMessage::Chunks),
    ]
}

fn arb_key() -> impl Strategy<Value = ChunkKey> {
    prop_oneof![
        Just(ChunkKey::Global),
        any::<u16>().prop_map(ChunkKey::Team),
        (any::<i32>(), any::<i32>()).prop_map(|(x, y)| ChunkKey::Cell { x, y }),
    ]
}

/// A chunks message with both key lists ascending (as `validate` wants).
fn arb_chunks() -> impl Strategy<Value = ChunksMessage> {
    (
        any::<u32>(),
        any::<Option<u32>>(),
        any::<Option<u32>>(),
        prop::collection::btree_set(arb_key(), 0..6),
        // Payloads past 250 bytes take a length with a marker byte.
        prop::collection::btree_map(arb_key(), prop::collection::vec(any::<u8>(), 0..300), 0..6),
    )
        .prop_map(|(t, b, l, dropped, chunks)| ChunksMessage {
            tick: Tick(t),
            baseline: b.map(Tick),
            last_input: l.map(Tick),
            dropped: dropped.into_iter().collect(),
            chunks: chunks.into_iter().map(|(key, payload)| Chunk { key, payload }).collect(),
        })
}

proptest! {
    #[test]
    fn snapshot_fast_path_matches_bincode(t in any::<u32>(), b in any::<Option<u32>>(), l in any::<Option<u32>>(), payload in prop::collection::vec(any::<u8>(), 0..600)) {
        let msg = ServerMessage::Snapshot(SnapshotMessage { tick: Tick(t), baseline: b.map(Tick), last_input: l.map(Tick), payload: payload.clone() });
        let mut out = vec![0xaa];
        encode_snapshot_into(&mut out, Tick(t), b.map(Tick), l.map(Tick), &payload);
        prop_assert_eq!(&out[1..], &encode_server(&msg)[..]);
    }

    #[test]
    fn chunks_fast_path_matches_bincode(msg in arb_chunks()) {
        let mut out = vec![0xaa];
        let chunks = msg.chunks.iter().map(|c| (c.key, c.payload.as_slice()));
        encode_chunks_into(&mut out, (msg.tick, msg.baseline, msg.last_input), &msg.dropped, chunks);
        prop_assert_eq!(&out[1..], &encode_server(&ServerMessage::Chunks(msg))[..]);
    }

    #[test]
    fn client_messages_roundtrip(msg in arb_client()) {
        let bytes = encode_client(&msg);
        prop_assert!(bytes.len() <= CLIENT_MESSAGE_LIMIT);
        prop_assert_eq!(decode_client(&bytes), Ok(msg));
    }

    #[test]
    fn encoding_into_a_buffer_appends_the_same_bytes(msg in arb_client(), before in prop::collection::vec(any::<u8>(), 0..8)) {
        let mut out = before.clone();
        encode_client_into(&msg, &mut out);
        prop_assert_eq!(&out[..before.len()], &before[..]);
        prop_assert_eq!(&out[before.len()..], &encode_client(&msg)[..]);
    }

    #[test]
    fn server_messages_roundtrip(msg in arb_server()) {
        let bytes = encode_server(&msg);
        prop_assert_eq!(decode_server(&bytes), Ok(msg));
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_client(&bytes);
        let _ = decode_server(&bytes);
    }

    #[test]
    fn decoded_messages_reencode_identically(msg in arb_client(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        // Mutate one byte of a valid message: whatever still decodes must be canonical.
        let mut bytes = encode_client(&msg);
        let i = at.index(bytes.len());
        bytes[i] = byte;
        if let Ok(decoded) = decode_client(&bytes) {
            prop_assert_eq!(encode_client(&decoded), bytes);
        }
    }

    #[test]
    fn truncations_are_errors(msg in arb_client(), cut in any::<prop::sample::Index>()) {
        let bytes = encode_client(&msg);
        let n = cut.index(bytes.len());
        prop_assert!(decode_client(&bytes[..n]).is_err());
    }
}

#[test]
fn hand_written_varints_are_bincodes() {
    let cfg = standard().with_little_endian().with_variable_int_encoding();
    let edges = [0, 1, 250, 251, 252, 253, 255, 256, 65_535, 65_536, 1 << 31, u64::from(u32::MAX)];
    let more = [u64::from(u32::MAX) + 1, 1 << 40, u64::MAX - 1, u64::MAX];
    for v in edges.into_iter().chain(more) {
        let mut out = Vec::new();
        varint(&mut out, v);
        assert_eq!(out, bincode::encode_to_vec(v, cfg).expect("in memory"), "{v}");
    }
    let keys = [i32::MIN, -126, -125, -1, 0, 1, 125, 126, 32_767, 32_768, i32::MAX];
    for (x, y) in keys.into_iter().zip(keys.into_iter().rev()) {
        let key = ChunkKey::Cell { x, y };
        let mut out = Vec::new();
        chunk_key(&mut out, key);
        assert_eq!(out, bincode::encode_to_vec(key, cfg).expect("in memory"), "{key:?}");
    }
}

#[test]
fn ping_has_exact_bytes() {
    // Variant 2 (Ping), id 7, sent_us 300 (varint: 251 marker + u16 LE).
    let bytes = encode_client(&ClientMessage::Ping(Ping { id: 7, sent_us: 300 }));
    assert_eq!(bytes, vec![0x02, 0x07, 0xfb, 0x2c, 0x01]);
}

#[test]
fn spec_worked_examples() {
    // Byte-level checks of the §3 and §6.1 layouts (PROTOCOL.md works its examples from the
    // golden vectors instead).
    let hello = ClientMessage::Hello(Hello {
        protocol_version: 4,
        game: "demo".into(),
        schema_hash: 0xf5a6_f33f_6949_e09e,
        room: "lobby".into(),
        name: "Zoë".into(),
        token: None,
        resume: None,
    });
    let bytes = [
        0x00, 0x04, 0x04, 0x64, 0x65, 0x6d, 0x6f, 0xfd, 0x9e, 0xe0, 0x49, 0x69, 0x3f, 0xf3, 0xa6,
        0xf5, 0x05, 0x6c, 0x6f, 0x62, 0x62, 0x79, 0x04, 0x5a, 0x6f, 0xc3, 0xab, 0x00, 0x00,
    ];
    assert_eq!(hello_version(&bytes), Some(4));
    assert_eq!(encode_client(&hello), bytes);
    assert_eq!(decode_client(&bytes), Ok(hello));
    let input = ClientMessage::Input(InputFrame {
        tick: Tick(1000),
        last_snapshot: Some(Tick(998)),
        view: ViewTime { tick: Tick(995), fraction: 128 },
        payload: vec![0x2a, 0x01],
    });
    let bytes =
        [0x01, 0xfb, 0xe8, 0x03, 0x01, 0xfb, 0xe6, 0x03, 0xfb, 0xe3, 0x03, 0x80, 0x02, 0x2a, 0x01];
    assert_eq!(encode_client(&input), bytes);
    let command = ClientMessage::Command(CommandMessage { kind: 1, payload: vec![0x05] });
    assert_eq!(encode_client(&command), [0x06, 0x01, 0x01, 0x05]);
    let event = ServerMessage::Event(EventMessage {
        tick: Tick(42),
        event: RoomEvent::Game { kind: 0, payload: vec![0x07, 0x00] },
    });
    assert_eq!(encode_server(&event), [0x06, 0x2a, 0x03, 0x00, 0x02, 0x07, 0x00]);
    let snap = ServerMessage::Snapshot(SnapshotMessage {
        tick: Tick(9),
        baseline: Some(Tick(7)),
        last_input: Some(Tick(300)),
        payload: vec![0x05, 0x00, 0xf0, 0x3a],
    });
    let bytes = [0x02, 0x09, 0x01, 0x07, 0x01, 0xfb, 0x2c, 0x01, 0x04, 0x05, 0x00, 0xf0, 0x3a];
    assert_eq!(encode_server(&snap), bytes);
    // §2.1 varint examples, through Ping.id (a u32).
    for (v, enc) in [
        (7u32, &[0x07][..]),
        (250, &[0xfa]),
        (251, &[0xfb, 0xfb, 0x00]),
        (300, &[0xfb, 0x2c, 0x01]),
        (65_536, &[0xfc, 0x00, 0x00, 0x01, 0x00]),
    ] {
        let bytes = encode_client(&ClientMessage::Ping(Ping { id: v, sent_us: 0 }));
        assert_eq!(&bytes[1..bytes.len() - 1], enc, "{v}");
    }
}

#[test]
fn non_minimal_varints_are_rejected() {
    // Ping id 7 written as 0xfb 0x07 0x00 (u16 form) instead of 0x07: bincode accepts it, the
    // canonical check does not, so that decode → encode gives back the same bytes.
    let bytes = [0x02, 0xfb, 0x07, 0x00, 0xfb, 0x2c, 0x01];
    match decode_client(&bytes) {
        Err(DecodeError::Malformed { offset: 1, reason, .. }) => {
            assert!(reason.contains("non-canonical"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
    // A variant index in a longer form than needed (0xfb 0x02 0x00 for 2).
    let bytes = [0xfb, 0x02, 0x00, 0x07, 0xfb, 0x2c, 0x01];
    assert!(matches!(decode_client(&bytes), Err(DecodeError::Malformed { offset: 0, .. })));
    // A u64 in the u64 form though it fits in one byte: the same on the server side.
    let bytes = [0x03, 0x07, 0xfd, 1, 0, 0, 0, 0, 0, 0, 0];
    assert!(matches!(decode_server(&bytes), Err(DecodeError::Malformed { offset: 2, .. })));
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut bytes = encode_client(&ClientMessage::Ping(Ping { id: 1, sent_us: 2 }));
    bytes.push(0);
    assert_eq!(
        decode_client(&bytes),
        Err(DecodeError::TrailingBytes { message: "ClientMessage", used: 3, extra: 1 })
    );
}

#[test]
fn oversized_messages_are_rejected_before_decoding() {
    let bytes = vec![0u8; CLIENT_MESSAGE_LIMIT + 1];
    assert!(matches!(decode_client(&bytes), Err(DecodeError::TooLarge { .. })));
}

#[test]
fn forged_length_prefix_does_not_allocate() {
    // Chat (variant 4) whose string claims 2^32-1 bytes (varint 252 + u32 LE).
    let bytes = [0x04, 0xfc, 0xff, 0xff, 0xff, 0xff];
    let err = decode_client(&bytes).expect_err("must fail");
    assert!(matches!(err, DecodeError::Malformed { message: "ClientMessage", .. }), "{err}");
    // A snapshot payload claiming 2^60 bytes.
    let bytes = [0x02, 0x01, 0x00, 0x00, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0x10];
    assert!(matches!(decode_server(&bytes), Err(DecodeError::Malformed { .. })));
}

#[test]
fn unknown_variant_reports_offset() {
    let err = decode_client(&[0x09]).expect_err("variant 9 does not exist");
    match err {
        DecodeError::Malformed { offset, reason, .. } => {
            assert_eq!(offset, 1);
            assert!(reason.contains("unknown variant 9"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn bad_strings_are_rejected() {
    let hello = |game: &str, room: &str| {
        ClientMessage::Hello(Hello {
            protocol_version: 3,
            game: game.into(),
            schema_hash: 0,
            room: room.into(),
            name: "x".into(),
            token: None,
            resume: None,
        })
    };
    assert!(matches!(
        decode_client(&encode_client(&hello("arena", "lobby!"))),
        Err(DecodeError::Invalid { field: "room", .. })
    ));
    for game in ["", "9lives", "ar-ena", "a b", &"g".repeat(33)] {
        assert!(
            matches!(
                decode_client(&encode_client(&hello(game, "lobby"))),
                Err(DecodeError::Invalid { field: "game", .. })
            ),
            "{game:?}"
        );
    }
    let chat = ClientMessage::Chat(Chat { text: "a\u{7}b".into() });
    assert!(matches!(
        decode_client(&encode_client(&chat)),
        Err(DecodeError::Invalid { field: "text", .. })
    ));
}

#[test]
fn hello_version_reads_the_frozen_prefix_even_of_an_undecodable_hello() {
    // A version-1 hello (no `game`, no `resume`) does not decode as version 3, but its version
    // does.
    let v1 = [0x00, 0x01, 0x00, 0x01, 0x61, 0x01, 0x62, 0x00];
    assert!(decode_client(&v1).is_err());
    assert_eq!(hello_version(&v1), Some(1));
    assert_eq!(hello_version(&[0x00, 0xfb, 0x34, 0x12]), Some(0x1234));
    assert_eq!(hello_version(&[0x00, 0xfb, 0x34]), None);
    assert_eq!(hello_version(&[0x01, 0x02]), None);
    assert_eq!(hello_version(&[]), None);
}

#[test]
fn chunk_keys_out_of_order_are_refused() {
    let cell = |x| ChunkKey::Cell { x, y: 0 };
    let chunk = |key| Chunk { key, payload: vec![0x07] };
    let ok = ChunksMessage {
        tick: Tick(3),
        baseline: Some(Tick(2)),
        last_input: None,
        dropped: vec![ChunkKey::Global, ChunkKey::Team(2), cell(-1)],
        chunks: vec![chunk(ChunkKey::Team(9)), chunk(cell(-5)), chunk(cell(4))],
    };
    let bytes = encode_server(&ServerMessage::Chunks(ok.clone()));
    assert_eq!(decode_server(&bytes), Ok(ServerMessage::Chunks(ok.clone())));
    let mut repeated = ok.clone();
    repeated.dropped.push(cell(-1));
    let mut unordered = ok.clone();
    unordered.chunks.swap(0, 1);
    for bad in [repeated, unordered] {
        let bytes = encode_server(&ServerMessage::Chunks(bad));
        assert!(matches!(
            decode_server(&bytes),
            Err(DecodeError::Invalid { message: "Chunks", field: "chunks", .. })
        ));
    }
}
