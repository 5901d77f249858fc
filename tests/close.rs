//! Every way a connection ends, driven through an in-memory client/server pair:
//! the closing handshake from either side or both at once, a silent peer, EOF,
//! transport errors and `terminate`, with the states and who closes TCP.

mod common;

use common::*;
use rfc6455::{Error, HandshakeError, ReadyState, Role};

/// Asserts ready state, `should_close_transport` and `poll_timeout` of a side.
fn assert_state(side: &Side, state: ReadyState, close_transport: bool, timeout: Option<std::time::Duration>) {
    assert_eq!(side.conn.ready_state(), state);
    assert_eq!(side.conn.should_close_transport(), close_transport);
    assert_eq!(side.conn.poll_timeout(), timeout);
}

#[test]
fn client_initiated_close_step_by_step() {
    let mut p = Pair::connected();
    assert_state(&p.client, ReadyState::Open, false, None);
    p.client.conn.close(p.now, 1000, "bye").unwrap();
    assert_state(&p.client, ReadyState::Closing, false, Some(secs(5)));

    // The server reads the close frame, echoes code and reason, and is done: it closes TCP first.
    p.server.paused = true;
    p.drive();
    assert_frames(Role::Client, &p.client.take_sent(), &[(CLOSE, true, &close_payload(1000, "bye"))]);
    assert_eq!(p.server.take(), [closed(1000, "bye", true)]);
    assert_state(&p.server, ReadyState::Closed, true, None);
    assert_eq!(p.client.take(), []);

    // The client reads the echo: still CLOSING, waiting for the server's EOF.
    p.server.paused = false;
    p.server.hold_eof = true;
    p.drive();
    assert_frames(Role::Server, &p.server.take_sent(), &[(CLOSE, true, &close_payload(1000, "bye"))]);
    assert_eq!(p.client.take(), []);
    assert_state(&p.client, ReadyState::Closing, false, Some(secs(5)));

    // The server's EOF ends it cleanly, with the code and reason of the echo.
    p.server.hold_eof = false;
    p.drive();
    assert_eq!(p.client.take(), [closed(1000, "bye", true)]);
    assert_state(&p.client, ReadyState::Closed, true, None);
    assert_eq!((p.client.sent.len(), p.server.sent.len()), (0, 0));
}

#[test]
fn server_initiated_close() {
    let mut p = Pair::connected();
    p.server.conn.close(p.now, 1001, "going away").unwrap();
    assert_eq!(p.server.conn.ready_state(), ReadyState::Closing);
    p.drive();
    assert_eq!(p.server.take(), [closed(1001, "going away", true)]);
    assert_eq!(p.client.take(), [closed(1001, "going away", true)]);
    assert_frames(Role::Server, &p.server.sent, &[(CLOSE, true, &close_payload(1001, "going away"))]);
    assert_frames(Role::Client, &p.client.sent, &[(CLOSE, true, &close_payload(1001, "going away"))]);
    assert!(p.server.conn.should_close_transport() && p.client.conn.should_close_transport());
}

#[test]
fn simultaneous_close_sends_no_echo() {
    let mut p = Pair::connected();
    // Both close before either reads the other's frame.
    p.client.conn.close(p.now, 4001, "client done").unwrap();
    p.server.conn.close(p.now, 4002, "server done").unwrap();
    p.drive();
    assert_eq!(p.client.take(), [closed(4002, "server done", true)]);
    assert_eq!(p.server.take(), [closed(4001, "client done", true)]);
    assert_frames(Role::Client, &p.client.sent, &[(CLOSE, true, &close_payload(4001, "client done"))]);
    assert_frames(Role::Server, &p.server.sent, &[(CLOSE, true, &close_payload(4002, "server done"))]);
    assert_eq!(p.client.conn.ready_state(), ReadyState::Closed);
    assert_eq!(p.server.conn.ready_state(), ReadyState::Closed);
}

#[test]
fn received_close_without_code_reports_1005_and_is_echoed_empty() {
    let mut p = Pair::connected();
    p.server.paused = true;
    p.inject(Role::Server, &frame_to(Role::Server, true, CLOSE, b""));
    assert_eq!(p.server.take(), [closed(1005, "", true)]);
    assert_frames(Role::Server, &p.server.sent, &[(CLOSE, true, b"")]);
}

