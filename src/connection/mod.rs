//! The connection: the handshake and framing layers behind one driver-facing type.

mod queue;
mod recv;
mod send;
mod timers;
mod unread;

#[cfg(feature = "std")]
pub(crate) use queue::STAGE;
pub(crate) use unread::MIN_ROOM;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use bytes::Bytes;

use crate::close::{CloseCode, CloseEvent};
use crate::config::{self, Config};
use crate::error::{Error, HandshakeError};
use crate::event::{Event, MessageKind};
use crate::handshake::{self, Accept, ClientHandshake, ClientRequest, Opened, Request, ServerHandshake};
use crate::local_error::LocalError;
use crate::payload::Payload;
use crate::role::Role;
use crate::state::{self, Ending, Input, Phase, Reads, ReadyState, Timer};

pub use send::Fragment;

use queue::{EventQueue, Outbox};
use recv::Receiver;
use timers::Timers;

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
/// 1. Give it what you read: [`handle_bytes`](Self::handle_bytes) (it returns
///    how many bytes it took; hand it the rest after step 2), or, when
///    [`read_buf`](Self::read_buf) offers room (behind the unread input, while
///    reads stream), read into that room and
///    [`commit`](Self::commit) the count (0 if the read brought nothing),
///    [`handle_eof`](Self::handle_eof), [`handle_transport_error`](Self::handle_transport_error),
///    and [`handle_timeout`](Self::handle_timeout) when the time from
///    [`poll_timeout`](Self::poll_timeout) has come.
/// 2. After every input and every command, drain the outputs:
///    [`poll_event`](Self::poll_event) until `None`, then
///    [`poll_transmit_into`](Self::poll_transmit_into) (or
///    [`poll_transmit`](Self::poll_transmit)) until nothing is left (write those
///    bytes in order), then re-read [`poll_timeout`](Self::poll_timeout).
/// 3. Once [`should_close_transport`](Self::should_close_transport) is true and
///    the transmits are written, close the socket.
///
/// **Who owns what.** Input slices are borrowed for the call only: what the
/// engine keeps of them it copies. The room from `read_buf` is the engine's
/// (the end of the unread input's buffer), lent until the
/// next call. Events and the [`Bytes`] from
/// `poll_transmit` are the caller's. The engine holds, at most: a partial
/// frame header (13 bytes), a control frame's payload (125), the message being
/// assembled ([`Config::max_message_size`]), input behind an event not yet
/// taken ([`Config::max_unread_input`]), handshake bytes
/// ([`Config::max_handshake_bytes`]), a few queued events, and what the
/// application asked to send. Pongs it owes are bounded too: up to 16 wait
/// for the transmit queue to drain, and past that only the latest ping is
/// answered (RFC 6455 §5.5.3). An idle connection holds no heap, except the
/// room `read_buf` lent for a read that has not come back (a driver that
/// blocks in that read holds it; one that gets `WouldBlock` gives it back
/// with `commit(now, 0)`) and, while reads into that room stream, the unread
/// buffer between them (at most 64 KiB and `max_unread_input`, and up to
/// 63 bytes more where input handed in was placed to match its source's
/// offset within a cache line).
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
    /// Pongs written into `out` since it was last empty.
    pongs_queued: u8,
    /// The pong owed to the latest ping once 16 wait already (RFC 6455
    /// §5.5.3 allows answering only the most recent).
    pong: Option<Payload>,
    /// The kind of the fragmented message being sent, if any.
    sending: Option<MessageKind>,
    events: EventQueue,
    protocol: Option<Box<str>>,
    /// The close frame received, once it has been: code (1005 if none) and reason.
    peer_close: Option<Box<(CloseCode, String)>>,
    timers: Timers,
    /// The latest time any call has given: input read later (behind events
    /// not yet taken) is handled at this time, so that nothing it arms starts
    /// in the past.
    latest: Duration,
}

/// Pongs queued before only the latest ping is answered.
const MAX_QUEUED_PONGS: u8 = 16;

