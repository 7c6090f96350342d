//! Property tests of every lookup strategy on random small networks.
//!
//! Each case builds a network of 20–200 nodes from a seed (ids, routing
//! tables filled through `RoutingTable::update`, a behaviour per node),
//! then drives each strategy through a small event queue in virtual time:
//! replies and error replies are events at random delays, and when the
//! lookup waits for a deadline and no event is due earlier, time jumps to
//! the deadline. The invariants of `docs/ALGORITHMS.md` are checked after
//! every poll and every input, and on the outcome.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::time::Duration;

use kadlab::contact::Contact;
use kadlab::id::NodeId;
use kadlab::lookup::delta::UNLIMITED_CEILING_PER_K;
use kadlab::lookup::disjoint::{Disjoint, DisjointParams};
use kadlab::lookup::kademlia::{Kademlia, KademliaParams, PeerState};
use kadlab::lookup::{
    Budget, EndReason, Lookup, LookupAction, LookupConfig, LookupMode, LookupOutcome,
    LookupStrategy, Reply, StrategyName,
};
use kadlab::routing::{RoutingConfig, RoutingTable};
use kadlab::time::Time;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How a node treats the requests it gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    /// Replies before the timeout.
    Answers,
    /// Replies with an error before the timeout.
    Errors,
    /// Never replies: the request times out.
    Silent,
    /// Replies, but only after the request's timeout.
    Late,
    /// Replies twice (a duplicated datagram), the first before the timeout.
    Twice,
}

const BEHAVIOURS: [Behaviour; 5] = [
    Behaviour::Answers,
    Behaviour::Errors,
    Behaviour::Silent,
    Behaviour::Late,
    Behaviour::Twice,
];

/// A network: ids, addresses, behaviours, and routing tables built on
/// demand (only nodes that are asked need theirs).
struct Network {
    contacts: Vec<Contact>,
    index: HashMap<NodeId, usize>,
    behaviour: Vec<Behaviour>,
    routing: RoutingConfig,
    seed: u64,
    tables: Vec<Option<RoutingTable>>,
    /// The value each node holds for FIND_VALUE lookups, if any.
    stored: HashMap<usize, Vec<u8>>,
}

impl Network {
    /// `n` nodes with random ids; behaviours drawn with `weights` (indexed
    /// like [`BEHAVIOURS`]).
    fn new(seed: u64, n: usize, routing: RoutingConfig, weights: [u32; 5]) -> Network {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let contacts: Vec<Contact> = (0..n)
            .map(|i| Contact::simulated(NodeId::random(&mut rng), i as u32))
            .collect();
        let index: HashMap<NodeId, usize> = contacts
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i))
            .collect();
        assert_eq!(index.len(), n, "random ids collided");
        let total: u32 = weights.iter().sum();
        assert!(total > 0);
        let behaviour = (0..n)
            .map(|_| {
                let mut pick = rng.gen_range(0..total);
                for (b, w) in BEHAVIOURS.iter().zip(weights) {
                    if pick < w {
                        return *b;
                    }
                    pick -= w;
                }
                unreachable!()
            })
            .collect();
        Network {
            contacts,
            index,
            behaviour,
            routing,
            seed,
            tables: vec![None; n],
            stored: HashMap::new(),
        }
    }

    fn len(&self) -> usize {
        self.contacts.len()
    }

    /// Node `i`'s routing table: every other node offered once, in a random
    /// order, through the Kademlia update rule (full buckets keep the
    /// first-come; their ping requests are never answered here).
    fn table(&mut self, i: usize) -> &RoutingTable {
        if self.tables[i].is_none() {
            let mut rng = ChaCha8Rng::seed_from_u64(
                self.seed ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15),
            );
            let mut order: Vec<usize> = (0..self.len()).filter(|&j| j != i).collect();
            order.shuffle(&mut rng);
            let mut table =
                RoutingTable::new(self.contacts[i].id, self.routing.clone(), Time::ZERO);
            for j in order {
                let _ = table.update(self.contacts[j], Time::ZERO);
            }
            assert!(!table.is_empty());
            self.tables[i] = Some(table);
        }
        self.tables[i].as_ref().unwrap()
    }

    /// Store the BEP 44 immutable item `value` at the true k closest nodes
    /// to its key (the origin excluded, so it must be looked up); returns
    /// the key.
    fn store(&mut self, origin: usize, value: &[u8], k: usize) -> NodeId {
        let key = NodeId::of_immutable_value(value);
        for c in self.truth(origin, &key, k) {
            self.stored.insert(self.index[&c.id], value.to_vec());
        }
        key
    }

    /// The true k closest nodes to `target`, the origin excluded.
    fn truth(&self, origin: usize, target: &NodeId, k: usize) -> Vec<Contact> {
        let mut all: Vec<Contact> = self
            .contacts
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != origin)
            .map(|(_, c)| *c)
            .collect();
        all.sort_by_key(|c| c.id.distance(target));
        all.truncate(k);
        all
    }
}

/// In which order replies due at the same instant are delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delays {
    /// Every reply after a random delay; equal times in random order.
    Random,
    /// Every reply after the same delay, in the order the requests were
    /// sent.
    Fifo,
}

#[derive(Clone, Debug)]
enum EventKind {
    /// A reply; `on_time` when it is due before the request's timeout, and
    /// `first` for the first copy.
    Reply {
        contacts: Vec<Contact>,
        value: Option<Vec<u8>>,
        on_time: bool,
        first: bool,
    },
    /// An error reply.
    Error,
}

struct Event {
    from: usize,
    kind: EventKind,
}

