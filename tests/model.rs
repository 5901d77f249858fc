//! A model test of CONNECTING → OPEN → CLOSING → CLOSED: random sequences of
//! local commands, a well-behaved peer's actions (and one violation), and the
//! clock, run against the engine and against a small model written from RFC
//! 6455 §4–§7 and docs/state-machine.md. After every step they must agree on
//! what a command returns, which events are reported, which frames (or HTTP
//! responses) are written, the `readyState`, when the transport must close,
//! and when the next timeout is due.

mod common;

use std::time::Duration;

use common::*;
use proptest::prelude::*;
use rfc6455::{
    Accept, ClientRequest, Connection, Error, Event, HandshakeError, LocalError, ProtocolError, ReadyState, Role,
    accept_key,
};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

#[derive(Clone, Debug)]
enum Action {
    // The application.
    SendText(String),
    SendPing(Vec<u8>),
    Close(u16),
    CloseWithLongReason,
    Terminate,
    Accept,
    Reject,
    // The peer, which behaves: it sends frames only once its handshake is
    // done and until it has sent a close (or broken the protocol), and a
    // step it could not take is skipped.
    PeerHandshake,
    PeerText(String),
    PeerPing(Vec<u8>),
    PeerClose(u16),
    PeerViolation,
    PeerEof,
    // The clock.
    Wait(u64),
}

fn action() -> impl Strategy<Value = Action> {
    let any_code = prop_oneof![1000..=1015u16, 2990..=3010u16, 4990..=5010u16, any::<u16>()];
    let wire_code = prop_oneof![1000..=1003u16, 1007..=1014u16, 3000..=4999u16];
    prop_oneof![
        2 => "[a-z€]{0,12}".prop_map(Action::SendText),
        1 => proptest::collection::vec(any::<u8>(), 0..8).prop_map(Action::SendPing),
        2 => any_code.prop_map(Action::Close),
        1 => Just(Action::CloseWithLongReason),
        1 => Just(Action::Terminate),
        2 => Just(Action::Accept),
        1 => Just(Action::Reject),
        3 => Just(Action::PeerHandshake),
        3 => "[a-zé]{0,12}".prop_map(Action::PeerText),
        2 => proptest::collection::vec(any::<u8>(), 0..8).prop_map(Action::PeerPing),
        2 => wire_code.prop_map(Action::PeerClose),
        1 => Just(Action::PeerViolation),
        1 => Just(Action::PeerEof),
        2 => prop_oneof![0..2000u64, 4000..6000u64, 9000..11_000u64].prop_map(Action::Wait),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Connecting,
    Open,
    CloseSent,
    AwaitingEof,
    Closed,
}

/// What a step writes: an HTTP response's status, or a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Wire {
    Http(u16),
    Frame(u8, Vec<u8>),
}

/// What one step gives.
#[derive(Debug, Default, PartialEq)]
struct Out {
    result: Option<Result<(), LocalError>>,
    events: Vec<Event>,
    wire: Vec<Wire>,
}

struct Model {
    role: Role,
    phase: Phase,
    now: Duration,
    deadline: Option<Duration>,
    /// Server: a request was reported and not yet answered.
    request_pending: bool,
    /// The code of the close frame received.
    peer_code: Option<u16>,
    // The peer's side.
    peer_handshake_sent: bool,
    peer_open: bool,
    peer_done: bool,
    peer_eof: bool,
}

