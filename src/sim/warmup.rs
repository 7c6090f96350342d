//! Filling routing tables before the lookups start.

use std::fmt;
use std::str::FromStr;

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::driver::lock;
use crate::id::ID_BITS;
use crate::routing::UpdateOutcome;
use crate::sim::network::SimNetwork;
use crate::sim::{stream, streams, SimConfig};
use crate::time::Time;

/// How tables are filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Warmup {
    /// Straight from the global id set, bucket by bucket (10⁵ nodes in
    /// seconds), then churn with periodic refresh for the warm-up duration.
    Oracle,
}

impl fmt::Display for Warmup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warmup::Oracle => f.write_str("oracle"),
        }
    }
}

impl FromStr for Warmup {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "oracle" => Ok(Warmup::Oracle),
            _ => Err(format!("{s:?} is not a warm-up mode; use oracle")),
        }
    }
}

/// Up to `want` nodes of sorted positions `range` for which `ok` holds,
/// chosen at random: every candidate for small ranges, random probes for
/// large ones (the far buckets of a big network hold half of it).
fn sample_bucket(
    net: &SimNetwork,
    range: std::ops::Range<usize>,
    want: usize,
    rng: &mut ChaCha8Rng,
    mut ok: impl FnMut(u32) -> bool,
) -> Vec<u32> {
    if range.len() <= want * 4 {
        let mut all: Vec<u32> = range
            .map(|i| net.ids.node_at(i))
            .filter(|&n| ok(n))
            .collect();
        all.shuffle(rng);
        all.truncate(want);
        return all;
    }
    let mut picked: Vec<u32> = Vec::with_capacity(want);
    for _ in 0..want * 8 {
        if picked.len() == want {
            break;
        }
        let n = net.ids.node_at(rng.gen_range(range.clone()));
        if !picked.contains(&n) && ok(n) {
            picked.push(n);
        }
    }
    picked
}

/// Tell node `n`'s table about nodes `heard` at `at`, resolving eviction
/// pings by the oracle (a ping to a node that is up is answered).
fn learn(net: &SimNetwork, n: u32, heard: &[u32], at: Time) {
    let mut table = lock(&net.nodes[n as usize].table);
    for &m in heard {
        if let UpdateOutcome::PingOldest { oldest } =
            table.update(net.nodes[m as usize].contact, at)
        {
            let alive = net.index_of(&oldest).is_some_and(|o| net.answers(o, at));
            table.on_ping_result(&oldest.id, alive, at);
        }
    }
}

/// Fill every bucket of every node with up to `want` nodes that are up at
/// `at` (what a lookup into that bucket would find).
fn fill_buckets(net: &SimNetwork, at: Time, want: usize, rng: &mut ChaCha8Rng, only_up: bool) {
    for n in 0..net.nodes.len() as u32 {
        if only_up && !net.is_up(n, at) {
            continue;
        }
        let owner = net.nodes[n as usize].contact.id;
        for bucket in (0..ID_BITS).rev() {
            let range = net.ids.bucket_range(&owner, bucket);
            if range.is_empty() {
                continue;
            }
            let heard = sample_bucket(net, range, want, rng, |m| net.is_up(m, at));
            learn(net, n, &heard, at);
        }
    }
}

/// Warm the network up as `config` says.
pub(crate) fn warm_up(net: &SimNetwork, config: &SimConfig) {
    let mut rng = stream(config.seed, streams::WARMUP);
    match config.warmup {
        Warmup::Oracle => {
            // Every node, up or not, starts with a full table of nodes up at
            // time 0; a node down at 0 comes back with it, already stale.
            fill_buckets(net, Time::ZERO, config.k, &mut rng, false);
            // Then churn: at each refresh, every node that is up looks into
            // each bucket and learns a few live nodes, which evicts dead
            // least-recently-seen entries by the Kademlia rule. Between
            // refreshes, tables go stale as nodes leave.
            let samples = (config.k / 2).max(1);
            let mut t = Time::ZERO + config.refresh_every;
            while !config.refresh_every.is_zero() && t <= config.window_start() {
                fill_buckets(net, t, samples, &mut rng, true);
                t = t + config.refresh_every;
            }
        }
    }
}
