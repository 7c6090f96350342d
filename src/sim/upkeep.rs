//! Upkeep: what every simulated node does, all through the run, to keep its
//! routing table fresh, as a deployed BEP 5 node does.
//!
//! - **Refresh** (BEP 5, and §2.3 of the Kademlia paper): every up node
//!   looks at its table once a [`UPKEEP_TICK`], at a phase of its own, and
//!   refreshes every bucket nobody touched for the refresh interval
//!   (15 minutes by default).
//! - **Rejoin**: a node that comes back up looks up its own id from the
//!   contacts it still holds, falling back to a bootstrap node when none of
//!   them answers (BEP 5's bootstrap routers are always up; the simulator
//!   picks a node that is up at that moment). Its stale buckets are
//!   refreshed at its next check.
//! - **Background lookups** (optional): every up node starts lookups of
//!   random ids at a given rate, the traffic of a DHT's users, from which
//!   tables learn between refreshes.
//!
//! Refresh and rejoin are done either by real FIND_NODE lookups (the
//! `kademlia` rule through the shared driver and routing table, every
//! datagram simulated) or by an oracle shortcut that gives a table what
//! such a lookup would have given it, at a fraction of the cost (see
//! [`Upkeep::Oracle`]). Background lookups are always real.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::contact::Contact;
use crate::driver::{lock, DriverObserver};
use crate::id::NodeId;
use crate::lookup::{Contender, LookupConfig, LookupMode};
use crate::routing::Heard;
use crate::sim::adversary::AdversaryMode;
use crate::sim::engine::{Engine, Finished, Process};
use crate::sim::network::SimNetwork;
use crate::sim::{stream, streams, SimConfig};
use crate::time::Time;

/// How often each node looks for buckets to refresh (a deployed node's
/// maintenance timer; kadlab's UDP node uses the same minute).
pub const UPKEEP_TICK: Duration = Duration::from_secs(60);

/// How simulated nodes keep their tables up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Upkeep {
    /// No upkeep at all: tables are filled once and then only learn from
    /// the workload's lookups and the queries they bring.
    Off,
    /// The shortcut. Refreshing a bucket learns k/2 nodes of the bucket
    /// that are up, as answering nodes, through the Kademlia rule, so a
    /// full bucket pings its least-recently-seen questionable contact for
    /// each of them; eviction pings are answered from the oracle. A rejoin
    /// learns the k closest nodes to the node's own id that are up. What it
    /// leaves out: the datagrams of the refresh itself (they are not
    /// counted, and no other node learns the refreshing node from them),
    /// loss on those datagrams, the failures a real refresh lookup records
    /// against dead contacts it asks, and the imperfection of a real
    /// lookup, which may miss some live nodes. On the default network its
    /// recall is within 0.03 of real upkeep lookups for every seed strategy
    /// and `kademlia` (`tests/upkeep.rs` checks it at 1,000 nodes).
    #[default]
    Oracle,
    /// Real FIND_NODE lookups with the `kademlia` rule, one per bucket to
    /// refresh and one self-lookup per rejoin, through the same driver,
    /// transport and routing table as every other lookup. Faithful and
    /// about ten times slower.
    Lookups,
}

impl fmt::Display for Upkeep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Upkeep::Off => "off",
            Upkeep::Oracle => "oracle",
            Upkeep::Lookups => "lookups",
        })
    }
}

impl FromStr for Upkeep {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" => Ok(Upkeep::Off),
            "oracle" => Ok(Upkeep::Oracle),
            "lookups" => Ok(Upkeep::Lookups),
            _ => Err(format!(
                "{s:?} is not an upkeep mode; use oracle (fast shortcut), lookups (real FIND_NODE lookups) or off"
            )),
        }
    }
}

/// A rate of background lookups per up node, written `6/h`, `0.1/min` or a
/// bare number (per hour).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rate {
    /// Lookups per node per hour.
    pub per_hour: f64,
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/h", self.per_hour)
    }
}