fn sendable(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

fn close_bytes(code: u16) -> Vec<u8> {
    if code == 1005 { Vec::new() } else { code.to_be_bytes().to_vec() }
}

impl Model {
    fn new(role: Role) -> Self {
        Model {
            role,
            phase: Phase::Connecting,
            now: Duration::ZERO,
            deadline: Some(HANDSHAKE_TIMEOUT),
            request_pending: false,
            peer_code: None,
            peer_handshake_sent: false,
            peer_open: false,
            peer_done: false,
            peer_eof: false,
        }
    }

    fn ready_state(&self) -> ReadyState {
        match self.phase {
            Phase::Connecting => ReadyState::Connecting,
            Phase::Open => ReadyState::Open,
            Phase::CloseSent | Phase::AwaitingEof => ReadyState::Closing,
            Phase::Closed => ReadyState::Closed,
        }
    }

    fn timeout(&self) -> Option<Duration> {
        match self.phase {
            Phase::Open | Phase::Closed => None,
            _ => self.deadline,
        }
    }

    /// Whether the peer may send a frame now.
    fn peer_can_send(&self) -> bool {
        self.peer_open && !self.peer_done && !self.peer_eof
    }

    fn close_abnormally(&mut self, out: &mut Out, error: Option<Error>) {
        out.events.extend(error.map(Event::Error));
        out.events.push(abnormal());
        self.phase = Phase::Closed;
        self.deadline = None;
    }

    fn close_cleanly(&mut self, out: &mut Out) {
        out.events.push(closed(self.peer_code.expect("a close frame was read"), "", true));
        self.phase = Phase::Closed;
        self.deadline = None;
    }

    /// The peer's close frame arrived (RFC 6455 §7.1.5): a server is done, a
    /// client waits for the server to close TCP (§7.1.1).
    fn peer_closed(&mut self, code: u16, out: &mut Out) {
        self.peer_code = Some(code);
        match self.role {
            Role::Server => self.close_cleanly(out),
            Role::Client => {
                self.phase = Phase::AwaitingEof;
                self.deadline = Some(self.now + CLOSE_TIMEOUT);
            }
        }
    }

    fn send_result(&self) -> Result<(), LocalError> {
        match self.phase {
            Phase::Connecting => Err(LocalError::NotOpen),
            Phase::Open => Ok(()),
            Phase::CloseSent | Phase::AwaitingEof => Err(LocalError::Closing),
            Phase::Closed => Err(LocalError::Closed),
        }
    }

    fn answer_result(&self) -> Result<(), LocalError> {
        if self.role == Role::Client {
            Err(LocalError::WrongRole)
        } else if self.phase == Phase::Closed {
            Err(LocalError::Closed)
        } else if !self.request_pending {
            Err(LocalError::NoRequest)
        } else {
            Ok(())
        }
    }

    /// What `action` should give, or `None` if the peer cannot take it now.
    fn step(&mut self, action: &Action) -> Option<Out> {
        let mut out = Out::default();
        let open_or_closing = matches!(self.phase, Phase::Open | Phase::CloseSent);
        match action {
            Action::SendText(s) => {
                out.result = Some(self.send_result());
                if self.phase == Phase::Open {
                    out.wire.push(Wire::Frame(TEXT, s.clone().into_bytes()));
                }
            }
            Action::SendPing(p) => {
                out.result = Some(self.send_result());
                if self.phase == Phase::Open {
                    out.wire.push(Wire::Frame(PING, p.clone()));
                }
            }
            // 1005 is "no code": an empty close frame, as the browser's close().
            Action::Close(code) if *code != 1005 && !sendable(*code) => {
                out.result = Some(Err(LocalError::InvalidCloseCode(*code)))
            }
            Action::CloseWithLongReason => out.result = Some(Err(LocalError::CloseReasonTooLong(124))),
            Action::Close(code) => {
                out.result = Some(match self.phase {
                    Phase::Connecting => {
                        // The browser abandons the attempt: `error`, then `close`.
                        self.request_pending = false;
                        self.close_abnormally(&mut out, Some(Error::ClosedBeforeOpen));
                        Ok(())
                    }
                    Phase::Open => {
                        out.wire.push(Wire::Frame(CLOSE, close_bytes(*code)));
                        self.phase = Phase::CloseSent;
                        self.deadline = Some(self.now + CLOSE_TIMEOUT);
                        Ok(())
                    }
                    Phase::CloseSent | Phase::AwaitingEof => Err(LocalError::Closing),
                    Phase::Closed => Err(LocalError::Closed),
                });
            }
            Action::Terminate => match self.phase {
                Phase::Closed => {}
                Phase::AwaitingEof => self.close_cleanly(&mut out),
                _ => self.close_abnormally(&mut out, None),
            },
            Action::Accept => {
                let result = self.answer_result();
                if result.is_ok() {
                    out.wire.push(Wire::Http(101));
                    out.events.push(server_open(None));
                    self.phase = Phase::Open;
                    self.deadline = None;
                    self.request_pending = false;
                    self.peer_open = true;
                }
                out.result = Some(result);
            }
            Action::Reject => {
                let result = self.answer_result();
                if result.is_ok() {
                    out.wire.push(Wire::Http(404));
                    self.request_pending = false;
                    self.close_abnormally(&mut out, None);
                }
                out.result = Some(result);
            }
            Action::PeerHandshake => {
                if self.peer_handshake_sent || self.peer_eof {
                    return None;
                }
                self.peer_handshake_sent = true;
                match (self.role, self.phase) {
                    (Role::Client, Phase::Connecting) => {
                        out.events.push(Event::Open(Default::default()));
                        self.phase = Phase::Open;
                        self.deadline = None;
                        self.peer_open = true;
                    }
                    (Role::Client, _) => self.peer_open = true,
                    (Role::Server, Phase::Connecting) => {
                        out.events.push(Event::Request(dummy_request()));
                        self.request_pending = true;
                    }
                    (Role::Server, _) => {}
                }
            }
            Action::PeerText(s) => {
                if !self.peer_can_send() {
                    return None;
                }
                if open_or_closing {
                    out.events.push(text(s));
                }
            }
            Action::PeerPing(p) => {
                if !self.peer_can_send() {
                    return None;
                }
                if open_or_closing {
                    out.events.push(ping(p));
                }
                // RFC 6455 §5.5.2: answered until the peer's close frame arrives.
                if matches!(self.phase, Phase::Open | Phase::CloseSent) {
                    out.wire.push(Wire::Frame(PONG, p.clone()));
                }
            }
            Action::PeerClose(code) => {
                if !self.peer_can_send() {
                    return None;
                }
                self.peer_done = true;
                if self.phase == Phase::Open {
                    out.wire.push(Wire::Frame(CLOSE, close_bytes(*code)));
                }
                if open_or_closing {
                    self.peer_closed(*code, &mut out);
                }
            }
            Action::PeerViolation => {
                if !self.peer_can_send() {
                    return None;
                }
                self.peer_done = true;
                let e = ProtocolError::ReservedOpcode(3);
                if self.phase == Phase::Open {
                    out.wire.push(Wire::Frame(CLOSE, close_payload(1002, &e.to_string())));
                }
                if open_or_closing {
                    self.close_abnormally(&mut out, Some(Error::Protocol(e)));
                }
            }
            Action::PeerEof => {
                if self.peer_eof {
                    return None;
                }
                self.peer_eof = true;
                match self.phase {
                    Phase::Connecting => {
                        self.close_abnormally(&mut out, Some(Error::Handshake(HandshakeError::UnexpectedEof)))
                    }
                    Phase::Open | Phase::CloseSent => self.close_abnormally(&mut out, Some(Error::UnexpectedEof)),
                    Phase::AwaitingEof => self.close_cleanly(&mut out),
                    Phase::Closed => {}
                }
            }
            Action::Wait(ms) => {
                self.now += Duration::from_millis(*ms);
                if self.timeout().is_some_and(|t| t <= self.now) {
                    match self.phase {
                        Phase::Connecting => self.close_abnormally(&mut out, Some(Error::HandshakeTimeout)),
                        Phase::CloseSent => self.close_abnormally(&mut out, Some(Error::CloseTimeout)),
                        Phase::AwaitingEof => self.close_cleanly(&mut out),
                        Phase::Open | Phase::Closed => unreachable!("no timeout then"),
                    }
                }
            }
        }
        Some(out)
    }
}

/// Stands in for the request event, whose details tests/handshake.rs checks.
fn dummy_request() -> Box<rfc6455::Request> {
    let mut server = Connection::server(Duration::ZERO, config());
    give(&mut server, Duration::ZERO, REQUEST.as_bytes());
    match server.poll_event() {
        Some(Event::Request(r)) => r,
        other => panic!("{other:?}"),
    }
}

/// Events compared with the model: the client's `Open` without its headers.
fn comparable(event: Event) -> Event {
    match event {
        Event::Open(o) if o.headers.get("Sec-WebSocket-Accept").is_some() => Event::Open(Default::default()),
        other => other,
    }
}

/// The engine under test and what its peer needs to know.
struct Engine {
    role: Role,
    conn: Connection,
    now: Duration,
    /// The 101 response a client reads.
    response: String,
}

impl Engine {
    fn new(role: Role) -> Self {
        let config = config().close_timeout(CLOSE_TIMEOUT).handshake_timeout(Some(HANDSHAKE_TIMEOUT));
        let (conn, response) = match role {
            Role::Server => (Connection::server(Duration::ZERO, config), String::new()),
            Role::Client => {
                let mut conn = Connection::client(Duration::ZERO, &ClientRequest::new(URL).unwrap(), config).unwrap();
                let request = String::from_utf8(drain(&mut conn).1).unwrap();
                let key = request.split("Sec-WebSocket-Key: ").nth(1).unwrap().split("\r\n").next().unwrap();
                let response = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                     Sec-WebSocket-Accept: {}\r\n\r\n",
                    accept_key(key.as_bytes())
                );
                (conn, response)
            }
        };
        Engine { role, conn, now: Duration::ZERO, response }
    }

    fn peer(&mut self, bytes: &[u8]) {
        give(&mut self.conn, self.now, bytes);
    }

    fn step(&mut self, action: &Action) -> Out {
        let role = self.role;
        let now = self.now;
        let mut result = None;
        match action {
            Action::SendText(s) => result = Some(self.conn.send_text(s)),
            Action::SendPing(p) => result = Some(self.conn.send_ping(p)),
            Action::Close(code) => result = Some(self.conn.close(now, *code, "")),
            Action::CloseWithLongReason => result = Some(self.conn.close(now, 1000, &"x".repeat(124))),
            Action::Terminate => self.conn.terminate(now),
            Action::Accept => result = Some(self.conn.accept(now, Accept::new())),
            Action::Reject => result = Some(self.conn.reject(now, 404, &[], b"")),
            Action::PeerHandshake => match role {
                Role::Server => self.peer(REQUEST.as_bytes()),
                Role::Client => self.peer(&self.response.clone().into_bytes()),
            },
            Action::PeerText(s) => self.peer(&frame_to(role, true, TEXT, s.as_bytes())),
            Action::PeerPing(p) => self.peer(&frame_to(role, true, PING, p)),
            Action::PeerClose(code) => self.peer(&frame_to(role, true, CLOSE, &close_bytes(*code))),
            Action::PeerViolation => self.peer(&frame_to(role, true, 0x3, b"")),
            Action::PeerEof => self.conn.handle_eof(now),
            Action::Wait(ms) => {
                self.now += Duration::from_millis(*ms);
                if self.conn.poll_timeout().is_some_and(|t| t <= self.now) {
                    self.conn.handle_timeout(self.now);
                }
            }
        }
        let (events, bytes) = drain(&mut self.conn);
        Out { result, events: events.into_iter().map(comparable).collect(), wire: wire(role, &bytes) }
    }
}

