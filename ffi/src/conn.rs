//! A connection: `rfc6455_conn`, its constructors, input, events, output,
//! commands and getters.
//!
//! Time is the caller's: `now_ns` is any monotonic clock in nanoseconds
//! (`CLOCK_MONOTONIC`), the same one for every call on a connection, and
//! deadlines come back on that clock.
//!
//! What the library lends: an event's bytes stay valid until the next call
//! that takes the connection non-`const` returns, so they may be passed to
//! that call (an echo sends the event's bytes straight back); `const` calls
//! never invalidate them. The request of a REQUEST event, and its strings,
//! live until `rfc6455_conn_accept` or `rfc6455_conn_reject` succeeds (they
//! may be passed to either) or `rfc6455_conn_free`. The protocol,
//! extensions and close reason live as long as the connection.

use core::ffi::c_char;
use core::time::Duration;

use engine::{
    Accept, CloseCode, CloseEvent, Config, Connection, Error, Event, Fragment, LocalError, MessageKind, Request, Role,
};

use crate::config::{c_str, rfc6455_client_request, rfc6455_config};
use crate::status::*;
use crate::{guard, ok_or_return};

/// A WebSocket connection: the engine and what it lends to C. Create with
/// `rfc6455_conn_client`, `rfc6455_conn_server` or `rfc6455_conn_open`; free
/// with `rfc6455_conn_free`. One thread at a time may call into it.
pub struct rfc6455_conn {
    conn: Connection,
    /// The slot of the last event handed out, whose bytes the caller
    /// borrows: a `Box<Option<Event>>` made once, held as a raw pointer so
    /// that a `&mut` of this struct never covers them (an inline payload
    /// lives in the event itself).
    event: *mut Option<Event>,
    /// The pending request of a REQUEST event, out of line for the same
    /// reason (a `Box` from `Box::into_raw`), or NULL.
    request: *mut rfc6455_request,
    /// The close event, once it came.
    closed: Option<CloseEvent>,
    /// An ERROR event's message.
    message: String,
    /// The extensions agreed on, as one header value.
    extensions: String,
    /// Set while a call runs: still set after one that panicked.
    poisoned: bool,
}

/// A server's upgrade request, lent by a REQUEST event: read it with the
/// `rfc6455_request_*` functions.
pub struct rfc6455_request {
    request: Request,
}

/// The role: `RFC6455_ROLE_CLIENT` masks what it sends,
/// `RFC6455_ROLE_SERVER` never does.
pub type rfc6455_role = u32;
/// A client.
pub const RFC6455_ROLE_CLIENT: rfc6455_role = 0;
/// A server.
pub const RFC6455_ROLE_SERVER: rfc6455_role = 1;

/// The browser's `readyState`.
pub type rfc6455_ready_state = u32;
/// 0: the opening handshake is under way.
pub const RFC6455_CONNECTING: rfc6455_ready_state = 0;
/// 1: open.
pub const RFC6455_OPEN: rfc6455_ready_state = 1;
/// 2: the closing handshake is under way.
pub const RFC6455_CLOSING: rfc6455_ready_state = 2;
/// 3: closed.
pub const RFC6455_CLOSED: rfc6455_ready_state = 3;

/// The kind of an `rfc6455_event`, or of a fragment to send.
pub type rfc6455_kind = u32;
/// Server: an HTTP request arrived (`request`); answer it with
/// `rfc6455_conn_accept` or `rfc6455_conn_reject`.
pub const RFC6455_EVENT_REQUEST: rfc6455_kind = 1;
/// The opening handshake completed: OPEN.
pub const RFC6455_EVENT_OPEN: rfc6455_kind = 2;
/// Text (UTF-8, whole characters): a whole message, or with streaming a
/// piece of one (`fin` on the last).
pub const RFC6455_EVENT_TEXT: rfc6455_kind = 3;
/// Binary: a whole message, or with streaming a piece of one.
pub const RFC6455_EVENT_BINARY: rfc6455_kind = 4;
/// A ping (answered already, unless auto-pong is off).
pub const RFC6455_EVENT_PING: rfc6455_kind = 5;
/// A pong.
pub const RFC6455_EVENT_PONG: rfc6455_kind = 6;
/// Why the connection is failing (`error`, `code`, the message in `data`);
/// CLOSED follows.
pub const RFC6455_EVENT_ERROR: rfc6455_kind = 7;
/// The connection ended: `code`, `data` (the reason) and `was_clean`, as
/// the browser's `CloseEvent`.
pub const RFC6455_EVENT_CLOSED: rfc6455_kind = 8;

/// The close code to pass to `rfc6455_conn_close` for a close frame
/// without a code (the browser's `close()` with no arguments); the peer sees
/// 1005.
pub const RFC6455_CLOSE_NO_STATUS: u16 = 1005;

/// An event, as `rfc6455_conn_poll_event` fills it. Its pointers are lent
/// (until the next non-`const` call on the connection returns, or the next
/// `rfc6455_conn_poll_event` starts); `data` is not NUL-terminated.
#[repr(C)]
pub struct rfc6455_event {
    /// What happened: `RFC6455_EVENT_*`.
    pub kind: rfc6455_kind,
    /// TEXT, BINARY, PING, PONG: the payload; ERROR: a message for people;
    /// CLOSED: the reason. Never NULL, even when `len` is 0.
    pub data: *const u8,
    /// The length of `data` in bytes.
    pub len: usize,
    /// TEXT, BINARY: whether this ends the message (always, unless
    /// streaming).
    pub fin: bool,
    /// CLOSED: whether the closing handshake completed (`wasClean`).
    pub was_clean: bool,
    /// CLOSED: the close code (1005 when the frame had none, 1006 when none
    /// came); ERROR: the close code sent for a protocol error, 0 otherwise.
    pub code: u16,
    /// ERROR: what failed (`RFC6455_ERR_PROTOCOL`, `RFC6455_ERR_HANDSHAKE`,
    /// …); 0 for other events.
    pub error: rfc6455_status,
    /// REQUEST: the request; NULL for other events.
    pub request: *const rfc6455_request,
}

