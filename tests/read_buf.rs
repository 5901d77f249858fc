//! Reading straight into the engine: while reads stream, `read_buf` offers
//! room behind the unread input, `commit` hands over what was read into it
//! (a large payload read there is unmasked into its message). The events
//! must be exactly those `handle_bytes` gives for the same bytes, whatever
//! the reads' sizes; bad calls change nothing.

mod common;

use std::time::Duration;

use common::*;
use rfc6455::{Config, Connection, Event, LocalError, ProtocolError, Role};

const T: Duration = Duration::ZERO;

/// Feeds `input` the way the README's loop does: into `read_buf` when it
/// offers room (at most `step` bytes a read), otherwise through
/// `handle_bytes` from the driver's own buffer (`step` bytes a read);
/// returns the events and how many bytes went through `read_buf`.
fn feed(conn: &mut Connection, input: &[u8], step: usize) -> (Vec<Event>, usize) {
    let (mut events, mut direct, mut pos) = (Vec::new(), 0, 0);
    while pos < input.len() {
        if let Some(room) = conn.read_buf() {
            let n = room.len().min(step).min(input.len() - pos);
            room[..n].copy_from_slice(&input[pos..pos + n]);
            conn.commit(T, n).expect("offered");
            pos += n;
            direct += n;
        } else {
            let end = (pos + step).min(input.len());
            let mut taken = pos;
            while taken < end {
                taken += conn.handle_bytes(T, &input[taken..end]);
                events.extend(std::iter::from_fn(|| conn.poll_event()));
            }
            pos = end;
        }
        events.extend(std::iter::from_fn(|| conn.poll_event()));
    }
    (events, direct)
}

/// What `handle_bytes` alone gives for `input`.
fn reference(role: Role, config: Config, input: &[u8]) -> Vec<Event> {
    let mut conn = Connection::open(T, role, None, config);
    let (mut events, mut taken) = (Vec::new(), 0);
    while taken < input.len() {
        taken += conn.handle_bytes(T, &input[taken..]);
        events.extend(std::iter::from_fn(|| conn.poll_event()));
    }
    events
}

/// A server given the first 100 bytes of a `len`-byte binary frame, and
/// the whole frame.
/// Small frames come first (20 KiB of them, read and drained), so that the
/// input streams and `read_buf` lends room.
fn inside_a_frame(len: usize) -> (Connection, Vec<u8>) {
    let mut conn = Connection::open(T, Role::Server, None, config());
    let frame = frame_to(Role::Server, true, BINARY, &pattern(len));
    let mut input = small_frames(0..2000);
    input.extend_from_slice(&frame[..100]);
    give(&mut conn, T, &input);
    assert_eq!(drain(&mut conn).0.len(), 2000);
    (conn, frame)
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 + i / 251) as u8).collect()
}

#[test]
fn large_messages_read_in_place_match_handle_bytes() {
    for (scale, steps) in [(1, &[1, 3, 1000][..]), (10, &[4096, 65_536, 1 << 20][..])] {
        large_messages_in(scale, steps);
    }
}

/// Messages of about `scale` × 120 KB in all, read `steps` bytes at a time,
/// behind a 20 KB message handed in at once, which makes the input stream:
/// the first read goes into the room lent, whatever its size. From 4 KiB
/// on, the unread input is limited to `step`, so that every read fills its
/// room and keeps streaming; shorter reads end it (the rest goes through
/// the driver's buffer).
fn large_messages_in(scale: usize, steps: &[usize]) {
    let text: String = "añ€😀 ".repeat(7_000 * scale);
    for role in [Role::Server, Role::Client] {
        let prelude = frame_to(role, true, BINARY, &pattern(20_000));
        let mut input = frame_to(role, true, BINARY, &pattern(30_000 * scale));
        input.extend(frame_to(role, true, TEXT, text.as_bytes()));
        // Fragmented: every fragment's payload is read in place too.
        input.extend(frame_to(role, false, BINARY, &pattern(7_000 * scale)));
        input.extend(frame_to(role, true, CONT, &pattern(9_000 * scale)));
        input.extend(frame_to(role, true, TEXT, b"small"));
        let want = reference(role, config(), &input);
        assert_eq!(want.len(), 4);
        for &step in steps {
            let config = if step >= 4096 { config().max_unread_input(step) } else { config() };
            let mut conn = Connection::open(T, role, None, config);
            give(&mut conn, T, &prelude);
            assert_eq!(drain(&mut conn).0, [binary(&pattern(20_000))]);
            let (events, direct) = feed(&mut conn, &input, step);
            assert_eq!(events, want, "{role:?}, reads of {step}");
            assert!(direct >= step.min(64 << 10), "{role:?}, reads of {step}: the first not read into the room");
            if step >= 4096 {
                assert!(direct > input.len() / 2, "{role:?}, reads of {step}: only {direct} bytes read into the room");
            }
        }
    }
}

