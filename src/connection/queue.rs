//! The two output queues, built to hold no heap while empty: events for the
//! application and bytes for the transport.

use alloc::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::event::Event;

/// Events not yet taken, oldest first.
///
/// Input is read one data message at a time, so most of the time one event
/// waits: it sits in `first`, and the overflow queue is allocated only when
/// more wait (a handshake's `Open` with the first message, a failure's
/// `Error` and `Closed`) and released once it drains.
#[derive(Debug, Default)]
pub(super) struct EventQueue {
    // INVARIANT: `first`, if any, is older than all of `rest`.
    first: Option<Event>,
    rest: VecDeque<Event>,
}

impl EventQueue {
    #[inline(always)]
    pub(super) fn push_back(&mut self, event: Event) {
        if self.first.is_none() && self.rest.is_empty() {
            self.first = Some(event);
        } else {
            self.push_rest(event);
        }
    }

    #[inline(never)]
    fn push_rest(&mut self, event: Event) {
        self.rest.push_back(event);
    }

    /// The oldest event. The overflow queue is released once empty, unless
    /// `more` says that more events are coming (input waits in the backlog).
    #[inline]
    pub(super) fn pop_front(&mut self, more: bool) -> Option<Event> {
        if let Some(event) = self.first.take() {
            return Some(event);
        }
        let event = self.rest.pop_front();
        if self.rest.is_empty() && !more && self.rest.capacity() > 0 {
            self.rest = VecDeque::new();
        }
        event
    }

    pub(super) fn is_empty(&self) -> bool {
        self.first.is_none() && self.rest.is_empty()
    }
}

/// Bytes for the transport, in order: shared payloads that are sent without
/// a copy, then the buffer that small frames and headers are encoded into.
///
/// Each transmit hands its buffer to the caller, so an idle connection holds
/// no heap; the next buffer is sized from the last transmit, so a steady
/// stream of sends costs one allocation per transmit, not per frame.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    /// Finished pieces, written before `buf`.
    segments: VecDeque<Bytes>,
    buf: BytesMut,
    /// Bytes in `segments`.
    segment_len: usize,
    /// The size of the last transmit, to size the next buffer (capped).
    hint: u32,
}

/// The largest buffer the size hint asks for up front.
const MAX_HINT: usize = 64 << 10;

impl Outbox {
    /// Room for `n` more bytes in the encoding buffer.
    pub(super) fn reserve(&mut self, n: usize) -> &mut BytesMut {
        if self.buf.capacity() == 0 {
            self.buf.reserve(n.max(self.hint as usize));
        } else {
            self.buf.reserve(n);
        }
        &mut self.buf
    }

    /// Queues a shared payload after everything queued so far.
    pub(super) fn push_shared(&mut self, bytes: Bytes) {
        if !self.buf.is_empty() {
            let head = core::mem::take(&mut self.buf).freeze();
            self.segment_len += head.len();
            self.segments.push_back(head);
        }
        self.segment_len += bytes.len();
        self.segments.push_back(bytes);
    }

    pub(super) fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.reserve(bytes.len()).extend_from_slice(bytes);
    }

    pub(super) fn len(&self) -> usize {
        self.segment_len + self.buf.len()
    }

    pub(super) fn clear(&mut self) {
        *self = Outbox { hint: self.hint, ..Outbox::default() };
    }

    /// The next piece to write.
    pub(super) fn pop(&mut self) -> Option<Bytes> {
        if let Some(segment) = self.segments.pop_front() {
            self.segment_len -= segment.len();
            if self.segments.is_empty() {
                self.segments = VecDeque::new();
            }
            return Some(segment);
        }
        if self.buf.is_empty() {
            return None;
        }
        let bytes = core::mem::take(&mut self.buf).freeze();
        self.hint = bytes.len().min(MAX_HINT) as u32;
        Some(bytes)
    }
}
