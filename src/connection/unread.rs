//! Input taken but not read yet, and the room lent to read more into.

use alloc::vec::Vec;

/// The most [`Unread::room`] lends at a time: reads of this size stay in
/// the CPU's cache while they are decoded.
pub(super) const READ_ROOM: usize = 64 << 10;

/// The least [`Unread::room`] lends: a smaller room (a small
/// [`Config::max_unread_input`](crate::Config::max_unread_input)) would turn
/// every read into a call for a few bytes, where the caller's own buffer
/// and `handle_bytes` take whole reads.
pub(crate) const MIN_ROOM: usize = 4 << 10;

/// A read of at least this much says the transport is streaming: for a
/// caller that reads into the room lent ([`Unread::room`]), the buffer is
/// kept once read, and the next read's room is lent in it (no copy, nothing
/// zeroed again). A shorter read lets it go.
const STREAMING: usize = 16 << 10;

/// A cache line: input handed in is copied to its own offset within one
/// (see [`Unread::push`]).
const LINE: usize = 64;

/// Input handed in that is at least this long is copied to its own offset
/// within a line: shorter copies do not use `rep movsb`.
const ALIGNED_FROM: usize = 2 << 10;

/// Input taken but not read yet: what follows an event the application has
/// not taken, in `buf[pos..end]`, bounded by the caller
/// ([`Config::max_unread_input`](crate::Config::max_unread_input)). The
/// bytes of `buf` past `end` are room, initialised, that a read may be
/// lent.
#[derive(Debug, Default)]
pub(super) struct Unread {
    // INVARIANT: pos <= end <= buf.len(), and pos == end only when both are 0.
    // `pos` may be non-zero with nothing read yet (see `push`).
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// The room lent by the last [`room`](Self::room), if not committed
    /// since: only that much may be [`commit`](Self::commit)ted.
    lent: usize,
    /// Whether the last input was a streaming one ([`STREAMING`]): then
    /// [`room`](Self::room) lends room for the next read.
    streaming: bool,
    /// Whether the last input was read into the room lent: only then is the
    /// buffer kept once read, for the next read (the input of `handle_bytes`
    /// is the caller's buffer, and so is its next read).
    read_in_room: bool,
}

impl Unread {
    /// The bytes not read yet.
    #[inline(always)]
    pub(super) fn bytes(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    pub(super) fn len(&self) -> usize {
        self.end - self.pos
    }

    #[inline(always)]
    pub(super) fn is_empty(&self) -> bool {
        self.end == 0
    }

    /// Heap held.
    pub(super) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The first `n` bytes were read. Once all are, the room lent is no
    /// longer behind them (it is refused), and the buffer goes unless the
    /// input streams into room lent.
    #[inline(always)]
    pub(super) fn consume(&mut self, n: usize) {
        self.pos += n;
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
            self.lent = 0;
            if !(self.streaming && self.read_in_room) {
                self.release();
            }
        }
    }

    #[inline(never)]
    fn release(&mut self) {
        self.buf = Vec::new();
        self.lent = 0;
    }

    /// Keeps `data` behind what waits (the caller bounds it).
    ///
    /// What waits within [`LINE`] bytes of the buffer's start stays where
    /// it is; what waits further in moves (to the front, as it always has).
    /// When it moves, or nothing waits, input of [`ALIGNED_FROM`] bytes or
    /// more is copied to the same offset within a 64-byte line as `data`
    /// has: `memcpy` is fastest so, and glibc's for such sizes
    /// (`rep movsb`) runs about twenty times slower on AMD Zen when the
    /// destination sits 1 to 31 bytes past the source modulo 4 KiB
    /// (measured on this project's machines: 1.8 against 41 GB/s). Either
    /// way the buffer holds at most [`LINE`] - 1 bytes more than what waits.
    pub(super) fn push(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.lent = 0;
        let keep = self.end - self.pos;
        let total = keep + data.len();
        let stay = keep > 0 && self.pos < LINE;
        let align = !stay && data.len() >= ALIGNED_FROM;
        let most_start = if stay {
            self.pos
        } else if align {
            LINE - 1
        } else {
            0
        };
        // Exactly what is kept, after at most `most_start` bytes: doubling
        // would hold up to twice the limit.
        self.buf.reserve_exact((most_start + total).saturating_sub(self.buf.len()));
        // After `reserve_exact`, which may move the buffer.
        let start = if align {
            (data.as_ptr() as usize).wrapping_sub(self.buf.as_ptr() as usize + keep) % LINE
        } else {
            most_start
        };
        self.move_waiting(start);
        self.buf.truncate(self.end);
        self.buf.extend_from_slice(data);
        self.end += data.len();
    }

