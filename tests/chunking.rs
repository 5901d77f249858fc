//! Incomplete input is not an error: the same bytes fed whole, byte by byte,
//! cut at every single point, and in random pieces (proptest) give the same
//! events and the same transmitted bytes, in both roles, from the first byte
//! of the handshake to the close.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::sample::Index;
use rfc6455::{Error, Event, MessageKind, ProtocolError, ReadyState, ReceiveMode, Role};

/// A fixed source: the client's nonce is these 16 bytes, every mask key their first 4.
const TEXT_MESSAGE: &str = "h\u{e9}llo w\u{f6}rld \u{20ac}";

/// A frame as a peer of `role` sends it, each with its own mask key.
fn frame(role: Role, n: u8, fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Frame::new(fin, opcode, payload);
    if role == Role::Server {
        f.mask = Some([n, n.wrapping_mul(37), 0x5a, 0xa5 ^ n]);
    }
    f.encode()
}

/// The handshake, then a mix of frames: a fragmented text with characters
/// split between fragments and a ping between them, a 300-byte binary, a
/// pong, a 4-byte character, an empty binary, the close, and a frame after it.
/// With `bad_utf8`, the text's last fragment breaks a character instead.
fn stream(role: Role, bad_utf8: bool) -> Vec<u8> {
    let text = TEXT_MESSAGE.as_bytes();
    let mut s = chunking_handshake(role);
    s.extend(frame(role, 1, false, TEXT, &text[..2]));
    s.extend(frame(role, 2, true, PING, b"p1"));
    s.extend(frame(role, 3, false, CONT, &text[2..9]));
    if bad_utf8 {
        s.extend(frame(role, 4, true, CONT, b"\xB6rld \xE2\x28"));
    } else {
        s.extend(frame(role, 4, true, CONT, &text[9..]));
    }
    s.extend(frame(role, 5, true, BINARY, &[0xAB; 300]));
    s.extend(frame(role, 6, true, PONG, b""));
    s.extend(frame(role, 7, true, TEXT, "\u{1F600}".as_bytes()));
    s.extend(frame(role, 8, true, BINARY, b""));
    s.extend(frame(role, 9, true, CLOSE, &close_payload(1000, "bye")));
    s.extend(frame(role, 10, true, TEXT, b"ignored"));
    s
}

/// Everything that came out of a run.
#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Event>,
    sent: Vec<u8>,
    state: ReadyState,
}

/// Feeds `pieces` to a fresh connection of `role`, accepting the request as
/// soon as it is reported, then an EOF.
fn run(role: Role, mode: ReceiveMode, pieces: &[&[u8]]) -> Outcome {
    let (events, sent, state) = feed(role, mode, pieces, true);
    Outcome { events, sent, state }
}

/// `bytes` cut at `cuts` (any order, repeats give empty pieces).
fn split<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts = cuts.to_vec();
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut at = 0;
    for cut in cuts {
        pieces.push(&bytes[at..cut]);
        at = cut;
    }
    pieces.push(&bytes[at..]);
    pieces
}

/// The outcome, made independent of read boundaries.
fn normalised(mode: ReceiveMode, mut outcome: Outcome) -> Outcome {
    if mode == ReceiveMode::Streaming {
        outcome.events = merge_chunks(outcome.events);
    }
    outcome
}

const CASES: [(Role, ReceiveMode); 4] = [
    (Role::Client, ReceiveMode::Messages),
    (Role::Server, ReceiveMode::Messages),
    (Role::Client, ReceiveMode::Streaming),
    (Role::Server, ReceiveMode::Streaming),
];

#[test]
fn the_whole_stream_gives_the_expected_transcript() {
    for (role, mode) in CASES {
        let Outcome { events, sent, state } = normalised(mode, run(role, mode, &[&stream(role, false)]));
        let handshake = if role == Role::Server { 2 } else { 1 };
        match role {
            Role::Server => {
                assert!(matches!(&events[0], Event::Request(r) if r.is_upgrade()));
                assert_eq!(events[1], server_open(None));
            }
            Role::Client => assert!(matches!(&events[0], Event::Open(o) if o.protocol.is_none())),
        }
        let message = |kind, data: &[u8]| match mode {
            ReceiveMode::Messages if kind == MessageKind::Text => text(std::str::from_utf8(data).unwrap()),
            ReceiveMode::Messages => binary(data),
            _ => chunk(kind, data, true),
        };
        let mut expected = vec![
            ping(b"p1"),
            message(MessageKind::Text, TEXT_MESSAGE.as_bytes()),
            message(MessageKind::Binary, &[0xAB; 300]),
            pong(b""),
            message(MessageKind::Text, "\u{1F600}".as_bytes()),
            message(MessageKind::Binary, b""),
            closed(1000, "bye", true),
        ];
        if mode == ReceiveMode::Streaming {
            // The text's first chunk came before the ping between its fragments.
            expected.swap(0, 1);
        }
        assert_eq!(events[handshake..], expected, "{role:?} {mode:?}");
        assert_eq!(state, ReadyState::Closed);
        // After the handshake bytes: the pong to the ping, then the close echo.
        let frames: &[(u8, bool, &[u8])] = &[(PONG, true, b"p1"), (CLOSE, true, &close_payload(1000, "bye"))];
        let head = sent.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert_frames(role, &sent[head..], frames);
    }
}

