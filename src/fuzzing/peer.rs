//! The engine in the opposite role, which reads everything the one under
//! test writes.

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use super::script::{Settings, client_request};
use crate::close::CloseCode;
use crate::error::Error;
use crate::event::{Event, MessageKind};
use crate::handshake::HandshakeError;
use crate::state::ReadyState;
use crate::{CloseEvent, Connection, Role};

/// An engine in the opposite role, reading everything the one under test writes.
pub(super) struct Peer {
    /// None until a server under test writes its first bytes: the client
    /// reading them needs the nonce of the request it answers.
    conn: Option<Connection>,
    /// The data messages read.
    messages: Vec<(MessageKind, Vec<u8>)>,
    /// The status of a refused handshake.
    refused: Option<u16>,
    close: Option<CloseEvent>,
}

impl Peer {
    fn config(nonce: [u8; 16]) -> crate::Config {
        let settings =
            Settings { max_handshake_bytes: u16::MAX, max_headers: 255, handshake_timeout: None, ..Settings::roomy() };
        settings.config(nonce).max_message_size(1 << 24)
    }

    fn new(conn: Option<Connection>) -> Self {
        Peer { conn, messages: Vec::new(), refused: None, close: None }
    }

    pub(super) fn open(role: Role) -> Self {
        Self::new(Some(Connection::open(Duration::ZERO, role, None, Self::config([0; 16]))))
    }

    pub(super) fn server() -> Self {
        Self::new(Some(Connection::server(Duration::ZERO, Self::config([0; 16]))))
    }

    pub(super) fn client() -> Self {
        Self::new(None)
    }

    /// Reads bytes the engine under test wrote; `nonce` and `protocol` are
    /// those of the request a server under test answers.
    pub(super) fn read(&mut self, bytes: &[u8], nonce: Option<[u8; 16]>, protocol: Option<&str>) {
        let t = Duration::ZERO;
        let conn = self.conn.get_or_insert_with(|| {
            let mut request = client_request();
            if let Some(p) = protocol {
                request = crate::ClientRequest::new("ws://server.example.com/chat").expect("valid").protocol(p);
            }
            let config = Self::config(nonce.unwrap_or([0; 16]));
            let mut client = Connection::client(t, &request, config).expect("the peer's request is valid");
            while client.poll_transmit().is_some() {}
            client
        });
        let state = conn.ready_state();
        // After its close frame the engine may still answer pings (RFC 6455
        // §5.5.2), and nothing else.
        assert!(
            matches!(state, ReadyState::Connecting | ReadyState::Open) || only_pongs(bytes),
            "{} bytes written after the close frame or a refusal ({state:?})",
            bytes.len()
        );
        let mut at = 0;
        let mut events = Vec::new();
        while at < bytes.len() {
            at += conn.handle_bytes(t, &bytes[at..]);
            events.extend(core::iter::from_fn(|| conn.poll_event()));
        }
        for event in events {
            match event {
                Event::Request(r) => {
                    assert!(r.is_upgrade(), "the engine's request is not an upgrade: {r:?}");
                    conn.accept(t, crate::Accept::new()).expect("an upgrade can be accepted");
                }
                Event::Open(_) | Event::Ping(_) | Event::Pong(_) => {}
                Event::Text(s) => self.messages.push((MessageKind::Text, Vec::from(s.into_payload()))),
                Event::Binary(b) => self.messages.push((MessageKind::Binary, b.to_vec())),
                Event::Error(Error::Handshake(HandshakeError::Status { status, .. })) if status != 101 => {
                    self.refused = Some(status);
                }
                Event::Closed(c) => {
                    assert!(c.was_clean || self.refused.is_some(), "the peer closed: {c:?}");
                    self.close = Some(c);
                }
                other => panic!("the peer could not read what the engine wrote: {other:?}"),
            }
        }
        while conn.poll_transmit().is_some() {}
    }

    /// The peer read exactly the messages sent, and the close the application started.
    pub(super) fn finish(&mut self, sends: &[(MessageKind, Vec<u8>)], app_close: Option<&(CloseCode, String)>) {
        assert!(self.messages == sends, "the peer read {} messages of {} sent", self.messages.len(), sends.len());
        if let Some(conn) = self.conn.as_mut().filter(|c| c.ready_state() == ReadyState::Closing) {
            // A client peer that read the close frame waits for the server's EOF.
            conn.handle_eof(Duration::ZERO);
            while let Some(event) = conn.poll_event() {
                if let Event::Closed(c) = event {
                    self.close = Some(c);
                }
            }
        }
        if let Some((code, reason)) = app_close {
            let close = self.close.as_ref().expect("the peer read the close frame");
            assert_eq!((close.code, close.reason.as_str()), (*code, reason.as_str()));
            assert!(close.was_clean);
        }
    }
}

/// Whether `bytes` are whole pong frames and nothing else.
fn only_pongs(mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        let Ok(Some((header, n))) = crate::frame::FrameHeader::decode(bytes) else { return false };
        let end = n + header.len as usize;
        if header.opcode != crate::frame::OpCode::Pong || end > bytes.len() {
            return false;
        }
        bytes = &bytes[end..];
    }
    true
}
