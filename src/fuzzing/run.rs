//! Runs a [`Script`] against a connection and checks the invariants after
//! every input and command.
//!
//! Besides the driver of the contract (hand in, drain, hand in the rest), the
//! runner can act as a lazy one (`Step::Feed`, `Step::TakeEvents`): it hands
//! bytes in while events wait, keeps what the engine did not take and hands
//! it in again later, in order, and lets transmits pile up. [`Coverage`]
//! counts the states only such a driver reaches.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use base64::Engine;

use super::peer::Peer;
use super::pongs::{QUEUED_PONGS, check_pongs, pongs_and_closes};
use super::script::{
    Script, Step, client_request, encode_frame, handshake_bytes, payload, peer_mask, sample_frame, text,
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
    /// Each delivery in one call, and as the contract's driver does: `Feed`
    /// drains after every call like `Deliver`, `TakeEvents` takes the
    /// transmits too.
    Eager,
}

/// The states a run reached that only a driver slower than the contract's
/// reaches, counted so that tests can check the harness gets there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Coverage {
    /// `handle_bytes` calls that took less than they were given.
    pub partial_takes: usize,
    /// Of those, calls that took nothing: the unread input was at its limit.
    pub zero_takes: usize,
    /// Bytes not taken at first and handed in again by a later step.
    pub refed_bytes: usize,
    /// `handle_eof` calls while input was unread: the EOF had to wait for it.
    pub eof_behind_unread: usize,
    /// `handle_transport_error` calls while input was unread, which it drops.
    pub transport_error_behind_unread: usize,
    /// `Timeout` and `Advance` steps while input was unread.
    pub timeouts_behind_unread: usize,
    /// Of those, the ones while CLOSING: the close timer had to wait.
    pub close_timer_held: usize,
    /// Times the transmits were taken after more than 16 pings had been
    /// answered since the last time: the engine answered only the latest.
    pub coalesced_pongs: usize,
    /// The most pings answered between two takes of the transmits.
    pub most_pings_between_transmits: usize,
    /// Whether the events were also checked against a run by the contract's
    /// driver (no step acted while input waited).
    pub compared_with_eager: bool,
    /// Bytes read into the room `read_buf` lent, then committed.
    pub committed_bytes: usize,
}

/// Runs `script` in its pieces and whole, checking each run, and checks
/// that both give the same events (streamed chunks merged) and bytes. When
/// the script drives lazily but no step acts while input waits, the events
/// must also be those of the contract's driver. Returns what the run in
/// pieces reached.
pub(super) fn check(role: Role, script: &Script) -> Coverage {
    let pieces = Run::execute(role, script, Chunking::Scripted);
    let whole = Run::execute(role, script, Chunking::Whole);
    let mut coverage = pieces.coverage;
    let lazy = script.steps.iter().any(|s| matches!(s, Step::Feed(_) | Step::TakeEvents));
    let events = normalise(pieces.events);
    assert_eq!(events, normalise(whole.events), "pieces and whole differ");
    assert!(pieces.sent == whole.sent, "pieces and whole wrote different bytes");
    if lazy && !pieces.waited {
        let eager = Run::execute(role, script, Chunking::Eager);
        assert_eq!(events, normalise(eager.events), "a lazy driver saw other events than the contract's");
        coverage.compared_with_eager = true;
    }
    coverage
}

