//! Hostile traffic on 127.0.0.1, at volume.
//!
//! - Spoofing: thousands of forged answers (wrong transaction id, or the
//!   right one from the wrong address) while a node has hundreds of queries
//!   out; every forgery is dropped and counted, every real answer accepted.
//! - Floods: 100,000 queries from 500 ports under fresh ids and 10,000
//!   `put`s with valid tokens against a node with small bounds; storage,
//!   routing table, queries in flight and rate-limiter state stay within
//!   their bounds (high-water marks printed, see `--nocapture`), the rate
//!   limit engages at both levels, and the node still serves a lookup
//!   right afterwards.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use futures_util::StreamExt;
use kadlab::contact::Contact;
use kadlab::id::{NodeId, ID_BITS};
use kadlab::lookup::{LookupConfig, LookupMode};
use kadlab::node::{Node, NodeConfig, NodeStats, Swarm};
use kadlab::protocol::{RateLimits, ServerConfig, ServerStats, StorageLimits, MAX_VALUE_LEN};
use kadlab::routing::RoutingConfig;
use kadlab::wire::krpc::{Body, KrpcError, Message, Method, Query, ResponseBody};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::net::UdpSocket;
use tokio::time::Instant;

async fn socket() -> (UdpSocket, SocketAddrV4) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("binds");
    let SocketAddr::V4(addr) = socket.local_addr().expect("has an address") else {
        unreachable!("bound to IPv4")
    };
    (socket, addr)
}

fn id(n: u8) -> NodeId {
    NodeId::from_sha1(&[n])
}

fn encode(transaction: Vec<u8>, body: Body) -> Vec<u8> {
    Message {
        transaction,
        version: None,
        read_only: false,
        requester: None,
        body,
    }
    .encode()
}

fn query(transaction: u32, id: NodeId, method: Method) -> Vec<u8> {
    encode(
        transaction.to_be_bytes().to_vec(),
        Body::Query(Query { id, method }),
    )
}

/// Waits (1 ms at a time) until `done` holds, at most `limit`.
async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

// ---- spoofing --------------------------------------------------------------

async fn send(socket: &UdpSocket, to: SocketAddr, transaction: Vec<u8>, body: Body) {
    let datagram = encode(transaction, body);
    socket.send_to(&datagram, to).await.expect("sent");
}

const QUERIES: usize = 400;
/// Queries out at once: few enough that the peer's receive buffer holds
/// them all while it answers one at a time.
const CONCURRENT: usize = 32;
/// Forgeries per query counted as `wrong_address`: the right transaction id
/// from two hostile sockets (other ports of the same IP).
const WRONG_ADDRESS_PER_QUERY: u64 = 2;
/// Forgeries per query counted as `unknown_transaction`: ten made-up ids
/// from a hostile socket, one from the real peer's own address, one
/// truncated id, and a replay of the right id after the real answer.
const UNKNOWN_PER_QUERY: u64 = 13;

/// The answer the real peer gives to a `find_node` for `target`: its one
/// contact is the target itself, so each answer is told apart.
fn real_answer(target: NodeId) -> Body {
    Body::Response(ResponseBody {
        id: id(10),
        nodes: vec![Contact::new(
            target,
            SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1),
        )],
        ..ResponseBody::default()
    })
}

/// A forged answer: a response with a hostile contact, or a KRPC error.
fn forged_answer(n: u64) -> Body {
    if n % 2 == 0 {
        Body::Response(ResponseBody {
            id: id(10),
            nodes: vec![Contact::new(
                id(66),
                SocketAddrV4::new(Ipv4Addr::LOCALHOST, 2),
            )],
            ..ResponseBody::default()
        })
    } else {
        Body::Error(KrpcError {
            code: 202,
            message: "forged".into(),
        })
    }
}

