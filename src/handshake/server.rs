//! The server side of the opening handshake (RFC 6455 §4.2).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use base64::Engine;

use super::headers::{Headers, is_header_value, is_token, write_header};
use super::{HeadBuffer, accept_key, check_parse};
use crate::config::Config;
use crate::error::{HandshakeError, LocalError};

/// A complete HTTP request, handed to the application in
/// [`Event::Request`](crate::Event::Request).
///
/// When [`Request::is_upgrade`] is true the engine has checked every rule of
/// RFC 6455 §4.2.1 and the application may accept or reject it. A plain HTTP
/// request (no `Upgrade: websocket`) can only be answered with
/// [`Connection::reject`](crate::Connection::reject), for instance with a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The method, `GET` for every upgrade.
    pub method: String,
    /// The path of the request target, without the query.
    pub path: String,
    /// The query after `?`, if any.
    pub query: Option<String>,
    /// All request headers.
    pub headers: Headers,
    /// The subprotocols the client offered, in its order of preference.
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
}

/// A server reading the client's request.
#[derive(Debug)]
pub(crate) struct ServerHandshake {
    head: HeadBuffer,
    max_headers: usize,
}

impl ServerHandshake {
    pub(crate) fn new(config: &Config) -> Self {
        ServerHandshake { head: HeadBuffer::new(config.max_handshake_bytes), max_headers: config.max_headers }
    }

    /// Bytes of the header block received so far.
    pub(crate) fn buffered_len(&self) -> usize {
        self.head.len()
    }

    /// Feeds request bytes. `Ok(None)`: the request is incomplete.
    /// `Ok(Some((request, n)))`: a complete request; `data[n..]` follows it.
    /// `Err`: a broken upgrade request, to be answered with
    /// [`HandshakeError::response_status`].
    pub(crate) fn handle(&mut self, data: &[u8]) -> Result<Option<(Request, usize)>, HandshakeError> {
        let Some((head, used)) = self.head.push(data)? else { return Ok(None) };
        let mut slots = vec![httparse::EMPTY_HEADER; self.max_headers];
        let mut req = httparse::Request::new(&mut slots);
        check_parse(req.parse(head))?;
        let method = req.method.expect("a complete request has a method").to_string();
        let target = req.path.expect("a complete request has a target");
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (target.to_string(), None),
        };
        let version = req.version;
        let headers = Headers::from_httparse(req.headers);
        let protocols = headers.tokens("Sec-WebSocket-Protocol").map(String::from).collect();
        let extensions = headers.tokens("Sec-WebSocket-Extensions").map(String::from).collect();
        let mut request = Request { method, path, query, headers, protocols, extensions, key: None };
        if request.headers.has_token("Upgrade", "websocket") {
            request.key = Some(check_upgrade(&request, version)?);
        }
        self.head.release();
        Ok(Some((request, used)))
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
    if req.headers.get("Host").is_none() {
        return Err(HandshakeError::MissingHost);
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
    let mut out = Vec::with_capacity(160);
    out.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\n");
    write_header(&mut out, "Upgrade", "websocket");
    write_header(&mut out, "Connection", "Upgrade");
    write_header(&mut out, "Sec-WebSocket-Accept", &accept_key(key.as_bytes()));
    if let Some(p) = protocol {
        write_header(&mut out, "Sec-WebSocket-Protocol", p);
    }
    for (name, value) in headers {
        write_header(&mut out, name, value);
    }
    out.extend_from_slice(b"\r\n");
    Ok(out)
}

/// A final response other than 101: status 200–599, extra headers, body;
/// `Content-Length` and `Connection: close` are added, since the connection
/// ends after it. 204 and 304 carry no body and no length (RFC 9110 §8.6,
/// RFC 9112 §6.3); a 1xx is not final, so it cannot end the exchange.
pub(crate) fn reject_response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Result<Vec<u8>, LocalError> {
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
    out.extend_from_slice(body);
    Ok(out)
}

/// The response the engine itself sends for a broken upgrade request.
pub(crate) fn error_response(err: &HandshakeError) -> Vec<u8> {
    let status = err.response_status();
    let headers: &[(&str, &str)] = match status {
        426 => &[("Sec-WebSocket-Version", "13"), ("Content-Type", "text/plain; charset=utf-8")],
        405 => &[("Allow", "GET"), ("Content-Type", "text/plain; charset=utf-8")],
        _ => &[("Content-Type", "text/plain; charset=utf-8")],
    };
    reject_response(status, headers, format!("{err}\n").as_bytes()).expect("fixed statuses and headers are valid")
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
            ("Host: server.example.com\r\n", "", HandshakeError::MissingHost, 400),
            ("Connection: Upgrade", "Connection: keep-alive", HandshakeError::Connection, 400),
            ("GET /chat HTTP/1.1", "POST /chat HTTP/1.1", HandshakeError::Method, 405),
            ("GET /chat HTTP/1.1", "GET /chat HTTP/1.0", HandshakeError::Version, 400),
        ];
        for (from, to, err, status) in cases {
            let bad = text.replace(from, to);
            assert_eq!(parse(bad.as_bytes()), Err(err.clone()), "{to}");
            assert_eq!(err.response_status(), *status);
        }
        let resp = error_response(&HandshakeError::WebSocketVersion);
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
    fn limits() {
        let cfg = Config { max_handshake_bytes: 64, max_headers: 2, ..Config::default() };
        let mut hs = ServerHandshake::new(&cfg);
        assert_eq!(hs.handle(&[b'a'; 63]), Ok(None));
        assert_eq!(hs.handle(&[b'a'; 1000]), Err(HandshakeError::HeadersTooLarge));
        let mut hs = ServerHandshake::new(&cfg);
        assert_eq!(hs.handle(b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), Err(HandshakeError::TooManyHeaders));
    }

    #[test]
    fn reject_checks() {
        assert_eq!(reject_response(101, &[], b""), Err(LocalError::InvalidStatus(101)));
        assert_eq!(reject_response(100, &[], b""), Err(LocalError::InvalidStatus(100)));
        assert_eq!(reject_response(204, &[], b"x"), Err(LocalError::InvalidStatus(204)));
        assert_eq!(reject_response(204, &[], b"").unwrap(), b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        assert_eq!(
            reject_response(404, &[("Content-Length", "1")], b""),
            Err(LocalError::InvalidHeader("Content-Length".into()))
        );
        let r = reject_response(404, &[("X", "y")], b"no").unwrap();
        assert_eq!(r, b"HTTP/1.1 404 Not Found\r\nX: y\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno");
    }
}
