//! The connection: the handshake and framing layers behind one driver-facing type.

mod queue;
mod recv;
pub(crate) mod send;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use bytes::Bytes;

use crate::close::{CloseCode, CloseEvent};
use crate::config::Config;
use crate::error::{Error, HandshakeError, LocalError};
use crate::event::Event;
use crate::handshake::{self, ClientHandshake, ClientRequest, Opened, Request, ServerHandshake};
use crate::state::{self, Ending, Input, Phase, ReadyState};

use queue::{EventQueue, Outbox};
pub(crate) use recv::Receiver;

/// Which end of the connection this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Masks what it sends; expects unmasked frames.
    Client,
    /// Never masks; expects masked frames.
    Server,
}

/// The opening handshake while CONNECTING.
#[derive(Debug)]
enum Handshake {
    Client(ClientHandshake),
    Server(ServerHandshake),
    /// A server's complete request, waiting for `accept` or `reject`, with the
    /// bytes that arrived behind it.
    Pending(Request, Vec<u8>),
}

/// A WebSocket connection as a state machine (RFC 6455), in either role.
///
/// It does no I/O and reads no clock. The driving contract:
///
/// 1. Give it what you read: [`handle_bytes`](Self::handle_bytes),
///    [`handle_eof`](Self::handle_eof), [`handle_transport_error`](Self::handle_transport_error),
///    and [`handle_timeout`](Self::handle_timeout) when the time from
///    [`poll_timeout`](Self::poll_timeout) has come.
/// 2. After every input and every command, drain the outputs:
///    [`poll_event`](Self::poll_event) until `None`, [`poll_transmit`](Self::poll_transmit)
///    until `None` (write those bytes in order), then re-read [`poll_timeout`](Self::poll_timeout).
/// 3. Once [`should_close_transport`](Self::should_close_transport) is true and
///    the transmits are written, close the socket.
///
/// Time is a [`Duration`] since any fixed origin the caller picks (for
/// instance `start.elapsed()` of one `std::time::Instant`), the same for every
/// call. Commands (`send_*`, `close`, `accept`, `reject`) return
/// [`LocalError`] and change nothing when they cannot be done now; a peer's
/// violation never returns an error from an input: it becomes events.
#[derive(Debug)]
pub struct Connection {
    role: Role,
    phase: Phase,
    config: Config,
    handshake: Option<Box<Handshake>>,
    rx: Receiver,
    /// Encoded bytes not yet taken by `poll_transmit`.
    out: Outbox,
    /// The kind of the fragmented message being sent, if any.
    sending: Option<crate::event::MessageKind>,
    events: EventQueue,
    protocol: Option<Box<str>>,
    /// The close frame received, once it has been: code (1005 if none) and reason.
    peer_close: Option<Box<(CloseCode, String)>>,
    /// When the handshake, or the wait for a close frame or for EOF, times out.
    deadline: Option<Duration>,
    /// When the next keepalive ping is due.
    ping_at: Option<Duration>,
    /// When the idle timeout fires.
    idle_at: Option<Duration>,
}

impl Connection {
    fn new(now: Duration, role: Role, phase: Phase, config: Config, handshake: Option<Handshake>) -> Self {
        let deadline = match phase {
            Phase::Connecting => config.handshake_timeout.map(|t| now.saturating_add(t)),
            _ => None,
        };
        let mut conn = Connection {
            role,
            phase,
            handshake: handshake.map(Box::new),
            rx: Receiver::default(),
            out: Outbox::default(),
            sending: None,
            events: EventQueue::default(),
            protocol: None,
            peer_close: None,
            deadline,
            ping_at: None,
            idle_at: None,
            config,
        };
        if phase == Phase::Open {
            conn.arm_keepalive(now);
        }
        conn
    }

    /// A client that will send the upgrade request for `request`: its bytes are
    /// ready in [`poll_transmit`](Self::poll_transmit). Fails if the request has
    /// a header or subprotocol that cannot be sent.
    pub fn client(now: Duration, request: &ClientRequest, config: Config) -> Result<Self, LocalError> {
        let mut nonce = [0; 16];
        config.random.fill(&mut nonce);
        let (hs, bytes) = ClientHandshake::new(request, nonce, &config)?;
        let mut conn = Self::new(now, Role::Client, Phase::Connecting, config, Some(Handshake::Client(hs)));
        conn.out.extend_from_slice(&bytes);
        Ok(conn)
    }

