//! A node told its public address (`NodeConfig::external_ip`, the
//! `[node] external_ip` key) picks a BEP 42 id for it, and its server
//! counts each querier's id as verified, unverified or exempt. A node not
//! told learns its address from the `ip` field of the answers it gets.

use std::net::Ipv4Addr;

use kadlab::bep42;
use kadlab::node::{Node, NodeConfig};

#[tokio::test]
async fn a_node_that_knows_its_public_ip_takes_a_bep42_id_and_checks_its_queriers() {
    let public = Ipv4Addr::new(124, 31, 75, 21);
    let node = Node::bind(NodeConfig {
        external_ip: Some(public),
        seed: Some(1),
        ..NodeConfig::default()
    })
    .await
    .expect("binds on 127.0.0.1");
    assert!(bep42::is_valid(&node.contact().id, public));
    let plain = Node::bind(NodeConfig {
        seed: Some(1),
        ..NodeConfig::default()
    })
    .await
    .expect("binds on 127.0.0.1");
    assert!(!bep42::is_valid(&plain.contact().id, public));
    // plain asks node over loopback: exempt, and counted as such.
    let _ = plain.bootstrap(&[node.contact().addr]).await;
    let stats = node.stats().server;
    assert!(stats.bep42_exempt > 0, "{stats:?}");
    assert_eq!((stats.bep42_verified, stats.bep42_unverified), (0, 0));
    // Every answer told plain its address (BEP 42's `ip` field); enough of
    // them agree for plain to believe it. node was told its own.
    assert!(plain.stats().rpc.answered >= 2);
    assert_eq!(plain.external_ip(), Some(Ipv4Addr::LOCALHOST));
    assert_eq!(node.external_ip(), Some(public));
}
