//! The opening handshake with the [`http`] crate's types (feature `http`),
//! for servers whose HTTP is done by hyper or axum, and clients that build
//! requests as `http::Request`.
//!
//! The checks are the engine's own (the same code reads a request from bytes
//! in [`Connection::server`](crate::Connection::server)). After the 101, run
//! the upgraded stream with [`Connection::open`](crate::Connection::open), or
//! the tokio adapter's `Builder::open`.
//!
//! ```
//! use rfc6455::{Accept, http as ws_http};
//! let request = http::Request::get("/chat")
//!     .header("Host", "example.com")
//!     .header("Upgrade", "websocket")
//!     .header("Connection", "Upgrade")
//!     .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
//!     .header("Sec-WebSocket-Version", "13")
//!     .header("Sec-WebSocket-Protocol", "chat, superchat")
//!     .body(())
//!     .unwrap();
//! let upgrade = ws_http::request(&request).unwrap();
//! assert_eq!(upgrade.protocols, ["chat", "superchat"]);
//! let response = ws_http::accept_response(&upgrade, &Accept::new().protocol("chat")).unwrap();
//! assert_eq!(response.status(), 101);
//! assert_eq!(response.headers()["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
//! ```

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use http::{HeaderMap, Method, Uri, Version};

use crate::handshake::{
    Accept, ClientRequest, HandshakeError, Headers, Opened, Request, accept_headers, accept_key, check_response,
    error_parts, request_from_parts,
};
use crate::local_error::LocalError;

/// The engine's view of `request`, after the same checks as
/// [`Connection::server`](crate::Connection::server) makes (RFC 9112's target
/// and `Host` rules, and RFC 6455 §4.2.1 for an upgrade). A plain request
/// (not an upgrade) passes too: [`Request::is_upgrade`] tells them apart.
/// An error is answered with [`error_response`].
pub fn request<B>(request: &http::Request<B>) -> Result<Request, HandshakeError> {
    let version = match request.version() {
        Version::HTTP_11 => Some(1),
        Version::HTTP_10 => Some(0),
        // HTTP/0.9, 2 and 3 are not HTTP/1: an upgrade is refused as the
        // byte parser refuses it (RFC 8441's CONNECT is not this handshake).
        _ => None,
    };
    let uri = request.uri();
    let target = match uri.scheme() {
        Some(_) => uri.to_string(),
        None => uri.path_and_query().map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string()),
    };
    request_from_parts(request.method().as_str(), &target, version, Headers::from_http(request.headers()))
}

/// The 101 response accepting `request` with what `accept` chose, checked
/// as [`Connection::accept`](crate::Connection::accept) checks it: an
/// upgrade, a subprotocol the client offered, extra headers that can be sent.
pub fn accept_response(request: &Request, accept: &Accept) -> Result<http::Response<()>, LocalError> {
    let extra: Vec<(&str, &str)> = accept.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let mut response = http::Response::builder().status(101);
    for (name, value) in accept_headers(request, accept.protocol.as_deref(), &extra)? {
        response = response.header(name, value);
    }
    response.body(()).map_err(|_| LocalError::InvalidHeader("a header http does not take".to_string()))
}

/// The answer to a request that failed the checks: 400, 405 (not GET), 426
/// (not version 13, with `Sec-WebSocket-Version: 13`) or 431, with the
/// reason as a text body.
pub fn error_response(error: &HandshakeError) -> http::Response<String> {
    let (status, headers, body) = error_parts(error);
    let mut response = http::Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(*name, *value);
    }
    response.body(body).expect("fixed statuses and headers are valid")
}

/// The GET request a client sends for `request`, with the key made from
/// `nonce` (16 random bytes: the caller's randomness, as the engine takes
/// it). Check the server's answer with [`check_client_response`].
pub fn client_request(request: &ClientRequest, nonce: [u8; 16]) -> Result<http::Request<()>, LocalError> {
    let key = request.key_for(nonce)?;
    let mut out = http::Request::builder().method(Method::GET).uri(request.resource()).version(Version::HTTP_11);
    for (name, value) in request.request_headers(&key) {
        out = out.header(name, value);
    }
    out.body(()).map_err(|_| LocalError::InvalidHeader("a header http does not take".to_string()))
}

/// The checks of RFC 6455 §4.1 on the server's answer to `request` (made by
/// [`client_request`], or any request with a key): a 101 with the right
/// `Sec-WebSocket-Accept`, a subprotocol it offered, no extension. Other
/// statuses are [`HandshakeError::Status`].
pub fn check_client_response<B>(
    request: &http::Request<()>,
    response: &http::Response<B>,
) -> Result<Opened, HandshakeError> {
    let headers = Headers::from_http(response.headers());
    if response.status() != 101 {
        return Err(HandshakeError::Status { status: response.status().as_u16(), headers });
    }
    let key = request.headers().get("sec-websocket-key").ok_or(HandshakeError::Key)?;
    let offered: Vec<String> =
        Headers::from_http(request.headers()).tokens("Sec-WebSocket-Protocol").map(String::from).collect();
    let opened = check_response(&accept_key(key.as_bytes()), &offered, headers)?;
    Ok(opened)
}

/// A `ClientRequest` from an `http::Request`: the URI (scheme `ws`, `wss`,
/// `http` or `https`, with a host), the offered subprotocols and extensions,
/// and every other header but the ones the handshake writes itself.
impl<B> TryFrom<&http::Request<B>> for ClientRequest {
    type Error = LocalError;

    fn try_from(request: &http::Request<B>) -> Result<Self, LocalError> {
        let mut out = ClientRequest::new(&ws_url(request.uri())?)?;
        out = with_headers(out, request.headers())?;
        Ok(out)
    }
}

/// `ws://` or `wss://` and the rest of `uri`.
fn ws_url(uri: &Uri) -> Result<String, LocalError> {
    let scheme = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        Some("ws" | "http") => "ws",
        Some("wss" | "https") => "wss",
        _ => return Err(LocalError::InvalidUrl("the scheme must be ws, wss, http or https")),
    };
    let authority = uri.authority().ok_or(LocalError::InvalidUrl("the URL has no host"))?;
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    Ok(alloc::format!("{scheme}://{authority}{path}"))
}

/// The handshake's own headers (written by the engine) are left out.
fn with_headers(mut out: ClientRequest, headers: &HeaderMap) -> Result<ClientRequest, LocalError> {
    const OWN: &[&str] = &[
        "host",
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-accept",
        "content-length",
        "transfer-encoding",
    ];
    let tokens = Headers::from_http(headers);
    for protocol in tokens.tokens("Sec-WebSocket-Protocol") {
        out = out.protocol(protocol);
    }
    for offer in tokens.tokens("Sec-WebSocket-Extensions") {
        out = out.extension(offer);
    }
    for (name, value) in headers {
        let name = name.as_str();
        if OWN.contains(&name) || name == "sec-websocket-protocol" || name == "sec-websocket-extensions" {
            continue;
        }
        let value = value.to_str().map_err(|_| LocalError::InvalidHeader(name.to_string()))?;
        out = out.header(name, value);
    }
    Ok(out)
}
