//! The Rust side of the C ABI benchmark (`scripts/c-bench.sh`): the engine's
//! own API, driven as `ffi/bench/decode_bench.c` drives the C API, on the
//! input files that program wrote.
//!
//! ```text
//! cargo bench -p rfc6455-benches --bench abi_rust -- DIR
//! ```
//!
//! For each file: hand the connection one piece (4 KiB for `small.bin`, 64 KiB
//! for `large.bin`), take every event, count messages and bytes; the fastest
//! of 41 runs over the whole file, printed as the C program prints its figures.
//! Here the engine's calls can be inlined into the loop (fat LTO, one crate
//! graph); through the C API each is a call into the library.

use std::hint::black_box;
use std::time::{Duration, Instant};

use rfc6455::{Config, Connection, Event, Role};

const RUNS: usize = 41;

/// The engine's two calls behind functions the compiler may not inline: what
/// a driver in another crate without LTO, or a C caller, gets at best.
#[inline(never)]
fn handle_bytes_outlined(conn: &mut Connection, data: &[u8]) -> usize {
    conn.handle_bytes(Duration::ZERO, data)
}

#[inline(never)]
fn poll_event_outlined(conn: &mut Connection) -> Option<Event> {
    conn.poll_event()
}

fn run(conn: &mut Connection, input: &[u8], read: usize) -> (usize, usize) {
    drive(conn, input, read, |c, d| c.handle_bytes(Duration::ZERO, d), Connection::poll_event)
}

fn run_outlined(conn: &mut Connection, input: &[u8], read: usize) -> (usize, usize) {
    drive(conn, input, read, handle_bytes_outlined, poll_event_outlined)
}

#[inline(always)]
fn drive(
    conn: &mut Connection,
    input: &[u8],
    read: usize,
    handle: impl Fn(&mut Connection, &[u8]) -> usize,
    poll: impl Fn(&mut Connection) -> Option<Event>,
) -> (usize, usize) {
    let (mut messages, mut bytes) = (0, 0);
    for piece in input.chunks(read) {
        let mut at = 0;
        while at < piece.len() {
            at += handle(conn, &piece[at..]);
            while let Some(event) = poll(conn) {
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
    time(name, "rfc6455-rust", input, read, frames, payload, run);
    time(name, "rfc6455-rust-outlined", input, read, frames, payload, run_outlined);
}

/// The fastest of `RUNS` runs, printed; each driver is its own instance, so
/// the inlined one is compiled as a direct loop.
fn time(
    name: &str,
    label: &str,
    input: &[u8],
    read: usize,
    frames: usize,
    payload: usize,
    run: impl Fn(&mut Connection, &[u8], usize) -> (usize, usize),
) {
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
    // The fastest run, as the C program takes it.
    times.sort_unstable();
    let ns = times[0] as f64;
    println!("{name} {label} {:.2} ns/frame {:.3} GB/s", ns / frames as f64, payload as f64 / ns);
}

fn main() {
    let dir = std::env::args().skip(1).find(|a| !a.starts_with("--")).expect("usage: abi_rust DIR");
    let small = std::fs::read(format!("{dir}/small.bin")).expect("small.bin (run decode_bench first)");
    let large = std::fs::read(format!("{dir}/large.bin")).expect("large.bin");
    bench("small", &small, 4096, 100_000, 1_600_000);
    bench("large", &large, 64 << 10, 16, 16 << 20);
}
