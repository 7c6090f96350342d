//! Upkeep all through the run: refresh, rejoins and background lookups
//! keep tables fresh (and switching them off lets tables rot), returning
//! nodes rejoin, and the oracle shortcut matches real upkeep lookups.

use std::sync::Arc;
use std::time::Duration;

use kadlab::driver::lock;
use kadlab::lookup::{LookupConfig, StrategyName};
use kadlab::sim::{self, SimConfig, SimNetwork, Upkeep, Warmup};
use kadlab::time::Time;

/// The default network's churn and loss on 1,500 nodes, with no workload.
fn small(upkeep: Upkeep) -> SimConfig {
    SimConfig {
        nodes: 1_500,
        lookups: 0,
        value_lookups: 0,
        upkeep,
        ..SimConfig::default()
    }
}

/// Share of `n`'s routing-table entries whose node answers at `at`.
fn own_freshness(net: &SimNetwork, n: u32, at: Time) -> f64 {
    let table = lock(&net.nodes[n as usize].table);
    let entries: Vec<bool> = table
        .iter()
        .map(|e| net.index_of(&e.contact).is_some_and(|m| net.answers(m, at)))
        .collect();
    entries.iter().filter(|&&up| up).count() as f64 / entries.len().max(1) as f64
}

/// The network warmed up to the lookup window, then an hour of upkeep.
fn an_hour_later(config: &SimConfig) -> (Arc<SimNetwork>, f64, f64) {
    let net = Arc::new(sim::build_network(config));
    let (start, end) = (config.window_start(), config.window_end());
    let before = net.freshness(start);
    sim::run_upkeep(&net, config, start, end);
    let after = net.freshness(end);
    (net, before, after)
}

#[test]
fn upkeep_keeps_tables_fresh_through_the_lookup_window_and_off_lets_them_rot() {
    // With sessions of an hour, a fifth of a table's contacts die within
    // the 15 minutes they stay good, and a dead contact leaves only when a
    // newcomer finds it questionable or it fails three requests: about 0.7
    // is the steady state.
    let (_, before, after) = an_hour_later(&small(Upkeep::Oracle));
    assert!(before > 0.65, "fresh when the window opens: {before}");
    assert!(after > 0.65, "still fresh an hour later: {after}");
    let (_, before_off, after_off) = an_hour_later(&small(Upkeep::Off));
    assert!(
        after_off < before_off && after_off < after - 0.15,
        "without upkeep tables rot: {before_off:.3} then {after_off:.3}, against {after:.3}"
    );
}

/// Nodes down when the window opens that come back within its first 20
/// minutes and are still up at `end`.
fn returning(net: &SimNetwork, start: Time, end: Time) -> Vec<u32> {
    (0..net.nodes.len() as u32)
        .filter(|&n| {
            let back = net.nodes[n as usize]
                .schedule
                .up_intervals()
                .into_iter()
                .any(|(up, down)| {
                    up > start
                        && up < start + Duration::from_secs(1200)
                        && down.is_none_or(|d| d > end)
                });
            back && !net.is_up(n, start)
        })
        .collect()
}

#[test]
fn a_node_that_comes_back_rejoins() {
    for (upkeep, nodes) in [(Upkeep::Oracle, 1_500), (Upkeep::Lookups, 400)] {
        let config = SimConfig {
            nodes,
            ..small(upkeep)
        };
        let net = Arc::new(sim::build_network(&config));
        let start = config.window_start();
        let end = start + Duration::from_secs(1800);
        let back = returning(&net, start, end);
        assert!(back.len() >= 10, "{upkeep}: {} returning nodes", back.len());
        let mean = |net: &SimNetwork| {
            back.iter()
                .map(|&n| own_freshness(net, n, end))
                .sum::<f64>()
                / back.len() as f64
        };
        // Their tables as they left them, judged when they are back.
        let stale = mean(&net);
        sim::run_upkeep(&net, &config, start, end);
        let rejoined = mean(&net);
        assert!(
            rejoined > 0.65 && rejoined > stale + 0.1,
            "{upkeep}: returning nodes' tables {stale:.3} before, {rejoined:.3} after"
        );
    }
}

