//! A sans-IO WebSocket engine (RFC 6455).
//!
//! [`Connection`] is a state machine: the caller feeds it the bytes it read
//! from its own socket and the current time, and takes back events and the
//! bytes to write. It never does I/O, never reads a clock, and draws
//! randomness only from [`Config::random`]. It covers the opening handshake in
//! both roles, framing and masking, fragmentation, ping/pong, UTF-8
//! validation, the closing handshake with status codes and reasons, and the
//! CONNECTING → OPEN → CLOSING → CLOSED states, reported the way the
//! browser's WebSocket API reports them.
//!
//! ```
//! use std::time::Duration;
//! use rfc6455::{ClientRequest, Config, Connection, Event};
//!
//! let t = Duration::ZERO;
//! let request = ClientRequest::new("ws://127.0.0.1:9001/chat").unwrap();
//! let mut client = Connection::client(t, &request, Config::default()).unwrap();
//! let mut server = Connection::server(t, Config::default());
//! // Wire them together in memory: what one transmits, the other reads
//! // (`handle_bytes` says how much it took: here, everything).
//! let request_bytes = client.poll_transmit().unwrap();
//! assert_eq!(server.handle_bytes(t, &request_bytes), request_bytes.len());
//! assert!(matches!(server.poll_event(), Some(Event::Request(r)) if r.is_upgrade()));
//! server.accept(t, rfc6455::Accept::new()).unwrap();
//! let response_bytes = server.poll_transmit().unwrap();
//! assert_eq!(client.handle_bytes(t, &response_bytes), response_bytes.len());
//! assert!(matches!(client.poll_event(), Some(Event::Open(_))));
//! client.send_text("hello").unwrap();
//! let frame_bytes = client.poll_transmit().unwrap();
//! assert_eq!(server.handle_bytes(t, &frame_bytes), frame_bytes.len());
//! assert!(matches!(server.poll_event(), Some(Event::Open(_))));
//! assert_eq!(server.poll_event(), Some(Event::Text("hello".into())));
//! ```
#![cfg_attr(not(test), no_std)]
// `unsafe` is forbidden in every module but `simd` (AVX2 masking), where each
// block carries a SAFETY comment.
#![deny(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
// `std` gives run-time CPU detection for SIMD masking; `derive(Arbitrary)`
// (fuzz targets only) names `::std`.
#[cfg(any(feature = "std", feature = "fuzzing"))]
extern crate std;

#[cfg(feature = "std")]
#[forbid(unsafe_code)]
pub mod adapter;
#[cfg(feature = "std")]
#[forbid(unsafe_code)]
pub mod blocking;
#[forbid(unsafe_code)]
mod close;
#[forbid(unsafe_code)]
mod config;
#[forbid(unsafe_code)]
mod connection;
#[forbid(unsafe_code)]
mod error;
#[forbid(unsafe_code)]
mod event;
#[forbid(unsafe_code)]
mod extension;
#[forbid(unsafe_code)]
pub mod frame;
#[doc(hidden)]
#[forbid(unsafe_code)]
pub mod fuzzing;
#[forbid(unsafe_code)]
mod handshake;
#[cfg(feature = "http")]
#[forbid(unsafe_code)]
pub mod http;
#[forbid(unsafe_code)]
mod local_error;
#[forbid(unsafe_code)]
mod mask;
#[forbid(unsafe_code)]
mod message;
#[forbid(unsafe_code)]
mod payload;
#[forbid(unsafe_code)]
mod prepared;
#[forbid(unsafe_code)]
mod random;
#[forbid(unsafe_code)]
mod role;
mod simd;
#[forbid(unsafe_code)]
mod state;
#[cfg(feature = "tokio")]
#[forbid(unsafe_code)]
pub mod tokio;
#[forbid(unsafe_code)]
mod utf8;

pub use close::{CloseCode, CloseCodeClass, CloseEvent, MAX_REASON_LEN, Registered, truncate_reason};
pub use config::{Config, ReceiveMode};
pub use connection::{Connection, Fragment};
pub use error::{Error, ProtocolError};
pub use event::{Event, MessageKind};
pub use frame::FrameError;
pub use handshake::{Accept, ClientRequest, HandshakeError, Headers, Opened, Request, accept_key};
pub use local_error::LocalError;
pub use payload::{Payload, Text};
pub use prepared::Prepared;
pub use random::{FillFn, Random};
pub use role::Role;
pub use state::ReadyState;
pub use utf8::Utf8Error;

/// The README's code, compiled as a doctest so it cannot rot (its tokio
/// server is `examples/readme_tokio.rs`, built by the tests member, which has
/// tokio's runtime).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
