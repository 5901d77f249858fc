//! Memory regression tests: what a peer can make the engine hold, measured by
//! a counting global allocator.
//!
//! The bug these guard against was a memory bomb: the engine reserved the
//! payload length a frame header announced, so 15 bytes (a masked header
//! announcing 16 MiB, then one byte) pinned 16 MiB, and a header announcing
//! 2^63 − 1 bytes under an unlimited `max_message_size` aborted the process.
//! Related floods are bounded here too: pings never answered because the
//! transmit queue is never taken, and input handed in while no event is
//! taken. Each test states its bound, which comes from the docs of
//! `Connection` and `Config`, and reports the figure it measured.
//!
//! The counters are per thread, so the tests can run in parallel. They count
//! the sizes the engine asks the allocator for (not the allocator's rounding
//! up) of every allocation made by the test's thread and still live.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use rfc6455::frame::{FrameHeader, MAX_HEADER_LEN, OpCode, apply_mask};
use rfc6455::{Config, Connection, Event, ReadyState, ReceiveMode, Role};

/// Tracks the live bytes of the current thread and their peak.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    static CALLS: Cell<usize> = const { Cell::new(0) };
}

fn calls() -> usize {
    CALLS.with(Cell::get)
}

/// Adds `bytes` to the live count. Saturating, so that a request for an
/// absurd size (what the bug asked for) is reported rather than overflowing
/// here: a panic may not unwind out of the allocator.
fn count(bytes: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(bytes);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

/// Counts `bytes` if the allocation behind `ptr` succeeded.
fn counted(ptr: *mut u8, bytes: isize) -> *mut u8 {
    let _ = CALLS.try_with(|calls| calls.set(calls.get() + 1));
    if !ptr.is_null() {
        count(bytes);
    }
    ptr
}

// SAFETY: every call goes to `System` unchanged; the counters are
// const-initialised thread-local cells, updated without allocating.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed through.
        counted(unsafe { System.alloc(layout) }, layout.size() as isize)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed through.
        counted(unsafe { System.alloc_zeroed(layout) }, layout.size() as isize)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: the caller's contract is passed through.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract is passed through.
        let moved = unsafe { System.realloc(ptr, layout, new_size) };
        counted(moved, new_size as isize - layout.size() as isize)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> isize {
    LIVE.with(Cell::get)
}

/// Starts a new peak from the live bytes of now.
fn reset_peak() {
    PEAK.with(|peak| peak.set(live()));
}

fn peak() -> isize {
    PEAK.with(Cell::get)
}

const NOW: Duration = Duration::ZERO;
const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;
/// `Config::max_unread_input` by default.
const MAX_UNREAD: usize = 64 * KIB;
/// The largest payload length a frame may announce: the 64-bit length's top
/// bit must be 0 (RFC 6455 §5.2).
const LARGEST_LEN: u64 = (1 << 63) - 1;
const ROLES: [Role; 2] = [Role::Server, Role::Client];
const MODES: [ReceiveMode; 2] = [ReceiveMode::Messages, ReceiveMode::Streaming];

/// A frame as `reader` expects it, masked when a server reads it (RFC 6455
/// §5.3), its header written by the crate's own encoder. The header announces
/// `len` bytes, which may be more than `payload`.
fn frame(reader: Role, b0: u8, len: u64, payload: &[u8], seed: u32) -> Vec<u8> {
    let mask = (reader == Role::Server).then(|| (seed.wrapping_mul(0x9E37_79B9) | 1).to_be_bytes());
    let opcode = OpCode::from_u8(b0 & 0x0F).expect("a defined opcode");
    let header = FrameHeader { fin: b0 & 0x80 != 0, rsv: (b0 >> 4) & 0x07, opcode, mask, len };
    let mut head = [0; MAX_HEADER_LEN];
    let n = header.encode(&mut head);
    let mut f = head[..n].to_vec();
    let start = f.len();
    f.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut f[start..], key, 0);
    }
    f
}

/// A whole binary frame carrying `payload`.
fn binary(reader: Role, payload: &[u8], seed: u32) -> Vec<u8> {
    frame(reader, 0x82, payload.len() as u64, payload, seed)
}

/// Drives `conn` as its contract says: hand in the input, drain the events,
/// hand in what was not taken. After a drain nothing is unread, so every
/// call must take at least one byte.
fn drive(conn: &mut Connection, mut input: &[u8], mut seen: impl FnMut(Event)) {
    while !input.is_empty() {
        let taken = conn.handle_bytes(NOW, input);
        assert!(taken > 0, "handle_bytes took nothing right after poll_event was drained");
        input = &input[taken..];
        while let Some(event) = conn.poll_event() {
            seen(event);
        }
    }
}

