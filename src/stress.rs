//! Termination stress: every strategy and the bootstrap, driven through chaos.
//!
//! A lookup must end — with a reason — whatever the network does. This
//! module drives [`LookupStrategy`]s with a synthetic event loop in virtual
//! [`Time`] (no tokio, no sockets, no clock) against a synthetic network
//! that misbehaves on purpose, and checks on every lookup that it ends and
//! keeps the invariants of [`crate::lookup`].
//!
//! # The network
//!
//! A *world* is a random population of 200–2,000 node ids, shared by
//! [`LOOKUPS_PER_WORLD`] chaos lookups (or [`BOOTSTRAPS_PER_WORLD`]
//! bootstraps). A node asked for a target answers like a Kademlia node
//! would: with k random nodes of the population that share at least one
//! more leading bit with the target than it does (topped up with farther
//! ones when there are fewer), so lookups converge in about log₂ N hops.
//!
//! Each lookup (or bootstrap) draws its parameters — k up to the configured
//! one, α up to twice it, the per-request timeout, `query-rest`'s round
//! timeout, `delta`'s budget — and its own chaos: datagram loss of 0–60 %,
//! a share of nodes dead from the start and a share that die *during* the
//! lookup, a latency scale, and how often each of these happens:
//!
//! - error replies, and quick failures (ICMP-like) from dead nodes;
//! - replies after their request timed out; duplicate replies; a failure
//!   reported and the reply still arriving, or the other way round;
//! - the driver reporting a timeout itself, at the request's deadline;
//! - garbage in replies: random ids, the local node, the target itself,
//!   the same contact twice, known ids at other addresses, more than k
//!   contacts, empty replies;
//! - requests to a known id at another node's address, answered by that
//!   other node; replies and failures from nodes never asked, the local
//!   node and the target among them ("unexpected addresses");
//! - for FIND_VALUE, values that verify, values that do not hash to the
//!   target, values in FIND_NODE replies; both modes are run.
//!
//! One lookup in ten draws a calm network (no loss, no death, no garbage),
//! so every strategy's stopping rule is reached too, not only exhaustion.
//! Lookup `i` uses strategy `StrategyName::ALL[i % ALL.len()]`, so a
//! strategy added to [`StrategyName::ALL`] is stressed without a change
//! here; 30 % of the lookups are FIND_VALUE.
//!
//! A million lookups take about 80 s of CPU in a release build (most of it
//! in the strategies themselves), spread over [`StressConfig::threads`].
//!
//! # The bootstrap
//!
//! A joining node with an empty [`RoutingTable`] and 1–3 bootstrap
//! contacts does what `node::bootstrap` does over UDP: ask the bootstrap
//! nodes, look up its own id, then look up a random id in every bucket from
//! the nearest non-empty one outwards that is not full (one after the
//! other). Every reply updates the table through [`RoutingTable::update`]
//! (eviction pings answered at random through
//! [`RoutingTable::on_ping_result`]) and every failure through
//! [`RoutingTable::on_failure`], all under the same chaos.
//!
//! # What is checked
//!
//! A lookup that does not return `Finished` within
//! [`StressConfig::max_events`] events or [`StressConfig::max_virtual_ms`]
//! of virtual time, that waits for nothing (`Wait(None)` with no event left
//! to deliver), or that panics, is **hung**. On every lookup (see
//! [`Violation`] for the list): after every poll, requests in flight ≤
//! `parallelism()` and ≤ the requests the harness knows to be open; no node
//! is asked twice, the local node never, nor a contact the lookup never
//! heard of; no input is accepted for a request never sent or already
//! closed; the result is sorted by distance, distinct, at most k, free of
//! the local node and made of contacts the lookup heard of; the end reason
//! agrees with the mode, the value and the seeds; a finished lookup stays
//! finished. Violations are counted, never panicked on.
//!
//! # Reproducing
//!
//! Everything is drawn from ChaCha8 generators seeded by
//! [`StressConfig::seed`] and the lookup's index, so the report does not
//! depend on the number of threads, and one lookup can be replayed alone
//! with [`run_range`] (the index is in every [`Example`]).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hashbrown::HashSet;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::contact::Contact;
use crate::id::{NodeId, ID_BITS, ID_LEN};
use crate::lookup::{
    Budget, ConfigError, EndReason, LookupAction, LookupConfig, LookupMode, LookupOutcome,
    LookupSpec, LookupStrategy, Reply, StrategyName,
};
use crate::routing::{RoutingConfig, RoutingTable, UpdateOutcome};
use crate::time::Time;

/// Chaos lookups that share one world (population of node ids).
pub const LOOKUPS_PER_WORLD: u64 = 1_000;

/// Bootstraps that share one world.
pub const BOOTSTRAPS_PER_WORLD: u64 = 100;

/// At most this many [`Example`]s are kept in a report.
pub const MAX_EXAMPLES: usize = 20;

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StressConfig {
    /// Chaos lookups, spread round-robin over [`StrategyName::ALL`]
    /// (lookup `i` uses `ALL[i % ALL.len()]`).
    pub lookups: u64,
    /// Bootstraps (a self-lookup and a refresh of every bucket not full),
    /// spread round-robin over [`StrategyName::ALL`] the same way.
    pub bootstraps: u64,
    /// Seed of every random choice.
    pub seed: u64,
    /// k: result size, and bucket size of the bootstrap's routing table.
    /// A third of the lookups use it, the others a k drawn in `1..=k`.
    pub k: usize,
    /// α of every strategy (δ of `delta` too). Half the lookups use it, the
    /// others an α drawn in `1..=2α` (at most 64).
    pub alpha: usize,
    /// Worker threads; 0 uses every core. Never changes the report.
    #[serde(skip)]
    pub threads: usize,
    /// Events (polls and inputs) after which a lookup counts as hung.
    pub max_events: u64,
    /// Virtual time after which a lookup counts as hung, in milliseconds.
    pub max_virtual_ms: u64,
}

impl Default for StressConfig {
    fn default() -> Self {
        StressConfig {
            lookups: 1_000_000,
            bootstraps: 10_000,
            seed: 1,
            k: 20,
            alpha: 3,
            threads: 0,
            max_events: 100_000,
            max_virtual_ms: 24 * 3600 * 1000,
        }
    }
}

impl StressConfig {
    /// The lookup parameters every lookup starts from (strategy, budget and
    /// timeouts are then drawn per lookup).
    pub fn lookup_config(&self) -> LookupConfig {
        LookupConfig {
            k: self.k,
            alpha: self.alpha,
            delta: self.alpha,
            ..LookupConfig::default()
        }
    }

    /// Check ranges: k and α as [`LookupConfig::validate`] has them, and
    /// non-zero bounds.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.lookup_config().validate()?;
        if self.max_events == 0 {
            return Err(ConfigError::OutOfRange {
                key: "max_events",
                value: "0".into(),
                allowed: "at least 1",
            });
        }
        if self.max_virtual_ms == 0 {
            return Err(ConfigError::OutOfRange {
                key: "max_virtual_ms",
                value: "0".into(),
                allowed: "at least 1",
            });
        }
        Ok(())
    }
}

/// How the harness builds a strategy: the lookup's configuration (strategy,
/// k, α, budget, timeouts), its spec and its starting contacts.
/// [`standard_factory`] is [`LookupConfig::start_from`]; tests pass broken
/// strategies to see the harness catch them.
pub type StrategyFactory =
    dyn Fn(&LookupConfig, LookupSpec, &[Contact]) -> Box<dyn LookupStrategy> + Sync;

/// The strategies as configured: [`LookupConfig::start_from`].
pub fn standard_factory(
    config: &LookupConfig,
    spec: LookupSpec,
    seeds: &[Contact],
) -> Box<dyn LookupStrategy> {
    config.start_from(spec, seeds)
}

/// Which kind of run an [`Example`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// A chaos lookup.
    Lookup,
    /// A bootstrap (one of its lookups, or its routing table).
    Bootstrap,
}

/// One broken invariant or hang, to reproduce: run the same config with
/// [`run_range`] over `index..index + 1` (for the scenario).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Example {
    /// Chaos lookup or bootstrap.
    pub scenario: Scenario,
    /// Its index.
    pub index: u64,
    /// The strategy.
    pub strategy: String,
    /// The lookup's parameters and mode as drawn.
    pub params: String,
    /// The violation ([`Violation::as_str`]) or `hung:` and the
    /// [`Hang::as_str`].
    pub kind: String,
    /// What was seen.
    pub detail: String,
}

/// Why a lookup counts as hung.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hang {
    /// More than [`StressConfig::max_events`] polls and inputs.
    EventLimit,
    /// More than [`StressConfig::max_virtual_ms`] of virtual time.
    TimeLimit,
    /// It waits, and nothing is left to come: no request in flight with a
    /// deadline, no reply or failure on its way.
    Stalled,
    /// The strategy panicked.
    Panic,
}

impl Hang {
    /// Every kind, in report order.
    pub const ALL: [Hang; 4] = [
        Hang::EventLimit,
        Hang::TimeLimit,
        Hang::Stalled,
        Hang::Panic,
    ];

    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Hang::EventLimit => "event_limit",
            Hang::TimeLimit => "time_limit",
            Hang::Stalled => "stalled",
            Hang::Panic => "panic",
        }
    }
}

