//! The input of the connection targets: settings and a script of peer bytes
//! and local actions, with the bytes `arbitrary` reads each script from (for
//! the seed corpora).

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;

use crate::config::{Config, ReceiveMode};
use crate::mask::apply_mask;
use crate::random::Random;
use crate::{ClientRequest, Role};

/// The nonce of RFC 6455 §1.3: its key is `dGhlIHNhbXBsZSBub25jZQ==`.
pub(super) const SAMPLE_NONCE: [u8; 16] = *b"the sample nonce";
/// The mask key of RFC 6455 §5.7, used for every frame the script masks.
pub(super) const SAMPLE_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Settings of the connection under test, in small units.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct Settings {
    /// [`ReceiveMode::Streaming`] rather than whole messages.
    pub streaming: bool,
    /// [`Config::auto_pong`].
    pub auto_pong: bool,
    /// [`Config::max_message_size`] in bytes.
    pub max_message_size: u16,
    /// [`Config::max_handshake_bytes`].
    pub max_handshake_bytes: u16,
    /// [`Config::max_headers`].
    pub max_headers: u8,
    /// [`Config::close_timeout`] in tenths of a second.
    pub close_timeout: u8,
    /// [`Config::handshake_timeout`] in tenths of a second.
    pub handshake_timeout: Option<u8>,
    /// [`Config::keepalive_interval`] in tenths of a second.
    pub keepalive: Option<u8>,
    /// [`Config::idle_timeout`] in tenths of a second.
    pub idle: Option<u8>,
    /// [`Config::max_unread_input`].
    pub max_unread: u16,
}

impl Settings {
    /// Limits no ordinary input reaches, and no timers but the defaults'.
    pub fn roomy() -> Self {
        Settings {
            streaming: false,
            auto_pong: true,
            max_message_size: u16::MAX,
            max_handshake_bytes: 4096,
            max_headers: 32,
            close_timeout: 50,
            handshake_timeout: Some(100),
            keepalive: None,
            idle: None,
            max_unread: u16::MAX,
        }
    }

    /// Small limits for the handshake targets: a 2 KiB header block, 16 headers.
    pub fn handshake() -> Self {
        Settings { max_handshake_bytes: 2048, max_headers: 16, max_message_size: 1024, ..Settings::roomy() }
    }

    /// The engine's settings, with deterministic randomness whose first
    /// 16-byte draw (a client's handshake nonce) is `nonce`.
    pub(super) fn config(&self, nonce: [u8; 16]) -> Config {
        let tenths = |t: u8| Duration::from_millis(u64::from(t) * 100);
        Config::default()
            .max_message_size(usize::from(self.max_message_size))
            .receive(if self.streaming { ReceiveMode::Streaming } else { ReceiveMode::Messages })
            .auto_pong(self.auto_pong)
            .close_timeout(tenths(self.close_timeout))
            .handshake_timeout(self.handshake_timeout.map(tenths))
            .keepalive_interval(self.keepalive.map(tenths))
            .idle_timeout(self.idle.map(tenths))
            .max_handshake_bytes(usize::from(self.max_handshake_bytes))
            .max_headers(usize::from(self.max_headers))
            .max_unread_input(usize::from(self.max_unread))
            .random(deterministic(nonce))
    }
}

/// A random source that gives `nonce` for the first 16-byte draw and an
/// xorshift sequence after it: the same bytes on every run.
pub(super) fn deterministic(nonce: [u8; 16]) -> Random {
    let state = Arc::new(AtomicU32::new(0));
    Random::custom(move |buf| {
        let mut x = state.load(Ordering::Relaxed);
        if x == 0 && buf.len() == nonce.len() {
            buf.copy_from_slice(&nonce);
            state.store(0x9e37_79b9, Ordering::Relaxed);
            return;
        }
        if x == 0 {
            x = 0x9e37_79b9;
        }
        for b in buf {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = (x >> 24) as u8;
        }
        state.store(x, Ordering::Relaxed);
    })
}

/// How a scripted frame is masked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub enum Masking {
    /// As a well-behaved peer masks: when the connection under test is a server.
    AsPeer,
    /// Never.
    Unmasked,
    /// Always.
    Masked,
}

/// What a scripted frame's payload holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub enum Content {
    /// Zero bytes.
    Zeros,
    /// ASCII letters.
    Ascii,
    /// "aé€😀" repeated and cut at the length, perhaps inside a character.
    Wide,
    /// Like `Wide`, with the last byte 0xFF.
    Invalid,
}

