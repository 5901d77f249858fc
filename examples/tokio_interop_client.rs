//! `examples/interop_client.rs` on the tokio adapter (in the tests member, for tokio's runtime),
//! for `scripts/interop/run.sh`: the same arguments and the same checks, in
//! order, but the pong's (the adapter answers pings and takes pongs itself,
//! so a ping is only checked to leave the connection open: an echo after it
//! comes back).
//!
//! ```text
//! tokio_interop_client URL --close-by client|server --code CODE --reason REASON [--label NAME]
//! ```

use std::process::ExitCode;

use rfc6455::tokio::{ClientStream, Message, WebSocket, connect};
use tokio::time::timeout;

#[path = "interop/common.rs"]
mod common;
use common::{Args, Checks, PING, SIZES, STEP, binary_of, text_of};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match Args::parse("tokio_interop_client") {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let (url, code, reason) = (&args.url, args.code, &args.reason);
    let mut checks = Checks { label: args.label.clone(), failed: 0 };
    let mut ws = match connect(url).await {
        Ok(ws) => ws,
        Err(e) => {
            println!("FAIL: {}: cannot connect to {url}: {e}", checks.label);
            return ExitCode::from(2);
        }
    };
    checks.check(ws.protocol().is_none() && ws.extensions().is_empty(), "opens", "a subprotocol or extension".into());
    for n in SIZES {
        let text = text_of(n);
        let got = echo(&mut ws, Message::text(text.as_str())).await;
        let ok = matches!(&got, Some(Message::Text(t)) if *t == text);
        checks.check(ok, &format!("text echo, {n} bytes"), describe(&got));
    }
    for n in SIZES {
        let data = binary_of(n);
        let got = echo(&mut ws, Message::binary(data.clone())).await;
        let ok = matches!(&got, Some(Message::Binary(b)) if **b == *data);
        checks.check(ok, &format!("binary echo, {n} bytes"), describe(&got));
    }
    // A ping, then an echo: once the echo is back, the peer has handled the
    // ping (and answered it) before anything that follows, the close included.
    let pinged = ws.ping(PING).await.is_ok();
    let after = echo(&mut ws, Message::text("after the ping")).await;
    let open = pinged && matches!(&after, Some(Message::Text(t)) if *t == "after the ping");
    checks.check(open, "a ping leaves it open", describe(&after));
    let what = args.close_check();
    let close = if args.client_closes {
        timeout(STEP, ws.close(code, reason)).await.ok().and_then(Result::ok)
    } else {
        let _ = ws.send(format!("close {code} {reason}")).await;
        let _ = timeout(STEP, async { while ws.recv().await.is_some() {} }).await;
        ws.close_event().cloned()
    };
    let ok = close.as_ref().is_some_and(|c| c.code.0 == code && c.reason == *reason && c.was_clean);
    checks.check(ok, &what, format!("{close:?}"));
    if checks.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Sends `message` and returns what comes back (or nothing, within a step).
async fn echo(ws: &mut WebSocket<ClientStream>, message: Message) -> Option<Message> {
    ws.send(message).await.ok()?;
    timeout(STEP, ws.recv()).await.ok().flatten().and_then(Result::ok)
}

fn describe(got: &Option<Message>) -> String {
    match got {
        Some(m) => format!("got a {} of {} bytes", if m.is_text() { "text" } else { "binary message" }, m.len()),
        None => "got nothing".into(),
    }
}
