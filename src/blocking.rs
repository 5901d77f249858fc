//! The engine over blocking sockets (feature `std`, on by default):
//! [`WebSocket`] over any [`Transport`] (`Read + Write`, such as a
//! `TcpStream`), with the engine's timers run through the socket's read
//! timeout.
//!
//! ```no_run
//! use std::net::TcpListener;
//! use rfc6455::blocking::accept;
//!
//! # fn main() -> Result<(), rfc6455::blocking::Error> {
//! let listener = TcpListener::bind("127.0.0.1:9001")?;
//! for tcp in listener.incoming() {
//!     let tcp = tcp?;
//!     std::thread::spawn(move || -> Result<(), rfc6455::blocking::Error> {
//!         let mut ws = accept(tcp)?;
//!         while let Some(message) = ws.recv() {
//!             ws.send(message?)?;
//!         }
//!         Ok(())
//!     });
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Every call blocks until it is done: `send` until the message is written
//! (so the write queue never grows; give the socket a write timeout, or a
//! peer that stops reading blocks it), `recv` until a message comes. While
//! `recv` waits it answers pings and runs the engine's timers (keepalive,
//! idle, close, handshake), waking at the engine's deadline through
//! [`Transport::set_read_timeout`].

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::string::String;
use std::time::{Duration, Instant};

use crate::adapter::{Driver, Step};
pub use crate::adapter::{Error, Message, Reject, Settings};
use crate::close::{CloseCode, CloseEvent};
use crate::connection::Connection;
use crate::handshake::{Accept, ClientRequest, Opened, Request};
use crate::local_error::LocalError;
use crate::role::Role;
use crate::state::ReadyState;
use core::task::Poll;

/// A blocking byte stream the adapter can run timers on and close.
///
/// `TcpStream` (and `UnixStream` on Unix) implement it. For another stream
/// (a TLS stream over TCP), forward both methods to the socket under it; with
/// the defaults, the engine's timers run only when a read returns.
pub trait Transport: Read + Write {
    /// Makes the next reads return `WouldBlock` or `TimedOut` after
    /// `timeout` (`None`: block until bytes come). The default says
    /// `Unsupported`: reads then block until bytes come, so the engine's
    /// timers, `recv_timeout` and the linger wait for the peer.
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let _ = timeout;
        Err(ErrorKind::Unsupported.into())
    }

    /// Makes the next writes fail with `WouldBlock` or `TimedOut` when they
    /// make no progress for `timeout`. The end of a connection sets it (to the
    /// linger, or 1 s at least) before it writes what is left, so a peer that
    /// stopped reading cannot hold it. The default says `Unsupported`.
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let _ = timeout;
        Err(ErrorKind::Unsupported.into())
    }

    /// Shuts the write side down (TCP FIN). The default does nothing; the
    /// end then goes without a FIN, and without the linger.
    fn shutdown_write(&mut self) -> io::Result<()> {
        Err(ErrorKind::Unsupported.into())
    }
}

impl Transport for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, timeout)
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shutdown(std::net::Shutdown::Write)
    }
}

#[cfg(unix)]
impl Transport for std::os::unix::net::UnixStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_write_timeout(self, timeout)
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shutdown(std::net::Shutdown::Write)
    }
}

/// Accepts a WebSocket upgrade with the default [`Settings`]; a request that
/// is not an upgrade is answered 426 and gives [`Error::Rejected`].
pub fn accept<S: Transport>(stream: S) -> Result<WebSocket<S>, Error> {
    Builder::default().accept(stream)
}

/// Accepts or refuses the upgrade request as `decide` says, as the tokio
/// adapter's [`accept_with`](crate::tokio::accept_with) does.
pub fn accept_with<S, F>(stream: S, decide: F) -> Result<WebSocket<S>, Error>
where
    S: Transport,
    F: FnOnce(&Request) -> Result<Accept, Reject>,
{
    Builder::default().accept_with(stream, decide)
}

/// Connects to a `ws://` URL over TCP (`Nagle` off).
pub fn connect(url: &str) -> Result<WebSocket<TcpStream>, Error> {
    Builder::default().connect(url)
}

