//! The server side of the opening handshake (RFC 6455 §4.2).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::Engine;

use super::headers::{Headers, is_header_value, is_token, write_header};
use super::{HandshakeError, HeadBuffer, accept_key, check_parse, header_slots};
use crate::config::Config;
use crate::local_error::LocalError;

/// A complete HTTP request, handed to the application in
/// [`Event::Request`](crate::Event::Request).
///
/// When [`Request::is_upgrade`] is true the engine has checked every rule of
/// RFC 6455 §4.2.1 and the application may accept or reject it. A plain HTTP
/// request (no `Upgrade: websocket`) can only be answered with
/// [`Connection::reject`](crate::Connection::reject), for instance with a page.
///
/// The engine answers 400 itself, before the application sees a request, when
/// the target has none of the forms [`Request::path`] lists
/// ([`HandshakeError::Target`]), or when an HTTP/1.1 request has no `Host` or
/// any request has more than one ([`HandshakeError::Host`], RFC 9112 §3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    /// The method, `GET` for every upgrade.
    pub method: String,
    /// The path of the request target, without the query: the target itself
    /// in origin-form (`/chat`); the path of an absolute-form target
    /// (`http://host/chat`, also `https`, `ws`, `wss`), `/` if it has none
    /// (RFC 9112 §3.2.2); `*` for `OPTIONS *` (§3.2.4), never for an upgrade.
    pub path: String,
    /// The query after `?`, if any.
    pub query: Option<String>,
    /// All request headers.
    pub headers: Headers,
    /// The subprotocols the client offered, in its order of preference. Only
    /// tokens are listed (RFC 6455 §4.1): an element that is not one (`a b`,
    /// `"chat"`, an empty one) is dropped, so it can never be chosen, and the
    /// rest of the request stands.
    pub protocols: Vec<String>,
    /// The extensions the client offered, each as sent (`name; params`).
    pub extensions: Vec<String>,
    /// The `Sec-WebSocket-Key`, for an upgrade.
    pub(crate) key: Option<String>,
}

impl Request {
    /// Whether this is a valid WebSocket upgrade request.
    pub fn is_upgrade(&self) -> bool {
        self.key.is_some()
    }

    /// Whether the method is `HEAD`, whose response has no body (RFC 9110 §9.3.2).
    pub(crate) fn is_head(&self) -> bool {
        self.method == "HEAD"
    }
}

/// A server reading the client's request.
#[derive(Debug)]
pub(crate) struct ServerHandshake {
    head: HeadBuffer,
    max_headers: usize,
    /// Whether the request read so far is a `HEAD`, whose refusal has no body.
    is_head: bool,
}

impl ServerHandshake {
    pub(crate) fn new(config: &Config) -> Self {
        ServerHandshake {
            head: HeadBuffer::new(config.max_handshake_bytes),
            max_headers: config.max_headers,
            is_head: false,
        }
    }

    /// Whether the request, complete or not, is a `HEAD`: the engine's own
    /// refusal of it then has no body (RFC 9110 §9.3.2).
    pub(crate) fn is_head(&self) -> bool {
        self.is_head
    }

    /// Bytes of the header block received so far.
    pub(crate) fn buffered_len(&self) -> usize {
        self.head.len()
    }

    /// Heap held for the header block.
    pub(crate) fn buffered_capacity(&self) -> usize {
        self.head.capacity()
    }

    /// Feeds request bytes. `Ok(None)`: the request is incomplete.
    /// `Ok(Some((request, n)))`: a complete request; `data[n..]` follows it.
    /// `Err`: a request the engine refuses itself (malformed HTTP, a bad
    /// `Host` or target, a broken upgrade), to be answered with
    /// [`HandshakeError::response_status`].
    pub(crate) fn handle(&mut self, data: &[u8]) -> Result<Option<(Request, usize)>, HandshakeError> {
        let (head, used) = match self.head.push(data) {
            Ok(Some(block)) => block,
            Ok(None) => return Ok(None),
            Err(e) => {
                self.is_head = starts_with_head(self.head.bytes());
                return Err(e);
            }
        };
        self.is_head = starts_with_head(head);
        let mut slots = header_slots(head, self.max_headers);
        let mut req = httparse::Request::new(&mut slots);
        check_parse(req.parse(head))?;
        let method = req.method.expect("a complete request has a method");
        let target = req.path.expect("a complete request has a target");
        let request = request_from_parts(method, target, req.version, Headers::from_httparse(req.headers))?;
        self.head.release();
        Ok(Some((request, used)))
    }
}

