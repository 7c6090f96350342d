//! The lookups of a comparison, and running one strategy over them.

use rand::Rng;
use serde::Serialize;

use crate::driver::{lock, DriverObserver};
use crate::id::NodeId;
use crate::lookup::{Contender, EndReason, LookupMode, LookupOutcome, LookupStrategy};
use crate::sim::engine::{self, Engine, Process};
use crate::sim::network::SimNetwork;
use crate::sim::routes::{PathRoute, RequestLog};
use crate::sim::upkeep::{carry_on, upkeep_lookup, Then, Upkeeps};
use crate::sim::{stream, streams, SimConfig};
use crate::time::Time;

/// One lookup to run: the same list is given to every strategy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupTask {
    /// Position in the list.
    pub index: usize,
    /// Node doing the lookup (up at `start`).
    pub origin: u32,
    /// Key looked up.
    pub target: NodeId,
    /// When it starts.
    pub start: Time,
    /// Nodes or a stored value.
    pub mode: LookupMode,
    /// The true k closest honest nodes (other than the origin) answering at
    /// `start`.
    pub truth: Vec<u32>,
}

impl LookupTask {
    /// Run the task alone on `net` from its start with `contender` (see
    /// [`lookup_from`]): what `trace`, the narrator and the accuracy
    /// benches do with a task.
    pub fn run<O: DriverObserver + ?Sized>(
        &self,
        net: &SimNetwork,
        contender: &Contender,
        observer: &mut O,
    ) -> LookupOutcome {
        self.run_keeping(net, contender, observer).0
    }

    /// [`LookupTask::run`], handing back the finished strategy too, for
    /// callers that ask it afterwards which path sent which request
    /// ([`LookupStrategy::path_of`]).
    pub fn run_keeping<O: DriverObserver + ?Sized>(
        &self,
        net: &SimNetwork,
        contender: &Contender,
        observer: &mut O,
    ) -> (LookupOutcome, Box<dyn LookupStrategy>) {
        let lookup = start_at(net, self.origin, self.target, self.mode, contender);
        let timeout = contender.rpc_timeout();
        run_from(
            net,
            self.origin,
            lookup,
            self.mode,
            timeout,
            self.start,
            observer,
        )
    }
}

/// The value stored under a FIND_VALUE task's key.
pub fn value_for(index: usize) -> Vec<u8> {
    format!("kadlab value #{index}").into_bytes()
}

/// Draw the workload of `config` on `net`: FIND_NODE lookups of random ids,
/// then FIND_VALUE lookups of values stored at the start of the window.
pub fn make_tasks(net: &SimNetwork, config: &SimConfig) -> Vec<LookupTask> {
    let mut rng = stream(config.seed, streams::WORKLOAD);
    let window = config.lookup_window.as_millis().max(1) as u64;
    let total = config.lookups + config.value_lookups;
    let mut tasks = Vec::with_capacity(total);
    for index in 0..total {
        let mode = if index < config.lookups {
            LookupMode::FindNode
        } else {
            LookupMode::FindValue
        };
        let target = match mode {
            // Drawn even under an eclipse, so the rest of the workload is
            // the same as without one.
            LookupMode::FindNode => {
                let random = NodeId::random(&mut rng);
                config.adversaries.eclipse.unwrap_or(random)
            }
            LookupMode::FindValue => NodeId::of_immutable_value(&value_for(index)),
        };
        let start =
            config.window_start() + std::time::Duration::from_millis(rng.gen_range(0..window));
        // An honest origin that is up; a network that is entirely down has
        // none.
        let origin = (0..1000)
            .map(|_| rng.gen_range(0..net.nodes.len() as u32))
            .find(|&n| net.is_up(n, start) && !net.nodes[n as usize].adversary);
        let Some(origin) = origin else { continue };
        let truth = net.ids.closest_where(&target, config.k, |n| {
            n != origin && net.honest_answers(n, start)
        });
        tasks.push(LookupTask {
            index,
            origin,
            target,
            start,
            mode,
            truth,
        });
    }
    tasks
}

