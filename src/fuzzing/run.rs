//! Runs a [`Script`] against a connection and checks the invariants after
//! every input and command; the peer engine that reads what it writes.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use base64::Engine;

use super::script::{
    Script, Settings, Step, client_request, encode_frame, handshake_bytes, payload, peer_mask, sample_frame, text,
};
use crate::close::CloseCode;
use crate::config::ReceiveMode;
use crate::connection::Fragment;
use crate::error::Error;
use crate::event::{Event, MessageKind};
use crate::frame::{MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use crate::handshake::{HandshakeError, Opened, Request};
use crate::local_error::LocalError;
use crate::state::ReadyState;
use crate::{CloseEvent, Connection, Role};

/// The most timeouts one `Advance` may fire; more means a timer that does not move on.
const MAX_TIMEOUTS: usize = 10_000;
/// The most pieces one delivery is cut into.
const MAX_PIECES: usize = 4096;

/// How the queued peer bytes are handed over.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Chunking {
    /// In the pieces the script says.
    Scripted,
    /// Each delivery in one call.
    Whole,
}

/// Runs `script` in its pieces and whole, checking each run, and checks
/// that both give the same events (streamed chunks merged) and bytes.
pub(super) fn check(role: Role, script: &Script) {
    let pieces = Run::execute(role, script, Chunking::Scripted);
    let whole = Run::execute(role, script, Chunking::Whole);
    assert_eq!(normalise(pieces.events), normalise(whole.events), "pieces and whole differ");
    assert!(pieces.sent == whole.sent, "pieces and whole wrote different bytes");
}

/// One run of a script.
struct Run {
    role: Role,
    conn: Connection,
    now: Duration,
    /// Peer bytes queued and not yet delivered.
    queued: Vec<u8>,
    events: Vec<Event>,
    sent: Vec<u8>,
    state: ReadyState,
    /// Server: the last request reported.
    request: Option<Request>,
    /// Server: the subprotocol accepted.
    accepted: Option<String>,
    /// The data messages the application sent, whole.
    sends: Vec<(MessageKind, Vec<u8>)>,
    /// A fragmented message being sent.
    fragments: Option<(MessageKind, Vec<u8>)>,
    /// The close the application started while OPEN.
    app_close: Option<(CloseCode, String)>,
    peer: Peer,
    /// Peer bytes the engine took so far.
    received: usize,
}

impl Run {
    fn execute(role: Role, script: &Script, chunking: Chunking) -> Run {
        let config = script.settings.config(super::script::SAMPLE_NONCE);
        let t = Duration::ZERO;
        let (conn, peer) = match (script.open, role) {
            (true, _) => (Connection::open(t, role, None, config), Peer::open(other(role))),
            (false, Role::Client) => {
                let conn = Connection::client(t, &client_request(), config).expect("the request is valid");
                (conn, Peer::server())
            }
            (false, Role::Server) => (Connection::server(t, config), Peer::client()),
        };
        let mut run = Run {
            role,
            state: conn.ready_state(),
            conn,
            now: t,
            queued: Vec::new(),
            events: Vec::new(),
            sent: Vec::new(),
            request: None,
            accepted: None,
            sends: Vec::new(),
            fragments: None,
            app_close: None,
            peer,
            received: 0,
        };
        run.drain();
        for step in &script.steps {
            run.step(step, chunking);
        }
        run.finish();
        run
    }