/// A node sends 400 `find_node` queries to a peer, 32 at a time. For each
/// one, hostile senders on 127.0.0.1 that see the traffic (as an on-path
/// attacker would) send 15 forged answers: the right transaction id from
/// two wrong addresses before the real answer, made-up ids, a truncated id,
/// a wrong id from the peer's own address, and a replay of the right id
/// after the real answer. 6,000 forgeries in all: each is dropped and
/// counted exactly (the peer waits for the node to count each batch before
/// going on, so none is lost in a socket buffer), and each of the 400 real
/// answers reaches its query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_forged_answers_are_dropped_and_counted_exactly() {
    let (peer, peer_addr) = socket().await;
    let (hostile_a, _) = socket().await;
    let (hostile_b, _) = socket().await;
    let node = Node::bind(NodeConfig {
        seed: Some(31),
        request_timeout: Duration::from_secs(10),
        ..NodeConfig::default()
    })
    .await
    .expect("binds");
    let node_addr = SocketAddr::V4(node.contact().addr);
    let node = &node;
    let mut rng = ChaCha8Rng::seed_from_u64(32);
    let targets: Vec<NodeId> = (0..QUERIES).map(|_| NodeId::random(&mut rng)).collect();

    let queries = futures_util::stream::iter(targets.iter().copied())
        .map(|target| async move {
            let answer = node
                .rpc()
                .query(peer_addr, Method::FindNode { target })
                .await;
            (target, answer)
        })
        .buffer_unordered(CONCURRENT)
        .collect::<Vec<_>>();

    let rogue = async {
        let dropped = |s: &NodeStats| s.rpc.unknown_transaction + s.rpc.wrong_address;
        let mut buf = vec![0u8; 2048];
        let mut forged = 0u64;
        for n in 0..QUERIES as u64 {
            let (len, from) = peer.recv_from(&mut buf).await.expect("receives");
            assert_eq!(from, node_addr);
            let message = Message::decode(&buf[..len]).expect("a query");
            let Body::Query(Query {
                method: Method::FindNode { target },
                ..
            }) = message.body
            else {
                panic!("expected find_node, got {message:?}");
            };
            let tid = message.transaction.clone();
            let made_up = |j: u32| {
                let t = u32::from_be_bytes(tid.as_slice().try_into().expect("4 bytes"));
                // Half the id space away from every id the node uses.
                (t ^ 0x8000_0000).wrapping_add(j).to_be_bytes().to_vec()
            };
            // Before the real answer: the right id from the wrong address...
            send(&hostile_a, node_addr, tid.clone(), forged_answer(n)).await;
            send(&hostile_b, node_addr, tid.clone(), forged_answer(n + 1)).await;
            // ...made-up ids, from a hostile socket and from the peer's own
            // address, and an id of the wrong length.
            for j in 0..10 {
                send(
                    &hostile_a,
                    node_addr,
                    made_up(j),
                    forged_answer(n + u64::from(j)),
                )
                .await;
            }
            send(&peer, node_addr, made_up(10), forged_answer(n)).await;
            send(&hostile_b, node_addr, tid[..2].to_vec(), forged_answer(n)).await;
            forged += WRONG_ADDRESS_PER_QUERY + UNKNOWN_PER_QUERY - 1;
            wait_for(
                "the forgeries to be counted",
                Duration::from_secs(10),
                || dropped(&node.stats()) == forged,
            )
            .await;
            // The real answer, then a replay of it.
            let answered = node.stats().rpc.answered;
            send(&peer, node_addr, tid.clone(), real_answer(target)).await;
            wait_for("the real answer", Duration::from_secs(10), || {
                node.stats().rpc.answered == answered + 1
            })
            .await;
            send(&hostile_a, node_addr, tid, forged_answer(n)).await;
            forged += 1;
            wait_for("the replay to be counted", Duration::from_secs(10), || {
                dropped(&node.stats()) == forged
            })
            .await;
        }
        forged
    };

    let started = Instant::now();
    let (answers, forged) = tokio::join!(queries, rogue);
    let took = started.elapsed();
    let stats = node.stats().rpc;
    let queries = QUERIES as u64;
    println!(
        "spoofing: {queries} queries, {forged} forged answers in {took:?}: \
         {} dropped as wrong address, {} as unknown transaction, {} real answers accepted, \
         {} timeouts",
        stats.wrong_address, stats.unknown_transaction, stats.answered, stats.timeouts
    );
    assert_eq!(
        forged,
        queries * (WRONG_ADDRESS_PER_QUERY + UNKNOWN_PER_QUERY)
    );
    assert_eq!(stats.wrong_address, queries * WRONG_ADDRESS_PER_QUERY);
    assert_eq!(stats.unknown_transaction, queries * UNKNOWN_PER_QUERY);
    assert_eq!(
        (stats.sent, stats.answered, stats.timeouts),
        (queries, queries, 0)
    );
    assert_eq!(answers.len(), QUERIES);
    for (target, answer) in answers {
        let answer = answer.expect("every real answer accepted");
        assert_eq!(
            answer.nodes,
            vec![Contact::new(
                target,
                SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1)
            )]
        );
    }
    assert_eq!(node.stats().in_flight, 0);
}

// ---- floods ----------------------------------------------------------------

