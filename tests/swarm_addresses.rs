//! `SwarmAddresses::IpPerNode`: one loopback address per node, so that
//! rules keyed on the IP see one host per node. With a per-IP limit that a
//! whole swarm on 127.0.0.1 exceeds while it joins, node 0 (everyone's
//! bootstrap node) refuses queries; with an address per node it refuses
//! none, and every node has an IP of its own.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use kadlab::node::{NodeConfig, Swarm, SwarmAddresses};

const NODES: usize = 16;

/// A per-IP allowance that one node's join stays under, and sixteen
/// nodes' joins through one node do not.
fn template() -> NodeConfig {
    let mut config = NodeConfig {
        seed: Some(5),
        request_timeout: Duration::from_millis(500),
        ..NodeConfig::default()
    };
    config.server.rate.per_ip_per_sec = 5;
    config.server.rate.ip_burst = 40;
    config
}

async fn refused_by_node_0(addresses: SwarmAddresses) -> (u64, usize) {
    let swarm = Swarm::start_at(
        NODES,
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0),
        &template(),
        addresses,
    )
    .await
    .expect("the swarm starts on loopback");
    let ips: HashSet<Ipv4Addr> = swarm.contacts().iter().map(|c| *c.addr.ip()).collect();
    (swarm.nodes[0].stats().server.rate_limited, ips.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_per_node_keeps_per_ip_limits_per_host() {
    let (shared, shared_ips) = refused_by_node_0(SwarmAddresses::OneIp).await;
    let (apart, apart_ips) = refused_by_node_0(SwarmAddresses::IpPerNode).await;
    eprintln!("node 0 refused {shared} queries on one IP, {apart} with an IP per node");
    assert_eq!(shared_ips, 1);
    assert_eq!(apart_ips, NODES);
    assert!(
        shared > 0,
        "one IP for {NODES} nodes stayed under the per-IP limit"
    );
    assert_eq!(apart, 0, "an IP per node was still limited");
}
