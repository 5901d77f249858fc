//! Settings and the client's request: opaque objects the caller creates,
//! changes with setters, passes to a constructor (which copies what it needs)
//! and frees.

use core::ffi::{c_char, c_void};
use core::time::Duration;
use std::ffi::CStr;

use engine::{ClientRequest, Config, Random, ReceiveMode};

use crate::conn::lend_bytes;
use crate::status::*;
use crate::{guard, ok_or_return};

/// A connection's settings. Create with `rfc6455_config_new` (every
/// setting at its default, one a server can live with), change with the
/// setters, pass to the constructors (they copy it), free with
/// `rfc6455_config_free`. Durations are nanoseconds; zero turns an
/// optional timer off.
pub struct rfc6455_config {
    pub(crate) config: Config,
}

/// Fills `len` bytes at `buf` with random bytes, for client mask keys and
/// the handshake's nonce. `ctx` is the pointer given with it. It is called
/// from the thread that calls into the connection, and must be safe to call
/// from any thread the connections that use it are used on. It must not
/// call into this library.
pub type rfc6455_random_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, buf: *mut u8, len: usize)>;

/// Writes a new config with the defaults to `*out`. The caller owns it: free
/// it with `rfc6455_config_free`.
///
/// # Safety
/// `out` is NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_config_new(out: *mut *mut rfc6455_config) -> rfc6455_status {
    guard!({
        if out.is_null() {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        let config = Box::into_raw(Box::new(rfc6455_config { config: Config::default() }));
        // SAFETY: `out` is not NULL, and valid for a write by the contract.
        unsafe { out.write(config) };
        RFC6455_OK
    })
}

/// Frees a config; NULL is fine. Connections made with it keep their copy.
///
/// # Safety
/// `config` is NULL or came from `rfc6455_config_new` and was not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_config_free(config: *mut rfc6455_config) {
    guard!({
        if !config.is_null() {
            // SAFETY: it came from `Box::into_raw` and is freed once, by the contract.
            drop(unsafe { Box::from_raw(config) });
        }
    })
}

/// Applies `set` to the config behind `config`.
///
/// # Safety
/// `config` is NULL or a live config.
unsafe fn with_config(config: *mut rfc6455_config, set: impl FnOnce(&mut Config)) -> rfc6455_status {
    // SAFETY: NULL or live and not used elsewhere during the call, by the contract.
    match unsafe { config.as_mut() } {
        None => RFC6455_ERR_NULL_ARGUMENT,
        Some(c) => {
            set(&mut c.config);
            RFC6455_OK
        }
    }
}

/// A duration from nanoseconds, zero as off.
fn optional(ns: u64) -> Option<Duration> {
    (ns != 0).then(|| Duration::from_nanos(ns))
}

/// The largest message accepted whole (1009 past it). Default 16 MiB.
///
/// # Safety
/// `config` is NULL or a live config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_config_set_max_message_size(
    config: *mut rfc6455_config,
    bytes: usize,
) -> rfc6455_status {
    guard!({ unsafe { with_config(config, |c| c.max_message_size = bytes) } })
}

/// Whether data arrives as pieces as they come (`streaming` true: TEXT and
/// BINARY events with `fin` false until the last piece, any message size) or
/// whole (false, the default).
///
/// # Safety
/// `config` is NULL or a live config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_config_set_streaming(config: *mut rfc6455_config, streaming: bool) -> rfc6455_status {
    guard!({
        let mode = if streaming { ReceiveMode::Streaming } else { ReceiveMode::Messages };
        unsafe { with_config(config, |c| c.receive = mode) }
    })
}

/// Whether the engine answers pings itself (default true).
///
/// # Safety
/// `config` is NULL or a live config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_config_set_auto_pong(config: *mut rfc6455_config, on: bool) -> rfc6455_status {
    guard!({ unsafe { with_config(config, |c| c.auto_pong = on) } })
}

/// How long to wait for the peer's close frame after ours; zero waits
/// forever. Default 5 s.
///
/// # Safety
/// `config` is NULL or a live config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_config_set_close_timeout(config: *mut rfc6455_config, ns: u64) -> rfc6455_status {
    guard!({ unsafe { with_config(config, |c| c.close_timeout = Duration::from_nanos(ns)) } })
}

/// How long the opening handshake may take; zero is forever. Default 10 s.
///
/// # Safety
/// `config` is NULL or a live config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_config_set_handshake_timeout(config: *mut rfc6455_config, ns: u64) -> rfc6455_status {
    guard!({ unsafe { with_config(config, |c| c.handshake_timeout = optional(ns)) } })
}

