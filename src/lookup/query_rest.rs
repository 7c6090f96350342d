//! `query-rest` — the closest-unchanged / query-rest lookup.
//!
//! Source: the seed's second example, prettymuchbryce/kademlia's `iterate`
//! (Go), which follows the paper's "if a round brings nothing closer, query
//! the rest". The rule (docs/ALGORITHMS.md §2):
//!
//! 1. shortlist = the α closest routing-table contacts (none: `NoContacts`);
//!    `closest` = shortlist\[0\];
//! 2. a **round** walks the first α *positions* of the shortlist (every
//!    position once `query_rest` is set) and asks each contact not yet asked.
//!    Positions, not sends: a round may send fewer than α requests, even none;
//! 3. the round waits until each of its requests is answered or failed, or
//!    until `round_timeout`. Failed contacts leave the shortlist (not the
//!    routing table); contacts from replies are appended if not already in
//!    it — the shortlist is never capped;
//! 4. sort; an empty shortlist ends the lookup (`Exhausted`);
//! 5. if shortlist\[0\] is still `closest`, or `query_rest` is set: the first
//!    time, set `query_rest` and do one more round; the second time, stop
//!    (`Converged`). Otherwise `closest` = shortlist\[0\] and do another round;
//! 6. return the first k of the shortlist — which after the query-rest round
//!    can hold contacts that arrived in that round and were never asked. The
//!    seed returns them; so does kadlab.
//!
//! Deliberate deviations from the seed code:
//! - the seed's round timer restarts whenever a reply arrives (a fresh
//!   `time.After` per `select`), so a trickle of replies can stretch a round
//!   without bound; here the round ends `round_timeout` after it started;
//! - the seed removes a node from the shortlist only for a send error or an
//!   error reply, so a node that *timed out* stays in and can be returned;
//!   docs/ALGORITHMS.md counts a timeout as a failure, so it is removed here
//!   too. Requests still out when the round timer fires are abandoned
//!   (failed), as the seed cancels them;
//! - for FIND_VALUE the seed returns at the first round that brings nothing
//!   closer, skipping the query-rest round; docs/ALGORITHMS.md asks for the
//!   same walk as FIND_NODE, so the query-rest round is kept;
//! - the seed panics (indexes an empty shortlist) when everything failed
//!   during the query-rest round; here that ends with `Exhausted`;
//! - the local node is never added to the shortlist (the seed does not
//!   filter it);
//! - the reply cap: the seed appends every contact of a reply; kadlab
//!   keeps the k closest of a reply that holds more (counted in
//!   `LookupStats::truncated_replies`).
//!
//! Kept quirk: a node removed after failing can be appended again by a later
//! reply (the seed's `AppendUniqueNetworkNodes` only checks the shortlist);
//! it is never asked again, but it can be returned.

use std::time::Duration;

use hashbrown::HashSet;

use crate::contact::Contact;
use crate::id::NodeId;
use crate::lookup::context::LookupContext;
use crate::lookup::machine::{Rule, Step};
use crate::lookup::outcome::EndReason;
use crate::time::Time;

/// Parameters of `query-rest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryRestParams {
    /// α: shortlist positions walked per round, and the number of
    /// routing-table contacts the lookup starts from.
    pub alpha: usize,
    /// How long a round waits for its replies.
    pub round_timeout: Duration,
}

#[derive(Clone, Debug)]
struct Round {
    asked: Vec<NodeId>,
    deadline: Time,
}

/// The closest-unchanged / query-rest rule.
#[derive(Clone, Debug)]
pub struct QueryRest {
    params: QueryRestParams,
    shortlist: Vec<Contact>,
    /// Ids in `shortlist`, so appending a reply costs O(reply).
    listed: HashSet<NodeId>,
    closest: Option<NodeId>,
    query_rest: bool,
    round: Option<Round>,
    rounds_started: u32,
}

impl QueryRest {
    /// Start from `seeds`, the α closest contacts of the routing table.
    pub fn new(params: QueryRestParams, seeds: &[Contact]) -> QueryRest {
        QueryRest {
            params,
            shortlist: seeds.to_vec(),
            listed: seeds.iter().map(|c| c.id).collect(),
            closest: seeds.first().map(|c| c.id),
            query_rest: false,
            round: None,
            rounds_started: 0,
        }
    }

