//! Filling routing tables before the lookups start.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::contact::Contact;
use crate::driver::{lock, DriverObserver};
use crate::id::NodeId;
use crate::lookup::Contender;
use crate::routing::Heard;
use crate::sim::engine::{self, Engine, Process};
use crate::sim::network::SimNetwork;
use crate::sim::upkeep::{self, sample_bucket, Then, Upkeeps};
use crate::sim::{stream, streams, SimConfig};
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
///
/// The draws come from one random stream, node after node, so they are
/// made in order, a chunk of nodes at a time; while one chunk is drawn, the
/// tables of the one before are told in parallel, each its own nodes in
/// the order drawn, so the result does not depend on the number of
/// threads. A million nodes' tables are told about 3·10⁸ contacts, each a
/// random place in the id set: most of the cost is waiting for memory, so
/// each node's contacts are read in one pass before its table is told.
fn fill_buckets(net: &SimNetwork, at: Time, want: usize, rng: &mut ChaCha8Rng) {
    /// Nodes drawn for at a time.
    const CHUNK: u32 = 4096;
    let up = answering(net, at);
    let everyone_up = up.iter().all(|&u| u);
    let answers = |m: u32| up[m as usize];
    let count = net.nodes.len() as u32;
    let draw = |nodes: Range<u32>, rng: &mut ChaCha8Rng| -> Drawn {
        let mut drawn = Drawn {
            nodes: nodes.clone(),
            picks: Vec::new(),
            starts: Vec::with_capacity(nodes.len() + 1),
        };
        drawn.starts.push(0);
        for n in nodes {
            for range in net.bucket_ranges(n) {
                let ok = |i: usize| everyone_up || answers(net.ids.node_at(i));
                drawn.picks.extend(sample_bucket(range, want, rng, ok));
            }
            drawn.starts.push(drawn.picks.len());
        }
        drawn
    };
    let tell = |drawn: Drawn| {
        use rayon::prelude::*;
        let first_node = drawn.nodes.start;
        drawn.nodes.clone().into_par_iter().for_each(|n| {
            let j = (n - first_node) as usize;
            let found: Vec<Contact> = drawn.picks[drawn.starts[j]..drawn.starts[j + 1]]
                .iter()
                .map(|&i| {
                    // The id from the directory, which the table reads to
                    // check the contact: one random read of a node instead of
                    // two, and here, where the reads of a node's contacts
                    // overlap.
                    let m = net.ids.node_at(i);
                    let id = net.directory.id(m).copied().unwrap_or(NodeId::ZERO);
                    Contact::simulated(id, m)
                })
                .collect();
            let mut table = lock(&net.nodes[n as usize].table);
            for &contact in &found {
                net.learn(&mut table, contact, Heard::Answered, at, answers);
            }
            table.shrink_to_fit();
        });
    };
    let mut drawn = draw(0..count.min(CHUNK), rng);
    for start in (CHUNK..count).step_by(CHUNK as usize) {
        let next = start..count.min(start + CHUNK);
        let (later, ()) = rayon::join(|| draw(next, rng), || tell(drawn));
        drawn = later;
    }
    tell(drawn);
}

/// The nodes one chunk of [`fill_buckets`] drew for each of `nodes`: node
/// `nodes.start + j` has the sorted positions `picks[starts[j]..starts[j + 1]]`.
struct Drawn {
    nodes: Range<u32>,
    picks: Vec<usize>,
    starts: Vec<usize>,
}

/// Nodes up at time 0 join one by one, 100 ms apart, each through a node
/// that joined before it and is still up: a self-lookup, then a lookup
/// into every bucket still short of k. Joins overlap, as they would in a
/// real network. Nodes down at time 0 join when they first come up (see
/// [`upkeep`](crate::sim::upkeep)).
struct Joins {
    joiners: Vec<u32>,
    next: usize,
    rng: ChaCha8Rng,
    lookup: Contender,
    seed: u64,
}

impl Joins {
    fn new(net: &SimNetwork, config: &SimConfig) -> Joins {
        Joins {
            joiners: (0..net.nodes.len() as u32)
                .filter(|&n| net.is_up(n, Time::ZERO))
                .collect(),
            next: 0,
            rng: stream(config.seed, streams::WARMUP),
            lookup: upkeep::upkeep_lookup(config),
            seed: config.seed,
        }
    }
}

impl<W: DriverObserver> Process<Then, W> for Joins {
    fn next_at(&self) -> Option<Time> {
        (self.next < self.joiners.len()).then(|| Time::from_millis(100 * self.next as u64))
    }

    fn fire(&mut self, engine: &mut Engine<'_, Then, W>) {
        let net = engine.net();
        let now = engine.now();
        let i = self.next;
        self.next += 1;
        let n = self.joiners[i];
        let earlier = &self.joiners[..i];
        let bootstrap = (0..100)
            .filter_map(|_| earlier.get(self.rng.gen_range(0..earlier.len().max(1))))
            .find(|&&m| net.is_up(m, now))
            .map(|&m| net.nodes[m as usize].contact);
        if i > 0 && bootstrap.is_none() {
            return;
        }
        let rng = stream(self.seed ^ u64::from(n), streams::WARMUP);
        upkeep::join(engine, n, &self.lookup, bootstrap, rng);
    }
}

/// When the oracle warm-up fills the tables: at time 0, or, on a network
/// where every node answers and nobody looks anything up, one refresh
/// interval before the window opens.
///
/// Where every node answers, a refresh can change only node states, never
/// which contacts a table holds: a full bucket's learned nodes end in the
/// replacement cache after an answered ping. The warm-up's earlier passes
/// would run O(N log N) work, most of the set-up of a million nodes, for
/// states that the last interval's refresh sets again. Filling one
/// interval before the window leaves each table as that refresh finds it:
/// every contact heard one interval ago, every bucket due.
///
/// With background lookups the warm-up is simulated whole, for they do
/// teach tables new contacts.
pub(crate) fn fill_time(config: &SimConfig) -> Time {
    if config.everyone_answers() && config.background_lookups.per_hour == 0.0 {
        Time::ZERO + config.warmup_duration.saturating_sub(config.refresh_every)
    } else {
        Time::ZERO
    }
}

/// Warm the network up as `config` says: fill the tables (see
/// [`fill_time`]), then run churn and upkeep until the lookup window opens.
pub(crate) fn warm_up(net: &SimNetwork, config: &SimConfig) {
    let from = if config.warmup == Warmup::Oracle {
        // Every node, up or not, starts with a full table of nodes up then;
        // a node down then comes back with it, already stale.
        let at = fill_time(config);
        fill_buckets(net, at, config.k, &mut stream(config.seed, streams::WARMUP));
        at
    } else {
        Time::ZERO
    };
    let mut upkeeps = Upkeeps::new(net, config, from, config.window_start());
    let mut joins = (config.warmup == Warmup::Join).then(|| Joins::new(net, config));
    let mut processes = upkeeps.processes::<()>();
    if let Some(joins) = joins.as_mut() {
        processes.push(joins);
    }
    let lookup = upkeep::upkeep_lookup(config);
    let mut engine = Engine::new(net, Time::ZERO);
    engine::run(&mut engine, &mut processes, |engine, done| {
        let _ = upkeep::carry_on(engine, &lookup, done);
    });
}
