//! Our adapters against the peers the benches compare with: tokio-tungstenite
//! and tungstenite, each as a client of our server and a server for our
//! client, over real sockets on 127.0.0.1.

use std::net::{TcpListener as StdListener, TcpStream as StdStream};
use std::thread;

use futures_util::{SinkExt, StreamExt};
use rfc6455::CloseCode;
use rfc6455::blocking;
use rfc6455::tokio::{self as ws, Message};
use tokio::net::TcpListener;

#[tokio::test]
async fn tokio_adapter_with_tokio_tungstenite_both_roles() {
    use tokio_tungstenite::tungstenite::Message as TMessage;
    // Our client, their server.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut peer = tokio_tungstenite::accept_async(tcp).await.unwrap();
        while let Some(Ok(m)) = peer.next().await {
            if m.is_text() || m.is_binary() {
                peer.send(m).await.unwrap();
            }
        }
    });
    let mut client = ws::connect(&format!("ws://{addr}/")).await.unwrap();
    client.send("to tungstenite").await.unwrap();
    assert_eq!(client.recv().await.unwrap().unwrap(), Message::text("to tungstenite"));
    let close = client.close(4002, "done").await.unwrap();
    assert!(close.was_clean, "{close:?}");
    assert_eq!(close.code, CloseCode::from(4002));
    server.await.unwrap();

    // Their client, our server.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = ws::accept(tcp).await.unwrap();
        while let Some(Ok(m)) = ws.recv().await {
            ws.send(m).await.unwrap();
        }
        ws.close_event().cloned().unwrap()
    });
    let (mut peer, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/")).await.unwrap();
    peer.send(TMessage::binary(vec![9u8; 100_000])).await.unwrap();
    assert_eq!(peer.next().await.unwrap().unwrap(), TMessage::binary(vec![9u8; 100_000]));
    peer.close(None).await.unwrap();
    while peer.next().await.is_some() {}
    let seen = server.await.unwrap();
    assert!(seen.was_clean);
    assert_eq!(seen.code, CloseCode::NO_STATUS);
}

#[test]
fn blocking_adapter_with_tungstenite_both_roles() {
    use tungstenite::Message as TMessage;
    let (listener, url) = listen_std();
    let server = serve_one(listener, |tcp| {
        let mut peer = tungstenite::accept(tcp).unwrap();
        loop {
            match peer.read() {
                Ok(m) if m.is_text() || m.is_binary() => peer.send(m).unwrap(),
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    let mut client = blocking::connect(&url).unwrap();
    client.send("to tungstenite").unwrap();
    assert_eq!(client.recv().unwrap().unwrap(), blocking::Message::text("to tungstenite"));
    let close = client.close(4002, "done").unwrap();
    assert_eq!((close.code, close.was_clean), (CloseCode::from(4002), true));
    server.join().unwrap();

    let (listener, url) = listen_std();
    let server = serve_one(listener, blocking_echo);
    let (mut peer, _) = tungstenite::connect(&url).unwrap();
    peer.send(TMessage::binary(vec![3u8; 100_000])).unwrap();
    assert_eq!(peer.read().unwrap(), TMessage::binary(vec![3u8; 100_000]));
    peer.close(None).unwrap();
    while peer.read().is_ok() {}
    let seen = server.join().unwrap();
    assert_eq!((seen.code, seen.was_clean), (CloseCode::NO_STATUS, true));
}

fn listen_std() -> (StdListener, String) {
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/chat", listener.local_addr().unwrap());
    (listener, url)
}

fn serve_one<T: Send + 'static>(
    listener: StdListener,
    serve: impl FnOnce(StdStream) -> T + Send + 'static,
) -> thread::JoinHandle<T> {
    thread::spawn(move || serve(listener.accept().unwrap().0))
}

fn blocking_echo(tcp: StdStream) -> rfc6455::CloseEvent {
    let mut ws = blocking::accept(tcp).unwrap();
    while let Some(message) = ws.recv() {
        ws.send(message.unwrap()).unwrap();
    }
    ws.close_event().cloned().unwrap()
}