/// What one run saw, for the checks made after it.
struct Run {
    outcome: LookupOutcome,
    /// Everyone sent a request, in order.
    sent: Vec<Contact>,
    /// Nodes whose reply the lookup accepted.
    responders: HashSet<NodeId>,
    /// The contacts of every reply the lookup accepted, as sent.
    learned: Vec<Contact>,
    /// The origin's routing table when the lookup started.
    table: HashSet<NodeId>,
    accepted_failures: u32,
}

/// The in-flight bound of each strategy, checked after every poll and input.
fn check_parallelism<L: LookupStrategy + ?Sized>(lookup: &L, config: &LookupConfig, when: &str) {
    let in_flight = lookup.in_flight();
    let allowed = lookup.parallelism();
    match config.strategy {
        StrategyName::Delta => {
            assert_eq!(allowed, config.delta);
            assert!(
                in_flight <= config.delta,
                "delta: {in_flight} in flight > δ = {} ({when})",
                config.delta
            );
        }
        StrategyName::KActive => {
            assert_eq!(allowed, config.alpha);
            assert!(
                in_flight <= config.alpha,
                "k-active: {in_flight} in flight > α = {} ({when})",
                config.alpha
            );
        }
        StrategyName::Kademlia => {
            let widened = config.k.max(config.alpha);
            assert!(
                allowed == config.alpha || allowed == widened,
                "kademlia: parallelism() = {allowed}, neither α = {} nor max(α, k) = {widened} ({when})",
                config.alpha
            );
            assert!(
                in_flight <= allowed && in_flight <= widened,
                "kademlia: {in_flight} in flight > parallelism() = {allowed} (max(α, k) = {widened}, {when})"
            );
        }
        StrategyName::QueryRest => {
            assert!(allowed >= config.alpha);
            assert!(
                in_flight <= allowed,
                "{}: {in_flight} in flight > parallelism() = {allowed} (α = {}, {when})",
                config.strategy,
                config.alpha
            );
            if allowed == config.alpha {
                assert!(in_flight <= config.alpha);
            }
        }
        StrategyName::Gated => {
            // α not suspect, plus the suspects still awaited.
            assert!(allowed >= config.alpha);
            assert!(
                in_flight <= allowed,
                "gated: {in_flight} in flight > parallelism() = {allowed} (α = {}, {when})",
                config.alpha
            );
        }
        StrategyName::Disjoint => {
            // α per path, k per widened path (see `check_disjoint_paths`
            // for the bound of each path).
            assert!(allowed >= config.paths * config.alpha);
            assert!(allowed <= config.paths * config.k.max(config.alpha));
            assert!(
                in_flight <= allowed,
                "disjoint: {in_flight} in flight > parallelism() = {allowed} (α = {}, d = {}, {when})",
                config.alpha,
                config.paths
            );
        }
    }
}

/// Pending replies and error replies, by due time.
struct EventQueue {
    /// (due, tie-break, index in `events`): the tie-break is random or the
    /// order of scheduling.
    heap: BinaryHeap<Reverse<(Time, u64, usize)>>,
    events: Vec<Event>,
    delays: Delays,
}

impl EventQueue {
    fn schedule(&mut self, at: Time, event: Event, rng: &mut ChaCha8Rng) {
        let tie = match self.delays {
            Delays::Random => rng.gen::<u64>(),
            Delays::Fifo => self.events.len() as u64,
        };
        self.heap.push(Reverse((at, tie, self.events.len())));
        self.events.push(event);
    }

    fn next_due(&self) -> Option<Time> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    fn pop(&mut self) -> Option<(Time, &Event)> {
        let Reverse((at, _, e)) = self.heap.pop()?;
        Some((at, &self.events[e]))
    }
}

/// Drive one FIND_NODE lookup of `target` from node `origin` to its end;
/// `seed` draws the reply delays and the order of simultaneous replies.
fn drive(
    net: &mut Network,
    config: &LookupConfig,
    origin: usize,
    target: NodeId,
    delays: Delays,
    seed: u64,
) -> Run {
    drive_mode(
        net,
        config,
        origin,
        target,
        LookupMode::FindNode,
        delays,
        seed,
    )
}

/// [`drive`] in either mode.
fn drive_mode(
    net: &mut Network,
    config: &LookupConfig,
    origin: usize,
    target: NodeId,
    mode: LookupMode,
    delays: Delays,
    seed: u64,
) -> Run {
    let lookup = config.start(net.table(origin), target, mode);
    drive_lookup(net, config, origin, lookup, delays, seed, |_, _| {})
}

