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
//! A strategy written outside the crate goes through the same chaos with
//! [`run_contenders`]: lookup `i` is then run by `contenders[i % len]`, with
//! its own parameters, started from a routing table that holds the drawn
//! seeds. A contender that breaks the lookup contract shows as
//! `ContractBroken` in its row of `ended`; one that hangs, panics or breaks
//! an invariant is reported as any strategy would be.
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
//!
//! [`Time`]: crate::time::Time
//! [`StrategyName::ALL`]: crate::lookup::StrategyName::ALL
//! [`RoutingTable`]: crate::routing::RoutingTable
//! [`RoutingTable::update`]: crate::routing::RoutingTable::update
//! [`RoutingTable::on_ping_result`]: crate::routing::RoutingTable::on_ping_result
//! [`RoutingTable::on_failure`]: crate::routing::RoutingTable::on_failure

mod chaos;
mod checks;
mod event_loop;
mod network;
mod report;
mod scenarios;
mod world;

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use crate::contact::Contact;
use crate::lookup::{ConfigError, Contender, LookupConfig, LookupSpec, LookupStrategy};

pub use checks::{Hang, Violation};
pub use report::{EndedCounts, Example, Scenario, StressReport};

use report::Tally;
use scenarios::run_task;

/// Chaos lookups that share one world (population of node ids).
pub const LOOKUPS_PER_WORLD: u64 = 1_000;

/// Bootstraps that share one world.
pub const BOOTSTRAPS_PER_WORLD: u64 = 100;

/// At most this many [`Example`]s are kept in a report.
pub const MAX_EXAMPLES: usize = 20;

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StressConfig {
    /// Chaos lookups, spread round-robin over
    /// [`StrategyName::ALL`](crate::lookup::StrategyName::ALL)
    /// (lookup `i` uses `ALL[i % ALL.len()]`).
    pub lookups: u64,
    /// Bootstraps (a self-lookup and a refresh of every bucket not full),
    /// spread round-robin over
    /// [`StrategyName::ALL`](crate::lookup::StrategyName::ALL) the same way.
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
    run_entrants(config, Entrants::BuiltIn(factory), progress)
}

/// [`run`] with `contenders` instead of the built-in strategies: lookup `i`
/// (and bootstrap `i`) is run by `contenders[i % len]`, each as it is
/// entered (its own parameters, k and timeout; only the chaos is drawn).
/// Its starting contacts, garbage included, are given to it as the routing
/// table of the local node, since a contender starts from a table. A
/// contender that breaks the lookup contract shows as
/// [`EndReason::ContractBroken`](crate::lookup::EndReason) in `ended`, and
/// one that hangs, panics or breaks an invariant as for any strategy; the
/// report's rows are the contenders' names.
///
/// # Errors
/// An invalid `config`, or no contender at all.
pub fn run_contenders(
    config: &StressConfig,
    contenders: &[Contender],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<StressReport, ConfigError> {
    if contenders.is_empty() {
        return Err(ConfigError::OutOfRange {
            key: "contenders",
            value: "0".into(),
            allowed: "at least one contender",
        });
    }
    run_entrants(config, Entrants::Contenders(contenders), progress)
}

/// Who runs the lookups of a stress run.
#[derive(Clone, Copy)]
pub(super) enum Entrants<'a> {
    /// The built-in strategies, round-robin over
    /// [`StrategyName::ALL`](crate::lookup::StrategyName::ALL), with
    /// parameters drawn per lookup and built by this factory.
    BuiltIn(&'a StrategyFactory),
    /// Contenders, round-robin, as entered.
    Contenders(&'a [Contender]),
}

impl Entrants<'_> {
    /// How many there are: the report's rows.
    pub(super) fn len(&self) -> usize {
        match self {
            Entrants::BuiltIn(_) => crate::lookup::StrategyName::ALL.len(),
            Entrants::Contenders(c) => c.len(),
        }
    }

    /// The names of the report's rows, in round-robin order.
    pub(super) fn names(&self) -> Vec<String> {
        match self {
            Entrants::BuiltIn(_) => crate::lookup::StrategyName::ALL
                .iter()
                .map(|s| s.as_str().to_string())
                .collect(),
            Entrants::Contenders(c) => c.iter().map(|c| c.name().to_string()).collect(),
        }
    }
}

fn run_entrants(
    config: &StressConfig,
    entrants: Entrants<'_>,
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
            let tally = run_task(config, entrants, lookups.clone(), bootstraps.clone());
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
    let mut total = Tally::new(entrants.len());
    for (_, tally) in done {
        total.merge(tally);
    }
    Ok(total.into_report(config, &entrants.names()))
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
    let entrants = Entrants::BuiltIn(factory);
    let tally = run_task(config, entrants, lookups, bootstraps);
    Ok(tally.into_report(config, &entrants.names()))
}
