//! Status codes: what every export returns. Zero is success; each other value
//! has a name and a string (`rfc6455_status_str`).

use core::ffi::c_char;

use engine::{Error, LocalError};

use crate::guard;

/// A status code (`RFC6455_OK`, `RFC6455_DONE`, `RFC6455_ERR_*`,
/// `RFC6455_PANIC`).
pub type rfc6455_status = u32;

/// Success.
pub const RFC6455_OK: rfc6455_status = 0;
/// Nothing (more) to give: no event, nothing to transmit, no deadline, no
/// close event yet. Not a failure.
pub const RFC6455_DONE: rfc6455_status = 1;
/// The caller's buffer has no room for anything that is pending.
pub const RFC6455_BUFFER_TOO_SMALL: rfc6455_status = 2;
/// A pointer that must not be NULL was NULL; nothing changed.
pub const RFC6455_ERR_NULL_ARGUMENT: rfc6455_status = 3;
/// An argument is out of range (an unknown role or kind); nothing changed.
pub const RFC6455_ERR_INVALID_ARGUMENT: rfc6455_status = 4;
/// A string or text payload is not UTF-8; nothing changed.
pub const RFC6455_ERR_INVALID_UTF8: rfc6455_status = 5;
/// A panic inside the library, caught at the boundary. A connection it
/// happened on answers this from then on: free it.
pub const RFC6455_PANIC: rfc6455_status = 6;
/// The URL cannot be used: not `ws://` or `wss://`, no host, a bad port.
pub const RFC6455_ERR_INVALID_URL: rfc6455_status = 10;
/// A header name or value that cannot be sent, or one the handshake sets.
pub const RFC6455_ERR_INVALID_HEADER: rfc6455_status = 11;
/// A rejection's status outside 200–599, or a body with 204 or 304.
pub const RFC6455_ERR_INVALID_STATUS: rfc6455_status = 12;
/// The opening handshake has not completed.
pub const RFC6455_ERR_NOT_OPEN: rfc6455_status = 13;
/// A close frame was sent or received: no more data may be sent.
pub const RFC6455_ERR_CLOSING: rfc6455_status = 14;
/// The connection is closed.
pub const RFC6455_ERR_CLOSED: rfc6455_status = 15;
/// The close code may not be sent (0–999, 1004–1006, 1015–2999, 5000+).
pub const RFC6455_ERR_INVALID_CLOSE_CODE: rfc6455_status = 16;
/// A close reason without a code (1005): a close frame without a code has
/// no reason.
pub const RFC6455_ERR_REASON_WITHOUT_CODE: rfc6455_status = 17;
/// A close reason over 123 bytes.
pub const RFC6455_ERR_REASON_TOO_LONG: rfc6455_status = 18;
/// A ping or pong payload over 125 bytes.
pub const RFC6455_ERR_CONTROL_TOO_LONG: rfc6455_status = 19;
/// A whole message while a fragmented one is unfinished, or a fragment of
/// the other kind.
pub const RFC6455_ERR_MESSAGE_IN_PROGRESS: rfc6455_status = 20;
/// A call for the other role (accept on a client).
pub const RFC6455_ERR_WRONG_ROLE: rfc6455_status = 21;
/// No request waits to be accepted or rejected.
pub const RFC6455_ERR_NO_REQUEST: rfc6455_status = 22;
/// The request is plain HTTP, not an upgrade: it can only be rejected.
pub const RFC6455_ERR_NOT_UPGRADE: rfc6455_status = 23;
/// The subprotocol was not offered by the client.
pub const RFC6455_ERR_PROTOCOL_NOT_OFFERED: rfc6455_status = 24;
/// A commit of more bytes than the read buffer lent.
pub const RFC6455_ERR_NOT_OFFERED: rfc6455_status = 25;
/// ERROR event: the peer broke the protocol; the event's code is the close
/// code sent for it (1002, 1007, 1009).
pub const RFC6455_ERR_PROTOCOL: rfc6455_status = 40;
/// ERROR event: the opening handshake failed.
pub const RFC6455_ERR_HANDSHAKE: rfc6455_status = 41;
/// ERROR event: EOF before the closing handshake completed.
pub const RFC6455_ERR_EOF: rfc6455_status = 42;
/// ERROR event: the caller reported a transport error.
pub const RFC6455_ERR_TRANSPORT: rfc6455_status = 43;
/// ERROR event: the peer did not answer our close frame in time.
pub const RFC6455_ERR_CLOSE_TIMEOUT: rfc6455_status = 44;
/// ERROR event: nothing arrived within the idle timeout.
pub const RFC6455_ERR_IDLE_TIMEOUT: rfc6455_status = 45;
/// ERROR event: the opening handshake did not finish in time.
pub const RFC6455_ERR_HANDSHAKE_TIMEOUT: rfc6455_status = 46;
/// ERROR event: the application closed the connection while CONNECTING.
pub const RFC6455_ERR_CLOSED_BEFORE_OPEN: rfc6455_status = 47;
/// A failure this version of the header has no name for.
pub const RFC6455_ERR_OTHER: rfc6455_status = 99;