/// One step of a [`Script`]. Peer bytes are queued, then handed to the
/// connection by `Deliver`; every other step acts at once.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub enum Step {
    /// Queues a valid handshake message for the role, in one of several flavours.
    Handshake(u8),
    /// Queues an example frame of RFC 6455 §5.7, masked if the peer must mask.
    Sample(u8),
    /// Queues a frame: `head` is its first byte (FIN, RSV, opcode), `len` its
    /// payload length.
    Frame {
        /// FIN, RSV1–3 and the opcode.
        head: u8,
        /// Whether the payload is masked.
        masking: Masking,
        /// The payload length.
        len: u16,
        /// The payload bytes.
        content: Content,
    },
    /// Queues a close frame with `code` and a reason of up to `reason_len` bytes.
    CloseFrame {
        /// The status code.
        code: u16,
        /// The reason's length: whole characters up to it.
        reason_len: u8,
    },
    /// Queues raw bytes.
    Raw(Vec<u8>),
    /// Delivers the queued bytes in pieces of this size; 0 delivers them
    /// whole. Bytes an earlier `Feed` left go first. After each piece the
    /// events and the transmits are taken, and what the connection did not
    /// take is handed in again, as the driving contract says.
    Deliver(u8),
    /// Delivers the queued bytes in pieces of these sizes in turn (0 counts as 1).
    DeliverPieces(Vec<u8>),
    /// The transport reached EOF.
    Eof,
    /// The transport failed.
    TransportError,
    /// The clock moves on this many milliseconds; due timeouts fire in order.
    Advance(u16),
    /// `handle_timeout` now, whether or not anything is due.
    Timeout,
    /// `send_text` of this many bytes, wide characters or ASCII.
    SendText {
        /// The length in bytes (whole characters up to it).
        len: u16,
        /// Multi-byte characters.
        wide: bool,
    },
    /// `send_binary` of this many bytes (`send_binary_bytes` when odd).
    SendBinary(u16),
    /// `send_fragment`.
    SendFragment {
        /// Text (wide characters) rather than binary.
        text: bool,
        /// The length in bytes.
        len: u8,
        /// Whether it ends the message.
        fin: bool,
    },
    /// `send_ping` with this many bytes (over 125 is refused).
    Ping(u8),
    /// `send_pong` with this many bytes.
    Pong(u8),
    /// `close` with this code and a reason of up to `reason_len` bytes.
    Close {
        /// The status code.
        code: u16,
        /// The reason's length: whole characters up to it (over 123 is refused).
        reason_len: u8,
    },
    /// `terminate`.
    Terminate,
    /// `accept`: `protocol` 0 for none, else one of the offered tokens (or one
    /// not offered when there are none); `header` 0 none, 1 a good one, 2 a
    /// reserved one, 3 a bad name.
    Accept {
        /// Which subprotocol.
        protocol: u8,
        /// Which extra header.
        header: u8,
    },
    /// `reject` with this status, a header and a body.
    Reject(u16),
    /// Hands the queued bytes (after any an earlier `Feed` left) in pieces of
    /// this size, 0 whole, as a driver that does not drain between reads:
    /// no event and no transmit is taken. Once a piece is not taken in full,
    /// the rest waits for the next step that hands bytes in (`Deliver`,
    /// `Feed`, or `Eof`, which hands it in before the EOF).
    Feed(u8),
    /// Takes every event but none of the transmits, which pile up (pongs
    /// among them) until a step drains.
    TakeEvents,
}

/// The input of a connection target.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct Script {
    /// Start OPEN ([`Connection::open`](crate::Connection::open)) rather than
    /// with the opening handshake.
    pub open: bool,
    /// The settings.
    pub settings: Settings,
    /// What happens, in order.
    pub steps: Vec<Step>,
}

impl Script {
    /// The bytes from which `arbitrary` 1.x (`Script::arbitrary_take_rest`,
    /// as `fuzz_target!` calls it) builds this script, for seed corpora. A
    /// unit test checks the round trip when the `fuzzing` feature is on.
    pub fn to_fuzz_input(&self) -> Vec<u8> {
        let mut out = Writer(Vec::new());
        out.bool(self.open);
        let s = &self.settings;
        out.bool(s.streaming);
        out.bool(s.auto_pong);
        out.u16(s.max_message_size);
        out.u16(s.max_handshake_bytes);
        out.u8(s.max_headers);
        out.u8(s.close_timeout);
        for option in [s.handshake_timeout, s.keepalive, s.idle] {
            out.bool(option.is_some());
            if let Some(v) = option {
                out.u8(v);
            }
        }
        out.u16(s.max_unread);
        for step in &self.steps {
            out.bool(true);
            out.step(step);
        }
        out.0
    }
}

