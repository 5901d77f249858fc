//! The one module with `unsafe`: masking with AVX2, chosen at run time, in
//! place or while appending to a vector; and a small payload's inline block
//! built in SSE2 registers.
//!
//! Every other module forbids `unsafe`. The scalar path in `mask.rs` is the
//! reference and the fallback; tests compare the two on every length and
//! offset. Each `unsafe` block says why it is sound.
#![allow(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_set1_epi32, _mm256_storeu_si256, _mm256_xor_si256};

/// Whether the CPU has AVX2. `std` caches the answer after the first call.
#[cfg(all(target_arch = "x86_64", feature = "std"))]
pub(crate) fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2")
}

/// Without `std` there is no run-time detection: AVX2 only if the build targets it.
#[cfg(all(target_arch = "x86_64", not(feature = "std")))]
pub(crate) fn has_avx2() -> bool {
    cfg!(target_feature = "avx2")
}

/// XORs `buf` with the 4-byte `key` (already rotated to `buf`'s start) using
/// AVX2, 128 bytes a step; returns how many bytes it masked (a multiple of 4,
/// so the key's phase is unchanged for the rest).
///
/// Call only when [`has_avx2`] is true.
#[cfg(target_arch = "x86_64")]
pub(crate) fn mask_avx2(buf: &mut [u8], key: [u8; 4]) -> usize {
    assert!(has_avx2(), "mask_avx2 needs AVX2");
    // SAFETY: the assertion above proves the CPU supports AVX2, the only
    // feature `mask_avx2_inner` enables.
    unsafe { mask_avx2_inner(buf, key) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn mask_avx2_inner(buf: &mut [u8], key: [u8; 4]) -> usize {
    let wide = _mm256_set1_epi32(i32::from_ne_bytes(key));
    let mut blocks = buf.chunks_exact_mut(128);
    let mut done = 0;
    for block in &mut blocks {
        let p = block.as_mut_ptr();
        // SAFETY: AVX2 is enabled here; `block` is 128 bytes, readable and
        // writable, at `p`.
        unsafe { xor_128(p, p, wide) };
        done += 128;
    }
    let mut words = blocks.into_remainder().chunks_exact_mut(32);
    for word in &mut words {
        let p = word.as_mut_ptr().cast::<__m256i>();
        // SAFETY: `word` is 32 writable bytes; unaligned access is allowed.
        unsafe { _mm256_storeu_si256(p, _mm256_xor_si256(_mm256_loadu_si256(p), wide)) };
        done += 32;
    }
    done
}

/// Appends `src` XORed with the 4-byte `key` (already rotated to `src`'s
/// start) to `dst` in one pass with AVX2, 128 bytes a step; returns how many
/// bytes of `src` it appended (a multiple of 128, so the key's phase is
/// unchanged for the rest, which the caller appends).
///
/// Call only when [`has_avx2`] is true.
#[cfg(target_arch = "x86_64")]
pub(crate) fn extend_masked_avx2(dst: &mut alloc::vec::Vec<u8>, src: &[u8], key: [u8; 4]) -> usize {
    assert!(has_avx2(), "extend_masked_avx2 needs AVX2");
    let n = src.len() - src.len() % 128;
    dst.reserve(n);
    let spare = dst.spare_capacity_mut();
    assert!(spare.len() >= n, "reserve made room for n bytes");
    // SAFETY: AVX2 is present (asserted above), the only feature the function
    // enables; `spare` has room for the `n` bytes it writes (asserted above)
    // and `src` holds at least `n`.
    unsafe { extend_masked_avx2_inner(spare.as_mut_ptr().cast::<u8>(), src, n, key) };
    // SAFETY: the first `n` bytes of the spare capacity were initialised just
    // above, and `n <= capacity - len`.
    unsafe { dst.set_len(dst.len() + n) };
    n
}

/// Writes `src[..n]` XORed with `key` to `dst[..n]`; `n` is a multiple of 128.
///
/// # Safety
///
/// AVX2 must be present, `dst` valid for `n` bytes of writes, `n <= src.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn extend_masked_avx2_inner(dst: *mut u8, src: &[u8], n: usize, key: [u8; 4]) {
    let wide = _mm256_set1_epi32(i32::from_ne_bytes(key));
    for (i, block) in src[..n].chunks_exact(128).enumerate() {
        // SAFETY: AVX2 is enabled here; `block` is 128 readable bytes, and
        // block `i` of the output, the 128 bytes at `dst + 128 i`, lies inside
        // the `n` the caller made writable.
        unsafe { xor_128(block.as_ptr(), dst.add(128 * i), wide) };
    }
}

/// Writes the 128 bytes at `from`, XORed with `wide`, to the 128 bytes at
/// `to` (which may be `from`).
///
/// # Safety
///
/// AVX2 must be present, `from` readable and `to` writable for 128 bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn xor_128(from: *const u8, to: *mut u8, wide: __m256i) {
    let (from, to) = (from.cast::<__m256i>(), to.cast::<__m256i>());
    // SAFETY: `from.add(0..4)` and `to.add(0..4)` each point at 32 bytes
    // inside the 128 the caller vouches for; unaligned loads and stores accept
    // any address. All four loads come before the first store, so `to == from`
    // reads the original bytes.
    unsafe {
        let a = _mm256_loadu_si256(from);
        let b = _mm256_loadu_si256(from.add(1));
        let c = _mm256_loadu_si256(from.add(2));
        let d = _mm256_loadu_si256(from.add(3));
        _mm256_storeu_si256(to, _mm256_xor_si256(a, wide));
        _mm256_storeu_si256(to.add(1), _mm256_xor_si256(b, wide));
        _mm256_storeu_si256(to.add(2), _mm256_xor_si256(c, wide));
        _mm256_storeu_si256(to.add(3), _mm256_xor_si256(d, wide));
    }
}

