//! Close codes and close frame payloads (RFC 6455 §5.5.1, §7.4).
//!
//! The registry of close codes lives in one table, [`CloseCode::registry`],
//! built by the `close_codes!` macro: each registered code with its name and whether it may
//! appear in a close frame on the wire. Everything else about codes (ranges,
//! what may be sent, what may be received) is derived from that table.

use alloc::string::String;
use core::fmt;

use crate::local_error::LocalError;
use crate::utf8;

/// The largest close payload: a close frame is a control frame.
pub const MAX_CLOSE_PAYLOAD: usize = crate::frame::MAX_CONTROL_PAYLOAD;
/// The longest close reason: 125 bytes minus the 2-byte status code.
pub const MAX_REASON_LEN: usize = MAX_CLOSE_PAYLOAD - 2;

/// A WebSocket close status code (RFC 6455 §7.4).
///
/// Any `u16` can be held; [`CloseCode::class`], [`CloseCode::is_sendable`] and
/// [`CloseCode::name`] say what the registry makes of it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

/// Where a close code falls in the registry (RFC 6455 §7.4.2, IANA).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseCodeClass {
    /// 0–999: never used.
    Unused,
    /// 1000–1015: registered by the RFC and IANA.
    Registered,
    /// 1016–2999: reserved for future revisions of the protocol.
    Reserved,
    /// 3000–3999: for libraries, frameworks and applications, registered with IANA.
    Library,
    /// 4000–4999: private use by applications.
    Application,
    /// 5000 and above: outside every range.
    OutOfRange,
}

/// One row of the close code registry.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Registered {
    /// The code.
    pub code: CloseCode,
    /// The name IANA's WebSocket Close Code Number Registry gives it.
    pub name: &'static str,
    /// Whether it may appear in a close frame. 1004, 1005, 1006 and 1015 may not.
    pub on_wire: bool,
}