impl Connection {
    fn new(now: Duration, role: Role, phase: Phase, config: Config, handshake: Option<Handshake>) -> Self {
        let mut conn = Connection {
            role,
            phase,
            handshake: handshake.map(Box::new),
            rx: Receiver::new(role, &config),
            out: Outbox::default(),
            pongs_queued: 0,
            pong: None,
            sending: None,
            events: EventQueue::default(),
            protocol: None,
            peer_close: None,
            timers: Timers::default(),
            latest: now,
            config,
        };
        conn.enter(now, phase);
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
        // A pong's header: 2 bytes, and a client's 4-byte mask key.
        let header = if self.role == Role::Client { 6 } else { 2 };
        let pong = self.pong.as_ref().map_or(0, |p| header + p.len());
        self.out.len() + pong
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
    /// being assembled, and unread input. For the fuzzing harness, which
    /// checks it against the limits in [`Config`]; not a stable API.
    #[doc(hidden)]
    pub fn buffered_input_len(&self) -> usize {
        self.handshake_input(false) + self.rx.held()
    }

    /// Heap the engine holds for peer input (allocated capacity, not length),
    /// for the fuzzing harness and the memory tests; not a stable API.
    #[doc(hidden)]
    pub fn buffered_input_capacity(&self) -> usize {
        self.handshake_input(true) + self.rx.capacity()
    }

    /// Input the handshake holds: its length, or its heap (`capacity`).
    fn handshake_input(&self, capacity: bool) -> usize {
        match (self.handshake.as_deref(), capacity) {
            (Some(Handshake::Client(client)), false) => client.buffered_len(),
            (Some(Handshake::Client(client)), true) => client.buffered_capacity(),
            (Some(Handshake::Server(server)), false) => server.buffered_len(),
            (Some(Handshake::Server(server)), true) => server.buffered_capacity(),
            (Some(Handshake::Pending(_, early)), false) => early.len(),
            (Some(Handshake::Pending(_, early)), true) => early.capacity(),
            (None, _) => 0,
        }
    }

    /// All heap the connection holds (input, queued events, queued bytes),
    /// for the fuzzing harness and the memory tests; not a stable API.
    #[doc(hidden)]
    pub fn heap_held(&self) -> usize {
        let handshake = if self.handshake.is_some() { core::mem::size_of::<Handshake>() } else { 0 };
        handshake + self.buffered_input_capacity() + self.events.capacity() + self.out.capacity()
    }

    // ----- inputs -----

    /// Bytes read from the transport; returns how many it took.
    ///
    /// With nothing unread it reads up to the first event and keeps the rest
    /// unread, up to [`Config::max_unread_input`] (it takes at least one byte).
    /// With input already unread (the events before it not yet taken), it
    /// takes only what stays within that limit, possibly nothing: drain
    /// [`poll_event`](Self::poll_event) to `None`, then hand it the rest. A
    /// partial handshake or frame waits for more; a violation becomes events.
    /// Once the peer's close frame has arrived or the connection is closed,
    /// bytes are taken and ignored.
    #[must_use = "bytes it did not take must be handed in again after draining poll_event"]
    pub fn handle_bytes(&mut self, now: Duration, data: &[u8]) -> usize {
        // The common case, kept small: the input is one whole small message
        // and nothing waits. Built in the slot it waits in.
        if self.phase.allows().reads == Reads::Frames
            && self.events.is_empty()
            && let Some(slot) = self.events.back_slot()
            && self.rx.input_small(data, slot)
        {
            self.tick(now);
            self.rx.note_input(data.len());
            self.arm_on_input(now);
            return data.len();
        }
        self.handle_bytes_slow(now, data)
    }

    /// [`handle_bytes`](Self::handle_bytes) past its shortcut.
    #[inline(never)]
    fn handle_bytes_slow(&mut self, now: Duration, data: &[u8]) -> usize {
        self.tick(now);
        if data.is_empty() {
            self.rx.unlend();
            return 0;
        }
        // Input from elsewhere: room lent before is not where it goes next.
        self.rx.note_input(data.len());
        match self.phase.allows().reads {
            Reads::Nothing => data.len(),
            Reads::Handshake => {
                self.arm_on_input(now);
                self.handle_handshake_bytes(now, data)
            }
            Reads::Frames => {
                self.arm_on_input(now);
                self.read_input(now, data)
            }
        }
    }

    /// Room to read the transport's next bytes into, in the engine's own
    /// buffer, so that they are copied once, by the read itself. Read into
    /// it, then call [`commit`](Self::commit) with the count read (0 if the
    /// read brought nothing). `None` while events wait, before the handshake
    /// is done, after the input ended, unless reads stream, and when the room
    /// would be under 4 KiB (a smaller
    /// [`Config::max_unread_input`](crate::Config::max_unread_input), or less
    /// than 4 KiB of it left behind the input waiting): read into your own
    /// buffer and call [`handle_bytes`](Self::handle_bytes).
    ///
    /// Reads stream while the last input (a `handle_bytes` call or a
    /// `commit`) brought 16 KiB or more, or the last read filled its room.
    /// The room is
    /// behind the unread input: at most 64 KiB and
    /// [`Config::max_unread_input`](crate::Config::max_unread_input) with
    /// what waits. The buffer is kept between such reads, and goes once its
    /// input is read after a shorter read, at `handle_bytes` when nothing
    /// waits in it, or at `commit(now, 0)`: call that
    /// when a read brings nothing (`WouldBlock`), and an idle connection
    /// holds no heap. A large payload read into it is unmasked into the
    /// message as [`poll_event`](Self::poll_event) reads it, in one pass
    /// while the bytes are still in the CPU's cache.
    ///
    /// The room is lent until the next call. Bytes not committed are not
    /// input.
    pub fn read_buf(&mut self) -> Option<&mut [u8]> {
        if self.phase.allows().reads != Reads::Frames || !self.events.is_empty() || self.rx.input_ended() {
            self.rx.unlend();
            return None;
        }
        self.rx.read_room()
    }

    /// The first `n` bytes of the room from [`read_buf`](Self::read_buf)
    /// were read into: the same as [`handle_bytes`](Self::handle_bytes) with
    /// them, all taken. Fails with [`LocalError::NotOffered`], changing
    /// nothing, unless a `read_buf` offered at least `n` bytes and, since it,
    /// no input came (`handle_bytes`, another `commit`, `handle_eof`, a
    /// transport error), `read_buf` offered nothing, and `poll_event` did not
    /// read all the input the room was behind (one commit per `read_buf`); once the connection no longer
    /// reads frames (closed meanwhile), the bytes are ignored. `n == 0` (the
    /// read brought nothing) is always accepted: the room is taken back, and
    /// the unread buffer goes if nothing waits in it.
    pub fn commit(&mut self, now: Duration, n: usize) -> Result<(), LocalError> {
        if n == 0 {
            // The room lent, if any, goes, and the buffer if nothing waits.
            self.rx.commit(0);
            return Ok(());
        }
        if self.phase.allows().reads != Reads::Frames {
            return Ok(());
        }
        if !self.rx.offered(n) {
            return Err(LocalError::NotOffered(n));
        }
        self.tick(now);
        self.arm_on_input(now);
        self.rx.commit(n);
        Ok(())
    }

    /// The transport reached EOF (the peer closed its side). Before the
    /// closing handshake this is an abnormal closure (1006). Input already
    /// taken comes first: with unread input waiting, the EOF takes effect
    /// once [`poll_event`](Self::poll_event) has read it.
    pub fn handle_eof(&mut self, now: Duration) {
        self.tick(now);
        self.rx.unlend();
        self.end_input(now, recv::End::Eof);
    }

    /// Reading or writing the transport failed. Before the closing handshake
    /// this is an abnormal closure (1006). It takes effect at once: bytes
    /// still queued for the transport are dropped (they cannot be written),
    /// and so is input taken but not yet read (it could not be answered);
    /// events already read are still delivered, before the error.
    pub fn handle_transport_error(&mut self, now: Duration) {
        self.tick(now);
        self.out.clear();
        self.pong = None;
        self.pongs_queued = 0;
        self.rx.drop_unread();
        self.end_input(now, recv::End::TransportError);
    }

    /// The time from [`poll_timeout`](Self::poll_timeout) has come (an early or
    /// extra call does nothing). Each timer fires at most once a call. While
    /// input waits unread, the close timer waits too (the close frame it
    /// waits for may be in that input): it runs again once
    /// [`poll_event`](Self::poll_event) has read it.
    pub fn handle_timeout(&mut self, now: Duration) {
        self.tick(now);
        // The close timer waits while input is unread; a timer fires once.
        let mut skip = timers::TimerSet::default();
        if self.rx.has_unread() {
            skip.push(Timer::Close);
        }
        while let Some(timer) = self.timers.due(now, &skip) {
            skip.push(timer);
            self.timers.set(timer, None);
            match timer {
                Timer::Handshake => self.transition(now, Input::Fail, Some(Error::HandshakeTimeout)),
                Timer::Close => self.transition(now, Input::CloseTimeout, Some(Error::CloseTimeout)),
                Timer::Idle => {
                    self.write_close(Some((CloseCode::GOING_AWAY, "idle timeout")));
                    self.transition(now, Input::Fail, Some(Error::IdleTimeout));
                }
                Timer::Keepalive => {
                    self.write_frame(crate::frame::OpCode::Ping, true, b"");
                    self.arm(now, Timer::Keepalive);
                }
            }
        }
    }

    // ----- outputs -----

    /// The next event, oldest first.
    ///
    /// Input is read as events are taken: each call reads up to the next
    /// event, so a reply sent to a message goes out before a close or failure
    /// that later bytes bring, and input never runs far ahead of the
    /// application. Draining this after every input, as the contract says,
    /// reads everything.
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.events.is_empty() {
            // The common case: a whole small message, built straight into
            // the value returned, one kind per path (see `read_small`).
            if let Some(event) = self.rx.read_small::<false>() {
                return Some(event);
            }
            if let Some(event) = self.rx.read_small::<true>() {
                return Some(event);
            }
            if !self.rx.has_unread() {
                return None;
            }
        }
        self.poll_event_slow()
    }