/// Counts data messages; any other event fails the test.
fn count_messages(count: &mut usize) -> impl FnMut(Event) + '_ {
    |event| match event {
        Event::Binary(_) | Event::Chunk { fin: true, .. } => *count += 1,
        other => panic!("unexpected event {other:?}"),
    }
}

/// Takes every transmit and drops it.
fn drain_transmits(conn: &mut Connection) {
    while conn.poll_transmit().is_some() {}
}

/// Frames sent by the peer, read by hand: `(opcode, payload unmasked)`.
/// Only payloads under 126 bytes, which is all the pongs here carry.
fn parse_frames(mut wire: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while !wire.is_empty() {
        let (b0, b1) = (wire[0], wire[1]);
        let len = usize::from(b1 & 0x7F);
        assert!(len < 126, "a frame with a {len}-coded length");
        let (key, body) = if b1 & 0x80 != 0 { (Some(&wire[2..6]), 6) } else { (None, 2) };
        let payload = wire[body..body + len].iter().enumerate();
        let payload = payload.map(|(i, b)| b ^ key.map_or(0, |k| k[i % 4])).collect();
        frames.push((b0 & 0x0F, payload));
        wire = &wire[body + len..];
    }
    frames
}

#[test]
fn a_thousand_connections_announcing_16mib_each_hold_little() {
    const CONNS: usize = 1000;
    for role in ROLES {
        for mode in MODES {
            let config = Config::default().receive(mode);
            let bomb = frame(role, 0x82, config.max_message_size as u64, &[0x5a], 1);
            // The Vec's storage and the fresh connections (which hold no heap)
            // are made before the baseline: what is counted is only what the
            // bytes handed in made the connections allocate and keep.
            let mut conns: Vec<Connection> =
                (0..CONNS).map(|_| Connection::open(NOW, role, None, config.clone())).collect();
            let base = live();
            for conn in &mut conns {
                drive(conn, &bomb, |event| assert!(matches!(event, Event::Chunk { fin: false, .. }), "{event:?}"));
            }
            let per_conn = (live() - base) / CONNS as isize;
            let held: usize = conns.iter().map(Connection::heap_held).sum::<usize>() / CONNS;
            assert!(conns.iter().all(|c| c.ready_state() == ReadyState::Open), "{role:?} {mode:?}: one closed");
            assert!(
                per_conn < 4 * KIB as isize,
                "{role:?} {mode:?}: {CONNS} connections each given {} bytes (a header announcing 16 MiB, one byte) \
                 hold {per_conn} live heap bytes each (heap_held {held}; inline state {} bytes, not counted)",
                bomb.len(),
                size_of::<Connection>()
            );
        }
    }
}

#[test]
fn the_largest_legal_length_under_an_unlimited_size_neither_aborts_nor_reserves() {
    // `u64::MAX as usize` truncates to all ones, so it is `usize::MAX` on every
    // target; a limit equal to the announced length is checked too.
    for limit in [u64::MAX as usize, usize::MAX, LARGEST_LEN as usize] {
        for role in ROLES {
            for mode in MODES {
                let config = Config::default().max_message_size(limit).receive(mode);
                let bomb = frame(role, 0x82, LARGEST_LEN, &[0x5a], 2);
                let base = live();
                let mut conn = Connection::open(NOW, role, None, config);
                drive(&mut conn, &bomb, |event| assert!(matches!(event, Event::Chunk { .. }), "{event:?}"));
                let grew = live() - base;
                let state = conn.ready_state();
                assert_eq!(state, ReadyState::Open, "{role:?} {mode:?} limit {limit}: the connection is {state:?}");
                assert!(
                    grew < 4 * KIB as isize,
                    "{role:?} {mode:?} limit {limit}: a header announcing 2^63 - 1 bytes and one byte left {grew} \
                     live heap bytes (heap_held {})",
                    conn.heap_held()
                );
            }
        }
    }
}

