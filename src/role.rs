//! Which end of a connection this is: the one fact about the connection that
//! every layer needs (masking, the closing handshake), kept apart from them all.

/// Which end of the connection this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Masks what it sends; expects unmasked frames.
    Client,
    /// Never masks; expects masked frames.
    Server,
}
