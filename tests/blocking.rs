//! The blocking adapter over real sockets on 127.0.0.1, one thread a side.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{self as ws, Builder, Error, Message, Reject, Settings};
use rfc6455::{Accept, ClientRequest, CloseCode, CloseEvent, Config, ReadyState, Request};

/// A listener on 127.0.0.1 and its `ws://` URL.
fn listen() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/chat", listener.local_addr().unwrap());
    (listener, url)
}

/// Serves one connection with `serve` on a thread.
fn serve_one<T: Send + 'static>(
    listener: TcpListener,
    serve: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> thread::JoinHandle<T> {
    thread::spawn(move || serve(listener.accept().unwrap().0))
}

fn echo(tcp: TcpStream) -> CloseEvent {
    let mut ws = ws::accept(tcp).unwrap();
    while let Some(message) = ws.recv() {
        ws.send(message.unwrap()).unwrap();
    }
    ws.close_event().cloned().unwrap()
}

#[test]
fn echo_and_close_with_a_code_and_a_reason() {
    let (listener, url) = listen();
    let server = serve_one(listener, echo);
    let mut client = ws::connect(&url).unwrap();
    assert_eq!(client.ready_state(), ReadyState::Open);
    client.send("héllo").unwrap();
    client.send(vec![5u8; 200_000]).unwrap();
    assert_eq!(client.recv().unwrap().unwrap(), Message::text("héllo"));
    assert_eq!(client.recv().unwrap().unwrap(), Message::binary(vec![5u8; 200_000]));
    let close = client.close(4000, "fin ✓").unwrap();
    assert_eq!((close.code, close.reason.as_str(), close.was_clean), (CloseCode::from(4000), "fin ✓", true));
    let seen = server.join().unwrap();
    assert_eq!((seen.code, seen.reason.as_str(), seen.was_clean), (CloseCode::from(4000), "fin ✓", true));
    assert!(client.recv().is_none());
    assert!(matches!(client.send("late"), Err(Error::Local(_))));
}

#[test]
fn accept_with_picks_a_subprotocol_or_refuses() {
    let (listener, url) = listen();
    let server = serve_one(listener, |tcp| {
        let ws = ws::accept_with(tcp, |request| {
            assert_eq!(request.path, "/chat");
            Ok(Accept::new().protocol("v2"))
        })
        .unwrap();
        ws.protocol().map(str::to_owned)
    });
    let request = ClientRequest::new(&url).unwrap().protocol("v1").protocol("v2");
    let tcp = TcpStream::connect((request.host(), request.port())).unwrap();
    let client = ws::connect_with(&request, tcp).unwrap();
    assert_eq!(client.protocol(), Some("v2"));
    assert_eq!(server.join().unwrap().as_deref(), Some("v2"));

    let (listener, url) = listen();
    let server = serve_one(listener, |tcp| ws::accept_with(tcp, |_| Err(Reject::new(403).body("no\n"))).map(drop));
    match ws::connect(&url) {
        Err(Error::Connection(rfc6455::Error::Handshake(rfc6455::HandshakeError::Status { status, .. }))) => {
            assert_eq!(status, 403)
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(server.join().unwrap(), Err(Error::Rejected(403))));
}

#[test]
fn a_plain_get_gets_426() {
    let (listener, url) = listen();
    let server = serve_one(listener, |tcp| ws::accept(tcp).map(drop));
    let mut tcp = TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches("/chat")).unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 426"), "{response}");
    drop(tcp);
    assert!(matches!(server.join().unwrap(), Err(Error::Rejected(426))));
}