#[test]
fn a_hundred_thousand_pings_in_one_read_never_transmitted_stay_bounded() {
    const PINGS: usize = 100_000;
    for role in [Role::Client, Role::Server] {
        let payload = |i: usize| (i as u16).to_be_bytes();
        let wire: Vec<u8> = (0..PINGS).flat_map(|i| frame(role, 0x89, 2, &payload(i), i as u32)).collect();
        // A pong to a 2-byte ping: a server's is unmasked (2-byte header), a
        // client's masked (2-byte header and 4-byte key).
        let pong_len = if role == Role::Server { 2 + 2 } else { 6 + 2 };
        let base = live();
        reset_peak();
        let mut conn = Connection::open(NOW, role, None, Config::default());
        let mut pings = 0;
        drive(&mut conn, &wire, |event| match event {
            Event::Ping(p) => {
                assert_eq!(p[..], payload(pings), "{role:?}: ping {pings} out of order");
                pings += 1;
            }
            other => panic!("unexpected event {other:?}"),
        });
        assert_eq!(pings, PINGS, "{role:?}: pings delivered");
        // Unread input is at most `max_unread_input`; at most 16 pongs wait in
        // the transmit queue plus the one owed to the latest ping; an event or
        // two wait. Everything but the unread input fits in a few KiB.
        let (top, held, queued) = (peak() - base, conn.heap_held(), conn.buffered_amount());
        let bound = (MAX_UNREAD + 8 * KIB) as isize;
        assert!(top < bound, "{role:?}: {PINGS} pings, never transmitted, peaked at {top} live heap bytes");
        assert!(held < 8 * KIB, "{role:?}: after {PINGS} pings the connection holds {held} heap bytes");
        assert!(
            queued <= 17 * pong_len,
            "{role:?}: {queued} bytes queued for {PINGS} pings, over 17 pongs of {pong_len} bytes"
        );
        let mut out = Vec::new();
        while let Some(bytes) = conn.poll_transmit() {
            out.extend_from_slice(&bytes);
        }
        assert_eq!(out.len(), queued, "{role:?}: buffered_amount said {queued}, the transmit held {}", out.len());
        let pongs = parse_frames(&out);
        assert!(pongs.len() <= 17, "{role:?}: {} pongs queued for {PINGS} pings", pongs.len());
        assert!(pongs.iter().all(|(op, _)| *op == 0xA), "{role:?}: not all pongs: {pongs:?}");
        let last = &pongs.last().expect("at least one pong").1;
        assert_eq!(last[..], payload(PINGS - 1), "{role:?}: the last pong answers an older ping");
        drop((out, pongs));
        assert_eq!(conn.heap_held(), 0, "{role:?}: idle after the pings");
        assert_eq!(live() - base, 0, "{role:?}: live heap once idle");
    }
}

#[test]
fn input_handed_in_while_no_event_is_taken_stops_being_taken() {
    const CALLS: usize = 500;
    for role in ROLES {
        let one = binary(role, b"0123456789abcdef", 3);
        let read: Vec<u8> =
            (0..MAX_UNREAD / one.len()).flat_map(|i| binary(role, b"0123456789abcdef", i as u32)).collect();
        let base = live();
        reset_peak();
        let mut conn = Connection::open(NOW, role, None, Config::default());
        let (mut pos, mut taken, mut calls_that_took) = (0, 0, 0);
        for _ in 0..CALLS {
            if pos == read.len() {
                pos = 0; // the next read from the socket
            }
            let n = conn.handle_bytes(NOW, &read[pos..]);
            pos += n;
            taken += n;
            calls_that_took += usize::from(n > 0);
        }
        let top = peak() - base;
        assert!(
            taken <= MAX_UNREAD + one.len(),
            "{role:?}: {CALLS} reads of {} bytes with no poll_event took {taken} bytes",
            read.len()
        );
        assert!(calls_that_took <= 10, "{role:?}: {calls_that_took} of {CALLS} calls took bytes; taking never stopped");
        assert!(
            top < (MAX_UNREAD + 8 * KIB) as isize,
            "{role:?}: {taken} bytes taken, no poll_event, peaked at {top} live heap bytes"
        );
        let mut messages = 0;
        while let Some(event) = conn.poll_event() {
            count_messages(&mut messages)(event);
        }
        assert_eq!(messages, taken / one.len(), "{role:?}: messages delivered of {taken} bytes taken");
        drive(&mut conn, &read[pos..], count_messages(&mut messages));
        let frames = (taken + read.len() - pos) / one.len();
        assert_eq!(messages, frames, "{role:?}: messages delivered once the rest was handed in");
        drain_transmits(&mut conn);
        assert_eq!(conn.heap_held(), 0, "{role:?}: idle after the backlog");
    }
}

#[test]
fn every_unread_limit_still_delivers_every_message() {
    const FRAMES: usize = 2000;
    for limit in [0, usize::MAX] {
        for role in ROLES {
            let wire: Vec<u8> = (0..FRAMES).flat_map(|i| binary(role, &(i as u32).to_be_bytes(), i as u32)).collect();
            let base = live();
            let mut conn = Connection::open(NOW, role, None, Config::default().max_unread_input(limit));
            let mut messages = 0;
            drive(&mut conn, &wire, count_messages(&mut messages));
            assert_eq!(messages, FRAMES, "{role:?} max_unread_input {limit}: messages delivered");
            drain_transmits(&mut conn);
            assert_eq!(conn.heap_held(), 0, "{role:?} max_unread_input {limit}: idle after the messages");
            assert_eq!(live() - base, 0, "{role:?} max_unread_input {limit}: live heap once idle");
        }
    }
}

