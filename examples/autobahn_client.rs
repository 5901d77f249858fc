//! The client side of Autobahn|Testsuite: drives `wstest -m fuzzingserver`
//! (scripts/autobahn/run.sh sets it up).
//!
//! ```text
//! cargo run --release --example autobahn_client -- [URL] [AGENT]   # ws://127.0.0.1:9001 rfc6455
//! ```
//!
//! It asks `/getCaseCount`, runs `/runCase?case=N&agent=AGENT` for every case,
//! sending each text and binary message back unchanged, then asks
//! `/updateReports?agent=AGENT` to write the reports.

use std::error::Error;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use rfc6455::{ClientRequest, Config, Connection, Event};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:9001".to_string());
    let agent = args.next().unwrap_or_else(|| "rfc6455".to_string());
    let url = url.trim_end_matches('/');

    let count = session(&format!("{url}/getCaseCount"), false)?;
    let count: u32 = count.ok_or("no case count")?.trim().parse()?;
    println!("{count} cases");
    let started = Instant::now();
    for case in 1..=count {
        let outcome = session(&format!("{url}/runCase?case={case}&agent={agent}"), true);
        if let Err(e) = outcome {
            // Failing cases end in all sorts of ways; the report says how.
            eprintln!("case {case}: {e}");
        }
        if case % 50 == 0 {
            println!("{case}/{count} cases in {:.1} s", started.elapsed().as_secs_f64());
        }
    }
    session(&format!("{url}/updateReports?agent={agent}"), false)?;
    println!("{count} cases run in {:.1} s; reports updated", started.elapsed().as_secs_f64());
    Ok(())
}

/// Settings that let every message of the suite through: its largest are
/// 16 MiB (cases 9.1.6, 9.2.6), and 65 536 fragments of one byte (9.4.x, 9.6.x)
/// need no setting since fragments are not counted.
fn config() -> Config {
    Config::default().max_message_size(32 << 20).close_timeout(Duration::from_secs(3))
}

/// One connection to `url`, run until the engine says to close the socket.
/// Returns the first text message; with `echo`, every message is sent back.
fn session(url: &str, echo: bool) -> Result<Option<String>, Box<dyn Error>> {
    let start = Instant::now();
    let request = ClientRequest::new(url)?;
    let mut sock = TcpStream::connect((request.host(), request.port()))?;
    sock.set_nodelay(true)?;
    let mut conn = Connection::client(start.elapsed(), &request, config())?;
    let mut first_text = None;
    let mut buf = vec![0; 256 << 10];
    // Bytes read but not yet taken by the engine: handed in after draining.
    let mut pending = 0..0;
    loop {
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Text(text) => {
                    if echo {
                        // Refused (and harmless) once the closing handshake has begun.
                        let _ = conn.send_text(&text);
                    }
                    first_text.get_or_insert(String::from(text));
                }
                Event::Binary(data) if echo => {
                    let _ = conn.send_binary(&data);
                }
                Event::Error(e) if !echo => return Err(e.to_string().into()),
                _ => {}
            }
        }
        while let Some(bytes) = conn.poll_transmit() {
            if sock.write_all(&bytes).is_err() {
                conn.handle_transport_error(start.elapsed());
            }
        }
        if conn.should_close_transport() {
            return Ok(first_text);
        }
        if !pending.is_empty() {
            pending.start += conn.handle_bytes(start.elapsed(), &buf[pending.clone()]);
            continue;
        }
        let wait = conn.poll_timeout().map(|t| t.saturating_sub(start.elapsed()).max(Duration::from_millis(1)));
        sock.set_read_timeout(wait)?;
        // Large messages and streaming reads go straight into the engine's buffer.
        let read = match conn.read_buf() {
            Some(room) => sock.read(room).map(|n| (n, true)),
            None => sock.read(&mut buf).map(|n| (n, false)),
        };
        match read {
            Ok((0, _)) => conn.handle_eof(start.elapsed()),
            Ok((n, true)) => conn.commit(start.elapsed(), n)?,
            Ok((n, false)) => pending = conn.handle_bytes(start.elapsed(), &buf[..n])..n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                conn.commit(start.elapsed(), 0)?;
                conn.handle_timeout(start.elapsed())
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => conn.handle_transport_error(start.elapsed()),
        }
    }
}
