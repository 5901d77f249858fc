//! A load generator for the echo servers, on loopback only.
//!
//! ```text
//! cargo run --release -p rfc6455-benches --example loadgen -- ADDR --conns N --size BYTES [--secs S] [--warmup S] [--threads N]
//! cargo run --release -p rfc6455-benches --example loadgen -- ADDR --idle N [--hold S] [--threads N]
//! ```
//!
//! The first form opens N connections; each sends a binary message of BYTES,
//! waits for the echo, checks it and sends again, for S seconds (default 10)
//! after a warm-up (default 1 s); it prints `messages_per_sec=…`. The second
//! opens N connections, exchanges one 20 B message on each, prints
//! `ready N` and holds them for S seconds (default 15) while
//! `scripts/load.sh` reads the server's resident memory.
//!
//! Bounded: ADDR must be a loopback address, at most 20 000 connections, at
//! most 30 s of sending or holding. The client side is as lean as it can be
//! (hand-written handshake, one pre-masked frame, the echo checked with a
//! compare), so the servers, not the generator, are what differ.

use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MAX_CONNS: usize = 20_000;
const MAX_SECS: u64 = 30;
const MAX_SIZE: usize = 1 << 20;
/// Handshakes in flight at once while connecting.
const CONNECT_BATCH: usize = 250;
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

struct Args {
    addr: SocketAddr,
    conns: usize,
    size: usize,
    secs: u64,
    warmup: u64,
    idle: Option<usize>,
    hold: u64,
    threads: usize,
}

fn usage(msg: &str) -> ! {
    eprintln!("{msg}");
    eprintln!("usage: loadgen ADDR --conns N --size BYTES [--secs S] [--warmup S] [--threads N]");
    eprintln!("       loadgen ADDR --idle N [--hold S] [--threads N]");
    std::process::exit(2)
}

fn args() -> Args {
    let mut a = Args {
        addr: ([127, 0, 0, 1], 9002).into(),
        conns: 100,
        size: 20,
        secs: 10,
        warmup: 1,
        idle: None,
        hold: 15,
        threads: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut num = || it.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or_else(|| usage("a number expected"));
        match arg.as_str() {
            "--conns" => a.conns = num() as usize,
            "--size" => a.size = num() as usize,
            "--secs" => a.secs = num(),
            "--warmup" => a.warmup = num(),
            "--idle" => a.idle = Some(num() as usize),
            "--hold" => a.hold = num(),
            "--threads" => a.threads = num() as usize,
            _ => a.addr = arg.parse().unwrap_or_else(|_| usage("ADDR is IP:PORT")),
        }
    }
    if !a.addr.ip().is_loopback() {
        usage("ADDR must be a loopback address");
    }
    let conns = a.idle.unwrap_or(a.conns);
    if conns == 0 || conns > MAX_CONNS {
        usage("connections: 1 to 20000");
    }
    if a.secs + a.warmup > MAX_SECS || a.hold > MAX_SECS {
        usage("at most 30 s of sending or holding");
    }
    if a.size > MAX_SIZE {
        usage("messages of at most 1 MiB");
    }
    a
}

fn main() -> io::Result<()> {
    let a = args();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(a.threads.max(1)).enable_all().build()?;
    rt.block_on(async {
        match a.idle {
            Some(n) => idle(&a, n).await,
            None => load(&a).await,
        }
    })
}

/// A masked binary frame (the key is fixed: this is a load tool).
fn client_frame(payload: &[u8]) -> Vec<u8> {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut f = vec![0x82];
    push_len(&mut f, payload.len(), 0x80);
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

/// The same message as the server sends it back.
fn server_frame(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x82];
    push_len(&mut f, payload.len(), 0);
    f.extend_from_slice(payload);
    f
}

fn push_len(f: &mut Vec<u8>, len: usize, mask_bit: u8) {
    match len {
        0..=125 => f.push(mask_bit | len as u8),
        126..=0xFFFF => {
            f.push(mask_bit | 126);
            f.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            f.push(mask_bit | 127);
            f.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
}

/// Connects and completes the opening handshake.
async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    // Read the response byte by byte so no frame byte is taken with it.
    let mut head = Vec::with_capacity(256);
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8 << 10 {
            return Err(io::Error::new(ErrorKind::InvalidData, "response head too long"));
        }
        head.push(stream.read_u8().await?);
    }
    let head = String::from_utf8_lossy(&head);
    if !head.starts_with("HTTP/1.1 101") || !head.contains(ACCEPT) {
        return Err(io::Error::new(ErrorKind::InvalidData, format!("not upgraded: {head}")));
    }
    Ok(stream)
}

/// Opens `n` connections, `CONNECT_BATCH` handshakes at a time.
async fn connect_all(addr: SocketAddr, n: usize) -> io::Result<Vec<TcpStream>> {
    let mut streams = Vec::with_capacity(n);
    while streams.len() < n {
        let batch = CONNECT_BATCH.min(n - streams.len());
        let tasks: Vec<_> = (0..batch).map(|_| tokio::spawn(connect(addr))).collect();
        for task in tasks {
            streams.push(task.await.map_err(io::Error::other)??);
        }
    }
    Ok(streams)
}

/// Sends `frame` and checks that `echo` comes back.
async fn round_trip(stream: &mut TcpStream, frame: &[u8], echo: &[u8], buf: &mut [u8]) -> io::Result<()> {
    stream.write_all(frame).await?;
    stream.read_exact(buf).await?;
    if buf != echo {
        return Err(io::Error::new(ErrorKind::InvalidData, "the echo differs from the message"));
    }
    Ok(())
}

async fn load(a: &Args) -> io::Result<()> {
    let payload: Vec<u8> = (0..a.size).map(|i| (i * 7 + 1) as u8).collect();
    let frame = client_frame(&payload);
    let echo = server_frame(&payload);
    let streams = connect_all(a.addr, a.conns).await?;
    let start = Instant::now();
    let counted_from = start + Duration::from_secs(a.warmup);
    let deadline = counted_from + Duration::from_secs(a.secs);
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|mut stream| {
            let (frame, echo) = (frame.clone(), echo.clone());
            tokio::spawn(async move {
                let mut buf = vec![0; echo.len()];
                let mut counted = 0u64;
                loop {
                    round_trip(&mut stream, &frame, &echo, &mut buf).await?;
                    let now = Instant::now();
                    if now >= deadline {
                        return Ok::<_, io::Error>(counted);
                    }
                    counted += u64::from(now >= counted_from);
                }
            })
        })
        .collect();
    let mut total = 0;
    let mut failed = 0;
    for task in tasks {
        match task.await.map_err(io::Error::other)? {
            Ok(n) => total += n,
            Err(e) => {
                failed += 1;
                eprintln!("connection failed: {e}");
            }
        }
    }
    let rate = total as f64 / a.secs as f64;
    println!(
        "connections={} size={} secs={} messages={total} failed={failed} messages_per_sec={rate:.0}",
        a.conns, a.size, a.secs
    );
    if failed > 0 {
        return Err(io::Error::other(format!("{failed} connections failed")));
    }
    Ok(())
}

async fn idle(a: &Args, n: usize) -> io::Result<()> {
    let payload = [0x61; 20];
    let (frame, echo) = (client_frame(&payload), server_frame(&payload));
    let mut streams = connect_all(a.addr, n).await?;
    let mut buf = vec![0; echo.len()];
    for stream in &mut streams {
        round_trip(stream, &frame, &echo, &mut buf).await?;
    }
    println!("ready {}", streams.len());
    tokio::time::sleep(Duration::from_secs(a.hold)).await;
    println!("done");
    Ok(())
}
