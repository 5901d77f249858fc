//! Payload masking (RFC 6455 §5.3).
//!
//! [`apply_mask`] takes the AVX2 path of `simd.rs` when the CPU has it, and
//! otherwise a word-at-a-time XOR in safe code ([`apply_mask_scalar`], also the
//! reference the SIMD path is tested against).

/// XORs `buf` with `key`, where `buf` starts `offset` bytes into the payload.
/// Masking twice with the same key and offset restores the bytes.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate(key, offset);
    #[cfg(target_arch = "x86_64")]
    if buf.len() >= 64 && crate::simd::has_avx2() {
        let done = crate::simd::mask_avx2(buf, key);
        return mask_words(&mut buf[done..], key);
    }
    mask_words(buf, key)
}

/// [`apply_mask`] without SIMD: the fallback, and the reference in tests and
/// benches. Not a stable API.
#[doc(hidden)]
pub fn apply_mask_scalar(buf: &mut [u8], key: [u8; 4], offset: usize) {
    mask_words(buf, rotate(key, offset));
}

/// The key as seen from `offset` bytes into the payload.
pub(crate) fn rotate(key: [u8; 4], offset: usize) -> [u8; 4] {
    let s = offset % 4;
    [key[s], key[(s + 1) % 4], key[(s + 2) % 4], key[(s + 3) % 4]]
}

/// Appends `src` to `dst`, XORed with `key` from `offset` bytes into the
/// payload: in one pass with AVX2 where the CPU has it (a copy followed by
/// [`apply_mask`] reads and writes the bytes twice).
pub(crate) fn extend_unmasked(dst: &mut alloc::vec::Vec<u8>, src: &[u8], key: [u8; 4], offset: usize) {
    let key = rotate(key, offset);
    #[allow(unused_mut)]
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if src.len() >= 128 && crate::simd::has_avx2() {
        done = crate::simd::extend_masked_avx2(dst, src, key);
    }
    let start = dst.len();
    dst.extend_from_slice(&src[done..]);
    mask_words(&mut dst[start..], key);
}

/// XORs a small payload's fixed-size block with `key` (as the word XORed
/// with each 4 bytes), in lanes the compiler turns into vector XORs (x86_64
/// has its own, `simd::block_unmasked`).
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
pub(crate) fn mask_block(block: &mut [u8; 32], key: u32) {
    // Lanes of the key's width, which the compiler turns into vector XORs.
    for lane in block.as_chunks_mut::<4>().0 {
        *lane = (u32::from_ne_bytes(*lane) ^ key).to_ne_bytes();
    }
}

/// XORs 8 bytes at a time, then the tail; `key` starts at `buf[0]`.
fn mask_words(buf: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]]);
    let mut words = buf.chunks_exact_mut(8);
    for word in &mut words {
        let w: [u8; 8] = (*word).try_into().expect("chunks_exact_mut yields 8 bytes");
        word.copy_from_slice(&(u64::from_ne_bytes(w) ^ wide).to_ne_bytes());
    }
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn matches_bytewise_for_every_offset_and_length() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..40 {
            for offset in 0..8 {
                let orig: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(31)).collect();
                let mut a = orig.clone();
                let mut b = orig.clone();
                apply_mask(&mut a, key, offset);
                naive(&mut b, key, offset);
                assert_eq!(a, b);
                apply_mask(&mut a, key, offset);
                assert_eq!(a, orig);
            }
        }
    }

    #[test]
    fn simd_matches_scalar_for_every_length_and_offset() {
        let key = [0x9a, 0x01, 0xff, 0x5c];
        for len in (0..600).chain([4096, 65_537]) {
            for offset in 0..4 {
                let orig: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let mut fast = orig.clone();
                let mut slow = orig.clone();
                apply_mask(&mut fast, key, offset);
                apply_mask_scalar(&mut slow, key, offset);
                assert_eq!(fast, slow, "len {len} offset {offset}");
            }
        }
    }

    #[test]
    fn extend_unmasked_matches_copy_then_mask() {
        let key = [0x9a, 0x01, 0xff, 0x5c];
        for len in (0..300).chain([4096, 65_537]) {
            for offset in 0..4 {
                for already in [0, 3] {
                    let src: Vec<u8> = (0..len).map(|i| (i * 13 + 5) as u8).collect();
                    let mut want = vec![7u8; already];
                    want.extend_from_slice(&src);
                    apply_mask_scalar(&mut want[already..], key, offset);
                    let mut got = vec![7u8; already];
                    extend_unmasked(&mut got, &src, key, offset);
                    assert_eq!(got, want, "len {len} offset {offset} already {already}");
                }
            }
        }
    }

    #[test]
    fn split_masking_equals_whole() {
        let key = [1, 2, 3, 4];
        let orig: Vec<u8> = (0..100).collect();
        let mut whole = orig.clone();
        apply_mask(&mut whole, key, 0);
        let mut parts = orig.clone();
        let (a, b) = parts.split_at_mut(13);
        apply_mask(a, key, 0);
        apply_mask(b, key, 13);
        assert_eq!(parts, whole);
    }
}
