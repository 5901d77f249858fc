//! An echo server on the tokio adapter, one task per connection (built in
//! the benches member, which has tokio's runtime).
//!
//! ```text
//! cargo run --release -p rfc6455-benches --example tokio_echo [ADDR] [--threads N]   # default 127.0.0.1:9002, 1 worker
//! ```
//!
//! `scripts/load.sh` runs this against `examples/loadgen.rs`, beside
//! `examples/peer_echo.rs` (tokio-tungstenite and fastwebsockets).

use std::io;

use rfc6455::Accept;
use rfc6455::tokio::{Error, Message, Reject, accept_with};
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
///
/// One test path, for `scripts/interop/run.sh`: on `/test/close`, a text
/// `close CODE REASON` makes it close with that code and reason, and the
/// close it saw is logged as `examples/echo_server.rs` logs it.
async fn echo(tcp: TcpStream) -> Result<(), Error> {
    tcp.set_nodelay(true)?;
    let peer = tcp.peer_addr()?;
    let mut target = None;
    let mut ws = accept_with(tcp, |request| {
        if request.path.starts_with("/test/") {
            target = Some(match &request.query {
                Some(query) => format!("{}?{query}", request.path),
                None => request.path.clone(),
            });
        }
        match request.is_upgrade() {
            true => Ok(Accept::new()),
            false => Err(Reject::new(426).header("Upgrade", "websocket")),
        }
    })
    .await?;
    while let Some(message) = ws.recv().await {
        let message = message?;
        if let (Some(_), Message::Text(text)) = (&target, &message)
            && let Some((code, reason)) = text.strip_prefix("close ").and_then(|r| {
                let (code, reason) = r.split_once(' ').unwrap_or((r, ""));
                Some((code.parse::<u16>().ok()?, reason))
            })
        {
            if ws.close(code, reason).await.is_err() {
                ws.send(format!("refused: close {code}")).await?;
            }
            continue;
        }
        ws.send(message).await?;
    }
    if let (Some(target), Some(c)) = (target, ws.close_event()) {
        eprintln!("{peer} {target}: closed, code {}, reason {:?}, clean {}", c.code, c.reason, c.was_clean);
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
