//! Narration shared by the examples.
//!
//! Every example builds a small simulated network ([`World`]), runs one
//! lookup through the same driver the simulator and the UDP node use
//! ([`run`]), and tells the story of that lookup from the driver's own
//! events ([`narrate`]). Nothing here knows any strategy's rule: what a
//! strategy decided is read from its [`DriverEvent`]s (whom it asked, what
//! came back, what failed, how it ended), and *why* it decided so is the
//! strategy's own words, [`DriverEvent::Phase`] (its
//! `LookupStrategy::phase()`), printed whenever they change. What this code
//! adds are facts only the narrator can see: each contact's distance and
//! rank among the contacts heard of so far, what the simulator knows about
//! a silent node (offline, or a lost datagram), and how the result compares
//! with the true k closest. The one strategy-specific hook is `disjoint`'s
//! path of each node, read from the rule itself (`Disjoint::owner`).
//!
//! Every request ends in exactly one `Replied` or `Failed` event, unless the
//! lookup finished while it was still in flight. That includes the requests
//! the lookup gives up on by itself (at its own deadline, or by a rule's
//! timer: a `query-rest` round timeout shorter than the request timeout),
//! which come as a `Failed` timeout at the moment it gave up; one that came
//! sooner than the request timeout was the rule giving up early.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use kadlab::contact::Contact;
use kadlab::driver::{lock, Clock, DriverEvent};
use kadlab::id::{Distance, NodeId};
use kadlab::lookup::disjoint::{Disjoint, DisjointParams};
use kadlab::lookup::{
    Budget, EndReason, Lookup, LookupConfig, LookupMode, LookupOutcome, StrategyName,
};
use kadlab::sim::{self, ChurnModel, LookupTask, SimConfig, SimNetwork};
use kadlab::time::Time;
use kadlab::transport::TransportError;

/// Which FIND_NODE task of [`network`] the examples run.
pub const TASK: usize = 3;

/// The network every example runs on, so that their stories can be
/// compared line by line: 128 nodes with exponential sessions of an hour
/// (and equal downtimes, so about half are offline at any moment), an hour
/// of churn with a bucket refresh every 15 minutes, then the lookup within
/// the next minute. Routing tables therefore hold some contacts that have
/// left, which is where the strategies differ. No datagram loss, so every
/// silent node is an offline one. Seed 7, task 3: a lookup whose first
/// replies point at closer nodes that turn out to be offline.
pub fn network() -> SimConfig {
    SimConfig {
        nodes: 128,
        k: 8,
        lookups: TASK + 1,
        value_lookups: 0,
        loss: 0.0,
        churn: ChurnModel::Exponential {
            mean: Duration::from_secs(3600),
        },
        lookup_window: Duration::from_secs(60),
        seed: 7,
        ..SimConfig::default()
    }
}

/// The lookup settings of the examples: `strategy` with k = 8 (short
/// stories), and the defaults otherwise (α = 3, δ = 3, d = 4 paths, 2 s
/// timeouts), except `delta`'s budget, k as in docs/ALGORITHMS.md.
pub fn lookup(strategy: StrategyName) -> LookupConfig {
    let k = network().k;
    LookupConfig {
        strategy,
        k,
        budget: Budget::Requests(k as u32),
        ..LookupConfig::default()
    }
}

/// Build [`network`], run `strategy` on task [`TASK`], and tell it on `out`.
pub fn tell(out: &mut impl Write, strategy: StrategyName) -> io::Result<Summary> {
    let world = World::build(network(), TASK);
    let trace = run(&world, &lookup(strategy));
    narrate(out, &world, &trace)
}

/// A warmed-up simulated network and the one lookup task the examples run
/// on it.
pub struct World {
    /// The network's settings.
    pub sim: SimConfig,
    /// The network as warm-up left it; every run starts from a copy.
    pub net: SimNetwork,
    /// Who looks up what, when, and the true k closest.
    pub task: LookupTask,
    /// Hex digits that tell every node id of this network apart (≥ 4).
    prefix: usize,
}

