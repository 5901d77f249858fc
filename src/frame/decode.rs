//! Cutting a byte stream into frames (RFC 6455 §5.2).
//!
//! The [`Decoder`] holds only what a frame split across reads needs: up to 13
//! bytes of a header and how far into the current payload it is. It never
//! buffers payload: it hands out each [`Piece`] of payload as it arrives,
//! still masked, with the key and phase that unmask it ([`Masked`]), so the
//! next layer unmasks it once, straight into wherever it is kept.
//!
//! The hot path (a whole frame at the start of the input) is the first branch
//! of [`Decoder::decode`]: no state is touched on the way in or out.

use alloc::vec::Vec;

use super::{FrameError, FrameHeader, MAX_HEADER_LEN, MAX_SHORT_LEN, OpCode};
use crate::mask;
use crate::payload::Payload;
use crate::role::Role;

/// Payload bytes as they arrived, with the key that unmasks them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Masked<'a> {
    /// The input from the first of these bytes on. It may run past them, so
    /// that a small payload is copied in fixed-size blocks; only `len` bytes
    /// are ever shown.
    // INVARIANT: len <= ahead.len()
    ahead: &'a [u8],
    len: usize,
    /// The key rotated to the phase of the first byte, if the frame is
    /// masked, as the word XORed with each 4 bytes.
    key: Option<u32>,
}

impl<'a> Masked<'a> {
    /// Bytes that are not masked.
    #[cfg(test)]
    pub(crate) fn plain(bytes: &'a [u8]) -> Self {
        Masked { ahead: bytes, len: bytes.len(), key: None }
    }

    pub(crate) fn len(self) -> usize {
        self.len
    }

    #[cfg(test)]
    pub(crate) fn is_empty(self) -> bool {
        self.len == 0
    }

    fn bytes(self) -> &'a [u8] {
        &self.ahead[..self.len]
    }

    /// The key that unmasks these bytes from the first on, if any.
    pub(crate) fn key_bytes(self) -> Option<[u8; 4]> {
        self.key.map(u32::to_ne_bytes)
    }

    /// Whether the input has a whole inline block of bytes from these on,
    /// so that [`to_inline`](Self::to_inline) takes its fixed-size steps
    /// (not at the very end of the input).
    #[inline(always)]
    pub(crate) fn has_block(self) -> bool {
        self.ahead.len() >= crate::payload::BLOCK
    }

    /// The bytes, at most [`Payload::INLINE`], unmasked into an inline payload.
    #[inline(always)]
    pub(crate) fn to_inline(self) -> Payload {
        Payload::inline_unmasked(self.ahead, self.len, self.key)
    }

    /// The bytes unmasked into a payload: inline when they fit.
    #[inline(always)]
    pub(crate) fn to_payload(self) -> Payload {
        if self.len <= Payload::INLINE {
            self.to_inline()
        } else {
            Payload::shared_unmasked(self.bytes(), self.key_bytes())
        }
    }

    /// Appends the bytes unmasked, in one pass.
    pub(crate) fn extend_into(self, dst: &mut Vec<u8>) {
        match self.key_bytes() {
            Some(key) => mask::extend_unmasked(dst, self.bytes(), key, 0),
            None => dst.extend_from_slice(self.bytes()),
        }
    }

    /// Writes the bytes unmasked into `dst`, which has exactly their length.
    pub(crate) fn unmask_into(self, dst: &mut [u8]) {
        dst.copy_from_slice(self.bytes());
        if let Some(key) = self.key_bytes() {
            mask::apply_mask(dst, key, 0);
        }
    }
}

/// A piece of one frame's payload (possibly empty), as it arrived, with what
/// the later stages need of its header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Piece<'a> {
    /// The bytes.
    pub(crate) data: Masked<'a>,
    /// The frame's payload length.
    pub(crate) len: u64,
    /// How many bytes of the input the piece used (header included).
    pub(crate) used: usize,
    pub(crate) opcode: OpCode,
    /// The frame's FIN bit.
    pub(crate) fin: bool,
    /// The frame's RSV bits.
    pub(crate) rsv: u8,
    /// Whether this is the frame's first piece: the header has just been read.
    pub(crate) first: bool,
    /// Whether this piece ends the frame.
    pub(crate) last: bool,
}

/// The frame decoder of one connection.
#[derive(Clone, Debug)]
pub(crate) struct Decoder {
    /// Whether the peer's frames must be masked: a client's must, a server's
    /// must not (RFC 6455 §5.1).
    masked: bool,
    /// A header split across reads.
    // INVARIANT: head_len < MAX_HEADER_LEN, and head[..head_len] is a strict
    // prefix of a header that is valid so far; it is 0 while `frame` is Some.
    head: [u8; MAX_HEADER_LEN],
    head_len: u8,
    /// The frame whose payload is being read, and how many payload bytes of it
    /// were handed out.
    // INVARIANT: read < header.len
    frame: Option<(FrameHeader, u64)>,
}