impl FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (number, scale) = match s.split_once('/') {
            None => (s, 1.0),
            Some((n, "h")) => (n, 1.0),
            Some((n, "min")) => (n, 60.0),
            Some(_) => (s, f64::NAN),
        };
        number
            .trim()
            .parse::<f64>()
            .ok()
            .map(|n| n * scale)
            .filter(|r| r.is_finite() && (0.0..=3600.0).contains(r))
            .map(|per_hour| Rate { per_hour })
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a lookup rate; use lookups per node as N/h or N/min (0 to 3600 an hour), e.g. 6/h"
                )
            })
    }
}

/// The lookup every maintenance task (and a joining node) runs: the
/// paper's rule, as a deployed node's own refresh would.
pub(crate) fn upkeep_lookup(config: &SimConfig) -> Contender {
    Contender::from(LookupConfig {
        k: config.k,
        rpc_timeout_ms: u64::try_from(config.rpc_timeout.as_millis()).unwrap_or(u64::MAX),
        ..LookupConfig::default()
    })
}

/// Each node's check phase within a tick, in whole seconds: a pure function
/// of (seed, node), so the warm-up and every strategy's run agree on it
/// without sharing a generator.
fn phase_second(seed: u64, n: u32) -> u64 {
    let tick = UPKEEP_TICK.as_secs().max(1);
    crate::sim::network::splitmix64(seed ^ 0x5eed_0f0b_u64 ^ (u64::from(n) << 20)) % tick
}

/// What a simulated lookup's starter does when it ends.
pub(crate) enum Then {
    /// Nothing: upkeep and background lookups.
    Nothing,
    /// Judge it as the workload's task at this position.
    Record(usize),
    /// A rejoin's self-lookup: if it found nobody, learn this bootstrap node
    /// and look up again.
    Rejoin(Contact),
    /// A join under way (see [`join`]).
    Join(Box<Joining>),
}

/// A node's join: its self-lookup, then one lookup into each bucket still
/// short of k, one after another.
pub(crate) struct Joining {
    rng: ChaCha8Rng,
    /// The buckets to fill, once the self-lookup has ended.
    buckets: Option<Vec<usize>>,
    next: usize,
}

/// The upkeep of a network from one time to another: refresh checks,
/// rejoins and background lookups, each a [`Process`] of the event loop.
pub(crate) struct Upkeeps {
    refresh: Option<RefreshChecks>,
    rejoins: Option<Rejoins>,
    background: Option<Background>,
}

impl Upkeeps {
    /// The upkeep `config` asks for on `net`, from `from` to `until`.
    pub(crate) fn new(net: &SimNetwork, config: &SimConfig, from: Time, until: Time) -> Upkeeps {
        let on = config.upkeep != Upkeep::Off;
        Upkeeps {
            refresh: on.then(|| RefreshChecks::new(net, config, from, until)),
            rejoins: on.then(|| Rejoins::new(net, config, from, until)),
            background: (config.background_lookups.per_hour > 0.0)
                .then(|| Background::new(net, config, from, until)),
        }
    }

    /// Its processes, for [`engine::run`].
    pub(crate) fn processes<W: DriverObserver>(&mut self) -> Vec<&mut dyn Process<Then, W>> {
        let mut all: Vec<&mut dyn Process<Then, W>> = Vec::new();
        if let Some(p) = self.refresh.as_mut() {
            all.push(p);
        }
        if let Some(p) = self.rejoins.as_mut() {
            all.push(p);
        }
        if let Some(p) = self.background.as_mut() {
            all.push(p);
        }
        all
    }
}

/// Carry on after an upkeep lookup `done` ended (a rejoin's second try, a
/// join's next bucket), with `lookup` as the rule; a workload task's
/// lookup is handed back as its position and what it gave.
pub(crate) fn carry_on<W: DriverObserver>(
    engine: &mut Engine<'_, Then, W>,
    lookup: &Contender,
    done: Finished<Then, W>,
) -> Option<(usize, Finished<Then, W>)> {
    let net = engine.net();
    let n = done.origin;
    let own = net.nodes[n as usize].contact.id;
    let now = engine.now();
    let mode = LookupMode::FindNode;
    match done.tag {
        Then::Nothing => None,
        Then::Record(position) => Some((
            position,
            Finished {
                tag: Then::Nothing,
                ..done
            },
        )),
        Then::Rejoin(bootstrap) => {
            if done.outcome.result.is_empty() {
                let _ =
                    lock(&net.nodes[n as usize].table).update_heard(bootstrap, Heard::Queried, now);
                engine.start(n, own, mode, lookup, Then::Nothing, None);
            }
            None
        }
        Then::Join(mut joining) => {
            let buckets = joining
                .buckets
                .get_or_insert_with(|| lock(&net.nodes[n as usize].table).buckets_to_fill());
            if let Some(&b) = buckets.get(joining.next) {
                joining.next += 1;
                let target = own.random_in_bucket(b, &mut joining.rng);
                engine.start(n, target, mode, lookup, Then::Join(joining), None);
            }
            None
        }
    }
}

