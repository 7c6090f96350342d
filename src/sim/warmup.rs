//! Filling routing tables before the lookups start.

use std::fmt;
use std::str::FromStr;

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use std::sync::Arc;

use crate::contact::Contact;
use crate::driver::{lock, Clock};
use crate::id::ID_BITS;
use crate::lookup::{LookupConfig, LookupMode};
use crate::sim::network::SimNetwork;
use crate::sim::workload::lookup_from;
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

/// Up to `want` sorted positions of `range` whose node is in `up`, chosen
/// at random: every candidate for small ranges, random probes for large ones
/// (the far buckets of a big network hold half of it).
fn sample_bucket(
    net: &SimNetwork,
    range: std::ops::Range<usize>,
    want: usize,
    rng: &mut ChaCha8Rng,
    up: &[bool],
) -> Vec<usize> {
    let ok = |i: usize| up[net.ids.node_at(i) as usize];
    if range.len() <= want * 4 {
        let mut all: Vec<usize> = range.filter(|&i| ok(i)).collect();
        all.shuffle(rng);
        all.truncate(want);
        return all;
    }
    let mut picked: Vec<usize> = Vec::with_capacity(want);
    for _ in 0..want * 8 {
        if picked.len() == want {
            break;
        }
        let i = rng.gen_range(range.clone());
        if !picked.contains(&i) && ok(i) {
            picked.push(i);
        }
    }
    picked
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
fn fill_buckets(net: &SimNetwork, at: Time, want: usize, rng: &mut ChaCha8Rng, only_up: bool) {
    let up = answering(net, at);
    for n in 0..net.nodes.len() as u32 {
        if only_up && !net.is_up(n, at) {
            continue;
        }
        let owner = net.nodes[n as usize].contact.id;
        let mut table = lock(&net.nodes[n as usize].table);
        for bucket in (0..ID_BITS).rev() {
            // Ids sharing more than `159 - bucket` bits with the owner fill
            // this bucket and all nearer ones; once only the owner is left,
            // every nearer bucket is empty.
            if net.ids.prefix_range(&owner, ID_BITS - 1 - bucket).len() <= 1 {
                break;
            }
            let range = net.ids.bucket_range(&owner, bucket);
            for i in sample_bucket(net, range, want, rng, &up) {
                let (id, m) = net.ids.entry_at(i);
                let heard = Contact::simulated(id, m);
                net.learn(&mut table, heard, at, |o| up[o as usize]);
            }
        }
    }
}

/// Nodes up at time 0 join one by one through the first of them, each with
/// a self-lookup and then a lookup into every bucket still short of k.
fn join_one_by_one(net: &Arc<SimNetwork>, config: &SimConfig, rng: &mut ChaCha8Rng) {
    let joiners: Vec<u32> = (0..net.nodes.len() as u32)
        .filter(|&n| net.is_up(n, Time::ZERO))
        .collect();
    let Some((&bootstrap, rest)) = joiners.split_first() else {
        return;
    };
    let lookup = LookupConfig {
        k: config.k,
        rpc_timeout_ms: u64::try_from(config.rpc_timeout.as_millis()).unwrap_or(u64::MAX),
        ..LookupConfig::default()
    };
    let runtime = virtual_time_runtime();
    runtime.block_on(async {
        let clock = Clock::starting_now();
        let bootstrap = net.nodes[bootstrap as usize].contact;
        for (i, &n) in rest.iter().enumerate() {
            tokio::time::sleep_until(clock.instant(Time::from_millis(100 * i as u64))).await;
            let node = &net.nodes[n as usize];
            let _ = lock(&node.table).update(bootstrap, clock.now());
            let own = node.contact.id;
            let mut targets = vec![own];
            let mut refreshed = false;
            while let Some(target) = targets.pop() {
                let _ = lookup_from(
                    net,
                    n,
                    target,
                    LookupMode::FindNode,
                    &lookup,
                    clock,
                    &mut (),
                )
                .await;
                if !refreshed {
                    refreshed = true;
                    let buckets = lock(&node.table).buckets_to_fill();
                    targets.extend(buckets.into_iter().map(|b| own.random_in_bucket(b, rng)));
                }
            }
        }
    });
}

/// Warm the network up as `config` says.
pub(crate) fn warm_up(net: &Arc<SimNetwork>, config: &SimConfig) {
    let mut rng = stream(config.seed, streams::WARMUP);
    match config.warmup {
        // Every node, up or not, starts with a full table of nodes up at
        // time 0; a node down at 0 comes back with it, already stale.
        Warmup::Oracle => fill_buckets(net, Time::ZERO, config.k, &mut rng, false),
        Warmup::Join => join_one_by_one(net, config, &mut rng),
    }
    // Then churn: at each refresh, every node that is up looks into each
    // bucket and learns a few live nodes, which evicts dead
    // least-recently-seen entries by the Kademlia rule. Between refreshes,
    // tables go stale as nodes leave.
    let samples = (config.k / 2).max(1);
    let mut t = Time::ZERO + config.refresh_every;
    while !config.refresh_every.is_zero() && t <= config.window_start() {
        fill_buckets(net, t, samples, &mut rng, true);
        t = t + config.refresh_every;
    }
}
