//! The glue between a socket and a [`Connection`], written once for every
//! adapter: where a read goes, what a write takes, and which events become
//! messages. It does no I/O itself: each adapter hands it closures that do
//! one read or one write on its socket, blocking or polled.

use core::cell::RefCell;
use core::task::Poll;
use std::boxed::Box;
use std::io::{self, IoSlice};
use std::string::ToString;
use std::time::Duration;
use std::vec;
use std::vec::Vec;

use bytes::{Buf, Bytes};

use super::{Error, Message, Reject, Settings};
use crate::close::CloseEvent;
use crate::config::ReceiveMode;
use crate::connection::{Connection, STAGE};
use crate::event::Event;
use crate::handshake::{Accept, Opened, Request};
use crate::local_error::LocalError;
use crate::state::ReadyState;

/// Size of the per-thread read buffer.
const READ_BUF: usize = 64 << 10;
/// How many transmits one vectored write takes.
const OUT: usize = 4;

std::thread_local! {
    /// The thread's read buffer: a read lands here when the engine lends no
    /// room, the engine takes what it needs, and what it leaves is copied to
    /// the connection's `pending`. Borrowed only for one read and one
    /// `handle_bytes`, so every connection on the thread shares it.
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// What [`Driver::next`] found.
#[derive(Debug)]
pub(crate) enum Step {
    /// A data message.
    Message(Message),
    /// Server: the request, now in [`Driver::request`].
    Request,
    /// The handshake completed; what it agreed is in [`Driver::opened`].
    Open,
}

/// A connection and what an adapter keeps beside it.
pub(crate) struct Driver {
    pub(crate) conn: Connection,
    /// Bytes read but not yet taken by the engine (it takes input only up to
    /// `max_unread_input` while events wait).
    pending: Vec<u8>,
    /// Transmits taken from the engine and not yet written, in order (a
    /// frame's header and its shared payload go out in one vectored write).
    // INVARIANT: out[..queued] are non-empty, out[queued..] are empty.
    out: [Bytes; OUT],
    queued: usize,
    pub(crate) request: Option<Box<Request>>,
    pub(crate) opened: Option<Box<Opened>>,
    /// The close event, once the engine reported it.
    pub(crate) closed: Option<CloseEvent>,
    /// Why the connection failed, if it did.
    error: Option<crate::Error>,
    /// The socket error that failed it, if one did (reported in its place).
    io_error: Option<io::Error>,
    /// Whether the failure was handed to the application already.
    reported: bool,
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) write_high_water: usize,
    pub(crate) linger: Duration,
}

impl Driver {
    /// The connection the adapter made with [`Driver::config`].
    pub(crate) fn new(conn: Connection, settings: &Settings) -> Self {
        Driver {
            conn,
            pending: Vec::new(),
            out: [const { Bytes::new() }; OUT],
            queued: 0,
            request: None,
            opened: None,
            closed: None,
            error: None,
            io_error: None,
            reported: false,
            write_high_water: settings.write_high_water,
            linger: settings.linger,
        }
    }

    /// The engine's settings as an adapter runs them: whole messages.
    pub(crate) fn config(settings: &Settings) -> crate::Config {
        settings.config.clone().receive(ReceiveMode::Messages)
    }

    /// Server: answers the request in [`Driver::request`] as `decide` says;
    /// a request that is not an upgrade is refused 426 if `decide` accepts it.
    /// `Ok(None)` once accepted (the 101 is queued), `Ok(Some(status))` once
    /// the refusal is queued and the connection closing: the adapter writes
    /// it out and reports [`Error::Rejected`].
    pub(crate) fn answer<F>(&mut self, now: Duration, decide: F) -> Result<Option<u16>, Error>
    where
        F: FnOnce(&Request) -> Result<Accept, Reject>,
    {
        let Some(request) = self.request.take() else {
            return Err(Error::Connection(crate::Error::ClosedBeforeOpen));
        };
        // `decide` may answer a plain `GET` with a page; it cannot accept one.
        let decision = match decide(&request) {
            Ok(_) if !request.is_upgrade() => Err(Reject::not_upgrade()),
            decision => decision,
        };
        match decision {
            Ok(accept) => {
                self.conn.accept(now, accept)?;
                Ok(None)
            }
            Err(reject) => {
                let (status, headers, body) = reject.parts();
                self.conn.reject(now, status, &headers, body)?;
                Ok(Some(status))
            }
        }
    }

