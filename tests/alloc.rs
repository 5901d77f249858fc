//! Heap use of the engine, counted by a global allocator: no allocation per
//! frame in steady state, no heap held by an idle connection, the heap given
//! back once a large message is delivered, and a small connection state.
//!
//! Alone in its own test binary, so the counting allocator sees only this
//! file's tests; the counters are per thread, so tests running in parallel do
//! not disturb each other. Each assertion is its own test and reports the
//! figure it measured.
//!
//! Buffers live only while they hold bytes, so that an idle connection holds
//! no heap. The price is paid per read and per transmit, never per frame: a
//! read that brings many messages allocates the backlog and event queue it
//! needs (two allocations, however many messages), and every transmit hands
//! its buffer to the caller (one allocation, however many frames it holds).
//! A small message read on its own allocates nothing: it is delivered inline.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use rfc6455::{ClientRequest, Config, Connection, Event, Role};

/// Counts allocations and live bytes of the current thread.
struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn count(allocs: u64, bytes: isize) {
    let _ = ALLOCS.try_with(|a| a.set(a.get() + allocs));
    let _ = LIVE.try_with(|l| l.set(l.get() + bytes));
}

// SAFETY: every call is forwarded to `System` unchanged; the counters are
// const-initialised thread-local cells, touched without allocating.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(1, layout.size() as isize);
        // SAFETY: the caller's contract is passed through.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(1, layout.size() as isize);
        // SAFETY: the caller's contract is passed through.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(0, -(layout.size() as isize));
        // SAFETY: the caller's contract is passed through.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(1, new_size as isize - layout.size() as isize);
        // SAFETY: the caller's contract is passed through.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

fn live() -> isize {
    LIVE.with(Cell::get)
}

const NOW: Duration = Duration::ZERO;
/// Frames measured after the warm-up.
const N: usize = 1000;
const PAYLOAD: &[u8; 16] = b"0123456789abcdef";
const MIB: usize = 1 << 20;
/// A driver's read size.
const READ: usize = 64 << 10;

/// A binary frame as a client sends it, masked with a key that varies with `i`.
fn masked_frame(payload: &[u8], i: usize) -> Vec<u8> {
    masked_frame_with(0x82, payload, i)
}

