//! The engine under tokio (feature `tokio`): [`WebSocket`] over any
//! `AsyncRead + AsyncWrite`, a [`Stream`] of [`Message`]s and a [`Sink`] of
//! them, with the engine's timers, pings and closing handshake run for you.
//!
//! ```no_run
//! use rfc6455::tokio::{Error, accept};
//!
//! /// Echoes the connections `listener` accepts, one after the other (a
//! /// server spawns a task for each: `examples/tokio_echo.rs`).
//! async fn echo(listener: tokio::net::TcpListener) -> Result<(), Error> {
//!     loop {
//!         let (tcp, _) = listener.accept().await?;
//!         let mut ws = accept(tcp).await?;
//!         while let Some(message) = ws.recv().await {
//!             ws.send(message?).await?;
//!         }
//!     }
//! }
//! ```
//!
//! **Who drives what.** There is no background task: the connection makes
//! progress while one of its methods is polled. [`WebSocket::recv`] (or a
//! read half's) also writes what is queued, so pongs, close replies and
//! keepalive pings go out while the application only awaits messages, even on
//! a read half whose write half is idle. Sending waits while the write queue
//! is at [`Settings::write_high_water`], so a peer that does not read cannot
//! make the sender's memory grow.
//!
//! **Cancellation.** `recv` is cancel-safe: all state lives in the
//! `WebSocket`, none in the future, so a `recv` dropped in `tokio::select!`
//! loses no byte and no message. Each method says what it does when dropped.

mod inner;
mod split;
#[cfg(feature = "rustls")]
mod tls;

/// The rustls that `connect` uses (feature `rustls`), to build a
/// [`ClientConfig`](rustls::ClientConfig) for [`Builder::tls`].
#[cfg(feature = "rustls")]
pub use tokio_rustls::rustls;

use core::future::poll_fn;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::boxed::Box;
use std::io;
use std::string::String;
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::net::TcpStream;
use futures_core::Stream;
use futures_sink::Sink;

use crate::adapter::Driver;
pub use crate::adapter::{Error, Message, Reject, Settings, TrySendError};
use crate::close::{CloseCode, CloseEvent};
use crate::connection::Connection;
use crate::handshake::{Accept, ClientRequest, Opened, Request};
use crate::prepared::Prepared;
use crate::role::Role;
use crate::state::ReadyState;
use inner::Inner;
pub use split::{ReadHalf, WriteHalf};

/// Accepts a WebSocket upgrade on `stream` with the default [`Settings`]: no
/// subprotocol; a request that is not an upgrade is answered 426 and gives
/// [`Error::Rejected`].
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(stream: S) -> Result<WebSocket<S>, Error> {
    Builder::default().accept(stream).await
}

/// Accepts or refuses the upgrade request on `stream` as `decide` says: it
/// sees the [`Request`] (path, headers, offered subprotocols) and returns an
/// [`Accept`] (with the subprotocol it picked) or a [`Reject`] (401, 404, a
/// page for a plain `GET`).
pub async fn accept_with<S, F>(stream: S, decide: F) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> Result<Accept, Reject>,
{
    Builder::default().accept_with(stream, decide).await
}

/// Connects to a `ws://` URL over TCP (`Nagle` off), or with the feature
/// `rustls` a `wss://` URL over TLS trusting the platform's roots, with the
/// default [`Settings`] ([`Builder::tls`] for other roots). The engine's
/// handshake timeout starts once TCP (and TLS) are up: bound the connect
/// with `tokio::time::timeout` if the network may not answer.
pub async fn connect(url: &str) -> Result<WebSocket<ClientStream>, Error> {
    Builder::default().connect(url).await
}

/// The client handshake for `request` over a stream the caller connected.
pub async fn connect_with<S: AsyncRead + AsyncWrite + Unpin>(
    request: &ClientRequest,
    stream: S,
) -> Result<WebSocket<S>, Error> {
    Builder::default().connect_with(request, stream).await
}

