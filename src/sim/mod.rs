//! A deterministic simulated network for comparing lookup strategies.
//!
//! N nodes with their own [`RoutingTable`]s
//! live in one process. Time is virtual: an event loop (`sim/engine.rs`) pops the
//! earliest pending thing (a datagram arriving, a timeout, a lookup's
//! deadline) and moves the clock to it, so an hour of traffic runs in
//! seconds. Lookups go through the same sans-IO
//! [`LookupDriver`](crate::driver::LookupDriver) the UDP node's tokio shell
//! drives, so a simulated lookup takes exactly the steps of a real one. With
//! one thread per network, no wall-clock reads and seeded models, a seed
//! fully determines a run.
//!
//! Models: per-pair log-normal latency, i.i.d. datagram loss, churn (none,
//! exponential or Weibull sessions with equal-mean downtimes), and a fraction
//! of unreachable nodes that never answer.

pub mod adversary;
pub mod churn;
pub(crate) mod engine;
pub mod ids;
pub mod network;
pub mod routes;
pub mod upkeep;
mod warmup;
pub mod workload;

use std::collections::BTreeMap;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

pub use adversary::{Adversaries, AdversaryMode};
pub use churn::{ChurnModel, Schedule};
pub use network::{check_answer, LatencyModel, SimNetwork, SimNode};
pub use upkeep::{Rate, Upkeep};
pub use warmup::Warmup;
pub use workload::{
    lookup_from, make_tasks, run_contenders, run_from, run_strategy, store_values, value_for,
    LookupRecord, LookupTask,
};

use crate::contact::Contact;
use crate::id::NodeId;
use crate::routing::{RoutingConfig, RoutingTable};
use crate::time::Time;

/// Everything that defines a simulated network and its workload.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// Number of nodes.
    pub nodes: usize,
    /// Bucket size and reply size.
    pub k: usize,
    /// FIND_NODE lookups per strategy.
    pub lookups: usize,
    /// FIND_VALUE lookups per strategy (values stored at the start of the
    /// lookup window, looked up during it).
    pub value_lookups: usize,
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Session model.
    pub churn: ChurnModel,
    /// Delay model.
    pub latency: LatencyModel,
    /// Fraction of nodes that never answer (behind NAT).
    pub unreachable: f64,
    /// How tables are filled before the lookups.
    pub warmup: Warmup,
    /// Virtual time of churn (with upkeep) between filling the tables and
    /// the first lookup, so that tables reach their steady state.
    pub warmup_duration: Duration,
    /// How nodes keep their tables up, all through the run.
    pub upkeep: Upkeep,
    /// A bucket untouched this long is refreshed (BEP 5: 15 minutes).
    pub refresh_every: Duration,
    /// A contact silent this long is questionable (BEP 5: 15 minutes).
    pub questionable_after: Duration,
    /// Failed requests in a row that make a contact bad.
    pub bad_after: u8,
    /// Lookups of random ids each up node starts, as background traffic.
    pub background_lookups: Rate,
    /// Lookups start uniformly over this window after warm-up.
    pub lookup_window: Duration,
    /// Per-request timeout.
    pub rpc_timeout: Duration,
    /// The seed of every random choice.
    pub seed: u64,
    /// Adversarial nodes, if any.
    pub adversaries: Adversaries,
}

impl Default for SimConfig {
    /// The built-in default network of `kadlab compare`.
    fn default() -> Self {
        SimConfig {
            nodes: 10_000,
            k: 20,
            lookups: 1_000,
            value_lookups: 200,
            loss: 0.01,
            churn: ChurnModel::Exponential {
                mean: Duration::from_secs(3600),
            },
            latency: LatencyModel::default(),
            unreachable: 0.0,
            warmup: Warmup::Oracle,
            warmup_duration: Duration::from_secs(3600),
            upkeep: Upkeep::default(),
            refresh_every: crate::routing::BEP5_FRESHNESS,
            questionable_after: crate::routing::BEP5_FRESHNESS,
            bad_after: RoutingConfig::default().bad_after,
            background_lookups: Rate::default(),
            lookup_window: Duration::from_secs(3600),
            rpc_timeout: crate::lookup::DEFAULT_RPC_TIMEOUT,
            seed: 1,
            adversaries: Adversaries::default(),
        }
    }
}

