//! The frame layer (RFC 6455 §5): frame headers of 2 to 14 bytes, decoded
//! without buffering and encoded into a fixed array, masking, and the
//! decoder that cuts a byte stream into frames (crate-private).
//!
//! This layer knows nothing of HTTP, messages or connection state: its rules
//! are the ones a frame alone settles (§5.1 masking by role, §5.2 the header
//! format, §5.5 control frame limits), and its errors are [`FrameError`].

pub(crate) mod decode;

use core::fmt;

pub use crate::mask::apply_mask;
#[doc(hidden)]
pub use crate::mask::apply_mask_scalar;

/// A frame that breaks RFC 6455 §5 by itself, whatever came before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// An opcode RFC 6455 reserves (3–7, 11–15). §5.2
    ReservedOpcode(u8),
    /// A payload length with the most significant bit set, or not in its
    /// minimal encoding. §5.2
    BadLength,
    /// A control frame with a payload over 125 bytes. §5.5
    ControlFrameTooLong,
    /// A control frame without FIN. §5.5
    FragmentedControlFrame,
    /// A client sent an unmasked frame. §5.1
    UnmaskedFrame,
    /// A server sent a masked frame. §5.1
    MaskedFrame,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::ReservedOpcode(op) => write!(f, "reserved opcode {op}"),
            FrameError::BadLength => f.write_str("invalid payload length"),
            FrameError::ControlFrameTooLong => f.write_str("control frame over 125 bytes"),
            FrameError::FragmentedControlFrame => f.write_str("fragmented control frame"),
            FrameError::UnmaskedFrame => f.write_str("unmasked frame from a client"),
            FrameError::MaskedFrame => f.write_str("masked frame from a server"),
        }
    }
}

impl core::error::Error for FrameError {}

/// The longest frame header: 2 bytes, an 8-byte length and a 4-byte mask key.
pub const MAX_HEADER_LEN: usize = 14;
/// The largest control frame payload (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;
/// The largest length the 7-bit length field holds itself; 126 and 127 say
/// a 16- or 64-bit length follows (RFC 6455 §5.2).
pub(crate) const MAX_SHORT_LEN: usize = 125;

/// A frame's opcode (RFC 6455 §5.2). Reserved opcodes never get this far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpCode {
    /// 0x0: continues a fragmented message.
    Continuation,
    /// 0x1: text, UTF-8.
    Text,
    /// 0x2: binary.
    Binary,
    /// 0x8: close.
    Close,
    /// 0x9: ping.
    Ping,
    /// 0xA: pong.
    Pong,
}

impl OpCode {
    /// The opcode of a nibble, or the violation of a reserved one.
    pub fn from_u8(op: u8) -> Result<Self, FrameError> {
        Ok(match op {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return Err(FrameError::ReservedOpcode(op)),
        })
    }

    /// The 4-bit value on the wire.
    pub fn as_u8(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    /// Close, ping and pong (RFC 6455 §5.5).
    pub fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }
}

/// A decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: the last frame of its message.
    pub fin: bool,
    /// RSV1–RSV3 as the low three bits.
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, if the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// The payload length.
    pub len: u64,
}

/// The rules of control frames (RFC 6455 §5.5): final, at most 125 bytes.
#[inline(always)]
pub(crate) fn check_control(opcode: OpCode, fin: bool, len: u64) -> Result<(), FrameError> {
    if opcode.is_control() {
        if !fin {
            return Err(FrameError::FragmentedControlFrame);
        }
        if len > MAX_CONTROL_PAYLOAD as u64 {
            return Err(FrameError::ControlFrameTooLong);
        }
    }
    Ok(())
}

