//! The engines as a user's driver sees them: every engine call goes through a
//! function the compiler does not inline (as for a driver in another crate,
//! a C caller, or an engine behind a trait object), reads are 64 KiB and end
//! wherever the stream does (mid-frame), and every payload is touched (its
//! length, first and last byte read).
//!
//! ```text
//! cargo bench --bench driver
//! ```
//!
//! `decode.rs` and `encode.rs` measure the other shape, where the bench's
//! driver and the engine are compiled together and the engine is inlined into
//! it. Both are reported in docs/performance.md. The peers are driven the same
//! way: tungstenite's `read()`/`write()` and fastwebsockets' `read_frame()` /
//! `write_frame()` futures are polled through out-of-line calls, and they
//! read the same bytes from the same stream.

mod common;

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};

use common::{BIN16, JSON16, MIB, MemStream, Per, READ_BUF, Received};
use criterion::Criterion;

const BINARY: u8 = 0x2;
const TEXT: u8 = 0x1;
const PEERS: &[&str] = &["rfc6455", "tungstenite", "fastwebsockets"];
/// Frames per iteration of the batched groups: about 2.75 reads of 64 KiB.
const BATCH: usize = 8192;
/// Frames per iteration of the one-per-read and encode groups.
const SINGLE: usize = 1024;

const GROUPS: &[(&str, Per, &[&str])] = &[
    ("driver_decode_binary_16B_batched", Per::Element(BATCH as u64), PEERS),
    ("driver_decode_binary_16B_one_per_read", Per::Element(SINGLE as u64), PEERS),
    ("driver_decode_text_16B_json", Per::Element(BATCH as u64), PEERS),
    ("driver_decode_binary_1MiB", Per::Bytes(MIB as u64), PEERS),
    ("driver_decode_text_1MiB_mixed", Per::Bytes(MIB as u64), PEERS),
    ("driver_encode_binary_16B", Per::Element(SINGLE as u64), PEERS),
];

/// What touching a payload reads: its length and its first and last byte.
#[inline(always)]
fn touch(payload: &[u8]) -> usize {
    payload.len()
        + usize::from(payload.first().copied().unwrap_or(0))
        + usize::from(payload.last().copied().unwrap_or(0))
}

/// Ours, called the way a driver in another crate calls it.
mod ours {
    use std::time::Duration;

    use rfc6455::{Config, Connection, Event, Role};

    use super::{MemStream, Received, touch};

    const NOW: Duration = Duration::ZERO;

    pub fn server() -> Connection {
        Connection::open(NOW, Role::Server, None, Config::default())
    }

    #[inline(never)]
    fn handle_bytes(conn: &mut Connection, data: &[u8]) -> usize {
        conn.handle_bytes(NOW, data)
    }

    #[inline(never)]
    fn read_buf(conn: &mut Connection) -> Option<&mut [u8]> {
        conn.read_buf()
    }

    #[inline(never)]
    fn commit(conn: &mut Connection, n: usize) {
        conn.commit(NOW, n).expect("read_buf offered the room");
    }

    #[inline(never)]
    fn poll_event(conn: &mut Connection) -> Option<Event> {
        conn.poll_event()
    }

    #[inline(never)]
    fn poll_transmit_into(conn: &mut Connection, out: &mut [u8]) -> usize {
        conn.poll_transmit_into(out)
    }

    #[inline(never)]
    fn send_binary(conn: &mut Connection, payload: &[u8]) {
        conn.send_binary(payload).expect("open");
    }

    /// The README's loop: read into `read_buf` when it offers room (while
    /// reads stream), otherwise read 64 KiB and hand it over (the rest after
    /// draining); drain the events, touching each payload, and the transmits.
    pub fn read(
        conn: &mut Connection,
        stream: &mut MemStream,
        buf: &mut [u8],
        out: &mut [u8],
        want: usize,
    ) -> Received {
        let mut got = Received::default();
        while got.messages < want {
            // While reads stream, they land in the engine's own buffer.
            if let Some(room) = read_buf(conn) {
                let n = stream.read_into(room);
                assert!(n > 0, "input ran out");
                commit(conn, n);
                drain(conn, stream, out, &mut got);
                continue;
            }
            let n = stream.read_into(buf);
            assert!(n > 0, "input ran out");
            let mut taken = 0;
            while taken < n {
                taken += handle_bytes(conn, &buf[taken..n]);
                drain(conn, stream, out, &mut got);
            }
        }
        got
    }