/// The client handshake for `request` over a stream the caller connected.
pub fn connect_with<S: Transport>(request: &ClientRequest, stream: S) -> Result<WebSocket<S>, Error> {
    Builder::default().connect_with(request, stream)
}

/// The handshakes with [`Settings`] of your own.
#[derive(Clone, Debug, Default)]
pub struct Builder {
    settings: Settings,
}

impl Builder {
    /// Handshakes with these settings.
    pub fn new(settings: Settings) -> Self {
        Builder { settings }
    }

    /// As [`accept`].
    pub fn accept<S: Transport>(&self, stream: S) -> Result<WebSocket<S>, Error> {
        self.accept_with(stream, |_| Ok(Accept::new()))
    }

    /// As [`accept_with`].
    pub fn accept_with<S, F>(&self, stream: S, decide: F) -> Result<WebSocket<S>, Error>
    where
        S: Transport,
        F: FnOnce(&Request) -> Result<Accept, Reject>,
    {
        let conn = Connection::server(Duration::ZERO, Driver::config(&self.settings));
        let mut ws = WebSocket::new(stream, conn, &self.settings);
        ws.handshake()?;
        let now = ws.now();
        if let Some(status) = ws.d.answer(now, decide)? {
            ws.until_closed();
            return Err(Error::Rejected(status));
        }
        ws.flush()?;
        Ok(ws)
    }

    /// As [`connect`].
    pub fn connect(&self, url: &str) -> Result<WebSocket<TcpStream>, Error> {
        let request = ClientRequest::new(url)?;
        if request.is_secure() {
            return Err(Error::TlsUnavailable);
        }
        let tcp = TcpStream::connect((request.host(), request.port()))?;
        tcp.set_nodelay(true)?;
        self.connect_with(&request, tcp)
    }

    /// As [`connect_with`].
    pub fn connect_with<S: Transport>(&self, request: &ClientRequest, stream: S) -> Result<WebSocket<S>, Error> {
        let conn = Connection::client(Duration::ZERO, request, Driver::config(&self.settings))?;
        let mut ws = WebSocket::new(stream, conn, &self.settings);
        ws.handshake()?;
        Ok(ws)
    }

    /// A connection whose handshake was done elsewhere: OPEN at once.
    pub fn open<S: Transport>(&self, stream: S, role: Role, protocol: Option<String>) -> WebSocket<S> {
        let conn = Connection::open(Duration::ZERO, role, protocol, Driver::config(&self.settings));
        WebSocket::new(stream, conn, &self.settings)
    }
}

/// A WebSocket connection over a blocking `S`.
pub struct WebSocket<S> {
    io: S,
    d: Driver,
    start: Instant,
    /// The read timeout last set, to set it only when it changes.
    timeout: Option<Option<Duration>>,
    /// Whether the transport was ended (written out, shut down, lingered).
    finished: bool,
}

impl<S: Transport> WebSocket<S> {
    fn new(io: S, conn: Connection, settings: &Settings) -> Self {
        WebSocket { io, d: Driver::new(conn, settings), start: Instant::now(), timeout: None, finished: false }
    }

    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// Writes everything queued.
    fn write_out(&mut self) -> io::Result<()> {
        let io = &mut self.io;
        let written = self.d.write(|slices| {
            Poll::Ready(loop {
                match io.write_vectored(slices) {
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    other => break other,
                }
            })
        });
        match written {
            Poll::Ready(result) => result?,
            Poll::Pending => unreachable!("a blocking write is never pending"),
        }
        self.io.flush()
    }

