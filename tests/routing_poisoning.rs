//! Routing-table poisoning: a Sybil flood of new ids cannot push live, old
//! contacts out of a routing table, because a full bucket only makes room
//! when its least-recently-seen contact fails to answer a ping (the
//! Kademlia rule, which favours old live nodes).
//!
//! First on the table alone (every eviction ping answered by the test),
//! then over UDP: a kadlab node whose table holds a loopback swarm of live
//! kadlab nodes, flooded with `find_node` queries under fresh random ids
//! from hundreds of ports on 127.0.0.1.

use std::collections::{HashSet, VecDeque};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use kadlab::contact::Contact;
use kadlab::id::{NodeId, ID_BITS};
use kadlab::node::{Node, NodeConfig, Swarm};
use kadlab::protocol::{RateLimits, ServerConfig, DEFAULT_EVICTION_PING_AFTER};
use kadlab::routing::{RoutingConfig, RoutingTable, UpdateOutcome};
use kadlab::time::Time;
use kadlab::wire::krpc::{Body, Message, Method, Query};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::net::UdpSocket;
use tokio::time::Instant;

const SYBILS: usize = 10_000;

fn ms(t: u64) -> Time {
    Time::from_millis(t)
}

/// When the floods start: after BEP 5's 15 minutes, so that the old
/// contacts, all heard from at time 0, are questionable and a full bucket
/// pings them before it lets a Sybil in.
const FLOOD_START: u64 = 15 * 60 * 1000 + 1_000;

/// A table whose ten farthest buckets (which hold almost every id of a
/// real network) are full of `k` contacts each, all inserted at time 0.
struct Filled {
    rng: ChaCha8Rng,
    table: RoutingTable,
    buckets: Vec<usize>,
    old: Vec<Contact>,
    next_index: u32,
}

impl Filled {
    fn new(seed: u64, config: RoutingConfig) -> Filled {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let local = NodeId::random(&mut rng);
        let mut filled = Filled {
            rng,
            table: RoutingTable::new(local, config, Time::ZERO),
            buckets: (ID_BITS - 10..ID_BITS).collect(),
            old: Vec::new(),
            next_index: 0,
        };
        for b in filled.buckets.clone() {
            for _ in 0..filled.table.config().k {
                let c = filled.contact_in(b);
                assert_eq!(filled.table.update(c, Time::ZERO), UpdateOutcome::Inserted);
                filled.old.push(c);
            }
        }
        filled
    }

    /// A fresh contact in bucket `b`.
    fn contact_in(&mut self, b: usize) -> Contact {
        let id = self.table.local_id().random_in_bucket(b, &mut self.rng);
        self.next_index += 1;
        Contact::simulated(id, self.next_index)
    }

    /// A fresh Sybil in one of the full buckets, chosen at random.
    fn sybil(&mut self) -> Contact {
        let b = self.buckets[self.rng.gen_range(0..self.buckets.len())];
        self.contact_in(b)
    }

    /// Every old contact is still in the table, under its own address; the
    /// buckets are full, and every replacement cache within its bound.
    fn assert_old_contacts_kept(&self) {
        for c in &self.old {
            let entry = self.table.get(&c.id).map(|e| e.contact);
            assert_eq!(entry, Some(*c), "old contact {} was evicted", c.id);
        }
        let config = self.table.config();
        for &b in &self.buckets {
            assert_eq!(self.table.bucket_len(b), config.k);
            assert!(self.table.replacements(b).len() <= config.replacement_cache);
        }
        assert_eq!(self.table.len(), self.old.len());
        assert!(self.table.len() <= ID_BITS * config.k);
    }
}

/// 10,000 Sybil updates into full buckets of questionable live contacts,
/// every eviction ping answered at once: a Sybil costs a ping while its
/// bucket still holds a questionable contact, and each old contact is
/// pinged once, after which it is good and the bucket caches newcomers
/// without a ping; every Sybil lands in the replacement cache, and no old
/// contact goes.
#[test]
fn a_sybil_flood_cannot_evict_live_old_contacts() {
    let config = RoutingConfig::default();
    let mut f = Filled::new(1, config.clone());
    let old_ids: HashSet<NodeId> = f.old.iter().map(|c| c.id).collect();
    let mut pinged = HashSet::new();
    for i in 0..SYBILS {
        let now = ms(FLOOD_START + i as u64);
        let sybil = f.sybil();
        match f.table.update(sybil, now) {
            UpdateOutcome::PingOldest { oldest } => {
                assert!(old_ids.contains(&oldest.id), "pinged a non-old contact");
                assert!(pinged.insert(oldest.id), "pinged a good contact again");
                f.table.on_ping_result(&oldest, true, now);
            }
            UpdateOutcome::Cached => {}
            other => panic!("Sybil {i}: {other:?}"),
        }
        assert!(!f.table.contains(&sybil.id));
        if i % 100 == 0 {
            f.assert_old_contacts_kept();
        }
    }
    f.assert_old_contacts_kept();
    assert_eq!(pinged, old_ids, "every old contact was pinged, once");
    // The caches are full of the latest Sybils, and hold nothing else.
    for &b in &f.buckets {
        let cached = f.table.replacements(b);
        assert_eq!(cached.len(), config.replacement_cache);
        assert!(cached.iter().all(|c| !old_ids.contains(&c.id)));
    }
}