/// The name of a status code, as a static NUL-terminated string
/// (`"RFC6455_ERR_CLOSED"`); `"RFC6455_UNKNOWN"` for a value that is none.
/// Never NULL; never freed.
#[unsafe(no_mangle)]
pub extern "C" fn rfc6455_status_str(status: rfc6455_status) -> *const c_char {
    guard!({ name(status).as_ptr() })
}

/// Every status and its name.
pub(crate) const STATUSES: &[(rfc6455_status, &core::ffi::CStr)] = &[
    (RFC6455_OK, c"RFC6455_OK"),
    (RFC6455_DONE, c"RFC6455_DONE"),
    (RFC6455_BUFFER_TOO_SMALL, c"RFC6455_BUFFER_TOO_SMALL"),
    (RFC6455_ERR_NULL_ARGUMENT, c"RFC6455_ERR_NULL_ARGUMENT"),
    (RFC6455_ERR_INVALID_ARGUMENT, c"RFC6455_ERR_INVALID_ARGUMENT"),
    (RFC6455_ERR_INVALID_UTF8, c"RFC6455_ERR_INVALID_UTF8"),
    (RFC6455_PANIC, c"RFC6455_PANIC"),
    (RFC6455_ERR_INVALID_URL, c"RFC6455_ERR_INVALID_URL"),
    (RFC6455_ERR_INVALID_HEADER, c"RFC6455_ERR_INVALID_HEADER"),
    (RFC6455_ERR_INVALID_STATUS, c"RFC6455_ERR_INVALID_STATUS"),
    (RFC6455_ERR_NOT_OPEN, c"RFC6455_ERR_NOT_OPEN"),
    (RFC6455_ERR_CLOSING, c"RFC6455_ERR_CLOSING"),
    (RFC6455_ERR_CLOSED, c"RFC6455_ERR_CLOSED"),
    (RFC6455_ERR_INVALID_CLOSE_CODE, c"RFC6455_ERR_INVALID_CLOSE_CODE"),
    (RFC6455_ERR_REASON_WITHOUT_CODE, c"RFC6455_ERR_REASON_WITHOUT_CODE"),
    (RFC6455_ERR_REASON_TOO_LONG, c"RFC6455_ERR_REASON_TOO_LONG"),
    (RFC6455_ERR_CONTROL_TOO_LONG, c"RFC6455_ERR_CONTROL_TOO_LONG"),
    (RFC6455_ERR_MESSAGE_IN_PROGRESS, c"RFC6455_ERR_MESSAGE_IN_PROGRESS"),
    (RFC6455_ERR_WRONG_ROLE, c"RFC6455_ERR_WRONG_ROLE"),
    (RFC6455_ERR_NO_REQUEST, c"RFC6455_ERR_NO_REQUEST"),
    (RFC6455_ERR_NOT_UPGRADE, c"RFC6455_ERR_NOT_UPGRADE"),
    (RFC6455_ERR_PROTOCOL_NOT_OFFERED, c"RFC6455_ERR_PROTOCOL_NOT_OFFERED"),
    (RFC6455_ERR_NOT_OFFERED, c"RFC6455_ERR_NOT_OFFERED"),
    (RFC6455_ERR_PROTOCOL, c"RFC6455_ERR_PROTOCOL"),
    (RFC6455_ERR_HANDSHAKE, c"RFC6455_ERR_HANDSHAKE"),
    (RFC6455_ERR_EOF, c"RFC6455_ERR_EOF"),
    (RFC6455_ERR_TRANSPORT, c"RFC6455_ERR_TRANSPORT"),
    (RFC6455_ERR_CLOSE_TIMEOUT, c"RFC6455_ERR_CLOSE_TIMEOUT"),
    (RFC6455_ERR_IDLE_TIMEOUT, c"RFC6455_ERR_IDLE_TIMEOUT"),
    (RFC6455_ERR_HANDSHAKE_TIMEOUT, c"RFC6455_ERR_HANDSHAKE_TIMEOUT"),
    (RFC6455_ERR_CLOSED_BEFORE_OPEN, c"RFC6455_ERR_CLOSED_BEFORE_OPEN"),
    (RFC6455_ERR_OTHER, c"RFC6455_ERR_OTHER"),
];