/// A small payload's inline block: the 32 bytes of `src` XORed with `key`
/// (the word XORed with each 4 bytes), then `len` in the last byte. Built in
/// two 16-byte registers and stored as them, so that later copies of the
/// block, which read the same halves, never wait on narrower stores (the
/// compiler's own code for this splits them depending on its context).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(crate) fn block_unmasked(src: &[u8; 32], key: u32, len: u8) -> [u8; 32] {
    use core::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cvtsi32_si128, _mm_loadu_si128, _mm_or_si128, _mm_set_epi32, _mm_set1_epi32,
        _mm_slli_si128, _mm_storeu_si128, _mm_xor_si128,
    };
    let (lo_src, hi_src) = src.split_at(16);
    let mut out = [0u8; 32];
    let (lo_dst, hi_dst) = out.split_at_mut(16);
    // SAFETY: SSE2, the only feature these intrinsics need, is enabled for
    // this build (the function exists only then). Each half of `src` is 16 readable bytes and each
    // half of `out` 16 writable ones, and unaligned loads and stores have no
    // alignment requirement.
    unsafe {
        let key = _mm_set1_epi32(key as i32);
        let lo = _mm_xor_si128(_mm_loadu_si128(lo_src.as_ptr().cast::<__m128i>()), key);
        let hi = _mm_xor_si128(_mm_loadu_si128(hi_src.as_ptr().cast::<__m128i>()), key);
        // The last byte of the high half is the length.
        let keep = _mm_set_epi32(0x00FF_FFFF, -1, -1, -1);
        let len = _mm_slli_si128::<15>(_mm_cvtsi32_si128(i32::from(len)));
        let hi = _mm_or_si128(_mm_and_si128(hi, keep), len);
        _mm_storeu_si128(lo_dst.as_mut_ptr().cast::<__m128i>(), lo);
        _mm_storeu_si128(hi_dst.as_mut_ptr().cast::<__m128i>(), hi);
    }
    out
}

/// Stores `words` (little-endian) into `dst` as three 16-byte stores: a
/// small frame staged so is then copied out in the same halves, which the
/// CPU forwards from those stores without waiting.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(crate) fn store_words(dst: &mut [u8; 48], words: &[u64; 6]) {
    use core::arch::x86_64::{__m128i, _mm_set_epi64x, _mm_storeu_si128};
    for (half, pair) in dst.as_chunks_mut::<16>().0.iter_mut().zip(words.as_chunks::<2>().0) {
        // SAFETY: SSE2, the only feature these intrinsics need, is enabled
        // for this build (the function exists only then). `half` is 16
        // writable bytes, and unaligned stores have no alignment requirement.
        unsafe {
            _mm_storeu_si128(half.as_mut_ptr().cast::<__m128i>(), _mm_set_epi64x(pair[1] as i64, pair[0] as i64));
        }
    }
}

/// Bit `i` is the high bit of byte `i` of `block`: two byte-mask moves,
/// where the portable form takes 32 steps.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(crate) fn high_bits(block: &[u8; 32]) -> u32 {
    use core::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_movemask_epi8};
    let (lo, hi) = block.split_at(16);
    // SAFETY: SSE2, the only feature these intrinsics need, is enabled for
    // this build (the function exists only then). Each half of `block` is 16
    // readable bytes, and unaligned loads have no alignment requirement.
    let (lo, hi) = unsafe {
        (
            _mm_movemask_epi8(_mm_loadu_si128(lo.as_ptr().cast::<__m128i>())),
            _mm_movemask_epi8(_mm_loadu_si128(hi.as_ptr().cast::<__m128i>())),
        )
    };
    // Each mask has 16 bits: the casts keep them all.
    (lo as u32) | ((hi as u32) << 16)
}