    /// Moves what waits to the front, so that room follows it.
    fn compact(&mut self) {
        self.move_waiting(0);
    }

    /// Moves what waits to start at `start` (growing the buffer to hold it
    /// there if need be; the caller reserved the room).
    fn move_waiting(&mut self, start: usize) {
        if start != self.pos {
            let keep = self.end - self.pos;
            if self.buf.len() < start + keep {
                self.buf.resize(start + keep, 0);
            }
            self.buf.copy_within(self.pos..self.end, start);
            self.pos = start;
            self.end = start + keep;
        }
    }

    /// Room behind what waits, for the next read: at most [`READ_ROOM`] and
    /// `max` with what waits, lent until the next call. `None` unless the
    /// input streams (a connection that reads a little at a time holds no
    /// buffer), and when that leaves less than [`MIN_ROOM`].
    pub(super) fn room(&mut self, max: usize) -> Option<&mut [u8]> {
        self.lent = 0;
        if !self.streaming {
            return None;
        }
        let n = READ_ROOM.min(max.saturating_sub(self.len()));
        if n < MIN_ROOM {
            return None;
        }
        self.compact();
        let end = self.end + n;
        if self.buf.len() < end {
            self.buf.reserve_exact(end - self.buf.len());
            self.buf.resize(end, 0);
        }
        self.lent = n;
        Some(&mut self.buf[self.end..end])
    }

    /// Whether the last [`room`](Self::room) lent at least `n` bytes.
    pub(super) fn offered(&self, n: usize) -> bool {
        n <= self.lent
    }

    /// `n` bytes were read into the room lent (the caller checked
    /// [`offered`](Self::offered)); a read that filled it, or brought at
    /// least [`STREAMING`], keeps the input streaming. `n == 0` (nothing
    /// came) lets the buffer go if nothing waits.
    pub(super) fn commit(&mut self, n: usize) {
        self.streaming = n > 0 && (n == self.lent || n >= STREAMING);
        self.read_in_room = true;
        self.lent = 0;
        self.end += n;
        if self.end == 0 {
            self.release();
        }
    }

    /// Forgets what waits and lets the buffer go.
    pub(super) fn clear(&mut self) {
        *self = Unread::default();
    }

    /// Input of `n` bytes was handed in from the caller's own buffer: it
    /// streams if it brought [`STREAMING`] bytes or more, whatever of it is
    /// kept, and room lent before is not where it went. A buffer kept for
    /// reads into it goes if nothing waits in it: what this input leaves
    /// unread is kept in a buffer of its own size.
    #[inline(always)]
    pub(super) fn note_input(&mut self, n: usize) {
        self.streaming = n >= STREAMING;
        self.read_in_room = false;
        self.lent = 0;
        if self.end == 0 && self.buf.capacity() > 0 {
            self.release();
        }
    }

