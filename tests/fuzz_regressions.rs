//! Inputs the fuzz targets (fuzz/, docs/fuzzing.md) found breaking an
//! invariant, each kept as a test of the fix.

mod common;

use std::time::Duration;

use common::*;
use rfc6455::{Connection, Role};

/// connection_client, first minutes: `keepalive_interval: Some(ZERO)` sent a
/// ping at every `handle_timeout` and left `poll_timeout` at `now`, so a
/// driver waiting for it spun forever. Zero now means no keepalive.
#[test]
fn a_zero_keepalive_interval_is_off() {
    let config = config().keepalive_interval(Some(Duration::ZERO));
    for role in [Role::Client, Role::Server] {
        let mut conn = Connection::open(Duration::ZERO, role, None, config.clone());
        assert_eq!(conn.poll_timeout(), None);
        conn.handle_timeout(Duration::ZERO);
        give(&mut conn, secs(1), &frame_to(role, true, PING, b""));
        conn.handle_timeout(secs(1));
        assert_eq!(drain(&mut conn).0, [ping(b"")]);
        assert_eq!(conn.poll_timeout(), None);
    }
    let mut pair = Pair::connected_with(config.clone(), config);
    pair.advance(secs(60));
    assert!(pair.client.sent.is_empty() && pair.server.sent.is_empty());
}

/// connection_server and connection_client, CI on 6bf1dce: a streaming text
/// chunk that ended inside a character went out as a copy, and the message
/// buffer kept its whole capacity (1537 bytes) to hold the character's first
/// bytes. The buffer now goes out as the chunk and the held bytes move to one
/// of their own. The harness checks heap held, not only bytes held.
#[test]
fn a_streaming_chunk_cut_inside_a_character_leaves_no_large_buffer() {
    use rfc6455::fuzzing::{self, Content, Masking, Script, Settings, Step};
    let settings = Settings {
        streaming: true,
        auto_pong: false,
        max_message_size: 306,
        handshake_timeout: Some(0),
        keepalive: Some(52),
        max_unread: 23901,
        ..Settings::roomy()
    };
    let steps = vec![Step::Frame { head: 1, masking: Masking::AsPeer, len: 1537, content: Content::Wide }];
    fuzzing::connection(Role::Server, &Script { open: true, settings, steps });
    // The same, through the public API: 1537 bytes of two-byte characters, cut in the middle of one.
    let text = "é".repeat(800);
    let mut conn =
        Connection::open(Duration::ZERO, Role::Client, None, config().receive(rfc6455::ReceiveMode::Streaming));
    let frame = frame_to(Role::Client, false, TEXT, &text.as_bytes()[..1537]);
    give(&mut conn, Duration::ZERO, &frame);
    let (events, _) = drain(&mut conn);
    assert_eq!(events.len(), 1);
    assert!(conn.buffered_input_capacity() <= 4, "{} bytes of heap kept", conn.buffered_input_capacity());
}

/// frames, CI on 6bf1dce: more than 16 pings in one read, all read before
/// the harness took the transmits, were answered only in part (up to 16 wait,
/// then only the latest is answered, RFC 6455 §5.5.3), so the same bytes cut
/// in pieces and whole wrote different pongs. The harness now takes the
/// transmits after each event, as a driver that writes as it goes does.
#[test]
fn many_pings_in_one_read_give_the_same_bytes_cut_or_whole() {
    let input: Vec<u8> = (0..436).map(|i| u8::from_str_radix(&"0081853704000000000000008ac6c6c6c63d7f9f0d5158883f85232323232305555555555555552333010461c3c3a9820283a8b582828282828282828282828282829282828282828219828282828282828282829282828282828219828282828283898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898980fffffe89898989898989898989898989898989898989898989898989898989898989898989898989898283898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898980fffffe89898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989828282808282828682828582828282828282822323232323828282"[2 * i..2 * i + 2], 16).unwrap()).collect();
    rfc6455::fuzzing::frames(&input);
}

/// Found by the harness's random scripts with a lazy driver: a client whose
/// application takes its events late read the server's close frame from
/// unread input and armed its close timer from when those bytes arrived, so
/// that after `handle_timeout(1.9 s)` and the drain `poll_timeout()` was
/// 0.5 s, before the last call.
#[test]
fn a_client_s_close_timer_is_not_armed_in_the_past() {
    let config = config().close_timeout(ms(500)).keepalive_interval(Some(ms(1900)));
    let mut client = Connection::open(Duration::ZERO, Role::Client, None, config);
    let input =
        [frame_to(Role::Client, true, TEXT, b"a"), frame_to(Role::Client, true, CLOSE, &close_payload(1000, ""))]
            .concat();
    give(&mut client, Duration::ZERO, &input);
    // Nothing is taken until the keepalive is due.
    assert_eq!(client.poll_timeout(), Some(ms(1900)));
    client.handle_timeout(ms(1900));
    assert_eq!(drain(&mut client).0, [text("a")]);
    assert_eq!(client.ready_state(), rfc6455::ReadyState::Closing);
    let next = client.poll_timeout();
    assert!(next.is_some_and(|t| t > ms(1900)), "the close timer is due at {next:?}, before the last call at 1.9 s");
}
