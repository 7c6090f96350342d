//! Messages exchanged between nodes, and how a node answers them.
//!
//! [`Request`] and [`Response`] are what a
//! [`Transport`](crate::transport::Transport) carries, independent of the
//! wire; the KRPC codec in [`crate::wire`] maps them to and from bencoded
//! datagrams. [`Server`] is the sans-IO request handler of a real node,
//! with its write tokens, bounded storage and rate limits (per source
//! address and per IP).

mod message;
pub mod mutable;
mod rate_limit;
mod server;
mod storage;
mod tokens;

pub use message::{Request, Response};
pub use mutable::MutableItem;
pub use rate_limit::{RateLimiter, RateLimits};
pub use server::{
    Handled, Server, ServerConfig, ServerStats, DEFAULT_EVICTION_PING_AFTER, ERROR_CAS_MISMATCH,
    ERROR_INVALID_SIGNATURE, ERROR_SALT_TOO_BIG, ERROR_SEQ_TOO_LOW, ERROR_VALUE_TOO_BIG,
};
pub use storage::{
    MutableRefusal, PutOutcome, Storage, StorageLimits, StorageStats, MAX_VALUE_LEN,
};
pub use tokens::{TokenIssuer, TOKEN_LEN, TOKEN_ROTATION};
