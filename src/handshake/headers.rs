//! HTTP header lists as the handshake needs them.

use alloc::string::String;
use alloc::vec::Vec;

/// The headers of a handshake request or response, in order, names as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, Vec<u8>)>);

impl Headers {
    #[cfg(feature = "http")]
    pub(crate) fn from_http(headers: &http::HeaderMap) -> Self {
        Headers(headers.iter().map(|(n, v)| (String::from(n.as_str()), v.as_bytes().to_vec())).collect())
    }

    pub(crate) fn from_httparse(headers: &[httparse::Header<'_>]) -> Self {
        Headers(headers.iter().map(|h| (String::from(h.name), h.value.to_vec())).collect())
    }

    /// The value of the first header named `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice())
    }

    /// The first value of `name` as text, if it is UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| core::str::from_utf8(v).ok())
    }

    /// Every value of headers named `name` (case-insensitive), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.0.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice())
    }

    /// All headers as (name, value) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// The number of headers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The comma-separated elements of every header named `name`, trimmed and
    /// non-empty (RFC 7230 §7 lists), in order.
    pub(crate) fn tokens<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.get_all(name)
            .filter_map(|v| core::str::from_utf8(v).ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim_matches([' ', '\t']))
            .filter(|t| !t.is_empty())
    }

    /// Whether a token list header contains `token` (case-insensitive).
    pub(crate) fn has_token(&self, name: &str, token: &str) -> bool {
        self.tokens(name).any(|t| t.eq_ignore_ascii_case(token))
    }
}

/// Whether `s` is an HTTP token (RFC 7230 §3.2.6), as header names and
/// subprotocol names must be.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `s` can be a header value: visible ASCII, spaces and tabs, or
/// bytes above 0x7F; never CR, LF or other controls.
pub(crate) fn is_header_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7F))
}

/// Appends `name: value\r\n`.
pub(crate) fn write_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lists() {
        let h = Headers(alloc::vec![
            ("Connection".into(), b"keep-alive, Upgrade".to_vec()),
            ("connection".into(), b" ,x ".to_vec()),
        ]);
        assert!(h.has_token("CONNECTION", "upgrade"));
        assert_eq!(h.tokens("connection").collect::<Vec<_>>(), ["keep-alive", "Upgrade", "x"]);
        assert!(!h.has_token("Upgrade", "websocket"));
        assert!(is_token("chat.v2") && !is_token("a b") && !is_token(""));
        assert!(is_header_value("x\ty") && !is_header_value("a\r\nb"));
    }
}