/// `arbitrary`'s encoding, for the types a script uses.
struct Writer(Vec<u8>);

impl Writer {
    fn bool(&mut self, b: bool) {
        self.0.push(u8::from(b));
    }

    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    /// A derived enum reads a `u32` and picks variant `(x * count) >> 32`.
    fn variant(&mut self, index: u64, count: u64) {
        let x = (index << 32).div_ceil(count);
        self.0.extend_from_slice(&(x as u32).to_le_bytes());
    }

    /// A `Vec` not in last place: a `true` byte before each element, a `false` after.
    fn bytes(&mut self, v: &[u8]) {
        for &b in v {
            self.bool(true);
            self.u8(b);
        }
        self.bool(false);
    }

    fn step(&mut self, step: &Step) {
        const STEPS: u64 = 22;
        match step {
            Step::Handshake(v) => {
                self.variant(0, STEPS);
                self.u8(*v);
            }
            Step::Sample(v) => {
                self.variant(1, STEPS);
                self.u8(*v);
            }
            Step::Frame { head, masking, len, content } => {
                self.variant(2, STEPS);
                self.u8(*head);
                self.variant(*masking as u64, 3);
                self.u16(*len);
                self.variant(*content as u64, 4);
            }
            Step::CloseFrame { code, reason_len } => {
                self.variant(3, STEPS);
                self.u16(*code);
                self.u8(*reason_len);
            }
            Step::Raw(bytes) => {
                self.variant(4, STEPS);
                self.bytes(bytes);
            }
            Step::Deliver(n) => {
                self.variant(5, STEPS);
                self.u8(*n);
            }
            Step::DeliverPieces(sizes) => {
                self.variant(6, STEPS);
                self.bytes(sizes);
            }
            Step::Eof => self.variant(7, STEPS),
            Step::TransportError => self.variant(8, STEPS),
            Step::Advance(ms) => {
                self.variant(9, STEPS);
                self.u16(*ms);
            }
            Step::Timeout => self.variant(10, STEPS),
            Step::SendText { len, wide } => {
                self.variant(11, STEPS);
                self.u16(*len);
                self.bool(*wide);
            }
            Step::SendBinary(len) => {
                self.variant(12, STEPS);
                self.u16(*len);
            }
            Step::SendFragment { text, len, fin } => {
                self.variant(13, STEPS);
                self.bool(*text);
                self.u8(*len);
                self.bool(*fin);
            }
            Step::Ping(len) => {
                self.variant(14, STEPS);
                self.u8(*len);
            }
            Step::Pong(len) => {
                self.variant(15, STEPS);
                self.u8(*len);
            }
            Step::Close { code, reason_len } => {
                self.variant(16, STEPS);
                self.u16(*code);
                self.u8(*reason_len);
            }
            Step::Terminate => self.variant(17, STEPS),
            Step::Accept { protocol, header } => {
                self.variant(18, STEPS);
                self.u8(*protocol);
                self.u8(*header);
            }
            Step::Reject(status) => {
                self.variant(19, STEPS);
                self.u16(*status);
            }
            Step::Feed(n) => {
                self.variant(20, STEPS);
                self.u8(*n);
            }
            Step::TakeEvents => self.variant(21, STEPS),
        }
    }
}

// ----- what the steps produce -----

/// The request a client under test sends: RFC 6455 §1.3's.
pub(super) fn client_request() -> ClientRequest {
    ClientRequest::new("ws://server.example.com/chat")
        .expect("a valid URL")
        .protocol("chat")
        .protocol("superchat")
        .header("Origin", "http://example.com")
}

/// The request of RFC 6455 §1.3.
pub const RFC_REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// The response of RFC 6455 §1.3.
pub const RFC_RESPONSE: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n";

/// Requests a server under test may read: §1.3's, a minimal one, a browser's
/// offering an extension, a plain GET, and one with version 8 (426).
pub const REQUESTS: [&str; 5] = [
    RFC_REQUEST,
    "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    "GET /chat?room=1 HTTP/1.1\r\nHost: localhost:9001\r\nConnection: keep-alive, Upgrade\r\n\
     Pragma: no-cache\r\nCache-Control: no-cache\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n\
     Upgrade: websocket\r\nOrigin: http://localhost:9001\r\nSec-WebSocket-Version: 13\r\n\
     Accept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\n\
     Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n\
     Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
    "GET /index.html HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\n\r\n",
    "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
];

/// Responses a client under test may read: §1.3's, a 101 without a
/// subprotocol, one accepting an extension not offered, a 404 with a body,
/// and one with the wrong accept key.
pub const RESPONSES: [&str; 5] = [
    RFC_RESPONSE,
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
     Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
     Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
    "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found",
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
     Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n\r\n",
];