    /// Sets the read timeout, if it changed; whether the transport has one.
    fn set_timeout(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        // A zero timeout is an error for `TcpStream`: wait a millisecond.
        let timeout = timeout.map(|t| t.max(Duration::from_millis(1)));
        if self.timeout == Some(timeout) {
            return Ok(true);
        }
        match self.io.set_read_timeout(timeout) {
            Ok(()) => {
                self.timeout = Some(timeout);
                Ok(true)
            }
            Err(e) if e.kind() == ErrorKind::Unsupported => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// One round: write, then one read that waits no later than the engine's
    /// deadline or `until` (at least a millisecond, so a zero wait still
    /// reads what is there). Whether `until` has passed.
    fn step(&mut self, until: Option<Instant>) -> bool {
        let now = self.now();
        if let Err(e) = self.write_out() {
            self.d.fail(now, &e);
            return false;
        }
        let deadline = self.d.conn.poll_timeout();
        if deadline.is_some_and(|at| at <= now) {
            self.d.conn.handle_timeout(now);
            return false;
        }
        let mut wait = deadline.map(|at| at - now);
        if let Some(until) = until {
            let left = until.saturating_duration_since(Instant::now());
            wait = Some(wait.map_or(left, |w| w.min(left)));
        }
        if let Err(e) = self.set_timeout(wait) {
            self.d.fail(now, &e);
            return false;
        }
        let (io, start) = (&mut self.io, self.start);
        let read = self.d.read(move || start.elapsed(), |buf| Poll::Ready(io.read(buf)));
        let now = self.now();
        match read {
            Poll::Ready(Err(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                self.d.conn.handle_timeout(now)
            }
            Poll::Ready(Err(e)) if e.kind() == ErrorKind::Interrupted => {}
            Poll::Ready(Err(e)) => self.d.fail(now, &e),
            _ => {}
        }
        until.is_some_and(|until| Instant::now() >= until)
    }

    /// Once closed: writes what is left, shuts the write side down, lingers.
    fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        // What is left is written within the linger (1 s at least) of no
        // progress, where the transport can time a write out.
        let _ = self.io.set_write_timeout(Some(self.d.linger.max(Duration::from_secs(1))));
        let ended = self.write_out().is_err() || self.io.shutdown_write().is_err() || self.d.linger.is_zero();
        self.d.discard_output();
        if ended {
            return;
        }
        let now = Instant::now();
        let until = now.checked_add(self.d.linger).unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
        loop {
            let left = until.saturating_duration_since(Instant::now());
            // Without a read timeout the linger could wait forever: skip it.
            if left.is_zero() || !matches!(self.set_timeout(Some(left)), Ok(true)) {
                return;
            }
            let (io, start) = (&mut self.io, self.start);
            match self.d.read(move || start.elapsed(), |buf| Poll::Ready(io.read(buf))) {
                Poll::Ready(Ok(n)) if n > 0 => {}
                Poll::Ready(Err(e)) if e.kind() == ErrorKind::Interrupted => {}
                _ => return,
            }
        }
    }

    fn handshake(&mut self) -> Result<(), Error> {
        loop {
            match self.d.next(self.now()) {
                Some(Step::Request | Step::Open) => return Ok(()),
                Some(Step::Message(_)) => continue,
                None => {}
            }
            if self.d.is_closed() {
                self.finish();
                return Err(self.d.take_failure().unwrap_or(Error::Connection(crate::Error::ClosedBeforeOpen)));
            }
            self.step(None);
        }
    }

    /// Until closed and the transport ended; messages are dropped.
    fn until_closed(&mut self) -> CloseEvent {
        loop {
            while self.d.next(self.now()).is_some() {}
            if let Some(close) = self.d.closed.clone() {
                self.finish();
                return close;
            }
            self.step(None);
        }
    }

    /// The next message, waiting for it. `None` once the connection has
    /// closed cleanly (see [`close_event`](Self::close_event)); after any
    /// other end, the failure once, then `None`. Meanwhile it answers pings,
    /// writes what is queued and runs the engine's timers.
    pub fn recv(&mut self) -> Option<Result<Message, Error>> {
        self.recv_until(None)
    }

    /// As [`recv`](Self::recv), but waits at most `timeout`: then it gives
    /// `Some(Err(Error::TimedOut))` and the connection goes on as before.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<Result<Message, Error>> {
        // A timeout past what an `Instant` holds is none.
        self.recv_until(Instant::now().checked_add(timeout))
    }

    fn recv_until(&mut self, until: Option<Instant>) -> Option<Result<Message, Error>> {
        let mut time_is_up = false;
        loop {
            match self.d.next(self.now()) {
                Some(Step::Message(message)) => return Some(Ok(message)),
                Some(Step::Open | Step::Request) => continue,
                None => {}
            }
            if self.d.is_closed() {
                self.finish();
                return self.d.take_failure().map(Err);
            }
            if time_is_up {
                return Some(Err(Error::TimedOut));
            }
            // The last read (even after a zero timeout) is looked at first.
            time_is_up = self.step(until);
        }
    }

    /// Sends a message and writes it (and anything queued before it).
    pub fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        if self.d.is_ended() {
            return Err(Error::Local(LocalError::Closed));
        }
        self.d.send(message.into())?;
        self.flush()
    }

