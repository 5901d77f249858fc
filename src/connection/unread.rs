//! Input taken but not read yet, and the room lent to read more into.

use alloc::vec::Vec;

/// The most [`Unread::room`] lends at a time: reads of this size stay in
/// the CPU's cache while they are decoded.
pub(super) const READ_ROOM: usize = 64 << 10;

/// A read of at least this much says the transport is streaming: for a
/// caller that reads into the room lent ([`Unread::room`]), the buffer is
/// kept once read, and the next read's room is lent in it (no copy, nothing
/// zeroed again). A shorter read lets it go.
const STREAMING: usize = 16 << 10;

/// Input taken but not read yet: what follows an event the application has
/// not taken, in `buf[pos..end]`, bounded by the caller
/// ([`Config::max_unread_input`](crate::Config::max_unread_input)). The
/// bytes of `buf` past `end` are room, initialised, that a read may be
/// lent.
#[derive(Debug, Default)]
pub(super) struct Unread {
    // INVARIANT: pos <= end <= buf.len(), and pos == end only when both are 0.
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
    pub(super) fn push(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.compact();
        self.lent = 0;
        self.streaming = data.len() >= STREAMING;
        self.read_in_room = false;
        let end = self.end + data.len();
        if self.buf.len() < end {
            // Exactly what is kept: doubling would hold up to twice the limit.
            self.buf.reserve_exact(end - self.buf.len());
            self.buf.resize(end, 0);
        }
        self.buf[self.end..end].copy_from_slice(data);
        self.end = end;
    }

    /// Moves what waits to the front, so that room follows it.
    fn compact(&mut self) {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
    }

    /// Room behind what waits, for the next read: at most [`READ_ROOM`] and
    /// `max` with what waits (at least one byte while nothing waits), lent
    /// until the next call. `None` unless the input streams: a connection
    /// that reads a little at a time holds no buffer.
    pub(super) fn room(&mut self, max: usize) -> Option<&mut [u8]> {
        self.lent = 0;
        if !self.streaming {
            return None;
        }
        let n = READ_ROOM.min(max.saturating_sub(self.len()).max(usize::from(self.is_empty())));
        if n == 0 {
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

    /// Whether room is lent now.
    pub(super) fn is_lent(&self) -> bool {
        self.lent > 0
    }

    /// A read of `n` bytes went into the message's room: whether the input
    /// streams follows it too.
    pub(super) fn read_elsewhere(&mut self, n: usize) {
        self.streaming = n >= STREAMING;
        self.read_in_room = true;
    }

    /// Stops lending room: other input came, or the room was lent elsewhere.
    pub(super) fn unlend(&mut self) {
        self.lent = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_is_kept_only_while_the_input_streams() {
        let mut u = Unread::default();
        u.push(&[1; 100]);
        u.consume(100);
        assert!(u.room(1 << 20).is_none(), "after a short input, no room is lent");
        assert_eq!(u.capacity(), 0, "a short input lets the buffer go");
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
        u.push(&vec![1; STREAMING]);
        u.consume(STREAMING);
        assert!(u.room(1 << 20).is_some());
        u.commit(0);
        assert_eq!(u.capacity(), 0);
        assert!(u.room(1 << 20).is_none());
    }
}
