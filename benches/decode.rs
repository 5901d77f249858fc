//! Decoding masked frames as a server: ours, tungstenite and fastwebsockets on
//! the same bytes (see `common/mod.rs` for how each is driven).
//!
//! ```text
//! cargo bench --bench decode
//! ```

mod common;

use std::hint::black_box;

use common::{BIN16, FRAMES, Input, JSON16, MIB, MemStream, Per, READ_BUF, Received, fws, ours, tung};
use criterion::Criterion;

const BINARY: u8 = 0x2;
const TEXT: u8 = 0x1;
const PEERS: &[&str] = &["rfc6455", "tungstenite", "fastwebsockets"];

/// The groups, their unit, and the functions in each (for the summary).
const GROUPS: &[(&str, Per, &[&str])] = &[
    ("decode_binary_16B_batched", Per::Element(FRAMES as u64), PEERS),
    ("decode_binary_16B_one_per_read", Per::Element(FRAMES as u64), PEERS),
    ("decode_text_16B_json", Per::Element(FRAMES as u64), PEERS),
    ("decode_binary_1MiB", Per::Bytes(MIB as u64), PEERS),
    (
        "decode_text_1MiB_mixed",
        Per::Bytes(MIB as u64),
        &["rfc6455", "tungstenite", "fastwebsockets", "simdutf8", "std_from_utf8"],
    ),
];

/// One group: every engine decodes `input` once per iteration.
fn group(c: &mut Criterion, name: &str, per: Per, input: &Input) {
    let want = input.messages;
    let expect = Received { messages: want, bytes: input.payload };
    let mut g = c.benchmark_group(name);
    g.throughput(per.throughput());

    let mut conn = ours::server();
    let mut stream = MemStream::new(input.clone(), 4096);
    let mut buf = vec![0; READ_BUF];
    assert_eq!(ours::read(&mut conn, &mut stream, &mut buf, want), expect, "rfc6455 decodes the input");
    g.bench_function("rfc6455", |b| b.iter(|| ours::read(&mut conn, &mut stream, &mut buf, want)));
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

fn small(c: &mut Criterion) {
    let batched = Input::frames(BINARY, BIN16, FRAMES, false);
    group(c, "decode_binary_16B_batched", Per::Element(FRAMES as u64), &batched);
    let per_read = Input::frames(BINARY, BIN16, FRAMES, true);
    group(c, "decode_binary_16B_one_per_read", Per::Element(FRAMES as u64), &per_read);
    let json = Input::frames(TEXT, JSON16, FRAMES, false);
    group(c, "decode_text_16B_json", Per::Element(FRAMES as u64), &json);
}

fn large(c: &mut Criterion) {
    let payload: Vec<u8> = (0..MIB).map(|i| (i * 131 + i / 7) as u8).collect();
    let binary = Input::frames(BINARY, &payload, 1, false);
    group(c, "decode_binary_1MiB", Per::Bytes(MIB as u64), &binary);

    let text = common::mixed_utf8(MIB);
    let input = Input::frames(TEXT, text.as_bytes(), 1, false);
    group(c, "decode_text_1MiB_mixed", Per::Bytes(MIB as u64), &input);
    // The validators alone, on the unmasked text: what UTF-8 checking costs.
    let mut g = c.benchmark_group("decode_text_1MiB_mixed");
    g.throughput(Per::Bytes(MIB as u64).throughput());
    let bytes = text.as_bytes();
    g.bench_function("simdutf8", |b| b.iter(|| simdutf8::basic::from_utf8(black_box(bytes)).is_ok()));
    g.bench_function("std_from_utf8", |b| b.iter(|| std::str::from_utf8(black_box(bytes)).is_ok()));
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    small(&mut c);
    large(&mut c);
    c.final_summary();
    common::print_ratios(GROUPS);
}
