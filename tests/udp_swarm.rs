//! Real nodes on 127.0.0.1: a loopback swarm of 50 kadlab nodes speaking
//! KRPC, every strategy finding the true k closest, and put/get of an
//! immutable item across nodes.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use kadlab::contact::Contact;
use kadlab::driver::DriverEvent;
use kadlab::id::NodeId;
use kadlab::lookup::{LookupMode, StrategyName};
use kadlab::node::{Node, NodeConfig, Swarm};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const K: usize = 20;

fn template(seed: u64) -> NodeConfig {
    NodeConfig {
        seed: Some(seed),
        request_timeout: Duration::from_millis(500),
        ..NodeConfig::default()
    }
}

async fn swarm(n: usize, seed: u64) -> Swarm {
    Swarm::start(
        n,
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0),
        &template(seed),
    )
    .await
    .expect("swarm starts on 127.0.0.1")
}

/// The k closest nodes of the swarm to `target`, other than `origin`.
fn truth(all: &[Contact], origin: &Contact, target: &NodeId) -> Vec<NodeId> {
    let mut ids: Vec<NodeId> = all.iter().filter(|c| c != &origin).map(|c| c.id).collect();
    ids.sort_by_key(|id| id.distance(target));
    ids.truncate(K);
    ids
}

/// With no faults, `delta`, `query-rest` and `kademlia` return exactly the
/// true 20 closest. `k-active` follows its seed: it stops as soon as k
/// nodes have answered, dropping requests still in flight, so a closer node
/// whose answer was on its way can be missed. For it the test checks that
/// rule exactly: the result is the k closest nodes that answered, and every
/// miss is a request that was still in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_strategy_finds_the_true_k_closest_in_a_loopback_swarm() {
    let swarm = swarm(50, 7).await;
    let all = swarm.contacts();
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let lookups = 10;
    for strategy in StrategyName::ALL {
        let mut misses = 0;
        for i in 0..lookups {
            let origin = &swarm.nodes[(i * 11) % swarm.nodes.len()];
            let target = NodeId::random(&mut rng);
            let config = origin.config().lookup.with_strategy(strategy);
            let mut events: Vec<DriverEvent> = Vec::new();
            let outcome = origin
                .lookup_with(&config, target, LookupMode::FindNode, &mut events)
                .await;
            let found: Vec<NodeId> = outcome.result.iter().map(|c| c.id).collect();
            let truth = truth(&all, &origin.contact(), &target);
            let context = format!(
                "{} from node {} to {target}: ended {}, {:?}",
                strategy.as_str(),
                i * 11,
                outcome.reason,
                outcome.stats
            );
            assert_eq!(outcome.stats.failures, 0, "{context}");
            if strategy != StrategyName::KActive {
                assert_eq!(found, truth, "{context}");
                continue;
            }
            let mut answered: Vec<NodeId> = events
                .iter()
                .filter_map(|e| match e {
                    DriverEvent::Replied(_, from, _) => Some(from.id),
                    _ => None,
                })
                .collect();
            answered.sort_by_key(|id| id.distance(&target));
            answered.truncate(K);
            assert_eq!(found, answered, "{context}");
            let missed = truth.iter().filter(|id| !found.contains(id)).count();
            let in_flight = outcome.stats.requests - outcome.stats.responses;
            assert!(missed <= in_flight as usize, "{context}");
            misses += missed;
        }
        let recall = 1.0 - misses as f64 / (lookups * K) as f64;
        assert!(recall >= 0.95, "{}: recall {recall}", strategy.as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_on_one_node_get_from_another() {
    let swarm = swarm(30, 21).await;
    let value = b"Hello World!".to_vec();
    let put = swarm.nodes[3]
        .put(value.clone())
        .await
        .expect("small value");
    assert_eq!(
        put.target.to_string(),
        "e5f96f6f38320f0f33959cb4d3d656452117aadb"
    );
    assert_eq!(put.stored_at.len(), K, "failed: {:?}", put.failed);
    let got = swarm.nodes[17].get(put.target).await;
    assert_eq!(got.value, Some(value));
    let missing = swarm.nodes[17]
        .get(NodeId::of_immutable_value(b"never stored"))
        .await;
    assert_eq!(missing.value, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_over_1000_bytes_is_refused_before_anything_is_sent() {
    let node = Node::bind(template(1)).await.expect("binds");
    let error = node.put(vec![b'x'; 1001]).await.expect_err("too large");
    assert!(error.to_string().contains("at most 1000"), "{error}");
    assert_eq!(node.stats().rpc.sent, 0);
}
