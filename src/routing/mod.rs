//! The routing table shared by every lookup strategy.
//!
//! One table per node, updated by the Kademlia rule on every message heard.
//! It is a plain data structure: it never sends a ping itself but returns
//! [`UpdateOutcome::PingOldest`] so the driver (UDP or simulated) can.

mod book;
mod bucket;
mod table;

pub use book::Directory;
pub use bucket::Entry;
pub use table::{
    FailureOutcome, Heard, NodeState, RoutingConfig, RoutingTable, UpdateOutcome, BEP5_FRESHNESS,
};
