//! A message encoded once, for sending the same bytes to many connections.

use bytes::{Bytes, BytesMut};

use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use crate::payload::{Payload, Text};

/// A whole text or binary message encoded once as a server's frame (servers
/// do not mask, so every recipient gets the same bytes), for
/// [`Connection::send_prepared`](crate::Connection::send_prepared): a
/// broadcast to ten thousand connections encodes once and copies nothing per
/// recipient but a reference to the shared buffer (small frames are copied
/// into each connection's inline stage instead, which costs no heap).
///
/// ```
/// use std::time::Duration;
/// use rfc6455::{Config, Connection, Prepared, Role};
/// let news = Prepared::text("the same for everyone");
/// let mut a = Connection::open(Duration::ZERO, Role::Server, None, Config::default());
/// let mut b = Connection::open(Duration::ZERO, Role::Server, None, Config::default());
/// a.send_prepared(&news).unwrap();
/// b.send_prepared(&news).unwrap();
/// assert_eq!(a.poll_transmit(), b.poll_transmit());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
    /// The header, then the payload.
    frame: Bytes,
    // INVARIANT: header_len <= MAX_HEADER_LEN and frame.len() >= header_len
    header_len: u8,
    opcode: OpCode,
}

impl Prepared {
    /// A text message.
    pub fn text(text: &str) -> Self {
        Self::encode(OpCode::Text, text.as_bytes())
    }

    /// A binary message.
    pub fn binary(data: &[u8]) -> Self {
        Self::encode(OpCode::Binary, data)
    }

    /// A text message from a received or built [`Text`].
    pub fn from_text(text: &Text) -> Self {
        Self::text(text)
    }

    /// A binary message from a [`Payload`].
    pub fn from_payload(data: &Payload) -> Self {
        Self::binary(data)
    }

    fn encode(opcode: OpCode, payload: &[u8]) -> Self {
        let mut head = [0; MAX_HEADER_LEN];
        let n = FrameHeader { fin: true, rsv: 0, opcode, mask: None, len: payload.len() as u64 }.encode(&mut head);
        let mut frame = BytesMut::with_capacity(n + payload.len());
        frame.extend_from_slice(&head[..n]);
        frame.extend_from_slice(payload);
        Prepared { frame: frame.freeze(), header_len: n as u8, opcode }
    }

    /// Whether it is text.
    pub fn is_text(&self) -> bool {
        self.opcode == OpCode::Text
    }

    /// The payload.
    pub fn payload(&self) -> &[u8] {
        &self.frame[usize::from(self.header_len)..]
    }

    /// The whole frame as a server sends it, header and payload.
    pub fn frame(&self) -> &Bytes {
        &self.frame
    }

    pub(crate) fn opcode(&self) -> OpCode {
        self.opcode
    }
}