/// An invariant a lookup broke. Each is counted once per lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Violation {
    /// `in_flight() > parallelism()` after a poll or an input.
    InFlightOverParallelism,
    /// `in_flight()` counts more requests than were sent and are neither
    /// answered, failed nor past their deadline.
    InFlightOverOpen,
    /// A node was sent a second request.
    SentTwice,
    /// The local node was sent a request.
    SentToLocal,
    /// A request to a contact the lookup was never told about.
    SentToUnknown,
    /// `Send` with no contact.
    EmptySend,
    /// An input (`true` returned) for a node never sent a request.
    AcceptedUnasked,
    /// An input accepted for a request already answered, failed or past
    /// its deadline (a duplicate, late or second reply).
    AcceptedClosed,
    /// An input accepted after the lookup finished.
    AcceptedAfterFinish,
    /// `Wait(None)` with requests in flight: each has a deadline, so the
    /// wait should have one.
    WaitNoneInFlight,
    /// `Wait(None)` with nothing in flight: a bug by the trait's contract.
    WaitNoneIdle,
    /// `Wait(Some(t))` with `t` not after now: a busy loop.
    WaitInPast,
    /// The result is not sorted by distance, or has a contact twice.
    ResultUnsorted,
    /// The result has more than k contacts.
    ResultTooLong,
    /// The result has the local node.
    ResultHasLocal,
    /// The result has a contact the lookup was never told about.
    ResultUnknown,
    /// `ValueFound` without a value that hashes to the target in a
    /// FIND_VALUE lookup, or a value without `ValueFound`.
    ValueMismatch,
    /// `NoContacts` with contacts to start from, or another reason without.
    NoContactsMismatch,
    /// The outcome's target, statistics or time disagree with what happened.
    OutcomeFields,
    /// Polling a finished lookup gave something else than the same outcome.
    NotSticky,
    /// The bootstrap's routing table is inconsistent (the local node in it,
    /// an overfull bucket, a wrong length).
    TableInconsistent,
}

impl Violation {
    /// Every kind, in report order.
    pub const ALL: [Violation; 21] = [
        Violation::InFlightOverParallelism,
        Violation::InFlightOverOpen,
        Violation::SentTwice,
        Violation::SentToLocal,
        Violation::SentToUnknown,
        Violation::EmptySend,
        Violation::AcceptedUnasked,
        Violation::AcceptedClosed,
        Violation::AcceptedAfterFinish,
        Violation::WaitNoneInFlight,
        Violation::WaitNoneIdle,
        Violation::WaitInPast,
        Violation::ResultUnsorted,
        Violation::ResultTooLong,
        Violation::ResultHasLocal,
        Violation::ResultUnknown,
        Violation::ValueMismatch,
        Violation::NoContactsMismatch,
        Violation::OutcomeFields,
        Violation::NotSticky,
        Violation::TableInconsistent,
    ];

    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Violation::InFlightOverParallelism => "in_flight_over_parallelism",
            Violation::InFlightOverOpen => "in_flight_over_open",
            Violation::SentTwice => "sent_twice",
            Violation::SentToLocal => "sent_to_local",
            Violation::SentToUnknown => "sent_to_unknown",
            Violation::EmptySend => "empty_send",
            Violation::AcceptedUnasked => "accepted_unasked",
            Violation::AcceptedClosed => "accepted_closed",
            Violation::AcceptedAfterFinish => "accepted_after_finish",
            Violation::WaitNoneInFlight => "wait_none_in_flight",
            Violation::WaitNoneIdle => "wait_none_idle",
            Violation::WaitInPast => "wait_in_past",
            Violation::ResultUnsorted => "result_unsorted",
            Violation::ResultTooLong => "result_too_long",
            Violation::ResultHasLocal => "result_has_local",
            Violation::ResultUnknown => "result_unknown",
            Violation::ValueMismatch => "value_mismatch",
            Violation::NoContactsMismatch => "no_contacts_mismatch",
            Violation::OutcomeFields => "outcome_fields",
            Violation::NotSticky => "not_sticky",
            Violation::TableInconsistent => "table_inconsistent",
        }
    }
}

/// The chaos the harness injected, by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Inject {
    Lost,
    DeadNode,
    DiedDuring,
    Unreachable,
    ErrorReply,
    LateReply,
    DuplicateReply,
    FailureThenReply,
    ReplyThenFailure,
    DriverTimeout,
    RandomContact,
    LocalInReply,
    TargetInReply,
    DuplicateContact,
    OtherAddress,
    OversizedReply,
    EmptyReply,
    Misaddressed,
    OutsiderAnswer,
    UnsolicitedReply,
    UnsolicitedFailure,
    GoodValue,
    BadValue,
    ValueInFindNode,
    LocalSeed,
    NoSeeds,
    PingAnswered,
    PingUnanswered,
}

impl Inject {
    const COUNT: usize = 28;
    const NAMES: [&'static str; Inject::COUNT] = [
        "lost",
        "dead_node",
        "died_during_lookup",
        "unreachable",
        "error_reply",
        "late_reply",
        "duplicate_reply",
        "failure_then_reply",
        "reply_then_failure",
        "driver_timeout",
        "random_contact",
        "local_in_reply",
        "target_in_reply",
        "duplicate_contact",
        "known_id_other_address",
        "oversized_reply",
        "empty_reply",
        "misaddressed_request",
        "outsider_answer",
        "unsolicited_reply",
        "unsolicited_failure",
        "good_value",
        "bad_value",
        "value_in_find_node",
        "local_seed",
        "no_seeds",
        "ping_answered",
        "ping_unanswered",
    ];
}

/// Counts per end reason, keyed by strategy name.
pub type EndedCounts = BTreeMap<String, BTreeMap<EndReason, u64>>;

/// What a stress run saw. The same config gives the same report, whatever
/// the number of threads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StressReport {
    /// The seed.
    pub seed: u64,
    /// The configured k (lookups draw theirs up to it).
    pub k: usize,
    /// The configured α (lookups draw theirs up to twice it).
    pub alpha: usize,
    /// The strategies, in [`StrategyName::ALL`] order.
    pub strategies: Vec<String>,
    /// Chaos lookups run.
    pub lookups: u64,
    /// Of them, FIND_VALUE lookups.
    pub find_value_lookups: u64,
    /// Bootstraps run.
    pub bootstraps: u64,
    /// Lookups run by the bootstraps (self-lookups and refreshes).
    pub bootstrap_lookups: u64,
    /// Bootstraps that ended with a non-empty routing table.
    pub bootstraps_joined: u64,
    /// Lookups (chaos and bootstrap) that did not end: must be 0.
    pub hung: u64,
    /// Hung lookups by [`Hang`] kind.
    pub hangs: BTreeMap<String, u64>,
    /// Lookups (or bootstrap tables) that broke each [`Violation`]; only
    /// kinds seen at least once.
    pub violations: BTreeMap<String, u64>,
    /// How the chaos lookups ended, per strategy.
    pub ended: EndedCounts,
    /// How the bootstraps' lookups ended, per strategy.
    pub bootstrap_ended: EndedCounts,
    /// Events: polls and inputs, in all.
    pub events: u64,
    /// Requests the strategies sent.
    pub requests: u64,
    /// Inputs the strategies rightly refused (late, duplicate, unsolicited).
    pub inputs_refused: u64,
    /// Chaos injected, by kind.
    pub injected: BTreeMap<String, u64>,
    /// Most events one lookup took.
    pub max_events_per_lookup: u64,
    /// Longest lookup, in virtual milliseconds.
    pub max_lookup_ms: u64,
    /// The first violations and hangs, by scenario and index.
    pub examples: Vec<Example>,
}

impl StressReport {
    /// Whether nothing hung and no invariant was broken.
    pub fn passed(&self) -> bool {
        self.hung == 0 && self.violations.is_empty()
    }

    /// Total violations, all kinds.
    pub fn violation_count(&self) -> u64 {
        self.violations.values().sum()
    }

    /// The report as pretty JSON, ending in a newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{e}"));
        s.push('\n');
        s
    }
}

