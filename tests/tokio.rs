//! The tokio adapter over in-memory duplex pipes and real sockets on
//! 127.0.0.1: handshakes, echo, closing, timers, split halves, backpressure.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rfc6455::tokio::{self as ws, Builder, Error, Message, Reject, Settings, TrySendError};
use rfc6455::{Accept, ClientRequest, CloseCode, Config, ReadyState};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};
use tokio::net::TcpListener;
use tokio::time::timeout;

const URL: &str = "ws://127.0.0.1/chat";

/// A connected client and server over a duplex pipe of `capacity` bytes.
async fn pair_with(
    capacity: usize,
    server: Settings,
    client: Settings,
) -> (ws::WebSocket<DuplexStream>, ws::WebSocket<DuplexStream>) {
    let (a, b) = duplex(capacity);
    let accept = tokio::spawn(async move { Builder::new(server).accept(a).await });
    let request = ClientRequest::new(URL).unwrap();
    let client = Builder::new(client).connect_with(&request, b).await.unwrap();
    (client, accept.await.unwrap().unwrap())
}

async fn pair() -> (ws::WebSocket<DuplexStream>, ws::WebSocket<DuplexStream>) {
    pair_with(64 << 10, Settings::default(), Settings::default()).await
}

#[tokio::test]
async fn echo_and_close_with_a_code_and_a_reason() {
    let (mut client, mut server) = pair().await;
    assert_eq!(client.ready_state(), ReadyState::Open);
    let echo = tokio::spawn(async move {
        while let Some(message) = server.recv().await {
            server.send(message.unwrap()).await.unwrap();
        }
        server.close_event().cloned().unwrap()
    });
    let big = vec![7u8; 300_000];
    client.send("héllo").await.unwrap();
    client.send(big.clone()).await.unwrap();
    client.send(Message::text("x".repeat(70_000))).await.unwrap();
    assert_eq!(client.recv().await.unwrap().unwrap(), Message::text("héllo"));
    assert_eq!(client.recv().await.unwrap().unwrap(), Message::binary(big));
    let text = client.recv().await.unwrap().unwrap();
    assert!(text.is_text() && text.len() == 70_000);
    let close = client.close(4000, "fin ✓").await.unwrap();
    assert_eq!((close.code, close.reason.as_str(), close.was_clean), (CloseCode::from(4000), "fin ✓", true));
    let seen = echo.await.unwrap();
    assert_eq!((seen.code, seen.reason.as_str(), seen.was_clean), (CloseCode::from(4000), "fin ✓", true));
    assert!(client.recv().await.is_none(), "nothing after the end");
    assert!(matches!(client.send("late").await, Err(Error::Local(_))));
}

#[tokio::test]
async fn stream_and_sink() {
    let (mut client, server) = pair().await;
    let (sink, stream) = server.split_sink_stream();
    let echo = tokio::spawn(stream.forward(sink));
    client.feed(Message::text("one")).await.unwrap();
    client.feed(Message::binary(&b"two"[..])).await.unwrap();
    client.flush().await.unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), Message::text("one"));
    assert_eq!(client.next().await.unwrap().unwrap(), Message::binary(&b"two"[..]));
    SinkExt::close(&mut client).await.unwrap();
    assert_eq!(client.close_event().unwrap().code, CloseCode::NORMAL);
    echo.await.unwrap().unwrap();
}

/// `WebSocket` split as `Stream` + `Sink`, for `forward`.
trait SplitSinkStream: Sized {
    fn split_sink_stream(self) -> (ws::WriteHalf<DuplexStream>, ws::ReadHalf<DuplexStream>);
}

impl SplitSinkStream for ws::WebSocket<DuplexStream> {
    fn split_sink_stream(self) -> (ws::WriteHalf<DuplexStream>, ws::ReadHalf<DuplexStream>) {
        let (read, write) = self.split();
        (write, read)
    }
}