/// The close event, as `rfc6455_conn_close_event` fills it.
#[repr(C)]
pub struct rfc6455_close_event {
    /// The close code received (1005 none, 1006 no close frame).
    pub code: u16,
    /// Whether the closing handshake completed.
    pub was_clean: bool,
    /// The reason received, UTF-8, not NUL-terminated; never NULL.
    pub reason: *const u8,
    /// The reason's length.
    pub reason_len: usize,
}

/// A header for `rfc6455_conn_accept` and `rfc6455_conn_reject`: two
/// NUL-terminated strings.
#[repr(C)]
pub struct rfc6455_header {
    /// The name.
    pub name: *const c_char,
    /// The value.
    pub value: *const c_char,
}

/// `RFC6455_OK`, or the status for why the engine refused the call.
pub(crate) fn done(result: Result<(), LocalError>) -> rfc6455_status {
    result.map_or_else(status_of, |()| RFC6455_OK)
}

fn time(ns: u64) -> Duration {
    Duration::from_nanos(ns)
}

/// Bytes from C: `(NULL, 0)` is empty.
///
/// # Safety
/// `data` is NULL with `len == 0`, or valid for `len` bytes of reads.
unsafe fn bytes<'a>(data: *const u8, len: usize) -> Result<&'a [u8], rfc6455_status> {
    if len > isize::MAX as usize {
        return Err(RFC6455_ERR_INVALID_ARGUMENT);
    }
    match data.is_null() {
        true if len == 0 => Ok(&[]),
        true => Err(RFC6455_ERR_NULL_ARGUMENT),
        // SAFETY: valid for `len` bytes, by the contract.
        false => Ok(unsafe { core::slice::from_raw_parts(data, len) }),
    }
}

/// Text from C: as `bytes`, and UTF-8.
///
/// # Safety
/// As `bytes`.
unsafe fn text<'a>(data: *const u8, len: usize) -> Result<&'a str, rfc6455_status> {
    let data = unsafe { bytes(data, len) }?;
    simdutf8::basic::from_utf8(data).map_err(|_| RFC6455_ERR_INVALID_UTF8)
}

/// Runs `$body` with `$c` the connection behind `$conn`, then lets go of
/// the event the caller borrowed, which may have been an argument of the
/// body's call (an echo passes `ev.data` back in). NULL is
/// `RFC6455_ERR_NULL_ARGUMENT`; a connection a panic interrupted is
/// `RFC6455_PANIC`.
///
/// A macro, not a function taking a closure: the bytes C lent in are
/// borrowed by the body, and a closure argument would keep them borrowed
/// (protected) until the function returned, past the moment the event they
/// may point into is dropped. The event lives in its own allocation, so `$c`
/// (a `&mut` of the struct) never covers bytes C holds a view of.
///
/// Safety: `$conn` is NULL or a live connection no other thread is using.
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {{
        let conn: *mut rfc6455_conn = $conn;
        // SAFETY: NULL or live and ours for the call, by the contract.
        #[allow(unused_unsafe)] // the macro may be used inside `unsafe`
        let conn = unsafe { conn.as_mut() };
        match conn {
            None => RFC6455_ERR_NULL_ARGUMENT,
            Some(c) if c.poisoned => RFC6455_PANIC,
            Some($c) => {
                $c.poisoned = true;
                // Called here, not passed on: the closure's borrows end when
                // it returns, before the release; a `return` in the body
                // leaves only the body.
                #[allow(clippy::redundant_closure_call)]
                let status: rfc6455_status = (|| $body)();
                $c.release_event();
                $c.poisoned = false;
                status
            }
        }
    }};
}

/// As `with_conn` for a `const` call: nothing lent is let go.
///
/// # Safety
/// `conn` is NULL or a live connection no other thread is changing.
unsafe fn with_ref(conn: *const rfc6455_conn, f: impl FnOnce(&rfc6455_conn) -> rfc6455_status) -> rfc6455_status {
    // SAFETY: NULL or live, by the contract.
    match unsafe { conn.as_ref() } {
        None => RFC6455_ERR_NULL_ARGUMENT,
        Some(c) if c.poisoned => RFC6455_PANIC,
        Some(c) => f(c),
    }
}

/// Writes `value` to `out`, a checked out-parameter.
///
/// # Safety
/// `out` is not NULL and valid for a write.
unsafe fn put<T>(out: *mut T, value: T) -> rfc6455_status {
    // SAFETY: by the contract.
    unsafe { out.write(value) };
    RFC6455_OK
}

/// Lends `bytes` through two out-parameters, or `RFC6455_DONE` for none.
///
/// # Safety
/// `ptr` and `len` are NULL or valid for writes.
pub(crate) unsafe fn lend_bytes(ptr: *mut *const u8, len: *mut usize, bytes: Option<&[u8]>) -> rfc6455_status {
    if ptr.is_null() || len.is_null() {
        return RFC6455_ERR_NULL_ARGUMENT;
    }
    match bytes {
        // SAFETY: both checked, valid for writes by the contract.
        Some(b) => unsafe {
            put(len, b.len());
            put(ptr, b.as_ptr())
        },
        None => RFC6455_DONE,
    }
}

/// The engine's config from an optional C one.
///
/// # Safety
/// `config` is NULL or a live config.
unsafe fn config_of(config: *const rfc6455_config) -> Config {
    // SAFETY: NULL or live, by the contract.
    unsafe { config.as_ref() }.map_or_else(Config::default, |c| c.config.clone())
}

