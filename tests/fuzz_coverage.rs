//! The connection harness reaches the states only a driver slower than the
//! contract's reaches: each script below is built to get to one, and the
//! harness's own count (`fuzzing::Coverage`) must show it got there, so that
//! the claim in docs/fuzzing.md is tested, not only written down. Every run
//! also passes every invariant the harness checks.

use rfc6455::Role;
use rfc6455::fuzzing::{self, Content, Coverage, Masking, Script, Settings, Step};

const ROLES: [Role; 2] = [Role::Client, Role::Server];

/// An open connection with `settings` driven by `steps`, in `role`.
fn run(role: Role, settings: Settings, steps: Vec<Step>) -> Coverage {
    fuzzing::connection_coverage(role, &Script { open: true, settings, steps })
}

/// Settings that keep at most `max_unread` bytes unread.
fn unread(max_unread: u16) -> Settings {
    Settings { max_unread, ..Settings::roomy() }
}

/// `n` copies of the "Hello" text frame of RFC 6455 §5.7 (11 bytes masked, 7 not).
fn hellos(n: usize) -> Vec<Step> {
    vec![Step::Sample(0); n]
}

#[test]
fn bytes_not_taken_are_handed_in_again() {
    for role in ROLES {
        // The first message is read, 10 bytes behind it are kept unread,
        // and the rest waits; a second feed finds the unread input full and
        // takes nothing; the contract's delivery hands the rest in.
        let steps = [hellos(5), vec![Step::Feed(0), Step::Feed(4), Step::Deliver(0)]].concat();
        let c = run(role, unread(10), steps);
        assert!(c.partial_takes >= 2, "{role:?}: {c:?}");
        assert!(c.zero_takes >= 1, "{role:?}: {c:?}");
        assert!(c.refed_bytes > 0, "{role:?}: {c:?}");
        // Nothing acted while input waited: the events are those of the
        // contract's driver, and the harness compared them.
        assert!(c.compared_with_eager, "{role:?}: {c:?}");
    }
}

#[test]
fn bytes_not_taken_wait_across_commands() {
    // A send and a ping while bytes wait untaken, then the rest by a later feed.
    let steps = [
        hellos(4),
        vec![Step::Feed(2), Step::SendText { len: 9, wide: true }, Step::Ping(3), Step::Feed(0), Step::TakeEvents],
    ]
    .concat();
    for role in ROLES {
        let c = run(role, unread(3), steps.clone());
        assert!(c.partial_takes >= 1 && c.refed_bytes > 0, "{role:?}: {c:?}");
        assert!(!c.compared_with_eager, "{role:?}: commands acted while input waited: {c:?}");
    }
}

#[test]
fn an_eof_behind_unread_input_waits() {
    for role in ROLES {
        // Everything is taken (the limit is roomy), most of it unread.
        let c = run(role, Settings::roomy(), [hellos(3), vec![Step::Feed(0), Step::Eof]].concat());
        assert_eq!(c.eof_behind_unread, 1, "{role:?}: {c:?}");
        // With bytes not taken as well, they go in before the EOF: the
        // unread input holds one frame, so the last of the four ends up
        // unread behind the third.
        let frame = if role == Role::Client { 7 } else { 11 };
        let c = run(role, unread(frame), [hellos(4), vec![Step::Feed(0), Step::Eof]].concat());
        assert!(c.partial_takes >= 1 && c.refed_bytes > 0, "{role:?}: {c:?}");
        assert_eq!(c.eof_behind_unread, 1, "{role:?}: {c:?}");
    }
}

#[test]
fn a_transport_error_behind_unread_input_drops_it() {
    for role in ROLES {
        let c = run(role, unread(5), [hellos(3), vec![Step::Feed(0), Step::TransportError]].concat());
        assert_eq!(c.transport_error_behind_unread, 1, "{role:?}: {c:?}");
    }
}

