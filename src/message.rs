//! Assembling data messages from frames (RFC 6455 §5.4, §5.6, §8.1).
//!
//! The [`Assembler`] owns the rules of a message: fragmentation (a
//! continuation needs a message to continue, a new message needs the last one
//! finished), UTF-8 for text (checked as it arrives, failing at the first byte
//! that can never become valid), and the size limit, counted on the bytes it
//! is handed (after the extension stage, so later on inflated bytes). It turns
//! pieces of payload into [`Event::Text`]/[`Event::Binary`] or, streaming,
//! [`Event::Chunk`].
//!
//! Its buffer grows as bytes arrive, at most doubling at a time and never past
//! the size limit, whatever a frame header announces: memory follows the
//! bytes received.

use alloc::vec::Vec;
use core::fmt;

use crate::config::ReceiveMode;
use crate::event::{Event, MessageKind};
use crate::frame::OpCode;
use crate::frame::decode::Masked;
use crate::payload::{Payload, Text};
use crate::utf8::{self, Utf8Validator};

/// A data frame that breaks the rules of the message it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MessageError {
    /// A continuation frame with no message to continue. §5.4
    UnexpectedContinuation,
    /// A text or binary frame while a fragmented message was unfinished. §5.4
    ExpectedContinuation,
    /// Text that is not UTF-8. §8.1
    InvalidUtf8,
    /// A message larger than the configured maximum.
    TooBig,
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MessageError::UnexpectedContinuation => "continuation with no message to continue",
            MessageError::ExpectedContinuation => "new message inside a fragmented message",
            MessageError::InvalidUtf8 => "invalid UTF-8 in text",
            MessageError::TooBig => "message too big",
        })
    }
}

/// The message being received, if any.
#[derive(Debug)]
pub(crate) struct Assembler {
    mode: ReceiveMode,
    /// The size limit in [`ReceiveMode::Messages`].
    max: u64,
    // INVARIANT: while `kind` is None, `buf` and `len` are empty.
    kind: Option<MessageKind>,
    /// Messages: the payload so far. Streaming: the bytes of a character not
    /// yet finished, held for the next chunk.
    buf: Vec<u8>,
    /// Bytes of the message delivered to the assembler so far.
    len: u64,
    utf8: Utf8Validator,
}

impl Assembler {
    pub(crate) fn new(mode: ReceiveMode, max_message_size: usize) -> Self {
        Assembler {
            mode,
            max: u64::try_from(max_message_size).unwrap_or(u64::MAX),
            kind: None,
            buf: Vec::new(),
            len: 0,
            utf8: Utf8Validator::new(),
        }
    }

    /// Bytes held: the message so far, or a character's first bytes.
    pub(crate) fn held(&self) -> usize {
        self.buf.len()
    }

    /// Heap the assembler holds.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Whether a message is in progress.
    pub(crate) fn in_message(&self) -> bool {
        self.kind.is_some()
    }

    /// A data frame starts (RFC 6455 §5.4). `announced` is its payload
    /// length when the extension stage delivers it unchanged: the size limit
    /// is then checked before any of it is buffered.
    #[inline(always)]
    pub(crate) fn start_frame(&mut self, opcode: OpCode, announced: Option<u64>) -> Result<(), MessageError> {
        match (opcode, self.kind) {
            (OpCode::Continuation, None) => return Err(MessageError::UnexpectedContinuation),
            (OpCode::Continuation, Some(_)) => {}
            (_, Some(_)) => return Err(MessageError::ExpectedContinuation),
            (OpCode::Text, None) => self.kind = Some(MessageKind::Text),
            (_, None) => self.kind = Some(MessageKind::Binary),
        }
        match announced {
            Some(n) => self.check_size(n),
            None => Ok(()),
        }
    }

    /// The size limit (Messages mode): the message may grow by `n` bytes.
    #[inline(always)]
    fn check_size(&self, n: u64) -> Result<(), MessageError> {
        if self.mode == ReceiveMode::Messages && self.len.saturating_add(n) > self.max {
            return Err(MessageError::TooBig);
        }
        Ok(())
    }

    /// The shortcut for the most common message: a whole one of at most
    /// [`Payload::INLINE`] bytes in one frame, between messages, in
    /// [`ReceiveMode::Messages`]. Its event when the rules allow it
    /// (as [`start_frame`](Self::start_frame) and [`piece`](Self::piece)
    /// would have built it); `None`, with nothing changed, for anything else
    /// (text that is not ASCII too): the general path then takes the frame,
    /// and alone reports what it breaks.
    /// `short` lets it copy a frame at the very end of the input too (in
    /// more steps); without it, such a frame is left to the general path.
    #[inline(always)]
    pub(crate) fn whole_small(&self, opcode: OpCode, data: Masked<'_>, short: bool) -> Option<Event> {
        // Between messages the buffer and the count are empty
        // (see `reset`): the message is this frame alone.
        debug_assert!(self.kind.is_some() || (self.buf.is_empty() && self.len == 0));
        let n = data.len();
        if self.kind.is_some()
            || self.mode != ReceiveMode::Messages
            || n > Payload::INLINE
            || self.check_size(n as u64).is_err()
            || !(short || data.has_block())
        {
            return None;
        }
        let payload = data.to_inline();
        match opcode {
            OpCode::Binary => Some(Event::Binary(payload)),
            OpCode::Text if payload.is_ascii() => Some(Event::Text(Text::from_validated(payload))),
            _ => None,
        }
    }