#[test]
fn with_join_warm_up_a_node_down_at_the_start_joins_when_it_first_comes_up() {
    for upkeep in [Upkeep::Oracle, Upkeep::Lookups] {
        let config = SimConfig {
            nodes: 300,
            warmup: Warmup::Join,
            ..small(upkeep)
        };
        let net = sim::build_network(&config);
        let start = config.window_start();
        let late: Vec<u32> = (0..net.nodes.len() as u32)
            .filter(|&n| !net.is_up(n, Time::ZERO) && net.is_up(n, start))
            .collect();
        assert!(late.len() >= 20, "{upkeep}: {} late joiners", late.len());
        for &n in &late {
            let len = lock(&net.nodes[n as usize].table).len();
            assert!(
                len >= 20,
                "{upkeep}: node {n} came up late and holds {len} contacts"
            );
        }
        let fresh = late
            .iter()
            .map(|&n| own_freshness(&net, n, start))
            .sum::<f64>()
            / late.len() as f64;
        assert!(
            fresh > 0.65,
            "{upkeep}: late joiners' tables are {fresh:.3} fresh"
        );
    }
}

#[test]
fn background_lookups_bring_traffic_and_stay_deterministic() {
    let quiet = small(Upkeep::Off);
    let busy = SimConfig {
        background_lookups: "30/h".parse().expect("a rate"),
        ..quiet.clone()
    };
    let datagrams = |config: &SimConfig| {
        let net = Arc::new(sim::build_network(config));
        let before = lock(&net.counters).datagrams;
        sim::run_upkeep(&net, config, config.window_start(), config.window_end());
        let after = lock(&net.counters).datagrams - before;
        (after, net.freshness(config.window_end()))
    };
    let (none, _) = datagrams(&quiet);
    let (some, fresh) = datagrams(&busy);
    assert_eq!(none, 0, "no upkeep and no background: no datagram");
    // 750 up nodes × 30 lookups × ≈ 40 datagrams each.
    assert!(some > 200_000, "background datagrams: {some}");
    assert_eq!(datagrams(&busy), (some, fresh), "same seed, same traffic");
    assert!("fast".parse::<sim::Rate>().is_err());
    assert_eq!("0.5/min".parse::<sim::Rate>().map(|r| r.per_hour), Ok(30.0));
}

/// Mean recall of `kademlia` and of `k-active` (the strategy whose recall
/// depends most on how fresh its α starting contacts are) over the workload
/// of `config`.
fn recalls(config: &SimConfig) -> [f64; 2] {
    let net = sim::build_network(config);
    let tasks = sim::make_tasks(&net, config);
    [StrategyName::Kademlia, StrategyName::KActive].map(|strategy| {
        let lookup = LookupConfig {
            k: config.k,
            strategy,
            ..LookupConfig::default()
        };
        let records = sim::run_strategy(&net, &tasks, &lookup.into(), config, &|| ());
        records.iter().map(|r| r.recall).sum::<f64>() / records.len() as f64
    })
}

#[test]
fn the_oracle_shortcut_gives_the_recall_of_real_upkeep_lookups() {
    // The default network's churn, loss and latency, at 1,000 nodes.
    let config = |upkeep| SimConfig {
        nodes: 1_000,
        lookups: 300,
        ..small(upkeep)
    };
    let shortcut = recalls(&config(Upkeep::Oracle));
    let real = recalls(&config(Upkeep::Lookups));
    let none = recalls(&config(Upkeep::Off));
    for i in 0..2 {
        assert!(
            (shortcut[i] - real[i]).abs() <= 0.03,
            "recall with the shortcut {shortcut:?}, with real lookups {real:?}"
        );
        // And the test can tell upkeep from none.
        assert!(
            none[i] < real[i] - 0.05,
            "recall without upkeep {none:?}, with {real:?}"
        );
    }
}
