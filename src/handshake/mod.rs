//! The opening handshake (RFC 6455 §4): HTTP bytes in, a decision out.
//!
//! This layer never sees frames. The client side builds the upgrade request
//! and checks the response; the server side parses and checks the request and
//! writes the response. Both are incremental: a partial message waits for more
//! bytes and is not an error. Whatever follows the header block in the same
//! read belongs to the framing layer and is handed back.

mod accept;
mod client;
mod error;
mod headers;
mod server;

use alloc::string::String;

use base64::Engine;
use sha1::{Digest, Sha1};

pub use accept::Accept;
pub(crate) use client::ClientHandshake;
pub use client::ClientRequest;
#[cfg(feature = "http")]
pub(crate) use client::check_response;
pub use error::HandshakeError;
pub use headers::Headers;
pub use server::Request;
pub(crate) use server::{ServerHandshake, accept_response, error_response, reject_response};
#[cfg(feature = "http")]
pub(crate) use server::{accept_headers, error_parts, request_from_parts};

/// The GUID every server appends to the key (RFC 6455 §1.3).
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID))
/// (RFC 6455 §4.2.2). For handshakes done elsewhere (hyper, axum) that then
/// start a [`Connection`](crate::Connection) with [`Connection::open`](crate::Connection::open).
///
/// ```
/// assert_eq!(rfc6455::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID);
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// What the handshake settled, handed to the application in
/// [`Event::Open`](crate::Event::Open).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Opened {
    /// The subprotocol agreed on (`Sec-WebSocket-Protocol`), as the browser's `protocol`.
    pub protocol: Option<String>,
    /// The extensions agreed on, as the browser's `extensions`; always empty on a
    /// server, which accepts none.
    pub extensions: alloc::vec::Vec<String>,
    /// Client: the headers of the 101 response. Server: empty (the request's
    /// headers came with [`Event::Request`](crate::Event::Request)).
    pub headers: Headers,
}

/// An HTTP header block collected across reads, never past a limit.
#[derive(Debug)]
pub(crate) struct HeadBuffer {
    buf: alloc::vec::Vec<u8>,
    max: usize,
}

impl HeadBuffer {
    pub(crate) fn new(max: usize) -> Self {
        HeadBuffer { buf: alloc::vec::Vec::new(), max }
    }

    /// Bytes held so far.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// Heap held.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Appends `data`. `Ok(None)`: the block is not complete yet.
    /// `Ok(Some((head, used)))`: the whole block, and how many bytes of `data` it took.
    pub(crate) fn push(&mut self, data: &[u8]) -> Result<Option<(&[u8], usize)>, HandshakeError> {
        let before = self.buf.len();
        let room = (self.max - before).min(data.len());
        self.buf.extend_from_slice(&data[..room]);
        match find_head_end(&self.buf, before) {
            Some(end) => Ok(Some((&self.buf[..end], end - before))),
            None if self.buf.len() >= self.max => Err(HandshakeError::HeadersTooLarge),
            None => Ok(None),
        }
    }

    /// The bytes held: the start of a block not yet complete.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Frees the buffer once its block has been parsed.
    pub(crate) fn release(&mut self) {
        self.buf = alloc::vec::Vec::new();
    }

    /// Drops a complete block of `len` bytes that is not the one awaited (an
    /// interim 1xx response) and takes its length off the limit, so that every
    /// block of one handshake together stays within it.
    pub(crate) fn skip(&mut self, len: usize) {
        self.max = self.max.saturating_sub(len);
        self.release();
    }
}

/// Header slots for httparse to parse the complete block `head` into: one per
/// line it has (a header takes at least a line), never more than `max`. A
/// limit as large as `usize::MAX` thus costs only what the block needs.
pub(crate) fn header_slots<'h>(head: &[u8], max: usize) -> alloc::vec::Vec<httparse::Header<'h>> {
    let lines = head.iter().filter(|&&b| b == b'\n').count();
    alloc::vec![httparse::EMPTY_HEADER; lines.min(max)]
}

/// The outcome of httparse on a complete header block, as a handshake error.
pub(crate) fn check_parse(result: httparse::Result<usize>) -> Result<(), HandshakeError> {
    match result {
        Ok(httparse::Status::Complete(_)) => Ok(()),
        Ok(httparse::Status::Partial) => Err(HandshakeError::Http("incomplete header block")),
        Err(httparse::Error::TooManyHeaders) => Err(HandshakeError::TooManyHeaders),
        Err(e) => Err(HandshakeError::Http(httparse_reason(e))),
    }
}

/// Finds the end of an HTTP header block in `buf`, starting the search at
/// `from` (bytes before it were searched already). Returns the index just past
/// the blank line. Like httparse, a lone LF ends a line too (RFC 9112 §2.2).
pub(crate) fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    // A line feed that ends the block may have been seen before `from`.
    let start = from.saturating_sub(2);
    let mut i = start;
    while let Some(n) = buf[i..].iter().position(|&b| b == b'\n') {
        let lf = i + n;
        match buf.get(lf + 1..) {
            Some([b'\n', ..]) => return Some(lf + 2),
            Some([b'\r', b'\n', ..]) => return Some(lf + 3),
            _ => i = lf + 1,
        }
    }
    None
}

/// A message for an httparse error.
fn httparse_reason(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid new line",
        httparse::Error::Status => "invalid status",
        httparse::Error::Token => "invalid token",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "invalid HTTP version",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_example_key() {
        // RFC 6455 §1.3.
        assert_eq!(accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn head_end_across_pieces() {
        let msg = b"GET / HTTP/1.1\r\nA: b\r\n\r\nrest";
        assert_eq!(find_head_end(msg, 0), Some(24));
        for from in 0..24 {
            assert_eq!(find_head_end(&msg[..24], from), Some(24));
        }
        assert_eq!(find_head_end(&msg[..23], 0), None);
        let bare = b"GET / HTTP/1.1\nA: b\n\nrest";
        for from in 0..21 {
            assert_eq!(find_head_end(&bare[..21], from), Some(21));
        }
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nA: b\n\r\n", 0), Some(23));
    }
}
