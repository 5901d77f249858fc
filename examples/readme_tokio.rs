//! The tokio echo server the README shows, word for word below this
//! comment (`tests/readme.rs` checks that they stay the same); it is built by
//! `cargo test --workspace`, in the tests member, which has tokio's runtime.

use rfc6455::tokio::{Error, accept};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:9002").await?;
    loop {
        let (tcp, _) = listener.accept().await?;
        tokio::spawn(async move {
            let mut ws = accept(tcp).await?;
            // Pings are answered, timers run and the close is finished for you.
            while let Some(message) = ws.recv().await {
                ws.send(message?).await?;
            }
            Ok::<_, Error>(())
        });
    }
}