impl SimConfig {
    /// End of the whole run: warm-up, lookup window, and slack for the last
    /// lookups to finish.
    pub fn horizon(&self) -> Time {
        Time::ZERO + self.warmup_duration + self.lookup_window + Duration::from_secs(600)
    }

    /// When the lookup window opens.
    pub fn window_start(&self) -> Time {
        Time::ZERO + self.warmup_duration
    }

    /// When the lookup window closes: upkeep runs until then.
    pub fn window_end(&self) -> Time {
        self.window_start() + self.lookup_window
    }

    /// The network's settings, key by key, as reports print them (the
    /// lookup parameters are the caller's to add: they belong to the
    /// contenders, not the network).
    pub fn settings(&self) -> BTreeMap<String, serde_json::Value> {
        let mut settings: BTreeMap<String, serde_json::Value> = [
            ("nodes", json!(self.nodes)),
            ("k", json!(self.k)),
            ("lookups", json!(self.lookups)),
            ("value_lookups", json!(self.value_lookups)),
            ("loss", json!(self.loss)),
            ("churn", json!(self.churn.to_string())),
            ("unreachable", json!(self.unreachable)),
            (
                "latency_median_ms",
                json!(self.latency.median.as_millis() as u64),
            ),
            ("latency_sigma", json!(self.latency.sigma)),
            (
                "warmup",
                json!(format!(
                    "{}+{}s",
                    self.warmup,
                    self.warmup_duration.as_secs()
                )),
            ),
            ("upkeep", json!(self.upkeep.to_string())),
            (
                "background_lookups",
                json!(self.background_lookups.to_string()),
            ),
            ("rpc_timeout_ms", json!(self.rpc_timeout.as_millis() as u64)),
            ("seed", json!(self.seed)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let a = &self.adversaries;
        if a.any() {
            settings.insert("adversaries".into(), json!(a.fraction));
            settings.insert("adversary_mode".into(), json!(a.mode.to_string()));
            if let Some(target) = a.eclipse {
                settings.insert("eclipse".into(), json!(target.to_string()));
                settings.insert("sybils".into(), json!(a.sybils));
            }
        }
        settings
    }

    /// Whether every node answers every request all through the run: no
    /// churn, loss, NAT or adversary. Upkeep can then take shortcuts that
    /// only skip work whose outcome is known (see [`upkeep`]).
    pub fn everyone_answers(&self) -> bool {
        self.churn == ChurnModel::None
            && self.loss == 0.0
            && self.unreachable == 0.0
            && !self.adversaries.any()
    }

    /// The routing-table tunables every simulated node uses.
    pub fn routing(&self) -> RoutingConfig {
        RoutingConfig {
            k: self.k,
            bad_after: self.bad_after,
            questionable_after: self.questionable_after,
            refresh_interval: self.refresh_every,
            ..RoutingConfig::default()
        }
    }
}

/// Independent random streams derived from one seed, so that changing, say,
/// the number of lookups does not change the network.
pub(crate) fn stream(seed: u64, purpose: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(purpose);
    rng
}

/// Stream numbers of [`stream`].
pub(crate) mod streams {
    pub(crate) const IDS: u64 = 1;
    pub(crate) const CHURN: u64 = 2;
    pub(crate) const WARMUP: u64 = 3;
    pub(crate) const WORKLOAD: u64 = 4;
    pub(crate) const LOSS: u64 = 5;
    pub(crate) const UNREACHABLE: u64 = 6;
    pub(crate) const ADVERSARIES: u64 = 7;
    pub(crate) const SYBILS: u64 = 8;
    pub(crate) const UPKEEP: u64 = 9;
    pub(crate) const REJOIN: u64 = 10;
    pub(crate) const BACKGROUND: u64 = 11;
}

/// Let `net` live from `from` to `until` with nothing but churn and its
/// upkeep (refresh, rejoins, background lookups; see [`upkeep`]): what the
/// network does between the workload's lookups, for experiments on how
/// fresh tables stay.
pub fn run_upkeep(net: &SimNetwork, config: &SimConfig, from: Time, until: Time) {
    let mut upkeeps = upkeep::Upkeeps::new(net, config, from, until);
    let mut processes = upkeeps.processes::<()>();
    let lookup = upkeep::upkeep_lookup(config);
    let mut engine = engine::Engine::new(net, from);
    engine::run(&mut engine, &mut processes, |engine, done| {
        let _ = upkeep::carry_on(engine, &lookup, done);
    });
}

/// Compare `contenders` on the network of `config`: build and warm it,
/// draw the workload, and run every contender over it
/// ([`run_contenders`]). Returns one record list per contender, in order,
/// for [`Report::new`](crate::report::Report::new); `on_done` is called
/// after each lookup, from several threads.
pub fn compare(
    config: &SimConfig,
    contenders: &[crate::lookup::Contender],
    on_done: &(dyn Fn() + Sync),
) -> Vec<Vec<LookupRecord>> {
    let net = build_network(config);
    let tasks = make_tasks(&net, config);
    run_contenders(net, &tasks, contenders, config, on_done)
}

/// Sweep a parameter: one contender per value, built by `make`, all run on
/// the same network and workload ([`compare`]). Returns one record list per
/// value, in order: the points of a cost/accuracy curve, as `kadlab sweep`
/// draws them for the built-in strategies.
pub fn sweep<V: Copy>(
    config: &SimConfig,
    values: &[V],
    make: impl Fn(V) -> crate::lookup::Contender,
    on_done: &(dyn Fn() + Sync),
) -> Vec<Vec<LookupRecord>> {
    let contenders: Vec<_> = values.iter().map(|&v| make(v)).collect();
    compare(config, &contenders, on_done)
}

/// Build the network of `config` and warm it up: the state every strategy
/// starts from.
pub fn build_network(config: &SimConfig) -> SimNetwork {
    let net = new_network(config);
    warmup::warm_up(&net, config);
    net
}

/// The nodes of `config` (ids, sessions, adversaries) with empty routing
/// tables: what [`build_network`] warms up, for callers that need only
/// who is in the network and when.
pub fn new_network(config: &SimConfig) -> SimNetwork {
    let mut id_rng = stream(config.seed, streams::IDS);
    let mut churn_rng = stream(config.seed, streams::CHURN);
    let mut nat_rng = stream(config.seed, streams::UNREACHABLE);
    let horizon = config.horizon();
    let routing = config.routing();
    let node = |i: usize, id: NodeId, schedule: Schedule, unreachable: bool| SimNode {
        contact: Contact::simulated(id, i as u32),
        schedule,
        unreachable,
        adversary: false,
        table: std::sync::Mutex::new(RoutingTable::new(id, routing.clone(), Time::ZERO)),
        store: Default::default(),
    };
    let mut nodes: Vec<SimNode> = (0..config.nodes)
        .map(|i| {
            let id = NodeId::random(&mut id_rng);
            let schedule = Schedule::generate(&config.churn, horizon, &mut churn_rng);
            let unreachable = config.unreachable > 0.0 && nat_rng.gen_bool(config.unreachable);
            node(i, id, schedule, unreachable)
        })
        .collect();
    add_adversaries(&mut nodes, config, node);
    let mut net = SimNetwork::new(
        nodes,
        config.latency,
        config.loss,
        config.k,
        config.seed,
        stream(config.seed, streams::LOSS),
    );
    net.adversary_mode = config.adversaries.mode;
    // Every table refers to the network's directory of ids, so that a
    // contact costs 4 bytes instead of 26.
    for n in 0..net.nodes.len() {
        let table = net.directory_table(n as u32, routing.clone());
        net.nodes[n].table = std::sync::Mutex::new(table);
    }
    net
}

/// Turn a seeded fraction of `nodes` into adversaries and append the
/// Sybils, all always up and reachable. Uses streams of their own, so the
/// honest nodes' ids and schedules are those of the same seed without
/// adversaries.
fn add_adversaries(
    nodes: &mut Vec<SimNode>,
    config: &SimConfig,
    node: impl Fn(usize, NodeId, Schedule, bool) -> SimNode,
) {
    let a = &config.adversaries;
    let count = ((a.fraction * nodes.len() as f64).round() as usize).min(nodes.len());
    let mut rng = stream(config.seed, streams::ADVERSARIES);
    for i in rand::seq::index::sample(&mut rng, nodes.len(), count) {
        let n = &mut nodes[i];
        n.adversary = true;
        n.unreachable = false;
        n.schedule = Schedule::always_up();
    }
    if let Some(target) = a.eclipse {
        let mut rng = stream(config.seed, streams::SYBILS);
        for _ in 0..a.sybils {
            let i = nodes.len();
            let mut sybil = node(
                i,
                adversary::sybil_id(&target, &mut rng),
                Schedule::always_up(),
                false,
            );
            sybil.adversary = true;
            nodes.push(sybil);
        }
    }
}