#[test]
fn small_frames_streamed_in_are_read_into_the_unread_buffer() {
    // 64 KiB reads of small frames: once a read has brought 16 KiB or more,
    // the next read's room is behind the unread input (between frames, or
    // in a small frame's payload), and the frames are read from there.
    let frames: Vec<u8> = (0..30_000u32).flat_map(|i| frame_to(Role::Server, true, BINARY, &i.to_le_bytes())).collect();
    let want: Vec<Event> = (0..30_000u32).map(|i| binary(&i.to_le_bytes())).collect();
    let mut conn = Connection::open(T, Role::Server, None, config());
    assert!(conn.read_buf().is_none(), "nothing streams yet");
    let (mut events, mut pos, mut rooms) = (Vec::new(), 0, Vec::new());
    while pos < frames.len() {
        match conn.read_buf() {
            Some(room) => {
                let n = room.len().min(frames.len() - pos).min(64 << 10);
                room[..n].copy_from_slice(&frames[pos..pos + n]);
                conn.commit(T, n).unwrap();
                rooms.push(n);
                pos += n;
            }
            None => {
                let end = (pos + (64 << 10)).min(frames.len());
                pos += conn.handle_bytes(T, &frames[pos..end]);
            }
        }
        events.extend(std::iter::from_fn(|| conn.poll_event()));
    }
    assert_eq!(events, want);
    // 300 KB: one 64 KiB read through the driver's buffer, then three
    // whole rooms and a last read of about 37 KiB.
    assert!(rooms.len() >= 4 && rooms[..rooms.len() - 1].iter().all(|&n| n == 64 << 10), "{rooms:?}");
    // The last read (37 KiB) streamed too: the buffer is kept for the next
    // one, until a read brings nothing (or less than 16 KiB).
    assert_eq!(conn.heap_held(), 64 << 10);
    assert_eq!(conn.read_buf().map(|r| r.len()), Some(64 << 10));
    conn.commit(T, 0).unwrap();
    assert_eq!(conn.heap_held(), 0, "a read that brought nothing lets the buffer go");
}

#[test]
fn a_commit_that_was_not_offered_is_refused_and_changes_nothing() {
    let mut conn = Connection::open(T, Role::Server, None, config());
    refused(&mut conn, LocalError::NotOffered(5), |c| c.commit(T, 5));
    let (mut conn, frame) = {
        drop(conn);
        inside_a_frame(5000)
    };
    let room = conn.read_buf().expect("offered").len();
    refused(&mut conn, LocalError::NotOffered(room + 1), |c| c.commit(T, room + 1));
    // Committing nothing (a read that brought nothing) is allowed, and
    // takes the room back: nothing more may be committed into it.
    assert_eq!(conn.commit(T, 0), Ok(()));
    refused(&mut conn, LocalError::NotOffered(1), |c| c.commit(T, 1));
    // A read that brought nothing ends the streaming: the rest of the
    // frame goes through the driver's buffer, to the same message.
    let (events, direct) = feed(&mut conn, &frame[100..], 1 << 20);
    assert_eq!(direct, 0);
    assert_eq!(events, [binary(&pattern(5000))]);
}

#[test]
fn room_not_read_into_is_not_part_of_the_message() {
    let (mut conn, frame) = inside_a_frame(5000);
    // Offered, then the driver reads into its own buffer after all.
    assert!(conn.read_buf().is_some());
    let held = conn.buffered_input_len();
    give(&mut conn, T, &frame[100..]);
    assert!(held < 100, "the room lent is not input: {held} B held of 100 given");
    assert_eq!(drain(&mut conn).0, [binary(&pattern(5000))]);
}