/// Drive `lookup`, started by node `origin` as `config` says, to its end
/// like [`drive`]; `inspect` looks at it after every poll and every input.
fn drive_lookup<L: LookupStrategy + ?Sized>(
    net: &mut Network,
    config: &LookupConfig,
    origin: usize,
    mut lookup: Box<L>,
    delays: Delays,
    seed: u64,
    mut inspect: impl FnMut(&L, &str),
) -> Run {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let timeout_ms = config.rpc_timeout_ms;
    let local = net.contacts[origin].id;
    let target = *lookup.target();
    assert_eq!(lookup.name(), config.strategy.as_str());

    let mut queue = EventQueue {
        heap: BinaryHeap::new(),
        events: Vec::new(),
        delays,
    };
    let mut sent: Vec<Contact> = Vec::new();
    let mut sent_ids: HashSet<NodeId> = HashSet::new();
    let mut responders = HashSet::new();
    let mut learned = Vec::new();
    let table: HashSet<NodeId> = net.table(origin).iter().map(|e| e.contact.id).collect();
    let mut accepted_failures = 0;
    let mut now = Time::ZERO;
    let max_polls = 10 * net.len() + 100;
    let mut polls = 0;

    let outcome = loop {
        polls += 1;
        assert!(
            polls <= max_polls,
            "{}: not finished after {max_polls} polls",
            config.strategy
        );
        let action = lookup.poll(now);
        check_parallelism(lookup.as_ref(), config, "after poll");
        inspect(lookup.as_ref(), "after poll");
        match action {
            LookupAction::Finished(outcome) => break outcome,
            LookupAction::Send(contacts) => {
                assert!(!contacts.is_empty(), "Send with no contact");
                for c in contacts {
                    assert_ne!(c.id, local, "the local node was sent a request");
                    assert!(sent_ids.insert(c.id), "{} was sent two requests", c.id);
                    let &j = net.index.get(&c.id).expect("a request to an unknown id");
                    assert_eq!(net.contacts[j], c, "a request to a wrong address");
                    sent.push(c);
                    let on_time = now
                        + Duration::from_millis(match delays {
                            Delays::Random => rng.gen_range(1..timeout_ms),
                            Delays::Fifo => 1,
                        });
                    let late = now + Duration::from_millis(timeout_ms + rng.gen_range(1..=1000));
                    let reply = |net: &mut Network, on_time: bool, first: bool| EventKind::Reply {
                        contacts: net.table(j).closest(&target, config.k),
                        value: net.stored.get(&j).cloned(),
                        on_time,
                        first,
                    };
                    let event = |kind| Event { from: j, kind };
                    match net.behaviour[j] {
                        Behaviour::Answers => {
                            queue.schedule(on_time, event(reply(net, true, true)), &mut rng);
                        }
                        Behaviour::Errors => {
                            queue.schedule(on_time, event(EventKind::Error), &mut rng);
                        }
                        Behaviour::Silent => {}
                        Behaviour::Late => {
                            queue.schedule(late, event(reply(net, false, true)), &mut rng);
                        }
                        Behaviour::Twice => {
                            queue.schedule(on_time, event(reply(net, true, true)), &mut rng);
                            let again = on_time + Duration::from_millis(rng.gen_range(1..3000));
                            queue.schedule(again, event(reply(net, true, false)), &mut rng);
                        }
                    }
                }
            }
            LookupAction::Wait(deadline) => {
                if let Some(d) = deadline {
                    assert!(d > now, "Wait({d:?}) at {now:?}: a deadline already passed");
                }
                let deliver = match (queue.next_due(), deadline) {
                    (Some(at), Some(d)) => at <= d,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => panic!(
                        "{}: Wait(None) with no reply to come ({} in flight)",
                        config.strategy,
                        lookup.in_flight()
                    ),
                };
                match deadline {
                    Some(d) if !deliver => now = d,
                    _ => {
                        let (at, event) = queue.pop().unwrap();
                        now = now.max(at);
                        let from = net.contacts[event.from].id;
                        match &event.kind {
                            EventKind::Reply {
                                contacts,
                                value,
                                on_time,
                                first,
                            } => {
                                let reply = Reply {
                                    contacts,
                                    value: value.as_deref(),
                                };
                                let accepted = lookup.on_response(&from, reply, now);
                                if config.strategy == StrategyName::QueryRest {
                                    // Its round timer may abandon a request
                                    // before the request's own timeout.
                                    assert!(!accepted || (*on_time && *first));
                                } else {
                                    assert_eq!(
                                        accepted,
                                        *on_time && *first,
                                        "{}: reply from {from} (on time {on_time}, first {first})",
                                        config.strategy
                                    );
                                }
                                if accepted {
                                    assert!(responders.insert(from));
                                    learned.extend_from_slice(contacts);
                                }
                            }
                            EventKind::Error => {
                                let accepted = lookup.on_failure(&from, now);
                                if config.strategy != StrategyName::QueryRest {
                                    assert!(accepted, "an error reply in time was not taken");
                                }
                                accepted_failures += u32::from(accepted);
                            }
                        }
                        check_parallelism(lookup.as_ref(), config, "after an input");
                        inspect(lookup.as_ref(), "after an input");
                    }
                }
            }
        }
    };

    // A finished lookup stays finished and ignores what still comes.
    assert_eq!(lookup.poll(now), LookupAction::Finished(outcome.clone()));
    while let Some((at, event)) = queue.pop() {
        let from = net.contacts[event.from].id;
        let later = now.max(at);
        let taken = match &event.kind {
            EventKind::Reply {
                contacts, value, ..
            } => {
                let reply = Reply {
                    contacts,
                    value: value.as_deref(),
                };
                lookup.on_response(&from, reply, later)
            }
            EventKind::Error => lookup.on_failure(&from, later),
        };
        assert!(!taken, "a finished lookup took an input");
    }
    let much_later = now + Duration::from_secs(3600);
    assert_eq!(
        lookup.poll(much_later),
        LookupAction::Finished(outcome.clone())
    );
    assert_eq!(lookup.stats(), outcome.stats);

    Run {
        outcome,
        sent,
        responders,
        learned,
        table,
        accepted_failures,
    }
}