    /// Starts the closing handshake, unless it started already (then it does
    /// nothing more); a code that may not be sent is an error and changes
    /// nothing.
    pub(crate) fn start_close(&mut self, now: Duration, code: crate::CloseCode, reason: &str) -> Result<(), Error> {
        match self.conn.close(now, code, reason) {
            Ok(()) | Err(LocalError::Closing | LocalError::Closed) => Ok(()),
            Err(e) => Err(Error::Local(e)),
        }
    }

    /// Client: the server's 101 response; `None` on a server.
    pub(crate) fn response(&self) -> Option<&Opened> {
        self.opened.as_deref().filter(|_| self.conn.role() == crate::Role::Client)
    }

    /// Whether the engine reported its close event.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// Whether nothing more can be sent or received.
    pub(crate) fn is_ended(&self) -> bool {
        self.conn.ready_state() == ReadyState::Closed
    }

    /// The next message, request or opening, taking events (and handing the
    /// engine input it left) until one comes or none is left. Pings (the
    /// engine answers them) and pongs are dropped; the close event is kept in
    /// [`Driver::closed`].
    pub(crate) fn next(&mut self, now: Duration) -> Option<Step> {
        loop {
            match self.conn.poll_event() {
                Some(Event::Text(text)) => return Some(Step::Message(Message::Text(text))),
                Some(Event::Binary(data)) => return Some(Step::Message(Message::Binary(data))),
                Some(Event::Request(request)) => {
                    self.request = Some(request);
                    return Some(Step::Request);
                }
                Some(Event::Open(opened)) => {
                    self.opened = Some(opened);
                    return Some(Step::Open);
                }
                Some(Event::Error(e)) => self.error = Some(e),
                Some(Event::Closed(close)) => {
                    self.closed = Some(close);
                    self.pending = Vec::new();
                }
                // Streaming chunks cannot come (`config` asks for messages).
                Some(_) => {}
                None if self.pending.is_empty() => return None,
                None => {
                    let taken = self.conn.handle_bytes(now, &self.pending);
                    self.pending.drain(..taken);
                    if self.pending.is_empty() {
                        // Its buffer goes too: an idle connection holds none.
                        self.pending = Vec::new();
                    }
                }
            }
        }
    }

    /// The failure to report, once: the socket's error if one failed the
    /// connection, else the engine's reason. `None` for a clean end, or when
    /// it was reported already.
    pub(crate) fn take_failure(&mut self) -> Option<Error> {
        if self.reported {
            return None;
        }
        self.reported = true;
        // A socket error after the closing handshake completed (a reset
        // where the server's FIN was awaited, TLS without close_notify) ends
        // a clean close, not a failed one.
        if self.closed.as_ref().is_some_and(|c| c.was_clean) {
            self.io_error = None;
            return None;
        }
        match (self.io_error.take(), self.error.clone()) {
            (Some(e), _) => Some(Error::Io(e)),
            (None, Some(e)) => Some(Error::Connection(e)),
            (None, None) => None,
        }
    }

    /// The socket failed: the connection ends (1006), and the error is what
    /// the application is told.
    pub(crate) fn fail(&mut self, now: Duration, e: &io::Error) {
        if self.io_error.is_none() && !self.is_ended() {
            // The call that met it returns `e` itself; this copy is for the
            // receiving side.
            self.io_error = Some(io::Error::new(e.kind(), e.to_string()));
        }
        self.conn.handle_transport_error(now);
    }

    /// One read with `read`: into the room the engine lends, or else into the
    /// thread's buffer, then into the engine. EOF is handed to the engine;
    /// an error is returned for the adapter to judge (a blocking socket's
    /// timeout is not a failure).
    pub(crate) fn read<F>(&mut self, clock: impl Fn() -> Duration, read: F) -> Poll<io::Result<usize>>
    where
        F: FnOnce(&mut [u8]) -> Poll<io::Result<usize>>,
    {
        // The time is read after the read returns: a blocking read may have
        // waited, and the engine's idle and keepalive timers count from now.
        let result = match self.conn.read_buf() {
            Some(room) => {
                let result = read(room);
                let n = match result {
                    Poll::Ready(Ok(n)) => n,
                    _ => 0,
                };
                // `n` is at most the room's length, so this cannot fail; a
                // read that brought nothing lets the room go.
                let committed = self.conn.commit(clock(), n);
                debug_assert!(committed.is_ok());
                result
            }
            None => {
                let pending = &mut self.pending;
                let conn = &mut self.conn;
                let take = |buf: &mut Vec<u8>| {
                    if buf.is_empty() {
                        *buf = vec![0; READ_BUF];
                    }
                    let result = read(buf);
                    if let Poll::Ready(Ok(n)) = result
                        && n > 0
                    {
                        let taken = conn.handle_bytes(clock(), &buf[..n]);
                        pending.extend_from_slice(&buf[taken..n]);
                    }
                    result
                };
                // A socket whose read calls back into another connection on
                // this thread finds the buffer borrowed: it gets its own.
                BUF.with(|cell| match cell.try_borrow_mut() {
                    Ok(mut buf) => take(&mut buf),
                    Err(_) => take(&mut Vec::new()),
                })
            }
        };
        if let Poll::Ready(Ok(0)) = result {
            self.conn.handle_eof(clock());
        }
        result
    }

