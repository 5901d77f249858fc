//! The opening handshake in both roles: negotiation, failures and the
//! responses they get, plain HTTP, bytes pipelined behind the request or the
//! 101, and connections opened after someone else's handshake.

mod common;

use std::time::Duration;

use common::*;
use rfc6455::{
    Accept, ClientRequest, Config, Connection, Error, Event, HandshakeError, LocalError, ReadyState, Request, Role,
    accept_key,
};

const T: Duration = Duration::ZERO;

/// A valid upgrade request; `edit` replaces text in it.
fn request_with(edit: &[(&str, &str)]) -> String {
    let mut r = String::from(
        "GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    for (from, to) in edit {
        assert!(r.contains(from), "{from}");
        r = r.replace(from, to);
    }
    r
}

/// A client for `request` that has sent its request, and the accept key its
/// server must answer with.
fn client(request: &ClientRequest) -> (Connection, String) {
    let mut conn = Connection::client(T, request, config()).unwrap();
    let (_, sent) = drain(&mut conn);
    let sent = String::from_utf8(sent).unwrap();
    let key = sent.split("\r\nSec-WebSocket-Key: ").nth(1).unwrap().split("\r\n").next().unwrap();
    (conn, accept_key(key.as_bytes()))
}

/// A 101 response with the accept key and extra header lines.
fn switching(accept: &str, extra: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n{extra}\r\n"
    )
}

