//! `gated` — kadlab's own lookup: the paper's walk, stopped as soon as the
//! closest contacts have answered, hedged against slow ones, and finished
//! with contacts other nodes vouch for.
//!
//! The rule (docs/ALGORITHMS.md §6):
//! - **seeds**: the k closest routing-table contacts, as `kademlia`'s;
//! - **the gate**: only the k closest known contacts that are not failed
//!   (nor suspect, below) may be asked, closest first, α at a time: a
//!   contact that cannot enter the k closest is never asked (js-libp2p's
//!   closest-K gate);
//! - **β-termination**: the lookup stops when the β closest of those have
//!   all answered (go-libp2p-kad-dht's rule), rather than all k;
//! - **hedging**: a request unanswered after `hedge` is *suspect*: it no
//!   longer counts against α, so the next contact is asked while it is
//!   still pending, and it leaves the gate's window until it answers
//!   (a late answer is still taken);
//! - **the result**: the k closest among the contacts that answered and
//!   the unasked (or still pending, not suspect) contacts that at least
//!   `vouches` answering nodes reported. Failed and suspect contacts are
//!   left out, except, when `failed_vouches` is set, a failed contact that
//!   at least that many answering nodes reported (for lossy networks).
//!
//! Everything it uses is what a real node knows: its table, the replies,
//! and its own clock. It is written only against the
//! public [`Rule`] and [`LookupContext`] API, as a strategy from outside
//! kadlab would be.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::contact::Contact;
use crate::id::{Distance, NodeId};
use crate::lookup::context::LookupContext;
use crate::lookup::machine::{Rule, Step};
use crate::lookup::outcome::EndReason;
use crate::time::Time;

/// Parameters of `gated` (k is the lookup's result size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GatedParams {
    /// α: requests in flight that are not suspect.
    pub alpha: usize,
    /// β: how many of the closest known contacts must have answered.
    pub beta: usize,
    /// After this long unanswered a request is suspect; `None` never.
    pub hedge: Option<Duration>,
    /// Answering nodes that must have reported an unasked contact before
    /// it may fill the result.
    pub vouches: usize,
    /// Answering nodes that must have reported a contact whose request
    /// failed for it to fill the result all the same; `None` never. On a
    /// lossy network a failure is often a lost datagram of a node that is
    /// there; under churn it is more often a node that has left.
    pub failed_vouches: Option<usize>,
}

/// Where a contact of the shortlist stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GatedState {
    /// Known, not asked.
    NotContacted,
    /// Asked at this time, no answer yet.
    Waiting(Time),
    /// Asked at this time, unanswered past the hedge: likely gone, still
    /// awaited.
    Suspect(Time),
    /// Answered.
    Succeeded,
    /// Failed or timed out.
    Failed,
}

#[derive(Clone, Copy, Debug)]
struct Known {
    contact: Contact,
    state: GatedState,
    /// Answering nodes that reported it.
    vouches: u16,
}

/// The `gated` rule.
#[derive(Clone, Debug)]
pub struct Gated {
    params: GatedParams,
    k: usize,
    shortlist: BTreeMap<Distance, Known>,
    /// Requests waiting and not suspect.
    active: usize,
    suspects: usize,
}

/// Whether `known` belongs to the gate's window: neither failed nor
/// suspect.
fn in_window(known: &Known) -> bool {
    !matches!(known.state, GatedState::Failed | GatedState::Suspect(_))
}

impl Gated {
    /// Start from `seeds`, the closest contacts of the routing table,
    /// looking for the `k` closest to `target`.
    pub fn new(params: GatedParams, k: usize, target: NodeId, seeds: &[Contact]) -> Gated {
        let shortlist = seeds
            .iter()
            .map(|c| {
                // The routing table vouches for its own contacts once.
                let known = Known {
                    contact: *c,
                    state: GatedState::NotContacted,
                    vouches: 1,
                };
                (c.id.distance(&target), known)
            })
            .collect();
        Gated {
            params: GatedParams {
                alpha: params.alpha.max(1),
                beta: params.beta.clamp(1, k.max(1)),
                ..params
            },
            k,
            shortlist,
            active: 0,
            suspects: 0,
        }
    }