#[test]
fn invalid_utf8_read_in_place_fails_the_connection() {
    let mut payload = "x".repeat(100_000).into_bytes();
    payload[70_000] = 0xFF;
    // Small frames first, so that the input streams.
    let mut input = small_frames(0..2000);
    input.extend(frame_to(Role::Server, true, TEXT, &payload));
    let mut conn = Connection::open(T, Role::Server, None, config());
    let (events, direct) = feed(&mut conn, &input, 64 << 10);
    assert!(direct > 0);
    assert_eq!(events[2000..], [violation(ProtocolError::InvalidUtf8), abnormal()]);
    let (_, sent) = drain(&mut conn);
    assert_eq!(decode_frames(&sent)[0].close_code(), Some(1007));
}

#[test]
fn the_size_limit_holds_for_bytes_read_in_place() {
    // A continuation that takes the message past the limit: its header is
    // refused before any room is offered.
    let config = config().max_message_size(100_000);
    let mut input = frame_to(Role::Server, false, BINARY, &pattern(80_000));
    input.extend(frame_to(Role::Server, true, CONT, &pattern(80_000)));
    let mut conn = Connection::open(T, Role::Server, None, config);
    let (events, _) = feed(&mut conn, &input, 4096);
    assert_eq!(events, [violation(ProtocolError::MessageTooBig), abnormal()]);
}

#[test]
fn memory_follows_the_bytes_read_in_place() {
    // A frame announcing 64 MiB: the buffer grows with what arrives (at
    // most doubling), plus the room of one read.
    let config = config().max_message_size(64 << 20);
    let mut conn = Connection::open(T, Role::Server, None, config);
    let frame = frame_to(Role::Server, true, BINARY, &pattern(64 << 20));
    // Small frames first, so that the input streams.
    let mut input = small_frames(0..2000);
    input.extend_from_slice(&frame[..1000]);
    give(&mut conn, T, &input);
    assert_eq!(drain(&mut conn).0.len(), 2000);
    let mut received = 1000 - (frame.len() - (64 << 20));
    for i in 0..900 {
        let room = conn.read_buf().expect("offered");
        let n = room.len();
        room[..n].fill(7);
        conn.commit(T, n).unwrap();
        assert!(conn.poll_event().is_none());
        received += n;
        let heap = conn.buffered_input_capacity();
        // The message at most doubles; the read's room is one more.
        assert!(heap <= 2 * received + (64 << 10) + 64, "{heap} B held for {received} B received ({i})");
    }
}

#[test]
fn one_commit_per_read_buf() {
    let (mut conn, frame) = inside_a_frame(5000);
    conn.read_buf().expect("offered")[..10].copy_from_slice(&frame[100..110]);
    conn.commit(T, 10).unwrap();
    // The rest of the room was not read into again: a second commit would
    // make bytes never read part of the message.
    refused(&mut conn, LocalError::NotOffered(10), |c| c.commit(T, 10));
    let rest = frame[110..].to_vec();
    let (events, _) = feed(&mut conn, &rest, 1000);
    assert_eq!(events, [binary(&pattern(5000))]);
}

#[test]
fn closing_between_read_buf_and_commit_ignores_the_bytes() {
    let (mut conn, _) = inside_a_frame(5000);
    let n = conn.read_buf().expect("offered").len();
    conn.terminate(T);
    assert_eq!(conn.commit(T, n), Ok(()));
    assert_eq!(drain(&mut conn).0, [abnormal()]);
    assert_eq!(conn.buffered_input_capacity(), 0);
}

/// `n` small binary frames to a server; message `i` is `i` as 4 LE bytes.
fn small_frames(range: std::ops::Range<u32>) -> Vec<u8> {
    range.flat_map(|i| frame_to(Role::Server, true, BINARY, &i.to_le_bytes())).collect()
}

