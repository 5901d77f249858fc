//! Our client against a third-party server, for `scripts/interop/run.sh`.
//!
//! ```text
//! interop_client URL --close-by client|server --code CODE --reason REASON [--label NAME]
//! ```
//!
//! Over one connection it checks, in order: the connection opens with no
//! subprotocol and no extension; text made of 1- to 4-byte characters comes
//! back unchanged at exactly 0, 125, 126, 65535, 65536 and 1 MiB bytes, and so
//! does binary; a ping's pong carries the ping's payload; and the close.
//! `--close-by client` closes with CODE and REASON; `--close-by server` sends
//! the text `close CODE REASON`, which the interop peers' servers (and the echo
//! server's `/test/close`) answer by closing with that code and reason. Either
//! way the peer's close frame must carry that code and reason (the closing side
//! sends them, the other side echoes them) and the close must be clean.
//!
//! It prints one `ok: NAME: …` or `FAIL: NAME: …` line per check and exits 1
//! if any failed (2 for bad arguments or a socket that cannot be reached).
//!
//! The connection is driven as the README's loop drives it, over
//! `std::net`; [`Client::next_event`] runs that loop until the engine has an
//! event, so the checks read as a sequence.

use std::fmt::Write as _;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rfc6455::{ClientRequest, Config, Connection, Event};

#[path = "interop/common.rs"]
mod common;
use common::{Args, Checks, PING, SIZES, STEP, binary_of, text_of};

fn main() -> ExitCode {
    let args = match Args::parse("interop_client") {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            println!("FAIL: {}: {e}", args.label);
            ExitCode::from(2)
        }
    }
}

/// Runs the checks; returns how many failed.
fn run(args: &Args) -> Result<usize, String> {
    let mut c = Client::connect(&args.url, &args.label).map_err(|e| format!("cannot connect to {}: {e}", args.url))?;

    match c.next_event() {
        Event::Open(opened) => c.check(
            opened.protocol.is_none() && opened.extensions.is_empty(),
            "opens",
            format!("protocol {:?}, extensions {:?}", opened.protocol, opened.extensions),
        ),
        other => return Ok(c.fail_early("opens", &other)),
    }

    for n in SIZES {
        let text = text_of(n);
        c.conn.send_text(&text).map_err(|e| e.to_string())?;
        match c.next_message() {
            Event::Text(got) => {
                c.check(got == text, &format!("text echo, {n} bytes"), differs(got.as_bytes(), text.as_bytes()))
            }
            other => return Ok(c.fail_early(&format!("text echo, {n} bytes"), &other)),
        }
    }
    for n in SIZES {
        let data = binary_of(n);
        c.conn.send_binary(&data).map_err(|e| e.to_string())?;
        match c.next_message() {
            Event::Binary(got) => c.check(*got == *data, &format!("binary echo, {n} bytes"), differs(&got, &data)),
            other => return Ok(c.fail_early(&format!("binary echo, {n} bytes"), &other)),
        }
    }

    c.conn.send_ping(PING).map_err(|e| e.to_string())?;
    match c.next_message() {
        Event::Pong(got) => c.check(*got == *PING, "pong carries the ping's payload", format!("pong {got:?}")),
        other => return Ok(c.fail_early("pong carries the ping's payload", &other)),
    }

    let (code, reason) = (args.code, args.reason.as_str());
    let what = args.close_check();
    if args.client_closes {
        c.conn.close(c.start.elapsed(), code, reason).map_err(|e| e.to_string())?;
    } else {
        c.conn.send_text(&format!("close {code} {reason}")).map_err(|e| e.to_string())?;
    }
    match c.next_message() {
        Event::Closed(close) => c.check(
            close.code.0 == code && close.reason == reason && close.was_clean,
            &what,
            format!("code {}, reason {:?}, clean {}", close.code.0, close.reason, close.was_clean),
        ),
        other => return Ok(c.fail_early(&what, &other)),
    }
    c.check(c.conn.should_close_transport(), "the transport may be closed", String::new());
    let _ = c.sock.shutdown(Shutdown::Both);
    Ok(c.checks.failed)
}

