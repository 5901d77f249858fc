//! The examples of RFC 6455 as test vectors: the §1.3 handshake and the §5.7
//! frames, decoded by the engine and produced byte for byte by its encoder.

mod common;

use std::time::Duration;

use common::*;
use rfc6455::{Accept, ClientRequest, Config, Connection, Event, Role, accept_key};

const T: Duration = Duration::ZERO;

/// The request of RFC 6455 §1.3.
const RFC_REQUEST: &str = "GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

/// The response of RFC 6455 §1.3.
const RFC_RESPONSE: &str = "HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Sec-WebSocket-Protocol: chat\r\n\r\n";

// RFC 6455 §5.7.
const HELLO_UNMASKED: &[u8] = &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
const HELLO_MASKED: &[u8] = &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
const HEL: &[u8] = &[0x01, 0x03, 0x48, 0x65, 0x6c];
const LO: &[u8] = &[0x80, 0x02, 0x6c, 0x6f];
const PING_UNMASKED: &[u8] = &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
const PONG_MASKED: &[u8] = &[0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];

/// A client whose every mask key is 37 fa 21 3d, as in §5.7.
fn rfc_config() -> Config {
    Config::default().random(repeating(&RFC_KEY))
}

fn open(role: Role) -> Connection {
    Connection::open(T, role, None, rfc_config())
}

/// The 256-byte and 65536-byte binary examples: header, then the payload.
fn long_binary(len: usize) -> (Vec<u8>, Vec<u8>) {
    let payload: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    let mut frame = vec![0x82];
    if len <= 0xFFFF {
        frame.push(0x7E);
        frame.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        frame.push(0x7F);
        frame.extend_from_slice(&(len as u64).to_be_bytes());
    }
    frame.extend_from_slice(&payload);
    (frame, payload)
}

