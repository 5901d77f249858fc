//! The Autobahn|Testsuite client on the tokio adapter (in the tests member, for tokio's runtime):
//! runs every case of `wstest -m fuzzingserver`, echoing each message, for
//! `scripts/autobahn/run.sh` (`examples/autobahn_client.rs` does the same on
//! the engine alone).
//!
//! ```text
//! cargo run --release -p rfc6455-tests --example tokio_autobahn_client -- [URL] [AGENT]
//! ```

use std::error::Error;
use std::time::{Duration, Instant};

use rfc6455::Config;
use rfc6455::tokio::{Builder, Message, Settings};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:9001".to_string());
    let agent = args.next().unwrap_or_else(|| "rfc6455-tokio".to_string());
    let url = url.trim_end_matches('/');
    let config = Config::default().max_message_size(32 << 20).close_timeout(Duration::from_secs(3));
    let builder = Builder::new(Settings::default().config(config));

    let mut counter = builder.connect(&format!("{url}/getCaseCount")).await?;
    let count: u32 = match counter.recv().await {
        Some(Ok(Message::Text(text))) => text.trim().parse()?,
        other => return Err(format!("no case count: {other:?}").into()),
    };
    while counter.recv().await.is_some() {}
    println!("{count} cases");
    let started = Instant::now();
    for case in 1..=count {
        match builder.connect(&format!("{url}/runCase?case={case}&agent={agent}")).await {
            // Failing cases end in all sorts of ways; the report says how.
            Ok(mut ws) => {
                while let Some(Ok(message)) = ws.recv().await {
                    // Refused (and harmless) once the closing handshake has begun.
                    let _ = ws.send(message).await;
                }
            }
            Err(e) => eprintln!("case {case}: {e}"),
        }
        if case % 50 == 0 {
            println!("{case}/{count} cases in {:.1} s", started.elapsed().as_secs_f64());
        }
    }
    let mut report = builder.connect(&format!("{url}/updateReports?agent={agent}")).await?;
    while report.recv().await.is_some() {}
    println!("{count} cases run in {:.1} s; reports updated", started.elapsed().as_secs_f64());
    Ok(())
}