/// A parsed request head as the application sees it, after the checks of
/// RFC 9112 (target, `Host`) and, for an upgrade, RFC 6455 §4.2.1: the one
/// place they are made, for requests read from bytes and for `http` types.
/// `version` is the minor version of HTTP/1 (`Some(1)` for HTTP/1.1).
pub(crate) fn request_from_parts(
    method: &str,
    target: &str,
    version: Option<u8>,
    headers: Headers,
) -> Result<Request, HandshakeError> {
    let method = method.to_string();
    let (path, query) = split_target(&method, target)?;
    check_host(&headers, version)?;
    let protocols = headers.tokens("Sec-WebSocket-Protocol").filter(|p| is_token(p)).map(String::from).collect();
    let extensions = headers.tokens("Sec-WebSocket-Extensions").map(String::from).collect();
    let mut request = Request { method, path, query, headers, protocols, extensions, key: None };
    if request.headers.has_token("Upgrade", "websocket") {
        request.key = Some(check_upgrade(&request, version)?);
    }
    Ok(request)
}

/// Whether a request's bytes start with the `HEAD` method, after the empty
/// lines a server may skip before the request line (RFC 9112 §2.2).
fn starts_with_head(bytes: &[u8]) -> bool {
    let start = bytes.iter().position(|b| !matches!(b, b'\r' | b'\n')).unwrap_or(bytes.len());
    bytes[start..].starts_with(b"HEAD ")
}

/// The path and query of a request target (RFC 9112 §3.2): origin-form
/// (`/path?query`) or absolute-form (`http://host/path?query`, with the schemes
/// a WebSocket server answers for: http, https, ws, wss) for every method,
/// and the asterisk-form `*` for `OPTIONS` alone (§3.2.4). Anything else,
/// such as `GET *` or a CONNECT's authority-form (which only a proxy serves),
/// is [`HandshakeError::Target`].
fn split_target(method: &str, target: &str) -> Result<(String, Option<String>), HandshakeError> {
    if target == "*" && method == "OPTIONS" {
        return Ok((target.to_string(), None));
    }
    let path_and_query = if target.starts_with('/') { target } else { absolute_path(target)? };
    Ok(match path_and_query.split_once('?') {
        Some(("", q)) => ("/".to_string(), Some(q.to_string())),
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None if path_and_query.is_empty() => ("/".to_string(), None),
        None => (path_and_query.to_string(), None),
    })
}

/// The path and query of an absolute-form target: what follows the
/// authority of `scheme://authority` (RFC 3986 §3), possibly empty. The
/// authority must be there and have no user info (RFC 9110 §4.2.4).
fn absolute_path(target: &str) -> Result<&str, HandshakeError> {
    let (scheme, rest) = target.split_once("://").ok_or(HandshakeError::Target)?;
    if !["http", "https", "ws", "wss"].iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return Err(HandshakeError::Target);
    }
    let (authority, path_and_query) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    if authority.is_empty() || authority.contains('@') {
        return Err(HandshakeError::Target);
    }
    Ok(path_and_query)
}

/// RFC 9112 §3.2: an HTTP/1.1 request without `Host`, or any request with
/// more than one, is answered 400.
fn check_host(headers: &Headers, version: Option<u8>) -> Result<(), HandshakeError> {
    match headers.get_all("Host").count() {
        0 if version == Some(1) => Err(HandshakeError::Host),
        0 | 1 => Ok(()),
        _ => Err(HandshakeError::Host),
    }
}

