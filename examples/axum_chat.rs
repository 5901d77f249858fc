//! A broadcast chat room on axum 0.8: axum routes the request, the engine
//! checks the upgrade (`rfc6455::http`), hyper hands over the connection, and
//! the tokio adapter runs it. Every message goes to everyone in the room,
//! encoded once for all of them (`Prepared`).
//!
//! ```text
//! cargo run --release -p rfc6455-integrations --example axum_chat [ADDR]   # default 127.0.0.1:9004
//! ```
//!
//! Connect to `ws://ADDR/chat?name=NAME` (two `examples/client.rs` in two
//! terminals will do); `GET /` says how.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::TokioIo;
use rfc6455::tokio::{Builder, Message, WebSocket};
use rfc6455::{Accept, Prepared, Role};
use tokio::sync::broadcast;

/// The room: what is said goes to every member, encoded once.
#[derive(Clone)]
pub struct Room {
    said: broadcast::Sender<Prepared>,
    next_guest: Arc<AtomicU64>,
}

impl Default for Room {
    fn default() -> Self {
        // A member more than 256 messages behind misses the oldest ones.
        Room { said: broadcast::channel(256).0, next_guest: Arc::new(AtomicU64::new(1)) }
    }
}

/// The routes: `/chat` upgrades, `/` says how.
pub fn app(room: Room) -> Router {
    Router::new()
        .route("/", get(|| async { "connect with WebSocket to /chat?name=NAME\n" }))
        .route("/chat", get(chat))
        .with_state(room)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9004".to_string());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("chat at ws://{}/chat?name=NAME", listener.local_addr()?);
    axum::serve(listener, app(Room::default())).await
}

/// The upgrade: checked by the engine, answered 101 here, run once hyper
/// hands the connection over.
async fn chat(State(room): State<Room>, mut request: Request) -> Response {
    let upgrade = match rfc6455::http::request(&request) {
        Ok(upgrade) if upgrade.is_upgrade() => upgrade,
        Ok(_) => return (StatusCode::UPGRADE_REQUIRED, [("Upgrade", "websocket")], "WebSocket only\n").into_response(),
        Err(e) => return rfc6455::http::error_response(&e).map(Body::from),
    };
    let name = upgrade
        .query
        .as_deref()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("name=")))
        .filter(|n| !n.is_empty() && n.len() <= 32)
        .map_or_else(|| format!("guest{}", room.next_guest.fetch_add(1, Ordering::Relaxed)), str::to_string);
    let response = match rfc6455::http::accept_response(&upgrade, &Accept::new()) {
        Ok(response) => response,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let on_upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let ws = Builder::default().open(TokioIo::new(upgraded), Role::Server, None);
                member(ws, name, room).await;
            }
            Err(e) => eprintln!("upgrade failed: {e}"),
        }
    });
    response.map(|()| Body::empty())
}

/// One member: what it says goes to the room, what the room says comes to it.
async fn member<S>(ws: WebSocket<S>, name: String, room: Room)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut heard = room.said.subscribe();
    let _ = room.said.send(Prepared::text(&format!("* {name} joined")));
    let (mut read, mut write) = ws.split();
    let speaker = tokio::spawn(async move {
        loop {
            let said = match heard.recv().await {
                Ok(said) => said,
                // Too far behind: the oldest messages are gone, the rest follow.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            };
            // The same shared frame for every member: no copy per recipient.
            if write.send_prepared(&said).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(message)) = read.recv().await {
        if let Message::Text(text) = message {
            let _ = room.said.send(Prepared::text(&format!("{name}: {text}")));
        }
    }
    speaker.abort();
    let _ = room.said.send(Prepared::text(&format!("* {name} left")));
}
