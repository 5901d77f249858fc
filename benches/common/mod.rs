//! What the bench binaries share: the inputs, the in-memory transport every
//! engine is driven over, one driver per engine, and the ratio summary.
//!
//! Fairness rules, the same for all three engines:
//!
//! - The input is built once, before timing: the same frames with the same
//!   mask keys for everyone ([`Input`]).
//! - Every engine gets its bytes through the same [`MemStream`], which copies
//!   them into whatever buffer the engine (or, for ours, the driver) reads
//!   into — the copy a socket `read` makes — and never hands out more than
//!   the current chunk, so "one frame per read" means the same reads for all.
//!   It cycles through its input forever, so nothing is reset inside the
//!   timed loop.
//! - Everything an engine writes goes into the same kind of sink, which copies
//!   it into a fixed buffer (the copy a socket `write` makes) and never
//!   allocates.
//! - Each engine is driven through its own public API the way its docs say:
//!   ours with `handle_bytes` and draining `poll_event`/`poll_transmit`,
//!   tungstenite with `WebSocket::from_raw_socket(..).read()`/`write()`/`flush()`
//!   (default `WebSocketConfig`), fastwebsockets with
//!   `WebSocket::after_handshake(..).read_frame()`/`write_frame()` (default
//!   settings) on a current-thread tokio runtime, one `block_on` per iteration.

// Each bench binary uses part of this module.
#![allow(dead_code)]

