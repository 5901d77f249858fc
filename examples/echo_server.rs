//! An echo server over `std::net` on the blocking adapter
//! ([`rfc6455::blocking`]), one thread per connection.
//!
//! ```text
//! cargo run --release --example echo_server [ADDR]      # default 127.0.0.1:9001
//! ```
//!
//! It speaks WebSocket on any path and sends every text and binary message
//! back, agreeing to the first subprotocol the client offers, if any. A plain
//! `GET /` gets a small page that connects back and lets a browser send text
//! and close with a code and reason; other plain requests get 404. Port 0
//! picks a free port; the URL printed says which.
//!
//! # Test paths
//!
//! A few paths show behaviours a plain echo never does, for the browser check
//! (`scripts/browser-check.mjs`) and the interop tests (`scripts/interop/`);
//! `docs/interop.md` describes both. Every other path only echoes.
//!
//! | path               | what the server does |
//! | ------------------ | -------------------- |
//! | `/test/close`      | echoes, but a text message `close CODE REASON` (the reason may be empty) makes it close with that code and reason, as `close(CODE, REASON)`; a code it may not send gets a text `refused: …` back |
//! | `/test/close-4001` | closes with 4001 and the reason `服务器关闭连接` ("the server closes the connection") as soon as the connection is open |
//! | `/test/drop`       | at the first message, drops TCP without a close frame (the peer sees 1006) |
//! | `/test/bad-utf8`   | as soon as the connection is open, sends a text frame whose payload is not UTF-8, written by hand since the engine refuses to send one |
//!
//! The log on standard error names each connection by its address and, once
//! upgraded, its path and query, so a test can find the close the server saw:
//! `127.0.0.1:PORT /test/close?case=x: closed, code 1000 (Normal Closure), reason "…", clean true`.

use std::io::{self, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Duration;

use rfc6455::blocking::{Error, Message, Reject, accept_with};
use rfc6455::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use rfc6455::{Accept, CloseEvent, HandshakeError, Request};

const PAGE: &str = include_str!("echo_page.html");
/// How long a write may make no progress before the connection is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The reason `/test/close-4001` closes with.
const REASON_4001: &str = "服务器关闭连接";

/// "κόσμε" and then a UTF-16 surrogate (U+D800), which UTF-8 may not encode:
/// the payload `/test/bad-utf8` sends as text.
const BAD_UTF8: &[u8] = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80";

fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9001".to_string());
    let listener = TcpListener::bind(&addr)?;
    let local = listener.local_addr()?;
    println!("listening on ws://{local}/");
    println!("page at http://{local}/");
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                std::thread::spawn(move || {
                    if let Err(e) = serve(stream) {
                        eprintln!("connection: {e}");
                    }
                });
            }
            Err(e) => eprintln!("accept: {e}"),
        }
    }
    Ok(())
}

/// What a connection does besides echoing, chosen by its path (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    Echo,
    CloseOnRequest,
    Close4001,
    Drop,
    BadUtf8,
}

impl Behaviour {
    fn of_path(path: &str) -> Self {
        match path {
            "/test/close" => Behaviour::CloseOnRequest,
            "/test/close-4001" => Behaviour::Close4001,
            "/test/drop" => Behaviour::Drop,
            "/test/bad-utf8" => Behaviour::BadUtf8,
            _ => Behaviour::Echo,
        }
    }
}

