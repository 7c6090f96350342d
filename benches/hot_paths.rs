//! Wall time of the hot paths. Run with `cargo bench --bench hot_paths`.
//!
//! - `routing/*`: routing-table update of a known contact, and `closest`
//!   (20 of a 5,000-contact table).
//! - `sim/lookup_10k/<strategy>`: one lookup of each strategy of
//!   `StrategyName::ALL` on the `kadlab compare` default network (10,000
//!   nodes, churn, 1 % loss, an hour of warm-up). Only the lookups are
//!   timed; they run one after the other through a seeded task list, each
//!   at its own start time in virtual time.
//! - `sim/throughput_10k/<strategy>`: what `kadlab compare` does per
//!   strategy, `run_strategy` over [`THROUGHPUT_LOOKUPS`] FIND_NODE lookups
//!   (a fresh copy of the network, then every lookup as its own task);
//!   criterion prints lookups per second (`Throughput::Elements`).
//!   `sim/copy_network_10k` times the copy alone.
//! - `krpc/encode/*`, `krpc/decode/*`: the KRPC codec on a ping query,
//!   find_node responses with 8 and 20 nodes, and a BEP 44 get response
//!   with a 256-byte value; criterion also prints bytes per second.

use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use kadlab::contact::Contact;
use kadlab::id::NodeId;
use kadlab::lookup::{Contender, LookupConfig, StrategyName};
use kadlab::routing::{RoutingConfig, RoutingTable};
use kadlab::sim::{self, LookupTask, SimConfig, SimNetwork};
use kadlab::time::Time;
use kadlab::wire::krpc::{Body, Message, Method, Query, ResponseBody, CLIENT_VERSION};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Lookups per iteration of `sim/throughput_10k`.
const THROUGHPUT_LOOKUPS: usize = 200;

fn routing(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let me = NodeId::random(&mut rng);
    let contacts: Vec<Contact> = (0..5000)
        .map(|i| Contact::simulated(NodeId::random(&mut rng), i))
        .collect();
    let mut table = RoutingTable::new(me, RoutingConfig::default(), Time::ZERO);
    for c in &contacts {
        let _ = table.update(*c, Time::ZERO);
    }
    let targets: Vec<NodeId> = (0..64).map(|_| NodeId::random(&mut rng)).collect();
    c.bench_function("routing/update_known", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % contacts.len();
            black_box(table.update(contacts[i], Time::from_millis(i as u64)))
        })
    });
    c.bench_function("routing/closest_20", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % targets.len();
            black_box(table.closest(&targets[i], 20))
        })
    });
}

/// The `kadlab compare` default network, with FIND_NODE tasks only.
fn default_network() -> (SimConfig, SimNetwork, Vec<LookupTask>) {
    let config = SimConfig {
        lookups: THROUGHPUT_LOOKUPS,
        value_lookups: 0,
        ..SimConfig::default()
    };
    let net = sim::build_network(&config);
    let tasks = sim::make_tasks(&net, &config);
    (config, net, tasks)
}

/// One strategy's lookups, one after the other, on its own copy of the
/// network; a copy is made afresh (untimed) each time the list starts over.
struct Sequential<'a> {
    warm: &'a SimNetwork,
    tasks: Vec<LookupTask>,
    lookup: Contender,
    net: Arc<SimNetwork>,
    next: usize,
}

impl Sequential<'_> {
    /// Wall time of the next `iters` lookups, each started at its task's
    /// start time on a clock of its own.
    fn time(&mut self, iters: u64) -> Duration {
        let mut elapsed = Duration::ZERO;
        for _ in 0..iters {
            if self.next == self.tasks.len() {
                self.net = Arc::new(self.warm.clone());
                self.next = 0;
            }
            let task = &self.tasks[self.next];
            self.next += 1;
            let began = Instant::now();
            let outcome = sim::lookup_from(
                &self.net,
                task.origin,
                task.target,
                task.mode,
                &self.lookup,
                task.start,
                &mut (),
            );
            elapsed += began.elapsed();
            black_box(outcome);
        }
        elapsed
    }
}