#[tokio::test]
async fn accept_with_picks_a_subprotocol_or_refuses() {
    let (a, b) = duplex(1 << 16);
    let server = tokio::spawn(ws::accept_with(a, |request| {
        assert_eq!(request.path, "/chat");
        Ok(Accept::new().protocol("v2"))
    }));
    let request = ClientRequest::new(URL).unwrap().protocol("v1").protocol("v2");
    let client = ws::connect_with(&request, b).await.unwrap();
    assert_eq!(client.protocol(), Some("v2"));
    assert_eq!(server.await.unwrap().unwrap().protocol(), Some("v2"));

    let (a, b) = duplex(1 << 16);
    let server =
        tokio::spawn(ws::accept_with(a, |_| Err(Reject::new(401).header("WWW-Authenticate", "Bearer").body("no\n"))));
    let refused = ws::connect_with(&ClientRequest::new(URL).unwrap(), b).await.unwrap_err();
    match refused {
        Error::Connection(rfc6455::Error::Handshake(rfc6455::HandshakeError::Status { status, .. })) => {
            assert_eq!(status, 401)
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(server.await.unwrap(), Err(Error::Rejected(401))));
}

#[tokio::test]
async fn a_plain_get_gets_426() {
    let (a, mut b) = duplex(1 << 16);
    let server = tokio::spawn(ws::accept(a));
    b.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut response = String::new();
    b.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 426"), "{response}");
    assert!(response.to_ascii_lowercase().contains("upgrade: websocket"), "{response}");
    assert!(matches!(server.await.unwrap(), Err(Error::Rejected(426))));
}

#[tokio::test]
async fn real_sockets_connect_by_url() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = ws::accept(tcp).await.unwrap();
        while let Some(message) = ws.recv().await {
            ws.send(message.unwrap()).await.unwrap();
        }
        ws.close_event().cloned().unwrap()
    });
    let mut client = ws::connect(&url).await.unwrap();
    assert!(client.response().is_some());
    client.send("over tcp").await.unwrap();
    assert_eq!(client.recv().await.unwrap().unwrap(), Message::text("over tcp"));
    let close = client.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(close.was_clean);
    assert!(server.await.unwrap().was_clean);
    // Port 1 is closed: with TLS built in (these tests have it), that is the error.
    assert!(matches!(ws::connect("wss://127.0.0.1:1/").await, Err(Error::Io(_))));
    assert!(matches!(ws::connect("http://x/").await, Err(Error::Local(_))));
}

#[tokio::test]
async fn peer_violation_is_the_error_then_none() {
    let (a, mut b) = duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut ws = ws::accept(a).await.unwrap();
        let first = ws.recv().await;
        let second = ws.recv().await;
        (first, second, ws.close_event().cloned())
    });
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    let head = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    b.write_all(head.as_bytes()).await.unwrap();
    // An unmasked frame from a client: 1002.
    b.write_all(&[0x81, 0x02, b'h', b'i']).await.unwrap();
    let mut out = Vec::new();
    b.read_to_end(&mut out).await.unwrap();
    drop(b); // the server lingers until it sees EOF
    let (first, second, close) = server.await.unwrap();
    assert!(matches!(first, Some(Err(Error::Connection(rfc6455::Error::Protocol(_))))), "{first:?}");
    assert!(second.is_none());
    assert_eq!(close.unwrap().code, CloseCode::ABNORMAL);
    // The server's close frame (1002) came after the 101, then EOF (the write side shut down).
    let at = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let close = &out[at..];
    assert_eq!((close[0], usize::from(close[1]), &close[2..4]), (0x88, close.len() - 2, &[0x03, 0xea][..]));
}

