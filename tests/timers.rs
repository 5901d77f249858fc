//! Time-driven behaviour on the fake clock: keepalive pings, the idle timeout,
//! the handshake timeout, and what `poll_timeout` asks for.

mod common;

use std::time::Duration;

use common::*;
use rfc6455::{Config, Connection, Error, ReadyState, Role};

fn keepalive(interval: u64, idle: u64) -> Config {
    config().keepalive_interval(Some(secs(interval))).idle_timeout(Some(secs(idle)))
}

#[test]
fn keepalive_pings_keep_a_live_peer_in() {
    let mut p = Pair::connected_with(config(), keepalive(3, 10));
    assert_eq!(p.server.conn.poll_timeout(), Some(secs(3)));
    p.advance(secs(30));
    // A ping every 3 s of silence, each answered at once by the client's auto-pong.
    assert_eq!(p.client.take(), vec![ping(b""); 10]);
    assert_eq!(p.server.take(), vec![pong(b""); 10]);
    let pings: Vec<(u8, bool, &[u8])> = vec![(PING, true, b""); 10];
    assert_frames(Role::Server, &p.server.sent, &pings);
    assert_eq!(p.server.conn.ready_state(), ReadyState::Open);
    assert_eq!(p.server.conn.poll_timeout(), Some(secs(33)));
}

#[test]
fn without_pongs_the_idle_timeout_closes_with_1001() {
    let client = config().auto_pong(false);
    let mut p = Pair::connected_with(client, keepalive(3, 10));
    p.advance(ms(9999));
    assert_eq!(p.client.take(), vec![ping(b""); 3]);
    assert_eq!(p.server.take(), []);
    p.advance(ms(1));
    assert_eq!(p.server.take(), [error(Error::IdleTimeout), abnormal()]);
    assert!(p.server.conn.should_close_transport());
    // The server said why before closing TCP; the client saw a clean close.
    let close = close_payload(1001, "idle timeout");
    let expected: Vec<(u8, bool, &[u8])> =
        vec![(PING, true, b""), (PING, true, b""), (PING, true, b""), (CLOSE, true, &close)];
    assert_frames(Role::Server, &p.server.sent, &expected);
    assert_eq!(p.client.take(), [closed(1001, "idle timeout", true)]);
}

#[test]
fn the_application_can_answer_pings_itself() {
    let client = config().auto_pong(false);
    let mut p = Pair::connected_with(client, keepalive(3, 10));
    for _ in 0..5 {
        p.advance(secs(3));
        assert_eq!(p.client.take(), [ping(b"")]);
        assert!(p.client.sent.is_empty());
        p.client.conn.send_pong(b"").unwrap();
        p.drive();
        p.client.sent.clear();
    }
    assert_eq!(p.server.take(), vec![pong(b""); 5]);
    assert_eq!(p.server.conn.ready_state(), ReadyState::Open);
}

#[test]
fn any_received_bytes_reset_the_idle_timer() {
    let server = config().idle_timeout(Some(secs(10)));
    let mut p = Pair::connected_with(config(), server);
    p.advance(secs(6));
    p.client.conn.send_text("still here").unwrap();
    p.advance(ms(9999));
    assert_eq!(p.server.take(), [text("still here")]);
    // Sending does not count: only what arrives.
    p.server.conn.send_text("me too").unwrap();
    p.advance(ms(1));
    assert_eq!(p.server.take(), [error(Error::IdleTimeout), abnormal()]);
    assert_eq!(p.now, secs(16));
}

#[test]
fn the_handshake_timeout_counts_from_creation() {
    // The client never sends its request.
    let client = config().handshake_timeout(None);
    let server = config().handshake_timeout(Some(secs(2)));
    let mut p = Pair::handshake(client, server);
    p.client.paused = true;
    assert_eq!(p.server.conn.poll_timeout(), Some(secs(2)));
    assert_eq!(p.client.conn.poll_timeout(), None);
    p.advance(secs(2));
    assert_eq!(p.server.take(), [error(Error::HandshakeTimeout), abnormal()]);
    assert!(p.server.sent.is_empty());
    let eof = error(Error::Handshake(rfc6455::HandshakeError::UnexpectedEof));
    assert_eq!(p.client.take(), [eof, abnormal()]);
}