/// Which nodes answer, kept current as time moves forward by applying the
/// churn flips in order: the refresh checks ask this for tens of millions of
/// nodes, and a dense bitmap stays in cache where the nodes' schedules do
/// not. Valid only for times that never go backwards.
struct Liveness {
    /// Whether each node is up now.
    up: Vec<bool>,
    /// Whether each node answers when up (reachable, not a dropper).
    able: Vec<bool>,
    /// Every flip of every node, in time order.
    flips: Vec<(Time, u32)>,
    next: usize,
}

impl Liveness {
    /// The liveness of `net` at `at`.
    fn new(net: &SimNetwork, at: Time) -> Liveness {
        let count = net.nodes.len() as u32;
        let mut flips: Vec<(Time, u32)> = (0..count)
            .flat_map(|n| {
                let schedule = &net.nodes[n as usize].schedule;
                schedule
                    .flips()
                    .iter()
                    .filter(move |&&f| f > at)
                    .map(move |&f| (f, n))
            })
            .collect();
        flips.sort_unstable();
        Liveness {
            up: (0..count).map(|n| net.is_up(n, at)).collect(),
            able: (0..count)
                .map(|n| {
                    let node = &net.nodes[n as usize];
                    let drops = node.adversary && net.adversary_mode == AdversaryMode::Drop;
                    !node.unreachable && !drops
                })
                .collect(),
            flips,
            next: 0,
        }
    }

    /// Apply every flip at or before `t`.
    fn advance_to(&mut self, t: Time) {
        while let Some(&(at, n)) = self.flips.get(self.next) {
            if at > t {
                break;
            }
            self.up[n as usize] ^= true;
            self.next += 1;
        }
    }

    /// Whether node `n` is up.
    fn is_up(&self, n: u32) -> bool {
        self.up[n as usize]
    }

    /// Whether node `n` answers ([`SimNetwork::answers`], now).
    fn answers(&self, n: u32) -> bool {
        self.up[n as usize] && self.able[n as usize]
    }
}

/// Every tick, each honest up node refreshes its buckets that are due.
struct RefreshChecks {
    /// Nodes grouped by the second of the tick at which they check.
    by_second: Vec<Vec<u32>>,
    rng: ChaCha8Rng,
    lookup: Contender,
    /// The next check: its minute and second.
    minute: u64,
    second: usize,
    live: Liveness,
    /// When each node's earliest bucket falls due: a node is not scanned
    /// before then. A bucket that becomes worth refreshing only because a
    /// nearer contact arrived waits for that time (at most one interval).
    next_due: Vec<Time>,
    everyone_answers: bool,
    k: usize,
    upkeep: Upkeep,
    from: Time,
    until: Time,
}

impl RefreshChecks {
    fn new(net: &SimNetwork, config: &SimConfig, from: Time, until: Time) -> RefreshChecks {
        let tick = UPKEEP_TICK.as_secs().max(1);
        let mut by_second: Vec<Vec<u32>> = vec![Vec::new(); tick as usize];
        for n in 0..net.nodes.len() as u32 {
            if !net.nodes[n as usize].adversary {
                by_second[phase_second(config.seed, n) as usize].push(n);
            }
        }
        let mut checks = RefreshChecks {
            by_second,
            rng: stream(config.seed ^ from.as_millis(), streams::UPKEEP),
            lookup: upkeep_lookup(config),
            minute: from.as_millis() / 1000 / tick,
            second: 0,
            live: Liveness::new(net, from),
            next_due: vec![Time::ZERO; net.nodes.len()],
            everyone_answers: config.everyone_answers(),
            k: config.k,
            upkeep: config.upkeep,
            from,
            until,
        };
        checks.settle();
        checks
    }