fn lookups(c: &mut Criterion) {
    let (config, net, mut tasks) = default_network();
    tasks.sort_by_key(|t| (t.start, t.index));

    let mut group = c.benchmark_group("sim/lookup_10k");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for strategy in StrategyName::ALL {
        let mut run = Sequential {
            warm: &net,
            tasks: tasks.clone(),
            lookup: LookupConfig::default().with_strategy(strategy).into(),
            net: Arc::new(net.clone()),
            next: 0,
        };
        group.bench_function(strategy.as_str(), |b| {
            b.iter_custom(|iters| run.time(iters))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("sim/throughput_10k");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(tasks.len() as u64));
    for strategy in StrategyName::ALL {
        let lookup = Contender::from(LookupConfig::default().with_strategy(strategy));
        group.bench_function(strategy.as_str(), |b| {
            b.iter(|| black_box(sim::run_strategy(&net, &tasks, &lookup, &config, &|| ())))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("sim");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    group.bench_function("copy_network_10k", |b| b.iter(|| net.clone()));
    group.finish();
}

/// A routable contact with a random id (decoding drops port 0 and 0.0.0.0).
fn contact(rng: &mut ChaCha8Rng) -> Contact {
    let ip = Ipv4Addr::new(10, rng.gen(), rng.gen(), rng.gen_range(1..255));
    Contact::new(
        NodeId::random(rng),
        SocketAddrV4::new(ip, rng.gen_range(1024..65535)),
    )
}

/// The messages of `krpc/*`, as a kadlab node sends them.
fn messages() -> Vec<(&'static str, Message)> {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let message = |body: Body, rng: &mut ChaCha8Rng| Message {
        transaction: rng.gen::<[u8; 4]>().to_vec(),
        version: Some(CLIENT_VERSION.to_vec()),
        read_only: false,
        requester: matches!(body, Body::Response(_)).then(|| contact(rng).addr),
        body,
    };
    let ping = Body::Query(Query {
        id: NodeId::random(&mut rng),
        method: Method::Ping,
    });
    let find_node = |n: usize, rng: &mut ChaCha8Rng| {
        Body::Response(ResponseBody {
            id: NodeId::random(rng),
            nodes: (0..n).map(|_| contact(rng)).collect(),
            ..ResponseBody::default()
        })
    };
    let nodes_8 = find_node(8, &mut rng);
    let nodes_20 = find_node(20, &mut rng);
    let get = Body::Response(ResponseBody {
        id: NodeId::random(&mut rng),
        token: Some(rng.gen::<[u8; 20]>().to_vec()),
        value: Some((0..256).map(|_| rng.gen()).collect()),
        ..ResponseBody::default()
    });
    vec![
        ("ping_query", message(ping, &mut rng)),
        ("find_node_response_8", message(nodes_8, &mut rng)),
        ("find_node_response_20", message(nodes_20, &mut rng)),
        ("get_response_value_256b", message(get, &mut rng)),
    ]
}

fn krpc(c: &mut Criterion) {
    let messages = messages();
    let mut group = c.benchmark_group("krpc");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (name, message) in &messages {
        let datagram = message.encode();
        assert_eq!(
            Message::decode(&datagram).as_ref(),
            Ok(message),
            "{name} round-trips"
        );
        group.throughput(Throughput::Bytes(datagram.len() as u64));
        group.bench_function(format!("encode/{name}"), |b| {
            b.iter(|| black_box(message).encode())
        });
        group.bench_function(format!("decode/{name}"), |b| {
            b.iter(|| Message::decode(black_box(&datagram)))
        });
    }
    group.finish();
}

// The codec runs before the simulator has churned through gigabytes of heap.
criterion_group!(benches, routing, krpc, lookups);
criterion_main!(benches);
