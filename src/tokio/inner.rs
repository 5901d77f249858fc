//! One connection over an async socket: the polled steps every handle
//! ([`WebSocket`](super::WebSocket), its halves, the handshake) is built from.
//!
//! Nothing here awaits: each `poll_*` does what it can, registers the waker
//! with the socket or the timer, and returns. Every piece of state lives in
//! [`Inner`], none in a future, which is what makes `recv` cancel-safe.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::boxed::Box;
use std::io;
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::time::{Instant, Sleep, sleep_until};

use crate::adapter::{Driver, Error, Message, Settings, Step};
use crate::close::CloseEvent;
use crate::connection::Connection;
use crate::local_error::LocalError;

/// How far the end of the transport has got, once the connection closed.
/// Each step has a deadline: a peer that stops reading cannot hold the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Finish {
    /// The connection is not closed yet.
    Running,
    /// Writing what is left (a close reply, a rejection), until this time.
    Writing(Instant),
    /// Shutting the write side down, until this time.
    ShuttingDown(Instant),
    /// Reading and dropping the peer's last bytes until EOF or this time.
    Lingering(Instant),
    Done,
}

/// The least time the end gets to write what is left, when the linger is
/// shorter (or zero).
const WRITE_LEFT: Duration = Duration::from_secs(1);

/// `now + d`, or a year from now where that does not fit.
fn later(now: Instant, d: Duration) -> Instant {
    now.checked_add(d).unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600))
}

pub(crate) struct Inner<S> {
    pub(crate) io: S,
    pub(crate) d: Driver,
    /// The engine's time origin.
    start: Instant,
    /// The engine's deadline, or the linger's: made the first time one is
    /// armed, so a connection without timers never holds one.
    sleep: Option<Pin<Box<Sleep>>>,
    finish: Finish,
    /// Split: the read half was dropped, so closing must read for itself.
    pub(crate) reader_gone: bool,
    /// The end gave up bytes it could not write (a flush then fails).
    unwritten: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Inner<S> {
    /// `conn` was made at time zero, now.
    pub(crate) fn new(io: S, conn: Connection, settings: &Settings) -> Self {
        Inner {
            io,
            d: Driver::new(conn, settings),
            start: Instant::now(),
            sleep: None,
            finish: Finish::Running,
            reader_gone: false,
            unwritten: false,
        }
    }

    /// The engine's time.
    pub(crate) fn now(&self) -> Duration {
        self.start.elapsed()
    }

    // ----- steps -----

    /// Writes what the engine transmits, then flushes the socket.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let io = &mut self.io;
        ready!(self.d.write(|slices| Pin::new(&mut *io).poll_write_vectored(cx, slices)))?;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    /// One read into the engine.
    fn poll_read_in(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let start = self.start;
        let io = &mut self.io;
        self.d.read(
            move || start.elapsed(),
            |buf| {
                let mut buf = ReadBuf::new(buf);
                Pin::new(&mut *io).poll_read(cx, &mut buf).map_ok(|()| buf.filled().len())
            },
        )
    }

    /// Arms the sleep at `at`; whether it has passed.
    fn poll_sleep(&mut self, cx: &mut Context<'_>, at: Instant) -> bool {
        let sleep = match &mut self.sleep {
            Some(sleep) => {
                if sleep.deadline() != at {
                    sleep.as_mut().reset(at);
                }
                sleep
            }
            None => self.sleep.insert(Box::pin(sleep_until(at))),
        };
        sleep.as_mut().poll(cx).is_ready()
    }

    /// Arms the engine's timer; whether it ran out (the engine was told).
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        // Once the end began, the sleep is its deadline's, not the engine's
        // (which has none left).
        if self.finish != Finish::Running {
            return false;
        }
        let Some(at) = self.d.conn.poll_timeout() else {
            // No timer runs (an open connection without keepalive or idle
            // timeout): the sleep goes, so an idle connection holds none.
            self.sleep = None;
            return false;
        };
        // A deadline past what an `Instant` holds (a timer of `Duration::MAX`) never comes.
        let Some(at) = self.start.checked_add(at) else {
            self.sleep = None;
            return false;
        };
        if self.poll_sleep(cx, at) {
            let now = self.now();
            self.d.conn.handle_timeout(now);
            return true;
        }
        false
    }

