//! The two output queues, built to hold no heap while empty: events for the
//! application and bytes for the transport.

use alloc::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

use crate::event::Event;
use crate::mask::apply_mask;
use crate::payload::BLOCK;

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
use crate::simd::store_words;

/// `words` (little-endian) into `dst`, word by word (x86_64 has its own,
/// `simd::store_words`).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
#[cfg_attr(all(test, target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn portable_store_words(dst: &mut [u8; 48], words: &[u64; 6]) {
    for (lane, word) in dst.as_chunks_mut::<8>().0.iter_mut().zip(words) {
        *lane = word.to_le_bytes();
    }
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
use portable_store_words as store_words;

/// Events waiting inline, in two slots used in turn.
const SLOTS: usize = 2;

/// Events not yet taken, oldest first.
///
/// Input is read as events are taken (see
/// [`Connection::poll_event`](crate::Connection::poll_event)), so few ever
/// wait: the first message of an input, the `Open` with the first message, a
/// failure's `Error` and `Closed`. Two wait
/// inline, in slots used in turn so that an event is never moved between
/// them; the overflow queue is allocated only when more wait, and released
/// once it drains.
#[derive(Debug, Default)]
pub(super) struct EventQueue {
    // INVARIANT: the order is slots[head], slots[head ^ 1], then `rest`; a
    // slot is empty only if every later place is.
    slots: [Option<Event>; SLOTS],
    // INVARIANT: head < SLOTS
    head: usize,
    rest: VecDeque<Event>,
}

impl EventQueue {
    #[inline(always)]
    pub(super) fn push_back(&mut self, event: Event) {
        match self.back_slot() {
            Some(slot) => *slot = Some(event),
            None => self.push_rest(event),
        }
    }

    #[inline(never)]
    fn push_rest(&mut self, event: Event) {
        self.rest.push_back(event);
    }

    /// The empty slot at the back, if the next event would go in a slot.
    /// (The checks read tags alone: loading a whole slot just after narrow
    /// stores to it would stall the CPU.)
    #[inline(always)]
    pub(super) fn back_slot(&mut self) -> Option<&mut Option<Event>> {
        let at = if self.slots[self.head].is_none() {
            self.head
        } else if self.slots[self.head ^ 1].is_none() {
            self.head ^ 1
        } else {
            return None;
        };
        Some(&mut self.slots[at])
    }

    /// The oldest event.
    #[inline(always)]
    pub(super) fn pop_front(&mut self) -> Option<Event> {
        let head = self.head;
        self.slots[head].as_ref()?;
        self.head = head ^ 1;
        if self.rest.capacity() > 0 {
            return self.pop_refilling(head);
        }
        // Returned as it is: moved through temporaries, the event would be
        // copied in pieces that the CPU then stalls on.
        self.slots[head].take()
    }

    /// Takes the event in slot `at` and moves the oldest overflow event into
    /// it, now the back slot.
    #[inline(never)]
    fn pop_refilling(&mut self, at: usize) -> Option<Event> {
        let event = self.slots[at].take();
        self.slots[at] = self.rest.pop_front();
        if self.rest.is_empty() {
            self.rest = VecDeque::new();
        }
        event
    }

    pub(super) fn is_empty(&self) -> bool {
        self.slots[self.head].is_none()
    }

    /// Heap held (for the memory checks).
    pub(super) fn capacity(&self) -> usize {
        self.rest.capacity() * core::mem::size_of::<Event>()
    }
}

#[cfg(test)]
mod event_tests {
    use super::*;
    use crate::payload::Payload;

    #[test]
    fn events_keep_their_order_across_slots_and_overflow() {
        let mut q = EventQueue::default();
        let ev = |i: u8| Event::Binary(Payload::copy_from_slice(&[i]));
        let mut next = 0;
        let mut taken = 0;
        // Pushes and pops interleaved in every proportion.
        for round in 0..50u8 {
            for _ in 0..round % 7 {
                q.push_back(ev(next));
                next += 1;
            }
            for _ in 0..round % 5 {
                if let Some(e) = q.pop_front() {
                    assert_eq!(e, ev(taken));
                    taken += 1;
                }
            }
        }
        while let Some(e) = q.pop_front() {
            assert_eq!(e, ev(taken));
            taken += 1;
        }
        assert_eq!(taken, next);
        assert_eq!(q.capacity(), 0);
    }
}

