//! Frame headers as properties (RFC 6455 §5.2): every opcode, every length
//! class, masked and unmasked, round-trips through encode → decode; every
//! prefix of a header is partial; the encodings RFC 6455 forbids are refused;
//! and whole frames of every length class pass from one engine to the other.

mod common;

use std::time::Duration;

use common::*;
use proptest::prelude::*;
use rfc6455::frame::{FrameError, FrameHeader, MAX_HEADER_LEN, OpCode};
use rfc6455::{Connection, Event, Role};

const T: Duration = Duration::ZERO;
const DATA: [OpCode; 3] = [OpCode::Continuation, OpCode::Text, OpCode::Binary];
const CONTROL: [OpCode; 3] = [OpCode::Close, OpCode::Ping, OpCode::Pong];

/// A length in one of the three classes: 7-bit, 16-bit, 64-bit.
fn length(control: bool) -> BoxedStrategy<u64> {
    if control {
        (0..=125u64).boxed()
    } else {
        prop_oneof![0..=125u64, 126..=0xFFFFu64, 0x1_0000..=(u64::MAX >> 1), Just(u64::MAX >> 1)].boxed()
    }
}

/// Any header the decoder must accept: control frames are final and short.
fn header() -> impl Strategy<Value = FrameHeader> {
    let opcode = prop_oneof![proptest::sample::select(DATA.to_vec()), proptest::sample::select(CONTROL.to_vec())];
    (opcode, any::<bool>(), 0..8u8, proptest::option::of(any::<[u8; 4]>())).prop_flat_map(|(opcode, fin, rsv, mask)| {
        let control = opcode.is_control();
        length(control).prop_map(move |len| FrameHeader { fin: fin || control, rsv, opcode, mask, len })
    })
}

/// The header size its length class and mask give.
fn expected_size(h: &FrameHeader) -> usize {
    let ext = match h.len {
        0..=125 => 0,
        126..=0xFFFF => 2,
        _ => 8,
    };
    2 + ext + if h.mask.is_some() { 4 } else { 0 }
}

proptest! {
    #[test]
    fn headers_round_trip(h in header(), trailing in proptest::collection::vec(any::<u8>(), 0..8)) {
        let mut out = [0; MAX_HEADER_LEN];
        let n = h.encode(&mut out);
        prop_assert_eq!(n, expected_size(&h));
        prop_assert_eq!(FrameHeader::encoded_len(out[1]), n);
        let mut wire = out[..n].to_vec();
        wire.extend_from_slice(&trailing);
        prop_assert_eq!(FrameHeader::decode(&wire), Ok(Some((h, n))));
        for cut in 0..n {
            prop_assert_eq!(FrameHeader::decode(&wire[..cut]), Ok(None), "cut at {}", cut);
        }
    }

    /// A length written in a longer form than it needs, or with the top bit set.
    #[test]
    fn lengths_not_in_their_minimal_form_are_refused(len in 0..=0xFFFFu64, top in 1u64 << 63..=u64::MAX) {
        let mut wire = vec![0x82, 127];
        wire.extend_from_slice(&len.to_be_bytes());
        prop_assert_eq!(FrameHeader::decode(&wire), Err(FrameError::BadLength));
        wire[2..10].copy_from_slice(&top.to_be_bytes());
        prop_assert_eq!(FrameHeader::decode(&wire), Err(FrameError::BadLength));
        if len < 126 {
            let short = [0x82, 126, (len >> 8) as u8, len as u8];
            prop_assert_eq!(FrameHeader::decode(&short), Err(FrameError::BadLength));
        }
    }

    /// Control frames must be final and at most 125 bytes (RFC 6455 §5.5);
    /// reserved opcodes are refused as soon as the first two bytes are in.
    #[test]
    fn control_and_opcode_rules(op in 0..16u8, fin in any::<bool>(), len in 0..=0xFFFFu64, mask in any::<bool>()) {
        let h = |opcode| FrameHeader { fin, rsv: 0, opcode, mask: mask.then_some([1, 2, 3, 4]), len };
        let expected = match OpCode::from_u8(op) {
            Err(e) => {
                prop_assert_eq!(e, FrameError::ReservedOpcode(op));
                prop_assert_eq!(FrameHeader::decode(&[op | 0x80, 0]), Err(e));
                return Ok(());
            }
            Ok(o) if o.is_control() && !fin => Err(FrameError::FragmentedControlFrame),
            Ok(o) if o.is_control() && len > 125 => Err(FrameError::ControlFrameTooLong),
            Ok(o) => Ok(Some((h(o), expected_size(&h(o))))),
        };
        let opcode = OpCode::from_u8(op).unwrap();
        let mut out = [0; MAX_HEADER_LEN];
        let n = h(opcode).encode(&mut out);
        prop_assert_eq!(FrameHeader::decode(&out[..n]), expected);
    }

    /// Whole messages at the edges of every length class, and random ones,
    /// pass client → server (masked) and server → client (unmasked).
    #[test]
    fn messages_of_every_length_class_pass_between_engines(
        len in prop_oneof![
            proptest::sample::select(vec![0usize, 1, 125, 126, 127, 0xFFFF, 0x1_0000, 0x1_0001]),
            0..0x1_2000usize,
        ],
        text in any::<bool>(),
    ) {
        let payload: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        for from in [Role::Client, Role::Server] {
            let to = if from == Role::Client { Role::Server } else { Role::Client };
            let mut sender = Connection::open(T, from, None, config());
            let mut receiver = Connection::open(T, to, None, config());
            if text {
                sender.send_text(std::str::from_utf8(&payload).unwrap()).unwrap();
            } else {
                sender.send_binary(&payload).unwrap();
            }
            let (_, wire) = drain(&mut sender);
            let frames = decode_frames(&wire);
            prop_assert_eq!(frames.len(), 1);
            prop_assert_eq!(frames[0].mask.is_some(), from == Role::Client);
            give(&mut receiver, T, &wire);
            let expected = if text {
                Event::Text(String::from_utf8(payload.clone()).unwrap().into())
            } else {
                Event::Binary(payload.clone().into())
            };
            let events = drain(&mut receiver).0;
            prop_assert!(events == [expected], "{:?} → {:?}: {} events", from, to, events.len());
        }
    }
}