const FLOOD_SOCKETS: usize = 500;
const FLOOD_QUERIES: u64 = 100_000;
const PUTS: u64 = 10_000;
/// Queries one extra socket sends back to back, to trip its own limit.
const HOT_QUERIES: u64 = 1_000;
/// Datagrams the sender may have ahead of the node. A default 208 KiB
/// receive buffer holds some 90 datagrams of a full-size `put` (each is
/// charged about 2.3 KiB) and over 150 small queries, so nothing is lost.
const QUERY_WINDOW: u64 = 64;
const PUT_WINDOW: u64 = 32;

const K: usize = 8;

fn small_bounds() -> ServerConfig {
    ServerConfig {
        storage: StorageLimits {
            max_items: 64,
            max_bytes: 24 * 1024,
            ..StorageLimits::default()
        },
        // The default rates (50 per second per address, bursts of 100; 1,000
        // per second per IP, bursts of 2,000), few addresses and IPs tracked.
        rate: RateLimits {
            max_sources: 256,
            max_ips: 16,
            ..RateLimits::default()
        },
        ..ServerConfig::default()
    }
}

/// The most of everything bounded seen while polling.
#[derive(Debug, Default)]
struct HighWater {
    polls: u64,
    items: usize,
    bytes: usize,
    contacts: usize,
    in_flight: usize,
    limiter_sources: usize,
    limiter_ips: usize,
}

impl HighWater {
    fn record(&mut self, s: &NodeStats) {
        self.polls += 1;
        self.items = self.items.max(s.storage.items);
        self.bytes = self.bytes.max(s.storage.bytes);
        self.contacts = self.contacts.max(s.contacts);
        self.in_flight = self.in_flight.max(s.in_flight);
        self.limiter_sources = self.limiter_sources.max(s.rate_limiter_sources);
        self.limiter_ips = self.limiter_ips.max(s.rate_limiter_ips);
    }
}

/// Sends `count` datagrams made by `make(i)` from `sockets` in turn (socket
/// `i % len`) as fast as the node handles them, but never more than
/// `window` ahead, so none is lost in its receive buffer. Polls the node's
/// stats before every batch.
async fn pump(
    node: &Node,
    to: SocketAddr,
    sockets: &[UdpSocket],
    count: u64,
    window: u64,
    high: &mut HighWater,
    mut make: impl FnMut(u64) -> Vec<u8>,
) {
    let base = node.stats().server.handled();
    let started = Instant::now();
    let mut sent = 0u64;
    while sent < count {
        let stats = node.stats();
        high.record(&stats);
        let done = stats.server.handled() - base;
        let allowed = (done + window).min(count);
        if sent >= allowed {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the node stopped handling datagrams ({done} of {sent}): {stats:?}"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        while sent < allowed {
            let socket = &sockets[(sent as usize) % sockets.len()];
            socket.send_to(&make(sent), to).await.expect("sent");
            sent += 1;
        }
    }
    wait_for(
        "the node to handle every datagram",
        Duration::from_secs(10),
        || {
            let stats = node.stats();
            high.record(&stats);
            stats.server.handled() - base == count
        },
    )
    .await;
}

/// A get from `socket`, for a write token (bound to the IP, so good from
/// every port of 127.0.0.1).
async fn token(socket: &UdpSocket, to: SocketAddr) -> Vec<u8> {
    let get = query(7, id(1), Method::Get { target: id(2) });
    socket.send_to(&get, to).await.expect("sent");
    let mut buf = vec![0u8; 4096];
    let (len, _) = tokio::time::timeout(Duration::from_secs(2), socket.recv_from(&mut buf))
        .await
        .expect("answered")
        .expect("received");
    match Message::decode(&buf[..len]).expect("decodes").body {
        Body::Response(ResponseBody {
            token: Some(token), ..
        }) => token,
        other => panic!("expected a token, got {other:?}"),
    }
}

/// A query's datagram with its id, target and transaction id written in
/// place: 100,000 `Message::encode`s would take a good part of a debug run.
struct Template {
    bytes: Vec<u8>,
    id_at: usize,
    target_at: Option<usize>,
    transaction_at: usize,
}

impl Template {
    fn new(method: fn(NodeId) -> Method) -> Template {
        let (id, target, transaction) = (NodeId([0xa1; 20]), NodeId([0xb2; 20]), 0xc3c3_c3c3);
        let bytes = query(transaction, id, method(target));
        let find = |needle: &[u8]| bytes.windows(needle.len()).position(|w| w == needle);
        Template {
            id_at: find(&id.0).expect("id in the datagram"),
            target_at: find(&target.0),
            transaction_at: find(&transaction.to_be_bytes()).expect("transaction"),
            bytes: bytes.clone(),
        }
    }

