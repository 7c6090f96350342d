//! Transports: how a request reaches a node and its answer comes back.
//!
//! The lookup driver talks to a [`Transport`] and nothing else, so the same
//! driver runs over real UDP sockets (KRPC) and over the simulated network.

pub mod udp;

use async_trait::async_trait;

use crate::contact::Contact;
use crate::protocol::{Request, Response};

/// Why a request got no usable answer. Every variant reaches the lookup as a
/// failure; they are kept apart for statistics.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No valid reply before the request's deadline.
    #[error("request timed out")]
    Timeout,
    /// The datagram could not be sent (no route, closed socket, …).
    #[error("node unreachable: {0}")]
    Unreachable(String),
    /// The node answered with a KRPC error.
    #[error("node answered with error {code}: {message}")]
    Remote {
        /// KRPC error code (201 generic, 202 server, 203 protocol, 204 method).
        code: i64,
        /// The node's message.
        message: String,
    },
    /// The reply did not fit the request (wrong kind, undecodable fields).
    #[error("bad response: {0}")]
    BadResponse(String),
}

/// Sends one request and waits for its answer.
///
/// Implementations enforce their own per-request timeout and must always
/// return: a transport that can hang would let a lookup hang.
#[async_trait]
pub trait Transport: Send + Sync {
    /// Send `request` to `to` and wait for the answer.
    async fn request(&self, to: Contact, request: Request) -> Result<Response, TransportError>;
}
