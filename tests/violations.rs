//! A peer's protocol violations (RFC 6455 §5, §7.1.7, §8.1): each fails the
//! connection with the right close code. The side that detects it reports
//! `Error` then `Closed` (1006) and sends one close frame with the code; the
//! violating side receives that frame and closes cleanly with it.

mod common;

use common::*;
use rfc6455::{Config, Event, ProtocolError, ReadyState, Role};

fn other(role: Role) -> Role {
    match role {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    }
}

/// Feeds `reads` to `to` (one `handle_bytes` each) on an open pair and checks
/// the whole outcome on both sides.
fn assert_violation(config: Config, to: Role, reads: &[&[u8]], before: &[Event], e: ProtocolError, code: u16) {
    let mut p = Pair::connected_with(config.clone(), config);
    for read in reads {
        p.inject(to, read);
    }
    assert_eq!(u16::from(e.close_code()), code, "{e:?}");
    let reason = e.to_string();
    let mut expected = before.to_vec();
    expected.extend([violation(e), abnormal()]);
    let detector = p.side(to);
    assert_eq!(detector.take(), expected, "{e:?} detected by the {to:?}");
    assert_eq!(detector.conn.ready_state(), ReadyState::Closed);
    assert!(detector.conn.should_close_transport());
    assert_frames(to, &detector.sent, &[(CLOSE, true, &close_payload(code, &reason))]);
    // The violating side reads the close frame: a clean close with that code.
    assert_eq!(p.side(other(to)).take(), [closed(code, &reason, true)], "{e:?} seen by the violator");
}

/// A violation in one read with the default settings.
fn violates(to: Role, bytes: &[u8], e: ProtocolError, code: u16) {
    assert_violation(config(), to, &[bytes], &[], e, code);
}

/// A frame as a peer of `to` would send it, with RSV bits.
fn with_rsv(to: Role, rsv: u8) -> Vec<u8> {
    let mut f = Frame::new(true, TEXT, b"x");
    f.rsv = rsv;
    f.mask = (to == Role::Server).then_some(PEER_KEY);
    f.encode()
}

const BOTH: [Role; 2] = [Role::Client, Role::Server];

#[test]
fn reserved_opcodes() {
    for to in BOTH {
        for op in (3..=7).chain(0xB..=0xF) {
            violates(to, &frame_to(to, true, op, b"x"), ProtocolError::ReservedOpcode(op), 1002);
        }
    }
    // Decided from the first two bytes, before the rest of the header.
    violates(Role::Server, &[0x83, 0xFF], ProtocolError::ReservedOpcode(3), 1002);
}

#[test]
fn reserved_bits() {
    for to in BOTH {
        for rsv in [1, 2, 4, 7] {
            violates(to, &with_rsv(to, rsv), ProtocolError::ReservedBits, 1002);
        }
    }
}

#[test]
fn unmasked_frame_from_a_client() {
    violates(Role::Server, &Frame::new(true, TEXT, b"hi").encode(), ProtocolError::UnmaskedFrame, 1002);
}

#[test]
fn masked_frame_from_a_server() {
    let mut f = Frame::new(true, TEXT, b"hi");
    f.mask = Some(PEER_KEY);
    violates(Role::Client, &f.encode(), ProtocolError::MaskedFrame, 1002);
}

#[test]
fn control_frame_over_125_bytes() {
    for to in BOTH {
        for op in [PING, PONG, CLOSE] {
            let bytes = frame_to(to, true, op, &[b'a'; 126]);
            // The header alone decides.
            let header = if to == Role::Server { 8 } else { 4 };
            violates(to, &bytes[..header], ProtocolError::ControlFrameTooLong, 1002);
        }
    }
}

#[test]
fn fragmented_control_frame() {
    for to in BOTH {
        for op in [PING, PONG, CLOSE] {
            violates(to, &frame_to(to, false, op, b""), ProtocolError::FragmentedControlFrame, 1002);
        }
    }
}

#[test]
fn continuation_without_a_message() {
    for to in BOTH {
        violates(to, &frame_to(to, true, CONT, b"x"), ProtocolError::UnexpectedContinuation, 1002);
        // Nor after a message has ended.
        let mut bytes = frame_to(to, true, TEXT, b"done");
        bytes.extend(frame_to(to, false, CONT, b"x"));
        assert_violation(config(), to, &[&bytes], &[text("done")], ProtocolError::UnexpectedContinuation, 1002);
    }
}

#[test]
fn new_message_inside_a_fragmented_one() {
    for to in BOTH {
        for op in [TEXT, BINARY] {
            let mut bytes = frame_to(to, false, TEXT, b"He");
            bytes.extend(frame_to(to, true, op, b"llo"));
            violates(to, &bytes, ProtocolError::ExpectedContinuation, 1002);
        }
    }
}

#[test]
fn bad_payload_lengths() {
    // A 64-bit length with the most significant bit set.
    violates(Role::Client, &[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0], ProtocolError::BadLength, 1002);
    violates(
        Role::Server,
        &[0x82, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4],
        ProtocolError::BadLength,
        1002,
    );
    // Lengths not in their minimal encoding (RFC 6455 §5.2).
    violates(Role::Client, &[0x82, 0x7E, 0x00, 0x7D], ProtocolError::BadLength, 1002);
    violates(Role::Client, &[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF], ProtocolError::BadLength, 1002);
}