    /// The query with a fresh random id (and target), and `transaction`.
    fn make(&self, rng: &mut impl RngCore, transaction: u32) -> Vec<u8> {
        let mut bytes = self.bytes.clone();
        rng.fill_bytes(&mut bytes[self.id_at..self.id_at + 20]);
        if let Some(at) = self.target_at {
            rng.fill_bytes(&mut bytes[at..at + 20]);
        }
        bytes[self.transaction_at..self.transaction_at + 4]
            .copy_from_slice(&transaction.to_be_bytes());
        bytes
    }
}

/// A node with small bounds (64 items, 24 KiB of values, k = 8, 256
/// tracked addresses, 16 tracked IPs) and the default rates, in a loopback
/// swarm of 8, gets 1,000 queries back to back from one port, then 10,000
/// `put`s with a valid token from 500 ports, then 100,000 queries
/// (`find_node`, `get_peers`, `get`, `ping`) under fresh random ids from
/// the same 500 ports, each batch as fast as the node handles it.
/// Everything bounded stays within its bound (high-water marks printed),
/// the rate limit engages at both levels, and right afterwards the node
/// serves another swarm node's lookup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_queries_and_puts_stays_within_the_bounds() {
    let template = NodeConfig {
        seed: Some(50),
        routing: RoutingConfig {
            k: K,
            ..RoutingConfig::default()
        },
        server: small_bounds(),
        request_timeout: Duration::from_millis(500),
        lookup: LookupConfig {
            rpc_timeout_ms: 300,
            ..LookupConfig::default()
        },
        ..NodeConfig::default()
    };
    let swarm = Swarm::start(8, SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0), &template)
        .await
        .expect("swarm starts on 127.0.0.1");
    let victim = &swarm.nodes[0];
    let to = SocketAddr::V4(victim.contact().addr);
    let bounds = small_bounds();
    let mut sockets = Vec::with_capacity(FLOOD_SOCKETS);
    for _ in 0..FLOOD_SOCKETS {
        sockets.push(socket().await.0);
    }
    let (hot, _) = socket().await;
    let mut rng = ChaCha8Rng::seed_from_u64(51);
    let mut high = HighWater::default();
    let start = victim.stats();
    let started = Instant::now();

    // 1,000 queries from one port, back to back: past its burst, its own
    // limit refuses them (its IP still has tokens).
    let ping = Template::new(|_| Method::Ping);
    pump(
        victim,
        to,
        std::slice::from_ref(&hot),
        HOT_QUERIES,
        QUERY_WINDOW,
        &mut high,
        |i| ping.make(&mut rng, i as u32),
    )
    .await;
    let after_hot = victim.stats();

    // 10,000 puts of distinct values, 8 to 1000 bytes, from 500 ports.
    let token = token(&sockets[0], to).await;
    let before_puts = victim.stats();
    let mut value_bytes = 0usize;
    pump(victim, to, &sockets, PUTS, PUT_WINDOW, &mut high, |i| {
        let len = if rng.gen_bool(0.7) {
            rng.gen_range(8..=100)
        } else {
            rng.gen_range(101..=MAX_VALUE_LEN)
        };
        // Random bytes after the put's number: all 10,000 values differ.
        let mut value = vec![0u8; len];
        rng.fill_bytes(&mut value);
        value[..8].copy_from_slice(&i.to_be_bytes());
        value_bytes += len;
        let target = NodeId::of_immutable_value(&value);
        let put = Method::Put {
            value,
            token: token.clone(),
            target: Some(target),
        };
        query(i as u32, NodeId::random(&mut rng), put)
    })
    .await;
    let after_puts = victim.stats();
    let puts_took = started.elapsed();

    // 100,000 queries from the 500 ports, every one under a fresh id.
    let templates = [
        Template::new(|target| Method::FindNode { target }),
        Template::new(|info_hash| Method::GetPeers { info_hash }),
        Template::new(|target| Method::Get { target }),
        ping,
    ];
    let flood_started = Instant::now();
    pump(
        victim,
        to,
        &sockets,
        FLOOD_QUERIES,
        QUERY_WINDOW,
        &mut high,
        |i| {
            let template = match i % 20 {
                0..=9 => &templates[0],
                10..=13 => &templates[1],
                14..=16 => &templates[2],
                _ => &templates[3],
            };
            template.make(&mut rng, i as u32)
        },
    )
    .await;
    let flood_took = flood_started.elapsed();
    let after_flood = victim.stats();
    high.record(&after_flood);

    // Then another node of the swarm asks the victim directly, and looks
    // it up. It shares the flood's IP (only 127.0.0.1 is available), whose
    // bucket the flood emptied: a tenth of a second gives it 100 tokens
    // back. A node on another IP would not have had to wait.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let lookup_started = Instant::now();
    let asker = &swarm.nodes[5];
    let pong = asker
        .rpc()
        .query(victim.contact().addr, Method::FindNode { target: id(9) })
        .await
        .expect("the victim answers a find_node right after the flood");
    assert_eq!(pong.id, victim.contact().id);
    let outcome = asker
        .lookup(victim.contact().id, LookupMode::FindNode)
        .await;
    let lookup_took = lookup_started.elapsed();
    let end = victim.stats();
    high.record(&end);

    let delta = |a: &ServerStats, b: &ServerStats| {
        (
            b.answered - a.answered,
            b.rate_limited_source - a.rate_limited_source,
            b.rate_limited_ip - a.rate_limited_ip,
        )
    };
    let hot_counts = delta(&start.server, &after_hot.server);
    let put_counts = delta(&before_puts.server, &after_puts.server);
    let flood_counts = delta(&after_puts.server, &after_flood.server);
    let storage = after_flood.storage;
    let total = end.server;
    println!(
        "flood: {HOT_QUERIES} queries from 1 port, {PUTS} puts ({value_bytes} bytes of values) \
         and {FLOOD_QUERIES} queries from {FLOOD_SOCKETS} ports in {:?} (puts {puts_took:?}, \
         queries {flood_took:?}); NodeStats polled {} times",
        started.elapsed(),
        high.polls
    );
    println!(
        "  served / refused per address / refused per IP: hot port {hot_counts:?}, \
         puts {put_counts:?}, queries {flood_counts:?}; bad tokens {}",
        total.bad_token
    );
    println!(
        "  storage after the flood: {} items, {} bytes, {} evicted",
        storage.items, storage.bytes, storage.evicted
    );
    println!(
        "  high-water marks: storage items {} (bound {}), bytes {} (bound {}), routing table {} \
         contacts (bound 160·k = {}), queries in flight {} (one eviction ping per bucket at \
         most: 160), rate-limiter addresses {} (bound {}), IPs {} (bound {})",
        high.items,
        bounds.storage.max_items,
        high.bytes,
        bounds.storage.max_bytes,
        high.contacts,
        ID_BITS * K,
        high.in_flight,
        high.limiter_sources,
        bounds.rate.max_sources,
        high.limiter_ips,
        bounds.rate.max_ips
    );
    println!(
        "  eviction pings {} (skipped {}); after the flood, a find_node and a lookup by another \
         node in {lookup_took:?}: lookup ended {} after {} requests",
        total.eviction_pings, total.eviction_pings_skipped, outcome.reason, outcome.stats.requests
    );

    // The hot port: its burst served, the rest refused by its own limit.
    let burst = u64::from(bounds.rate.burst);
    assert!(
        hot_counts.0 >= burst && hot_counts.0 < burst + 20,
        "{hot_counts:?}"
    );
    assert_eq!(hot_counts.0 + hot_counts.1, HOT_QUERIES, "{hot_counts:?}");
    // The puts: no token refused, and the per-IP limit served its burst and
    // rate; storage held to its bounds, the oldest values making room.
    assert_eq!(total.bad_token, 0);
    assert_eq!(put_counts.0 + put_counts.1 + put_counts.2, PUTS);
    assert!(
        put_counts.0 >= u64::from(bounds.rate.ip_burst) / 2,
        "{put_counts:?}"
    );
    assert_eq!(
        storage.evicted,
        put_counts.0 - storage.items as u64,
        "every value served and not held was evicted"
    );
    assert_eq!(high.items, bounds.storage.max_items);
    assert!(high.bytes <= bounds.storage.max_bytes);
    // The 100,000 queries: mostly refused by the per-IP limit, which 500
    // fresh per-address buckets cannot get around.
    assert_eq!(
        flood_counts.0 + flood_counts.1 + flood_counts.2,
        FLOOD_QUERIES
    );
    assert!(flood_counts.2 > FLOOD_QUERIES / 2, "{flood_counts:?}");
    assert_eq!(
        total.rate_limited,
        total.rate_limited_source + total.rate_limited_ip
    );
    // The rest of the memory a flood could grow.
    assert!(high.contacts <= ID_BITS * K);
    assert!(high.in_flight <= ID_BITS);
    assert_eq!(high.limiter_sources, bounds.rate.max_sources);
    assert!(high.limiter_ips <= bounds.rate.max_ips);
    // And the node still serves: the lookup found it.
    assert!(
        outcome.result.contains(&victim.contact()),
        "lookup: {} {:?}",
        outcome.reason,
        outcome.result
    );
    assert!(end.server.answered > after_flood.server.answered);
}