    fn step(&mut self, step: &Step, chunking: Chunking) {
        let role = self.role;
        match step {
            Step::Handshake(v) => self.queued.extend_from_slice(handshake_bytes(role, *v)),
            Step::Sample(v) => self.queued.extend_from_slice(&sample_frame(role, *v)),
            Step::Frame { head, masking, len, content } => {
                let frame = encode_frame(*head, peer_mask(role, *masking), &payload(*content, usize::from(*len)));
                self.queued.extend_from_slice(&frame);
            }
            Step::CloseFrame { code, reason_len } => {
                let body = [&code.to_be_bytes()[..], text(usize::from(*reason_len), true).as_bytes()].concat();
                let frame = encode_frame(0x88, peer_mask(role, super::Masking::AsPeer), &body);
                self.queued.extend_from_slice(&frame);
            }
            Step::Raw(bytes) => self.queued.extend_from_slice(bytes),
            Step::Deliver(0) => self.deliver(&[], chunking),
            Step::Deliver(n) => self.deliver(&[*n], chunking),
            Step::DeliverPieces(sizes) => self.deliver(sizes, chunking),
            Step::Eof => {
                self.conn.handle_eof(self.now);
                self.drain();
            }
            Step::TransportError => {
                self.conn.handle_transport_error(self.now);
                self.drain();
            }
            Step::Advance(ms) => self.advance(Duration::from_millis(u64::from(*ms))),
            Step::Timeout => {
                self.conn.handle_timeout(self.now);
                self.drain();
            }
            Step::SendText { len, wide } => {
                let text = text(usize::from(*len), *wide);
                if self.send(|c, _| c.send_text(&text)) {
                    self.sends.push((MessageKind::Text, text.into_bytes()));
                }
            }
            Step::SendBinary(len) => {
                let data = payload(super::Content::Ascii, usize::from(*len));
                // Odd lengths go through the shared-buffer API (queued as they
                // are from 4 KiB up), even ones are borrowed.
                let shared = len % 2 == 1;
                let sent = self.send(|c, _| match shared {
                    true => c.send_binary_bytes(bytes::Bytes::from(data.clone())),
                    false => c.send_binary(&data),
                });
                if sent {
                    self.sends.push((MessageKind::Binary, data));
                }
            }
            Step::SendFragment { text: is_text, len, fin } => {
                let (kind, data) = if *is_text {
                    (MessageKind::Text, text(usize::from(*len), true).into_bytes())
                } else {
                    (MessageKind::Binary, payload(super::Content::Zeros, usize::from(*len)))
                };
                let piece = match kind {
                    MessageKind::Text => Fragment::Text(core::str::from_utf8(&data).expect("whole characters")),
                    MessageKind::Binary => Fragment::Binary(&data),
                };
                if self.send(|c, _| c.send_fragment(piece, *fin)) {
                    let message = self.fragments.get_or_insert_with(|| (kind, Vec::new()));
                    message.1.extend_from_slice(&data);
                    if *fin {
                        let done = self.fragments.take().expect("just inserted");
                        self.sends.push(done);
                    }
                }
            }
            Step::Ping(len) => {
                let data = payload(super::Content::Ascii, usize::from(*len));
                self.send(|c, _| c.send_ping(&data));
            }
            Step::Pong(len) => {
                let data = payload(super::Content::Ascii, usize::from(*len));
                self.send(|c, _| c.send_pong(&data));
            }
            Step::Close { code, reason_len } => {
                let reason = text(usize::from(*reason_len), true);
                let was_open = self.state == ReadyState::Open;
                if self.command(|c, now| c.close(now, *code, &reason)) && was_open {
                    self.app_close = Some((CloseCode(*code), reason));
                }
            }
            Step::Terminate => {
                self.conn.terminate(self.now);
                self.drain();
            }
            Step::Accept { protocol, header } => {
                let offered: Vec<String> = match &self.request {
                    Some(r) => r.protocols.iter().filter(|p| is_token(p)).cloned().collect(),
                    None => Vec::new(),
                };
                let protocol = match (*protocol, offered.len()) {
                    (0, _) => None,
                    (_, 0) => Some(String::from("not-offered")),
                    (p, n) => Some(offered[usize::from(p - 1) % n].clone()),
                };
                let headers: &[(&str, &str)] = match header % 4 {
                    0 => &[],
                    1 => &[("X-Fuzz", "1")],
                    2 => &[("Sec-WebSocket-Accept", "x")],
                    _ => &[("Bad Name", "x")],
                };
                // The peer reads the 101 while the command drains: it must know the choice.
                let previous = core::mem::replace(&mut self.accepted, protocol.clone());
                let mut accept = crate::Accept::new();
                accept.protocol = protocol.clone();
                for (name, value) in headers {
                    accept = accept.header(name, value);
                }
                if !self.command(|c, now| c.accept(now, accept)) {
                    self.accepted = previous;
                }
            }
            Step::Reject(status) => {
                self.command(|c, now| c.reject(now, *status, &[("X-Fuzz", "1")], b"refused"));
            }
        }
    }