/// The checks every outcome must pass, whatever the strategy.
fn check_outcome(net: &Network, config: &LookupConfig, origin: usize, run: &Run) {
    let name = config.strategy;
    let local = net.contacts[origin].id;
    let outcome = &run.outcome;
    let result = &outcome.result;
    let stats = outcome.stats;

    assert_ne!(
        outcome.reason,
        EndReason::ValueFound,
        "{name}: FIND_NODE found a value"
    );
    assert_ne!(
        outcome.reason,
        EndReason::NoContacts,
        "{name}: the origin's table is not empty"
    );
    assert!(outcome.value.is_none());
    assert!(
        stats.requests > 0,
        "{name}: a non-empty table, and nothing sent"
    );

    // Sorted, distinct, at most k, never the local node, real nodes only.
    assert!(
        result.len() <= config.k,
        "{name}: {} results > k",
        result.len()
    );
    assert!(
        result
            .windows(2)
            .all(|w| w[0].id.distance(&outcome.target) < w[1].id.distance(&outcome.target)),
        "{name}: result not strictly sorted by distance: {result:?}"
    );
    for c in result {
        assert_ne!(c.id, local, "{name}: the local node in the result");
        let &j = net.index.get(&c.id).expect("a result that is no node");
        assert_eq!(net.contacts[j], *c);
    }

    // Statistics.
    assert_eq!(
        stats.requests as usize,
        run.sent.len(),
        "{name}: requests ≠ contacts sent"
    );
    assert!(
        stats.responses + stats.failures <= stats.requests,
        "{name}: {stats:?}"
    );
    assert_eq!(
        stats.responses as usize,
        run.responders.len(),
        "{name}: {stats:?}"
    );
    assert!(stats.failures >= run.accepted_failures, "{name}: {stats:?}");
    assert_eq!(stats.bad_values, 0);

    match name {
        StrategyName::Delta => {
            assert!(matches!(
                outcome.reason,
                EndReason::Exhausted | EndReason::BudgetSpent
            ));
            // The budget, or the safety stop of `budget = "none"`.
            let limit = match config.budget.for_k(config.k) {
                Budget::Requests(b) => b as usize,
                _ => UNLIMITED_CEILING_PER_K * config.k,
            };
            let requests = stats.requests as usize;
            assert!(
                requests <= limit,
                "delta: {requests} requests > budget {limit}"
            );
            if outcome.reason == EndReason::BudgetSpent {
                assert_eq!(requests, limit, "delta: BudgetSpent before its budget");
            }
            if limit >= net.len() {
                // It can never ask more than every other node.
                assert_eq!(outcome.reason, EndReason::Exhausted);
            }
        }
        StrategyName::QueryRest => {
            assert!(matches!(
                outcome.reason,
                EndReason::Converged | EndReason::Exhausted
            ));
            if outcome.reason == EndReason::Exhausted {
                assert!(result.is_empty(), "query-rest: Exhausted with a shortlist");
            }
        }
        StrategyName::Gated => {
            // Every contact returned answered, or was named by a reply or
            // the routing table (vouched for at least once).
            let named: HashSet<NodeId> = run.learned.iter().map(|c| c.id).collect();

            for c in result {
                assert!(
                    run.responders.contains(&c.id)
                        || named.contains(&c.id)
                        || run.table.contains(&c.id),
                    "gated: returned {c:?}, which nobody vouched for"
                );
            }
            match outcome.reason {
                EndReason::Converged => {
                    // The β closest of the result are the β closest not
                    // failed or suspect, all of which answered. With
                    // failed_vouches set, contacts asked that never
                    // answered may be returned too; the closest β of the
                    // others still answered.
                    let beta = config.beta.min(config.k);
                    let asked: HashSet<NodeId> = run.sent.iter().map(|c| c.id).collect();
                    let window: Vec<&Contact> = result
                        .iter()
                        .filter(|c| {
                            config.failed_vouches == 0
                                || run.responders.contains(&c.id)
                                || !asked.contains(&c.id)
                        })
                        .collect();
                    assert!(
                        result.len() >= beta,
                        "gated: Converged with {} < β = {beta}",
                        result.len()
                    );
                    // Returned failed contacts may crowd answered ones out
                    // of the k; those left are still the closest.
                    let checked = beta.min(window.len());
                    assert!(
                        window[..checked].iter().all(|c| run.responders.contains(&c.id)),
                        "gated: Converged, but the β = {beta} closest of {result:?} did not all answer"
                    );
                }
                EndReason::Exhausted | EndReason::NoContacts => {}
                other => panic!("gated: ended {other}"),
            }
        }
        StrategyName::KActive | StrategyName::Kademlia | StrategyName::Disjoint => {
            // Only nodes that answered are returned.
            for c in result {
                assert!(
                    run.responders.contains(&c.id),
                    "{name}: returned {c:?}, which never answered"
                );
            }
            match outcome.reason {
                EndReason::Converged => assert_eq!(result.len(), config.k, "{name}"),
                EndReason::Exhausted => assert!(result.len() < config.k, "{name}"),
                other => panic!("{name}: ended {other}"),
            }
        }
    }
}

