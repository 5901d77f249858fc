//! `recv` cancelled at random inside `tokio::select!`, against a timer, while
//! both sides send messages of random sizes over a pipe that cuts reads and
//! writes short and says `Pending` at random: nothing is lost, reordered or
//! corrupted. `RFC6455_STRESS_ITERATIONS` sets the number of `select!`
//! rounds (default 100,000; the full run is 1,000,000).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use rfc6455::tokio::{self as ws, Message, TrySendError};
use rfc6455::{ClientRequest, CloseCode};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf, duplex};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A pipe end that reads and writes a random part of what is asked, and now
/// and then says `Pending` (waking its task at once).
struct Chaos {
    io: DuplexStream,
    rng: Rng,
}

impl AsyncRead for Chaos {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.rng.below(4) == 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let want = 1 + self.rng.below(buf.remaining() as u64) as usize;
        let mut tmp = vec![0; want];
        let mut part = ReadBuf::new(&mut tmp);
        match Pin::new(&mut self.io).poll_read(cx, &mut part) {
            Poll::Ready(Ok(())) => {
                buf.put_slice(part.filled());
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl AsyncWrite for Chaos {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.rng.below(4) == 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let n = 1 + self.rng.below(buf.len() as u64) as usize;
        Pin::new(&mut self.io).poll_write(cx, &buf[..n])
    }

    /// A random number of bytes across the slices, so that a write ends
    /// anywhere: inside a slice or on a boundary.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        slices: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total: usize = slices.iter().map(|s| s.len()).sum();
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        if self.rng.below(4) == 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        // No more than the pipe could take (4 KiB), so a write copies little.
        let want = 1 + self.rng.below(total.min(8192) as u64) as usize;
        let mut part = Vec::with_capacity(want);
        for slice in slices {
            let take = slice.len().min(want - part.len());
            part.extend_from_slice(&slice[..take]);
        }
        Pin::new(&mut self.io).poll_write(cx, &part)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Ready after it was polled `n` more times: a timer counted in polls, so
/// that the cancellation points are many and reproducible.
struct Polls(u32);

impl Future for Polls {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Message `seq` from one side: its kind, size and bytes follow from `seq`.
fn message(side: u64, seq: u64) -> Message {
    let mut rng = Rng(seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ side ^ 1);
    let len = match rng.below(100) {
        0 => 20_000 + rng.below(80_000),
        1..=9 => 126 + rng.below(2000),
        _ => rng.below(126),
    } as usize;
    let mut bytes = format!("{seq:010}").into_bytes();
    bytes.extend((0..len).map(|i| b'a' + ((seq as usize + i) % 26) as u8));
    if rng.below(2) == 0 { Message::text(String::from_utf8(bytes).unwrap()) } else { Message::binary(bytes) }
}

fn iterations() -> u64 {
    std::env::var("RFC6455_STRESS_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

const CLIENT: u64 = 1;
const SERVER: u64 = 2;

#[tokio::test]
async fn recv_cancelled_at_random_loses_nothing() {
    let (a, b) = duplex(4096);
    let server_io = Chaos { io: a, rng: Rng(0x1234_5678) };
    let client_io = Chaos { io: b, rng: Rng(0x8765_4321) };
    let accept = tokio::spawn(ws::accept(server_io));
    let client = ws::connect_with(&ClientRequest::new("ws://127.0.0.1/").unwrap(), client_io).await.unwrap();
    let mut server = accept.await.unwrap().unwrap();
    let (mut client_read, mut client_write) = client.split();

    // The client sends until told to stop, then an empty text that ends it.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut seq = 0;
            while !stop.load(Ordering::Relaxed) {
                client_write.send(message(CLIENT, seq)).await.unwrap();
                seq += 1;
            }
            client_write.send(Message::text("")).await.unwrap();
            (seq, client_write)
        }
    });
    // The client checks every server message, in order, until the close.
    let reader = tokio::spawn(async move {
        let mut seq = 0;
        while let Some(got) = client_read.recv().await {
            assert_eq!(got.unwrap(), message(SERVER, seq), "server message {seq}");
            seq += 1;
        }
        (seq, client_read.close_event().unwrap())
    });

    let mut rng = Rng(0x5eed);
    let (mut received, mut sent, mut cancelled) = (0u64, 0u64, 0u64);
    let check = |got: Option<Result<Message, ws::Error>>, received: &mut u64| {
        let got = got.expect("the client does not close").unwrap();
        if got.is_empty() {
            return false;
        }
        assert_eq!(got, message(CLIENT, *received), "client message {received}");
        *received += 1;
        true
    };
    for round in 0..iterations() {
        if rng.below(3) == 0 {
            match server.try_send(message(SERVER, sent)) {
                Ok(()) => sent += 1,
                Err(TrySendError::Full(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
        let timer: Pin<Box<dyn Future<Output = ()> + Send>> = match round % 1000 {
            0 => Box::pin(tokio::time::sleep(Duration::from_micros(rng.below(300)))),
            _ => Box::pin(Polls(rng.below(6) as u32)),
        };
        tokio::select! {
            got = server.recv() => assert!(check(got, &mut received), "the end came early"),
            () = timer => cancelled += 1,
        }
    }
    stop.store(true, Ordering::Relaxed);
    loop {
        if !check(server.recv().await, &mut received) {
            break;
        }
    }
    let (client_sent, _client_write) = writer.await.unwrap();
    assert_eq!(received, client_sent, "every client message arrived");
    let close = server.close(CloseCode::NORMAL, "done").await.unwrap();
    assert!(close.was_clean);
    let (client_received, client_close) = reader.await.unwrap();
    assert_eq!(client_received, sent, "every server message arrived");
    assert!(client_close.was_clean);
    assert!(cancelled > iterations() / 20, "recv was cancelled {cancelled} times");
    assert!(received > 100 && sent > 100, "{received} received, {sent} sent");
    eprintln!("{} rounds: {cancelled} cancelled recvs, {received} messages in, {sent} out", iterations());
}
