//! A contact: what a node knows about another node.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};

use crate::id::NodeId;

/// A node's id and the UDP address it answers on.
///
/// The address is IPv4 only: BEP 5's compact node info (26 bytes: id, IPv4,
/// port) is what Mainline peers exchange, and a fixed 26-byte contact keeps
/// 10⁵ simulated routing tables small. IPv6 (`nodes6`) may come later as a
/// separate contact kind.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Contact {
    /// The node's id.
    pub id: NodeId,
    /// Where the node receives KRPC datagrams.
    pub addr: SocketAddrV4,
}

impl Contact {
    /// A contact from its parts.
    pub fn new(id: NodeId, addr: SocketAddrV4) -> Contact {
        Contact { id, addr }
    }

    /// A contact with a made-up loopback address derived from `index`.
    ///
    /// Simulated nodes and scenario tests need distinct addresses but never
    /// send to them; using 127.0.0.0/8 guarantees a stray datagram could not
    /// leave the machine.
    pub fn simulated(id: NodeId, index: u32) -> Contact {
        let [a, b, c, d] = index.to_be_bytes();
        let ip = Ipv4Addr::new(127, b, c, d);
        Contact::new(id, SocketAddrV4::new(ip, 10_000 + u16::from(a)))
    }

    /// The `index` a [`Contact::simulated`] address was made from, if the
    /// address has that form.
    pub fn simulated_index(&self) -> Option<u32> {
        let [_, b, c, d] = self.addr.ip().octets();
        let a = u8::try_from(self.addr.port().checked_sub(10_000)?).ok()?;
        Some(u32::from_be_bytes([a, b, c, d]))
    }
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}@{}", self.id, self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_addresses_are_loopback_and_give_back_their_index() {
        for index in [0u32, 1, 255, 256, 65_535, 1 << 24, u32::MAX] {
            let c = Contact::simulated(NodeId::ZERO, index);
            assert!(c.addr.ip().is_loopback());
            assert_eq!(c.simulated_index(), Some(index));
        }
        let other = Contact::new(NodeId::ZERO, "127.0.0.1:80".parse().unwrap());
        assert_eq!(other.simulated_index(), None);
    }
}