/// Run the stress with the configured strategies ([`standard_factory`]).
/// `progress` is called with the number of lookups and bootstraps just
/// finished, from worker threads.
pub fn run(
    config: &StressConfig,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<StressReport, ConfigError> {
    run_with(config, &standard_factory, progress)
}

/// [`run`] with strategies built by `factory`.
pub fn run_with(
    config: &StressConfig,
    factory: &StrategyFactory,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<StressReport, ConfigError> {
    config.validate()?;
    let mut tasks: Vec<(Range<u64>, Range<u64>)> = Vec::new();
    let mut start = 0;
    while start < config.lookups {
        let end = (start + LOOKUPS_PER_WORLD).min(config.lookups);
        tasks.push((start..end, 0..0));
        start = end;
    }
    let mut start = 0;
    while start < config.bootstraps {
        let end = (start + BOOTSTRAPS_PER_WORLD).min(config.bootstraps);
        tasks.push((0..0, start..end));
        start = end;
    }
    let threads = match config.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .clamp(1, tasks.len().max(1));
    let next = AtomicUsize::new(0);
    let work = || {
        let mut out = Vec::new();
        loop {
            let t = next.fetch_add(1, Ordering::Relaxed);
            let Some((lookups, bootstraps)) = tasks.get(t) else {
                break;
            };
            let tally = run_task(config, factory, lookups.clone(), bootstraps.clone());
            progress((lookups.end - lookups.start) + (bootstraps.end - bootstraps.start));
            out.push((t, tally));
        }
        out
    };
    let mut done: Vec<(usize, Tally)> = if threads == 1 {
        work()
    } else {
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
            workers
                .into_iter()
                .flat_map(|w| match w.join() {
                    Ok(out) => out,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        })
    };
    done.sort_by_key(|(t, _)| *t);
    let mut total = Tally::new();
    for (_, tally) in done {
        total.merge(tally);
    }
    Ok(total.into_report(config))
}

/// Run chaos lookups `lookups` and bootstraps `bootstraps` (indices as in
/// [`run`], so the same ones) on this thread: replays one lookup of a
/// report's [`Example`].
pub fn run_range(
    config: &StressConfig,
    lookups: Range<u64>,
    bootstraps: Range<u64>,
    factory: &StrategyFactory,
) -> Result<StressReport, ConfigError> {
    config.validate()?;
    let tally = run_task(config, factory, lookups, bootstraps);
    Ok(tally.into_report(config))
}

// ---- counting ------------------------------------------------------------

#[derive(Clone, Debug)]
struct Tally {
    lookups: u64,
    find_value: u64,
    bootstraps: u64,
    bootstrap_lookups: u64,
    joined: u64,
    hung: u64,
    hangs: [u64; 4],
    violations: [u64; 21],
    injected: [u64; Inject::COUNT],
    ended: Vec<Vec<u64>>,
    bootstrap_ended: Vec<Vec<u64>>,
    events: u64,
    requests: u64,
    refused: u64,
    max_events: u64,
    max_lookup_us: u64,
    examples: Vec<Example>,
}

fn reason_index(reason: EndReason) -> usize {
    EndReason::ALL
        .iter()
        .position(|r| *r == reason)
        .unwrap_or(EndReason::ALL.len())
}

impl Tally {
    fn new() -> Tally {
        let per_strategy = vec![vec![0; EndReason::ALL.len() + 1]; StrategyName::ALL.len()];
        Tally {
            lookups: 0,
            find_value: 0,
            bootstraps: 0,
            bootstrap_lookups: 0,
            joined: 0,
            hung: 0,
            hangs: [0; 4],
            violations: [0; 21],
            injected: [0; Inject::COUNT],
            ended: per_strategy.clone(),
            bootstrap_ended: per_strategy,
            events: 0,
            requests: 0,
            refused: 0,
            max_events: 0,
            max_lookup_us: 0,
            examples: Vec::new(),
        }
    }

    fn inject(&mut self, kind: Inject) {
        self.injected[kind as usize] += 1;
    }

    fn example(&mut self, example: Example) {
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(example);
        }
    }

    fn merge(&mut self, other: Tally) {
        self.lookups += other.lookups;
        self.find_value += other.find_value;
        self.bootstraps += other.bootstraps;
        self.bootstrap_lookups += other.bootstrap_lookups;
        self.joined += other.joined;
        self.hung += other.hung;
        for (a, b) in self.hangs.iter_mut().zip(other.hangs) {
            *a += b;
        }
        for (a, b) in self.violations.iter_mut().zip(other.violations) {
            *a += b;
        }
        for (a, b) in self.injected.iter_mut().zip(other.injected) {
            *a += b;
        }
        for (mine, theirs) in [
            (&mut self.ended, &other.ended),
            (&mut self.bootstrap_ended, &other.bootstrap_ended),
        ] {
            for (a, b) in mine.iter_mut().zip(theirs) {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
            }
        }
        self.events += other.events;
        self.requests += other.requests;
        self.refused += other.refused;
        self.max_events = self.max_events.max(other.max_events);
        self.max_lookup_us = self.max_lookup_us.max(other.max_lookup_us);
        self.examples.extend(other.examples);
        self.examples.sort();
        self.examples.truncate(MAX_EXAMPLES);
    }

    fn into_report(mut self, config: &StressConfig) -> StressReport {
        let ended = |counts: &[Vec<u64>]| -> EndedCounts {
            StrategyName::ALL
                .iter()
                .zip(counts)
                .map(|(s, c)| {
                    let by_reason = EndReason::ALL
                        .iter()
                        .zip(c)
                        .filter(|(_, n)| **n > 0)
                        .map(|(r, n)| (*r, *n))
                        .collect();
                    (s.as_str().to_string(), by_reason)
                })
                .collect()
        };
        self.examples.sort();
        StressReport {
            seed: config.seed,
            k: config.k,
            alpha: config.alpha,
            strategies: StrategyName::ALL
                .iter()
                .map(|s| s.as_str().to_string())
                .collect(),
            lookups: self.lookups,
            find_value_lookups: self.find_value,
            bootstraps: self.bootstraps,
            bootstrap_lookups: self.bootstrap_lookups,
            bootstraps_joined: self.joined,
            hung: self.hung,
            hangs: Hang::ALL
                .iter()
                .zip(self.hangs)
                .filter(|(_, n)| *n > 0)
                .map(|(h, n)| (h.as_str().to_string(), n))
                .collect(),
            violations: Violation::ALL
                .iter()
                .zip(self.violations)
                .filter(|(_, n)| *n > 0)
                .map(|(v, n)| (v.as_str().to_string(), n))
                .collect(),
            ended: ended(&self.ended),
            bootstrap_ended: ended(&self.bootstrap_ended),
            events: self.events,
            requests: self.requests,
            inputs_refused: self.refused,
            injected: Inject::NAMES
                .iter()
                .zip(self.injected)
                .map(|(name, n)| (name.to_string(), n))
                .collect(),
            max_events_per_lookup: self.max_events,
            max_lookup_ms: self.max_lookup_us / 1000,
            examples: self.examples,
        }
    }
}

// ---- the synthetic network -----------------------------------------------

/// Domains of the generators, so that worlds, lookups and bootstraps never
/// share a stream.
const DOMAIN_LOOKUP_WORLD: u64 = 1;
const DOMAIN_LOOKUP: u64 = 2;
const DOMAIN_BOOT_WORLD: u64 = 3;
const DOMAIN_BOOT: u64 = 4;

fn rng_for(seed: u64, domain: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(
        seed ^ domain.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17),
    );
    rng.set_stream(index);
    rng
}

fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.gen::<f64>() < p
}

fn common_bits(a: &NodeId, b: &NodeId) -> usize {
    a.distance(b).leading_zeros() as usize
}

/// The smallest and largest ids sharing the first `bits` bits of `target`.
fn prefix_bounds(target: &NodeId, bits: usize) -> (NodeId, NodeId) {
    let mut lo = target.0;
    let mut hi = target.0;
    for (i, (l, h)) in lo.iter_mut().zip(hi.iter_mut()).enumerate() {
        let keep = bits.saturating_sub(i * 8).min(8);
        let mask: u8 = if keep == 0 { 0 } else { 0xff << (8 - keep) };
        *l &= mask;
        *h |= !mask;
    }
    (NodeId(lo), NodeId(hi))
}