impl rfc6455_conn {
    /// Lets go of the event lent (C may hold a view of it no longer).
    fn release_event(&mut self) {
        // SAFETY: `event` is the live slot made in `new_conn`; no reference
        // into it outlives the call that lent it (the body of `with_conn!`
        // has returned).
        unsafe { *self.event = None };
    }

    /// Frees the pending request, if any.
    fn release_request(&mut self) {
        if !self.request.is_null() {
            // SAFETY: from `Box::into_raw` in `lend`, freed once: NULL after.
            drop(unsafe { Box::from_raw(self.request) });
            self.request = core::ptr::null_mut();
        }
    }
}

impl Drop for rfc6455_conn {
    fn drop(&mut self) {
        self.release_request();
        // SAFETY: the slot from `Box::into_raw` in `new_conn`, freed once.
        drop(unsafe { Box::from_raw(self.event) });
    }
}

fn new_conn(conn: Connection) -> *mut rfc6455_conn {
    Box::into_raw(Box::new(rfc6455_conn {
        conn,
        event: Box::into_raw(Box::new(None)),
        request: core::ptr::null_mut(),
        closed: None,
        message: String::new(),
        extensions: String::new(),
        poisoned: false,
    }))
}

// ----- constructors -----

/// A client for `request` (copied), with `config` (copied; NULL for the
/// defaults), created at `now_ns`. Its upgrade request is ready in
/// `rfc6455_conn_poll_transmit`. The caller owns `*out`: free it with
/// `rfc6455_conn_free`. A subprotocol or header that cannot be sent is
/// `RFC6455_ERR_INVALID_HEADER`.
///
/// # Safety
/// `request` is NULL or live; `config` NULL or live; `out` NULL or valid for
/// a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_client(
    request: *const rfc6455_client_request,
    config: *const rfc6455_config,
    now_ns: u64,
    out: *mut *mut rfc6455_conn,
) -> rfc6455_status {
    guard!({
        // SAFETY: NULL or live, by the contract.
        let Some(request) = (unsafe { request.as_ref() }) else {
            return RFC6455_ERR_NULL_ARGUMENT;
        };
        if out.is_null() {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        match Connection::client(time(now_ns), &request.request, unsafe { config_of(config) }) {
            Ok(conn) => unsafe { put(out, new_conn(conn)) },
            Err(e) => status_of(e),
        }
    })
}

/// A server waiting for a client's request (a REQUEST event), with `config`
/// (copied; NULL for the defaults), created at `now_ns`. The caller owns
/// `*out`.
///
/// # Safety
/// `config` is NULL or live; `out` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_server(
    config: *const rfc6455_config,
    now_ns: u64,
    out: *mut *mut rfc6455_conn,
) -> rfc6455_status {
    guard!({
        if out.is_null() {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        let conn = Connection::server(time(now_ns), unsafe { config_of(config) });
        unsafe { put(out, new_conn(conn)) }
    })
}

/// A connection whose handshake was done elsewhere: OPEN at once, in
/// `role`, with the subprotocol agreed on (`protocol`, NUL-terminated, or
/// NULL for none). Bytes read after the handshake go to
/// `rfc6455_conn_handle_bytes`. The caller owns `*out`.
///
/// # Safety
/// `protocol` is NULL or NUL-terminated; `config` NULL or live; `out` NULL
/// or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_open(
    role: rfc6455_role,
    protocol: *const c_char,
    config: *const rfc6455_config,
    now_ns: u64,
    out: *mut *mut rfc6455_conn,
) -> rfc6455_status {
    guard!({
        if out.is_null() {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        let role = match role {
            RFC6455_ROLE_CLIENT => Role::Client,
            RFC6455_ROLE_SERVER => Role::Server,
            _ => return RFC6455_ERR_INVALID_ARGUMENT,
        };
        let protocol = match protocol.is_null() {
            true => None,
            false => match unsafe { c_str(protocol) } {
                Ok(p) => Some(p.to_owned()),
                Err(status) => return status,
            },
        };
        let conn = Connection::open(time(now_ns), role, protocol, unsafe { config_of(config) });
        unsafe { put(out, new_conn(conn)) }
    })
}

/// Frees a connection and everything it lent; NULL is fine. It does not
/// close anything: the socket is the caller's.
///
/// # Safety
/// `conn` is NULL or came from a constructor and was not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_free(conn: *mut rfc6455_conn) {
    guard!({
        if !conn.is_null() {
            // SAFETY: from `Box::into_raw`, freed once, by the contract.
            drop(unsafe { Box::from_raw(conn) });
        }
    })
}

// ----- input -----

/// Hands the engine `len` bytes read from the socket at `now_ns`; `*taken`
/// is how many it took. It takes them all unless events wait untaken: then
/// take events with `rfc6455_conn_poll_event` until `RFC6455_DONE` and hand
/// it the rest again. Partial frames wait for more; a violation becomes
/// events.
///
/// # Safety
/// `conn` is NULL or live; `data` valid for `len` bytes (NULL with 0);
/// `taken` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_handle_bytes(
    conn: *mut rfc6455_conn,
    now_ns: u64,
    data: *const u8,
    len: usize,
    taken: *mut usize,
) -> rfc6455_status {
    guard!({
        if taken.is_null() {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        let data = ok_or_return!(unsafe { bytes(data, len) });
        unsafe {
            with_conn!(conn, |c| {
                let n = c.conn.handle_bytes(time(now_ns), data);
                put(taken, n)
            })
        }
    })
}

/// Lends room to read into directly, with no copy (`*buf`, `*len`):
/// `RFC6455_DONE` when it lends none now (use `rfc6455_conn_handle_bytes`).
/// Read into it, then `rfc6455_conn_commit` what was read. The room is
/// lent until the next non-`const` call on the connection.
///
/// # Safety
/// `conn` is NULL or live; `buf` and `len` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_read_buf(
    conn: *mut rfc6455_conn,
    buf: *mut *mut u8,
    len: *mut usize,
) -> rfc6455_status {
    guard!({
        if buf.is_null() || len.is_null() {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        unsafe {
            with_conn!(conn, |c| match c.conn.read_buf() {
                Some(room) => {
                    put(len, room.len());
                    put(buf, room.as_mut_ptr())
                }
                None => RFC6455_DONE,
            })
        }
    })
}

/// The first `n` bytes of the room `rfc6455_conn_read_buf` lent were read
/// into at `now_ns`: they are input, all taken. More than it lent is
/// `RFC6455_ERR_NOT_OFFERED` and changes nothing; 0 gives the room back.
///
/// # Safety
/// `conn` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_commit(conn: *mut rfc6455_conn, now_ns: u64, n: usize) -> rfc6455_status {
    guard!({ with_conn!(conn, |c| done(c.conn.commit(time(now_ns), n))) })
}