/// Send a ping after this long with nothing received; zero (the default)
/// sends none.
///
/// # Safety
/// `config` is NULL or a live config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_config_set_keepalive_interval(config: *mut rfc6455_config, ns: u64) -> rfc6455_status {
    guard!({ unsafe { with_config(config, |c| c.keepalive_interval = optional(ns)) } })
}

/// Fail the connection (1006) after this long with nothing received; zero
/// (the default) waits forever.
///
/// # Safety
/// `config` is NULL or a live config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_config_set_idle_timeout(config: *mut rfc6455_config, ns: u64) -> rfc6455_status {
    guard!({ unsafe { with_config(config, |c| c.idle_timeout = optional(ns)) } })
}

/// The largest HTTP header block of the handshake. Default 16 KiB.
///
/// # Safety
/// `config` is NULL or a live config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_config_set_max_handshake_bytes(
    config: *mut rfc6455_config,
    bytes: usize,
) -> rfc6455_status {
    guard!({ unsafe { with_config(config, |c| c.max_handshake_bytes = bytes) } })
}

/// The most headers in a handshake message. Default 64.
///
/// # Safety
/// `config` is NULL or a live config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_config_set_max_headers(config: *mut rfc6455_config, count: usize) -> rfc6455_status {
    guard!({ unsafe { with_config(config, |c| c.max_headers = count) } })
}

/// The most input bytes the engine takes while events wait untaken
/// (`rfc6455_conn_handle_bytes` then takes less than it is given). Default
/// 64 KiB.
///
/// # Safety
/// `config` is NULL or a live config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_config_set_max_unread_input(
    config: *mut rfc6455_config,
    bytes: usize,
) -> rfc6455_status {
    guard!({ unsafe { with_config(config, |c| c.max_unread_input = bytes) } })
}

/// A caller's random source for mask keys and the nonce: `fill(ctx, buf,
/// len)`; NULL `fill` goes back to the OS's generator (the default). RFC 6455
/// §10.3 wants keys a peer cannot predict: a fixed source is for tests. `ctx`
/// stays the caller's; it must outlive every connection made with this
/// config.
///
/// # Safety
/// `config` is NULL or a live config; `fill` is NULL or a function that
/// writes `len` bytes at `buf` and no more.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_config_set_random(
    config: *mut rfc6455_config,
    fill: rfc6455_random_fn,
    ctx: *mut c_void,
) -> rfc6455_status {
    guard!({
        let random = match fill {
            None => Random::Os,
            Some(fill) => {
                let source = CallerRandom { fill, ctx };
                Random::custom(move |buf: &mut [u8]| source.fill(buf))
            }
        };
        unsafe { with_config(config, |c| c.random = random) }
    })
}

/// The caller's random function and its context.
struct CallerRandom {
    fill: unsafe extern "C" fn(*mut c_void, *mut u8, usize),
    ctx: *mut c_void,
}

// SAFETY: the caller promises (rfc6455_config_set_random) that `fill` with
// `ctx` may be called from any thread its connections are used on.
unsafe impl Send for CallerRandom {}
// SAFETY: as above; the engine only calls it, never shares `ctx` otherwise.
unsafe impl Sync for CallerRandom {}

impl CallerRandom {
    fn fill(&self, buf: &mut [u8]) {
        // SAFETY: `buf` is valid for `buf.len()` bytes of writes; the caller
        // promised `fill` writes no more.
        unsafe { (self.fill)(self.ctx, buf.as_mut_ptr(), buf.len()) }
    }
}

/// A client's opening request: the URL, and optionally subprotocols,
/// extension offers and extra headers. Create with
/// `rfc6455_client_request_new`, pass to `rfc6455_conn_client` (which
/// copies it), free with `rfc6455_client_request_free`.
pub struct rfc6455_client_request {
    pub(crate) request: ClientRequest,
}

/// A NUL-terminated UTF-8 string as `&str`.
///
/// # Safety
/// `s` is NULL or a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn c_str<'a>(s: *const c_char) -> Result<&'a str, rfc6455_status> {
    if s.is_null() {
        return Err(RFC6455_ERR_NULL_ARGUMENT);
    }
    // SAFETY: not NULL, and NUL-terminated by the contract.
    unsafe { CStr::from_ptr(s) }.to_str().map_err(|_| RFC6455_ERR_INVALID_UTF8)
}

