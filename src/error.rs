//! Errors, by who is at fault.
//!
//! - [`LocalError`]: the application asked for something it may not do now
//!   (send after close, an unsendable close code). The call returns it and
//!   changes nothing.
//! - [`ProtocolError`]: the peer broke RFC 6455. The engine queues a close
//!   frame with [`ProtocolError::close_code`] and reports it once, as
//!   [`Event::Error`](crate::Event::Error) before the close event.
//! - [`HandshakeError`]: the opening handshake failed, on either side.
//! - [`Error`]: why a connection ended abnormally; carried by `Event::Error`.

use alloc::string::String;
use core::fmt;

use crate::close::CloseCode;
use crate::handshake::Headers;

/// Why a connection ended without a completed closing handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke the protocol; unless our close frame was out already,
    /// the engine sent one with [`ProtocolError::close_code`].
    Protocol(ProtocolError),
    /// The opening handshake failed.
    Handshake(HandshakeError),
    /// The transport reached EOF before the closing handshake completed.
    UnexpectedEof,
    /// The caller reported a transport error.
    Transport,
    /// The peer did not answer our close frame within the close timeout.
    CloseTimeout,
    /// Nothing arrived from the peer within the idle timeout.
    IdleTimeout,
    /// The opening handshake did not finish within the handshake timeout.
    HandshakeTimeout,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Protocol(e) => write!(f, "protocol error: {e}"),
            Error::Handshake(e) => write!(f, "handshake failed: {e}"),
            Error::UnexpectedEof => f.write_str("connection lost: EOF before the closing handshake"),
            Error::Transport => f.write_str("connection lost: transport error"),
            Error::CloseTimeout => f.write_str("the peer did not answer the close frame in time"),
            Error::IdleTimeout => f.write_str("nothing received within the idle timeout"),
            Error::HandshakeTimeout => f.write_str("the opening handshake did not finish in time"),
        }
    }
}

impl core::error::Error for Error {}

/// A violation of RFC 6455 by the peer. Each carries the close code the engine
/// sends in answer ([`ProtocolError::close_code`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// An opcode RFC 6455 reserves (3–7, 11–15). §5.2
    ReservedOpcode(u8),
    /// RSV1, RSV2 or RSV3 set without an extension that defines them. §5.2
    ReservedBits,
    /// A client sent an unmasked frame. §5.1
    UnmaskedFrame,
    /// A server sent a masked frame. §5.1
    MaskedFrame,
    /// A payload length with the most significant bit set, or not in its
    /// minimal encoding. §5.2
    BadLength,
    /// A control frame with a payload over 125 bytes. §5.5
    ControlFrameTooLong,
    /// A control frame without FIN. §5.5
    FragmentedControlFrame,
    /// A continuation frame with no message to continue. §5.4
    UnexpectedContinuation,
    /// A text or binary frame while a fragmented message was unfinished. §5.4
    ExpectedContinuation,
    /// Text that is not UTF-8. §8.1
    InvalidUtf8,
    /// A message larger than the configured maximum.
    MessageTooBig,
    /// A close payload of one byte. §5.5.1
    ClosePayloadTooShort,
    /// A close code that may not appear on the wire. §7.4
    InvalidCloseCode(u16),
    /// A close reason that is not UTF-8. §5.5.1
    InvalidCloseReason,
}

impl ProtocolError {
    /// The close code sent to the peer for this violation.
    pub fn close_code(self) -> CloseCode {
        match self {
            ProtocolError::InvalidUtf8 | ProtocolError::InvalidCloseReason => CloseCode::INVALID_PAYLOAD,
            ProtocolError::MessageTooBig => CloseCode::MESSAGE_TOO_BIG,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::ReservedOpcode(op) => write!(f, "reserved opcode {op}"),
            ProtocolError::ReservedBits => f.write_str("reserved bits set"),
            ProtocolError::UnmaskedFrame => f.write_str("unmasked frame from a client"),
            ProtocolError::MaskedFrame => f.write_str("masked frame from a server"),
            ProtocolError::BadLength => f.write_str("invalid payload length"),
            ProtocolError::ControlFrameTooLong => f.write_str("control frame over 125 bytes"),
            ProtocolError::FragmentedControlFrame => f.write_str("fragmented control frame"),
            ProtocolError::UnexpectedContinuation => f.write_str("continuation with no message to continue"),
            ProtocolError::ExpectedContinuation => f.write_str("new message inside a fragmented message"),
            ProtocolError::InvalidUtf8 => f.write_str("invalid UTF-8 in text"),
            ProtocolError::MessageTooBig => f.write_str("message too big"),
            ProtocolError::ClosePayloadTooShort => f.write_str("close payload of one byte"),
            ProtocolError::InvalidCloseCode(c) => write!(f, "close code {c} not allowed on the wire"),
            ProtocolError::InvalidCloseReason => f.write_str("close reason is not UTF-8"),
        }
    }
}

impl core::error::Error for ProtocolError {}

