//! Data and control messages on an open connection: fragments both ways,
//! pings between fragments, auto-pong, streaming mode, size limits,
//! `buffered_amount`, and the application's mistakes, which change nothing.

mod common;

use std::time::Duration;

use common::*;
use rfc6455::{Accept, Config, Connection, Fragment, LocalError, MessageKind, ReceiveMode, Role};

const T: Duration = Duration::ZERO;

fn streaming() -> Config {
    config().receive(ReceiveMode::Streaming)
}

#[test]
fn fragments_with_pings_between_them_both_ways() {
    let mut p = Pair::connected();
    p.client.conn.send_fragment(Fragment::Text("H\u{e9}"), false).unwrap();
    p.client.conn.send_ping(b"between").unwrap();
    p.client.conn.send_fragment(Fragment::Text(""), false).unwrap();
    p.client.conn.send_fragment(Fragment::Text("llo"), true).unwrap();
    p.server.conn.send_fragment(Fragment::Binary(&[1, 2]), false).unwrap();
    p.server.conn.send_pong(b"unsolicited").unwrap();
    p.server.conn.send_fragment(Fragment::Binary(&[3]), true).unwrap();
    p.drive();
    assert_eq!(p.server.take(), [ping(b"between"), text("H\u{e9}llo")]);
    assert_eq!(p.client.take(), [pong(b"unsolicited"), binary(&[1, 2, 3]), pong(b"between")]);
    let expected: &[(u8, bool, &[u8])] =
        &[(TEXT, false, "H\u{e9}".as_bytes()), (PING, true, b"between"), (CONT, false, b""), (CONT, true, b"llo")];
    assert_frames(Role::Client, &p.client.sent, expected);
}

#[test]
fn pings_between_received_fragments() {
    for mode in [ReceiveMode::Messages, ReceiveMode::Streaming] {
        let mut conn = Connection::open(T, Role::Server, None, config().receive(mode));
        let mut bytes = frame_to(Role::Server, false, TEXT, b"Hel");
        bytes.extend(frame_to(Role::Server, true, PING, b"1"));
        bytes.extend(frame_to(Role::Server, true, PONG, b"2"));
        bytes.extend(frame_to(Role::Server, true, CONT, b"lo"));
        give(&mut conn, T, &bytes);
        let (events, sent) = drain(&mut conn);
        let expected = match mode {
            ReceiveMode::Messages => vec![ping(b"1"), pong(b"2"), text("Hello")],
            _ => vec![
                chunk(MessageKind::Text, b"Hel", false),
                ping(b"1"),
                pong(b"2"),
                chunk(MessageKind::Text, b"lo", true),
            ],
        };
        assert_eq!(events, expected);
        assert_frames(Role::Server, &sent, &[(PONG, true, b"1")]);
    }
}

#[test]
fn auto_pong_on_and_off() {
    let mut on = Connection::open(T, Role::Client, None, config());
    give(&mut on, T, &frame_to(Role::Client, true, PING, b"abc"));
    let (events, sent) = drain(&mut on);
    assert_eq!(events, [ping(b"abc")]);
    assert_frames(Role::Client, &sent, &[(PONG, true, b"abc")]);

    let mut off = Connection::open(T, Role::Client, None, config().auto_pong(false));
    give(&mut off, T, &frame_to(Role::Client, true, PING, b"abc"));
    assert_eq!(drain(&mut off), (vec![ping(b"abc")], vec![]));
    off.send_pong(b"abc").unwrap();
    assert_frames(Role::Client, &drain(&mut off).1, &[(PONG, true, b"abc")]);
}

#[test]
fn empty_messages() {
    let mut p = Pair::connected();
    p.client.conn.send_text("").unwrap();
    p.client.conn.send_binary(&[]).unwrap();
    p.client.conn.send_ping(&[]).unwrap();
    p.drive();
    assert_eq!(p.server.take(), [text(""), binary(&[]), ping(&[])]);
}

#[test]
fn message_of_exactly_the_limit_passes() {
    let small = config().max_message_size(10);
    let mut p = Pair::connected_with(small.clone(), small);
    p.client.conn.send_fragment(Fragment::Binary(&[7; 4]), false).unwrap();
    p.client.conn.send_fragment(Fragment::Binary(&[7; 6]), true).unwrap();
    p.server.conn.send_text("0123456789").unwrap();
    p.drive();
    assert_eq!(p.server.take(), [binary(&[7; 10])]);
    assert_eq!(p.client.take(), [text("0123456789")]);
}