/// The socket reached EOF (a read gave 0) at `now_ns`.
///
/// # Safety
/// `conn` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_handle_eof(conn: *mut rfc6455_conn, now_ns: u64) -> rfc6455_status {
    guard!({
        with_conn!(conn, |c| {
            c.conn.handle_eof(time(now_ns));
            RFC6455_OK
        })
    })
}

/// Reading or writing the socket failed at `now_ns`: the connection fails
/// (1006).
///
/// # Safety
/// `conn` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_handle_transport_error(conn: *mut rfc6455_conn, now_ns: u64) -> rfc6455_status {
    guard!({
        with_conn!(conn, |c| {
            c.conn.handle_transport_error(time(now_ns));
            RFC6455_OK
        })
    })
}

/// The deadline from `rfc6455_conn_timeout` came: runs the timers due at
/// `now_ns` (early calls do nothing).
///
/// # Safety
/// `conn` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_handle_timeout(conn: *mut rfc6455_conn, now_ns: u64) -> rfc6455_status {
    guard!({
        with_conn!(conn, |c| {
            c.conn.handle_timeout(time(now_ns));
            RFC6455_OK
        })
    })
}

/// When to call `rfc6455_conn_handle_timeout` next, as `*at_ns` on the
/// caller's clock: `RFC6455_OK` with it, `RFC6455_DONE` when no timer runs.
///
/// # Safety
/// `conn` is NULL or live; `at_ns` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_timeout(conn: *const rfc6455_conn, at_ns: *mut u64) -> rfc6455_status {
    guard!({
        if at_ns.is_null() {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        unsafe {
            with_ref(conn, |c| match c.conn.poll_timeout() {
                Some(at) => put(at_ns, u64::try_from(at.as_nanos()).unwrap_or(u64::MAX)),
                None => RFC6455_DONE,
            })
        }
    })
}

// ----- output -----

