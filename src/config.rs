//! Settings of a connection, every one with a default a server can live with.

use core::time::Duration;

use crate::random::Random;

/// How received data messages reach the application.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReceiveMode {
    /// Whole messages ([`Event::Text`](crate::Event::Text),
    /// [`Event::Binary`](crate::Event::Binary)), each at most
    /// [`Config::max_message_size`] bytes.
    #[default]
    Messages,
    /// Pieces as they arrive ([`Event::Chunk`](crate::Event::Chunk)), so a
    /// message of any size passes with memory bounded by the reads. Text chunks
    /// are whole characters.
    Streaming,
}

/// Settings of a [`Connection`](crate::Connection).
///
/// ```
/// use std::time::Duration;
/// let config = rfc6455::Config {
///     keepalive_interval: Some(Duration::from_secs(30)),
///     idle_timeout: Some(Duration::from_secs(75)),
///     ..rfc6455::Config::default()
/// };
/// # let _ = config;
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    /// The largest message accepted in [`ReceiveMode::Messages`]; a frame
    /// header that would take a message past it fails the connection with 1009
    /// before its payload is buffered. Default 16 MiB.
    pub max_message_size: usize,
    /// Whole messages or streaming chunks. Default [`ReceiveMode::Messages`].
    pub receive: ReceiveMode,
    /// Whether the engine answers pings with pongs itself. Default true.
    pub auto_pong: bool,
    /// How long to wait for the peer's close frame after sending ours, and (as
    /// a client) for the server to close TCP after the closing handshake.
    /// Default 5 s.
    pub close_timeout: Duration,
    /// How long the opening handshake may take from the connection's creation;
    /// `None` waits forever. Default 10 s.
    pub handshake_timeout: Option<Duration>,
    /// Send a ping when nothing has been received for this long; zero is the
    /// same as `None`. Default `None`.
    pub keepalive_interval: Option<Duration>,
    /// Fail the connection (1006) when nothing has been received for this long.
    /// With [`Config::keepalive_interval`] shorter, the pongs keep a live peer
    /// in. Default `None`.
    pub idle_timeout: Option<Duration>,
    /// The largest HTTP header block of the handshake, and the most bytes a
    /// server buffers after a request before the application answers it (431).
    /// Default 16 KiB.
    pub max_handshake_bytes: usize,
    /// The most headers in a handshake message (431). Default 64.
    pub max_headers: usize,
    /// Where client mask keys and the handshake nonce come from. Default the OS.
    pub random: Random,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_message_size: 16 << 20,
            receive: ReceiveMode::Messages,
            auto_pong: true,
            close_timeout: Duration::from_secs(5),
            handshake_timeout: Some(Duration::from_secs(10)),
            keepalive_interval: None,
            idle_timeout: None,
            max_handshake_bytes: 16 << 10,
            max_headers: 64,
            random: Random::Os,
        }
    }
}
