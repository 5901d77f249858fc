//! The bytes of a received message or control frame: [`Payload`] and its
//! UTF-8 form [`Text`].
//!
//! Small payloads (up to [`Payload::INLINE`] bytes, which covers most chat
//! messages, JSON acks and every ping a keepalive sends) live inside the value
//! itself, so delivering them touches no heap. Larger ones are a [`Bytes`]:
//! the engine hands over the buffer it assembled the message in, without a copy.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::ops::Deref;

use bytes::Bytes;

use crate::utf8::Utf8Error;

/// Bytes of a message, a fragment or a control frame.
///
/// Derefs to `[u8]`; converts into [`Bytes`] or `Vec<u8>`, and from them.
#[derive(Clone)]
pub struct Payload(Repr);

#[derive(Clone)]
#[repr(u64)]
enum Repr {
    Inline(Block) = 0,
    Shared(Bytes),
}

/// Inline bytes, then their length in the last byte.
// INVARIANT: usize::from(self.0[LEN_AT]) <= Payload::INLINE
#[derive(Clone, Copy)]
#[repr(align(8))]
struct Block([u8; BLOCK]);

/// The size of an inline block: the bytes, then the length.
pub(crate) const BLOCK: usize = 32;
const LEN_AT: usize = BLOCK - 1;

impl Block {
    #[inline(always)]
    fn len(&self) -> usize {
        usize::from(self.0[LEN_AT])
    }
}

impl Payload {
    /// The largest payload kept inline, without a heap allocation.
    pub const INLINE: usize = BLOCK - 1;

    /// An empty payload.
    pub const fn new() -> Self {
        Payload(Repr::Inline(Block([0; BLOCK])))
    }

    /// Copies `bytes`: inline if they fit, otherwise into a new buffer.
    pub fn copy_from_slice(bytes: &[u8]) -> Self {
        Self::unmasked(bytes, None)
    }

    /// `src` unmasked with `key` (if any), starting at phase 0 of the key:
    /// inline when it fits, otherwise in a buffer of exactly its length.
    #[inline(always)]
    pub(crate) fn unmasked(src: &[u8], key: Option<[u8; 4]>) -> Self {
        if src.len() <= Self::INLINE {
            Self::inline_unmasked(src, src.len(), key.map(u32::from_ne_bytes))
        } else {
            Self::shared_unmasked(src, key)
        }
    }

    /// `src` unmasked into a buffer of exactly its length, however short.
    #[inline(never)]
    pub(crate) fn shared_unmasked(src: &[u8], key: Option<[u8; 4]>) -> Self {
        Self::from(Self::unmasked_vec(src, key))
    }

    /// The first `len` bytes of `src` (`len <= INLINE`), unmasked with `key`,
    /// inline. Fixed-size copies and XORs when `src` has a block's 32 bytes
    /// to read: the bytes past `len` are never shown.
    #[inline(always)]
    pub(crate) fn inline_unmasked(src: &[u8], len: usize, key: Option<u32>) -> Self {
        debug_assert!(len <= Self::INLINE, "{len} bytes inline");
        let data = match src.first_chunk::<BLOCK>() {
            Some(ahead) => *ahead,
            None => Self::short_copy(&src[..len]),
        };
        Payload(Repr::Inline(Block(block_unmasked(&data, key.unwrap_or(0), len as u8))))
    }
}

/// The 32 bytes of `src` XORed with `key` (each 4 bytes), then `len` in the
/// last byte, in vector registers on x86_64 (see `simd::block_unmasked`).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
use crate::simd::block_unmasked;

/// The 32 bytes of `src` XORed with `key` (each 4 bytes), then `len` in the last byte.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn block_unmasked(src: &[u8; BLOCK], key: u32, len: u8) -> [u8; BLOCK] {
    let mut block = *src;
    crate::mask::mask_block(&mut block, key);
    block[LEN_AT] = len;
    block
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
use crate::simd::high_bits;

/// Bit `i` is the high bit of byte `i` of `block` (x86_64 has its own,
/// `simd::high_bits`).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
#[cfg_attr(all(test, target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn portable_high_bits(block: &[u8; BLOCK]) -> u32 {
    block.iter().enumerate().fold(0, |bits, (i, &b)| bits | (u32::from(b >> 7) << i))
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
use portable_high_bits as high_bits;

/// The block whose little-endian words are `words` (see [`Payload::short_words`]).
#[inline(always)]
pub(crate) fn block_of_words(words: &[u64; BLOCK / 8]) -> [u8; BLOCK] {
    let mut block = [0; BLOCK];
    for (lane, word) in block.as_chunks_mut::<8>().0.iter_mut().zip(words) {
        *lane = word.to_le_bytes();
    }
    block
}

impl Payload {
    /// `bytes` (at most `INLINE`) at the start of a zeroed array, for the end
    /// of the input, where a fixed-size read would run past it.
    #[inline(always)]
    pub(crate) fn short_copy(bytes: &[u8]) -> [u8; BLOCK] {
        block_of_words(&Self::short_words(bytes))
    }

