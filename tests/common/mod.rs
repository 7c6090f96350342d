//! Scenario-test harness for the lookup strategies.
//!
//! A scenario is written in *node numbers*. Node `n` has the id
//! `target XOR n` (n in the last four bytes), so its XOR distance to the
//! target is exactly `n`: a test reads like a picture of the keyspace, where
//! 5 is closer than 10 and "the k closest" means "the k smallest numbers".
//! The local node is [`ME`], the id farthest from the target (every bit
//! flipped).
//!
//! - [`Setup`]: a strategy, small parameters (α = δ = d = β = 2, k = 4,
//!   no hedge and one vouch unless a test says otherwise), the target and
//!   the mode. `start(table)` starts a
//!   lookup from the routing table's closest contacts, as
//!   `LookupConfig::start` would.
//! - [`Net`]: a scripted network: who answers with which nodes (and maybe a
//!   value), who answers with an error, who stays silent, who is slow. A
//!   node the lookup asks but the script does not mention is a test bug, and
//!   panics.
//! - [`Driver`]: carries out the lookup's actions on a `Net` in virtual time
//!   and records a [`Trace`]: every batch sent, every reply the lookup
//!   ignored, and the outcome. It drives a `Box<dyn LookupStrategy>` from
//!   a `Setup`, or (`Driver::with_lookup`) a lookup of a concrete type, so
//!   that a test can look inside its rule while it runs.
//!
//! Time: a reply (or error) arrives [`LATENCY_MS`] after its request unless
//! `Net::delay` says otherwise. Replies are delivered in order of arrival;
//! ties go in the order the requests were sent, so with equal latencies the
//! first node asked is the first to answer. When the lookup waits and no
//! reply arrives before its deadline, the driver jumps to the deadline and
//! polls (which is how requests time out).
//!
//! Whatever the scenario, the driver checks the rules every strategy shares:
//! the local node is never asked, no node is asked twice, and the result is
//! sorted, distinct, at most k long and free of the local node.

// Each scenario file uses a different part of the harness.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use kadlab::contact::Contact;
use kadlab::id::{NodeId, ID_LEN};
use kadlab::lookup::{
    Budget, EndReason, LookupAction, LookupConfig, LookupMode, LookupOutcome, LookupSpec,
    LookupStats, LookupStrategy, Reply, StrategyName,
};
use kadlab::time::Time;

/// The local node's number: the id at the largest distance from the target.
/// (So no scenario node may be numbered `u32::MAX`.)
pub const ME: u32 = u32::MAX;

/// How long a reply takes unless `Net::delay` says otherwise.
pub const LATENCY_MS: u64 = 10;

/// The per-request timeout of every [`Setup`] (the default 2 s).
pub const RPC_TIMEOUT_MS: u64 = 2000;

/// Translation between node numbers and ids, relative to one target.
#[derive(Clone, Copy, Debug)]
pub struct Ids {
    /// The key looked up; node `n` is at distance `n` from it.
    pub target: NodeId,
}

impl Ids {
    /// The id of node `n`: `target XOR n` (or the farthest id, for [`ME`]).
    pub fn id(&self, n: u32) -> NodeId {
        let mut bytes = [0u8; ID_LEN];
        if n == ME {
            bytes = [0xff; ID_LEN];
        } else {
            bytes[ID_LEN - 4..].copy_from_slice(&n.to_be_bytes());
        }
        for (b, t) in bytes.iter_mut().zip(self.target.0) {
            *b ^= t;
        }
        NodeId(bytes)
    }

    /// The contact of node `n`.
    pub fn contact(&self, n: u32) -> Contact {
        Contact::simulated(self.id(n), n)
    }

    /// The contacts of nodes `ns`, in that order.
    pub fn contacts(&self, ns: &[u32]) -> Vec<Contact> {
        ns.iter().map(|&n| self.contact(n)).collect()
    }

    /// The number of the node with this id.
    pub fn number(&self, id: &NodeId) -> u32 {
        let d = id.distance(&self.target).0;
        if d == [0xff; ID_LEN] {
            return ME;
        }
        assert!(
            d[..ID_LEN - 4].iter().all(|&b| b == 0),
            "{id:?} is not a scenario node"
        );
        u32::from_be_bytes(d[ID_LEN - 4..].try_into().unwrap())
    }

    /// The numbers of these contacts, in order.
    pub fn numbers(&self, contacts: &[Contact]) -> Vec<u32> {
        contacts.iter().map(|c| self.number(&c.id)).collect()
    }
}

