//! Receiving (RFC 6455 §5, §6.2): the pipeline from bytes to events.
//!
//! ```text
//! bytes ─▶ frame::decode::Decoder ─▶ extension::Extensions ─▶ message::Assembler ─▶ Event
//!           header, §5.1–§5.2,         RSV bits (§5.2),          fragmentation,
//!           control limits (§5.5),     later inflation           UTF-8, size limit
//!           masking                          │
//!                                            └──▶ control frames: Connection::on_control
//! ```
//!
//! Each stage owns its rules and its error type; this module only moves
//! pieces between them and turns a stage's error into the failure of the
//! connection. Input is read up to the next event: the rest waits, unread
//! and bounded by [`Config::max_unread_input`], until the application takes
//! that event.

use alloc::string::{String, ToString};
use core::time::Duration;

use super::Connection;
use crate::close::{self, CloseCode};
use crate::config::Config;
use crate::error::{Error, ProtocolError};
use crate::event::Event;
use crate::extension::Extensions;
use crate::frame::decode::{Decoder, Piece};
use crate::frame::{MAX_CONTROL_PAYLOAD, OpCode};
use crate::message::Assembler;
use crate::payload::Payload;
use crate::role::Role;
use crate::state::{Input, Reads};

use super::unread::Unread;

/// How the input ended, once the bytes before it are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum End {
    /// The peer closed its side.
    Eof,
    /// Reading or writing failed.
    TransportError,
}

/// The receiving half of the framing layer.
#[derive(Debug)]
pub(super) struct Receiver {
    decoder: Decoder,
    extensions: Extensions,
    message: Assembler,
    /// A control frame's payload split across reads, unmasked.
    // INVARIANT: control_len <= MAX_CONTROL_PAYLOAD
    control: [u8; MAX_CONTROL_PAYLOAD],
    control_len: u8,
    /// Input taken but not read yet: what follows an event the application
    /// has not taken.
    unread: Unread,
    /// EOF or a transport error reported behind unread input.
    end: Option<(Duration, End)>,
    max_unread: usize,
}

impl Receiver {
    pub(super) fn new(role: Role, config: &Config) -> Self {
        Receiver {
            decoder: Decoder::new(role),
            extensions: Extensions,
            message: Assembler::new(config.receive, config.max_message_size),
            control: [0; MAX_CONTROL_PAYLOAD],
            control_len: 0,
            unread: Unread::default(),
            end: None,
            max_unread: config.max_unread_input,
        }
    }

    /// Bytes of input held: a partial header, a control payload, a message
    /// being assembled, and unread input.
    pub(super) fn held(&self) -> usize {
        self.decoder.held() + usize::from(self.control_len) + self.message.held() + self.unread_len()
    }

    /// Heap held for input.
    pub(super) fn capacity(&self) -> usize {
        self.message.capacity() + self.unread.capacity()
    }

    fn unread_len(&self) -> usize {
        self.unread.len()
    }

    /// Whether input waits to be read, or an end of input behind it.
    #[inline(always)]
    pub(super) fn has_unread(&self) -> bool {
        !self.unread.is_empty() || self.end.is_some()
    }

    /// Keeps `data` to read later, however long (the caller bounds it).
    pub(super) fn push_unread(&mut self, data: &[u8]) {
        self.unread.push(data);
    }

    /// Keeps as much of `data` as [`Config::max_unread_input`] allows (at
    /// least one byte while none waits); returns how much.
    fn push_unread_bounded(&mut self, data: &[u8]) -> usize {
        let room = self.max_unread.saturating_sub(self.unread_len()).max(usize::from(self.unread.is_empty()));
        let n = room.min(data.len());
        self.push_unread(&data[..n]);
        n
    }

    /// The next message if the unread input starts with a whole small one
    /// that the decoder's shortcut and [`Assembler::whole_small`] take, text
    /// if `TEXT`, binary otherwise; nothing changes otherwise.
    ///
    /// One kind per call, so that the event's tags are constants: with both
    /// kinds in one path the compiler stores a variable tag and a zero as
    /// two 8-byte stores, and a caller's 16-byte copy of the event waits for
    /// both (a store-forwarding stall per message). A binary event's tags
    /// are both zero, written as one 16-byte store; a text event's (1, 0)
    /// are still two (the compiler merges only zeros into one).
    #[inline(always)]
    pub(super) fn read_small<const TEXT: bool>(&mut self) -> Option<Event> {
        let Receiver { decoder, extensions, message, unread, .. } = self;
        let piece = whole_data_frame(decoder, *extensions, unread.bytes())?;
        let kind = if TEXT { OpCode::Text } else { OpCode::Binary };
        if piece.opcode != kind {
            return None;
        }
        let event = message.whole_small(kind, piece.data, false)?;
        unread.consume(piece.used);
        Some(event)
    }

