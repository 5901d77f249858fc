//! Receiving frames: headers, payloads, messages, control frames (RFC 6455 §5, §6.2).

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;

use super::{Connection, Role};
use crate::close::{self, CloseCode};
use crate::config::ReceiveMode;
use crate::error::{Error, ProtocolError};
use crate::event::{Event, MessageKind};
use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use crate::mask::extend_unmasked;
use crate::payload::{Payload, Text};
use crate::state::{Input, Phase};
use crate::utf8::Utf8Validator;

/// The frame being read.
#[derive(Debug, Clone, Copy)]
struct Frame {
    header: FrameHeader,
    /// Payload bytes read so far (the mask phase).
    read: u64,
}

/// A data message being received.
#[derive(Debug, Default)]
struct Message {
    kind: Option<MessageKind>,
    /// Messages mode: the payload so far. Streaming: the bytes of a character
    /// not yet finished, held for the next chunk.
    buf: Vec<u8>,
    /// Payload bytes received so far, for the size limit.
    len: u64,
    utf8: Utf8Validator,
}

/// The receiving half of the framing layer.
#[derive(Debug, Default)]
pub(crate) struct Receiver {
    /// A header split across reads.
    // INVARIANT: head_len < MAX_HEADER_LEN, and head[..head_len] is a strict prefix of a header.
    head: [u8; MAX_HEADER_LEN],
    head_len: u8,
    frame: Option<Frame>,
    /// The payload of a control frame split across reads (at most 125 bytes;
    /// released when the frame ends).
    control: Vec<u8>,
    message: Message,
    /// Input read behind a data message that ended, kept until the application
    /// has taken the events before it (see [`Connection::poll_event`]); read
    /// up to `backlog_pos`, released once read.
    // INVARIANT: backlog_pos < backlog.len(), or both are 0.
    backlog: Vec<u8>,
    backlog_pos: usize,
    /// When the backlog's newest bytes arrived.
    backlog_at: Duration,
}

/// A whole message as the one chunk of a stream.
#[inline(never)]
fn whole_chunk(kind: MessageKind, data: Payload) -> Event {
    Event::Chunk { kind, data, fin: true }
}

/// The next header, from a partial one held back and the new bytes.
enum Head {
    /// A header and how many bytes of the input it used.
    Complete(FrameHeader, usize),
    /// All input used; more is needed.
    Partial,
}

impl Receiver {
    /// Bytes of input held: a partial header, a control payload, a message
    /// being assembled, and the backlog (for the fuzzing harness's memory check).
    pub(super) fn buffered_len(&self) -> usize {
        usize::from(self.head_len)
            + self.control.len()
            + self.message.buf.len()
            + (self.backlog.len() - self.backlog_pos)
    }

    /// Whether no frame is partly read.
    pub(super) fn is_between_frames(&self) -> bool {
        self.frame.is_none() && self.head_len == 0
    }

    fn next_header(&mut self, data: &[u8]) -> Result<Head, ProtocolError> {
        let held = usize::from(self.head_len);
        if held == 0 {
            return Ok(match FrameHeader::decode(data)? {
                Some((header, used)) => Head::Complete(header, used),
                None => {
                    self.head[..data.len()].copy_from_slice(data);
                    self.head_len = data.len() as u8;
                    Head::Partial
                }
            });
        }
        // A header is at most 14 bytes, so this either completes it or uses all input.
        let take = (MAX_HEADER_LEN - held).min(data.len());
        self.head[held..held + take].copy_from_slice(&data[..take]);
        match FrameHeader::decode(&self.head[..held + take])? {
            Some((header, used)) => {
                self.head_len = 0;
                // `head[..held]` alone was partial, so the header used some input.
                Ok(Head::Complete(header, used - held))
            }
            None => {
                self.head_len = (held + take) as u8;
                Ok(Head::Partial)
            }
        }
    }
}

impl Connection {
    /// Reads `data` (RFC 6455 §6.2), one data message at a time.
    ///
    /// Input is read up to the end of the first data message; the rest waits
    /// in the backlog until the application has taken the events before it.
    /// Whatever it sends in answer to that message then goes out before what
    /// the later bytes bring: a close, or the failure a bad frame causes.
    pub(super) fn read_input(&mut self, now: Duration, data: &[u8]) {
        let used = if self.has_backlog() { 0 } else { self.receive_frames(now, data) };
        if used < data.len() {
            let rx = &mut self.rx;
            // Input only arrives behind a backlog when the caller reads again
            // before draining the events: rare, so compacting here is cheap.
            rx.backlog.drain(..rx.backlog_pos);
            rx.backlog_pos = 0;
            rx.backlog.extend_from_slice(&data[used..]);
            rx.backlog_at = now;
        }
    }