fn key_of(id: &NodeId) -> u64 {
    let mut first = [0; 8];
    first.copy_from_slice(&id.0[..8]);
    u64::from_be_bytes(first)
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `amount` (at most `len`) distinct numbers of `0..len` into `out`: a walk
/// from a random start with a random step coprime to `len`. Cheaper than
/// drawing each one, and random enough for who a node knows.
fn pick_distinct(rng: &mut ChaCha8Rng, len: usize, amount: usize, out: &mut Vec<usize>) {
    out.clear();
    if len == 0 {
        return;
    }
    let start = rng.gen_range(0..len);
    let mut step = rng.gen_range(1..=len);
    while gcd(step, len) != 1 {
        step = rng.gen_range(1..=len);
    }
    out.extend((0..amount.min(len)).map(|i| (start + i * step) % len));
}

/// A set of ids: a stamp per world member, a hash set for the others.
struct IdSet {
    stamp: Vec<u32>,
    epoch: u32,
    others: HashSet<NodeId>,
    len: usize,
}

impl IdSet {
    fn new() -> IdSet {
        IdSet {
            stamp: Vec::new(),
            epoch: 0,
            others: HashSet::new(),
            len: 0,
        }
    }

    fn clear(&mut self, world: &World) {
        if self.stamp.len() != world.len() || self.epoch == u32::MAX {
            self.stamp = vec![0; world.len()];
            self.epoch = 0;
        }
        self.epoch += 1;
        self.others.clear();
        self.len = 0;
    }

    fn insert(&mut self, world: &World, c: &Contact) -> bool {
        let new = match world.member_index(c) {
            Some(i) => std::mem::replace(&mut self.stamp[i], self.epoch) != self.epoch,
            None => self.others.insert(c.id),
        };
        self.len += usize::from(new);
        new
    }

    fn contains(&self, world: &World, c: &Contact) -> bool {
        match world.member_index(c) {
            Some(i) => self.stamp[i] == self.epoch,
            None => self.others.contains(&c.id),
        }
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A population of node ids, sorted, so that the ids sharing a prefix with
/// a target are one slice.
struct World {
    ids: Vec<NodeId>,
    /// The first 64 bits of each id, for fast prefix searches.
    keys: Vec<u64>,
    /// About log₂ of the population: how many leading bits the closest
    /// nodes share with a target.
    depth: usize,
}

/// Where a request addressed to a contact goes.
enum Resolved {
    /// The member with this index.
    Member(usize),
    /// The address of member `i`, but another id.
    OtherId(usize),
    /// Nobody in the population.
    Outsider,
}

impl World {
    fn new(rng: &mut ChaCha8Rng) -> World {
        let n = rng.gen_range(200..=2000);
        let mut ids: Vec<NodeId> = (0..n).map(|_| NodeId::random(rng)).collect();
        ids.sort_unstable();
        ids.dedup();
        let depth = (usize::BITS - ids.len().leading_zeros()) as usize;
        let keys = ids.iter().map(key_of).collect();
        World { ids, keys, depth }
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    fn contact(&self, i: usize) -> Contact {
        Contact::simulated(self.ids[i], i as u32)
    }

    fn random_member(&self, rng: &mut ChaCha8Rng) -> usize {
        rng.gen_range(0..self.len())
    }

    /// A contact outside the population: a random id at an address no
    /// member has.
    fn outsider(&self, rng: &mut ChaCha8Rng) -> Contact {
        let index = self.len() as u32 + rng.gen_range(0..1 << 20);
        Contact::simulated(NodeId::random(rng), index)
    }

    /// Members sharing at least `bits` leading bits with `target`.
    fn range(&self, target: &NodeId, bits: usize) -> Range<usize> {
        if bits <= 64 {
            let mask = u64::MAX.checked_shl(64 - bits as u32).unwrap_or(0);
            let lo = key_of(target) & mask;
            let hi = lo | !mask;
            let start = self.keys.partition_point(|k| *k < lo);
            let end = start + self.keys[start..].partition_point(|k| *k <= hi);
            return start..end;
        }
        let (lo, hi) = prefix_bounds(target, bits);
        let start = self.ids.partition_point(|id| *id < lo);
        let end = self.ids.partition_point(|id| *id <= hi);
        start..end
    }

    /// The index of the member with `c`'s id, whatever its address.
    fn member_index(&self, c: &Contact) -> Option<usize> {
        match c.simulated_index() {
            Some(i) if (i as usize) < self.len() && self.ids[i as usize] == c.id => {
                Some(i as usize)
            }
            _ => self.ids.binary_search(&c.id).ok(),
        }
    }

    fn resolve(&self, c: &Contact) -> Resolved {
        match c.simulated_index() {
            Some(i) if (i as usize) < self.len() => {
                let i = i as usize;
                if self.ids[i] == c.id {
                    Resolved::Member(i)
                } else {
                    Resolved::OtherId(i)
                }
            }
            _ => Resolved::Outsider,
        }
    }
}

/// The chaos of one lookup or bootstrap: probabilities and scales.
#[derive(Clone, Copy, Debug, Default)]
struct Chaos {
    loss: f64,
    dead: f64,
    dying: f64,
    unreachable: f64,
    error: f64,
    late: f64,
    duplicate: f64,
    failure_then_reply: f64,
    reply_then_failure: f64,
    driver_timeout: f64,
    garbage: f64,
    oversized: f64,
    empty: f64,
    outsider_answers: f64,
    unsolicited: f64,
    hold: f64,
    bad_value: f64,
    latency_us: u64,
}

impl Chaos {
    fn draw(rng: &mut ChaCha8Rng) -> Chaos {
        let latency_us = rng.gen_range(2_000..=300_000);
        if chance(rng, 0.1) {
            // A calm network, so that stopping rules are reached too.
            return Chaos {
                hold: rng.gen_range(0.0..=1.0),
                latency_us,
                ..Chaos::default()
            };
        }
        Chaos {
            loss: rng.gen_range(0.0..=0.6),
            dead: rng.gen_range(0.0..=0.5),
            dying: rng.gen_range(0.0..=0.3),
            unreachable: rng.gen_range(0.0..=1.0),
            error: rng.gen_range(0.0..=0.1),
            late: rng.gen_range(0.0..=0.15),
            duplicate: rng.gen_range(0.0..=0.15),
            failure_then_reply: rng.gen_range(0.0..=0.05),
            reply_then_failure: rng.gen_range(0.0..=0.05),
            driver_timeout: rng.gen_range(0.0..=1.0),
            garbage: rng.gen_range(0.0..=0.3),
            oversized: rng.gen_range(0.0..=0.05),
            empty: rng.gen_range(0.0..=0.1),
            outsider_answers: rng.gen_range(0.0..=0.3),
            unsolicited: rng.gen_range(0.0..=0.3),
            hold: rng.gen_range(0.0..=0.5),
            bad_value: rng.gen_range(0.0..=0.2),
            latency_us,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueKind {
    None,
    Good,
    Bad,
}

#[derive(Clone, Copy, Debug)]
enum Event {
    /// A reply from `from`, with `arena[start..start + len]`.
    Reply {
        from: Contact,
        start: u32,
        len: u32,
        value: ValueKind,
    },
    /// An error reply, an unreachable node, or the driver's own timeout.
    Failure { from: Contact },
    /// The answer to a routing table's eviction ping.
    Ping { oldest: NodeId, answered: bool },
}

/// Buffers reused from one lookup to the next.
struct Scratch {
    fate_epoch: Vec<u32>,
    fate: Vec<Time>,
    epoch: u32,
    queue: BinaryHeap<Reverse<(Time, u32)>>,
    events: Vec<Event>,
    arena: Vec<Contact>,
    /// Ids the lookup was told about: its seeds and accepted replies.
    seen: IdSet,
    /// Ids sent a request.
    asked: IdSet,
    /// Indices picked for a reply.
    picks: Vec<usize>,
    /// Contacts sent a request, in order.
    sent: Vec<Contact>,
    /// Requests the harness counts as open, with their deadlines.
    open: Vec<(NodeId, Time)>,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            fate_epoch: Vec::new(),
            fate: Vec::new(),
            epoch: 0,
            queue: BinaryHeap::new(),
            events: Vec::new(),
            arena: Vec::new(),
            seen: IdSet::new(),
            asked: IdSet::new(),
            picks: Vec::new(),
            sent: Vec::new(),
            open: Vec::new(),
        }
    }

    /// A new session on a world of `n` nodes: every node's fate redrawn.
    fn new_session(&mut self, n: usize) {
        if self.fate.len() != n || self.epoch == u32::MAX {
            self.fate = vec![Time::ZERO; n];
            self.fate_epoch = vec![0; n];
            self.epoch = 0;
        }
        self.epoch += 1;
    }

    fn clear_lookup(&mut self, world: &World) {
        self.queue.clear();
        self.events.clear();
        self.arena.clear();
        self.seen.clear(world);
        self.asked.clear(world);
        self.sent.clear();
        self.open.clear();
    }
}

const NEVER: Time = Time::from_millis(u64::MAX);

/// One chaos lookup or one bootstrap: a world, a generator, the chaos, and
/// the clock.
struct Session<'a> {
    config: &'a StressConfig,
    factory: &'a StrategyFactory,
    world: &'a World,
    scratch: &'a mut Scratch,
    tally: &'a mut Tally,
    rng: ChaCha8Rng,
    chaos: Chaos,
    scenario: Scenario,
    index: u64,
    strategy: StrategyName,
    started: Time,
    now: Time,
    /// The node doing the lookups.
    local: NodeId,
    /// The parameters of the lookup running, for examples.
    lookup_config: LookupConfig,
    /// Its mode.
    mode: LookupMode,
    value: Vec<u8>,
    bad_value: Vec<u8>,
}

/// Per-lookup bookkeeping of the checks.
struct Checks {
    local: NodeId,
    target: NodeId,
    mode: LookupMode,
    k: usize,
    rpc_timeout: Duration,
    has_seeds: bool,
    sent: u32,
    accepted_replies: u32,
    violated: u64,
}

impl Session<'_> {
    fn violate(&mut self, checks: &mut Checks, v: Violation, detail: impl FnOnce() -> String) {
        let bit = 1u64 << (v as u32);
        if checks.violated & bit != 0 {
            return;
        }
        checks.violated |= bit;
        self.tally.violations[v as usize] += 1;
        if self.tally.examples.len() < MAX_EXAMPLES {
            let example = Example {
                scenario: self.scenario,
                index: self.index,
                strategy: self.strategy.as_str().to_string(),
                params: self.params(),
                kind: v.as_str().to_string(),
                detail: detail(),
            };
            self.tally.example(example);
        }
    }

    fn params(&self) -> String {
        let c = &self.lookup_config;
        format!(
            "{} {:?} rpc_timeout_ms={} chaos={:?}",
            c.describe(),
            self.mode,
            c.rpc_timeout_ms,
            self.chaos
        )
    }

    fn schedule(&mut self, at: Time, event: Event) {
        let seq = self.scratch.events.len() as u32;
        self.scratch.events.push(event);
        self.scratch.queue.push(Reverse((at, seq)));
    }

    fn latency(&mut self) -> Duration {
        let base = self.chaos.latency_us;
        let mut us = base / 4 + self.rng.gen_range(0..=base * 3 / 2);
        if chance(&mut self.rng, 0.03) {
            us *= 5;
        }
        Duration::from_micros(us)
    }

    fn dead_at(&mut self, i: usize) -> Time {
        let s = &mut *self.scratch;
        if s.fate_epoch[i] != s.epoch {
            s.fate_epoch[i] = s.epoch;
            s.fate[i] = if chance(&mut self.rng, self.chaos.dead) {
                Time::ZERO
            } else if chance(&mut self.rng, self.chaos.dying) {
                self.started + Duration::from_micros(self.rng.gen_range(0..20_000_000))
            } else {
                NEVER
            };
        }
        s.fate[i]
    }

    fn is_alive(&mut self, i: usize, at: Time) -> bool {
        let dead_at = self.dead_at(i);
        if dead_at > at {
            return true;
        }
        self.tally.inject(if dead_at <= self.started {
            Inject::DeadNode
        } else {
            Inject::DiedDuring
        });
        false
    }

    /// Member `i`'s answer for `target`, in the arena: k members sharing
    /// more leading bits with the target than `i` does, topped up with
    /// farther ones; then the garbage of the chaos.
    fn reply_contacts(&mut self, i: usize, target: &NodeId) -> (u32, u32) {
        let world = self.world;
        let k = self.lookup_config.k;
        let start = self.scratch.arena.len();
        let bits = (common_bits(&world.ids[i], target) + 1).min(ID_BITS);
        let near = world.range(target, bits);
        if near.len() >= k {
            pick_distinct(&mut self.rng, near.len(), k, &mut self.scratch.picks);
            for &j in &self.scratch.picks {
                self.scratch.arena.push(world.contact(near.start + j));
            }
        } else {
            for j in near.clone().filter(|&j| j != i) {
                self.scratch.arena.push(world.contact(j));
            }
            let need = k - (self.scratch.arena.len() - start);
            let mut b = bits;
            let mut wide = near.clone();
            while b > 0 && wide.len() < need + near.len() + 1 {
                b -= 1;
                wide = world.range(target, b);
            }
            let amount = (need + near.len() + 1).min(wide.len());
            let mut added = 0;
            pick_distinct(&mut self.rng, wide.len(), amount, &mut self.scratch.picks);
            for &j in &self.scratch.picks {
                let j = wide.start + j;
                if added == need {
                    break;
                }
                if near.contains(&j) || j == i {
                    continue;
                }
                self.scratch.arena.push(world.contact(j));
                added += 1;
            }
        }
        self.garble(start, target);
        (start as u32, (self.scratch.arena.len() - start) as u32)
    }

    /// The garbage of the chaos, in the reply at `arena[start..]`.
    fn garble(&mut self, start: usize, target: &NodeId) {
        let world = self.world;
        if chance(&mut self.rng, self.chaos.garbage) {
            for _ in 0..self.rng.gen_range(1..=4) {
                let len = self.scratch.arena.len() - start;
                let kind = self.rng.gen_range(0..6);
                let c = match kind {
                    0 => {
                        self.tally.inject(Inject::RandomContact);
                        world.outsider(&mut self.rng)
                    }
                    1 => {
                        self.tally.inject(Inject::LocalInReply);
                        Contact::simulated(self.local, self.rng.gen())
                    }
                    2 => {
                        self.tally.inject(Inject::TargetInReply);
                        Contact::simulated(*target, self.rng.gen())
                    }
                    3 if len > 0 => {
                        self.tally.inject(Inject::DuplicateContact);
                        self.scratch.arena[start + self.rng.gen_range(0..len)]
                    }
                    4 if len > 0 => {
                        // A contact of this reply again, at another address.
                        self.tally.inject(Inject::OtherAddress);
                        let c = self.scratch.arena[start + self.rng.gen_range(0..len)];
                        Contact::simulated(c.id, self.rng.gen())
                    }
                    _ => {
                        // A member's id at another member's address.
                        self.tally.inject(Inject::OtherAddress);
                        let a = world.random_member(&mut self.rng);
                        let b = world.random_member(&mut self.rng);
                        Contact::simulated(world.ids[a], b as u32)
                    }
                };
                let at = start + self.rng.gen_range(0..=len);
                self.scratch.arena.insert(at, c);
            }
        }
        if chance(&mut self.rng, self.chaos.oversized) {
            self.tally.inject(Inject::OversizedReply);
            for _ in 0..self.rng.gen_range(1..=2 * self.lookup_config.k) {
                let c = if chance(&mut self.rng, 0.8) {
                    world.contact(world.random_member(&mut self.rng))
                } else {
                    world.outsider(&mut self.rng)
                };
                self.scratch.arena.push(c);
            }
        }
        if chance(&mut self.rng, self.chaos.empty) {
            self.tally.inject(Inject::EmptyReply);
            self.scratch.arena.truncate(start);
        }
    }
}

// ---- requests and inputs -------------------------------------------------

impl Session<'_> {
    /// What the network does with a request sent to `to` now.
    fn request(&mut self, to: Contact, checks: &Checks) {
        let now = self.now;
        let deadline = now + checks.rpc_timeout;
        let closed = match self.world.resolve(&to) {
            Resolved::Member(i) => self.member_answers(i, to, checks),
            Resolved::OtherId(i) => {
                // The datagram reaches member `i`, which answers as itself:
                // a reply from an address nobody asked.
                self.tally.inject(Inject::Misaddressed);
                let rtt = self.latency();
                if !chance(&mut self.rng, self.chaos.loss) && self.is_alive(i, now + rtt / 2) {
                    let (start, len) = self.reply_contacts(i, &checks.target);
                    let from = self.world.contact(i);
                    let value = ValueKind::None;
                    self.schedule(
                        now + rtt,
                        Event::Reply {
                            from,
                            start,
                            len,
                            value,
                        },
                    );
                }
                false
            }
            Resolved::Outsider => {
                if chance(&mut self.rng, self.chaos.outsider_answers) {
                    // A node the population does not know answers, with
                    // whatever it likes.
                    self.tally.inject(Inject::OutsiderAnswer);
                    let rtt = self.latency();
                    let start = self.scratch.arena.len();
                    for _ in 0..self.rng.gen_range(0..=self.lookup_config.k) {
                        let c = if chance(&mut self.rng, 0.5) {
                            self.world.contact(self.world.random_member(&mut self.rng))
                        } else {
                            self.world.outsider(&mut self.rng)
                        };
                        self.scratch.arena.push(c);
                    }
                    self.garble(start, &checks.target);
                    let len = (self.scratch.arena.len() - start) as u32;
                    let start = start as u32;
                    let value = ValueKind::None;
                    self.schedule(
                        now + rtt,
                        Event::Reply {
                            from: to,
                            start,
                            len,
                            value,
                        },
                    );
                    true
                } else {
                    false
                }
            }
        };
        if !closed && chance(&mut self.rng, self.chaos.driver_timeout) {
            // The driver's own timer, as `driver::run_lookup` has one.
            self.tally.inject(Inject::DriverTimeout);
            self.schedule(deadline, Event::Failure { from: to });
        }
    }

    /// Member `i` gets a request: loss, death, error or a reply (maybe
    /// late, twice, or with a failure around it). Returns whether an input
    /// before the deadline will close the request.
    fn member_answers(&mut self, i: usize, to: Contact, checks: &Checks) -> bool {
        let now = self.now;
        let timeout = checks.rpc_timeout;
        let rtt = self.latency();
        if chance(&mut self.rng, self.chaos.loss) {
            self.tally.inject(Inject::Lost);
            return false;
        }
        if !self.is_alive(i, now + rtt / 2) {
            if chance(&mut self.rng, self.chaos.unreachable) {
                self.tally.inject(Inject::Unreachable);
                self.schedule(now + rtt / 2, Event::Failure { from: to });
                return true;
            }
            return false;
        }
        if chance(&mut self.rng, self.chaos.error) {
            self.tally.inject(Inject::ErrorReply);
            self.schedule(now + rtt, Event::Failure { from: to });
            return true;
        }
        let late = chance(&mut self.rng, self.chaos.late);
        let at = if late {
            self.tally.inject(Inject::LateReply);
            let extra = self.rng.gen_range(0..=timeout.as_micros() as u64);
            now + timeout + Duration::from_micros(extra)
        } else {
            now + rtt
        };
        let (start, len) = self.reply_contacts(i, &checks.target);
        let value = self.value_of(i, checks);
        let reply = Event::Reply {
            from: to,
            start,
            len,
            value,
        };
        self.schedule(at, reply);
        if chance(&mut self.rng, self.chaos.duplicate) {
            self.tally.inject(Inject::DuplicateReply);
            let again = self.rng.gen_range(0..=2 * timeout.as_micros() as u64);
            self.schedule(at + Duration::from_micros(again), reply);
        }
        if chance(&mut self.rng, self.chaos.failure_then_reply) {
            self.tally.inject(Inject::FailureThenReply);
            self.schedule(now + rtt / 2, Event::Failure { from: to });
        }
        if chance(&mut self.rng, self.chaos.reply_then_failure) {
            self.tally.inject(Inject::ReplyThenFailure);
            let after = self.latency();
            self.schedule(at + after, Event::Failure { from: to });
        }
        !late && at < now + timeout
    }

    /// The value member `i` sends along, if any.
    fn value_of(&mut self, i: usize, checks: &Checks) -> ValueKind {
        match checks.mode {
            LookupMode::FindValue => {
                let near = common_bits(&self.world.ids[i], &checks.target) + 3 >= self.world.depth;
                if near && chance(&mut self.rng, self.chaos.hold) {
                    self.tally.inject(Inject::GoodValue);
                    ValueKind::Good
                } else if chance(&mut self.rng, self.chaos.bad_value) {
                    self.tally.inject(Inject::BadValue);
                    ValueKind::Bad
                } else {
                    ValueKind::None
                }
            }
            LookupMode::FindNode => {
                if chance(&mut self.rng, self.chaos.hold * 0.02) {
                    self.tally.inject(Inject::ValueInFindNode);
                    ValueKind::Good
                } else {
                    ValueKind::None
                }
            }
        }
    }

    /// Replies and failures nobody asked for: from members (asked or not),
    /// outsiders, the local node, the target.
    fn unsolicited(&mut self, checks: &Checks) {
        if !chance(&mut self.rng, self.chaos.unsolicited) {
            return;
        }
        for _ in 0..self.rng.gen_range(1..=2) {
            let member = self.world.random_member(&mut self.rng);
            let from = match self.rng.gen_range(0..6) {
                0 | 1 => self.world.contact(member),
                2 => self.world.outsider(&mut self.rng),
                3 => Contact::simulated(self.local, self.rng.gen()),
                4 => Contact::simulated(checks.target, self.rng.gen()),
                _ => match self.scratch.sent.len() {
                    0 => self.world.contact(member),
                    n => self.scratch.sent[self.rng.gen_range(0..n)],
                },
            };
            let at = self.now
                + Duration::from_micros(
                    self.rng
                        .gen_range(0..=checks.rpc_timeout.as_micros() as u64),
                );
            if chance(&mut self.rng, 0.7) {
                self.tally.inject(Inject::UnsolicitedReply);
                let (start, len) = self.reply_contacts(member, &checks.target);
                let value = self.value_of(member, checks);
                self.schedule(
                    at,
                    Event::Reply {
                        from,
                        start,
                        len,
                        value,
                    },
                );
            } else {
                self.tally.inject(Inject::UnsolicitedFailure);
                self.schedule(at, Event::Failure { from });
            }
        }
    }

    /// A table update asked for an eviction ping: the oldest answers if it
    /// is a live member and neither datagram is lost.
    fn on_update(&mut self, outcome: UpdateOutcome, timeout: Duration) {
        let UpdateOutcome::PingOldest { oldest } = outcome else {
            return;
        };
        let rtt = self.latency();
        let answered = match self.world.resolve(&oldest) {
            Resolved::Member(i) => {
                !chance(&mut self.rng, self.chaos.loss) && self.is_alive(i, self.now + rtt / 2)
            }
            _ => false,
        };
        let at = if answered {
            self.tally.inject(Inject::PingAnswered);
            self.now + rtt
        } else {
            self.tally.inject(Inject::PingUnanswered);
            self.now + timeout
        };
        let oldest = oldest.id;
        self.schedule(at, Event::Ping { oldest, answered });
    }

    /// Give `event` to the lookup (and the table), and check the answer.
    fn deliver(
        &mut self,
        lookup: &mut dyn LookupStrategy,
        event: Event,
        checks: &mut Checks,
        table: Option<&mut RoutingTable>,
    ) {
        let now = self.now;
        match event {
            Event::Reply {
                from,
                start,
                len,
                value,
            } => {
                let s = &mut *self.scratch;
                let contacts = &s.arena[start as usize..(start + len) as usize];
                let value = match value {
                    ValueKind::None => None,
                    ValueKind::Good => Some(self.value.as_slice()),
                    ValueKind::Bad => Some(self.bad_value.as_slice()),
                };
                let accepted = lookup.on_response(&from.id, Reply { contacts, value }, now);
                if accepted {
                    checks.accepted_replies += 1;
                    for c in contacts {
                        s.seen.insert(self.world, c);
                    }
                }
                self.check_input(from, accepted, checks, "reply");
                if let Some(table) = table {
                    let outcome = table.update(from, now);
                    self.on_update(outcome, checks.rpc_timeout);
                }
            }
            Event::Failure { from } => {
                let accepted = lookup.on_failure(&from.id, now);
                self.check_input(from, accepted, checks, "failure");
                if let Some(table) = table {
                    let _ = table.on_failure(&from.id, now);
                }
            }
            Event::Ping { oldest, answered } => {
                if let Some(table) = table {
                    table.on_ping_result(&oldest, answered, now);
                }
            }
        }
    }

    fn check_input(&mut self, from: Contact, accepted: bool, checks: &mut Checks, what: &str) {
        let open = self.scratch.open.iter().position(|(id, _)| *id == from.id);
        if accepted {
            let now = self.now;
            let from_contact = from;
            let from = from.id;
            if !self.scratch.asked.contains(self.world, &from_contact) {
                self.violate(checks, Violation::AcceptedUnasked, || {
                    format!("{what} from {from}, never asked, accepted at {now}")
                });
            } else if open.is_none() {
                self.violate(checks, Violation::AcceptedClosed, || {
                    format!("{what} from {from} accepted at {now}, its request already closed")
                });
            }
        } else {
            self.tally.refused += 1;
        }
        if let Some(pos) = open {
            self.scratch.open.swap_remove(pos);
        }
    }

    fn check_in_flight(&mut self, lookup: &dyn LookupStrategy, checks: &mut Checks, when: &str) {
        let in_flight = lookup.in_flight();
        let allowed = lookup.parallelism();
        let open = self.scratch.open.len();
        let now = self.now;
        if in_flight > allowed {
            self.violate(checks, Violation::InFlightOverParallelism, || {
                format!("{in_flight} in flight > parallelism() = {allowed} {when} at {now}")
            });
        }
        if in_flight > open {
            self.violate(checks, Violation::InFlightOverOpen, || {
                format!("{in_flight} in flight, only {open} requests open {when} at {now}")
            });
        }
    }
}

// ---- one lookup ----------------------------------------------------------

impl Session<'_> {
    /// Drive `lookup` to its end (or a hang), checking as it goes. With a
    /// `table`, every reply and failure updates it, as the driver does.
    fn drive(
        &mut self,
        lookup: &mut dyn LookupStrategy,
        spec: &LookupSpec,
        seeds: &[Contact],
        mut table: Option<&mut RoutingTable>,
    ) -> Result<EndReason, Hang> {
        self.scratch.clear_lookup(self.world);
        for s in seeds {
            if s.id != spec.local {
                self.scratch.seen.insert(self.world, s);
            }
        }
        let mut checks = Checks {
            local: spec.local,
            target: spec.target,
            mode: spec.mode,
            k: spec.k,
            rpc_timeout: spec.rpc_timeout,
            has_seeds: !self.scratch.seen.is_empty(),
            sent: 0,
            accepted_replies: 0,
            violated: 0,
        };
        let start = self.now;
        let max_virtual = Duration::from_millis(self.config.max_virtual_ms);
        let mut events = 0u64;
        let result = loop {
            events += 1;
            if events > self.config.max_events {
                break Err((Hang::EventLimit, format!("{events} events")));
            }
            if self.now.saturating_since(start) > max_virtual {
                break Err((Hang::TimeLimit, format!("still running at {}", self.now)));
            }
            let action = lookup.poll(self.now);
            let now = self.now;
            // Requests past their deadline were failed by that poll.
            self.scratch.open.retain(|(_, deadline)| *deadline > now);
            let deadline = match action {
                LookupAction::Finished(outcome) => {
                    self.check_outcome(lookup, &outcome, &mut checks);
                    break Ok(outcome.reason);
                }
                LookupAction::Send(contacts) => {
                    self.on_send(&contacts, &mut checks);
                    self.check_in_flight(lookup, &mut checks, "after a poll");
                    continue;
                }
                LookupAction::Wait(deadline) => deadline,
            };
            self.check_in_flight(lookup, &mut checks, "after a poll");
            let in_flight = lookup.in_flight();
            let wake = match deadline {
                None if in_flight > 0 => {
                    self.violate(&mut checks, Violation::WaitNoneInFlight, || {
                        format!("Wait(None) at {now} with {in_flight} in flight")
                    });
                    None
                }
                None => {
                    self.violate(&mut checks, Violation::WaitNoneIdle, || {
                        format!("Wait(None) at {now} with nothing in flight")
                    });
                    None
                }
                Some(d) if d <= now => {
                    self.violate(&mut checks, Violation::WaitInPast, || {
                        format!("Wait({d}) at {now}")
                    });
                    // A busy loop in a real driver: time still passes.
                    Some(now + Duration::from_millis(1))
                }
                Some(d) => Some(d),
            };
            let next = self.scratch.queue.peek().map(|Reverse((at, _))| *at);
            if next.is_some_and(|at| wake.is_none_or(|w| at <= w)) {
                let Some(Reverse((at, seq))) = self.scratch.queue.pop() else {
                    continue;
                };
                self.now = now.max(at);
                let event = self.scratch.events[seq as usize];
                events += 1;
                self.deliver(lookup, event, &mut checks, table.as_deref_mut());
                self.check_in_flight(lookup, &mut checks, "after an input");
            } else if let Some(wake) = wake {
                self.now = wake;
            } else {
                break Err((
                    Hang::Stalled,
                    format!(
                        "Wait(None) at {now}, {in_flight} in flight, nothing left to come \
                         ({} requests sent)",
                        checks.sent
                    ),
                ));
            }
        };
        self.tally.events += events;
        self.tally.requests += u64::from(checks.sent);
        self.tally.max_events = self.tally.max_events.max(events);
        let took = self.now.saturating_since(start).as_micros() as u64;
        self.tally.max_lookup_us = self.tally.max_lookup_us.max(took);
        // What is still on its way: the driver waits for eviction pings and
        // drops the rest.
        self.drain_pings(table);
        result.map_err(|(hang, detail)| {
            self.hung(hang, detail);
            hang
        })
    }

    fn on_send(&mut self, contacts: &[Contact], checks: &mut Checks) {
        let now = self.now;
        if contacts.is_empty() {
            self.violate(checks, Violation::EmptySend, || {
                format!("Send([]) at {now}")
            });
        }
        for &c in contacts {
            if c.id == checks.local {
                self.violate(checks, Violation::SentToLocal, || {
                    format!("request to the local node {} at {now}", c.id)
                });
            }
            if !self.scratch.asked.insert(self.world, &c) {
                self.violate(checks, Violation::SentTwice, || {
                    format!("second request to {} at {now}", c.id)
                });
            } else if !self.scratch.seen.contains(self.world, &c) {
                self.violate(checks, Violation::SentToUnknown, || {
                    format!("request to {}, never heard of, at {now}", c.id)
                });
            }
            checks.sent += 1;
            self.scratch.sent.push(c);
            self.scratch.open.push((c.id, now + checks.rpc_timeout));
            self.request(c, checks);
        }
        self.unsolicited(checks);
    }

    fn drain_pings(&mut self, table: Option<&mut RoutingTable>) {
        let Some(table) = table else {
            return;
        };
        while let Some(Reverse((at, seq))) = self.scratch.queue.pop() {
            if let Event::Ping { oldest, answered } = self.scratch.events[seq as usize] {
                self.now = self.now.max(at);
                table.on_ping_result(&oldest, answered, self.now);
            }
        }
    }

    fn hung(&mut self, hang: Hang, detail: String) {
        self.tally.hung += 1;
        self.tally.hangs[hang as usize] += 1;
        let example = Example {
            scenario: self.scenario,
            index: self.index,
            strategy: self.strategy.as_str().to_string(),
            params: self.params(),
            kind: format!("hung:{}", hang.as_str()),
            detail,
        };
        self.tally.example(example);
    }

    fn check_outcome(
        &mut self,
        lookup: &mut dyn LookupStrategy,
        outcome: &LookupOutcome,
        checks: &mut Checks,
    ) {
        let now = self.now;
        let result = &outcome.result;
        let (k, local, target) = (checks.k, checks.local, checks.target);
        if result.len() > k {
            let n = result.len();
            self.violate(checks, Violation::ResultTooLong, || {
                format!("{n} contacts > k = {k}")
            });
        }
        if result.iter().any(|c| c.id == local) {
            self.violate(checks, Violation::ResultHasLocal, || {
                format!("the local node {local} in the result")
            });
        }
        if !result
            .windows(2)
            .all(|w| w[0].id.distance(&target) < w[1].id.distance(&target))
        {
            self.violate(checks, Violation::ResultUnsorted, || {
                format!("result not strictly by distance: {result:?}")
            });
        }
        if let Some(c) = result
            .iter()
            .find(|c| !self.scratch.seen.contains(self.world, c))
        {
            let id = c.id;
            self.violate(checks, Violation::ResultUnknown, || {
                format!("{id} in the result, never heard of")
            });
        }
        let value_ok = match (outcome.reason, checks.mode) {
            (EndReason::ValueFound, LookupMode::FindValue) => outcome
                .value
                .as_deref()
                .is_some_and(|v| NodeId::of_immutable_value(v) == target),
            (EndReason::ValueFound, LookupMode::FindNode) => false,
            _ => outcome.value.is_none(),
        };
        if !value_ok {
            let (reason, mode, value) = (outcome.reason, checks.mode, outcome.value.clone());
            self.violate(checks, Violation::ValueMismatch, || {
                format!("{reason} in {mode:?} with value {value:?}")
            });
        }
        if (outcome.reason == EndReason::NoContacts) == checks.has_seeds {
            let (reason, has) = (outcome.reason, checks.has_seeds);
            self.violate(checks, Violation::NoContactsMismatch, || {
                format!("{reason} with starting contacts: {has}")
            });
        }
        let stats = outcome.stats;
        if outcome.target != target
            || stats.requests != checks.sent
            || stats.responses != checks.accepted_replies
            || stats.responses + stats.failures > stats.requests
            || outcome.finished_at > now
        {
            let (sent, accepted) = (checks.sent, checks.accepted_replies);
            let at = outcome.finished_at;
            self.violate(checks, Violation::OutcomeFields, || {
                format!(
                    "stats {stats:?} finished at {at}; the harness saw {sent} sent, \
                     {accepted} replies accepted, now {now}"
                )
            });
        }
        let later = now + Duration::from_secs(3600);
        match lookup.poll(later) {
            LookupAction::Finished(again) if again == *outcome => {}
            other => self.violate(checks, Violation::NotSticky, || {
                format!("polled again after finishing: {other:?}")
            }),
        }
        // Inputs after the end change nothing.
        if let Some(&c) = self.scratch.sent.last() {
            let late = lookup.on_response(&c.id, Reply::nodes(&[]), later)
                || lookup.on_failure(&c.id, later);
            if late {
                self.violate(checks, Violation::AcceptedAfterFinish, || {
                    format!("an input from {} accepted after the end", c.id)
                });
            }
        }
    }
}

// ---- scenarios -----------------------------------------------------------

/// Strategy of lookup (or bootstrap) `index`: round-robin.
fn strategy_of(index: u64) -> (usize, StrategyName) {
    let i = (index % StrategyName::ALL.len() as u64) as usize;
    (i, StrategyName::ALL[i])
}

fn random_bytes(rng: &mut ChaCha8Rng, len: Range<usize>) -> Vec<u8> {
    let mut v = vec![0; rng.gen_range(len)];
    rng.fill_bytes(&mut v);
    v
}

/// The lookup parameters drawn for one lookup or bootstrap: k is the
/// configured one in a third of the lookups, else uniform in `1..=k`; α
/// (and δ) the configured one in half, else uniform in `1..=2α` (capped at
/// 64); `delta`'s budget k (60 %) or uniform in `1..=3k`; the per-request
/// timeout 0.2–3 s, `query-rest`'s round timeout 0.1–4 s.
fn draw_lookup_config(
    config: &StressConfig,
    strategy: StrategyName,
    rng: &mut ChaCha8Rng,
) -> LookupConfig {
    let k = if chance(rng, 1.0 / 3.0) {
        config.k
    } else {
        rng.gen_range(1..=config.k)
    };
    let alpha = if chance(rng, 0.5) {
        config.alpha
    } else {
        rng.gen_range(1..=(2 * config.alpha).min(64))
    };
    let base = LookupConfig {
        k,
        alpha,
        delta: alpha,
        ..config.lookup_config()
    };
    let k = k as u32;
    let budget = match rng.gen_range(0..100) {
        // budget = none: the seed's literal rule, ended by its safety stop.
        0..=4 => Budget::Unlimited,
        5..=60 => Budget::Requests(k),
        _ => Budget::Requests(rng.gen_range(1..=3 * k)),
    };
    // Now and then an explicit number of starting contacts, from 1 to k.
    let seeds = chance(rng, 0.25).then(|| rng.gen_range(1..=k as usize));
    LookupConfig {
        budget,
        rpc_timeout_ms: rng.gen_range(200..=3000),
        round_timeout_ms: rng.gen_range(100..=4000),
        seeds,
        ..base.with_strategy(strategy)
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic".to_string()
    }
}

struct Shared<'a> {
    config: &'a StressConfig,
    factory: &'a StrategyFactory,
    scratch: Scratch,
    tally: Tally,
}