    /// [`read_small`](Self::read_small) for input handed in: the message
    /// that all of `data` is, if it is one whole small message (and nothing
    /// waits unread); nothing changes otherwise.
    /// The event is written to `slot`, where it waits to be taken: built
    /// there, since moving it in would copy it in pieces the CPU stalls on.
    #[inline(always)]
    pub(super) fn input_small(&self, data: &[u8], slot: &mut Option<Event>) -> bool {
        let Some(piece) = whole_data_frame(&self.decoder, self.extensions, data) else { return false };
        if piece.used != data.len() || self.has_unread() {
            return false;
        }
        // The slot is empty: on failure it stays so.
        *slot = self.message.whole_small(piece.opcode, piece.data, true);
        slot.is_some()
    }

    /// Reads the next message into `slot` if the unread input starts with a
    /// whole one that [`whole_message`] takes, and says whether it did;
    /// nothing changes otherwise.
    #[inline(always)]
    pub(super) fn read_whole(&mut self, slot: &mut Option<Event>) -> bool {
        let Receiver { decoder, extensions, message, unread, .. } = self;
        let Some(used) = whole_message(decoder, *extensions, message, unread.bytes(), slot) else { return false };
        unread.consume(used);
        true
    }

    /// Room to read the next bytes into (see [`Connection::read_buf`]),
    /// behind the unread input while the input streams.
    ///
    /// A large payload is not read into the message itself: safe code can
    /// lend only initialised room, so that would mean zeroing the message's
    /// room, the read, then unmasking in place. Here the read lands in this
    /// buffer, which the cache keeps, and one pass unmasks it into the
    /// message. On 1 MiB frames the two measured within run-to-run noise of
    /// each other; this one lends a single buffer, so the message assembler
    /// never lends.
    pub(super) fn read_room(&mut self) -> Option<&mut [u8]> {
        self.unread.room(self.max_unread)
    }

    /// Whether the last [`read_room`](Self::read_room) offered at least `n`
    /// bytes (none: only `n == 0`).
    pub(super) fn offered(&self, n: usize) -> bool {
        self.unread.offered(n)
    }

    /// `n` bytes were read into the room offered: they wait unread, to be
    /// read as events are taken. `n == 0`: the room lent, if any, goes, and
    /// the buffer too if nothing waits in it.
    pub(super) fn commit(&mut self, n: usize) {
        self.unread.commit(n);
    }

    /// Whether an EOF or a transport error was reported: no input follows.
    pub(super) fn input_ended(&self) -> bool {
        self.end.is_some()
    }

    /// `n` bytes came from the caller's own buffer (see [`Unread::note_input`]).
    #[inline(always)]
    pub(super) fn note_input(&mut self, n: usize) {
        self.unread.note_input(n);
    }

    /// Stops lending room: no `commit` until the next `read_room`.
    pub(super) fn unlend(&mut self) {
        self.unread.unlend();
    }

    /// Drops input taken but not read: the transport failed.
    pub(super) fn drop_unread(&mut self) {
        self.unread.clear();
    }

    /// Forgets everything: the connection closed.
    pub(super) fn reset(&mut self) {
        self.end = None;
        self.decoder.reset();
        self.message.reset();
        self.control_len = 0;
        self.unread.clear();
    }
}

/// The decoder's shortcut, then the extension stage: the frame at the start
/// of `data` if it is a whole data frame that ends its message (FIN) and
/// sets no reserved bit; `None` for anything else, which the general path
/// takes.
#[inline(always)]
fn whole_data_frame<'a>(decoder: &Decoder, extensions: Extensions, data: &'a [u8]) -> Option<Piece<'a>> {
    let piece = decoder.whole_short(data)?;
    if piece.opcode.is_control() || !piece.fin || extensions.check(piece.rsv) != Ok(true) {
        return None;
    }
    Some(piece)
}

