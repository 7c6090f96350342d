//! Wall time of the hot paths: routing-table update and `closest`, and one
//! simulated lookup per strategy. Run with `cargo bench --bench hot_paths`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use kadlab::contact::Contact;
use kadlab::id::NodeId;
use kadlab::lookup::{LookupConfig, StrategyName};
use kadlab::routing::{RoutingConfig, RoutingTable};
use kadlab::sim::{self, ChurnModel, SimConfig};
use kadlab::time::Time;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

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

fn lookups(c: &mut Criterion) {
    let config = SimConfig {
        nodes: 10_000,
        lookups: 20,
        value_lookups: 0,
        churn: ChurnModel::None,
        ..SimConfig::default()
    };
    let net = sim::build_network(&config);
    let tasks = sim::make_tasks(&net, &config);
    let mut group = c.benchmark_group("sim/20_lookups_10k_nodes");
    group.sample_size(10);
    for strategy in StrategyName::ALL {
        let lookup = LookupConfig::default().with_strategy(strategy);
        group.bench_function(strategy.as_str(), |b| {
            b.iter(|| black_box(sim::run_strategy(&net, &tasks, &lookup, &config, &|| ())))
        });
    }
    group.finish();
}

criterion_group!(benches, routing, lookups);
criterion_main!(benches);
