//! Interop with the `mainline` crate (v8, the most used Rust Mainline DHT):
//! a mixed network of kadlab and `mainline` nodes on 127.0.0.1, talking
//! KRPC over real UDP sockets.
//!
//! Every test starts its own network ([`Mixed::start`]): kadlab node 0
//! first, then `mainline` node 0 bootstrapping from it, then every kadlab
//! node bootstrapping from `mainline` node 0, then `mainline` nodes 1..
//! bootstrapping from kadlab nodes 1.. only. So each side joins through the
//! other, and the tests check
//!
//! - bootstrap both ways (kadlab's [`BootstrapReport`] and `mainline`'s
//!   `bootstrapped()`),
//! - `find_node` both ways (exact id and address of the node looked up),
//! - BEP 44 immutable items both ways: the high-level put/get of each
//!   implementation, and items stored on *one* implementation's nodes only,
//!   so that the other can only have read them from there.
//!
//! No sleeps: every step waits on the operation itself, and each query's
//! timeout is 500 ms on both sides.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use kadlab::contact::Contact;
use kadlab::id::NodeId;
use kadlab::lookup::LookupMode;
use kadlab::node::{BootstrapReport, Node, NodeConfig};
use kadlab::wire::krpc::Method;
use mainline::async_dht::AsyncDht;
use mainline::{Dht, Id};

const KADLAB_NODES: usize = 5;
const MAINLINE_NODES: usize = 5;
const TIMEOUT: Duration = Duration::from_millis(500);
/// BEP 44's test vector: the target of the immutable item "Hello World!".
const HELLO_TARGET: &str = "e5f96f6f38320f0f33959cb4d3d656452117aadb";

fn kadlab_config(seed: u64) -> NodeConfig {
    NodeConfig {
        seed: Some(seed),
        request_timeout: TIMEOUT,
        bootstrap_deadline: Duration::from_secs(5),
        ..NodeConfig::default()
    }
}

/// A `mainline` server node on 127.0.0.1 (port 0: the OS picks a free one)
/// that bootstraps from `bootstrap` only, never from the public routers.
fn mainline_node(bootstrap: &[SocketAddrV4]) -> AsyncDht {
    let mut builder = Dht::builder();
    builder
        .server_mode()
        .bind_address(Ipv4Addr::LOCALHOST)
        .port(0)
        .bootstrap(bootstrap)
        .request_timeout(TIMEOUT);
    builder
        .build()
        .expect("mainline binds 127.0.0.1:0")
        .as_async()
}

fn to_mainline(id: NodeId) -> Id {
    Id::from_bytes(id.0).expect("20 bytes")
}

fn to_kadlab(id: Id) -> NodeId {
    NodeId(*id.as_bytes())
}

/// A `mainline` node's id and address, as a kadlab contact.
async fn contact_of(dht: &AsyncDht) -> Contact {
    let info = dht.info().await;
    Contact::new(to_kadlab(*info.id()), info.local_addr())
}

/// A running mixed network and how it came up.
struct Mixed {
    kadlab: Vec<Node>,
    mainline: Vec<AsyncDht>,
    /// `mainline[i]`'s id and address.
    mainline_contacts: Vec<Contact>,
    /// `kadlab[i]`'s bootstrap (all of them from `mainline[0]`).
    kadlab_reports: Vec<BootstrapReport>,
    /// `mainline[i].bootstrapped()` right after it joined.
    mainline_bootstrapped: Vec<bool>,
}

impl Mixed {
    async fn start(seed: u64) -> Mixed {
        let started = Instant::now();
        let mut kadlab = Vec::new();
        for i in 0..KADLAB_NODES {
            let node = Node::bind(kadlab_config(seed + i as u64))
                .await
                .expect("kadlab binds 127.0.0.1:0");
            kadlab.push(node);
        }
        // mainline 0 joins through kadlab 0, whose table is still empty: it
        // learns mainline 0 from its find_node and lists it in the answer.
        let first = mainline_node(&[kadlab[0].contact().addr]);
        let mut mainline_bootstrapped = vec![first.bootstrapped().await];
        let first_contact = contact_of(&first).await;

        // Every kadlab node joins through mainline 0.
        let via = [first_contact.addr];
        let kadlab_reports =
            futures_util::future::join_all(kadlab.iter().map(|n| n.bootstrap(&via))).await;

        // mainline 1.. join through kadlab 1.. only.
        let mut mainline = vec![first];
        for k in &kadlab[1..MAINLINE_NODES.min(KADLAB_NODES)] {
            mainline.push(mainline_node(&[k.contact().addr]));
        }
        let joined =
            futures_util::future::join_all(mainline[1..].iter().map(AsyncDht::bootstrapped)).await;
        mainline_bootstrapped.extend(joined);
        let mut mainline_contacts = Vec::new();
        for dht in &mainline {
            mainline_contacts.push(contact_of(dht).await);
        }

        // As `Swarm::start` does: once all have joined, each looks up its
        // own id again, so the early nodes learn about the late ones.
        futures_util::future::join_all(
            kadlab
                .iter()
                .map(|n| n.lookup(n.contact().id, LookupMode::FindNode)),
        )
        .await;
        futures_util::future::join_all(
            mainline
                .iter()
                .zip(&mainline_contacts)
                .map(|(dht, me)| dht.find_node(to_mainline(me.id))),
        )
        .await;
        eprintln!("mixed network up in {:?}", started.elapsed());
        Mixed {
            kadlab,
            mainline,
            mainline_contacts,
            kadlab_reports,
            mainline_bootstrapped,
        }
    }

