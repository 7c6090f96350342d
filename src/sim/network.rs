//! The simulated network: nodes, their tables and stores, and the models
//! that move datagrams between them (the event loop of
//! event loop in `sim/engine.rs` carries them in virtual time).

use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hashbrown::HashMap;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::contact::Contact;
use crate::driver::lock;
use crate::id::{NodeId, ID_BITS};
use crate::protocol::{Request, Response};
use crate::routing::{Directory, Heard, RoutingConfig, RoutingTable, UpdateOutcome};
use crate::sim::adversary::AdversaryMode;
use crate::sim::churn::Schedule;
use crate::sim::ids::{BucketRanges, SortedIds};
use crate::time::Time;
use crate::transport::TransportError;

/// Per-pair one-way delay: log-normal, fixed for each pair of nodes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencyModel {
    /// Median one-way delay.
    pub median: Duration,
    /// σ of the underlying normal distribution.
    pub sigma: f64,
}

impl Default for LatencyModel {
    fn default() -> Self {
        LatencyModel {
            median: Duration::from_millis(60),
            sigma: 0.5,
        }
    }
}

/// SplitMix64: a fixed, well-mixed hash, so a pair's delay is a pure
/// function of (seed, pair) and needs no storage for 10⁵ nodes.
pub(crate) fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn unit(x: u64) -> f64 {
    // 53 random bits in (0, 1).
    ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

impl LatencyModel {
    /// One-way delay between nodes `a` and `b` (symmetric).
    pub fn delay(&self, seed: u64, a: u32, b: u32) -> Duration {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let h = splitmix64(seed ^ (u64::from(lo) << 32 | u64::from(hi)));
        let u1 = unit(h);
        let u2 = unit(splitmix64(h));
        // Box–Muller.
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        self.median
            .mul_f64((self.sigma * z).exp())
            .max(Duration::from_millis(1))
    }
}

/// One simulated node.
#[derive(Debug)]
pub struct SimNode {
    /// Its contact (id and made-up loopback address).
    pub contact: Contact,
    /// When it is up.
    pub schedule: Schedule,
    /// Behind a NAT: never answers.
    pub unreachable: bool,
    /// One of the adversaries (see [`AdversaryMode`]).
    pub adversary: bool,
    /// Its routing table.
    pub table: Mutex<RoutingTable>,
    /// Immutable items it stores.
    pub store: Mutex<HashMap<NodeId, Vec<u8>>>,
}

impl Clone for SimNode {
    fn clone(&self) -> Self {
        SimNode {
            contact: self.contact,
            schedule: self.schedule.clone(),
            unreachable: self.unreachable,
            adversary: self.adversary,
            table: Mutex::new(lock(&self.table).clone()),
            store: Mutex::new(self.store.lock().map(|s| s.clone()).unwrap_or_default()),
        }
    }
}

/// Every node of the simulation, and the models that move datagrams.
#[derive(Debug)]
pub struct SimNetwork {
    /// Nodes by index.
    pub nodes: Vec<SimNode>,
    /// Ids sorted, for warm-up and truth.
    pub ids: SortedIds,
    /// Ids by node index, which every routing table built by
    /// [`SimNetwork::directory_table`] refers to.
    pub directory: Directory,
    /// Delay model.
    pub latency: LatencyModel,
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Bucket size / reply size.
    pub k: usize,
    /// Seed of the delay model.
    pub seed: u64,
    /// How the adversaries among the nodes answer.
    pub adversary_mode: AdversaryMode,
    /// Loss draws, in the (deterministic) order datagrams are sent.
    loss_rng: Mutex<ChaCha8Rng>,
    /// Datagrams sent (requests and replies) and lost.
    pub counters: Mutex<NetCounters>,
    /// Each node's bucket ranges in `ids`, found for every node the first
    /// time any is asked for (the warm-up's fill, or the first refresh) and
    /// then shared by every copy of the network: the id set never changes,
    /// and finding the ranges was most of the cost of a refresh.
    bucket_ranges: OnceLock<Arc<[BucketRanges]>>,
}

/// Traffic counters of a network.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetCounters {
    /// Datagrams put on the wire.
    pub datagrams: u64,
    /// Datagrams the loss model dropped.
    pub lost: u64,
}

impl Clone for SimNetwork {
    fn clone(&self) -> Self {
        SimNetwork {
            nodes: self.nodes.clone(),
            ids: self.ids.clone(),
            directory: self.directory.clone(),
            latency: self.latency,
            loss: self.loss,
            k: self.k,
            seed: self.seed,
            adversary_mode: self.adversary_mode,
            loss_rng: Mutex::new(
                self.loss_rng
                    .lock()
                    .map(|r| r.clone())
                    .unwrap_or_else(|p| p.into_inner().clone()),
            ),
            counters: Mutex::new(NetCounters::default()),
            bucket_ranges: self.bucket_ranges.clone(),
        }
    }
}