    /// Hands the queued bytes over, in pieces of `sizes` in turn (whole
    /// when empty or when the run is the whole one).
    fn deliver(&mut self, sizes: &[u8], chunking: Chunking) {
        let data = core::mem::take(&mut self.queued);
        if sizes.is_empty() || chunking == Chunking::Whole {
            return self.input(&data);
        }
        // Pieces no smaller than needed to keep to MAX_PIECES, so that a big
        // frame read byte by byte does not make a slow input.
        let least = data.len().div_ceil(MAX_PIECES);
        let mut at = 0;
        for &size in sizes.iter().cycle() {
            if at == data.len() {
                break;
            }
            let end = data.len().min(at + usize::from(size).max(least).max(1));
            self.input(&data[at..end]);
            at = end;
        }
    }

    /// Hands `data` over as the driving contract says: what the engine does
    /// not take is handed again after draining.
    fn input(&mut self, data: &[u8]) {
        let mut at = 0;
        while at < data.len() {
            let taken = self.conn.handle_bytes(self.now, &data[at..]);
            assert!(taken > 0, "no progress with every event taken");
            self.received += taken;
            at += taken;
            self.drain();
        }
    }

    /// Moves the clock by `by`, firing each timeout when it comes.
    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        for _ in 0..MAX_TIMEOUTS {
            match self.conn.poll_timeout() {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.conn.handle_timeout(self.now);
                    self.drain();
                    let next = self.conn.poll_timeout();
                    assert!(next.is_none_or(|n| n > self.now), "the timeout at {t:?} is due again: {next:?}");
                }
                _ => {
                    self.now = end;
                    return;
                }
            }
        }
        panic!("more than {MAX_TIMEOUTS} timeouts in {by:?}");
    }

    /// A `send_*` command: a refusal must fit the state.
    fn send(&mut self, f: impl FnOnce(&mut Connection, Duration) -> Result<(), LocalError>) -> bool {
        let state = self.state;
        let sending = self.fragments.is_some();
        let before = self.events.len();
        let ok = self.command_checked(f, |e| {
            let fits = match state {
                ReadyState::Connecting => e == &LocalError::NotOpen,
                ReadyState::Open => {
                    matches!(e, LocalError::ControlPayloadTooLong(_))
                        || (sending && e == &LocalError::MessageInProgress)
                }
                ReadyState::Closing => e == &LocalError::Closing,
                ReadyState::Closed => e == &LocalError::Closed,
            };
            assert!(fits, "{e:?} refused a send while {state:?}");
        });
        assert_eq!(self.events.len(), before, "a send reported an event");
        ok
    }

    fn command(&mut self, f: impl FnOnce(&mut Connection, Duration) -> Result<(), LocalError>) -> bool {
        self.command_checked(f, |_| {})
    }

    /// Runs a command; a refusal must leave the connection exactly as it was.
    fn command_checked(
        &mut self,
        f: impl FnOnce(&mut Connection, Duration) -> Result<(), LocalError>,
        check: impl FnOnce(&LocalError),
    ) -> bool {
        let before = format!("{:?}", self.conn);
        let result = f(&mut self.conn, self.now);
        if let Err(e) = &result {
            check(e);
            assert!(format!("{:?}", self.conn) == before, "{e:?} changed the connection");
        }
        self.drain();
        result.is_ok()
    }

    /// Takes every event and every byte, and checks the invariants. The
    /// bytes are taken after each event (through `poll_transmit_into`, in
    /// small pieces), as a driver that writes as it goes does, and at the end
    /// through `poll_transmit`: so pongs are never left to pile up, and the
    /// same input gives the same bytes however it is cut.
    fn drain(&mut self) {
        let mut out = Vec::new();
        while let Some(event) = self.conn.poll_event() {
            assert!(!self.closed(), "{event:?} after Closed");
            if matches!(self.events.last(), Some(Event::Error(_))) {
                assert!(matches!(event, Event::Closed(_)), "{event:?} after an Error");
            }
            match &event {
                Event::Request(r) => {
                    assert_eq!(self.role, Role::Server);
                    check_request(r);
                    self.request = Some((**r).clone());
                }
                Event::Open(o) => check_open(self.role, o),
                Event::Text(_) | Event::Binary(_) => assert!(self.conn.config().receive == ReceiveMode::Messages),
                Event::Chunk { .. } => assert!(self.conn.config().receive == ReceiveMode::Streaming),
                Event::Closed(c) => check_close_event(c),
                _ => {}
            }
            self.events.push(event);
            let mut piece = [0; 97];
            loop {
                let n = self.conn.poll_transmit_into(&mut piece);
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&piece[..n]);
            }
        }
        assert!(!matches!(self.events.last(), Some(Event::Error(_))), "an Error without Closed");
        while let Some(bytes) = self.conn.poll_transmit() {
            assert!(!bytes.is_empty());
            out.extend_from_slice(&bytes);
        }
        if !out.is_empty() {
            self.sent.extend_from_slice(&out);
            let nonce = self.request.as_ref().and_then(|r| r.key.as_deref()).map(nonce_of);
            self.peer.read(&out, nonce, self.accepted.as_deref());
        }
        let state = self.conn.ready_state();
        assert!(state.as_u8() >= self.state.as_u8(), "{:?} went back to {state:?}", self.state);
        self.state = state;
        assert_eq!(self.conn.should_close_transport(), state == ReadyState::Closed);
        assert_eq!(self.closed(), state == ReadyState::Closed);
        if state == ReadyState::Closed {
            assert_eq!(self.conn.poll_timeout(), None);
        }
        assert_eq!(self.conn.buffered_amount(), 0);
        self.check_memory();
    }

    /// The input held stays within the limits of the settings, and the heap
    /// held for it (allocated capacity, not length) within twice that and
    /// twice the bytes received: never sized by what a header announces.
    fn check_memory(&self) {
        let config = self.conn.config();
        let held = self.conn.buffered_input_len();
        let limit = match self.state {
            ReadyState::Connecting => config.max_handshake_bytes,
            ReadyState::Closed => 0,
            ReadyState::Open | ReadyState::Closing => {
                // A message (or, streaming, the bytes of one unfinished
                // character), a control payload, a partial header; unread
                // input only while events wait, and they were all taken.
                let message = if config.receive == ReceiveMode::Messages { config.max_message_size } else { 3 };
                message + MAX_CONTROL_PAYLOAD + MAX_HEADER_LEN - 1
            }
        };
        assert!(held <= limit, "{held} bytes of input held while {:?}; the limit is {limit}", self.state);
        let capacity = self.conn.buffered_input_capacity();
        let bound = (2 * limit).min(2 * self.received) + 64;
        assert!(
            capacity <= bound,
            "{capacity} bytes of heap for input after {} received while {:?}; the bound is {bound}",
            self.received,
            self.state
        );
    }

    fn closed(&self) -> bool {
        self.events.iter().any(|e| matches!(e, Event::Closed(_)))
    }

    /// Delivers what is left, then EOF: the connection must be closed with
    /// exactly one close event, and the peer must have read what was sent.
    fn finish(&mut self) {
        self.deliver(&[], Chunking::Whole);
        self.conn.handle_eof(self.now);
        self.drain();
        assert_eq!(self.state, ReadyState::Closed);
        let closes = self.events.iter().filter(|e| matches!(e, Event::Closed(_))).count();
        assert_eq!(closes, 1, "{closes} close events");
        assert_eq!(self.conn.buffered_input_len(), 0);
        self.peer.finish(&self.sends, self.app_close.as_ref());
    }
}