impl Shared<'_> {
    fn session<'s>(
        &'s mut self,
        world: &'s World,
        scenario: Scenario,
        index: u64,
        mut rng: ChaCha8Rng,
    ) -> Session<'s> {
        self.scratch.new_session(world.len());
        let chaos = Chaos::draw(&mut rng);
        let (_, strategy) = strategy_of(index);
        let value = random_bytes(&mut rng, 1..65);
        let bad_value = random_bytes(&mut rng, 0..81);
        Session {
            config: self.config,
            factory: self.factory,
            world,
            scratch: &mut self.scratch,
            tally: &mut self.tally,
            rng,
            chaos,
            scenario,
            index,
            strategy,
            started: Time::ZERO,
            now: Time::ZERO,
            local: NodeId::ZERO,
            lookup_config: self.config.lookup_config(),
            mode: LookupMode::FindNode,
            value,
            bad_value,
        }
    }

    /// Chaos lookup `index`.
    fn chaos_lookup(&mut self, world: &World, index: u64) {
        let config = self.config;
        let rng = rng_for(config.seed, DOMAIN_LOOKUP, index);
        let mut s = self.session(world, Scenario::Lookup, index, rng);
        let mode = if chance(&mut s.rng, 0.3) {
            s.tally.find_value += 1;
            LookupMode::FindValue
        } else {
            LookupMode::FindNode
        };
        let member = world.random_member(&mut s.rng);
        s.local = if chance(&mut s.rng, 0.5) {
            world.ids[member]
        } else {
            NodeId::random(&mut s.rng)
        };
        let stored = NodeId::of_immutable_value(&s.value);
        let target = match (mode, s.rng.gen_range(0..10)) {
            (LookupMode::FindValue, 0) => NodeId::random(&mut s.rng),
            (LookupMode::FindValue, _) => stored,
            (_, 0..=3) => NodeId::random(&mut s.rng),
            (_, 4..=6) => world.ids[world.random_member(&mut s.rng)],
            (_, 7) => s.local,
            (_, 8) => stored,
            _ => {
                let mut id = world.ids[world.random_member(&mut s.rng)];
                id.0[ID_LEN - 1] ^= 1 << s.rng.gen_range(0..8);
                id
            }
        };
        let lookup_config = draw_lookup_config(config, s.strategy, &mut s.rng);
        s.lookup_config = lookup_config.clone();
        s.mode = mode;
        let mut seeds = Vec::new();
        if chance(&mut s.rng, 0.03) {
            s.tally.inject(Inject::NoSeeds);
        } else {
            for _ in 0..s.rng.gen_range(1..=2 * lookup_config.alpha + 2) {
                seeds.push(world.contact(world.random_member(&mut s.rng)));
            }
        }
        if chance(&mut s.rng, 0.05) {
            s.tally.inject(Inject::LocalSeed);
            seeds.push(Contact::simulated(s.local, s.rng.gen()));
        }
        if chance(&mut s.rng, 0.05) && !seeds.is_empty() {
            s.tally.inject(Inject::DuplicateContact);
            seeds.push(seeds[0]);
        }
        if chance(&mut s.rng, 0.05) {
            s.tally.inject(Inject::RandomContact);
            seeds.push(world.outsider(&mut s.rng));
        }
        let spec = lookup_config.spec(s.local, target, mode);
        s.tally.lookups += 1;
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut lookup = (s.factory)(&lookup_config, spec, &seeds);
            s.drive(&mut *lookup, &spec, &seeds, None)
        }));
        s.record(result, false);
    }

    /// Bootstrap `index`: bootstrap nodes, self-lookup, refresh.
    fn bootstrap(&mut self, world: &World, index: u64) {
        let config = self.config;
        let rng = rng_for(config.seed, DOMAIN_BOOT, index);
        let mut s = self.session(world, Scenario::Bootstrap, index, rng);
        s.tally.bootstraps += 1;
        s.local = if chance(&mut s.rng, 0.2) {
            world.ids[world.random_member(&mut s.rng)]
        } else {
            NodeId::random(&mut s.rng)
        };
        let lookup_config = draw_lookup_config(config, s.strategy, &mut s.rng);
        s.lookup_config = lookup_config.clone();
        let routing = RoutingConfig {
            k: lookup_config.k,
            replacement_cache: s.rng.gen_range(0..=8),
            bad_after: s.rng.gen_range(1..=5),
            // Now and then every contact questionable at once, so full
            // buckets ping (BEP 5's fifteen minutes are longer than most
            // stress lookups).
            questionable_after: if chance(&mut s.rng, 0.5) {
                Duration::ZERO
            } else {
                crate::routing::BEP5_FRESHNESS
            },
            ping_timeout: Duration::from_millis(s.rng.gen_range(1_000..=15_000)),
            ..RoutingConfig::default()
        };
        let mut table = RoutingTable::new(s.local, routing, s.now);
        let timeout = lookup_config.rpc_timeout();

        // Ask the bootstrap nodes; only those that answer are added, as
        // `node::bootstrap` does.
        s.scratch.clear_lookup(world);
        let mut contacted = s.now;
        for _ in 0..s.rng.gen_range(1..=3) {
            let contact = if chance(&mut s.rng, 0.9) {
                world.contact(world.random_member(&mut s.rng))
            } else {
                world.outsider(&mut s.rng)
            };
            let rtt = s.latency();
            let answered = match world.resolve(&contact) {
                Resolved::Member(i) => {
                    !chance(&mut s.rng, s.chaos.loss)
                        && !chance(&mut s.rng, s.chaos.error)
                        && s.is_alive(i, s.now + rtt / 2)
                }
                _ => false,
            };
            // Some bootstrap nodes answer with our own id: not added.
            if answered && !chance(&mut s.rng, 0.03) {
                let at = s.now + rtt;
                let outcome = table.update(contact, at);
                s.on_update(outcome, timeout);
                contacted = contacted.max(at);
            } else {
                contacted = contacted.max(s.now + timeout);
            }
        }
        s.now = contacted;
        s.drain_pings(Some(&mut table));

        // The self-lookup, then one lookup per bucket not full, from the
        // nearest non-empty one outwards.
        s.bootstrap_lookup(&lookup_config, &mut table, s.local);
        for b in table.buckets_to_fill() {
            let target = s.local.random_in_bucket(b, &mut s.rng);
            s.bootstrap_lookup(&lookup_config, &mut table, target);
        }
        if !table.is_empty() {
            s.tally.joined += 1;
        }
        s.check_table(&table);
    }
}