/// Store each FIND_VALUE task's value at the k closest honest nodes
/// answering when the lookup window opens (what a successful STORE would
/// have reached; adversaries never store). [`run_strategy`] does this on
/// its own copy of the network; callers that run tasks themselves do it
/// first.
pub fn store_values(net: &SimNetwork, tasks: &[LookupTask], config: &SimConfig) {
    let at = config.window_start();
    for task in tasks.iter().filter(|t| t.mode == LookupMode::FindValue) {
        for n in net
            .ids
            .closest_where(&task.target, config.k, |n| net.honest_answers(n, at))
        {
            if let Ok(mut store) = net.nodes[n as usize].store.lock() {
                store.insert(task.target, value_for(task.index));
            }
        }
    }
}

/// What one lookup achieved.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LookupRecord {
    /// Strategy name.
    pub strategy: String,
    /// Task index.
    pub lookup: usize,
    /// Origin node id (hex in JSON).
    pub origin: NodeId,
    /// Target (hex in JSON).
    pub target: NodeId,
    /// Start, in virtual ms.
    pub start_ms: u64,
    /// Result ids (hex in JSON), closest first.
    pub result: Vec<NodeId>,
    /// True k closest ids (hex in JSON).
    pub truth: Vec<NodeId>,
    /// |result ∩ truth| / |truth|.
    pub recall: f64,
    /// kadlab's success: the result holds at least one of the true k
    /// closest honest nodes, matched by id **and** address (a forged contact
    /// carrying an honest id does not count).
    pub success: bool,
    /// S/Kademlia's success: some path's route (its requests before its
    /// first reply that brought nothing closer) sent no request to an
    /// adversary (see [`crate::sim::routes`]).
    pub paper_success: bool,
    /// The strict form: some path sent no request at all to an adversary.
    pub strict_success: bool,
    /// Requests sent.
    pub rpcs: u32,
    /// Whether the result holds the single closest node.
    #[serde(skip)]
    pub exact: bool,
    /// Fraction of the result down when the lookup finished.
    #[serde(skip)]
    pub stale: f64,
    /// Requests that got no valid reply.
    #[serde(skip)]
    pub timeouts: u32,
    /// Longest request chain.
    #[serde(skip)]
    pub rounds: u32,
    /// Mean hops of the routes of the paths that sent requests (the h of
    /// S/Kademlia's model).
    #[serde(skip)]
    pub route_hops: f64,
    /// Virtual duration.
    #[serde(skip)]
    pub latency_ms: u64,
    /// Why it stopped.
    #[serde(skip)]
    pub reason: EndReason,
    /// For FIND_VALUE: whether the value came back.
    #[serde(skip)]
    pub value_found: Option<bool>,
}

/// Run every task with `contender`, on a fresh copy of the warmed-up
/// network `warm` (values stored, upkeep running), and return one record
/// per task (task order).
pub fn run_strategy(
    warm: &SimNetwork,
    tasks: &[LookupTask],
    contender: &Contender,
    config: &SimConfig,
    on_done: &(dyn Fn() + Sync),
) -> Vec<LookupRecord> {
    run_on(warm.clone(), tasks, contender, config, on_done)
}

/// [`run_strategy`] on `net` itself, which the lookups and upkeep change.
fn run_on(
    net: SimNetwork,
    tasks: &[LookupTask],
    contender: &Contender,
    config: &SimConfig,
    on_done: &(dyn Fn() + Sync),
) -> Vec<LookupRecord> {
    // A copy starts with no traffic counted; so does the original.
    *lock(&net.counters) = Default::default();
    store_values(&net, tasks, config);
    let mut upkeeps = Upkeeps::new(&net, config, config.window_start(), config.window_end());
    let mut starts = Starts::new(tasks, contender);
    let mut processes = upkeeps.processes::<RequestLog>();
    processes.push(&mut starts);
    let lookup = upkeep_lookup(config);
    let mut records: Vec<Option<LookupRecord>> = vec![None; tasks.len()];
    let mut engine = Engine::new(&net, Time::ZERO);
    engine::run(&mut engine, &mut processes, |engine, done| {
        if let Some((position, done)) = carry_on(engine, &lookup, done) {
            let log = done.watch.unwrap_or_default();
            let task = &tasks[position];
            let record = LookupRecord::new(
                engine.net(),
                task,
                contender.name(),
                &done.outcome,
                &log,
                &*done.lookup,
            );
            records[position] = Some(record);
            on_done();
        }
    });
    records.into_iter().flatten().collect()
}