/// A strategy with its parameters, the target and the mode.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Strategy and parameters, as a configuration file would give them.
    pub config: LookupConfig,
    /// The target, and so the ids of the nodes.
    pub ids: Ids,
    /// FIND_NODE or FIND_VALUE.
    pub mode: LookupMode,
}

impl Setup {
    /// `strategy` with α = δ = d = 2, k = 4, no budget, 2 s request and
    /// round timeouts; FIND_NODE of the all-zero target.
    pub fn new(strategy: StrategyName) -> Setup {
        Setup {
            config: LookupConfig {
                strategy,
                alpha: 2,
                k: 4,
                delta: 2,
                budget: Budget::Unlimited,
                rpc_timeout_ms: RPC_TIMEOUT_MS,
                round_timeout_ms: RPC_TIMEOUT_MS,
                paths: 2,
                seeds: None,
                beta: 2,
                hedge_ms: 0,
                vouches: 1,
                failed_vouches: 0,
            },
            ids: Ids {
                target: NodeId::ZERO,
            },
            mode: LookupMode::FindNode,
        }
    }

    /// With parallelism α.
    pub fn alpha(mut self, alpha: usize) -> Setup {
        self.config.alpha = alpha;
        self
    }

    /// With β (`gated` only).
    pub fn beta(mut self, beta: usize) -> Setup {
        self.config.beta = beta;
        self
    }

    /// With a hedge of `ms` milliseconds (`gated` only; 0 never hedges).
    pub fn hedge_ms(mut self, ms: u64) -> Setup {
        self.config.hedge_ms = ms;
        self
    }

    /// With `vouches` (`gated` only).
    pub fn vouches(mut self, vouches: usize) -> Setup {
        self.config.vouches = vouches;
        self
    }

    /// With `failed_vouches` (`gated` only; 0 never).
    pub fn failed_vouches(mut self, failed_vouches: usize) -> Setup {
        self.config.failed_vouches = failed_vouches;
        self
    }

    /// With result size k.
    pub fn k(mut self, k: usize) -> Setup {
        self.config.k = k;
        self
    }

    /// Starting from this many routing-table contacts.
    pub fn seeds(mut self, seeds: usize) -> Setup {
        self.config.seeds = Some(seeds);
        self
    }

    /// With δ (`delta` only).
    pub fn delta(mut self, delta: usize) -> Setup {
        self.config.delta = delta;
        self
    }

    /// With a request budget (`delta` only).
    pub fn budget(mut self, budget: Budget) -> Setup {
        self.config.budget = budget;
        self
    }

    /// With d disjoint paths (`disjoint` only).
    pub fn paths(mut self, d: usize) -> Setup {
        self.config.paths = d;
        self
    }

    /// With a round timeout (`query-rest` only).
    pub fn round_timeout_ms(mut self, ms: u64) -> Setup {
        self.config.round_timeout_ms = ms;
        self
    }

    /// A FIND_VALUE lookup of the BEP 44 immutable item `value`: the target
    /// becomes the value's hash, and node numbers are distances to it.
    pub fn find_value(mut self, value: &[u8]) -> Setup {
        self.ids.target = NodeId::of_immutable_value(value);
        self.mode = LookupMode::FindValue;
        self
    }

    /// The same walk in FIND_VALUE mode, without changing the target.
    pub fn find_value_mode(mut self) -> Setup {
        self.mode = LookupMode::FindValue;
        self
    }

    /// The routing table's contacts a lookup starts from, as
    /// `LookupConfig::start` picks them: the `seed_count()` closest (α for
    /// query-rest and k-active, δ for `delta`, k for `kademlia` and
    /// `disjoint`, unless `seeds` is set), closest first.
    pub fn seed_contacts(&self, table: &[u32]) -> Vec<Contact> {
        let mut closest = table.to_vec();
        closest.sort_unstable(); // a node's number is its distance
        closest.truncate(self.config.seed_count());
        self.ids.contacts(&closest)
    }

    /// The spec of this setup's lookups (local node [`ME`]).
    pub fn spec(&self) -> LookupSpec {
        LookupSpec {
            local: self.ids.id(ME),
            target: self.ids.target,
            mode: self.mode,
            k: self.config.k,
            rpc_timeout: self.config.rpc_timeout(),
        }
    }