    fn at(&self) -> Time {
        let tick = self.by_second.len() as u64;
        Time::from_millis((self.minute * tick + self.second as u64) * 1000)
    }

    /// Move to the first check after `from` at which some node checks.
    fn settle(&mut self) {
        while self.at() <= self.until {
            if self.second == self.by_second.len() {
                self.minute += 1;
                self.second = 0;
            } else if self.at() <= self.from || self.by_second[self.second].is_empty() {
                self.second += 1;
            } else {
                return;
            }
        }
    }
}

impl<W: DriverObserver> Process<Then, W> for RefreshChecks {
    fn next_at(&self) -> Option<Time> {
        (self.second < self.by_second.len() && self.at() <= self.until).then(|| self.at())
    }

    fn fire(&mut self, engine: &mut Engine<'_, Then, W>) {
        let net = engine.net();
        let now = engine.now();
        self.live.advance_to(now);
        let nodes = std::mem::take(&mut self.by_second[self.second]);
        for &n in &nodes {
            if !self.live.is_up(n) || now < self.next_due[n as usize] {
                continue;
            }
            let due = {
                let table = lock(&net.nodes[n as usize].table);
                // With buckets due now this is at or before `now`, so the
                // node is scanned again at its next check.
                self.next_due[n as usize] = table.next_refresh_due().unwrap_or(now);
                table.buckets_to_refresh(now)
            };
            if due.is_empty() {
                continue;
            }
            match self.upkeep {
                Upkeep::Oracle => {
                    let refresh = Refresh {
                        everyone_answers: self.everyone_answers,
                        k: self.k,
                        now,
                    };
                    oracle_refresh(net, &self.live, n, &due, refresh, &mut self.rng)
                }
                Upkeep::Lookups => {
                    for target in random_targets(net, n, &due, now, &mut self.rng) {
                        let mode = LookupMode::FindNode;
                        engine.start(n, target, mode, &self.lookup, Then::Nothing, None);
                    }
                }
                Upkeep::Off => {}
            }
        }
        self.by_second[self.second] = nodes;
        self.second += 1;
        self.settle();
    }
}

/// A random id in each of `buckets` of node `n`, each bucket marked as
/// touched at `now` (the refresh lookup is under way).
fn random_targets(
    net: &SimNetwork,
    n: u32,
    buckets: &[usize],
    now: Time,
    rng: &mut ChaCha8Rng,
) -> Vec<NodeId> {
    let own = net.nodes[n as usize].contact.id;
    let mut table = lock(&net.nodes[n as usize].table);
    buckets
        .iter()
        .map(|&b| {
            table.touch_bucket(b, now);
            own.random_in_bucket(b, rng)
        })
        .collect()
}

/// What an oracle refresh of one node needs to know besides the node.
struct Refresh {
    /// No node ever fails to answer (no churn, loss, NAT or adversary),
    /// which lets a full bucket's refresh be drawn without looking nodes up.
    everyone_answers: bool,
    k: usize,
    now: Time,
}