/// The workload's lookups, each started at its task's start time.
struct Starts<'t> {
    tasks: &'t [LookupTask],
    /// Task positions in the order they start.
    order: Vec<usize>,
    next: usize,
    contender: &'t Contender,
}

impl<'t> Starts<'t> {
    fn new(tasks: &'t [LookupTask], contender: &'t Contender) -> Starts<'t> {
        let mut order: Vec<usize> = (0..tasks.len()).collect();
        order.sort_by_key(|&i| (tasks[i].start, i));
        Starts {
            tasks,
            order,
            next: 0,
            contender,
        }
    }
}

impl Process<Then, RequestLog> for Starts<'_> {
    fn next_at(&self) -> Option<Time> {
        self.order.get(self.next).map(|&i| self.tasks[i].start)
    }

    fn fire(&mut self, engine: &mut Engine<'_, Then, RequestLog>) {
        let Some(&position) = self.order.get(self.next) else {
            return;
        };
        self.next += 1;
        let task = &self.tasks[position];
        let watch = Some(RequestLog::default());
        let then = Then::Record(position);
        engine.start(
            task.origin,
            task.target,
            task.mode,
            self.contender,
            then,
            watch,
        );
    }
}

/// Run every contender over the same tasks, each on its own copy of the
/// warmed-up network `warm` ([`run_strategy`]): one record list per
/// contender, in order.
///
/// Contenders run in parallel, one per thread of the current rayon pool:
/// each has its own copy of the network in its own virtual-time runtime,
/// so the records are the same whatever the number of threads. The last
/// contender to start runs on `warm` itself rather than a copy, so one
/// contender needs one network in memory, not two.
pub fn run_contenders(
    warm: SimNetwork,
    tasks: &[LookupTask],
    contenders: &[Contender],
    config: &SimConfig,
    on_done: &(dyn Fn() + Sync),
) -> Vec<Vec<LookupRecord>> {
    use rayon::prelude::*;
    let left = std::sync::Mutex::new((contenders.len(), Some(warm)));
    contenders
        .par_iter()
        .map(|c| {
            let net = {
                let mut left = lock(&left);
                left.0 -= 1;
                if left.0 == 0 {
                    left.1.take()
                } else {
                    left.1.clone()
                }
            };
            // Each contender takes the network once, and the last leaves it
            // to nobody, so it is always there.
            net.map(|net| run_on(net, tasks, c, config, on_done))
                .unwrap_or_default()
        })
        .collect()
}

/// Node `origin` looks `target` up at `at`, alone on `net` (no upkeep,
/// no other lookup), with `contender`, through the shared driver over the
/// simulated network; its routing table learns from the lookup as a real
/// node's would.
pub fn lookup_from<O: DriverObserver + ?Sized>(
    net: &SimNetwork,
    origin: u32,
    target: NodeId,
    mode: LookupMode,
    contender: &Contender,
    at: Time,
    observer: &mut O,
) -> LookupOutcome {
    let lookup = start_at(net, origin, target, mode, contender);
    let timeout = contender.rpc_timeout();
    run_from(net, origin, lookup, mode, timeout, at, observer).0
}