/// The server's read half answers a ping and sends keepalive pings, seen by a
/// hand-written client reading the raw bytes.
#[tokio::test(start_paused = true)]
async fn raw_peer_sees_pong_and_keepalive() {
    let config = Config::default().keepalive_interval(Some(Duration::from_secs(10)));
    let (a, mut b) = duplex(1 << 16);
    let server = tokio::spawn(async move {
        let ws = Builder::new(Settings::default().config(config)).accept(a).await.unwrap();
        let (mut read, write) = ws.split();
        let got = read.recv().await;
        drop(write);
        got
    });
    let head = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    b.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0; 4096];
    let mut seen = Vec::new();
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = b.read(&mut buf).await.unwrap();
        seen.extend_from_slice(&buf[..n]);
    }
    // A masked ping "hi" (key 0): the pong must come back while the server only awaits recv.
    b.write_all(&[0x89, 0x82, 0, 0, 0, 0, b'h', b'i']).await.unwrap();
    let n = timeout(Duration::from_secs(1), b.read(&mut buf)).await.unwrap().unwrap();
    assert_eq!(&buf[..n], &[0x8a, 0x02, b'h', b'i']);
    // Then silence: after 10 s the server's keepalive ping.
    let n = timeout(Duration::from_secs(11), b.read(&mut buf)).await.unwrap().unwrap();
    assert_eq!(buf[0], 0x89, "{:?}", &buf[..n]);
    b.write_all(&[0x81, 0x82, 0, 0, 0, 0, b'o', b'k']).await.unwrap();
    assert_eq!(server.await.unwrap().unwrap().unwrap(), Message::text("ok"));
}