impl FrameHeader {
    /// Decodes a header from the start of `buf`.
    ///
    /// `Ok(None)` means `buf` holds only part of a header: wait for more bytes.
    /// `Ok(Some((header, n)))` gives the header and its length in bytes. The
    /// checks here are the ones a header alone settles: reserved opcodes,
    /// control frame rules, the length encoding. RSV bits and masking depend
    /// on the connection and are checked there.
    pub fn decode(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, FrameError> {
        let Some(&[b0, b1]) = buf.get(..2) else { return Ok(None) };
        // The opcode is checked before waiting for the rest of a long header.
        let opcode = OpCode::from_u8(b0 & 0x0F)?;
        let len = Self::encoded_len(b1);
        if buf.len() < len {
            return Ok(None);
        }
        let fin = b0 & 0x80 != 0;
        let short = u64::from(b1 & 0x7F);
        let (payload_len, rest) = match short {
            126 => {
                let n = u64::from(u16::from_be_bytes([buf[2], buf[3]]));
                if n < 126 {
                    return Err(FrameError::BadLength);
                }
                (n, 4)
            }
            127 => {
                let n = u64::from_be_bytes(buf[2..10].try_into().expect("length checked above"));
                if n >> 63 != 0 || n <= 0xFFFF {
                    return Err(FrameError::BadLength);
                }
                (n, 10)
            }
            n => (n, 2),
        };
        check_control(opcode, fin, payload_len)?;
        let mask = (b1 & 0x80 != 0).then(|| buf[rest..rest + 4].try_into().expect("length checked above"));
        let header = FrameHeader { fin, rsv: (b0 >> 4) & 0x07, opcode, mask, len: payload_len };
        Ok(Some((header, len)))
    }

    /// The header length announced by its second byte.
    pub fn encoded_len(b1: u8) -> usize {
        let ext = match b1 & 0x7F {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        2 + ext + if b1 & 0x80 != 0 { 4 } else { 0 }
    }

    /// Encodes the header into `out`, returning how many bytes it took.
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        if let Some((word, n)) = self.encode_short() {
            out[..8].copy_from_slice(&word.to_le_bytes());
            return n;
        }
        out[0] = self.first_byte();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut n = match self.len {
            126..=0xFFFF => {
                out[1] = mask_bit | 126;
                out[2..4].copy_from_slice(&(self.len as u16).to_be_bytes());
                4
            }
            _ => {
                out[1] = mask_bit | 127;
                out[2..10].copy_from_slice(&self.len.to_be_bytes());
                10
            }
        };
        if let Some(key) = self.mask {
            out[n..n + 4].copy_from_slice(&key);
            n += 4;
        }
        n
    }

    /// A header with a 7-bit length (0–125) as its bytes in the low end of a
    /// word (the first byte lowest) and their count; `None` for longer
    /// payloads. Built in a register, so that a small frame is stored in
    /// whole words.
    #[inline(always)]
    pub(crate) fn encode_short(&self) -> Option<(u64, usize)> {
        if self.len > MAX_SHORT_LEN as u64 {
            return None;
        }
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let head = u64::from(self.first_byte()) | (u64::from(mask_bit | self.len as u8) << 8);
        Some(match self.mask {
            Some(key) => (head | (u64::from(u32::from_le_bytes(key)) << 16), 6),
            None => (head, 2),
        })
    }

    fn first_byte(&self) -> u8 {
        (u8::from(self.fin) << 7) | ((self.rsv & 0x07) << 4) | self.opcode.as_u8()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(h: FrameHeader) {
        let mut out = [0; MAX_HEADER_LEN];
        let n = h.encode(&mut out);
        assert_eq!(FrameHeader::decode(&out[..n]), Ok(Some((h, n))));
        for cut in 0..n {
            assert_eq!(FrameHeader::decode(&out[..cut]), Ok(None), "prefix {cut} of {h:?}");
        }
    }

    #[test]
    fn every_length_class_roundtrips() {
        for len in [0, 1, 125, 126, 0xFFFF, 0x1_0000, u64::MAX >> 1] {
            for mask in [None, Some([1, 2, 3, 4])] {
                roundtrip(FrameHeader { fin: true, rsv: 0, opcode: OpCode::Binary, mask, len });
            }
        }
    }

    #[test]
    fn header_violations() {
        assert_eq!(FrameHeader::decode(&[0x83, 0]), Err(FrameError::ReservedOpcode(3)));
        assert_eq!(FrameHeader::decode(&[0x8B]), Ok(None));
        assert_eq!(FrameHeader::decode(&[0x8B, 0x7E]), Err(FrameError::ReservedOpcode(11)));
        assert_eq!(FrameHeader::decode(&[0x09, 0]), Err(FrameError::FragmentedControlFrame));
        assert_eq!(FrameHeader::decode(&[0x89, 126, 0, 126]), Err(FrameError::ControlFrameTooLong));
        assert_eq!(FrameHeader::decode(&[0x82, 126, 0, 125]), Err(FrameError::BadLength));
        let mut top = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(FrameHeader::decode(&top), Err(FrameError::BadLength));
        top[2] = 0;
        top[7] = 1;
        assert_eq!(FrameHeader::decode(&top).map(|h| h.map(|h| h.0.len)), Ok(Some(0x1_0000)));
    }
}
