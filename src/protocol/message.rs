//! Requests and responses of the DHT protocol.

use crate::contact::Contact;
use crate::id::NodeId;

/// A request a node can send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Is the node alive? (KRPC `ping`)
    Ping,
    /// The node's k closest contacts to `target`. (KRPC `find_node`)
    FindNode {
        /// The key looked up.
        target: NodeId,
    },
    /// The value stored under `target`, or the closest contacts.
    /// (BEP 44 `get`, immutable items)
    GetValue {
        /// The key looked up.
        target: NodeId,
    },
    /// Store an immutable item; its key is the SHA-1 of the bencoded value.
    /// (BEP 44 `put`)
    PutValue {
        /// The value.
        value: Vec<u8>,
        /// The write token handed out by an earlier `get`.
        token: Vec<u8>,
    },
}

/// A response to a [`Request`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    /// The answering node's id.
    pub id: NodeId,
    /// Closer contacts (empty for `ping` and `put`).
    pub contacts: Vec<Contact>,
    /// The value, for a `get` that found one.
    pub value: Option<Vec<u8>>,
    /// A write token, for `get`.
    pub token: Option<Vec<u8>>,
}
