//! Every state change of a connection, and what each state allows, as data
//! (RFC 6455 §4, §5.5, §7).
//!
//! Two tables live here and nowhere else:
//!
//! - [`next`]: for each phase and input, the next phase, how the change ends
//!   the connection, and whether it reports an error;
//! - [`Phase::allows`]: for each phase, whether input is read, whether data
//!   and control frames may be sent, and which timers run.
//!
//! `docs/state-machine.md` draws the same tables. The connection calls
//! [`next`] for each input and changes its phase nowhere else; what a phase
//! permits (reading, sending, answering pings, timers) it asks of
//! [`Phase::allows`].

use crate::role::Role;

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
    /// The application ended the connection at once (`terminate`, `reject`).
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

/// One row of the transition table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Transition {
    pub(crate) to: Phase,
    pub(crate) ending: Ending,
    /// Whether the change reports why, as `Event::Error` before the close
    /// event: a failure the application did not ask for.
    pub(crate) reports_error: bool,
}

/// The transition table. `None`: the input changes nothing in this phase.
pub(crate) fn next(role: Role, phase: Phase, input: Input) -> Option<Transition> {
    use Input::*;
    use Phase::*;
    let row = |to, ending, reports_error| Some(Transition { to, ending, reports_error });
    match (phase, input) {
        (Connecting, HandshakeDone) => row(Open, Ending::None, false),
        // The browser's close() while CONNECTING: `error`, then `close` (1006).
        (Connecting, LocalClose) => row(Closed, Ending::Abnormal, true),
        (Open, LocalClose) => row(CloseSent, Ending::None, false),
        (Open | CloseSent, PeerClose) => match role {
            Role::Server => row(Closed, Ending::Clean, false),
            Role::Client => row(AwaitingEof, Ending::None, false),
        },
        (AwaitingEof, Eof | CloseTimeout | Fail | Terminate) => row(Closed, Ending::Clean, false),
        (Connecting | Open | CloseSent, Eof | Fail) => row(Closed, Ending::Abnormal, true),
        (CloseSent, CloseTimeout) => row(Closed, Ending::Abnormal, true),
        (Connecting | Open | CloseSent, Terminate) => row(Closed, Ending::Abnormal, false),
        _ => None,
    }
}

/// The connection's timers, one slot each in its timer table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// The opening handshake must finish by then (`Config::handshake_timeout`).
    Handshake,
    /// The peer's close frame, or (a client) the server's EOF, must come by
    /// then (`Config::close_timeout`).
    Close,
    /// A keepalive ping is due (`Config::keepalive_interval`).
    Keepalive,
    /// Nothing received for too long (`Config::idle_timeout`).
    Idle,
}

impl Timer {
    /// Every timer, in the order of the table.
    pub(crate) const ALL: [Timer; 4] = [Timer::Handshake, Timer::Close, Timer::Keepalive, Timer::Idle];
}

/// What the engine reads in a phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reads {
    /// HTTP bytes of the opening handshake.
    Handshake,
    /// Frames.
    Frames,
    /// Nothing: input is ignored.
    Nothing,
}

/// What a phase allows and arms: the second table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Allows {
    pub(crate) reads: Reads,
    /// Data messages and pings may be sent (RFC 6455 §5.5.1: none after our close frame).
    pub(crate) send_data: bool,
    /// A ping is answered (RFC 6455 §5.5.2: unless the peer's close frame arrived).
    pub(crate) answer_ping: bool,
    /// A close frame may be sent: ours has not gone out.
    pub(crate) send_close: bool,
    /// The timers that run; the others are stopped on entry.
    pub(crate) timers: &'static [Timer],
}

impl Phase {
    /// The table of what each phase allows.
    pub(crate) const fn allows(self) -> Allows {
        const fn row(reads: Reads, data: bool, pong: bool, close: bool, timers: &'static [Timer]) -> Allows {
            Allows { reads, send_data: data, answer_ping: pong, send_close: close, timers }
        }
        match self {
            Phase::Connecting => row(Reads::Handshake, false, false, false, &[Timer::Handshake]),
            Phase::Open => row(Reads::Frames, true, true, true, &[Timer::Keepalive, Timer::Idle]),
            Phase::CloseSent => row(Reads::Frames, false, true, false, &[Timer::Close]),
            Phase::AwaitingEof => row(Reads::Nothing, false, false, false, &[Timer::Close]),
            Phase::Closed => row(Reads::Nothing, false, false, false, &[]),
        }
    }

    /// The timer armed when the phase is entered, if any (the keepalive and
    /// idle timers are armed by input instead).
    pub(crate) const fn entry_timer(self) -> Option<Timer> {
        match self {
            Phase::Connecting => Some(Timer::Handshake),
            Phase::CloseSent | Phase::AwaitingEof => Some(Timer::Close),
            Phase::Open | Phase::Closed => None,
        }
    }
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
                    if let Some(t) = next(role, phase, input) {
                        assert_ne!(phase, Phase::Closed);
                        assert!(ReadyState::from(t.to).as_u8() >= ReadyState::from(phase).as_u8());
                        assert_eq!(t.ending != Ending::None, t.to == Phase::Closed, "{phase:?} {input:?}");
                        assert!(!t.reports_error || t.ending == Ending::Abnormal, "{phase:?} {input:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn only_clients_wait_for_eof() {
        let t = |role, phase, input| next(role, phase, input).map(|t| (t.to, t.ending));
        assert_eq!(t(Role::Server, Phase::Open, Input::PeerClose), Some((Phase::Closed, Ending::Clean)));
        assert_eq!(t(Role::Client, Phase::CloseSent, Input::PeerClose), Some((Phase::AwaitingEof, Ending::None)));
        assert_eq!(t(Role::Client, Phase::AwaitingEof, Input::Eof), Some((Phase::Closed, Ending::Clean)));
        assert_eq!(t(Role::Client, Phase::CloseSent, Input::CloseTimeout), Some((Phase::Closed, Ending::Abnormal)));
    }

    #[test]
    fn what_phases_allow() {
        // RFC 6455 §5.5.2: a ping is answered after our close frame, not after the peer's.
        assert!(Phase::CloseSent.allows().answer_ping && !Phase::CloseSent.allows().send_data);
        assert!(!Phase::AwaitingEof.allows().answer_ping);
        for phase in PHASES {
            let a = phase.allows();
            assert!(!a.send_data || a.answer_ping);
            if let Some(timer) = phase.entry_timer() {
                assert!(a.timers.contains(&timer), "{phase:?}");
            }
        }
        assert!(Phase::Closed.allows().timers.is_empty());
    }
}
