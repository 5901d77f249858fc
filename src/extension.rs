//! The extension stage (RFC 6455 §9): everything between the frame decoder
//! and the message assembler that an extension may change.
//!
//! It owns the RSV bits (§5.2): a bit may be set only when a negotiated
//! extension defines it. The engine negotiates none yet, so every frame must
//! have all three clear and its payload passes through unchanged. This is
//! where permessage-deflate (RFC 7692) will claim RSV1 and inflate payloads.

use core::fmt;

/// A frame that breaks the rules of the negotiated extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExtensionError {
    /// RSV1, RSV2 or RSV3 set without an extension that defines them. §5.2
    ReservedBits,
}

impl fmt::Display for ExtensionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtensionError::ReservedBits => f.write_str("reserved bits set"),
        }
    }
}

/// The extensions in use on one connection: none.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Extensions;

impl Extensions {
    /// Checks a frame's RSV bits when its header arrives. `Ok(true)`: the
    /// payload is delivered as it arrives, so the length the header announces
    /// is the length the message grows by (the assembler may check its size
    /// limit before any payload is buffered).
    #[inline(always)]
    pub(crate) fn check(&self, rsv: u8) -> Result<bool, ExtensionError> {
        if rsv != 0 {
            return Err(ExtensionError::ReservedBits);
        }
        Ok(true)
    }
}