/// The handshakes with [`Settings`] of your own.
///
/// ```
/// use std::time::Duration;
/// use rfc6455::{Config, tokio::{Builder, Settings}};
/// let builder = Builder::new(
///     Settings::default().config(Config::default().idle_timeout(Some(Duration::from_secs(60)))),
/// );
/// ```
///
/// None of its futures is cancel-safe: dropping one abandons the connection.
#[derive(Clone, Debug, Default)]
pub struct Builder {
    settings: Settings,
    /// `wss://`: the client configuration, if not the platform's roots.
    #[cfg(feature = "rustls")]
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl Builder {
    /// Handshakes with these settings.
    #[allow(clippy::needless_update)] // `tls` is there with the feature `rustls`
    pub fn new(settings: Settings) -> Self {
        Builder { settings, ..Builder::default() }
    }

    /// `wss://` with this TLS configuration (roots of your own, client
    /// certificates, ALPN) instead of the platform's roots (feature `rustls`).
    #[cfg(feature = "rustls")]
    #[must_use]
    pub fn tls(mut self, config: std::sync::Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// `wss://` trusting these roots alone (feature `rustls`), with the
    /// process's crypto provider or ring.
    #[cfg(feature = "rustls")]
    pub fn tls_roots(self, roots: rustls::RootCertStore) -> Result<Self, Error> {
        Ok(self.tls(tls::config_with_roots(roots)?))
    }

    /// As [`accept`](fn@accept).
    pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(&self, stream: S) -> Result<WebSocket<S>, Error> {
        self.accept_with(stream, |_| Ok(Accept::new())).await
    }

    /// As [`accept_with`](fn@accept_with).
    pub async fn accept_with<S, F>(&self, stream: S, decide: F) -> Result<WebSocket<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(&Request) -> Result<Accept, Reject>,
    {
        // On the heap for the handshake only: a task that awaits it inline
        // would keep its room (the connection's size again) while idle.
        Box::pin(self.server_handshake(stream, decide)).await
    }

    async fn server_handshake<S, F>(&self, stream: S, decide: F) -> Result<WebSocket<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(&Request) -> Result<Accept, Reject>,
    {
        let conn = Connection::server(Duration::ZERO, Driver::config(&self.settings));
        let mut inner = Inner::new(stream, conn, &self.settings);
        poll_fn(|cx| inner.poll_handshake(cx)).await?;
        let now = inner.now();
        if let Some(status) = inner.d.answer(now, decide)? {
            poll_fn(|cx| inner.poll_closed(cx)).await;
            return Err(Error::Rejected(status));
        }
        // The 101 goes out now, not with the first message.
        poll_fn(|cx| inner.poll_flush(cx)).await?;
        Ok(WebSocket { inner })
    }

    /// As [`connect`](fn@connect).
    pub async fn connect(&self, url: &str) -> Result<WebSocket<ClientStream>, Error> {
        let request = ClientRequest::new(url)?;
        #[cfg(not(feature = "rustls"))]
        if request.is_secure() {
            return Err(Error::TlsUnavailable);
        }
        let tcp = TcpStream::connect((request.host(), request.port())).await?;
        tcp.set_nodelay(true)?;
        let stream = match request.is_secure() {
            #[cfg(feature = "rustls")]
            true => {
                let config = match &self.tls {
                    Some(config) => config.clone(),
                    None => tls::platform_config()?,
                };
                ClientStream::Tls(std::boxed::Box::new(tls::handshake(config, request.host(), tcp).await?))
            }
            _ => ClientStream::Plain(tcp),
        };
        self.connect_with(&request, stream).await
    }

    /// As [`connect_with`](fn@connect_with).
    pub async fn connect_with<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        request: &ClientRequest,
        stream: S,
    ) -> Result<WebSocket<S>, Error> {
        let conn = Connection::client(Duration::ZERO, request, Driver::config(&self.settings))?;
        // On the heap for the handshake only, as for a server.
        let mut inner = Box::new(Inner::new(stream, conn, &self.settings));
        poll_fn(|cx| inner.poll_handshake(cx)).await?;
        Ok(WebSocket { inner: *inner })
    }

    /// A connection whose handshake was done elsewhere (hyper or axum's
    /// upgrade, HTTP/2 extended CONNECT): OPEN at once, with the subprotocol
    /// agreed on.
    pub fn open<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: S,
        role: Role,
        protocol: Option<String>,
    ) -> WebSocket<S> {
        let conn = Connection::open(Duration::ZERO, role, protocol, Driver::config(&self.settings));
        WebSocket { inner: Inner::new(stream, conn, &self.settings) }
    }
}