#[test]
fn large_messages_round_trip() {
    let mut p = Pair::connected();
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let long_text = "\u{1F600}\u{e9}".repeat(10_000);
    p.client.conn.send_binary(&big).unwrap();
    p.server.conn.send_text(&long_text).unwrap();
    p.drive();
    assert_eq!(p.server.take(), [binary(&big)]);
    assert_eq!(p.client.take(), [text(&long_text)]);
}

// ----- streaming -----

#[test]
fn streaming_chunks_follow_frames_and_reads() {
    let mut conn = Connection::open(T, Role::Client, None, streaming());
    let mut bytes = frame_to(Role::Client, false, TEXT, b"Hel");
    bytes.extend(frame_to(Role::Client, true, CONT, b"lo"));
    give(&mut conn, T, &bytes);
    let expected = [chunk(MessageKind::Text, b"Hel", false), chunk(MessageKind::Text, b"lo", true)];
    assert_eq!(drain(&mut conn).0, expected);
    // One frame over three reads, drained after each: a chunk per read.
    let bytes = frame_to(Role::Client, true, BINARY, b"abcdef");
    let mut events = Vec::new();
    for read in [&bytes[..3], &bytes[3..6], &bytes[6..]] {
        give(&mut conn, T, read);
        events.extend(drain(&mut conn).0);
    }
    let expected = [
        chunk(MessageKind::Binary, b"a", false),
        chunk(MessageKind::Binary, b"bcd", false),
        chunk(MessageKind::Binary, b"ef", true),
    ];
    assert_eq!(events, expected);
    // Reads that come before the chunk is taken wait behind it, and come as one.
    let bytes = frame_to(Role::Client, true, BINARY, b"abcdef");
    give(&mut conn, T, &bytes[..3]);
    give(&mut conn, T, &bytes[3..6]);
    give(&mut conn, T, &bytes[6..]);
    let expected = [chunk(MessageKind::Binary, b"a", false), chunk(MessageKind::Binary, b"bcdef", true)];
    assert_eq!(drain(&mut conn).0, expected);
}

#[test]
fn streaming_text_chunks_are_whole_characters() {
    let mut conn = Connection::open(T, Role::Server, None, streaming());
    // "é" split across frames, "€" split across reads.
    give(&mut conn, T, &frame_to(Role::Server, false, TEXT, b"a\xC3"));
    give(&mut conn, T, &frame_to(Role::Server, false, CONT, b"\xA9b"));
    let euro = frame_to(Role::Server, true, CONT, "\u{20ac}!".as_bytes());
    give(&mut conn, T, &euro[..7]);
    give(&mut conn, T, &euro[7..]);
    let expected = [
        chunk(MessageKind::Text, b"a", false),
        chunk(MessageKind::Text, "\u{e9}b".as_bytes(), false),
        chunk(MessageKind::Text, "\u{20ac}!".as_bytes(), true),
    ];
    assert_eq!(drain(&mut conn).0, expected);
}

#[test]
fn streaming_ends_with_an_empty_final_chunk_when_the_last_frame_is_empty() {
    let mut conn = Connection::open(T, Role::Client, None, streaming());
    let mut bytes = frame_to(Role::Client, false, BINARY, b"abc");
    bytes.extend(frame_to(Role::Client, true, CONT, b""));
    bytes.extend(frame_to(Role::Client, true, TEXT, b""));
    give(&mut conn, T, &bytes);
    let expected = [
        chunk(MessageKind::Binary, b"abc", false),
        chunk(MessageKind::Binary, b"", true),
        chunk(MessageKind::Text, b"", true),
    ];
    assert_eq!(drain(&mut conn).0, expected);
}