/// The checks of RFC 6455 §4.2.1 on a request that asks for websocket.
/// Returns its key.
fn check_upgrade(req: &Request, version: Option<u8>) -> Result<String, HandshakeError> {
    if req.method != "GET" {
        return Err(HandshakeError::Method);
    }
    if version != Some(1) {
        return Err(HandshakeError::Version);
    }
    // One Host was checked for already; an upgrade's names the server's
    // authority (RFC 6455 §4.2.1 item 2), so it cannot be empty, as a
    // request for a URI without one may send it (RFC 9112 §3.2).
    if req.headers.get("Host").is_none_or(|h| h.trim_ascii().is_empty()) {
        return Err(HandshakeError::Host);
    }
    if !req.headers.has_token("Connection", "upgrade") {
        return Err(HandshakeError::Connection);
    }
    let mut versions = req.headers.get_all("Sec-WebSocket-Version");
    if versions.next().map(|v| v.trim_ascii()) != Some(b"13") || versions.next().is_some() {
        return Err(HandshakeError::WebSocketVersion);
    }
    let mut keys = req.headers.get_all("Sec-WebSocket-Key");
    let key = keys.next().map(|k| k.trim_ascii()).ok_or(HandshakeError::Key)?;
    if keys.next().is_some() {
        return Err(HandshakeError::Key);
    }
    match base64::engine::general_purpose::STANDARD.decode(key) {
        Ok(nonce) if nonce.len() == 16 => {}
        _ => return Err(HandshakeError::Key),
    }
    Ok(String::from_utf8(key.to_vec()).expect("base64 is ASCII"))
}

/// Checks extra response headers from the application.
fn check_headers(headers: &[(&str, &str)], reserved: &[&str]) -> Result<(), LocalError> {
    for (name, value) in headers {
        if !is_token(name) || !is_header_value(value) || reserved.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            return Err(LocalError::InvalidHeader(name.to_string()));
        }
    }
    Ok(())
}

/// The 101 response accepting `req` with an optional subprotocol it offered.
pub(crate) fn accept_response(
    req: &Request,
    protocol: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<Vec<u8>, LocalError> {
    let mut out = Vec::with_capacity(160);
    out.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\n");
    for (name, value) in accept_headers(req, protocol, headers)? {
        write_header(&mut out, name, &value);
    }
    out.extend_from_slice(b"\r\n");
    Ok(out)
}

/// The headers of the 101 response accepting `req`, in order, after the
/// checks: an upgrade, a subprotocol it offered, extra headers that can be
/// sent and are not the handshake's own.
pub(crate) fn accept_headers<'a>(
    req: &Request,
    protocol: Option<&'a str>,
    headers: &[(&'a str, &'a str)],
) -> Result<Vec<(&'a str, String)>, LocalError> {
    let key = req.key.as_deref().ok_or(LocalError::NotUpgrade)?;
    if protocol.is_some_and(|p| !req.protocols.iter().any(|o| o == p)) {
        return Err(LocalError::ProtocolNotOffered);
    }
    check_headers(
        headers,
        &[
            "upgrade",
            "connection",
            "sec-websocket-accept",
            "sec-websocket-protocol",
            "sec-websocket-extensions",
            "content-length",
            "transfer-encoding",
        ],
    )?;
    let mut out = Vec::with_capacity(4 + headers.len());
    out.push(("Upgrade", "websocket".to_string()));
    out.push(("Connection", "Upgrade".to_string()));
    out.push(("Sec-WebSocket-Accept", accept_key(key.as_bytes())));
    if let Some(p) = protocol {
        out.push(("Sec-WebSocket-Protocol", p.to_string()));
    }
    out.extend(headers.iter().map(|(name, value)| (*name, value.to_string())));
    Ok(out)
}

