//! An echo server over `std::net`, one thread per connection.
//!
//! ```text
//! cargo run --release --example echo_server [ADDR]      # default 127.0.0.1:9001
//! ```
//!
//! It speaks WebSocket on any path and sends every text and binary message
//! back. A plain `GET /` gets a small page that connects back and lets a
//! browser send text and close with a code and reason; other plain requests
//! get 404. Port 0 picks a free port; the URL printed says which.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use rfc6455::{Config, Connection, Error, Event, HandshakeError, Request};

const PAGE: &str = include_str!("echo_page.html");

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

/// One connection: the engine, its socket and what the log needs.
struct Session {
    conn: Connection,
    stream: TcpStream,
    start: Instant,
    peer: String,
    upgraded: bool,
}

/// Drives one connection until the engine says to close the socket.
fn serve(stream: TcpStream) -> io::Result<()> {
    let start = Instant::now();
    let peer = stream.peer_addr().map_or_else(|_| "?".to_string(), |a| a.to_string());
    stream.set_nodelay(true)?;
    let conn = Connection::server(start.elapsed(), Config::default());
    let mut s = Session { conn, stream, start, peer, upgraded: false };
    let mut buf = vec![0; 64 << 10];
    loop {
        s.drain();
        if s.conn.should_close_transport() {
            break;
        }
        let now = start.elapsed();
        // A deadline that has passed fires now; none means block until bytes come.
        let wait = s.conn.poll_timeout().map(|at| at.saturating_sub(now));
        if wait == Some(Duration::ZERO) {
            s.conn.handle_timeout(now);
            continue;
        }
        s.stream.set_read_timeout(wait)?;
        let read = s.stream.read(&mut buf);
        let now = start.elapsed();
        match read {
            Ok(0) => s.conn.handle_eof(now),
            Ok(n) => s.conn.handle_bytes(now, &buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => s.conn.handle_timeout(now),
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
                // Sending fails only once the connection is closing: nothing to do then.
                Event::Text(text) => drop(self.conn.send_text(&text)),
                Event::Binary(data) => drop(self.conn.send_binary(&data)),
                // A speculative connection that never sent a request is no news.
                Event::Error(Error::Handshake(HandshakeError::UnexpectedEof)) => {}
                Event::Error(e) => eprintln!("{}: {e}", self.peer),
                Event::Closed(c) if self.upgraded => {
                    eprintln!("{}: closed, code {}, reason {:?}, clean {}", self.peer, c.code, c.reason, c.was_clean)
                }
                _ => {}
            }
        }
        while let Some(bytes) = self.conn.poll_transmit() {
            if let Err(e) = self.stream.write_all(&bytes) {
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
            eprintln!("{peer}: upgrade {}", request.path);
            self.upgraded = true;
            self.conn.accept(now, request.protocols.first().map(String::as_str), &[])
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
}