    /// Writes what the engine transmits with `write` (a vectored write: it
    /// may take any number of the slices, in order) until nothing is left
    /// (`Ready(Ok)`) or the socket takes no more (`Pending`).
    pub(crate) fn write<F>(&mut self, mut write: F) -> Poll<io::Result<()>>
    where
        F: FnMut(&[IoSlice<'_>]) -> Poll<io::Result<usize>>,
    {
        loop {
            if self.queued == 0 {
                // Small frames go from the engine's inline stage through the
                // stack: no buffer to allocate for each transmit.
                let mut small = [0; STAGE];
                let n = self.conn.poll_transmit_small(&mut small);
                if n > 0 {
                    let result = write(&[IoSlice::new(&small[..n])]);
                    let written = match result {
                        Poll::Ready(Ok(m)) if m > 0 => m,
                        _ => 0,
                    };
                    if written < n {
                        // What the socket did not take waits as a transmit of its own.
                        self.out[0] = Bytes::copy_from_slice(&small[written..n]);
                        self.queued = 1;
                    }
                    match result {
                        Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                        Poll::Ready(Ok(_)) => continue,
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => return Poll::Pending,
                    }
                }
            }
            while self.queued < OUT {
                match self.conn.poll_transmit() {
                    Some(bytes) if bytes.is_empty() => {}
                    Some(bytes) => {
                        self.out[self.queued] = bytes;
                        self.queued += 1;
                    }
                    None => break,
                }
            }
            if self.queued == 0 {
                return Poll::Ready(Ok(()));
            }
            let slices: [IoSlice<'_>; OUT] = core::array::from_fn(|i| IoSlice::new(&self.out[i]));
            match write(&slices[..self.queued]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.advance(n),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Drops the first `n` bytes written, keeping the rest in order.
    fn advance(&mut self, mut n: usize) {
        let mut done = 0;
        while n > 0 && done < self.queued {
            let first = &mut self.out[done];
            let step = n.min(first.len());
            first.advance(step);
            n -= step;
            if first.is_empty() {
                done += 1;
            }
        }
        self.out[..self.queued].rotate_left(done);
        self.queued -= done;
        for slot in &mut self.out[self.queued..] {
            *slot = Bytes::new();
        }
    }

    /// Forgets what was taken from the engine and not written: the end came
    /// (a terminate, or the time to write ran out).
    pub(crate) fn drop_queued(&mut self) {
        for slot in &mut self.out {
            *slot = Bytes::new();
        }
        self.queued = 0;
    }

    /// Ends the connection at once (Node's `terminate()`): the engine's queue
    /// and what was taken from it go; a frame cut short is of no matter, as
    /// the socket is to be closed.
    pub(crate) fn terminate(&mut self, now: Duration) {
        self.conn.terminate(now);
        self.discard_output();
    }

    /// Drops everything not yet written, the engine's queue too.
    pub(crate) fn discard_output(&mut self) {
        self.conn.discard_output();
        self.drop_queued();
    }

    /// Bytes queued and not yet written: the engine's queue and what the last
    /// write left.
    pub(crate) fn buffered(&self) -> usize {
        self.conn.buffered_amount() + self.out[..self.queued].iter().map(Bytes::len).sum::<usize>()
    }

    /// Whether a message may be queued now: the queue is below the
    /// high-water mark, or empty (so a mark of zero means one at a time).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn has_room(&self) -> bool {
        let queued = self.buffered();
        queued == 0 || queued < self.write_high_water
    }

    /// Whether `try_send` may queue now: `Err` says why not.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn check_room(&self) -> Result<(), Option<Error>> {
        if self.is_ended() {
            return Err(Some(Error::Local(LocalError::Closed)));
        }
        if !self.has_room() {
            return Err(None);
        }
        Ok(())
    }

    /// Queues a message, without a copy when it is a shared buffer.
    pub(crate) fn send(&mut self, message: Message) -> Result<(), LocalError> {
        match message {
            Message::Text(text) => self.conn.send_text_bytes(text),
            Message::Binary(data) => match data.into_shared() {
                Ok(bytes) => self.conn.send_binary_bytes(bytes),
                Err(inline) => self.conn.send_binary(&inline),
            },
        }
    }
}