#[test]
fn invalid_utf8_fails_fast_inside_a_frame() {
    // The frame announces 10 bytes; the bad byte is the third: no need to wait for the rest.
    for to in BOTH {
        let bytes = frame_to(to, true, TEXT, b"ab\xFFdefghij");
        let header = bytes.len() - 10;
        violates(to, &bytes[..header + 3], ProtocolError::InvalidUtf8, 1007);
    }
    // 0xF4 0x90 can never start a character (above U+10FFFF): refused at the 0x90.
    violates(Role::Client, &[0x81, 0x05, b'h', 0xF4, 0x90], ProtocolError::InvalidUtf8, 1007);
}

#[test]
fn invalid_utf8_across_reads_and_frames() {
    let e = ProtocolError::InvalidUtf8;
    // One frame over two reads, the character split between them.
    assert_violation(config(), Role::Client, &[&[0x81, 0x05, b'h', 0xF4], &[0x90]], &[], e, 1007);
    // A character begun in one frame and broken in the next.
    for to in BOTH {
        let first = frame_to(to, false, TEXT, b"a\xE2\x82");
        let second = frame_to(to, true, CONT, b"b");
        assert_violation(config(), to, &[&first, &second], &[], e, 1007);
        // A message that ends inside a character.
        assert_violation(config(), to, &[&frame_to(to, true, TEXT, b"a\xE2\x82")], &[], e, 1007);
        // A UTF-16 surrogate.
        violates(to, &frame_to(to, true, TEXT, b"\xED\xA0\x80"), e, 1007);
    }
    // Streaming mode fails just as fast.
    let streaming = config().receive(rfc6455::ReceiveMode::Streaming);
    let before = [chunk(rfc6455::MessageKind::Text, b"a", false)];
    assert_violation(streaming, Role::Client, &[&[0x01, 0x03, b'a', 0xE2], b"b"], &before, e, 1007);
}

#[test]
fn close_payload_of_one_byte() {
    for to in BOTH {
        violates(to, &frame_to(to, true, CLOSE, &[0x03]), ProtocolError::ClosePayloadTooShort, 1002);
    }
}

#[test]
fn close_codes_that_may_not_be_on_the_wire() {
    for to in BOTH {
        for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            let bytes = frame_to(to, true, CLOSE, &close_payload(code, ""));
            violates(to, &bytes, ProtocolError::InvalidCloseCode(code), 1002);
        }
    }
}

#[test]
fn close_reason_that_is_not_utf8() {
    for to in BOTH {
        let mut payload = close_payload(1000, "ok");
        payload.push(0xFF);
        violates(to, &frame_to(to, true, CLOSE, &payload), ProtocolError::InvalidCloseReason, 1007);
    }
}

#[test]
fn message_over_the_limit_is_refused_at_the_header() {
    let small = config().max_message_size(10);
    let e = ProtocolError::MessageTooBig;
    for to in BOTH {
        // Only the header of an 11-byte frame: refused before any payload.
        let bytes = frame_to(to, true, BINARY, &[0; 11]);
        let header = bytes.len() - 11;
        assert_violation(small.clone(), to, &[&bytes[..header]], &[], e, 1009);
        // Fragments adding up past the limit: refused at the header of the one that does.
        let mut bytes = frame_to(to, false, TEXT, b"123456");
        bytes.extend(&frame_to(to, true, CONT, b"78901")[..header]);
        assert_violation(small.clone(), to, &[&bytes], &[], e, 1009);
        // A 64-bit length (4 GiB) far past the default limit of 16 MiB.
        let mut bytes = vec![0x82, 0x7F, 0, 0, 0, 1, 0, 0, 0, 0];
        if to == Role::Server {
            bytes[1] |= 0x80;
            bytes.extend(PEER_KEY);
        }
        violates(to, &bytes, e, 1009);
    }
}

#[test]
fn a_violation_ends_reading_at_once() {
    // The frames behind the bad one, in the same read, are never looked at.
    for to in BOTH {
        let mut bytes = frame_to(to, true, TEXT, b"first");
        bytes.extend(frame_to(to, true, 3, b""));
        bytes.extend(frame_to(to, true, TEXT, b"never"));
        bytes.extend(frame_to(to, true, PING, b"never"));
        assert_violation(
            config(),
            to,
            &[&bytes, &frame_to(to, true, TEXT, b"later")],
            &[text("first")],
            ProtocolError::ReservedOpcode(3),
            1002,
        );
    }
}

#[test]
fn a_violation_while_closing_sends_no_second_close_frame() {
    let mut p = Pair::connected();
    p.client.paused = true;
    p.client.conn.close(p.now, 1000, "").unwrap();
    p.inject(Role::Client, &frame_to(Role::Server, true, TEXT, b"masked"));
    assert_eq!(p.client.take(), [violation(ProtocolError::MaskedFrame), abnormal()]);
    assert_frames(Role::Client, &p.client.sent, &[(CLOSE, true, &close_payload(1000, ""))]);
}