#[test]
fn silent_server_makes_the_client_time_out() {
    let mut p = Pair::connected();
    p.client.paused = true; // the server never reads what the client sends
    p.client.conn.close(p.now, 1000, "").unwrap();
    p.advance(ms(4999));
    assert_eq!(p.client.take(), []);
    assert_state(&p.client, ReadyState::Closing, false, Some(secs(5)));
    p.advance(ms(1));
    assert_eq!(p.client.take(), [error(Error::CloseTimeout), abnormal()]);
    assert_state(&p.client, ReadyState::Closed, true, None);
    assert_eq!(p.server.take(), []);
}

#[test]
fn silent_client_makes_the_server_time_out_and_the_late_client_closes_cleanly() {
    let mut p = Pair::connected();
    p.server.paused = true; // the client reads nothing until later
    p.server.conn.close(p.now, 1000, "done").unwrap();
    p.advance(secs(5));
    assert_eq!(p.server.take(), [error(Error::CloseTimeout), abnormal()]);
    assert!(p.server.conn.should_close_transport());
    // Then the client reads the close frame and the EOF; its echo goes nowhere.
    p.server.paused = false;
    p.drive();
    assert_eq!(p.client.take(), [closed(1000, "done", true)]);
    assert_eq!(p.server.take(), []);
}

#[test]
fn client_waits_for_the_servers_eof_until_the_close_timeout() {
    let mut p = Pair::connected();
    p.server.hold_eof = true; // the server never closes TCP
    p.client.conn.close(p.now, 1000, "").unwrap();
    p.advance(secs(1));
    assert_eq!(p.server.take(), [closed(1000, "", true)]);
    // The closing handshake completed at t=0: the wait for EOF ends at 5 s.
    assert_state(&p.client, ReadyState::Closing, false, Some(secs(5)));
    p.advance(secs(4));
    // Both close frames were exchanged: a clean close, and no error.
    assert_eq!(p.client.take(), [closed(1000, "", true)]);
    assert_state(&p.client, ReadyState::Closed, true, None);
}

#[test]
fn eof_in_the_middle_of_a_frame() {
    let mut p = Pair::connected();
    p.inject(Role::Client, &[0x81, 0x05, b'H', b'e']);
    assert_eq!(p.client.take(), []);
    p.client.conn.handle_eof(p.now);
    p.drive();
    assert_eq!(p.client.take(), [error(Error::UnexpectedEof), abnormal()]);
    // The client closes TCP in turn; the server sees EOF too.
    assert_eq!(p.server.take(), [error(Error::UnexpectedEof), abnormal()]);
    assert_eq!((p.client.sent.len(), p.server.sent.len()), (0, 0));
}

#[test]
fn eof_in_the_middle_of_a_header_to_a_server() {
    let mut p = Pair::connected();
    p.inject(Role::Server, &[0x82, 0xFE, 0x01]);
    p.server.conn.handle_eof(p.now);
    p.drive();
    assert_eq!(p.server.take(), [error(Error::UnexpectedEof), abnormal()]);
}

#[test]
fn eof_while_waiting_for_the_close_echo() {
    let mut p = Pair::connected();
    p.client.paused = true;
    p.client.conn.close(p.now, 1000, "").unwrap();
    p.server.conn.terminate(p.now);
    p.drive();
    assert_eq!(p.server.take(), [abnormal()]);
    assert_eq!(p.client.take(), [error(Error::UnexpectedEof), abnormal()]);
}

