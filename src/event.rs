//! What the engine tells the application.

use alloc::boxed::Box;

use crate::close::CloseEvent;
use crate::error::Error;
use crate::handshake::{Opened, Request};
use crate::payload::{Payload, Text};

/// The kind of a data message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Binary data.
    Binary,
}

/// An event from [`Connection::poll_event`](crate::Connection::poll_event).
///
/// Every connection ends with exactly one [`Event::Closed`], and nothing
/// follows it. When the connection fails, an [`Event::Error`] comes just
/// before it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[repr(u64)]
pub enum Event {
    /// Server: a complete HTTP request arrived. Answer it with
    /// [`Connection::accept`](crate::Connection::accept) or
    /// [`Connection::reject`](crate::Connection::reject).
    Request(Box<Request>) = 2,
    /// The opening handshake completed: `readyState` is OPEN.
    Open(Box<Opened>) = 3,
    /// A whole text message ([`ReceiveMode::Messages`](crate::ReceiveMode::Messages)).
    Text(Text) = 1,
    /// A whole binary message ([`ReceiveMode::Messages`](crate::ReceiveMode::Messages)).
    Binary(Payload) = 0,
    /// A piece of a message ([`ReceiveMode::Streaming`](crate::ReceiveMode::Streaming)).
    Chunk {
        /// Text or binary.
        kind: MessageKind,
        /// The bytes; for text, whole UTF-8 characters.
        data: Payload,
        /// Whether this piece ends the message.
        fin: bool,
    } = 4,
    /// A ping arrived (answered already when [`Config::auto_pong`](crate::Config::auto_pong) is on).
    Ping(Payload) = 5,
    /// A pong arrived.
    Pong(Payload) = 6,
    /// Why the connection is failing; an [`Event::Closed`] follows.
    Error(Error) = 7,
    /// The connection ended, as the browser's `CloseEvent` reports it.
    Closed(CloseEvent) = 8,
}