    /// Whether the final, widened round has begun.
    pub fn is_querying_rest(&self) -> bool {
        self.query_rest
    }

    /// Rounds begun so far (including rounds that sent nothing).
    pub fn rounds_started(&self) -> u32 {
        self.rounds_started
    }

    /// The shortlist as it stands (sorted only at the end of each round).
    pub fn shortlist(&self) -> &[Contact] {
        &self.shortlist
    }

    fn remove(&mut self, id: &NodeId) {
        if self.listed.remove(id) {
            self.shortlist.retain(|c| c.id != *id);
        }
    }

    /// Step 2: the requests of a new round.
    fn round_requests(&self, ctx: &LookupContext) -> Vec<Contact> {
        self.shortlist
            .iter()
            .enumerate()
            .take_while(|&(i, _)| i < self.params.alpha || self.query_rest)
            .map(|(_, c)| *c)
            .filter(|c| !ctx.was_contacted(&c.id))
            .collect()
    }

    /// Steps 4 and 5, once a round is over. `Some(reason)` ends the lookup.
    fn end_round(&mut self, ctx: &LookupContext) -> Option<EndReason> {
        self.shortlist.sort_by_key(|c| ctx.distance(&c.id));
        let first = self.shortlist.first()?.id;
        if Some(first) == self.closest || self.query_rest {
            if self.query_rest {
                return Some(EndReason::Converged);
            }
            self.query_rest = true;
        } else {
            self.closest = Some(first);
        }
        None
    }
}

impl Rule for QueryRest {
    const NAME: &'static str = "query-rest";

    fn on_response(&mut self, _ctx: &LookupContext, _from: Contact, contacts: &[Contact]) {
        for &c in contacts {
            if self.listed.insert(c.id) {
                self.shortlist.push(c);
            }
        }
    }

    fn on_failure(&mut self, _ctx: &LookupContext, from: Contact) {
        self.remove(&from.id);
    }

    fn step(&mut self, ctx: &mut LookupContext, now: Time) -> Step {
        if self.rounds_started == 0 && self.shortlist.is_empty() {
            return Step::Finish(EndReason::NoContacts);
        }
        loop {
            if let Some(round) = &self.round {
                let waiting: Vec<NodeId> = round
                    .asked
                    .iter()
                    .filter(|id| ctx.is_in_flight(id))
                    .copied()
                    .collect();
                if !waiting.is_empty() {
                    if now < round.deadline {
                        return Step::Wait(Some(round.deadline));
                    }
                    for id in &waiting {
                        ctx.abandon(id);
                        self.remove(id);
                    }
                }
                self.round = None;
                if self.shortlist.is_empty() {
                    return Step::Finish(EndReason::Exhausted);
                }
                if let Some(reason) = self.end_round(ctx) {
                    return Step::Finish(reason);
                }
            }
            let batch = self.round_requests(ctx);
            self.rounds_started += 1;
            self.round = Some(Round {
                asked: batch.iter().map(|c| c.id).collect(),
                deadline: now + self.params.round_timeout,
            });
            if !batch.is_empty() {
                return Step::Send(batch);
            }
            // A round that sends nothing is over at once (step 2's note).
        }
    }

    fn result(&self, _ctx: &LookupContext) -> Vec<Contact> {
        // Step 6, "the first k of the shortlist": `Lookup` sorts every
        // result and cuts it to k, so the whole shortlist is handed over.
        self.shortlist.clone()
    }

    fn parallelism(&self) -> usize {
        if self.query_rest {
            self.shortlist.len().max(self.params.alpha)
        } else {
            self.params.alpha
        }
    }

    fn phase(&self, _ctx: &LookupContext) -> String {
        if self.query_rest {
            "query the rest: a round brought nothing closer, so every contact left in the shortlist is asked once, then the lookup stops and returns the first k of the shortlist, asked or not".to_string()
        } else {
            format!(
                "round {}: asking the first α={} of the shortlist; a round that brings nothing closer triggers the last round",
                self.rounds_started, self.params.alpha
            )
        }
    }
}