    /// A piece of a data frame's payload; `end` says it ends the message (the
    /// last piece of a FIN frame), `more` how many bytes the message still
    /// brings at the least: the rest of a FIN frame (so the buffer never grows
    /// past what it needs), `u64::MAX` in a frame that is not the last (the
    /// buffer then doubles, so many small fragments cost amortized O(1) each).
    /// The event it completes, if any, is written to `out`: built where the
    /// caller returns it, since moving a just-built event through wrapping
    /// enums copies it in pieces the CPU then stalls on.
    #[inline(always)]
    pub(crate) fn piece(
        &mut self,
        data: Masked<'_>,
        end: bool,
        more: u64,
        out: &mut Option<Event>,
    ) -> Result<(), MessageError> {
        if end && self.len == 0 && self.buf.is_empty() {
            // The hot path: a whole message in one piece, unmasked straight into its payload.
            self.check_size(data.len() as u64)?;
            let kind = self.kind.take().expect("start_frame began a message");
            // One branch per variant, each building its event in place: a
            // payload built first and moved in would be copied.
            let small = data.len() <= Payload::INLINE;
            match (self.mode, kind) {
                (ReceiveMode::Messages, MessageKind::Binary) if small => *out = Some(Event::Binary(data.to_inline())),
                (ReceiveMode::Messages, MessageKind::Binary) => *out = Some(Event::Binary(data.to_payload())),
                (ReceiveMode::Messages, MessageKind::Text) => {
                    if small {
                        *out = Some(Event::Text(Text::from_validated(data.to_inline())));
                    } else {
                        *out = Some(Event::Text(Text::from_validated(data.to_payload())));
                    }
                    if let Some(Event::Text(text)) = out
                        && !text.payload().is_ascii()
                        && utf8::validate(text.as_bytes()).is_err()
                    {
                        *out = None;
                        return Err(MessageError::InvalidUtf8);
                    }
                }
                (ReceiveMode::Streaming, _) => *out = Some(whole_chunk(kind, data)?),
            }
            return Ok(());
        }
        *out = self.add(data, end, more)?;
        Ok(())
    }

    /// The general path: a piece appended to what came before.
    #[inline(never)]
    fn add(&mut self, data: Masked<'_>, end: bool, more: u64) -> Result<Option<Event>, MessageError> {
        self.check_size(data.len() as u64)?;
        self.grow(data.len(), more);
        let start = self.buf.len();
        data.extend_into(&mut self.buf);
        self.added(start, self.buf.len(), end)
    }

    /// What follows bytes appended to the message from `start` on: the count,
    /// UTF-8, and the event they complete.
    fn added(&mut self, start: usize, stop: usize, end: bool) -> Result<Option<Event>, MessageError> {
        let kind = self.kind.expect("start_frame began a message");
        self.len += (stop - start) as u64;
        let text = kind == MessageKind::Text;
        if text {
            self.utf8.feed(&self.buf[start..stop]).map_err(|_| MessageError::InvalidUtf8)?;
            if end && !self.utf8.is_complete() {
                return Err(MessageError::InvalidUtf8);
            }
        }
        let event = match self.mode {
            ReceiveMode::Messages if !end => None,
            ReceiveMode::Messages => {
                let buf = core::mem::take(&mut self.buf);
                let payload = if buf.len() <= Payload::INLINE { Payload::copy_from_slice(&buf) } else { buf.into() };
                Some(match kind {
                    MessageKind::Text => Event::Text(Text::from_validated(payload)),
                    MessageKind::Binary => Event::Binary(payload),
                })
            }
            ReceiveMode::Streaming => {
                // Hold back the bytes of a character not yet finished.
                let keep = self.utf8.pending();
                let ready = self.buf.len() - keep;
                if ready == 0 && !end {
                    None
                } else {
                    let data = if ready > Payload::INLINE {
                        // The buffer goes out as it is; the bytes held back
                        // (a character's first bytes, at most 3) move to a
                        // buffer of their own.
                        let held = self.buf.split_off(ready);
                        Payload::from(core::mem::replace(&mut self.buf, held))
                    } else {
                        let data = Payload::copy_from_slice(&self.buf[..ready]);
                        self.buf.drain(..ready);
                        if self.buf.is_empty() {
                            self.buf = Vec::new();
                        }
                        data
                    };
                    Some(Event::Chunk { kind, data, fin: end })
                }
            }
        };
        if end {
            self.reset();
        }
        Ok(event)
    }

