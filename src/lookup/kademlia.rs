//! `kademlia` — the paper's rule (Maymounkov & Mazières, 2002), the
//! yardstick the seed strategies are measured against.
//!
//! The rule (docs/ALGORITHMS.md §4):
//! - start from the k closest routing-table contacts (`seeds`; the paper
//!   says α from the closest bucket, deployed implementations such as
//!   rust-libp2p and the `mainline` crate start from the k closest, so a
//!   lookup whose first α contacts are down still has others);
//! - keep α requests in flight among the k closest known contacts not yet
//!   asked; a contact whose request failed is dropped from that window;
//! - when a full batch of α replies brings nothing closer than the best
//!   contact seen, widen: ask **all** not-yet-asked contacts among the k
//!   closest (up to k in flight). Widening is final, as in the paper: the
//!   lookup stays wide to its end, asking every contact that enters the k
//!   closest at once (libp2p-kad's `ClosestPeersIter` narrows back to α on
//!   a closer reply instead; that would leave up to k requests in flight
//!   under a limit of α);
//! - finish when the k closest known (failed ones excluded) have all
//!   answered. Result: those k.
//!
//! Choices the paper leaves open, made here:
//! - "a round brings nothing closer" is counted in replies: α replies in a
//!   row without a closer contact (failures do not count, as in libp2p);
//! - with fewer than k answering nodes reachable the lookup ends
//!   `Exhausted` with those that answered;
//! - the reply cap: a reply of more than k contacts breaks the protocol;
//!   kadlab keeps its k closest (counted in
//!   `LookupStats::truncated_replies`).

use std::collections::BTreeMap;

use crate::contact::Contact;
use crate::id::{Distance, NodeId};
use crate::lookup::context::LookupContext;
use crate::lookup::machine::{Rule, Step};
use crate::lookup::outcome::EndReason;
use crate::time::Time;

/// Parameters of `kademlia` (k is the lookup's result size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KademliaParams {
    /// α: requests in flight while the lookup makes progress.
    pub alpha: usize,
}

/// Where a shortlist contact stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerState {
    /// Known, not asked.
    NotContacted,
    /// Asked, reply pending.
    Waiting,
    /// Answered.
    Succeeded,
    /// Failed or timed out: out of the window.
    Failed,
}

/// One shortlist driven by the paper's rule: the whole of `kademlia`, and
/// each of `disjoint`'s paths. It counts its own requests in flight, so
/// several paths can share one lookup.
#[derive(Clone, Debug)]
pub struct Path {
    alpha: usize,
    k: usize,
    shortlist: BTreeMap<Distance, (Contact, PeerState)>,
    best: Option<Distance>,
    replies_without_progress: usize,
    widened: bool,
    waiting: usize,
}

impl Path {
    /// A path starting from `seeds`, looking for the `k` closest to
    /// `target` with `alpha` requests in flight until it widens.
    pub fn new(alpha: usize, k: usize, target: NodeId, seeds: &[Contact]) -> Path {
        let shortlist: BTreeMap<_, _> = seeds
            .iter()
            .map(|c| (c.id.distance(&target), (*c, PeerState::NotContacted)))
            .collect();
        Path {
            alpha,
            k,
            best: shortlist.keys().next().copied(),
            shortlist,
            replies_without_progress: 0,
            widened: false,
            waiting: 0,
        }
    }

    /// Whether the path is in its widened (all of the k closest) stage.
    pub fn is_widened(&self) -> bool {
        self.widened
    }

    /// The shortlist, closest first, with each contact's state.
    pub fn shortlist(&self) -> impl Iterator<Item = &(Contact, PeerState)> {
        self.shortlist.values()
    }

    /// Requests of this path in flight.
    pub fn waiting(&self) -> usize {
        self.waiting
    }

    /// Mark the contact at distance `d` as `state`; a request it was
    /// waiting on is over.
    fn settle(&mut self, d: &Distance, state: PeerState) {
        if let Some(entry) = self.shortlist.get_mut(d) {
            if entry.1 == PeerState::Waiting {
                self.waiting -= 1;
            }
            entry.1 = state;
        }
    }

