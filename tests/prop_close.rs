//! Close codes and close payloads as properties (RFC 6455 §5.5.1, §7.4): every
//! `u16` is classified as the registry says, any payload of 0–125 bytes is
//! parsed or refused without a panic, and every sendable code with every
//! reason that fits survives encode → decode, through the engine both ways.

mod common;

use std::time::Duration;

use common::*;
use proptest::prelude::*;
use rfc6455::{
    CloseCode, CloseCodeClass, Connection, Error, Event, LocalError, MAX_REASON_LEN, ProtocolError, Role,
    truncate_reason,
};

const T: Duration = Duration::ZERO;

/// RFC 6455 §7.4.1–§7.4.2 and IANA's WebSocket Close Code Number Registry,
/// written out here: (first, last, class, may be in a close frame, name).
const TABLE: &[(u16, u16, CloseCodeClass, bool, Option<&str>)] = &[
    (0, 999, CloseCodeClass::Unused, false, None),
    (1000, 1000, CloseCodeClass::Registered, true, Some("Normal Closure")),
    (1001, 1001, CloseCodeClass::Registered, true, Some("Going Away")),
    (1002, 1002, CloseCodeClass::Registered, true, Some("Protocol error")),
    (1003, 1003, CloseCodeClass::Registered, true, Some("Unsupported Data")),
    (1004, 1004, CloseCodeClass::Registered, false, Some("Reserved")),
    (1005, 1005, CloseCodeClass::Registered, false, Some("No Status Rcvd")),
    (1006, 1006, CloseCodeClass::Registered, false, Some("Abnormal Closure")),
    (1007, 1007, CloseCodeClass::Registered, true, Some("Invalid frame payload data")),
    (1008, 1008, CloseCodeClass::Registered, true, Some("Policy Violation")),
    (1009, 1009, CloseCodeClass::Registered, true, Some("Message Too Big")),
    (1010, 1010, CloseCodeClass::Registered, true, Some("Mandatory Ext.")),
    (1011, 1011, CloseCodeClass::Registered, true, Some("Internal Error")),
    (1012, 1012, CloseCodeClass::Registered, true, Some("Service Restart")),
    (1013, 1013, CloseCodeClass::Registered, true, Some("Try Again Later")),
    (1014, 1014, CloseCodeClass::Registered, true, Some("Bad Gateway")),
    (1015, 1015, CloseCodeClass::Registered, false, Some("TLS handshake")),
    (1016, 2999, CloseCodeClass::Reserved, false, None),
    (3000, 3999, CloseCodeClass::Library, true, None),
    (4000, 4999, CloseCodeClass::Application, true, None),
    (5000, u16::MAX, CloseCodeClass::OutOfRange, false, None),
];

fn row(code: u16) -> (CloseCodeClass, bool, Option<&'static str>) {
    let &(_, _, class, wire, name) = TABLE.iter().find(|r| (r.0..=r.1).contains(&code)).expect("the table covers u16");
    (class, wire, name)
}

/// The codes an application may send and a peer may receive.
fn sendable() -> impl Strategy<Value = u16> {
    prop_oneof![1000..=1003u16, 1007..=1014u16, 3000..=4999u16]
}

/// Text with characters of every width, so that 123 bytes often falls inside one.
fn any_reason() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,130}",
        "[a-zé€😀]{0,70}",
        proptest::collection::vec(any::<char>(), 0..64).prop_map(|c| c.into_iter().collect()),
    ]
}

/// A client that sends `code` and `reason`, and a server that reads it; the
/// server's close event and echo, then the client's close event.
fn close_through_the_engine(code: u16, reason: &str) -> (Vec<Event>, Vec<Event>) {
    let mut client = Connection::open(T, Role::Client, None, config());
    let mut server = Connection::open(T, Role::Server, None, config());
    client.close(T, code, reason).unwrap();
    let (_, wire) = drain(&mut client);
    give(&mut server, T, &wire);
    let (server_events, echo) = drain(&mut server);
    give(&mut client, T, &echo);
    client.handle_eof(T);
    (server_events, drain(&mut client).0)
}