/// Copies the next bytes to write to the socket into `buf` (room for
/// `cap`), `*written` of them: `RFC6455_OK` while it copies any,
/// `RFC6455_DONE` when nothing is queued, `RFC6455_BUFFER_TOO_SMALL` when
/// bytes wait and `cap` is 0. A frame may be split across calls: call until
/// `RFC6455_DONE`, and write them in order. Bytes of `buf` past `*written`
/// may have been written to and mean nothing.
///
/// # Safety
/// `conn` is NULL or live; `buf` valid for `cap` bytes of writes (NULL with
/// 0); `written` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_poll_transmit(
    conn: *mut rfc6455_conn,
    buf: *mut u8,
    cap: usize,
    written: *mut usize,
) -> rfc6455_status {
    guard!({
        if written.is_null() || (buf.is_null() && cap > 0) {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        unsafe {
            with_conn!(conn, |c| {
                if cap == 0 {
                    match c.conn.buffered_amount() {
                        0 => RFC6455_DONE,
                        _ => RFC6455_BUFFER_TOO_SMALL,
                    }
                } else {
                    // SAFETY: `buf` is valid for `cap` bytes of writes; the
                    // engine only writes into it.
                    let out = core::slice::from_raw_parts_mut(buf, cap.min(isize::MAX as usize));
                    match c.conn.poll_transmit_into(out) {
                        0 => RFC6455_DONE,
                        n => put(written, n),
                    }
                }
            })
        }
    })
}

// ----- events -----

/// Takes the next event into `*event`: `RFC6455_OK`, or `RFC6455_DONE`
/// when none waits. Its pointers are lent until the next non-`const` call
/// returns (a call that takes bytes may be given them); the next
/// `rfc6455_conn_poll_event` lets go of them as it starts. Pings are
/// answered and close frames echoed by the engine; their bytes are queued
/// for `rfc6455_conn_poll_transmit`.
///
/// # Safety
/// `conn` is NULL or live; `event` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_poll_event(conn: *mut rfc6455_conn, event: *mut rfc6455_event) -> rfc6455_status {
    guard!({
        if event.is_null() {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        // SAFETY: NULL or live and ours for the call, by the contract.
        let Some(c) = (unsafe { conn.as_mut() }) else {
            return RFC6455_ERR_NULL_ARGUMENT;
        };
        if c.poisoned {
            return RFC6455_PANIC;
        }
        c.poisoned = true;
        // The event is kept where it is lent from (the last one dropped).
        // Data events, the common case, are described in place; the others
        // take the cold path.
        // SAFETY: the live slot; the view of the previous event ends here,
        // as this call's contract says.
        let slot = unsafe { &mut *c.event };
        // The previous event goes first, as a Rust loop drops it before it
        // asks for the next: the engine may allocate the next message while
        // taking this one, and the freed buffer is then reused in order.
        *slot = None;
        *slot = c.conn.poll_event();
        let view = match slot {
            None => None,
            Some(Event::Binary(b)) => Some(data_view(RFC6455_EVENT_BINARY, b, true)),
            Some(Event::Text(t)) => Some(data_view(RFC6455_EVENT_TEXT, t.as_bytes(), true)),
            Some(Event::Chunk { kind: MessageKind::Text, data, fin }) => {
                Some(data_view(RFC6455_EVENT_TEXT, data, *fin))
            }
            Some(Event::Chunk { data, fin, .. }) => Some(data_view(RFC6455_EVENT_BINARY, data, *fin)),
            Some(Event::Ping(p)) => Some(data_view(RFC6455_EVENT_PING, p, true)),
            Some(Event::Pong(p)) => Some(data_view(RFC6455_EVENT_PONG, p, true)),
            Some(_) => slot.take().map(|e| c.lend(e)),
        };
        c.poisoned = false;
        match view {
            None => RFC6455_DONE,
            Some(view) => unsafe { put(event, view) },
        }
    })
}

/// A data event's view: its kind, bytes and `fin`.
#[inline(always)]
fn data_view(kind: rfc6455_kind, data: &[u8], fin: bool) -> rfc6455_event {
    rfc6455_event {
        kind,
        data: data.as_ptr(),
        len: data.len(),
        fin,
        was_clean: false,
        code: 0,
        error: 0,
        request: core::ptr::null(),
    }
}

impl rfc6455_conn {
    /// Keeps `e` and describes it for C: the events that are not data
    /// (request, open, error, closed), out of the hot path.
    #[cold]
    #[inline(never)]
    fn lend(&mut self, e: Event) -> rfc6455_event {
        // An event this version does not know: kind 0, no bytes, to skip.
        let mut view = data_view(0, &[], true);
        match e {
            Event::Request(r) => {
                // The request outlives the event: it is kept until answered.
                view.kind = RFC6455_EVENT_REQUEST;
                self.release_request();
                self.request = Box::into_raw(Box::new(rfc6455_request { request: *r }));
                view.request = self.request;
            }
            Event::Open(_) => {
                view.kind = RFC6455_EVENT_OPEN;
                self.extensions = self.conn.extensions().join(", ");
            }
            Event::Error(err) => {
                view.kind = RFC6455_EVENT_ERROR;
                view.error = failure(&err);
                if let Error::Protocol(p) = err {
                    view.code = p.close_code().0;
                }
                self.message = err.to_string();
                (view.data, view.len) = (self.message.as_ptr(), self.message.len());
            }
            Event::Closed(close) => {
                view.kind = RFC6455_EVENT_CLOSED;
                view.code = close.code.0;
                view.was_clean = close.was_clean;
                let reason = &self.closed.insert(close).reason;
                (view.data, view.len) = (reason.as_ptr(), reason.len());
            }
            _ => {}
        }
        view
    }
}

// ----- the server's request -----

/// Lends a request's string: `*ptr`, `*len`.
///
/// # Safety
/// `request` is NULL or live; `ptr` and `len` NULL or valid for writes.
unsafe fn lend_str(
    request: *const rfc6455_request,
    ptr: *mut *const u8,
    len: *mut usize,
    pick: impl FnOnce(&Request) -> Option<&[u8]>,
) -> rfc6455_status {
    // SAFETY: NULL or live, by the contract.
    match unsafe { request.as_ref() } {
        None => RFC6455_ERR_NULL_ARGUMENT,
        Some(r) => unsafe { lend_bytes(ptr, len, pick(&r.request)) },
    }
}

/// The request's method (`GET`), lent as the request is.
///
/// # Safety
/// `request` is NULL or live; `ptr` and `len` NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_request_method(
    request: *const rfc6455_request,
    ptr: *mut *const u8,
    len: *mut usize,
) -> rfc6455_status {
    guard!({ unsafe { lend_str(request, ptr, len, |r| Some(r.method.as_bytes())) } })
}

/// The request's path (`/chat`, without the query).
///
/// # Safety
/// `request` is NULL or live; `ptr` and `len` NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_request_path(
    request: *const rfc6455_request,
    ptr: *mut *const u8,
    len: *mut usize,
) -> rfc6455_status {
    guard!({ unsafe { lend_str(request, ptr, len, |r| Some(r.path.as_bytes())) } })
}

/// The request's query (after `?`), or `RFC6455_DONE` when it has none.
///
/// # Safety
/// `request` is NULL or live; `ptr` and `len` NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_request_query(
    request: *const rfc6455_request,
    ptr: *mut *const u8,
    len: *mut usize,
) -> rfc6455_status {
    guard!({ unsafe { lend_str(request, ptr, len, |r| r.query.as_deref().map(str::as_bytes)) } })
}

/// The value of the first header named `name` (NUL-terminated, any case),
/// or `RFC6455_DONE` when there is none.
///
/// # Safety
/// `request` is NULL or live; `name` NULL or NUL-terminated; `ptr` and `len`
/// NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_request_header(
    request: *const rfc6455_request,
    name: *const c_char,
    ptr: *mut *const u8,
    len: *mut usize,
) -> rfc6455_status {
    guard!({
        let name = ok_or_return!(unsafe { c_str(name) });
        unsafe { lend_str(request, ptr, len, |r| r.headers.get(name)) }
    })
}

/// The `index`th header of the request (from 0), its name and value, or
/// `RFC6455_DONE` past the last. Lent as the request is.
///
/// # Safety
/// `request` is NULL or live; the four out-parameters NULL or valid for
/// writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_request_header_at(
    request: *const rfc6455_request,
    index: usize,
    name: *mut *const u8,
    name_len: *mut usize,
    value: *mut *const u8,
    value_len: *mut usize,
) -> rfc6455_status {
    guard!({
        if name.is_null() || name_len.is_null() || value.is_null() || value_len.is_null() {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        // SAFETY: NULL or live, by the contract.
        let Some(r) = (unsafe { request.as_ref() }) else {
            return RFC6455_ERR_NULL_ARGUMENT;
        };
        match r.request.headers.iter().nth(index) {
            // SAFETY: all four checked, valid for writes by the contract.
            Some((n, v)) => unsafe {
                lend_bytes(name, name_len, Some(n.as_bytes()));
                lend_bytes(value, value_len, Some(v))
            },
            None => RFC6455_DONE,
        }
    })
}

/// The `index`th subprotocol the client offered (from 0), or `RFC6455_DONE`
/// past the last.
///
/// # Safety
/// `request` is NULL or live; `ptr` and `len` NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_request_protocol(
    request: *const rfc6455_request,
    index: usize,
    ptr: *mut *const u8,
    len: *mut usize,
) -> rfc6455_status {
    guard!({ unsafe { lend_str(request, ptr, len, |r| r.protocols.get(index).map(|p| p.as_bytes())) } })
}

