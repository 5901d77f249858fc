//! The client side of the opening handshake (RFC 6455 §4.1).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::Engine;

use super::headers::{Headers, is_header_value, is_token, write_header};
use super::{HandshakeError, HeadBuffer, Opened, accept_key, check_parse, header_slots};
use crate::config::Config;
use crate::local_error::LocalError;

/// Headers the handshake writes itself; the application may not set them.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "sec-websocket-accept",
    "content-length",
    "transfer-encoding",
];

/// What a client asks for: the URL's parts, subprotocols, extension offers and
/// extra headers (Origin, Authorization, Cookie…).
///
/// ```
/// let req = rfc6455::ClientRequest::new("ws://example.com:8080/chat?room=1")?
///     .protocol("chat.v2")
///     .header("Origin", "http://example.com");
/// assert_eq!((req.host(), req.port(), req.resource()), ("example.com", 8080, "/chat?room=1"));
/// # Ok::<(), rfc6455::LocalError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRequest {
    secure: bool,
    host: String,
    port: u16,
    resource: String,
    protocols: Vec<String>,
    extensions: Vec<String>,
    headers: Vec<(String, String)>,
}

impl ClientRequest {
    /// Parses a `ws://` or `wss://` URL: host (a name, IPv4, or an IPv6
    /// address in brackets), optional port, path and query. `wss` only records
    /// that the caller brings TLS. User info and fragments are refused (RFC
    /// 6455 §3).
    pub fn new(url: &str) -> Result<Self, LocalError> {
        let (secure, rest) = if let Some(r) = strip_prefix_ignore_case(url, "ws://") {
            (false, r)
        } else if let Some(r) = strip_prefix_ignore_case(url, "wss://") {
            (true, r)
        } else {
            return Err(LocalError::InvalidUrl("the scheme must be ws:// or wss://"));
        };
        if rest.contains('#') {
            return Err(LocalError::InvalidUrl("a WebSocket URL has no fragment"));
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(split);
        if authority.contains('@') {
            return Err(LocalError::InvalidUrl("user info is not supported"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6.find(']').ok_or(LocalError::InvalidUrl("unclosed IPv6 bracket"))?;
            // An IP-literal (RFC 3986 §3.2.2), kept without its brackets.
            if v6[..end].parse::<core::net::Ipv6Addr>().is_err() {
                return Err(LocalError::InvalidUrl("no valid IPv6 address in the brackets"));
            }
            (&v6[..end], &v6[end + 1..])
        } else {
            match authority.find(':') {
                Some(i) => (&authority[..i], &authority[i..]),
                None => (authority, ""),
            }
        };
        if host.is_empty() || !host.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(LocalError::InvalidUrl("no valid host"));
        }
        let port = match port.strip_prefix(':') {
            None if port.is_empty() => {
                if secure {
                    443
                } else {
                    80
                }
            }
            Some(p) => p.parse::<u16>().ok().filter(|&p| p != 0).ok_or(LocalError::InvalidUrl("bad port"))?,
            None => return Err(LocalError::InvalidUrl("bad port")),
        };
        let resource = match resource {
            "" => "/".to_string(),
            r if r.starts_with('?') => format!("/{r}"),
            r => r.to_string(),
        };
        if !resource.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(LocalError::InvalidUrl("the path must be visible ASCII (percent-encode the rest)"));
        }
        Ok(ClientRequest {
            secure,
            host: host.to_string(),
            port,
            resource,
            protocols: Vec::new(),
            extensions: Vec::new(),
            headers: Vec::new(),
        })
    }

    /// Offers a subprotocol (`Sec-WebSocket-Protocol`), in order of preference.
    pub fn protocol(mut self, name: &str) -> Self {
        self.protocols.push(name.to_string());
        self
    }

    /// Offers an extension (`Sec-WebSocket-Extensions`), e.g.
    /// `"permessage-deflate; client_max_window_bits"`. The engine implements
    /// no extension yet, so a server that accepts an offer fails the handshake
    /// ([`HandshakeError::Extension`]) rather than the first frame it marks
    /// with RSV bits; a server that declines leaves the connection plain.
    pub fn extension(mut self, offer: &str) -> Self {
        self.extensions.push(offer.to_string());
        self
    }

    /// Adds a header such as `Origin`, `Authorization` or `Cookie`.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Whether the URL was `wss://`: the caller must run TLS under the engine.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The host to connect to: a name or an IP address, IPv6 without its
    /// brackets (`::1`), as `TcpStream::connect((request.host(), request.port()))`
    /// takes it. The `Host` header sent puts the brackets back (`[::1]:9001`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port to connect to (80 or 443 by default).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The path and query sent in the request line.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The subprotocols offered.
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// Checks what the builder could not: names and values that can be sent.
    fn validate(&self) -> Result<(), LocalError> {
        for p in &self.protocols {
            if !is_token(p) || self.protocols.iter().filter(|q| *q == p).count() > 1 {
                return Err(LocalError::InvalidHeader(format!("Sec-WebSocket-Protocol: {p}")));
            }
        }
        for e in &self.extensions {
            if !is_header_value(e) || extension_name(e).is_none() {
                return Err(LocalError::InvalidHeader(format!("Sec-WebSocket-Extensions: {e}")));
            }
        }
        for (name, value) in &self.headers {
            let reserved = RESERVED_HEADERS.iter().any(|r| r.eq_ignore_ascii_case(name));
            if reserved || !is_token(name) || !is_header_value(value) {
                return Err(LocalError::InvalidHeader(name.clone()));
            }
        }
        Ok(())
    }

    /// Writes the GET request with `key` as `Sec-WebSocket-Key`.
    fn write(&self, key: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(format!("GET {} HTTP/1.1\r\n", self.resource).as_bytes());
        for (name, value) in self.request_headers(key) {
            write_header(&mut out, name, &value);
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    /// The headers of the GET request with `key`, in order.
    pub(crate) fn request_headers(&self, key: &str) -> Vec<(&str, String)> {
        let default_port = if self.secure { 443 } else { 80 };
        // Only an IPv6 address has a colon; it goes in brackets (RFC 9110 §7.2, RFC 3986 §3.2.2).
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let host = if self.port == default_port { host } else { format!("{host}:{}", self.port) };
        let mut out = Vec::with_capacity(7 + self.headers.len());
        out.push(("Host", host));
        out.push(("Upgrade", "websocket".to_string()));
        out.push(("Connection", "Upgrade".to_string()));
        out.push(("Sec-WebSocket-Key", key.to_string()));
        out.push(("Sec-WebSocket-Version", "13".to_string()));
        if !self.protocols.is_empty() {
            out.push(("Sec-WebSocket-Protocol", self.protocols.join(", ")));
        }
        if !self.extensions.is_empty() {
            out.push(("Sec-WebSocket-Extensions", self.extensions.join(", ")));
        }
        out.extend(self.headers.iter().map(|(name, value)| (name.as_str(), value.clone())));
        out
    }

    /// The request's key for a 16-byte nonce, after the checks of what the
    /// builder could not check.
    pub(crate) fn key_for(&self, nonce: [u8; 16]) -> Result<String, LocalError> {
        self.validate()?;
        Ok(base64::engine::general_purpose::STANDARD.encode(nonce))
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// The name of an extension offer or acceptance: the token before any `;`.
fn extension_name(ext: &str) -> Option<&str> {
    let name = ext.split(';').next()?.trim();
    is_token(name).then_some(name)
}

/// A client waiting for the server's response.
#[derive(Debug)]
pub(crate) struct ClientHandshake {
    expected_accept: String,
    protocols: Vec<String>,
    head: HeadBuffer,
    max_headers: usize,
}

impl ClientHandshake {
    /// Starts a handshake with a 16-byte nonce; returns it with the request bytes to send.
    pub(crate) fn new(req: &ClientRequest, nonce: [u8; 16], config: &Config) -> Result<(Self, Vec<u8>), LocalError> {
        let key = req.key_for(nonce)?;
        let request = req.write(&key);
        let hs = ClientHandshake {
            expected_accept: accept_key(key.as_bytes()),
            protocols: req.protocols.clone(),
            head: HeadBuffer::new(config.max_handshake_bytes),
            max_headers: config.max_headers,
        };
        Ok((hs, request))
    }

    /// Bytes of the header block received so far.
    pub(crate) fn buffered_len(&self) -> usize {
        self.head.len()
    }

    /// Heap held for the header block.
    pub(crate) fn buffered_capacity(&self) -> usize {
        self.head.capacity()
    }

    /// Feeds response bytes. `Ok(None)`: the response is incomplete.
    /// `Ok(Some((opened, n)))`: the handshake succeeded and `data[n..]`
    /// belongs to the framing layer.
    ///
    /// Interim responses (1xx other than 101, such as `100 Continue` or `103
    /// Early Hints`) may come before the 101 and are skipped (RFC 9110 §15.2).
    /// Their header blocks and the final one count together against
    /// `max_handshake_bytes`, so a server sending 1xx without end fails the
    /// handshake ([`HandshakeError::HeadersTooLarge`]) instead of holding it.
    pub(crate) fn handle(&mut self, mut data: &[u8]) -> Result<Option<(Opened, usize)>, HandshakeError> {
        let mut offset = 0;
        loop {
            let Some((head, used)) = self.head.push(data)? else { return Ok(None) };
            let mut slots = header_slots(head, self.max_headers);
            let mut resp = httparse::Response::new(&mut slots);
            check_parse(resp.parse(head))?;
            let status = resp.code.expect("a complete response has a status");
            if (100..200).contains(&status) && status != 101 {
                // INVARIANT: 0 < used <= data.len(): no block was complete
                // before `data` came, so each turn eats into it and the loop ends.
                let len = head.len();
                self.head.skip(len);
                offset += used;
                data = &data[used..];
                if data.is_empty() {
                    return Ok(None);
                }
                continue;
            }
            let headers = Headers::from_httparse(resp.headers);
            if status != 101 {
                return Err(HandshakeError::Status { status, headers });
            }
            if resp.version != Some(1) {
                return Err(HandshakeError::Version);
            }
            let opened = self.check(headers)?;
            return Ok(Some((opened, offset + used)));
        }
    }

    /// The checks of RFC 6455 §4.1 on a 101 response.
    fn check(&self, headers: Headers) -> Result<Opened, HandshakeError> {
        check_response(&self.expected_accept, &self.protocols, headers)
    }
}

/// The checks of RFC 6455 §4.1 on the headers of a 101 response to a request
/// whose key gives `expected_accept` and that offered `protocols`: the one
/// place they are made, for responses read from bytes and for `http` types.
pub(crate) fn check_response(
    expected_accept: &str,
    offered: &[String],
    headers: Headers,
) -> Result<Opened, HandshakeError> {
    if !headers.has_token("Upgrade", "websocket") {
        return Err(HandshakeError::Upgrade);
    }
    if !headers.has_token("Connection", "upgrade") {
        return Err(HandshakeError::Connection);
    }
    let accept_ok = {
        let mut accepts = headers.get_all("Sec-WebSocket-Accept");
        let accept = accepts.next().and_then(|v| core::str::from_utf8(v).ok()).map(str::trim);
        accept == Some(expected_accept) && accepts.next().is_none()
    };
    if !accept_ok {
        return Err(HandshakeError::Accept);
    }
    let chosen: Vec<&str> = headers.tokens("Sec-WebSocket-Protocol").collect();
    let protocol = match chosen.as_slice() {
        [] => None,
        [p] if offered.iter().any(|o| o == p) => Some(p.to_string()),
        _ => return Err(HandshakeError::Protocol),
    };
    // Every extension in the answer fails: one not offered (RFC 6455 §4.1),
    // and an offered one too, since the engine cannot run any yet.
    if headers.tokens("Sec-WebSocket-Extensions").next().is_some() {
        return Err(HandshakeError::Extension);
    }
    Ok(Opened { protocol, extensions: Vec::new(), headers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let r = ClientRequest::new("WSS://[::1]:9443?x=1").unwrap();
        assert!(r.is_secure());
        assert_eq!((r.host(), r.port(), r.resource()), ("::1", 9443, "/?x=1"));
        let r = ClientRequest::new("ws://h").unwrap();
        assert_eq!((r.host(), r.port(), r.resource()), ("h", 80, "/"));
        let r = ClientRequest::new("ws://[::ffff:192.0.2.1]/").unwrap();
        assert_eq!((r.host(), r.port()), ("::ffff:192.0.2.1", 80));
        for bad in [
            "http://h/",
            "ws://",
            "ws://h:0/",
            "ws://h:99999/",
            "ws://u@h/",
            "ws://h/#f",
            "ws://h:x/",
            "ws://[::1/",
            "ws://[]/",
            "ws://[h]/",
        ] {
            assert!(ClientRequest::new(bad).is_err(), "{bad}");
        }
    }

    /// The RFC 6455 §1.3 answer to a request with the nonce "the sample nonce".
    const SWITCHING: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

    fn handshake(cfg: &Config) -> ClientHandshake {
        let req = ClientRequest::new("ws://server.example.com/chat").unwrap();
        ClientHandshake::new(&req, *b"the sample nonce", cfg).unwrap().0
    }

    #[test]
    fn header_slots_follow_the_block_not_the_limit() {
        for max_headers in [usize::MAX, 1 << 40] {
            let mut hs = handshake(&Config::default().max_headers(max_headers));
            assert!(matches!(hs.handle(SWITCHING), Ok(Some((_, n))) if n == SWITCHING.len()));
        }
        let mut hs = handshake(&Config::default().max_headers(0));
        assert!(matches!(hs.handle(SWITCHING), Err(HandshakeError::TooManyHeaders)));
    }

    #[test]
    fn interim_responses_are_skipped() {
        let mut bytes = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n".to_vec();
        bytes.extend_from_slice(SWITCHING);
        bytes.extend_from_slice(b"frames");
        let mut hs = handshake(&Config::default());
        let (opened, n) = hs.handle(&bytes).unwrap().unwrap();
        assert_eq!((&bytes[n..], opened.headers.get("Link")), (&b"frames"[..], None));
        for cut in 0..bytes.len() - 6 {
            let mut hs = handshake(&Config::default());
            assert!(matches!(hs.handle(&bytes[..cut]), Ok(None)), "{cut}");
            assert_eq!(hs.handle(&bytes[cut..]).unwrap().map(|(_, n)| &bytes[cut + n..]), Some(&b"frames"[..]));
        }
        // A final status other than 101 after an interim one is still a refusal.
        let mut hs = handshake(&Config::default());
        let e = hs.handle(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 403 Forbidden\r\n\r\n").unwrap_err();
        assert!(matches!(e, HandshakeError::Status { status: 403, .. }), "{e:?}");
    }

    #[test]
    fn interim_responses_count_against_the_limit() {
        let interim = b"HTTP/1.1 100 Continue\r\n\r\n";
        let cfg = Config::default().max_handshake_bytes(4 * interim.len() + SWITCHING.len());
        let mut hs = handshake(&cfg);
        assert!(matches!(hs.handle(&interim.repeat(4)), Ok(None)));
        assert!(matches!(hs.handle(SWITCHING), Ok(Some(_))));
        let mut hs = handshake(&cfg);
        assert!(matches!(hs.handle(&interim.repeat(5)), Ok(None)));
        assert!(hs.buffered_len() < interim.len());
        assert!(matches!(hs.handle(SWITCHING), Err(HandshakeError::HeadersTooLarge)));
    }

    #[test]
    fn request_bytes() {
        let req =
            ClientRequest::new("ws://example.com:81/chat").unwrap().protocol("a").protocol("b").header("Origin", "x");
        let (_, bytes) = ClientHandshake::new(&req, *b"the sample nonce", &Config::default()).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "GET /chat HTTP/1.1\r\nHost: example.com:81\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: a, b\r\nOrigin: x\r\n\r\n"
        );
        // An IPv6 host goes back in brackets in the Host header (RFC 9110 §7.2).
        for (url, host) in
            [("ws://[::1]:9001/", "[::1]:9001"), ("wss://[::1]/", "[::1]"), ("ws://127.0.0.1:81/", "127.0.0.1:81")]
        {
            let req = ClientRequest::new(url).unwrap();
            let (_, bytes) = ClientHandshake::new(&req, [0; 16], &Config::default()).unwrap();
            assert!(String::from_utf8(bytes).unwrap().starts_with(&format!("GET / HTTP/1.1\r\nHost: {host}\r\n")));
        }
    }

    #[test]
    fn refuses_reserved_and_bad_headers() {
        let cfg = Config::default();
        for req in [
            ClientRequest::new("ws://h/").unwrap().header("Upgrade", "x"),
            ClientRequest::new("ws://h/").unwrap().header("X", "a\r\nb"),
            ClientRequest::new("ws://h/").unwrap().protocol("a b"),
            ClientRequest::new("ws://h/").unwrap().protocol("a").protocol("a"),
        ] {
            assert!(matches!(ClientHandshake::new(&req, [0; 16], &cfg), Err(LocalError::InvalidHeader(_))));
        }
    }
}