/// The same flood with every answer arriving a few updates later, as over
/// a network: Sybils that arrive while their bucket waits on a ping go
/// straight to the replacement cache, and still no old contact goes.
#[test]
fn a_sybil_flood_with_late_ping_answers_cannot_evict_live_old_contacts() {
    let config = RoutingConfig::default();
    let mut f = Filled::new(2, config.clone());
    let old_ids: HashSet<NodeId> = f.old.iter().map(|c| c.id).collect();
    let mut waiting: VecDeque<(usize, Contact)> = VecDeque::new();
    let (mut pings, mut cached) = (0, 0);
    for i in 0..SYBILS {
        let now = ms(FLOOD_START + i as u64);
        // Each answer arrives 7 updates (7 ms) after its ping: well within
        // the table's ping timeout.
        while waiting.front().is_some_and(|&(at, _)| at + 7 <= i) {
            let (_, oldest) = waiting.pop_front().expect("non-empty");
            f.table.on_ping_result(&oldest, true, now);
        }
        let sybil = f.sybil();
        match f.table.update(sybil, now) {
            UpdateOutcome::PingOldest { oldest } => {
                assert!(old_ids.contains(&oldest.id));
                pings += 1;
                waiting.push_back((i, oldest));
            }
            UpdateOutcome::Cached => cached += 1,
            other => panic!("Sybil {i}: {other:?}"),
        }
        if i % 100 == 0 {
            f.assert_old_contacts_kept();
        }
    }
    for (_, oldest) in waiting {
        f.table
            .on_ping_result(&oldest, true, ms(FLOOD_START + 20_000));
    }
    f.assert_old_contacts_kept();
    assert_eq!(pings + cached, SYBILS);
    assert!(pings > 0 && cached > 0, "{pings} pings, {cached} cached");
}

/// The control: when nobody answers the eviction pings, the same flood
/// does take the buckets over. The rule protects *live* contacts only, so
/// the tests above would see an eviction if there were one.
#[test]
fn dead_old_contacts_are_replaced_by_the_flood() {
    let mut f = Filled::new(3, RoutingConfig::default());
    for i in 0..SYBILS {
        let now = ms(FLOOD_START + i as u64);
        let sybil = f.sybil();
        if let UpdateOutcome::PingOldest { oldest } = f.table.update(sybil, now) {
            f.table.on_ping_result(&oldest, false, now);
        }
    }
    let kept = f.old.iter().filter(|c| f.table.contains(&c.id)).count();
    assert_eq!(kept, 0, "every dead old contact was replaced");
    assert_eq!(f.table.len(), f.old.len());
}

// ---- over UDP --------------------------------------------------------------

/// Bucket size of the flooded node: small, so that its buckets are full of
/// live swarm nodes and every Sybil in them costs an eviction ping.
const K: usize = 4;
/// Live kadlab nodes around the flooded one.
const SWARM: usize = 24;
const FLOOD_SOCKETS: usize = 200;
const FLOOD_QUERIES: u64 = 30_000;
/// Datagrams the flood may have ahead of the node; a few dozen below what
/// a default 208 KiB receive buffer holds, so none is lost.
const WINDOW: u64 = 16;

fn find_node(id: NodeId, target: NodeId, transaction: u32) -> Vec<u8> {
    Message {
        transaction: transaction.to_be_bytes().to_vec(),
        version: None,
        read_only: false,
        requester: None,
        body: Body::Query(Query {
            id,
            method: Method::FindNode { target },
        }),
    }
    .encode()
}