impl World {
    /// Build the network of `sim` and take its FIND_NODE task number `task`.
    ///
    /// # Panics
    /// If `sim` draws fewer than `task + 1` FIND_NODE tasks.
    pub fn build(sim: SimConfig, task: usize) -> World {
        let net = sim::build_network(&sim);
        let task = sim::make_tasks(&net, &sim)
            .into_iter()
            .filter(|t| t.mode == LookupMode::FindNode)
            .nth(task)
            .expect("the example's settings draw this many lookups");
        let hex: Vec<String> = net.nodes.iter().map(|n| n.contact.id.to_string()).collect();
        let unique = |len: usize| {
            let mut seen = HashSet::new();
            hex.iter().all(|h| seen.insert(&h[..len]))
        };
        let prefix = (4..40).find(|&len| unique(len)).unwrap_or(40);
        World {
            sim,
            net,
            task,
            prefix,
        }
    }

    /// A short id: its first hex digits and an ellipsis, `3fa2…`.
    pub fn short(&self, id: &NodeId) -> String {
        format!("{}…", &id.to_string()[..self.prefix])
    }

    /// `3fa2… (2^151.3)`: a short id and its XOR distance to the target.
    pub fn named(&self, id: &NodeId) -> String {
        format!("{} ({})", self.short(id), self.dist(id))
    }

    /// `2^151.3`: the XOR distance of `id` to the target.
    pub fn dist(&self, id: &NodeId) -> String {
        format!("2^{:.1}", id.distance(&self.task.target).log2())
    }

    fn distance(&self, id: &NodeId) -> Distance {
        id.distance(&self.task.target)
    }

    /// The true k closest (the simulator's truth), closest first.
    pub fn truth(&self) -> Vec<NodeId> {
        self.task
            .truth
            .iter()
            .map(|&n| self.net.nodes[n as usize].contact.id)
            .collect()
    }

    fn origin(&self) -> NodeId {
        self.net.nodes[self.task.origin as usize].contact.id
    }

    /// Milliseconds since the lookup started, `+84ms`.
    fn at(&self, t: Time) -> String {
        format!("+{}ms", (t - self.task.start).as_millis())
    }

    /// Print the network, the task and the truth.
    pub fn describe(&self, out: &mut impl Write) -> io::Result<()> {
        let n = self.net.nodes.len();
        let start = self.task.start;
        let online = (0..n as u32)
            .filter(|&i| self.net.answers(i, start))
            .count();
        let churn = match self.sim.churn {
            ChurnModel::None => "every node stays online".to_string(),
            ChurnModel::Exponential { mean } => format!(
                "nodes come and go (online and offline spells of {} on average)",
                minutes(mean)
            ),
            ChurnModel::Weibull { .. } => {
                "nodes come and go (Weibull-distributed sessions)".to_string()
            }
        };
        writeln!(
            out,
            "A simulated network of {n} nodes (seed {}), k = {}: {churn}; {online} of {n} are online when the lookup starts. Datagram loss: {}%.",
            self.sim.seed,
            self.sim.k,
            self.sim.loss * 100.0
        )?;
        let table = lock(&self.net.nodes[self.task.origin as usize].table)
            .closest(&self.task.target, usize::MAX);
        let table_down = table
            .iter()
            .filter(|c| {
                self.net
                    .index_of(c)
                    .is_some_and(|i| !self.net.answers(i, start))
            })
            .count();
        writeln!(
            out,
            "Node {} looks up target {}: it wants the {} nodes closest to it. Its routing table holds {} contacts; {} of them are offline right now.",
            self.short(&self.origin()),
            self.short(&self.task.target),
            self.sim.k,
            table.len(),
            table_down
        )?;
        writeln!(
            out,
            "Distance is the XOR of two ids, written 2^x: ids have 160 bits, so 2^160 is as far as it gets, and 1 less is twice as close."
        )?;
        writeln!(
            out,
            "The true {} closest online nodes (only the simulator knows them):",
            self.task.truth.len()
        )?;
        list(
            out,
            "  ",
            &self
                .truth()
                .iter()
                .map(|id| self.named(id))
                .collect::<Vec<_>>(),
        )
    }