    /// Reads the backlog up to the end of its next data message.
    pub(super) fn resume_backlog(&mut self) {
        let backlog = core::mem::take(&mut self.rx.backlog);
        let pos = self.rx.backlog_pos;
        let used = self.receive_frames(self.rx.backlog_at, &backlog[pos..]);
        self.restore_backlog(backlog, pos + used);
    }

    /// Puts the backlog back, read up to `pos`, or releases it once all read.
    fn restore_backlog(&mut self, backlog: Vec<u8>, pos: usize) {
        if pos < backlog.len() {
            self.rx.backlog = backlog;
            self.rx.backlog_pos = pos;
        } else {
            self.rx.backlog_pos = 0;
        }
    }

    /// The next event straight from the backlog when it starts with a small
    /// message (see [`small_event`](Self::small_event)): no queueing.
    #[inline(always)]
    pub(super) fn small_from_backlog(&mut self) -> Option<Event> {
        if !self.rx.is_between_frames() || !matches!(self.phase, Phase::Open | Phase::CloseSent) {
            return None;
        }
        let pos = self.rx.backlog_pos;
        let (event, used) = self.small_event(self.rx.backlog.get(pos..)?)?;
        let backlog = core::mem::take(&mut self.rx.backlog);
        self.restore_backlog(backlog, pos + used);
        Some(event)
    }

    /// Whether input waits in the backlog.
    pub(super) fn has_backlog(&self) -> bool {
        !self.rx.backlog.is_empty()
    }

    /// Reads frames from `data` until a data message ends, and returns how
    /// many bytes were used. Once the connection stops reading, the rest
    /// counts as used: it is ignored.
    fn receive_frames(&mut self, now: Duration, data: &[u8]) -> usize {
        // INVARIANT: pos <= data.len()
        let mut pos = 0;
        while pos < data.len() {
            if !matches!(self.phase, Phase::Open | Phase::CloseSent) {
                return data.len();
            }
            let rest = &data[pos..];
            if self.rx.is_between_frames()
                && let Some((event, used)) = self.small_event(rest)
            {
                self.events.push_back(event);
                return self.stop_after_message(pos + used, data.len());
            }
            match self.rx.frame {
                None => {
                    let (header, used) = match self.rx.next_header(rest) {
                        Ok(Head::Complete(h, used)) => (h, used),
                        Ok(Head::Partial) => return data.len(),
                        Err(e) => {
                            self.fail(now, e);
                            return data.len();
                        }
                    };
                    pos += used;
                    if let Err(e) = self.start_frame(&header) {
                        self.fail(now, e);
                        return data.len();
                    }
                    // The common case: the whole frame is here and is a whole
                    // message or a control frame. It is unmasked straight into
                    // its event's payload, with no buffering in between.
                    let available = (data.len() - pos) as u64;
                    let whole_message = header.fin && header.opcode != OpCode::Continuation;
                    if header.len <= available && (whole_message || header.opcode.is_control()) {
                        let end = pos + header.len as usize;
                        let payload = Payload::unmasked(&data[pos..end], header.mask);
                        pos = end;
                        if self.whole_frame(now, header.opcode, payload) {
                            return self.stop_after_message(pos, data.len());
                        }
                        continue;
                    }
                    self.rx.frame = Some(Frame { header, read: 0 });
                    if header.len == 0 && self.finish_frame(now) {
                        return self.stop_after_message(pos, data.len());
                    }
                }
                Some(frame) => {
                    let remaining = frame.header.len - frame.read;
                    let n = usize::try_from(remaining).unwrap_or(usize::MAX).min(rest.len());
                    pos += n;
                    let last = n as u64 == remaining;
                    if let Err(e) = self.frame_payload(frame, &rest[..n], last) {
                        self.fail(now, e);
                        return data.len();
                    }
                    if let Some(f) = self.rx.frame.as_mut() {
                        f.read += n as u64;
                    }
                    if last && self.finish_frame(now) {
                        return self.stop_after_message(pos, data.len());
                    }
                }
            }
        }
        data.len()
    }

    /// Where reading stops after a data message: at `pos`, for the rest to
    /// wait in the backlog, unless the message closed the connection (a
    /// failure at its end), when the rest is ignored.
    fn stop_after_message(&self, pos: usize, len: usize) -> usize {
        if matches!(self.phase, Phase::Open | Phase::CloseSent) { pos } else { len }
    }