#[test]
fn accept_key_of_section_1_3() {
    assert_eq!(accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

#[test]
fn server_answers_the_section_1_3_request_with_the_section_1_3_response() {
    let mut server = Connection::server(T, Config::default());
    give(&mut server, T, RFC_REQUEST.as_bytes());
    let Some(Event::Request(req)) = server.poll_event() else { panic!("no request") };
    assert!(req.is_upgrade());
    assert_eq!((req.method.as_str(), req.path.as_str(), req.query.as_deref()), ("GET", "/chat", None));
    assert_eq!(req.protocols, ["chat", "superchat"]);
    assert_eq!(req.headers.get_str("Origin"), Some("http://example.com"));
    server.accept(T, Accept::new().protocol("chat")).unwrap();
    let (events, bytes) = drain(&mut server);
    assert_eq!(events, [server_open(Some("chat"))]);
    assert_eq!(String::from_utf8(bytes).unwrap(), RFC_RESPONSE);
    assert_eq!(server.protocol(), Some("chat"));
}

#[test]
fn client_with_the_sample_nonce_sends_the_section_1_3_key_and_accepts_the_response() {
    let config = Config::default().random(repeating(b"the sample nonce"));
    let request = ClientRequest::new("ws://server.example.com/chat").unwrap().protocol("chat").protocol("superchat");
    let mut client = Connection::client(T, &request, config).unwrap();
    let (_, sent) = drain(&mut client);
    let sent = String::from_utf8(sent).unwrap();
    assert!(sent.starts_with("GET /chat HTTP/1.1\r\nHost: server.example.com\r\n"), "{sent}");
    assert!(sent.contains("\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), "{sent}");
    assert!(sent.contains("\r\nSec-WebSocket-Protocol: chat, superchat\r\n"), "{sent}");
    assert!(sent.contains("\r\nSec-WebSocket-Version: 13\r\n"), "{sent}");
    give(&mut client, T, RFC_RESPONSE.as_bytes());
    let Some(Event::Open(opened)) = client.poll_event() else { panic!("not open") };
    assert_eq!(opened.protocol.as_deref(), Some("chat"));
    assert_eq!(opened.headers.get_str("sec-websocket-accept"), Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    assert_eq!(client.poll_event(), None);
    assert_eq!(client.protocol(), Some("chat"));
}

#[test]
fn single_frame_unmasked_text_to_a_client() {
    let mut client = open(Role::Client);
    give(&mut client, T, HELLO_UNMASKED);
    assert_eq!(drain(&mut client), (vec![text("Hello")], vec![]));
}

#[test]
fn single_frame_masked_text_to_a_server() {
    let mut server = open(Role::Server);
    give(&mut server, T, HELLO_MASKED);
    assert_eq!(drain(&mut server), (vec![text("Hello")], vec![]));
}

#[test]
fn fragmented_unmasked_text_to_a_client() {
    let mut client = open(Role::Client);
    give(&mut client, T, HEL);
    assert_eq!(drain(&mut client), (vec![], vec![]));
    give(&mut client, T, LO);
    assert_eq!(drain(&mut client), (vec![text("Hello")], vec![]));
}

#[test]
fn unmasked_ping_is_answered_with_the_masked_pong() {
    let mut client = open(Role::Client);
    give(&mut client, T, PING_UNMASKED);
    assert_eq!(drain(&mut client), (vec![ping(b"Hello")], PONG_MASKED.to_vec()));
}

#[test]
fn masked_pong_to_a_server() {
    let mut server = open(Role::Server);
    give(&mut server, T, PONG_MASKED);
    assert_eq!(drain(&mut server), (vec![pong(b"Hello")], vec![]));
}

#[test]
fn binary_with_16_and_64_bit_lengths_to_a_client() {
    for len in [256, 65536] {
        let (frame, payload) = long_binary(len);
        let mut client = open(Role::Client);
        give(&mut client, T, &frame);
        assert_eq!(drain(&mut client), (vec![binary(&payload)], vec![]), "{len}");
    }
}

#[test]
fn server_encodes_the_unmasked_examples() {
    let mut server = open(Role::Server);
    server.send_text("Hello").unwrap();
    assert_eq!(drain(&mut server).1, HELLO_UNMASKED);
    server.send_fragment(rfc6455::Fragment::Text("Hel"), false).unwrap();
    assert_eq!(drain(&mut server).1, HEL);
    server.send_fragment(rfc6455::Fragment::Text("lo"), true).unwrap();
    assert_eq!(drain(&mut server).1, LO);
    server.send_ping(b"Hello").unwrap();
    assert_eq!(drain(&mut server).1, PING_UNMASKED);
    for len in [256, 65536] {
        let (frame, payload) = long_binary(len);
        server.send_binary(&payload).unwrap();
        assert_eq!(server.buffered_amount(), frame.len());
        assert_eq!(drain(&mut server).1, frame, "{len}");
    }
}

#[test]
fn client_with_key_37_fa_21_3d_encodes_the_masked_examples() {
    let mut client = open(Role::Client);
    client.send_text("Hello").unwrap();
    assert_eq!(drain(&mut client).1, HELLO_MASKED);
    client.send_pong(b"Hello").unwrap();
    assert_eq!(drain(&mut client).1, PONG_MASKED);
}

#[test]
fn client_masks_the_long_examples_and_a_server_reads_them_back() {
    for len in [256, 65536] {
        let (unmasked, payload) = long_binary(len);
        let mut client = open(Role::Client);
        client.send_binary(&payload).unwrap();
        let (_, bytes) = drain(&mut client);
        // Same header with the mask bit and key, then the masked payload.
        let head = unmasked.len() - len;
        assert_eq!(bytes[0], 0x82);
        assert_eq!(bytes[1], unmasked[1] | 0x80);
        assert_eq!(bytes[2..head], unmasked[2..head]);
        assert_eq!(bytes[head..head + 4], RFC_KEY);
        let masked: Vec<u8> = payload.iter().enumerate().map(|(i, b)| b ^ RFC_KEY[i % 4]).collect();
        assert_eq!(bytes[head + 4..], masked);
        let mut server = open(Role::Server);
        give(&mut server, T, &bytes);
        assert_eq!(drain(&mut server), (vec![binary(&payload)], vec![]));
    }
}