    /// Why node `to` gave no answer to a request sent at `sent` before the
    /// lookup stopped waiting at `until`, as the simulator knows it.
    fn why_silent(&self, to: &Contact, sent: Time, until: Time) -> String {
        let Some(n) = self.net.index_of(to) else {
            return "no such node".into();
        };
        let node = &self.net.nodes[n as usize];
        if node.unreachable {
            return "simulator: it is behind a NAT and never answers".into();
        }
        let delay = self.net.latency.delay(self.net.seed, self.task.origin, n);
        if !self.net.is_up(n, sent + delay) {
            "simulator: it is offline".into()
        } else if sent + delay + delay > until {
            format!(
                "simulator: it is online, but its answer takes {} ms",
                (delay + delay).as_millis()
            )
        } else {
            "simulator: it is online, so the request or its answer was lost".into()
        }
    }
}

fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s % 60 == 0 {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

/// Print `items` four to a line, each line starting with `indent`.
fn list(out: &mut impl Write, indent: &str, items: &[String]) -> io::Result<()> {
    for line in items.chunks(4) {
        writeln!(out, "{indent}{}", line.join(", "))?;
    }
    Ok(())
}

/// `1 request`, `2 requests`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// One lookup as it happened.
pub struct Recording {
    /// The strategy and its parameters.
    pub lookup: LookupConfig,
    /// The routing-table contacts the strategy started from.
    pub seeds: Vec<Contact>,
    /// Everything the driver reported, in order.
    pub events: Vec<DriverEvent>,
    /// How it ended.
    pub outcome: LookupOutcome,
    /// For `disjoint`: the path that claimed each node (a node is claimed
    /// once and keeps its path, so reading the claims after the lookup
    /// labels every request exactly).
    pub paths: HashMap<NodeId, usize>,
}

/// Run the task of `world` with `lookup`, on a fresh copy of the network.
pub fn run(world: &World, lookup: &LookupConfig) -> Recording {
    let net = Arc::new(world.net.clone());
    let task = &world.task;
    let node = &net.nodes[task.origin as usize];
    // The contacts `LookupConfig::start` takes from the table.
    let seeds = lock(&node.table).closest(&task.target, lookup.seed_count());
    let mut events: Vec<DriverEvent> = Vec::new();
    let mut paths = HashMap::new();
    let outcome = sim::virtual_time_runtime().block_on(async {
        let clock = Clock::starting_now();
        tokio::time::sleep_until(clock.instant(task.start)).await;
        let mode = LookupMode::FindNode;
        if lookup.strategy != StrategyName::Disjoint {
            return sim::lookup_from(
                &net,
                task.origin,
                task.target,
                mode,
                &lookup.into(),
                clock,
                &mut events,
            )
            .await;
        }
        // `disjoint` is built here rather than through `lookup_from`, which
        // hides the rule behind `dyn LookupStrategy`: the narration needs
        // `Disjoint::owner` to say which path each request belongs to.
        let params = DisjointParams {
            alpha: lookup.alpha,
            paths: lookup.paths,
        };
        let spec = lookup.spec(node.contact.id, task.target, mode);
        let rule = Disjoint::new(params, lookup.k, task.target, &seeds);
        let mut strategy = Lookup::new(spec, &seeds, rule);
        let outcome = sim::run_from(
            &net,
            task.origin,
            &mut strategy,
            mode,
            lookup.rpc_timeout(),
            clock,
            &mut events,
        )
        .await;
        for n in &net.nodes {
            if let Some(p) = strategy.rule().owner(&n.contact.id) {
                paths.insert(n.contact.id, p);
            }
        }
        outcome
    });
    Recording {
        lookup: lookup.clone(),
        seeds,
        events,
        outcome,
        paths,
    }
}

/// Where a contact stands, as the narrator saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    NotAsked,
    Waiting(Time),
    Answered,
    Failed,
}

impl State {
    fn mark(self) -> &'static str {
        match self {
            State::NotAsked => "·",
            State::Waiting(_) => "…",
            State::Answered => "✓",
            State::Failed => "✗",
        }
    }
}

