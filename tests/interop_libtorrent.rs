//! Real libtorrent (2.0, through the distribution's Python bindings, which
//! CI installs) against a kadlab swarm on loopback, twice: with every node
//! on 127.0.0.1 (libtorrent's one-node-per-IP rules and DoS blocker lifted,
//! as no real network would need), and with one loopback address per node
//! (`SwarmAddresses::IpPerNode`) and libtorrent's defaults. Each time
//! libtorrent joins, gets the immutable item a kadlab node stored, and
//! stores its own, answered by every node it asks; kadlab then gets that.
//! Then the same both ways for peers: libtorrent's `get_peers` finds the
//! port a kadlab node announced, and kadlab's finds libtorrent's announce;
//! and for BEP 44 mutable items: libtorrent reads and verifies kadlab's,
//! and stores its own on every node it asks, which kadlab reads and
//! verifies.
//! The driver is `tests/interop/libtorrent_peer.py`.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::Command;
use std::time::Duration;

use kadlab::id::hex;
use kadlab::id::NodeId;
use kadlab::node::{NodeConfig, Swarm, SwarmAddresses};
use kadlab::protocol::mutable::public_key;

const NODES: usize = 12;
/// The Python with the distribution's libtorrent bindings (a pyenv or
/// virtualenv `python3` on the PATH would not have them).
const PYTHON: &str = "/usr/bin/python3";
/// libtorrent stores an item on at most this many of the closest nodes.
const LIBTORRENT_PUT_NODES: u64 = 8;

fn field<'a>(lines: &'a [serde_json::Value], key: &str) -> &'a serde_json::Value {
    lines
        .iter()
        .find_map(|l| l.get(key).map(|_| l))
        .unwrap_or_else(|| panic!("libtorrent printed no {key:?}: {lines:?}"))
}

async fn libtorrent_against(addresses: SwarmAddresses) {
    let template = NodeConfig {
        seed: Some(11),
        request_timeout: Duration::from_millis(500),
        ..NodeConfig::default()
    };
    let swarm = Swarm::start_at(
        NODES,
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0),
        &template,
        addresses,
    )
    .await
    .expect("the swarm starts on loopback");
    let ours = b"hello from kadlab".to_vec();
    let put = swarm.nodes[3]
        .put(ours.clone())
        .await
        .expect("kadlab stores its item");
    let ours_hash = NodeId::from_sha1(format!("kadlab's torrent, {addresses:?}").as_bytes());
    let theirs_hash = NodeId::from_sha1(format!("libtorrent's torrent, {addresses:?}").as_bytes());
    let announcer = &swarm.nodes[5];
    let announced = announcer.announce(ours_hash, 6999).await;
    assert!(announced.announced_at.len() >= 8, "{announced:?}");
    let bootstrap = swarm.nodes[0].contact().addr.to_string();
    let (ours_hex, theirs_hex) = (ours_hash.to_string(), theirs_hash.to_string());
    let our_seed = [31u8; 32];
    let ours_mutable = announcer
        .put_mutable(&our_seed, b"kadlab", b"signed by kadlab".to_vec(), None)
        .await
        .expect("a small value");
    assert!(ours_mutable.put.failed.is_empty(), "{ours_mutable:?}");
    let their_seed = [32u8; 32];
    let their_key = public_key(&their_seed);
    let (our_key_hex, their_seed_hex, their_key_hex) =
        (hex(&ours_mutable.key), hex(&their_seed), hex(&their_key));
    let one_ip = addresses == SwarmAddresses::OneIp;
    let theirs = format!("hello from libtorrent, {addresses:?}");
    let target = put.target.to_string();
    let out = tokio::task::spawn_blocking({
        let theirs = theirs.clone();
        move || {
            let mut command = Command::new(PYTHON);
            command
                .arg(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/interop/libtorrent_peer.py"
                ))
                .args([
                    "--bootstrap",
                    &bootstrap,
                    "--get",
                    &target,
                    "--put",
                    &theirs,
                    "--peers-of",
                    &ours_hex,
                    "--announce",
                    &theirs_hex,
                    "--mutable-get",
                    &our_key_hex,
                    "--mutable-seed",
                    &their_seed_hex,
                    "--mutable-key",
                    &their_key_hex,
                ]);
            if one_ip {
                command.arg("--one-ip");
            }
            command
                .output()
                .expect("/usr/bin/python3 runs (apt-get install python3-libtorrent)")
        }
    })
    .await
    .expect("the driver's thread");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{addresses:?}: libtorrent's driver failed (apt-get install python3-libtorrent): {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("the driver prints JSON lines"))
        .collect();
    let joined = field(&lines, "joined")["joined"].as_u64().unwrap_or(0);
    assert!(
        joined >= 4,
        "{addresses:?}: libtorrent's table holds {joined} nodes"
    );
    assert_eq!(
        field(&lines, "got")["value"].as_str(),
        Some("hello from kadlab"),
        "{addresses:?}"
    );
    let stored = field(&lines, "put");
    assert_eq!(
        stored["success"].as_u64(),
        Some(LIBTORRENT_PUT_NODES),
        "{addresses:?}: not every node libtorrent asked stored its item: {stored}"
    );
    let their_target: NodeId = stored["put"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("the put's target in hex");
    assert_eq!(their_target, NodeId::of_immutable_value(theirs.as_bytes()));
    let got = swarm.nodes[7].get(their_target).await;
    assert_eq!(
        got.value.as_deref(),
        Some(theirs.as_bytes()),
        "{addresses:?}"
    );
    // Peers, both ways.
    let ours_peer = format!("{}:6999", announcer.contact().addr.ip());
    let peers = field(&lines, "peers")["peers"].clone();
    assert!(
        peers
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p.as_str() == Some(ours_peer.as_str()))),
        "{addresses:?}: libtorrent's get_peers found {peers}, not {ours_peer}"
    );
    let port = field(&lines, "announced")["port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .expect("the port libtorrent announced");
    let found = swarm.nodes[9].get_peers(theirs_hash).await;
    let theirs_peer = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    assert!(
        found.peers.contains(&theirs_peer),
        "{addresses:?}: kadlab's get_peers found {:?}, not libtorrent's {theirs_peer}",
        found.peers
    );
    // Mutable items, both ways.
    let got = field(&lines, "mutable_got");
    assert_eq!(
        (got["mutable_got"].as_str(), got["seq"].as_i64()),
        (Some("signed by kadlab"), Some(1)),
        "{addresses:?}"
    );
    assert_eq!(
        field(&lines, "mutable_put")["mutable_put"].as_u64(),
        Some(LIBTORRENT_PUT_NODES),
        "{addresses:?}: not every node libtorrent asked stored its mutable item"
    );
    let theirs_mutable = swarm.nodes[10].get_mutable(&their_key, b"libtorrent").await;
    let item = theirs_mutable
        .item
        .expect("kadlab finds libtorrent's mutable item");
    assert_eq!(item.value, b"signed by libtorrent", "{addresses:?}");
    assert_eq!(theirs_mutable.rejected, 0);
    eprintln!(
        "{addresses:?}: libtorrent joined with {joined} nodes; its put stored on {}; \
         its get_peers found {peers}; kadlab's found {:?}",
        stored["success"], found.peers
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libtorrent_joins_gets_and_puts_on_one_ip_and_on_an_ip_per_node() {
    libtorrent_against(SwarmAddresses::OneIp).await;
    libtorrent_against(SwarmAddresses::IpPerNode).await;
}
