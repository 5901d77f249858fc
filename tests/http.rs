//! The handshake with `http` types: the same checks as the byte parser, and
//! a client request that round-trips through `http::Request`.

use rfc6455::http::{accept_response, check_client_response, client_request, error_response, request};
use rfc6455::{Accept, ClientRequest, HandshakeError, LocalError};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn upgrade() -> http::request::Builder {
    http::Request::get("/chat?room=1")
        .header("Host", "example.com")
        .header("Upgrade", "websocket")
        .header("Connection", "keep-alive, Upgrade")
        .header("Sec-WebSocket-Key", KEY)
        .header("Sec-WebSocket-Version", "13")
}

#[test]
fn an_upgrade_is_accepted_with_the_rfc_key_and_a_subprotocol() {
    let req = upgrade().header("Sec-WebSocket-Protocol", "chat, \"q\", superchat").body(()).unwrap();
    let upgrade = request(&req).unwrap();
    assert!(upgrade.is_upgrade());
    assert_eq!((upgrade.path.as_str(), upgrade.query.as_deref()), ("/chat", Some("room=1")));
    assert_eq!(upgrade.protocols, ["chat", "superchat"], "a quoted offer is not a token");
    let response = accept_response(&upgrade, &Accept::new().protocol("superchat").header("X-Id", "7")).unwrap();
    assert_eq!(response.status(), 101);
    let headers = response.headers();
    assert_eq!(headers["upgrade"], "websocket");
    assert_eq!(headers["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_eq!(headers["sec-websocket-protocol"], "superchat");
    assert_eq!(headers["x-id"], "7");
    assert_eq!(
        accept_response(&upgrade, &Accept::new().protocol("other")).unwrap_err(),
        LocalError::ProtocolNotOffered
    );
    assert!(matches!(
        accept_response(&upgrade, &Accept::new().header("Sec-WebSocket-Accept", "x")),
        Err(LocalError::InvalidHeader(_))
    ));
}

#[test]
fn broken_requests_fail_as_the_byte_parser_fails_them() {
    let cases: Vec<(http::Request<()>, HandshakeError, u16)> = vec![
        (upgrade().method("POST").body(()).unwrap(), HandshakeError::Method, 405),
        (upgrade().version(http::Version::HTTP_10).body(()).unwrap(), HandshakeError::Version, 400),
        (
            http::Request::get("/").header("Upgrade", "websocket").header("Connection", "Upgrade").body(()).unwrap(),
            HandshakeError::Host,
            400,
        ),
        (upgrade().header("Host", "again.example").body(()).unwrap(), HandshakeError::Host, 400),
        (
            {
                let mut r = upgrade().body(()).unwrap();
                r.headers_mut().insert("sec-websocket-version", "8".parse().unwrap());
                r
            },
            HandshakeError::WebSocketVersion,
            426,
        ),
        (
            {
                let mut r = upgrade().body(()).unwrap();
                r.headers_mut().insert("sec-websocket-key", "short".parse().unwrap());
                r
            },
            HandshakeError::Key,
            400,
        ),
        (upgrade().uri("*").body(()).unwrap(), HandshakeError::Target, 400),
    ];
    for (req, error, status) in cases {
        assert_eq!(request(&req).unwrap_err(), error, "{req:?}");
        let response = error_response(&error);
        assert_eq!(response.status(), status);
        if status == 426 {
            assert_eq!(response.headers()["sec-websocket-version"], "13");
        }
        assert!(!response.body().is_empty());
    }
    // An absolute-form target routes on its path.
    let absolute = upgrade().uri("http://example.com/chat?room=2").body(()).unwrap();
    let parsed = request(&absolute).unwrap();
    assert_eq!((parsed.path.as_str(), parsed.query.as_deref()), ("/chat", Some("room=2")));
    // A plain GET is a request, not an upgrade.
    let plain = http::Request::get("/").header("Host", "x").body(()).unwrap();
    assert!(!request(&plain).unwrap().is_upgrade());
}

#[test]
fn a_client_request_round_trips_through_http_types() {
    let original = http::Request::get("http://example.com:8080/chat?x=1")
        .header("Origin", "http://example.com")
        .header("Sec-WebSocket-Protocol", "v1, v2")
        .header("Sec-WebSocket-Key", "ignored, the engine makes its own")
        .body(())
        .unwrap();
    let ours = ClientRequest::try_from(&original).unwrap();
    assert_eq!((ours.host(), ours.port(), ours.resource()), ("example.com", 8080, "/chat?x=1"));
    assert_eq!(ours.protocols(), ["v1", "v2"]);
    assert!(!ours.is_secure());

    let sent = client_request(&ours, [7; 16]).unwrap();
    assert_eq!(sent.headers()["host"], "example.com:8080");
    assert_eq!(sent.headers()["origin"], "http://example.com");
    assert_eq!(sent.uri(), "/chat?x=1");
    // The server side of this crate accepts it, and the client side checks the answer.
    let upgrade = request(&sent).unwrap();
    assert_eq!(upgrade.protocols, ["v1", "v2"]);
    let answer = accept_response(&upgrade, &Accept::new().protocol("v2")).unwrap();
    let opened = check_client_response(&sent, &answer).unwrap();
    assert_eq!(opened.protocol.as_deref(), Some("v2"));

    // A wrong accept key, a protocol not offered, a refusal.
    let mut wrong = answer.clone();
    wrong.headers_mut().insert("sec-websocket-accept", "AAAA".parse().unwrap());
    assert_eq!(check_client_response(&sent, &wrong).unwrap_err(), HandshakeError::Accept);
    let mut other = answer.clone();
    other.headers_mut().insert("sec-websocket-protocol", "v3".parse().unwrap());
    assert_eq!(check_client_response(&sent, &other).unwrap_err(), HandshakeError::Protocol);
    let refused = http::Response::builder().status(403).body(()).unwrap();
    assert!(matches!(check_client_response(&sent, &refused), Err(HandshakeError::Status { status: 403, .. })));
    // Bad URIs.
    let no_scheme = http::Request::get("/chat").body(()).unwrap();
    assert!(matches!(ClientRequest::try_from(&no_scheme), Err(LocalError::InvalidUrl(_))));
    let ftp = http::Request::get("ftp://example.com/").body(()).unwrap();
    assert!(matches!(ClientRequest::try_from(&ftp), Err(LocalError::InvalidUrl(_))));
}