    /// Everything else, out of line so that the shortcut stays small: the
    /// general path up to the next event, then the oldest event queued.
    #[inline(never)]
    fn poll_event_slow(&mut self) -> Option<Event> {
        if self.events.is_empty() {
            let mut event = None;
            if self.rx.read_whole(&mut event) {
                return event;
            }
            self.read_unread_slow();
        }
        self.events.pop_front()
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
        self.flush_pong();
        let bytes = self.out.pop();
        self.note_drained();
        bytes
    }

    /// Copies the next bytes to write into `buf` and returns how many; 0
    /// when there are none (or `buf` is empty). Bytes of `buf` past that
    /// count may be written too, and mean nothing. The bytes are in order, and a frame may be split
    /// across calls: call again until it returns 0 (or less than `buf.len()`).
    /// The engine keeps its small-frame buffer between calls, so this path
    /// allocates nothing per frame; the caller owns `buf`.
    pub fn poll_transmit_into(&mut self, buf: &mut [u8]) -> usize {
        self.flush_pong();
        let n = self.out.copy_into(buf);
        self.note_drained();
        n
    }

    /// For the adapters: drops every byte queued for the transport (the
    /// socket is given up on: a terminate, or the end could not write in
    /// time), so nothing after a frame cut short can be written.
    #[cfg(feature = "std")]
    pub(crate) fn discard_output(&mut self) {
        self.out.clear();
        self.pong = None;
        self.pongs_queued = 0;
    }

