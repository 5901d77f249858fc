//! The fuzzing harness: what every target in `fuzz/fuzz_targets/` runs, kept
//! in the crate so that it can check internals, and callable without the
//! `fuzzing` feature so that `tests/` runs it too. Not a stable API.
//!
//! Every entry point panics when an invariant breaks, not only on a crash:
//!
//! - peer bytes never cause a panic, in any role, state or chunking;
//! - the input held ([`Connection::buffered_input_len`](crate::Connection::buffered_input_len)) never exceeds what
//!   [`Config`](crate::Config) allows, once the events are drained;
//! - nothing follows [`Event::Closed`](crate::Event::Closed), there is exactly
//!   one, and an [`Event::Error`](crate::Event::Error) comes right before it;
//! - a command that returns a [`LocalError`](crate::LocalError) changes nothing;
//! - every byte the engine writes is read cleanly by an engine in the
//!   opposite role, and the messages it was asked to send arrive as sent;
//! - the same input in the scripted pieces and whole gives the same events and
//!   the same bytes;
//! - driven lazily ([`Step::Feed`], [`Step::TakeEvents`]), bytes the engine
//!   did not take are handed in again in order and give the events the
//!   contract's driver sees, wherever no other step acted while they waited;
//!   an EOF behind unread input waits for it, the close timer waits too, and
//!   pongs answer pings in order up to 16, then the latest (RFC 6455 §5.5.3).
//!
//! The byte targets ([`frames`], [`server_request`], [`client_response`],
//! [`close_payload`], [`utf8`]) take raw bytes, so their seeds are real
//! frames and handshakes; the connection targets ([`connection`]) take a
//! [`Script`] of peer bytes and local actions.

mod parsers;
mod peer;
mod pongs;
mod run;
mod script;

use alloc::vec;

pub use parsers::{close_payload, utf8};
pub use run::Coverage;
pub use script::{Content, Masking, REQUESTS, RESPONSES, Script, Settings, Step};

use crate::Role;

/// A whole connection in `role` driven by `script`, run once in the script's
/// pieces and once with every delivery whole; both runs must agree.
pub fn connection(role: Role, script: &Script) {
    run::check(role, script);
}

/// [`connection`], returning what the run in the script's pieces reached
/// that only a lazy driver reaches (partial takes, an EOF or a timeout behind
/// unread input, coalesced pongs), for tests that the harness gets there.
pub fn connection_coverage(role: Role, script: &Script) -> Coverage {
    run::check(role, script)
}

/// The framing layer: `data[0]` picks the settings, the rest is what the peer
/// sends to a connection opened without a handshake. The same bytes also check
/// the headers they start with and the masking (SIMD against scalar).
///
/// Selector bits: 0 the role (0 server, reading masked frames; 1 client), 1
/// streaming, 2 auto-pong off, 3 a 64-byte message limit, 4–7 the size of the
/// pieces (1–16 bytes; the whole input is run too).
pub fn frames(data: &[u8]) {
    let Some((&selector, wire)) = data.split_first() else { return };
    parsers::check_headers(wire);
    parsers::check_mask(data);
    let role = if selector & 1 == 0 { Role::Server } else { Role::Client };
    let settings = Settings {
        streaming: selector & 2 != 0,
        auto_pong: selector & 4 == 0,
        max_message_size: if selector & 8 != 0 { 64 } else { u16::MAX },
        ..Settings::roomy()
    };
    let piece = 1 + (selector >> 4);
    let steps = vec![Step::Raw(wire.to_vec()), Step::Deliver(piece), Step::Eof];
    run::check(role, &Script { open: true, settings, steps });
}

/// The server's request parser: `data` is what a client sends first. The
/// request is accepted with the first subprotocol offered (or rejected with a
/// 404 if it cannot be), then EOF.
pub fn server_request(data: &[u8]) {
    let steps = vec![
        Step::Raw(data.to_vec()),
        Step::Deliver(piece_size(data)),
        Step::Accept { protocol: 1, header: 1 },
        Step::Reject(404),
        Step::Eof,
    ];
    run::check(Role::Server, &Script { open: false, settings: Settings::handshake(), steps });
}

/// The client's response parser: `data` is what the server answers to the
/// request for `ws://server.example.com/chat` with the nonce of RFC 6455 §1.3
/// (so the §1.3 response is accepted).
pub fn client_response(data: &[u8]) {
    let steps = vec![Step::Raw(data.to_vec()), Step::Deliver(piece_size(data)), Step::Eof];
    run::check(Role::Client, &Script { open: false, settings: Settings::handshake(), steps });
}

/// A piece size from 1 to 64 that depends on the whole input (FNV-1a), so
/// that each input is also read in pieces without a prefix to steer them.
fn piece_size(data: &[u8]) -> u8 {
    let hash = data.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    1 + (hash % 64) as u8
}