/// One generated case: a network, a lookup, and everyone's parameters.
#[derive(Clone, Debug)]
struct Case {
    seed: u64,
    nodes: usize,
    bucket_size: usize,
    k: usize,
    alpha: usize,
    delta: usize,
    budget: Option<u32>,
    rpc_timeout_ms: u64,
    round_timeout_ms: u64,
    /// d, the paths of `disjoint`.
    paths: usize,
    /// β, hedge, vouches and failed vouches of `gated`.
    gated: (usize, u64, usize, usize),
    weights: [u32; 5],
    /// 0: a random id; 1: some node's id; 2: the origin's own id.
    target_kind: u8,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (any::<u64>(), 20usize..=200, 1usize..=20, 2usize..=20),
        (1usize..=5, 1usize..=5, proptest::option::of(1u32..=40)),
        (2u64..=3000, 1u64..=4000, 1usize..=8),
        (1u32..=12, 0u32..=3, 0u32..=3, 0u32..=3, 0u32..=3),
        (
            0u8..=2,
            1usize..=20,
            prop_oneof![Just(0u64), 1u64..=3000],
            1usize..=3,
            prop_oneof![Just(0usize), 1usize..=4],
        ),
    )
        .prop_map(
            |(
                (seed, nodes, bucket_size, k),
                (alpha, delta, budget),
                (rpc_timeout_ms, round_timeout_ms, paths),
                (answers, errors, silent, late, twice),
                (target_kind, beta, hedge_ms, vouches, failed_vouches),
            )| Case {
                seed,
                nodes,
                bucket_size,
                k,
                alpha,
                delta,
                budget,
                rpc_timeout_ms,
                round_timeout_ms,
                paths,
                gated: (beta, hedge_ms, vouches, failed_vouches),
                weights: [answers, errors, silent, late, twice],
                target_kind,
            },
        )
}

impl Case {
    /// The case's network: its seed, size, bucket size and reply weights.
    fn network(&self) -> Network {
        let routing = RoutingConfig {
            k: self.bucket_size,
            ..RoutingConfig::default()
        };
        Network::new(self.seed, self.nodes, routing, self.weights)
    }

    fn config(&self, strategy: StrategyName) -> LookupConfig {
        let config = LookupConfig {
            strategy,
            alpha: self.alpha,
            k: self.k,
            delta: self.delta,
            budget: self.budget.map_or(Budget::Unlimited, Budget::Requests),
            rpc_timeout_ms: self.rpc_timeout_ms,
            round_timeout_ms: self.round_timeout_ms,
            paths: self.paths,
            seeds: None,
            beta: self.gated.0,
            hedge_ms: self.gated.1,
            vouches: self.gated.2,
            failed_vouches: self.gated.3,
        };
        config.validate().expect("a valid configuration");
        config
    }

    /// The origin and the target, drawn from the case's seed.
    fn lookup(&self, net: &Network) -> (usize, NodeId) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed.rotate_left(17) ^ 0x5eed);
        let origin = rng.gen_range(0..net.len());
        let target = match self.target_kind {
            0 => NodeId::random(&mut rng),
            1 => net.contacts[rng.gen_range(0..net.len())].id,
            _ => net.contacts[origin].id,
        };
        (origin, target)
    }
}

/// Reproducible by default: a fixed seed and a moderate number of cases, so
/// that `cargo test` is fast and a failure in CI is a failure on every
/// machine. `PROPTEST_RNG_SEED` and `PROPTEST_CASES` explore further.
fn proptest_config() -> ProptestConfig {
    proptest_config_with_cases(256)
}

/// [`proptest_config`] with `cases` cases by default, for properties whose
/// cases are large.
fn proptest_config_with_cases(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(0x6b61_646c_6162);
    }
    config
}

/// Every strategy, on the case's network and failure pattern: finishes
/// within a bounded number of polls with a reason, keeps its in-flight
/// bound, never asks a node twice or itself, and returns a clean result
/// with consistent statistics.
fn check_invariants(case: &Case) {
    let mut net = case.network();
    let (origin, target) = case.lookup(&net);
    for (i, strategy) in StrategyName::ALL.into_iter().enumerate() {
        let config = case.config(strategy);
        let seed = case.seed.wrapping_add(i as u64);
        let run = drive(&mut net, &config, origin, target, Delays::Random, seed);
        check_outcome(&net, &config, origin, &run);
    }
}

/// The `disjoint` lookup `config.start` starts, with its concrete type, so
/// that its paths can be inspected.
fn start_disjoint(
    net: &mut Network,
    config: &LookupConfig,
    origin: usize,
    target: NodeId,
) -> Box<Lookup<Disjoint>> {
    let table = net.table(origin);
    let seeds = table.closest(&target, config.seed_count());
    let spec = config.spec(*table.local_id(), target, LookupMode::FindNode);
    let params = DisjointParams {
        alpha: config.alpha,
        paths: config.paths,
    };
    let rule = Disjoint::new(params, config.k, target, &seeds);
    Box::new(Lookup::new(spec, &seeds, rule))
}

/// What holds of `disjoint`'s paths at every moment: no node is in two
/// paths' shortlists; each node a path holds is owned by that path; a
/// node was asked exactly when its path has moved it past `NotContacted`,
/// and is in flight exactly when its path waits for it; each path keeps
/// its own bound, and the lookup's requests in flight are the paths'.
fn check_disjoint_paths(lookup: &Lookup<Disjoint>, config: &LookupConfig, when: &str) {
    let rule = lookup.rule();
    let ctx = lookup.context();
    assert_eq!(rule.paths().len(), config.paths);
    let mut seen = HashSet::new();
    let mut waiting = 0;
    for (p, path) in rule.paths().iter().enumerate() {
        assert!(
            path.waiting() <= path.parallelism(),
            "path {p}: {} waiting > its parallelism {} ({when})",
            path.waiting(),
            path.parallelism()
        );
        waiting += path.waiting();
        for (c, state) in path.shortlist() {
            let id = c.id;
            assert!(seen.insert(id), "{id} in two paths' shortlists ({when})");
            assert_eq!(rule.owner(&id), Some(p), "{id} in path {p} ({when})");
            assert_eq!(
                *state != PeerState::NotContacted,
                ctx.was_contacted(&id),
                "{id} of path {p} is {state:?} ({when})"
            );
            assert_eq!(
                *state == PeerState::Waiting,
                ctx.is_in_flight(&id),
                "{id} of path {p} is {state:?} ({when})"
            );
        }
    }
    assert_eq!(
        waiting,
        ctx.in_flight(),
        "paths' waiting ≠ in flight ({when})"
    );
}