/// The server's request event, checked to be first.
fn request_event(events: &[Event]) -> &Request {
    match events.first() {
        Some(Event::Request(r)) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

/// Feeds `request` to a server, which refuses it on its own: the error, the
/// close event, and exactly this response.
fn server_refuses(config: Config, request: &str, e: HandshakeError, status: &str, headers: &[(&str, &str)]) {
    let mut server = Connection::server(T, config);
    give(&mut server, T, request.as_bytes());
    assert_refused(&mut server, e, status, headers, true);
}

/// The server has refused a request on its own: the error, the close event,
/// and exactly this response, with its body or (for a HEAD) without it.
fn assert_refused(server: &mut Connection, e: HandshakeError, status: &str, headers: &[(&str, &str)], body: bool) {
    let (events, sent) = drain(server);
    assert_eq!(events, [error(Error::Handshake(e.clone())), abnormal()]);
    let mut expected = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers.iter().chain(&[("Content-Type", "text/plain; charset=utf-8")]) {
        expected += &format!("{name}: {value}\r\n");
    }
    let text = format!("{e}\n");
    expected += &format!("Content-Length: {}\r\nConnection: close\r\n\r\n", text.len());
    if body {
        expected += &text;
    }
    assert_eq!(String::from_utf8(sent).unwrap(), expected);
    assert!(server.should_close_transport());
}

/// Feeds a response to a fresh client, which fails with `e` and sends nothing more.
fn client_fails(request: ClientRequest, response: impl Fn(&str) -> String) -> Error {
    let (mut conn, accept) = client(&request);
    give(&mut conn, T, response(&accept).as_bytes());
    let (mut events, sent) = drain(&mut conn);
    assert!(sent.is_empty());
    assert_eq!(events.pop(), Some(abnormal()));
    assert_eq!(conn.ready_state(), ReadyState::Closed);
    match events.as_slice() {
        [Event::Error(e)] => e.clone(),
        other => panic!("{other:?}"),
    }
}

fn plain() -> ClientRequest {
    ClientRequest::new(URL).unwrap()
}

/// `accept` fails with `e` and changes nothing.
fn refused_accept(conn: &mut Connection, e: LocalError, accept: Accept) {
    refused(conn, e, |c| c.accept(T, accept));
}

#[test]
fn subprotocol_and_headers_are_negotiated() {
    let request = plain().protocol("chat").protocol("superchat").header("Origin", "http://example.com");
    let mut p = Pair::new(Connection::client(T, &request, config()).unwrap(), Connection::server(T, config()));
    p.drive();
    let req = request_event(&p.server.events);
    assert_eq!((req.path.as_str(), req.query.as_deref()), ("/chat", None));
    assert_eq!(req.protocols, ["chat", "superchat"]);
    assert_eq!(req.headers.get_str("origin"), Some("http://example.com"));
    assert_eq!(req.headers.get_str("Host"), Some("example.com"));
    refused_accept(&mut p.server.conn, LocalError::ProtocolNotOffered, Accept::new().protocol("other"));
    refused_accept(
        &mut p.server.conn,
        LocalError::InvalidHeader("Sec-WebSocket-Accept".into()),
        Accept::new().header("Sec-WebSocket-Accept", "x"),
    );
    p.server.conn.accept(T, Accept::new().protocol("superchat").header("Set-Cookie", "id=1")).unwrap();
    p.drive();
    assert_eq!(p.server.events[1..], [server_open(Some("superchat"))]);
    let Some(Event::Open(opened)) = p.client.events.first() else { panic!("{:?}", p.client.events) };
    assert_eq!(opened.protocol.as_deref(), Some("superchat"));
    assert_eq!(opened.headers.get_str("set-cookie"), Some("id=1"));
    assert_eq!(p.client.events.len(), 1);
    assert_eq!((p.client.conn.protocol(), p.server.conn.protocol()), (Some("superchat"), Some("superchat")));
}

#[test]
fn frames_pipelined_behind_the_request_wait_for_accept() {
    let mut server = Connection::server(T, config());
    let mut bytes = request_with(&[]).into_bytes();
    bytes.extend(frame_to(Role::Server, true, TEXT, b"early"));
    let ping = frame_to(Role::Server, true, PING, b"p");
    bytes.extend(&ping[..3]);
    give(&mut server, T, &bytes);
    let (events, sent) = drain(&mut server);
    assert!(request_event(&events).is_upgrade());
    assert_eq!((events.len(), sent.len()), (1, 0));
    // More bytes before the answer are kept too.
    give(&mut server, T, &ping[3..]);
    assert_eq!(drain(&mut server), (vec![], vec![]));
    server.accept(T, Accept::new()).unwrap();
    let (events, sent) = drain(&mut server);
    assert_eq!(events, [server_open(None), text("early"), common::ping(b"p")]);
    let response = switching(&accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "");
    assert_eq!(sent[..response.len()], *response.as_bytes());
    assert_frames(Role::Server, &sent[response.len()..], &[(PONG, true, b"p")]);
}

#[test]
fn frames_pipelined_behind_the_101_are_not_lost() {
    let mut p = Pair::handshake(config(), config());
    p.drive();
    p.server.conn.accept(p.now, Accept::new()).unwrap();
    p.server.conn.send_text("first").unwrap();
    p.server.conn.send_ping(b"second").unwrap();
    // The response and both frames reach the client in one read.
    p.drive();
    assert!(matches!(p.client.events[0], Event::Open(_)));
    assert_eq!(p.client.events[1..], [text("first"), ping(b"second")]);
    assert_eq!(p.server.events[2..], [pong(b"second")]);
}

#[test]
fn too_much_data_before_accept_is_refused() {
    let config = config().max_handshake_bytes(1024);
    let mut server = Connection::server(T, config.clone());
    let mut bytes = request_with(&[]).into_bytes();
    bytes.extend(frame_to(Role::Server, true, BINARY, &[0; 1100]));
    give(&mut server, T, &bytes);
    let (events, sent) = drain(&mut server);
    // Refused before a request event the application could no longer answer.
    assert_eq!(events, [error(Error::Handshake(HandshakeError::TooMuchEarlyData)), abnormal()]);
    assert!(sent.starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
    assert_eq!(server.accept(T, Accept::new()), Err(LocalError::Closed));

    // The same limit holds for bytes that arrive in later reads while the request waits.
    let mut server = Connection::server(T, config);
    give(&mut server, T, request_with(&[]).as_bytes());
    let (events, _) = drain(&mut server);
    assert!(request_event(&events).is_upgrade());
    give(&mut server, T, &frame_to(Role::Server, true, BINARY, &[0; 600]));
    assert_eq!(drain(&mut server).0, []);
    give(&mut server, T, &frame_to(Role::Server, true, BINARY, &[0; 600]));
    let (events, sent) = drain(&mut server);
    assert_eq!(events, [error(Error::Handshake(HandshakeError::TooMuchEarlyData)), abnormal()]);
    assert!(sent.starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
}

#[test]
fn status_other_than_101_with_headers() {
    let e = client_fails(plain(), |_| {
        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"chat\"\r\nContent-Length: 0\r\n\r\n".into()
    });
    let Error::Handshake(HandshakeError::Status { status: 401, headers }) = e else { panic!("{e:?}") };
    assert_eq!(headers.get_str("www-authenticate"), Some("Basic realm=\"chat\""));
}

#[test]
fn redirect_through_a_pair() {
    let mut p = Pair::handshake(config(), config());
    p.drive();
    p.server.conn.reject(p.now, 302, &[("Location", "ws://elsewhere.example/chat")], b"").unwrap();
    p.drive();
    assert_eq!(p.server.events[1..], [abnormal()]);
    assert_eq!(
        p.server.sent,
        b"HTTP/1.1 302 Found\r\nLocation: ws://elsewhere.example/chat\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let [Event::Error(Error::Handshake(HandshakeError::Status { status: 302, headers })), closed] =
        p.client.events.as_slice()
    else {
        panic!("{:?}", p.client.events)
    };
    assert_eq!(headers.get_str("Location"), Some("ws://elsewhere.example/chat"));
    assert_eq!(*closed, abnormal());
}

#[test]
fn bad_101_responses() {
    let fail = |request: ClientRequest, extra: &'static str| client_fails(request, move |a| switching(a, extra));
    let hs = |e| Error::Handshake(e);
    assert_eq!(client_fails(plain(), |_| switching("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "")), hs(HandshakeError::Accept));
    assert_eq!(
        client_fails(plain(), |a| switching(a, &format!("Sec-WebSocket-Accept: {a}\r\n"))),
        hs(HandshakeError::Accept)
    );
    assert_eq!(fail(plain(), "Sec-WebSocket-Protocol: chat\r\n"), hs(HandshakeError::Protocol));
    assert_eq!(fail(plain().protocol("chat"), "Sec-WebSocket-Protocol: superchat\r\n"), hs(HandshakeError::Protocol));
    let both = "Sec-WebSocket-Protocol: chat, superchat\r\n";
    assert_eq!(fail(plain().protocol("chat").protocol("superchat"), both), hs(HandshakeError::Protocol));
    assert_eq!(fail(plain(), "Sec-WebSocket-Extensions: permessage-deflate\r\n"), hs(HandshakeError::Extension));
    let other = "Sec-WebSocket-Extensions: x-other\r\n";
    assert_eq!(fail(plain().extension("permessage-deflate"), other), hs(HandshakeError::Extension));
    let no_upgrade = |a: &str| switching(a, "").replace("Upgrade: websocket\r\n", "");
    assert_eq!(client_fails(plain(), no_upgrade), hs(HandshakeError::Upgrade));
    let keep_alive = |a: &str| switching(a, "").replace("Connection: Upgrade", "Connection: keep-alive");
    assert_eq!(client_fails(plain(), keep_alive), hs(HandshakeError::Connection));
    let http10 = |a: &str| switching(a, "").replace("HTTP/1.1", "HTTP/1.0");
    assert_eq!(client_fails(plain(), http10), hs(HandshakeError::Version));
    let garbage = |_: &str| "HTTP/1.1 1O1 oops\r\n\r\n".to_string();
    assert!(matches!(client_fails(plain(), garbage), Error::Handshake(HandshakeError::Http(_))));
}

#[test]
fn extension_offers_and_capitalised_tokens() {
    // Declined offers and capitalised tokens: the connection opens plain.
    let request = plain().extension("x-webkit-test; param=1").protocol("chat");
    let (mut conn, accept) = client(&request);
    let response = switching(&accept, "Sec-WebSocket-Protocol: chat\r\n")
        .replace("Upgrade: websocket", "Upgrade: WebSocket")
        .replace("Connection: Upgrade", "connection: keep-alive, upgrade");
    give(&mut conn, T, response.as_bytes());
    let (events, _) = drain(&mut conn);
    let [Event::Open(opened)] = events.as_slice() else { panic!("{events:?}") };
    assert_eq!((opened.protocol.as_deref(), opened.extensions.len()), (Some("chat"), 0));
    assert!(conn.extensions().is_empty());

    // An offer the server accepts fails the handshake: the engine runs no
    // extension, and must not blame the peer later for the RSV bits it sets.
    let (mut conn, accept) = client(&request);
    let response = switching(&accept, "Sec-WebSocket-Extensions: X-Webkit-Test\r\n");
    give(&mut conn, T, response.as_bytes());
    let (events, _) = drain(&mut conn);
    assert_eq!(events, [error(Error::Handshake(HandshakeError::Extension)), abnormal()]);

    // The server implements no extension: offers are reported, none is accepted.
    let mut server = Connection::server(T, config());
    let capitalised = request_with(&[
        (
            "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; x=1, x-b",
        ),
        ("Upgrade: websocket", "upgrade: WebSocket"),
        ("Connection: Upgrade", "Connection: keep-alive, Upgrade"),
    ]);
    give(&mut server, T, capitalised.as_bytes());
    let (events, _) = drain(&mut server);
    assert!(request_event(&events).is_upgrade());
    assert_eq!(request_event(&events).extensions, ["permessage-deflate; x=1", "x-b"]);
    server.accept(T, Accept::new()).unwrap();
    assert_eq!(server.ready_state(), ReadyState::Open);
    assert!(server.extensions().is_empty());
    let response = String::from_utf8(drain(&mut server).1).unwrap();
    assert!(!response.to_ascii_lowercase().contains("extensions"), "{response}");
}

#[test]
fn bad_requests_get_their_status() {
    let v8 = request_with(&[("Version: 13", "Version: 8")]);
    server_refuses(
        config(),
        &v8,
        HandshakeError::WebSocketVersion,
        "426 Upgrade Required",
        &[("Sec-WebSocket-Version", "13")],
    );
    let short_key = request_with(&[("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZQ==")]);
    server_refuses(config(), &short_key, HandshakeError::Key, "400 Bad Request", &[]);
    let no_key = request_with(&[("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "")]);
    server_refuses(config(), &no_key, HandshakeError::Key, "400 Bad Request", &[]);
    let post = request_with(&[("GET", "POST")]);
    server_refuses(config(), &post, HandshakeError::Method, "405 Method Not Allowed", &[("Allow", "GET")]);
    let no_host = request_with(&[("Host: example.com\r\n", "")]);
    server_refuses(config(), &no_host, HandshakeError::Host, "400 Bad Request", &[]);
    let no_connection = request_with(&[("Connection: Upgrade\r\n", "")]);
    server_refuses(config(), &no_connection, HandshakeError::Connection, "400 Bad Request", &[]);
    let bad_http = request_with(&[("Host: example.com", "Host example.com")]);
    server_refuses(config(), &bad_http, HandshakeError::Http("invalid header name"), "400 Bad Request", &[]);
}

#[test]
fn header_limits_get_431() {
    let limits = config().max_handshake_bytes(512).max_headers(8);
    let big = request_with(&[("Host: example.com", &format!("Host: example.com\r\nX-Big: {}", "b".repeat(500)))]);
    server_refuses(limits.clone(), &big, HandshakeError::HeadersTooLarge, "431 Request Header Fields Too Large", &[]);
    let many = request_with(&[("Host: example.com", "Host: example.com\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4")]);
    server_refuses(limits, &many, HandshakeError::TooManyHeaders, "431 Request Header Fields Too Large", &[]);
    // Exactly at the limits passes.
    let eight = request_with(&[("Host: example.com", "Host: example.com\r\nA: 1\r\nB: 2\r\nC: 3")]);
    let mut server = Connection::server(T, limits_ok());
    give(&mut server, T, eight.as_bytes());
    assert!(request_event(&drain(&mut server).0).is_upgrade());
    // A client just fails.
    let e = client_fails(plain(), |a| switching(a, &format!("X-Big: {}\r\n", "b".repeat(20_000))));
    assert_eq!(e, Error::Handshake(HandshakeError::HeadersTooLarge));
}

fn limits_ok() -> Config {
    config().max_handshake_bytes(512).max_headers(8)
}

#[test]
fn a_large_frame_right_behind_the_101_passes_a_small_handshake_limit() {
    let small = config().max_handshake_bytes(256);
    let mut conn = Connection::client(T, &plain(), small).unwrap();
    let sent = String::from_utf8(drain(&mut conn).1).unwrap();
    let key = sent.split("\r\nSec-WebSocket-Key: ").nth(1).unwrap().split("\r\n").next().unwrap();
    let mut bytes = switching(&accept_key(key.as_bytes()), "").into_bytes();
    assert!(bytes.len() < 256);
    bytes.extend(frame_to(Role::Client, true, BINARY, &[9; 1000]));
    give(&mut conn, T, &bytes);
    let (events, _) = drain(&mut conn);
    assert!(matches!(events[0], Event::Open(_)));
    assert_eq!(events[1..], [binary(&[9; 1000])]);
}

#[test]
fn plain_get_is_answered_with_a_page() {
    let mut server = Connection::server(T, config());
    give(&mut server, T, b"GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
    let (events, _) = drain(&mut server);
    let req = request_event(&events);
    assert!(!req.is_upgrade());
    assert_eq!((req.path.as_str(), req.query.as_deref()), ("/index.html", Some("x=1")));
    refused_accept(&mut server, LocalError::NotUpgrade, Accept::new());
    server.reject(T, 200, &[("Content-Type", "text/html")], b"<p>hi</p>").unwrap();
    let (events, sent) = drain(&mut server);
    assert_eq!(events, [abnormal()]);
    assert_eq!(
        sent,
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 9\r\nConnection: close\r\n\r\n<p>hi</p>"
    );
    assert!(server.should_close_transport());
}

#[test]
fn accept_and_reject_misuse_changes_nothing() {
    let (mut client_conn, _) = client(&plain());
    refused_accept(&mut client_conn, LocalError::WrongRole, Accept::new());
    assert_eq!(client_conn.reject(T, 403, &[], b""), Err(LocalError::WrongRole));

    let mut server = Connection::server(T, config());
    refused_accept(&mut server, LocalError::NoRequest, Accept::new());
    give(&mut server, T, request_with(&[]).as_bytes());
    drain(&mut server);
    let before = format!("{server:?}");
    assert_eq!(server.reject(T, 101, &[], b""), Err(LocalError::InvalidStatus(101)));
    assert_eq!(server.reject(T, 600, &[], b""), Err(LocalError::InvalidStatus(600)));
    let e = LocalError::InvalidHeader("Content-Length".into());
    assert_eq!(server.reject(T, 403, &[("Content-Length", "0")], b""), Err(e));
    assert_eq!(format!("{server:?}"), before);
    server.accept(T, Accept::new()).unwrap();
    refused_accept(&mut server, LocalError::NoRequest, Accept::new());
    assert_eq!(server.reject(T, 403, &[], b""), Err(LocalError::NoRequest));
}

#[test]
fn client_request_misuse() {
    let reserved = plain().header("Sec-WebSocket-Key", "x");
    let e = LocalError::InvalidHeader("Sec-WebSocket-Key".into());
    assert_eq!(Connection::client(T, &reserved, config()).err(), Some(e));
    assert_eq!(
        ClientRequest::new("http://example.com/").err(),
        Some(LocalError::InvalidUrl("the scheme must be ws:// or wss://"))
    );
}

#[test]
fn open_after_an_external_handshake() {
    let client = Connection::open(T, Role::Client, Some("chat".into()), config());
    let server = Connection::open(T, Role::Server, Some("chat".into()), config());
    let mut p = Pair::new(client, server);
    p.drive();
    for side in [&p.client, &p.server] {
        assert_eq!(side.conn.ready_state(), ReadyState::Open);
        assert_eq!(side.conn.protocol(), Some("chat"));
        assert_eq!(side.conn.buffered_amount(), 0);
        assert_eq!(side.conn.poll_timeout(), None);
    }
    assert_eq!((p.client.take(), p.server.take()), (vec![], vec![]));
    p.client.conn.send_text("hi").unwrap();
    p.server.conn.send_binary(b"yo").unwrap();
    p.drive();
    assert_eq!(p.server.take(), [text("hi")]);
    assert_eq!(p.client.take(), [binary(b"yo")]);
    p.client.conn.close(p.now, 1000, "").unwrap();
    p.drive();
    assert_eq!((p.client.take(), p.server.take()), (vec![closed(1000, "", true)], vec![closed(1000, "", true)]));
}

#[test]
fn a_refusal_in_http_1_0_still_reports_its_status() {
    let e = client_fails(plain(), |_| "HTTP/1.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n".into());
    assert!(matches!(e, Error::Handshake(HandshakeError::Status { status: 403, .. })), "{e:?}");
}

#[test]
fn a_request_with_bare_line_feeds_is_read() {
    let mut server = Connection::server(T, config());
    give(&mut server, T, request_with(&[]).replace("\r\n", "\n").as_bytes());
    let (events, _) = drain(&mut server);
    assert!(request_event(&events).is_upgrade());
}

#[test]
fn rejections_are_final_responses() {
    let mut p = Pair::handshake(config(), config());
    p.drive();
    assert_eq!(p.server.conn.reject(p.now, 100, &[], b""), Err(LocalError::InvalidStatus(100)));
    assert_eq!(p.server.conn.reject(p.now, 304, &[], b"x"), Err(LocalError::InvalidStatus(304)));
    p.server.conn.reject(p.now, 204, &[], b"").unwrap();
    let sent: Vec<u8> = std::iter::from_fn(|| p.server.conn.poll_transmit()).flatten().collect();
    assert_eq!(sent, b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
}

#[test]
fn any_header_limit_works_in_both_roles() {
    // The slots follow the lines of the block, so a limit of usize::MAX
    // neither panics nor allocates for it.
    let unlimited = config().max_headers(usize::MAX);
    let mut p = Pair::handshake(unlimited.clone(), unlimited);
    p.drive();
    assert!(request_event(&p.server.events).is_upgrade());
    p.server.conn.accept(p.now, Accept::new()).unwrap();
    p.drive();
    assert!(matches!(p.client.events.as_slice(), [Event::Open(_)]), "{:?}", p.client.events);
    assert_eq!(p.server.conn.ready_state(), ReadyState::Open);

    // No header at all: every upgrade has too many, a bare HTTP/1.0 request none.
    let none = config().max_headers(0);
    let e = HandshakeError::TooManyHeaders;
    server_refuses(none.clone(), &request_with(&[]), e, "431 Request Header Fields Too Large", &[]);
    let mut server = Connection::server(T, none.clone());
    give(&mut server, T, b"GET / HTTP/1.0\r\n\r\n");
    assert!(!request_event(&drain(&mut server).0).is_upgrade());
    let mut conn = Connection::client(T, &plain(), none).unwrap();
    let sent = String::from_utf8(drain(&mut conn).1).unwrap();
    let key = sent.split("\r\nSec-WebSocket-Key: ").nth(1).unwrap().split("\r\n").next().unwrap();
    give(&mut conn, T, switching(&accept_key(key.as_bytes()), "").as_bytes());
    assert_eq!(drain(&mut conn).0, [error(Error::Handshake(HandshakeError::TooManyHeaders)), abnormal()]);
}

#[test]
fn host_must_be_single_and_named() {
    let twice = request_with(&[("Host: example.com", "Host: example.com\r\nHost: example.com")]);
    server_refuses(config(), &twice, HandshakeError::Host, "400 Bad Request", &[]);
    let empty = request_with(&[("Host: example.com", "Host:")]);
    server_refuses(config(), &empty, HandshakeError::Host, "400 Bad Request", &[]);
    // RFC 9112 §3.2 holds for plain requests too; an empty Host is valid there.
    let plain_twice = "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n";
    server_refuses(config(), plain_twice, HandshakeError::Host, "400 Bad Request", &[]);
    server_refuses(config(), "GET / HTTP/1.1\r\n\r\n", HandshakeError::Host, "400 Bad Request", &[]);
    let mut server = Connection::server(T, config());
    give(&mut server, T, b"GET / HTTP/1.1\r\nHost:\r\n\r\n");
    assert!(!request_event(&drain(&mut server).0).is_upgrade());
}

#[test]
fn head_requests_are_answered_without_a_body() {
    // The application's answer: Content-Length of the body a GET would get.
    let mut server = Connection::server(T, config());
    give(&mut server, T, b"HEAD /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n");
    assert_eq!(request_event(&drain(&mut server).0).method, "HEAD");
    server.reject(T, 200, &[("Content-Type", "text/html")], b"<p>hi</p>").unwrap();
    let (events, sent) = drain(&mut server);
    assert_eq!(events, [abnormal()]);
    assert_eq!(sent, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 9\r\nConnection: close\r\n\r\n");

    // The engine's own refusals: a HEAD upgrade, a HEAD whose headers are too
    // large, and a HEAD with too much behind it, before or after it waits.
    let head = request_with(&[("GET", "HEAD")]);
    let mut server = Connection::server(T, config());
    give(&mut server, T, head.as_bytes());
    assert_refused(&mut server, HandshakeError::Method, "405 Method Not Allowed", &[("Allow", "GET")], false);
    let small = config().max_handshake_bytes(64);
    let mut server = Connection::server(T, small.clone());
    give(&mut server, T, &[b"HEAD / HTTP/1.1\r\nX: ".as_slice(), &[b'x'; 64]].concat());
    assert_refused(&mut server, HandshakeError::HeadersTooLarge, "431 Request Header Fields Too Large", &[], false);
    let plain_head = b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n";
    let mut server = Connection::server(T, small.clone());
    give(&mut server, T, &[plain_head.as_slice(), &[0; 65]].concat());
    assert_refused(&mut server, HandshakeError::TooMuchEarlyData, "400 Bad Request", &[], false);
    let mut server = Connection::server(T, small);
    give(&mut server, T, plain_head);
    assert_eq!(request_event(&drain(&mut server).0).method, "HEAD");
    give(&mut server, T, &[0; 65]);
    assert_refused(&mut server, HandshakeError::TooMuchEarlyData, "400 Bad Request", &[], false);
}

#[test]
fn absolute_form_targets_route_on_their_path() {
    // RFC 9112 §3.2.2: the path and query of the URI, `/` for none.
    for (target, path, query) in [
        ("http://example.com:8080/chat?x=1", "/chat", Some("x=1")),
        ("https://example.com/chat", "/chat", None),
        ("ws://example.com/a/b?", "/a/b", Some("")),
        ("WSS://example.com", "/", None),
        ("ws://example.com?x=1", "/", Some("x=1")),
    ] {
        let mut server = Connection::server(T, config());
        give(&mut server, T, request_with(&[("/chat?room=1", target)]).as_bytes());
        let (events, _) = drain(&mut server);
        let req = request_event(&events);
        assert!(req.is_upgrade(), "{target}");
        assert_eq!((req.path.as_str(), req.query.as_deref()), (path, query), "{target}");
        server.accept(T, Accept::new()).unwrap();
        assert_eq!(server.ready_state(), ReadyState::Open);
    }
    let mut server = Connection::server(T, config());
    give(&mut server, T, b"GET http://example.com/index.html?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
    let (events, _) = drain(&mut server);
    let req = request_event(&events);
    assert_eq!((req.path.as_str(), req.query.as_deref()), ("/index.html", Some("x=1")));
}

#[test]
fn targets_of_other_forms_are_refused() {
    // `*` is for OPTIONS alone (RFC 9112 §3.2.4), upgrade or not.
    let star = request_with(&[("/chat?room=1", "*")]);
    server_refuses(config(), &star, HandshakeError::Target, "400 Bad Request", &[]);
    server_refuses(config(), "GET * HTTP/1.1\r\nHost: h\r\n\r\n", HandshakeError::Target, "400 Bad Request", &[]);
    let connect = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
    server_refuses(config(), connect, HandshakeError::Target, "400 Bad Request", &[]);
    let mut server = Connection::server(T, config());
    give(&mut server, T, b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(request_event(&drain(&mut server).0).path, "*");
}

#[test]
fn interim_responses_before_the_101_are_skipped() {
    let (_, accept) = client(&plain());
    let mut bytes = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
    bytes.extend(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n");
    bytes.extend(switching(&accept, "").as_bytes());
    bytes.extend(frame_to(Role::Client, true, TEXT, b"hi"));
    let opened = |events: &[Event]| match events {
        [Event::Open(o), rest @ ..] => {
            assert_eq!(o.headers.get("Link"), None);
            rest.to_vec()
        }
        other => panic!("{other:?}"),
    };
    // The client's nonce comes from `config()`, so every fresh client expects `accept`.
    let (mut conn, _) = client(&plain());
    give(&mut conn, T, &bytes);
    assert_eq!(opened(&drain(&mut conn).0), [text("hi")]);
    for cut in 1..bytes.len() {
        let (mut conn, _) = client(&plain());
        give(&mut conn, T, &bytes[..cut]);
        let mut events = drain(&mut conn).0;
        give(&mut conn, T, &bytes[cut..]);
        events.extend(drain(&mut conn).0);
        assert_eq!(opened(&events), [text("hi")], "cut at {cut}");
    }
    let (mut conn, _) = client(&plain());
    let mut events = Vec::new();
    for b in &bytes {
        give(&mut conn, T, std::slice::from_ref(b));
        events.extend(drain(&mut conn).0);
    }
    assert_eq!(opened(&events), [text("hi")]);
}

#[test]
fn endless_interim_responses_fail_within_the_limit() {
    let limit = 1024;
    let mut conn = Connection::client(T, &plain(), config().max_handshake_bytes(limit)).unwrap();
    drain(&mut conn);
    let interim = b"HTTP/1.1 100 Continue\r\n\r\n";
    let mut events = Vec::new();
    for _ in 0..limit / interim.len() + 1 {
        give(&mut conn, T, interim);
        assert!(conn.buffered_input_len() < interim.len());
        events.extend(drain(&mut conn).0);
    }
    assert_eq!(events, [error(Error::Handshake(HandshakeError::HeadersTooLarge)), abnormal()]);
}

#[test]
fn only_token_subprotocols_are_offered() {
    let odd = request_with(&[(
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a b, \"q\", , chat\r\nSec-WebSocket-Protocol: \"\"",
    )]);
    let mut server = Connection::server(T, config());
    give(&mut server, T, odd.as_bytes());
    let (events, _) = drain(&mut server);
    assert_eq!(request_event(&events).protocols, ["chat"]);
    for p in ["a b", "\"q\"", "", "\"\""] {
        refused_accept(&mut server, LocalError::ProtocolNotOffered, Accept::new().protocol(p));
    }
    server.accept(T, Accept::new().protocol("chat")).unwrap();
    // A client still fails on a subprotocol that is not a token it offered.
    let quoted = |a: &str| switching(a, "Sec-WebSocket-Protocol: \"chat\"\r\n");
    assert_eq!(client_fails(plain().protocol("chat"), quoted), Error::Handshake(HandshakeError::Protocol));
}

#[test]
fn an_ipv6_host_is_a_socket_address() {
    use std::net::{SocketAddr, ToSocketAddrs};
    let request = ClientRequest::new("ws://[::1]:9001/").unwrap();
    assert_eq!((request.host(), request.port()), ("::1", 9001));
    // What `TcpStream::connect((request.host(), request.port()))` resolves; no network needed.
    let addrs: Vec<SocketAddr> = (request.host(), request.port()).to_socket_addrs().unwrap().collect();
    assert_eq!(addrs, ["[::1]:9001".parse::<SocketAddr>().unwrap()]);
    let mut conn = Connection::client(T, &request, config()).unwrap();
    let sent = String::from_utf8(drain(&mut conn).1).unwrap();
    assert!(sent.starts_with("GET / HTTP/1.1\r\nHost: [::1]:9001\r\n"), "{sent}");
}