/// Whether the request is a WebSocket upgrade that passed every check of
/// RFC 6455 §4.2.1 (a plain `GET` is not: it can only be rejected).
///
/// # Safety
/// `request` is NULL or live; `out` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_request_is_upgrade(request: *const rfc6455_request, out: *mut bool) -> rfc6455_status {
    guard!({
        if out.is_null() {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        // SAFETY: NULL or live, by the contract.
        match unsafe { request.as_ref() } {
            Some(r) => unsafe { put(out, r.request.is_upgrade()) },
            None => RFC6455_ERR_NULL_ARGUMENT,
        }
    })
}

/// Headers from C.
///
/// # Safety
/// `headers` valid for `n` elements (NULL with 0), each two NUL-terminated
/// strings.
unsafe fn headers_of<'a>(headers: *const rfc6455_header, n: usize) -> Result<Vec<(&'a str, &'a str)>, rfc6455_status> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if headers.is_null() {
        return Err(RFC6455_ERR_NULL_ARGUMENT);
    }
    if n > isize::MAX as usize / core::mem::size_of::<rfc6455_header>() {
        return Err(RFC6455_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: valid for `n` elements, by the contract.
    let headers = unsafe { core::slice::from_raw_parts(headers, n) };
    headers.iter().map(|h| Ok((unsafe { c_str(h.name) }?, unsafe { c_str(h.value) }?))).collect()
}

/// Server: accepts the pending request at `now_ns`, with the subprotocol
/// `protocol` of `protocol_len` bytes (one the client offered; NULL and 0
/// for none; it may be the request's own string, from
/// `rfc6455_request_protocol`) and `n_headers` extra response headers. The
/// connection is OPEN and the 101 queued; an OPEN event follows. The request
/// is freed.
///
/// # Safety
/// `conn` is NULL or live; `protocol` valid for `protocol_len` bytes (NULL
/// with 0); `headers` valid for `n_headers` elements (NULL with 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_accept(
    conn: *mut rfc6455_conn,
    now_ns: u64,
    protocol: *const u8,
    protocol_len: usize,
    headers: *const rfc6455_header,
    n_headers: usize,
) -> rfc6455_status {
    guard!({
        let protocol = match protocol_len {
            0 => None,
            _ => match unsafe { text(protocol, protocol_len) } {
                Ok(p) => Some(p),
                Err(status) => return status,
            },
        };
        let headers = ok_or_return!(unsafe { headers_of(headers, n_headers) });
        let mut accept = Accept::new();
        if let Some(p) = protocol {
            accept = accept.protocol(p);
        }
        for (name, value) in headers {
            accept = accept.header(name, value);
        }
        with_conn!(conn, |c| {
            let status = done(c.conn.accept(time(now_ns), accept));
            if status == RFC6455_OK {
                c.release_request();
            }
            status
        })
    })
}

/// Server: answers the pending request at `now_ns` with another status (a
/// 401, a 404, a page for a plain `GET`), `n_headers` headers and a body of
/// `body_len` bytes, then closes (`Content-Length` and `Connection: close`
/// are added; a `HEAD` gets no body). The request is freed.
///
/// # Safety
/// `conn` is NULL or live; `headers` valid for `n_headers` elements (NULL
/// with 0); `body` valid for `body_len` bytes (NULL with 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_reject(
    conn: *mut rfc6455_conn,
    now_ns: u64,
    status: u16,
    headers: *const rfc6455_header,
    n_headers: usize,
    body: *const u8,
    body_len: usize,
) -> rfc6455_status {
    guard!({
        let headers = ok_or_return!(unsafe { headers_of(headers, n_headers) });
        let body = ok_or_return!(unsafe { bytes(body, body_len) });
        with_conn!(conn, |c| {
            let done = done(c.conn.reject(time(now_ns), status, &headers, body));
            if done == RFC6455_OK {
                c.release_request();
            }
            done
        })
    })
}

// ----- sending -----

/// Sends a text message (`len` bytes of UTF-8; not UTF-8 is
/// `RFC6455_ERR_INVALID_UTF8`) in one frame. Its bytes are copied.
///
/// # Safety
/// `conn` is NULL or live; `data` valid for `len` bytes (NULL with 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_send_text(
    conn: *mut rfc6455_conn,
    data: *const u8,
    len: usize,
) -> rfc6455_status {
    guard!({
        let text = ok_or_return!(unsafe { text(data, len) });
        with_conn!(conn, |c| done(c.conn.send_text(text)))
    })
}

/// Sends a binary message in one frame. Its bytes are copied.
///
/// # Safety
/// `conn` is NULL or live; `data` valid for `len` bytes (NULL with 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_send_binary(
    conn: *mut rfc6455_conn,
    data: *const u8,
    len: usize,
) -> rfc6455_status {
    guard!({
        let data = ok_or_return!(unsafe { bytes(data, len) });
        with_conn!(conn, |c| done(c.conn.send_binary(data)))
    })
}

