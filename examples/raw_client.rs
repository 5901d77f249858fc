//! The command-line client of `examples/client.rs`, written on the engine
//! alone: the raw sans-IO loop, with no adapter, to show what the adapters do.
//!
//! ```text
//! cargo run --example raw_client -- ws://HOST:PORT/PATH [--protocol NAME]...
//! ```
//!
//! Every line of standard input is sent as a text message; every message
//! received is printed on its own line (binary as `<binary N bytes: HEX>`). At
//! the end of input it closes with 1000 and waits for the closing handshake.
//! How the connection ended goes to standard error; the exit status is 0 only
//! after a clean close.
//!
//! The main thread owns the [`Connection`]; one thread reads the socket and
//! one reads standard input, both into a channel, and the main thread waits
//! on it no longer than [`Connection::poll_timeout`] so timers fire.

use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Instant;

use rfc6455::{Config, Connection, Error, Event, HandshakeError};

/// What the helper threads report to the main thread.
enum Input {
    /// Bytes read from the socket.
    Bytes(Vec<u8>),
    /// The server closed its side.
    Eof,
    /// Reading the socket failed.
    ReadError(io::Error),
    /// A line of standard input, without its line ending.
    Line(String),
    /// Standard input ended.
    StdinDone,
}

#[path = "cli/common.rs"]
mod common;
use common::hex;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let Some(request) = common::request_from_args("raw_client")? else {
        return Ok(ExitCode::SUCCESS);
    };
    let url = format!("{}:{}{}", request.host(), request.port(), request.resource());

    let host = request.host();
    let stream = TcpStream::connect((host, request.port())).map_err(|e| format!("connect to {url}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;

    let start = Instant::now();
    let mut conn = Connection::client(start.elapsed(), &request, Config::default()).map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::channel();
    spawn_socket_reader(stream, tx.clone());
    let mut stdin_tx = Some(tx);
    let mut clean = false;
    // Bytes read but not yet taken by the engine: handed in after draining.
    let mut pending: Vec<u8> = Vec::new();

    loop {
        let now = start.elapsed();
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Open(opened) => {
                    match &opened.protocol {
                        Some(p) => eprintln!("connected to {url} (protocol {p})"),
                        None => eprintln!("connected to {url}"),
                    }
                    // Only now can lines be sent; read them from here on.
                    if let Some(tx) = stdin_tx.take() {
                        spawn_stdin_reader(tx);
                    }
                }
                Event::Text(text) => println!("{text}"),
                Event::Binary(data) => println!("<binary {} bytes: {}>", data.len(), hex(&data)),
                Event::Error(Error::Handshake(HandshakeError::Status { status, headers })) => {
                    eprintln!("handshake failed: the server answered with HTTP status {status}, not 101");
                    if let Some(location) = headers.get_str("Location") {
                        eprintln!("(it points to {location})");
                    }
                }
                Event::Error(e) => eprintln!("{e}"),
                Event::Closed(close) => {
                    eprintln!("closed: code {}, reason {:?}, was_clean {}", close.code, close.reason, close.was_clean);
                    clean = close.was_clean;
                }
                _ => {}
            }
        }
        let mut write_failed = false;
        while let Some(bytes) = conn.poll_transmit() {
            if let Err(e) = writer.write_all(&bytes) {
                eprintln!("write failed: {e}");
                conn.handle_transport_error(now);
                write_failed = true;
                break;
            }
        }
        if write_failed {
            continue; // Report the events the failure brought first.
        }
        if conn.should_close_transport() {
            let _ = writer.shutdown(Shutdown::Both);
            break;
        }
        if !pending.is_empty() {
            let taken = conn.handle_bytes(start.elapsed(), &pending);
            pending.drain(..taken);
            continue;
        }

        let input = match conn.poll_timeout() {
            Some(at) => match rx.recv_timeout(at.saturating_sub(start.elapsed())) {
                Ok(input) => Some(input),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => Some(Input::Eof),
            },
            None => Some(rx.recv().unwrap_or(Input::Eof)),
        };
        let now = start.elapsed();
        match input {
            None => conn.handle_timeout(now),
            Some(Input::Bytes(bytes)) => {
                let taken = conn.handle_bytes(now, &bytes);
                pending.extend_from_slice(&bytes[taken..]);
            }
            Some(Input::Eof) => conn.handle_eof(now),
            Some(Input::ReadError(e)) => {
                eprintln!("read failed: {e}");
                conn.handle_transport_error(now);
            }
            Some(Input::Line(line)) => {
                if let Err(e) = conn.send_text(&line) {
                    eprintln!("not sent: {e}");
                }
            }
            Some(Input::StdinDone) => {
                // Refused only when the connection is already closing or closed.
                let _ = conn.close(now, 1000, "");
            }
        }
    }
    Ok(if clean { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn spawn_socket_reader(mut stream: TcpStream, tx: Sender<Input>) {
    std::thread::spawn(move || {
        let mut buf = vec![0; 64 << 10];
        loop {
            let input = match stream.read(&mut buf) {
                Ok(0) => Input::Eof,
                Ok(n) => Input::Bytes(buf[..n].to_vec()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Input::ReadError(e),
            };
            let last = !matches!(input, Input::Bytes(_));
            if tx.send(input).is_err() || last {
                return;
            }
        }
    });
}

fn spawn_stdin_reader(tx: Sender<Input>) {
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut line = Vec::new();
        loop {
            line.clear();
            match stdin.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line);
                    let text = text.strip_suffix('\n').unwrap_or(&text);
                    let text = text.strip_suffix('\r').unwrap_or(text);
                    if tx.send(Input::Line(text.to_string())).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(Input::StdinDone);
    });
}
