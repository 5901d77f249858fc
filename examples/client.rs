//! A small command-line client, like `wscat`, on the blocking adapter
//! ([`rfc6455::blocking`]). `examples/raw_client.rs` is the same client on the
//! engine alone.
//!
//! ```text
//! cargo run --example client -- ws://HOST:PORT/PATH [--protocol NAME]...
//! ```
//!
//! Every line of standard input is sent as a text message; every message
//! received is printed on its own line (binary as `<binary N bytes: HEX>`). At
//! the end of input it closes with 1000 and waits for the closing handshake.
//! How the connection ended goes to standard error; the exit status is 0 only
//! after a clean close.

use std::io::{self, BufRead};
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::Duration;

use rfc6455::blocking::{Error, Message, connect_with};
use rfc6455::{CloseEvent, HandshakeError};

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
    let Some(request) = common::request_from_args("client")? else {
        return Ok(ExitCode::SUCCESS);
    };
    let url = format!("{}:{}{}", request.host(), request.port(), request.resource());
    let tcp = TcpStream::connect((request.host(), request.port())).map_err(|e| format!("connect to {url}: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut ws = match connect_with(&request, tcp) {
        Ok(ws) => ws,
        Err(Error::Connection(rfc6455::Error::Handshake(HandshakeError::Status { status, headers }))) => {
            eprintln!("handshake failed: the server answered with HTTP status {status}, not 101");
            if let Some(location) = headers.get_str("Location") {
                eprintln!("(it points to {location})");
            }
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    match ws.protocol() {
        Some(p) => eprintln!("connected to {url} (protocol {p})"),
        None => eprintln!("connected to {url}"),
    }
    let lines = stdin_lines();
    let mut closing = false;
    let close = loop {
        // Lines typed so far go out first; the end of input starts the close.
        while !closing {
            match lines.try_recv() {
                Ok(line) => {
                    if let Err(e) = ws.send(line) {
                        eprintln!("not sent: {e}");
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    closing = true;
                    // Echoes still on their way are printed before the end.
                    if let Err(e) = ws.start_close(1000, "") {
                        eprintln!("not closed: {e}");
                    }
                }
            }
        }
        match ws.recv_timeout(Duration::from_millis(20)) {
            Some(Ok(Message::Text(text))) => println!("{text}"),
            Some(Ok(Message::Binary(data))) => println!("<binary {} bytes: {}>", data.len(), hex(&data)),
            Some(Err(Error::TimedOut)) => {}
            Some(Err(e)) => eprintln!("{e}"),
            None => break ws.close_event().cloned().unwrap_or_else(|| CloseEvent::new(1006, "", false)),
        }
    };
    eprintln!("closed: code {}, reason {:?}, was_clean {}", close.code, close.reason, close.was_clean);
    Ok(if close.was_clean { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Lines of standard input, without their line endings, read on a thread;
/// the channel closes at the end of input.
fn stdin_lines() -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut line = Vec::new();
        loop {
            line.clear();
            match stdin.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line);
                    let text = text.strip_suffix('\n').unwrap_or(&text);
                    let text = text.strip_suffix('\r').unwrap_or(text);
                    if tx.send(text.to_string()).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}