/// Splits what was written into HTTP responses (their status) and frames,
/// checking that a client masks every frame and a server none.
fn wire(role: Role, mut bytes: &[u8]) -> Vec<Wire> {
    let mut out = Vec::new();
    if bytes.starts_with(b"HTTP/1.1 ") {
        let end = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("a whole response") + 4;
        let status = std::str::from_utf8(&bytes[9..12]).unwrap().parse().unwrap();
        out.push(Wire::Http(status));
        bytes = &bytes[end..];
    }
    for f in decode_frames(bytes) {
        assert_eq!(f.mask.is_some(), role == Role::Client, "{role:?} masking");
        assert!(f.fin && f.rsv == 0);
        out.push(Wire::Frame(f.opcode, f.payload));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_follows_the_model(
        role in prop_oneof![Just(Role::Client), Just(Role::Server)],
        actions in proptest::collection::vec(action(), 0..40),
    ) {
        let mut model = Model::new(role);
        let mut engine = Engine::new(role);
        for (i, action) in actions.iter().enumerate() {
            let Some(expected) = model.step(action) else { continue };
            let got = engine.step(action);
            prop_assert_eq!(&got, &expected, "step {} {:?} in {:?}", i, action, &actions[..i]);
            prop_assert_eq!(engine.conn.ready_state(), model.ready_state());
            prop_assert_eq!(engine.conn.should_close_transport(), model.phase == Phase::Closed);
            prop_assert_eq!(engine.conn.poll_timeout(), model.timeout(), "after {:?}", action);
        }
        // Every connection ends with exactly one close event.
        let mut end = Out::default();
        if model.phase != Phase::Closed {
            end = engine.step(&Action::Terminate);
        }
        let closes = end.events.iter().filter(|e| matches!(e, Event::Closed(_))).count();
        prop_assert_eq!(closes, usize::from(model.phase != Phase::Closed));
        prop_assert!(engine.conn.should_close_transport());
        prop_assert_eq!(engine.step(&Action::PeerEof), Out::default());
    }
}