    /// Every datagram `mainline` sent the kadlab nodes was understood and
    /// served, and every answer matched a query from the right address.
    fn assert_clean(&self) {
        for (i, node) in self.kadlab.iter().enumerate() {
            let stats = node.stats();
            let s = stats.server;
            let problems = [
                ("malformed", s.malformed),
                ("invalid_arguments", s.invalid_arguments),
                ("unknown_method", s.unknown_method),
                ("bad_token", s.bad_token),
                ("too_big", s.too_big),
                ("rate_limited", s.rate_limited),
                ("own_id", s.own_id),
                ("wrong_address", stats.rpc.wrong_address),
                ("send_errors", stats.rpc.send_errors),
            ];
            for (what, count) in problems {
                assert_eq!(count, 0, "kadlab {i}: {what} in {stats:?}");
            }
        }
    }
}

/// Store `value` on the node at `to` only, with `from`'s client: a BEP 44
/// `get` for the write token, then the `put`.
async fn put_on(from: &Node, to: SocketAddrV4, value: &[u8]) {
    let target = NodeId::of_immutable_value(value);
    let got = from
        .rpc()
        .query(to, Method::Get { target })
        .await
        .unwrap_or_else(|e| panic!("get to {to}: {e}"));
    let token = got
        .token
        .unwrap_or_else(|| panic!("{to} gave no write token"));
    from.rpc()
        .query(
            to,
            Method::Put {
                value: value.to_vec(),
                token,
                target: Some(target),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("put to {to}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kadlab_and_mainline_bootstrap_from_each_other() {
    let net = Mixed::start(100).await;
    let mainline0 = net.mainline_contacts[0];
    for (i, report) in net.kadlab_reports.iter().enumerate() {
        assert_eq!(
            report.answered,
            vec![mainline0],
            "kadlab {i} from mainline 0: {report:?}"
        );
        assert!(report.failed.is_empty(), "kadlab {i}: {report:?}");
        assert!(
            report.joined() && !report.deadline_hit,
            "kadlab {i}: {report:?}"
        );
    }
    // mainline 0 joined through kadlab 0 (empty table), mainline 1.. through
    // kadlab 1.. (each alone on its bootstrap list).
    assert_eq!(net.mainline_bootstrapped, vec![true; MAINLINE_NODES]);
    // Still bootstrapped now that everybody is in.
    for (i, dht) in net.mainline.iter().enumerate() {
        assert!(dht.bootstrapped().await, "mainline {i}");
    }
    net.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn find_node_finds_each_other_both_ways() {
    let net = Mixed::start(200).await;

    // kadlab → mainline: every kadlab node looks up every mainline id and
    // finds that node first, with its exact address.
    let lookups = net.kadlab.iter().enumerate().flat_map(|(k, node)| {
        net.mainline_contacts
            .iter()
            .enumerate()
            .map(move |(m, want)| async move {
                let outcome = node.lookup(want.id, LookupMode::FindNode).await;
                (k, m, *want, outcome)
            })
    });
    for (k, m, want, outcome) in futures_util::future::join_all(lookups).await {
        assert_eq!(
            outcome.result.first(),
            Some(&want),
            "kadlab {k} looking up mainline {m}: ended {}, {:?}, result {:?}",
            outcome.reason,
            outcome.stats,
            outcome.result
        );
    }

    // mainline → kadlab: every mainline node's find_node of every kadlab id
    // returns that node, exact id and address, as the closest.
    let finds = net.mainline.iter().enumerate().flat_map(|(m, dht)| {
        net.kadlab
            .iter()
            .enumerate()
            .map(move |(k, node)| async move {
                let want = node.contact();
                let found = dht.find_node(to_mainline(want.id)).await;
                (m, k, want, found)
            })
    });
    for (m, k, want, found) in futures_util::future::join_all(finds).await {
        let found: Vec<Contact> = found
            .iter()
            .map(|n| Contact::new(to_kadlab(*n.id()), n.address()))
            .collect();
        assert!(
            found.contains(&want),
            "mainline {m} looking up kadlab {k} ({want:?}): {found:?}"
        );
        assert_eq!(found.first(), Some(&want), "mainline {m}, kadlab {k}");
    }
    net.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn immutable_items_cross_both_ways() {
    let net = Mixed::start(300).await;
    let kadlab_contacts: Vec<Contact> = net.kadlab.iter().map(Node::contact).collect();

    // kadlab put → mainline get, with BEP 44's test vector.
    let hello = b"Hello World!".to_vec();
    let put = net.kadlab[2].put(hello.clone()).await.expect("small value");
    assert_eq!(put.target.to_string(), HELLO_TARGET);
    assert!(
        put.failed.is_empty(),
        "kadlab put failed at {:?}",
        put.failed
    );
    for (m, contact) in net.mainline_contacts.iter().enumerate() {
        assert!(
            put.stored_at.contains(contact),
            "kadlab's put skipped mainline {m}: stored at {:?}",
            put.stored_at
        );
    }
    for (m, dht) in net.mainline.iter().enumerate() {
        let got = dht.get_immutable(to_mainline(put.target)).await;
        assert_eq!(got.as_deref(), Some(&hello[..]), "mainline {m}");
    }

    // mainline put → kadlab get.
    let from_mainline = b"stored by mainline, read by kadlab".to_vec();
    let target = net.mainline[1]
        .put_immutable(&from_mainline)
        .await
        .expect("mainline put");
    let target = to_kadlab(target);
    assert_eq!(target, NodeId::of_immutable_value(&from_mainline));
    let mut held = 0;
    for (k, node) in net.kadlab.iter().enumerate() {
        let got = node.get(target).await;
        assert_eq!(got.value.as_ref(), Some(&from_mainline), "kadlab {k}");
        held += usize::from(got.lookup.is_none());
    }
    assert_eq!(
        held, KADLAB_NODES,
        "mainline's put reached every kadlab node"
    );

    // An item only kadlab nodes hold: mainline can only read it from them.
    let kadlab_only = b"only kadlab nodes hold this".to_vec();
    for (i, to) in kadlab_contacts.iter().enumerate() {
        let from = &net.kadlab[(i + 1) % KADLAB_NODES];
        put_on(from, to.addr, &kadlab_only).await;
    }
    let target = NodeId::of_immutable_value(&kadlab_only);
    for (m, dht) in net.mainline.iter().enumerate() {
        let got = dht.get_immutable(to_mainline(target)).await;
        assert_eq!(got.as_deref(), Some(&kadlab_only[..]), "mainline {m}");
    }

    // An item only mainline nodes hold (kadlab stored it on each with a
    // direct get + put): kadlab can only read it from them.
    let mainline_only = b"only mainline nodes hold this".to_vec();
    for to in &net.mainline_contacts {
        put_on(&net.kadlab[0], to.addr, &mainline_only).await;
    }
    let target = NodeId::of_immutable_value(&mainline_only);
    for (k, node) in net.kadlab.iter().enumerate() {
        let got = node.get(target).await;
        assert_eq!(got.value.as_ref(), Some(&mainline_only), "kadlab {k}");
        assert!(got.lookup.is_some(), "kadlab {k} had it locally");
    }
    net.assert_clean();
}

/// BEP 44 mutable items, both ways: kadlab signs and stores, every
/// `mainline` node reads and verifies it; `mainline` signs and stores,
/// every kadlab node reads and verifies it, and a higher `seq` stored by
/// `mainline` replaces the one before, as kadlab then reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mutable_items_cross_both_ways() {
    let net = Mixed::start(400).await;

    // kadlab put → mainline get.
    let seed = [21u8; 32];
    let put = net.kadlab[1]
        .put_mutable(&seed, b"kadlab", b"signed by kadlab".to_vec(), None)
        .await
        .expect("small value");
    assert_eq!(put.seq, 1);
    assert!(put.put.failed.is_empty(), "{:?}", put.put.failed);
    for (m, dht) in net.mainline.iter().enumerate() {
        let got = dht
            .get_mutable_most_recent(&put.key, Some(b"kadlab"))
            .await
            .unwrap_or_else(|| panic!("mainline {m} found no item"));
        assert_eq!(
            (got.value(), got.seq()),
            (&b"signed by kadlab"[..], 1),
            "mainline {m}"
        );
    }

    // mainline put → kadlab get, then a higher seq replaces it.
    let signer = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let key = signer.verifying_key().to_bytes();
    for (seq, value) in [
        (1, &b"signed by mainline"[..]),
        (2, &b"signed again, seq 2"[..]),
    ] {
        let item = mainline::MutableItem::new(signer.clone(), value, seq, Some(b"ml"));
        net.mainline[2]
            .put_mutable(item, None)
            .await
            .expect("mainline put");
        for (k, node) in net.kadlab.iter().enumerate() {
            let got = node.get_mutable(&key, b"ml").await;
            let item = got
                .item
                .unwrap_or_else(|| panic!("kadlab {k} found no item at seq {seq}"));
            assert_eq!(
                (item.value.as_slice(), item.seq),
                (value, seq),
                "kadlab {k}"
            );
            assert_eq!(got.rejected, 0);
        }
    }
    net.assert_clean();
}