/// What one lookup achieved, for the side-by-side table.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Strategy name.
    pub strategy: StrategyName,
    /// Requests sent.
    pub requests: u32,
    /// Requests answered.
    pub answered: u32,
    /// Requests that failed or timed out.
    pub failed: u32,
    /// Result size.
    pub result: usize,
    /// Result members that are in the true k closest.
    pub hits: usize,
    /// Size of the truth.
    pub truth: usize,
    /// Why it stopped.
    pub reason: EndReason,
    /// Result members that never answered during the lookup.
    pub never_answered: usize,
    /// Of those, the ones never even asked.
    pub never_asked: usize,
    /// Result members offline when the lookup ended.
    pub offline_at_end: usize,
    /// Virtual duration.
    pub elapsed: Duration,
    /// The strategy's last words about its phase.
    pub last_phase: String,
}

/// The narrator's picture of the lookup: every contact heard of, closest
/// first, with its state, and who told us about it.
struct Picture<'w> {
    world: &'w World,
    known: BTreeMap<Distance, Contact>,
    state: HashMap<NodeId, State>,
    paths: &'w HashMap<NodeId, usize>,
    timeout: Duration,
}

impl<'w> Picture<'w> {
    fn hear(&mut self, c: &Contact) -> bool {
        if self.state.contains_key(&c.id) || c.id == self.world.origin() {
            return false;
        }
        self.known.insert(self.world.distance(&c.id), *c);
        self.state.insert(c.id, State::NotAsked);
        true
    }

    fn state(&self, id: &NodeId) -> State {
        self.state.get(id).copied().unwrap_or(State::NotAsked)
    }

    /// Contacts heard of, closest first, among those of path `path` (all
    /// of them for lookups without paths).
    fn known_in(&self, path: Option<usize>) -> impl Iterator<Item = &Contact> + '_ {
        self.known
            .values()
            .filter(move |c| self.path(&c.id) == path)
    }

    fn top_k(&self, path: Option<usize>) -> Vec<NodeId> {
        self.known_in(path)
            .take(self.world.sim.k)
            .map(|c| c.id)
            .collect()
    }

    fn closest(&self, path: Option<usize>) -> Option<NodeId> {
        self.known_in(path).next().map(|c| c.id)
    }

    fn path(&self, id: &NodeId) -> Option<usize> {
        self.paths.get(id).copied()
    }

    /// `heard of` or `this path has heard of`.
    fn heard(path: Option<usize>) -> &'static str {
        match path {
            Some(_) => "this path has heard of",
            None => "heard of",
        }
    }

    /// `path 2 ` for `disjoint`, empty otherwise.
    fn path_tag(&self, id: &NodeId) -> String {
        match self.path(id) {
            Some(p) => format!(" [path {p}]"),
            None => String::new(),
        }
    }

    /// Contacts of path `path` heard of and not yet asked, closest first.
    fn unasked_in(&self, path: Option<usize>) -> Vec<NodeId> {
        self.known_in(path)
            .filter(|c| self.state(&c.id) == State::NotAsked)
            .map(|c| c.id)
            .collect()
    }
}

const COL: &str = "          ";

/// Tell the story of `trace` on `out`: the network, where the lookup
/// starts, every event, how it ended, and the result against the truth.
pub fn narrate(out: &mut impl Write, world: &World, trace: &Recording) -> io::Result<Summary> {
    let lookup = &trace.lookup;
    writeln!(out, "== {} ({}) ==", lookup.strategy, lookup.describe())?;
    world.describe(out)?;
    replay(out, world, trace)
}

