//! The test harness: a client and a server engine wired in memory with a fake
//! clock ([`Pair`]), deterministic randomness, and a frame encoder and decoder
//! written independently of the engine's, to build what a peer sends and read
//! what the engine wrote.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rfc6455::{
    Accept, ClientRequest, CloseEvent, Config, Connection, Error, Event, LocalError, MessageKind, Opened, Payload,
    ProtocolError, Random, ReadyState, ReceiveMode, Role,
};

pub const URL: &str = "ws://example.com/chat";

pub const CONT: u8 = 0x0;
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;

/// The mask key of the examples in RFC 6455 §5.7.
pub const RFC_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// The key [`frame_to`] masks with when it plays a client.
pub const PEER_KEY: [u8; 4] = [0xa5, 0x5a, 0x0f, 0xf0];

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// A random source that fills every buffer with `pattern` repeated.
pub fn repeating(pattern: &'static [u8]) -> Random {
    Random::custom(move |buf| {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = pattern[i % pattern.len()];
        }
    })
}

/// A deterministic random source (xorshift64): different keys for every frame,
/// the same sequence on every run.
pub fn seeded(seed: u64) -> Random {
    assert_ne!(seed, 0);
    let state = Arc::new(AtomicU64::new(seed));
    Random::custom(move |buf| {
        for b in buf {
            let mut x = state.load(Ordering::Relaxed);
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            state.store(x, Ordering::Relaxed);
            *b = (x >> 24) as u8;
        }
    })
}

/// The default settings with deterministic randomness.
pub fn config() -> Config {
    Config::default().random(seeded(0x5eed_1234_abcd))
}

/// Hands all of `bytes` to `conn`, which must take them in one call: the
/// inputs of these tests are far below `Config::max_unread_input`.
pub fn give(conn: &mut Connection, now: Duration, bytes: &[u8]) {
    assert_eq!(conn.handle_bytes(now, bytes), bytes.len(), "the engine took only part of the input");
}

// ----- events -----

pub fn text(s: &str) -> Event {
    Event::Text(s.into())
}

pub fn binary(b: &[u8]) -> Event {
    Event::Binary(Payload::copy_from_slice(b))
}

pub fn ping(b: &[u8]) -> Event {
    Event::Ping(Payload::copy_from_slice(b))
}

pub fn pong(b: &[u8]) -> Event {
    Event::Pong(Payload::copy_from_slice(b))
}

pub fn chunk(kind: MessageKind, data: &[u8], fin: bool) -> Event {
    Event::Chunk { kind, data: Payload::copy_from_slice(data), fin }
}

pub fn closed(code: u16, reason: &str, was_clean: bool) -> Event {
    Event::Closed(CloseEvent::new(code, reason, was_clean))
}

/// The close event of a connection that ended without a closing handshake.
pub fn abnormal() -> Event {
    closed(1006, "", false)
}

pub fn error(e: Error) -> Event {
    Event::Error(e)
}

pub fn violation(e: ProtocolError) -> Event {
    Event::Error(Error::Protocol(e))
}

/// The `Open` event of a server (a client's carries the response headers).
pub fn server_open(protocol: Option<&str>) -> Event {
    let mut opened = Opened::default();
    opened.protocol = protocol.map(String::from);
    Event::Open(Box::new(opened))
}

/// Takes every event and every transmitted byte of a connection used alone.
pub fn drain(conn: &mut Connection) -> (Vec<Event>, Vec<u8>) {
    let events = std::iter::from_fn(|| conn.poll_event()).collect();
    let mut bytes = Vec::new();
    while let Some(b) = conn.poll_transmit() {
        bytes.extend_from_slice(&b);
    }
    (events, bytes)
}

/// Asserts that `f` fails with `expected` and leaves the connection exactly as
/// it was: same state, same queued bytes and events, same timers (the `Debug`
/// output shows every field).
pub fn refused(conn: &mut Connection, expected: LocalError, f: impl FnOnce(&mut Connection) -> Result<(), LocalError>) {
    let before = format!("{conn:?}");
    assert_eq!(f(conn), Err(expected));
    assert_eq!(format!("{conn:?}"), before);
}

// ----- frames -----

/// A frame as the wire carries it, payload unmasked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    pub payload: Vec<u8>,
}