/// One connection and its results.
struct Client {
    conn: Connection,
    sock: TcpStream,
    start: Instant,
    buf: Vec<u8>,
    /// The part of `buf` read but not yet taken by the engine.
    pending: std::ops::Range<usize>,
    checks: Checks,
}

impl Client {
    fn connect(url: &str, label: &str) -> Result<Self, String> {
        let start = Instant::now();
        let request = ClientRequest::new(url).map_err(|e| e.to_string())?;
        let sock = TcpStream::connect((request.host(), request.port())).map_err(|e| e.to_string())?;
        sock.set_nodelay(true).map_err(|e| e.to_string())?;
        let conn = Connection::client(start.elapsed(), &request, Config::default()).map_err(|e| e.to_string())?;
        Ok(Client {
            conn,
            sock,
            start,
            buf: vec![0; 64 << 10],
            pending: 0..0,
            checks: Checks { label: label.to_string(), failed: 0 },
        })
    }

    /// Writes what the engine has queued, then returns its next event, reading
    /// the socket and firing timers as needed. If no event comes within
    /// [`STEP`], the connection is terminated, which brings a close event.
    fn next_event(&mut self) -> Event {
        let give_up = self.start.elapsed() + STEP;
        loop {
            while let Some(bytes) = self.conn.poll_transmit() {
                if self.sock.write_all(&bytes).is_err() {
                    self.conn.handle_transport_error(self.start.elapsed());
                }
            }
            if let Some(event) = self.conn.poll_event() {
                return event;
            }
            let now = self.start.elapsed();
            if !self.pending.is_empty() {
                self.pending.start += self.conn.handle_bytes(now, &self.buf[self.pending.clone()]);
                continue;
            }
            if now >= give_up {
                println!("{}: nothing from the peer for {} s", self.checks.label, STEP.as_secs());
                self.conn.terminate(now);
                continue;
            }
            let wake = self.conn.poll_timeout().map_or(give_up, |t| t.min(give_up));
            let wait = wake.saturating_sub(now).max(Duration::from_millis(1));
            if self.sock.set_read_timeout(Some(wait)).is_err() {
                self.conn.handle_transport_error(now);
                continue;
            }
            let read = self.sock.read(&mut self.buf);
            let now = self.start.elapsed();
            match read {
                Ok(0) => self.conn.handle_eof(now),
                Ok(n) => self.pending = self.conn.handle_bytes(now, &self.buf[..n])..n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    self.conn.handle_timeout(now)
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => self.conn.handle_transport_error(now),
            }
        }
    }

    /// The next event that is not a ping (pings are answered by the engine).
    fn next_message(&mut self) -> Event {
        loop {
            match self.next_event() {
                Event::Ping(_) => {}
                event => return event,
            }
        }
    }

    fn check(&mut self, ok: bool, what: &str, detail: String) {
        self.checks.check(ok, what, detail);
    }

    /// A check got some other event: it fails, and the run stops there.
    fn fail_early(&mut self, what: &str, got: &Event) -> usize {
        self.check(false, what, format!("got {}", describe(got)));
        if !matches!(got, Event::Closed(_)) {
            self.conn.terminate(self.start.elapsed());
        }
        self.checks.failed
    }
}

/// Why two byte strings differ, for a failure line.
fn differs(got: &[u8], want: &[u8]) -> String {
    if got.len() != want.len() {
        return format!("got {} bytes, want {}", got.len(), want.len());
    }
    let at = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(0);
    format!("first difference at byte {at}")
}

/// An event, briefly: a message's size rather than its content.
fn describe(event: &Event) -> String {
    let mut s = String::new();
    let _ = match event {
        Event::Text(t) => write!(s, "a text of {} bytes", t.len()),
        Event::Binary(b) => write!(s, "a binary message of {} bytes", b.len()),
        Event::Closed(c) => write!(s, "the close: code {}, reason {:?}, clean {}", c.code.0, c.reason, c.was_clean),
        other => write!(s, "{other:?}"),
    };
    s
}
