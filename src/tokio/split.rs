//! [`WebSocket::split`](super::WebSocket::split): two handles on one
//! connection, for two tasks.
//!
//! The connection sits behind a mutex that is held only inside a poll (never
//! across an await), so a half waits for the other's CPU work at most, never
//! for its I/O. The socket and the timer are polled with one waker that wakes
//! both halves' tasks: either half may be the one that writes a pong or reads
//! the peer's close, and tokio keeps only one waker per direction of a
//! socket, so a half that registered alone could miss its wake-up.

use core::future::poll_fn;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Wake;

use ::tokio::io::{AsyncRead, AsyncWrite};
use futures_core::Stream;
use futures_sink::Sink;

use super::inner::Inner;
use super::{Error, Message, TrySendError};
use crate::close::{CloseCode, CloseEvent};
use crate::prepared::Prepared;
use crate::state::ReadyState;

/// Which half a waker belongs to.
#[derive(Clone, Copy)]
enum Half {
    Read,
    Write,
}

/// The two halves' wakers; waking it wakes both.
#[derive(Default)]
struct Wakers {
    read: Mutex<Option<Waker>>,
    write: Mutex<Option<Waker>>,
}

impl Wakers {
    fn slot(&self, half: Half) -> MutexGuard<'_, Option<Waker>> {
        let slot = match half {
            Half::Read => &self.read,
            Half::Write => &self.write,
        };
        slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn register(&self, half: Half, waker: &Waker) {
        let mut slot = self.slot(half);
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    fn wake_half(&self, half: Half) {
        // Taken out first: the slot's lock is not held while the task wakes.
        let waker = self.slot(half).take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wake_half(Half::Read);
        self.wake_half(Half::Write);
    }
}

struct Shared<S> {
    inner: Mutex<Inner<S>>,
    wakers: Arc<Wakers>,
    /// `wakers` as a waker, made once.
    waker: Waker,
}

impl<S> Shared<S> {
    fn lock(&self) -> MutexGuard<'_, Inner<S>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the connection with the shared waker, `cx`'s registered
    /// for `half`. When `f` ended the connection or changed its deadline,
    /// the other half is woken to see it (it may be parked on a socket that
    /// will never be ready again).
    fn poll<R>(&self, half: Half, cx: &Context<'_>, f: impl FnOnce(&mut Inner<S>, &mut Context<'_>) -> R) -> R {
        self.wakers.register(half, cx.waker());
        let mut inner = self.lock();
        let before = (inner.d.is_ended(), inner.d.conn.poll_timeout());
        let out = f(&mut inner, &mut Context::from_waker(&self.waker));
        let changed = (inner.d.is_ended(), inner.d.conn.poll_timeout()) != before;
        drop(inner);
        if changed {
            self.wakers.wake_half(match half {
                Half::Read => Half::Write,
                Half::Write => Half::Read,
            });
        }
        out
    }
}

pub(super) fn split<S>(inner: Inner<S>) -> (ReadHalf<S>, WriteHalf<S>) {
    let wakers = Arc::new(Wakers::default());
    let waker = Waker::from(wakers.clone());
    let shared = Arc::new(Shared { inner: Mutex::new(inner), wakers, waker });
    (ReadHalf { shared: shared.clone() }, WriteHalf { shared })
}

/// The receiving half of a split [`WebSocket`](super::WebSocket). It also
/// writes what the connection queues (pongs, close replies, keepalive pings,
/// and messages the write half queued), so the connection goes on while only
/// this half is awaited.
pub struct ReadHalf<S> {
    shared: Arc<Shared<S>>,
}

/// The sending half of a split [`WebSocket`](super::WebSocket).
pub struct WriteHalf<S> {
    shared: Arc<Shared<S>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> ReadHalf<S> {
    /// As [`WebSocket::recv`](super::WebSocket::recv), cancel-safe.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`recv`](Self::recv) as a poll function.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        self.shared.poll(Half::Read, cx, |inner, cx| inner.poll_recv(cx))
    }
}

impl<S> ReadHalf<S> {
    /// The browser's `readyState`.
    pub fn ready_state(&self) -> ReadyState {
        self.shared.lock().d.conn.ready_state()
    }