/// `contender` started for a lookup of `target` by node `origin`, from its
/// routing table.
fn start_at(
    net: &SimNetwork,
    origin: u32,
    target: NodeId,
    mode: LookupMode,
    contender: &Contender,
) -> Box<dyn LookupStrategy> {
    contender.start(&lock(&net.nodes[origin as usize].table), target, mode)
}

/// Node `origin` runs an already started `lookup` alone on `net` from
/// `at`, each request bounded by `rpc_timeout`, until it and every
/// eviction ping it caused have ended. Hands the strategy back, for callers
/// that inspect it afterwards (the narrator reads which path asked whom).
pub fn run_from<O: DriverObserver + ?Sized>(
    net: &SimNetwork,
    origin: u32,
    lookup: Box<dyn LookupStrategy>,
    mode: LookupMode,
    rpc_timeout: std::time::Duration,
    at: Time,
    observer: &mut O,
) -> (LookupOutcome, Box<dyn LookupStrategy>) {
    let mut engine: Engine<'_, (), &mut O> = Engine::new(net, at);
    engine.run(origin, lookup, mode, rpc_timeout, (), Some(observer));
    let mut ended = None;
    engine::run(&mut engine, &mut [], |_, done| {
        ended = Some((done.outcome, done.lookup));
    });
    match ended {
        Some(ended) => ended,
        None => unreachable!("the event loop runs every lookup to its end"),
    }
}

impl LookupRecord {
    /// Judge one finished lookup of `task` against the simulator's truth:
    /// the figures every report is made of. `log` holds the requests the
    /// lookup sent (a [`RequestLog`] passed to the driver as its observer)
    /// and `lookup` the finished strategy, asked which path sent each
    /// request; [`run_strategy`] does all of this for every task.
    pub fn new(
        net: &SimNetwork,
        task: &LookupTask,
        strategy: &str,
        outcome: &LookupOutcome,
        log: &RequestLog,
        lookup: &dyn LookupStrategy,
    ) -> LookupRecord {
        let end = outcome.finished_at;
        let local = net.nodes[task.origin as usize].contact.id;
        let paths: Vec<PathRoute> = log
            .paths(
                &task.target,
                &local,
                |id| lookup.path_of(id),
                |c| net.is_adversary_at(c),
            )
            .into_iter()
            .filter(|p| p.requests > 0)
            .collect();
        let route_hops = if paths.is_empty() {
            0.0
        } else {
            paths.iter().map(|p| f64::from(p.hops)).sum::<f64>() / paths.len() as f64
        };
        let result: Vec<u32> = outcome
            .result
            .iter()
            .filter_map(|c| net.index_of(c))
            .collect();
        let hits = result.iter().filter(|n| task.truth.contains(n)).count();
        let recall = if task.truth.is_empty() {
            1.0
        } else {
            hits as f64 / task.truth.len() as f64
        };
        let stale = if outcome.result.is_empty() {
            0.0
        } else {
            result.iter().filter(|&&n| !net.is_up(n, end)).count() as f64
                / outcome.result.len() as f64
        };
        let id = |n: &u32| net.nodes[*n as usize].contact.id;
        LookupRecord {
            strategy: strategy.to_string(),
            lookup: task.index,
            origin: id(&task.origin),
            target: task.target,
            start_ms: task.start.as_millis(),
            result: outcome.result.iter().map(|c| c.id).collect(),
            truth: task.truth.iter().map(id).collect(),
            recall,
            success: hits > 0 || task.truth.is_empty(),
            paper_success: paths.iter().any(PathRoute::route_clean),
            strict_success: paths.iter().any(PathRoute::clean),
            rpcs: outcome.stats.requests,
            exact: task.truth.first().is_none_or(|t| result.contains(t)),
            stale,
            timeouts: outcome.stats.failures,
            rounds: outcome.stats.rounds,
            route_hops,
            latency_ms: (end - task.start).as_millis() as u64,
            reason: outcome.reason,
            value_found: (task.mode == LookupMode::FindValue)
                .then_some(outcome.reason == EndReason::ValueFound),
        }
    }
}