/// A frame whose first byte is `b0` (FIN, RSV, opcode), masked as a client's.
fn masked_frame_with(b0: u8, payload: &[u8], i: usize) -> Vec<u8> {
    let key = ((i as u32).wrapping_mul(0x9E37_79B9) | 1).to_be_bytes();
    let mut f = vec![b0];
    match payload.len() {
        n @ 0..=125 => f.push(0x80 | n as u8),
        n @ 126..=0xFFFF => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

/// Hands all of `bytes` to `conn`, which takes them in one call here.
fn give(conn: &mut Connection, now: Duration, bytes: &[u8]) {
    assert_eq!(conn.handle_bytes(now, bytes), bytes.len(), "the engine took only part of the input");
}

fn open_server() -> Connection {
    Connection::open(NOW, Role::Server, None, Config::default())
}

/// Drains both outputs, dropping what they give; returns the data messages seen.
fn drain(conn: &mut Connection) -> usize {
    let mut messages = 0;
    while let Some(event) = conn.poll_event() {
        match event {
            Event::Binary(_) | Event::Text(_) => messages += 1,
            Event::Open(_) => {}
            other => panic!("unexpected event {other:?}"),
        }
    }
    while conn.poll_transmit().is_some() {}
    messages
}

/// Feeds `frames` one `handle_bytes` each, draining after every one.
fn decode_each(conn: &mut Connection, frames: &[Vec<u8>]) {
    for frame in frames {
        give(conn, NOW, frame);
        assert_eq!(drain(conn), 1);
    }
}

fn frames(range: std::ops::Range<usize>) -> Vec<Vec<u8>> {
    range.map(|i| masked_frame(PAYLOAD, i)).collect()
}

/// Allocations made while `f` runs on this thread.
fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = allocs();
    f();
    allocs() - before
}

#[test]
fn decoding_small_frames_one_per_read_allocates_nothing_in_steady_state() {
    let mut conn = open_server();
    let (warm, measured) = (frames(0..64), frames(64..64 + N));
    decode_each(&mut conn, &warm);
    let n = allocations_during(|| decode_each(&mut conn, &measured));
    assert_eq!(n, 0, "decoding {N} 16 B frames, one handle_bytes each, made {n} allocations ({:.2} per frame)", {
        n as f64 / N as f64
    });
}

/// Allocations made to decode `count` 16 B frames given in one `handle_bytes`.
fn allocations_for_one_read_of(count: usize) -> u64 {
    let mut conn = open_server();
    let warm: Vec<u8> = frames(0..count).concat();
    let measured: Vec<u8> = frames(count..2 * count).concat();
    give(&mut conn, NOW, &warm);
    assert_eq!(drain(&mut conn), count);
    allocations_during(|| {
        give(&mut conn, NOW, &measured);
        assert_eq!(drain(&mut conn), count);
    })
}

#[test]
fn decoding_small_frames_many_per_read_allocates_per_read_not_per_frame() {
    let (n, twice) = (allocations_for_one_read_of(N), allocations_for_one_read_of(2 * N));
    assert!(n <= 2, "decoding {N} 16 B frames in one handle_bytes made {n} allocations; at most 2 expected");
    assert_eq!(n, twice, "{N} frames in one read made {n} allocations, {} frames made {twice}", 2 * N);
}

#[test]
fn encoding_small_frames_allocates_one_buffer_per_transmit() {
    let mut conn = open_server();
    let send = |conn: &mut Connection| {
        conn.send_binary(PAYLOAD).expect("open");
        let out = conn.poll_transmit().expect("a frame to write");
        assert_eq!(out.len(), 18);
    };
    (0..64).for_each(|_| send(&mut conn));
    let n = allocations_during(|| (0..N).for_each(|_| send(&mut conn)));
    assert_eq!(n, N as u64, "encoding {N} 16 B frames, one poll_transmit each, made {n} allocations");
}

#[test]
fn encoding_small_frames_into_a_callers_buffer_allocates_nothing() {
    let mut conn = open_server();
    let mut buf = [0; 64];
    let mut send = |conn: &mut Connection| {
        conn.send_binary(PAYLOAD).expect("open");
        assert_eq!(conn.poll_transmit_into(&mut buf), 18);
        assert_eq!(conn.poll_transmit_into(&mut buf), 0);
    };
    (0..64).for_each(|_| send(&mut conn));
    let n = allocations_during(|| (0..N).for_each(|_| send(&mut conn)));
    assert_eq!(n, 0, "encoding {N} 16 B frames, one poll_transmit_into each, made {n} allocations");
}

#[test]
fn encoding_small_frames_batched_allocates_one_buffer_per_transmit() {
    let mut conn = open_server();
    let batch = |conn: &mut Connection| {
        (0..N).for_each(|_| conn.send_binary(PAYLOAD).expect("open"));
        let mut written = 0;
        while let Some(out) = conn.poll_transmit() {
            written += out.len();
        }
        assert_eq!(written, 18 * N);
    };
    batch(&mut conn);
    let n = allocations_during(|| batch(&mut conn));
    assert_eq!(n, 1, "encoding {N} 16 B frames, then draining poll_transmit, made {n} allocations");
}

#[test]
fn idle_connection_after_a_read_of_many_messages_holds_no_heap() {
    let base = live();
    let mut conn = open_server();
    give(&mut conn, NOW, &frames(0..N).concat());
    assert_eq!(drain(&mut conn), N);
    let held = live() - base;
    assert_eq!(held, 0, "a connection that read {N} messages in one read, now idle, holds {held} heap bytes");
}

#[test]
fn idle_server_connection_after_handshake_holds_no_heap() {
    let request = ClientRequest::new("ws://127.0.0.1:9001/chat").expect("valid URL");
    let mut client = Connection::client(NOW, &request, Config::default()).expect("client");
    let hello = client.poll_transmit().expect("the upgrade request");
    let base = live();
    let mut server = Connection::server(NOW, Config::default());
    give(&mut server, NOW, &hello);
    match server.poll_event() {
        Some(Event::Request(r)) => assert!(r.is_upgrade()),
        other => panic!("expected the request, got {other:?}"),
    }
    server.accept(NOW, rfc6455::Accept::new()).expect("accept");
    drain(&mut server);
    let held = live() - base;
    assert_eq!(held, 0, "an idle server connection after the handshake holds {held} heap bytes");
}

#[test]
fn idle_open_connection_holds_no_heap() {
    let base = live();
    let mut conn = open_server();
    drain(&mut conn);
    let held = live() - base;
    assert_eq!(held, 0, "a connection from Connection::open holds {held} heap bytes");
}

#[test]
fn idle_connection_after_traffic_holds_no_heap() {
    let frame = masked_frame(PAYLOAD, 1);
    let base = live();
    let mut conn = open_server();
    decode_each(&mut conn, std::slice::from_ref(&frame));
    conn.send_binary(PAYLOAD).expect("open");
    drain(&mut conn);
    let held = live() - base;
    assert_eq!(held, 0, "a connection that received and sent one 16 B message, now idle, holds {held} heap bytes");
}

#[test]
fn heap_returns_to_idle_after_a_1mib_message() {
    let small = masked_frame(PAYLOAD, 1);
    let large = masked_frame(&vec![0x5a; MIB], 2);
    let base = live();
    let mut conn = open_server();
    decode_each(&mut conn, std::slice::from_ref(&small));
    let idle = live() - base;
    for piece in large.chunks(READ) {
        give(&mut conn, NOW, piece);
        drain(&mut conn);
    }
    let after = live() - base;
    assert!(
        after <= idle,
        "after one 1 MiB message delivered and dropped, the connection holds {after} heap bytes; idle it held {idle}"
    );
}

#[test]
fn a_large_message_from_a_shared_buffer_is_sent_without_a_copy() {
    let mut conn = open_server();
    let payload = bytes::Bytes::from(vec![0x5a; MIB]);
    let before = live();
    conn.send_binary_bytes(payload.clone()).expect("open");
    let grew = live() - before;
    assert!(grew < 4096, "queueing a shared 1 MiB payload took {grew} heap bytes");
    let head = conn.poll_transmit().expect("the frame header");
    assert_eq!(&head[..], &[0x82, 127, 0, 0, 0, 0, 0, 0x10, 0, 0]);
    let body = conn.poll_transmit().expect("the payload");
    assert_eq!(body.as_ptr(), payload.as_ptr(), "the transmit is the caller's buffer itself");
    assert_eq!(body.len(), MIB);
    assert!(conn.poll_transmit().is_none());
}

#[test]
fn a_prepared_message_fans_out_to_10000_connections_without_a_copy() {
    let mut conns: Vec<Connection> = (0..10_000).map(|_| open_server()).collect();
    let message = rfc6455::Prepared::binary(&vec![0xa5; 64 << 10]);
    let small = rfc6455::Prepared::text("a small note for everyone");
    let before = live();
    for conn in &mut conns {
        conn.send_prepared(&message).expect("open");
    }
    let per_recipient = (live() - before) / 10_000;
    assert!(per_recipient <= 160, "{per_recipient} heap bytes per recipient for a shared 64 KiB frame");
    let before = live();
    for conn in &mut conns {
        conn.send_prepared(&small).expect("open");
    }
    // Behind a shared frame, the small one is encoded into a buffer of its own.
    let per_recipient_small = (live() - before) / 10_000;
    assert!(per_recipient_small <= 96, "{per_recipient_small} heap bytes per recipient for a 25-byte frame");
    eprintln!(
        "fan-out heap per recipient: {per_recipient} B (64 KiB shared frame), then {per_recipient_small} B (a small one behind it)"
    );
    for conn in &mut conns {
        let frame = conn.poll_transmit().expect("the shared frame");
        assert_eq!(frame.as_ptr(), message.frame().as_ptr(), "each transmit is the prepared buffer itself");
        assert_eq!(conn.poll_transmit().as_deref(), Some(&small.frame()[..]));
        assert!(conn.poll_transmit().is_none());
    }
    // Alone, a small prepared frame waits in the inline stage: no heap at all.
    let mut conn = open_server();
    let before = live();
    conn.send_prepared(&small).expect("open");
    assert_eq!(live() - before, 0, "a small prepared frame alone takes no heap");
}

#[test]
fn a_fragmented_message_holds_at_most_its_size_limit() {
    let config = Config::default().max_message_size(MIB);
    let fragment = vec![0x33; 340 << 10];
    // Binary, continuation, final continuation: 1020 KiB in all, under the limit.
    let wire: Vec<u8> =
        [0x02, 0x00, 0x80].iter().enumerate().flat_map(|(i, &b0)| masked_frame_with(b0, &fragment, i)).collect();
    let base = live();
    let mut conn = Connection::open(NOW, Role::Server, None, config);
    let mut peak = 0;
    for piece in wire.chunks(READ) {
        give(&mut conn, NOW, piece);
        peak = peak.max(live() - base);
        drain(&mut conn);
    }
    assert!(peak as usize <= MIB + 4096, "a 1020 KiB message under a 1 MiB limit peaked at {peak} heap bytes");
    assert_eq!(live() - base, 0, "the heap is back to zero once the message is delivered");
}

/// The engine's state holds inline, so that an idle connection needs no heap
/// and small frames move without any: the `Config`, two event slots (so
/// messages are delivered without an allocation), the
/// decoder's partial header,
/// a control frame's payload (125 B), a 160-byte transmit stage for small
/// frames, the unread-input, transmit and overflow-queue handles (empty when
/// idle) and the timer table. docs/performance.md gives the breakdown. This
/// test keeps it from growing unnoticed.
#[test]
fn connection_state_stays_within_its_budget() {
    let size = size_of::<Connection>();
    assert!(size <= 1024, "size_of::<Connection>() is {size} bytes; the budget is 1024");
}