    /// The close event, once the connection has ended.
    pub fn close_event(&self) -> Option<CloseEvent> {
        self.shared.lock().d.closed.clone()
    }
}

impl<S> Drop for ReadHalf<S> {
    /// The write half's `close` now reads the peer's answer itself.
    fn drop(&mut self) {
        self.shared.lock().reader_gone = true;
        self.shared.wakers.wake_half(Half::Write);
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WriteHalf<S> {
    /// As [`WebSocket::send`](super::WebSocket::send).
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        poll_fn(|cx| self.shared.poll(Half::Write, cx, |inner, cx| inner.poll_ready(cx))).await?;
        self.shared.lock().d.send(message.into())?;
        self.flush().await
    }

    /// As [`WebSocket::try_send`](super::WebSocket::try_send); the read
    /// half's task is woken to write it if the write half is not flushed.
    pub fn try_send(&mut self, message: impl Into<Message>) -> Result<(), TrySendError> {
        super::try_send(&mut self.shared.lock(), message.into())?;
        self.shared.wakers.wake_half(Half::Read);
        Ok(())
    }

    /// As [`WebSocket::send_prepared`](super::WebSocket::send_prepared).
    pub async fn send_prepared(&mut self, message: &Prepared) -> Result<(), Error> {
        poll_fn(|cx| self.shared.poll(Half::Write, cx, |inner, cx| inner.poll_ready(cx))).await?;
        self.shared.lock().d.conn.send_prepared(message)?;
        self.flush().await
    }

    /// As [`WebSocket::try_send_prepared`](super::WebSocket::try_send_prepared);
    /// the read half's task is woken to write it.
    pub fn try_send_prepared(&mut self, message: &Prepared) -> Result<(), TrySendError<()>> {
        super::try_send_prepared(&mut self.shared.lock(), message)?;
        self.shared.wakers.wake_half(Half::Read);
        Ok(())
    }

    /// As [`WebSocket::flush`](super::WebSocket::flush), cancel-safe.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.shared.poll(Half::Write, cx, |inner, cx| inner.poll_flush(cx))).await
    }

    /// As [`WebSocket::ping`](super::WebSocket::ping).
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.shared.lock().d.conn.send_ping(payload)?;
        self.flush().await
    }

    /// Starts the closing handshake, as
    /// [`WebSocket::close`](super::WebSocket::close), and waits until the
    /// close frame is written. The read half sees the end (its `recv` gives
    /// `None` once the peer answered); if the read half was dropped, this
    /// waits for the end itself. Cancel-safe.
    pub async fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), Error> {
        self.shared.lock().start_close(code.into(), reason)?;
        // The close timer now runs: the read half's task arms it.
        self.shared.wakers.wake_half(Half::Read);
        poll_fn(|cx| self.poll_closing(cx)).await
    }

    fn poll_closing(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.shared.poll(Half::Write, cx, |inner, cx| match inner.reader_gone {
            true => inner.poll_closed(cx).map(|_| Ok(())),
            false => inner.poll_flush(cx),
        })
    }

    /// As [`WebSocket::terminate`](super::WebSocket::terminate).
    pub fn terminate(&mut self) {
        self.shared.lock().terminate();
        self.shared.wakers.wake_half(Half::Read);
    }
}

impl<S> WriteHalf<S> {
    /// As [`WebSocket::buffered_amount`](super::WebSocket::buffered_amount).
    pub fn buffered_amount(&self) -> usize {
        self.shared.lock().d.buffered()
    }

    /// The browser's `readyState`.
    pub fn ready_state(&self) -> ReadyState {
        self.shared.lock().d.conn.ready_state()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for ReadHalf<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WriteHalf<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.shared.poll(Half::Write, cx, |inner, cx| inner.poll_ready(cx))
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        Ok(self.shared.lock().d.send(message)?)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.shared.poll(Half::Write, cx, |inner, cx| inner.poll_flush(cx))
    }

    /// Closes with 1000, as [`WriteHalf::close`].
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        let started = this.shared.lock().start_close(CloseCode::NORMAL, "");
        started?;
        this.shared.wakers.wake_half(Half::Read);
        this.poll_closing(cx)
    }
}