    /// Takes every event, touching each payload, and writes every transmit.
    fn drain(conn: &mut Connection, stream: &mut MemStream, out: &mut [u8], got: &mut Received) {
        while let Some(event) = poll_event(conn) {
            got.messages += 1;
            got.bytes += match &event {
                Event::Binary(data) => touch(data),
                Event::Text(text) => touch(text.as_bytes()),
                other => panic!("unexpected event {other:?}"),
            };
        }
        loop {
            let m = poll_transmit_into(conn, out);
            if m == 0 {
                break;
            }
            stream.write_bytes(&out[..m]);
        }
    }

    /// `n` sends, each followed by a transmit into the driver's buffer and
    /// a write.
    pub fn send(conn: &mut Connection, stream: &mut MemStream, out: &mut [u8], payload: &[u8], n: usize) {
        for _ in 0..n {
            send_binary(conn, payload);
            loop {
                let m = poll_transmit_into(conn, out);
                if m == 0 {
                    break;
                }
                stream.write_bytes(&out[..m]);
            }
        }
    }
}

/// tungstenite, each `read()`/`write()` out of line.
mod tung {
    use tungstenite::protocol::{Message, Role, WebSocket};

    use super::{MemStream, Received, touch};

    pub fn server(stream: MemStream) -> WebSocket<MemStream> {
        WebSocket::from_raw_socket(stream, Role::Server, None)
    }

    #[inline(never)]
    fn read_message(ws: &mut WebSocket<MemStream>) -> Message {
        ws.read().expect("tungstenite read")
    }

    #[inline(never)]
    fn write_message(ws: &mut WebSocket<MemStream>, message: Message) {
        ws.write(message).expect("tungstenite write");
    }

    #[inline(never)]
    fn flush(ws: &mut WebSocket<MemStream>) {
        ws.flush().expect("tungstenite flush");
    }

    pub fn read(ws: &mut WebSocket<MemStream>, want: usize) -> Received {
        let mut got = Received::default();
        while got.messages < want {
            got.messages += 1;
            got.bytes += match read_message(ws) {
                Message::Binary(data) => touch(&data),
                Message::Text(text) => touch(text.as_bytes()),
                other => panic!("unexpected message {other:?}"),
            };
        }
        got
    }

    /// `write()` per message, one `flush()` per batch (its natural shape).
    pub fn send(ws: &mut WebSocket<MemStream>, payload: &bytes::Bytes, n: usize) {
        for _ in 0..n {
            write_message(ws, Message::Binary(payload.clone()));
        }
        flush(ws);
    }
}

/// A future polled through an out-of-line call.
struct OutOfLine<'a, F>(Pin<&'a mut F>);

impl<F: Future> Future for OutOfLine<'_, F> {
    type Output = F::Output;

    #[inline(never)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.0.as_mut().poll(cx)
    }
}

/// fastwebsockets, each `read_frame()`/`write_frame()` polled out of line.
mod fws {
    use fastwebsockets::{Frame, OpCode, Payload, WebSocket};

    use super::{MemStream, OutOfLine, Received, touch};

    pub use super::common::fws::{runtime, server};

    pub async fn read(ws: &mut WebSocket<MemStream>, want: usize) -> Received {
        let mut got = Received::default();
        while got.messages < want {
            let frame = OutOfLine(std::pin::pin!(ws.read_frame())).await.expect("fastwebsockets read");
            assert!(frame.fin && matches!(frame.opcode, OpCode::Binary | OpCode::Text), "unexpected frame");
            got.messages += 1;
            got.bytes += touch(&frame.payload);
        }
        got
    }

    /// `write_frame()` per message (its natural shape: one write each).
    pub async fn send(ws: &mut WebSocket<MemStream>, payload: &[u8], n: usize) {
        for _ in 0..n {
            let frame = Frame::binary(Payload::Borrowed(payload));
            OutOfLine(std::pin::pin!(ws.write_frame(frame))).await.expect("fastwebsockets write");
        }
    }
}

/// `n` frames of `payload` as one stream, read in pieces of at most 64 KiB
/// that end wherever 64 KiB does (mid-frame), or one frame per read.
fn stream(opcode: u8, payload: &[u8], n: usize, per_read: bool) -> common::Input {
    let mut input = common::Input::frames(opcode, payload, n, per_read);
    if !per_read {
        let len = input.bytes.len();
        let ends: Vec<usize> = (1..=len.div_ceil(READ_BUF)).map(|i| (i * READ_BUF).min(len)).collect();
        input.ends = ends.into();
    }
    input
}

/// The sum `touch` gives for every payload of `input`, to check each engine.
fn touched(payload: &[u8], n: usize) -> usize {
    n * touch(payload)
}

