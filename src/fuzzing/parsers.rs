//! Harness code for the parsers that stand alone: frame headers, close
//! payloads and the incremental UTF-8 validator, each checked against a
//! statement of its rule written here independently.

use alloc::string::ToString;
use alloc::vec::Vec;
use core::time::Duration;

use crate::close::{self, CloseCode, MAX_CLOSE_PAYLOAD, MAX_REASON_LEN};
use crate::error::{Error, ProtocolError};
use crate::event::Event;
use crate::frame::{FrameError, FrameHeader, MAX_HEADER_LEN, OpCode};
use crate::utf8::{self, Utf8Validator};
use crate::{CloseEvent, Connection, Role};

use super::script::{Settings, encode_frame};

/// Checks every frame header found in `wire`: the one at the start, and the
/// one after each whole frame.
pub(super) fn check_headers(wire: &[u8]) {
    let mut at = 0;
    while let Some(rest) = wire.get(at..) {
        let Some((header, len)) = check_header(rest) else { return };
        let Some(next) = usize::try_from(header.len).ok().and_then(|n| (at + len).checked_add(n)) else { return };
        at = next;
    }
}

/// One header decode (RFC 6455 §5.2): a header re-encodes to the same bytes
/// (the decoder accepts only minimal lengths), every shorter prefix is
/// partial, and an error, once the bytes settle it, stays the same.
fn check_header(buf: &[u8]) -> Option<(FrameHeader, usize)> {
    let result = FrameHeader::decode(buf);
    // The prefixes shorter than the header, or than the bytes that settle the error.
    let settled = match result {
        Ok(Some((_, len))) => len,
        _ => buf.len().min(MAX_HEADER_LEN),
    };
    for cut in 0..settled {
        let prefix = FrameHeader::decode(&buf[..cut]);
        match &result {
            Ok(_) => assert_eq!(prefix, Ok(None), "a prefix of {:x?} is not partial", &buf[..settled]),
            Err(e) => assert!(prefix == Ok(None) || prefix == Err(*e), "{prefix:?} then {e:?}"),
        }
    }
    match result {
        Ok(Some((header, len))) => {
            assert!((2..=MAX_HEADER_LEN).contains(&len) && len <= buf.len());
            assert_eq!(len, FrameHeader::encoded_len(buf[1]));
            let mut out = [0; MAX_HEADER_LEN];
            let n = header.encode(&mut out);
            assert_eq!(&out[..n], &buf[..len], "{header:?} does not re-encode to its bytes");
            assert_eq!(header.opcode.as_u8(), buf[0] & 0x0F);
            if header.opcode.is_control() {
                assert!(header.fin && header.len <= 125, "{header:?}");
            }
            Some((header, len))
        }
        Ok(None) => {
            assert!(buf.len() < 2 || buf.len() < FrameHeader::encoded_len(buf[1]));
            None
        }
        Err(FrameError::ReservedOpcode(op)) => {
            assert_eq!(op, buf[0] & 0x0F);
            assert!(OpCode::from_u8(op).is_err());
            None
        }
        Err(e) => {
            assert!(matches!(
                e,
                FrameError::BadLength | FrameError::ControlFrameTooLong | FrameError::FragmentedControlFrame
            ));
            None
        }
    }
}

/// Masking (RFC 6455 §5.3) of `data` from an unaligned start, with a key and
/// an offset taken from it: the SIMD path, the scalar one and a byte-wise XOR
/// agree, and masking twice restores the bytes.
pub(super) fn check_mask(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else { return };
    let key = [pick, pick.rotate_left(3) ^ 0x5a, !pick, pick.wrapping_mul(31)];
    let (start, offset) = (usize::from(pick % 8).min(rest.len()), usize::from(pick >> 3));
    let original = &rest[start..];
    let mut fast = original.to_vec();
    crate::mask::apply_mask(&mut fast, key, offset);
    let mut scalar = original.to_vec();
    crate::mask::apply_mask_scalar(&mut scalar, key, offset);
    let bytewise: Vec<u8> = original.iter().enumerate().map(|(i, b)| b ^ key[(offset + i) % 4]).collect();
    assert!(fast == bytewise && scalar == bytewise, "masking differs for {} bytes at offset {offset}", original.len());
    crate::mask::apply_mask(&mut fast, key, offset);
    assert!(fast == original);
}

