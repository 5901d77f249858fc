//! Where mask keys and handshake nonces come from.
//!
//! The engine draws randomness from nothing else. By default it asks the
//! operating system; a caller can supply its own source (an embedded RNG, or a
//! fixed sequence for deterministic tests).

use alloc::sync::Arc;
use core::fmt;

/// A function filling a buffer with random bytes.
pub type FillFn = dyn Fn(&mut [u8]) + Send + Sync;

/// A source of random bytes for client mask keys (RFC 6455 §5.3) and the
/// `Sec-WebSocket-Key` nonce (§4.1).
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Random {
    /// The operating system's secure generator (`getrandom`).
    #[default]
    Os,
    /// A function that fills the buffer it is given. RFC 6455 §10.3 asks for
    /// keys a peer cannot predict; a fixed source is for tests.
    Custom(Arc<FillFn>),
}

impl Random {
    /// A source calling `f` to fill each buffer.
    pub fn custom(f: impl Fn(&mut [u8]) + Send + Sync + 'static) -> Self {
        Random::Custom(Arc::new(f))
    }

    /// Fills `buf` with random bytes.
    pub(crate) fn fill(&self, buf: &mut [u8]) {
        match self {
            // A failing OS generator is a broken platform; such targets supply `Custom`.
            Random::Os => getrandom::fill(buf).expect("the OS random generator failed; supply Random::Custom"),
            Random::Custom(f) => f(buf),
        }
    }
}

impl fmt::Debug for Random {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Random::Os => f.write_str("Random::Os"),
            Random::Custom(_) => f.write_str("Random::Custom(..)"),
        }
    }
}
