//! Why an opening handshake failed, on either side (RFC 6455 §4).
//!
//! The type sits with the handshake code that produces it, so the handshake
//! layer never reaches back into the crate's `error` module, which wraps it in
//! [`Error::Handshake`](crate::Error::Handshake).

use core::fmt;

use super::headers::Headers;

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
