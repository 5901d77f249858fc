//! An echo server on the tokio adapter (`--features tokio`), one task per
//! connection.
//!
//! ```text
//! cargo run --release --features tokio --example tokio_echo [ADDR] [--threads N]   # default 127.0.0.1:9002, 1 worker
//! ```
//!
//! `scripts/load.sh` runs this against `examples/loadgen.rs`, beside
//! `examples/peer_echo.rs` (tokio-tungstenite and fastwebsockets).

use std::io;

use rfc6455::tokio::{Error, accept};
use tokio::net::{TcpListener, TcpStream};

fn main() -> io::Result<()> {
    let (addr, threads) = args();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()?;
    rt.block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        println!("listening on ws://{}/", listener.local_addr()?);
        loop {
            let (tcp, _) = listener.accept().await?;
            tokio::spawn(async move {
                if let Err(e) = echo(tcp).await {
                    eprintln!("connection: {e}");
                }
            });
        }
    })
}

/// Echoes every message until the peer closes; the adapter answers pings,
/// runs the timers and finishes the closing handshake.
async fn echo(tcp: TcpStream) -> Result<(), Error> {
    tcp.set_nodelay(true)?;
    let mut ws = accept(tcp).await?;
    while let Some(message) = ws.recv().await {
        ws.send(message?).await?;
    }
    Ok(())
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
