//! Input the engine took but has not read yet (it waits behind events the
//! application has not taken): timers keep running, an EOF waits behind it,
//! and a transport error drops it.

mod common;

use std::time::Duration;

use common::*;
use rfc6455::{Connection, Error, Event, Role};

const T: Duration = Duration::ZERO;

/// A server given `frames` in one read, nothing taken yet.
fn server_with(config: rfc6455::Config, frames: &[Vec<u8>]) -> Connection {
    let mut conn = Connection::open(T, Role::Server, None, config);
    give(&mut conn, T, &frames.concat());
    conn
}

fn text_frame(s: &str) -> Vec<u8> {
    frame_to(Role::Server, true, TEXT, s.as_bytes())
}

#[test]
fn timers_run_while_input_waits_unread() {
    // A driver that stops taking events (backpressure) still gets its
    // keepalive pings, and poll_timeout never stays in the past.
    let config = config().keepalive_interval(Some(ms(500))).idle_timeout(Some(secs(60)));
    let mut conn = server_with(config, &[text_frame("a"), text_frame("b")]);
    let mut now = T;
    for _ in 0..100 {
        let at = conn.poll_timeout().expect("the keepalive is armed");
        assert!(at > now, "poll_timeout {at:?} is not after the last handle_timeout at {now:?}");
        now = at;
        conn.handle_timeout(now);
    }
    let mut pings = 0;
    while let Some(bytes) = conn.poll_transmit() {
        pings += decode_frames(&bytes).iter().filter(|f| f.opcode == PING).count();
    }
    assert_eq!(pings, 100);
    assert_eq!(drain(&mut conn).0, [text("a"), text("b")]);
}

#[test]
fn the_close_timer_waits_for_the_close_frame_in_unread_input() {
    // The server closes; the client's answer is in the input, behind a
    // message the application has not taken: the close timeout must not
    // fire over it.
    let mut conn = Connection::open(T, Role::Server, None, config().close_timeout(secs(1)));
    conn.close(T, 1000, "").unwrap();
    drain(&mut conn);
    let close = frame_to(Role::Server, true, CLOSE, &close_payload(1000, ""));
    give(&mut conn, ms(10), &[text_frame("late"), text_frame("later"), close].concat());
    let deadline = conn.poll_timeout();
    assert_eq!(deadline, None, "the close timer is due only once the input is read");
    conn.handle_timeout(secs(5));
    assert_eq!(drain(&mut conn).0, [text("late"), text("later"), closed(1000, "", true)]);
}

#[test]
fn a_keepalive_at_the_end_of_time_fires_once() {
    let mut conn = Connection::open(T, Role::Client, None, config().keepalive_interval(Some(secs(30))));
    give(&mut conn, Duration::MAX - secs(1), &frame_to(Role::Client, true, PING, b""));
    drain(&mut conn);
    conn.handle_timeout(Duration::MAX);
    let pings = drain(&mut conn).1;
    assert_eq!(decode_frames(&pings).iter().filter(|f| f.opcode == PING).count(), 1);
    assert!(conn.poll_timeout().is_none_or(|t| t > Duration::MAX - secs(1)));
}

#[test]
fn terminate_drops_the_input_not_read() {
    // Whatever the next frames are, terminate after the first message gives
    // the close event and nothing else: the messages behind it are input
    // not read.
    let ping = frame_to(Role::Server, true, PING, b"");
    for frames in [
        vec![text_frame("a"), text_frame("b"), ping.clone(), text_frame("c")],
        vec![text_frame("a"), ping.clone(), text_frame("b")],
        vec![text_frame("a"), text_frame("b"), text_frame("c"), text_frame("d")],
    ] {
        let mut conn = server_with(config(), &frames);
        assert_eq!(conn.poll_event(), Some(text("a")));
        conn.terminate(T);
        assert_eq!(drain(&mut conn).0, [abnormal()], "{frames:?}");
    }
}

#[test]
fn a_transport_error_drops_unread_input_and_writes_nothing() {
    let ping = frame_to(Role::Server, true, PING, b"");
    let close = frame_to(Role::Server, true, CLOSE, &close_payload(1000, ""));
    let mut conn = server_with(config(), &[text_frame("a"), ping, close]);
    conn.handle_transport_error(T);
    assert_eq!(conn.buffered_amount(), 0);
    let (events, sent) = drain(&mut conn);
    assert_eq!(events, [text("a"), error(Error::Transport), abnormal()]);
    assert!(sent.is_empty(), "{sent:?} queued after the transport failed");
}

#[test]
fn an_eof_waits_behind_unread_input() {
    let mut conn = server_with(config(), &[text_frame("a"), text_frame("b")]);
    conn.handle_eof(T);
    let events = drain(&mut conn).0;
    assert_eq!(events, [text("a"), text("b"), error(Error::UnexpectedEof), abnormal()]);
}

