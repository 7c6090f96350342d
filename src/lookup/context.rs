//! Bookkeeping shared by every strategy: requests in flight and their
//! deadlines, who was asked, hop depth, statistics.

use std::time::Duration;

use hashbrown::{HashMap, HashSet};

use crate::contact::Contact;
use crate::id::{Distance, NodeId};
use crate::lookup::outcome::LookupStats;
use crate::lookup::LookupMode;
use crate::time::Time;

/// Default per-request timeout, as in BEP 5 implementations and
/// docs/ALGORITHMS.md.
pub const DEFAULT_RPC_TIMEOUT: Duration = Duration::from_secs(2);

/// What one lookup is for; the same for every strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupSpec {
    /// The node doing the lookup: never asked, never returned.
    pub local: NodeId,
    /// The key looked up.
    pub target: NodeId,
    /// Nodes or a value.
    pub mode: LookupMode,
    /// Result size (and, for several rules, the shortlist window).
    pub k: usize,
    /// How long a request may go unanswered before it counts as failed.
    pub rpc_timeout: Duration,
}

impl LookupSpec {
    /// A FIND_NODE lookup with k = 20 and the default 2 s timeout.
    pub fn find_node(local: NodeId, target: NodeId) -> LookupSpec {
        LookupSpec {
            local,
            target,
            mode: LookupMode::FindNode,
            k: 20,
            rpc_timeout: DEFAULT_RPC_TIMEOUT,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    contact: Contact,
    deadline: Time,
}

/// The state every strategy shares, read by [`Rule`](crate::lookup::Rule)s
/// and written only by [`Lookup`](crate::lookup::Lookup), so that no rule can
/// get the common invariants wrong.
#[derive(Debug)]
pub struct LookupContext {
    spec: LookupSpec,
    /// Requests in flight, oldest first. A `Vec` (not a map) because it is
    /// small (α to k entries) and its order must be deterministic.
    in_flight: Vec<InFlight>,
    contacted: HashSet<NodeId>,
    /// Request→reply chain length that led to each contact (0: from the
    /// routing table).
    hops: HashMap<NodeId, u32>,
    pub(crate) stats: LookupStats,
    gave_up: Vec<Contact>,
}

/// Replies of up to this many contacts are deduplicated by comparison, not
/// by hashing (BEP 5's k is 8, kadlab's default 20).
const SMALL_REPLY: usize = 32;

impl LookupContext {
    pub(crate) fn new(spec: LookupSpec, seeds: &[Contact]) -> LookupContext {
        // Room for the ids of a lookup's first dozen replies without a
        // rehash: each brings up to k new ones.
        let mut hops = HashMap::with_capacity(seeds.len().max(spec.k) * 12);
        for c in seeds {
            hops.insert(c.id, 0);
        }
        LookupContext {
            spec,
            in_flight: Vec::new(),
            contacted: HashSet::new(),
            hops,
            stats: LookupStats::default(),
            gave_up: Vec::new(),
        }
    }

    /// What this lookup is for.
    pub fn spec(&self) -> &LookupSpec {
        &self.spec
    }

    /// The target.
    pub fn target(&self) -> &NodeId {
        &self.spec.target
    }

    /// Result size k.
    pub fn k(&self) -> usize {
        self.spec.k
    }

    /// Distance of `id` to the target.
    pub fn distance(&self, id: &NodeId) -> Distance {
        id.distance(&self.spec.target)
    }

    /// Requests in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Whether a request to `id` is in flight.
    pub fn is_in_flight(&self, id: &NodeId) -> bool {
        self.in_flight.iter().any(|f| f.contact.id == *id)
    }

    /// Whether `id` was ever sent a request in this lookup.
    pub fn was_contacted(&self, id: &NodeId) -> bool {
        self.contacted.contains(id)
    }

    /// Whether the lookup heard of `id`: a starting contact, or one a reply
    /// carried. A result may hold only such contacts.
    pub fn heard_of(&self, id: &NodeId) -> bool {
        self.hops.contains_key(id)
    }

    /// Statistics so far.
    pub fn stats(&self) -> &LookupStats {
        &self.stats
    }

    /// Earliest deadline among requests in flight.
    pub(crate) fn next_deadline(&self) -> Option<Time> {
        self.in_flight.iter().map(|f| f.deadline).min()
    }

    /// Record a request to `contact`, which [`Lookup`](crate::lookup::Lookup)
    /// has checked against the contract (never the local node, never a node
    /// already asked): the one place a request is opened, for every strategy.
    pub(crate) fn start_request(&mut self, contact: Contact, now: Time) {
        self.contacted.insert(contact.id);
        self.in_flight.push(InFlight {
            contact,
            deadline: now + self.spec.rpc_timeout,
        });
        self.stats.requests += 1;
    }

    /// Close the request to `id`, if one is in flight, as answered or failed.
    /// Returns the contact it went to.
    pub(crate) fn finish_request(&mut self, id: &NodeId, answered: bool) -> Option<Contact> {
        let pos = self.in_flight.iter().position(|f| f.contact.id == *id)?;
        let contact = self.in_flight.remove(pos).contact;
        if answered {
            self.stats.responses += 1;
        } else {
            self.stats.failures += 1;
        }
        let depth = self.hops.get(id).copied().unwrap_or(0) + 1;
        self.stats.rounds = self.stats.rounds.max(depth);
        Some(contact)
    }

    /// Stop waiting for the request to `id`: it counts as failed now, and a
    /// reply that still comes is ignored. For rules with a timer of their
    /// own (the round timeout of `query-rest`). Returns whether a request
    /// was in flight.
    pub fn abandon(&mut self, id: &NodeId) -> bool {
        match self.finish_request(id, false) {
            Some(contact) => {
                self.gave_up.push(contact);
                true
            }
            None => false,
        }
    }

    /// Requests given up since the last call (timed out by the lookup's own
    /// deadline, or abandoned by the rule), oldest first: the shells report
    /// them, since no reply or failure will ever be given to the lookup.
    pub(crate) fn take_gave_up(&mut self) -> Vec<Contact> {
        std::mem::take(&mut self.gave_up)
    }

    /// Requests whose deadline is at or before `now`, removed from the
    /// in-flight list and counted as failures, oldest first.
    pub(crate) fn expire(&mut self, now: Time) -> Vec<Contact> {
        let expired: Vec<Contact> = self
            .in_flight
            .iter()
            .filter(|f| f.deadline <= now)
            .map(|f| f.contact)
            .collect();
        for c in &expired {
            self.finish_request(&c.id, false);
        }
        self.gave_up.extend_from_slice(&expired);
        expired
    }

    /// Clean up the contacts of a reply from `from`: drop the local node,
    /// repeats within the reply and anything past the k closest (a bound on
    /// what one reply can make a lookup remember), and note the hop depth of
    /// contacts first heard of here.
    pub(crate) fn admit_contacts(&mut self, from: &NodeId, contacts: &[Contact]) -> Vec<Contact> {
        let mut out: Vec<Contact> = Vec::with_capacity(contacts.len());
        if contacts.len() <= SMALL_REPLY {
            // A conforming reply: comparing with the few kept so far costs
            // less than hashing every id, and comparing their heads first
            // (8 bytes, which random ids almost never share) less than
            // comparing whole ids.
            let mut heads = [0u64; SMALL_REPLY];
            for c in contacts {
                let head = c.id.head();
                let kept = heads[..out.len()]
                    .iter()
                    .zip(&out)
                    .any(|(&h, o)| h == head && o.id == c.id);
                if c.id != self.spec.local && !kept {
                    heads[out.len()] = head;
                    out.push(*c);
                }
            }
        } else {
            let mut seen = HashSet::with_capacity(contacts.len());
            out.extend(
                contacts
                    .iter()
                    .filter(|c| c.id != self.spec.local && seen.insert(c.id)),
            );
        }
        if out.len() > self.spec.k {
            // Only oversized (so non-conforming) replies pay for this sort;
            // the order of a conforming reply is kept as sent.
            out.sort_by_key(|c| self.distance(&c.id));
            out.truncate(self.spec.k);
            self.stats.truncated_replies += 1;
        }
        let depth = self.hops.get(from).copied().unwrap_or(0) + 1;
        for c in &out {
            self.hops.entry(c.id).or_insert(depth);
        }
        out
    }
}
