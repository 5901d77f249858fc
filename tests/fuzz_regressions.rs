//! Inputs the fuzz targets (fuzz/, docs/fuzzing.md) found breaking an
//! invariant, each kept as a test of the fix.

mod common;

use std::time::Duration;

use common::*;
use rfc6455::{Connection, Role};

/// connection_client, first minutes: `keepalive_interval: Some(ZERO)` sent a
/// ping at every `handle_timeout` and left `poll_timeout` at `now`, so a
/// driver waiting for it spun forever. Zero now means no keepalive.
#[test]
fn a_zero_keepalive_interval_is_off() {
    let config = config().keepalive_interval(Some(Duration::ZERO));
    for role in [Role::Client, Role::Server] {
        let mut conn = Connection::open(Duration::ZERO, role, None, config.clone());
        assert_eq!(conn.poll_timeout(), None);
        conn.handle_timeout(Duration::ZERO);
        give(&mut conn, secs(1), &frame_to(role, true, PING, b""));
        conn.handle_timeout(secs(1));
        assert_eq!(drain(&mut conn).0, [ping(b"")]);
        assert_eq!(conn.poll_timeout(), None);
    }
    let mut pair = Pair::connected_with(config.clone(), config);
    pair.advance(secs(60));
    assert!(pair.client.sent.is_empty() && pair.server.sent.is_empty());
}