    /// Start a lookup from a routing table holding the nodes `table`. Like
    /// `LookupConfig::start`, the lookup starts from the table's
    /// `seed_count()` closest contacts (see [`Setup::seed_contacts`]).
    pub fn start(&self, table: &[u32]) -> Box<dyn LookupStrategy> {
        self.config.validate().expect("a valid configuration");
        self.config
            .start_from(self.spec(), &self.seed_contacts(table))
    }

    /// Run a lookup from `table` over `net` to the end.
    pub fn run(&self, table: &[u32], net: &Net) -> Trace {
        Driver::new(self, table, net).run()
    }
}

/// How a node answers a request.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// A reply with these nodes, and maybe a value.
    Answers {
        /// The nodes it returns, in order (repeats and [`ME`] allowed).
        nodes: Vec<u32>,
        /// A value it holds for the target.
        value: Option<Vec<u8>>,
    },
    /// An error reply (reported with `on_failure`).
    Fails,
    /// No reply at all: the request times out.
    Silent,
}

/// A scripted network: how each node answers, and how long it takes.
#[derive(Clone, Debug, Default)]
pub struct Net {
    behaviour: BTreeMap<u32, Behaviour>,
    delay_ms: BTreeMap<u32, u64>,
}

impl Net {
    /// A network where nobody answers anything yet.
    pub fn new() -> Net {
        Net::default()
    }

    /// Node `n` answers with `nodes`.
    pub fn answers(mut self, n: u32, nodes: &[u32]) -> Net {
        let nodes = nodes.to_vec();
        self.behaviour
            .insert(n, Behaviour::Answers { nodes, value: None });
        self
    }

    /// Node `n` answers with `nodes` and the value `value`.
    pub fn answers_value(mut self, n: u32, value: &[u8], nodes: &[u32]) -> Net {
        let behaviour = Behaviour::Answers {
            nodes: nodes.to_vec(),
            value: Some(value.to_vec()),
        };
        self.behaviour.insert(n, behaviour);
        self
    }

    /// Node `n` answers with an error.
    pub fn fails(mut self, n: u32) -> Net {
        self.behaviour.insert(n, Behaviour::Fails);
        self
    }

    /// Node `n` never answers.
    pub fn silent(mut self, n: u32) -> Net {
        self.behaviour.insert(n, Behaviour::Silent);
        self
    }

    /// Node `n`'s reply takes `ms` milliseconds instead of [`LATENCY_MS`].
    pub fn delay(mut self, n: u32, ms: u64) -> Net {
        self.delay_ms.insert(n, ms);
        self
    }

    /// How node `n` answers.
    pub fn behaviour(&self, n: u32) -> &Behaviour {
        self.behaviour.get(&n).unwrap_or_else(|| {
            panic!("node {n} was asked, but the scenario does not say how it answers")
        })
    }

    /// Whether the script mentions node `n`.
    pub fn knows(&self, n: u32) -> bool {
        self.behaviour.contains_key(&n)
    }

    fn latency(&self, n: u32) -> Duration {
        Duration::from_millis(self.delay_ms.get(&n).copied().unwrap_or(LATENCY_MS))
    }
}

/// A reply (or error) on its way to the lookup.
#[derive(Clone, Copy, Debug)]
struct OnItsWay {
    at: Time,
    sent: u64,
    from: u32,
}

/// Runs one lookup over a [`Net`] in virtual time: a boxed
/// `dyn LookupStrategy` unless built by [`Driver::with_lookup`].
pub struct Driver<'n, L: LookupStrategy + ?Sized = dyn LookupStrategy> {
    /// The lookup; tests may feed it messages of their own.
    pub lookup: Box<L>,
    /// The current virtual time.
    pub now: Time,
    /// Every `Send` so far, as node numbers, in order.
    pub batches: Vec<Vec<u32>>,
    /// Nodes whose reply or error has been delivered, in order.
    pub delivered: Vec<u32>,
    /// Nodes whose delivered reply or error the lookup ignored (returned
    /// `false`): late, duplicate or unsolicited.
    pub ignored: Vec<u32>,
    ids: Ids,
    k: usize,
    net: &'n Net,
    on_its_way: Vec<OnItsWay>,
    requests_sent: u64,
    outcome: Option<LookupOutcome>,
}