/// A kadlab node whose table holds only live kadlab nodes (a loopback
/// swarm), with full buckets, gets 10,000 `find_node` queries under fresh
/// random ids from 200 ports. Its rate limiter is off, so every Sybil
/// reaches the table. Afterwards every live old contact is still there
/// (the eviction pings the flood caused were answered), and the table
/// never held more than 160·k contacts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sybil_flood_over_udp_cannot_evict_live_old_contacts() {
    let template = NodeConfig {
        seed: Some(400),
        request_timeout: Duration::from_millis(1_000),
        ..NodeConfig::default()
    };
    let swarm = Swarm::start(SWARM, SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0), &template)
        .await
        .expect("swarm starts on 127.0.0.1");
    let victim = Node::bind(NodeConfig {
        seed: Some(399),
        routing: RoutingConfig {
            k: K,
            // Every contact questionable a moment after it was heard from,
            // so the flood meets eviction pings rather than buckets of good
            // contacts that simply cache newcomers.
            questionable_after: Duration::from_millis(1),
            ..RoutingConfig::default()
        },
        server: ServerConfig {
            rate: RateLimits {
                per_source_per_sec: u32::MAX,
                burst: u32::MAX,
                per_ip_per_sec: u32::MAX,
                ip_burst: u32::MAX,
                ..RateLimits::default()
            },
            ..ServerConfig::default()
        },
        ..template.clone()
    })
    .await
    .expect("binds");
    let report = victim.bootstrap(&[swarm.nodes[0].contact().addr]).await;
    assert!(report.joined(), "{report:?}");

    let swarm_contacts: HashSet<Contact> = swarm.contacts().into_iter().collect();
    let old: Vec<Contact> = victim.with_table(|t| t.iter().map(|e| e.contact).collect());
    assert!(
        old.iter().all(|c| swarm_contacts.contains(c)),
        "only swarm nodes in the table"
    );
    let full_buckets: Vec<usize> = victim.with_table(|t| {
        (0..ID_BITS)
            .filter(|&b| t.bucket_len(b) == K)
            .collect::<Vec<_>>()
    });
    assert!(
        full_buckets.len() >= 2,
        "buckets full of live nodes: {full_buckets:?}"
    );

    // Let every contact go quiet for longer than the node waits before it
    // pings an oldest contact, so the flood's first Sybils do cost pings.
    tokio::time::sleep(DEFAULT_EVICTION_PING_AFTER + Duration::from_millis(200)).await;

    let mut sockets = Vec::with_capacity(FLOOD_SOCKETS);
    for _ in 0..FLOOD_SOCKETS {
        sockets.push(UdpSocket::bind("127.0.0.1:0").await.expect("binds"));
    }
    let to = SocketAddr::V4(victim.contact().addr);
    let mut rng = ChaCha8Rng::seed_from_u64(401);
    let before = victim.stats();
    let base = before.server.handled();
    let max_contacts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut sent = 0u64;
    while sent < FLOOD_QUERIES {
        let stats = victim.stats();
        max_contacts.fetch_max(stats.contacts, std::sync::atomic::Ordering::Relaxed);
        assert!(stats.contacts <= ID_BITS * K);
        let done = stats.server.handled() - base;
        if sent >= done + WINDOW {
            tokio::time::sleep(Duration::from_millis(1)).await;
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the node stopped handling queries: {stats:?}"
            );
            continue;
        }
        for _ in 0..(done + WINDOW - sent).min(FLOOD_QUERIES - sent) {
            let socket = &sockets[(sent as usize) % FLOOD_SOCKETS];
            let sybil = NodeId::random(&mut rng);
            let target = NodeId::random(&mut rng);
            socket
                .send_to(&find_node(sybil, target, sent as u32), to)
                .await
                .expect("sent");
            sent += 1;
        }
    }
    while victim.stats().server.handled() - base < FLOOD_QUERIES {
        assert!(started.elapsed() < Duration::from_secs(30), "queries lost");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let flood_time = started.elapsed();
    // Let the last eviction pings be answered (or time out).
    tokio::time::sleep(Duration::from_millis(1_200)).await;

    let after = victim.stats();
    let in_table: Vec<Contact> = victim.with_table(|t| t.iter().map(|e| e.contact).collect());
    let evicted: Vec<&Contact> = old.iter().filter(|c| !in_table.contains(c)).collect();
    let pings_sent = after.rpc.sent - before.rpc.sent;
    let pings_answered = after.rpc.answered - before.rpc.answered;
    let asked = after.server.eviction_pings - before.server.eviction_pings;
    let skipped = after.server.eviction_pings_skipped - before.server.eviction_pings_skipped;
    let refused_by_live: u64 = swarm
        .nodes
        .iter()
        .map(|n| n.stats().server.rate_limited)
        .sum();
    let sybils_in_table = in_table
        .iter()
        .filter(|c| !swarm_contacts.contains(c))
        .count();
    println!(
        "sybil flood: {FLOOD_QUERIES} find_node queries from {FLOOD_SOCKETS} ports in {flood_time:?}; \
         {} live old contacts (k = {K}, {} full buckets); eviction pings sent {pings_sent} \
         ({skipped} more skipped: oldest contact heard from within {DEFAULT_EVICTION_PING_AFTER:?}), \
         answered by live nodes {pings_answered}, timed out (Sybils) {}, refused by the live nodes' \
         rate limits {refused_by_live}; table now {} contacts \
         ({sybils_in_table} Sybils), at most {} during the flood (bound 160·k = {}); \
         old contacts evicted: {}",
        old.len(),
        full_buckets.len(),
        after.rpc.timeouts - before.rpc.timeouts,
        after.contacts,
        max_contacts.load(std::sync::atomic::Ordering::Relaxed),
        ID_BITS * K,
        evicted.len(),
    );
    assert!(evicted.is_empty(), "live old contacts evicted: {evicted:?}");
    assert!(pings_answered > 0, "the flood caused eviction pings");
    assert_eq!(asked, pings_sent, "the node sent only eviction pings");
    assert_eq!(refused_by_live, 0, "no live node refused a ping");
    assert_eq!(
        after.server.answered - before.server.answered,
        FLOOD_QUERIES
    );
    assert!(after.contacts <= ID_BITS * K);
}