#[test]
fn a_client_times_out_waiting_for_the_response() {
    let mut p = Pair::handshake(config(), config().handshake_timeout(None));
    p.drive();
    // The server has the request and never answers.
    assert!(matches!(p.server.take().as_slice(), [rfc6455::Event::Request(_)]));
    assert_eq!(p.client.conn.poll_timeout(), Some(secs(10)));
    p.advance(secs(10));
    assert_eq!(p.client.take(), [error(Error::HandshakeTimeout), abnormal()]);
    let eof = error(Error::Handshake(rfc6455::HandshakeError::UnexpectedEof));
    assert_eq!(p.server.take(), [eof, abnormal()]);
}

#[test]
fn the_handshake_timer_stops_once_open() {
    let mut p = Pair::connected();
    assert_eq!((p.client.conn.poll_timeout(), p.server.conn.poll_timeout()), (None, None));
    p.advance(secs(3600));
    assert_eq!((p.client.take(), p.server.take()), (vec![], vec![]));
}

#[test]
fn keepalive_stops_while_closing() {
    let mut p = Pair::connected_with(config(), keepalive(3, 10));
    p.client.paused = true;
    p.advance(secs(1));
    p.server.conn.close(p.now, 1000, "").unwrap();
    // Only the close timeout is left: no pings, no idle timeout.
    assert_eq!(p.server.conn.poll_timeout(), Some(secs(6)));
    p.advance(secs(6));
    assert_eq!(p.server.take(), [error(Error::CloseTimeout), abnormal()]);
    assert_frames(Role::Server, &p.server.sent, &[(CLOSE, true, &close_payload(1000, ""))]);
}

#[test]
fn an_opened_connection_arms_its_timers_at_creation() {
    let t = secs(100);
    let mut conn = Connection::open(t, Role::Server, None, keepalive(3, 10));
    assert_eq!(conn.poll_timeout(), Some(t + secs(3)));
    // Early and repeated calls do nothing.
    conn.handle_timeout(t + secs(2));
    assert_eq!(drain(&mut conn), (vec![], vec![]));
    conn.handle_timeout(t + secs(3));
    conn.handle_timeout(t + secs(3));
    assert_eq!(drain(&mut conn), (vec![], vec![0x89, 0x00]));
    assert_eq!(conn.poll_timeout(), Some(t + secs(6)));
}

#[test]
fn no_timeouts_after_closed() {
    let mut conn = Connection::open(Duration::ZERO, Role::Client, None, keepalive(3, 10));
    conn.terminate(Duration::ZERO);
    assert_eq!(conn.poll_timeout(), None);
    conn.handle_timeout(secs(100));
    assert_eq!(drain(&mut conn), (vec![abnormal()], vec![]));
}

#[test]
fn timer_settings_near_the_limit_of_duration_do_not_overflow() {
    let config = Config::default()
        .close_timeout(Duration::MAX)
        .handshake_timeout(Some(Duration::MAX))
        .keepalive_interval(Some(Duration::MAX))
        .idle_timeout(Some(Duration::MAX));
    let now = Duration::from_secs(1_000);
    let mut server = Connection::server(now, config.clone());
    assert_eq!(server.poll_timeout(), Some(Duration::MAX));
    let mut conn = Connection::open(now, Role::Client, None, config);
    give(&mut conn, now, &[0x89, 0x00]);
    assert_eq!(conn.poll_timeout(), Some(Duration::MAX));
    conn.close(now, 1000, "").unwrap();
    assert_eq!(conn.poll_timeout(), Some(Duration::MAX));
    conn.handle_timeout(Duration::MAX);
    assert_eq!(conn.ready_state(), ReadyState::Closed);
    server.handle_timeout(Duration::MAX);
    assert_eq!(server.ready_state(), ReadyState::Closed);
}