#[test]
fn the_broken_stream_fails_with_1007() {
    for role in [Role::Client, Role::Server] {
        let Outcome { events, sent, state } = run(role, ReceiveMode::Messages, &[&stream(role, true)]);
        let handshake = if role == Role::Server { 2 } else { 1 };
        let e = ProtocolError::InvalidUtf8;
        assert_eq!(events[handshake..], [ping(b"p1"), error(Error::Protocol(e)), abnormal()]);
        assert_eq!(state, ReadyState::Closed);
        let head = sent.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let close = close_payload(1007, &e.to_string());
        assert_frames(role, &sent[head..], &[(PONG, true, b"p1"), (CLOSE, true, &close)]);
    }
}

#[test]
fn byte_by_byte_equals_whole() {
    for (role, mode) in CASES {
        for bad in [false, true] {
            let bytes = stream(role, bad);
            let whole = run(role, mode, &[&bytes]);
            let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
            let one_by_one = run(role, mode, &bytewise);
            if bad && mode == ReceiveMode::Streaming {
                assert_eq!(without_chunks(one_by_one), without_chunks(whole), "{role:?}");
            } else {
                assert_eq!(normalised(mode, one_by_one), normalised(mode, whole), "{role:?} {mode:?} {bad}");
            }
        }
    }
}

#[test]
fn every_single_cut_equals_whole() {
    for (role, mode) in CASES {
        let bytes = stream(role, false);
        let whole = normalised(mode, run(role, mode, &[&bytes]));
        for cut in 0..=bytes.len() {
            let pieces = [&bytes[..cut], &bytes[cut..]];
            assert_eq!(normalised(mode, run(role, mode, &pieces)), whole, "{role:?} {mode:?} cut at {cut}");
        }
    }
}

/// A streamed text that fails shows as much of itself as arrived before the
/// bad byte: only the other events are independent of the reads.
fn without_chunks(mut outcome: Outcome) -> Outcome {
    let streamed: Vec<u8> = outcome
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Chunk { data, .. } => Some(data.to_vec()),
            _ => None,
        })
        .collect::<Vec<Vec<u8>>>()
        .concat();
    assert!("h\u{e9}llo w\u{f6}rld ".as_bytes().starts_with(&streamed), "{streamed:?}");
    outcome.events.retain(|e| !matches!(e, Event::Chunk { .. }));
    outcome
}

#[test]
fn a_frame_with_a_64_bit_length_in_pieces() {
    let payload: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    for role in [Role::Client, Role::Server] {
        // The handshake in a read of its own: a client sends no frame before
        // the 101 (RFC 6455 §4.1), and a server holds at most
        // `max_handshake_bytes` behind an unanswered request.
        let handshake = chunking_handshake(role);
        let bytes = frame(role, 11, true, BINARY, &payload);
        let whole = run(role, ReceiveMode::Messages, &[&handshake, &bytes]);
        let n = whole.events.len();
        // The message, then the EOF that `run` ends with. (`assert!` keeps 70 kB out of the output.)
        assert!(whole.events[n - 3] == binary(&payload), "{role:?}");
        assert_eq!(whole.events[n - 2..], [error(Error::UnexpectedEof), abnormal()]);
        for size in [1, 7, 1000, 65535] {
            let pieces: Vec<&[u8]> = std::iter::once(handshake.as_slice()).chain(bytes.chunks(size)).collect();
            assert!(run(role, ReceiveMode::Messages, &pieces) == whole, "{role:?} {size}");
            let streamed = merge_chunks(run(role, ReceiveMode::Streaming, &pieces).events);
            assert!(streamed[n - 3] == chunk(MessageKind::Binary, &payload, true), "{role:?} {size}");
        }
    }
}

proptest! {
    #[test]
    fn random_splits_equal_whole(
        case in 0..CASES.len(),
        bad in any::<bool>(),
        cuts in proptest::collection::vec(any::<Index>(), 0..48),
    ) {
        let (role, mode) = CASES[case];
        let bytes = stream(role, bad);
        let cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        let whole = run(role, mode, &[&bytes]);
        let pieces = run(role, mode, &split(&bytes, &cuts));
        if bad && mode == ReceiveMode::Streaming {
            prop_assert_eq!(without_chunks(pieces), without_chunks(whole));
        } else {
            prop_assert_eq!(normalised(mode, pieces), normalised(mode, whole));
        }
    }
}
