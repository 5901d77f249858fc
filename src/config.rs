//! Settings of a connection, every one with a default a server can live with.
//!
//! Every value is safe, `usize::MAX` and zero included: limits bound what the
//! engine holds, but it only ever allocates for bytes that arrived, so a large
//! limit costs nothing until a peer sends that much.

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
/// Set fields on [`Config::default()`], or chain the setters of the same names:
///
/// ```
/// use std::time::Duration;
/// let config = rfc6455::Config::default()
///     .keepalive_interval(Some(Duration::from_secs(30)))
///     .idle_timeout(Some(Duration::from_secs(75)));
/// assert_eq!(config.max_message_size, 16 << 20);
/// ```
///
/// The optional durations ([`handshake_timeout`](Self::handshake_timeout),
/// [`keepalive_interval`](Self::keepalive_interval),
/// [`idle_timeout`](Self::idle_timeout)) treat zero as `None`: off.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The largest message accepted in [`ReceiveMode::Messages`]; a frame
    /// header that would take a message past it fails the connection with 1009
    /// before its payload is buffered. The buffer grows with the bytes that
    /// arrive, never by what a header announces. Default 16 MiB.
    pub max_message_size: usize,
    /// Whole messages or streaming chunks. Default [`ReceiveMode::Messages`].
    pub receive: ReceiveMode,
    /// Whether the engine answers pings with pongs itself. Up to 16 pongs wait
    /// in the transmit queue; pings that arrive past that, before it is
    /// drained, get one pong, answering the latest (RFC 6455 §5.5.3). Default
    /// true.
    pub auto_pong: bool,
    /// How long to wait for the peer's close frame after sending ours, and (as
    /// a client) for the server to close TCP after the closing handshake.
    /// Zero waits forever (no close timer), as zero means off for the other
    /// timers. Default 5 s.
    pub close_timeout: Duration,
    /// How long the opening handshake may take from the connection's creation;
    /// `None` (or zero) waits forever. Default 10 s.
    pub handshake_timeout: Option<Duration>,
    /// Send a ping when nothing has been received for this long; `None` (or
    /// zero) sends none. Default `None`.
    pub keepalive_interval: Option<Duration>,
    /// Fail the connection (1006) when nothing has been received for this long;
    /// `None` (or zero) waits forever. With [`Config::keepalive_interval`]
    /// shorter, the pongs keep a live peer in. Default `None`.
    pub idle_timeout: Option<Duration>,
    /// The largest HTTP header block of the handshake (431 on a server), and
    /// the most bytes a server buffers after a request before the application
    /// answers it (400). Default 16 KiB.
    pub max_handshake_bytes: usize,
    /// The most headers in a handshake message (431). Default 64.
    pub max_headers: usize,
    /// The most bytes of input the engine keeps unread behind events the
    /// application has not taken yet: once input waits unread,
    /// [`handle_bytes`](crate::Connection::handle_bytes) takes no more than
    /// brings it to this, until [`poll_event`](crate::Connection::poll_event)
    /// has read it. While nothing waits unread, it takes at least one byte.
    /// (Right after a server's `accept`, the early data behind the request,
    /// up to [`max_handshake_bytes`](Self::max_handshake_bytes), may exceed
    /// it once.) It also bounds the room
    /// [`read_buf`](crate::Connection::read_buf) lends behind the unread
    /// input, and so the buffer kept between streaming reads; below 4 KiB it
    /// lends none. Default 64 KiB.
    pub max_unread_input: usize,
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
            max_unread_input: 64 << 10,
            random: Random::Os,
        }
    }
}

macro_rules! setters {
    ($( $field:ident: $ty:ty; )*) => {
        impl Config {
            $(
                #[doc = concat!("Sets [`", stringify!($field), "`](Self::", stringify!($field), ").")]
                #[must_use]
                pub fn $field(mut self, value: $ty) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}

setters! {
    max_message_size: usize;
    receive: ReceiveMode;
    auto_pong: bool;
    close_timeout: Duration;
    handshake_timeout: Option<Duration>;
    keepalive_interval: Option<Duration>;
    idle_timeout: Option<Duration>;
    max_handshake_bytes: usize;
    max_headers: usize;
    max_unread_input: usize;
    random: Random;
}

/// An optional duration as the engine uses it: zero is off.
pub(crate) fn optional(d: Option<Duration>) -> Option<Duration> {
    d.filter(|d| !d.is_zero())
}