impl<'n> Driver<'n> {
    /// Start a lookup for `setup` from `table`, over `net`, at time zero.
    pub fn new(setup: &Setup, table: &[u32], net: &'n Net) -> Driver<'n> {
        Driver::with_lookup(setup, setup.start(table), net)
    }
}

impl<'n, L: LookupStrategy + ?Sized> Driver<'n, L> {
    /// Drive `lookup`, already started (for `setup`'s target and k), over
    /// `net` from time zero.
    pub fn with_lookup(setup: &Setup, lookup: Box<L>, net: &'n Net) -> Driver<'n, L> {
        Driver {
            lookup,
            now: Time::ZERO,
            batches: Vec::new(),
            delivered: Vec::new(),
            ignored: Vec::new(),
            ids: setup.ids,
            k: setup.config.k,
            net,
            on_its_way: Vec::new(),
            requests_sent: 0,
            outcome: None,
        }
    }

    /// Poll the lookup once and carry out what it asks: send a batch,
    /// deliver the next reply, or jump to its deadline. Returns the outcome
    /// once the lookup has finished.
    pub fn step(&mut self) -> Option<LookupOutcome> {
        match self.lookup.poll(self.now) {
            LookupAction::Finished(outcome) => {
                self.outcome = Some(outcome.clone());
                return Some(outcome);
            }
            LookupAction::Send(contacts) => self.send(&contacts),
            LookupAction::Wait(deadline) => self.wait(deadline),
        }
        None
    }

    fn send(&mut self, contacts: &[Contact]) {
        let batch = self.ids.numbers(contacts);
        assert!(!batch.is_empty(), "the lookup sent an empty batch");
        for &n in &batch {
            assert_ne!(n, ME, "the local node was asked");
            assert!(
                !self.batches.iter().flatten().any(|&m| m == n),
                "node {n} was asked twice"
            );
            if !matches!(self.net.behaviour(n), Behaviour::Silent) {
                self.on_its_way.push(OnItsWay {
                    at: self.now + self.net.latency(n),
                    sent: self.requests_sent,
                    from: n,
                });
            }
            self.requests_sent += 1;
        }
        self.batches.push(batch);
    }

    fn wait(&mut self, deadline: Option<Time>) {
        let next = (0..self.on_its_way.len()).min_by_key(|&i| {
            let m = self.on_its_way[i];
            (m.at, m.sent)
        });
        match (next, deadline) {
            // A reply arrives first (a reply due exactly at the deadline is
            // delivered before the deadline is handled).
            (Some(i), d) if d.is_none_or(|d| self.on_its_way[i].at <= d) => {
                let message = self.on_its_way.remove(i);
                self.now = message.at;
                self.deliver(message.from);
            }
            (_, Some(d)) => {
                assert!(
                    d > self.now,
                    "the lookup waits until {d:?}, at {:?}",
                    self.now
                );
                self.now = d;
            }
            (_, None) => panic!("the lookup waits forever: Wait(None), no reply on its way"),
        }
    }

    fn deliver(&mut self, from: u32) {
        let relevant = match self.net.behaviour(from) {
            Behaviour::Answers { nodes, value } => {
                let contacts = self.ids.contacts(nodes);
                let reply = Reply {
                    contacts: &contacts,
                    value: value.as_deref(),
                };
                self.lookup.on_response(&self.ids.id(from), reply, self.now)
            }
            Behaviour::Fails => self.lookup.on_failure(&self.ids.id(from), self.now),
            Behaviour::Silent => unreachable!("a silent node's reply was on its way"),
        };
        self.delivered.push(from);
        if !relevant {
            self.ignored.push(from);
        }
    }

    /// Step until `done` holds (panics if the lookup finishes first).
    pub fn run_until(&mut self, done: impl Fn(&Driver<'n, L>) -> bool) {
        while !done(self) {
            if let Some(outcome) = self.step() {
                panic!("the lookup finished before the awaited moment: {outcome:?}");
            }
        }
    }

    /// Step until the lookup finishes, check the shared rules and return
    /// what happened.
    pub fn run(&mut self) -> Trace {
        for _ in 0..10_000 {
            if let Some(outcome) = self.step() {
                let trace = Trace {
                    batches: self.batches.clone(),
                    ignored: self.ignored.clone(),
                    outcome,
                    ids: self.ids,
                };
                let result = trace.result();
                assert!(result.len() <= self.k, "more than k results: {result:?}");
                assert!(!result.contains(&ME), "the local node was returned");
                assert!(
                    result.windows(2).all(|w| w[0] < w[1]),
                    "result not sorted and distinct: {result:?}"
                );
                return trace;
            }
        }
        panic!("the lookup did not finish in 10 000 steps");
    }

    /// Feed the lookup a reply from node `from` carrying `nodes`, now;
    /// returns what `on_response` returns.
    pub fn inject_reply(&mut self, from: u32, nodes: &[u32]) -> bool {
        let contacts = self.ids.contacts(nodes);
        self.lookup
            .on_response(&self.ids.id(from), Reply::nodes(&contacts), self.now)
    }

    /// Feed the lookup a failure of node `from`, now; returns what
    /// `on_failure` returns.
    pub fn inject_failure(&mut self, from: u32) -> bool {
        self.lookup.on_failure(&self.ids.id(from), self.now)
    }
}

/// What a lookup did.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Every `Send`, as node numbers, in order.
    pub batches: Vec<Vec<u32>>,
    /// Nodes whose delivered reply the lookup ignored.
    pub ignored: Vec<u32>,
    /// How it ended.
    pub outcome: LookupOutcome,
    ids: Ids,
}

impl Trace {
    /// The result, as node numbers (closest first).
    pub fn result(&self) -> Vec<u32> {
        self.ids.numbers(&self.outcome.result)
    }

