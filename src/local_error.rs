//! Misuse by the application: a call it may not make now.

use alloc::string::String;
use core::fmt;

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
    /// A close reason with [`CloseCode::NO_STATUS`](crate::CloseCode::NO_STATUS): a close frame without
    /// a code carries no reason (RFC 6455 §5.5.1).
    ReasonWithoutCode,
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
    /// [`commit`](crate::Connection::commit) of more bytes than the last
    /// [`read_buf`](crate::Connection::read_buf) offered (the number committed).
    NotOffered(usize),
}

impl fmt::Display for LocalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalError::NotOpen => f.write_str("the connection is not open yet"),
            LocalError::Closing => f.write_str("the connection is closing; no more data may be sent"),
            LocalError::Closed => f.write_str("the connection is closed"),
            LocalError::InvalidCloseCode(c) => write!(f, "close code {c} may not be sent"),
            LocalError::ReasonWithoutCode => f.write_str("a close frame without a code has no reason"),
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
            LocalError::NotOffered(n) => write!(f, "commit of {n} bytes that read_buf did not offer"),
        }
    }
}

impl core::error::Error for LocalError {}