/// A final response other than 101: status 200–599, extra headers, body;
/// `Content-Length` and `Connection: close` are added, since the connection
/// ends after it. 204 and 304 carry no body and no length (RFC 9110 §8.6,
/// RFC 9112 §6.3); a 1xx is not final, so it cannot end the exchange.
///
/// The answer to a `HEAD` request (`head`) never has a body (RFC 9110
/// §9.3.2): `body` is left out, but its length is still sent as
/// `Content-Length`, the length a GET would have got (§8.6), so an
/// application can answer HEAD and GET with the same call.
pub(crate) fn reject_response(
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    head: bool,
) -> Result<Vec<u8>, LocalError> {
    let bodiless = matches!(status, 204 | 304);
    if !(200..=599).contains(&status) || (bodiless && !body.is_empty()) {
        return Err(LocalError::InvalidStatus(status));
    }
    check_headers(headers, &["content-length", "connection", "transfer-encoding"])?;
    let mut out = Vec::with_capacity(128 + body.len());
    out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status)).as_bytes());
    for (name, value) in headers {
        write_header(&mut out, name, value);
    }
    if !bodiless {
        write_header(&mut out, "Content-Length", &body.len().to_string());
    }
    write_header(&mut out, "Connection", "close");
    out.extend_from_slice(b"\r\n");
    if !head {
        out.extend_from_slice(body);
    }
    Ok(out)
}

/// The response the engine itself sends for a broken request; with no body
/// when it was a `HEAD` (`head`, see [`reject_response`]).
pub(crate) fn error_response(err: &HandshakeError, head: bool) -> Vec<u8> {
    let (status, headers, body) = error_parts(err);
    reject_response(status, headers, body.as_bytes(), head).expect("fixed statuses and headers are valid")
}

