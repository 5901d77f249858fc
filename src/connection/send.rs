//! Sending: data messages, fragments, control frames and the close handshake
//! (RFC 6455 §5.3, §5.4, §5.5, §7).

use core::time::Duration;

use bytes::Bytes;

use super::{Connection, Role};
use crate::close::{self, CloseCode, MAX_CLOSE_PAYLOAD};
use crate::error::LocalError;
use crate::event::MessageKind;
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode};
use crate::mask::apply_mask;
use crate::state::{Input, Phase};

/// Payloads from this size up are queued as they are by
/// [`Connection::send_binary_bytes`]; smaller ones are copied.
const SHARE_MIN: usize = 4096;

/// The payload of one fragment for [`Connection::send_fragment`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Data<'a> {
    /// Text; each fragment must be whole characters.
    Text(&'a str),
    /// Binary.
    Binary(&'a [u8]),
}

impl Connection {
    /// Sends a text message in one frame.
    pub fn send_text(&mut self, text: &str) -> Result<(), LocalError> {
        self.send_message(OpCode::Text, text.as_bytes())
    }

    /// Sends a binary message in one frame.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), LocalError> {
        self.send_message(OpCode::Binary, data)
    }

    /// Sends a binary message in one frame without copying `data`: a server
    /// queues the buffer itself, and [`poll_transmit`](Self::poll_transmit)
    /// gives it back after the frame header (small payloads are copied into
    /// the transmit buffer instead, which is cheaper than another write). A
    /// client must mask, so it copies.
    pub fn send_binary_bytes(&mut self, data: Bytes) -> Result<(), LocalError> {
        if self.role == Role::Client || data.len() < SHARE_MIN {
            return self.send_binary(&data);
        }
        self.check_new_message()?;
        let mut head = [0; MAX_HEADER_LEN];
        let n = FrameHeader { fin: true, rsv: 0, opcode: OpCode::Binary, mask: None, len: data.len() as u64 }
            .encode(&mut head);
        self.out.extend_from_slice(&head[..n]);
        self.out.push_shared(data);
        Ok(())
    }

    fn send_message(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), LocalError> {
        self.check_new_message()?;
        self.write_frame(opcode, true, payload);
        Ok(())
    }

    /// Whether a whole message may be sent now: open, and no fragmented one
    /// in progress.
    fn check_new_message(&self) -> Result<(), LocalError> {
        self.check_can_send()?;
        match self.sending {
            Some(_) => Err(LocalError::MessageInProgress),
            None => Ok(()),
        }
    }

    /// Sends one fragment of a message (RFC 6455 §5.4): the first call starts a
    /// message of the data's kind, later calls must be of the same kind, and
    /// `fin` ends it. Pings, pongs and `close` may come between fragments.
    pub fn send_fragment(&mut self, data: Data<'_>, fin: bool) -> Result<(), LocalError> {
        self.check_can_send()?;
        let (kind, bytes) = match data {
            Data::Text(t) => (MessageKind::Text, t.as_bytes()),
            Data::Binary(b) => (MessageKind::Binary, b),
        };
        let opcode = match self.sending {
            None if kind == MessageKind::Text => OpCode::Text,
            None => OpCode::Binary,
            Some(k) if k == kind => OpCode::Continuation,
            Some(_) => return Err(LocalError::MessageInProgress),
        };
        self.write_frame(opcode, fin, bytes);
        self.sending = if fin { None } else { Some(kind) };
        Ok(())
    }

    /// Sends a ping with up to 125 bytes of payload.
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), LocalError> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Sends an unsolicited pong (a one-way heartbeat, RFC 6455 §5.5.3).
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), LocalError> {
        self.send_control(OpCode::Pong, payload)
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), LocalError> {
        self.check_can_send()?;
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(LocalError::ControlPayloadTooLong(payload.len()));
        }
        self.write_frame(opcode, true, payload);
        Ok(())
    }

    /// Starts the closing handshake with a code and a reason of at most 123
    /// bytes (see [`truncate_reason`](crate::truncate_reason)), as the browser's
    /// `close(code, reason)`. The connection is CLOSING until the peer answers
    /// or [`Config::close_timeout`](crate::Config::close_timeout) passes.
    ///
    /// Codes that may not be sent (1004–1006, 1015, below 1000, 1016–2999,
    /// 5000 and above) are refused. While CONNECTING, the attempt is abandoned
    /// as the browser does: closed at once, 1006.
    pub fn close(&mut self, now: Duration, code: impl Into<CloseCode>, reason: &str) -> Result<(), LocalError> {
        let code = code.into();
        close::check_local_close(code, reason)?;
        match self.phase {
            Phase::Connecting => {
                self.terminate(now);
                Ok(())
            }
            Phase::Open => {
                self.write_close(Some((code, reason)));
                self.transition(now, Input::LocalClose, None);
                Ok(())
            }
            Phase::CloseSent | Phase::AwaitingEof => Err(LocalError::Closing),
            Phase::Closed => Err(LocalError::Closed),
        }
    }

    /// Ends the connection at once, without a closing handshake, as Node's
    /// `ws.terminate()`: queued bytes are dropped, the close event reports
    /// 1006 (or the completed handshake, if only the server's EOF was awaited),
    /// and the transport should be closed. Does nothing once closed.
    pub fn terminate(&mut self, now: Duration) {
        if self.phase != Phase::Closed {
            self.out.clear();
            self.transition(now, Input::Terminate, None);
        }
    }

    fn check_can_send(&self) -> Result<(), LocalError> {
        match self.phase {
            Phase::Open => Ok(()),
            Phase::Connecting => Err(LocalError::NotOpen),
            Phase::CloseSent | Phase::AwaitingEof => Err(LocalError::Closing),
            Phase::Closed => Err(LocalError::Closed),
        }
    }

    /// Queues a close frame; the caller has checked code and reason.
    pub(super) fn write_close(&mut self, close: close::ClosePayload<'_>) {
        let mut payload = [0; MAX_CLOSE_PAYLOAD];
        let n = close::encode_close_payload(close, &mut payload);
        self.write_frame(OpCode::Close, true, &payload[..n]);
    }

    /// Queues one frame, masked with a fresh key when we are the client.
    pub(super) fn write_frame(&mut self, opcode: OpCode, fin: bool, payload: &[u8]) {
        let mask = (self.role == Role::Client).then(|| {
            let mut key = [0; 4];
            self.config.random.fill(&mut key);
            key
        });
        let mut head = [0; MAX_HEADER_LEN];
        let n = FrameHeader { fin, rsv: 0, opcode, mask, len: payload.len() as u64 }.encode(&mut head);
        let buf = self.out.reserve(n + payload.len());
        buf.extend_from_slice(&head[..n]);
        let start = buf.len();
        buf.extend_from_slice(payload);
        if let Some(key) = mask {
            apply_mask(&mut buf[start..], key, 0);
        }
    }
}
