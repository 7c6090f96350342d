//! Messages exchanged between nodes, independent of their wire encoding.
//!
//! These are what a [`Transport`](crate::transport::Transport) carries; the
//! KRPC (BEP 5 / BEP 44) codec maps them to and from bencoded datagrams.

mod message;

pub use message::{Request, Response};