/// The status, headers and body of the answer to a broken request.
pub(crate) fn error_parts(err: &HandshakeError) -> (u16, &'static [(&'static str, &'static str)], String) {
    let status = err.response_status();
    let headers: &[(&str, &str)] = match status {
        426 => &[("Sec-WebSocket-Version", "13"), ("Content-Type", "text/plain; charset=utf-8")],
        405 => &[("Allow", "GET"), ("Content-Type", "text/plain; charset=utf-8")],
        _ => &[("Content-Type", "text/plain; charset=utf-8")],
    };
    (status, headers, format!("{err}\n"))
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

    fn parse(bytes: &[u8]) -> Result<Option<(Request, usize)>, HandshakeError> {
        ServerHandshake::new(&Config::default()).handle(bytes)
    }

    #[test]
    fn rfc_request_every_prefix() {
        for cut in 0..RFC_REQUEST.len() {
            assert_eq!(parse(&RFC_REQUEST[..cut]), Ok(None));
        }
        let (req, n) = parse(RFC_REQUEST).unwrap().unwrap();
        assert_eq!(n, RFC_REQUEST.len());
        assert!(req.is_upgrade());
        assert_eq!(req.path, "/chat");
        assert_eq!(req.protocols, ["chat", "superchat"]);
        let resp = String::from_utf8(accept_response(&req, Some("chat"), &[]).unwrap()).unwrap();
        assert_eq!(
            resp,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
        );
        assert_eq!(accept_response(&req, Some("other"), &[]), Err(LocalError::ProtocolNotOffered));
    }

    #[test]
    fn broken_upgrades() {
        let text = core::str::from_utf8(RFC_REQUEST).unwrap();
        let cases: &[(&str, &str, HandshakeError, u16)] = &[
            ("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8", HandshakeError::WebSocketVersion, 426),
            ("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZQ==", HandshakeError::Key, 400),
            ("Host: server.example.com\r\n", "", HandshakeError::Host, 400),
            ("Connection: Upgrade", "Connection: keep-alive", HandshakeError::Connection, 400),
            ("GET /chat HTTP/1.1", "POST /chat HTTP/1.1", HandshakeError::Method, 405),
            ("GET /chat HTTP/1.1", "GET /chat HTTP/1.0", HandshakeError::Version, 400),
            ("Host: server.example.com", "Host: server.example.com\r\nHost: other", HandshakeError::Host, 400),
            ("Host: server.example.com", "Host: ", HandshakeError::Host, 400),
            ("Host: server.example.com", "Host: \t", HandshakeError::Host, 400),
            ("GET /chat HTTP/1.1", "GET * HTTP/1.1", HandshakeError::Target, 400),
            ("GET /chat HTTP/1.1", "GET chat HTTP/1.1", HandshakeError::Target, 400),
            ("GET /chat HTTP/1.1", "GET server.example.com:80 HTTP/1.1", HandshakeError::Target, 400),
            ("GET /chat HTTP/1.1", "GET ftp://server.example.com/chat HTTP/1.1", HandshakeError::Target, 400),
            ("GET /chat HTTP/1.1", "GET http:///chat HTTP/1.1", HandshakeError::Target, 400),
            ("GET /chat HTTP/1.1", "GET http://u@server.example.com/chat HTTP/1.1", HandshakeError::Target, 400),
            ("GET /chat HTTP/1.1", "OPTIONS * HTTP/1.1", HandshakeError::Method, 405),
        ];
        for (from, to, err, status) in cases {
            let bad = text.replace(from, to);
            assert_eq!(parse(bad.as_bytes()), Err(err.clone()), "{to}");
            assert_eq!(err.response_status(), *status);
        }
        let resp = error_response(&HandshakeError::WebSocketVersion, false);
        assert!(resp.starts_with(b"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n"));
    }

    #[test]
    fn plain_request_is_not_an_upgrade() {
        let (req, _) = parse(b"GET /?a=b HTTP/1.1\r\nHost: x\r\n\r\n").unwrap().unwrap();
        assert!(!req.is_upgrade());
        assert_eq!(req.query.as_deref(), Some("a=b"));
        assert_eq!(accept_response(&req, None, &[]), Err(LocalError::NotUpgrade));
    }

    #[test]
    fn header_slots_follow_the_block_not_the_limit() {
        let block = b"GET / HTTP/1.1\r\nA: b\r\n\r\n";
        assert_eq!((header_slots(block, usize::MAX).len(), header_slots(block, 1).len()), (3, 1));
        for max_headers in [usize::MAX, usize::MAX / 32 + 1, 1 << 40] {
            let cfg = Config::default().max_headers(max_headers);
            let (req, _) = ServerHandshake::new(&cfg).handle(RFC_REQUEST).unwrap().unwrap();
            assert!(req.is_upgrade());
        }
        let none = Config::default().max_headers(0);
        assert_eq!(ServerHandshake::new(&none).handle(RFC_REQUEST), Err(HandshakeError::TooManyHeaders));
        let (req, _) = ServerHandshake::new(&none).handle(b"GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!req.is_upgrade() && req.headers.is_empty());
    }

    #[test]
    fn target_forms() {
        let target = |line: &str| {
            let bytes = format!("{line} HTTP/1.1\r\nHost: h\r\n\r\n");
            parse(bytes.as_bytes()).map(|r| r.map(|(r, _)| (r.path, r.query)))
        };
        let ok = |path: &str, query: Option<&str>| Ok(Some((path.into(), query.map(String::from))));
        assert_eq!(target("GET /a?b=c?d"), ok("/a", Some("b=c?d")));
        assert_eq!(target("GET http://example.com:8080/chat?x=1"), ok("/chat", Some("x=1")));
        assert_eq!(target("GET HTTPS://example.com/chat"), ok("/chat", None));
        assert_eq!(target("GET ws://[::1]:9001/a/b"), ok("/a/b", None));
        assert_eq!(target("GET wss://example.com"), ok("/", None));
        assert_eq!(target("GET http://example.com?x"), ok("/", Some("x")));
        assert_eq!(target("OPTIONS *"), ok("*", None));
        for bad in
            ["GET *", "HEAD *", "GET chat", "CONNECT example.com:443", "GET mailto:a", "GET ftp://h/", "GET http://"]
        {
            assert_eq!(target(bad), Err(HandshakeError::Target), "{bad}");
        }
    }

    #[test]
    fn host_rules_for_plain_requests() {
        let host = |head: &str| parse(head.as_bytes()).map(|r| r.is_some());
        assert_eq!(host("GET / HTTP/1.1\r\n\r\n"), Err(HandshakeError::Host));
        assert_eq!(host("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"), Err(HandshakeError::Host));
        assert_eq!(host("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), Err(HandshakeError::Host));
        // RFC 9112 §3.2: HTTP/1.0 needs no Host, and an empty one is valid HTTP.
        assert_eq!(host("GET / HTTP/1.0\r\n\r\n"), Ok(true));
        assert_eq!(host("GET / HTTP/1.1\r\nHost:\r\n\r\n"), Ok(true));
    }

    #[test]
    fn only_token_subprotocols_are_offered() {
        let text = core::str::from_utf8(RFC_REQUEST).unwrap();
        let odd = text.replace("chat, superchat", "a b, \"q\", , chat,\"\"");
        let (req, _) = parse(odd.as_bytes()).unwrap().unwrap();
        assert_eq!(req.protocols, ["chat"]);
        for p in ["a b", "\"q\"", "", "\"\""] {
            assert_eq!(accept_response(&req, Some(p), &[]), Err(LocalError::ProtocolNotOffered), "{p}");
        }
    }

    #[test]
    fn head_requests() {
        let mut hs = ServerHandshake::new(&Config::default());
        assert_eq!(
            hs.handle(b"\r\nHEAD / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"),
            Err(HandshakeError::Method)
        );
        assert!(hs.is_head());
        let cfg = Config::default().max_handshake_bytes(16);
        let mut hs = ServerHandshake::new(&cfg);
        assert_eq!(hs.handle(b"HEAD / HTTP/1.1\r\nX: y"), Err(HandshakeError::HeadersTooLarge));
        assert!(hs.is_head());
        let mut hs = ServerHandshake::new(&Config::default());
        assert_eq!(hs.handle(b"HEADER / HTTP/1.1\r\nHost: h\r\n\r\n").map(|r| r.is_some()), Ok(true));
        assert!(!hs.is_head());
        let resp = error_response(&HandshakeError::Method, true);
        let text = "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nContent-Type: text/plain; charset=utf-8\r\n\
                    Content-Length: 18\r\nConnection: close\r\n\r\n";
        assert_eq!(String::from_utf8(resp).unwrap(), text);
        let r = reject_response(404, &[], b"no", true).unwrap();
        assert_eq!(r, b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\n");
    }

    #[test]
    fn limits() {
        let cfg = Config::default().max_handshake_bytes(64).max_headers(2);
        let mut hs = ServerHandshake::new(&cfg);
        assert_eq!(hs.handle(&[b'a'; 63]), Ok(None));
        assert_eq!(hs.handle(&[b'a'; 1000]), Err(HandshakeError::HeadersTooLarge));
        let mut hs = ServerHandshake::new(&cfg);
        assert_eq!(hs.handle(b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), Err(HandshakeError::TooManyHeaders));
    }

    #[test]
    fn reject_checks() {
        assert_eq!(reject_response(101, &[], b"", false), Err(LocalError::InvalidStatus(101)));
        assert_eq!(reject_response(100, &[], b"", false), Err(LocalError::InvalidStatus(100)));
        assert_eq!(reject_response(204, &[], b"x", false), Err(LocalError::InvalidStatus(204)));
        assert_eq!(
            reject_response(204, &[], b"", false).unwrap(),
            b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(
            reject_response(404, &[("Content-Length", "1")], b"", false),
            Err(LocalError::InvalidHeader("Content-Length".into()))
        );
        let r = reject_response(404, &[("X", "y")], b"no", false).unwrap();
        assert_eq!(r, b"HTTP/1.1 404 Not Found\r\nX: y\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno");
    }
}