impl Decoder {
    /// A decoder for the frames the peer of `role` sends.
    pub(crate) fn new(role: Role) -> Self {
        Decoder { masked: role == Role::Server, head: [0; MAX_HEADER_LEN], head_len: 0, frame: None }
    }

    /// Forgets a frame partly read: the connection closed.
    pub(crate) fn reset(&mut self) {
        self.head_len = 0;
        self.frame = None;
    }

    /// Whether the decoder is between frames: no header or payload partly read.
    pub(crate) fn is_between_frames(&self) -> bool {
        self.frame.is_none() && self.head_len == 0
    }

    /// Bytes of input held (a partial header).
    pub(crate) fn held(&self) -> usize {
        usize::from(self.head_len)
    }

    /// The opcode of the frame whose payload is being read, and how many of
    /// its payload bytes are still to come; `None` between frames.
    pub(crate) fn in_payload(&self) -> Option<(OpCode, u64)> {
        self.frame.map(|(header, read)| (header.opcode, header.len - read))
    }

    /// Payload bytes of the current frame not yet handed out.
    pub(crate) fn remaining(&self) -> u64 {
        self.in_payload().map_or(0, |(_, remaining)| remaining)
    }

    /// The shortcut for the common case: a whole text or binary frame with a
    /// 7-bit length at the start of `input`, between frames, that breaks no
    /// rule of this layer. It builds the piece from the first bytes in registers, with no
    /// header struct in between. `None` for anything else: [`decode`](Self::decode),
    /// which alone reports violations, takes it.
    #[inline(always)]
    pub(crate) fn whole_short<'a>(&self, input: &'a [u8]) -> Option<Piece<'a>> {
        let [b0, b1, ..] = *input else { return None };
        let len = usize::from(b1 & 0x7F);
        let masked = b1 & 0x80 != 0;
        if !self.is_between_frames() || len > MAX_SHORT_LEN || masked != self.masked {
            return None;
        }
        // Text and binary frames only: control frames and continuations
        // take the general path, which checks their rules.
        let opcode = match b0 & 0x0F {
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            _ => return None,
        };
        let fin = b0 & 0x80 != 0;
        let (key, start) = match input.get(2..6) {
            Some(&[k0, k1, k2, k3]) if masked => (Some(u32::from_ne_bytes([k0, k1, k2, k3])), 6),
            _ if masked => return None,
            _ => (None, 2),
        };
        let ahead = input.get(start..)?;
        if ahead.len() < len {
            return None;
        }
        let data = Masked { ahead, len, key };
        let rsv = (b0 >> 4) & 0x07;
        Some(Piece { data, len: len as u64, used: start + len, opcode, fin, rsv, first: true, last: true })
    }

    /// The next piece of payload at the start of `input`; `None` when the
    /// input ends inside a header (all of it is used, more is needed). An
    /// error is final: the decoder is not used again.
    #[inline(never)]
    pub(crate) fn decode<'a>(&mut self, input: &'a [u8]) -> Result<Option<Piece<'a>>, FrameError> {
        if self.is_between_frames()
            && let Some((header, n)) = FrameHeader::decode(input)?
        {
            return self.start(header, n, &input[n..]).map(Some);
        }
        self.decode_slow(input)
    }

    /// Starts a frame whose `n`-byte header was just read, with the first
    /// piece of its payload from `rest`.
    #[inline(always)]
    fn start<'a>(&mut self, header: FrameHeader, n: usize, rest: &'a [u8]) -> Result<Piece<'a>, FrameError> {
        if self.masked != header.mask.is_some() {
            return Err(if self.masked { FrameError::UnmaskedFrame } else { FrameError::MaskedFrame });
        }
        let take = usize::try_from(header.len).map_or(rest.len(), |len| len.min(rest.len()));
        let last = take as u64 == header.len;
        if !last {
            self.start_partial(header, take);
        }
        let data = Masked { ahead: rest, len: take, key: header.mask.map(u32::from_ne_bytes) };
        let FrameHeader { fin, rsv, opcode, len, .. } = header;
        Ok(Piece { data, len, used: n + take, opcode, fin, rsv, first: true, last })
    }

    #[inline(never)]
    fn start_partial(&mut self, header: FrameHeader, read: usize) {
        self.frame = Some((header, read as u64));
    }

    /// A header split across reads, or the rest of a frame's payload.
    #[inline(never)]
    fn decode_slow<'a>(&mut self, input: &'a [u8]) -> Result<Option<Piece<'a>>, FrameError> {
        if let Some((header, read)) = self.frame {
            let remaining = header.len - read;
            let n = usize::try_from(remaining).map_or(input.len(), |r| r.min(input.len()));
            let last = n as u64 == remaining;
            self.frame = if last { None } else { Some((header, read + n as u64)) };
            let key = header.mask.map(|k| u32::from_ne_bytes(mask::rotate(k, (read % 4) as usize)));
            let data = Masked { ahead: input, len: n, key };
            let FrameHeader { fin, rsv, opcode, len, .. } = header;
            return Ok(Some(Piece { data, len, used: n, opcode, fin, rsv, first: false, last }));
        }
        let held = usize::from(self.head_len);
        // A header is at most 14 bytes, so this either completes it or uses all input.
        let take = (MAX_HEADER_LEN - held).min(input.len());
        self.head[held..held + take].copy_from_slice(&input[..take]);
        match FrameHeader::decode(&self.head[..held + take])? {
            Some((header, n)) => {
                self.head_len = 0;
                // `head[..held]` alone was partial, so the header used some input.
                let used = n - held;
                self.start(header, used, &input[used..]).map(Some)
            }
            None => {
                self.head_len = (held + take) as u8;
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(opcode: OpCode, fin: bool, payload: &[u8], key: Option<[u8; 4]>) -> Vec<u8> {
        let mut head = [0; MAX_HEADER_LEN];
        let n = FrameHeader { fin, rsv: 0, opcode, mask: key, len: payload.len() as u64 }.encode(&mut head);
        let mut out = head[..n].to_vec();
        let start = out.len();
        out.extend_from_slice(payload);
        if let Some(key) = key {
            mask::apply_mask(&mut out[start..], key, 0);
        }
        out
    }

    /// Every piece's payload, unmasked, for input fed in pieces of `step` bytes.
    fn pieces(role: Role, input: &[u8], step: usize) -> Result<Vec<(OpCode, Vec<u8>, bool)>, FrameError> {
        let mut d = Decoder::new(role);
        let mut out: Vec<(OpCode, Vec<u8>, bool)> = Vec::new();
        for chunk in input.chunks(step) {
            let mut pos = 0;
            while pos < chunk.len() {
                let decoded = match d.whole_short(&chunk[pos..]) {
                    Some(p) if step.is_multiple_of(2) => Some(p),
                    _ => d.decode(&chunk[pos..])?,
                };
                pos += decoded.map_or(chunk.len() - pos, |p| p.used);
                if let Some(p) = decoded {
                    let mut bytes = Vec::new();
                    p.data.extend_into(&mut bytes);
                    match out.last_mut() {
                        Some(last) if !p.first => last.1.extend_from_slice(&bytes),
                        _ => out.push((p.opcode, bytes, p.last)),
                    }
                    if let Some(last) = out.last_mut() {
                        last.2 = p.last;
                    }
                }
            }
        }
        Ok(out)
    }

    #[test]
    fn any_split_gives_the_same_frames() {
        let key = Some([0x37, 0xfa, 0x21, 0x3d]);
        let long: Vec<u8> = (0..70_000u32).map(|i| (i * 7) as u8).collect();
        let mut input = frame(OpCode::Text, true, b"Hello", key);
        input.extend(frame(OpCode::Ping, true, b"", key));
        input.extend(frame(OpCode::Binary, false, &long, key));
        input.extend(frame(OpCode::Continuation, true, &long[..300], key));
        let want = vec![
            (OpCode::Text, b"Hello".to_vec(), true),
            (OpCode::Ping, Vec::new(), true),
            (OpCode::Binary, long.clone(), true),
            (OpCode::Continuation, long[..300].to_vec(), true),
        ];
        for step in [1, 2, 3, 13, 14, 100, 4096, input.len()] {
            assert_eq!(pieces(Role::Server, &input, step).unwrap(), want, "step {step}");
        }
    }

    #[test]
    fn masking_follows_the_role() {
        let masked = frame(OpCode::Text, true, b"x", Some([1, 2, 3, 4]));
        let plain = frame(OpCode::Text, true, b"x", None);
        assert_eq!(pieces(Role::Client, &masked, 1).unwrap_err(), FrameError::MaskedFrame);
        assert_eq!(pieces(Role::Server, &plain, 1).unwrap_err(), FrameError::UnmaskedFrame);
        assert_eq!(pieces(Role::Client, &plain, 1).unwrap(), vec![(OpCode::Text, b"x".to_vec(), true)]);
    }

    #[test]
    fn a_huge_header_holds_nothing() {
        // A header announcing 2^62 bytes: the decoder keeps only its position.
        let mut d = Decoder::new(Role::Client);
        let mut head = [0; MAX_HEADER_LEN];
        let n = FrameHeader { fin: true, rsv: 0, opcode: OpCode::Binary, mask: None, len: 1 << 62 }.encode(&mut head);
        let decoded = d.decode(&head[..n]).unwrap();
        assert!(matches!(decoded, Some(p) if p.first && !p.last && p.data.is_empty() && p.used == n));
        assert!(!d.is_between_frames());
    }
}