macro_rules! close_codes {
    ($( $(#[$doc:meta])* $konst:ident = $code:literal, $name:literal, $wire:literal; )*) => {
        impl CloseCode {
            $( $(#[$doc])* pub const $konst: CloseCode = CloseCode($code); )*
        }
        /// The registered codes 1000–1015, in order, as one table.
        const REGISTRY: &[Registered] = &[
            $( Registered { code: CloseCode($code), name: $name, on_wire: $wire }, )*
        ];
    };
}

close_codes! {
    /// 1000: the purpose of the connection has been fulfilled.
    NORMAL = 1000, "Normal Closure", true;
    /// 1001: an endpoint is going away (server shutdown, page navigation).
    GOING_AWAY = 1001, "Going Away", true;
    /// 1002: the peer broke the protocol.
    PROTOCOL_ERROR = 1002, "Protocol error", true;
    /// 1003: a data type the endpoint cannot accept.
    UNSUPPORTED_DATA = 1003, "Unsupported Data", true;
    /// 1004: reserved, never sent.
    RESERVED = 1004, "Reserved", false;
    /// 1005: no status code was present. Reported locally, never sent.
    NO_STATUS = 1005, "No Status Rcvd", false;
    /// 1006: the connection closed without a close frame. Reported locally, never sent.
    ABNORMAL = 1006, "Abnormal Closure", false;
    /// 1007: message data did not match its type (invalid UTF-8 in text).
    INVALID_PAYLOAD = 1007, "Invalid frame payload data", true;
    /// 1008: a message violated the endpoint's policy.
    POLICY_VIOLATION = 1008, "Policy Violation", true;
    /// 1009: a message too big to process.
    MESSAGE_TOO_BIG = 1009, "Message Too Big", true;
    /// 1010: the client expected the server to negotiate an extension.
    MANDATORY_EXTENSION = 1010, "Mandatory Ext.", true;
    /// 1011: the server met an unexpected condition.
    INTERNAL_ERROR = 1011, "Internal Error", true;
    /// 1012: the service is restarting.
    SERVICE_RESTART = 1012, "Service Restart", true;
    /// 1013: try again later (temporary overload).
    TRY_AGAIN_LATER = 1013, "Try Again Later", true;
    /// 1014: a gateway got an invalid response from upstream.
    BAD_GATEWAY = 1014, "Bad Gateway", true;
    /// 1015: the TLS handshake failed. Reported locally, never sent.
    TLS_HANDSHAKE = 1015, "TLS handshake", false;
}

impl CloseCode {
    /// The registry: codes 1000–1015 in order, each with its name and whether
    /// it may appear on the wire.
    pub fn registry() -> &'static [Registered] {
        REGISTRY
    }

    /// The registry row of a code in 1000–1015.
    pub fn registered(self) -> Option<&'static Registered> {
        REGISTRY.get(usize::from(self.0.checked_sub(1000)?))
    }

    /// The registry's name ("Normal Closure", "Going Away", …) for 1000–1015.
    pub fn name(self) -> Option<&'static str> {
        self.registered().map(|r| r.name)
    }

    /// Which range of the registry the code falls in.
    pub fn class(self) -> CloseCodeClass {
        match self.0 {
            0..=999 => CloseCodeClass::Unused,
            1000..=1015 => CloseCodeClass::Registered,
            1016..=2999 => CloseCodeClass::Reserved,
            3000..=3999 => CloseCodeClass::Library,
            4000..=4999 => CloseCodeClass::Application,
            _ => CloseCodeClass::OutOfRange,
        }
    }

    /// Whether the code may appear in a close frame, sent or received
    /// (RFC 6455 §7.4.1, §7.4.2): the registered codes other than 1004, 1005,
    /// 1006 and 1015, and 3000–4999.
    pub fn is_sendable(self) -> bool {
        match self.class() {
            CloseCodeClass::Registered => self.registered().is_some_and(|r| r.on_wire),
            CloseCodeClass::Library | CloseCodeClass::Application => true,
            _ => false,
        }
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        CloseCode(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> u16 {
        code.0
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "CloseCode({} {name})", self.0),
            None => write!(f, "CloseCode({})", self.0),
        }
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// A parsed close frame payload: `None` when the payload was empty.
pub(crate) type ClosePayload<'a> = Option<(CloseCode, &'a str)>;

/// A close payload that breaks RFC 6455 §5.5.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CloseFrameError {
    /// One byte: half a code.
    TooShort,
    /// Over 125 bytes (a control frame cannot carry it).
    TooLong,
    /// A code that may not appear on the wire (§7.4).
    Code(u16),
    /// A reason that is not UTF-8.
    Reason,
}

/// Parses a received close payload (RFC 6455 §5.5.1): empty, or a 2-byte
/// big-endian code that may be on the wire followed by a UTF-8 reason.
pub(crate) fn parse_close_payload(payload: &[u8]) -> Result<ClosePayload<'_>, CloseFrameError> {
    match payload {
        [] => Ok(None),
        [_] => Err(CloseFrameError::TooShort),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_sendable() {
                return Err(CloseFrameError::Code(code.0));
            }
            if reason.len() > MAX_REASON_LEN {
                return Err(CloseFrameError::TooLong);
            }
            let reason = utf8::validate(reason).map_err(|_| CloseFrameError::Reason)?;
            Ok(Some((code, reason)))
        }
    }
}

/// Checks a close code and reason the application wants to send, and gives
/// the payload to send. [`CloseCode::NO_STATUS`] (1005) with no reason means
/// a close frame without a code, as the browser's `close()` with no
/// arguments sends (the peer reports 1005).
pub(crate) fn check_local_close(code: CloseCode, reason: &str) -> Result<ClosePayload<'_>, LocalError> {
    if code == CloseCode::NO_STATUS {
        return match reason {
            "" => Ok(None),
            _ => Err(LocalError::ReasonWithoutCode),
        };
    }
    if !code.is_sendable() {
        return Err(LocalError::InvalidCloseCode(code.0));
    }
    if reason.len() > MAX_REASON_LEN {
        return Err(LocalError::CloseReasonTooLong(reason.len()));
    }
    Ok(Some((code, reason)))
}