/// A WebSocket connection over `S`.
///
/// Receive with [`recv`](Self::recv) or as a [`Stream`]; send with
/// [`send`](Self::send), [`try_send`](Self::try_send) or as a [`Sink`]; end
/// with [`close`](Self::close). [`split`](Self::split) gives halves that two
/// tasks can use at once.
pub struct WebSocket<S> {
    inner: Inner<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// The next message. `None` once the connection has closed cleanly (see
    /// [`close_event`](Self::close_event)); after any other end, the failure
    /// once, then `None`. Meanwhile it answers pings, writes what is queued
    /// and runs the engine's timers.
    ///
    /// Cancel-safe: dropping the future loses nothing; the next call goes on
    /// where it stopped.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| self.inner.poll_recv(cx)).await
    }

    /// [`recv`](Self::recv) as a poll function.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        self.inner.poll_recv(cx)
    }

    /// Sends a message and waits until it is written to the socket: first
    /// until the write queue is below [`Settings::write_high_water`], then
    /// until everything queued is written.
    ///
    /// If dropped while it waits for room, the message is dropped unsent; once
    /// queued, it goes out with the next call that writes (`recv`, `flush`,
    /// another `send`).
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        poll_fn(|cx| self.inner.poll_ready(cx)).await?;
        self.inner.d.send(message.into())?;
        poll_fn(|cx| self.inner.poll_flush(cx)).await
    }

    /// Queues a message without waiting, unless the write queue is at
    /// [`Settings::write_high_water`]: then it hands the message back. It is
    /// written by the next call that writes (`recv`, `flush`, `send`).
    pub fn try_send(&mut self, message: impl Into<Message>) -> Result<(), TrySendError> {
        try_send(&mut self.inner, message.into())
    }

    /// Sends a message encoded once for many connections (see
    /// [`Prepared`]), as [`send`](Self::send) does: a server queues the
    /// shared frame, without a copy.
    pub async fn send_prepared(&mut self, message: &Prepared) -> Result<(), Error> {
        poll_fn(|cx| self.inner.poll_ready(cx)).await?;
        self.inner.d.conn.send_prepared(message)?;
        poll_fn(|cx| self.inner.poll_flush(cx)).await
    }

    /// Queues a [`Prepared`] message without waiting, as
    /// [`try_send`](Self::try_send) does; `Full` when the write queue is at
    /// the high-water mark. A fan-out loop calls it on every recipient.
    pub fn try_send_prepared(&mut self, message: &Prepared) -> Result<(), TrySendError<()>> {
        try_send_prepared(&mut self.inner, message)
    }

    /// Waits until everything queued is written and the socket flushed.
    /// Cancel-safe.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.inner.poll_flush(cx)).await
    }

    /// Sends a ping (up to 125 bytes) and waits until it is written.
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.inner.d.conn.send_ping(payload)?;
        poll_fn(|cx| self.inner.poll_flush(cx)).await
    }

    /// Closes with `code` and `reason` (at most 123 bytes), as the browser's
    /// `close(code, reason)`, and waits for the end: the peer's answer (or
    /// the close timeout), the write side shut down, the linger. Messages
    /// that arrive meanwhile are dropped. [`CloseCode::NO_STATUS`] with an
    /// empty reason sends a close frame without a code.
    ///
    /// Gives the close event, as the browser's `CloseEvent`. A code that may
    /// not be sent is an error and changes nothing. Cancel-safe: call it
    /// again to go on waiting.
    pub async fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<CloseEvent, Error> {
        self.inner.start_close(code.into(), reason)?;
        Ok(poll_fn(|cx| self.inner.poll_closed(cx)).await)
    }

    /// Starts the closing handshake and writes the close frame, without
    /// waiting for the answer: messages that were on their way still come
    /// from [`recv`](Self::recv), which gives `None` at the end. Calling it
    /// again, or [`close`](Self::close), once closing does nothing more.
    /// Cancel-safe.
    pub async fn start_close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), Error> {
        self.inner.start_close(code.into(), reason)?;
        poll_fn(|cx| self.inner.poll_flush(cx)).await
    }

    /// Ends the connection at once, without a closing handshake, as Node's
    /// `terminate()`: everything not yet written is dropped (a frame partly
    /// written included) and the close event reports 1006 (unless the
    /// connection had ended already). Drop the `WebSocket` to
    /// close the socket (or await `recv` or `close`, which then shut the
    /// write side down and linger first).
    pub fn terminate(&mut self) {
        self.inner.terminate();
    }

    /// Splits into a read half and a write half that two tasks can use at
    /// once; neither waits for the other's I/O. The read half keeps the
    /// connection going on its own: it writes pongs, close replies and
    /// keepalive pings itself. A write half alone never reads (pings then go
    /// unanswered until it closes); its `close` reads the answer only once
    /// the read half is dropped.
    pub fn split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        split::split(self.inner)
    }
}