/// One run of a script.
struct Run {
    role: Role,
    conn: Connection,
    now: Duration,
    /// Peer bytes queued and not yet delivered.
    queued: Vec<u8>,
    /// Peer bytes handed in that the engine did not take: they go in again,
    /// before anything queued after them.
    backlog: Vec<u8>,
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
    /// An input was given since the events were last taken to the end.
    undrained: bool,
    /// Whether `read_buf` lent a room in this run (the memory bound allows
    /// for it).
    lent_room: bool,
    /// A call to `handle_bytes` took less than it was given since
    /// `poll_event` was last called: the engine holds unread input then.
    unread_known: bool,
    /// `handle_eof` has been called: once the events are taken, the
    /// connection is closed.
    eof_given: bool,
    /// `handle_transport_error` has been called: nothing is written after it.
    transport_failed: bool,
    /// A step other than queueing, feeding or taking events acted while
    /// input waited (handed in and not read, or not taken).
    waited: bool,
    /// Pings answered since the transmits were last taken, by payload.
    pings: Vec<Vec<u8>>,
    /// Pongs the application sent since the transmits were last taken.
    app_pongs: usize,
    /// The engine dropped its transmit queue since it was last taken.
    dropped_transmits: bool,
    coverage: Coverage,
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
            backlog: Vec::new(),
            events: Vec::new(),
            sent: Vec::new(),
            request: None,
            accepted: None,
            sends: Vec::new(),
            fragments: None,
            app_close: None,
            peer,
            received: 0,
            undrained: false,
            lent_room: false,
            unread_known: false,
            eof_given: false,
            transport_failed: false,
            waited: false,
            pings: Vec::new(),
            app_pongs: 0,
            dropped_transmits: false,
            coverage: Coverage::default(),
        };
        run.drain();
        for step in &script.steps {
            // An EOF behind input waits for it to be read (`handle_eof`), so
            // it is one more step that leaves what the application sees as
            // the contract's driver would.
            let lazy = matches!(
                step,
                Step::Feed(_) | Step::TakeEvents | Step::Deliver(_) | Step::DeliverPieces(_) | Step::Eof
            );
            let queues = matches!(
                step,
                Step::Handshake(_) | Step::Sample(_) | Step::Frame { .. } | Step::CloseFrame { .. } | Step::Raw(_)
            );
            if !lazy && !queues && run.waits() {
                run.waited = true;
            }
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
            Step::Feed(_) if chunking == Chunking::Eager => self.deliver(&[], chunking),
            Step::Feed(size) => self.feed(*size, chunking),
            Step::TakeEvents if chunking == Chunking::Eager => self.drain(),
            Step::TakeEvents => self.take_events(),
            Step::Eof => {
                self.settle_backlog();
                let before = self.conn.ready_state();
                let known = self.unread_known && before != ReadyState::Closed;
                self.conn.handle_eof(self.now);
                self.eof_given = true;
                // An EOF closes at once unless input waits unread: then it
                // takes effect once that is read (checked when the events are
                // taken), so a connection still not closed shows it waited.
                let waited = before != ReadyState::Closed && self.conn.ready_state() != ReadyState::Closed;
                self.coverage.eof_behind_unread += usize::from(waited);
                assert!(waited || !known, "an EOF behind unread input did not wait for it");
                self.drain();
            }
            Step::TransportError => {
                // What the engine did not take is lost with the transport, as
                // is what it took and did not read.
                self.backlog.clear();
                if self.unread_known && self.conn.ready_state() != ReadyState::Closed {
                    self.coverage.transport_error_behind_unread += 1;
                }
                self.conn.handle_transport_error(self.now);
                self.transport_failed = true;
                self.unread_known = false;
                self.dropped_transmits = true;
                assert_eq!(self.conn.ready_state(), ReadyState::Closed, "a transport error waited");
                assert_eq!(self.conn.buffered_amount(), 0, "bytes kept for a failed transport");
                self.drain();
            }
            Step::Advance(ms) => self.advance(Duration::from_millis(u64::from(*ms))),
            Step::Timeout => {
                let held = self.timeout_behind_unread();
                self.conn.handle_timeout(self.now);
                if held {
                    assert_eq!(self.conn.ready_state(), ReadyState::Closing, "the close timer fired over unread input");
                }
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
                self.send_pong(&data);
            }
            Step::Close { code, reason_len } => {
                let reason = text(usize::from(*reason_len), true);
                let was_open = self.conn.ready_state() == ReadyState::Open;
                if self.command(|c, now| c.close(now, *code, &reason)) && was_open {
                    self.app_close = Some((CloseCode(*code), reason));
                }
            }
            Step::Terminate => {
                let before = self.conn.ready_state();
                self.conn.terminate(self.now);
                if before != ReadyState::Closed {
                    self.unread_known = false;
                    self.dropped_transmits = true;
                }
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

    /// The bytes to hand in next: those not taken before, then the queued ones.
    fn take_pending(&mut self) -> Vec<u8> {
        let mut data = core::mem::take(&mut self.backlog);
        self.coverage.refed_bytes += data.len();
        data.append(&mut self.queued);
        data
    }

    /// The pieces `data` is handed in as: of `sizes` in turn (whole when
    /// empty or when the run is not the scripted one), none smaller than
    /// needed to keep to MAX_PIECES, so that a big frame read byte by byte
    /// does not make a slow input.
    fn pieces(data: &[u8], sizes: &[u8], chunking: Chunking) -> Vec<core::ops::Range<usize>> {
        if sizes.is_empty() || chunking != Chunking::Scripted {
            return alloc::vec![0..data.len()];
        }
        let least = data.len().div_ceil(MAX_PIECES);
        let mut out = Vec::new();
        let mut at = 0;
        for &size in sizes.iter().cycle() {
            if at == data.len() {
                break;
            }
            let end = data.len().min(at + usize::from(size).max(least).max(1));
            out.push(at..end);
            at = end;
        }
        out
    }

    /// Hands the pending bytes over in pieces of `sizes`, each as the
    /// contract says. Events and transmits an earlier step left are taken
    /// first, as the contract's driver would have: otherwise pongs owed from
    /// then would coalesce with the ones the pieces bring, or not, depending
    /// on where the pieces are cut (a piece that ends inside a ping takes the
    /// transmits before the ping is read).
    fn deliver(&mut self, sizes: &[u8], chunking: Chunking) {
        self.drain();
        let data = self.take_pending();
        for range in Self::pieces(&data, sizes, chunking) {
            self.input(&data[range]);
        }
    }

    /// Hands the pending bytes over in pieces of `size` (0: whole) without
    /// taking an event or a transmit between them. Once a call takes less
    /// than it was given, the rest waits in the backlog for a later step.
    ///
    /// Streaming, the bytes go whole: the first event is then a chunk of as
    /// much as the first piece held, and with the rest unread, the state a
    /// later command meets (a violation found or not yet) would depend on
    /// the pieces, which the comparison of the runs forbids.
    fn feed(&mut self, size: u8, chunking: Chunking) {
        let data = self.take_pending();
        let streaming = self.conn.config().receive == ReceiveMode::Streaming;
        let sizes = if size == 0 || streaming { &[][..] } else { &[size][..] };
        for range in Self::pieces(&data, sizes, chunking) {
            let start = range.start;
            let taken = self.take(&data[range.clone()]);
            self.check_memory(true);
            if taken < range.len() {
                self.backlog = data[start + taken..].to_vec();
                break;
            }
        }
    }

    /// Hands in what the engine did not take before, without draining as
    /// long as it takes everything: input it keeps unread may stay so (an
    /// EOF then waits behind it).
    fn settle_backlog(&mut self) {
        let data = core::mem::take(&mut self.backlog);
        self.coverage.refed_bytes += data.len();
        let mut at = 0;
        while at < data.len() {
            let may_stall = self.undrained;
            let taken = self.take(&data[at..]);
            assert!(taken > 0 || may_stall, "no progress with every event taken");
            at += taken;
            if at < data.len() {
                self.drain();
            }
        }
    }

    /// One call to `handle_bytes`, counted.
    fn take(&mut self, data: &[u8]) -> usize {
        if data.is_empty() {
            return 0;
        }
        let taken = self.conn.handle_bytes(self.now, data);
        assert!(taken <= data.len(), "took {taken} of {} bytes", data.len());
        self.received += taken;
        self.undrained = true;
        if taken < data.len() {
            self.coverage.partial_takes += 1;
            self.coverage.zero_takes += usize::from(taken == 0);
            self.unread_known = true;
        }
        taken
    }

    /// Hands `data` over as the driving contract says: what the engine does
    /// not take is handed again after draining. The caller has drained.
    fn input(&mut self, data: &[u8]) {
        let mut at = 0;
        while at < data.len() {
            // As the README's loop: into the room `read_buf` lends when it
            // lends one, otherwise through `handle_bytes`. Both runs of a
            // script must give the same events, wherever the rooms fall.
            let taken = match self.read_into_room(&data[at..]) {
                Some(n) => n,
                None => self.take(&data[at..]),
            };
            assert!(taken > 0, "no progress with every event taken");
            at += taken;
            self.drain();
        }
    }

    /// Reads the start of `data` into the room `read_buf` lends, if it lends
    /// one, and commits it; returns how many bytes went in.
    fn read_into_room(&mut self, data: &[u8]) -> Option<usize> {
        let room = self.conn.read_buf()?;
        assert!(room.len() >= crate::connection::MIN_ROOM, "read_buf lent a room of {} bytes, under 4 KiB", room.len());
        let n = room.len().min(data.len());
        room[..n].copy_from_slice(&data[..n]);
        assert_eq!(self.conn.commit(self.now, n), Ok(()), "commit of {n} bytes the room lent");
        // A second commit without a new `read_buf` is refused, changing
        // nothing (once the connection stops reading, bytes are ignored).
        // The whole state is compared while the input held is what a script
        // makes (frames up to 64 KiB, the unread room); past that, what a
        // commit would change: formatting a message being assembled on
        // every room lent is quadratic in it.
        if self.conn.ready_state() == ReadyState::Open {
            let small = self.conn.buffered_input_capacity() <= 256 << 10;
            let sketch = |c: &Connection| {
                if small {
                    format!("{c:?}")
                } else {
                    format!("{} {} {:?}", c.buffered_input_len(), c.buffered_input_capacity(), c.poll_timeout())
                }
            };
            let before = sketch(&self.conn);
            assert_eq!(self.conn.commit(self.now, 1), Err(LocalError::NotOffered(1)));
            assert!(sketch(&self.conn) == before, "a refused commit changed the connection");
        }
        self.received += n;
        self.lent_room = true;
        self.coverage.committed_bytes += n;
        // Bytes read behind the frame wait unread, as `handle_bytes` keeps them.
        self.check_memory(true);
        Some(n)
    }

    /// Counts a timeout behind unread input; says whether the close timer is
    /// held for it. While CLOSING only the close timer runs, and it always
    /// does (unless the close timeout is zero) but while input waits unread:
    /// so there `poll_timeout()` tells whether input waits.
    fn timeout_behind_unread(&mut self) -> bool {
        let state = self.conn.ready_state();
        let closing = state == ReadyState::Closing && !self.conn.config().close_timeout.is_zero();
        let held = closing && self.conn.poll_timeout().is_none();
        let known = self.unread_known && state != ReadyState::Closed;
        assert!(held || !(closing && known), "the close timer runs while input waits unread");
        self.coverage.timeouts_behind_unread += usize::from(known || held);
        self.coverage.close_timer_held += usize::from(held);
        held
    }

    /// Moves the clock by `by`, firing each timeout when it comes.
    fn advance(&mut self, by: Duration) {
        self.timeout_behind_unread();
        let end = self.now + by;
        for _ in 0..MAX_TIMEOUTS {
            match self.conn.poll_timeout() {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.conn.handle_timeout(self.now);
                    self.drain();
                    // No deadline is ever before the last call, even one
                    // armed by input read late (behind events taken late).
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
        self.send_counted(f, false)
    }

    /// `send_pong`, counted before the drain checks the pongs written.
    fn send_pong(&mut self, data: &[u8]) -> bool {
        self.send_counted(|c, _| c.send_pong(data), true)
    }

    fn send_counted(
        &mut self,
        f: impl FnOnce(&mut Connection, Duration) -> Result<(), LocalError>,
        pong: bool,
    ) -> bool {
        // Events taken since the last step may have moved the state on.
        let state = self.conn.ready_state();
        let sending = self.fragments.is_some();
        let waiting = self.undrained;
        let before = self.events.len();
        let ok = self.attempt(f, |e| {
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
        self.app_pongs += usize::from(ok && pong);
        self.drain();
        // Events that waited from an earlier input come out now; a send
        // itself reports none.
        assert!(waiting || self.events.len() == before, "a send reported an event");
        ok
    }

    /// A command, then the drain.
    fn command(&mut self, f: impl FnOnce(&mut Connection, Duration) -> Result<(), LocalError>) -> bool {
        let ok = self.attempt(f, |_| {});
        self.drain();
        ok
    }

    /// Runs a command; a refusal must leave the connection exactly as it was.
    fn attempt(
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
        result.is_ok()
    }

    /// Takes every event and checks each. With `out`, the transmits are
    /// taken after each event too (through `poll_transmit_into`, in small
    /// pieces), as a driver that writes as it goes does, so pongs never pile
    /// up; without, they wait.
    fn poll_events(&mut self, mut out: Option<&mut Vec<u8>>) {
        loop {
            let event = self.conn.poll_event();
            // The engine read whatever it held unread up to this event.
            self.unread_known = false;
            let Some(event) = event else { break };
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
                Event::Ping(p) if self.conn.config().auto_pong => self.pings.push(p.to_vec()),
                _ => {}
            }
            self.events.push(event);
            if let Some(out) = out.as_deref_mut() {
                self.flush(out);
            }
        }
        self.undrained = false;
        assert!(!matches!(self.events.last(), Some(Event::Error(_))), "an Error without Closed");
        if self.eof_given {
            assert_eq!(self.conn.ready_state(), ReadyState::Closed, "not closed after an EOF and every event");
        }
        let state = self.conn.ready_state();
        assert!(state.as_u8() >= self.state.as_u8(), "{:?} went back to {state:?}", self.state);
        self.state = state;
        assert_eq!(self.conn.should_close_transport(), state == ReadyState::Closed);
        assert_eq!(self.closed(), state == ReadyState::Closed);
        match state {
            ReadyState::Closed => assert_eq!(self.conn.poll_timeout(), None),
            // The close timer runs in every CLOSING phase once nothing is unread.
            ReadyState::Closing if !self.conn.config().close_timeout.is_zero() => {
                assert!(self.conn.poll_timeout().is_some(), "CLOSING without a close timer")
            }
            _ => {}
        }
    }

    /// `TakeEvents`: every event, no transmit.
    fn take_events(&mut self) {
        self.poll_events(None);
        self.check_memory(false);
    }

    /// Takes every transmit into `out` and checks the pongs among them
    /// against the pings answered since the last time.
    fn flush(&mut self, out: &mut Vec<u8>) {
        let start = out.len();
        let mut piece = [0; 97];
        loop {
            let n = self.conn.poll_transmit_into(&mut piece);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&piece[..n]);
        }
        while let Some(bytes) = self.conn.poll_transmit() {
            assert!(!bytes.is_empty());
            out.extend_from_slice(&bytes);
        }
        assert!(!self.transport_failed || out.len() == start, "bytes written after a transport error");
        let pings = core::mem::take(&mut self.pings);
        let app_pongs = core::mem::take(&mut self.app_pongs);
        let dropped = core::mem::take(&mut self.dropped_transmits);
        self.coverage.most_pings_between_transmits = self.coverage.most_pings_between_transmits.max(pings.len());
        if pings.len() > QUEUED_PONGS {
            self.coverage.coalesced_pongs += 1;
        }
        if !dropped && let Some(frames) = pongs_and_closes(&out[start..]) {
            check_pongs(&pings, app_pongs, &frames);
        }
    }

    /// Takes every event and every byte, and checks the invariants; the
    /// bytes are taken after each event and at the end, so that the same
    /// input gives the same bytes however it is cut.
    fn drain(&mut self) {
        let mut out = Vec::new();
        self.poll_events(Some(&mut out));
        self.flush(&mut out);
        if !out.is_empty() {
            self.sent.extend_from_slice(&out);
            let nonce = self.request.as_ref().and_then(|r| r.key.as_deref()).map(nonce_of);
            self.peer.read(&out, nonce, self.accepted.as_deref());
        }
        assert_eq!(self.conn.buffered_amount(), 0);
        self.check_memory(false);
    }

    /// The input held stays within the limits of the settings, and the heap
    /// held for it (allocated capacity, not length) within twice that and
    /// twice the bytes received: never sized by what a header announces.
    /// While events wait (`waiting`), unread input may be held too, up to
    /// its own limit.
    fn check_memory(&self, waiting: bool) {
        let config = self.conn.config();
        let held = self.conn.buffered_input_len();
        let state = self.conn.ready_state();
        let mut limit = match state {
            ReadyState::Connecting => config.max_handshake_bytes,
            ReadyState::Closed => 0,
            ReadyState::Open | ReadyState::Closing => {
                // A message (or, streaming, the bytes of one unfinished
                // character), a control payload, a partial header; unread
                // input only while events wait.
                let message = if config.receive == ReceiveMode::Messages { config.max_message_size } else { 3 };
                message + MAX_CONTROL_PAYLOAD + MAX_HEADER_LEN - 1
            }
        };
        if waiting && state != ReadyState::Closed {
            // At least one byte is kept while none waits, whatever the limit.
            limit += config.max_unread_input.max(1);
        }
        assert!(held <= limit, "{held} bytes of input held while {state:?}; the limit is {limit}");
        let capacity = self.conn.buffered_input_capacity();
        // A room lent by `read_buf` is up to 64 KiB of the unread input's
        // buffer (within its limit) once reads stream.
        let room = if self.lent_room { config.max_unread_input.min(64 << 10) } else { 0 };
        let bound = (2 * limit).min(2 * self.received) + 64 + room;
        assert!(
            capacity <= bound,
            "{capacity} bytes of heap for input after {} received while {state:?}; the bound is {bound}",
            self.received,
        );
    }

    fn closed(&self) -> bool {
        self.events.iter().any(|e| matches!(e, Event::Closed(_)))
    }

    /// Whether input may wait: handed in with its events not all taken, or
    /// not taken at all.
    fn waits(&self) -> bool {
        self.undrained || !self.backlog.is_empty()
    }

    /// Delivers what is left, then EOF: the connection must be closed with
    /// exactly one close event, and the peer must have read what was sent.
    fn finish(&mut self) {
        self.deliver(&[], Chunking::Whole);
        self.conn.handle_eof(self.now);
        self.eof_given = true;
        self.drain();
        assert_eq!(self.state, ReadyState::Closed);
        let closes = self.events.iter().filter(|e| matches!(e, Event::Closed(_))).count();
        assert_eq!(closes, 1, "{closes} close events");
        assert_eq!(self.conn.buffered_input_len(), 0);
        self.peer.finish(&self.sends, self.app_close.as_ref());
    }
}

/// The other role.
pub(super) fn other(role: Role) -> Role {
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