    /// One round of I/O: write, the timer, one read. `Ready` when something
    /// happened (look at the events again), `Pending` when all three wait.
    fn poll_io(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let now = self.now();
        if let Poll::Ready(Err(e)) = self.poll_write_out(cx) {
            self.d.fail(now, &e);
            return Poll::Ready(());
        }
        if self.poll_timer(cx) {
            return Poll::Ready(());
        }
        match ready!(self.poll_read_in(cx)) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => self.d.fail(now, &e),
            _ => {}
        }
        Poll::Ready(())
    }

    /// Once closed: writes what is left, shuts the write side down, lingers;
    /// each within its deadline ([`WRITE_LEFT`] or the linger, whichever is
    /// longer, for the writes).
    fn poll_finish(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            match self.finish {
                Finish::Running => self.finish = Finish::Writing(later(Instant::now(), self.d.linger.max(WRITE_LEFT))),
                Finish::Writing(until) => {
                    let before = self.d.buffered();
                    match self.poll_write_out(cx) {
                        Poll::Ready(Ok(())) => self.finish = Finish::ShuttingDown(until),
                        Poll::Ready(Err(_)) => self.finish = Finish::Done,
                        // A write that made progress moves the deadline: it
                        // bounds a stall, not a long drain.
                        Poll::Pending if self.d.buffered() < before => {
                            self.finish = Finish::Writing(later(Instant::now(), self.d.linger.max(WRITE_LEFT)));
                        }
                        Poll::Pending if self.poll_sleep(cx, until) => self.finish = Finish::Done,
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Finish::ShuttingDown(until) => match Pin::new(&mut self.io).poll_shutdown(cx) {
                    Poll::Ready(Ok(())) if !self.d.linger.is_zero() => {
                        self.finish = Finish::Lingering(later(Instant::now(), self.d.linger));
                    }
                    Poll::Ready(_) => self.finish = Finish::Done,
                    Poll::Pending if self.poll_sleep(cx, until) => self.finish = Finish::Done,
                    Poll::Pending => return Poll::Pending,
                },
                Finish::Lingering(until) => {
                    if self.poll_sleep(cx, until) {
                        self.finish = Finish::Done;
                        continue;
                    }
                    // The engine is closed: it takes these bytes and drops them.
                    match ready!(self.poll_read_in(cx)) {
                        Ok(0) | Err(_) => self.finish = Finish::Done,
                        Ok(_) => {}
                    }
                }
                Finish::Done => {
                    // Whatever could not be written in time goes, the
                    // engine's queue too: nothing may follow a frame cut short.
                    self.unwritten |= self.d.buffered() > 0;
                    self.d.discard_output();
                    self.sleep = None;
                    return Poll::Ready(());
                }
            }
        }
    }

    // ----- what the handles call -----

    /// The next message; `None` after a clean end, the failure once after
    /// another, then `None`. Pings are answered and queued bytes written
    /// meanwhile.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        loop {
            match self.d.next(self.now()) {
                Some(Step::Message(message)) => return Poll::Ready(Some(Ok(message))),
                Some(Step::Open | Step::Request) => continue,
                None => {}
            }
            if self.d.is_closed() {
                ready!(self.poll_finish(cx));
                return Poll::Ready(self.d.take_failure().map(Err));
            }
            ready!(self.poll_io(cx));
        }
    }

    /// Until the request (server) or the opening (client) arrives.
    pub(crate) fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            match self.d.next(self.now()) {
                Some(Step::Request | Step::Open) => return Poll::Ready(Ok(())),
                // None comes before the opening.
                Some(Step::Message(_)) => continue,
                None => {}
            }
            if self.d.is_closed() {
                ready!(self.poll_finish(cx));
                let failure = self.d.take_failure();
                return Poll::Ready(Err(failure.unwrap_or(Error::Connection(crate::Error::ClosedBeforeOpen))));
            }
            ready!(self.poll_io(cx));
        }
    }

    /// Until the connection has closed and the transport ended; messages
    /// that arrive meanwhile are dropped, as the browser drops them once
    /// `close()` was called.
    pub(crate) fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<CloseEvent> {
        loop {
            while self.d.next(self.now()).is_some() {}
            if let Some(close) = &self.d.closed {
                let close = close.clone();
                ready!(self.poll_finish(cx));
                return Poll::Ready(close);
            }
            ready!(self.poll_io(cx));
        }
    }

    /// Until a message may be queued: the write queue is below the high-water
    /// mark. Writes (and runs the timer) meanwhile.
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            if self.d.is_ended() {
                // The end is driven from here too (with its deadlines), so a
                // sender whose connection a timer ended does not wait on a
                // socket that will never take the rest.
                ready!(self.poll_finish(cx));
                return Poll::Ready(Err(Error::Local(LocalError::Closed)));
            }
            if self.d.has_room() {
                // Armed with this waker too, as `poll_flush` does.
                if self.poll_timer(cx) {
                    continue;
                }
                return Poll::Ready(Ok(()));
            }
            match self.poll_write_out(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => {
                    self.d.fail(self.now(), &e);
                    return Poll::Ready(Err(Error::Io(e)));
                }
                Poll::Pending if self.poll_timer(cx) => {}
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Until everything queued is written and the socket flushed.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            if self.d.is_ended() {
                // As in `poll_ready`: the end writes what it can in time; a
                // flush whose bytes were given up on fails.
                ready!(self.poll_finish(cx));
                return Poll::Ready(match self.unwritten {
                    true => Err(Error::Local(LocalError::Closed)),
                    false => Ok(()),
                });
            }
            match self.poll_write_out(cx) {
                // The timer is armed too: a close just sent starts the close
                // timer, which must wake someone even if nobody reads.
                Poll::Ready(Ok(())) if self.poll_timer(cx) => {}
                Poll::Ready(Ok(())) => return Poll::Ready(Ok(())),
                Poll::Ready(Err(e)) => {
                    self.d.fail(self.now(), &e);
                    return Poll::Ready(Err(Error::Io(e)));
                }
                Poll::Pending if self.poll_timer(cx) => {}
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Ends at once without a closing handshake: nothing more is written.
    pub(crate) fn terminate(&mut self) {
        let now = self.now();
        self.d.terminate(now);
    }

    /// Starts the closing handshake, unless it started already.
    pub(crate) fn start_close(&mut self, code: crate::CloseCode, reason: &str) -> Result<(), Error> {
        let now = self.now();
        self.d.start_close(now, code, reason)
    }
}