impl<S> WebSocket<S> {
    /// The browser's `readyState`.
    pub fn ready_state(&self) -> ReadyState {
        self.inner.d.conn.ready_state()
    }

    /// The subprotocol agreed on, as the browser's `protocol`.
    pub fn protocol(&self) -> Option<&str> {
        self.inner.d.conn.protocol()
    }

    /// The extensions agreed on, as the browser's `extensions`.
    pub fn extensions(&self) -> &[String] {
        self.inner.d.conn.extensions()
    }

    /// Client: the server's 101 response (its headers, the protocol and
    /// extensions it agreed to). `None` on a server or an opened connection.
    pub fn response(&self) -> Option<&Opened> {
        self.inner.d.response()
    }

    /// Bytes queued and not yet written to the socket (frames with their
    /// headers), the measure [`Settings::write_high_water`] applies to.
    pub fn buffered_amount(&self) -> usize {
        self.inner.d.buffered()
    }

    /// The close event, once the connection has ended.
    pub fn close_event(&self) -> Option<&CloseEvent> {
        self.inner.d.closed.as_ref()
    }

    /// The engine, to read its state.
    pub fn connection(&self) -> &Connection {
        &self.inner.d.conn
    }

    /// The socket.
    pub fn get_ref(&self) -> &S {
        &self.inner.io
    }
}

impl<S> core::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebSocket").field("ready_state", &self.ready_state()).finish_non_exhaustive()
    }
}

/// What `try_send` does on either handle.
fn try_send<S: AsyncRead + AsyncWrite + Unpin>(inner: &mut Inner<S>, message: Message) -> Result<(), TrySendError> {
    match inner.d.check_room() {
        Ok(()) => inner.d.send(message).map_err(|e| TrySendError::Failed(Error::Local(e))),
        Err(Some(e)) => Err(TrySendError::Failed(e)),
        Err(None) => Err(TrySendError::Full(message)),
    }
}

/// What `try_send_prepared` does on either handle.
fn try_send_prepared<S: AsyncRead + AsyncWrite + Unpin>(
    inner: &mut Inner<S>,
    message: &Prepared,
) -> Result<(), TrySendError<()>> {
    match inner.d.check_room() {
        Ok(()) => inner.d.conn.send_prepared(message).map_err(|e| TrySendError::Failed(Error::Local(e))),
        Err(Some(e)) => Err(TrySendError::Failed(e)),
        Err(None) => Err(TrySendError::Full(())),
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocket<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().inner.poll_recv(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocket<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        Ok(self.get_mut().inner.d.send(message)?)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_flush(cx)
    }

    /// Closes with 1000 and waits for the end, as [`WebSocket::close`].
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let inner = &mut self.get_mut().inner;
        inner.start_close(CloseCode::NORMAL, "")?;
        inner.poll_closed(cx).map(|_| Ok(()))
    }
}

/// The socket [`connect`](fn@connect) opens: TCP, or (feature `rustls`)
/// TLS over TCP for `wss://`.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientStream {
    /// `ws://`.
    Plain(TcpStream),
    /// `wss://`.
    #[cfg(feature = "rustls")]
    Tls(std::boxed::Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl ClientStream {
    /// The TCP stream.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            ClientStream::Plain(tcp) => tcp,
            #[cfg(feature = "rustls")]
            ClientStream::Tls(tls) => tls.get_ref().0,
        }
    }
}

/// Forwards a poll to the stream inside.
macro_rules! forward {
    ($self:ident, $stream:ident => $call:expr) => {
        match $self.get_mut() {
            ClientStream::Plain($stream) => {
                let $stream = Pin::new($stream);
                $call
            }
            #[cfg(feature = "rustls")]
            ClientStream::Tls($stream) => {
                let $stream = Pin::new(&mut **$stream);
                $call
            }
        }
    };
}

impl AsyncRead for ClientStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        forward!(self, stream => stream.poll_read(cx, buf))
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        forward!(self, stream => stream.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        slices: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        forward!(self, stream => stream.poll_write_vectored(cx, slices))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            ClientStream::Plain(tcp) => tcp.is_write_vectored(),
            #[cfg(feature = "rustls")]
            ClientStream::Tls(tls) => tls.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        forward!(self, stream => stream.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        forward!(self, stream => stream.poll_shutdown(cx))
    }
}