#[test]
fn room_lent_behind_the_unread_input_is_refused_after_other_input() {
    // 20 KiB of small frames through the driver's own buffer: the input
    // streams, so the next read_buf lends room behind the unread input.
    let mut conn = Connection::open(T, Role::Server, None, config());
    give(&mut conn, T, &small_frames(0..2000));
    assert_eq!(drain(&mut conn).0.len(), 2000);
    assert_eq!(conn.heap_held(), 0, "the driver's buffer streamed, not ours: none is kept");
    assert!(conn.read_buf().is_some());
    // The driver reads into its own buffer after all: the room is gone.
    give(&mut conn, T, &frame_to(Role::Server, true, BINARY, b"new"));
    assert_eq!(drain(&mut conn).0, [binary(b"new")]);
    assert_eq!(conn.heap_held(), 0, "the room's buffer goes with input from elsewhere");
    refused(&mut conn, LocalError::NotOffered(10), |c| c.commit(T, 10));
    // The same with input that ends mid-frame: only the partial frame is kept.
    give(&mut conn, T, &small_frames(0..2000));
    drain(&mut conn);
    assert!(conn.read_buf().is_some());
    let frame = frame_to(Role::Server, true, BINARY, &[7; 300]);
    give(&mut conn, T, &frame[..100]);
    assert!(conn.heap_held() < 1024, "{} B held for a partial frame", conn.heap_held());
    give(&mut conn, T, &frame[100..]);
    assert_eq!(drain(&mut conn).0, [binary(&[7; 300])]);
    assert_eq!(conn.heap_held(), 0);
}

#[test]
fn a_short_read_and_commit_0_let_the_buffer_go() {
    let mut conn = Connection::open(T, Role::Server, None, config());
    give(&mut conn, T, &small_frames(0..2000));
    drain(&mut conn);
    let n = conn.read_buf().expect("streaming").len();
    let frames = small_frames(0..3);
    conn.read_buf().expect("streaming")[..frames.len()].copy_from_slice(&frames);
    assert!(n >= frames.len());
    conn.commit(T, frames.len()).expect("offered");
    assert_eq!(drain(&mut conn).0.len(), 3);
    // The read filled nothing like its room: the buffer goes once read.
    assert_eq!(conn.heap_held(), 0);
    // Streaming again, then a read into the room that brings nothing.
    give(&mut conn, T, &small_frames(0..2000));
    drain(&mut conn);
    assert!(conn.read_buf().is_some());
    assert!(conn.heap_held() > 0, "the room is lent");
    assert_eq!(conn.commit(T, 0), Ok(()));
    assert_eq!(conn.heap_held(), 0, "commit(0) gives the room back");
    // A read that fills its room keeps the buffer once read; a commit(0)
    // with no room lent (the driver's next read brought nothing) lets it go.
    give(&mut conn, T, &small_frames(0..2000));
    drain(&mut conn);
    let room = conn.read_buf().expect("streaming");
    // One frame as long as the room: a 16-bit length, so 8 header bytes.
    let whole = frame_to(Role::Server, true, BINARY, &pattern(room.len() - 8));
    assert_eq!(whole.len(), room.len());
    room.copy_from_slice(&whole);
    conn.commit(T, whole.len()).expect("offered");
    assert_eq!(drain(&mut conn).0, [binary(&pattern(whole.len() - 8))]);
    assert!(conn.heap_held() > 0, "kept for the next read");
    assert_eq!(conn.commit(T, 0), Ok(()));
    assert_eq!(conn.heap_held(), 0, "commit(0) with no room lent lets the buffer go");
}

#[test]
fn room_lent_behind_input_read_since_is_refused() {
    // Room lent while input waits; `poll_event` reads all of it, so the room
    // is no longer behind anything: a commit into it is refused (it would
    // land on bytes already read).
    let mut conn = Connection::open(T, Role::Server, None, config());
    give(&mut conn, T, &small_frames(0..2000));
    assert_eq!(conn.poll_event(), Some(binary(&0u32.to_le_bytes())));
    let new = frame_to(Role::Server, true, BINARY, b"new");
    conn.read_buf().expect("room behind the unread input")[..new.len()].copy_from_slice(&new);
    assert_eq!(drain(&mut conn).0.len(), 1999);
    refused(&mut conn, LocalError::NotOffered(new.len()), |c| c.commit(T, new.len()));
    give(&mut conn, T, &frame_to(Role::Server, true, BINARY, b"next"));
    assert_eq!(drain(&mut conn).0, [binary(b"next")]);
}

#[test]
fn room_lent_before_an_eof_is_refused() {
    let mut conn = Connection::open(T, Role::Server, None, config());
    give(&mut conn, T, &small_frames(0..2000));
    assert!(conn.poll_event().is_some());
    let late = frame_to(Role::Server, true, BINARY, b"late");
    conn.read_buf().expect("room behind the unread input")[..late.len()].copy_from_slice(&late);
    conn.handle_eof(T);
    refused(&mut conn, LocalError::NotOffered(late.len()), |c| c.commit(T, late.len()));
    let events = drain(&mut conn).0;
    assert_eq!(events.len(), 1999 + 2, "the messages, then the EOF's error and close");
    assert!(!events.contains(&binary(b"late")));
}