    /// The checks a header needs from the connection's state (RFC 6455 §5.1–§5.4).
    fn start_frame(&mut self, h: &FrameHeader) -> Result<(), ProtocolError> {
        if h.rsv != 0 {
            return Err(ProtocolError::ReservedBits);
        }
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        let msg = &mut self.rx.message;
        match h.opcode {
            OpCode::Continuation if msg.kind.is_none() => return Err(ProtocolError::UnexpectedContinuation),
            OpCode::Text | OpCode::Binary if msg.kind.is_some() => return Err(ProtocolError::ExpectedContinuation),
            OpCode::Text => msg.kind = Some(MessageKind::Text),
            OpCode::Binary => msg.kind = Some(MessageKind::Binary),
            OpCode::Close | OpCode::Ping | OpCode::Pong => {
                self.rx.control.clear();
                return Ok(());
            }
            OpCode::Continuation => {}
        }
        msg.len = msg.len.saturating_add(h.len);
        if self.config.receive == ReceiveMode::Messages && msg.len > self.config.max_message_size as u64 {
            return Err(ProtocolError::MessageTooBig);
        }
        Ok(())
    }

    /// The hot path: a whole small text or binary message at the start of
    /// `data`, as its event with an inline payload, and the bytes it used; or
    /// `None` to take the general path (anything else, including every
    /// violation). It changes nothing: the caller delivers the event.
    ///
    /// Inlined so that the event is built where the caller returns it: a
    /// copy of a just-built event reads it back through the narrower stores
    /// that wrote it, which stalls the CPU for longer than this takes (4 ns
    /// a message instead of 11 in `benches/decode.rs`).
    #[inline(always)]
    fn small_event(&self, data: &[u8]) -> Option<(Event, usize)> {
        let [b0, b1, ..] = *data else { return None };
        let kind = match b0 {
            0x81 => MessageKind::Text,
            0x82 => MessageKind::Binary,
            _ => return None,
        };
        let len = usize::from(b1 & 0x7F);
        let masked = b1 & 0x80 != 0;
        if self.rx.message.kind.is_some()
            || len > Payload::INLINE
            || masked != (self.role == Role::Server)
            || (len > self.config.max_message_size && self.config.receive == ReceiveMode::Messages)
        {
            return None;
        }
        let (key, start) = match data.get(2..6) {
            Some(k) if masked => (Some([k[0], k[1], k[2], k[3]]), 6),
            None if masked => return None,
            _ => (None, 2),
        };
        let body = data.get(start..)?;
        if body.len() < len {
            return None;
        }
        let payload = Payload::inline_unmasked(body, len, key);
        if kind == MessageKind::Text && !payload.is_ascii() && crate::utf8::validate(&payload).is_err() {
            return None;
        }
        let used = start + len;
        if self.config.receive == ReceiveMode::Streaming {
            return Some((whole_chunk(kind, payload), used));
        }
        // One branch per variant: a shared tail would copy the event.
        Some(match kind {
            MessageKind::Text => (Event::Text(Text::from_validated(payload)), used),
            MessageKind::Binary => (Event::Binary(payload), used),
        })
    }

    /// A whole frame that arrived in one piece (see `receive_frames`), already
    /// unmasked; true if it was a data message.
    fn whole_frame(&mut self, now: Duration, opcode: OpCode, payload: Payload) -> bool {
        let kind = match opcode {
            OpCode::Ping => {
                self.pinged(payload);
                return false;
            }
            OpCode::Pong => {
                self.events.push_back(Event::Pong(payload));
                return false;
            }
            OpCode::Close => {
                self.peer_closed(now, &payload);
                return false;
            }
            OpCode::Text => MessageKind::Text,
            _ => MessageKind::Binary,
        };
        self.rx.message = Message::default();
        if kind == MessageKind::Text && crate::utf8::validate(&payload).is_err() {
            self.fail(now, ProtocolError::InvalidUtf8);
            return true;
        }
        let event = match (self.config.receive, kind) {
            (ReceiveMode::Streaming, kind) => Event::Chunk { kind, data: payload, fin: true },
            (ReceiveMode::Messages, MessageKind::Text) => Event::Text(Text::from_validated(payload)),
            (ReceiveMode::Messages, MessageKind::Binary) => Event::Binary(payload),
        };
        self.events.push_back(event);
        true
    }