impl Frame {
    pub fn new(fin: bool, opcode: u8, payload: &[u8]) -> Self {
        Frame { fin, rsv: 0, opcode, mask: None, payload: payload.to_vec() }
    }

    /// Encodes the frame, minimal length encoding, masking the payload if it has a key.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![(u8::from(self.fin) << 7) | (self.rsv << 4) | self.opcode];
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let len = self.payload.len();
        if len < 126 {
            out.push(mask_bit | len as u8);
        } else if len <= 0xFFFF {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        let mut payload = self.payload.clone();
        if let Some(key) = self.mask {
            out.extend_from_slice(&key);
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        out.extend_from_slice(&payload);
        out
    }

    /// The close code of a close frame, if it carries one.
    pub fn close_code(&self) -> Option<u16> {
        assert_eq!(self.opcode, CLOSE);
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

/// Decodes a sequence of whole frames; panics on a partial one.
pub fn decode_frames(mut bytes: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 2, "partial frame header: {bytes:x?}");
        let (b0, b1) = (bytes[0], bytes[1]);
        let mut at = 2;
        let len = match b1 & 0x7F {
            126 => {
                at += 2;
                u64::from(u16::from_be_bytes([bytes[2], bytes[3]]))
            }
            127 => {
                at += 8;
                u64::from_be_bytes(bytes[2..10].try_into().unwrap())
            }
            n => u64::from(n),
        } as usize;
        let mask = (b1 & 0x80 != 0).then(|| {
            at += 4;
            <[u8; 4]>::try_from(&bytes[at - 4..at]).unwrap()
        });
        let mut payload = bytes[at..at + len].to_vec();
        if let Some(key) = mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        frames.push(Frame { fin: b0 & 0x80 != 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0F, mask, payload });
        bytes = &bytes[at + len..];
    }
    frames
}

/// The bytes a well-behaved peer of `to` sends: masked with [`PEER_KEY`] when
/// `to` is a server, unmasked when it is a client.
pub fn frame_to(to: Role, fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Frame::new(fin, opcode, payload);
    if to == Role::Server {
        f.mask = Some(PEER_KEY);
    }
    f.encode()
}

/// A close frame payload: the code big-endian, then the reason.
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    p
}

/// The frames a side wrote, expected as (opcode, fin, payload), checking that
/// a client masked every frame and a server none.
pub fn assert_frames(role: Role, bytes: &[u8], expected: &[(u8, bool, &[u8])]) {
    let frames = decode_frames(bytes);
    for f in &frames {
        assert_eq!(f.mask.is_some(), role == Role::Client, "{role:?} masking of {f:?}");
        assert_eq!(f.rsv, 0);
    }
    let got: Vec<(u8, bool, &[u8])> = frames.iter().map(|f| (f.opcode, f.fin, f.payload.as_slice())).collect();
    assert_eq!(got, expected);
}

// ----- the pair -----

/// One end of a [`Pair`].
pub struct Side {
    pub conn: Connection,
    /// Every event polled so far (until [`Pair::clear`]).
    pub events: Vec<Event>,
    /// Every byte transmitted so far (until [`Pair::clear`]).
    pub sent: Vec<u8>,
    /// While true, what this side transmits, and its EOF, wait in flight.
    pub paused: bool,
    /// While true, this side's EOF waits (its bytes still go): a server that
    /// never closes TCP.
    pub hold_eof: bool,
    /// Whether this side has closed its transport.
    pub closed_transport: bool,
    in_flight: Vec<u8>,
    eof_delivered: bool,
    saw_closed: bool,
}

impl Side {
    fn new(conn: Connection) -> Self {
        Side {
            conn,
            events: Vec::new(),
            sent: Vec::new(),
            paused: false,
            hold_eof: false,
            closed_transport: false,
            in_flight: Vec::new(),
            eof_delivered: false,
            saw_closed: false,
        }
    }

    /// Polls the events, checking the ending rules: an `Error` comes right
    /// before `Closed`, one `Closed`, nothing after it.
    fn collect(&mut self) -> bool {
        let start = self.events.len();
        while let Some(ev) = self.conn.poll_event() {
            assert!(!self.saw_closed, "event after Closed: {ev:?}");
            self.saw_closed = matches!(ev, Event::Closed(_));
            self.events.push(ev);
        }
        let batch = &self.events[start..];
        for (i, ev) in batch.iter().enumerate() {
            if matches!(ev, Event::Error(_)) {
                assert!(
                    i + 2 == batch.len() && matches!(batch[i + 1], Event::Closed(_)),
                    "an Error not right before Closed: {batch:?}"
                );
            }
        }
        !batch.is_empty()
    }