/// The oracle shortcut of refreshing `buckets` of node `n` (see
/// [`Upkeep::Oracle`]).
fn oracle_refresh(
    net: &SimNetwork,
    live: &Liveness,
    n: u32,
    buckets: &[usize],
    refresh: Refresh,
    rng: &mut ChaCha8Rng,
) {
    let Refresh {
        everyone_answers,
        k,
        now,
    } = refresh;
    let answers = |m: u32| live.answers(m);
    let want = (k / 2).max(1);
    let mut table = lock(&net.nodes[n as usize].table);
    for &b in buckets {
        let range = net.bucket_range(n, b);
        let held = table.bucket_len(b);
        if everyone_answers && !range.is_empty() && held == range.len() {
            // Every node answers and the bucket holds every node of its
            // range: the refresh learns min(k/2, held) of them, distinct, in
            // random order, and each moves to the tail. Drawn by place: a
            // pick's place is its first place less the earlier picks that
            // stood before it, for those have moved behind it.
            let picks = rand::seq::index::sample(rng, held, want.min(held)).into_vec();
            for (j, &first) in picks.iter().enumerate() {
                let moved = picks[..j].iter().filter(|&&q| q < first).count();
                table.heard_entry(b, first - moved, Heard::Answered, now);
            }
            table.touch_bucket(b, now);
            continue;
        }
        if everyone_answers && held >= k && range.len() >= held {
            // Every node answers and the bucket is full. Each node the
            // refresh learns is one of the bucket's own with odds held/range
            // (it moves to the tail, good), or else a newcomer, which pings
            // the oldest questionable contact, which answers. Drawn as such,
            // without looking any node up; the newcomers would only wait in a
            // replacement cache that no failure ever consults.
            //
            // Newcomers in a row are confirmed together: the same as one by
            // one, in one pass over the bucket.
            let mut newcomers = 0;
            for _ in 0..want {
                if rng.gen_range(0..range.len()) < held {
                    let pick = rng.gen_range(0..held);
                    table.confirm_questionable(b, newcomers, now);
                    newcomers = 0;
                    table.heard_entry(b, pick, Heard::Answered, now);
                } else {
                    newcomers += 1;
                }
            }
            table.confirm_questionable(b, newcomers, now);
            table.touch_bucket(b, now);
            continue;
        }
        let ok = |i: usize| answers(net.ids.node_at(i));
        for i in sample_bucket(range, want, rng, ok) {
            let (id, m) = net.ids.entry_at(i);
            let found = Contact::simulated(id, m);
            net.learn(&mut table, found, Heard::Answered, now, answers);
        }
        table.touch_bucket(b, now);
    }
}