/// The events of `trace` and the verdict, without the introduction; with
/// `io::sink()` it only computes the summary.
pub fn replay(out: &mut impl Write, world: &World, trace: &Recording) -> io::Result<Summary> {
    let mut pic = Picture {
        world,
        known: BTreeMap::new(),
        state: HashMap::new(),
        paths: &trace.paths,
        timeout: trace.lookup.rpc_timeout(),
    };
    for c in &trace.seeds {
        pic.hear(c);
    }
    writeln!(out)?;
    let names = |ids: &mut dyn Iterator<Item = &Contact>| -> Vec<String> {
        ids.map(|c| world.named(&c.id)).collect()
    };
    if trace.paths.is_empty() || trace.seeds.is_empty() {
        writeln!(
            out,
            "It starts from the {} contacts closest to the target in its own routing table:",
            trace.seeds.len()
        )?;
        list(out, "  ", &names(&mut trace.seeds.iter()))?;
    } else {
        let paths = trace.lookup.paths;
        writeln!(
            out,
            "It starts from the {} contacts closest to the target in its own routing table, split over {paths} paths:",
            trace.seeds.len()
        )?;
        for p in 0..paths {
            let mine: Vec<&Contact> = trace
                .seeds
                .iter()
                .filter(|c| pic.path(&c.id) == Some(p))
                .collect();
            writeln!(
                out,
                "  path {p}: {}",
                names(&mut mine.into_iter()).join(", ")
            )?;
        }
    }
    writeln!(
        out,
        "Marks: ✓ answered, ✗ asked but no answer, … waiting for an answer, · not asked (yet)."
    )?;
    writeln!(out)?;

    let mut last_phase = String::new();
    let mut finished: Option<(Time, LookupOutcome)> = None;
    for event in &trace.events {
        let now = match event {
            DriverEvent::Sent(t, _)
            | DriverEvent::Phase(t, _)
            | DriverEvent::Replied(t, ..)
            | DriverEvent::Failed(t, ..)
            | DriverEvent::Finished(t, _) => *t,
        };
        let at = world.at(now);
        match event {
            DriverEvent::Phase(_, phase) => {
                writeln!(out, "{at:>9} rule: {phase}")?;
                last_phase = phase.clone();
            }
            DriverEvent::Sent(_, to) => {
                // Group by path (one group without paths), in path order.
                let mut groups: BTreeMap<Option<usize>, Vec<&Contact>> = BTreeMap::new();
                for c in to {
                    groups.entry(pic.path(&c.id)).or_default().push(c);
                }
                for (path, group) in groups {
                    let unasked = pic.unasked_in(path);
                    let heard = pic.known_in(path).count();
                    let ranks: Vec<usize> = group
                        .iter()
                        .map(|c| unasked.iter().position(|u| *u == c.id).map_or(0, |p| p + 1))
                        .collect();
                    let who = match path {
                        Some(p) => format!("path {p} asks"),
                        None => "asks".to_string(),
                    };
                    let pool = format!("of the {heard} {}", Picture::heard(path));
                    let listed: Vec<String> = group.iter().map(|c| world.named(&c.id)).collect();
                    if ranks.iter().enumerate().all(|(i, &r)| r == i + 1) {
                        let which = if group.len() == 1 {
                            "the closest contact not asked yet".to_string()
                        } else {
                            format!("the {} closest not asked yet", group.len())
                        };
                        writeln!(out, "{at:>9} → {who} {which} ({pool}):")?;
                        list(out, COL, &listed)?;
                    } else {
                        writeln!(out, "{at:>9} → {who} {} contacts ({pool}):", group.len())?;
                        let ranked: Vec<String> = group
                            .iter()
                            .zip(&ranks)
                            .map(|(c, &r)| {
                                let rank = if r == 0 {
                                    "not in the picture".to_string()
                                } else {
                                    format!("{} closest not asked", ordinal(r))
                                };
                                format!("{} — {rank}", world.named(&c.id))
                            })
                            .collect();
                        for line in ranked {
                            writeln!(out, "{COL}{line}")?;
                        }
                    }
                    for c in group {
                        pic.hear(c);
                        pic.state.insert(c.id, State::Waiting(now));
                    }
                }
            }
            DriverEvent::Replied(_, from, contacts) => {
                let sent = match pic.state(&from.id) {
                    State::Waiting(sent) => Some(sent),
                    _ => None,
                };
                pic.state.insert(from.id, State::Answered);
                let path = pic.path(&from.id);
                let before_top = pic.top_k(path);
                let before_best = pic.closest(path);
                let fresh: Vec<Contact> =
                    contacts.iter().filter(|c| pic.hear(c)).copied().collect();
                let took = sent.map_or(String::new(), |s| {
                    format!(" after {} ms", (now - s).as_millis())
                });
                let others = match path {
                    Some(p) => {
                        let n = contacts
                            .iter()
                            .filter(|c| pic.path(&c.id).is_some_and(|q| q != p))
                            .count();
                        format!("; {n} belong to other paths, so this path ignores them")
                    }
                    None => String::new(),
                };
                writeln!(
                    out,
                    "{at:>9} ← {}{} answered{took}: {} contacts, {} new to this lookup{others}",
                    world.named(&from.id),
                    pic.path_tag(&from.id),
                    contacts.len(),
                    fresh.len()
                )?;
                let heard = Picture::heard(path);
                match pic.closest(path) {
                    Some(best) if Some(best) != before_best => writeln!(
                        out,
                        "{COL}closer than anything {} had heard of: {}",
                        if path.is_some() { "this path" } else { "it" },
                        world.named(&best)
                    )?,
                    Some(best) => writeln!(
                        out,
                        "{COL}nothing closer than {}, the closest {heard}",
                        world.named(&best)
                    )?,
                    None => {}
                }
                let after_top = pic.top_k(path);
                let entered: Vec<String> = after_top
                    .iter()
                    .filter(|id| !before_top.contains(id))
                    .map(|id| world.named(id))
                    .collect();
                let left: Vec<String> = before_top
                    .iter()
                    .filter(|id| !after_top.contains(id))
                    .map(|id| world.named(id))
                    .collect();
                if !entered.is_empty() {
                    writeln!(out, "{COL}new among the {} closest {heard}:", world.sim.k)?;
                    list(out, &format!("{COL}  "), &entered)?;
                }
                if !left.is_empty() {
                    writeln!(out, "{COL}pushed out of them:")?;
                    list(out, &format!("{COL}  "), &left)?;
                }
            }
            DriverEvent::Failed(_, to, error) => {
                let sent = match pic.state(&to.id) {
                    State::Waiting(sent) => sent,
                    _ => now,
                };
                pic.state.insert(to.id, State::Failed);
                let waited = now - sent;
                let what = match error {
                    // Only a rule's own timer (a `query-rest` round) gives up
                    // on a request before its timeout.
                    TransportError::Timeout if waited < pic.timeout => format!(
                        "was given up on by the rule after {} ms, before its {} ms timeout ({})",
                        waited.as_millis(),
                        pic.timeout.as_millis(),
                        world.why_silent(to, sent, now)
                    ),
                    TransportError::Timeout => format!(
                        "gave no answer within {} ms ({})",
                        waited.as_millis(),
                        world.why_silent(to, sent, now)
                    ),
                    other => format!("failed: {other}"),
                };
                writeln!(
                    out,
                    "{at:>9} ✗ {}{} {what}",
                    world.named(&to.id),
                    pic.path_tag(&to.id)
                )?;
            }
            DriverEvent::Finished(_, outcome) => {
                finished = Some((now, outcome.clone()));
            }
        }
    }

    let (end, outcome) = finished.unwrap_or((trace.outcome.finished_at, trace.outcome.clone()));
    let at = world.at(end);
    writeln!(
        out,
        "{at:>9} ■ stopped: {} — {}",
        outcome.reason,
        reason_words(outcome.reason)
    )?;
    if !last_phase.is_empty() {
        writeln!(out, "{COL}the rule's last words: {last_phase}")?;
    }
    let waiting: Vec<String> = pic
        .known
        .values()
        .filter(|c| matches!(pic.state(&c.id), State::Waiting(_)))
        .map(|c| format!("{}{}", world.named(&c.id), pic.path_tag(&c.id)))
        .collect();
    let stats = outcome.stats;
    if !waiting.is_empty() {
        writeln!(
            out,
            "{COL}it did not wait for the {} still out: {}",
            plural(waiting.len(), "request"),
            waiting.join(", ")
        )?;
    }

    // The verdict.
    let truth = world.truth();
    let rank_in_truth = |id: &NodeId| truth.iter().position(|t| t == id);
    let end_net_down = |c: &Contact| {
        world
            .net
            .index_of(c)
            .is_some_and(|n| !world.net.is_up(n, end))
    };
    writeln!(out)?;
    writeln!(
        out,
        "The {} closest contacts heard of when it stopped:",
        world.sim.k
    )?;
    let top: Vec<String> = pic
        .known
        .values()
        .take(world.sim.k)
        .map(|c| format!("{}{}", pic.state(&c.id).mark(), world.named(&c.id)))
        .collect();
    list(out, "  ", &top)?;
    if pic
        .known
        .values()
        .take(world.sim.k)
        .any(|c| pic.state(&c.id) == State::Failed)
    {
        writeln!(
            out,
            "The {} closest heard of, leaving out those that gave no answer:",
            world.sim.k
        )?;
        let alive: Vec<String> = pic
            .known
            .values()
            .filter(|c| pic.state(&c.id) != State::Failed)
            .take(world.sim.k)
            .map(|c| format!("{}{}", pic.state(&c.id).mark(), world.named(&c.id)))
            .collect();
        list(out, "  ", &alive)?;
    }
    writeln!(out, "Its result, closest first:")?;
    let mut never_answered = 0;
    let mut never_asked = 0;
    let mut offline = 0;
    let mut hits = 0;
    for c in &outcome.result {
        let state = pic.state(&c.id);
        let how = match state {
            State::Answered => "answered".to_string(),
            State::Failed => {
                never_answered += 1;
                "asked, never answered".to_string()
            }
            State::Waiting(_) => {
                never_answered += 1;
                "asked, answer still out".to_string()
            }
            State::NotAsked => {
                never_answered += 1;
                never_asked += 1;
                "never asked".to_string()
            }
        };
        let down = if end_net_down(c) {
            offline += 1;
            ", offline now"
        } else {
            ""
        };
        let truth_part = match rank_in_truth(&c.id) {
            Some(r) => {
                hits += 1;
                format!("true #{}", r + 1)
            }
            None => "not in the true k".to_string(),
        };
        writeln!(
            out,
            "  {} {:<24} {truth_part:<18} {how}{down}",
            state.mark(),
            world.named(&c.id),
        )?;
    }
    if outcome.result.is_empty() {
        writeln!(out, "  (empty)")?;
    }
    let missed: Vec<String> = truth
        .iter()
        .enumerate()
        .filter(|(_, id)| !outcome.result.iter().any(|c| c.id == **id))
        .map(|(i, id)| {
            let why = match pic.state.get(id) {
                None => "never heard of",
                Some(State::NotAsked) => "heard of, never asked",
                Some(State::Answered) if outcome.result.len() == world.sim.k => {
                    "answered, but the result holds k closer nodes"
                }
                Some(State::Answered) => "answered, yet not returned",
                Some(_) => "asked, no answer",
            };
            format!("true #{} {} — {why}", i + 1, world.named(id))
        })
        .collect();
    let elapsed = end - world.task.start;
    writeln!(
        out,
        "Recall: {hits} of the true {} closest ({:.0}%).",
        truth.len(),
        if truth.is_empty() {
            100.0
        } else {
            100.0 * hits as f64 / truth.len() as f64
        }
    )?;
    for m in &missed {
        writeln!(out, "  missed {m}")?;
    }
    if never_answered > 0 {
        writeln!(
            out,
            "{never_answered} of the {} returned nodes never answered during the lookup ({never_asked} never even asked); {offline} are offline now.",
            outcome.result.len()
        )?;
    } else if !outcome.result.is_empty() {
        writeln!(
            out,
            "Every returned node answered during the lookup{}.",
            if offline > 0 {
                format!(" ({offline} went offline since)")
            } else {
                String::new()
            }
        )?;
    }
    writeln!(
        out,
        "Cost: {} requests ({} answered, {} failed), a chain of {} requests deep, {} ms.",
        stats.requests,
        stats.responses,
        stats.failures,
        stats.rounds,
        elapsed.as_millis()
    )?;
    Ok(Summary {
        strategy: trace.lookup.strategy,
        requests: stats.requests,
        answered: stats.responses,
        failed: stats.failures,
        result: outcome.result.len(),
        hits,
        truth: truth.len(),
        reason: outcome.reason,
        never_answered,
        never_asked,
        offline_at_end: offline,
        elapsed,
        last_phase,
    })
}

/// What an end reason means, for any strategy.
pub fn reason_words(reason: EndReason) -> &'static str {
    match reason {
        EndReason::Converged => "the rule's stopping condition was met",
        EndReason::Exhausted => {
            "no contact was left to ask before the rule's stopping condition was met"
        }
        EndReason::BudgetSpent => "the request budget was used up",
        EndReason::ValueFound => "a reply carried the value",
        EndReason::NoContacts => "the routing table had no contact to start from",
        EndReason::ContractBroken => "the strategy broke the lookup contract",
    }
}
