//! What a server answers an upgrade request with.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// A server's acceptance of an upgrade request, for
/// [`Connection::accept`](crate::Connection::accept): the subprotocol it
/// picked from the client's offers and any extra response headers. New
/// choices (extension parameters) become new fields, so build it with
/// [`Accept::new`] and the setters.
///
/// ```
/// let accept = rfc6455::Accept::new().protocol("chat.v2").header("Set-Cookie", "id=1");
/// assert_eq!(accept.protocol.as_deref(), Some("chat.v2"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Accept {
    /// The subprotocol agreed on: one the client offered, or none.
    pub protocol: Option<String>,
    /// Extra response headers, in order; not the ones the handshake writes
    /// itself (`Upgrade`, `Connection`, `Sec-WebSocket-*`, lengths).
    pub headers: Vec<(String, String)>,
}

impl Accept {
    /// No subprotocol, no extra headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Agrees on `name`, which the client must have offered.
    #[must_use]
    pub fn protocol(mut self, name: &str) -> Self {
        self.protocol = Some(name.to_string());
        self
    }

    /// Adds a response header.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}