    /// The shortlist, closest first, with each contact's state.
    pub fn shortlist(&self) -> impl Iterator<Item = (Contact, GatedState)> + '_ {
        self.shortlist.values().map(|k| (k.contact, k.state))
    }

    /// Requests unanswered past the hedge and still awaited.
    pub fn suspects(&self) -> usize {
        self.suspects
    }

    /// A request to the contact at `d` ended as `state`.
    fn settle(&mut self, d: &Distance, state: GatedState) {
        if let Some(known) = self.shortlist.get_mut(d) {
            match known.state {
                GatedState::Waiting(_) => self.active -= 1,
                GatedState::Suspect(_) => self.suspects -= 1,
                _ => {}
            }
            known.state = state;
        }
    }

    /// Mark requests older than the hedge as suspect; returns the earliest
    /// time a waiting one will become suspect.
    fn hedge(&mut self, now: Time) -> Option<Time> {
        let hedge = self.params.hedge?;
        let mut next: Option<Time> = None;
        for known in self.shortlist.values_mut() {
            if let GatedState::Waiting(sent) = known.state {
                let at = sent + hedge;
                if at <= now {
                    known.state = GatedState::Suspect(sent);
                    self.active -= 1;
                    self.suspects += 1;
                } else {
                    next = Some(next.map_or(at, |n| n.min(at)));
                }
            }
        }
        next
    }

    /// Before stopping: the time until which to wait for a suspect that
    /// would enter the result if it answered, a second hedge after it
    /// became suspect. A slow node is given that long; a gone one costs
    /// one hedge more, not the whole timeout.
    fn grace(&self, now: Time) -> Option<Time> {
        let hedge = self.params.hedge?;
        let mut in_result = 0;
        let mut until: Option<Time> = None;
        for known in self.shortlist.values() {
            if in_result == self.k {
                break;
            }
            match known.state {
                GatedState::Suspect(sent) => {
                    let end = sent + hedge + hedge;
                    if end > now {
                        until = Some(until.map_or(end, |u| u.min(end)));
                    }
                }
                _ if self.counts_in_result(known) => in_result += 1,
                _ => {}
            }
        }
        until
    }

    /// Whether `known` may be part of the result.
    fn counts_in_result(&self, known: &Known) -> bool {
        match known.state {
            GatedState::Succeeded => true,
            GatedState::NotContacted | GatedState::Waiting(_) => {
                usize::from(known.vouches) >= self.params.vouches
            }
            GatedState::Failed => self
                .params
                .failed_vouches
                .is_some_and(|v| usize::from(known.vouches) >= v),
            GatedState::Suspect(_) => false,
        }
    }
}

impl Rule for Gated {
    const NAME: &'static str = "gated";

    fn on_response(&mut self, ctx: &LookupContext, from: Contact, contacts: &[Contact]) {
        self.settle(&ctx.distance(&from.id), GatedState::Succeeded);
        for &c in contacts {
            let known = self.shortlist.entry(ctx.distance(&c.id)).or_insert(Known {
                contact: c,
                state: GatedState::NotContacted,
                vouches: 0,
            });
            known.vouches = known.vouches.saturating_add(1);
        }
    }

    fn on_failure(&mut self, ctx: &LookupContext, from: Contact) {
        self.settle(&ctx.distance(&from.id), GatedState::Failed);
    }

    fn step(&mut self, _ctx: &mut LookupContext, now: Time) -> Step {
        if self.shortlist.is_empty() {
            return Step::Finish(EndReason::NoContacts);
        }
        let next_hedge = self.hedge(now);
        // The window: the k closest known that are neither failed nor
        // suspect. Stop once its β closest have all answered.
        let beta_answered = self
            .shortlist
            .values()
            .filter(|known| in_window(known))
            .take(self.params.beta)
            .filter(|known| known.state == GatedState::Succeeded)
            .count();
        if beta_answered == self.params.beta {
            return match self.grace(now) {
                Some(until) => Step::Wait(Some(until)),
                None => Step::Finish(EndReason::Converged),
            };
        }
        let room = self.params.alpha.saturating_sub(self.active);
        let mut batch = Vec::with_capacity(room);
        for known in self
            .shortlist
            .values_mut()
            .filter(|known| in_window(known))
            .take(self.k)
            .filter(|known| known.state == GatedState::NotContacted)
            .take(room)
        {
            known.state = GatedState::Waiting(now);
            batch.push(known.contact);
        }
        self.active += batch.len();
        if !batch.is_empty() {
            return Step::Send(batch);
        }
        if self.active + self.suspects == 0 {
            // Nothing left to ask and nothing awaited: fewer than β
            // contacts answer.
            return Step::Finish(EndReason::Exhausted);
        }
        Step::Wait(next_hedge)
    }

    fn result(&self, _ctx: &LookupContext) -> Vec<Contact> {
        self.shortlist
            .values()
            .filter(|known| self.counts_in_result(known))
            .map(|known| known.contact)
            .take(self.k)
            .collect()
    }

    fn parallelism(&self) -> usize {
        self.params.alpha + self.suspects
    }

    fn phase(&self, _ctx: &LookupContext) -> String {
        let hedge = self.params.hedge.map_or_else(
            || "no hedging".to_string(),
            |h| {
                format!(
                    "a request unanswered after {} ms is suspect and the next is asked beside it ({} suspect now)",
                    h.as_millis(),
                    self.suspects
                )
            },
        );
        format!(
            "α={} in flight among the k={} closest known that are neither failed nor suspect; done when the β={} closest of them have answered; {hedge}",
            self.params.alpha, self.k, self.params.beta
        )
    }
}
