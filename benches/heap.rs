//! Heap held by one connection of each engine, measured with a counting
//! allocator (not a timing): after it read one 16 B message (idle), and after
//! it read one 1 MiB message and the application dropped it.
//!
//! ```text
//! cargo bench --bench heap
//! ```
//!
//! Writes `heap.json` beside criterion's results (`target/criterion/`), where
//! `scripts/perf-report.py` reads it.

mod common;
#[path = "common/counting.rs"]
mod counting;

use std::rc::Rc;

use common::{BIN16, Input, MIB, MemStream, READ_BUF, Received, fws, ours, tung};
use counting::live;

/// A 16 B message, then a 1 MiB one, each in its own chunk.
fn input() -> Input {
    let small = common::masked_frame(0x2, BIN16, common::mask_key(1));
    let payload: Vec<u8> = (0..MIB).map(|i| i as u8).collect();
    let large = common::masked_frame(0x2, &payload, common::mask_key(2));
    let ends = [small.len(), small.len() + large.len()];
    let bytes = [small, large].concat();
    Input { bytes: bytes.into(), ends: Rc::new(ends), messages: 2, payload: 16 + MIB }
}

/// What one engine holds: `(size_of, idle, after_1MiB)` in bytes.
struct Held {
    name: &'static str,
    size_of: usize,
    idle: isize,
    after: isize,
}

fn measure() -> Vec<Held> {
    let one = |bytes| Received { messages: 1, bytes };
    let mut out = Vec::new();

    // Ours: the driver's read buffer is the driver's, not the engine's.
    let mut stream = MemStream::new(input(), 4096);
    let mut buf = vec![0; READ_BUF];
    let base = live();
    let mut conn = ours::server();
    assert_eq!(ours::read(&mut conn, &mut stream, &mut buf, 1), one(16));
    let idle = live() - base;
    assert_eq!(ours::read(&mut conn, &mut stream, &mut buf, 1), one(MIB));
    let after = live() - base;
    out.push(Held { name: "rfc6455", size_of: size_of_val(&conn), idle, after });
    drop(conn);

    let stream = MemStream::new(input(), 4096);
    let base = live();
    let mut ws = tung::server(stream);
    assert_eq!(tung::read(&mut ws, 1), one(16));
    let idle = live() - base;
    assert_eq!(tung::read(&mut ws, 1), one(MIB));
    let after = live() - base;
    let struct_size = size_of_val(&ws) - size_of::<MemStream>();
    out.push(Held { name: "tungstenite", size_of: struct_size, idle, after });
    drop(ws);

    let rt = fws::runtime();
    let stream = MemStream::new(input(), 4096);
    let base = live();
    let mut ws = fws::server(stream);
    assert_eq!(rt.block_on(fws::read(&mut ws, 1)), one(16));
    let idle = live() - base;
    assert_eq!(rt.block_on(fws::read(&mut ws, 1)), one(MIB));
    let after = live() - base;
    let struct_size = size_of_val(&ws) - size_of::<MemStream>();
    out.push(Held { name: "fastwebsockets", size_of: struct_size, idle, after });
    drop(ws);
    out
}

fn main() {
    // `cargo test --benches` runs bench binaries too; measure only for `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let held = measure();
    println!("heap held by one server connection (bytes; the engine's struct itself excluded)");
    println!("{:<16} {:>10} {:>12} {:>14}", "engine", "size_of", "idle", "after 1 MiB");
    for h in &held {
        println!("{:<16} {:>10} {:>12} {:>14}", h.name, h.size_of, h.idle, h.after);
    }
    let entries: Vec<String> = held
        .iter()
        .map(|h| {
            format!(
                "  \"{}\": {{\"size_of\": {}, \"idle\": {}, \"after_1MiB\": {}}}",
                h.name, h.size_of, h.idle, h.after
            )
        })
        .collect();
    let json = format!("{{\n{}\n}}\n", entries.join(",\n"));
    if let Some(dir) = common::criterion_dir() {
        let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join("heap.json"), json));
        match written {
            Ok(()) => println!("written to {}", dir.join("heap.json").display()),
            Err(e) => eprintln!("cannot write heap.json: {e}"),
        }
    }
}