#[test]
fn reading_ahead_never_reorders_replies_and_closes() {
    // Messages, then a close: each reply goes out before the echo of the close.
    let close = frame_to(Role::Server, true, CLOSE, &close_payload(1000, "bye"));
    let mut conn = server_with(config(), &[text_frame("1"), text_frame("2"), text_frame("3"), close]);
    let mut replies = 0;
    while let Some(event) = conn.poll_event() {
        if let Event::Text(t) = event {
            conn.send_text(&t).unwrap();
            replies += 1;
        }
    }
    assert_eq!(replies, 3);
    let sent = std::iter::from_fn(|| conn.poll_transmit()).flat_map(|b| b.to_vec()).collect::<Vec<u8>>();
    let opcodes: Vec<u8> = decode_frames(&sent).iter().map(|f| f.opcode).collect();
    assert_eq!(opcodes, [TEXT, TEXT, TEXT, CLOSE]);
}

#[test]
fn a_timeout_drops_the_messages_not_read() {
    // What the application sees at an idle timeout does not depend on how
    // the frames behind the one it took were cut: the messages not read go
    // with the input.
    let fragmented = [frame_to(Role::Server, false, TEXT, b"b"), frame_to(Role::Server, true, CONT, b"")].concat();
    for b in [text_frame("b"), fragmented] {
        let config = config().idle_timeout(Some(secs(1)));
        let mut conn = server_with(config, &[text_frame("a"), b, text_frame("c"), text_frame("d")]);
        assert_eq!(conn.poll_event(), Some(text("a")));
        conn.handle_timeout(secs(1));
        assert_eq!(drain(&mut conn).0, [error(Error::IdleTimeout), abnormal()]);
    }
}

#[test]
fn an_eof_waits_behind_unread_messages_and_a_transport_error_drops_them() {
    // An EOF waits behind the input not read yet: the messages in it come
    // first, then the end. A transport error takes effect at once: the
    // messages not read go with the input, and the error is what the
    // application is told, whatever came before it.
    for n in [2, 3] {
        let frames: Vec<Vec<u8>> = ["a", "b", "c"][..n].iter().map(|s| text_frame(s)).collect();
        let mut conn = server_with(config(), &frames);
        assert_eq!(conn.poll_event(), Some(text("a")));
        conn.handle_eof(T);
        let mut want: Vec<Event> = ["b", "c"][..n - 1].iter().map(|s| text(s)).collect();
        want.extend([error(Error::UnexpectedEof), abnormal()]);
        assert_eq!(drain(&mut conn).0, want, "{n} messages, EOF");
        assert_eq!(conn.heap_held(), 0);

        let mut conn = server_with(config(), &frames);
        assert_eq!(conn.poll_event(), Some(text("a")));
        conn.handle_eof(T);
        conn.handle_transport_error(T);
        assert_eq!(drain(&mut conn).0, [error(Error::Transport), abnormal()], "{n} messages, EOF then error");
        assert_eq!(conn.heap_held(), 0);
    }
}

/// The events and bytes of a connection of `role` given `frames` three
/// ways: in one read (the frames behind the first wait unread and are read
/// by the small-message shortcut when it applies), a frame per read (one
/// small message per read has a shortcut of its own), and a byte at a time
/// (the general path alone: no frame is ever whole in the input). Each
/// connection gets a configuration of its own from `config`, so that a
/// client's mask keys come from the same seed.
fn three_ways(role: Role, config: &dyn Fn() -> rfc6455::Config, frames: &[Vec<u8>]) -> [(Vec<Event>, Vec<u8>); 3] {
    let mut whole = Connection::open(T, role, None, config());
    give(&mut whole, T, &frames.concat());
    let pieces = |conn: &mut Connection, pieces: Vec<&[u8]>| {
        let mut events = Vec::new();
        for piece in pieces {
            give(conn, T, piece);
            events.extend(std::iter::from_fn(|| conn.poll_event()));
        }
        let (rest, sent) = drain(conn);
        events.extend(rest);
        (events, sent)
    };
    let mut per_frame = Connection::open(T, role, None, config());
    let per_frame = pieces(&mut per_frame, frames.iter().map(Vec::as_slice).collect());
    let mut bytewise = Connection::open(T, role, None, config());
    let input = frames.concat();
    let bytewise = pieces(&mut bytewise, input.chunks(1).collect());
    [drain(&mut whole), per_frame, bytewise].map(|(events, sent)| (joined(events), sent))
}

/// The events with each streamed message's chunks joined into one (a byte
/// at a time, a message streams in as many chunks as reads).
fn joined(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    for event in events {
        if let (Some(Event::Chunk { kind, data, fin: false }), Event::Chunk { kind: next, data: more, fin }) =
            (out.last(), &event)
            && kind == next
        {
            let data = rfc6455::Payload::from([&data[..], &more[..]].concat());
            *out.last_mut().expect("a chunk") = Event::Chunk { kind: *kind, data, fin: *fin };
            continue;
        }
        out.push(event);
    }
    out
}