/// Sends one fragment of a message of `kind` (`RFC6455_EVENT_TEXT` or
/// `RFC6455_EVENT_BINARY`): the first starts the message, later ones must be
/// of the same kind, `fin` ends it. Text fragments are whole characters.
/// Pings and the close may come between fragments.
///
/// # Safety
/// `conn` is NULL or live; `data` valid for `len` bytes (NULL with 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_send_fragment(
    conn: *mut rfc6455_conn,
    kind: rfc6455_kind,
    data: *const u8,
    len: usize,
    fin: bool,
) -> rfc6455_status {
    guard!({
        let fragment = match kind {
            RFC6455_EVENT_TEXT => match unsafe { text(data, len) } {
                Ok(t) => Fragment::Text(t),
                Err(status) => return status,
            },
            RFC6455_EVENT_BINARY => match unsafe { bytes(data, len) } {
                Ok(b) => Fragment::Binary(b),
                Err(status) => return status,
            },
            _ => return RFC6455_ERR_INVALID_ARGUMENT,
        };
        with_conn!(conn, |c| done(c.conn.send_fragment(fragment, fin)))
    })
}

/// Sends a ping with up to 125 bytes of payload.
///
/// # Safety
/// `conn` is NULL or live; `data` valid for `len` bytes (NULL with 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_send_ping(
    conn: *mut rfc6455_conn,
    data: *const u8,
    len: usize,
) -> rfc6455_status {
    guard!({
        let data = ok_or_return!(unsafe { bytes(data, len) });
        with_conn!(conn, |c| done(c.conn.send_ping(data)))
    })
}

/// Sends an unsolicited pong (a heartbeat) with up to 125 bytes.
///
/// # Safety
/// `conn` is NULL or live; `data` valid for `len` bytes (NULL with 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_send_pong(
    conn: *mut rfc6455_conn,
    data: *const u8,
    len: usize,
) -> rfc6455_status {
    guard!({
        let data = ok_or_return!(unsafe { bytes(data, len) });
        with_conn!(conn, |c| done(c.conn.send_pong(data)))
    })
}

/// Starts the closing handshake at `now_ns`, as the browser's `close(code,
/// reason)`: `code` 1000, 3000–4999 or another that may be sent, and a
/// reason of at most 123 bytes of UTF-8. `RFC6455_CLOSE_NO_STATUS` with no
/// reason sends a close frame without a code, as `close()` does. While
/// CONNECTING it abandons the attempt (ERROR, then CLOSED). A code that may
/// not be sent is `RFC6455_ERR_INVALID_CLOSE_CODE` and changes nothing.
///
/// # Safety
/// `conn` is NULL or live; `reason` valid for `reason_len` bytes (NULL
/// with 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_close(
    conn: *mut rfc6455_conn,
    now_ns: u64,
    code: u16,
    reason: *const u8,
    reason_len: usize,
) -> rfc6455_status {
    guard!({
        let reason = ok_or_return!(unsafe { text(reason, reason_len) });
        with_conn!(conn, |c| { done(c.conn.close(time(now_ns), CloseCode(code), reason)) })
    })
}

/// Ends the connection at once without a closing handshake, as Node's
/// `terminate()`: nothing more is sent, the close event reports 1006 (an
/// ERROR does not come). Close the socket afterwards.
///
/// # Safety
/// `conn` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_terminate(conn: *mut rfc6455_conn, now_ns: u64) -> rfc6455_status {
    guard!({
        with_conn!(conn, |c| {
            c.conn.terminate(time(now_ns));
            RFC6455_OK
        })
    })
}

// ----- getters -----

/// The browser's `readyState`: `RFC6455_CONNECTING` … `RFC6455_CLOSED`.
///
/// # Safety
/// `conn` is NULL or live; `out` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_ready_state(
    conn: *const rfc6455_conn,
    out: *mut rfc6455_ready_state,
) -> rfc6455_status {
    guard!({
        if out.is_null() {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        unsafe { with_ref(conn, |c| put(out, u32::from(c.conn.ready_state().as_u8()))) }
    })
}

/// The subprotocol agreed on, as the browser's `protocol`: empty (`*len`
/// 0) when none. Lent until the connection is freed.
///
/// # Safety
/// `conn` is NULL or live; `ptr` and `len` NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_protocol(
    conn: *const rfc6455_conn,
    ptr: *mut *const u8,
    len: *mut usize,
) -> rfc6455_status {
    guard!({ unsafe { with_ref(conn, |c| lend_bytes(ptr, len, Some(c.conn.protocol().unwrap_or("").as_bytes()))) } })
}

/// The extensions agreed on, as the browser's `extensions` (one header
/// value; empty when none), once the OPEN event was taken. Lent until the
/// connection is freed.
///
/// # Safety
/// `conn` is NULL or live; `ptr` and `len` NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_extensions(
    conn: *const rfc6455_conn,
    ptr: *mut *const u8,
    len: *mut usize,
) -> rfc6455_status {
    guard!({ unsafe { with_ref(conn, |c| lend_bytes(ptr, len, Some(c.extensions.as_bytes()))) } })
}

/// The browser's `bufferedAmount`: bytes queued for
/// `rfc6455_conn_poll_transmit` and not yet taken.
///
/// # Safety
/// `conn` is NULL or live; `out` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_buffered_amount(conn: *const rfc6455_conn, out: *mut usize) -> rfc6455_status {
    guard!({
        if out.is_null() {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        unsafe { with_ref(conn, |c| put(out, c.conn.buffered_amount())) }
    })
}

