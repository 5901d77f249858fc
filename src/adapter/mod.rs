//! What the runtime adapters ([`blocking`](crate::blocking), and `tokio` with
//! its feature)
//! share: the [`Message`] they deliver and take, their [`Error`], their
//! [`Settings`], and the glue that drives a [`Connection`](crate::Connection)
//! from a socket.
//!
//! The adapters are thin: the engine does the protocol, they do the I/O. An
//! adapter reads into the engine's room (or a per-thread buffer, so that an
//! idle connection holds no read buffer), writes what the engine transmits,
//! arms the engine's timer, and turns events into messages. Pings are answered
//! by the engine ([`Config::auto_pong`](crate::Config::auto_pong)); pongs are
//! taken and dropped.

mod driver;

use std::fmt;
use std::io;
use std::string::String;
use std::time::Duration;
use std::vec::Vec;

use bytes::Bytes;

use crate::config::Config;
use crate::local_error::LocalError;
use crate::payload::{Payload, Text};

pub(crate) use driver::{Driver, Step};

/// A whole data message, received or to send.
///
/// Both kinds hold the engine's [`Payload`]: a message up to
/// [`Payload::INLINE`] bytes lives inside the value (no heap), a larger one is
/// a [`Bytes`], the buffer it was assembled in, handed over without a copy.
/// [`Message::into_bytes`] gives `Bytes` either way. Text keeps the engine's
/// guarantee that it is UTF-8.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Message {
    /// A text message: valid UTF-8.
    Text(Text),
    /// A binary message.
    Binary(Payload),
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<Text>) -> Self {
        Message::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Payload>) -> Self {
        Message::Binary(data.into())
    }

    /// Whether it is text.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// The payload's bytes (for text, its UTF-8).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) => b,
        }
    }

    /// The length of the payload in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The payload as [`Bytes`]; copies only an inline one.
    pub fn into_bytes(self) -> Bytes {
        match self {
            Message::Text(t) => t.into_payload().into_bytes(),
            Message::Binary(b) => b.into_bytes(),
        }
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Self {
        Message::Text(s.into())
    }
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Message::Text(s.into())
    }
}

impl From<Text> for Message {
    fn from(t: Text) -> Self {
        Message::Text(t)
    }
}

impl From<&[u8]> for Message {
    fn from(b: &[u8]) -> Self {
        Message::Binary(b.into())
    }
}

impl From<Vec<u8>> for Message {
    fn from(b: Vec<u8>) -> Self {
        Message::Binary(b.into())
    }
}

impl From<Bytes> for Message {
    fn from(b: Bytes) -> Self {
        Message::Binary(b.into())
    }
}

impl From<Payload> for Message {
    fn from(b: Payload) -> Self {
        Message::Binary(b)
    }
}

/// A server's refusal of an upgrade request, for an adapter's `accept_with`:
/// the status, extra headers and a body. The engine adds `Content-Length`
/// and `Connection: close`, and sends no body to a `HEAD` request.
///
/// ```
/// let no = rfc6455::adapter::Reject::new(401).header("WWW-Authenticate", "Bearer").body("log in first\n");
/// assert_eq!(no.status(), 401);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reject {
    /// A refusal with this status and no body.
    pub fn new(status: u16) -> Self {
        Reject { status, headers: Vec::new(), body: Vec::new() }
    }

    /// Adds a response header.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The answer to a request that is not an upgrade (a plain `GET`),
    /// whatever the application decided.
    pub(crate) fn not_upgrade() -> Self {
        Reject::new(426).header("Upgrade", "websocket").body("WebSocket only\n")
    }

    /// The headers as the engine's `reject` takes them.
    pub(crate) fn parts(&self) -> (u16, Vec<(&str, &str)>, &[u8]) {
        (self.status, self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect(), &self.body)
    }
}

