//! Fan-out: one message to 10,000 server connections of the tokio adapter,
//! against tokio-tungstenite doing the same, on the same discarding sockets
//! in the same run; and the heap each recipient holds while the message
//! waits to be written (a counting allocator, not a timing).
//!
//! ```text
//! cargo bench -p rfc6455-benches --bench fanout
//! ```
//!
//! Ours encodes the message once (`Prepared`) and queues the shared frame on
//! each connection with `try_send_prepared`, then flushes each; tokio-tungstenite
//! gets the payload as a shared `Bytes` (`Message::Binary(bytes.clone())`)
//! and `feed`s it to each connection, then flushes each: the cheapest way its
//! API offers. One iteration is one broadcast to every connection.

mod common;
#[path = "common/counting.rs"]
mod counting;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use common::Per;
use counting::live;
use criterion::Criterion;
use futures_util::SinkExt;
use rfc6455::tokio::{Builder, WebSocket};
use rfc6455::{Prepared, Role};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role as TRole;

const RECIPIENTS: usize = 10_000;

/// A socket that takes every write (what a kernel with room does) and never
/// has anything to read.
struct Discard;

impl AsyncRead for Discard {
    fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, _: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Poll::Pending
    }
}

impl AsyncWrite for Discard {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(std::hint::black_box(buf).len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
}

fn ours() -> Vec<WebSocket<Discard>> {
    (0..RECIPIENTS).map(|_| Builder::default().open(Discard, Role::Server, None)).collect()
}

fn tung(rt: &tokio::runtime::Runtime) -> Vec<WebSocketStream<Discard>> {
    rt.block_on(async {
        let mut out = Vec::with_capacity(RECIPIENTS);
        for _ in 0..RECIPIENTS {
            out.push(WebSocketStream::from_raw_socket(Discard, TRole::Server, None).await);
        }
        out
    })
}

async fn broadcast_ours(conns: &mut [WebSocket<Discard>], payload: &[u8]) {
    let message = Prepared::binary(payload);
    for ws in conns.iter_mut() {
        ws.try_send_prepared(&message).expect("room");
    }
    for ws in conns.iter_mut() {
        ws.flush().await.expect("a discarding socket");
    }
}

async fn broadcast_tung(conns: &mut [WebSocketStream<Discard>], payload: &Bytes) {
    for ws in conns.iter_mut() {
        ws.feed(Message::Binary(payload.clone())).await.expect("a discarding socket");
    }
    for ws in conns.iter_mut() {
        ws.flush().await.expect("a discarding socket");
    }
}

/// The heap each recipient holds while the message is queued, not written.
fn heap_per_recipient(rt: &tokio::runtime::Runtime, payload: &[u8]) -> (isize, isize) {
    let mut mine = ours();
    let message = Prepared::binary(payload);
    let before = live();
    for ws in &mut mine {
        ws.try_send_prepared(&message).expect("room");
    }
    let ours_each = (live() - before) / RECIPIENTS as isize;
    let mut theirs = tung(rt);
    let shared = Bytes::copy_from_slice(payload);
    let before = live();
    rt.block_on(async {
        for ws in &mut theirs {
            // Queued: tungstenite writes into its buffer, flushing only past its size.
            ws.start_send_unpin(Message::Binary(shared.clone())).expect("queued");
        }
    });
    let theirs_each = (live() - before) / RECIPIENTS as isize;
    (ours_each, theirs_each)
}

fn main() {
    let mut c = Criterion::default().configure_from_args().sample_size(20);
    let rt = runtime();
    for (name, size) in [("fanout_10k_16B", 16), ("fanout_10k_16KiB", 16 << 10)] {
        let payload: Vec<u8> = (0..size).map(|i| (i * 7) as u8).collect();
        let shared = Bytes::from(payload.clone());
        let mut g = c.benchmark_group(name);
        g.throughput(criterion::Throughput::Elements(RECIPIENTS as u64));
        let mut mine = ours();
        g.bench_function("rfc6455", |b| b.iter(|| rt.block_on(broadcast_ours(&mut mine, &payload))));
        let mut theirs = tung(&rt);
        g.bench_function("tungstenite", |b| b.iter(|| rt.block_on(broadcast_tung(&mut theirs, &shared))));
        g.finish();
        let (ours_each, theirs_each) = heap_per_recipient(&rt, &payload);
        println!("{name}: heap per recipient while queued: rfc6455 {ours_each} B, tokio-tungstenite {theirs_each} B");
    }
    c.final_summary();
    common::print_ratios(&[
        ("fanout_10k_16B", Per::Element(RECIPIENTS as u64), &["rfc6455", "tungstenite"]),
        ("fanout_10k_16KiB", Per::Element(RECIPIENTS as u64), &["rfc6455", "tungstenite"]),
    ]);
}