/// The close event, once the CLOSED event was taken (`RFC6455_DONE`
/// before): code, reason and `wasClean`. The reason is lent until the
/// connection is freed.
///
/// # Safety
/// `conn` is NULL or live; `out` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_close_event(
    conn: *const rfc6455_conn,
    out: *mut rfc6455_close_event,
) -> rfc6455_status {
    guard!({
        if out.is_null() {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        unsafe {
            with_ref(conn, |c| match &c.closed {
                Some(close) => put(
                    out,
                    rfc6455_close_event {
                        code: close.code.0,
                        was_clean: close.was_clean,
                        reason: close.reason.as_ptr(),
                        reason_len: close.reason.len(),
                    },
                ),
                None => RFC6455_DONE,
            })
        }
    })
}

/// Whether the caller may close the socket now: the connection is closed
/// and `rfc6455_conn_poll_transmit` has nothing left (write what it gave
/// first). A server closes TCP first; a client waits for the server to,
/// within the close timeout.
///
/// # Safety
/// `conn` is NULL or live; `out` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_conn_should_close_transport(
    conn: *const rfc6455_conn,
    out: *mut bool,
) -> rfc6455_status {
    guard!({
        if out.is_null() {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        unsafe { with_ref(conn, |c| put(out, c.conn.should_close_transport() && c.conn.buffered_amount() == 0)) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> *mut rfc6455_conn {
        let mut out = core::ptr::null_mut();
        // SAFETY: a valid out-parameter.
        assert_eq!(
            unsafe { rfc6455_conn_open(RFC6455_ROLE_SERVER, core::ptr::null(), core::ptr::null(), 0, &mut out) },
            RFC6455_OK
        );
        out
    }

    /// A masked binary frame of `payload` (a client's).
    fn masked(payload: &[u8]) -> Vec<u8> {
        let key = [1, 2, 3, 4];
        let mut f = vec![0x82];
        match payload.len() {
            n @ 0..=125 => f.push(0x80 | n as u8),
            n @ 126..=0xFFFF => {
                f.push(0x80 | 126);
                f.extend((n as u16).to_be_bytes());
            }
            n => {
                f.push(0x80 | 127);
                f.extend((n as u64).to_be_bytes());
            }
        }
        f.extend(key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        f
    }

    /// The echo pattern: an event's lent bytes passed straight back into a
    /// send, for an inline payload and a shared one. CI has no nightly
    /// toolchain; `cargo +nightly miri test -p rfc6455-ffi` runs these under
    /// Stacked and Tree Borrows where one is installed.
    #[test]
    fn lent_bytes_may_go_back_into_the_next_call() {
        for len in [5, 300] {
            let conn = server();
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let input = masked(&payload);
            let mut taken = 0;
            let mut ev = core::mem::MaybeUninit::<rfc6455_event>::uninit();
            // SAFETY: valid pointers throughout; `ev` is read only after OK.
            unsafe {
                assert_eq!(rfc6455_conn_handle_bytes(conn, 0, input.as_ptr(), input.len(), &mut taken), RFC6455_OK);
                assert_eq!(rfc6455_conn_poll_event(conn, ev.as_mut_ptr()), RFC6455_OK);
                let ev = ev.assume_init();
                assert_eq!((ev.kind, ev.len), (RFC6455_EVENT_BINARY, len));
                assert_eq!(rfc6455_conn_send_binary(conn, ev.data, ev.len), RFC6455_OK);
                let mut out = vec![0; 1024];
                let mut n = 0;
                assert_eq!(rfc6455_conn_poll_transmit(conn, out.as_mut_ptr(), out.len(), &mut n), RFC6455_OK);
                assert!(out[..n].ends_with(&payload));
                rfc6455_conn_free(conn);
            }
        }
    }

    /// A rejection whose body is the request's own path: the request is
    /// freed only once the body has been copied (Miri as above).
    #[test]
    fn a_rejection_may_quote_the_request() {
        let mut conn = core::ptr::null_mut();
        let get = b"GET /no/such/room HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut ev = core::mem::MaybeUninit::<rfc6455_event>::uninit();
        let (mut taken, mut ptr, mut len) = (0, core::ptr::null(), 0);
        // SAFETY: valid pointers throughout; `ev` is read only after OK.
        unsafe {
            assert_eq!(rfc6455_conn_server(core::ptr::null(), 0, &mut conn), RFC6455_OK);
            assert_eq!(rfc6455_conn_handle_bytes(conn, 0, get.as_ptr(), get.len(), &mut taken), RFC6455_OK);
            assert_eq!(rfc6455_conn_poll_event(conn, ev.as_mut_ptr()), RFC6455_OK);
            let ev = ev.assume_init();
            assert_eq!(ev.kind, RFC6455_EVENT_REQUEST);
            assert_eq!(rfc6455_request_path(ev.request, &mut ptr, &mut len), RFC6455_OK);
            assert_eq!(rfc6455_conn_reject(conn, 0, 404, core::ptr::null(), 0, ptr, len), RFC6455_OK);
            let mut out = vec![0; 1024];
            let mut n = 0;
            assert_eq!(rfc6455_conn_poll_transmit(conn, out.as_mut_ptr(), out.len(), &mut n), RFC6455_OK);
            assert!(out[..n].ends_with(b"/no/such/room"));
            let mut done = false;
            assert_eq!(rfc6455_conn_should_close_transport(conn, &mut done), RFC6455_OK);
            assert!(done, "closed, and nothing left to transmit");
            rfc6455_conn_free(conn);
        }
    }

    /// A panic in the middle of a call leaves the connection answering
    /// `RFC6455_PANIC`, and it can still be freed.
    #[test]
    fn a_panic_inside_a_call_poisons_the_connection() {
        let conn = server();
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let status: rfc6455_status = guard!({
            with_conn!(conn, |c| {
                if c.conn.buffered_amount() == 0 {
                    panic!("in the middle of a call");
                }
                RFC6455_OK
            })
        });
        std::panic::set_hook(hook);
        assert_eq!(status, RFC6455_PANIC);
        let mut state = 0;
        // SAFETY: valid pointers.
        unsafe {
            assert_eq!(rfc6455_conn_send_text(conn, b"x".as_ptr(), 1), RFC6455_PANIC);
            assert_eq!(rfc6455_conn_ready_state(conn, &mut state), RFC6455_PANIC);
            rfc6455_conn_free(conn);
        }
    }
}
