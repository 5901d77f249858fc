//! UTF-8 validation, whole and incremental (RFC 6455 §5.6, §8.1).
//!
//! Text may arrive split anywhere: inside a code point, across frames, across
//! reads. [`Utf8Validator`] carries an incomplete code point between pieces and
//! fails at the first byte after which no continuation could make the text
//! valid, so a peer's bad text is refused as early as the bytes allow.

use simdutf8::compat::from_utf8;

/// Validates a whole buffer.
pub(crate) fn validate(bytes: &[u8]) -> Result<&str, Utf8Error> {
    simdutf8::basic::from_utf8(bytes).map_err(|_| Utf8Error)
}

/// Validates text fed in pieces, failing fast.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Utf8Validator {
    /// The bytes of a code point begun but not finished by the last piece.
    // INVARIANT: partial[..len] is a proper prefix of some valid UTF-8 sequence.
    partial: [u8; 4],
    len: u8,
}

/// How many bytes the sequence starting with `lead` has; 1 for anything that
/// cannot lead (the validator rejects those before this matters).
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    }
}

impl Utf8Validator {
    /// A validator at the start of a text.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Feeds the next piece. `Err` means the text so far can never be valid,
    /// whatever follows; after an error the validator's state is unspecified.
    pub(crate) fn feed(&mut self, mut piece: &[u8]) -> Result<(), Utf8Error> {
        if self.len > 0 {
            let len = usize::from(self.len);
            let need = sequence_len(self.partial[0]) - len;
            let take = need.min(piece.len());
            self.partial[len..len + take].copy_from_slice(&piece[..take]);
            let filled = len + take;
            match from_utf8(&self.partial[..filled]) {
                Ok(_) => self.len = 0,
                Err(e) if e.error_len().is_some() => return Err(Utf8Error),
                Err(_) => {
                    // Still incomplete, and the piece is used up.
                    self.len = filled as u8;
                    return Ok(());
                }
            }
            piece = &piece[take..];
        }
        match from_utf8(piece) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(Utf8Error),
            Err(e) => {
                let tail = &piece[e.valid_up_to()..];
                self.partial[..tail.len()].copy_from_slice(tail);
                self.len = tail.len() as u8;
                Ok(())
            }
        }
    }

    /// How many bytes at the end of what was fed belong to a code point not yet finished.
    pub(crate) fn pending(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether the text fed so far ends on a character boundary, as a whole
    /// text must.
    pub(crate) fn is_complete(&self) -> bool {
        self.len == 0
    }
}

/// Text that can never become valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utf8Error;

impl core::fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("invalid UTF-8")
    }
}

impl core::error::Error for Utf8Error {}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces_valid(pieces: &[&[u8]]) -> Result<bool, Utf8Error> {
        let mut v = Utf8Validator::new();
        for p in pieces {
            v.feed(p)?;
        }
        Ok(v.is_complete())
    }

    #[test]
    fn split_code_points() {
        let s = "aé€😀z".as_bytes();
        for i in 0..=s.len() {
            for j in i..=s.len() {
                assert_eq!(pieces_valid(&[&s[..i], &s[i..j], &s[j..]]), Ok(true), "{i} {j}");
            }
        }
        assert_eq!(pieces_valid(&[&s[..2]]), Ok(false));
    }

    #[test]
    fn fails_fast() {
        // 0xF4 0x90 can never start a valid sequence (above U+10FFFF): fail at the second byte.
        assert_eq!(pieces_valid(&[&[0xF4], &[0x90]]), Err(Utf8Error));
        // A surrogate, detected at its second byte.
        assert_eq!(pieces_valid(&[&[0xED, 0xA0]]), Err(Utf8Error));
        assert_eq!(pieces_valid(&[&[0xC0]]), Err(Utf8Error));
        assert_eq!(pieces_valid(&[b"ok", &[0xFF]]), Err(Utf8Error));
        // A truncated sequence interrupted by ASCII.
        assert_eq!(pieces_valid(&[&[0xE2, 0x82], b"a"]), Err(Utf8Error));
    }

    #[test]
    fn noncharacters_are_valid() {
        assert_eq!(pieces_valid(&["\u{FFFF}\u{FFFE}\u{10FFFF}".as_bytes()]), Ok(true));
    }

    #[test]
    fn byte_by_byte_matches_std() {
        let samples: &[&[u8]] = &[
            b"hello",
            &[0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5],
            &[0xF0, 0x90, 0x80, 0x80],
            &[0xF8, 0x88, 0x80, 0x80, 0x80],
            &[0xEF, 0xBF, 0xBF],
            &[0xED, 0x9F, 0xBF],
            &[0xE0, 0x80, 0xAF],
        ];
        for s in samples {
            let mut v = Utf8Validator::new();
            let mut ok = true;
            for b in s.iter() {
                if v.feed(core::slice::from_ref(b)).is_err() {
                    ok = false;
                    break;
                }
            }
            assert_eq!(ok && v.is_complete(), core::str::from_utf8(s).is_ok(), "{s:x?}");
        }
    }
}