/// The handshake message a connection in `role` reads, flavour `v`.
pub(super) fn handshake_bytes(role: Role, v: u8) -> &'static [u8] {
    let all = match role {
        Role::Server => &REQUESTS,
        Role::Client => &RESPONSES,
    };
    all[usize::from(v) % all.len()].as_bytes()
}

/// The frames of RFC 6455 §5.7 as (first byte, payload), and a close.
fn sample(v: u8) -> (u8, Vec<u8>) {
    let binary = |len: usize| (0..len).map(|i| (i * 7 % 251) as u8).collect();
    match v % 8 {
        0 => (0x81, b"Hello".to_vec()),
        1 => (0x01, b"Hel".to_vec()),
        2 => (0x80, b"lo".to_vec()),
        3 => (0x89, b"Hello".to_vec()),
        4 => (0x8A, b"Hello".to_vec()),
        5 => (0x82, binary(256)),
        6 => (0x82, binary(65536)),
        _ => (0x88, [&1000u16.to_be_bytes()[..], b"bye"].concat()),
    }
}

/// The bytes of example frame `v` as a well-behaved peer of `role` sends it.
pub(super) fn sample_frame(role: Role, v: u8) -> Vec<u8> {
    let (head, payload) = sample(v);
    encode_frame(head, peer_mask(role, Masking::AsPeer), &payload)
}

/// The mask key for a frame sent to `role`.
pub(super) fn peer_mask(role: Role, masking: Masking) -> Option<[u8; 4]> {
    match masking {
        Masking::AsPeer if role == Role::Server => Some(SAMPLE_KEY),
        Masking::AsPeer | Masking::Unmasked => None,
        Masking::Masked => Some(SAMPLE_KEY),
    }
}

/// A payload of `len` bytes of `content`.
pub(super) fn payload(content: Content, len: usize) -> Vec<u8> {
    match content {
        Content::Zeros => alloc::vec![0; len],
        Content::Ascii => (0..len).map(|i| b'a' + (i % 26) as u8).collect(),
        Content::Wide | Content::Invalid => {
            let mut bytes: Vec<u8> = "aé€😀".bytes().cycle().take(len).collect();
            if let (Content::Invalid, Some(last)) = (content, bytes.last_mut()) {
                *last = 0xFF;
            }
            bytes
        }
    }
}

/// Whole characters up to `len` bytes: ASCII letters, or "aé€😀" repeated.
pub(super) fn text(len: usize, wide: bool) -> String {
    let mut s = String::new();
    for i in 0.. {
        let c = if wide { ['a', 'é', '€', '😀'][i % 4] } else { char::from(b'a' + (i % 26) as u8) };
        if s.len() + c.len_utf8() > len {
            break;
        }
        s.push(c);
    }
    s
}

/// A frame with minimal length encoding, masked with `mask` if given.
pub(super) fn encode_frame(head: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(head);
    let bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(bit | n as u8),
        n @ 126..=0xFFFF => {
            out.push(bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let start = out.len() + mask.map_or(0, |k| k.len());
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut out[start..], key, 0);
    }
    out
}

#[cfg(all(test, feature = "fuzzing"))]
mod tests {
    use super::*;

    #[test]
    fn to_fuzz_input_round_trips_through_arbitrary() {
        use arbitrary::{Arbitrary, Unstructured};
        let settings = Settings { keepalive: Some(3), idle: None, max_unread: 321, ..Settings::roomy() };
        let steps = alloc::vec![
            Step::Handshake(1),
            Step::Sample(6),
            Step::Frame { head: 0x81, masking: Masking::Masked, len: 300, content: Content::Invalid },
            Step::CloseFrame { code: 4000, reason_len: 9 },
            Step::Raw(alloc::vec![0, 1, 2, 255]),
            Step::Deliver(7),
            Step::DeliverPieces(alloc::vec![1, 0, 9]),
            Step::Eof,
            Step::TransportError,
            Step::Advance(5000),
            Step::Timeout,
            Step::SendText { len: 77, wide: true },
            Step::SendBinary(65535),
            Step::SendFragment { text: true, len: 3, fin: false },
            Step::Ping(126),
            Step::Pong(0),
            Step::Close { code: 1000, reason_len: 124 },
            Step::Terminate,
            Step::Accept { protocol: 1, header: 3 },
            Step::Reject(599),
            Step::Feed(3),
            Step::TakeEvents,
        ];
        let script = Script { open: false, settings, steps };
        let bytes = script.to_fuzz_input();
        assert_eq!(Script::arbitrary_take_rest(Unstructured::new(&bytes)).unwrap(), script);
    }
}