use std::cell::Cell;
use std::io::{self, IoSlice, Read, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use criterion::Throughput;
use rfc6455::{Config, Connection, Event, Role};

/// Frames per iteration in the small-frame groups.
pub const FRAMES: usize = 1024;
/// 1 MiB.
pub const MIB: usize = 1 << 20;
/// The read buffer of our driver, as in the examples.
pub const READ_BUF: usize = 64 << 10;
/// 16 bytes of ASCII JSON.
pub const JSON16: &[u8; 16] = br#"{"a":1,"b":"xy"}"#;
/// 16 bytes of binary.
pub const BIN16: &[u8; 16] = b"\x00\x01\x02\x03\xfc\xfd\xfe\xff0123abcd";

/// The mask key of frame `i`: fixed, so every engine sees the same bytes, and
/// different from frame to frame, as a client's are.
pub fn mask_key(i: usize) -> [u8; 4] {
    ((i as u32).wrapping_mul(0x9E37_79B9) ^ 0xA5C3_5A3C).to_be_bytes()
}

/// One frame as a client sends it: FIN, `opcode`, masked with `key`.
pub fn masked_frame(opcode: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
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

/// Mixed UTF-8 text of exactly `len` bytes: ASCII with 2-, 3- and 4-byte
/// characters throughout, as chat or JSON with names in many scripts is.
pub fn mixed_utf8(len: usize) -> String {
    const PIECE: &str = "{\"user\":\"Zoë Ångström\",\"city\":\"Zürich\",\"msg\":\"こんにちは世界 — ok 👍🏽\"}, ";
    let mut s = String::with_capacity(len + PIECE.len());
    while s.len() + PIECE.len() <= len {
        s.push_str(PIECE);
    }
    while s.len() < len {
        s.push('.');
    }
    s
}

/// Pre-built input: the bytes and where each read may end.
#[derive(Clone)]
pub struct Input {
    pub bytes: Rc<[u8]>,
    /// Chunk ends, increasing, the last one `bytes.len()`: a read never
    /// crosses one.
    pub ends: Rc<[usize]>,
    /// Messages in one pass.
    pub messages: usize,
    /// Payload bytes in one pass.
    pub payload: usize,
}

impl Input {
    /// `n` frames of `payload`, frame `i` masked with `mask_key(i)`; all of
    /// them in one chunk (`per_read == false`) or one frame per chunk.
    pub fn frames(opcode: u8, payload: &[u8], n: usize, per_read: bool) -> Self {
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        for i in 0..n {
            bytes.extend_from_slice(&masked_frame(opcode, payload, mask_key(i)));
            if per_read {
                ends.push(bytes.len());
            }
        }
        if !per_read {
            ends.push(bytes.len());
        }
        Input { bytes: bytes.into(), ends: ends.into(), messages: n, payload: n * payload.len() }
    }
}

/// Bytes counted by a [`MemStream`], readable after it moved into an engine.
#[derive(Default, Debug)]
pub struct Counters {
    pub read: Cell<u64>,
    pub written: Cell<u64>,
    pub writes: Cell<u64>,
}

/// The in-memory transport: `Read`/`Write` for tungstenite, tokio's
/// `AsyncRead`/`AsyncWrite` for fastwebsockets, [`MemStream::read_into`] and
/// [`MemStream::write_bytes`] for our driver.
pub struct MemStream {
    input: Input,
    pos: usize,
    chunk: usize,
    /// The sink: writes are copied here, wrapping to the start when full.
    sink: Vec<u8>,
    sink_pos: usize,
    pub counters: Rc<Counters>,
}

impl MemStream {
    /// A stream that cycles through `input` and accepts writes of up to
    /// `sink_capacity` bytes each.
    pub fn new(input: Input, sink_capacity: usize) -> Self {
        MemStream {
            input,
            pos: 0,
            chunk: 0,
            sink: vec![0; sink_capacity.max(64)],
            sink_pos: 0,
            counters: Rc::default(),
        }
    }

    /// A write-only stream (reads return nothing: EOF).
    pub fn sink(capacity: usize) -> Self {
        Self::new(Input { bytes: Rc::new([]), ends: Rc::new([]), messages: 0, payload: 0 }, capacity)
    }

    /// Copies up to the end of the current chunk into `buf`, as a socket read does.
    pub fn read_into(&mut self, buf: &mut [u8]) -> usize {
        let (start, n) = self.take(buf.len());
        socket_copy(&mut buf[..n], &self.input.bytes[start..start + n]);
        n
    }

    /// Takes up to `max` bytes of the current chunk: where they start and how many.
    fn take(&mut self, max: usize) -> (usize, usize) {
        let Some(&end) = self.input.ends.get(self.chunk) else { return (0, 0) };
        let start = self.pos;
        let n = (end - start).min(max);
        self.pos += n;
        if self.pos == end {
            self.chunk += 1;
            if self.chunk == self.input.ends.len() {
                self.chunk = 0;
                self.pos = 0;
            }
        }
        self.counters.read.set(self.counters.read.get() + n as u64);
        (start, n)
    }

    /// Copies `data` into the sink, as a socket write does.
    pub fn write_bytes(&mut self, data: &[u8]) {
        assert!(data.len() <= self.sink.len(), "sink too small for a {} byte write", data.len());
        if self.sink_pos + data.len() > self.sink.len() {
            self.sink_pos = 0;
        }
        socket_copy(&mut self.sink[self.sink_pos..self.sink_pos + data.len()], data);
        self.sink_pos += data.len();
        self.counters.written.set(self.counters.written.get() + data.len() as u64);
        self.counters.writes.set(self.counters.writes.get() + 1);
    }
}

/// The piece a stream copies at a time (see [`socket_copy`]).
const PIECE: usize = 1024;

/// Copies `src` into `dst` (of the same length) as a socket does, at a
/// speed that does not depend on where the two buffers happen to sit: in
/// pieces of 1 KiB, below the size from which glibc's `memcpy` uses
/// `rep movsb`. That instruction runs about twenty times slower on AMD Zen
/// when the destination is 1 to 31 bytes past the source modulo 4 KiB
/// (measured here: 1.8 against 41 GB/s; in pieces, 28 to 37 GB/s at every
/// offset), so one heap layout or another made a stream's own copy, not the
/// engine it feeds, most of a row's time.
fn socket_copy(dst: &mut [u8], src: &[u8]) {
    for (to, from) in dst.chunks_mut(PIECE).zip(src.chunks(PIECE)) {
        to.copy_from_slice(from);
    }
}

impl Read for MemStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.read_into(buf))
    }
}

