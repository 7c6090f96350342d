//! `k-active` — the shortlist-until-k-active lookup.
//!
//! Source: the seed's third example, jeffrey-xiao/kademlia-dht-rs's
//! `lookup_nodes` (Rust). The rule (docs/ALGORITHMS.md §3):
//!
//! 1. queue (closest first) = the α closest routing-table contacts;
//!    `found` = them; `closest_distance` = the smallest of their distances;
//! 2. **phase 1**: keep α requests in flight, closest first. A reply marks
//!    its sender *queried* and adds every contact not in `found` to `found`
//!    and the queue, lowering `closest_distance` when one is closer. A reply
//!    that brought nothing closer ends phase 1 at once, even with requests
//!    still in flight (their replies are taken in phase 2). A failure does
//!    not end phase 1; having nothing in flight does;
//! 3. **phase 2**: while fewer than k nodes have answered, top up to α in
//!    flight from the queue; with nothing in flight, stop;
//! 4. return the k closest nodes that **answered** — every one was alive
//!    during the lookup.
//!
//! Deliberate deviations from the seed code:
//! - the seed puts the local node in `found` and `queried`, so it counts
//!   itself as one of the k answered nodes and can return itself; kadlab
//!   never does either (phase 2 waits for k *other* nodes);
//! - the seed blocks on `rx.recv()` forever if a request never returns;
//!   here every request has a timeout;
//! - the reply cap: the seed takes every contact of a reply; kadlab keeps
//!   the k closest of a reply that holds more (counted in
//!   `LookupStats::truncated_replies`);
//! - when phase 2 reaches k answers the seed returns with requests still in
//!   flight; so does kadlab (their replies are ignored).

use hashbrown::HashSet;

use crate::contact::Contact;
use crate::id::{Distance, NodeId};
use crate::lookup::context::LookupContext;
use crate::lookup::machine::{Rule, Step};
use crate::lookup::outcome::EndReason;
use crate::lookup::queue::ClosestQueue;
use crate::time::Time;

/// Parameters of `k-active` (k itself is the lookup's result size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KActiveParams {
    /// α: requests in flight, and routing-table contacts to start from.
    pub alpha: usize,
}

/// Which loop of the seed the lookup is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not a request sent yet.
    Start,
    /// Converging: stops at the first reply that brings nothing closer.
    Converging,
    /// Filling up: asks on until k nodes have answered.
    FillingUp,
}

/// The shortlist-until-k-active rule.
#[derive(Clone, Debug)]
pub struct KActive {
    params: KActiveParams,
    queue: ClosestQueue,
    found: HashSet<NodeId>,
    closest_distance: Option<Distance>,
    queried: Vec<Contact>,
    phase: Phase,
}

impl KActive {
    /// Start from `seeds`, the α closest contacts of the routing table.
    pub fn new(params: KActiveParams, target: NodeId, seeds: &[Contact]) -> KActive {
        let mut queue = ClosestQueue::new(target);
        for &c in seeds {
            queue.push(c);
        }
        KActive {
            params,
            queue,
            found: seeds.iter().map(|c| c.id).collect(),
            closest_distance: seeds.iter().map(|c| c.id.distance(&target)).min(),
            queried: Vec::new(),
            phase: Phase::Start,
        }
    }

    /// The phase the lookup is in.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Nodes that answered so far.
    pub fn queried(&self) -> &[Contact] {
        &self.queried
    }

    fn top_up(&mut self, ctx: &LookupContext) -> Option<Step> {
        let room = self.params.alpha.saturating_sub(ctx.in_flight());
        let batch = self.queue.take(room);
        (!batch.is_empty()).then_some(Step::Send(batch))
    }
}

impl Rule for KActive {
    const NAME: &'static str = "k-active";

    fn on_response(&mut self, ctx: &LookupContext, from: Contact, contacts: &[Contact]) {
        self.queried.push(from);
        let mut closer = false;
        for &c in contacts {
            if self.found.insert(c.id) {
                let d = ctx.distance(&c.id);
                if self.closest_distance.is_none_or(|best| d < best) {
                    self.closest_distance = Some(d);
                    closer = true;
                }
                self.queue.push(c);
            }
        }
        if self.phase == Phase::Converging && !closer {
            self.phase = Phase::FillingUp;
        }
    }

    fn on_failure(&mut self, _ctx: &LookupContext, _from: Contact) {
        // The seed's `_ => is_terminated = false`: a failure never ends
        // phase 1.
    }

    fn step(&mut self, ctx: &mut LookupContext, _now: Time) -> Step {
        match self.phase {
            Phase::Start => {
                if self.queue.is_empty() {
                    return Step::Finish(EndReason::NoContacts);
                }
                self.phase = Phase::Converging;
                self.top_up(ctx).unwrap_or(Step::Wait(None))
            }
            Phase::Converging if ctx.in_flight() > 0 => {
                self.top_up(ctx).unwrap_or(Step::Wait(None))
            }
            Phase::Converging | Phase::FillingUp => {
                self.phase = Phase::FillingUp;
                if self.queried.len() >= ctx.k() {
                    return Step::Finish(EndReason::Converged);
                }
                if let Some(send) = self.top_up(ctx) {
                    return send;
                }
                if ctx.in_flight() == 0 {
                    Step::Finish(EndReason::Exhausted)
                } else {
                    Step::Wait(None)
                }
            }
        }
    }

    fn result(&self, _ctx: &LookupContext) -> Vec<Contact> {
        self.queried.clone()
    }

    fn parallelism(&self) -> usize {
        self.params.alpha
    }

    fn phase(&self, ctx: &LookupContext) -> String {
        match self.phase {
            Phase::Start | Phase::Converging => format!(
                "phase 1: α={} in flight, closest first, until a reply brings nothing closer",
                self.params.alpha
            ),
            Phase::FillingUp => format!(
                "phase 2: a reply brought nothing closer; asking on until k={} nodes have answered, then returning the k closest that answered",
                ctx.k()
            ),
        }
    }
}