/// `disjoint` on the case's network, built as `Lookup<Disjoint>` and
/// inspected at every step (see [`check_disjoint_paths`]); a path that has
/// ended learns nothing more; every node asked belongs to exactly one path,
/// and the result comes from the paths' responders. The same lookup started
/// by the configuration does exactly the same.
fn check_disjoint(case: &Case) {
    let mut net = case.network();
    let (origin, target) = case.lookup(&net);
    let config = case.config(StrategyName::Disjoint);
    for (i, delays) in [Delays::Random, Delays::Fifo].into_iter().enumerate() {
        let seed = case.seed.wrapping_add(i as u64);
        let lookup = start_disjoint(&mut net, &config, origin, target);
        // Shortlist size of each path when it ended.
        let mut at_end: Vec<Option<usize>> = vec![None; config.paths];
        let mut last = None;
        let run = drive_lookup(
            &mut net,
            &config,
            origin,
            lookup,
            delays,
            seed,
            |l, when| {
                check_disjoint_paths(l, &config, when);
                for (p, ended) in l.rule().ended().iter().enumerate() {
                    let len = l.rule().paths()[p].shortlist().count();
                    match (ended, at_end[p]) {
                        (Some(_), None) => at_end[p] = Some(len),
                        (Some(_), Some(then)) => {
                            assert_eq!(len, then, "path {p} learned of a node after it ended")
                        }
                        (None, _) => {}
                    }
                }
                last = Some(l.rule().clone());
            },
        );
        check_outcome(&net, &config, origin, &run);
        let rule = last.expect("inspected at least once");
        assert!(
            rule.ended().iter().all(Option::is_some),
            "a path still running"
        );
        for c in &run.sent {
            let p = rule.owner(&c.id).expect("a node asked by no path");
            let state = rule.paths()[p]
                .shortlist()
                .find(|(s, _)| s.id == c.id)
                .map(|(_, state)| *state);
            assert!(
                matches!(state, Some(s) if s != PeerState::NotContacted),
                "{} asked, but {state:?} in its path {p}",
                c.id
            );
        }
        let responders: HashSet<NodeId> = rule
            .paths()
            .iter()
            .flat_map(|p| p.responders().map(|c| c.id))
            .collect();
        for c in &run.outcome.result {
            assert!(responders.contains(&c.id), "{} answered no path", c.id);
        }

        let configured = drive(&mut net, &config, origin, target, delays, seed);
        assert_eq!(configured.outcome, run.outcome);
        assert_eq!(configured.sent, run.sent);
    }
}

/// A FIND_VALUE lookup of `value`, stored at the nodes of `net.stored`,
/// that must find it: it ends `ValueFound` with exactly `value`, which
/// verifies against the key, after a reply from a node that holds it.
fn check_value_found(net: &Network, config: &LookupConfig, value: &[u8], run: &Run) {
    let name = config.strategy;
    let outcome = &run.outcome;
    assert_eq!(outcome.reason, EndReason::ValueFound, "{name}: {outcome:?}");
    let found = outcome
        .value
        .as_deref()
        .expect("ValueFound without a value");
    assert_eq!(found, value, "{name}: another value");
    assert_eq!(
        NodeId::of_immutable_value(found),
        outcome.target,
        "{name}: the value does not verify"
    );
    assert_eq!(outcome.stats.bad_values, 0);
    assert!(
        run.responders
            .iter()
            .any(|id| net.stored.contains_key(&net.index[id])),
        "{name}: found a value no node that holds it sent"
    );
}

/// `kademlia`, built as `Lookup<Kademlia>` and inspected at every step: it
/// widens exactly when α accepted replies in a row brought no contact
/// closer than the closest it knew (failures neither count nor reset), and
/// never narrows again; its parallelism is α before and max(α, k) after,
/// and its phase says which.
fn check_kademlia_widening(case: &Case) {
    let mut net = case.network();
    let (origin, target) = case.lookup(&net);
    let config = case.config(StrategyName::Kademlia);
    let alpha = config.alpha;
    let wide = config.k.max(alpha);
    let closest = |l: &Lookup<Kademlia>| {
        l.rule()
            .shortlist()
            .next()
            .map(|(c, _)| c.id.distance(&target))
    };
    for (i, delays) in [Delays::Random, Delays::Fifo].into_iter().enumerate() {
        let table = net.table(origin);
        let seeds = table.closest(&target, config.seed_count());
        let spec = config.spec(*table.local_id(), target, LookupMode::FindNode);
        let rule = Kademlia::new(KademliaParams { alpha }, config.k, target, &seeds);
        let lookup = Box::new(Lookup::new(spec, &seeds, rule));
        let mut best = closest(&lookup);
        let mut responses = 0;
        let mut without_progress = 0;
        let mut widened = false;
        let seed = case.seed.wrapping_add(i as u64);
        let run = drive_lookup(
            &mut net,
            &config,
            origin,
            lookup,
            delays,
            seed,
            |l, when| {
                let now = closest(l);
                let taken = l.stats().responses;
                if taken > responses {
                    assert_eq!(taken, responses + 1, "two replies in one input ({when})");
                    responses = taken;
                    if now < best {
                        best = now;
                        without_progress = 0;
                    } else {
                        without_progress += 1;
                        widened |= without_progress >= alpha;
                    }
                } else {
                    assert_eq!(
                        now, best,
                        "the closest known moved without a reply ({when})"
                    );
                }
                assert_eq!(
                    l.rule().is_widened(),
                    widened,
                    "{without_progress} replies in a row without progress, α = {alpha} ({when})"
                );
                let allowed = if widened { wide } else { alpha };
                assert_eq!(l.parallelism(), allowed, "({when})");
                assert!(l.in_flight() <= allowed, "({when})");
                assert_eq!(l.phase().starts_with("widened"), widened, "{}", l.phase());
            },
        );
        check_outcome(&net, &config, origin, &run);
    }
}