/// Parses `url` (`ws://host[:port]/path?query` or `wss://…`, NUL-terminated)
/// into a new request at `*out`, which the caller owns. A URL that cannot be
/// used is `RFC6455_ERR_INVALID_URL`.
///
/// # Safety
/// `url` is NULL or NUL-terminated; `out` is NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_client_request_new(
    url: *const c_char,
    out: *mut *mut rfc6455_client_request,
) -> rfc6455_status {
    guard!({
        if out.is_null() {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        let url = ok_or_return!(unsafe { c_str(url) });
        match ClientRequest::new(url) {
            Ok(request) => {
                let request = Box::into_raw(Box::new(rfc6455_client_request { request }));
                // SAFETY: not NULL, valid for a write by the contract.
                unsafe { out.write(request) };
                RFC6455_OK
            }
            Err(e) => status_of(e),
        }
    })
}

/// Frees a request; NULL is fine.
///
/// # Safety
/// `request` is NULL or came from `rfc6455_client_request_new` and was
/// not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_client_request_free(request: *mut rfc6455_client_request) {
    guard!({
        if !request.is_null() {
            // SAFETY: from `Box::into_raw`, freed once, by the contract.
            drop(unsafe { Box::from_raw(request) });
        }
    })
}

/// Applies `change` to the request behind `request` and a string argument.
///
/// # Safety
/// `request` is NULL or live; `s` NULL or NUL-terminated.
unsafe fn change_request(
    request: *mut rfc6455_client_request,
    s: *const c_char,
    change: impl FnOnce(ClientRequest, &str) -> ClientRequest,
) -> rfc6455_status {
    // SAFETY: NULL or live, by the contract.
    let Some(r) = (unsafe { request.as_mut() }) else {
        return RFC6455_ERR_NULL_ARGUMENT;
    };
    let s = ok_or_return!(unsafe { c_str(s) });
    // On a copy: a panic while changing it leaves the request as it was.
    r.request = change(r.request.clone(), s);
    RFC6455_OK
}

/// Offers a subprotocol (`Sec-WebSocket-Protocol`), in order of preference.
/// A name that is not an HTTP token fails the connection's constructor.
///
/// # Safety
/// `request` is NULL or live; `name` NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_client_request_add_protocol(
    request: *mut rfc6455_client_request,
    name: *const c_char,
) -> rfc6455_status {
    guard!({ unsafe { change_request(request, name, |r, name| r.protocol(name)) } })
}

/// Offers an extension (`Sec-WebSocket-Extensions`), as its header value.
///
/// # Safety
/// `request` is NULL or live; `offer` NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_client_request_add_extension(
    request: *mut rfc6455_client_request,
    offer: *const c_char,
) -> rfc6455_status {
    guard!({ unsafe { change_request(request, offer, |r, offer| r.extension(offer)) } })
}

/// Adds a header to the request (`Origin`, `Authorization`, a cookie). One
/// the handshake sets itself, or one that cannot be sent, fails the
/// connection's constructor with `RFC6455_ERR_INVALID_HEADER`.
///
/// # Safety
/// `request` is NULL or live; `name` and `value` NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_client_request_add_header(
    request: *mut rfc6455_client_request,
    name: *const c_char,
    value: *const c_char,
) -> rfc6455_status {
    guard!({
        let value = ok_or_return!(unsafe { c_str(value) });
        unsafe { change_request(request, name, |r, name| r.header(name, value)) }
    })
}

/// The host to connect to (`example.com`, `127.0.0.1`, `::1` without
/// brackets), lent until the request is freed or changed; not
/// NUL-terminated.
///
/// # Safety
/// `request` is NULL or live; `ptr` and `len` NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_client_request_host(
    request: *const rfc6455_client_request,
    ptr: *mut *const u8,
    len: *mut usize,
) -> rfc6455_status {
    guard!({
        // SAFETY: NULL or live, by the contract.
        match unsafe { request.as_ref() } {
            None => RFC6455_ERR_NULL_ARGUMENT,
            Some(r) => unsafe { lend_bytes(ptr, len, Some(r.request.host().as_bytes())) },
        }
    })
}

/// The port to connect to (from the URL, or 80 for `ws://`, 443 for
/// `wss://`), and whether the URL is `wss://` (TLS is the caller's).
///
/// # Safety
/// `request` is NULL or live; `port` and `secure` NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc6455_client_request_port(
    request: *const rfc6455_client_request,
    port: *mut u16,
    secure: *mut bool,
) -> rfc6455_status {
    guard!({
        if port.is_null() || secure.is_null() {
            return RFC6455_ERR_NULL_ARGUMENT;
        }
        // SAFETY: NULL or live, by the contract.
        let Some(r) = (unsafe { request.as_ref() }) else {
            return RFC6455_ERR_NULL_ARGUMENT;
        };
        // SAFETY: both checked, valid for writes by the contract.
        unsafe {
            port.write(r.request.port());
            secure.write(r.request.is_secure());
        }
        RFC6455_OK
    })
}