fn name(status: rfc6455_status) -> &'static core::ffi::CStr {
    STATUSES.iter().find(|(s, _)| *s == status).map_or(c"RFC6455_UNKNOWN", |(_, name)| name)
}

/// The status for a call the engine refused.
pub(crate) fn status_of(e: LocalError) -> rfc6455_status {
    match e {
        LocalError::NotOpen => RFC6455_ERR_NOT_OPEN,
        LocalError::Closing => RFC6455_ERR_CLOSING,
        LocalError::Closed => RFC6455_ERR_CLOSED,
        LocalError::InvalidCloseCode(_) => RFC6455_ERR_INVALID_CLOSE_CODE,
        LocalError::ReasonWithoutCode => RFC6455_ERR_REASON_WITHOUT_CODE,
        LocalError::CloseReasonTooLong(_) => RFC6455_ERR_REASON_TOO_LONG,
        LocalError::ControlPayloadTooLong(_) => RFC6455_ERR_CONTROL_TOO_LONG,
        LocalError::MessageInProgress => RFC6455_ERR_MESSAGE_IN_PROGRESS,
        LocalError::WrongRole => RFC6455_ERR_WRONG_ROLE,
        LocalError::NoRequest => RFC6455_ERR_NO_REQUEST,
        LocalError::NotUpgrade => RFC6455_ERR_NOT_UPGRADE,
        LocalError::ProtocolNotOffered => RFC6455_ERR_PROTOCOL_NOT_OFFERED,
        LocalError::InvalidUrl(_) => RFC6455_ERR_INVALID_URL,
        LocalError::InvalidHeader(_) => RFC6455_ERR_INVALID_HEADER,
        LocalError::InvalidStatus(_) => RFC6455_ERR_INVALID_STATUS,
        LocalError::NotOffered(_) => RFC6455_ERR_NOT_OFFERED,
        _ => RFC6455_ERR_OTHER,
    }
}

/// The status an ERROR event carries for why the connection failed.
pub(crate) fn failure(e: &Error) -> rfc6455_status {
    match e {
        Error::Protocol(_) => RFC6455_ERR_PROTOCOL,
        Error::Handshake(_) => RFC6455_ERR_HANDSHAKE,
        Error::UnexpectedEof => RFC6455_ERR_EOF,
        Error::Transport => RFC6455_ERR_TRANSPORT,
        Error::CloseTimeout => RFC6455_ERR_CLOSE_TIMEOUT,
        Error::IdleTimeout => RFC6455_ERR_IDLE_TIMEOUT,
        Error::HandshakeTimeout => RFC6455_ERR_HANDSHAKE_TIMEOUT,
        Error::ClosedBeforeOpen => RFC6455_ERR_CLOSED_BEFORE_OPEN,
        _ => RFC6455_ERR_OTHER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_one_name_and_the_name_is_the_constant() {
        let source = include_str!("status.rs");
        let mut seen = std::collections::HashSet::new();
        for (status, name) in STATUSES {
            assert!(seen.insert(*status), "{status} twice");
            let name = name.to_str().unwrap();
            assert!(
                source.contains(&format!("pub const {name}: rfc6455_status = {status};")),
                "{name} is not the constant {status}"
            );
            // SAFETY: a static NUL-terminated string.
            let got = unsafe { core::ffi::CStr::from_ptr(rfc6455_status_str(*status)) };
            assert_eq!(got.to_str().unwrap(), name);
        }
        let constants = source.lines().filter(|l| l.starts_with("pub const RFC6455_")).count();
        assert_eq!(constants, STATUSES.len(), "a constant without a name in STATUSES");
        // SAFETY: as above.
        let unknown = unsafe { core::ffi::CStr::from_ptr(rfc6455_status_str(7)) };
        assert_eq!(unknown.to_str().unwrap(), "RFC6455_UNKNOWN");
    }
}