/// Bytes of small frames held inline, without heap.
pub(crate) const STAGE: usize = 160;

/// The room a small frame is stored in: a header of at most 6 bytes (a
/// 7-bit length, a mask key), written as a word, then a payload block of
/// [`Payload::INLINE`](crate::Payload::INLINE) bytes and their length.
const SMALL_FRAME: usize = 8 + BLOCK;

/// Bytes for the transport, in order.
///
/// While nothing else waits, small frames are encoded into an inline array
/// (`stage`): a send followed by [`copy_into`](Self::copy_into) touches no
/// heap. Past that: shared payloads that go out without a copy, then the
/// buffer that frames and headers are encoded into. [`pop`](Self::pop) hands
/// that buffer to the caller, so an idle connection holds no heap; the next
/// buffer is sized from the last transmit.
#[derive(Debug)]
pub(super) struct Outbox {
    // INVARIANT: stage_start <= stage_len <= STAGE, and the stage holds bytes
    // only while `segments` and `buf` are empty.
    stage: [u8; STAGE],
    stage_start: u8,
    stage_len: u8,
    /// Finished pieces, written before `buf`.
    segments: VecDeque<Bytes>,
    buf: BytesMut,
    /// Bytes in `segments`.
    segment_len: usize,
    /// The size of the last transmit, to size the next buffer (capped).
    hint: u32,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox {
            stage: [0; STAGE],
            stage_start: 0,
            stage_len: 0,
            segments: VecDeque::new(),
            buf: BytesMut::new(),
            segment_len: 0,
            hint: 0,
        }
    }
}

/// The largest buffer the size hint asks for up front.
const MAX_HINT: usize = 64 << 10;

impl Outbox {
    /// Queues `head` then `payload`, the payload XORed with `mask` if given.
    #[inline]
    pub(super) fn write(&mut self, head: &[u8], payload: &[u8], mask: Option<[u8; 4]>) {
        let n = head.len() + payload.len();
        let at = usize::from(self.stage_len);
        if at + n <= STAGE && self.segment_len == 0 && self.buf.is_empty() {
            let body = at + head.len();
            self.stage[at..body].copy_from_slice(head);
            self.stage[body..at + n].copy_from_slice(payload);
            if let Some(key) = mask {
                apply_mask(&mut self.stage[body..at + n], key, 0);
            }
            self.stage_len = (at + n) as u8;
            return;
        }
        let buf = self.reserve(n);
        buf.extend_from_slice(head);
        let start = buf.len();
        buf.extend_from_slice(payload);
        if let Some(key) = mask {
            apply_mask(&mut buf[start..], key, 0);
        }
    }

    /// Queues a small frame: its header as `n` bytes in the low end of
    /// `head`, then the first `len` bytes of `body`. Stored in whole words
    /// (the bytes past the frame are overwritten later or never shown).
    #[inline(always)]
    pub(super) fn write_small(&mut self, head: u64, n: usize, body: &[u64; BLOCK / 8], len: usize) {
        let at = usize::from(self.stage_len);
        let alone = self.segment_len == 0 && self.buf.is_empty();
        if at == 0 && alone {
            // The frame alone at the start of the stage, as the words that
            // `copy_into` then moves in the same 16-byte halves.
            debug_assert!((1..8).contains(&n), "a {n}-byte short header");
            self.stage_len = (n + len) as u8;
            let (up, down) = (8 * n as u32, 64 - 8 * n as u32);
            let b = body;
            let words = [
                head | (b[0] << up),
                (b[0] >> down) | (b[1] << up),
                (b[1] >> down) | (b[2] << up),
                (b[2] >> down) | (b[3] << up),
                b[3] >> down,
                0,
            ];
            let stage = self.stage.first_chunk_mut::<48>().expect("the stage holds 48 bytes");
            store_words(stage, &words);
            return;
        }
        let (block, end) = if at + SMALL_FRAME <= STAGE && alone {
            self.stage_len = (at + n + len) as u8;
            (&mut self.stage[at..at + SMALL_FRAME], None)
        } else if self.stage_len != 0 || self.buf.capacity() - self.buf.len() < SMALL_FRAME {
            // Near the end of the buffer (sized from the last transmit, which
            // it should fit exactly), or past the stage: as any frame.
            let bytes = crate::payload::block_of_words(body);
            return self.write(&head.to_le_bytes()[..n], &bytes[..len], None);
        } else {
            let buf = &mut self.buf;
            let start = buf.len();
            buf.extend_from_slice(&[0; SMALL_FRAME]);
            (&mut buf[start..], Some(start + n + len))
        };
        block[..8].copy_from_slice(&head.to_le_bytes());
        for (i, word) in body.iter().enumerate() {
            block[n + 8 * i..n + 8 * i + 8].copy_from_slice(&word.to_le_bytes());
        }
        if let Some(end) = end {
            self.buf.truncate(end);
        }
    }

