//! Many nodes in one process, each on its own loopback socket: for tests,
//! benchmarks and for users who want a network to try commands against.

use std::net::SocketAddrV4;

use super::{Node, NodeConfig};
use crate::contact::Contact;
use crate::lookup::LookupMode;

/// Nodes joined in parallel while a swarm starts: enough to start 50 nodes
/// in well under a second, few enough that node 0 is not flooded.
const JOIN_BATCH: usize = 8;

/// A set of running nodes that bootstrapped from the first one.
pub struct Swarm {
    /// The nodes; node 0 is everyone's bootstrap node.
    pub nodes: Vec<Node>,
}

impl Swarm {
    /// Start `n` nodes on `base`'s address, at ports `base.port()`,
    /// `base.port() + 1`, … (every node picks a free port if `base.port()`
    /// is 0). Each node gets `template` with its own seed (`seed + i`), joins
    /// through node 0, and once all have joined each looks up its own id
    /// again, so the early nodes learn about the late ones.
    pub async fn start(
        n: usize,
        base: SocketAddrV4,
        template: &NodeConfig,
    ) -> std::io::Result<Swarm> {
        let mut nodes = Vec::with_capacity(n);
        for i in 0..n {
            let port = match base.port() {
                0 => 0,
                p => u16::try_from(usize::from(p) + i).map_err(|_| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!(
                            "ports {p}..{} do not fit in 65535; use a lower --base-port",
                            usize::from(p) + n
                        ),
                    )
                })?,
            };
            let config = NodeConfig {
                bind: SocketAddrV4::new(*base.ip(), port),
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