#[tokio::test(start_paused = true)]
async fn idle_timeout_fails_recv() {
    let config = Config::default().idle_timeout(Some(Duration::from_secs(5)));
    let (_client, mut server) = pair_with(1 << 16, Settings::default().config(config), Settings::default()).await;
    let started = tokio::time::Instant::now();
    let got = server.recv().await;
    assert!(matches!(got, Some(Err(Error::Connection(rfc6455::Error::IdleTimeout)))), "{got:?}");
    assert!(started.elapsed() >= Duration::from_secs(5));
    assert!(server.recv().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_slow_reader_cannot_grow_the_senders_memory() {
    let high = 32 << 10;
    let (client, mut server) = pair_with(4096, Settings::default().write_high_water(high), Settings::default()).await;
    let message = Message::binary(vec![1u8; 10_000]);
    // The client never reads: the pipe fills, then the queue, then try_send says full.
    let mut queued = 0;
    loop {
        match server.try_send(message.clone()) {
            Ok(()) => queued += 1,
            Err(TrySendError::Full(back)) => {
                assert_eq!(back, message);
                break;
            }
            Err(other) => panic!("{other}"),
        }
        assert!(server.buffered_amount() < high + 10_100, "{}", server.buffered_amount());
        assert!(queued < 100, "never full");
    }
    assert!(server.buffered_amount() >= high);
    // `send` waits for room (here: forever, the client does not read).
    assert!(timeout(Duration::from_secs(30), server.send(message.clone())).await.is_err());
    assert!(server.buffered_amount() < high + 10_100);
    // Once the client reads, everything arrives.
    let (mut read, _write) = client.split();
    let drain = tokio::spawn(async move {
        let mut n = 0;
        while let Some(Ok(m)) = read.recv().await {
            assert_eq!(m.len(), 10_000);
            n += 1;
        }
        n
    });
    server.flush().await.unwrap();
    server.close(1000, "").await.unwrap();
    assert!(drain.await.unwrap() >= queued);
}

#[tokio::test]
async fn split_halves_in_two_tasks() {
    let (client, mut server) = pair().await;
    let (mut read, mut write) = client.split();
    let echo = tokio::spawn(async move {
        while let Some(Ok(m)) = server.recv().await {
            server.send(m).await.unwrap();
        }
    });
    let sender = tokio::spawn(async move {
        for i in 0..1000u32 {
            write.send(Message::binary(i.to_be_bytes().to_vec())).await.unwrap();
        }
        write
    });
    for i in 0..1000u32 {
        assert_eq!(read.recv().await.unwrap().unwrap(), Message::binary(i.to_be_bytes().to_vec()));
    }
    let mut write = sender.await.unwrap();
    write.close(1000, "").await.unwrap();
    assert!(read.recv().await.is_none());
    assert!(read.close_event().unwrap().was_clean);
    echo.await.unwrap();
}

#[tokio::test]
async fn write_half_closes_alone_once_the_read_half_is_gone() {
    let (client, mut server) = pair().await;
    let echo = tokio::spawn(async move {
        while server.recv().await.is_some() {}
        server.close_event().cloned().unwrap()
    });
    let (read, mut write) = client.split();
    drop(read);
    write.close(4001, "bye").await.unwrap();
    assert_eq!(write.ready_state(), ReadyState::Closed);
    let seen = echo.await.unwrap();
    assert_eq!((seen.code, seen.was_clean), (CloseCode::from(4001), true));
}

#[tokio::test]
async fn start_close_still_delivers_what_was_on_its_way() {
    let (mut client, mut server) = pair().await;
    for i in 0..10u8 {
        server.send(Message::binary(vec![i; 1000])).await.unwrap();
    }
    client.start_close(4003, "enough").await.unwrap();
    assert_eq!(client.ready_state(), ReadyState::Closing);
    let server_end = tokio::spawn(async move {
        while server.recv().await.is_some() {}
        server.close_event().cloned().unwrap()
    });
    for i in 0..10u8 {
        assert_eq!(client.recv().await.unwrap().unwrap(), Message::binary(vec![i; 1000]));
    }
    assert!(client.recv().await.is_none());
    assert_eq!(client.close_event().unwrap().code, CloseCode::from(4003));
    assert!(server_end.await.unwrap().was_clean);
}

#[tokio::test]
async fn close_refuses_a_code_that_may_not_be_sent_and_changes_nothing() {
    let (mut client, _server) = pair().await;
    assert!(matches!(client.close(1006, "").await, Err(Error::Local(_))));
    assert!(matches!(client.close(4000, &"x".repeat(124)).await, Err(Error::Local(_))));
    assert_eq!(client.ready_state(), ReadyState::Open);
    client.send("still open").await.unwrap();
}

/// A stream that turns EOF into a reset, as a peer that closes with RST does.
struct ResetAtEof(DuplexStream);

impl tokio::io::AsyncRead for ResetAtEof {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        match std::pin::Pin::new(&mut self.0).poll_read(cx, buf) {
            std::task::Poll::Ready(Ok(())) if buf.filled().len() == before && buf.remaining() > 0 => {
                std::task::Poll::Ready(Err(std::io::ErrorKind::ConnectionReset.into()))
            }
            other => other,
        }
    }
}

impl tokio::io::AsyncWrite for ResetAtEof {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn a_reset_after_the_closing_handshake_is_still_a_clean_close() {
    let (a, b) = duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut ws = ws::accept(a).await.unwrap();
        while ws.recv().await.is_some() {}
        ws.close_event().cloned().unwrap()
    });
    let mut client = ws::connect_with(&ClientRequest::new(URL).unwrap(), ResetAtEof(b)).await.unwrap();
    client.start_close(1000, "bye").await.unwrap();
    // The server answers and closes; the client's read of its close is a reset.
    assert!(client.recv().await.is_none(), "a clean end, not an I/O error");
    let close = client.close_event().unwrap();
    assert!(close.was_clean, "{close:?}");
    assert!(server.await.unwrap().was_clean);
}