#[test]
fn eof_during_the_handshake_on_both_sides() {
    // The server has the request but has not answered it when the client gives up.
    let mut p = Pair::handshake(config(), config());
    p.drive();
    p.client.conn.terminate(p.now);
    p.drive();
    assert_eq!(p.client.take(), [abnormal()]);
    let events = p.server.take();
    assert!(matches!(events[0], rfc6455::Event::Request(_)));
    assert_eq!(events[1..], [error(Error::Handshake(HandshakeError::UnexpectedEof)), abnormal()]);

    // Half a request, then EOF.
    let mut server = rfc6455::Connection::server(p.now, config());
    give(&mut server, p.now, b"GET /chat HTTP/1.1\r\nHost: x\r\n");
    server.handle_eof(p.now);
    let eof = error(Error::Handshake(HandshakeError::UnexpectedEof));
    assert_eq!(drain(&mut server), (vec![eof.clone(), abnormal()], vec![]));
    assert!(server.should_close_transport());

    // Half a response, then EOF.
    let request = rfc6455::ClientRequest::new(URL).unwrap();
    let mut client = rfc6455::Connection::client(p.now, &request, config()).unwrap();
    drain(&mut client);
    give(&mut client, p.now, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n");
    client.handle_eof(p.now);
    assert_eq!(drain(&mut client), (vec![eof, abnormal()], vec![]));
    assert_eq!(client.ready_state(), ReadyState::Closed);
}

#[test]
fn transport_error_in_every_state() {
    // OPEN: an abnormal end; the peer sees EOF.
    let mut p = Pair::connected();
    p.client.conn.handle_transport_error(p.now);
    p.drive();
    assert_eq!(p.client.take(), [error(Error::Transport), abnormal()]);
    assert_eq!(p.server.take(), [error(Error::UnexpectedEof), abnormal()]);

    // CLOSING, close frame sent: abnormal.
    let mut p = Pair::connected();
    p.server.paused = true;
    p.server.conn.close(p.now, 1000, "").unwrap();
    p.server.conn.handle_transport_error(p.now);
    p.drive();
    assert_eq!(p.server.take(), [error(Error::Transport), abnormal()]);

    // CLOSING, a client waiting for EOF: the handshake completed, so clean.
    let mut p = Pair::connected();
    p.server.hold_eof = true;
    p.server.conn.close(p.now, 1000, "x").unwrap();
    p.drive();
    assert_eq!(p.client.conn.ready_state(), ReadyState::Closing);
    p.client.conn.handle_transport_error(p.now);
    p.drive();
    assert_eq!(p.client.take(), [closed(1000, "x", true)]);

    // CONNECTING.
    let mut p = Pair::handshake(config(), config());
    p.client.conn.handle_transport_error(p.now);
    p.drive();
    assert_eq!(p.client.take(), [error(Error::Transport), abnormal()]);

    // CLOSED: nothing more.
    p.client.conn.handle_transport_error(p.now);
    p.client.conn.handle_eof(p.now);
    p.drive();
    assert_eq!(p.client.take(), []);
}

#[test]
fn client_terminate_drops_queued_bytes_and_the_server_sees_eof() {
    let mut p = Pair::connected();
    p.client.conn.send_text("never sent").unwrap();
    assert_eq!(p.client.conn.buffered_amount(), 2 + 4 + 10);
    p.client.conn.terminate(p.now);
    assert_eq!(p.client.conn.buffered_amount(), 0);
    assert_state(&p.client, ReadyState::Closed, true, None);
    p.drive();
    assert_eq!(p.client.take(), [abnormal()]);
    assert_eq!(p.server.take(), [error(Error::UnexpectedEof), abnormal()]);
    assert!(p.client.sent.is_empty());
    // A second terminate does nothing.
    p.client.conn.terminate(p.now);
    p.drive();
    assert_eq!(p.client.take(), []);
}

#[test]
fn server_terminate_and_the_clients_view() {
    let mut p = Pair::connected();
    p.server.conn.terminate(p.now);
    p.drive();
    assert_eq!(p.server.take(), [abnormal()]);
    assert_eq!(p.client.take(), [error(Error::UnexpectedEof), abnormal()]);
}

#[test]
fn terminate_while_closing() {
    // Close frame sent, no answer yet: abnormal.
    let mut p = Pair::connected();
    p.client.paused = true;
    p.client.conn.close(p.now, 1000, "").unwrap();
    p.client.conn.terminate(p.now);
    p.drive();
    assert_eq!(p.client.take(), [abnormal()]);
    // The close frame was dropped with the rest of the queue: the server only sees EOF.
    assert!(p.client.sent.is_empty());
    p.client.paused = false;
    p.drive();
    assert_eq!(p.server.take(), [error(Error::UnexpectedEof), abnormal()]);

    // A client whose closing handshake is done: terminate just stops waiting for EOF.
    let mut p = Pair::connected();
    p.server.hold_eof = true;
    p.server.conn.close(p.now, 4000, "done").unwrap();
    p.drive();
    p.client.conn.terminate(p.now);
    p.drive();
    assert_eq!(p.client.take(), [closed(4000, "done", true)]);
}

#[test]
fn data_frames_after_a_received_close_are_ignored() {
    // Server: the close and a text in one read, another text in the next.
    let mut p = Pair::connected();
    p.server.paused = true;
    let mut bytes = frame_to(Role::Server, true, CLOSE, &close_payload(1000, ""));
    bytes.extend(frame_to(Role::Server, true, TEXT, b"late"));
    p.inject(Role::Server, &bytes);
    p.inject(Role::Server, &frame_to(Role::Server, true, TEXT, b"later"));
    assert_eq!(p.server.take(), [closed(1000, "", true)]);
    assert_frames(Role::Server, &p.server.sent, &[(CLOSE, true, &close_payload(1000, ""))]);

    // Client waiting for EOF: frames and pings are ignored, nothing is answered.
    let mut p = Pair::connected();
    p.server.hold_eof = true;
    p.client.conn.close(p.now, 1000, "").unwrap();
    p.drive();
    p.client.sent.clear();
    let mut bytes = frame_to(Role::Client, true, TEXT, b"late");
    bytes.extend(frame_to(Role::Client, true, PING, b"?"));
    p.inject(Role::Client, &bytes);
    assert_eq!(p.client.take(), []);
    assert!(p.client.sent.is_empty());
    p.server.hold_eof = false;
    p.drive();
    assert_eq!(p.client.take(), [closed(1000, "", true)]);
}

#[test]
fn messages_sent_before_the_peers_close_are_still_received() {
    // The server's text is on the wire before it reads the client's close
    // (RFC 6455 §7.1.2: data may arrive until the close frame does).
    let mut p = Pair::connected();
    p.server.conn.send_text("in flight").unwrap();
    p.client.conn.close(p.now, 1000, "bye").unwrap();
    p.drive();
    assert_eq!(p.client.take(), [text("in flight"), closed(1000, "bye", true)]);
    assert_eq!(p.server.take(), [closed(1000, "bye", true)]);
}

#[test]
fn a_ping_after_our_close_is_still_answered() {
    // RFC 6455 §5.5.2: only an endpoint that has *received* a close may stop
    // answering pings; after sending ours, a pong still goes out.
    let mut p = Pair::connected();
    p.client.paused = true;
    p.client.conn.close(p.now, 1000, "").unwrap();
    p.drive();
    p.client.sent.clear();
    p.inject(Role::Client, &frame_to(Role::Client, true, PING, b"p"));
    assert_eq!(p.client.take(), [ping(b"p")]);
    assert_frames(Role::Client, &p.client.sent, &[(PONG, true, b"p")]);
}

#[test]
fn a_ping_after_the_peers_close_is_not_answered() {
    // The client has the server's close and waits for its EOF: nothing more goes out.
    let mut p = Pair::connected();
    p.server.hold_eof = true;
    p.server.conn.close(p.now, 1000, "").unwrap();
    p.drive();
    assert_eq!(p.client.conn.ready_state(), ReadyState::Closing);
    p.client.sent.clear();
    p.inject(Role::Client, &frame_to(Role::Client, true, PING, b"p"));
    assert!(p.client.sent.is_empty());
}

#[test]
fn closing_ends_a_fragmented_message_in_progress() {
    // close may come between fragments; the peer never sees the unfinished message.
    let mut p = Pair::connected();
    p.client.conn.send_fragment(rfc6455::Fragment::Text("part"), false).unwrap();
    p.client.conn.close(p.now, 1000, "").unwrap();
    p.drive();
    assert_eq!(p.server.take(), [closed(1000, "", true)]);
    assert_eq!(p.client.take(), [closed(1000, "", true)]);
}

#[test]
fn close_while_connecting_abandons_the_attempt() {
    let mut p = Pair::handshake(config(), config());
    p.client.conn.close(p.now, 1000, "").unwrap();
    assert_state(&p.client, ReadyState::Closed, true, None);
    p.drive();
    // As the browser's close() while CONNECTING: `error`, then `close` with 1006.
    assert_eq!(p.client.take(), [error(Error::ClosedBeforeOpen), abnormal()]);
    // The request was never sent: the server just sees EOF.
    assert!(p.client.sent.is_empty());
    let eof = error(Error::Handshake(HandshakeError::UnexpectedEof));
    assert_eq!(p.server.take(), [eof, abnormal()]);
}

#[test]
fn a_transport_error_drops_what_cannot_be_written() {
    let mut p = Pair::connected();
    p.server.conn.send_text("never written").unwrap();
    assert_eq!(p.server.conn.buffered_amount(), 15);
    p.server.conn.handle_transport_error(p.now);
    assert_eq!(p.server.conn.buffered_amount(), 0);
    assert_eq!(p.server.conn.poll_transmit(), None);
    assert!(p.server.conn.should_close_transport());
}