    /// `bytes` (at most `INLINE`) as the little-endian words of a zeroed
    /// block, gathered in registers with fixed-size loads that may overlap:
    /// a small frame is then stored word by word where it goes, with no
    /// copy of a variable length and nothing read back.
    #[inline(always)]
    pub(crate) fn short_words(bytes: &[u8]) -> [u64; BLOCK / 8] {
        let n = bytes.len().min(Self::INLINE);
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        match n {
            16.. => {
                let tail = u128::from(word(n - 16)) | (u128::from(word(n - 8)) << 64);
                let tail = tail.checked_shr(8 * (32 - n) as u32).unwrap_or(0);
                [word(0), word(8), tail as u64, (tail >> 64) as u64]
            }
            8.. => {
                let tail = word(n - 8).checked_shr(8 * (16 - n) as u32).unwrap_or(0);
                [word(0), tail, 0, 0]
            }
            4.. => {
                let half = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
                let tail = half(n - 4).checked_shr(8 * (8 - n) as u32).unwrap_or(0);
                [u64::from(half(0)) | (u64::from(tail) << 32), 0, 0, 0]
            }
            _ => [bytes[..n].iter().rev().fold(0, |acc, &b| (acc << 8) | u64::from(b)), 0, 0, 0],
        }
    }

    /// `src` unmasked into a new vector of exactly its length.
    pub(crate) fn unmasked_vec(src: &[u8], key: Option<[u8; 4]>) -> Vec<u8> {
        let mut buf = Vec::with_capacity(src.len());
        match key {
            Some(key) => crate::mask::extend_unmasked(&mut buf, src, key, 0),
            None => buf.extend_from_slice(src),
        }
        buf
    }

    /// Whether every byte is ASCII; for an inline payload, one mask of its
    /// block's high bits.
    #[inline(always)]
    pub(crate) fn is_ascii(&self) -> bool {
        match &self.0 {
            // Only the first `len` bits count (`len` < 32): the rest are the
            // bytes past the payload and the length.
            Repr::Inline(data) => high_bits(&data.0) & ((1u32 << data.len()) - 1) == 0,
            Repr::Shared(b) => b.is_ascii(),
        }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(data) => &data.0[..data.len()],
            Repr::Shared(b) => b,
        }
    }

    /// The shared buffer, or the payload back when it is inline.
    pub(crate) fn into_shared(self) -> Result<Bytes, Payload> {
        match self.0 {
            Repr::Shared(b) => Ok(b),
            Repr::Inline(_) => Err(self),
        }
    }

    /// The payload as [`Bytes`]; copies only an inline payload.
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Repr::Inline(_) => Bytes::copy_from_slice(self.as_slice()),
            Repr::Shared(b) => b,
        }
    }
}

impl Default for Payload {
    fn default() -> Self {
        Self::new()
    }
}

impl Deref for Payload {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for Payload {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.as_slice().escape_ascii())
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Payload {}

impl Hash for Payload {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl PartialEq<[u8]> for Payload {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl PartialEq<&[u8]> for Payload {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_slice() == *other
    }
}

impl<const N: usize> PartialEq<[u8; N]> for Payload {
    fn eq(&self, other: &[u8; N]) -> bool {
        self.as_slice() == other
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for Payload {
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.as_slice() == *other
    }
}

impl PartialEq<Vec<u8>> for Payload {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl PartialEq<Bytes> for Payload {
    fn eq(&self, other: &Bytes) -> bool {
        self.as_slice() == other.as_ref()
    }
}

impl From<&[u8]> for Payload {
    fn from(bytes: &[u8]) -> Self {
        Self::copy_from_slice(bytes)
    }
}

impl<const N: usize> From<&[u8; N]> for Payload {
    fn from(bytes: &[u8; N]) -> Self {
        Self::copy_from_slice(bytes)
    }
}

impl From<Bytes> for Payload {
    fn from(bytes: Bytes) -> Self {
        Payload(Repr::Shared(bytes))
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Self {
        Payload(Repr::Shared(Bytes::from(bytes)))
    }
}

impl From<Payload> for Bytes {
    fn from(p: Payload) -> Self {
        p.into_bytes()
    }
}

impl From<Payload> for Vec<u8> {
    fn from(p: Payload) -> Self {
        match p.0 {
            Repr::Inline(_) => p.as_slice().to_vec(),
            Repr::Shared(b) => Vec::from(b),
        }
    }
}

/// A text message: a [`Payload`] that holds valid UTF-8.
///
/// Derefs to `str`. The crate has no `unsafe` outside its SIMD module, so
/// [`as_str`](Self::as_str) re-checks the bytes with `simdutf8` (tens of GB/s
/// on ASCII, about 15 GB/s on mixed scripts); [`len`](Self::len),
/// [`as_bytes`](Self::as_bytes) and the conversions do not.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Text(Payload);

impl Text {
    /// Checks that `payload` is UTF-8.
    pub fn from_payload(payload: Payload) -> Result<Self, Utf8Error> {
        crate::utf8::validate(&payload)?;
        Ok(Text(payload))
    }