    /// Room for `n` more bytes: the buffer at most doubles (so it holds at
    /// most twice what arrived), and never grows past the limit, nor past
    /// what the message is known to still bring (`more`).
    fn grow(&mut self, n: usize, more: u64) {
        let need = self.buf.len() + n;
        if need <= self.buf.capacity() {
            return;
        }
        let doubled = self.buf.capacity().saturating_mul(2);
        let cap = match self.mode {
            ReceiveMode::Messages => {
                let frame = need.saturating_add(usize::try_from(more).unwrap_or(usize::MAX));
                usize::try_from(self.max).unwrap_or(usize::MAX).min(frame)
            }
            ReceiveMode::Streaming => need,
        };
        let target = doubled.min(cap).max(need);
        self.buf.reserve_exact(target - self.buf.len());
    }

    /// Forgets the message: it ended, or the connection did.
    pub(crate) fn reset(&mut self) {
        self.kind = None;
        self.buf = Vec::new();
        self.len = 0;
        self.utf8 = Utf8Validator::new();
    }
}

/// A whole message as the one chunk of a stream (out of line: the streaming
/// mode is not the hot path).
#[inline(never)]
fn whole_chunk(kind: MessageKind, data: Masked<'_>) -> Result<Event, MessageError> {
    let data = data.to_payload();
    if kind == MessageKind::Text && utf8::validate(&data).is_err() {
        return Err(MessageError::InvalidUtf8);
    }
    Ok(Event::Chunk { kind, data, fin: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(a: &mut Assembler, opcode: OpCode, pieces: &[&[u8]], fin: bool) -> Result<Vec<Event>, MessageError> {
        a.start_frame(opcode, Some(pieces.iter().map(|p| p.len() as u64).sum()))?;
        let mut events = Vec::new();
        for (i, p) in pieces.iter().enumerate() {
            events.extend(piece(a, p, fin && i + 1 == pieces.len(), 0)?);
        }
        Ok(events)
    }

    fn piece(a: &mut Assembler, data: &[u8], end: bool, more: u64) -> Result<Option<Event>, MessageError> {
        let mut out = None;
        a.piece(Masked::plain(data), end, more, &mut out)?;
        Ok(out)
    }

    #[test]
    fn fragments_make_one_message() {
        let mut a = Assembler::new(ReceiveMode::Messages, 100);
        assert_eq!(feed(&mut a, OpCode::Text, &[b"he", "l\u{e9}".as_bytes()[..2].as_ref()], false), Ok(vec![]));
        let rest = &"l\u{e9}".as_bytes()[2..];
        assert_eq!(feed(&mut a, OpCode::Continuation, &[rest, b"!"], true), Ok(vec![Event::Text("hel\u{e9}!".into())]));
        assert!(!a.in_message());
        assert_eq!(a.capacity(), 0, "the buffer went out with the message");
    }

    #[test]
    fn fragmentation_rules() {
        let mut a = Assembler::new(ReceiveMode::Messages, 100);
        assert_eq!(a.start_frame(OpCode::Continuation, Some(0)), Err(MessageError::UnexpectedContinuation));
        feed(&mut a, OpCode::Binary, &[b"x"], false).unwrap();
        assert_eq!(a.start_frame(OpCode::Text, Some(0)), Err(MessageError::ExpectedContinuation));
    }

    #[test]
    fn size_limit_counts_delivered_bytes() {
        let mut a = Assembler::new(ReceiveMode::Messages, 4);
        feed(&mut a, OpCode::Binary, &[b"abc"], false).unwrap();
        assert_eq!(a.start_frame(OpCode::Continuation, Some(2)), Err(MessageError::TooBig));
        // Without an announced length (a transforming extension), the pieces are counted.
        let mut a = Assembler::new(ReceiveMode::Messages, 4);
        a.start_frame(OpCode::Binary, None).unwrap();
        assert_eq!(piece(&mut a, b"abc", false, 0), Ok(None));
        assert_eq!(piece(&mut a, b"de", true, 0), Err(MessageError::TooBig));
        assert!(a.capacity() <= 4);
    }

    #[test]
    fn growth_doubles_and_stops_at_the_limit() {
        let mut a = Assembler::new(ReceiveMode::Messages, 10_000);
        a.start_frame(OpCode::Binary, None).unwrap();
        let mut caps = Vec::new();
        for _ in 0..100 {
            piece(&mut a, &[1; 100], false, u64::MAX).unwrap();
            assert!(a.capacity() <= 2 * a.held().max(100), "{} for {}", a.capacity(), a.held());
            caps.push(a.capacity());
        }
        assert_eq!(*caps.last().unwrap(), 10_000);
    }

    #[test]
    fn streaming_holds_back_a_split_character() {
        let mut a = Assembler::new(ReceiveMode::Streaming, 0);
        let e = "\u{e9}".as_bytes();
        assert_eq!(feed(&mut a, OpCode::Text, &[&[b'a', e[0]]], false), Ok(vec![chunk(b"a", false)]));
        assert_eq!(feed(&mut a, OpCode::Continuation, &[&e[1..]], true), Ok(vec![chunk(e, true)]));
        assert_eq!(feed(&mut a, OpCode::Text, &[&[0xC3]], true), Err(MessageError::InvalidUtf8));
    }

    fn chunk(data: &[u8], fin: bool) -> Event {
        Event::Chunk { kind: MessageKind::Text, data: Payload::copy_from_slice(data), fin }
    }
}