/// Up to `want` sorted positions of `range` that `ok` accepts, chosen at
/// random: every candidate for small ranges, random probes for large ones
/// (the far buckets of a big network hold half of it).
pub(crate) fn sample_bucket(
    range: std::ops::Range<usize>,
    want: usize,
    rng: &mut ChaCha8Rng,
    ok: impl Fn(usize) -> bool,
) -> Vec<usize> {
    use rand::seq::SliceRandom;
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

/// Every time a node comes back up within `(from, until]`, it rejoins.
struct Rejoins {
    /// When each node comes back, in time order.
    events: Vec<(Time, u32)>,
    next: usize,
    rng: ChaCha8Rng,
    lookup: Contender,
    k: usize,
    upkeep: Upkeep,
}

impl Rejoins {
    fn new(net: &SimNetwork, config: &SimConfig, from: Time, until: Time) -> Rejoins {
        let mut events: Vec<(Time, u32)> = (0..net.nodes.len() as u32)
            .filter(|&n| !net.nodes[n as usize].adversary)
            .flat_map(|n| {
                net.nodes[n as usize]
                    .schedule
                    .up_intervals()
                    .into_iter()
                    .map(move |(up, _)| (up, n))
            })
            .filter(|&(up, _)| up > from && up <= until)
            .collect();
        events.sort_unstable();
        Rejoins {
            events,
            next: 0,
            rng: stream(config.seed ^ from.as_millis(), streams::REJOIN),
            lookup: upkeep_lookup(config),
            k: config.k,
            upkeep: config.upkeep,
        }
    }
}

impl<W: DriverObserver> Process<Then, W> for Rejoins {
    fn next_at(&self) -> Option<Time> {
        self.events.get(self.next).map(|&(at, _)| at)
    }

    fn fire(&mut self, engine: &mut Engine<'_, Then, W>) {
        let Some(&(_, n)) = self.events.get(self.next) else {
            return;
        };
        self.next += 1;
        let net = engine.net();
        let now = engine.now();
        let bootstrap = pick_up_node(net, n, now, &mut self.rng);
        match self.upkeep {
            Upkeep::Oracle => oracle_rejoin(net, n, self.k, now, bootstrap),
            Upkeep::Lookups => {
                // A self-lookup from the contacts the node still holds; if
                // none answered, again through the bootstrap node.
                let own = net.nodes[n as usize].contact.id;
                let then = bootstrap.map_or(Then::Nothing, Then::Rejoin);
                engine.start(n, own, LookupMode::FindNode, &self.lookup, then, None);
            }
            Upkeep::Off => {}
        }
    }
}

/// An honest node other than `n` that is up at `now`: the bootstrap node a
/// rejoining node falls back to.
fn pick_up_node(net: &SimNetwork, n: u32, now: Time, rng: &mut ChaCha8Rng) -> Option<Contact> {
    let count = net.nodes.len() as u32;
    (0..1000)
        .map(|_| rng.gen_range(0..count))
        .find(|&m| m != n && net.honest_answers(m, now))
        .map(|m| net.nodes[m as usize].contact)
}

/// The shortcut of a rejoin: the node learns the k closest nodes to its own
/// id that are up, as its self-lookup would have found them. With nothing
/// up it keeps its table, and falls back on `bootstrap`.
fn oracle_rejoin(net: &SimNetwork, n: u32, k: usize, now: Time, bootstrap: Option<Contact>) {
    let own = net.nodes[n as usize].contact.id;
    let answers = |m: u32| net.answers(m, now);
    let found = net.ids.closest_where(&own, k, |m| m != n && answers(m));
    let mut table = lock(&net.nodes[n as usize].table);
    if found.is_empty() {
        if let Some(b) = bootstrap {
            net.learn(&mut table, b, Heard::Answered, now, answers);
        }
    }
    for m in found {
        let contact = net.nodes[m as usize].contact;
        net.learn(&mut table, contact, Heard::Answered, now, answers);
    }
}

/// Node `n` starts to join through `bootstrap` (none for the very first
/// node): a self-lookup, then a lookup of a random id in every bucket still
/// short of k, one after another, as a BEP 5 client bootstraps (see
/// [`carry_on`]).
pub(crate) fn join<W: DriverObserver>(
    engine: &mut Engine<'_, Then, W>,
    n: u32,
    lookup: &Contender,
    bootstrap: Option<Contact>,
    rng: ChaCha8Rng,
) {
    let net = engine.net();
    let node = &net.nodes[n as usize];
    if let Some(b) = bootstrap {
        let _ = lock(&node.table).update_heard(b, Heard::Queried, engine.now());
    }
    let joining = Joining {
        rng,
        buckets: None,
        next: 0,
    };
    let own = node.contact.id;
    let then = Then::Join(Box::new(joining));
    engine.start(n, own, LookupMode::FindNode, lookup, then, None);
}

/// Background traffic: lookups of random ids by random up nodes, a Poisson
/// process whose rate gives each up node `background_lookups` an hour.
struct Background {
    rng: ChaCha8Rng,
    per_second: f64,
    count: u32,
    until: Time,
    lookup: Contender,
    /// The next lookup: when, by whom, of what.
    next: Option<(Time, u32, NodeId)>,
}

impl Background {
    fn new(net: &SimNetwork, config: &SimConfig, from: Time, until: Time) -> Background {
        let mut background = Background {
            rng: stream(config.seed ^ from.as_millis(), streams::BACKGROUND),
            per_second: config.background_lookups.per_hour / 3600.0 * net.nodes.len() as f64,
            count: net.nodes.len() as u32,
            until,
            lookup: upkeep_lookup(config),
            next: None,
        };
        background.draw(from);
        background
    }

    /// Draw the lookup after one at `at`.
    fn draw(&mut self, at: Time) {
        self.next = None;
        if self.per_second <= 0.0 {
            return;
        }
        let gap = -(1.0 - self.rng.gen::<f64>()).ln() / self.per_second;
        let at = at + Duration::from_secs_f64(gap);
        if at > self.until {
            return;
        }
        let n = self.rng.gen_range(0..self.count);
        let target = NodeId::random(&mut self.rng);
        self.next = Some((at, n, target));
    }
}

impl<W: DriverObserver> Process<Then, W> for Background {
    fn next_at(&self) -> Option<Time> {
        self.next.map(|(at, _, _)| at)
    }

    fn fire(&mut self, engine: &mut Engine<'_, Then, W>) {
        let Some((at, n, target)) = self.next else {
            return;
        };
        let net = engine.net();
        if !net.nodes[n as usize].adversary && net.is_up(n, engine.now()) {
            let mode = LookupMode::FindNode;
            engine.start(n, target, mode, &self.lookup, Then::Nothing, None);
        }
        self.draw(at);
    }
}
