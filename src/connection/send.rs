//! Sending: data messages, fragments, control frames and the close handshake
//! (RFC 6455 §5.3, §5.4, §5.5, §7).

use core::time::Duration;

use bytes::Bytes;

use super::Connection;
use crate::close::{self, CloseCode, MAX_CLOSE_PAYLOAD};
use crate::error::Error;
use crate::event::MessageKind;
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode};
use crate::local_error::LocalError;
use crate::payload::{Payload, Text};
use crate::prepared::Prepared;
use crate::role::Role;
use crate::state::{Input, Phase};

/// Payloads from this size up are queued as they are by
/// [`Connection::send_binary_bytes`]; smaller ones are copied.
const SHARE_MIN: usize = 4096;

/// The payload of one fragment for [`Connection::send_fragment`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fragment<'a> {
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
        self.send_shared(OpCode::Binary, data)
    }

    /// Sends a text message in one frame without copying it, as
    /// [`send_binary_bytes`](Self::send_binary_bytes) does: a server queues a
    /// large [`Text`]'s buffer itself (a small or inline one is copied).
    pub fn send_text_bytes(&mut self, text: Text) -> Result<(), LocalError> {
        match text.into_payload().into_shared() {
            Ok(bytes) => self.send_shared(OpCode::Text, bytes),
            Err(inline) => self.send_message(OpCode::Text, &inline),
        }
    }

    /// Sends a message encoded once for many connections. A server queues
    /// the shared frame itself (a small one is copied into the inline stage,
    /// which needs no heap); a client must mask, so it encodes a frame of
    /// its own from the payload.
    pub fn send_prepared(&mut self, message: &Prepared) -> Result<(), LocalError> {
        if self.role == Role::Client {
            return self.send_message(message.opcode(), message.payload());
        }
        self.check_new_message()?;
        let frame = message.frame();
        if frame.len() < SHARE_MIN {
            self.out.write(frame, &[], None);
        } else {
            self.out.push_shared(frame.clone());
        }
        Ok(())
    }

    fn send_shared(&mut self, opcode: OpCode, data: Bytes) -> Result<(), LocalError> {
        if self.role == Role::Client || data.len() < SHARE_MIN {
            return self.send_message(opcode, &data);
        }
        self.check_new_message()?;
        let mut head = [0; MAX_HEADER_LEN];
        let n = FrameHeader { fin: true, rsv: 0, opcode, mask: None, len: data.len() as u64 }.encode(&mut head);
        self.out.write(&head[..n], &[], None);
        self.out.push_shared(data);
        Ok(())
    }

    #[inline(always)]
    fn send_message(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), LocalError> {
        self.check_new_message()?;
        // The common case, kept small: a server's small frame (unmasked, so
        // no key to draw), staged here rather than through `write_frame`.
        let header = FrameHeader { fin: true, rsv: 0, opcode, mask: None, len: payload.len() as u64 };
        if self.role == Role::Server && self.stage_short(header, payload) {
            return Ok(());
        }
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
    pub fn send_fragment(&mut self, data: Fragment<'_>, fin: bool) -> Result<(), LocalError> {
        self.check_can_send()?;
        let (kind, bytes) = match data {
            Fragment::Text(t) => (MessageKind::Text, t.as_bytes()),
            Fragment::Binary(b) => (MessageKind::Binary, b),
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
    /// [`CloseCode::NO_STATUS`] (1005) with an empty reason sends a close frame
    /// without a code, as the browser's `close()` with no arguments does; the
    /// peer reports 1005. Other codes that may not be sent (1004, 1006, 1015,
    /// below 1000, 1016–2999, 5000 and above) are refused.
    ///
    /// While CONNECTING, the attempt is abandoned as the browser does:
    /// [`Event::Error`](crate::Event::Error) with [`Error::ClosedBeforeOpen`],
    /// then the close event (1006, not clean).
    pub fn close(&mut self, now: Duration, code: impl Into<CloseCode>, reason: &str) -> Result<(), LocalError> {
        let payload = close::check_local_close(code.into(), reason)?;
        if matches!(self.phase, Phase::Connecting | Phase::Open) {
            self.tick(now);
        }
        match self.phase {
            Phase::Connecting => {
                self.out.clear();
                self.transition(now, Input::LocalClose, Some(Error::ClosedBeforeOpen));
                Ok(())
            }
            Phase::Open => {
                self.write_close(payload);
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
        self.tick(now);
        if self.phase != Phase::Closed {
            self.out.clear();
            self.pong = None;
            self.pongs_queued = 0;
            self.transition(now, Input::Terminate, None);
        }
    }

    fn check_can_send(&self) -> Result<(), LocalError> {
        match self.phase {
            _ if self.phase.allows().send_data => Ok(()),
            Phase::Connecting => Err(LocalError::NotOpen),
            Phase::Closed => Err(LocalError::Closed),
            _ => Err(LocalError::Closing),
        }
    }

    /// Queues a close frame, after any pong still owed; the caller has
    /// checked code and reason.
    pub(super) fn write_close(&mut self, close: close::ClosePayload<'_>) {
        self.flush_pong();
        let mut payload = [0; MAX_CLOSE_PAYLOAD];
        let n = close::encode_close_payload(close, &mut payload);
        self.write_frame(OpCode::Close, true, &payload[..n]);
    }

    /// Queues one frame, masked with a fresh key when we are the client.
    #[inline(never)]
    pub(super) fn write_frame(&mut self, opcode: OpCode, fin: bool, payload: &[u8]) {
        let mask = (self.role == Role::Client).then(|| {
            let mut key = [0; 4];
            self.config.random.fill(&mut key);
            key
        });
        let header = FrameHeader { fin, rsv: 0, opcode, mask, len: payload.len() as u64 };
        if self.stage_short(header, payload) {
            return;
        }
        let mut head = [0; MAX_HEADER_LEN];
        let n = header.encode(&mut head);
        self.out.write(&head[..n], payload, mask);
    }

    /// Queues a frame with a short header and an inline-sized payload, built
    /// in registers and stored in whole words (no copy of a variable length,
    /// nothing read back), masked with the header's key; `false`, with
    /// nothing queued, for a larger frame.
    #[inline(always)]
    fn stage_short(&mut self, header: FrameHeader, payload: &[u8]) -> bool {
        if payload.len() > Payload::INLINE {
            return false;
        }
        let Some((head, n)) = header.encode_short() else { return false };
        let mut body = Payload::short_words(payload);
        if let Some([k0, k1, k2, k3]) = header.mask {
            let key = u64::from_le_bytes([k0, k1, k2, k3, k0, k1, k2, k3]);
            body.iter_mut().for_each(|word| *word ^= key);
        }
        self.out.write_small(head, n, &body, payload.len());
        true
    }

    /// Answers a ping (RFC 6455 §5.5.2) when `auto_pong` is on and the phase
    /// allows it: up to 16 pongs wait in the transmit queue; past that, only
    /// the latest ping is answered (§5.5.3), when the queue is next taken.
    pub(super) fn answer_ping(&mut self, payload: &crate::payload::Payload) {
        if !self.config.auto_pong || !self.phase.allows().answer_ping {
            return;
        }
        if self.pongs_queued < super::MAX_QUEUED_PONGS {
            self.write_frame(OpCode::Pong, true, payload);
            self.pongs_queued += 1;
        } else {
            self.pong = Some(payload.clone());
        }
    }

    /// Queues the pong owed to the latest ping, if any.
    #[inline(always)]
    pub(super) fn flush_pong(&mut self) {
        // The tag alone is read on the way to every transmit.
        if self.pong.is_some() {
            self.write_pong();
        }
    }

    #[inline(never)]
    fn write_pong(&mut self) {
        if let Some(payload) = self.pong.take() {
            self.write_frame(OpCode::Pong, true, &payload);
            self.pongs_queued = self.pongs_queued.saturating_add(1);
        }
    }

    /// After a transmit: once the queue is empty, pongs may queue again.
    pub(super) fn note_drained(&mut self) {
        if self.out.is_empty() {
            self.pongs_queued = 0;
        }
    }
}