/// Whether `bytes` are whole pong frames and nothing else.
fn only_pongs(mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        let Ok(Some((header, n))) = crate::frame::FrameHeader::decode(bytes) else { return false };
        let end = n + header.len as usize;
        if header.opcode != crate::frame::OpCode::Pong || end > bytes.len() {
            return false;
        }
        bytes = &bytes[end..];
    }
    true
}

/// The other role.
fn other(role: Role) -> Role {
    match role {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    }
}

/// The nonce behind a `Sec-WebSocket-Key` the engine accepted.
fn nonce_of(key: &str) -> [u8; 16] {
    let bytes = base64::engine::general_purpose::STANDARD.decode(key).expect("the engine checked the key");
    bytes.try_into().expect("the engine checked the key is 16 bytes")
}

/// An HTTP token (RFC 7230 §3.2.6), as a subprotocol a client can offer.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// An upgrade request passed every rule of RFC 6455 §4.2.1, checked again here.
fn check_request(r: &Request) {
    let h = &r.headers;
    let Some(key) = r.key.as_deref() else {
        assert!(!h.has_token("Upgrade", "websocket"), "an upgrade request without a key: {r:?}");
        return;
    };
    assert_eq!(r.method, "GET");
    assert!(h.get("Host").is_some());
    assert!(h.has_token("Upgrade", "websocket") && h.has_token("Connection", "upgrade"));
    let versions: Vec<&[u8]> = h.get_all("Sec-WebSocket-Version").map(<[u8]>::trim_ascii).collect();
    assert_eq!(versions, [b"13"]);
    assert_eq!(h.get_all("Sec-WebSocket-Key").count(), 1);
    nonce_of(key);
}