#[test]
fn accept_with_answers_a_plain_get_with_its_page_but_cannot_accept_one() {
    let plain_get = |url: &str, decide: fn(&Request) -> Result<Accept, Reject>| {
        let (listener, _) = listen();
        let addr = listener.local_addr().unwrap();
        let server = serve_one(listener, move |tcp| ws::accept_with(tcp, decide).map(drop));
        let mut tcp = TcpStream::connect(addr).unwrap();
        tcp.write_all(format!("GET {url} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
        let mut response = String::new();
        tcp.read_to_string(&mut response).unwrap();
        drop(tcp);
        (response, server.join().unwrap())
    };
    let (response, served) = plain_get("/", |r| match r.is_upgrade() {
        true => Ok(Accept::new()),
        false => Err(Reject::new(404).body("no page here\n")),
    });
    assert!(response.starts_with("HTTP/1.1 404") && response.ends_with("no page here\n"), "{response}");
    assert!(matches!(served, Err(Error::Rejected(404))));
    let (response, served) = plain_get("/", |_| Ok(Accept::new()));
    assert!(response.starts_with("HTTP/1.1 426"), "{response}");
    assert!(matches!(served, Err(Error::Rejected(426))));
}

#[test]
fn keepalive_ping_and_pong_while_recv_waits() {
    let (listener, url) = listen();
    let config = Config::default().keepalive_interval(Some(Duration::from_millis(200)));
    let server = serve_one(listener, move |tcp| {
        let mut ws = Builder::new(Settings::default().config(config)).accept(tcp).unwrap();
        ws.recv().map(Result::unwrap)
    });
    let addr = url.trim_start_matches("ws://").trim_end_matches("/chat");
    let mut tcp = TcpStream::connect(addr).unwrap();
    let head = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    tcp.write_all(head.as_bytes()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut seen = Vec::new();
    let mut buf = [0; 4096];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tcp.read(&mut buf).unwrap();
        seen.extend_from_slice(&buf[..n]);
    }
    // A masked ping "hi" (key 0) is answered while the server waits in recv.
    tcp.write_all(&[0x89, 0x82, 0, 0, 0, 0, b'h', b'i']).unwrap();
    let mut pong = [0; 4];
    tcp.read_exact(&mut pong).unwrap();
    assert_eq!(pong, [0x8a, 0x02, b'h', b'i']);
    // Then silence: the keepalive ping comes after 200 ms.
    let started = Instant::now();
    let mut ping = [0; 2];
    tcp.read_exact(&mut ping).unwrap();
    assert_eq!(ping[0], 0x89);
    assert!(started.elapsed() >= Duration::from_millis(150), "{:?}", started.elapsed());
    let mut rest = vec![0; usize::from(ping[1])];
    tcp.read_exact(&mut rest).unwrap();
    tcp.write_all(&[0x81, 0x82, 0, 0, 0, 0, b'o', b'k']).unwrap();
    assert_eq!(server.join().unwrap(), Some(Message::text("ok")));
}

#[test]
fn idle_timeout_ends_recv_and_recv_timeout_does_not() {
    let (listener, url) = listen();
    let config = Config::default().idle_timeout(Some(Duration::from_millis(300)));
    let server = serve_one(listener, move |tcp| {
        let mut ws = Builder::new(Settings::default().config(config)).accept(tcp).unwrap();
        let timed_out = ws.recv_timeout(Duration::from_millis(50));
        assert!(matches!(timed_out, Some(Err(Error::TimedOut))), "{timed_out:?}");
        assert_eq!(ws.ready_state(), ReadyState::Open);
        let started = Instant::now();
        let ended = ws.recv();
        (ended, ws.recv().is_none(), started.elapsed())
    });
    let _client = ws::connect(&url).unwrap();
    let (ended, then_none, waited) = server.join().unwrap();
    assert!(matches!(ended, Some(Err(Error::Connection(rfc6455::Error::IdleTimeout)))), "{ended:?}");
    assert!(then_none);
    assert!(waited >= Duration::from_millis(200), "{waited:?}");
}

#[test]
fn peer_violation_is_the_error_then_none() {
    let (listener, url) = listen();
    let server = serve_one(listener, |tcp| {
        let mut ws = ws::accept(tcp).unwrap();
        (ws.recv(), ws.recv().is_none(), ws.close_event().cloned().unwrap())
    });
    let addr = url.trim_start_matches("ws://").trim_end_matches("/chat");
    let mut tcp = TcpStream::connect(addr).unwrap();
    let head = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    tcp.write_all(head.as_bytes()).unwrap();
    tcp.write_all(&[0x82, 0x01, 0x00]).unwrap(); // unmasked from a client: 1002
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).unwrap();
    drop(tcp);
    let (first, then_none, close) = server.join().unwrap();
    assert!(matches!(first, Some(Err(Error::Connection(rfc6455::Error::Protocol(_))))), "{first:?}");
    assert!(then_none);
    assert_eq!(close.code, CloseCode::ABNORMAL);
    let at = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(&out[at + 2..at + 4], &[0x03, 0xea], "a close frame with 1002, then EOF");
}

#[test]
fn messages_arriving_keep_the_idle_timer_from_firing() {
    // The idle timer counts from each arrival, read after a read that waited.
    let (listener, url) = listen();
    let config = Config::default().idle_timeout(Some(Duration::from_millis(800)));
    let server = serve_one(listener, move |tcp| {
        let mut ws = Builder::new(Settings::default().config(config)).accept(tcp).unwrap();
        let mut got = 0;
        while let Some(message) = ws.recv() {
            match message {
                Ok(_) => got += 1,
                Err(e) => return (got, Some(e.to_string())),
            }
        }
        (got, None)
    });
    let mut client = ws::connect(&url).unwrap();
    // Every 300 ms for 1.5 s: the idle timer of 800 ms would fire at 800 ms
    // if it counted from the time before a read that waited.
    for _ in 0..5 {
        thread::sleep(Duration::from_millis(300));
        client.send("still here").unwrap();
    }
    client.close(1000, "").unwrap();
    let (got, failure) = server.join().unwrap();
    assert_eq!((got, failure), (5, None));
}

#[test]
fn recv_timeout_of_zero_still_reads_what_is_there() {
    let (listener, url) = listen();
    let server = serve_one(listener, |tcp| {
        let mut ws = ws::accept(tcp).unwrap();
        ws.send("waiting for you").unwrap();
        // Until the client closes.
        while ws.recv().is_some() {}
    });
    let mut client = ws::connect(&url).unwrap();
    thread::sleep(Duration::from_millis(100));
    let mut got = None;
    for _ in 0..10 {
        match client.recv_timeout(Duration::ZERO) {
            Some(Ok(message)) => {
                got = Some(message);
                break;
            }
            Some(Err(Error::TimedOut)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, Some(Message::text("waiting for you")));
    // A timeout too long for an `Instant` is no timeout, not a panic.
    client.send("x").unwrap();
    client.start_close(1000, "").unwrap();
    while client.recv_timeout(Duration::MAX).is_some() {}
    assert!(client.close_event().unwrap().was_clean);
    server.join().unwrap();
}
