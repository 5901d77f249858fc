//! The pongs a connection owes (RFC 6455 §5.5.2, §5.5.3), checked against
//! what it wrote between two takes of the transmits.

use alloc::vec::Vec;

use crate::frame::{FrameHeader, OpCode};
use crate::mask::apply_mask;

/// Pongs the engine queues before it answers only the latest ping.
pub(super) const QUEUED_PONGS: usize = 16;

/// The pongs written since the last check against the pings answered since
/// then (RFC 6455 §5.5.2, §5.5.3). While fewer than 16 pongs wait, each ping
/// is answered, in order; past that only the latest is owed, and its pong
/// goes out when our close frame does (just before it) or when the
/// transmits are taken. `frames` are the pongs and close frames written, in
/// order: `(is_close, payload)`.
pub(super) fn check_pongs(pings: &[Vec<u8>], app_pongs: usize, frames: &[(bool, Vec<u8>)]) {
    let pongs: Vec<&Vec<u8>> = frames.iter().filter(|(close, _)| !close).map(|(_, p)| p).collect();
    let closes = frames.iter().any(|(close, _)| *close);
    let n = pings.len();
    let kept = n.min(QUEUED_PONGS);
    let coalesced = usize::from(n > QUEUED_PONGS);
    let least = app_pongs + kept + coalesced;
    let most = least + coalesced * usize::from(closes);
    assert!(
        (least..=most).contains(&pongs.len()),
        "{} pongs for {n} pings and {app_pongs} sent by the application; expected {least} to {most}",
        pongs.len(),
    );
    if app_pongs > 0 {
        // The application's pongs may carry any payload: only the count is checked.
        return;
    }
    assert!(
        pongs[..kept].iter().zip(pings).all(|(a, b)| *a == b),
        "the first {kept} pongs do not answer the first pings"
    );
    let Some(last) = pings.get(QUEUED_PONGS..).and_then(<[_]>::last) else { return };
    // The pongs past the first 16, split at our close frame.
    let mut seen = 0;
    let (mut before, mut after) = (Vec::new(), Vec::new());
    let mut closed = false;
    for (close, payload) in frames {
        match (*close, seen < kept) {
            (true, _) => closed = true,
            (false, true) => seen += 1,
            (false, false) if closed => after.push(payload),
            (false, false) => before.push(payload),
        }
    }
    let later = &pings[QUEUED_PONGS..];
    match (before.as_slice(), after.as_slice()) {
        // The latest ping is answered last, whether with the close frame or after it.
        ([p], []) | ([], [p]) => assert!(*p == last, "the last pong does not answer the last ping"),
        // A ping owed when our close went out, then the latest of those after it.
        ([p], [q]) => {
            assert!(later.contains(p), "the pong before the close answers none of the later pings");
            assert!(*q == last, "the last pong does not answer the last ping");
        }
        _ => panic!("{} pongs before our close and {} after it, past the first {kept}", before.len(), after.len()),
    }
}

/// The pong and close frames in `bytes`, as `(is_close, payload)` unmasked,
/// in order; `bytes` may start with a server's 101 response. `None` if the
/// rest is not whole frames, or the bytes are another HTTP message.
pub(super) fn pongs_and_closes(mut bytes: &[u8]) -> Option<Vec<(bool, Vec<u8>)>> {
    if bytes.starts_with(b"HTTP/") {
        if !bytes.starts_with(b"HTTP/1.1 101 ") {
            return None;
        }
        let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
        bytes = &bytes[end + 4..];
    }
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let Ok(Some((header, n))) = FrameHeader::decode(bytes) else { return None };
        let end = n.checked_add(usize::try_from(header.len).ok()?)?;
        let body = bytes.get(n..end)?;
        if matches!(header.opcode, OpCode::Pong | OpCode::Close) {
            let mut payload = body.to_vec();
            if let Some(key) = header.mask {
                apply_mask(&mut payload, key, 0);
            }
            frames.push((header.opcode == OpCode::Close, payload));
        }
        bytes = &bytes[end..];
    }
    Some(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pings with payloads 0, 1, 2…: one byte each.
    fn pings(n: u8) -> Vec<Vec<u8>> {
        (0..n).map(|i| alloc::vec![i]).collect()
    }

    fn pongs(payloads: &[u8]) -> Vec<(bool, Vec<u8>)> {
        payloads.iter().map(|&p| (false, alloc::vec![p])).collect()
    }

    fn first_16_then(rest: &[u8]) -> Vec<(bool, Vec<u8>)> {
        let mut frames = pongs(&(0..16).collect::<Vec<u8>>());
        frames.extend(pongs(rest));
        frames
    }

    #[test]
    fn every_ping_answered_up_to_16() {
        check_pongs(&pings(3), 0, &pongs(&[0, 1, 2]));
        check_pongs(&pings(16), 0, &first_16_then(&[]));
        check_pongs(&[], 0, &[]);
    }

    #[test]
    fn past_16_only_the_latest() {
        check_pongs(&pings(20), 0, &first_16_then(&[19]));
        // The one owed when our close goes out, then the latest.
        let mut frames = first_16_then(&[17]);
        frames.push((true, Vec::new()));
        frames.extend(pongs(&[19]));
        check_pongs(&pings(20), 0, &frames);
        // Our close after all of them: the latest goes just before it.
        let mut frames = first_16_then(&[19]);
        frames.push((true, Vec::new()));
        check_pongs(&pings(20), 0, &frames);
    }

    #[test]
    #[should_panic(expected = "the last pong does not answer the last ping")]
    fn an_older_ping_answered_last_is_caught() {
        check_pongs(&pings(20), 0, &first_16_then(&[16]));
    }

    #[test]
    #[should_panic(expected = "18 pongs for 20 pings")]
    fn a_17th_pong_is_caught() {
        check_pongs(&pings(20), 0, &first_16_then(&[16, 19]));
    }

    #[test]
    #[should_panic(expected = "2 pongs for 3 pings")]
    fn a_missing_pong_is_caught() {
        check_pongs(&pings(3), 0, &pongs(&[0, 1]));
    }

    #[test]
    #[should_panic(expected = "do not answer the first pings")]
    fn pongs_out_of_order_are_caught() {
        check_pongs(&pings(3), 0, &pongs(&[0, 2, 1]));
    }

    #[test]
    fn frames_are_read_back_unmasked() {
        // A masked pong "Hello" (RFC 6455 §5.7), an unmasked text frame, a close.
        let bytes = [
            &[0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58][..],
            &[0x81, 0x01, b'a'],
            &[0x88, 0x02, 0x03, 0xe8],
        ]
        .concat();
        let frames = pongs_and_closes(&bytes).expect("whole frames");
        assert_eq!(frames, [(false, b"Hello".to_vec()), (true, alloc::vec![0x03, 0xe8])]);
        assert_eq!(pongs_and_closes(&bytes[..bytes.len() - 1]), None);
        let after_101 = [&b"HTTP/1.1 101 Switching Protocols\r\n\r\n"[..], &bytes].concat();
        assert_eq!(pongs_and_closes(&after_101), Some(frames));
        assert_eq!(pongs_and_closes(b"HTTP/1.1 404 Not Found\r\n\r\n"), None);
    }
}