impl Write for MemStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_bytes(buf);
        Ok(buf.len())
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        bufs.iter().for_each(|b| self.write_bytes(b));
        Ok(bufs.iter().map(|b| b.len()).sum())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncRead for MemStream {
    fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut tokio::io::ReadBuf<'_>) -> Poll<io::Result<()>> {
        // Straight into the caller's (possibly uninitialised) space, as a
        // socket read does: no zero-filling that the peer would not pay.
        let this = self.get_mut();
        let (start, n) = this.take(buf.remaining());
        // In pieces, as `socket_copy` copies.
        for piece in this.input.bytes[start..start + n].chunks(PIECE) {
            buf.put_slice(piece);
        }
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for MemStream {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Write::write(self.get_mut(), buf))
    }

    fn poll_write_vectored(self: Pin<&mut Self>, _: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Poll::Ready(Write::write_vectored(self.get_mut(), bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// What a decode pass delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Received {
    pub messages: usize,
    pub bytes: usize,
}

/// Our engine, as an application drives it.
pub mod ours {
    use super::*;

    pub const NOW: Duration = Duration::ZERO;

    /// A server connection whose handshake was done elsewhere.
    pub fn server() -> Connection {
        Connection::open(NOW, Role::Server, None, Config::default())
    }

    /// Reads until `want` messages arrived: read into the driver's buffer,
    /// `handle_bytes`, drain `poll_event` (payloads dropped) and
    /// `poll_transmit` (written to the stream).
    pub fn read(conn: &mut Connection, stream: &mut MemStream, buf: &mut [u8], want: usize) -> Received {
        let mut got = Received::default();
        while got.messages < want {
            // A large payload is read straight into the message buffer.
            if let Some(room) = conn.read_buf() {
                let n = stream.read_into(room);
                assert!(n > 0, "input ran out");
                conn.commit(NOW, n).expect("read_buf offered the room");
                drain(conn, stream, &mut got);
                continue;
            }
            let n = stream.read_into(buf);
            assert!(n > 0, "input ran out");
            let mut taken = 0;
            while taken < n {
                taken += conn.handle_bytes(NOW, &buf[taken..n]);
                drain(conn, stream, &mut got);
            }
        }
        got
    }

    /// Takes every event (payloads dropped) and writes every transmit.
    fn drain(conn: &mut Connection, stream: &mut MemStream, got: &mut Received) {
        while let Some(event) = conn.poll_event() {
            got.messages += 1;
            got.bytes += match event {
                Event::Binary(data) => data.len(),
                Event::Text(text) => text.len(),
                other => panic!("unexpected event {other:?}"),
            };
        }
        while let Some(bytes) = conn.poll_transmit() {
            stream.write_bytes(&bytes);
        }
    }

    /// Sends `n` binary messages of `payload`, then writes what
    /// `poll_transmit` gives to the stream. As an application would: a large
    /// payload as the shared buffer it is (`send_binary_bytes`, queued
    /// without a copy), a small one borrowed (`send_binary`, copied into the
    /// transmit buffer, which is cheaper than a reference count).
    pub fn send(conn: &mut Connection, stream: &mut MemStream, payload: &bytes::Bytes, n: usize) {
        for _ in 0..n {
            if payload.len() >= 4096 {
                conn.send_binary_bytes(payload.clone()).expect("open");
            } else {
                conn.send_binary(payload).expect("open");
            }
        }
        while let Some(bytes) = conn.poll_transmit() {
            stream.write_bytes(&bytes);
        }
    }
}

/// tungstenite's sync API.
pub mod tung {
    use super::*;
    use tungstenite::protocol::{Message, Role, WebSocket};

    pub fn server(stream: MemStream) -> WebSocket<MemStream> {
        WebSocket::from_raw_socket(stream, Role::Server, None)
    }

    /// `read()` until `want` messages arrived.
    pub fn read(ws: &mut WebSocket<MemStream>, want: usize) -> Received {
        let mut got = Received::default();
        while got.messages < want {
            got.messages += 1;
            got.bytes += match ws.read().expect("tungstenite read") {
                Message::Binary(data) => data.len(),
                Message::Text(text) => text.len(),
                other => panic!("unexpected message {other:?}"),
            };
        }
        got
    }

    /// `write()` `n` binary messages, then `flush()`.
    pub fn send(ws: &mut WebSocket<MemStream>, payload: &bytes::Bytes, n: usize) {
        for _ in 0..n {
            ws.write(Message::Binary(payload.clone())).expect("tungstenite write");
        }
        ws.flush().expect("tungstenite flush");
    }
}

/// fastwebsockets over tokio's I/O traits.
pub mod fws {
    use super::*;
    use fastwebsockets::{Frame, OpCode, Payload, Role, WebSocket};

    pub fn server(stream: MemStream) -> WebSocket<MemStream> {
        WebSocket::after_handshake(stream, Role::Server)
    }

    /// The runtime the futures are driven on: current-thread, no I/O driver.
    pub fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().build().expect("runtime")
    }

    /// `read_frame()` until `want` messages arrived (every input frame is a
    /// whole message, so no `FragmentCollector` is needed).
    pub async fn read(ws: &mut WebSocket<MemStream>, want: usize) -> Received {
        let mut got = Received::default();
        while got.messages < want {
            let frame = ws.read_frame().await.expect("fastwebsockets read");
            assert!(frame.fin && matches!(frame.opcode, OpCode::Binary | OpCode::Text), "unexpected frame");
            got.messages += 1;
            got.bytes += frame.payload.len();
        }
        got
    }

    /// `write_frame()` `n` binary messages with a borrowed payload.
    pub async fn send(ws: &mut WebSocket<MemStream>, payload: &[u8], n: usize) {
        for _ in 0..n {
            ws.write_frame(Frame::binary(Payload::Borrowed(payload))).await.expect("fastwebsockets write");
        }
    }
}

/// How a group's figure is expressed.
#[derive(Clone, Copy, Debug)]
pub enum Per {
    /// Nanoseconds per element (frame), `n` elements an iteration.
    Element(u64),
    /// GB/s (10^9 bytes), `n` bytes an iteration.
    Bytes(u64),
}

impl Per {
    pub fn throughput(self) -> Throughput {
        match self {
            Per::Element(n) => Throughput::Elements(n),
            Per::Bytes(n) => Throughput::BytesDecimal(n),
        }
    }

    /// The figure for a median time per iteration, and its unit.
    fn figure(self, ns: f64) -> (f64, &'static str) {
        match self {
            Per::Element(n) => (ns / n as f64, "ns/frame"),
            Per::Bytes(n) => (n as f64 / ns, "GB/s"),
        }
    }
}

/// Where criterion writes its results: `$CRITERION_HOME`,
/// `$CARGO_TARGET_DIR/criterion`, or `criterion/` in the target directory
/// this bench binary was built in (`target/release/deps/NAME`).
pub fn criterion_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(home.into());
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// The median time per iteration (ns) criterion measured for `group/function`.
pub fn median_ns(group: &str, function: &str) -> Option<f64> {
    let path = criterion_dir()?.join(group).join(function).join("new").join("estimates.json");
    let json = std::fs::read_to_string(path).ok()?;
    // `"median":{"confidence_interval":{...},"point_estimate":X,...}`
    let median = &json[json.find("\"median\"")?..];
    let at = &median[median.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = at.find([',', '}'])?;
    at[..end].trim().parse().ok()
}

/// After criterion: each group's figures and, for every other function in
/// it, the ratio to ours (`rfc6455`). Printed only for `cargo bench`.
pub fn print_ratios(groups: &[(&str, Per, &[&str])]) {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    println!("\n=== figures (criterion medians) and ratios to rfc6455 ===");
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average now: {}", load.trim());
    // On Linux, `/proc/self` is as old as this process.
    let started = std::fs::metadata("/proc/self").and_then(|m| m.modified()).ok();
    for &(group, per, functions) in groups {
        let Some(ours) = median_ns(group, "rfc6455") else {
            println!("{group}: not measured yet");
            continue;
        };
        let dir = criterion_dir().map(|d| d.join(group)).unwrap_or_default();
        let measured = std::fs::metadata(dir.join("rfc6455/new/estimates.json")).and_then(|m| m.modified()).ok();
        let fresh = matches!((started, measured), (Some(s), Some(m)) if m >= s);
        if fresh {
            // Kept beside the results, so the report can say how busy the machine was.
            let _ = std::fs::write(dir.join("loadavg"), &load);
        }
        let (figure, unit) = per.figure(ours);
        let when = if fresh { "" } else { " (from an earlier run)" };
        println!("{group}{when}: rfc6455 {figure:.2} {unit}");
        for &function in functions.iter().filter(|f| **f != "rfc6455") {
            let Some(theirs) = median_ns(group, function) else { continue };
            let (f, _) = per.figure(theirs);
            let speedup = theirs / ours;
            let verdict = if speedup >= 1.0 {
                format!("ours {speedup:.2}x faster")
            } else {
                format!("ours {:.2}x slower", 1.0 / speedup)
            };
            println!("    {function:<16} {f:>10.2} {unit}  time ours/theirs {:.3}  ({verdict})", ours / theirs);
        }
    }
}
