//! An echo server: the engine under tokio, one task per connection.
//!
//! ```text
//! cargo run --release --example tokio_echo [ADDR] [--threads N]   # default 127.0.0.1:9002, 1 worker
//! ```
//!
//! Each task waits until its socket is readable, reads into its worker
//! thread's 64 KiB buffer, feeds the engine, echoes every message and writes
//! what `poll_transmit` gives. The read buffer is per thread, not per
//! connection: the engine copies what it must keep, so an idle connection
//! costs its task, its socket and the engine's state. `scripts/load.sh` runs
//! this against `examples/loadgen.rs`, beside `examples/peer_echo.rs`.

use std::cell::RefCell;
use std::io::{self, ErrorKind};
use std::time::{Duration, Instant};

use rfc6455::{Config, Connection, Event};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

const READ_BUF: usize = 64 << 10;

thread_local! {
    /// The worker thread's read buffer, borrowed only between a readiness
    /// event and `handle_bytes`, never across an `.await`.
    static BUF: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_BUF].into_boxed_slice());
}

fn main() -> io::Result<()> {
    let (addr, threads) = args();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()?;
    rt.block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        println!("listening on ws://{}/", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(async move {
                if let Err(e) = serve(stream).await {
                    eprintln!("connection: {e}");
                }
            });
        }
    })
}

/// `[ADDR] [--threads N]`.
fn args() -> (String, usize) {
    let mut addr = "127.0.0.1:9002".to_string();
    let mut threads = 1;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--threads" => threads = args.next().and_then(|n| n.parse().ok()).expect("--threads N"),
            _ => addr = arg,
        }
    }
    (addr, threads)
}

/// Drives one connection until the engine says to close the socket.
async fn serve(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let start = Instant::now();
    let mut conn = Connection::server(Duration::ZERO, Config::default());
    // Bytes read but not yet taken by the engine (copied out of the shared
    // buffer, which other tasks reuse across an await).
    let mut pending = Vec::new();
    loop {
        let now = start.elapsed();
        while let Some(event) = conn.poll_event() {
            // Sending fails only once the connection is closing: nothing to do then.
            let _ = match event {
                Event::Request(request) if request.is_upgrade() => conn.accept(now, rfc6455::Accept::new()),
                Event::Request(_) => conn.reject(now, 400, &[], b"WebSocket only\n"),
                Event::Text(text) => conn.send_text(&text),
                Event::Binary(data) => conn.send_binary(&data),
                _ => Ok(()),
            };
        }
        while let Some(bytes) = conn.poll_transmit() {
            if stream.write_all(&bytes).await.is_err() {
                conn.handle_transport_error(start.elapsed());
            }
        }
        if conn.should_close_transport() {
            return Ok(());
        }
        if !pending.is_empty() {
            let taken = conn.handle_bytes(start.elapsed(), &pending);
            pending.drain(..taken);
            continue;
        }
        match conn.poll_timeout() {
            Some(at) => {
                let at = tokio::time::Instant::from_std(start + at);
                tokio::select! {
                    ready = stream.readable() => ready?,
                    () = tokio::time::sleep_until(at) => {
                        conn.handle_timeout(start.elapsed());
                        continue;
                    }
                }
            }
            None => stream.readable().await?,
        }
        let now = start.elapsed();
        BUF.with_borrow_mut(|buf| match stream.try_read(buf) {
            Ok(0) => conn.handle_eof(now),
            Ok(n) => {
                let taken = conn.handle_bytes(now, &buf[..n]);
                pending.extend_from_slice(&buf[taken..n]);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
            Err(_) => conn.handle_transport_error(now),
        });
    }
}
