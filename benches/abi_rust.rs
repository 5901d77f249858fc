//! The Rust side of the C ABI benchmark (`scripts/c-bench.sh`): the engine's
//! own API, driven as `ffi/bench/decode_bench.c` drives the C API, on the
//! input files that program wrote.
//!
//! ```text
//! cargo bench -p rfc6455-benches --bench abi_rust -- DIR
//! ```
//!
//! For each file: hand the connection one piece (4 KiB for `small.bin`, 64 KiB
//! for `large.bin`), take every event, count messages and bytes; the median of
//! 21 runs over the whole file, printed as the C program prints its figures.
//! Here the engine's calls can be inlined into the loop (fat LTO, one crate
//! graph); through the C API each is a call into the library.

use std::hint::black_box;
use std::time::{Duration, Instant};

use rfc6455::{Config, Connection, Event, Role};

const RUNS: usize = 21;

fn run(conn: &mut Connection, input: &[u8], read: usize) -> (usize, usize) {
    let (mut messages, mut bytes) = (0, 0);
    for piece in input.chunks(read) {
        let mut at = 0;
        while at < piece.len() {
            at += conn.handle_bytes(Duration::ZERO, &piece[at..]);
            while let Some(event) = conn.poll_event() {
                if let Event::Binary(data) = event {
                    messages += 1;
                    bytes += data.len();
                }
            }
        }
    }
    (messages, bytes)
}

fn bench(name: &str, input: &[u8], read: usize, frames: usize, payload: usize) {
    let config = Config::default().max_message_size(64 << 20);
    let mut conn = Connection::open(Duration::ZERO, Role::Server, None, config);
    assert_eq!(run(&mut conn, input, read), (frames, payload), "{name}: the engine decodes the input");
    let mut times: Vec<u128> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            black_box(run(&mut conn, black_box(input), read));
            start.elapsed().as_nanos()
        })
        .collect();
    times.sort_unstable();
    let ns = times[RUNS / 2] as f64;
    println!("{name} rfc6455-rust {:.2} ns/frame {:.3} GB/s", ns / frames as f64, payload as f64 / ns);
}

fn main() {
    let dir = std::env::args().skip(1).find(|a| !a.starts_with("--")).expect("usage: abi_rust DIR");
    let small = std::fs::read(format!("{dir}/small.bin")).expect("small.bin (run decode_bench first)");
    let large = std::fs::read(format!("{dir}/large.bin")).expect("large.bin");
    bench("small", &small, 4096, 100_000, 1_600_000);
    bench("large", &large, 64 << 10, 16, 16 << 20);
}