/// The close codes that may appear in a close frame (RFC 6455 §7.4.1, §7.4.2
/// and the IANA registry), written out here rather than taken from the
/// engine's table.
fn on_wire(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// The close payload parser (RFC 6455 §5.5.1) on any bytes: its answer
/// matches the rule, a parsed payload re-encodes to the same bytes, and an
/// open server given the payload in a close frame reports it and answers
/// with the right close frame.
pub fn close_payload(data: &[u8]) {
    let parsed = close::parse_close_payload(data).map_err(ProtocolError::from);
    match data {
        [] => assert_eq!(parsed, Ok(None)),
        [_] => assert_eq!(parsed, Err(ProtocolError::ClosePayloadTooShort)),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            let expected = if !on_wire(code) {
                Err(ProtocolError::InvalidCloseCode(code))
            } else if reason.len() > MAX_REASON_LEN {
                Err(ProtocolError::ControlFrameTooLong)
            } else {
                core::str::from_utf8(reason)
                    .map(|r| Some((CloseCode(code), r)))
                    .map_err(|_| ProtocolError::InvalidCloseReason)
            };
            assert_eq!(parsed, expected);
        }
    }
    if let Ok(payload) = parsed {
        let mut out = [0; MAX_CLOSE_PAYLOAD];
        let n = close::encode_close_payload(payload, &mut out);
        assert_eq!(&out[..n], data);
    }
    if data.len() > MAX_CLOSE_PAYLOAD {
        return;
    }
    let t = Duration::ZERO;
    let mut server = Connection::open(t, Role::Server, None, Settings::roomy().config([0; 16]));
    let frame = encode_frame(0x88, Some([0x37, 0xfa, 0x21, 0x3d]), data);
    assert_eq!(server.handle_bytes(t, &frame), frame.len());
    let events: Vec<Event> = core::iter::from_fn(|| server.poll_event()).collect();
    let sent: Vec<u8> = core::iter::from_fn(|| server.poll_transmit()).flat_map(|b| b.to_vec()).collect();
    let (expected_events, answer) = match parsed {
        Ok(None) => (alloc::vec![Event::Closed(CloseEvent::new(CloseCode::NO_STATUS, "", true))], Vec::new()),
        // The echo repeats code and reason.
        Ok(Some((code, reason))) => (alloc::vec![Event::Closed(CloseEvent::new(code, reason, true))], data.to_vec()),
        Err(e) => {
            let mut answer = e.close_code().0.to_be_bytes().to_vec();
            answer.extend_from_slice(close::truncate_reason(&e.to_string()).as_bytes());
            let abnormal = CloseEvent::new(CloseCode::ABNORMAL, "", false);
            (alloc::vec![Event::Error(Error::Protocol(e)), Event::Closed(abnormal)], answer)
        }
    };
    assert_eq!(events, expected_events);
    assert_eq!(sent, encode_frame(0x88, None, &answer));
    assert!(server.should_close_transport());
}

/// The incremental UTF-8 validator against `core::str::from_utf8` on the
/// whole. `data[0] % 16` is how many of the next bytes are piece sizes (used
/// in turn, 0 feeding an empty piece); the rest is the text.
///
/// The validator must fail exactly in the piece holding the first byte after
/// which no continuation could make the text valid, report the bytes of an
/// unfinished character as pending after every piece, and call the text
/// complete exactly when it is valid. The whole-buffer validator must agree.
pub fn utf8(data: &[u8]) {
    let Some((&n, rest)) = data.split_first() else { return };
    let (sizes, text) = rest.split_at(usize::from(n % 16).min(rest.len()));
    let whole = core::str::from_utf8(text);
    assert_eq!(utf8::validate(text).is_ok(), whole.is_ok());
    let fails_at = whole.err().and_then(|e| {
        let start = e.valid_up_to();
        let len = e.error_len()?;
        // The bad sequence is refused at its own last byte if that byte can
        // never continue it, else at the byte after it.
        let at_last = core::str::from_utf8(&text[..start + len]).err().and_then(|e| e.error_len()).is_some();
        Some(if at_last { start + len - 1 } else { start + len })
    });
    let mut validator = Utf8Validator::new();
    let mut at = 0;
    let mut turn = 0;
    while at < text.len() || turn == 0 {
        let size = match sizes.get(turn % sizes.len().max(1)) {
            // A whole round of empty pieces: the rest in one.
            Some(_) if turn >= sizes.len() && sizes.iter().all(|&s| s == 0) => text.len() - at,
            Some(&s) => usize::from(s).min(text.len() - at),
            None => text.len(),
        };
        turn += 1;
        let end = at + size;
        let result = validator.feed(&text[at..end]);
        if let Some(i) = fails_at.filter(|&i| i < end) {
            assert!(result.is_err() && i >= at, "failed at byte {i} but the piece {at}..{end} gave {result:?}");
            return;
        }
        assert!(result.is_ok(), "piece {at}..{end} refused; the first impossible byte is {fails_at:?}");
        let pending = match core::str::from_utf8(&text[..end]) {
            Ok(_) => 0,
            Err(e) => end - e.valid_up_to(),
        };
        assert_eq!(validator.pending(), pending, "after {end} bytes");
        at = end;
    }
    assert_eq!(validator.is_complete(), whole.is_ok());
}