impl Session<'_> {
    fn record(&mut self, result: std::thread::Result<Result<EndReason, Hang>>, bootstrap: bool) {
        let (i, _) = strategy_of(self.index);
        match result {
            Ok(Ok(reason)) => {
                let ended = if bootstrap {
                    &mut self.tally.bootstrap_ended
                } else {
                    &mut self.tally.ended
                };
                if let Some(row) = ended.get_mut(i) {
                    if let Some(n) = row.get_mut(reason_index(reason)) {
                        *n += 1;
                    }
                }
            }
            Ok(Err(_)) => {} // counted by `drive`
            Err(panic) => {
                let message = panic_message(panic.as_ref());
                self.hung(Hang::Panic, message);
            }
        }
    }

    fn bootstrap_lookup(
        &mut self,
        config: &LookupConfig,
        table: &mut RoutingTable,
        target: NodeId,
    ) {
        self.tally.bootstrap_lookups += 1;
        if let Some(b) = self.local.bucket_index(&target) {
            table.touch_bucket(b, self.now);
        }
        let seeds = table.closest(&target, config.seed_count());
        let spec = config.spec(self.local, target, LookupMode::FindNode);
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut lookup = (self.factory)(config, spec, &seeds);
            self.drive(&mut *lookup, &spec, &seeds, Some(table))
        }));
        self.record(result, true);
    }

    fn check_table(&mut self, table: &RoutingTable) {
        let k = self.lookup_config.k;
        let local = self.local;
        let counted: usize = (0..ID_BITS).map(|i| table.bucket_len(i)).sum();
        let overfull = (0..ID_BITS).find(|&i| table.bucket_len(i) > k);
        let bad = table.contains(&local)
            || table.iter().any(|e| e.contact.id == local)
            || counted != table.len()
            || table.iter().count() != table.len()
            || overfull.is_some();
        if bad {
            let mut checks = Checks {
                local,
                target: local,
                mode: LookupMode::FindNode,
                k,
                rpc_timeout: Duration::ZERO,
                has_seeds: false,
                sent: 0,
                accepted_replies: 0,
                violated: 0,
            };
            let len = table.len();
            self.violate(&mut checks, Violation::TableInconsistent, || {
                format!("len {len}, buckets hold {counted}, overfull bucket {overfull:?}")
            });
        }
    }
}