    /// Bytes the engine validated already.
    pub(crate) fn from_validated(payload: Payload) -> Self {
        Text(payload)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        crate::utf8::validate(&self.0).expect("a Text holds UTF-8 by construction")
    }

    /// The UTF-8 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn payload(&self) -> &Payload {
        &self.0
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes, without a copy.
    pub fn into_payload(self) -> Payload {
        self.0
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(Payload::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(Payload::from(s.into_bytes()))
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        String::from(t.as_str())
    }
}

impl From<Text> for Payload {
    fn from(t: Text) -> Self {
        t.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_payloads_are_inline_and_large_ones_shared() {
        let small = Payload::copy_from_slice(&[7; Payload::INLINE]);
        assert!(matches!(small.0, Repr::Inline(data) if data.len() == Payload::INLINE));
        let large = Payload::copy_from_slice(&[7; Payload::INLINE + 1]);
        assert!(matches!(&large.0, Repr::Shared(b) if b.len() == Payload::INLINE + 1));
        let key = [1, 2, 3, 4];
        for len in [3, 40] {
            let plain: Vec<u8> = (0..len as u8).collect();
            let mut masked = plain.clone();
            crate::mask::apply_mask_scalar(&mut masked, key, 0);
            assert_eq!(Payload::unmasked(&masked, Some(key)), plain);
            assert_eq!(Payload::unmasked(&plain, None), plain);
        }
    }

    #[test]
    fn conversions_keep_the_bytes() {
        for len in [0, 1, Payload::INLINE, Payload::INLINE + 1, 1000] {
            let v: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let p = Payload::from(v.as_slice());
            assert_eq!(p, v);
            assert_eq!(Bytes::from(p.clone()), v);
            assert_eq!(Vec::from(p.clone()), v);
            assert_eq!(Payload::from(Bytes::from(v.clone())), p);
        }
    }

    #[test]
    fn text_checks_and_shows_its_string() {
        let t = Text::from("zoë");
        assert_eq!(t, "zoë");
        assert_eq!(t.len(), 4);
        assert_eq!(alloc::format!("{t:?} {t}"), "\"zoë\" zoë");
        assert_eq!(String::from(t.clone()), "zoë");
        assert!(Text::from_payload(Payload::from(&[0xC3u8])).is_err());
        assert_eq!(Text::from_payload(t.clone().into_payload()), Ok(t));
    }
}

#[cfg(test)]
mod short_copy_tests {
    use super::*;

    #[test]
    fn every_length_reads_exactly_its_bytes() {
        let src: Vec<u8> = (1..=40).collect();
        for n in 0..=Payload::INLINE {
            let data = Payload::short_copy(&src[..n]);
            assert_eq!(&data[..n], &src[..n], "length {n}");
            assert!(data[n..].iter().all(|&b| b == 0), "length {n}: {data:?}");
            let key = [0x11, 0x22, 0x33, 0x44];
            let mut masked = src[..n].to_vec();
            crate::mask::apply_mask_scalar(&mut masked, key, 0);
            assert_eq!(Payload::inline_unmasked(&masked, n, Some(u32::from_ne_bytes(key))), &src[..n], "length {n}");
        }
    }
}

#[cfg(test)]
mod ascii_tests {
    use super::*;

    #[test]
    fn the_ascii_check_reads_only_the_payload() {
        // Inline payloads built from a longer input, as the decoder's shortcut
        // builds them: the bytes past `len` are whatever followed (here all
        // non-ASCII), and must not count.
        let mut ahead = [0xC3u8; 40];
        for len in 0..=Payload::INLINE {
            ahead[..len].fill(b'a');
            let p = Payload::inline_unmasked(&ahead, len, None);
            assert!(p.is_ascii(), "length {len}");
            assert_eq!(p.as_slice(), &ahead[..len]);
            for at in 0..len {
                ahead[at] = 0x80;
                assert!(!Payload::inline_unmasked(&ahead, len, None).is_ascii(), "length {len}, byte {at}");
                ahead[at] = b'a';
            }
            ahead[..len].fill(0xC3);
        }
        assert!(Payload::from(vec![b'x'; 100]).is_ascii());
        assert!(!Payload::from([vec![b'x'; 99], vec![0xFF]].concat()).is_ascii());
    }

    #[test]
    fn the_high_bits_of_a_block_match_the_portable_form() {
        let mut block = [0u8; BLOCK];
        assert_eq!(high_bits(&block), 0);
        for at in 0..BLOCK {
            block[at] = 0x80 | at as u8;
            let want = (0..=at).fold(0u32, |bits, i| bits | (1 << i));
            assert_eq!(portable_high_bits(&block), want, "byte {at}");
            assert_eq!(high_bits(&block), want, "byte {at}");
        }
        block[3] = 0x7F;
        assert_eq!(high_bits(&block), portable_high_bits(&block));
        assert_eq!(high_bits(&block) & (1 << 3), 0);
    }
}