    /// A server waiting for the client's request; it reports it as
    /// [`Event::Request`].
    pub fn server(now: Duration, config: Config) -> Self {
        let hs = ServerHandshake::new(&config);
        Self::new(now, Role::Server, Phase::Connecting, config, Some(Handshake::Server(hs)))
    }

    /// A connection whose handshake was done elsewhere (hyper or axum's
    /// upgrade, HTTP/2 extended CONNECT per RFC 8441): it starts OPEN with
    /// the subprotocol agreed on. Bytes already read after the handshake go to
    /// [`handle_bytes`](Self::handle_bytes).
    pub fn open(now: Duration, role: Role, protocol: Option<String>, config: Config) -> Self {
        let mut conn = Self::new(now, role, Phase::Open, config, None);
        conn.protocol = protocol.map(String::into_boxed_str);
        conn
    }

    // ----- getters -----

    /// Client or server.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The browser's `readyState`: CONNECTING, OPEN, CLOSING or CLOSED (0–3).
    pub fn ready_state(&self) -> ReadyState {
        self.phase.into()
    }

    /// The subprotocol agreed on, as the browser's `protocol`.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The extensions agreed on, as the browser's `extensions`: always
    /// none, since the engine runs no extension (a server's acceptance of one
    /// fails a client's handshake, and a server accepts none).
    pub fn extensions(&self) -> &[String] {
        &[]
    }

    /// Bytes queued for the transport and not yet taken by
    /// [`poll_transmit`](Self::poll_transmit): frames with their headers, and
    /// handshake bytes. (The browser's `bufferedAmount` counts payload only.)
    pub fn buffered_amount(&self) -> usize {
        self.out.len()
    }

    /// Whether the caller should close the transport once it has written what
    /// [`poll_transmit`](Self::poll_transmit) gives. A server closes TCP first
    /// after the closing handshake; a client waits for the server's EOF (or
    /// the close timeout) first (RFC 6455 §7.1.1).
    pub fn should_close_transport(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Bytes of peer input the engine holds: handshake buffers, early data
    /// behind a request, a partial frame header, a control payload, a message
    /// being assembled, and the backlog. For the fuzzing harness, which checks
    /// it against the limits in [`Config`]; not a stable API.
    #[doc(hidden)]
    pub fn buffered_input_len(&self) -> usize {
        let handshake = match self.handshake.as_deref() {
            Some(Handshake::Client(client)) => client.buffered_len(),
            Some(Handshake::Server(server)) => server.buffered_len(),
            Some(Handshake::Pending(_, early)) => early.len(),
            None => 0,
        };
        handshake + self.rx.buffered_len()
    }

    // ----- inputs -----

    /// Bytes read from the transport. A partial handshake or frame waits for
    /// more; a violation becomes events. Ignored once the peer's close frame
    /// has arrived or the connection is closed.
    pub fn handle_bytes(&mut self, now: Duration, data: &[u8]) {
        if data.is_empty() || matches!(self.phase, Phase::AwaitingEof | Phase::Closed) {
            return;
        }
        self.arm_keepalive(now);
        match self.phase {
            Phase::Connecting => self.handle_handshake_bytes(now, data),
            _ => self.read_input(now, data),
        }
    }

    /// The transport reached EOF (the peer closed its side). Before the
    /// closing handshake this is an abnormal closure (1006).
    pub fn handle_eof(&mut self, now: Duration) {
        self.flush_backlog();
        let error = match self.phase {
            Phase::Connecting => Error::Handshake(HandshakeError::UnexpectedEof),
            _ => Error::UnexpectedEof,
        };
        self.lose_transport(now, error);
    }

    /// Reading or writing the transport failed. Before the closing handshake
    /// this is an abnormal closure (1006).
    ///
    /// Bytes still queued for the transport are dropped: they cannot be written.
    pub fn handle_transport_error(&mut self, now: Duration) {
        self.flush_backlog();
        self.out.clear();
        self.lose_transport(now, Error::Transport);
    }

    /// The transport is gone: an error before the closing handshake finished,
    /// a clean end after it.
    fn lose_transport(&mut self, now: Duration, error: Error) {
        let failed = matches!(self.phase, Phase::Connecting | Phase::Open | Phase::CloseSent);
        self.transition(now, Input::Eof, failed.then_some(error));
    }

    /// The time from [`poll_timeout`](Self::poll_timeout) has come (an early or
    /// extra call does nothing).
    pub fn handle_timeout(&mut self, now: Duration) {
        // Bytes already read come before the time that passed since.
        self.flush_backlog();
        if self.deadline.is_some_and(|d| d <= now) {
            match self.phase {
                Phase::Connecting => self.transition(now, Input::Fail, Some(Error::HandshakeTimeout)),
                Phase::CloseSent => self.transition(now, Input::CloseTimeout, Some(Error::CloseTimeout)),
                _ => self.transition(now, Input::CloseTimeout, None),
            }
            return;
        }
        if self.phase != Phase::Open {
            return;
        }
        if self.idle_at.is_some_and(|t| t <= now) {
            self.write_close(Some((CloseCode::GOING_AWAY, "idle timeout")));
            self.transition(now, Input::Fail, Some(Error::IdleTimeout));
            return;
        }
        if self.ping_at.is_some_and(|t| t <= now) {
            self.write_frame(crate::frame::OpCode::Ping, true, b"");
            self.ping_at = self.keepalive_interval().map(|every| now.saturating_add(every));
        }
    }

    // ----- outputs -----

    /// The next event, oldest first.
    ///
    /// Input is read one data message at a time: bytes behind a message are
    /// read when its event has been taken and this is called again, so a
    /// reply sent to a message goes out before a close or failure that later
    /// bytes bring. Draining this after every input, as the contract says,
    /// reads everything.
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.events.is_empty() && self.has_backlog() {
            if let Some(event) = self.small_from_backlog() {
                return Some(event);
            }
            while self.events.is_empty() && self.has_backlog() {
                self.resume_backlog();
            }
        }
        self.events.pop_front(self.has_backlog())
    }