impl SimNetwork {
    /// A network of these nodes.
    pub fn new(
        nodes: Vec<SimNode>,
        latency: LatencyModel,
        loss: f64,
        k: usize,
        seed: u64,
        loss_rng: ChaCha8Rng,
    ) -> SimNetwork {
        let ids: Vec<NodeId> = nodes.iter().map(|n| n.contact.id).collect();
        SimNetwork {
            ids: SortedIds::new(&ids),
            directory: Directory::new(ids),
            nodes,
            latency,
            loss,
            k,
            seed,
            adversary_mode: AdversaryMode::default(),
            loss_rng: Mutex::new(loss_rng),
            counters: Mutex::new(NetCounters::default()),
            bucket_ranges: OnceLock::new(),
        }
    }

    /// An empty routing table for node `n` over the network's directory:
    /// its simulated contacts cost 4 bytes each.
    pub fn directory_table(&self, n: u32, routing: RoutingConfig) -> RoutingTable {
        let id = self.nodes[n as usize].contact.id;
        RoutingTable::with_directory(id, routing, Time::ZERO, self.directory.clone())
    }

    /// The sorted positions of the ids in each bucket of node `n`'s table,
    /// bucket 159 first, down to the nearest bucket any other id falls in.
    pub fn bucket_ranges(&self, n: u32) -> impl Iterator<Item = Range<usize>> + '_ {
        self.ranges_of(n)
            .iter()
            .map(|&(start, end)| start as usize..end as usize)
    }

    /// The sorted positions of the ids in bucket `index` of node `n`'s
    /// table (empty for buckets nearer than every other id).
    pub fn bucket_range(&self, n: u32, index: usize) -> Range<usize> {
        ID_BITS
            .checked_sub(index + 1)
            .and_then(|i| self.ranges_of(n).get(i))
            .map_or(0..0, |&(start, end)| start as usize..end as usize)
    }

    fn ranges_of(&self, n: u32) -> &[(u32, u32)] {
        let all = self
            .bucket_ranges
            .get_or_init(|| self.ids.all_buckets().into());
        &all[n as usize]
    }

    /// Whether node `n` is up at `t`.
    pub fn is_up(&self, n: u32, t: Time) -> bool {
        self.nodes[n as usize].schedule.is_up(t)
    }

    /// Whether node `n` would answer at `t` (up and reachable; dropping
    /// adversaries never do).
    pub fn answers(&self, n: u32, t: Time) -> bool {
        let node = &self.nodes[n as usize];
        let drops = node.adversary && self.adversary_mode == AdversaryMode::Drop;
        !node.unreachable && !drops && node.schedule.is_up(t)
    }

    /// Whether node `n` is honest and would answer at `t`: the nodes a
    /// lookup's truth is made of.
    pub fn honest_answers(&self, n: u32, t: Time) -> bool {
        !self.nodes[n as usize].adversary && self.answers(n, t)
    }

    /// Share of the routing-table entries of the honest nodes up at `at`
    /// whose node answers at `at`: how well upkeep keeps tables fresh.
    pub fn freshness(&self, at: Time) -> f64 {
        let (mut entries, mut fresh) = (0usize, 0usize);
        for (n, node) in self.nodes.iter().enumerate() {
            if node.adversary || !self.is_up(n as u32, at) {
                continue;
            }
            for e in lock(&node.table).iter() {
                entries += 1;
                fresh += usize::from(
                    self.index_of(&e.contact)
                        .is_some_and(|m| self.answers(m, at)),
                );
            }
        }
        if entries == 0 {
            0.0
        } else {
            fresh as f64 / entries as f64
        }
    }

    /// Node index of `contact`: the node at its address, if that node has
    /// the contact's id too. Truth is matched with this, so a forged contact
    /// (an honest id at an adversary's address) never counts as the honest
    /// node.
    pub fn index_of(&self, contact: &Contact) -> Option<u32> {
        self.directory.index_of(contact)
    }

    /// Index of the node listening at `contact`'s address (addresses are
    /// derived from the index), whatever id the contact claims: where a
    /// datagram sent to it arrives.
    pub fn listener(&self, contact: &Contact) -> Option<u32> {
        let n = contact.simulated_index()?;
        ((n as usize) < self.nodes.len()).then_some(n)
    }

    /// Whether the next datagram is lost.
    fn lost(&self) -> bool {
        let lost = self.loss > 0.0
            && self
                .loss_rng
                .lock()
                .map(|mut r| r.gen_bool(self.loss))
                .unwrap_or(false);
        if let Ok(mut c) = self.counters.lock() {
            c.datagrams += 1;
            c.lost += u64::from(lost);
        }
        lost
    }

    /// Tell `table` that `contact` was `heard` from at `at`, by the Kademlia
    /// rule, answering an eviction ping at once from the oracle (`answers`
    /// says which nodes would reply): a shortcut that spares simulating the
    /// ping.
    pub fn learn(
        &self,
        table: &mut RoutingTable,
        contact: Contact,
        heard: Heard,
        at: Time,
        answers: impl Fn(u32) -> bool,
    ) {
        if let UpdateOutcome::PingOldest { oldest } = table.update_heard(contact, heard, at) {
            let alive = self.index_of(&oldest).is_some_and(answers);
            table.on_ping_result(&oldest, alive, at);
        }
    }

    /// Node `n` handles `request` from `from` at `now`: it learns the sender
    /// (see [`SimNetwork::learn`]) and builds its answer.
    pub fn handle(&self, n: u32, from: Contact, request: &Request, now: Time) -> Response {
        let node = &self.nodes[n as usize];
        if node.adversary {
            return self.lie(n, request, now);
        }
        let mut table = lock(&node.table);
        self.learn(&mut table, from, Heard::Queried, now, |o| {
            self.answers(o, now)
        });
        let mut response = Response {
            id: node.contact.id,
            ..Response::default()
        };
        match request {
            Request::Ping | Request::PutValue { .. } => {}
            Request::FindNode { target } => {
                response.contacts = table.closest_for_reply(target, self.k, now)
            }
            Request::GetValue { target } => {
                let stored = node.store.lock().ok().and_then(|s| s.get(target).cloned());
                match stored {
                    Some(value) => response.value = Some(value),
                    None => response.contacts = table.closest_for_reply(target, self.k, now),
                }
            }
        }
        response
    }
}