/// The shortcut for the common case: a whole data message in one frame at
/// the start of `data`, nothing in progress, breaking no rule. The same
/// stages as ever build it (the decoder's shortcut, the extension stage, the
/// assembler), straight into `slot`; but nothing changes unless it succeeds,
/// so a violation is left to the general path, which alone reports it.
/// Returns the bytes it used.
#[inline(always)]
fn whole_message(
    decoder: &Decoder,
    extensions: Extensions,
    message: &mut Assembler,
    data: &[u8],
    slot: &mut Option<Event>,
) -> Option<usize> {
    let piece = whole_data_frame(decoder, extensions, data)?;
    if message.in_message() {
        return None;
    }
    if message.start_frame(piece.opcode, Some(piece.len)).is_err() || message.piece(piece.data, true, 0, slot).is_err()
    {
        message.reset();
        *slot = None;
        return None;
    }
    Some(piece.used)
}

impl Connection {
    /// `handle_bytes` while frames are read: the first event straight from
    /// `data` when nothing waits, the rest kept unread (bounded). Returns how
    /// many bytes were taken.
    pub(super) fn read_input(&mut self, now: Duration, data: &[u8]) -> usize {
        let mut used = 0;
        if !self.rx.has_unread() && self.events.is_empty() {
            let rx = &mut self.rx;
            let whole = self
                .events
                .back_slot()
                .and_then(|slot| whole_message(&rx.decoder, rx.extensions, &mut rx.message, data, slot));
            used = match whole {
                Some(used) => used,
                None => {
                    let mut event = None;
                    let used = self.receive(now, data, &mut event);
                    if let Some(event) = event {
                        self.events.push_back(event);
                    }
                    used
                }
            };
            if used == data.len() {
                return used;
            }
        }
        used + self.rx.push_unread_bounded(&data[used..])
    }

    /// Keeps bytes that came with the end of the handshake, to read later.
    pub(super) fn push_unread(&mut self, data: &[u8]) -> usize {
        self.rx.push_unread_bounded(data)
    }

    /// The end of input (EOF, a transport error): at once if nothing is left
    /// to read, otherwise once the unread input is read.
    pub(super) fn end_input(&mut self, now: Duration, end: End) {
        if !self.rx.unread.is_empty() {
            self.rx.end = Some((now, end));
            return;
        }
        let error = match (end, self.phase) {
            (End::TransportError, _) => Error::Transport,
            (End::Eof, crate::state::Phase::Connecting) => {
                Error::Handshake(crate::error::HandshakeError::UnexpectedEof)
            }
            (End::Eof, _) => Error::UnexpectedEof,
        };
        self.transition(now, Input::Eof, Some(error));
    }

    /// The general path: unread input through the whole pipeline up to the
    /// next event, which is queued (with any the reading brought, such as a
    /// failure's); then the end of input, if one waits behind it.
    #[inline(never)]
    pub(super) fn read_unread_slow(&mut self) {
        if !self.rx.unread.is_empty() {
            let mut event = None;
            let mut unread = core::mem::take(&mut self.rx.unread);
            // Read now: timers it arms start from the latest time given.
            let used = self.receive(self.latest, unread.bytes(), &mut event);
            unread.consume(used);
            // Put back, unless the reading ended the connection.
            if self.phase.allows().reads == Reads::Frames {
                self.rx.unread = unread;
            }
            if let Some(event) = event {
                self.events.push_back(event);
                return;
            }
        }
        if self.rx.unread.is_empty()
            && let Some((at, end)) = self.rx.end.take()
        {
            self.end_input(at.max(self.latest), end);
        }
    }

    /// Reads `data` up to the next event, written to `out`; returns how many
    /// bytes were used. Once the connection stops reading frames, the rest
    /// counts as used: it is ignored.
    #[inline(always)]
    fn receive(&mut self, now: Duration, data: &[u8], out: &mut Option<Event>) -> usize {
        // INVARIANT: pos <= data.len()
        let mut pos = 0;
        while pos < data.len() {
            match self.rx.decoder.whole_short(&data[pos..]) {
                Some(piece) => {
                    pos += piece.used;
                    self.on_piece(now, piece, out);
                }
                None => match self.rx.decoder.decode(&data[pos..]) {
                    Ok(Some(piece)) => {
                        pos += piece.used;
                        self.on_piece_slow(now, piece, out);
                    }
                    // The input ended inside a header, which the decoder keeps.
                    Ok(None) => return data.len(),
                    Err(e) => {
                        self.fail(now, e.into());
                        return data.len();
                    }
                },
            }
            if out.is_some() {
                return pos;
            }
            if self.phase.allows().reads != Reads::Frames {
                return data.len();
            }
        }
        pos
    }