    /// For the adapters: what is queued, copied into `buf`, when all of it
    /// waits in the inline stage (small frames); 0 otherwise (take it with
    /// `poll_transmit`, which hands shared payloads over without a copy).
    #[cfg(feature = "std")]
    pub(crate) fn poll_transmit_small(&mut self, buf: &mut [u8; STAGE]) -> usize {
        self.flush_pong();
        if !self.out.staged_only() {
            return 0;
        }
        let n = self.out.copy_into(buf);
        self.note_drained();
        n
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called, if at all.
    pub fn poll_timeout(&self) -> Option<Duration> {
        // The close timer waits while input is unread (see handle_timeout).
        self.timers.next(if self.rx.has_unread() { Some(Timer::Close) } else { None })
    }

    // ----- server commands -----

    /// Server: accepts the pending upgrade request, with a subprotocol it
    /// offered (or none) and extra response headers. The connection is OPEN;
    /// frames that arrived behind the request are read as events are taken.
    pub fn accept(&mut self, now: Duration, accept: Accept) -> Result<(), LocalError> {
        let headers: Vec<(&str, &str)> = accept.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let protocol = accept.protocol.as_deref();
        let response = handshake::accept_response(self.pending_request()?, protocol, &headers)?;
        self.tick(now);
        let early = match self.handshake.take().map(|hs| *hs) {
            Some(Handshake::Pending(_, early)) => early,
            _ => unreachable!("pending_request found a pending request"),
        };
        self.out.extend_from_slice(&response);
        self.protocol = accept.protocol.clone().map(String::into_boxed_str);
        self.transition(now, Input::HandshakeDone, None);
        let opened = Opened { protocol: accept.protocol, ..Opened::default() };
        self.events.push_back(Event::Open(Box::new(opened)));
        // At most `max_handshake_bytes`: the early data is bounded already.
        self.rx.push_unread(&early);
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

    /// Handshake bytes; returns how many were taken.
    fn handle_handshake_bytes(&mut self, now: Duration, data: &[u8]) -> usize {
        let Some(hs) = self.handshake.as_deref_mut() else { return data.len() };
        match hs {
            Handshake::Client(client) => match client.handle(data) {
                Ok(None) => {}
                Ok(Some((opened, used))) => {
                    self.handshake = None;
                    self.protocol = opened.protocol.as_deref().map(Box::from);
                    self.transition(now, Input::HandshakeDone, None);
                    self.events.push_back(Event::Open(Box::new(opened)));
                    return used + self.push_unread(&data[used..]);
                }
                Err(e) => self.transition(now, Input::Fail, Some(Error::Handshake(e))),
            },
            Handshake::Server(server) => match server.handle(data) {
                Ok(None) => {}
                Ok(Some((request, used))) => {
                    let early = &data[used..];
                    if early.len() > self.config.max_handshake_bytes {
                        // Refused before the application sees a request it could no longer answer.
                        self.refuse(now, HandshakeError::TooMuchEarlyData);
                        return data.len();
                    }
                    self.events.push_back(Event::Request(Box::new(request.clone())));
                    self.handshake = Some(Box::new(Handshake::Pending(request, early.to_vec())));
                }
                Err(e) => self.refuse(now, e),
            },
            Handshake::Pending(_, early) => {
                if early.len().saturating_add(data.len()) > self.config.max_handshake_bytes {
                    self.refuse(now, HandshakeError::TooMuchEarlyData);
                } else {
                    early.extend_from_slice(data);
                }
            }
        }
        data.len()
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

    /// Notes the time of a call (see `latest`).
    #[inline(always)]
    fn tick(&mut self, now: Duration) {
        self.latest = self.latest.max(now);
    }

    /// The duration a timer runs for, if it runs at all.
    fn duration(&self, timer: Timer) -> Option<Duration> {
        match timer {
            Timer::Handshake => config::optional(self.config.handshake_timeout),
            Timer::Close => Some(self.config.close_timeout),
            Timer::Keepalive => config::optional(self.config.keepalive_interval),
            Timer::Idle => config::optional(self.config.idle_timeout),
        }
    }

    /// Starts `timer` from `now`, if this phase runs it.
    fn arm(&mut self, now: Duration, timer: Timer) {
        if self.phase.allows().timers.contains(&timer) {
            // At the end of time, a deadline that cannot be later than now is none.
            let at = self.duration(timer).map(|d| now.saturating_add(d)).filter(|&at| at > now);
            self.timers.set(timer, at);
        }
    }

    /// Input arrived: the keepalive and idle timers start again.
    fn arm_on_input(&mut self, now: Duration) {
        self.arm(now, Timer::Keepalive);
        self.arm(now, Timer::Idle);
    }

    /// Enters `phase`: stops the timers it does not run, arms its entry timer.
    fn enter(&mut self, now: Duration, phase: Phase) {
        self.phase = phase;
        self.timers.keep_only(phase.allows().timers);
        if let Some(timer) = phase.entry_timer() {
            self.arm(now, timer);
        }
        if phase == Phase::Open {
            self.arm_on_input(now);
        }
    }

    /// Applies the transition table to `input` and reports what it brings:
    /// `error`, if the table says the change reports one, then the close
    /// event if it ends the connection.
    fn transition(&mut self, now: Duration, input: Input, error: Option<Error>) {
        let Some(t) = state::next(self.role, self.phase, input) else { return };
        self.enter(now, t.to);
        if t.reports_error
            && let Some(error) = error
        {
            self.events.push_back(Event::Error(error));
        }
        let close = match t.ending {
            Ending::None => return,
            Ending::Clean => {
                let (code, reason) = *self.peer_close.take().expect("a clean close follows the peer's close frame");
                CloseEvent::new(code, reason, true)
            }
            Ending::Abnormal => CloseEvent::new(CloseCode::ABNORMAL, String::new(), false),
        };
        self.events.push_back(Event::Closed(close));
        self.handshake = None;
        self.sending = None;
        self.rx.reset();
    }
}