    /// `from` answered with `contacts` (cleaned by the lookup).
    pub fn on_response(&mut self, ctx: &LookupContext, from: &Contact, contacts: &[Contact]) {
        self.settle(&ctx.distance(&from.id), PeerState::Succeeded);
        let mut progress = false;
        for &c in contacts {
            let d = ctx.distance(&c.id);
            let std::collections::btree_map::Entry::Vacant(place) = self.shortlist.entry(d) else {
                continue;
            };
            place.insert((c, PeerState::NotContacted));
            if self.best.is_none_or(|best| d < best) {
                self.best = Some(d);
                progress = true;
            }
        }
        if progress {
            self.replies_without_progress = 0;
        } else {
            self.replies_without_progress += 1;
            if self.replies_without_progress >= self.alpha {
                self.widened = true;
            }
        }
    }

    /// The request to `from` failed: it leaves the window.
    pub fn on_failure(&mut self, ctx: &LookupContext, from: &Contact) {
        self.settle(&ctx.distance(&from.id), PeerState::Failed);
    }

    /// The rule's next move for this path.
    pub fn step(&mut self) -> Step {
        if self.shortlist.is_empty() {
            return Step::Finish(EndReason::NoContacts);
        }
        let limit = self.parallelism();
        let mut window = 0;
        let mut answered = 0;
        let mut batch = Vec::new();
        for (contact, state) in self.shortlist.values_mut() {
            if window == self.k {
                break;
            }
            match state {
                PeerState::Failed => continue,
                PeerState::Succeeded => answered += 1,
                PeerState::Waiting => {}
                PeerState::NotContacted if self.waiting < limit => {
                    *state = PeerState::Waiting;
                    batch.push(*contact);
                    self.waiting += 1;
                }
                PeerState::NotContacted => {}
            }
            window += 1;
        }
        if !batch.is_empty() {
            return Step::Send(batch);
        }
        if answered == window {
            // Everything in the window answered: done, with k nodes or with
            // every reachable one.
            return Step::Finish(if window == self.k {
                EndReason::Converged
            } else {
                EndReason::Exhausted
            });
        }
        Step::Wait(None)
    }

    /// The nodes that answered, closest first.
    pub fn responders(&self) -> impl Iterator<Item = Contact> + '_ {
        self.shortlist
            .values()
            .filter(|(_, s)| *s == PeerState::Succeeded)
            .map(|(c, _)| *c)
    }

    /// The path's stage, in words.
    pub fn describe(&self) -> String {
        if self.widened {
            format!(
                "widened: α={} replies in a row brought nothing closer, so every unasked contact among the k={} closest is asked; done when the k closest known (failed ones left out) have all answered, returning those",
                self.alpha, self.k
            )
        } else {
            format!(
                "α={} in flight among the k={} closest known, closest first; done when the k closest known (failed ones left out) have all answered, returning those",
                self.alpha, self.k
            )
        }
    }

    /// Requests the path allows in flight: α, or k once widened.
    pub fn parallelism(&self) -> usize {
        if self.widened {
            self.k.max(self.alpha)
        } else {
            self.alpha
        }
    }
}

/// The paper's rule: one [`Path`].
#[derive(Clone, Debug)]
pub struct Kademlia {
    path: Path,
}

impl Kademlia {
    /// Start from `seeds`, the closest contacts of the routing table (k by
    /// default, see [`LookupConfig::seed_count`](crate::lookup::LookupConfig::seed_count)).
    pub fn new(params: KademliaParams, k: usize, target: NodeId, seeds: &[Contact]) -> Kademlia {
        Kademlia {
            path: Path::new(params.alpha, k, target, seeds),
        }
    }

    /// Whether the lookup is in its widened (all of the k closest) stage.
    pub fn is_widened(&self) -> bool {
        self.path.is_widened()
    }

    /// The shortlist, closest first, with each contact's state.
    pub fn shortlist(&self) -> impl Iterator<Item = &(Contact, PeerState)> {
        self.path.shortlist()
    }
}

impl Rule for Kademlia {
    const NAME: &'static str = "kademlia";

    fn on_response(&mut self, ctx: &LookupContext, from: Contact, contacts: &[Contact]) {
        self.path.on_response(ctx, &from, contacts);
    }

    fn on_failure(&mut self, ctx: &LookupContext, from: Contact) {
        self.path.on_failure(ctx, &from);
    }

    fn step(&mut self, _ctx: &mut LookupContext, _now: Time) -> Step {
        self.path.step()
    }

    fn result(&self, _ctx: &LookupContext) -> Vec<Contact> {
        self.path.responders().take(self.path.k).collect()
    }

    fn parallelism(&self) -> usize {
        self.path.parallelism()
    }

    fn phase(&self, _ctx: &LookupContext) -> String {
        self.path.describe()
    }
}
