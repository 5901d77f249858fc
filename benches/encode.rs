//! Encoding server frames: ours, tungstenite and fastwebsockets writing the
//! same messages into the same kind of sink (see `common/mod.rs`).
//!
//! ```text
//! cargo bench --bench encode
//! ```

mod common;

use std::hint::black_box;

use bytes::Bytes;
use common::{BIN16, FRAMES, MIB, MemStream, Per, fws, ours, tung};
use criterion::Criterion;

const PEERS: &[&str] = &["rfc6455", "tungstenite", "fastwebsockets"];

const GROUPS: &[(&str, Per, &[&str])] = &[
    ("encode_binary_16B", Per::Element(FRAMES as u64), PEERS),
    ("encode_binary_1MiB", Per::Bytes(MIB as u64), &["rfc6455", "tungstenite", "fastwebsockets", "memcpy"]),
];

/// One group: every engine sends `n` binary messages of `payload` per
/// iteration and writes them out. Ours and tungstenite batch them into one
/// transmit (`poll_transmit` / `flush`); fastwebsockets writes each frame.
fn group(c: &mut Criterion, name: &str, per: Per, payload: &[u8], n: usize) {
    let frame_len = payload.len() + if payload.len() < 126 { 2 } else { 10 };
    let expect = (n * frame_len) as u64;
    let sink = (n * frame_len).max(2 * MIB) + 64;
    let mut g = c.benchmark_group(name);
    g.throughput(per.throughput());

    let shared = Bytes::copy_from_slice(payload);
    let mut conn = ours::server();
    let mut stream = MemStream::sink(sink);
    ours::send(&mut conn, &mut stream, &shared, n);
    assert_eq!(stream.counters.written.get(), expect, "rfc6455 writes every frame");
    g.bench_function("rfc6455", |b| b.iter(|| ours::send(&mut conn, &mut stream, black_box(&shared), n)));
    drop(conn);

    let stream = MemStream::sink(sink);
    let counters = stream.counters.clone();
    let mut ws = tung::server(stream);
    tung::send(&mut ws, &shared, n);
    assert_eq!(counters.written.get(), expect, "tungstenite writes every frame");
    g.bench_function("tungstenite", |b| b.iter(|| tung::send(&mut ws, black_box(&shared), n)));
    drop(ws);

    let rt = fws::runtime();
    let stream = MemStream::sink(sink);
    let counters = stream.counters.clone();
    let mut ws = fws::server(stream);
    rt.block_on(fws::send(&mut ws, payload, n));
    assert_eq!(counters.written.get(), expect, "fastwebsockets writes every frame");
    g.bench_function("fastwebsockets", |b| b.iter(|| rt.block_on(fws::send(&mut ws, black_box(payload), n))));
    drop(ws);

    if payload.len() >= MIB {
        // The floor for a transport that copies: the sink's own copy.
        let mut stream = MemStream::sink(sink);
        g.bench_function("memcpy", |b| b.iter(|| stream.write_bytes(black_box(payload))));
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    group(&mut c, "encode_binary_16B", Per::Element(FRAMES as u64), BIN16, FRAMES);
    let payload: Vec<u8> = (0..MIB).map(|i| (i * 131 + i / 7) as u8).collect();
    group(&mut c, "encode_binary_1MiB", Per::Bytes(MIB as u64), &payload, 1);
    c.final_summary();
    common::print_ratios(GROUPS);
}