    /// Why it stopped.
    pub fn reason(&self) -> EndReason {
        self.outcome.reason
    }

    /// What it cost.
    pub fn stats(&self) -> LookupStats {
        self.outcome.stats
    }

    /// When it stopped, in milliseconds of virtual time.
    pub fn finished_ms(&self) -> u64 {
        self.outcome.finished_at.as_millis()
    }

    /// Every node asked, in order.
    pub fn asked(&self) -> Vec<u32> {
        self.batches.concat()
    }
}

/// An empty routing table: the lookup sends nothing and ends at once with
/// `NoContacts` and an empty result. The same for every strategy.
pub fn assert_empty_table_ends_with_no_contacts(setup: &Setup) {
    let trace = setup.run(&[], &Net::new());

    assert!(trace.batches.is_empty());
    assert_eq!(trace.reason(), EndReason::NoContacts);
    assert!(trace.result().is_empty());
    assert_eq!(trace.stats().requests, 0);
    assert_eq!(trace.finished_ms(), 0);
}

/// Run the scenario twice: as scripted, and with stray messages fed to the
/// lookup right after the first reply was delivered — a reply and an error
/// from node 1 (never asked, though it is the closest node there is), and a
/// second reply and an error from the node that just answered. Each must be
/// refused (`false`), must leave the requests in flight alone, and the
/// lookup must then do exactly what it did without them; only
/// `stats.ignored` tells the runs apart.
pub fn assert_stray_messages_change_nothing(setup: &Setup, table: &[u32], net: &Net) {
    assert!(
        !net.knows(1) && !net.knows(2) && !table.contains(&1) && !table.contains(&2),
        "nodes 1 and 2 are the strays of this check"
    );
    let scripted = setup.run(table, net);

    let mut driver = Driver::new(setup, table, net);
    driver.run_until(|d| !d.delivered.is_empty());
    let first = driver.delivered[0];
    let in_flight = driver.lookup.in_flight();
    let stats = driver.lookup.stats();

    assert!(
        !driver.inject_reply(1, &[2]),
        "a reply from a node never asked"
    );
    assert!(!driver.inject_failure(1), "a failure of a node never asked");
    assert!(
        !driver.inject_reply(first, &[2]),
        "a second reply from {first}"
    );
    assert!(
        !driver.inject_failure(first),
        "a failure of {first} after its reply"
    );

    assert_eq!(driver.lookup.in_flight(), in_flight);
    let ignored = LookupStats {
        ignored: stats.ignored + 4,
        ..stats
    };
    assert_eq!(driver.lookup.stats(), ignored);

    let with_strays = driver.run();
    assert_eq!(with_strays.batches, scripted.batches);
    assert_eq!(with_strays.result(), scripted.result());
    assert_eq!(with_strays.reason(), scripted.reason());
    let expected_stats = LookupStats {
        ignored: scripted.stats().ignored + 4,
        ..scripted.stats()
    };
    assert_eq!(with_strays.stats(), expected_stats);
    assert!(
        !with_strays.asked().contains(&2),
        "a stray's contact was asked"
    );

    // Once finished, a lookup refuses everything and keeps its outcome.
    let some_asked = with_strays.asked()[0];
    assert!(!driver.inject_reply(some_asked, &[2]));
    assert!(!driver.inject_failure(some_asked));
    let later = driver.now + Duration::from_secs(60);
    assert_eq!(
        driver.lookup.poll(later),
        LookupAction::Finished(with_strays.outcome.clone())
    );
}