#[test]
fn the_close_timer_waits_for_unread_input() {
    // Our close is out (1 s timeout); the peer's messages are handed in but
    // not read. Time passes the deadline: the timer must wait, then run.
    let settings = Settings { close_timeout: 10, ..Settings::roomy() };
    for role in ROLES {
        let steps = [
            vec![Step::Close { code: 1000, reason_len: 4 }],
            hellos(3),
            vec![Step::Feed(0), Step::Advance(3000), Step::Timeout, Step::TakeEvents, Step::Advance(3000)],
        ]
        .concat();
        let c = run(role, settings.clone(), steps);
        assert_eq!(c.close_timer_held, 2, "{role:?}: {c:?}");
        assert!(c.timeouts_behind_unread >= 2, "{role:?}: {c:?}");
    }
}

#[test]
fn timers_behind_unread_input_while_open() {
    // Keepalive and idle timers keep running while input waits unread.
    let settings = Settings { keepalive: Some(2), idle: Some(30), max_unread: 4, ..Settings::roomy() };
    for role in ROLES {
        let steps = [hellos(3), vec![Step::Feed(0), Step::Timeout, Step::Advance(500), Step::Deliver(0)]].concat();
        let c = run(role, settings.clone(), steps);
        assert!(c.timeouts_behind_unread >= 1, "{role:?}: {c:?}");
        assert_eq!(c.close_timer_held, 0, "{role:?}: {c:?}");
    }
}

#[test]
fn more_than_16_pings_before_the_transmits_are_taken_coalesce() {
    // Twenty pings, each payload different (lengths 0 to 19), read while the
    // transmits wait: 16 pongs, then one for the latest ping.
    let pings: Vec<Step> =
        (0..20).map(|len| Step::Frame { head: 0x89, masking: Masking::AsPeer, len, content: Content::Ascii }).collect();
    for role in ROLES {
        let c = run(role, Settings::roomy(), [pings.clone(), vec![Step::Feed(0), Step::TakeEvents]].concat());
        assert_eq!(c.most_pings_between_transmits, 20, "{role:?}: {c:?}");
        assert_eq!(c.coalesced_pongs, 1, "{role:?}: {c:?}");
        // In pieces, and with the peer's close behind the pings: the pong
        // owed to the latest goes out before the echo of the close.
        let steps =
            [pings.clone(), vec![Step::CloseFrame { code: 1000, reason_len: 2 }, Step::Feed(5), Step::TakeEvents]]
                .concat();
        let c = run(role, Settings::roomy(), steps);
        assert_eq!(c.most_pings_between_transmits, 20, "{role:?}: {c:?}");
        assert_eq!(c.coalesced_pongs, 1, "{role:?}: {c:?}");
    }
}

#[test]
fn the_contract_s_driver_reaches_none_of_these_states() {
    // The same bytes through `Deliver` alone: partial takes only when the
    // unread limit is hit, which the contract's driver then drains.
    for role in ROLES {
        let c = run(role, Settings::roomy(), [hellos(3), vec![Step::Deliver(0), Step::Eof]].concat());
        assert_eq!(c, Coverage::default(), "{role:?}");
    }
}

#[test]
fn large_payloads_are_read_into_the_room_read_buf_lends() {
    // Two 60,000-byte binary frames delivered at once: that one input
    // brought 16 KiB or more, so the input streams, and the third frame, delivered next,
    // goes into the room `read_buf` lends; the run delivered whole gives the
    // same events (the harness compares).
    let frame = Step::Frame { head: 0x82, masking: Masking::AsPeer, len: 60_000, content: Content::Zeros };
    for role in ROLES {
        let steps = vec![frame.clone(), frame.clone(), Step::Deliver(0), frame.clone(), Step::Deliver(0)];
        let c = run(role, Settings::roomy(), steps);
        assert!(c.committed_bytes > 60_000, "{role:?}: {c:?}");
    }
}
