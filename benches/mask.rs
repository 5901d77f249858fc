//! Unmasking 1 MiB in place, beside the physical references: memset and
//! memcpy of 1 MiB. tungstenite's masking function is private, so it has no
//! entry here.
//!
//! ```text
//! cargo bench --bench mask
//! ```

mod common;

use std::hint::black_box;

use common::{MIB, Per};
use criterion::Criterion;

const GROUPS: &[(&str, Per, &[&str])] =
    &[("unmask_1MiB", Per::Bytes(MIB as u64), &["rfc6455", "rfc6455_scalar", "fastwebsockets", "memset", "memcpy"])];

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let key = common::mask_key(7);
    let mut buf: Vec<u8> = (0..MIB).map(|i| i as u8).collect();
    let src = buf.clone();

    let mut g = c.benchmark_group("unmask_1MiB");
    g.throughput(Per::Bytes(MIB as u64).throughput());
    g.bench_function("rfc6455", |b| b.iter(|| rfc6455::frame::apply_mask(black_box(&mut buf), key, 0)));
    g.bench_function("rfc6455_scalar", |b| b.iter(|| rfc6455::frame::apply_mask_scalar(black_box(&mut buf), key, 0)));
    g.bench_function("fastwebsockets", |b| b.iter(|| fastwebsockets::unmask(black_box(&mut buf), key)));
    g.bench_function("memset", |b| b.iter(|| black_box(&mut buf).fill(black_box(0x5a))));
    g.bench_function("memcpy", |b| b.iter(|| black_box(&mut buf).copy_from_slice(black_box(&src))));
    g.finish();

    c.final_summary();
    common::print_ratios(GROUPS);
}