/// A client's open handshake chose what it offered.
fn check_open(role: Role, o: &Opened) {
    if role == Role::Client {
        assert!(matches!(o.protocol.as_deref(), None | Some("chat" | "superchat")), "{o:?}");
    }
    assert!(o.extensions.is_empty(), "{o:?}");
}

/// A close event is either the peer's close frame or 1006.
fn check_close_event(c: &CloseEvent) {
    if c.was_clean {
        assert!(c.code == CloseCode::NO_STATUS || c.code.is_sendable(), "{c:?}");
    } else {
        assert_eq!((c.code, c.reason.as_str()), (CloseCode::ABNORMAL, ""));
    }
}

/// An engine in the opposite role, reading everything the one under test writes.
struct Peer {
    /// None until a server under test writes its first bytes: the client
    /// reading them needs the nonce of the request it answers.
    conn: Option<Connection>,
    /// The data messages read.
    messages: Vec<(MessageKind, Vec<u8>)>,
    /// The status of a refused handshake.
    refused: Option<u16>,
    close: Option<CloseEvent>,
}

impl Peer {
    fn config(nonce: [u8; 16]) -> crate::Config {
        let settings =
            Settings { max_handshake_bytes: u16::MAX, max_headers: 255, handshake_timeout: None, ..Settings::roomy() };
        settings.config(nonce).max_message_size(1 << 24)
    }

    fn new(conn: Option<Connection>) -> Self {
        Peer { conn, messages: Vec::new(), refused: None, close: None }
    }

    fn open(role: Role) -> Self {
        Self::new(Some(Connection::open(Duration::ZERO, role, None, Self::config([0; 16]))))
    }

    fn server() -> Self {
        Self::new(Some(Connection::server(Duration::ZERO, Self::config([0; 16]))))
    }

    fn client() -> Self {
        Self::new(None)
    }