    /// Sends a message encoded once for many connections (see
    /// [`Prepared`](crate::Prepared)) and writes it.
    pub fn send_prepared(&mut self, message: &crate::Prepared) -> Result<(), Error> {
        self.d.conn.send_prepared(message)?;
        self.flush()
    }

    /// Writes everything queued.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.write_out().map_err(|e| {
            self.d.fail(self.now(), &e);
            Error::Io(e)
        })
    }

    /// Sends a ping (up to 125 bytes).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.d.conn.send_ping(payload)?;
        self.flush()
    }

    /// Closes with `code` and `reason`, as the browser's `close(code,
    /// reason)`, and waits for the end: the peer's answer (or the close
    /// timeout), the write side shut down, the linger. Messages that arrive
    /// meanwhile are dropped. Gives the close event; a code that may not be
    /// sent is an error and changes nothing.
    pub fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<CloseEvent, Error> {
        let now = self.now();
        self.d.start_close(now, code.into(), reason)?;
        Ok(self.until_closed())
    }

    /// Starts the closing handshake and writes the close frame, without
    /// waiting for the answer: messages that were on their way still come
    /// from [`recv`](Self::recv), which gives `None` at the end. Calling it
    /// again, or [`close`](Self::close), once closing does nothing more.
    pub fn start_close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), Error> {
        let now = self.now();
        self.d.start_close(now, code.into(), reason)?;
        self.flush()
    }

    /// Ends the connection at once, without a closing handshake, as Node's
    /// `terminate()`: everything not yet written is dropped; drop the
    /// `WebSocket` to close the socket.
    pub fn terminate(&mut self) {
        let now = self.now();
        self.d.terminate(now);
    }

    /// The socket, to write to it directly (after [`flush`](Self::flush))
    /// or set its options.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }
}

impl<S> WebSocket<S> {
    /// The browser's `readyState`.
    pub fn ready_state(&self) -> ReadyState {
        self.d.conn.ready_state()
    }

    /// The subprotocol agreed on, as the browser's `protocol`.
    pub fn protocol(&self) -> Option<&str> {
        self.d.conn.protocol()
    }

    /// The extensions agreed on, as the browser's `extensions`.
    pub fn extensions(&self) -> &[String] {
        self.d.conn.extensions()
    }

    /// Client: the server's 101 response.
    pub fn response(&self) -> Option<&Opened> {
        self.d.response()
    }

    /// Bytes queued and not yet written.
    pub fn buffered_amount(&self) -> usize {
        self.d.buffered()
    }

    /// The close event, once the connection has ended.
    pub fn close_event(&self) -> Option<&CloseEvent> {
        self.d.closed.as_ref()
    }

    /// The engine, to read its state.
    pub fn connection(&self) -> &Connection {
        &self.d.conn
    }

    /// The socket.
    pub fn get_ref(&self) -> &S {
        &self.io
    }
}

impl<S> core::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebSocket").field("ready_state", &self.ready_state()).finish_non_exhaustive()
    }
}

impl<S: Transport> Iterator for WebSocket<S> {
    type Item = Result<Message, Error>;

    /// [`recv`](WebSocket::recv).
    fn next(&mut self) -> Option<Self::Item> {
        self.recv()
    }
}
