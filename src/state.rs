//! Every state change of a connection, in one table (RFC 6455 §4, §7).
//!
//! `docs/state-machine.md` draws the same table. The connection calls
//! [`next`] for each input and does nothing else to change its phase.

use crate::Role;

/// Where a connection is. Finer than [`ReadyState`]: CLOSING is split by
/// whether we still wait for the peer's close frame or (a client) for the
/// server to close TCP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The opening handshake is under way.
    Connecting,
    /// Data flows both ways.
    Open,
    /// We sent a close frame and wait for the peer's.
    CloseSent,
    /// Client only: both close frames are exchanged; we wait for the server
    /// to close TCP (RFC 6455 §7.1.1).
    AwaitingEof,
    /// Nothing more happens; the transport can be closed.
    Closed,
}

/// What can change the phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    /// The opening handshake succeeded.
    HandshakeDone,
    /// The application called `close`.
    LocalClose,
    /// The peer's close frame arrived.
    PeerClose,
    /// The transport reached EOF, or failed.
    Eof,
    /// The close timer ran out.
    CloseTimeout,
    /// The connection failed: a protocol violation, a failed handshake, an
    /// idle or handshake timeout.
    Fail,
    /// The application ended the connection at once (`terminate`, `reject`,
    /// `close` while connecting).
    Terminate,
}

/// How a transition ends the connection, if it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Still alive.
    None,
    /// Closed after the closing handshake: `was_clean`, the peer's code.
    Clean,
    /// Closed without it: 1006, not clean.
    Abnormal,
}

/// The transition table. `None`: the input changes nothing in this phase.
pub(crate) fn next(role: Role, phase: Phase, input: Input) -> Option<(Phase, Ending)> {
    use Input::*;
    use Phase::*;
    let after_handshake = match role {
        Role::Server => (Closed, Ending::Clean),
        Role::Client => (AwaitingEof, Ending::None),
    };
    Some(match (phase, input) {
        (Connecting, HandshakeDone) => (Open, Ending::None),
        (Open, LocalClose) => (CloseSent, Ending::None),
        (Open | CloseSent, PeerClose) => after_handshake,
        (AwaitingEof, Eof | CloseTimeout | Fail | Terminate) => (Closed, Ending::Clean),
        (Connecting | Open | CloseSent, Eof | Fail | Terminate) => (Closed, Ending::Abnormal),
        (CloseSent, CloseTimeout) => (Closed, Ending::Abnormal),
        _ => return None,
    })
}

/// The browser's `readyState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ReadyState {
    /// 0: the opening handshake is under way.
    Connecting = 0,
    /// 1: open; messages can be sent.
    Open = 1,
    /// 2: the closing handshake is under way.
    Closing = 2,
    /// 3: closed.
    Closed = 3,
}

impl ReadyState {
    /// The number the browser's API uses: 0–3.
    pub fn as_u8(self) -> u8 {
        self as u8
    }
}

impl From<Phase> for ReadyState {
    fn from(phase: Phase) -> Self {
        match phase {
            Phase::Connecting => ReadyState::Connecting,
            Phase::Open => ReadyState::Open,
            Phase::CloseSent | Phase::AwaitingEof => ReadyState::Closing,
            Phase::Closed => ReadyState::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHASES: [Phase; 5] = [Phase::Connecting, Phase::Open, Phase::CloseSent, Phase::AwaitingEof, Phase::Closed];
    const INPUTS: [Input; 7] = [
        Input::HandshakeDone,
        Input::LocalClose,
        Input::PeerClose,
        Input::Eof,
        Input::CloseTimeout,
        Input::Fail,
        Input::Terminate,
    ];

    #[test]
    fn closed_is_final_and_state_numbers_never_go_back() {
        for role in [Role::Client, Role::Server] {
            for phase in PHASES {
                for input in INPUTS {
                    if let Some((to, ending)) = next(role, phase, input) {
                        assert_ne!(phase, Phase::Closed);
                        assert!(ReadyState::from(to).as_u8() >= ReadyState::from(phase).as_u8());
                        assert_eq!(ending != Ending::None, to == Phase::Closed, "{phase:?} {input:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn only_clients_wait_for_eof() {
        assert_eq!(next(Role::Server, Phase::Open, Input::PeerClose), Some((Phase::Closed, Ending::Clean)));
        assert_eq!(next(Role::Client, Phase::CloseSent, Input::PeerClose), Some((Phase::AwaitingEof, Ending::None)));
        assert_eq!(next(Role::Client, Phase::AwaitingEof, Input::Eof), Some((Phase::Closed, Ending::Clean)));
        assert_eq!(next(Role::Client, Phase::CloseSent, Input::CloseTimeout), Some((Phase::Closed, Ending::Abnormal)));
    }
}