    /// Reads bytes the engine under test wrote; `nonce` and `protocol` are
    /// those of the request a server under test answers.
    fn read(&mut self, bytes: &[u8], nonce: Option<[u8; 16]>, protocol: Option<&str>) {
        let t = Duration::ZERO;
        let conn = self.conn.get_or_insert_with(|| {
            let mut request = client_request();
            if let Some(p) = protocol {
                request = crate::ClientRequest::new("ws://server.example.com/chat").expect("valid").protocol(p);
            }
            let config = Self::config(nonce.unwrap_or([0; 16]));
            let mut client = Connection::client(t, &request, config).expect("the peer's request is valid");
            while client.poll_transmit().is_some() {}
            client
        });
        let state = conn.ready_state();
        // After its close frame the engine may still answer pings (RFC 6455
        // §5.5.2), and nothing else.
        assert!(
            matches!(state, ReadyState::Connecting | ReadyState::Open) || only_pongs(bytes),
            "{} bytes written after the close frame or a refusal ({state:?})",
            bytes.len()
        );
        let mut at = 0;
        let mut events = Vec::new();
        while at < bytes.len() {
            at += conn.handle_bytes(t, &bytes[at..]);
            events.extend(core::iter::from_fn(|| conn.poll_event()));
        }
        for event in events {
            match event {
                Event::Request(r) => {
                    assert!(r.is_upgrade(), "the engine's request is not an upgrade: {r:?}");
                    conn.accept(t, crate::Accept::new()).expect("an upgrade can be accepted");
                }
                Event::Open(_) | Event::Ping(_) | Event::Pong(_) => {}
                Event::Text(s) => self.messages.push((MessageKind::Text, Vec::from(s.into_payload()))),
                Event::Binary(b) => self.messages.push((MessageKind::Binary, b.to_vec())),
                Event::Error(Error::Handshake(HandshakeError::Status { status, .. })) if status != 101 => {
                    self.refused = Some(status);
                }
                Event::Closed(c) => {
                    assert!(c.was_clean || self.refused.is_some(), "the peer closed: {c:?}");
                    self.close = Some(c);
                }
                other => panic!("the peer could not read what the engine wrote: {other:?}"),
            }
        }
        while conn.poll_transmit().is_some() {}
    }

    /// The peer read exactly the messages sent, and the close the application started.
    fn finish(&mut self, sends: &[(MessageKind, Vec<u8>)], app_close: Option<&(CloseCode, String)>) {
        assert!(self.messages == sends, "the peer read {} messages of {} sent", self.messages.len(), sends.len());
        if let Some(conn) = self.conn.as_mut().filter(|c| c.ready_state() == ReadyState::Closing) {
            // A client peer that read the close frame waits for the server's EOF.
            conn.handle_eof(Duration::ZERO);
            while let Some(event) = conn.poll_event() {
                if let Event::Closed(c) = event {
                    self.close = Some(c);
                }
            }
        }
        if let Some((code, reason)) = app_close {
            let close = self.close.as_ref().expect("the peer read the close frame");
            assert_eq!((close.code, close.reason.as_str()), (*code, reason.as_str()));
            assert!(close.was_clean);
        }
    }
}

/// The events with what depends on read boundaries taken out: streamed
/// chunks merged into one per message at the place of the first (a message
/// cut short is dropped: how much of it showed depends on the reads), and a
/// request refused for the early data behind it (reported only when the
/// request ended a read before the excess arrived).
fn normalise(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    let mut open: Option<usize> = None;
    for event in events {
        match (event, open) {
            (Event::Chunk { data, fin, .. }, Some(i)) => {
                let Event::Chunk { data: all, fin: done, .. } = &mut out[i] else { unreachable!("a chunk") };
                *all = [all.as_ref(), data.as_ref()].concat().into();
                *done = fin;
                if fin {
                    open = None;
                }
            }
            (event @ Event::Chunk { fin, .. }, None) => {
                out.push(event);
                open = (!fin).then_some(out.len() - 1);
            }
            (event, _) => out.push(event),
        }
    }
    if let Some(i) = open {
        out.remove(i);
    }
    let early = Event::Error(Error::Handshake(HandshakeError::TooMuchEarlyData));
    if let Some(i) = out.iter().position(|e| *e == early)
        && i > 0
        && matches!(out[i - 1], Event::Request(_))
    {
        out.remove(i - 1);
    }
    out
}