impl SimNetwork {
    /// Adversary `n`'s answer under its own id (see [`SimNetwork::lie_as`]).
    fn lie(&self, n: u32, request: &Request, now: Time) -> Response {
        self.lie_as(n, self.nodes[n as usize].contact.id, request, now)
    }

    /// Adversary `n`'s answer to a request sent to it as `claimed`: it
    /// answers as `claimed` (a forged contact at its address is answered as
    /// the node it claims to be), never with a value, never storing, and
    /// with contacts chosen to lead the lookup astray (see
    /// [`AdversaryMode`]).
    pub fn lie_as(&self, n: u32, claimed: NodeId, request: &Request, now: Time) -> Response {
        let mut response = Response {
            id: claimed,
            ..Response::default()
        };
        let target = match request {
            Request::FindNode { target } | Request::GetValue { target } => target,
            Request::Ping | Request::PutValue { .. } => return response,
        };
        response.contacts = match self.adversary_mode {
            AdversaryMode::Collude | AdversaryMode::Drop => self
                .ids
                .closest_where(target, self.k, |m| self.nodes[m as usize].adversary)
                .into_iter()
                .map(|m| self.nodes[m as usize].contact)
                .collect(),
            AdversaryMode::StaleFlood => self.stale_flood(n, now, target),
            AdversaryMode::Forge => self.forge(n, &claimed, now, target),
        };
        response
    }
}

impl SimNetwork {
    /// Where a datagram from node `from` to `to` goes: the node listening
    /// at the contact's address (whatever id the contact claims) and the
    /// one-way delay to it. `None` when nobody listens there or the loss
    /// model drops the datagram; the sender learns either only from its
    /// timeout.
    pub fn outbound(&self, from: u32, to: &Contact) -> Option<(u32, Duration)> {
        let n = self.listener(to)?;
        let delay = self.latency.delay(self.seed, from, n);
        (!self.lost()).then_some((n, delay))
    }

    /// Node `n`'s answer at `now` to `request`, which node `from` sent to
    /// the contact `to` at `n`'s address; `None` when `n` does not answer
    /// (down, unreachable or a dropping adversary) or its answer is lost.
    /// An honest node learns the sender ([`SimNetwork::handle`]); an
    /// adversary answers as whoever it was asked as: it lies.
    pub fn answer(
        &self,
        n: u32,
        from: u32,
        to: &Contact,
        request: &Request,
        now: Time,
    ) -> Option<Response> {
        if !self.answers(n, now) {
            return None;
        }
        let response = if self.nodes[n as usize].adversary {
            self.lie_as(n, to.id, request, now)
        } else {
            self.handle(n, self.nodes[from as usize].contact, request, now)
        };
        (!self.lost()).then_some(response)
    }

    /// Node `from` sends `request` to `to` at `now` and gets the answer at
    /// once, without the delays: one request through the same models
    /// ([`SimNetwork::outbound`], [`SimNetwork::answer`], [`check_answer`])
    /// as the event loop's, for tests and tools that look at single
    /// requests.
    pub fn request_now(
        &self,
        from: u32,
        to: &Contact,
        request: &Request,
        now: Time,
    ) -> Result<Response, TransportError> {
        let (n, _) = self.outbound(from, to).ok_or(TransportError::Timeout)?;
        let response = self
            .answer(n, from, to, request, now)
            .ok_or(TransportError::Timeout)?;
        check_answer(to, &response)?;
        Ok(response)
    }
}

/// Whether `response`, to a request sent to `to`, is `to`'s. As `UdpRpc`
/// does, an answer under another id than the contact's comes from another
/// node, and is refused.
pub fn check_answer(to: &Contact, response: &Response) -> Result<(), TransportError> {
    if response.id == to.id {
        Ok(())
    } else {
        Err(TransportError::BadResponse(format!(
            "answered as {} instead of {}",
            response.id, to.id
        )))
    }
}