    /// [`on_piece`](Self::on_piece) for pieces off the decoder's shortcut.
    #[inline(never)]
    fn on_piece_slow(&mut self, now: Duration, piece: Piece<'_>, out: &mut Option<Event>) {
        self.on_piece(now, piece, out);
    }

    /// A piece of a frame, through the extension stage to the message
    /// assembler or the control dispatch; an event it completes goes to `out`.
    #[inline(always)]
    fn on_piece(&mut self, now: Duration, piece: Piece<'_>, out: &mut Option<Event>) {
        let mut announced = None;
        if piece.first {
            match self.rx.extensions.check(piece.rsv) {
                Ok(unchanged) => announced = unchanged.then_some(piece.len),
                Err(e) => return self.fail(now, e.into()),
            }
        }
        if piece.opcode.is_control() {
            *out = self.on_control_piece(now, piece);
            return;
        }
        if piece.first
            && let Err(e) = self.rx.message.start_frame(piece.opcode, announced)
        {
            return self.fail(now, e.into());
        }
        // What the message still brings, as far as is known: the rest of a
        // final frame; after a frame that is not final, any amount.
        let more = if piece.fin { self.rx.decoder.remaining() } else { u64::MAX };
        if let Err(e) = self.rx.message.piece(piece.data, piece.last && piece.fin, more, out) {
            self.fail(now, e.into());
        }
    }

    /// A piece of a control frame: whole, or gathered until the frame ends.
    #[inline(never)]
    fn on_control_piece(&mut self, now: Duration, piece: Piece<'_>) -> Option<Event> {
        let payload = if piece.first && piece.last {
            piece.data.to_payload()
        } else {
            // The decoder keeps control frames within 125 bytes.
            let start = usize::from(self.rx.control_len);
            let end = start + piece.data.len();
            piece.data.unmask_into(&mut self.rx.control[start..end]);
            self.rx.control_len = end as u8;
            if !piece.last {
                return None;
            }
            self.rx.control_len = 0;
            Payload::copy_from_slice(&self.rx.control[..end])
        };
        self.on_control(now, piece.opcode, payload)
    }

    /// Every control frame is dispatched here (RFC 6455 §5.5).
    fn on_control(&mut self, now: Duration, opcode: OpCode, payload: Payload) -> Option<Event> {
        match opcode {
            OpCode::Ping => {
                self.answer_ping(&payload);
                Some(Event::Ping(payload))
            }
            OpCode::Pong => Some(Event::Pong(payload)),
            _ => {
                self.peer_closed(now, &payload);
                None
            }
        }
    }

    /// The peer's close frame has been read (RFC 6455 §5.5.1, §7.1.5).
    fn peer_closed(&mut self, now: Duration, payload: &[u8]) {
        let parsed = match close::parse_close_payload(payload) {
            Ok(p) => p,
            Err(e) => {
                return self.fail(now, e.into());
            }
        };
        if self.phase.allows().send_close {
            // Echo code and reason (RFC 6455 §5.5.1), so that a browser that
            // closed with a reason sees it again in its close event.
            self.write_close(parsed);
        }
        self.peer_close = Some(alloc::boxed::Box::new(match parsed {
            Some((code, reason)) => (code, reason.to_string()),
            None => (CloseCode::NO_STATUS, String::new()),
        }));
        self.transition(now, Input::PeerClose, None);
    }

    /// Fails the connection for a peer's violation (RFC 6455 §7.1.7): a close
    /// frame with the violation's code unless ours went out already, then the
    /// error and the close event.
    #[inline(never)]
    pub(super) fn fail(&mut self, now: Duration, e: ProtocolError) {
        if self.phase.allows().send_close {
            let reason = e.to_string();
            self.write_close(Some((e.close_code(), close::truncate_reason(&reason))));
        }
        self.transition(now, Input::Fail, Some(Error::Protocol(e)));
    }
}