/// Settings of an adapter's connection: the engine's [`Config`], and what
/// only an adapter has (a write buffer, a socket to linger on).
///
/// ```
/// use std::time::Duration;
/// let settings = rfc6455::adapter::Settings::default()
///     .config(rfc6455::Config::default().keepalive_interval(Some(Duration::from_secs(20))))
///     .write_high_water(256 << 10);
/// assert_eq!(settings.linger, Duration::from_secs(1));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Settings {
    /// The engine's settings. The adapters deliver whole messages, so they
    /// use [`ReceiveMode::Messages`](crate::ReceiveMode::Messages) whatever
    /// this says; [`Config::max_message_size`] bounds a message (1009 past it).
    pub config: Config,
    /// Sending waits (and `try_send` hands the message back) while this many
    /// bytes or more are queued and not yet written to the socket: frames
    /// with their headers, as
    /// [`Connection::buffered_amount`](crate::Connection::buffered_amount)
    /// counts them, plus what a write left. A message is queued whole once
    /// the queue is below the mark, so the queue holds at most this plus one
    /// message. Default 64 KiB.
    pub write_high_water: usize,
    /// After the connection ends and the last bytes are written, the write
    /// side is shut down and reads are drained (and dropped) until the peer
    /// closes or this much time passes, so that the peer's late bytes do not
    /// make the kernel reset the connection and destroy ours before they are
    /// read. Zero skips it. Writing those last bytes may stall for this long
    /// too (1 s at least) before they are given up. Default 1 s.
    pub linger: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { config: Config::default(), write_high_water: 64 << 10, linger: Duration::from_secs(1) }
    }
}

impl Settings {
    /// Sets [`config`](Self::config).
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets [`write_high_water`](Self::write_high_water).
    #[must_use]
    pub fn write_high_water(mut self, bytes: usize) -> Self {
        self.write_high_water = bytes;
        self
    }

    /// Sets [`linger`](Self::linger).
    #[must_use]
    pub fn linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }
}

/// Why an adapter's call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The socket failed; the connection is closed (1006).
    Io(io::Error),
    /// The connection failed: the peer broke the protocol (the close code we
    /// sent is [`ProtocolError::close_code`](crate::ProtocolError::close_code)),
    /// the handshake failed or timed out, the peer went away, or a timer ran
    /// out. The close event has the details.
    Connection(crate::Error),
    /// The call is not possible now (sending after close, a close code that
    /// may not be sent, a bad URL): nothing changed.
    Local(LocalError),
    /// `accept_with` refused the request, and answered it with this status;
    /// `accept` answers a request that is not an upgrade with 426.
    Rejected(u16),
    /// A `wss://` URL, and the crate was built without TLS (feature
    /// `rustls`), or the adapter (blocking) has none.
    TlsUnavailable,
    /// TLS could not be set up: no root certificates, a host name that
    /// cannot be a server name, no protocol version the crypto provider
    /// supports. (A failed TLS handshake is [`Error::Io`].)
    Tls(std::boxed::Box<dyn std::error::Error + Send + Sync>),
    /// The blocking adapter's `recv_timeout` waited its time and no message
    /// came; the connection goes on as before.
    TimedOut,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::Connection(e) => write!(f, "connection failed: {e}"),
            Error::Local(e) => write!(f, "{e}"),
            Error::Rejected(status) => write!(f, "the request was refused with status {status}"),
            Error::TlsUnavailable => f.write_str("wss:// needs the crate's `rustls` feature and the tokio adapter"),
            Error::Tls(e) => write!(f, "TLS: {e}"),
            Error::TimedOut => f.write_str("no message within the time given"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Connection(e) => Some(e),
            Error::Local(e) => Some(e),
            Error::Tls(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<LocalError> for Error {
    fn from(e: LocalError) -> Self {
        Error::Local(e)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(e) => e,
            other => io::Error::other(other),
        }
    }
}

/// What `try_send` gives back when it did not queue the message
/// (`try_send_prepared` gives `TrySendError<()>`: the caller still holds the
/// prepared message).
#[derive(Debug)]
#[non_exhaustive]
pub enum TrySendError<T = Message> {
    /// The write queue is at [`Settings::write_high_water`]: the message,
    /// untouched, to send later.
    Full(T),
    /// The message cannot be sent (the connection is closing or closed).
    Failed(Error),
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("the write queue is full"),
            TrySendError::Failed(e) => write!(f, "{e}"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for TrySendError<T> {}