/// Run lookups and bootstraps, on this thread.
fn run_task(
    config: &StressConfig,
    factory: &StrategyFactory,
    lookups: Range<u64>,
    bootstraps: Range<u64>,
) -> Tally {
    let mut shared = Shared {
        config,
        factory,
        scratch: Scratch::new(),
        tally: Tally::new(),
    };
    let mut world: Option<(u64, World)> = None;
    for index in lookups {
        let w = index / LOOKUPS_PER_WORLD;
        if world.as_ref().map(|(i, _)| *i) != Some(w) {
            let mut rng = rng_for(config.seed, DOMAIN_LOOKUP_WORLD, w);
            world = Some((w, World::new(&mut rng)));
        }
        if let Some((_, world)) = &world {
            shared.chaos_lookup(world, index);
        }
    }
    let mut world: Option<(u64, World)> = None;
    for index in bootstraps {
        let w = index / BOOTSTRAPS_PER_WORLD;
        if world.as_ref().map(|(i, _)| *i) != Some(w) {
            let mut rng = rng_for(config.seed, DOMAIN_BOOT_WORLD, w);
            world = Some((w, World::new(&mut rng)));
        }
        if let Some((_, world)) = &world {
            shared.bootstrap(world, index);
        }
    }
    shared.tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_bounds_cover_exactly_the_ids_sharing_the_prefix() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let world = World::new(&mut rng);
        for _ in 0..50 {
            let target = NodeId::random(&mut rng);
            for bits in [0, 1, 3, 7, 8, 9, 12, 160] {
                let range = world.range(&target, bits);
                for (i, id) in world.ids.iter().enumerate() {
                    assert_eq!(
                        range.contains(&i),
                        common_bits(id, &target) >= bits,
                        "bits {bits}"
                    );
                }
            }
        }
        assert_eq!(world.range(&NodeId::ZERO, 0), 0..world.len());
    }

    #[test]
    fn replies_bring_closer_nodes() {
        let config = StressConfig::default();
        let mut shared = Shared {
            config: &config,
            factory: &standard_factory,
            scratch: Scratch::new(),
            tally: Tally::new(),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let world = World::new(&mut rng);
        let mut s = shared.session(&world, Scenario::Lookup, 0, rng);
        s.chaos = Chaos::default();
        let target = NodeId::random(&mut s.rng);
        for i in [0, 17, world.len() - 1] {
            let (start, len) = s.reply_contacts(i, &target);
            let reply = &s.scratch.arena[start as usize..(start + len) as usize];
            assert_eq!(reply.len(), config.k);
            let mine = common_bits(&world.ids[i], &target);
            let closer = reply
                .iter()
                .filter(|c| common_bits(&c.id, &target) > mine)
                .count();
            let available = world.range(&target, mine + 1).len();
            assert_eq!(closer, available.min(config.k));
            let distinct: HashSet<NodeId> = reply.iter().map(|c| c.id).collect();
            assert_eq!(distinct.len(), reply.len());
        }
    }
}
