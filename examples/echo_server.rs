//! An echo server over `std::net`, one thread per connection.
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

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use rfc6455::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use rfc6455::{Accept, Config, Connection, Error, Event, Fragment, HandshakeError, Request};

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

/// One connection: the engine, its socket and what the log needs.
struct Session {
    conn: Connection,
    stream: TcpStream,
    start: Instant,
    /// The peer's address, and once upgraded the path and query too.
    peer: String,
    upgraded: bool,
    behaviour: Behaviour,
    /// Bytes the engine did not make (the invalid frame of `/test/bad-utf8`),
    /// written right after the engine's own.
    raw: Vec<u8>,
}

/// Drives one connection until the engine says to close the socket.
fn serve(stream: TcpStream) -> io::Result<()> {
    let start = Instant::now();
    let peer = stream.peer_addr().map_or_else(|_| "?".to_string(), |a| a.to_string());
    stream.set_nodelay(true)?;
    // A peer that stops reading must not pin this thread: a write that makes
    // no progress for this long fails the connection like any transport error.
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let conn = Connection::server(start.elapsed(), Config::default());
    let mut s = Session { conn, stream, start, peer, upgraded: false, behaviour: Behaviour::Echo, raw: Vec::new() };
    let mut buf = vec![0; 64 << 10];
    // Bytes read but not yet taken by the engine: handed in after draining.
    let mut pending = 0..0;
    loop {
        s.drain();
        if s.conn.should_close_transport() {
            break;
        }
        let now = start.elapsed();
        if !pending.is_empty() {
            pending.start += s.conn.handle_bytes(now, &buf[pending.clone()]);
            continue;
        }
        // A deadline that has passed fires now; none means block until bytes come.
        let wait = s.conn.poll_timeout().map(|at| at.saturating_sub(now));
        if wait == Some(Duration::ZERO) {
            s.conn.handle_timeout(now);
            continue;
        }
        s.stream.set_read_timeout(wait)?;
        // Large messages and streaming reads go straight into the engine's buffer.
        let read = match s.conn.read_buf() {
            Some(room) => s.stream.read(room).map(|n| (n, true)),
            None => s.stream.read(&mut buf).map(|n| (n, false)),
        };
        let now = start.elapsed();
        match read {
            Ok((0, _)) => s.conn.handle_eof(now),
            Ok((n, true)) => s.conn.commit(now, n).map_err(io::Error::other)?,
            Ok((n, false)) => pending = s.conn.handle_bytes(now, &buf[..n])..n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                // Nothing read: the room goes (an idle connection holds no heap).
                s.conn.commit(now, 0).map_err(io::Error::other)?;
                s.conn.handle_timeout(now);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => s.conn.handle_transport_error(now),
        }
    }
    // Close our side, then read what is still in flight for a moment, so the
    // kernel does not answer unread bytes with a reset that could destroy our
    // last bytes before the peer reads them.
    let _ = s.stream.shutdown(Shutdown::Write);
    let _ = s.stream.set_read_timeout(Some(Duration::from_secs(1)));
    let linger = Instant::now();
    while linger.elapsed() < Duration::from_secs(2) && matches!(s.stream.read(&mut buf), Ok(n) if n > 0) {}
    Ok(())
}

impl Session {
    /// The driving contract: handle every event, then write every transmit.
    fn drain(&mut self) {
        let now = self.start.elapsed();
        while let Some(event) = self.conn.poll_event() {
            match event {
                Event::Request(request) => self.answer(now, &request),
                Event::Open(_) => self.opened(now),
                Event::Text(text) => self.message(now, Fragment::Text(&text)),
                Event::Binary(data) => self.message(now, Fragment::Binary(&data)),
                // A speculative connection that never sent a request is no news.
                Event::Error(Error::Handshake(HandshakeError::UnexpectedEof)) => {}
                Event::Error(e) => eprintln!("{}: {e}", self.peer),
                Event::Closed(c) if self.upgraded => {
                    eprintln!("{}: closed, code {}, reason {:?}, clean {}", self.peer, c.code, c.reason, c.was_clean)
                }
                _ => {}
            }
        }
        let raw = std::mem::take(&mut self.raw);
        let mut transmits = std::iter::from_fn(|| self.conn.poll_transmit()).collect::<Vec<_>>();
        transmits.push(raw.into());
        for bytes in transmits.iter().filter(|b| !b.is_empty()) {
            if let Err(e) = self.stream.write_all(bytes) {
                eprintln!("{}: write failed: {e}", self.peer);
                self.conn.handle_transport_error(self.start.elapsed());
                // The socket is broken: what is still queued can never be written.
                while self.conn.poll_transmit().is_some() {}
                return self.drain();
            }
        }
    }

    /// Upgrades on every path (with the first subprotocol offered, if any);
    /// serves the page at `/`; 404 for any other plain request.
    fn answer(&mut self, now: Duration, request: &Request) {
        let peer = &self.peer;
        let result = if request.is_upgrade() {
            let target = match &request.query {
                Some(query) => format!("{}?{query}", request.path),
                None => request.path.clone(),
            };
            eprintln!(
                "{peer}: upgrade {target}, protocols {:?}, extensions offered {:?}",
                request.protocols, request.extensions
            );
            self.peer = format!("{peer} {target}");
            self.upgraded = true;
            self.behaviour = Behaviour::of_path(&request.path);
            let accept = match request.protocols.first() {
                Some(protocol) => Accept::new().protocol(protocol),
                None => Accept::new(),
            };
            self.conn.accept(now, accept)
        } else if request.method == "GET" && request.path == "/" {
            eprintln!("{peer}: page");
            let headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")];
            self.conn.reject(now, 200, &headers, PAGE.as_bytes())
        } else {
            eprintln!("{peer}: {} {}: 404", request.method, request.path);
            self.conn.reject(now, 404, &[("Content-Type", "text/plain; charset=utf-8")], b"Not found\n")
        };
        if let Err(e) = result {
            eprintln!("{}: cannot answer: {e}", self.peer);
            self.conn.terminate(now);
        }
    }

    /// The connection is open: the test paths that act at once do so.
    fn opened(&mut self, now: Duration) {
        match self.behaviour {
            Behaviour::Close4001 => {
                self.conn.close(now, 4001, REASON_4001).expect("4001 and a 21-byte reason can be sent while OPEN");
            }
            Behaviour::BadUtf8 => self.raw.extend_from_slice(&bad_utf8_frame()),
            Behaviour::Echo | Behaviour::CloseOnRequest | Behaviour::Drop => {}
        }
    }

    /// A message: echoed, unless a test path says otherwise.
    fn message(&mut self, now: Duration, message: Fragment<'_>) {
        if self.behaviour == Behaviour::Drop {
            // The engine forgets the connection (1006) and sends nothing; the socket goes now.
            self.conn.terminate(now);
            let _ = self.stream.shutdown(Shutdown::Both);
            return;
        }
        if self.behaviour == Behaviour::CloseOnRequest
            && let Fragment::Text(text) = message
            && let Some((code, reason)) = close_request(text)
        {
            if let Err(e) = self.conn.close(now, code, reason) {
                let _ = self.conn.send_text(&format!("refused: {e}"));
            }
            return;
        }
        // Sending fails only once the connection is closing: nothing to do then.
        let _ = match message {
            Fragment::Text(text) => self.conn.send_text(text),
            Fragment::Binary(data) => self.conn.send_binary(data),
        };
    }
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
