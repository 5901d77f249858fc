//! Any valid byte stream, cut anywhere, gives the same events and the same
//! answer as the stream fed whole, in both roles and both receive modes. The
//! streams are random: the handshake, then messages of random kinds and sizes
//! in random fragments with control frames between them, then perhaps a
//! close. Fed whole, they also give exactly the events their frames say.
//! (tests/chunking.rs cuts one fixed stream, including a broken one.)

mod common;

use common::*;
use proptest::prelude::*;
use proptest::sample::Index;
use rfc6455::{Event, MessageKind, ReceiveMode, Role};

/// What the peer sends, before it is cut into frames.
#[derive(Clone, Debug)]
enum Item {
    /// A data message in fragments: the cut points, then the control frames
    /// sent between fragments (after fragment `n`).
    Message {
        kind: MessageKind,
        data: Vec<u8>,
        cuts: Vec<Index>,
        between: Vec<(Index, Control)>,
    },
    Control(Control),
}

#[derive(Clone, Debug)]
enum Control {
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

/// A stream: the items, then a close (code, reason) or none.
#[derive(Clone, Debug)]
struct Stream {
    items: Vec<Item>,
    close: Option<(u16, String)>,
}

fn control() -> impl Strategy<Value = Control> {
    let payload = proptest::collection::vec(any::<u8>(), 0..=125);
    prop_oneof![payload.clone().prop_map(Control::Ping), payload.prop_map(Control::Pong)]
}

fn message() -> impl Strategy<Value = Item> {
    let data = prop_oneof![
        "[a-zé€😀]{0,40}".prop_map(|s| (MessageKind::Text, s.into_bytes())),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|b| (MessageKind::Binary, b)),
    ];
    let cuts = proptest::collection::vec(any::<Index>(), 0..4);
    let between = proptest::collection::vec((any::<Index>(), control()), 0..3);
    (data, cuts, between).prop_map(|((kind, data), cuts, between)| Item::Message { kind, data, cuts, between })
}

fn stream() -> impl Strategy<Value = Stream> {
    let items = proptest::collection::vec(prop_oneof![3 => message(), 1 => control().prop_map(Item::Control)], 0..8);
    let close = proptest::option::of((prop_oneof![1000..=1003u16, 3000..=4999u16], "[a-z€]{0,20}"));
    (items, close).prop_map(|(items, close)| Stream { items, close })
}

/// The wire bytes of a stream to `role`, and the events it must give in
/// `ReceiveMode::Messages`: controls when they end, messages when their last
/// fragment ends.
fn encode(role: Role, stream: &Stream) -> (Vec<u8>, Vec<Event>) {
    let mut n: u8 = 0;
    let mut frame = |fin: bool, opcode: u8, payload: &[u8]| {
        n = n.wrapping_add(1);
        let mut f = Frame::new(fin, opcode, payload);
        if role == Role::Server {
            f.mask = Some([n, n ^ 0x5a, 0xa5, n.wrapping_mul(7)]);
        }
        f.encode()
    };
    let control_frame = |c: &Control| match c {
        Control::Ping(p) => (PING, p.clone(), ping(p)),
        Control::Pong(p) => (PONG, p.clone(), pong(p)),
    };
    let mut wire = chunking_handshake(role);
    let mut events = Vec::new();
    for item in &stream.items {
        match item {
            Item::Control(c) => {
                let (op, payload, event) = control_frame(c);
                wire.extend(frame(true, op, &payload));
                events.push(event);
            }
            Item::Message { kind, data, cuts, between } => {
                let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
                cuts.sort_unstable();
                cuts.push(data.len());
                let pieces = cuts.len();
                let mut at = 0;
                for (i, cut) in cuts.into_iter().enumerate() {
                    let opcode = match (i, kind) {
                        (0, MessageKind::Text) => TEXT,
                        (0, MessageKind::Binary) => BINARY,
                        _ => CONT,
                    };
                    wire.extend(frame(i + 1 == pieces, opcode, &data[at..cut]));
                    at = cut;
                    for (_, c) in between.iter().filter(|(after, _)| after.index(pieces) == i && i + 1 < pieces) {
                        let (op, payload, event) = control_frame(c);
                        wire.extend(frame(true, op, &payload));
                        events.push(event);
                    }
                }
                events.push(match kind {
                    MessageKind::Text => text(std::str::from_utf8(data).unwrap()),
                    MessageKind::Binary => binary(data),
                });
            }
        }
    }
    if let Some((code, reason)) = &stream.close {
        wire.extend(frame(true, CLOSE, &close_payload(*code, reason)));
        if role == Role::Server {
            events.push(closed(*code, reason, true));
        }
    }
    (wire, events)
}

/// Feeds `pieces` to a fresh connection of `role`, accepting the request
/// when it comes; returns the events and every byte written.
fn run(role: Role, mode: ReceiveMode, pieces: &[&[u8]]) -> (Vec<Event>, Vec<u8>) {
    let (events, sent, _) = feed(role, mode, pieces, false);
    (events, sent)
}

/// The events after the handshake ones.
fn after_handshake(role: Role, events: &[Event]) -> Vec<Event> {
    let skip = if role == Role::Server { 2 } else { 1 };
    assert!(events.len() >= skip, "{events:?}");
    events[skip..].to_vec()
}

/// `bytes` cut at `cuts`.
fn split<'a>(bytes: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut at = 0;
    for cut in cuts {
        pieces.push(&bytes[at..cut]);
        at = cut;
    }
    pieces.push(&bytes[at..]);
    pieces
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_split_of_any_valid_stream_equals_the_whole(
        stream in stream(),
        role in prop_oneof![Just(Role::Client), Just(Role::Server)],
        cuts in proptest::collection::vec(any::<Index>(), 0..64),
    ) {
        let (wire, expected) = encode(role, &stream);
        let pieces = split(&wire, &cuts);
        let (whole, whole_sent) = run(role, ReceiveMode::Messages, &[&wire]);
        prop_assert_eq!(after_handshake(role, &whole), expected.clone());
        let (split_events, split_sent) = run(role, ReceiveMode::Messages, &pieces);
        prop_assert_eq!(&split_events, &whole);
        prop_assert_eq!(&split_sent, &whole_sent);
        // Streaming: the same once each message's chunks are merged.
        let (streamed, streamed_sent) = run(role, ReceiveMode::Streaming, &pieces);
        let (streamed_whole, _) = run(role, ReceiveMode::Streaming, &[&wire]);
        let merged = merge_chunks(streamed);
        prop_assert_eq!(&merged, &merge_chunks(streamed_whole));
        prop_assert_eq!(&streamed_sent, &whole_sent);
        let as_messages: Vec<Event> = after_handshake(role, &merged)
            .into_iter()
            .map(|e| match e {
                Event::Chunk { kind: MessageKind::Text, data, fin: true } => {
                    text(std::str::from_utf8(&data).unwrap())
                }
                Event::Chunk { kind: MessageKind::Binary, data, fin: true } => Event::Binary(data),
                other => other,
            })
            .collect();
        // Controls between fragments may come before or after the message's
        // first chunk; as a multiset, and with messages in order, they agree.
        let messages = |events: &[Event]| -> Vec<Event> {
            events.iter().filter(|e| matches!(e, Event::Text(_) | Event::Binary(_))).cloned().collect()
        };
        prop_assert_eq!(messages(&as_messages), messages(&expected));
        prop_assert_eq!(as_messages.len(), expected.len());
    }
}