/// A failed opening handshake (RFC 6455 §4).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The server answered with a status other than 101: a 401, a redirect
    /// (see the `Location` header), a 426…
    Status {
        /// The status code.
        status: u16,
        /// The response headers.
        headers: Headers,
    },
    /// The bytes are not a well-formed HTTP/1.1 message.
    Http(&'static str),
    /// The HTTP version is not 1.1.
    Version,
    /// The request method is not GET.
    Method,
    /// The `Host` header is missing, repeated, or (in an upgrade) empty
    /// (RFC 9112 §3.2, RFC 6455 §4.2.1).
    Host,
    /// The request target has no form the engine serves for its method:
    /// origin-form (`/chat`) or absolute-form (`http://host/chat`, also https,
    /// ws, wss) for every method, `*` for `OPTIONS` alone (RFC 9112 §3.2).
    Target,
    /// `Upgrade` does not contain `websocket`.
    Upgrade,
    /// `Connection` does not contain `Upgrade`.
    Connection,
    /// `Sec-WebSocket-Version` is not 13.
    WebSocketVersion,
    /// `Sec-WebSocket-Key` is not the base64 of 16 bytes.
    Key,
    /// `Sec-WebSocket-Accept` does not match the key sent.
    Accept,
    /// The server chose a subprotocol the client did not offer.
    Protocol,
    /// The server accepted an extension: one the client did not offer, or one
    /// it offered that the engine cannot run (it implements none yet).
    Extension,
    /// The header block is larger than the configured limit.
    HeadersTooLarge,
    /// More headers than the configured limit.
    TooManyHeaders,
    /// The peer sent more bytes before the handshake was answered than the
    /// configured limit allows.
    TooMuchEarlyData,
    /// The transport closed before the handshake finished.
    UnexpectedEof,
}

impl HandshakeError {
    /// The status a server answers a bad request with.
    pub(crate) fn response_status(&self) -> u16 {
        match self {
            HandshakeError::WebSocketVersion => 426,
            HandshakeError::Method => 405,
            HandshakeError::HeadersTooLarge | HandshakeError::TooManyHeaders => 431,
            _ => 400,
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::Status { status, .. } => write!(f, "the server answered with status {status}"),
            HandshakeError::Http(why) => write!(f, "malformed HTTP: {why}"),
            HandshakeError::Version => f.write_str("HTTP version is not 1.1"),
            HandshakeError::Method => f.write_str("method is not GET"),
            HandshakeError::Host => f.write_str("Host header missing, empty or repeated"),
            HandshakeError::Target => f.write_str("request target not allowed for the method"),
            HandshakeError::Upgrade => f.write_str("Upgrade header does not name websocket"),
            HandshakeError::Connection => f.write_str("Connection header does not contain Upgrade"),
            HandshakeError::WebSocketVersion => f.write_str("Sec-WebSocket-Version is not 13"),
            HandshakeError::Key => f.write_str("Sec-WebSocket-Key is not base64 of 16 bytes"),
            HandshakeError::Accept => f.write_str("Sec-WebSocket-Accept does not match the key"),
            HandshakeError::Protocol => f.write_str("the server chose a subprotocol that was not offered"),
            HandshakeError::Extension => {
                f.write_str("the server accepted an extension that was not offered or that the engine cannot run")
            }
            HandshakeError::HeadersTooLarge => f.write_str("header block too large"),
            HandshakeError::TooManyHeaders => f.write_str("too many headers"),
            HandshakeError::TooMuchEarlyData => f.write_str("too much data before the handshake was answered"),
            HandshakeError::UnexpectedEof => f.write_str("EOF during the handshake"),
        }
    }
}

impl core::error::Error for HandshakeError {}

/// A call the application may not make now. The connection is unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalError {
    /// The opening handshake has not completed.
    NotOpen,
    /// A close frame has been sent or received: no more data may be sent.
    Closing,
    /// The connection is closed.
    Closed,
    /// The close code may not be sent (0–999, 1004–1006, 1015, 1016–2999, 5000+).
    InvalidCloseCode(u16),
    /// The close reason is longer than 123 bytes (see [`truncate_reason`](crate::truncate_reason)).
    CloseReasonTooLong(usize),
    /// A ping or pong payload longer than 125 bytes.
    ControlPayloadTooLong(usize),
    /// `send_text`/`send_binary` while a fragmented message is unfinished, or a
    /// fragment of the other kind.
    MessageInProgress,
    /// The call is for the other role (a server call on a client).
    WrongRole,
    /// There is no pending request to accept or reject.
    NoRequest,
    /// The request is plain HTTP, not a WebSocket upgrade; it can only be rejected
    /// (answered with a normal HTTP response).
    NotUpgrade,
    /// The subprotocol was not offered by the client.
    ProtocolNotOffered,
    /// The URL cannot be used: not `ws://` or `wss://`, no host, a fragment, a bad port.
    InvalidUrl(&'static str),
    /// A header name or value that cannot be sent, or one the handshake sets itself.
    InvalidHeader(String),
    /// A rejection's status outside 200–599, or a body with 204 or 304.
    InvalidStatus(u16),
}

impl fmt::Display for LocalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalError::NotOpen => f.write_str("the connection is not open yet"),
            LocalError::Closing => f.write_str("the connection is closing; no more data may be sent"),
            LocalError::Closed => f.write_str("the connection is closed"),
            LocalError::InvalidCloseCode(c) => write!(f, "close code {c} may not be sent"),
            LocalError::CloseReasonTooLong(n) => write!(f, "close reason of {n} bytes is over 123"),
            LocalError::ControlPayloadTooLong(n) => write!(f, "control payload of {n} bytes is over 125"),
            LocalError::MessageInProgress => f.write_str("a fragmented message is in progress"),
            LocalError::WrongRole => f.write_str("not available in this role"),
            LocalError::NoRequest => f.write_str("no handshake request is waiting for an answer"),
            LocalError::NotUpgrade => f.write_str("the request is not a WebSocket upgrade"),
            LocalError::ProtocolNotOffered => f.write_str("the client did not offer that subprotocol"),
            LocalError::InvalidUrl(why) => write!(f, "invalid URL: {why}"),
            LocalError::InvalidHeader(name) => write!(f, "invalid or reserved header: {name}"),
            LocalError::InvalidStatus(s) => write!(f, "invalid status {s}"),
        }
    }
}

impl core::error::Error for LocalError {}