    /// A piece of the current frame's payload, unmasked here.
    fn frame_payload(&mut self, frame: Frame, piece: &[u8], last: bool) -> Result<(), ProtocolError> {
        // Unmasked while copied: one pass over the bytes instead of two.
        let append = |buf: &mut Vec<u8>| match frame.header.mask {
            Some(key) => extend_unmasked(buf, piece, key, frame.read as usize % 4),
            None => buf.extend_from_slice(piece),
        };
        if frame.header.opcode.is_control() {
            append(&mut self.rx.control);
            return Ok(());
        }
        let streaming = self.config.receive == ReceiveMode::Streaming;
        let msg = &mut self.rx.message;
        if frame.read == 0 && !streaming {
            // Room for the whole frame at once (the message's length so far was
            // checked against `max_message_size`): a single-frame message is
            // one allocation, and the buffer becomes the delivered payload
            // without a copy. Later frames grow it by doubling, never past
            // the limit.
            let needed = msg.buf.len() + usize::try_from(frame.header.len).unwrap_or(usize::MAX);
            let target = match msg.buf.capacity() {
                0 => needed,
                cap => needed.max(cap.saturating_mul(2).min(self.config.max_message_size)),
            };
            msg.buf.reserve_exact(target - msg.buf.len());
        }
        let start = msg.buf.len();
        append(&mut msg.buf);
        let text = msg.kind == Some(MessageKind::Text);
        if text {
            msg.utf8.feed(&msg.buf[start..]).map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        if streaming {
            let fin = last && frame.header.fin;
            if fin && !msg.utf8.is_complete() {
                return Err(ProtocolError::InvalidUtf8);
            }
            // Hold back the bytes of a character not yet finished.
            let keep = if text { msg.utf8.pending() } else { 0 };
            let ready = msg.buf.len() - keep;
            if ready > 0 || fin {
                let data = if keep == 0 && ready > Payload::INLINE {
                    // The buffer goes out as it is.
                    Payload::from(core::mem::take(&mut msg.buf))
                } else {
                    let data = Payload::copy_from_slice(&msg.buf[..ready]);
                    msg.buf.drain(..ready);
                    data
                };
                let kind = msg.kind.expect("a data frame belongs to a message");
                self.events.push_back(Event::Chunk { kind, data, fin });
            }
        }
        Ok(())
    }

    /// A ping arrived: answered at once when `auto_pong` is on.
    fn pinged(&mut self, payload: Payload) {
        if self.config.auto_pong && self.phase == Phase::Open {
            self.write_frame(OpCode::Pong, true, &payload);
        }
        self.events.push_back(Event::Ping(payload));
    }

    /// Ends the current frame; true if it ended a data message.
    fn finish_frame(&mut self, now: Duration) -> bool {
        let Some(frame) = self.rx.frame.take() else { return false };
        if frame.header.opcode.is_control() {
            let control = core::mem::take(&mut self.rx.control);
            match frame.header.opcode {
                OpCode::Ping => self.pinged(Payload::copy_from_slice(&control)),
                OpCode::Pong => self.events.push_back(Event::Pong(Payload::copy_from_slice(&control))),
                _ => self.peer_closed(now, &control),
            }
            return false;
        }
        if !frame.header.fin {
            return false;
        }
        self.finish_message(now, frame.header.len == 0);
        true
    }

    /// The final frame of a data message has been read.
    fn finish_message(&mut self, now: Duration, empty_last_frame: bool) {
        let msg = core::mem::take(&mut self.rx.message);
        let kind = msg.kind.expect("a data frame belongs to a message");
        if self.config.receive == ReceiveMode::Streaming {
            // Non-empty final frames were reported by `frame_payload`.
            if empty_last_frame {
                if !msg.utf8.is_complete() {
                    return self.fail(now, ProtocolError::InvalidUtf8);
                }
                self.events.push_back(Event::Chunk { kind, data: Payload::new(), fin: true });
            }
            return;
        }
        let payload =
            if msg.buf.len() <= Payload::INLINE { Payload::copy_from_slice(&msg.buf) } else { Payload::from(msg.buf) };
        match kind {
            MessageKind::Binary => self.events.push_back(Event::Binary(payload)),
            MessageKind::Text if !msg.utf8.is_complete() => self.fail(now, ProtocolError::InvalidUtf8),
            MessageKind::Text => self.events.push_back(Event::Text(Text::from_validated(payload))),
        }
    }

    /// The peer's close frame has been read (RFC 6455 §5.5.1, §7.1.5).
    fn peer_closed(&mut self, now: Duration, payload: &[u8]) {
        let parsed = match close::parse_close_payload(payload) {
            Ok(p) => p,
            Err(e) => return self.fail(now, e),
        };
        if self.phase == Phase::Open {
            // Echo code and reason (RFC 6455 §5.5.1), so that a browser that
            // closed with a reason sees it again in its close event.
            self.write_close(parsed);
        }
        self.peer_close = Some(Box::new(match parsed {
            Some((code, reason)) => (code, reason.to_string()),
            None => (CloseCode::NO_STATUS, String::new()),
        }));
        self.transition(now, Input::PeerClose, None);
    }

    /// Fails the connection for a peer's violation (RFC 6455 §7.1.7): a close
    /// frame with the violation's code unless ours went out already, then the
    /// error and the close event.
    pub(super) fn fail(&mut self, now: Duration, e: ProtocolError) {
        if self.phase == Phase::Open {
            let reason = e.to_string();
            self.write_close(Some((e.close_code(), close::truncate_reason(&reason))));
        }
        self.transition(now, Input::Fail, Some(Error::Protocol(e)));
    }
}