    /// Room for `n` more bytes in the encoding buffer, behind what the stage holds.
    #[inline(always)]
    fn reserve(&mut self, n: usize) -> &mut BytesMut {
        if self.stage_len != 0 || self.buf.capacity() - self.buf.len() < n {
            self.reserve_slow(n);
        }
        &mut self.buf
    }

    #[inline(never)]
    fn reserve_slow(&mut self, n: usize) {
        let staged = usize::from(self.stage_len - self.stage_start);
        if self.buf.capacity() == 0 {
            self.buf.reserve((n + staged).max(self.hint as usize));
        } else {
            self.buf.reserve(n);
        }
        if staged > 0 {
            let (start, end) = (usize::from(self.stage_start), usize::from(self.stage_len));
            self.buf.extend_from_slice(&self.stage[start..end]);
            self.stage_start = 0;
            self.stage_len = 0;
        }
    }

    /// Queues a shared payload after everything queued so far.
    pub(super) fn push_shared(&mut self, bytes: Bytes) {
        self.reserve(0);
        if !self.buf.is_empty() {
            let head = core::mem::take(&mut self.buf).freeze();
            self.segment_len += head.len();
            self.segments.push_back(head);
        }
        self.segment_len += bytes.len();
        self.segments.push_back(bytes);
    }

    /// Whether everything queued is in the inline stage (or nothing is).
    #[cfg(feature = "std")]
    pub(super) fn staged_only(&self) -> bool {
        self.segment_len == 0 && self.buf.is_empty()
    }