    /// Takes the events polled so far.
    pub fn take(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Takes the bytes transmitted so far.
    pub fn take_sent(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.sent)
    }
}

/// Moves what `from` has to say to `to`; returns whether anything happened.
fn step(now: Duration, from: &mut Side, to: &mut Side) -> bool {
    let mut progress = from.collect();
    while let Some(bytes) = from.conn.poll_transmit() {
        assert!(!from.closed_transport, "bytes transmitted after the transport closed");
        from.sent.extend_from_slice(&bytes);
        from.in_flight.extend_from_slice(&bytes);
        progress = true;
    }
    if !from.closed_transport && from.conn.should_close_transport() {
        from.closed_transport = true;
        progress = true;
    }
    if !from.paused {
        if !from.in_flight.is_empty() {
            let bytes = std::mem::take(&mut from.in_flight);
            // A closed socket reads nothing more. What the engine does not
            // take waits until its events are taken, as the contract says.
            let mut at = 0;
            while !to.closed_transport && at < bytes.len() {
                at += to.conn.handle_bytes(now, &bytes[at..]);
                to.collect();
            }
            progress = true;
        }
        if from.closed_transport && !from.eof_delivered && !from.hold_eof {
            from.eof_delivered = true;
            if !to.closed_transport {
                to.conn.handle_eof(now);
            }
            progress = true;
        }
    }
    to.collect() | progress
}

/// A client and a server wired in memory, with a fake clock.
///
/// [`Pair::drive`] shuttles bytes both ways until nothing moves; a side that
/// should close its transport does, and the other then reads EOF.
/// [`Pair::advance`] moves the clock, firing timeouts in order.
pub struct Pair {
    pub now: Duration,
    pub client: Side,
    pub server: Side,
}

impl Pair {
    /// Wires two connections, whatever their state.
    pub fn new(client: Connection, server: Connection) -> Self {
        Pair { now: Duration::ZERO, client: Side::new(client), server: Side::new(server) }
    }

    /// A client about to send its request to `URL`, and a server.
    pub fn handshake(client: Config, server: Config) -> Self {
        let request = ClientRequest::new(URL).unwrap();
        Self::new(
            Connection::client(Duration::ZERO, &request, client).unwrap(),
            Connection::server(Duration::ZERO, server),
        )
    }

    /// An open pair with the default settings; events and logs cleared.
    pub fn connected() -> Self {
        Self::connected_with(config(), config())
    }

    /// An open pair after a real handshake; events and logs cleared.
    pub fn connected_with(client: Config, server: Config) -> Self {
        let mut pair = Self::handshake(client, server);
        pair.drive();
        assert!(matches!(pair.server.events.as_slice(), [Event::Request(r)] if r.is_upgrade()));
        pair.server.conn.accept(pair.now, Accept::new()).unwrap();
        pair.drive();
        assert_eq!(pair.server.events[1..], [server_open(None)]);
        assert!(matches!(pair.client.events.as_slice(), [Event::Open(o)] if o.protocol.is_none()));
        pair.clear();
        pair
    }

    pub fn side(&mut self, role: Role) -> &mut Side {
        match role {
            Role::Client => &mut self.client,
            Role::Server => &mut self.server,
        }
    }

    /// Forgets the events and bytes seen so far.
    pub fn clear(&mut self) {
        for side in [&mut self.client, &mut self.server] {
            side.events.clear();
            side.sent.clear();
        }
    }

    /// Shuttles bytes and EOFs both ways until nothing moves.
    pub fn drive(&mut self) {
        for _ in 0..1000 {
            let a = step(self.now, &mut self.client, &mut self.server);
            let b = step(self.now, &mut self.server, &mut self.client);
            if !a && !b {
                return;
            }
        }
        panic!("the pair did not settle");
    }

