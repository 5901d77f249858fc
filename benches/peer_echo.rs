//! Echo servers on the two best-known Rust engines, for `scripts/load.sh` to
//! compare with `examples/tokio_echo.rs` through the same load generator.
//!
//! ```text
//! cargo run --release -p rfc6455-benches --example peer_echo -- tungstenite|fastwebsockets [ADDR] [--threads N]
//! ```
//!
//! Each is the echo loop its own README shows, one task per connection, on
//! the same tokio runtime settings as `tokio_echo`:
//!
//! - `tungstenite`: `tokio_tungstenite::accept_async`, then `next()` and
//!   `send()` for every text or binary message (default `WebSocketConfig`).
//! - `fastwebsockets`: the opening handshake is read here with `httparse` and
//!   answered by hand (no hyper), then `WebSocket::after_handshake` in a
//!   `FragmentCollector`, `read_frame()` and `write_frame()` (default settings).

use std::io::{self, ErrorKind};

use fastwebsockets::{FragmentCollector, OpCode, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

#[derive(Clone, Copy)]
enum Engine {
    Tungstenite,
    Fastwebsockets,
}

fn main() -> io::Result<()> {
    let mut engine = None;
    let mut addr = "127.0.0.1:9003".to_string();
    let mut threads = 1;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "tungstenite" => engine = Some(Engine::Tungstenite),
            "fastwebsockets" => engine = Some(Engine::Fastwebsockets),
            "--threads" => threads = args.next().and_then(|n| n.parse().ok()).expect("--threads N"),
            _ => addr = arg,
        }
    }
    let Some(engine) = engine else {
        eprintln!("usage: peer_echo tungstenite|fastwebsockets [ADDR] [--threads N]");
        std::process::exit(2);
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()?;
    rt.block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        println!("listening on ws://{}/", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            tokio::spawn(async move {
                let result = match engine {
                    Engine::Tungstenite => tungstenite_echo(stream).await,
                    Engine::Fastwebsockets => fastwebsockets_echo(stream).await,
                };
                if let Err(e) = result {
                    eprintln!("connection: {e}");
                }
            });
        }
    })
}

async fn tungstenite_echo(stream: TcpStream) -> io::Result<()> {
    let mut ws = tokio_tungstenite::accept_async(stream).await.map_err(io::Error::other)?;
    while let Some(message) = ws.next().await {
        match message {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => ws.send(m).await.map_err(io::Error::other)?,
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    Ok(())
}

async fn fastwebsockets_echo(mut stream: TcpStream) -> io::Result<()> {
    handshake(&mut stream).await?;
    let mut ws = FragmentCollector::new(WebSocket::after_handshake(stream, fastwebsockets::Role::Server));
    loop {
        let frame = match ws.read_frame().await {
            Ok(frame) => frame,
            Err(_) => break,
        };
        match frame.opcode {
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await.map_err(io::Error::other)?,
            OpCode::Close => break,
            _ => {}
        }
    }
    Ok(())
}

/// Reads the upgrade request and answers 101. The load generator sends
/// nothing before the answer, so no bytes past the request are lost.
async fn handshake(stream: &mut TcpStream) -> io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0; 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&buf[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&head) {
            Ok(httparse::Status::Complete(used)) => {
                if used != head.len() {
                    return Err(io::Error::new(ErrorKind::InvalidData, "bytes after the request"));
                }
                let key = request
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("sec-websocket-key"))
                    .ok_or_else(|| io::Error::new(ErrorKind::InvalidData, "no Sec-WebSocket-Key"))?;
                let response = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                     Sec-WebSocket-Accept: {}\r\n\r\n",
                    rfc6455::accept_key(key.value)
                );
                return stream.write_all(response.as_bytes()).await;
            }
            Ok(httparse::Status::Partial) if head.len() < 16 << 10 => {}
            Ok(httparse::Status::Partial) => return Err(io::Error::new(ErrorKind::InvalidData, "request too long")),
            Err(e) => return Err(io::Error::new(ErrorKind::InvalidData, e)),
        }
    }
}