/// One decode group: every engine reads `input` once per iteration.
fn decode(c: &mut Criterion, name: &str, per: Per, input: &common::Input, payload: &[u8]) {
    let want = input.messages;
    let expect = Received { messages: want, bytes: touched(payload, want) };
    let mut g = c.benchmark_group(name);
    g.throughput(per.throughput());

    let mut conn = ours::server();
    let mut mem = MemStream::new(input.clone(), 4096);
    let (mut buf, mut out) = (vec![0; READ_BUF], vec![0; READ_BUF]);
    assert_eq!(ours::read(&mut conn, &mut mem, &mut buf, &mut out, want), expect, "rfc6455 decodes the input");
    g.bench_function("rfc6455", |b| b.iter(|| ours::read(&mut conn, &mut mem, &mut buf, &mut out, want)));
    drop(conn);

    let mut ws = tung::server(MemStream::new(input.clone(), 4096));
    assert_eq!(tung::read(&mut ws, want), expect, "tungstenite decodes the input");
    g.bench_function("tungstenite", |b| b.iter(|| tung::read(&mut ws, want)));
    drop(ws);

    let rt = fws::runtime();
    let mut ws = fws::server(MemStream::new(input.clone(), 4096));
    assert_eq!(rt.block_on(fws::read(&mut ws, want)), expect, "fastwebsockets decodes the input");
    g.bench_function("fastwebsockets", |b| b.iter(|| rt.block_on(fws::read(&mut ws, want))));
    drop(ws);
    g.finish();
}

/// The encode group: `n` 16 B messages, each written out.
fn encode(c: &mut Criterion, name: &str, payload: &[u8], n: usize) {
    let expect = (n * (payload.len() + 2)) as u64;
    let sink = 1 << 20;
    let mut g = c.benchmark_group(name);
    g.throughput(Per::Element(n as u64).throughput());

    let mut conn = ours::server();
    let mut mem = MemStream::sink(sink);
    let mut out = vec![0; READ_BUF];
    ours::send(&mut conn, &mut mem, &mut out, payload, n);
    assert_eq!(mem.counters.written.get(), expect, "rfc6455 writes every frame");
    g.bench_function("rfc6455", |b| b.iter(|| ours::send(&mut conn, &mut mem, &mut out, black_box(payload), n)));
    drop(conn);

    let shared = bytes::Bytes::copy_from_slice(payload);
    let mem = MemStream::sink(sink);
    let counters = mem.counters.clone();
    let mut ws = tung::server(mem);
    tung::send(&mut ws, &shared, n);
    assert_eq!(counters.written.get(), expect, "tungstenite writes every frame");
    g.bench_function("tungstenite", |b| b.iter(|| tung::send(&mut ws, black_box(&shared), n)));
    drop(ws);

    let rt = fws::runtime();
    let mem = MemStream::sink(sink);
    let counters = mem.counters.clone();
    let mut ws = fws::server(mem);
    rt.block_on(fws::send(&mut ws, payload, n));
    assert_eq!(counters.written.get(), expect, "fastwebsockets writes every frame");
    g.bench_function("fastwebsockets", |b| b.iter(|| rt.block_on(fws::send(&mut ws, black_box(payload), n))));
    drop(ws);
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let batched = stream(BINARY, BIN16, BATCH, false);
    decode(&mut c, "driver_decode_binary_16B_batched", Per::Element(BATCH as u64), &batched, BIN16);
    let per_read = stream(BINARY, BIN16, SINGLE, true);
    decode(&mut c, "driver_decode_binary_16B_one_per_read", Per::Element(SINGLE as u64), &per_read, BIN16);
    let json = stream(TEXT, JSON16, BATCH, false);
    decode(&mut c, "driver_decode_text_16B_json", Per::Element(BATCH as u64), &json, JSON16);

    let payload: Vec<u8> = (0..MIB).map(|i| (i * 131 + i / 7) as u8).collect();
    let binary = stream(BINARY, &payload, 1, false);
    decode(&mut c, "driver_decode_binary_1MiB", Per::Bytes(MIB as u64), &binary, &payload);
    let text = common::mixed_utf8(MIB);
    let input = stream(TEXT, text.as_bytes(), 1, false);
    decode(&mut c, "driver_decode_text_1MiB_mixed", Per::Bytes(MIB as u64), &input, text.as_bytes());

    encode(&mut c, "driver_encode_binary_16B", BIN16, SINGLE);
    c.final_summary();
    common::print_ratios(GROUPS);
}
