//! `examples/axum_chat.rs` over real sockets on 127.0.0.1: two members hear
//! each other, a plain GET and a broken upgrade get HTTP answers.

#[path = "../../examples/axum_chat.rs"]
#[allow(dead_code)]
mod chat;

use std::time::Duration;

use rfc6455::tokio::{Message, connect};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, chat::app(chat::Room::default())).await.unwrap() });
    addr
}

/// The next text, within a few seconds.
async fn heard<S>(ws: &mut rfc6455::tokio::WebSocket<S>) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match timeout(Duration::from_secs(5), ws.recv()).await.expect("in time").expect("open").unwrap() {
        Message::Text(text) => text.to_string(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn two_members_hear_each_other() {
    let addr = serve().await;
    let mut ann = connect(&format!("ws://{addr}/chat?name=ann")).await.unwrap();
    assert_eq!(heard(&mut ann).await, "* ann joined");
    let mut bob = connect(&format!("ws://{addr}/chat?name=bob")).await.unwrap();
    assert_eq!(heard(&mut bob).await, "* bob joined");
    assert_eq!(heard(&mut ann).await, "* bob joined");
    ann.send("hello, bob").await.unwrap();
    assert_eq!(heard(&mut ann).await, "ann: hello, bob");
    assert_eq!(heard(&mut bob).await, "ann: hello, bob");
    let close = bob.close(1000, "bye").await.unwrap();
    assert!(close.was_clean, "{close:?}");
    assert_eq!(heard(&mut ann).await, "* bob left");
}

#[tokio::test]
async fn plain_and_broken_requests_get_http_answers() {
    let addr = serve().await;
    for (request, status) in [
        ("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200"),
        ("GET /chat HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "426"),
        (
            "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
            "426",
        ),
    ] {
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut head = vec![0; 512];
        let n = timeout(Duration::from_secs(5), tcp.read(&mut head)).await.unwrap().unwrap();
        let head = String::from_utf8_lossy(&head[..n]);
        assert!(head.starts_with(&format!("HTTP/1.1 {status}")), "{request:?} -> {head}");
    }
}