    /// Stops lending room: other input came, or `read_buf` offered none.
    pub(super) fn unlend(&mut self) {
        self.lent = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The offset of `p` within a line.
    fn line_offset(p: *const u8) -> usize {
        p as usize % LINE
    }

    #[test]
    fn long_input_lands_at_its_own_offset_within_a_line() {
        let source: Vec<u8> = (0..ALIGNED_FROM + 2 * LINE).map(|i| i as u8).collect();
        for at in 0..LINE {
            let data = &source[at..at + ALIGNED_FROM];
            // Into an empty buffer.
            let mut u = Unread::default();
            u.push(data);
            assert_eq!(u.bytes(), data);
            assert_eq!(line_offset(u.bytes().as_ptr()), line_offset(data.as_ptr()), "from offset {at}");
            assert!(u.capacity() < data.len() + LINE, "{} B held for {} B", u.capacity(), data.len());
            // Behind a few bytes left over (moved to match), read since.
            u.consume(data.len() - 5);
            u.push(data);
            assert_eq!(&u.bytes()[..5], &data[data.len() - 5..]);
            assert_eq!(&u.bytes()[5..], data);
            assert_eq!(line_offset(u.bytes()[5..].as_ptr()), line_offset(data.as_ptr()), "behind 5 from {at}");
            u.consume(u.len());
            assert_eq!(u.capacity(), 0, "read: the buffer goes");
            // What waits near the front stays; the buffer holds no more than
            // the skew beyond it.
            u.push(&source[..10]);
            u.push(data);
            assert_eq!(u.pos, 0, "what waits at the front is not moved");
            assert_eq!((&u.bytes()[..10], &u.bytes()[10..]), (&source[..10], data));
            assert!(u.capacity() < u.len() + LINE, "{} B held for {} B", u.capacity(), u.len());
            u.consume(u.len());
        }
        // Short input is not skewed: it holds no more than it brings.
        let mut u = Unread::default();
        u.push(&source[1..21]);
        assert_eq!((u.bytes(), u.capacity()), (&source[1..21], 20));
    }

    #[test]
    fn a_buffer_is_kept_only_while_the_input_streams() {
        let mut u = Unread::default();
        u.note_input(100);
        u.push(&[1; 100]);
        u.consume(100);
        assert!(u.room(1 << 20).is_none(), "after a short input, no room is lent");
        assert_eq!(u.capacity(), 0, "a short input lets the buffer go");
        u.note_input(STREAMING);
        u.push(&vec![2; STREAMING]);
        u.consume(STREAMING);
        assert_eq!(u.capacity(), 0, "the caller's own buffer streams: ours goes");
        let room = u.room(1 << 20).expect("room while streaming");
        assert_eq!(room.len(), READ_ROOM);
        room.fill(3);
        u.commit(READ_ROOM);
        u.consume(READ_ROOM);
        assert!(u.capacity() >= READ_ROOM, "reads into the room stream: it is kept");
        let room = u.room(1 << 20).expect("room while streaming");
        room[..3].copy_from_slice(b"abc");
        assert!(u.offered(READ_ROOM) && !u.offered(READ_ROOM + 1));
        u.commit(3);
        assert_eq!(u.bytes(), b"abc");
        assert!(!u.offered(1), "one commit per room");
        u.consume(3);
        assert_eq!(u.capacity(), 0, "a short read lets it go once read");
    }

    #[test]
    fn room_follows_what_waits_within_the_limit() {
        let mut u = Unread::default();
        u.note_input(STREAMING);
        u.push(&vec![7; STREAMING]);
        u.consume(STREAMING - 10);
        let room = u.room(STREAMING).expect("room behind what waits");
        assert_eq!(room.len(), STREAMING - 10);
        u.commit(0);
        assert_eq!(u.bytes(), [7; 10]);
        assert!(u.room(10).is_none(), "the limit is reached");
        u.clear();
        assert_eq!((u.len(), u.capacity()), (0, 0));
    }

    #[test]
    fn nothing_read_lets_the_buffer_go() {
        let mut u = Unread::default();
        u.note_input(STREAMING);
        u.push(&vec![1; STREAMING]);
        u.consume(STREAMING);
        assert!(u.room(1 << 20).is_some());
        u.commit(0);
        assert_eq!(u.capacity(), 0);
        assert!(u.room(1 << 20).is_none());
    }
}