    /// Bytes to write to the transport, in order; `None` when there are none.
    ///
    /// Frames queued since the last call come as one buffer, which is handed
    /// over (the connection keeps no buffer between transmits, so an idle one
    /// holds no heap). A payload given to
    /// [`send_binary_bytes`](Self::send_binary_bytes) comes as a transmit of
    /// its own after its header: write consecutive transmits with one
    /// vectored write where the transport has it.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.out.pop()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called, if at all.
    pub fn poll_timeout(&self) -> Option<Duration> {
        match self.phase {
            Phase::Open => [self.ping_at, self.idle_at].into_iter().flatten().min(),
            Phase::Closed => None,
            _ => self.deadline,
        }
    }

    // ----- server commands -----

    /// Server: accepts the pending upgrade request, with a subprotocol it
    /// offered (or none) and extra response headers. The connection is OPEN;
    /// frames that arrived behind the request are processed now.
    pub fn accept(
        &mut self,
        now: Duration,
        protocol: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<(), LocalError> {
        let response = handshake::accept_response(self.pending_request()?, protocol, headers)?;
        let early = match self.handshake.take().map(|hs| *hs) {
            Some(Handshake::Pending(_, early)) => early,
            _ => unreachable!("pending_request found a pending request"),
        };
        self.out.extend_from_slice(&response);
        self.protocol = protocol.map(Box::from);
        self.transition(now, Input::HandshakeDone, None);
        self.events
            .push_back(Event::Open(Box::new(Opened { protocol: protocol.map(String::from), ..Opened::default() })));
        self.read_input(now, &early);
        Ok(())
    }

    /// Server: answers the pending request with any other status (a 401, a
    /// redirect, a page for a plain `GET`), headers and body, then closes.
    /// `Content-Length` and `Connection: close` are added.
    pub fn reject(
        &mut self,
        now: Duration,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), LocalError> {
        let head = self.pending_request()?.is_head();
        let response = handshake::reject_response(status, headers, body, head)?;
        self.out.extend_from_slice(&response);
        self.transition(now, Input::Terminate, None);
        Ok(())
    }

    fn pending_request(&self) -> Result<&Request, LocalError> {
        if self.role != Role::Server {
            return Err(LocalError::WrongRole);
        }
        if self.phase == Phase::Closed {
            return Err(LocalError::Closed);
        }
        match self.handshake.as_deref() {
            Some(Handshake::Pending(req, _)) => Ok(req),
            _ => Err(LocalError::NoRequest),
        }
    }

    // ----- internals -----

    fn handle_handshake_bytes(&mut self, now: Duration, data: &[u8]) {
        let Some(hs) = self.handshake.as_deref_mut() else { return };
        match hs {
            Handshake::Client(client) => match client.handle(data) {
                Ok(None) => {}
                Ok(Some((opened, used))) => {
                    self.handshake = None;
                    self.protocol = opened.protocol.as_deref().map(Box::from);
                    self.transition(now, Input::HandshakeDone, None);
                    self.events.push_back(Event::Open(Box::new(opened)));
                    self.read_input(now, &data[used..]);
                }
                Err(e) => self.transition(now, Input::Fail, Some(Error::Handshake(e))),
            },
            Handshake::Server(server) => match server.handle(data) {
                Ok(None) => {}
                Ok(Some((request, used))) => {
                    let early = &data[used..];
                    if early.len() > self.config.max_handshake_bytes {
                        // Refused before the application sees a request it could no longer answer.
                        return self.refuse(now, HandshakeError::TooMuchEarlyData);
                    }
                    self.events.push_back(Event::Request(Box::new(request.clone())));
                    self.handshake = Some(Box::new(Handshake::Pending(request, early.to_vec())));
                }
                Err(e) => self.refuse(now, e),
            },
            Handshake::Pending(_, early) => {
                if early.len() + data.len() > self.config.max_handshake_bytes {
                    self.refuse(now, HandshakeError::TooMuchEarlyData);
                } else {
                    early.extend_from_slice(data);
                }
            }
        }
    }

    /// Server: answers a request the engine refuses itself, and fails.
    fn refuse(&mut self, now: Duration, e: HandshakeError) {
        let head = match self.handshake.as_deref() {
            Some(Handshake::Server(server)) => server.is_head(),
            Some(Handshake::Pending(request, _)) => request.is_head(),
            _ => false,
        };
        self.out.extend_from_slice(&handshake::error_response(&e, head));
        self.transition(now, Input::Fail, Some(Error::Handshake(e)));
    }

    /// Reads all input waiting behind messages, before an input that must come after it.
    fn flush_backlog(&mut self) {
        while self.has_backlog() {
            self.resume_backlog();
        }
    }

    /// The keepalive interval; zero is off, since a ping due at every
    /// `handle_timeout` would keep `poll_timeout` at `now` forever.
    fn keepalive_interval(&self) -> Option<Duration> {
        self.config.keepalive_interval.filter(|every| !every.is_zero())
    }

    fn arm_keepalive(&mut self, now: Duration) {
        self.ping_at = self.keepalive_interval().map(|every| now.saturating_add(every));
        self.idle_at = self.config.idle_timeout.map(|idle| now.saturating_add(idle));
    }

    /// Applies the transition table to `input` and reports what it brings:
    /// `error` first if the connection ends, then the close event.
    fn transition(&mut self, now: Duration, input: Input, error: Option<Error>) {
        let Some((phase, ending)) = state::next(self.role, self.phase, input) else { return };
        self.phase = phase;
        match phase {
            Phase::Open => {
                self.deadline = None;
                self.arm_keepalive(now);
            }
            Phase::CloseSent | Phase::AwaitingEof => {
                self.deadline = Some(now.saturating_add(self.config.close_timeout))
            }
            Phase::Connecting | Phase::Closed => {}
        }
        if let Some(error) = error {
            self.events.push_back(Event::Error(error));
        }
        let close = match ending {
            Ending::None => return,
            Ending::Clean => {
                let (code, reason) = *self.peer_close.take().expect("a clean close follows the peer's close frame");
                CloseEvent { code, reason, was_clean: true }
            }
            Ending::Abnormal => CloseEvent { code: CloseCode::ABNORMAL, reason: String::new(), was_clean: false },
        };
        self.events.push_back(Event::Closed(close));
        self.deadline = None;
        self.ping_at = None;
        self.idle_at = None;
        self.handshake = None;
        self.sending = None;
        self.rx = Receiver::default();
    }
}
