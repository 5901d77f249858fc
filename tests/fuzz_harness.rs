//! The fuzzing harness (`rfc6455::fuzzing`, what the targets in fuzz/ run)
//! on random inputs from proptest, so that `cargo test` exercises every
//! invariant it checks without cargo-fuzz: no panic, bounded input, one
//! close event, the peer reads what was written, pieces equal whole.

use proptest::prelude::*;
use rfc6455::Role;
use rfc6455::fuzzing::{self, Content, Masking, Script, Settings, Step};

fn settings() -> impl Strategy<Value = Settings> {
    let tenths = proptest::option::of(0..60u8);
    let unread = prop_oneof![0..200u16, Just(u16::MAX)];
    (
        any::<bool>(),
        any::<bool>(),
        0..2000u16,
        0..1024u16,
        0..40u8,
        0..60u8,
        tenths.clone(),
        tenths.clone(),
        tenths,
        unread,
    )
        .prop_map(|(streaming, auto_pong, msg, hs, headers, close, handshake, keepalive, idle, max_unread)| {
            Settings {
                streaming,
                auto_pong,
                max_message_size: msg,
                max_handshake_bytes: hs,
                max_headers: headers,
                close_timeout: close,
                handshake_timeout: handshake,
                keepalive,
                idle,
                max_unread,
            }
        })
}

fn step() -> impl Strategy<Value = Step> {
    let masking = prop_oneof![4 => Just(Masking::AsPeer), 1 => Just(Masking::Unmasked), 1 => Just(Masking::Masked)];
    let content = prop_oneof![Just(Content::Zeros), Just(Content::Ascii), Just(Content::Wide), Just(Content::Invalid)];
    let head = prop_oneof![
        proptest::sample::select(vec![0x81u8, 0x82, 0x01, 0x02, 0x00, 0x80, 0x89, 0x8A, 0x88]),
        any::<u8>()
    ];
    prop_oneof![
        4 => any::<u8>().prop_map(Step::Handshake),
        4 => any::<u8>().prop_map(Step::Sample),
        4 => (head, masking, 0..300u16, content).prop_map(|(head, masking, len, content)| Step::Frame {
            head,
            masking,
            len,
            content
        }),
        2 => (prop_oneof![1000..=1015u16, any::<u16>()], 0..130u8)
            .prop_map(|(code, reason_len)| Step::CloseFrame { code, reason_len }),
        1 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(Step::Raw),
        6 => (0..20u8).prop_map(Step::Deliver),
        2 => proptest::collection::vec(any::<u8>(), 0..5).prop_map(Step::DeliverPieces),
        1 => Just(Step::Eof),
        1 => Just(Step::TransportError),
        2 => (0..12_000u16).prop_map(Step::Advance),
        1 => Just(Step::Timeout),
        2 => (0..200u16, any::<bool>()).prop_map(|(len, wide)| Step::SendText { len, wide }),
        1 => (0..200u16).prop_map(Step::SendBinary),
        2 => (any::<bool>(), 0..20u8, any::<bool>()).prop_map(|(text, len, fin)| Step::SendFragment { text, len, fin }),
        1 => (0..130u8).prop_map(Step::Ping),
        1 => (0..130u8).prop_map(Step::Pong),
        2 => (prop_oneof![1000..=1015u16, any::<u16>()], 0..130u8)
            .prop_map(|(code, reason_len)| Step::Close { code, reason_len }),
        1 => Just(Step::Terminate),
        3 => (0..3u8, 0..4u8).prop_map(|(protocol, header)| Step::Accept { protocol, header }),
        1 => prop_oneof![Just(404u16), any::<u16>()].prop_map(Step::Reject),
        3 => (0..20u8).prop_map(Step::Feed),
        2 => Just(Step::TakeEvents),
    ]
}

/// A step, or now and then an episode of a lazy driver: messages handed in
/// without their events taken, then an EOF, a transport error, a timeout or
/// (after a burst of more than 16 pings) the events alone. Random steps
/// rarely line these up.
fn steps() -> impl Strategy<Value = Vec<Step>> {
    let ping =
        (0..6u16).prop_map(|len| Step::Frame { head: 0x89, masking: Masking::AsPeer, len, content: Content::Ascii });
    let message = prop_oneof![
        (0..8u8).prop_map(Step::Sample),
        (0..300u16).prop_map(|len| Step::Frame { head: 0x82, masking: Masking::AsPeer, len, content: Content::Zeros })
    ];
    let end = prop_oneof![
        Just(Step::Eof),
        Just(Step::TransportError),
        Just(Step::Timeout),
        (0..12_000u16).prop_map(Step::Advance),
        Just(Step::TakeEvents),
        Just(Step::Terminate),
    ];
    let episode =
        (any::<bool>(), proptest::collection::vec(message, 1..5), proptest::collection::vec(0..20u8, 1..3), end)
            .prop_map(|(close_first, messages, feeds, end)| {
                let mut steps = Vec::new();
                if close_first {
                    steps.push(Step::Close { code: 1000, reason_len: 0 });
                }
                steps.extend(messages);
                steps.extend(feeds.into_iter().map(Step::Feed));
                steps.push(end);
                steps
            });
    let pings = (proptest::collection::vec(ping, 14..24), 0..20u8).prop_map(|(mut steps, feed)| {
        steps.extend([Step::Feed(feed), Step::TakeEvents]);
        steps
    });
    prop_oneof![
        16 => step().prop_map(|s| vec![s]),
        2 => episode,
        1 => pings,
    ]
}

fn script() -> impl Strategy<Value = Script> {
    (any::<bool>(), settings(), proptest::collection::vec(steps(), 0..24)).prop_map(|(open, settings, steps)| Script {
        open,
        settings,
        steps: steps.concat(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn connection_scripts_keep_every_invariant(role in prop_oneof![Just(Role::Client), Just(Role::Server)], s in script()) {
        fuzzing::connection(role, &s);
    }

    #[test]
    fn byte_targets_keep_every_invariant(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        fuzzing::frames(&data);
        fuzzing::server_request(&data);
        fuzzing::client_response(&data);
        fuzzing::close_payload(&data);
        fuzzing::utf8(&data);
    }

    /// Handshakes with a byte changed: the parsers near their happy path.
    #[test]
    fn altered_handshakes_keep_every_invariant(which in 0..5usize, at in any::<proptest::sample::Index>(), byte in any::<u8>()) {
        let mut request = fuzzing::REQUESTS[which].as_bytes().to_vec();
        let i = at.index(request.len());
        request[i] = byte;
        fuzzing::server_request(&request);
        let mut response = fuzzing::RESPONSES[which].as_bytes().to_vec();
        let i = at.index(response.len());
        response[i] = byte;
        fuzzing::client_response(&response);
    }
}