#[test]
fn every_u16_is_classified_as_the_registry_says() {
    for code in 0..=u16::MAX {
        let (class, wire, name) = row(code);
        let c = CloseCode(code);
        assert_eq!(c.class(), class, "{code}");
        assert_eq!(c.is_sendable(), wire, "{code}");
        assert_eq!(c.name(), name, "{code}");
    }
    assert!(CloseCode::registry().iter().all(|r| r.on_wire == row(r.code.0).1 && Some(r.name) == row(r.code.0).2));
}

#[test]
fn every_sendable_code_round_trips_with_a_reason_cut_at_the_limit() {
    // 1 + 3 × 41 bytes: the cut at 123 falls inside a '€'.
    let reason = truncate_reason(&format!("a{}", "€".repeat(45))).to_string();
    assert_eq!(reason.len(), 121);
    for code in (0..=u16::MAX).filter(|&c| row(c).1) {
        let (server, client) = close_through_the_engine(code, &reason);
        assert_eq!(server, [closed(code, &reason, true)], "{code}");
        assert_eq!(client, [closed(code, &reason, true)], "{code}");
    }
}

proptest! {
    /// Sending: a code may be sent exactly when the registry says so; a
    /// refusal changes nothing.
    #[test]
    fn only_wire_codes_may_be_sent(code in any::<u16>()) {
        let mut conn = Connection::open(T, Role::Client, None, config());
        if row(code).1 {
            prop_assert_eq!(conn.close(T, code, ""), Ok(()));
        } else {
            refused(&mut conn, LocalError::InvalidCloseCode(code), |c| c.close(T, code, ""));
        }
    }

    /// Receiving: a close frame with a code not on the wire fails the
    /// connection with 1002; any other closes it cleanly with that code.
    #[test]
    fn only_wire_codes_are_received(code in any::<u16>(), role in prop_oneof![Just(Role::Client), Just(Role::Server)]) {
        let mut conn = Connection::open(T, role, None, config());
        give(&mut conn, T, &frame_to(role, true, CLOSE, &code.to_be_bytes()));
        let (events, sent) = drain(&mut conn);
        let reply = decode_frames(&sent);
        if row(code).1 {
            let expected = match role {
                Role::Server => vec![closed(code, "", true)],
                Role::Client => vec![],
            };
            prop_assert_eq!(events, expected);
            prop_assert_eq!(reply[0].close_code(), Some(code));
        } else {
            let e = ProtocolError::InvalidCloseCode(code);
            prop_assert_eq!(events, vec![error(Error::Protocol(e)), abnormal()]);
            prop_assert_eq!(reply[0].close_code(), Some(1002));
        }
    }

    /// Any payload of 0–125 bytes, random or built from a code and a
    /// reason: the parser's answer matches the rule and the engine reports
    /// it (the harness checks both, see `fuzzing::close_payload`).
    #[test]
    fn any_close_payload_parses_or_is_refused(
        payload in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..=125),
            (any::<u16>(), any_reason()).prop_map(|(c, r)| {
                let mut p = close_payload(c, &r);
                p.truncate(125);
                p
            }),
        ],
    ) {
        rfc6455::fuzzing::close_payload(&payload);
    }

    /// Every sendable code with every reason that fits, multi-byte
    /// characters cut at the limit by `truncate_reason`, arrives as sent
    /// and comes back in the echo.
    #[test]
    fn sendable_codes_and_reasons_round_trip(code in sendable(), long in any_reason()) {
        let reason = truncate_reason(&long);
        // The longest prefix of whole characters that fits.
        prop_assert!(reason.len() <= MAX_REASON_LEN && long.starts_with(reason));
        if let Some(next) = long[reason.len()..].chars().next() {
            prop_assert!(reason.len() + next.len_utf8() > MAX_REASON_LEN);
        }
        let (server, client) = close_through_the_engine(code, reason);
        prop_assert_eq!(server, vec![closed(code, reason, true)]);
        prop_assert_eq!(client, vec![closed(code, reason, true)]);
    }

    /// A reason over 123 bytes is refused whatever the code.
    #[test]
    fn long_reasons_are_refused(code in sendable(), extra in 1..200usize) {
        let mut conn = Connection::open(T, Role::Server, None, config());
        let reason = "r".repeat(MAX_REASON_LEN + extra);
        refused(&mut conn, LocalError::CloseReasonTooLong(reason.len()), |c| c.close(T, code, &reason));
    }
}