/// The k closest to `target` of `seeds` and every contact `run` learned
/// from replies, `local` left out: what `query-rest` returns when nothing
/// failed (its shortlist is never capped and loses only failed nodes).
fn closest_known(
    seeds: &[Contact],
    run: &Run,
    local: NodeId,
    target: &NodeId,
    k: usize,
) -> Vec<Contact> {
    let mut known: Vec<Contact> = seeds
        .iter()
        .chain(&run.learned)
        .filter(|c| c.id != local)
        .copied()
        .collect();
    known.sort_by_key(|c| c.id.distance(target));
    known.dedup_by_key(|c| c.id);
    known.truncate(k);
    known
}

proptest! {
    #![proptest_config(proptest_config())]

    /// See [`check_invariants`].
    #[test]
    fn every_strategy_keeps_its_invariants(case in case()) {
        check_invariants(&case);
    }

    /// See [`check_disjoint`].
    #[test]
    fn disjoint_paths_never_share_a_node(case in case()) {
        check_disjoint(&case);
    }

    /// See [`check_kademlia_widening`].
    #[test]
    fn kademlia_widens_only_after_alpha_replies_without_progress(case in case()) {
        check_kademlia_widening(&case);
    }

    /// With every node answering in time on a network where every table
    /// holds every other node, `kademlia` (in any reply order) and
    /// `k-active` (replies in the order asked: with replies reordered it
    /// may stop at k answers while a closer node is still being waited
    /// for, as its seed does) return exactly the true k closest nodes; so
    /// does `delta` without a budget, which visits every node, `query-rest`
    /// in any reply order (its first reply names the true k closest, and
    /// without failures its shortlist loses nothing), and `disjoint` with
    /// any number of paths, in any reply order (every reply names the true
    /// k closest, each is claimed by the first path to hear of it, and
    /// always lies in that path's window of k), and `gated` in any reply
    /// order (its seeds are the true k closest, and with β = k it stops
    /// only when they have all answered). A value stored at the true
    /// k closest is found by every strategy (`k-active` with replies in the
    /// order asked, as above): each starts from the closest nodes there
    /// are, which hold it.
    #[test]
    fn exact_on_a_fully_known_network_without_failures(
        seed in any::<u64>(),
        nodes in 20usize..=200,
        k in 2usize..=20,
        alpha in 1usize..=5,
        delta in 1usize..=5,
        paths in 1usize..=16,
        target_kind in 0u8..=2,
    ) {
        let case = Case {
            seed,
            nodes,
            bucket_size: 255,
            k,
            alpha,
            delta,
            budget: None,
            rpc_timeout_ms: 2000,
            round_timeout_ms: 2000,
            paths,
            // β = k, no hedge, one vouch: exact, like kademlia.
            gated: (k, 0, 1, 0),
            weights: [1, 0, 0, 0, 0],
            target_kind,
        };
        let routing = RoutingConfig { k: 255, ..RoutingConfig::default() };
        let mut net = Network::new(seed, nodes, routing, case.weights);
        let (origin, target) = case.lookup(&net);
        let truth = net.truth(origin, &target, k);
        prop_assert_eq!(net.table(origin).len(), nodes - 1);
        let runs = [
            (StrategyName::Kademlia, Delays::Random),
            (StrategyName::Kademlia, Delays::Fifo),
            (StrategyName::KActive, Delays::Fifo),
            (StrategyName::QueryRest, Delays::Random),
            (StrategyName::QueryRest, Delays::Fifo),
            (StrategyName::Delta, Delays::Random),
            (StrategyName::Disjoint, Delays::Random),
            (StrategyName::Disjoint, Delays::Fifo),
            (StrategyName::Gated, Delays::Random),
            (StrategyName::Gated, Delays::Fifo),
        ];
        for (i, (strategy, delays)) in runs.into_iter().enumerate() {
            let config = case.config(strategy);
            let run = drive(&mut net, &config, origin, target, delays, seed.wrapping_add(i as u64));
            check_outcome(&net, &config, origin, &run);
            prop_assert_eq!(run.outcome.stats.failures, 0);
            prop_assert_eq!(
                &run.outcome.result,
                &truth,
                "{} ({:?} replies) missed the true {} closest",
                strategy,
                delays,
                k
            );
            let converges = nodes > k;
            match strategy {
                StrategyName::Delta => {}
                // It ends Exhausted only with an empty shortlist.
                StrategyName::QueryRest => prop_assert_eq!(run.outcome.reason, EndReason::Converged),
                _ => {
                    let reason = if converges { EndReason::Converged } else { EndReason::Exhausted };
                    prop_assert_eq!(run.outcome.reason, reason);
                }
            }
        }
        let value = format!("kadlab property value {seed}").into_bytes();
        let key = net.store(origin, &value, k);
        for (i, strategy) in StrategyName::ALL.into_iter().enumerate() {
            let config = case.config(strategy);
            let seed = seed.wrapping_add(i as u64);
            // k-active stops at k answers: only in the order asked are
            // the first of them from the closest nodes.
            let delays = if strategy == StrategyName::KActive { Delays::Fifo } else { Delays::Random };
            let run = drive_mode(&mut net, &config, origin, key, LookupMode::FindValue, delays, seed);
            check_value_found(&net, &config, &value, &run);
        }
    }
}