/// Writes a close payload: the code big-endian, then the reason. The caller
/// has checked both; an empty payload is written for `None`.
pub(crate) fn encode_close_payload(close: ClosePayload<'_>, out: &mut [u8; MAX_CLOSE_PAYLOAD]) -> usize {
    match close {
        None => 0,
        Some((code, reason)) => {
            out[..2].copy_from_slice(&code.0.to_be_bytes());
            out[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
            2 + reason.len()
        }
    }
}

/// Cuts `reason` to at most 123 bytes on a character boundary, so that it can
/// be passed to [`Connection::close`](crate::Connection::close).
///
/// ```
/// let long = "é".repeat(100); // 200 bytes
/// let cut = rfc6455::truncate_reason(&long);
/// assert_eq!(cut.len(), 122);
/// ```
pub fn truncate_reason(reason: &str) -> &str {
    if reason.len() <= MAX_REASON_LEN {
        return reason;
    }
    let mut end = MAX_REASON_LEN;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

/// How a connection ended, as the browser's `CloseEvent` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CloseEvent {
    /// The code of the close frame received; 1005 when it had none, 1006 when
    /// none was received (EOF, failure, timeout, terminate).
    pub code: CloseCode,
    /// The reason of the close frame received, or empty.
    pub reason: String,
    /// Whether the closing handshake completed: both close frames were exchanged.
    pub was_clean: bool,
}

impl CloseEvent {
    /// A close event with these fields.
    pub fn new(code: impl Into<CloseCode>, reason: impl Into<String>, was_clean: bool) -> Self {
        CloseEvent { code: code.into(), reason: reason.into(), was_clean }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_complete_and_ordered() {
        assert_eq!(REGISTRY.len(), 16);
        for (i, row) in REGISTRY.iter().enumerate() {
            assert_eq!(usize::from(row.code.0), 1000 + i);
        }
        assert_eq!(CloseCode::NORMAL.name(), Some("Normal Closure"));
        assert_eq!(CloseCode(1001).name(), Some("Going Away"));
        assert_eq!(CloseCode(1016).name(), None);
    }

    #[test]
    fn wire_rules() {
        let sendable: Vec<u16> = (0..=u16::MAX).filter(|&c| CloseCode(c).is_sendable()).collect();
        let expected: Vec<u16> = (1000..=1003).chain(1007..=1014).chain(3000..=4999).collect();
        assert_eq!(sendable, expected);
        assert_eq!(CloseCode(999).class(), CloseCodeClass::Unused);
        assert_eq!(CloseCode(2999).class(), CloseCodeClass::Reserved);
        assert_eq!(CloseCode(3000).class(), CloseCodeClass::Library);
        assert_eq!(CloseCode(4999).class(), CloseCodeClass::Application);
        assert_eq!(CloseCode(5000).class(), CloseCodeClass::OutOfRange);
    }

    #[test]
    fn parse_payloads() {
        assert_eq!(parse_close_payload(&[]), Ok(None));
        assert_eq!(parse_close_payload(&[3]), Err(CloseFrameError::TooShort));
        assert_eq!(parse_close_payload(&[3, 0xe8]), Ok(Some((CloseCode::NORMAL, ""))));
        assert_eq!(parse_close_payload(&[3, 0xed]), Err(CloseFrameError::Code(1005)));
        assert_eq!(parse_close_payload(&[0x0f, 0xa0, b'o', b'k']), Ok(Some((CloseCode(4000), "ok"))));
        assert_eq!(parse_close_payload(&[3, 0xe8, 0xff]), Err(CloseFrameError::Reason));
    }

    #[test]
    fn local_close_checks() {
        assert_eq!(check_local_close(CloseCode(1006), ""), Err(LocalError::InvalidCloseCode(1006)));
        assert_eq!(check_local_close(CloseCode(1000), &"a".repeat(124)), Err(LocalError::CloseReasonTooLong(124)));
        assert!(check_local_close(CloseCode(4999), &"a".repeat(123)).is_ok());
        assert_eq!(check_local_close(CloseCode::NO_STATUS, ""), Ok(None));
        assert_eq!(check_local_close(CloseCode::NO_STATUS, "x"), Err(LocalError::ReasonWithoutCode));
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        let s = "€".repeat(50); // 3 bytes each
        let t = truncate_reason(&s);
        assert_eq!(t.len(), 123);
        let s = format!("a{}", "€".repeat(50));
        let t = truncate_reason(&s);
        assert_eq!(t.len(), 121);
        assert_eq!(truncate_reason("short"), "short");
    }
}