    /// Hands `bytes` to one side as if its peer had sent them, then drives.
    pub fn inject(&mut self, to: Role, bytes: &[u8]) {
        let now = self.now;
        give(&mut self.side(to).conn, now, bytes);
        self.drive();
    }

    /// The earliest timeout either side asks for.
    pub fn next_timeout(&self) -> Option<Duration> {
        [&self.client, &self.server].iter().filter_map(|s| s.conn.poll_timeout()).min()
    }

    /// Moves the clock forward by `d`, calling `handle_timeout` on each side
    /// when its `poll_timeout` comes, in time order, and driving after each.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        self.drive();
        for _ in 0..100_000 {
            match self.next_timeout() {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    let now = self.now;
                    for side in [&mut self.client, &mut self.server] {
                        if side.conn.poll_timeout().is_some_and(|t| t <= now) {
                            side.conn.handle_timeout(now);
                        }
                    }
                    self.drive();
                }
                _ => {
                    self.now = end;
                    return;
                }
            }
        }
        panic!("a timeout keeps firing");
    }
}

/// The nonce of the clients in the chunking tests.
pub const NONCE: &[u8; 16] = b"0123456789abcdef";

/// Settings of the chunking tests: a receive mode, and `NONCE` as every random byte source.
pub fn run_config(receive: ReceiveMode) -> Config {
    Config::default().receive(receive).random(repeating(NONCE))
}

/// Feeds `pieces` to a fresh connection of `role`, accepting the request as
/// soon as it is reported, then an EOF if `eof`; returns the events, every
/// byte written, and the final state.
pub fn feed(role: Role, mode: ReceiveMode, pieces: &[&[u8]], eof: bool) -> (Vec<Event>, Vec<u8>, ReadyState) {
    const T: Duration = Duration::ZERO;
    let config = run_config(mode);
    let mut conn = match role {
        Role::Client => Connection::client(T, &ClientRequest::new(URL).unwrap(), config).unwrap(),
        Role::Server => Connection::server(T, config),
    };
    let mut events = Vec::new();
    let mut sent = Vec::new();
    let mut poll = |conn: &mut Connection| {
        while let Some(ev) = conn.poll_event() {
            if matches!(ev, Event::Request(_)) {
                conn.accept(T, Accept::new()).unwrap();
            }
            events.push(ev);
        }
        while let Some(b) = conn.poll_transmit() {
            sent.extend_from_slice(&b);
        }
    };
    poll(&mut conn);
    for piece in pieces {
        let mut at = 0;
        while at < piece.len() {
            at += conn.handle_bytes(T, &piece[at..]);
            poll(&mut conn);
        }
    }
    if eof {
        conn.handle_eof(T);
        poll(&mut conn);
    }
    (events, sent, conn.ready_state())
}

/// Streaming chunks depend on where reads end; their concatenation does not.
/// Merges each message's chunks into one, at the place of its first.
pub fn merge_chunks(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    let mut open: Option<usize> = None;
    for ev in events {
        match (ev, open) {
            (Event::Chunk { data, fin, .. }, Some(i)) => {
                let Event::Chunk { data: all, fin: done, .. } = &mut out[i] else { unreachable!() };
                *all = [all.as_ref(), data.as_ref()].concat().into();
                *done = fin;
                if fin {
                    open = None;
                }
            }
            (ev @ Event::Chunk { fin, .. }, None) => {
                out.push(ev);
                open = (!fin).then_some(out.len() - 1);
            }
            (ev, _) => out.push(ev),
        }
    }
    out
}

/// The request the chunking tests' servers read (RFC 6455 §1.3's key).
pub const REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                           Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// The handshake message `role` reads in the chunking tests: the request, or
/// the 101 answering the key a client with `run_config` sends.
pub fn chunking_handshake(role: Role) -> Vec<u8> {
    match role {
        Role::Server => REQUEST.into(),
        Role::Client => {
            let mut client = Connection::client(
                Duration::ZERO,
                &ClientRequest::new(URL).unwrap(),
                run_config(ReceiveMode::Messages),
            )
            .unwrap();
            let sent = String::from_utf8(drain(&mut client).1).unwrap();
            let key = sent.split("Sec-WebSocket-Key: ").nth(1).unwrap().split("\r\n").next().unwrap();
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\n\r\n",
                rfc6455::accept_key(key.as_bytes())
            )
            .into()
        }
    }
}
