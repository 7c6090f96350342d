//! Filling routing tables before the lookups start.

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use std::sync::Arc;

use crate::contact::Contact;
use crate::driver::{lock, Clock};
use crate::routing::Heard;
use crate::sim::network::SimNetwork;
use crate::sim::upkeep::{self, sample_bucket};
use crate::sim::{stream, streams, virtual_time_runtime, SimConfig};
use crate::time::Time;

/// How tables are filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Warmup {
    /// Straight from the global id set, bucket by bucket (10⁵ nodes in
    /// seconds), then churn with periodic refresh for the warm-up duration.
    Oracle,
    /// Nodes up at the start join one by one, 100 ms apart, through the
    /// first of them: add the bootstrap contact, look up their own id
    /// (the `kademlia` rule, over the simulated network), then look up a
    /// random id in every bucket still short of k. Then churn with periodic
    /// refresh, as for `oracle`. Slow: about 15 lookups per node.
    Join,
}

impl fmt::Display for Warmup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warmup::Oracle => f.write_str("oracle"),
            Warmup::Join => f.write_str("join"),
        }
    }
}

impl FromStr for Warmup {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "oracle" => Ok(Warmup::Oracle),
            "join" => Ok(Warmup::Join),
            _ => Err(format!("{s:?} is not a warm-up mode; use oracle or join")),
        }
    }
}

/// Which nodes answer at `at`, as a dense bitmap: the warm-up asks this for
/// random nodes millions of times, and a 10⁵-entry `Vec<bool>` stays in
/// cache where the nodes' schedules do not.
fn answering(net: &SimNetwork, at: Time) -> Vec<bool> {
    (0..net.nodes.len() as u32)
        .map(|n| net.answers(n, at))
        .collect()
}

/// Fill every bucket of every node with up to `want` nodes that answer at
/// `at` (what a lookup into that bucket would find). Tell each table by the
/// Kademlia rule, resolving eviction pings by the oracle (a ping to a node
/// that answers is answered).
fn fill_buckets(net: &SimNetwork, at: Time, want: usize, rng: &mut ChaCha8Rng) {
    let up = answering(net, at);
    for n in 0..net.nodes.len() as u32 {
        let mut table = lock(&net.nodes[n as usize].table);
        for range in net.bucket_ranges(n) {
            for i in sample_bucket(net, range, want, rng, |m| up[m as usize]) {
                let (id, m) = net.ids.entry_at(i);
                let found = Contact::simulated(id, m);
                net.learn(&mut table, found, Heard::Answered, at, |o| up[o as usize]);
            }
        }
    }
}

/// Nodes up at time 0 join one by one, 100 ms apart, each through a node
/// that joined before it and is still up: a self-lookup, then a lookup
/// into every bucket still short of k. Joins overlap, as they would in a
/// real network. Nodes down at time 0 join when they first come up (see
/// [`upkeep`](crate::sim::upkeep)).
async fn join_one_by_one(net: &Arc<SimNetwork>, config: &SimConfig, clock: Clock) {
    let joiners: Vec<u32> = (0..net.nodes.len() as u32)
        .filter(|&n| net.is_up(n, Time::ZERO))
        .collect();
    let lookup = upkeep::upkeep_lookup(config);
    let mut rng = stream(config.seed, streams::WARMUP);
    let mut joins = Vec::with_capacity(joiners.len());
    for (i, &n) in joiners.iter().enumerate() {
        let at = clock.instant(Time::from_millis(100 * i as u64));
        tokio::time::sleep_until(at).await;
        let now = clock.now();
        let earlier = &joiners[..i];
        let bootstrap = (0..100)
            .filter_map(|_| earlier.get(rng.gen_range(0..earlier.len().max(1))))
            .find(|&&m| net.is_up(m, now))
            .map(|&m| net.nodes[m as usize].contact);
        if i > 0 && bootstrap.is_none() {
            continue;
        }
        let (net, lookup) = (Arc::clone(net), lookup.clone());
        let mut rng = stream(config.seed ^ u64::from(n), streams::WARMUP);
        joins.push(tokio::spawn(async move {
            upkeep::join(&net, n, &lookup, clock, bootstrap, &mut rng).await;
        }));
    }
    futures_util::future::join_all(joins).await;
}

/// Warm the network up as `config` says: fill the tables at time 0, then
/// run churn and upkeep until the lookup window opens.
pub(crate) fn warm_up(net: &Arc<SimNetwork>, config: &SimConfig) {
    if config.warmup == Warmup::Oracle {
        // Every node, up or not, starts with a full table of nodes up at
        // time 0; a node down at 0 comes back with it, already stale.
        fill_buckets(
            net,
            Time::ZERO,
            config.k,
            &mut stream(config.seed, streams::WARMUP),
        );
    }
    let runtime = virtual_time_runtime();
    runtime.block_on(async {
        let clock = Clock::starting_now();
        let upkeep = upkeep::spawn(net, config, clock, Time::ZERO, config.window_start());
        if config.warmup == Warmup::Join {
            join_one_by_one(net, config, clock).await;
        }
        futures_util::future::join_all(upkeep).await;
    });
}
