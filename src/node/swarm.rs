//! Many nodes in one process, each on its own loopback socket: for tests,
//! benchmarks and for users who want a network to try commands against.
//! The nodes share one IP (ports apart) or take one loopback IP each
//! ([`SwarmAddresses`]), for software that treats an IP as a host.

use std::net::{Ipv4Addr, SocketAddrV4};

use super::{Node, NodeConfig};
use crate::contact::Contact;
use crate::lookup::LookupMode;

/// Nodes joined in parallel while a swarm starts: enough to start 50 nodes
/// in well under a second, few enough that node 0 is not flooded.
const JOIN_BATCH: usize = 8;

/// Where a swarm's nodes listen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SwarmAddresses {
    /// Every node on the base address's IP, node i at port base + i: the
    /// simplest, but every per-IP rule (kadlab's own rate limit,
    /// libtorrent's DoS blocker) then sees the whole swarm as one host.
    #[default]
    OneIp,
    /// Node i on its own loopback IP in a /24 of its own, 127.0.(i+1).2
    /// then 127.1.0.2 and on (Linux routes all of 127.0.0.0/8 to `lo`, so
    /// no set-up is needed), every node at the base port: per-IP rules see
    /// one host per node, as between real hosts, and so do rules that
    /// allow one node per /24 (libtorrent's `dht_restrict_routing_ips`).
    IpPerNode,
}

/// Most nodes [`SwarmAddresses::IpPerNode`] can place: one per /24 of
/// 127.0.0.0/8 but the first, 127.0.0.0/24, which stays the user's own.
pub const MAX_IP_PER_NODE: usize = (1 << 16) - 1;

impl SwarmAddresses {
    /// Node `i`'s address of a swarm of `n` based at `base`.
    fn address(self, base: SocketAddrV4, i: usize, n: usize) -> std::io::Result<SocketAddrV4> {
        let refuse = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, what);
        match self {
            SwarmAddresses::OneIp => {
                let port = match base.port() {
                    0 => 0,
                    p => u16::try_from(usize::from(p) + i).map_err(|_| {
                        refuse(format!(
                            "ports {p}..{} do not fit in 65535; use a lower --base-port",
                            usize::from(p) + n
                        ))
                    })?,
                };
                Ok(SocketAddrV4::new(*base.ip(), port))
            }
            SwarmAddresses::IpPerNode => {
                if n > MAX_IP_PER_NODE {
                    return Err(refuse(format!(
                        "{n} nodes do not fit in one /24 each of 127.0.0.0/8; use at most {MAX_IP_PER_NODE}"
                    )));
                }
                let subnet = (i + 1) as u32;
                let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 0, 0, 2)) + (subnet << 8));
                Ok(SocketAddrV4::new(ip, base.port()))
            }
        }
    }
}

/// A set of running nodes that bootstrapped from the first one.
pub struct Swarm {
    /// The nodes; node 0 is everyone's bootstrap node.
    pub nodes: Vec<Node>,
}

impl Swarm {
    /// Start `n` nodes on `base`'s address, at ports `base.port()`,
    /// `base.port() + 1`, … (every node picks a free port if `base.port()`
    /// is 0): [`Swarm::start_at`] with [`SwarmAddresses::OneIp`].
    pub async fn start(
        n: usize,
        base: SocketAddrV4,
        template: &NodeConfig,
    ) -> std::io::Result<Swarm> {
        Swarm::start_at(n, base, template, SwarmAddresses::OneIp).await
    }

    /// Start `n` nodes placed by `addresses` from `base`. Each node gets
    /// `template` with its own seed (`seed + i`), joins through node 0, and
    /// once all have joined each looks up its own id again, so the early
    /// nodes learn about the late ones.
    pub async fn start_at(
        n: usize,
        base: SocketAddrV4,
        template: &NodeConfig,
        addresses: SwarmAddresses,
    ) -> std::io::Result<Swarm> {
        let mut nodes = Vec::with_capacity(n);
        for i in 0..n {
            let config = NodeConfig {
                bind: addresses.address(base, i, n)?,
                seed: template.seed.map(|s| s.wrapping_add(i as u64)),
                ..template.clone()
            };
            nodes.push(Node::bind(config).await?);
        }
        let swarm = Swarm { nodes };
        if let Some((first, rest)) = swarm.nodes.split_first() {
            let bootstrap = [first.contact().addr];
            for batch in rest.chunks(JOIN_BATCH) {
                futures_util::future::join_all(batch.iter().map(|node| node.bootstrap(&bootstrap)))
                    .await;
            }
            let again = swarm
                .nodes
                .iter()
                .map(|node| node.lookup(node.contact().id, LookupMode::FindNode));
            futures_util::future::join_all(again).await;
        }
        Ok(swarm)
    }

    /// Every node's id and address.
    pub fn contacts(&self) -> Vec<Contact> {
        self.nodes.iter().map(Node::contact).collect()
    }
}