#[test]
fn a_few_bytes_unread_get_no_room_behind_them() {
    let mut conn = Connection::open(T, Role::Server, None, config());
    give(&mut conn, T, &small_frames(0..2));
    assert!(conn.poll_event().is_some());
    assert!(conn.read_buf().is_none(), "the input does not stream");
    assert!(conn.heap_held() <= 64, "{} B held for 20 B received", conn.heap_held());
}

#[test]
fn the_readme_loop_holds_no_heap_once_a_read_times_out() {
    // A burst, then the next read lent its room and timed out: the loop
    // commits nothing, which gives the room back.
    let mut conn = Connection::open(T, Role::Server, None, config());
    give(&mut conn, T, &small_frames(0..2000));
    drain(&mut conn);
    assert!(conn.read_buf().is_some());
    conn.commit(T, 0).unwrap();
    conn.handle_timeout(T);
    drain(&mut conn);
    assert_eq!(conn.heap_held(), 0, "idle");
}

#[test]
fn a_short_read_inside_a_large_message_ends_the_streaming() {
    // A socket that returns a little: the room is given back once read,
    // and the next reads go through the driver's buffer, to the same
    // message.
    let (mut conn, frame) = inside_a_frame(200_000);
    let room = conn.read_buf().expect("the input streams");
    room[..1448].copy_from_slice(&frame[100..1548]);
    conn.commit(T, 1448).unwrap();
    assert!(conn.poll_event().is_none());
    assert!(conn.read_buf().is_none(), "a short read: no room for the next");
    assert!(conn.heap_held() < 4096, "{} B held for 1548 B of the message", conn.heap_held());
    // A 64 KiB read through the driver's buffer streams again.
    let (events, direct) = feed(&mut conn, &frame[1548..], 64 << 10);
    assert!(direct > 0, "reads of 64 KiB stream");
    assert_eq!(events, [binary(&pattern(200_000))]);
}

#[test]
fn no_room_under_4_kib() {
    // A limit on unread input below 4 KiB: rooms that small would make a
    // read per few bytes, so read_buf offers none, and the driver's own
    // buffer takes the input.
    for limit in [0, 1, 4095] {
        let mut conn = Connection::open(T, Role::Server, None, config().max_unread_input(limit));
        give(&mut conn, T, &frame_to(Role::Server, true, BINARY, &pattern(20_000)));
        assert_eq!(drain(&mut conn).0, [binary(&pattern(20_000))]);
        assert!(conn.read_buf().is_none(), "limit {limit}");
        assert_eq!(conn.heap_held(), 0, "limit {limit}");
    }
    let mut conn = Connection::open(T, Role::Server, None, config().max_unread_input(4096));
    give(&mut conn, T, &frame_to(Role::Server, true, BINARY, &pattern(20_000)));
    drain(&mut conn);
    assert_eq!(conn.read_buf().map(|r| r.len()), Some(4096));
    // Input waiting leaves less than 4 KiB of the default 64 KiB: no room.
    let mut conn = Connection::open(T, Role::Server, None, config());
    give(&mut conn, T, &small_frames(0..2000));
    drain(&mut conn);
    let frames = small_frames(0..6200);
    let room = conn.read_buf().expect("streaming");
    assert_eq!(room.len(), 64 << 10);
    room[..frames.len()].copy_from_slice(&frames);
    conn.commit(T, frames.len()).expect("offered");
    assert_eq!(conn.poll_event(), Some(binary(&0u32.to_le_bytes())));
    // 61,990 bytes wait unread: 3,546 of the 64 KiB limit are left.
    assert!(conn.read_buf().is_none(), "a room under 4 KiB");
    // 100 messages more read: 4,546 left, a room again.
    for i in 1..=100u32 {
        assert_eq!(conn.poll_event(), Some(binary(&i.to_le_bytes())));
    }
    assert_eq!(conn.read_buf().map(|r| r.len()), Some((64 << 10) - (frames.len() - 10 * 101)));
}
