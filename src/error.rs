//! Errors, by who is at fault.
//!
//! - [`LocalError`](crate::LocalError): the application asked for something it
//!   may not do now (send after close, an unsendable close code). The call
//!   returns it and changes nothing.
//! - [`ProtocolError`]: the peer broke RFC 6455. The engine queues a close
//!   frame with [`ProtocolError::close_code`] and reports it once, as
//!   [`Event::Error`](crate::Event::Error) before the close event.
//! - [`HandshakeError`]: the opening handshake failed, on either side. It lives
//!   in the handshake module, which does not depend on this one.
//! - [`Error`]: why a connection ended abnormally; carried by `Event::Error`.
//!
//! Each receiving layer has its own error type ([`FrameError`] for the frame
//! decoder, and crate-private ones for the extension stage, the message
//! assembler and close payloads); each converts into [`ProtocolError`], whose
//! [`close_code`](ProtocolError::close_code) is the one table from a
//! violation to the close code sent for it.

use core::fmt;

use crate::close::{CloseCode, CloseFrameError};
use crate::extension::ExtensionError;
use crate::frame::FrameError;
use crate::message::MessageError;

/// Defined by the handshake layer, which knows nothing of this module; named
/// here too so that `crate::error::HandshakeError` keeps working for the
/// connection code. The edge points one way: error → handshake.
pub(crate) use crate::handshake::HandshakeError;

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
    /// The application closed the connection while CONNECTING: the attempt
    /// is abandoned, as the browser's `close()` then fires `error`.
    ClosedBeforeOpen,
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
            Error::ClosedBeforeOpen => f.write_str("closed before the connection was established"),
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
    /// The close code sent to the peer for this violation: the one table
    /// from violation to code (RFC 6455 §7.4.1).
    pub fn close_code(self) -> CloseCode {
        use ProtocolError::*;
        match self {
            ReservedOpcode(_) | ReservedBits | UnmaskedFrame | MaskedFrame | BadLength | ControlFrameTooLong => {
                CloseCode::PROTOCOL_ERROR
            }
            FragmentedControlFrame | UnexpectedContinuation | ExpectedContinuation => CloseCode::PROTOCOL_ERROR,
            ClosePayloadTooShort | InvalidCloseCode(_) => CloseCode::PROTOCOL_ERROR,
            InvalidUtf8 | InvalidCloseReason => CloseCode::INVALID_PAYLOAD,
            MessageTooBig => CloseCode::MESSAGE_TOO_BIG,
        }
    }
}

impl From<FrameError> for ProtocolError {
    fn from(e: FrameError) -> Self {
        match e {
            FrameError::ReservedOpcode(op) => ProtocolError::ReservedOpcode(op),
            FrameError::BadLength => ProtocolError::BadLength,
            FrameError::ControlFrameTooLong => ProtocolError::ControlFrameTooLong,
            FrameError::FragmentedControlFrame => ProtocolError::FragmentedControlFrame,
            FrameError::UnmaskedFrame => ProtocolError::UnmaskedFrame,
            FrameError::MaskedFrame => ProtocolError::MaskedFrame,
        }
    }
}

impl From<ExtensionError> for ProtocolError {
    fn from(e: ExtensionError) -> Self {
        match e {
            ExtensionError::ReservedBits => ProtocolError::ReservedBits,
        }
    }
}

impl From<MessageError> for ProtocolError {
    fn from(e: MessageError) -> Self {
        match e {
            MessageError::UnexpectedContinuation => ProtocolError::UnexpectedContinuation,
            MessageError::ExpectedContinuation => ProtocolError::ExpectedContinuation,
            MessageError::InvalidUtf8 => ProtocolError::InvalidUtf8,
            MessageError::TooBig => ProtocolError::MessageTooBig,
        }
    }
}

impl From<CloseFrameError> for ProtocolError {
    fn from(e: CloseFrameError) -> Self {
        match e {
            CloseFrameError::TooShort => ProtocolError::ClosePayloadTooShort,
            CloseFrameError::TooLong => ProtocolError::ControlFrameTooLong,
            CloseFrameError::Code(code) => ProtocolError::InvalidCloseCode(code),
            CloseFrameError::Reason => ProtocolError::InvalidCloseReason,
        }
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::Protocol(e)
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