#[test]
fn streaming_passes_a_message_larger_than_max_message_size() {
    let client = streaming().max_message_size(16);
    let mut p = Pair::connected_with(client, config());
    let big: Vec<u8> = (0..100).collect();
    p.server.conn.send_fragment(Fragment::Binary(&big[..40]), false).unwrap();
    p.server.conn.send_fragment(Fragment::Binary(&big[40..]), true).unwrap();
    p.server.conn.send_text(&"x".repeat(50)).unwrap();
    p.drive();
    let mut data = Vec::new();
    let mut events = p.client.take().into_iter();
    for fin in [false, true] {
        match events.next() {
            Some(rfc6455::Event::Chunk { kind: MessageKind::Binary, data: d, fin: f }) if f == fin => {
                data.extend_from_slice(&d)
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(data, big);
    assert_eq!(events.collect::<Vec<_>>(), [chunk(MessageKind::Text, "x".repeat(50).as_bytes(), true)]);
    assert_eq!(p.client.conn.ready_state(), rfc6455::ReadyState::Open);
}

// ----- buffered_amount -----

#[test]
fn buffered_amount_counts_every_queued_byte() {
    let mut server = Connection::open(T, Role::Server, None, config());
    assert_eq!(server.buffered_amount(), 0);
    server.send_text("Hello").unwrap();
    assert_eq!(server.buffered_amount(), 7);
    server.send_binary(&[0; 126]).unwrap();
    assert_eq!(server.buffered_amount(), 7 + 4 + 126);
    server.send_binary(&[0; 65536]).unwrap();
    assert_eq!(server.buffered_amount(), 7 + 130 + 10 + 65536);
    assert_eq!(server.poll_transmit().map(|b| b.len()), Some(7 + 130 + 65546));
    assert_eq!(server.buffered_amount(), 0);
    assert_eq!(server.poll_transmit(), None);

    let mut client = Connection::open(T, Role::Client, None, config());
    client.send_text("Hello").unwrap();
    assert_eq!(client.buffered_amount(), 2 + 4 + 5);
    client.send_ping(b"").unwrap();
    assert_eq!(client.buffered_amount(), 11 + 6);
    client.close(T, 1000, "bye").unwrap();
    assert_eq!(client.buffered_amount(), 17 + 6 + 5);
    drain(&mut client);
    assert_eq!(client.buffered_amount(), 0);
}

#[test]
fn buffered_amount_includes_the_handshake() {
    let mut p = Pair::handshake(config(), config());
    let request_len = p.client.conn.buffered_amount();
    assert!(request_len > 100);
    p.drive();
    assert_eq!(p.client.sent.len(), request_len);
    assert_eq!(p.client.conn.buffered_amount(), 0);
    p.server.conn.accept(p.now, Accept::new()).unwrap();
    p.server.conn.send_text("Hello").unwrap();
    let response_len = p.server.conn.buffered_amount() - 7;
    p.drive();
    assert_eq!(p.server.sent.len(), response_len + 7);
}

// ----- the application's mistakes -----

#[test]
fn sending_while_connecting_is_refused() {
    let mut p = Pair::handshake(config(), config());
    for conn in [&mut p.client.conn, &mut p.server.conn] {
        refused(conn, LocalError::NotOpen, |c| c.send_text("x"));
        refused(conn, LocalError::NotOpen, |c| c.send_binary(b"x"));
        refused(conn, LocalError::NotOpen, |c| c.send_fragment(Fragment::Text("x"), false));
        refused(conn, LocalError::NotOpen, |c| c.send_ping(b"x"));
        refused(conn, LocalError::NotOpen, |c| c.send_pong(b"x"));
    }
}

#[test]
fn unsendable_close_codes_and_long_reasons_are_refused() {
    let mut conn = Connection::open(T, Role::Client, None, config());
    for code in [0, 999, 1004, 1006, 1015, 1016, 2999, 5000, 65535] {
        refused(&mut conn, LocalError::InvalidCloseCode(code), |c| c.close(T, code, ""));
    }
    // 1005 means "no code": it takes no reason.
    refused(&mut conn, LocalError::ReasonWithoutCode, |c| c.close(T, 1005, "why"));
    refused(&mut conn, LocalError::CloseReasonTooLong(124), |c| c.close(T, 1000, &"r".repeat(124)));
    // 123 bytes is the most that fits.
    conn.close(T, 4999, &"r".repeat(123)).unwrap();
    let close = close_payload(4999, &"r".repeat(123));
    assert_frames(Role::Client, &drain(&mut conn).1, &[(CLOSE, true, &close)]);
}

#[test]
fn close_without_a_code_sends_an_empty_close_frame_as_the_browser_does() {
    // The browser's close() with no arguments: an empty close frame, which
    // the peer reports as 1005, clean.
    let mut p = Pair::connected();
    p.client.conn.close(p.now, rfc6455::CloseCode::NO_STATUS, "").unwrap();
    let sent = p.client.conn.poll_transmit().unwrap();
    assert_frames(Role::Client, &sent, &[(CLOSE, true, b"")]);
    p.inject(Role::Server, &sent);
    p.drive();
    assert_eq!(p.server.take(), [closed(1005, "", true)]);
    assert_eq!(p.client.take(), [closed(1005, "", true)]);
}

#[test]
fn control_payloads_over_125_bytes_are_refused() {
    let mut conn = Connection::open(T, Role::Server, None, config());
    refused(&mut conn, LocalError::ControlPayloadTooLong(126), |c| c.send_ping(&[0; 126]));
    refused(&mut conn, LocalError::ControlPayloadTooLong(126), |c| c.send_pong(&[0; 126]));
    conn.send_ping(&[0; 125]).unwrap();
    assert_eq!(conn.buffered_amount(), 127);
}

#[test]
fn whole_messages_are_refused_inside_a_fragmented_one() {
    let mut conn = Connection::open(T, Role::Server, None, config());
    conn.send_fragment(Fragment::Text("start"), false).unwrap();
    refused(&mut conn, LocalError::MessageInProgress, |c| c.send_text("x"));
    refused(&mut conn, LocalError::MessageInProgress, |c| c.send_binary(b"x"));
    refused(&mut conn, LocalError::MessageInProgress, |c| c.send_fragment(Fragment::Binary(b"x"), true));
    conn.send_ping(b"ok").unwrap();
    conn.send_fragment(Fragment::Text("end"), true).unwrap();
    conn.send_binary(b"next").unwrap();
    let expected: &[(u8, bool, &[u8])] =
        &[(TEXT, false, b"start"), (PING, true, b"ok"), (CONT, true, b"end"), (BINARY, true, b"next")];
    assert_frames(Role::Server, &drain(&mut conn).1, expected);
}

#[test]
fn sending_after_close_is_refused() {
    let mut p = Pair::connected();
    p.client.paused = true;
    p.client.conn.close(p.now, 1000, "").unwrap();
    p.drive();
    let now = p.now;
    for err in [LocalError::Closing, LocalError::Closed] {
        let conn = &mut p.client.conn;
        refused(conn, err.clone(), |c| c.send_text("x"));
        refused(conn, err.clone(), |c| c.send_binary(b"x"));
        refused(conn, err.clone(), |c| c.send_fragment(Fragment::Binary(b"x"), true));
        refused(conn, err.clone(), |c| c.send_ping(b"x"));
        refused(conn, err.clone(), |c| c.send_pong(b"x"));
        refused(conn, err.clone(), |c| c.close(now, 1000, ""));
        conn.terminate(now);
        p.drive();
    }
    assert_eq!(p.client.take(), [abnormal()]);
    // The server that received a close is CLOSED at once and refuses the same way.
    p.client.paused = false;
    p.drive();
    refused(&mut p.server.conn, LocalError::Closed, |c| c.send_text("x"));
    refused(&mut p.server.conn, LocalError::Closed, |c| c.close(now, 1000, ""));
}

#[test]
fn a_prepared_message_is_the_frame_send_would_make() {
    use rfc6455::Prepared;
    for payload in [&b""[..], b"hi", &[7u8; 200], &[9u8; 70_000]] {
        let mut by_send = Connection::open(secs(0), Role::Server, None, Config::default());
        let mut by_prepared = Connection::open(secs(0), Role::Server, None, Config::default());
        by_send.send_binary(payload).unwrap();
        by_prepared.send_prepared(&Prepared::binary(payload)).unwrap();
        let all = |c: &mut Connection| std::iter::from_fn(|| c.poll_transmit()).flatten().collect::<Vec<u8>>();
        assert_eq!(all(&mut by_send), all(&mut by_prepared), "{} bytes", payload.len());
    }
    let text = Prepared::text("héllo");
    assert!(text.is_text());
    assert_eq!(text.payload(), "héllo".as_bytes());
    assert_eq!(text.frame()[0], 0x81);
}

#[test]
fn a_client_masks_a_prepared_message_and_the_server_reads_it() {
    let mut pair = Pair::connected();
    let news = rfc6455::Prepared::text("to the server, masked");
    pair.client.conn.send_prepared(&news).unwrap();
    let wire = pair.client.conn.poll_transmit().unwrap();
    assert_eq!(wire[1] & 0x80, 0x80, "a client's frame is masked");
    assert_ne!(&wire[..], &news.frame()[..]);
    assert_eq!(pair.server.conn.handle_bytes(pair.now, &wire), wire.len());
    assert_eq!(pair.server.conn.poll_event(), Some(rfc6455::Event::Text("to the server, masked".into())));
    // Not while a fragmented message is being sent.
    pair.client.conn.send_fragment(Fragment::Text("part"), false).unwrap();
    assert_eq!(pair.client.conn.send_prepared(&news), Err(LocalError::MessageInProgress));
}