    pub(super) fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.write(bytes, &[], None);
    }

    pub(super) fn len(&self) -> usize {
        usize::from(self.stage_len - self.stage_start) + self.segment_len + self.buf.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap held (for the memory checks).
    pub(super) fn capacity(&self) -> usize {
        self.buf.capacity() + self.segments.capacity() * core::mem::size_of::<Bytes>()
    }

    pub(super) fn clear(&mut self) {
        *self = Outbox { hint: self.hint, ..Outbox::default() };
    }

    /// The next piece to write.
    pub(super) fn pop(&mut self) -> Option<Bytes> {
        if self.stage_len > 0 {
            let bytes = Bytes::copy_from_slice(&self.stage[usize::from(self.stage_start)..usize::from(self.stage_len)]);
            self.stage_start = 0;
            self.stage_len = 0;
            return Some(bytes);
        }
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

    /// Copies the next bytes into `out`, as many as fit; returns how many.
    #[inline(always)]
    pub(super) fn copy_into(&mut self, out: &mut [u8]) -> usize {
        let (start, end) = (usize::from(self.stage_start), usize::from(self.stage_len));
        if start == 0 && end <= 64 && out.len() >= 64 {
            // A few small frames staged (or none): one fixed-size move of
            // the stage's first 64 bytes (bytes past `end` mean nothing).
            if end > 0 {
                out[..64].copy_from_slice(&self.stage[..64]);
                self.stage_len = 0;
                return end;
            }
            if self.segment_len == 0 && self.buf.is_empty() {
                return 0;
            }
        }
        self.copy_into_slow(out)
    }

    /// [`copy_into`](Self::copy_into) past its shortcut.
    #[inline(never)]
    fn copy_into_slow(&mut self, out: &mut [u8]) -> usize {
        if self.stage_len > 0 {
            let (start, end) = (usize::from(self.stage_start), usize::from(self.stage_len));
            if start == 0 && out.len() >= STAGE {
                // Fixed-size moves of all of the stage (bytes past `end`
                // mean nothing): no copy of a variable length.
                out[..STAGE].copy_from_slice(&self.stage);
                self.stage_len = 0;
                return end;
            }
            let n = (end - start).min(out.len());
            out[..n].copy_from_slice(&self.stage[start..start + n]);
            if start + n == end {
                self.stage_start = 0;
                self.stage_len = 0;
            } else {
                self.stage_start = (start + n) as u8;
            }
            return n;
        }
        let mut done = 0;
        while done < out.len() {
            let Some(front) = self.segments.front_mut() else { break };
            let n = front.len().min(out.len() - done);
            out[done..done + n].copy_from_slice(&front[..n]);
            front.advance(n);
            self.segment_len -= n;
            done += n;
            if front.is_empty() {
                self.segments.pop_front();
            }
        }
        if self.segments.is_empty() && self.segments.capacity() > 0 {
            self.segments = VecDeque::new();
        }
        let n = self.buf.len().min(out.len() - done);
        out[done..done + n].copy_from_slice(&self.buf[..n]);
        self.buf.advance(n);
        if self.buf.is_empty() && self.buf.capacity() > 0 {
            self.hint = (done + n).min(MAX_HINT) as u32;
            self.buf = BytesMut::new();
        }
        done + n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_words_are_stored_as_the_portable_form_stores_them() {
        let words = [0x0807_0605_0403_0201, u64::MAX, 0, 0x8000_0000_0000_0001, 0x1234_5678_9ABC_DEF0, 42];
        let (mut fast, mut portable) = ([0xEE; 48], [0x11; 48]);
        store_words(&mut fast, &words);
        portable_store_words(&mut portable, &words);
        assert_eq!(fast, portable);
        assert_eq!(fast[..8], [1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn a_small_frame_alone_is_staged_whole() {
        // The header's `n` bytes, then the payload, for each header length a
        // short header has and each payload length that is staged.
        for n in [2, 6] {
            for len in 0..=BLOCK - 1 {
                let head: u64 = (0..n as u64).fold(0, |w, i| w | ((0xA0 + i) << (8 * i)));
                let payload: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37)).collect();
                let mut out = Outbox::default();
                out.write_small(head, n, &crate::payload::Payload::short_words(&payload), len);
                let want: Vec<u8> = head.to_le_bytes()[..n].iter().copied().chain(payload.iter().copied()).collect();
                assert_eq!(drain_into(&mut out, 200), want, "header {n}, payload {len}");
            }
        }
    }

    fn drain_into(out: &mut Outbox, step: usize) -> Vec<u8> {
        let mut all = Vec::new();
        let mut buf = vec![0; step];
        loop {
            let n = out.copy_into(&mut buf);
            if n == 0 {
                return all;
            }
            all.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn order_is_kept_across_stage_buffer_and_segments() {
        for step in [1, 7, 64, 100_000] {
            let mut out = Outbox::default();
            out.write(b"ab", b"cd", None);
            out.write(b"e", &[b'f'; 200], None);
            out.push_shared(Bytes::from(vec![b'g'; 5000]));
            out.write(b"h", b"", None);
            let mut want = b"abcde".to_vec();
            want.extend([b'f'; 200]);
            want.extend([b'g'; 5000]);
            want.push(b'h');
            assert_eq!(out.len(), want.len());
            assert_eq!(drain_into(&mut out, step), want, "step {step}");
            assert!(out.is_empty());
            assert_eq!(out.capacity(), 0, "nothing held once drained");
        }
    }

    #[test]
    fn small_frames_stay_inline() {
        let mut out = Outbox::default();
        out.write(b"\x82\x02", b"hi", None);
        assert_eq!(out.capacity(), 0);
        assert_eq!(out.pop().as_deref(), Some(&b"\x82\x02hi"[..]));
        assert_eq!(out.pop(), None);
    }
}
