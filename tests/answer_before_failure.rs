//! A message read in the same input as a violation can still be answered
//! before the connection fails (Autobahn 3.2, 4.1.3, 5.15 strict behaviour).

use std::time::Duration;

use rfc6455::{Config, Connection, Event, Role};

/// Hands all of `bytes` to `conn`, which takes them in one call here.
fn give(conn: &mut Connection, now: Duration, bytes: &[u8]) {
    assert_eq!(conn.handle_bytes(now, bytes), bytes.len(), "the engine took only part of the input");
}

/// A masked frame from a client (key 0, so the payload is as written).
fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![b0, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    out.extend_from_slice(payload);
    out
}

#[test]
fn echo_goes_out_before_the_close_of_a_later_violation() {
    let t = Duration::ZERO;
    let mut server = Connection::open(t, Role::Server, None, Config::default());
    let mut input = frame(0x81, b"hi");
    input.extend(frame(0xA1, b"bad rsv")); // RSV2 set
    input.extend(frame(0x89, b"")); // a ping that must not be answered
    give(&mut server, t, &input);
    assert_eq!(server.poll_event(), Some(Event::Text("hi".into())));
    server.send_text("hi").unwrap();
    assert!(matches!(server.poll_event(), Some(Event::Error(_))));
    assert!(matches!(server.poll_event(), Some(Event::Closed(c)) if c.code.0 == 1006));
    assert_eq!(server.poll_event(), None);
    let out: Vec<u8> = std::iter::from_fn(|| server.poll_transmit()).flatten().collect();
    assert_eq!(&out[..4], b"\x81\x02hi");
    assert_eq!(&out[4..6], b"\x88\x13"); // then the close, 1002 with a reason, and no pong
    assert_eq!(&out[6..8], &1002u16.to_be_bytes());
    assert!(server.should_close_transport());
}

#[test]
fn close_after_a_message_in_one_read_is_answered_after_the_echo() {
    let t = Duration::ZERO;
    let mut server = Connection::open(t, Role::Server, None, Config::default());
    let mut input = frame(0x81, b"hi");
    input.extend(frame(0x88, b"\x03\xe8"));
    give(&mut server, t, &input);
    assert_eq!(server.poll_event(), Some(Event::Text("hi".into())));
    server.send_text("hi").unwrap();
    assert!(matches!(server.poll_event(), Some(Event::Closed(c)) if c.code.0 == 1000 && c.was_clean));
    let out: Vec<u8> = std::iter::from_fn(|| server.poll_transmit()).flatten().collect();
    assert_eq!(out, b"\x81\x02hi\x88\x02\x03\xe8");
}

#[test]
fn many_messages_in_one_read_each_get_their_answer_in_order() {
    let t = Duration::ZERO;
    let mut server = Connection::open(t, Role::Server, None, Config::default());
    let mut input = Vec::new();
    for i in 0..100u8 {
        input.extend(frame(0x82, &[i]));
    }
    input.extend(frame(0x88, b"\x03\xe8"));
    give(&mut server, t, &input);
    let mut seen = Vec::new();
    while let Some(event) = server.poll_event() {
        match event {
            Event::Binary(b) => {
                server.send_binary(&b).unwrap();
                seen.push(b[0]);
            }
            Event::Closed(c) => assert!(c.was_clean && c.code.0 == 1000),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, (0..100).collect::<Vec<u8>>());
    let out: Vec<u8> = std::iter::from_fn(|| server.poll_transmit()).flatten().collect();
    let mut expected = Vec::new();
    for i in 0..100u8 {
        expected.extend([0x82, 1, i]);
    }
    expected.extend(b"\x88\x02\x03\xe8");
    assert_eq!(out, expected);
}

#[test]
fn eof_reads_the_messages_waiting_before_it() {
    let t = Duration::ZERO;
    let mut server = Connection::open(t, Role::Server, None, Config::default());
    let mut input = frame(0x81, b"a");
    input.extend(frame(0x81, b"b"));
    give(&mut server, t, &input);
    server.handle_eof(t);
    let events: Vec<Event> = std::iter::from_fn(|| server.poll_event()).collect();
    assert_eq!(events[..2], [Event::Text("a".into()), Event::Text("b".into())]);
    assert!(matches!(events[2], Event::Error(rfc6455::Error::UnexpectedEof)));
    assert!(matches!(&events[3], Event::Closed(c) if c.code.0 == 1006 && !c.was_clean));
    assert_eq!(events.len(), 4);
}

#[test]
fn a_timer_comes_after_the_bytes_already_read() {
    // The peer's close arrived with a message; our close timer must not
    // overtake it while it waits behind the message.
    let t = Duration::ZERO;
    let mut server = Connection::open(t, Role::Server, None, Config::default());
    let mut input = frame(0x81, b"a");
    input.extend(frame(0x88, b"\x03\xe8"));
    give(&mut server, t, &input);
    assert_eq!(server.poll_event(), Some(Event::Text("a".into())));
    server.close(t, 1000, "").unwrap();
    server.handle_timeout(t + Duration::from_secs(5));
    let events: Vec<Event> = std::iter::from_fn(|| server.poll_event()).collect();
    assert!(matches!(events.as_slice(), [Event::Closed(c)] if c.was_clean && c.code.0 == 1000), "{events:?}");
}

#[test]
fn input_behind_a_message_that_fails_is_not_kept() {
    // The text ends with half a character: the connection fails at its end,
    // and the binary frame behind it is dropped at once, not held.
    let t = Duration::ZERO;
    let mut server = Connection::open(t, Role::Server, None, Config::default());
    let mut input = frame(0x81, &[b'a', 0xE2, 0x82]);
    input.extend(frame(0x82, &[0; 100]));
    give(&mut server, t, &input);
    assert!(server.should_close_transport());
    assert_eq!(server.buffered_input_len(), 0);
    let events: Vec<Event> = std::iter::from_fn(|| server.poll_event()).collect();
    assert!(matches!(events.as_slice(), [Event::Error(_), Event::Closed(_)]), "{events:?}");
}