#[test]
fn small_messages_read_from_unread_input_follow_every_rule() {
    use rfc6455::ReceiveMode;
    let binary = |role, payload: &[u8]| frame_to(role, true, 0x2, payload);
    let text = |role, payload: &[u8]| frame_to(role, true, TEXT, payload);
    let mut rsv = binary(Role::Server, b"r");
    rsv[0] |= 0x40;
    let limited = || config().max_message_size(3);
    let streaming = || config().receive(ReceiveMode::Streaming);
    type Settings<'a> = &'a dyn Fn() -> rfc6455::Config;
    let cases: Vec<(&str, Role, Settings, Vec<Vec<u8>>)> = vec![
        (
            "ASCII and not",
            Role::Server,
            &config,
            vec![
                text(Role::Server, b"a"),
                text(Role::Server, "\u{e9}t\u{e9}".as_bytes()),
                binary(Role::Server, &[0xFF; 31]),
            ],
        ),
        ("invalid UTF-8", Role::Server, &config, vec![text(Role::Server, b"a"), text(Role::Server, &[b'a', 0xC3])]),
        (
            "over the size limit",
            Role::Server,
            &limited,
            vec![binary(Role::Server, b"abc"), binary(Role::Server, b"abcd")],
        ),
        ("a reserved bit", Role::Server, &config, vec![binary(Role::Server, b"a"), rsv]),
        (
            "a new message inside a fragmented one",
            Role::Server,
            &config,
            vec![frame_to(Role::Server, false, TEXT, b"a"), text(Role::Server, b"b")],
        ),
        // The ping is an event: the text frame behind it is read on its own.
        (
            "a new message after a ping inside a fragmented one",
            Role::Server,
            &config,
            vec![
                binary(Role::Server, b"x"),
                frame_to(Role::Server, false, TEXT, b"a"),
                frame_to(Role::Server, true, 0x9, b"p"),
                text(Role::Server, b"b"),
            ],
        ),
        (
            "a fragment, then its end",
            Role::Server,
            &config,
            vec![
                binary(Role::Server, b"a"),
                frame_to(Role::Server, false, 0x2, b"b"),
                frame_to(Role::Server, true, 0x0, b"c"),
            ],
        ),
        ("streaming", Role::Server, &streaming, vec![binary(Role::Server, b"a"), text(Role::Server, b"b")]),
        (
            "a client, unmasked frames",
            Role::Client,
            &config,
            vec![binary(Role::Client, b"a"), text(Role::Client, b"bc")],
        ),
        (
            "a client, a masked frame",
            Role::Client,
            &config,
            vec![binary(Role::Client, b"a"), binary(Role::Server, b"b")],
        ),
        (
            "a server, an unmasked frame",
            Role::Server,
            &config,
            vec![binary(Role::Server, b"a"), binary(Role::Client, b"b")],
        ),
        (
            "a ping between",
            Role::Server,
            &config,
            vec![binary(Role::Server, b"a"), frame_to(Role::Server, true, 0x9, b"p"), binary(Role::Server, b"b")],
        ),
    ];
    for (name, role, config, mut frames) in cases {
        // A message behind them, so that each small frame has a whole block
        // of input after its header: the shortcut reads blocks.
        frames.push(binary(role, &[7; 40]));
        let [whole, per_frame, bytewise] = three_ways(role, config, &frames);
        assert_eq!(whole, bytewise, "{name}: in one read");
        assert_eq!(per_frame, bytewise, "{name}: a frame per read");
        assert!(whole.0.len() >= frames.len().min(2), "{name}: {:?}", whole.0);
    }
    // A long run of small frames, most of them with a whole block of input
    // behind them, some at its very end.
    let frames: Vec<Vec<u8>> = (0..200u8)
        .map(|i| {
            if i % 3 == 0 {
                text(Role::Server, &vec![b'x'; usize::from(i % 32)])
            } else {
                binary(Role::Server, &vec![i; usize::from(i % 32)])
            }
        })
        .collect();
    let [whole, per_frame, bytewise] = three_ways(Role::Server, &config, &frames);
    assert_eq!(whole.0.len(), 200);
    assert_eq!(whole, bytewise);
    assert_eq!(per_frame, bytewise);
}

#[test]
fn a_small_message_handed_in_waits_behind_unread_input() {
    // Two frames in one read leave the second unread once the first is
    // taken; a third handed in then must come after it.
    let frame = |b: &[u8]| frame_to(Role::Server, true, 0x2, b);
    let mut conn = Connection::open(T, Role::Server, None, config());
    give(&mut conn, T, &[frame(b"a"), frame(b"b")].concat());
    assert_eq!(conn.poll_event(), Some(binary(b"a")));
    give(&mut conn, T, &frame(b"c"));
    assert_eq!(drain(&mut conn).0, vec![binary(b"b"), binary(b"c")]);
}