/// One connection, on the blocking adapter: the handshake, then echo until
/// the end (the adapter answers pings, runs the timers and lingers on close).
fn serve(stream: TcpStream) -> io::Result<()> {
    let mut peer = stream.peer_addr().map_or_else(|_| "?".to_string(), |a| a.to_string());
    stream.set_nodelay(true)?;
    // A peer that stops reading must not pin this thread: a write that makes
    // no progress for this long fails the connection like any transport error.
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let mut behaviour = Behaviour::Echo;
    let answered = accept_with(stream, |request| {
        let decision = answer(&peer, request);
        if decision.is_ok() {
            peer = format!("{peer} {}", target(request));
            behaviour = Behaviour::of_path(&request.path);
        }
        decision
    });
    let mut ws = match answered {
        Ok(ws) => ws,
        // A plain request answered (the page, a 404), or a speculative
        // connection that never sent a request: no news.
        Err(Error::Rejected(_) | Error::Connection(rfc6455::Error::Handshake(HandshakeError::UnexpectedEof))) => {
            return Ok(());
        }
        Err(e) => {
            eprintln!("{peer}: {e}");
            return Ok(());
        }
    };
    match behaviour {
        Behaviour::Close4001 => {
            let close = ws.close(4001, REASON_4001).expect("4001 and a 21-byte reason can be sent while OPEN");
            log_close(&peer, &close);
            return Ok(());
        }
        Behaviour::BadUtf8 => {
            // Written by hand after the engine's bytes: the engine sends only valid text.
            if ws.flush().is_ok() {
                let _ = ws.get_mut().write_all(&bad_utf8_frame());
            }
        }
        Behaviour::Echo | Behaviour::CloseOnRequest | Behaviour::Drop => {}
    }
    while let Some(message) = ws.recv() {
        let message = match message {
            Ok(message) => message,
            Err(e) => {
                eprintln!("{peer}: {e}");
                continue;
            }
        };
        if behaviour == Behaviour::Drop {
            // The engine forgets the connection (1006) and sends nothing; the socket goes now.
            ws.terminate();
            let _ = ws.get_mut().shutdown(Shutdown::Both);
            // The end reaches the log as every other does (1006, not clean).
            continue;
        }
        if behaviour == Behaviour::CloseOnRequest
            && let Message::Text(text) = &message
            && let Some((code, reason)) = close_request(text)
        {
            match ws.close(code, reason) {
                Ok(close) => {
                    log_close(&peer, &close);
                    return Ok(());
                }
                Err(e) => {
                    let _ = ws.send(format!("refused: {e}"));
                    continue;
                }
            }
        }
        // Sending fails otherwise only once the connection is closing: nothing to do then.
        if let Err(Error::Io(e)) = ws.send(message) {
            eprintln!("{peer}: write failed: {e}");
        }
    }
    if let Some(close) = ws.close_event() {
        log_close(&peer, close);
    }
    Ok(())
}

/// `path?query`, as the log names a connection.
fn target(request: &Request) -> String {
    match &request.query {
        Some(query) => format!("{}?{query}", request.path),
        None => request.path.clone(),
    }
}

/// Upgrades on every path (with the first subprotocol offered, if any);
/// serves the page at `/`; 404 for any other plain request.
fn answer(peer: &str, request: &Request) -> Result<Accept, Reject> {
    if request.is_upgrade() {
        eprintln!(
            "{peer}: upgrade {}, protocols {:?}, extensions offered {:?}",
            target(request),
            request.protocols,
            request.extensions
        );
        Ok(match request.protocols.first() {
            Some(protocol) => Accept::new().protocol(protocol),
            None => Accept::new(),
        })
    } else if request.method == "GET" && request.path == "/" {
        eprintln!("{peer}: page");
        Err(Reject::new(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .header("Cache-Control", "no-store")
            .body(PAGE))
    } else {
        eprintln!("{peer}: {} {}: 404", request.method, request.path);
        Err(Reject::new(404).header("Content-Type", "text/plain; charset=utf-8").body("Not found\n"))
    }
}

/// The line a test looks for: how the connection ended, as the server saw it.
fn log_close(peer: &str, c: &CloseEvent) {
    eprintln!("{peer}: closed, code {}, reason {:?}, clean {}", c.code, c.reason, c.was_clean);
}

/// A server's unmasked text frame of [`BAD_UTF8`], which `send_text` cannot
/// make: the engine sends only valid text.
fn bad_utf8_frame() -> Vec<u8> {
    let header = FrameHeader { fin: true, rsv: 0, opcode: OpCode::Text, mask: None, len: BAD_UTF8.len() as u64 };
    let mut head = [0; MAX_HEADER_LEN];
    let n = header.encode(&mut head);
    [&head[..n], BAD_UTF8].concat()
}

/// `close CODE REASON` (or `close CODE`) as a code and a reason.
fn close_request(text: &str) -> Option<(u16, &str)> {
    let rest = text.strip_prefix("close ")?;
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    Some((code.parse().ok()?, reason))
}