proptest! {
    #![proptest_config(proptest_config_with_cases(64))]

    /// Buckets of k contacts (every node offered to every table once, no
    /// replacement cache) on networks large enough that the origin's table
    /// seldom holds the true k closest, so lookups take several hops; every
    /// node answers in time. `kademlia` still returns exactly the true k
    /// closest, in any reply order, and finds a value stored there; so does
    /// `gated` with β = k and no hedge.
    /// `query-rest` is not exact here: it stops one round after a round
    /// brings nothing closer, and returns the first k of its shortlist,
    /// asked or not. What holds is that it returns the k closest of
    /// everything it heard of (seeds and replies), which is checked.
    #[test]
    fn kademlia_is_exact_over_several_hops(
        seed in any::<u64>(),
        nodes in 300usize..=600,
        k in 2usize..=6,
        alpha in 1usize..=4,
    ) {
        const LOOKUPS: usize = 6;
        let case = Case {
            seed,
            nodes,
            bucket_size: k,
            k,
            alpha,
            delta: 1,
            budget: None,
            rpc_timeout_ms: 2000,
            round_timeout_ms: 2000,
            paths: 1,
            gated: (k, 0, 1, 0),
            weights: [1, 0, 0, 0, 0],
            target_kind: 0,
        };
        let routing = RoutingConfig { k, replacement_cache: 0, ..RoutingConfig::default() };
        let mut net = Network::new(seed, nodes, routing, case.weights);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6d75_6c74_6968_6f70);
        let mut beyond_the_table = 0;
        for l in 0..LOOKUPS {
            let origin = rng.gen_range(0..nodes);
            let target = NodeId::random(&mut rng);
            let local = net.contacts[origin].id;
            let truth = net.truth(origin, &target, k);
            let table = net.table(origin);
            let known: HashSet<NodeId> =
                table.closest(&target, table.len()).iter().map(|c| c.id).collect();
            let one_hop = truth.iter().all(|c| known.contains(&c.id));
            beyond_the_table += usize::from(!one_hop);
            let lookup_seed = seed.wrapping_add(l as u64);

            let config = case.config(StrategyName::Kademlia);
            for delays in [Delays::Random, Delays::Fifo] {
                let run = drive(&mut net, &config, origin, target, delays, lookup_seed);
                check_outcome(&net, &config, origin, &run);
                prop_assert_eq!(run.outcome.stats.failures, 0);
                prop_assert_eq!(
                    &run.outcome.result,
                    &truth,
                    "kademlia ({:?} replies) missed the true {} closest",
                    delays,
                    k
                );
                prop_assert_eq!(run.outcome.reason, EndReason::Converged);
                if !one_hop {
                    prop_assert!(run.outcome.stats.rounds >= 2, "{:?}", run.outcome.stats);
                }
            }

            // gated with β = k and no hedge stops where kademlia does: when
            // the k closest known have all answered.
            let config = case.config(StrategyName::Gated);
            for delays in [Delays::Random, Delays::Fifo] {
                let run = drive(&mut net, &config, origin, target, delays, lookup_seed);
                check_outcome(&net, &config, origin, &run);
                prop_assert_eq!(
                    &run.outcome.result,
                    &truth,
                    "gated ({:?} replies) missed the true {} closest",
                    delays,
                    k
                );
                prop_assert_eq!(run.outcome.reason, EndReason::Converged);
            }

            let config = case.config(StrategyName::QueryRest);
            let seeds = net.table(origin).closest(&target, config.seed_count());
            for delays in [Delays::Random, Delays::Fifo] {
                let run = drive(&mut net, &config, origin, target, delays, lookup_seed);
                check_outcome(&net, &config, origin, &run);
                prop_assert_eq!(run.outcome.stats.failures, 0);
                prop_assert_eq!(run.outcome.reason, EndReason::Converged);
                prop_assert_eq!(
                    &run.outcome.result,
                    &closest_known(&seeds, &run, local, &target, k)
                );
            }

            let value = format!("kadlab property value {seed} {l}").into_bytes();
            let key = net.store(origin, &value, k);
            let config = case.config(StrategyName::Kademlia);
            let run = drive_mode(&mut net, &config, origin, key, LookupMode::FindValue, Delays::Random, lookup_seed);
            check_value_found(&net, &config, &value, &run);
            net.stored.clear();
        }
        prop_assert!(
            2 * beyond_the_table >= LOOKUPS,
            "only {} of {} lookups needed more than the origin's table",
            beyond_the_table,
            LOOKUPS
        );
    }
}

/// Found by `every_strategy_keeps_its_invariants`: `kademlia` widened to k
/// in flight, then a reply that brought a closer contact narrowed it back
/// to α with more than α requests still out (`parallelism()` below
/// `in_flight()`). Widening is now final, as docs/ALGORITHMS.md §4
/// describes it.
#[test]
fn kademlia_never_narrows_below_its_requests_in_flight() {
    check_invariants(&Case {
        seed: 5814841070604048103,
        nodes: 51,
        bucket_size: 1,
        k: 4,
        alpha: 1,
        delta: 1,
        budget: None,
        rpc_timeout_ms: 4,
        round_timeout_ms: 1,
        paths: 4,
        gated: (2, 0, 1, 0),
        weights: [12, 3, 0, 3, 1],
        target_kind: 0,
    });
}