#[tokio::test(start_paused = true)]
async fn a_timer_ends_the_connection_even_when_the_peer_never_reads() {
    // The client never reads: the pipe fills, writes wait forever; the idle
    // timer must still end `recv`, and the end must not wait for the writes.
    let config = Config::default().idle_timeout(Some(Duration::from_secs(2)));
    let (_client, mut server) = pair_with(256, Settings::default().config(config), Settings::default()).await;
    for _ in 0..20 {
        let _ = server.try_send(Message::binary(vec![0u8; 4000]));
    }
    let started = tokio::time::Instant::now();
    let got = timeout(Duration::from_secs(30), server.recv()).await.expect("recv ends");
    assert!(matches!(got, Some(Err(Error::Connection(rfc6455::Error::IdleTimeout)))), "{got:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    // `close` after that returns at once too.
    timeout(Duration::from_secs(5), server.close(1000, "")).await.expect("close ends").unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_close_timer_runs_after_a_write_half_closes() {
    // The peer never answers: the close timeout (1 s) must end the read half's recv.
    let config = Config::default().close_timeout(Duration::from_secs(1));
    let (a, mut b) = duplex(1 << 16);
    let server = tokio::spawn(async move { Builder::new(Settings::default().config(config)).accept(a).await });
    let head = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    b.write_all(head.as_bytes()).await.unwrap();
    let ws = server.await.unwrap().unwrap();
    let (mut read, mut write) = ws.split();
    let reader = tokio::spawn(async move {
        let first = read.recv().await;
        let timed_out = matches!(first, Some(Err(Error::Connection(rfc6455::Error::CloseTimeout))));
        (timed_out && read.recv().await.is_none(), read.close_event())
    });
    tokio::task::yield_now().await;
    write.close(1000, "").await.unwrap();
    let (ended, close) = timeout(Duration::from_secs(10), reader).await.expect("the reader wakes").unwrap();
    assert!(ended);
    assert!(!close.unwrap().was_clean, "no answer came: 1006");
    drop(b);
}

#[tokio::test(start_paused = true)]
async fn timers_and_a_linger_of_duration_max_do_not_panic() {
    let config = Config::default()
        .idle_timeout(Some(Duration::MAX))
        .keepalive_interval(Some(Duration::MAX))
        .close_timeout(Duration::MAX);
    let settings = Settings::default().config(config).linger(Duration::MAX);
    let (mut client, mut server) = pair_with(1 << 16, settings.clone(), settings).await;
    client.send("hi").await.unwrap();
    assert_eq!(server.recv().await.unwrap().unwrap(), Message::text("hi"));
    let echo = tokio::spawn(async move { while server.recv().await.is_some() {} });
    let close = client.close(1000, "").await.unwrap();
    assert!(close.was_clean);
    echo.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn terminate_drops_what_was_queued() {
    let (_client, mut server) = pair_with(256, Settings::default(), Settings::default()).await;
    for _ in 0..10 {
        let _ = server.try_send(Message::binary(vec![0u8; 5000]));
    }
    let _ = timeout(Duration::from_millis(10), server.flush()).await;
    assert!(server.buffered_amount() > 0);
    server.terminate();
    assert_eq!(server.buffered_amount(), 0, "nothing is left to write");
    assert!(server.recv().await.is_none());
    assert_eq!(server.close_event().unwrap().code, CloseCode::ABNORMAL);
}

#[tokio::test(start_paused = true)]
async fn send_ends_when_a_timer_ends_the_connection_and_the_peer_never_reads() {
    let config = Config::default().idle_timeout(Some(Duration::from_secs(2)));
    let (_client, mut server) = pair_with(256, Settings::default().config(config), Settings::default()).await;
    let started = tokio::time::Instant::now();
    let sent = timeout(Duration::from_secs(30), server.send(Message::binary(vec![0u8; 100_000]))).await;
    assert!(matches!(sent, Ok(Err(Error::Local(_)))), "send returns an error once the idle timer ends it: {sent:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[tokio::test(start_paused = true)]
async fn both_halves_end_when_a_timer_ends_the_connection_and_the_peer_never_reads() {
    let config = Config::default().idle_timeout(Some(Duration::from_secs(2)));
    let (_client, server) = pair_with(256, Settings::default().config(config), Settings::default()).await;
    let (mut read, mut write) = server.split();
    let writer = tokio::spawn(async move {
        loop {
            if write.send(Message::binary(vec![0u8; 50_000])).await.is_err() {
                return;
            }
        }
    });
    let reader = tokio::spawn(async move { while read.recv().await.is_some() {} });
    timeout(Duration::from_secs(30), reader).await.expect("the read half ends").unwrap();
    timeout(Duration::from_secs(30), writer).await.expect("the write half ends").unwrap();
}