#[test]
fn a_1mib_message_grows_its_buffer_with_the_bytes_received() {
    for role in ROLES {
        let wire = binary(role, &vec![0x5a; MIB], 4);
        let base = live();
        let mut conn = Connection::open(NOW, role, None, Config::default());
        let (mut received, mut delivered) = (0, 0);
        for read in wire.chunks(64 * KIB) {
            reset_peak();
            received += read.len();
            drive(&mut conn, read, |event| match event {
                Event::Binary(payload) => delivered += payload.len(),
                other => panic!("unexpected event {other:?}"),
            });
            let top = peak() - base;
            let bound = (2 * received + 64 * KIB) as isize;
            assert!(top <= bound, "{role:?}: {received} bytes of a 1 MiB message received, heap peaked at {top}");
        }
        assert_eq!(delivered, MIB, "{role:?}: the message delivered");
        drain_transmits(&mut conn);
        assert_eq!(conn.heap_held(), 0, "{role:?}: idle after the message");
        assert_eq!(live() - base, 0, "{role:?}: live heap once idle");
    }
}

/// A message in many small fragments grows its buffer geometrically: a few
/// dozen reallocations, not one per fragment (which copied the message so
/// far each time: quadratic, and slow enough under AddressSanitizer, whose
/// `realloc` always moves, to stall Autobahn 9.3/9.4).
#[test]
fn a_message_in_16384_fragments_of_64_bytes_grows_in_few_steps() {
    for role in ROLES {
        let payload = vec![0x3c; MIB];
        let pieces: Vec<&[u8]> = payload.chunks(64).collect();
        let mut wire = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            let b0 = if i == pieces.len() - 1 { 0x80 } else { 0 } | if i == 0 { 0x2 } else { 0x0 };
            wire.extend(frame(role, b0, piece.len() as u64, piece, i as u32));
        }
        let base = live();
        let mut conn = Connection::open(NOW, role, None, Config::default());
        let (mut received, mut delivered) = (0, 0);
        let before = calls();
        for read in wire.chunks(64 * KIB) {
            reset_peak();
            received += read.len();
            drive(&mut conn, read, |event| match event {
                Event::Binary(data) => delivered += data.len(),
                other => panic!("unexpected event {other:?}"),
            });
            let top = peak() - base;
            let bound = (2 * received + 64 * KIB) as isize;
            assert!(top <= bound, "{role:?}: {received} bytes received, heap peaked at {top}");
        }
        let steps = calls() - before;
        assert_eq!(delivered, MIB, "{role:?}: the message delivered");
        assert!(steps < 100, "{role:?}: {steps} allocations and reallocations for 16,384 fragments");
        drain_transmits(&mut conn);
        assert_eq!(live() - base, 0, "{role:?}: live heap once idle");
    }
}

#[test]
fn a_1mib_message_read_into_the_room_lent_grows_with_the_bytes_received() {
    for role in ROLES {
        let wire = binary(role, &vec![0x5a; MIB], 5);
        let base = live();
        let mut conn = Connection::open(NOW, role, None, Config::default());
        let (mut received, mut delivered, mut direct) = (0, 0, 0);
        let mut seen = |event| match event {
            Event::Binary(payload) => delivered += payload.len(),
            other => panic!("unexpected event {other:?}"),
        };
        // The first bytes through the caller's buffer (16 KiB or more) make
        // the input stream; the rest is read into the room `read_buf` lends,
        // in reads that each fill it.
        let first = 64 * KIB + wire.len() % (64 * KIB);
        drive(&mut conn, &wire[..first], &mut seen);
        received += first;
        while received < wire.len() {
            reset_peak();
            let room = conn.read_buf().expect("the input streams");
            let n = room.len().min(wire.len() - received);
            room[..n].copy_from_slice(&wire[received..received + n]);
            conn.commit(NOW, n).expect("offered");
            received += n;
            direct += n;
            while let Some(event) = conn.poll_event() {
                seen(event);
            }
            let top = peak() - base;
            // The message (at most doubling), and the 64 KiB room.
            let bound = (2 * received + 64 * KIB) as isize;
            assert!(top <= bound, "{role:?}: {received} bytes of a 1 MiB message received, heap peaked at {top}");
        }
        assert_eq!(delivered, MIB, "{role:?}: the message delivered");
        assert!(direct > MIB / 2, "{role:?}: only {direct} bytes read into the room");
        drain_transmits(&mut conn);
        // The last read filled its room: the room's buffer is kept for the
        // next read, until a read brings nothing.
        assert_eq!(conn.heap_held(), 64 * KIB, "{role:?}: held between reads");
        conn.commit(NOW, 0).expect("always accepted");
        assert_eq!(conn.heap_held(), 0, "{role:?}: idle after the message");
        assert_eq!(live() - base, 0, "{role:?}: live heap once idle");
    }
}
